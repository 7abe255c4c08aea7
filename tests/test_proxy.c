/*
 * test_proxy.c - unit tests for the PROXY protocol header (src/proxy.c):
 * every field of v1 and v2, every malformed case, health checks (HAProxy's
 * LOCAL with TLVs, AWS NLB's LOCAL of length 84), splits at every byte,
 * build and parse back, CRC32C, trusted prefixes and the mode names.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "seqecho.h"
#include "proxy.h"

#define SIG	"\r\n\r\n\0\r\nQUIT\n"

/* A v2 header under construction. */
struct v2 {
	uint8_t	b[PROXY_HEADER_MAX + 64];
	size_t	len;
};

/* Start a v2 header: signature, command, family; length set by v2_end. */
static void
v2_start(struct v2 *v, uint8_t cmd, uint8_t fam)
{
	memcpy(v->b, SIG, 12);
	v->b[12] = cmd;
	v->b[13] = fam;
	v->len = 16;
}

static void
v2_add(struct v2 *v, const void *p, size_t n)
{
	memcpy(v->b + v->len, p, n);
	v->len += n;
}

/* Append a TLV; returns the offset of its value. */
static size_t
v2_tlv(struct v2 *v, uint8_t type, const void *p, size_t n)
{
	uint8_t	t[3] = { type, (uint8_t)(n >> 8), (uint8_t)n };

	v2_add(v, t, 3);
	v2_add(v, p, n);
	return (v->len - n);
}

/* Fill in the length field from what was added. */
static void
v2_end(struct v2 *v)
{
	v->b[14] = (uint8_t)((v->len - 16) >> 8);
	v->b[15] = (uint8_t)(v->len - 16);
}

/* Write the CRC32C of the whole header into the TLV value at off. */
static void
v2_crc(struct v2 *v, size_t off)
{
	uint32_t	c;

	memset(v->b + off, 0, 4);
	c = proxy_crc32c(v->b, v->len);
	v->b[off] = (uint8_t)(c >> 24);
	v->b[off + 1] = (uint8_t)(c >> 16);
	v->b[off + 2] = (uint8_t)(c >> 8);
	v->b[off + 3] = (uint8_t)c;
}

/* The TCP4 block 192.0.2.1:5555 -> 198.51.100.2:1234. */
static void
v2_tcp4(struct v2 *v)
{
	static const uint8_t a[12] = { 192, 0, 2, 1, 198, 51, 100, 2,
	    0x15, 0xb3, 0x04, 0xd2 };

	v2_add(v, a, sizeof a);
}

/* Parse and expect status; returns used or need. */
static size_t
parse(const void *buf, size_t len, int accept, enum proxy_status want,
    struct proxy_header *h)
{
	enum proxy_status	 st;
	size_t			 need = 0, used = 0;
	const char		*why = NULL;

	st = proxy_parse(buf, len, accept, h, &need, &used, &why);
	if (st != want)
		print_error("status %d, want %d (why: %s)\n", st, want,
		    why != NULL ? why : "-");
	assert_int_equal(st, want);
	if (st == PROXY_MORE) {
		assert_true(need > len);
		assert_true(need <= PROXY_HEADER_MAX);
		return (need);
	}
	if (st == PROXY_DONE) {
		assert_true(used <= len);
		return (used);
	}
	assert_non_null(why);
	return (0);
}

/* Expect PROXY_BAD with exactly why. */
static void
parse_bad(const void *buf, size_t len, int accept, const char *want)
{
	struct proxy_header	 h;
	size_t			 need, used;
	const char		*why = NULL;

	assert_int_equal(proxy_parse(buf, len, accept, &h, &need, &used, &why),
	    PROXY_BAD);
	assert_string_equal(why, want);
}

#define LIT(s)	(s), (sizeof (s) - 1)

/* The address and port of a parsed sockaddr, as text. */
static void
assert_addr(const struct sockaddr_storage *ss, int family, const char *addr,
    unsigned port)
{
	char	buf[INET6_ADDRSTRLEN];

	assert_int_equal(ss->ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
		assert_int_equal(ntohs(s->sin_port), port);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
		assert_int_equal(ntohs(s->sin6_port), port);
	}
	assert_string_equal(buf, addr);
}

static void
test_v1_tcp4_fields(void **state)
{
	struct proxy_header	h;
	const char		s[] = "PROXY TCP4 192.0.2.1 198.51.100.2 "
				    "5555 1234\r\nhello\n";

	(void)state;
	assert_int_equal(parse(LIT(s), PROXY_V1, PROXY_DONE, &h),
	    sizeof s - 1 - 6);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.local, 0);
	assert_addr(&h.src, AF_INET, "192.0.2.1", 5555);
	assert_addr(&h.dst, AF_INET, "198.51.100.2", 1234);
	assert_int_equal(parse(LIT(s), PROXY_ANY, PROXY_DONE, &h),
	    sizeof s - 1 - 6);
}

static void
test_v1_tcp6_fields(void **state)
{
	struct proxy_header	h;
	const char		s[] = "PROXY TCP6 2001:db8::1 ::1 0 65535\r\n";

	(void)state;
	assert_int_equal(parse(LIT(s), PROXY_V1, PROXY_DONE, &h), sizeof s - 1);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.local, 0);
	assert_addr(&h.src, AF_INET6, "2001:db8::1", 0);
	assert_addr(&h.dst, AF_INET6, "::1", 65535);
}

static void
test_v1_unknown_is_local(void **state)
{
	struct proxy_header	h;
	char			s[PROXY_V1_MAX + 1];

	(void)state;
	assert_int_equal(parse(LIT("PROXY UNKNOWN\r\nx"), PROXY_V1,
	    PROXY_DONE, &h), 15);
	assert_int_equal(h.local, 1);
	assert_int_equal(h.version, 1);
	/* The rest of the line is ignored, whatever it says... */
	assert_int_equal(parse(LIT("PROXY UNKNOWN ffff::1 junk 99999 x\r\n"),
	    PROXY_ANY, PROXY_DONE, &h), 36);
	assert_int_equal(h.local, 1);
	/* ...up to the longest line allowed, 107 bytes. */
	memset(s, 'x', sizeof s);
	memcpy(s, "PROXY UNKNOWN ", 14);
	memcpy(s + PROXY_V1_MAX - 2, "\r\n", 2);
	assert_int_equal(parse(s, PROXY_V1_MAX, PROXY_V1, PROXY_DONE, &h),
	    PROXY_V1_MAX);
	parse_bad(LIT("PROXY UNKNOWNX\r\n"), PROXY_V1,
	    "v1 header with a bad protocol");
}

static void
test_v1_malformed(void **state)
{
	char	s[PROXY_V1_MAX + 8];

	(void)state;
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), PROXY_V1,
	    "v1 header without CRLF");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx"), PROXY_V1,
	    "v1 header without CRLF");
	parse_bad(LIT("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_V1,
	    "v1 header with a bad protocol");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), PROXY_V1,
	    "v1 header with a wrong number of fields");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), PROXY_V1,
	    "v1 header with a wrong number of fields");
	parse_bad(LIT("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), PROXY_V1,
	    "v1 header with a wrong number of fields");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 ::1 1 2\r\n"), PROXY_V1,
	    "v1 header with a bad address");
	parse_bad(LIT("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"), PROXY_V1,
	    "v1 header with a bad address");
	parse_bad(LIT("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"), PROXY_V1,
	    "v1 header with a bad address");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), PROXY_V1,
	    "v1 header with a bad port");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"), PROXY_V1,
	    "v1 header with a bad port");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), PROXY_V1,
	    "v1 header with a bad port");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n"), PROXY_V1,
	    "v1 header with a bad port");
	parse_bad(LIT("PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n"), PROXY_V1,
	    "v1 header with a bad port");
	parse_bad(LIT("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n"), PROXY_V1,
	    "v1 header with a control byte");
	parse_bad(LIT("PROXY TCP4 1.2.3.4\0"), PROXY_V1,
	    "v1 header with a control byte");
	parse_bad(LIT("proxy TCP4"), PROXY_V1, "bad signature");
	parse_bad(LIT("GET / HTTP/1.0\r\n"), PROXY_ANY, "bad signature");
	/* 107 bytes and no LF: over the limit, however it would go on. */
	memset(s, '1', sizeof s);
	memcpy(s, "PROXY UNKNOWN ", 14);
	parse_bad(s, PROXY_V1_MAX, PROXY_V1, "v1 header over 107 bytes");
	parse_bad(s, PROXY_V1_MAX + 8, PROXY_ANY, "v1 header over 107 bytes");
	/* A LF at byte 108 is one too far. */
	memcpy(s + PROXY_V1_MAX - 1, "\r\n", 2);
	parse_bad(s, PROXY_V1_MAX + 1, PROXY_V1, "v1 header over 107 bytes");
}

static void
test_wrong_version_for_listener(void **state)
{
	struct v2	v;

	(void)state;
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	v2_end(&v);
	parse_bad(v.b, v.len, PROXY_V1, "v2 header on a v1 listener");
	parse_bad(v.b, 12, PROXY_V1, "v2 header on a v1 listener");
	parse_bad(LIT("PROXY UNKNOWN\r\n"), PROXY_V2,
	    "v1 header on a v2 listener");
	parse_bad(LIT("PROXY "), PROXY_V2, "v1 header on a v2 listener");
}

static void
test_signature_refused_early(void **state)
{
	(void)state;
	/* One byte that begins neither header is enough. */
	parse_bad(LIT("h"), PROXY_ANY, "bad signature");
	parse_bad(LIT("h"), PROXY_V1, "bad signature");
	parse_bad(LIT("h"), PROXY_V2, "bad signature");
	parse_bad(LIT("PROXX"), PROXY_ANY, "bad signature");
	parse_bad(LIT("\r\n\r\n\0\r\nQUIX"), PROXY_ANY, "bad signature");
	parse_bad(LIT("\r\n\r\n\0\r\nQUIX"), PROXY_V1, "bad signature");
	parse_bad(LIT("\r\n\r\n\0\r\nQUIX"), PROXY_V2, "bad signature");
}

static void
test_v2_tcp4_fields(void **state)
{
	struct proxy_header	h;
	struct v2		v;

	(void)state;
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	v2_end(&v);
	assert_int_equal(v.len, 28);
	v2_add(&v, "hello\n", 6);	/* the client's data, not the header */
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 28);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.local, 0);
	assert_addr(&h.src, AF_INET, "192.0.2.1", 5555);
	assert_addr(&h.dst, AF_INET, "198.51.100.2", 1234);
	assert_int_equal(parse(v.b, v.len, PROXY_ANY, PROXY_DONE, &h), 28);
}

static void
test_v2_tcp6_fields(void **state)
{
	struct proxy_header	h;
	struct v2		v;
	struct in6_addr		a, b;
	uint8_t			ports[4] = { 0xff, 0xff, 0, 0 };

	(void)state;
	inet_pton(AF_INET6, "2001:db8::7", &a);
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &b);
	v2_start(&v, 0x21, 0x21);
	v2_add(&v, &a, 16);
	v2_add(&v, &b, 16);
	v2_add(&v, ports, 4);
	v2_end(&v);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 52);
	assert_int_equal(h.local, 0);
	assert_addr(&h.src, AF_INET6, "2001:db8::7", 65535);
	assert_addr(&h.dst, AF_INET6, "::ffff:10.0.0.1", 0);
}

static void
test_v2_local(void **state)
{
	struct proxy_header	h;
	struct v2		v;

	(void)state;
	/* HAProxy's plain health check: LOCAL, UNSPEC, length 0. */
	v2_start(&v, 0x20, 0x00);
	v2_end(&v);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 16);
	assert_int_equal(h.local, 1);
	assert_int_equal(h.version, 2);
	/* LOCAL with an address block: the addresses are not used. */
	v2_start(&v, 0x20, 0x11);
	v2_tcp4(&v);
	v2_end(&v);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 28);
	assert_int_equal(h.local, 1);
	/* LOCAL's family is ignored, as the spec says. */
	v2_start(&v, 0x20, 0x31);
	v2_end(&v);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 16);
	assert_int_equal(h.local, 1);
	/* PROXY with UNSPEC: keep the socket's addresses. */
	v2_start(&v, 0x21, 0x00);
	v2_end(&v);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 16);
	assert_int_equal(h.local, 1);
}

static void
test_v2_nlb_local_84(void **state)
{
	struct proxy_header	h;
	struct v2		v;
	uint8_t			tlv[69];

	(void)state;
	/* An address block, then 72 bytes of TLVs: length 84. */
	memset(tlv, 0, sizeof tlv);
	tlv[0] = 0x01;
	memcpy(tlv + 1, "vpce-0123456789abcdef0", 22);
	v2_start(&v, 0x20, 0x11);
	v2_tcp4(&v);
	v2_tlv(&v, 0xea, tlv, sizeof tlv);
	v2_end(&v);
	assert_int_equal(v.len, 16 + 84);
	v2_add(&v, "x", 1);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 100);
	assert_int_equal(h.local, 1);
	/* Whatever the 84 bytes hold: LOCAL's block is discarded. */
	memset(v.b + 16, 0xff, 84);
	assert_int_equal(parse(v.b, v.len, PROXY_ANY, PROXY_DONE, &h), 100);
	assert_int_equal(h.local, 1);
}

static void
test_v2_haproxy_local_tlvs(void **state)
{
	struct proxy_header	h;
	struct v2		v;
	size_t			off;

	(void)state;
	/* check-send-proxy with crc32c,unique-id: length 7, the CRC. */
	v2_start(&v, 0x20, 0x00);
	off = v2_tlv(&v, 0x03, "\0\0\0\0", 4);
	v2_end(&v);
	v2_crc(&v, off);
	assert_int_equal(v.len, 16 + 7);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 23);
	assert_int_equal(h.local, 1);
	v.b[off] ^= 1;
	parse_bad(v.b, v.len, PROXY_V2, "CRC32C mismatch");
	/* Both TLVs, in the order HAProxy writes them. */
	v2_start(&v, 0x20, 0x00);
	off = v2_tlv(&v, 0x03, "\0\0\0\0", 4);
	v2_tlv(&v, 0x05, "abc", 3);
	v2_end(&v);
	v2_crc(&v, off);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), v.len);
	assert_int_equal(h.local, 1);
}

static void
test_v2_tlvs_and_crc(void **state)
{
	struct proxy_header	h;
	struct v2		v;
	size_t			off;

	(void)state;
	/* HAProxy's data connection with crc32c,unique-id: 63 bytes. */
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	off = v2_tlv(&v, 0x03, "\0\0\0\0", 4);
	v2_tlv(&v, 0x05, "0123456789abcdef012345678", 25);
	v2_end(&v);
	v2_crc(&v, off);
	assert_int_equal(v.len, 63);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), 63);
	assert_addr(&h.src, AF_INET, "192.0.2.1", 5555);
	/* Any bit changed anywhere fails the CRC. */
	v.b[20] ^= 0x80;
	parse_bad(v.b, v.len, PROXY_V2, "CRC32C mismatch");
	v.b[20] ^= 0x80;
	v.b[62] ^= 0x01;
	parse_bad(v.b, v.len, PROXY_V2, "CRC32C mismatch");
	v.b[62] ^= 0x01;
	/* A CRC32C TLV of the wrong size is malformed. */
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	v2_tlv(&v, 0x03, "\0\0\0", 3);
	v2_end(&v);
	parse_bad(v.b, v.len, PROXY_V2, "malformed TLV");
	/* A TLV running past the end is malformed. */
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	v2_tlv(&v, 0x05, "abcd", 4);
	v.len -= 1;
	v2_end(&v);
	parse_bad(v.b, v.len, PROXY_V2, "malformed TLV");
	/* So is a TLV's head cut short. */
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	v2_add(&v, "\x05\x00", 2);
	v2_end(&v);
	parse_bad(v.b, v.len, PROXY_V2, "malformed TLV");
	/* Unknown TLVs and NOOPs are skipped. */
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	v2_tlv(&v, 0x04, "", 0);
	v2_tlv(&v, 0xe0, "xyz", 3);
	v2_end(&v);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h), v.len);
}

static void
test_v2_malformed(void **state)
{
	struct v2	v;
	uint8_t		fams[] = { 0x12, 0x22 }, unix_fams[] = { 0x31, 0x32 };
	size_t		i;

	(void)state;
	v2_start(&v, 0x11, 0x11);
	v2_tcp4(&v);
	v2_end(&v);
	parse_bad(v.b, v.len, PROXY_V2, "bad version");
	v.b[12] = 0x31;
	parse_bad(v.b, v.len, PROXY_ANY, "bad version");
	v.b[12] = 0x22;
	parse_bad(v.b, v.len, PROXY_V2, "bad command");
	v.b[12] = 0x2f;
	parse_bad(v.b, v.len, PROXY_V2, "bad command");
	v.b[12] = 0x21;
	for (i = 0; i < sizeof fams; i++) {
		v.b[13] = fams[i];
		parse_bad(v.b, v.len, PROXY_V2, "unsupported family (UDP)");
		v.b[13] = unix_fams[i];
		parse_bad(v.b, v.len, PROXY_V2, "unsupported family (UNIX)");
	}
	v.b[13] = 0x13;
	parse_bad(v.b, v.len, PROXY_V2, "bad family");
	v.b[13] = 0x41;
	parse_bad(v.b, v.len, PROXY_V2, "bad family");
	/* Refused from the 16 fixed bytes alone, before reading on. */
	v.b[13] = 0x11;
	v.b[14] = 0x10;
	v.b[15] = 0x01;
	parse_bad(v.b, 16, PROXY_V2, "length over 4096");
	v.b[14] = 0xff;
	v.b[15] = 0xff;
	parse_bad(v.b, 16, PROXY_ANY, "length over 4096");
	v.b[14] = 0;
	v.b[15] = 11;
	parse_bad(v.b, 16, PROXY_V2, "length too short for the addresses");
	v.b[13] = 0x21;
	v.b[15] = 35;
	parse_bad(v.b, 16, PROXY_V2, "length too short for the addresses");
}

static void
test_v2_length_4096(void **state)
{
	struct proxy_header	h;
	struct v2		v;
	uint8_t			pad[4096];

	(void)state;
	memset(pad, 0, sizeof pad);
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	v2_tlv(&v, 0x04, pad, 4096 - 12 - 3);
	v2_end(&v);
	assert_int_equal(v.len, PROXY_HEADER_MAX);
	assert_int_equal(parse(v.b, 16, PROXY_V2, PROXY_MORE, &h),
	    PROXY_HEADER_MAX);
	assert_int_equal(parse(v.b, v.len, PROXY_V2, PROXY_DONE, &h),
	    PROXY_HEADER_MAX);
}

/*
 * Feed growing prefixes of a header: MORE until it is all in, with *need
 * never past its end for v2 and len + 1 for v1; DONE exactly at the end.
 * Then read only what *need asks, as the daemon does.
 */
static void
splits(const uint8_t *b, size_t total, int accept, int version)
{
	struct proxy_header	h;
	size_t			k, need, len;
	int			rounds = 0;

	for (k = 0; k < total; k++) {
		need = parse(b, k, accept, PROXY_MORE, &h);
		if (version == 1)
			assert_int_equal(need, k + 1);
		else {
			assert_true(need <= total);
			if (k < 16)
				assert_true(need == 16 || (accept != PROXY_V2 &&
				    need == k + 1));
			else
				assert_int_equal(need, total);
		}
	}
	assert_int_equal(parse(b, total, accept, PROXY_DONE, &h), total);
	for (len = 0; ; len = need) {
		assert_true(++rounds <= 200);
		if (len == total) {
			parse(b, len, accept, PROXY_DONE, &h);
			break;
		}
		need = parse(b, len, accept, PROXY_MORE, &h);
		assert_true(need <= total);
	}
}

static void
test_split_every_byte(void **state)
{
	const char	v1a[] = "PROXY TCP4 192.0.2.1 198.51.100.2 5555 1234\r\n";
	const char	v1b[] = "PROXY UNKNOWN\r\n";
	const char	v1c[] = "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n";
	struct v2	v;
	size_t		off;

	(void)state;
	splits((const uint8_t *)v1a, sizeof v1a - 1, PROXY_V1, 1);
	splits((const uint8_t *)v1a, sizeof v1a - 1, PROXY_ANY, 1);
	splits((const uint8_t *)v1b, sizeof v1b - 1, PROXY_ANY, 1);
	splits((const uint8_t *)v1c, sizeof v1c - 1, PROXY_V1, 1);
	v2_start(&v, 0x21, 0x11);
	v2_tcp4(&v);
	off = v2_tlv(&v, 0x03, "\0\0\0\0", 4);
	v2_end(&v);
	v2_crc(&v, off);
	splits(v.b, v.len, PROXY_V2, 2);
	splits(v.b, v.len, PROXY_ANY, 2);
	v2_start(&v, 0x20, 0x00);
	v2_end(&v);
	splits(v.b, v.len, PROXY_V2, 2);
	splits(v.b, v.len, PROXY_ANY, 2);
}

/* Build src -> dst, parse it back and compare. */
static void
round_trip(int version, int family, const char *a, unsigned ap, const char *b,
    unsigned bp)
{
	struct sockaddr_storage	 s, d;
	struct proxy_header	 h;
	uint8_t			 buf[PROXY_V1_MAX + 1];
	size_t			 n;

	memset(&s, 0, sizeof s);
	memset(&d, 0, sizeof d);
	s.ss_family = d.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		inet_pton(AF_INET, a, &((struct sockaddr_in *)&s)->sin_addr);
		inet_pton(AF_INET, b, &((struct sockaddr_in *)&d)->sin_addr);
		((struct sockaddr_in *)&s)->sin_port = htons((uint16_t)ap);
		((struct sockaddr_in *)&d)->sin_port = htons((uint16_t)bp);
	} else {
		inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)&s)->sin6_addr);
		inet_pton(AF_INET6, b, &((struct sockaddr_in6 *)&d)->sin6_addr);
		((struct sockaddr_in6 *)&s)->sin6_port = htons((uint16_t)ap);
		((struct sockaddr_in6 *)&d)->sin6_port = htons((uint16_t)bp);
	}
	n = proxy_build(version, (struct sockaddr *)&s, (struct sockaddr *)&d,
	    buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(parse(buf, n, version, PROXY_DONE, &h), n);
	assert_int_equal(h.version, version);
	assert_int_equal(h.local, 0);
	assert_addr(&h.src, family, a, ap);
	assert_addr(&h.dst, family, b, bp);
	/* Too small a buffer: nothing. */
	assert_int_equal(proxy_build(version, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, n - 1), 0);
}

static void
test_build_round_trip(void **state)
{
	(void)state;
	round_trip(PROXY_V1, AF_INET, "127.0.0.1", 40000, "127.0.0.2", 1234);
	round_trip(PROXY_V2, AF_INET, "127.0.0.1", 40000, "127.0.0.2", 1234);
	round_trip(PROXY_V1, AF_INET, "255.255.255.255", 65535, "0.0.0.0", 0);
	round_trip(PROXY_V1, AF_INET6, "::1", 1, "::1", 1234);
	round_trip(PROXY_V2, AF_INET6, "::1", 1, "::1", 1234);
	round_trip(PROXY_V1, AF_INET6,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
	round_trip(PROXY_V2, AF_INET6, "2001:db8::1", 5, "::ffff:1.2.3.4", 6);
}

static void
test_build_exact_bytes(void **state)
{
	struct sockaddr_in	s, d;
	struct sockaddr_in6	s6;
	uint8_t			buf[PROXY_V1_MAX];
	const uint8_t		want[] = SIG "\x21\x11\x00\x0c"
				    "\x7f\x00\x00\x01\x7f\x00\x00\x02"
				    "\x9c\x40\x04\xd2";

	(void)state;
	memset(&s, 0, sizeof s);
	memset(&d, 0, sizeof d);
	s.sin_family = d.sin_family = AF_INET;
	s.sin_addr.s_addr = htonl(0x7f000001);
	d.sin_addr.s_addr = htonl(0x7f000002);
	s.sin_port = htons(40000);
	d.sin_port = htons(1234);
	assert_int_equal(proxy_build(PROXY_V1, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, sizeof buf), 43);
	assert_memory_equal(buf, "PROXY TCP4 127.0.0.1 127.0.0.2 40000 "
	    "1234\r\n", 43);
	assert_int_equal(proxy_build(PROXY_V2, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, sizeof buf), 28);
	assert_memory_equal(buf, want, 28);
	/* Mixed families or an unknown version: nothing. */
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	assert_int_equal(proxy_build(PROXY_V2, (struct sockaddr *)&s6,
	    (struct sockaddr *)&d, buf, sizeof buf), 0);
	assert_int_equal(proxy_build(3, (struct sockaddr *)&s,
	    (struct sockaddr *)&d, buf, sizeof buf), 0);
}

static void
test_crc32c_vector(void **state)
{
	(void)state;
	assert_int_equal(proxy_crc32c((const uint8_t *)"123456789", 9),
	    0xe3069283);
	assert_int_equal(proxy_crc32c((const uint8_t *)"", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros. */
	assert_int_equal(proxy_crc32c((const uint8_t *)
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
	    32), 0x8a9136aa);
}

/* A prefix from text, as the config would make it. */
static struct addr_prefix
prefix(int family, const char *addr, int bits)
{
	struct addr_prefix	p;

	memset(&p, 0, sizeof p);
	p.family = family;
	p.bits = bits;
	inet_pton(family, addr, p.addr);
	return (p);
}

/* Whether addr (v4 or v6 text) is trusted by the n prefixes. */
static int
trusted(const char *addr, const struct addr_prefix *p, size_t n)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	return (proxy_trusted((struct sockaddr *)&ss, p, n));
}

static void
test_trusted_prefixes(void **state)
{
	struct addr_prefix	p[4];
	struct sockaddr		unix_sa;

	(void)state;
	p[0] = prefix(AF_INET, "127.0.0.0", 8);
	p[1] = prefix(AF_INET6, "::1", 128);
	p[2] = prefix(AF_INET, "192.0.2.128", 25);
	p[3] = prefix(AF_INET6, "2001:db8::", 33);
	assert_true(trusted("127.0.0.1", p, 4));
	assert_true(trusted("127.255.255.255", p, 4));
	assert_false(trusted("128.0.0.1", p, 4));
	assert_true(trusted("::1", p, 4));
	assert_false(trusted("::2", p, 4));
	assert_true(trusted("192.0.2.200", p, 4));
	assert_false(trusted("192.0.2.127", p, 4));
	assert_true(trusted("2001:db8:7fff::1", p, 4));
	assert_false(trusted("2001:db8:8000::1", p, 4));
	/* An IPv4-mapped address matches the IPv4 prefixes. */
	assert_true(trusted("::ffff:127.0.0.1", p, 4));
	assert_true(trusted("::ffff:192.0.2.129", p, 4));
	assert_false(trusted("::ffff:10.0.0.1", p, 4));
	/* ...but an IPv4 address is not inside an IPv6 prefix. */
	assert_false(trusted("0.0.0.1", p + 1, 1));
	/* No prefixes, no trust; /0 trusts its whole family. */
	assert_false(trusted("127.0.0.1", p, 0));
	p[0] = prefix(AF_INET, "0.0.0.0", 0);
	assert_true(trusted("203.0.113.9", p, 1));
	assert_false(trusted("2001:db8::1", p, 1));
	memset(&unix_sa, 0, sizeof unix_sa);
	unix_sa.sa_family = AF_UNIX;
	assert_false(proxy_trusted(&unix_sa, p, 1));
}

static void
test_mode_names(void **state)
{
	const char	*names[] = { "none", "v1", "v2", "any" };
	int		 i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(proxy_mode_parse(names[i]), i);
		assert_string_equal(proxy_mode_name(i), names[i]);
	}
	assert_int_equal(PROXY_NONE, 0);
	assert_int_equal(PROXY_ANY, 3);
	assert_int_equal(proxy_mode_parse("v3"), -1);
	assert_int_equal(proxy_mode_parse("V1"), -1);
	assert_int_equal(proxy_mode_parse(""), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_tcp4_fields),
		cmocka_unit_test(test_v1_tcp6_fields),
		cmocka_unit_test(test_v1_unknown_is_local),
		cmocka_unit_test(test_v1_malformed),
		cmocka_unit_test(test_wrong_version_for_listener),
		cmocka_unit_test(test_signature_refused_early),
		cmocka_unit_test(test_v2_tcp4_fields),
		cmocka_unit_test(test_v2_tcp6_fields),
		cmocka_unit_test(test_v2_local),
		cmocka_unit_test(test_v2_nlb_local_84),
		cmocka_unit_test(test_v2_haproxy_local_tlvs),
		cmocka_unit_test(test_v2_tlvs_and_crc),
		cmocka_unit_test(test_v2_malformed),
		cmocka_unit_test(test_v2_length_4096),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_build_round_trip),
		cmocka_unit_test(test_build_exact_bytes),
		cmocka_unit_test(test_crc32c_vector),
		cmocka_unit_test(test_trusted_prefixes),
		cmocka_unit_test(test_mode_names),
	};

	return (cmocka_run_group_tests_name("proxy", tests, NULL, NULL));
}
