/*
 * trace-parse.c - a TCP segment from one captured frame, pure: the link
 * layers of lo, Ethernet, raw IP and Linux cooked captures (any), IPv4 and
 * IPv6 with extension headers, TCP options. Truncated or malformed frames
 * are TRACE_BAD, never read past their captured length.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <pcap/dlt.h>
#include <stdint.h>
#include <string.h>

#include "trace.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8
#define IPPROTO_TCP_	6
#define TCP_HDR_MIN	20

static uint16_t	 be16(const uint8_t *);
static uint32_t	 be32(const uint8_t *);
static int	 link_skip(int, const uint8_t *, size_t, size_t *, int *);
static int	 ethernet(const uint8_t *, size_t, size_t *, int *);
static int	 ipv4(const uint8_t *, size_t, struct trace_seg *, size_t *,
		     size_t *);
static int	 ipv6(const uint8_t *, size_t, struct trace_seg *, size_t *,
		     size_t *);
static int	 tcp(const uint8_t *, size_t, size_t, struct trace_seg *);
static int	 tcp_options(const uint8_t *, size_t, struct trace_seg *);

/* A big-endian 16-bit number. */
static uint16_t
be16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

/* A big-endian 32-bit number. */
static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* An Ethernet header and its VLAN tags: the offset and the ethertype. */
static int
ethernet(const uint8_t *p, size_t caplen, size_t *off, int *type)
{
	size_t	o = 12;
	int	tags = 0;

	for (;;) {
		if (caplen < o + 2)
			return (TRACE_BAD);
		*type = be16(p + o);
		o += 2;
		if ((*type != ETHERTYPE_VLAN && *type != ETHERTYPE_QINQ) ||
		    ++tags > 2)
			break;
		o += 2;
	}
	*off = o;
	return (TRACE_TCP);
}

/*
 * Skip the link layer: *off where the IP header begins, *type its
 * ethertype (0: read the version from the IP header).
 */
static int
link_skip(int linktype, const uint8_t *p, size_t caplen, size_t *off,
    int *type)
{
	*type = 0;
	switch (linktype) {
	case DLT_EN10MB:
		return (ethernet(p, caplen, off, type));
	case DLT_NULL:
		*off = 4;	/* the host-order family, read from the IP */
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*off = 0;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return (TRACE_BAD);
		*type = be16(p + 14);
		*off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return (TRACE_BAD);
		*type = be16(p);
		*off = 20;
		break;
	default:
		return (TRACE_OTHER);
	}
	return (caplen < *off ? TRACE_BAD : TRACE_TCP);
}

/* An IPv4 header: the addresses, where TCP begins and how long it is. */
static int
ipv4(const uint8_t *p, size_t caplen, struct trace_seg *s, size_t *off,
    size_t *len)
{
	size_t	hl, total;

	if (caplen < 20)
		return (TRACE_BAD);
	hl = (size_t)(p[0] & 0x0f) * 4;
	total = be16(p + 2);
	if (hl < 20 || caplen < hl || total < hl)
		return (TRACE_BAD);
	if (p[9] != IPPROTO_TCP_)
		return (TRACE_OTHER);
	/* A later fragment has no TCP header; a first one, not all of it. */
	if ((be16(p + 6) & 0x1fff) != 0 || (be16(p + 6) & 0x2000) != 0)
		return (TRACE_OTHER);
	s->family = AF_INET;
	memset(s->src, 0, sizeof s->src);
	memset(s->dst, 0, sizeof s->dst);
	memcpy(s->src, p + 12, 4);
	memcpy(s->dst, p + 16, 4);
	*off = hl;
	*len = total - hl;
	return (TRACE_TCP);
}

/* An IPv6 header and its extension headers, as ipv4(). */
static int
ipv6(const uint8_t *p, size_t caplen, struct trace_seg *s, size_t *off,
    size_t *len)
{
	size_t	o = 40, plen, hl;
	int	next, n;

	if (caplen < 40)
		return (TRACE_BAD);
	plen = be16(p + 4);
	next = p[6];
	for (n = 0; next != IPPROTO_TCP_; n++) {
		/* Hop-by-hop, routing, destination options. */
		/* Anything else (a fragment, UDP, ICMPv6) is not ours. */
		if (next != 0 && next != 43 && next != 60)
			return (TRACE_OTHER);
		if (n == 8)
			return (TRACE_BAD);
		if (caplen < o + 8)
			return (TRACE_BAD);
		hl = ((size_t)p[o + 1] + 1) * 8;
		next = p[o];
		o += hl;
		if (o - 40 > plen)
			return (TRACE_BAD);
	}
	s->family = AF_INET6;
	memcpy(s->src, p + 8, 16);
	memcpy(s->dst, p + 24, 16);
	*off = o;
	*len = plen - (o - 40);
	return (TRACE_TCP);
}

/* The options of a TCP header: MSS, window scale, SACK permitted. */
static int
tcp_options(const uint8_t *p, size_t n, struct trace_seg *s)
{
	size_t	i = 0, olen;

	while (i < n) {
		if (p[i] == 0)		/* end of options */
			break;
		if (p[i] == 1) {	/* no-op */
			i++;
			continue;
		}
		if (i + 1 >= n || (olen = p[i + 1]) < 2 || i + olen > n)
			return (TRACE_BAD);
		if (p[i] == 2 && olen == 4)
			s->mss = be16(p + i + 2);
		else if (p[i] == 3 && olen == 3)
			s->wscale = p[i + 2];
		else if (p[i] == 4 && olen == 2)
			s->sackok = 1;
		i += olen;
	}
	return (TRACE_TCP);
}

/* A TCP header of a segment len bytes long, caplen of them captured. */
static int
tcp(const uint8_t *p, size_t caplen, size_t len, struct trace_seg *s)
{
	size_t	hl;

	if (caplen < TCP_HDR_MIN || len < TCP_HDR_MIN)
		return (TRACE_BAD);
	hl = (size_t)(p[12] >> 4) * 4;
	if (hl < TCP_HDR_MIN || hl > len || hl > caplen)
		return (TRACE_BAD);
	s->sport = be16(p);
	s->dport = be16(p + 2);
	s->seq = be32(p + 4);
	s->ack = be32(p + 8);
	s->flags = p[13];
	s->win = be16(p + 14);
	s->mss = s->wscale = -1;
	s->sackok = 0;
	if (tcp_options(p + TCP_HDR_MIN, hl - TCP_HDR_MIN, s) != TRACE_TCP)
		return (TRACE_BAD);
	s->len = (uint32_t)(len - hl);
	s->payload = p + hl;
	s->caplen = caplen - hl < s->len ? caplen - hl : s->len;
	return (TRACE_TCP);
}

/*
 * Parse one frame of the given link type (DLT_*), caplen bytes of it
 * captured, into *s: TRACE_TCP, TRACE_OTHER for anything but TCP, or
 * TRACE_BAD. s->payload points into the frame.
 */
int
trace_parse(int linktype, const uint8_t *p, size_t caplen,
    struct trace_seg *s)
{
	size_t	off, ipoff, len;
	int	type, r;

	memset(s, 0, sizeof *s);
	if ((r = link_skip(linktype, p, caplen, &off, &type)) != TRACE_TCP)
		return (r);
	p += off;
	caplen -= off;
	if (type == 0 && caplen > 0)
		type = (p[0] >> 4) == 6 ? ETHERTYPE_IPV6 :
		    (p[0] >> 4) == 4 ? ETHERTYPE_IPV4 : -1;
	if (type == ETHERTYPE_IPV4)
		r = ipv4(p, caplen, s, &ipoff, &len);
	else if (type == ETHERTYPE_IPV6)
		r = ipv6(p, caplen, s, &ipoff, &len);
	else
		return (caplen == 0 ? TRACE_BAD : TRACE_OTHER);
	if (r != TRACE_TCP)
		return (r);
	if (ipoff > caplen)
		return (TRACE_BAD);
	/* Ethernet pads short frames: the IP length says where TCP ends. */
	caplen -= ipoff;
	if (caplen > len)
		caplen = len;
	if ((type == ETHERTYPE_IPV4 && (p[0] >> 4) != 4) ||
	    (type == ETHERTYPE_IPV6 && (p[0] >> 4) != 6))
		return (TRACE_BAD);
	return (tcp(p + ipoff, caplen, len, s));
}
