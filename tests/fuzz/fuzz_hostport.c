/*
 * fuzz_hostport.c - libFuzzer target for the http setting's parser,
 * config_parse_hostport (src/confcheck.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The input, as a C string, is parsed into a host buffer of a size the
 * first byte chooses (1..256), so AddressSanitizer sees a write past it.
 * Checked: an error says why; a success gives a non-empty host that fits,
 * a port 0..65535, a host with a colon only from brackets and then a
 * valid IPv6 address, and what it gives, written back as ADDRESS:PORT or
 * [ADDRESS]:PORT, parses to the same again.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqecho.h"

static void
fail(const char *what, const char *in)
{
	fprintf(stderr, "fuzz_hostport: %s: \"%s\"\n", what, in);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct in6_addr	 in6;
	char		*in, *host, again[600], host2[256], why[512];
	size_t		 hostlen;
	int		 port, port2;

	if (len == 0 || len > 300)
		return (0);
	hostlen = (size_t)data[0] + 1;
	if ((in = malloc(len)) == NULL || (host = malloc(hostlen)) == NULL)
		fail("out of memory", "");
	memcpy(in, data + 1, len - 1);
	in[len - 1] = '\0';
	why[0] = '\0';
	if (config_parse_hostport(in, host, hostlen, &port, why,
	    sizeof why) == -1) {
		if (why[0] == '\0')
			fail("an error without a reason", in);
		goto out;
	}
	if (host[0] == '\0' || strlen(host) >= hostlen)
		fail("empty or overlong host", in);
	if (port < 0 || port > 65535)
		fail("port out of range", in);
	if (strchr(host, ':') != NULL) {
		if (in[0] != '[' || inet_pton(AF_INET6, host, &in6) != 1)
			fail("a colon outside brackets", in);
		snprintf(again, sizeof again, "[%s]:%d", host, port);
	} else
		snprintf(again, sizeof again, "%s%s%s:%d", in[0] == '[' ? "[" :
		    "", host, in[0] == '[' ? "]" : "", port);
	if (config_parse_hostport(again, host2, sizeof host2, &port2, why,
	    sizeof why) == -1 || strcmp(host, host2) != 0 || port != port2)
		fail("does not parse back", in);
out:
	free(host);
	free(in);
	return (0);
}
