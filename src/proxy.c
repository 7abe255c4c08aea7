/*
 * proxy.c - the PROXY protocol header, versions 1 and 2, parsed and built
 * as HAProxy's proxy-protocol.txt specifies. Pure: the caller owns the
 * socket and reads what *need asks for; nothing here allocates or blocks.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Strict, as the spec asks of a receiver: the header is required, nothing
 * is guessed, and a connection whose first bytes can no longer become a
 * valid header is refused as soon as those bytes are in.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "seqecho.h"
#include "proxy.h"

/* The v2 signature, the first 12 bytes of every v2 header. */
static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1_sig[] = "PROXY ";
#define V1_SIGLEN	(sizeof v1_sig - 1)

#define V2_CMD_LOCAL	0x20
#define V2_CMD_PROXY	0x21
#define V2_FAM_UNSPEC	0x00
#define V2_FAM_TCP4	0x11
#define V2_FAM_TCP6	0x21
#define V2_ADDR_TCP4	12
#define V2_ADDR_TCP6	36
#define V2_TLV_CRC32C	0x03

/* Whether a TLV walk of the block found it well formed, and the CRC. */
enum tlv_walk {
	TLV_OK,
	TLV_MALFORMED,
	TLV_CRC_BAD
};

static enum proxy_status v1_parse(const uint8_t *, size_t,
		    struct proxy_header *, size_t *, size_t *, const char **);
static int	v1_fields(char *, struct proxy_header *, const char **);
static int	v1_port(const char *, uint16_t *);
static int	v1_addr(int, const char *, uint16_t, struct sockaddr_storage *);
static enum proxy_status v2_parse(const uint8_t *, size_t,
		    struct proxy_header *, size_t *, size_t *, const char **);
static const char *v2_family_why(uint8_t);
static enum tlv_walk v2_tlvs(const uint8_t *, size_t, size_t);
static void	v2_addrs(const uint8_t *, int, struct proxy_header *);
static int	prefix_match(const uint8_t *, const struct addr_prefix *,
		    size_t);
static enum proxy_status bad(const char **, const char *);

/* Set *why and say so. */
static enum proxy_status
bad(const char **why, const char *what)
{
	*why = what;
	return (PROXY_BAD);
}

/* Whether the len bytes at buf are a prefix of the n bytes of sig. */
static int
is_prefix(const uint8_t *buf, size_t len, const void *sig, size_t n)
{
	return (memcmp(buf, sig, len < n ? len : n) == 0);
}

/* Parse the start of a connection, v1 or v2 as accept allows. */
enum proxy_status
proxy_parse(const uint8_t *buf, size_t len, int accept,
    struct proxy_header *h, size_t *need, size_t *used, const char **why)
{
	int	v1, v2;

	if (len == 0) {
		/* v1's first byte alone tells the two apart. */
		*need = accept == PROXY_V2 ? PROXY_V2_FIXED : 1;
		return (PROXY_MORE);
	}
	v1 = is_prefix(buf, len, v1_sig, V1_SIGLEN);
	v2 = is_prefix(buf, len, v2_sig, sizeof v2_sig);
	if (accept == PROXY_V1 && v2 && len >= sizeof v2_sig)
		return (bad(why, "v2 header on a v1 listener"));
	if (accept == PROXY_V2 && v1 && len >= V1_SIGLEN)
		return (bad(why, "v1 header on a v2 listener"));
	if (accept == PROXY_V1 && v2) {
		/* Read on to the end of the signature, to say which. */
		*need = len + 1;
		return (PROXY_MORE);
	}
	if (accept == PROXY_V2 && v1) {
		*need = PROXY_V2_FIXED;
		return (PROXY_MORE);
	}
	if (v1 && accept != PROXY_V2)
		return (v1_parse(buf, len, h, need, used, why));
	if (v2 && accept != PROXY_V1)
		return (v2_parse(buf, len, h, need, used, why));
	return (bad(why, "bad signature"));
}

/* v1: a line of at most 107 bytes, read up to its LF. */
static enum proxy_status
v1_parse(const uint8_t *buf, size_t len, struct proxy_header *h,
    size_t *need, size_t *used, const char **why)
{
	char		 line[PROXY_V1_MAX + 1];
	size_t		 n, i;

	/* Refuse as soon as a byte shows this cannot be a v1 line. */
	n = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	for (i = 0; i < n && buf[i] != '\n'; i++) {
		if (buf[i] == '\r') {
			if (i + 1 < len && buf[i + 1] != '\n')
				return (bad(why, "v1 header without CRLF"));
		} else if (buf[i] < 0x20 || buf[i] > 0x7e)
			return (bad(why, "v1 header with a control byte"));
	}
	if (i == n) {
		if (len >= PROXY_V1_MAX)
			return (bad(why, "v1 header over 107 bytes"));
		*need = len + 1;
		return (PROXY_MORE);
	}
	if (i == 0 || buf[i - 1] != '\r')
		return (bad(why, "v1 header without CRLF"));
	n = i - 1;
	memcpy(line, buf, n);
	line[n] = '\0';
	memset(h, 0, sizeof *h);
	h->version = 1;
	if (v1_fields(line + V1_SIGLEN, h, why) == -1)
		return (PROXY_BAD);
	*used = n + 2;
	return (PROXY_DONE);
}

/* "TCP4 SRC DST SPORT DPORT", "TCP6 ...", or "UNKNOWN[ anything]". */
static int
v1_fields(char *s, struct proxy_header *h, const char **why)
{
	char		*f[5], *sp;
	uint16_t	 sport, dport;
	int		 i, family;

	if (strncmp(s, "UNKNOWN", 7) == 0 && (s[7] == '\0' || s[7] == ' ')) {
		h->local = 1;
		return (0);
	}
	if (strncmp(s, "TCP4 ", 5) == 0)
		family = AF_INET;
	else if (strncmp(s, "TCP6 ", 5) == 0)
		family = AF_INET6;
	else {
		*why = "v1 header with a bad protocol";
		return (-1);
	}
	for (i = 0; i < 5; i++) {
		f[i] = s;
		sp = strchr(s, ' ');
		if ((sp == NULL) != (i == 4)) {
			*why = "v1 header with a wrong number of fields";
			return (-1);
		}
		if (sp != NULL) {
			*sp = '\0';
			s = sp + 1;
		}
	}
	if (v1_port(f[3], &sport) == -1 || v1_port(f[4], &dport) == -1) {
		*why = "v1 header with a bad port";
		return (-1);
	}
	if (v1_addr(family, f[1], sport, &h->src) == -1 ||
	    v1_addr(family, f[2], dport, &h->dst) == -1) {
		*why = "v1 header with a bad address";
		return (-1);
	}
	return (0);
}

/* A port: 0..65535 in decimal, digits only, no leading zero. */
static int
v1_port(const char *s, uint16_t *port)
{
	unsigned long	v = 0;
	size_t		i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

/* An address of the family, with its port, into ss. */
static int
v1_addr(int family, const char *s, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return (inet_pton(AF_INET, s, &sin->sin_addr) == 1 ? 0 : -1);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1 ? 0 : -1);
}

/* v2: exactly 16 bytes, then exactly 16 + length. */
static enum proxy_status
v2_parse(const uint8_t *buf, size_t len, struct proxy_header *h,
    size_t *need, size_t *used, const char **why)
{
	size_t		total, block = 0;
	uint8_t		cmd, fam;
	enum tlv_walk	w;

	if (len < PROXY_V2_FIXED) {
		*need = PROXY_V2_FIXED;
		return (PROXY_MORE);
	}
	cmd = buf[12];
	fam = buf[13];
	if ((cmd & 0xf0) != 0x20)
		return (bad(why, "bad version"));
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return (bad(why, "bad command"));
	total = PROXY_V2_FIXED + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXY_HEADER_MAX)
		return (bad(why, "length over 4096"));
	if (fam == V2_FAM_TCP4)
		block = V2_ADDR_TCP4;
	else if (fam == V2_FAM_TCP6)
		block = V2_ADDR_TCP6;
	else if (fam != V2_FAM_UNSPEC && cmd == V2_CMD_PROXY)
		return (bad(why, v2_family_why(fam)));
	if (total < PROXY_V2_FIXED + block && cmd == V2_CMD_PROXY)
		return (bad(why, "length too short for the addresses"));
	if (len < total) {
		*need = total;
		return (PROXY_MORE);
	}

	memset(h, 0, sizeof *h);
	h->version = 2;
	h->local = cmd == V2_CMD_LOCAL || fam == V2_FAM_UNSPEC;
	if (cmd == V2_CMD_LOCAL && (total < PROXY_V2_FIXED + block ||
	    (fam != V2_FAM_UNSPEC && block == 0)))
		block = total - PROXY_V2_FIXED;	/* opaque: nothing to walk */
	w = v2_tlvs(buf, PROXY_V2_FIXED + block, total);
	if (w == TLV_CRC_BAD)
		return (bad(why, "CRC32C mismatch"));
	/*
	 * The spec has a LOCAL block discarded whatever it holds (AWS NLB
	 * sends one of 84 bytes): only a PROXY block must walk cleanly.
	 */
	if (w == TLV_MALFORMED && cmd == V2_CMD_PROXY)
		return (bad(why, "malformed TLV"));
	if (!h->local)
		v2_addrs(buf + PROXY_V2_FIXED, fam, h);
	*used = total;
	return (PROXY_DONE);
}

/* Why a PROXY command's family is refused. */
static const char *
v2_family_why(uint8_t fam)
{
	if (fam == 0x12 || fam == 0x22)
		return ("unsupported family (UDP)");
	if (fam == 0x31 || fam == 0x32)
		return ("unsupported family (UNIX)");
	return ("bad family");
}

/* Walk the TLVs from off to total, verifying a CRC32C one. */
static enum tlv_walk
v2_tlvs(const uint8_t *buf, size_t off, size_t total)
{
	uint8_t		copy[PROXY_HEADER_MAX];
	size_t		n, crc_at = 0;
	uint32_t	want;

	while (off < total) {
		if (total - off < 3)
			return (TLV_MALFORMED);
		n = (size_t)buf[off + 1] << 8 | buf[off + 2];
		if (n > total - off - 3)
			return (TLV_MALFORMED);
		if (buf[off] == V2_TLV_CRC32C) {
			if (n != 4 || crc_at != 0)
				return (TLV_MALFORMED);
			crc_at = off + 3;
		}
		off += 3 + n;
	}
	if (crc_at == 0)
		return (TLV_OK);
	want = (uint32_t)buf[crc_at] << 24 | (uint32_t)buf[crc_at + 1] << 16 |
	    (uint32_t)buf[crc_at + 2] << 8 | buf[crc_at + 3];
	memcpy(copy, buf, total);
	memset(copy + crc_at, 0, 4);
	return (proxy_crc32c(copy, total) == want ? TLV_OK : TLV_CRC_BAD);
}

/* The addresses of a PROXY TCP4 or TCP6 block into h. */
static void
v2_addrs(const uint8_t *p, int fam, struct proxy_header *h)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&h->src;
	struct sockaddr_in	*d4 = (struct sockaddr_in *)&h->dst;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&h->src;
	struct sockaddr_in6	*d6 = (struct sockaddr_in6 *)&h->dst;

	if (fam == V2_FAM_TCP4) {
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p, 4);
		memcpy(&d4->sin_addr, p + 4, 4);
		memcpy(&s4->sin_port, p + 8, 2);
		memcpy(&d4->sin_port, p + 10, 2);
	} else {
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p, 16);
		memcpy(&d6->sin6_addr, p + 16, 16);
		memcpy(&s6->sin6_port, p + 32, 2);
		memcpy(&d6->sin6_port, p + 34, 2);
	}
}

/* Build a v1 or v2 PROXY header for src -> dst; 0 if it cannot. */
size_t
proxy_build(int version, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *buf, size_t size)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)src;
	const struct sockaddr_in	*d4 = (const struct sockaddr_in *)dst;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)src;
	const struct sockaddr_in6	*d6 = (const struct sockaddr_in6 *)dst;
	char				 a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int				 v4, n;
	size_t				 alen;

	if (src->sa_family != dst->sa_family || (src->sa_family != AF_INET &&
	    src->sa_family != AF_INET6))
		return (0);
	v4 = src->sa_family == AF_INET;
	if (version == PROXY_V1) {
		inet_ntop(src->sa_family, v4 ? (const void *)&s4->sin_addr :
		    (const void *)&s6->sin6_addr, a, sizeof a);
		inet_ntop(dst->sa_family, v4 ? (const void *)&d4->sin_addr :
		    (const void *)&d6->sin6_addr, b, sizeof b);
		n = snprintf((char *)buf, size, "PROXY %s %s %s %u %u\r\n",
		    v4 ? "TCP4" : "TCP6", a, b,
		    ntohs(v4 ? s4->sin_port : s6->sin6_port),
		    ntohs(v4 ? d4->sin_port : d6->sin6_port));
		return (n < 0 || (size_t)n >= size ? 0 : (size_t)n);
	}
	if (version != PROXY_V2)
		return (0);
	alen = v4 ? V2_ADDR_TCP4 : V2_ADDR_TCP6;
	if (size < PROXY_V2_FIXED + alen)
		return (0);
	memcpy(buf, v2_sig, sizeof v2_sig);
	buf[12] = V2_CMD_PROXY;
	buf[13] = v4 ? V2_FAM_TCP4 : V2_FAM_TCP6;
	buf[14] = 0;
	buf[15] = (uint8_t)alen;
	if (v4) {
		memcpy(buf + 16, &s4->sin_addr, 4);
		memcpy(buf + 20, &d4->sin_addr, 4);
		memcpy(buf + 24, &s4->sin_port, 2);
		memcpy(buf + 26, &d4->sin_port, 2);
	} else {
		memcpy(buf + 16, &s6->sin6_addr, 16);
		memcpy(buf + 32, &d6->sin6_addr, 16);
		memcpy(buf + 48, &s6->sin6_port, 2);
		memcpy(buf + 50, &d6->sin6_port, 2);
	}
	return (PROXY_V2_FIXED + alen);
}

/* CRC32C, bit by bit: it runs once per header that carries one. */
uint32_t
proxy_crc32c(const uint8_t *p, size_t n)
{
	uint32_t	crc = 0xffffffff;
	int		k;

	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78 & (0U - (crc & 1)));
	}
	return (~crc);
}

/* Whether the first bits of addr equal the prefix's. */
static int
prefix_match(const uint8_t *addr, const struct addr_prefix *p, size_t alen)
{
	size_t	full = (size_t)p->bits / 8;
	int	rest = p->bits % 8;
	uint8_t	mask;

	if (p->bits < 0 || (size_t)p->bits > alen * 8)
		return (0);
	if (memcmp(addr, p->addr, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	mask = (uint8_t)(0xff << (8 - rest));
	return ((addr[full] & mask) == (p->addr[full] & mask));
}

/* Whether sa is in one of the n prefixes; ::ffff:a.b.c.d counts as IPv4. */
int
proxy_trusted(const struct sockaddr *sa, const struct addr_prefix *p,
    size_t n)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	const uint8_t		*a4 = NULL, *a6 = NULL;
	size_t			 i;

	if (sa->sa_family == AF_INET)
		a4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a6, mapped, sizeof mapped) == 0)
			a4 = a6 + 12;
	} else
		return (0);
	for (i = 0; i < n; i++) {
		if (p[i].family == AF_INET && a4 != NULL &&
		    prefix_match(a4, &p[i], 4))
			return (1);
		if (p[i].family == AF_INET6 && a6 != NULL &&
		    prefix_match(a6, &p[i], 16))
			return (1);
	}
	return (0);
}

/* A mode's name, for the log. */
const char *
proxy_mode_name(int mode)
{
	switch (mode) {
	case PROXY_NONE:
		return ("none");
	case PROXY_V1:
		return ("v1");
	case PROXY_V2:
		return ("v2");
	case PROXY_ANY:
		return ("any");
	}
	return ("?");
}

/* A mode from its name; -1 when unknown. */
int
proxy_mode_parse(const char *s)
{
	if (strcmp(s, "none") == 0)
		return (PROXY_NONE);
	if (strcmp(s, "v1") == 0)
		return (PROXY_V1);
	if (strcmp(s, "v2") == 0)
		return (PROXY_V2);
	if (strcmp(s, "any") == 0)
		return (PROXY_ANY);
	return (-1);
}
