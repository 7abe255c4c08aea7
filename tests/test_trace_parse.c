/*
 * test_trace_parse.c - unit tests for seqecho-trace's segment parser
 * (src/trace-parse.c): each link type (lo and Ethernet, VLAN, raw IP,
 * BSD loopback, Linux cooked v1 and v2), IPv4 and IPv6 with extension
 * headers, TCP options, what is not TCP, and every truncation.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "trace.h"

struct frame {
	uint8_t	 b[512];
	size_t	 n;
};

/* Append bytes to a frame. */
static void
put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof f->b);
	if (n == 0)
		return;
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

/* A TCP header: ports 41000 -> 1234, seq, ack, flags, options, payload. */
static void
put_tcp(struct frame *f, uint8_t flags, const uint8_t *opt, size_t optlen,
    const char *payload)
{
	uint8_t	h[20] = {
		0xa0, 0x28, 0x04, 0xd2,		/* 41000, 1234 */
		0x11, 0x22, 0x33, 0x44,		/* seq */
		0x55, 0x66, 0x77, 0x88,		/* ack */
		0, 0, 0xff, 0xd7,		/* offset, flags, win 65495 */
		0, 0, 0, 0
	};

	h[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	h[13] = flags;
	put(f, h, sizeof h);
	put(f, opt, optlen);
	put(f, payload, strlen(payload));
}

/* An IPv4 header for a TCP segment of len bytes, 127.0.0.1 -> 127.0.0.2. */
static void
put_ipv4(struct frame *f, size_t len, uint16_t frag)
{
	uint8_t	h[20] = { 0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0,
	    127, 0, 0, 1, 127, 0, 0, 2 };

	h[2] = (uint8_t)((len + 20) >> 8);
	h[3] = (uint8_t)(len + 20);
	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	put(f, h, sizeof h);
}

/* An IPv6 header, ::1 -> ::1, with a hop-by-hop header if hbh. */
static void
put_ipv6(struct frame *f, size_t len, int hbh)
{
	uint8_t	h[40] = { 0x60, 0, 0, 0, 0, 0, 6, 64 };
	uint8_t	ext[8] = { 6, 0, 1, 4, 0, 0, 0, 0 };

	len += hbh ? 8 : 0;
	h[4] = (uint8_t)(len >> 8);
	h[5] = (uint8_t)len;
	h[6] = hbh ? 0 : 6;
	h[23] = 1;
	h[39] = 1;
	put(f, h, sizeof h);
	if (hbh)
		put(f, ext, sizeof ext);
}

static const uint8_t syn_opts[] = {
	2, 4, 0xff, 0xd7,	/* mss 65495 */
	4, 2,			/* sackOK */
	8, 10, 0, 0, 0, 1, 0, 0, 0, 0,	/* timestamps */
	1,			/* nop */
	3, 3, 7			/* wscale 7 */
};

/* Ethernet, IPv4, a SYN with the options of Linux's. */
static void
eth_v4_syn(struct frame *f)
{
	uint8_t	eth[14] = { 0 };

	eth[12] = 0x08;
	put(f, eth, sizeof eth);
	put_ipv4(f, 20 + sizeof syn_opts, 0x4000);
	put_tcp(f, TCPF_SYN, syn_opts, sizeof syn_opts, "");
}

static void
test_ethernet_ipv4_syn(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;

	(void)state;
	eth_v4_syn(&f);
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_TCP);
	assert_int_equal(s.family, AF_INET);
	assert_int_equal(s.src[0], 127);
	assert_int_equal(s.dst[3], 2);
	assert_int_equal(s.sport, 41000);
	assert_int_equal(s.dport, 1234);
	assert_int_equal(s.seq, 0x11223344);
	assert_int_equal(s.ack, 0x55667788);
	assert_int_equal(s.flags, TCPF_SYN);
	assert_int_equal(s.win, 65495);
	assert_int_equal(s.mss, 65495);
	assert_int_equal(s.wscale, 7);
	assert_int_equal(s.sackok, 1);
	assert_int_equal(s.len, 0);
}

static void
test_payload_and_padding(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;
	uint8_t			eth[14] = { [12] = 0x08 }, pad[8] = { 0 };

	(void)state;
	put(&f, eth, sizeof eth);
	put_ipv4(&f, 20 + 3, 0);
	put_tcp(&f, TCPF_PSH | TCPF_ACK, NULL, 0, "hi\n");
	put(&f, pad, sizeof pad);	/* Ethernet's minimum frame */
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_TCP);
	assert_int_equal(s.len, 3);
	assert_int_equal(s.caplen, 3);
	assert_memory_equal(s.payload, "hi\n", 3);
	assert_int_equal(s.mss, -1);
	assert_int_equal(s.wscale, -1);
	assert_int_equal(s.sackok, 0);
	/* A snapshot length that cut the payload: the length is the IP's. */
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n - 10, &s), TRACE_TCP);
	assert_int_equal(s.len, 3);
	assert_int_equal(s.caplen, 1);
}

static void
test_vlan(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;
	uint8_t			eth[18] = { [12] = 0x81, [13] = 0, [14] = 0,
				    [15] = 5, [16] = 0x08, [17] = 0 };

	(void)state;
	put(&f, eth, sizeof eth);
	put_ipv4(&f, 20, 0);
	put_tcp(&f, TCPF_ACK, NULL, 0, "");
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_TCP);
	assert_int_equal(s.dport, 1234);
}

static void
test_ipv6_and_extension_header(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;
	uint8_t			eth[14] = { [12] = 0x86, [13] = 0xdd };
	int			hbh;

	(void)state;
	for (hbh = 0; hbh < 2; hbh++) {
		f.n = 0;
		put(&f, eth, sizeof eth);
		put_ipv6(&f, 20 + 5, hbh);
		put_tcp(&f, TCPF_PSH | TCPF_ACK, NULL, 0, "six!\n");
		assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s),
		    TRACE_TCP);
		assert_int_equal(s.family, AF_INET6);
		assert_int_equal(s.src[15], 1);
		assert_int_equal(s.len, 5);
		assert_memory_equal(s.payload, "six!\n", 5);
	}
}

static void
test_linux_cooked(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;
	uint8_t			sll[16] = { [14] = 0x08 };
	uint8_t			sll2[20] = { [0] = 0x86, [1] = 0xdd };

	(void)state;
	put(&f, sll, sizeof sll);
	put_ipv4(&f, 20, 0);
	put_tcp(&f, TCPF_FIN | TCPF_ACK, NULL, 0, "");
	assert_int_equal(trace_parse(DLT_LINUX_SLL, f.b, f.n, &s), TRACE_TCP);
	assert_int_equal(s.flags, TCPF_FIN | TCPF_ACK);
	f.n = 0;
	put(&f, sll2, sizeof sll2);
	put_ipv6(&f, 20, 0);
	put_tcp(&f, TCPF_RST, NULL, 0, "");
	assert_int_equal(trace_parse(DLT_LINUX_SLL2, f.b, f.n, &s), TRACE_TCP);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(s.flags, TCPF_RST);
}

static void
test_raw_and_null(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;
	uint8_t			null[4] = { 2, 0, 0, 0 };

	(void)state;
	put_ipv4(&f, 20, 0);
	put_tcp(&f, TCPF_ACK, NULL, 0, "");
	assert_int_equal(trace_parse(DLT_RAW, f.b, f.n, &s), TRACE_TCP);
	assert_int_equal(trace_parse(DLT_IPV4, f.b, f.n, &s), TRACE_TCP);
	/* Raw link types are told apart by the IP header's version. */
	assert_int_equal(trace_parse(DLT_IPV6, f.b, f.n, &s), TRACE_TCP);
	f.n = 0;
	put(&f, null, sizeof null);
	put_ipv4(&f, 20, 0);
	put_tcp(&f, TCPF_ACK, NULL, 0, "");
	assert_int_equal(trace_parse(DLT_NULL, f.b, f.n, &s), TRACE_TCP);
	assert_int_equal(trace_parse(12345, f.b, f.n, &s), TRACE_OTHER);
}

static void
test_not_tcp(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;
	uint8_t			arp[42] = { [12] = 0x08, [13] = 0x06 };

	(void)state;
	assert_int_equal(trace_parse(DLT_EN10MB, arp, sizeof arp, &s),
	    TRACE_OTHER);
	put_ipv4(&f, 20, 0);
	put_tcp(&f, TCPF_ACK, NULL, 0, "");
	f.b[9] = 17;	/* UDP */
	assert_int_equal(trace_parse(DLT_RAW, f.b, f.n, &s), TRACE_OTHER);
	f.b[9] = 6;
	f.b[7] = 8;	/* a later fragment */
	assert_int_equal(trace_parse(DLT_RAW, f.b, f.n, &s), TRACE_OTHER);
	f.b[7] = 0;
	f.b[6] = 0x20;	/* a first fragment, with more to come */
	assert_int_equal(trace_parse(DLT_RAW, f.b, f.n, &s), TRACE_OTHER);
	f.n = 0;
	put_ipv6(&f, 20, 0);
	put_tcp(&f, TCPF_ACK, NULL, 0, "");
	f.b[6] = 44;	/* a fragment header */
	assert_int_equal(trace_parse(DLT_RAW, f.b, f.n, &s), TRACE_OTHER);
}

static void
test_malformed(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;

	(void)state;
	eth_v4_syn(&f);
	f.b[14 + 20 + 12] = 0x40;	/* data offset 16: under 20 */
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_BAD);
	f.n = 0;
	eth_v4_syn(&f);
	f.b[14 + 20 + 12] = 0xf0;	/* data offset 60: past the segment */
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_BAD);
	f.n = 0;
	eth_v4_syn(&f);
	f.b[14 + 20 + 20 + 1] = 40;	/* an option longer than them all */
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_BAD);
	f.n = 0;
	eth_v4_syn(&f);
	f.b[14] = 0x44;			/* IHL 4 */
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_BAD);
	f.n = 0;
	eth_v4_syn(&f);
	f.b[14 + 2] = 0;
	f.b[14 + 3] = 30;		/* total length under the headers */
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_BAD);
}

/* Every prefix of every frame parses as TCP, something else, or BAD. */
static void
test_every_truncation(void **state)
{
	struct frame		f = { .n = 0 };
	struct trace_seg	s;
	uint8_t			*copy;
	size_t			 n;
	int			 r;

	(void)state;
	eth_v4_syn(&f);
	for (n = 0; n < f.n; n++) {
		/* Its own allocation, so a sanitizer sees a read past it. */
		copy = malloc(n + 1);
		memcpy(copy, f.b, n);
		r = trace_parse(DLT_EN10MB, copy, n, &s);
		assert_int_equal(r, TRACE_BAD);
		free(copy);
	}
	assert_int_equal(trace_parse(DLT_EN10MB, f.b, f.n, &s), TRACE_TCP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4_syn),
		cmocka_unit_test(test_payload_and_padding),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_ipv6_and_extension_header),
		cmocka_unit_test(test_linux_cooked),
		cmocka_unit_test(test_raw_and_null),
		cmocka_unit_test(test_not_tcp),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_truncation),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
