/*
 * fuzz_trace.c - libFuzzer target for seqecho-trace's segment parser
 * (src/trace-parse.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The first byte chooses the link type, the rest is the captured frame,
 * copied into an allocation of exactly its size so that AddressSanitizer
 * sees any read past the captured length. A parsed segment must hold
 * together: its payload lies inside the frame, no more of it captured
 * than its length, the options within their ranges.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int	 links[] = { DLT_EN10MB, DLT_LINUX_SLL,
				     DLT_LINUX_SLL2, DLT_RAW, DLT_NULL,
				     DLT_IPV4, DLT_IPV6, 9999 };
	struct trace_seg	 s;
	uint8_t			*frame;
	volatile unsigned	 sum = 0;
	size_t			 i, n;
	int			 r;

	if (size < 1)
		return (0);
	n = size - 1;
	if ((frame = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(frame, data + 1, n);
	r = trace_parse(links[data[0] % (sizeof links / sizeof links[0])],
	    frame, n, &s);
	if (r == TRACE_TCP) {
		if (s.payload < frame || s.payload + s.caplen > frame + n ||
		    s.caplen > s.len)
			abort();
		if (s.mss > 65535 || s.wscale > 255 || s.mss < -1 ||
		    s.wscale < -1)
			abort();
		/* Touch every captured payload byte. */
		for (i = 0; i < s.caplen; i++)
			sum += s.payload[i];
	} else if (r != TRACE_OTHER && r != TRACE_BAD)
		abort();
	free(frame);
	return (0);
}
