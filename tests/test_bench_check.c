/*
 * test_bench_check.c - unit tests for seqecho-bench's reply check
 * (src/bench-check.c): payloads, the stream sent, the serial counter, a
 * right reply, and the verdict on each kind of wrong one.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench-check.h"

#define SIZE	16
#define ID	5

/* The reply a right server sends to message k: serial, sep, payload. */
static size_t
make_reply(const struct check *chk, uint64_t serial, uint64_t k, char *buf)
{
	int	n;

	n = snprintf(buf, 64, "%llu%s%.*s", (unsigned long long)serial,
	    chk->sep, (int)chk->size, check_payload(chk, ID, k));
	return ((size_t)n);
}

/* What a test of a reply works on. */
struct fixture {
	struct check		chk;
	struct check_serial	s;
	struct check_verdict	v;
	char			buf[64];
	size_t			len;
};

/* Set up a check with 16-byte payloads and the separator sep. */
static void
init(struct check *chk, const char *sep)
{
	assert_int_equal(check_init(chk, SIZE, sep, strlen(sep)), 0);
}

/* A fixture with no separator. */
static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof *f);

	if (f == NULL || check_init(&f->chk, SIZE, "", 0) == -1)
		return (-1);
	*state = f;
	return (0);
}

/* Free the fixture. */
static int
teardown(void **state)
{
	struct fixture	*f = *state;

	check_free(&f->chk);
	free(f);
	return (0);
}

/* Payloads differ by message and connection, and hold no digit or EOL. */
static void
test_payloads_distinct(void **state)
{
	struct check	 chk;
	const char	*p;
	uint64_t	 k;
	size_t		 i;

	(void)state;
	init(&chk, "");
	for (k = 0; k < 200; k++) {
		p = check_payload(&chk, ID, k);
		for (i = 0; i < SIZE; i++)
			assert_true(strchr("0123456789\r\n", p[i]) == NULL ||
			    p[i] == '\0');
		assert_memory_not_equal(p, check_payload(&chk, ID, k + 1),
		    SIZE);
		assert_memory_not_equal(p, check_payload(&chk, ID + 1, k),
		    SIZE);
		assert_true(check_payload_is(&chk, ID, k, p, SIZE));
		assert_false(check_payload_is(&chk, ID, k, p, SIZE - 1));
	}
	check_free(&chk);
}

/* The stream: each payload and a LF, then bye, from any offset. */
static void
test_fill_stream(void **state)
{
	struct check	 chk;
	char		 want[3 * (SIZE + 1) + 4], got[sizeof want];
	size_t		 n = 0, from, len;
	uint64_t	 k;

	(void)state;
	init(&chk, "");
	for (k = 0; k < 3; k++) {
		memcpy(want + n, check_payload(&chk, ID, k), SIZE);
		n += SIZE;
		want[n++] = '\n';
	}
	memcpy(want + n, "bye\n", 4);
	for (from = 0; from < sizeof want; from++) {
		for (len = 1; from + len <= sizeof want; len++) {
			memset(got, 0, sizeof got);
			check_fill(&chk, ID, 3, from, got, len);
			assert_memory_equal(got, want + from, len);
		}
	}
	check_free(&chk);
}

/* The serial counts up in ASCII, carrying into a new digit. */
static void
test_serial_counts(void **state)
{
	struct check_serial	s;
	char			buf[32];
	uint64_t		v;

	(void)state;
	check_serial_set(&s, 0);
	for (v = 0; v < 20000; v++) {
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
		assert_int_equal(s.value, v);
		assert_int_equal(s.ndigits, strlen(buf));
		assert_memory_equal(s.digits, buf, s.ndigits);
		check_serial_next(&s);
	}
	check_serial_set(&s, 9999999999999999999ULL);
	check_serial_next(&s);
	assert_int_equal(s.ndigits, 20);
	assert_memory_equal(s.digits, "10000000000000000000", 20);
}

/* The right reply passes, with and without a separator. */
static void
test_right_reply(void **state)
{
	struct check		chk;
	struct check_serial	s;
	char			buf[64];
	size_t			len;

	(void)state;
	init(&chk, "");
	check_serial_set(&s, 7);
	len = make_reply(&chk, 7, 7, buf);
	assert_true(check_reply(&chk, ID, &s, 7, buf, len));
	/* The reply to another message, or on another connection, fails. */
	assert_false(check_reply(&chk, ID, &s, 8, buf, len));
	assert_false(check_reply(&chk, ID + 1, &s, 7, buf, len));
	check_free(&chk);

	init(&chk, ": ");
	len = make_reply(&chk, 7, 7, buf);
	assert_true(check_reply(&chk, ID, &s, 7, buf, len));
	check_free(&chk);
}

/* A wrong, missing or extra separator fails. */
static void
test_separator(void **state)
{
	struct check		chk, bare;
	struct check_serial	s;
	struct check_verdict	v;
	char			buf[64];
	size_t			len;

	(void)state;
	init(&chk, ": ");
	init(&bare, "");
	check_serial_set(&s, 0);
	len = make_reply(&bare, 0, 0, buf);
	assert_false(check_reply(&chk, ID, &s, 0, buf, len));
	check_judge(&chk, ID, &s, 0, 1, buf, len, &v);
	assert_int_equal(v.kind, CHECK_ANSWER);
	assert_true(v.bad_payload);
	assert_false(v.bad_serial);

	len = make_reply(&chk, 0, 0, buf);
	buf[1] = ';';
	assert_false(check_reply(&chk, ID, &s, 0, buf, len));
	len = make_reply(&chk, 0, 0, buf);
	assert_false(check_reply(&bare, ID, &s, 0, buf, len));
	check_free(&chk);
	check_free(&bare);
}

/* The right payload with the wrong serial: a serial error only. */
static void
test_wrong_serial(void **state)
{
	struct fixture	*f = *state;

	check_serial_set(&f->s, 3);
	f->len = make_reply(&f->chk, 4, 3, f->buf);
	assert_false(check_reply(&f->chk, ID, &f->s, 3, f->buf, f->len));
	check_judge(&f->chk, ID, &f->s, 3, 1, f->buf, f->len, &f->v);
	assert_int_equal(f->v.kind, CHECK_ANSWER);
	assert_true(f->v.bad_serial);
	assert_false(f->v.bad_payload);
	assert_int_equal(f->v.skipped, 0);
	/* The next is expected to follow the one received. */
	assert_int_equal(f->v.next_serial, 5);

	/* No serial at all: the next follows the one expected. */
	memmove(f->buf, f->buf + 1, f->len - 1);
	check_judge(&f->chk, ID, &f->s, 3, 1, f->buf, f->len - 1, &f->v);
	assert_true(f->v.bad_serial);
	assert_false(f->v.bad_payload);
	assert_int_equal(f->v.next_serial, 4);
	check_free(&f->chk);
}

/* The right serial with a changed payload: a payload error only. */
static void
test_wrong_payload(void **state)
{
	struct fixture	*f = *state;

	check_serial_set(&f->s, 3);
	f->len = make_reply(&f->chk, 3, 3, f->buf);
	f->buf[f->len - 1] = '#';
	assert_false(check_reply(&f->chk, ID, &f->s, 3, f->buf, f->len));
	check_judge(&f->chk, ID, &f->s, 3, 4, f->buf, f->len, &f->v);
	assert_int_equal(f->v.kind, CHECK_ANSWER);
	assert_true(f->v.bad_payload);
	assert_false(f->v.bad_serial);
	assert_int_equal(f->v.next_serial, 4);
	check_free(&f->chk);
}

/* A reply a byte short or a byte long is a wrong payload. */
static void
test_short_and_long(void **state)
{
	struct fixture	*f = *state;

	check_serial_set(&f->s, 0);
	f->len = make_reply(&f->chk, 0, 0, f->buf);
	assert_false(check_reply(&f->chk, ID, &f->s, 0, f->buf, f->len - 1));
	check_judge(&f->chk, ID, &f->s, 0, 1, f->buf, f->len - 1, &f->v);
	assert_true(f->v.bad_payload);
	assert_false(f->v.bad_serial);
	f->buf[f->len] = 'x';
	assert_false(check_reply(&f->chk, ID, &f->s, 0, f->buf, f->len + 1));
	check_judge(&f->chk, ID, &f->s, 0, 1, f->buf, f->len + 1, &f->v);
	assert_true(f->v.bad_payload);
	assert_false(check_reply(&f->chk, ID, &f->s, 0, f->buf, 0));
	check_judge(&f->chk, ID, &f->s, 0, 1, f->buf, 0, &f->v);
	assert_true(f->v.bad_payload);
	assert_true(f->v.bad_serial);
	check_free(&f->chk);
}

/* A reply to a later message: those before it are missing. */
static void
test_skipped_messages(void **state)
{
	struct fixture	*f = *state;

	check_serial_set(&f->s, 10);
	/* Messages 10 and 11 dropped, and their serials not used. */
	f->len = make_reply(&f->chk, 10, 12, f->buf);
	check_judge(&f->chk, ID, &f->s, 10, 5, f->buf, f->len, &f->v);
	assert_int_equal(f->v.kind, CHECK_ANSWER);
	assert_int_equal(f->v.skipped, 2);
	assert_false(f->v.bad_payload);
	assert_false(f->v.bad_serial);
	/* Or dropped with their serials used up: no serial error either. */
	f->len = make_reply(&f->chk, 12, 12, f->buf);
	check_judge(&f->chk, ID, &f->s, 10, 5, f->buf, f->len, &f->v);
	assert_int_equal(f->v.skipped, 2);
	assert_false(f->v.bad_serial);
	assert_int_equal(f->v.next_serial, 13);
	/* Beyond the messages owed, it is no message's payload. */
	check_judge(&f->chk, ID, &f->s, 10, 2, f->buf, f->len, &f->v);
	assert_int_equal(f->v.skipped, 0);
	assert_true(f->v.bad_payload);
	check_free(&f->chk);
}

/* An ERR line, a reply nothing waits for, and a repeat. */
static void
test_err_extra_repeat(void **state)
{
	struct fixture	*f = *state;

	check_serial_set(&f->s, 4);
	check_judge(&f->chk, ID, &f->s, 4, 1, "ERR too many connections", 24,
	    &f->v);
	assert_int_equal(f->v.kind, CHECK_ERR);
	check_judge(&f->chk, ID, &f->s, 4, 1, "ERR", 3, &f->v);
	assert_int_equal(f->v.kind, CHECK_ERR);
	check_judge(&f->chk, ID, &f->s, 4, 1, "ERRx", 4, &f->v);
	assert_int_equal(f->v.kind, CHECK_ANSWER);

	f->len = make_reply(&f->chk, 4, 4, f->buf);
	check_judge(&f->chk, ID, &f->s, 4, 0, f->buf, f->len, &f->v);
	assert_int_equal(f->v.kind, CHECK_EXTRA);
	assert_int_equal(f->v.next_serial, 5);

	/* Message 3's payload again, with the serial 4. */
	f->len = make_reply(&f->chk, 4, 3, f->buf);
	check_judge(&f->chk, ID, &f->s, 4, 2, f->buf, f->len, &f->v);
	assert_int_equal(f->v.kind, CHECK_REPEAT);
	assert_int_equal(f->v.next_serial, 5);
	check_free(&f->chk);
}

/* Samples are printable, escaped, and cut short. */
static void
test_sample(void **state)
{
	char	buf[256], big[100];

	(void)state;
	assert_int_equal(check_sample(buf, sizeof buf, "a\"b\\c\r\x01", 7),
	    strlen("a\\x22b\\x5cc\\x0d\\x01"));
	assert_string_equal(buf, "a\\x22b\\x5cc\\x0d\\x01");
	memset(big, 'z', sizeof big);
	check_sample(buf, sizeof buf, big, sizeof big);
	assert_int_equal(strlen(buf), CHECK_SAMPLE_BYTES + 3);
	assert_string_equal(buf + CHECK_SAMPLE_BYTES, "...");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payloads_distinct),
		cmocka_unit_test(test_fill_stream),
		cmocka_unit_test(test_serial_counts),
		cmocka_unit_test(test_right_reply),
		cmocka_unit_test(test_separator),
		cmocka_unit_test_setup_teardown(test_wrong_serial, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_payload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_short_and_long, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_skipped_messages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_err_extra_repeat, setup,
		    teardown),
		cmocka_unit_test(test_sample),
	};

	return (cmocka_run_group_tests_name("bench-check", tests, NULL, NULL));
}
