/*
 * bench-source.c - seqecho-bench's -b: a list of source addresses and
 * ranges (127.0.0.1-127.0.0.32, fd00::1-fd00::8) counted out into one
 * list, pure: tests/test_bench_source.c, tests/fuzz/fuzz_source.c.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-source.h"

#define SOURCE_TEXT_MAX		64	/* one address or range's text */

static int	parse_one(const char *, size_t, struct sockaddr_storage *);
static uint32_t	low32(const struct sockaddr_storage *, const unsigned char **,
		    size_t *);
static int	span(const struct sockaddr_storage *,
		    const struct sockaddr_storage *, uint32_t *);
static void	step(struct sockaddr_storage *, const struct sockaddr_storage *,
		    uint32_t);
static int	add_item(struct sources *, const char *, size_t, char *,
		    size_t);

/* One numeric address, v4 or v6, from s[0..len). */
static int
parse_one(const char *s, size_t len, struct sockaddr_storage *ss)
{
	char			 buf[SOURCE_TEXT_MAX];
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	if (len == 0 || len >= sizeof buf)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return (0);
	}
	return (-1);
}

/* The last 32 bits of an address, and the bytes before them. */
static uint32_t
low32(const struct sockaddr_storage *ss, const unsigned char **high,
    size_t *hlen)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)ss;
	uint32_t			 v;

	if (ss->ss_family == AF_INET) {
		*high = NULL;
		*hlen = 0;
		return (ntohl(sin->sin_addr.s_addr));
	}
	*high = sin6->sin6_addr.s6_addr;
	*hlen = 12;
	memcpy(&v, sin6->sin6_addr.s6_addr + 12, sizeof v);
	return (ntohl(v));
}

/* How many addresses from a to b, less one; -1 if not a range. */
static int
span(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
    uint32_t *n)
{
	const unsigned char	*ha, *hb;
	size_t			 la, lb;
	uint32_t		 va, vb;

	if (a->ss_family != b->ss_family)
		return (-1);
	va = low32(a, &ha, &la);
	vb = low32(b, &hb, &lb);
	if (la != lb || (la > 0 && memcmp(ha, hb, la) != 0) || vb < va)
		return (-1);
	*n = vb - va;
	return (0);
}

/* *to is from, k addresses on. */
static void
step(struct sockaddr_storage *to, const struct sockaddr_storage *from,
    uint32_t k)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)to;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)to;
	const unsigned char	*h;
	size_t			 hl;
	uint32_t		 v = low32(from, &h, &hl) + k;

	*to = *from;
	v = htonl(v);
	if (to->ss_family == AF_INET)
		sin->sin_addr.s_addr = v;
	else
		memcpy(sin6->sin6_addr.s6_addr + 12, &v, sizeof v);
}

/* One item of the list, an address or a range, appended to l. */
static int
add_item(struct sources *l, const char *s, size_t len, char *err,
    size_t errlen)
{
	struct sockaddr_storage	 a, b, *grown;
	const char		*dash = memchr(s, '-', len);
	uint32_t		 n = 0, k;

	if (dash == NULL ? parse_one(s, len, &a) == -1 :
	    parse_one(s, (size_t)(dash - s), &a) == -1 ||
	    parse_one(dash + 1, len - (size_t)(dash - s) - 1, &b) == -1) {
		snprintf(err, errlen, "%.*s: not an address or a range of "
		    "addresses", (int)(len < SOURCE_TEXT_MAX ? len :
		    SOURCE_TEXT_MAX), s);
		return (-1);
	}
	if (dash != NULL && span(&a, &b, &n) == -1) {
		snprintf(err, errlen, "%.*s: a range goes up, within one "
		    "family (and for IPv6 the last 32 bits)", (int)len, s);
		return (-1);
	}
	if (n >= SOURCES_MAX || l->count + n + 1 > SOURCES_MAX) {
		snprintf(err, errlen, "more than %d source addresses",
		    SOURCES_MAX);
		return (-1);
	}
	grown = realloc(l->addr, (l->count + n + 1) * sizeof *l->addr);
	if (grown == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	l->addr = grown;
	for (k = 0; k <= n; k++)
		step(&l->addr[l->count++], &a, k);
	return (0);
}

/*
 * Parse "a[,b-c...]" into l (empty first); every address of one family.
 * On error, err says why and l is empty.
 */
int
sources_parse(struct sources *l, const char *s, char *err, size_t errlen)
{
	const char	*comma;
	size_t		 len;

	l->addr = NULL;
	l->count = 0;
	for (;;) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if (add_item(l, s, len, err, errlen) == -1)
			break;
		if (l->addr[0].ss_family != l->addr[l->count - 1].ss_family) {
			snprintf(err, errlen, "IPv4 and IPv6 sources mixed");
			break;
		}
		if (comma == NULL)
			return (0);
		s = comma + 1;
	}
	sources_free(l);
	return (-1);
}

/* Free the list. */
void
sources_free(struct sources *l)
{
	free(l->addr);
	l->addr = NULL;
	l->count = 0;
}
