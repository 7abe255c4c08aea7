/*
 * fuzz_source.c - libFuzzer target for seqecho-bench's -b list parser
 * (src/bench-source.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The input, cut at its first NUL, is parsed as a -b list. Checked: a
 * list that parses has 1..SOURCES_MAX addresses of one family, and an
 * error says why and leaves the list empty.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench-source.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sources	 l;
	char		*s, err[256];
	size_t		 i;

	if ((s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (sources_parse(&l, s, err, sizeof err) == 0) {
		if (l.count < 1 || l.count > SOURCES_MAX)
			abort();
		for (i = 0; i < l.count; i++)
			if (l.addr[i].ss_family != l.addr[0].ss_family ||
			    (l.addr[0].ss_family != AF_INET &&
			    l.addr[0].ss_family != AF_INET6))
				abort();
		sources_free(&l);
	} else if (l.addr != NULL || l.count != 0 || err[0] == '\0')
		abort();
	free(s);
	return (0);
}
