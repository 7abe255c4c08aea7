/*
 * test_proto.c - unit tests for the protocol code (src/proto.c): framing,
 * replies, bye, limits, serials, a short output buffer and resuming.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto.h"

#define OUTCAP	(1024 * 1024)

static char	out[OUTCAP];

/* Compare bytes that may hold NULs, printing both on a mismatch. */
static void
assert_bytes(const char *got, size_t gotlen, const char *want, size_t wantlen)
{
	if (gotlen != wantlen || memcmp(got, want, wantlen) != 0) {
		print_error("got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"\n",
		    gotlen, (int)gotlen, got, wantlen, (int)wantlen, want);
		fail();
	}
}

#define ASSERT_OUT(r, lit)	assert_bytes(out, (r).produced, lit, sizeof lit - 1)

/* Run proto_process over a literal with a big output buffer. */
static enum proto_stop
process_lit(struct proto *p, const char *in, size_t len, struct proto_result *r)
{
	return (proto_process(p, in, len, out, sizeof out, r));
}

#define PROCESS(p, lit, r)	process_lit(p, lit, sizeof lit - 1, r)
#define FINISH(p, lit, r)	proto_finish(p, lit, sizeof lit - 1, out, \
				    sizeof out, r)

static void
test_two_lines(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "hello\nworld\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "0hello\n1world\n");
	assert_int_equal(r.consumed, 12);
	assert_int_equal(r.messages, 2);
	assert_int_equal(p.serial, 2);
}

static void
test_partial_line_waits(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "a\nbc", &r), PROTO_MORE);
	ASSERT_OUT(r, "0a\n");
	assert_int_equal(r.consumed, 2);
	/* The caller keeps "bc" and adds to it. */
	assert_int_equal(PROCESS(&p, "bcd\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "1bcd\n");
	assert_int_equal(r.consumed, 4);
}

static void
test_nothing(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(proto_process(&p, "", 0, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(r.produced, 0);
	assert_int_equal(r.consumed, 0);
	assert_int_equal(r.messages, 0);
	assert_int_equal(proto_finish(&p, "", 0, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(r.produced, 0);
	assert_int_equal(p.serial, 0);
}

/* conn.c passes NULL when its input buffer is empty. */
static void
test_nothing_null(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(proto_process(&p, NULL, 0, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(r.consumed, 0);
	assert_int_equal(proto_finish(&p, NULL, 0, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(r.produced, 0);
	proto_init(&p, PROTO_FRAMING_SEGMENT, 4096, "");
	assert_int_equal(proto_finish(&p, NULL, 0, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(p.serial, 0);
}

static void
test_crlf(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "a\r\n\r\nb\r\r\nc\rd\n\re\n", &r),
	    PROTO_MORE);
	/* Only one CR right before the LF is dropped. */
	ASSERT_OUT(r, "0a\n1\n2b\r\n3c\rd\n4\re\n");
	assert_int_equal(r.messages, 5);
}

static void
test_cr_then_lf_later(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "abc\r", &r), PROTO_MORE);
	assert_int_equal(r.consumed, 0);
	assert_int_equal(PROCESS(&p, "abc\r\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "0abc\n");
}

static void
test_nul_bytes(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "\0\na\0b\n\0\0\r\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "0\0\n1a\0b\n2\0\0\n");
}

static void
test_every_byte_value(void **state)
{
	struct proto		p;
	struct proto_result	r;
	char			in[257], want[300];
	size_t			n = 0, i;

	(void)state;
	for (i = 0; i < 256; i++) {
		if (i != '\n')
			in[n++] = (char)i;
	}
	in[n++] = '\n';
	want[0] = '0';
	memcpy(want + 1, in, n);
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(proto_process(&p, in, n, out, sizeof out, &r),
	    PROTO_MORE);
	assert_bytes(out, r.produced, want, n + 1);
}

static void
test_empty_line(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "\n\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "0\n1\n");
	assert_int_equal(r.messages, 2);
}

static void
test_exactly_max_line(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(PROCESS(&p, "12345678\n12345678\r\n", &r),
	    PROTO_MORE);
	ASSERT_OUT(r, "012345678\n112345678\n");
	/* And as an unterminated tail at end of stream. */
	assert_int_equal(FINISH(&p, "12345678", &r), PROTO_MORE);
	ASSERT_OUT(r, "212345678\n");
	/* max_line bytes with no LF yet: keep waiting. */
	assert_int_equal(PROCESS(&p, "abcdefgh", &r), PROTO_MORE);
	assert_int_equal(r.consumed, 0);
}

static void
test_max_line_plus_one(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(PROCESS(&p, "a\nb\n123456789\nc\n", &r),
	    PROTO_TOO_LONG);
	/* The replies owed before the long line are there. */
	ASSERT_OUT(r, "0a\n1b\n");
	assert_int_equal(r.consumed, 4);
	assert_int_equal(r.messages, 2);

	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(PROCESS(&p, "123456789\r\n", &r), PROTO_TOO_LONG);
	assert_int_equal(r.produced, 0);
}

static void
test_too_long_without_lf(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	/* max_line + 1 bytes, the last not a CR: no LF can save it. */
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(PROCESS(&p, "ok\n123456789", &r), PROTO_TOO_LONG);
	ASSERT_OUT(r, "0ok\n");
	assert_int_equal(r.consumed, 3);

	/* max_line + 1 bytes ending in CR: a LF may still follow. */
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(PROCESS(&p, "12345678\r", &r), PROTO_MORE);
	assert_int_equal(PROCESS(&p, "12345678\r\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "012345678\n");

	/* max_line + 2 bytes, even ending in CR, is too long. */
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(PROCESS(&p, "123456789\r", &r), PROTO_TOO_LONG);
}

static void
test_cr_makes_max_line_plus_one(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	/* Seven bytes and a CR that stays: eight bytes of message. */
	assert_int_equal(PROCESS(&p, "1234567\r\r\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "01234567\r\n");
	/* Eight bytes, a CR that stays and one dropped: nine, too long. */
	assert_int_equal(PROCESS(&p, "12345678\r\r\n", &r), PROTO_TOO_LONG);
	assert_int_equal(r.produced, 0);
}

static void
test_tail_at_eof(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(FINISH(&p, "a\nb\nhello", &r), PROTO_MORE);
	ASSERT_OUT(r, "0a\n1b\n2hello\n");
	assert_int_equal(r.consumed, 9);
	assert_int_equal(r.messages, 3);

	/* No tail: nothing added. */
	assert_int_equal(FINISH(&p, "c\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "3c\n");

	/* A tail with a NUL in it. */
	assert_int_equal(FINISH(&p, "x\0y", &r), PROTO_MORE);
	ASSERT_OUT(r, "4x\0y\n");

	/* A tail over max_line. */
	assert_int_equal(FINISH(&p, "d\n123456789", &r), PROTO_TOO_LONG);
	ASSERT_OUT(r, "5d\n");
}

static void
test_tail_after_partial_scan(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "par", &r), PROTO_MORE);
	assert_int_equal(PROCESS(&p, "partial", &r), PROTO_MORE);
	assert_int_equal(FINISH(&p, "partial", &r), PROTO_MORE);
	ASSERT_OUT(r, "0partial\n");
	/* Next message starts a new scan. */
	assert_int_equal(PROCESS(&p, "n\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "1n\n");
}

static void
test_bye(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "bye\n", &r), PROTO_BYE);
	assert_int_equal(r.produced, 0);
	assert_int_equal(r.consumed, 4);
	assert_int_equal(r.messages, 0);
	assert_int_equal(p.serial, 0);

	/* Replies owed before bye are written; what follows is not read. */
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "a\nbye\nb\n", &r), PROTO_BYE);
	ASSERT_OUT(r, "0a\n");
	assert_int_equal(r.consumed, 6);

	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "bye\r\n", &r), PROTO_BYE);
	assert_int_equal(r.consumed, 5);
}

static void
test_bye_only_whole_line(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p,
	    "byebye\n bye\nbye \nBYE\nby\nbye\r\r\nbye\0\n\0bye\nxbye\n", &r),
	    PROTO_MORE);
	ASSERT_OUT(r, "0byebye\n1 bye\n2bye \n3BYE\n4by\n5bye\r\n6bye\0\n"
	    "7\0bye\n8xbye\n");

	/* "bye" with no LF yet is not bye yet. */
	assert_int_equal(PROCESS(&p, "bye", &r), PROTO_MORE);
	assert_int_equal(r.consumed, 0);
	assert_int_equal(PROCESS(&p, "byeb\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "9byeb\n");
}

static void
test_bye_as_tail(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(FINISH(&p, "a\nbye", &r), PROTO_BYE);
	ASSERT_OUT(r, "0a\n");
	assert_int_equal(r.consumed, 5);
}

static void
test_separator(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4, ": ");
	assert_int_equal(p.seplen, 2);
	assert_int_equal(PROCESS(&p, "abcd\n\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "0: abcd\n1: \n");
	assert_int_equal(FINISH(&p, "x", &r), PROTO_MORE);
	ASSERT_OUT(r, "2: x\n");
	assert_int_equal(proto_reply_max(&p), PROTO_SERIAL_MAX + 2 + 4 + 1);
}

static void
test_separator_truncated(void **state)
{
	struct proto		p;
	struct proto_result	r;
	char			sep[200], want[200];

	(void)state;
	memset(sep, 's', sizeof sep - 1);
	sep[sizeof sep - 1] = '\0';
	proto_init(&p, PROTO_FRAMING_LINE, 4096, sep);
	assert_int_equal(p.seplen, PROTO_SEPARATOR_MAX);
	assert_int_equal(PROCESS(&p, "m\n", &r), PROTO_MORE);
	want[0] = '0';
	memset(want + 1, 's', PROTO_SEPARATOR_MAX);
	memcpy(want + 1 + PROTO_SEPARATOR_MAX, "m\n", 2);
	assert_bytes(out, r.produced, want, PROTO_SEPARATOR_MAX + 3);
}

static void
test_segment(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_SEGMENT, 4096, "");
	assert_int_equal(PROCESS(&p, "hello", &r), PROTO_MORE);
	ASSERT_OUT(r, "0hello");
	assert_int_equal(r.consumed, 5);
	assert_int_equal(r.messages, 1);
	/* A chunk is one message, LFs and all. */
	assert_int_equal(PROCESS(&p, "a\nb\r\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "1a\nb\r\n");
	assert_int_equal(PROCESS(&p, "\0x", &r), PROTO_MORE);
	ASSERT_OUT(r, "2\0x");
	assert_int_equal(proto_process(&p, "", 0, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(r.produced, 0);
	assert_int_equal(r.messages, 0);
	/* Finishing adds no tail of its own. */
	assert_int_equal(FINISH(&p, "last", &r), PROTO_MORE);
	ASSERT_OUT(r, "3last");
	assert_int_equal(p.serial, 4);
}

static void
test_segment_bye(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_SEGMENT, 4096, ":");
	assert_int_equal(PROCESS(&p, "x", &r), PROTO_MORE);
	ASSERT_OUT(r, "0:x");
	assert_int_equal(PROCESS(&p, "bye", &r), PROTO_BYE);
	assert_int_equal(r.produced, 0);
	assert_int_equal(r.consumed, 3);

	proto_init(&p, PROTO_FRAMING_SEGMENT, 4096, "");
	assert_int_equal(PROCESS(&p, "byebye\n", &r), PROTO_BYE);
	assert_int_equal(r.consumed, 7);

	proto_init(&p, PROTO_FRAMING_SEGMENT, 4096, "");
	assert_int_equal(PROCESS(&p, "by", &r), PROTO_MORE);
	ASSERT_OUT(r, "0by");
	assert_int_equal(PROCESS(&p, " bye", &r), PROTO_MORE);
	ASSERT_OUT(r, "1 bye");
}

static void
test_segment_full(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_SEGMENT, 4096, "");
	assert_int_equal(proto_process(&p, "hello", 5, out, 10, &r),
	    PROTO_FULL);
	assert_int_equal(r.consumed, 0);
	assert_int_equal(r.produced, 0);
	assert_int_equal(p.serial, 0);
	assert_int_equal(proto_process(&p, "hello", 5, out,
	    proto_reply_max(&p), &r), PROTO_MORE);
	ASSERT_OUT(r, "0hello");
}

static void
test_format_serial(void **state)
{
	static const struct {
		uint64_t	 n;
		const char	*s;
	} cases[] = {
		{ 0, "0" },
		{ 9, "9" },
		{ 10, "10" },
		{ 4294967295ULL, "4294967295" },
		{ 4294967296ULL, "4294967296" },
		{ 10000000000000000000ULL, "10000000000000000000" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	char	buf[PROTO_SERIAL_MAX + 8];
	size_t	i, n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(buf, 'X', sizeof buf);
		n = proto_format_serial(cases[i].n, buf);
		assert_bytes(buf, n, cases[i].s, strlen(cases[i].s));
		/* Nothing written past the digits. */
		assert_int_equal(buf[n], 'X');
	}
}

static void
test_serial_past_2_32(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	p.serial = 4294967295ULL;
	assert_int_equal(PROCESS(&p, "a\nb\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "4294967295a\n4294967296b\n");
	assert_true(p.serial == 4294967297ULL);

	/* The longest serial and the longest line fit in proto_reply_max. */
	proto_init(&p, PROTO_FRAMING_LINE, 8, "::");
	p.serial = UINT64_MAX;
	assert_int_equal(proto_process(&p, "12345678\n", 9, out,
	    proto_reply_max(&p), &r), PROTO_MORE);
	ASSERT_OUT(r, "18446744073709551615::12345678\n");
	assert_int_equal(r.produced, proto_reply_max(&p));
}

/*
 * Drive proto_process (or proto_finish) as a server would, with an output
 * room of outcap bytes, resuming after each PROTO_FULL. Returns the last
 * stop; the output goes to dst, its length to *dstlen.
 */
static enum proto_stop
drive(struct proto *p, const char *in, size_t inlen, size_t outcap,
    int finish, char *dst, size_t *dstlen, size_t *consumed, int *fulls)
{
	struct proto_result	r;
	enum proto_stop		stop;
	size_t			off = 0;
	char			*room = malloc(outcap + 1);

	assert_non_null(room);
	*dstlen = 0;
	*fulls = 0;
	for (;;) {
		if (finish)
			stop = proto_finish(p, in + off, inlen - off, room,
			    outcap, &r);
		else
			stop = proto_process(p, in + off, inlen - off, room,
			    outcap, &r);
		assert_true(r.produced <= outcap);
		memcpy(dst + *dstlen, room, r.produced);
		*dstlen += r.produced;
		off += r.consumed;
		if (stop != PROTO_FULL)
			break;
		/* With proto_reply_max of room, FULL still means progress. */
		if (outcap >= proto_reply_max(p) && r.consumed == 0)
			fail_msg("FULL without progress at outcap %zu", outcap);
		if (++*fulls > 100000)
			fail_msg("no end at outcap %zu", outcap);
	}
	free(room);
	*consumed = off;
	return (stop);
}

/* Ten messages of max_line bytes: a short room must fill and resume. */
static const char full_in[] =
    "00000000\n11111111\r\n22222222\n33333333\n44444444\n"
    "55555555\n66666666\n77777777\n88888888\n99999999";
static const char full_want[] =
    "000000000\n111111111\n222222222\n333333333\n444444444\n"
    "555555555\n666666666\n777777777\n888888888\n";

static void
test_full_and_resume(void **state)
{
	struct proto		p;
	struct proto_result	r;
	char			got[512];
	size_t			len, consumed, cap;
	int			fulls, total_fulls = 0;

	(void)state;
	/* A room too small for the first reply: nothing consumed. */
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	assert_int_equal(proto_process(&p, full_in, sizeof full_in - 1, out,
	    5, &r), PROTO_FULL);
	assert_int_equal(r.consumed, 0);
	assert_int_equal(r.produced, 0);
	assert_int_equal(r.messages, 0);
	assert_int_equal(p.serial, 0);

	/* Every room size from proto_reply_max up: the same replies. */
	for (cap = proto_reply_max(&p); cap < 200; cap++) {
		proto_init(&p, PROTO_FRAMING_LINE, 8, "");
		assert_int_equal(drive(&p, full_in, sizeof full_in - 1, cap, 0,
		    got, &len, &consumed, &fulls), PROTO_MORE);
		assert_bytes(got, len, full_want, sizeof full_want - 1);
		/* The unterminated last message is left for later. */
		assert_int_equal(consumed, sizeof full_in - 1 - 8);
		assert_true(p.serial == 9);
		if (cap < 90)
			assert_true(fulls > 0);
		total_fulls += fulls;
	}
	assert_true(total_fulls > 0);
}

static void
test_finish_full_and_resume(void **state)
{
	struct proto	p;
	char		got[512];
	size_t		len, consumed, cap;
	int		fulls;

	(void)state;
	for (cap = 29; cap < 200; cap++) {
		proto_init(&p, PROTO_FRAMING_LINE, 8, "");
		assert_int_equal(drive(&p, full_in, sizeof full_in - 1, cap, 1,
		    got, &len, &consumed, &fulls), PROTO_MORE);
		assert_int_equal(consumed, sizeof full_in - 1);
		if (len != sizeof full_want - 1 + 10 ||
		    memcmp(got, full_want, sizeof full_want - 1) != 0 ||
		    memcmp(got + sizeof full_want - 1, "999999999\n", 10) != 0)
			fail_msg("wrong replies at outcap %zu: %.*s", cap,
			    (int)len, got);
	}
}

static void
test_full_then_too_long(void **state)
{
	struct proto	p;
	const char	in[] = "aaaaaaaa\nbbbbbbbb\ncccccccc\n123456789\nx\n";
	char		got[512];
	size_t		len, consumed, cap;
	int		fulls;

	(void)state;
	for (cap = 29; cap < 100; cap++) {
		proto_init(&p, PROTO_FRAMING_LINE, 8, "");
		assert_int_equal(drive(&p, in, sizeof in - 1, cap, 0, got, &len,
		    &consumed, &fulls), PROTO_TOO_LONG);
		assert_bytes(got, len, "0aaaaaaaa\n1bbbbbbbb\n2cccccccc\n", 30);
		assert_int_equal(consumed, 27);
	}
}

static void
test_long_line_in_small_pieces(void **state)
{
	struct proto		p;
	struct proto_result	r;
	size_t			len = 512 * 1024, n;
	char			*buf;
	clock_t			start;
	double			secs;

	(void)state;
	buf = malloc(len + 1);
	assert_non_null(buf);
	memset(buf, 'x', len);
	buf[len] = '\n';

	/*
	 * Half a MiB arriving one byte at a time. Searching from the start
	 * each time would cost len^2/2 byte compares (over 10^11); resuming
	 * where the last search stopped costs len.
	 */
	proto_init(&p, PROTO_FRAMING_LINE, len, "");
	start = clock();
	for (n = 1; n <= len; n++) {
		if (proto_process(&p, buf, n, out, sizeof out, &r) !=
		    PROTO_MORE || r.consumed != 0)
			fail_msg("stopped at %zu bytes", n);
		if (p.scanned != n)
			fail_msg("scanned %zu after %zu bytes", p.scanned, n);
	}
	assert_int_equal(proto_process(&p, buf, len + 1, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(r.consumed, len + 1);
	assert_int_equal(r.produced, len + 2);
	assert_int_equal(p.scanned, 0);
	secs = (double)(clock() - start) / CLOCKS_PER_SEC;
	if (secs > 2.0)
		fail_msg("%.2f s of CPU for a %zu-byte line in 1-byte pieces",
		    secs, len);
	free(buf);
}

/*
 * The same, made exact: once bytes have been searched, the pages holding
 * them are made unreadable, so a search that went back over them would
 * fault. Only the final call, which copies the line, may read it all.
 */
static void
test_scan_never_rereads(void **state)
{
	struct proto		p;
	struct proto_result	r;
	size_t			page = (size_t)sysconf(_SC_PAGESIZE);
	size_t			len = 16 * page, n, guarded = 0, start;
	char			*buf;

	(void)state;
	buf = mmap(NULL, len + page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	memset(buf, 'y', len);
	buf[len] = '\n';

	proto_init(&p, PROTO_FRAMING_LINE, len, "");
	for (n = 1; n <= len; n++) {
		/* The search may start at p.scanned: guard whole pages below. */
		start = p.scanned / page * page;
		if (start > guarded) {
			assert_int_equal(mprotect(buf, start, PROT_NONE), 0);
			guarded = start;
		}
		if (proto_process(&p, buf, n, out, sizeof out, &r) !=
		    PROTO_MORE || r.consumed != 0)
			fail_msg("stopped at %zu bytes", n);
	}
	assert_int_equal(mprotect(buf, len + page, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(proto_process(&p, buf, len + 1, out, sizeof out, &r),
	    PROTO_MORE);
	assert_int_equal(r.produced, len + 2);
	munmap(buf, len + page);
}

static void
test_scan_resumes_after_lines(void **state)
{
	struct proto		p;
	struct proto_result	r;

	(void)state;
	/* After a reply the next scan starts from the next message. */
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "a\nbcd", &r), PROTO_MORE);
	assert_int_equal(r.consumed, 2);
	assert_int_equal(p.scanned, 3);
	assert_int_equal(PROCESS(&p, "bcde\nf\n", &r), PROTO_MORE);
	ASSERT_OUT(r, "1bcde\n2f\n");
	assert_int_equal(p.scanned, 0);

	/*
	 * A caller that dropped its input is not read out of bounds (the
	 * sanitizer build checks): the scan never passes the input's end.
	 */
	proto_init(&p, PROTO_FRAMING_LINE, 4096, "");
	assert_int_equal(PROCESS(&p, "abcdef", &r), PROTO_MORE);
	assert_int_equal(PROCESS(&p, "xy", &r), PROTO_MORE);
	assert_int_equal(r.consumed, 0);
	assert_true(p.scanned <= 2);
}

/* How much of a straddling line is joined: through the next LF only. */
static void
test_join_size(void **state)
{
	struct proto	p;
	struct iovec	v[3];
	char		a[] = "ab", b[] = "cd\nef", c[] = "ghijklmnop";

	(void)state;
	proto_init(&p, PROTO_FRAMING_LINE, 8, "");
	v[0].iov_base = a;
	v[0].iov_len = 2;
	v[1].iov_base = b;
	v[1].iov_len = 5;
	v[2].iov_base = c;
	v[2].iov_len = 10;
	/* "ab" + "cd\n": the line and its LF, not the rest. */
	assert_int_equal(proto_join_size(&p, v, 3, 17, 0), 5);
	/* No LF in sight: max_line + 2, to tell a long line from CRLF. */
	v[1].iov_base = c;
	v[1].iov_len = 10;
	assert_int_equal(proto_join_size(&p, v, 2, 12, 0), 10);
	/* ... but never more than there is. */
	v[1].iov_len = 3;
	assert_int_equal(proto_join_size(&p, v, 2, 5, 0), 5);
	v[1].iov_len = 10;
	/* At end of stream, everything. */
	assert_int_equal(proto_join_size(&p, v, 2, 12, 1), 12);
	/* The first chunk already as long as the limit: nothing to join. */
	v[0].iov_base = c;
	v[0].iov_len = 10;
	assert_int_equal(proto_join_size(&p, v, 2, 20, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_lines),
		cmocka_unit_test(test_partial_line_waits),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_nothing_null),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_cr_then_lf_later),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_every_byte_value),
		cmocka_unit_test(test_empty_line),
		cmocka_unit_test(test_exactly_max_line),
		cmocka_unit_test(test_max_line_plus_one),
		cmocka_unit_test(test_too_long_without_lf),
		cmocka_unit_test(test_cr_makes_max_line_plus_one),
		cmocka_unit_test(test_tail_at_eof),
		cmocka_unit_test(test_tail_after_partial_scan),
		cmocka_unit_test(test_bye),
		cmocka_unit_test(test_bye_only_whole_line),
		cmocka_unit_test(test_bye_as_tail),
		cmocka_unit_test(test_separator),
		cmocka_unit_test(test_separator_truncated),
		cmocka_unit_test(test_segment),
		cmocka_unit_test(test_segment_bye),
		cmocka_unit_test(test_segment_full),
		cmocka_unit_test(test_format_serial),
		cmocka_unit_test(test_serial_past_2_32),
		cmocka_unit_test(test_full_and_resume),
		cmocka_unit_test(test_full_then_too_long),
		cmocka_unit_test(test_finish_full_and_resume),
		cmocka_unit_test(test_long_line_in_small_pieces),
		cmocka_unit_test(test_scan_never_rereads),
		cmocka_unit_test(test_scan_resumes_after_lines),
		cmocka_unit_test(test_join_size),
	};

	return (cmocka_run_group_tests_name("proto", tests, NULL, NULL));
}
