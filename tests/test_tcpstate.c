/*
 * test_tcpstate.c - unit tests for the TCP state inference (src/tcpstate.c):
 * every transition of RFC 9293's diagram from each side's view, the
 * handshake and both teardowns end to end, simultaneous open and close,
 * RST in every state, a FIN on data, a retransmitted SYN, and a capture
 * that starts mid-connection.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "tcpstate.h"

#define S	TCPF_SYN
#define A	TCPF_ACK
#define F	TCPF_FIN
#define R	TCPF_RST
#define P	TCPF_PSH

/* The state after this side sent a segment with these flags. */
static enum tcpstate
snd(enum tcpstate s, unsigned flags)
{
	struct tcpstate_seg	g = { 1, flags, 0 };

	return (tcpstate_next(s, &g));
}

/* The state after this side received one (acks_fin: it acks our FIN). */
static enum tcpstate
rcv(enum tcpstate s, unsigned flags, int acks_fin)
{
	struct tcpstate_seg	g = { 0, flags, acks_fin };

	return (tcpstate_next(s, &g));
}

/* Both names are exactly those of seqecho -S. */
#define ASSERT_STATE(got, want) \
	assert_string_equal(tcpstate_name(got), tcpstate_name(want))

static void
test_names_are_the_kernels(void **state)
{
	(void)state;
	assert_string_equal(tcpstate_name(TCPS_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(tcpstate_name(TCPS_SYN_SENT), "SYN_SENT");
	assert_string_equal(tcpstate_name(TCPS_SYN_RECV), "SYN_RECV");
	assert_string_equal(tcpstate_name(TCPS_FIN_WAIT_1), "FIN_WAIT_1");
	assert_string_equal(tcpstate_name(TCPS_FIN_WAIT_2), "FIN_WAIT_2");
	assert_string_equal(tcpstate_name(TCPS_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(tcpstate_name(TCPS_CLOSE), "CLOSE");
	assert_string_equal(tcpstate_name(TCPS_CLOSE_WAIT), "CLOSE_WAIT");
	assert_string_equal(tcpstate_name(TCPS_LAST_ACK), "LAST_ACK");
	assert_string_equal(tcpstate_name(TCPS_LISTEN), "LISTEN");
	assert_string_equal(tcpstate_name(TCPS_CLOSING), "CLOSING");
}

/* CLOSED -> SYN-SENT -> ESTABLISHED: the active opener. */
static void
test_active_open(void **state)
{
	enum tcpstate	s = TCPS_CLOSE;

	(void)state;
	s = snd(s, S);
	assert_int_equal(s, TCPS_SYN_SENT);
	s = rcv(s, S | A, 0);
	assert_int_equal(s, TCPS_ESTABLISHED);
	s = snd(s, A);
	assert_int_equal(s, TCPS_ESTABLISHED);
}

/* LISTEN -> SYN-RECEIVED -> ESTABLISHED: the passive opener. */
static void
test_passive_open(void **state)
{
	enum tcpstate	s = TCPS_LISTEN;

	(void)state;
	s = rcv(s, S, 0);
	assert_int_equal(s, TCPS_SYN_RECV);
	s = snd(s, S | A);
	assert_int_equal(s, TCPS_SYN_RECV);
	s = rcv(s, A, 0);
	assert_int_equal(s, TCPS_ESTABLISHED);
}

/* LISTEN -> SYN-SENT on a send, as the diagram allows. */
static void
test_listen_send(void **state)
{
	(void)state;
	assert_int_equal(snd(TCPS_LISTEN, S), TCPS_SYN_SENT);
}

/* Both send a SYN: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED, each. */
static void
test_simultaneous_open(void **state)
{
	enum tcpstate	a = TCPS_CLOSE, b = TCPS_CLOSE;

	(void)state;
	a = snd(a, S);
	b = snd(b, S);
	a = rcv(a, S, 0);
	b = rcv(b, S, 0);
	assert_int_equal(a, TCPS_SYN_RECV);
	assert_int_equal(b, TCPS_SYN_RECV);
	a = snd(a, S | A);
	b = snd(b, S | A);
	assert_int_equal(a, TCPS_SYN_RECV);
	a = rcv(a, S | A, 0);
	b = rcv(b, S | A, 0);
	assert_int_equal(a, TCPS_ESTABLISHED);
	assert_int_equal(b, TCPS_ESTABLISHED);
}

/* A retransmitted SYN changes neither side. */
static void
test_syn_retransmitted(void **state)
{
	enum tcpstate	c = TCPS_CLOSE, l = TCPS_LISTEN;

	(void)state;
	c = snd(c, S);
	l = rcv(l, S, 0);
	c = snd(c, S);
	l = rcv(l, S, 0);
	assert_int_equal(c, TCPS_SYN_SENT);
	assert_int_equal(l, TCPS_SYN_RECV);
	l = snd(l, S | A);
	l = snd(l, S | A);
	assert_int_equal(l, TCPS_SYN_RECV);
	c = rcv(c, S | A, 0);
	assert_int_equal(c, TCPS_ESTABLISHED);
	/* The second SYN,ACK arrives at an established end. */
	assert_int_equal(rcv(c, S | A, 0), TCPS_ESTABLISHED);
}

/* ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT: who closes first. */
static void
test_active_close(void **state)
{
	enum tcpstate	s = TCPS_ESTABLISHED;

	(void)state;
	s = snd(s, F | A);
	assert_int_equal(s, TCPS_FIN_WAIT_1);
	s = rcv(s, A, 0);	/* an ACK of data, not of the FIN */
	assert_int_equal(s, TCPS_FIN_WAIT_1);
	s = rcv(s, A, 1);
	assert_int_equal(s, TCPS_FIN_WAIT_2);
	s = rcv(s, P | A, 0);	/* data still comes in a half-close */
	assert_int_equal(s, TCPS_FIN_WAIT_2);
	s = rcv(s, F | A, 1);
	assert_int_equal(s, TCPS_TIME_WAIT);
	s = snd(s, A);
	assert_int_equal(s, TCPS_TIME_WAIT);
	assert_true(tcpstate_closed(s));
}

/* ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED: who closes second. */
static void
test_passive_close(void **state)
{
	enum tcpstate	s = TCPS_ESTABLISHED;

	(void)state;
	s = rcv(s, F | A, 0);
	assert_int_equal(s, TCPS_CLOSE_WAIT);
	s = snd(s, P | A);
	assert_int_equal(s, TCPS_CLOSE_WAIT);
	s = snd(s, F | A);
	assert_int_equal(s, TCPS_LAST_ACK);
	s = rcv(s, A, 0);
	assert_int_equal(s, TCPS_LAST_ACK);
	s = rcv(s, A, 1);
	assert_int_equal(s, TCPS_CLOSE);
	assert_true(tcpstate_closed(s));
}

/* FIN-WAIT-1 and a FIN that also acks ours: straight to TIME-WAIT. */
static void
test_fin_ack_of_fin(void **state)
{
	(void)state;
	assert_int_equal(rcv(TCPS_FIN_WAIT_1, F | A, 1), TCPS_TIME_WAIT);
}

/* Both send FIN: FIN-WAIT-1 -> CLOSING -> TIME-WAIT, each. */
static void
test_simultaneous_close(void **state)
{
	enum tcpstate	a = TCPS_ESTABLISHED, b = TCPS_ESTABLISHED;

	(void)state;
	a = snd(a, F | A);
	b = snd(b, F | A);
	a = rcv(a, F | A, 0);
	b = rcv(b, F | A, 0);
	assert_int_equal(a, TCPS_CLOSING);
	assert_int_equal(b, TCPS_CLOSING);
	a = snd(a, A);
	assert_int_equal(a, TCPS_CLOSING);
	a = rcv(a, A, 0);
	assert_int_equal(a, TCPS_CLOSING);
	a = rcv(a, A, 1);
	b = rcv(b, A, 1);
	assert_int_equal(a, TCPS_TIME_WAIT);
	assert_int_equal(b, TCPS_TIME_WAIT);
}

/* A FIN riding on data closes as a bare FIN does. */
static void
test_fin_on_data(void **state)
{
	(void)state;
	assert_int_equal(snd(TCPS_ESTABLISHED, F | P | A), TCPS_FIN_WAIT_1);
	assert_int_equal(rcv(TCPS_ESTABLISHED, F | P | A, 0),
	    TCPS_CLOSE_WAIT);
	assert_int_equal(snd(TCPS_CLOSE_WAIT, F | P | A), TCPS_LAST_ACK);
	assert_int_equal(rcv(TCPS_FIN_WAIT_2, F | P | A, 1), TCPS_TIME_WAIT);
}

/* SYN-RECEIVED: a close before the final ACK, a FIN with it. */
static void
test_syn_recv_close(void **state)
{
	(void)state;
	assert_int_equal(snd(TCPS_SYN_RECV, F | A), TCPS_FIN_WAIT_1);
	assert_int_equal(rcv(TCPS_SYN_RECV, F | A, 0), TCPS_CLOSE_WAIT);
}

/* A retransmitted FIN, sent or received, changes nothing. */
static void
test_fin_retransmitted(void **state)
{
	(void)state;
	assert_int_equal(snd(TCPS_FIN_WAIT_1, F | A), TCPS_FIN_WAIT_1);
	assert_int_equal(snd(TCPS_LAST_ACK, F | A), TCPS_LAST_ACK);
	assert_int_equal(rcv(TCPS_CLOSE_WAIT, F | A, 0), TCPS_CLOSE_WAIT);
	assert_int_equal(rcv(TCPS_TIME_WAIT, F | A, 1), TCPS_TIME_WAIT);
	assert_int_equal(rcv(TCPS_CLOSING, F | A, 0), TCPS_CLOSING);
}

/* RST received in every state; sent in every state. */
static void
test_rst_every_state(void **state)
{
	enum tcpstate	s;

	(void)state;
	for (s = TCPS_ESTABLISHED; s <= TCPS_CLOSING; s++) {
		assert_int_equal(snd(s, R), TCPS_CLOSE);
		assert_int_equal(snd(s, R | A), TCPS_CLOSE);
		if (s == TCPS_LISTEN || s == TCPS_CLOSE)
			ASSERT_STATE(rcv(s, R, 0), s);
		else
			ASSERT_STATE(rcv(s, R | A, 0), TCPS_CLOSE);
	}
	/* SYN-SENT takes only a RST that acknowledges its SYN. */
	assert_int_equal(rcv(TCPS_SYN_SENT, R, 0), TCPS_SYN_SENT);
	assert_int_equal(rcv(TCPS_SYN_SENT, R | A, 0), TCPS_CLOSE);
	/* As Linux does by default (tcp_rfc1337 = 0). */
	assert_int_equal(rcv(TCPS_TIME_WAIT, R, 0), TCPS_CLOSE);
	assert_int_equal(rcv(TCPS_ESTABLISHED, R, 0), TCPS_CLOSE);
}

/* Segments a state does not expect leave it be. */
static void
test_unexpected_segments(void **state)
{
	(void)state;
	assert_int_equal(rcv(TCPS_SYN_SENT, A, 0), TCPS_SYN_SENT);
	assert_int_equal(rcv(TCPS_SYN_SENT, F | A, 0), TCPS_SYN_SENT);
	assert_int_equal(rcv(TCPS_LISTEN, A, 0), TCPS_LISTEN);
	assert_int_equal(rcv(TCPS_CLOSE, S, 0), TCPS_CLOSE);
	assert_int_equal(rcv(TCPS_ESTABLISHED, S, 0), TCPS_ESTABLISHED);
	assert_int_equal(rcv(TCPS_ESTABLISHED, P | A, 0), TCPS_ESTABLISHED);
	assert_int_equal(snd(TCPS_ESTABLISHED, P | A), TCPS_ESTABLISHED);
	assert_int_equal(rcv(TCPS_FIN_WAIT_2, A, 1), TCPS_FIN_WAIT_2);
}

/* The first segment seen decides the states before it. */
static void
test_begin(void **state)
{
	enum tcpstate	snd_, rcv_;

	(void)state;
	assert_int_equal(tcpstate_begin(S, &snd_, &rcv_), 0);
	assert_int_equal(snd_, TCPS_CLOSE);
	assert_int_equal(rcv_, TCPS_LISTEN);
	/* The SYN was missed: the SYN,ACK's sender was listening. */
	assert_int_equal(tcpstate_begin(S | A, &snd_, &rcv_), 1);
	assert_int_equal(snd(snd_, S | A), TCPS_SYN_RECV);
	assert_int_equal(rcv(rcv_, S | A, 0), TCPS_ESTABLISHED);
}

/* A capture that starts mid-connection says so and guesses ESTABLISHED. */
static void
test_mid_connection(void **state)
{
	enum tcpstate	a, b;

	(void)state;
	assert_int_equal(tcpstate_begin(P | A, &a, &b), 1);
	assert_int_equal(a, TCPS_ESTABLISHED);
	assert_int_equal(b, TCPS_ESTABLISHED);
	assert_int_equal(tcpstate_begin(F | A, &a, &b), 1);
	assert_int_equal(snd(a, F | A), TCPS_FIN_WAIT_1);
	assert_int_equal(rcv(b, F | A, 0), TCPS_CLOSE_WAIT);
	assert_int_equal(tcpstate_begin(R, &a, &b), 1);
	assert_int_equal(snd(a, R), TCPS_CLOSE);
	assert_int_equal(rcv(b, R, 0), TCPS_CLOSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_are_the_kernels),
		cmocka_unit_test(test_active_open),
		cmocka_unit_test(test_passive_open),
		cmocka_unit_test(test_listen_send),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_syn_retransmitted),
		cmocka_unit_test(test_active_close),
		cmocka_unit_test(test_passive_close),
		cmocka_unit_test(test_fin_ack_of_fin),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_fin_on_data),
		cmocka_unit_test(test_syn_recv_close),
		cmocka_unit_test(test_fin_retransmitted),
		cmocka_unit_test(test_rst_every_state),
		cmocka_unit_test(test_unexpected_segments),
		cmocka_unit_test(test_begin),
		cmocka_unit_test(test_mid_connection),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
