/*
 * tcpstate.c - one side's TCP state after a segment it sent or received,
 * per the state diagram and event processing of RFC 9293 (section 3.3.2
 * and 3.10.7), pure: the capture decides what each side saw.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "tcpstate.h"
#include "sockstat.h"

static enum tcpstate	 sent(enum tcpstate, unsigned);
static enum tcpstate	 received(enum tcpstate, const struct tcpstate_seg *);
static enum tcpstate	 received_syn(enum tcpstate, unsigned);
static enum tcpstate	 received_ack(enum tcpstate, const struct tcpstate_seg *);
static enum tcpstate	 received_fin(enum tcpstate);

/* What a segment this side sent does to its state. */
static enum tcpstate
sent(enum tcpstate s, unsigned flags)
{
	if (flags & TCPF_RST)
		return (TCPS_CLOSE);
	if (flags & TCPF_SYN) {
		/* A SYN,ACK from a listener whose SYN the capture missed. */
		if (s == TCPS_LISTEN && (flags & TCPF_ACK))
			return (TCPS_SYN_RECV);
		if (s == TCPS_CLOSE || s == TCPS_LISTEN)
			return (TCPS_SYN_SENT);
		/* A retransmitted SYN, or simultaneous open's SYN,ACK. */
		return (s);
	}
	if (flags & TCPF_FIN) {
		switch (s) {
		case TCPS_ESTABLISHED:
		case TCPS_SYN_RECV:
			return (TCPS_FIN_WAIT_1);
		case TCPS_CLOSE_WAIT:
			return (TCPS_LAST_ACK);
		default:
			/* A retransmitted FIN changes nothing. */
			return (s);
		}
	}
	return (s);
}

/* A received SYN: the handshake's second step, or simultaneous open. */
static enum tcpstate
received_syn(enum tcpstate s, unsigned flags)
{
	switch (s) {
	case TCPS_LISTEN:
		return (TCPS_SYN_RECV);
	case TCPS_SYN_SENT:
		return ((flags & TCPF_ACK) ? TCPS_ESTABLISHED : TCPS_SYN_RECV);
	case TCPS_SYN_RECV:
		/* The other side's SYN,ACK of a simultaneous open. */
		return ((flags & TCPF_ACK) ? TCPS_ESTABLISHED : s);
	default:
		/* Synchronized states answer with an ACK and stay. */
		return (s);
	}
}

/* A received ACK: of our SYN, or of our FIN. */
static enum tcpstate
received_ack(enum tcpstate s, const struct tcpstate_seg *g)
{
	switch (s) {
	case TCPS_SYN_RECV:
		return (TCPS_ESTABLISHED);
	case TCPS_FIN_WAIT_1:
		return (g->acks_fin ? TCPS_FIN_WAIT_2 : s);
	case TCPS_CLOSING:
		return (g->acks_fin ? TCPS_TIME_WAIT : s);
	case TCPS_LAST_ACK:
		return (g->acks_fin ? TCPS_CLOSE : s);
	default:
		return (s);
	}
}

/* A received FIN, after its ACK was processed. */
static enum tcpstate
received_fin(enum tcpstate s)
{
	switch (s) {
	case TCPS_ESTABLISHED:
		return (TCPS_CLOSE_WAIT);
	case TCPS_FIN_WAIT_1:
		/* Our FIN not yet acknowledged: simultaneous close. */
		return (TCPS_CLOSING);
	case TCPS_FIN_WAIT_2:
		return (TCPS_TIME_WAIT);
	default:
		/* A retransmitted FIN (TIME_WAIT acknowledges it again). */
		return (s);
	}
}

/* What a segment this side received does to its state. */
static enum tcpstate
received(enum tcpstate s, const struct tcpstate_seg *g)
{
	if (g->flags & TCPF_RST) {
		/*
		 * LISTEN ignores a RST; SYN_SENT takes only one that
		 * acknowledges its SYN. Any other state closes, TIME_WAIT
		 * too, as Linux does by default (net.ipv4.tcp_rfc1337 = 0).
		 */
		if (s == TCPS_LISTEN || s == TCPS_CLOSE)
			return (s);
		if (s == TCPS_SYN_SENT && !(g->flags & TCPF_ACK))
			return (s);
		return (TCPS_CLOSE);
	}
	if (g->flags & TCPF_SYN)
		return (received_syn(s, g->flags));
	if (s == TCPS_SYN_SENT || s == TCPS_LISTEN || s == TCPS_CLOSE)
		return (s);
	if (g->flags & TCPF_ACK)
		s = received_ack(s, g);
	if (g->flags & TCPF_FIN)
		s = received_fin(s);
	return (s);
}

/* One side's state after a segment it sent or received. */
enum tcpstate
tcpstate_next(enum tcpstate s, const struct tcpstate_seg *g)
{
	if (g->sent)
		return (sent(s, g->flags));
	return (received(s, g));
}

/*
 * The states of the two sides before the first segment a capture holds
 * of a connection, from its flags. Returns 1 if that segment is not the
 * opening SYN: the capture started mid-connection, the states are a
 * guess (ESTABLISHED, or the handshake's second step).
 */
int
tcpstate_begin(unsigned flags, enum tcpstate *sender, enum tcpstate *receiver)
{
	if ((flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN) {
		*sender = TCPS_CLOSE;
		*receiver = TCPS_LISTEN;
		return (0);
	}
	if ((flags & (TCPF_SYN | TCPF_RST)) == TCPF_SYN) {
		*sender = TCPS_LISTEN;
		*receiver = TCPS_SYN_SENT;
		return (1);
	}
	*sender = *receiver = TCPS_ESTABLISHED;
	return (1);
}

/* Whether a side is done with the connection: CLOSE or TIME_WAIT. */
int
tcpstate_closed(enum tcpstate s)
{
	return (s == TCPS_CLOSE || s == TCPS_TIME_WAIT);
}

/* The state's name, as seqecho -S prints it. */
const char *
tcpstate_name(enum tcpstate s)
{
	return (sockstat_state_name((int)s));
}
