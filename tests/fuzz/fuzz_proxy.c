/*
 * fuzz_proxy.c - libFuzzer target for the PROXY header parser and builder
 * (src/proxy.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The input is parsed whole with each accept mode, and read the way the
 * daemon reads it: from nothing, exactly *need bytes at a time. Every
 * call gets an allocation of exactly the bytes it is given, so
 * AddressSanitizer sees any read past them. Checked: DONE uses no more
 * than it was given nor more than PROXY_HEADER_MAX; MORE asks for more
 * than it has and no more than PROXY_HEADER_MAX; BAD says why; the
 * stepwise read ends as the whole parse does, at the same length; BAD and
 * DONE stay so when more bytes follow. Then the first bytes, taken as two
 * addresses and ports, are built into v1 and v2 headers, which must parse
 * back to the same addresses.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

/* One call's outcome. */
struct outcome {
	enum proxy_status	 st;
	size_t			 need;
	size_t			 used;
	struct proxy_header	 h;
};

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_proxy: %s\n", what);
	abort();
}

/* Parse the first len bytes from an allocation of exactly len. */
static struct outcome
parse(const uint8_t *data, size_t len, int accept)
{
	struct outcome	 o;
	uint8_t		*copy;
	const char	*why = NULL;

	memset(&o, 0, sizeof o);
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		fail("out of memory");
	if (len > 0)
		memcpy(copy, data, len);
	o.st = proxy_parse(copy, len, accept, &o.h, &o.need, &o.used, &why);
	free(copy);
	switch (o.st) {
	case PROXY_DONE:
		if (o.used > len || o.used > PROXY_HEADER_MAX || o.used == 0)
			fail("DONE with a wrong length");
		if (o.h.version != 1 && o.h.version != 2)
			fail("DONE with no version");
		if ((accept == PROXY_V1 && o.h.version != 1) ||
		    (accept == PROXY_V2 && o.h.version != 2))
			fail("DONE with a version the listener refuses");
		if (!o.h.local && (o.h.src.ss_family != o.h.dst.ss_family ||
		    (o.h.src.ss_family != AF_INET &&
		    o.h.src.ss_family != AF_INET6)))
			fail("DONE with no addresses");
		break;
	case PROXY_MORE:
		if (o.need <= len || o.need > PROXY_HEADER_MAX)
			fail("MORE with a wrong need");
		break;
	case PROXY_BAD:
		if (why == NULL || *why == '\0')
			fail("BAD without a reason");
		break;
	default:
		fail("unknown status");
	}
	return (o);
}

/* Read as the daemon does, exactly *need at a time, and compare. */
static void
stepwise(const uint8_t *data, size_t size, int accept)
{
	struct outcome	whole, o, more;
	size_t		len = 0;
	int		rounds = 0;

	whole = parse(data, size, accept);
	for (;;) {
		if (++rounds > 5000)
			fail("stepwise read does not end");
		o = parse(data, len, accept);
		if (o.st != PROXY_MORE)
			break;
		if (o.need > size)
			break;	/* the input ends first */
		/* Nothing before need completes the header. */
		if (o.need - 1 > len && parse(data, o.need - 1, accept).st ==
		    PROXY_DONE)
			fail("DONE before the length MORE asked for");
		len = o.need;
	}
	if (o.st == PROXY_MORE) {
		if (whole.st == PROXY_DONE)
			fail("the whole input is a header, read stepwise not");
		return;
	}
	if (o.st != whole.st)
		fail("the stepwise read and the whole parse differ");
	if (o.st == PROXY_DONE && (o.used != whole.used || o.used != len))
		fail("the stepwise read overread, or ended elsewhere");
	/* One more byte changes nothing decided. */
	if (len < size) {
		more = parse(data, len + 1, accept);
		if (more.st != o.st || (o.st == PROXY_DONE &&
		    more.used != o.used))
			fail("a decided header changed with one more byte");
	}
}

/* Build src -> dst from the input's bytes and parse it back. */
static void
round_trip(const uint8_t *data, size_t size)
{
	struct sockaddr_storage	 s, d;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&s;
	struct sockaddr_in	*d4 = (struct sockaddr_in *)&d;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&s;
	struct sockaddr_in6	*d6 = (struct sockaddr_in6 *)&d;
	struct outcome		 o;
	uint8_t			 buf[PROXY_V1_MAX], b[37];
	size_t			 n;
	int			 v, six;

	memset(b, 0, sizeof b);
	memcpy(b, data, size < sizeof b ? size : sizeof b);
	six = b[0] & 1;
	memset(&s, 0, sizeof s);
	memset(&d, 0, sizeof d);
	if (six) {
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b + 1, 16);
		memcpy(&d6->sin6_addr, b + 17, 16);
		memcpy(&s6->sin6_port, b + 33, 2);
		memcpy(&d6->sin6_port, b + 35, 2);
	} else {
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b + 1, 4);
		memcpy(&d4->sin_addr, b + 5, 4);
		memcpy(&s4->sin_port, b + 9, 2);
		memcpy(&d4->sin_port, b + 11, 2);
	}
	for (v = PROXY_V1; v <= PROXY_V2; v++) {
		n = proxy_build(v, (struct sockaddr *)&s, (struct sockaddr *)&d,
		    buf, sizeof buf);
		if (n == 0)
			fail("build failed");
		o = parse(buf, n, v);
		if (o.st != PROXY_DONE || o.used != n || o.h.local)
			fail("a built header does not parse back");
		if (memcmp(&o.h.src, &s, sizeof s) != 0 ||
		    memcmp(&o.h.dst, &d, sizeof d) != 0)
			fail("a built header parses to other addresses");
		if (parse(buf, n, PROXY_ANY).used != n)
			fail("a built header does not parse on an any listener");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PROXY_HEADER_MAX + 64)
		size = PROXY_HEADER_MAX + 64;
	stepwise(data, size, PROXY_V1);
	stepwise(data, size, PROXY_V2);
	stepwise(data, size, PROXY_ANY);
	round_trip(data, size);
	return (0);
}
