/*
 * hdr.h - HdrHistogram's formats for a struct hist (pure, no I/O but
 * the FILE given): the compressed V2 encoding, base64, the log format
 * 1.3's lines, and the .hgrm percentile spectrum.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_HDR_H
#define SEQECHO_HDR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"

#define HDR_COOKIE		0x1c849313	/* V2 encoding, 8-byte words */
#define HDR_COOKIE_COMPRESSED	0x1c849314
#define HDR_HEADER		40		/* bytes before the counts */
#define HDR_DIGITS		2
/* Encoded size bound: the header and up to 9 bytes a count. */
#define HDR_ENCODED_MAX		(HDR_HEADER + 9 * HIST_BUCKETS)

size_t	hdr_zigzag(unsigned char *, int64_t);
size_t	hdr_encode(const struct hist *, unsigned char *);
int	hdr_compress(const struct hist *, unsigned char **, size_t *);
char	*hdr_base64(const unsigned char *, size_t);
int	hdr_log_header(FILE *, double);
int	hdr_log_interval(FILE *, const char *, double, double,
	    const struct hist *);
void	hdr_percentiles(FILE *, const struct hist *, double);

#endif
