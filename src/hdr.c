/*
 * hdr.c - HdrHistogram's formats for a struct hist, whose buckets are an
 * HdrHistogram's counts for 2 significant digits (hist.h): the V2
 * encoding (big-endian header, counts as ZigZag LEB128 with runs of
 * zeros as negative lengths), compressed with zlib, in base64, as log
 * format 1.3's lines; and the percentile spectrum in the .hgrm layout of
 * outputPercentileDistribution. Pure: tests/test_hdr.c.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "hdr.h"

/* Ticks per half distance to 100%, as HdrHistogram's tools print. */
#define HGRM_TICKS		5

static void	put32(unsigned char *, uint32_t);
static void	put64(unsigned char *, uint64_t);
static double	next_level(double);
static void	spectrum_line(FILE *, uint64_t, double, double, uint64_t);

/* Big-endian 32 bits. */
static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Big-endian 64 bits. */
static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/*
 * v ZigZag-encoded as HdrHistogram's ZigZagEncoding.putLong: 7 bits a
 * byte, low first, and a ninth byte carrying the last 8 whole.
 */
size_t
hdr_zigzag(unsigned char *p, int64_t v)
{
	uint64_t	z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	size_t		n = 0;

	while (n < 8) {
		if ((z >> 7) == 0) {
			p[n++] = (unsigned char)z;
			return (n);
		}
		p[n++] = (unsigned char)((z & 0x7f) | 0x80);
		z >>= 7;
	}
	p[n++] = (unsigned char)z;
	return (n);
}

/* The uncompressed V2 encoding into out (HDR_ENCODED_MAX bytes). */
size_t
hdr_encode(const struct hist *h, unsigned char *out)
{
	unsigned	top = hist_top(h), i = 0;
	size_t		n = HDR_HEADER;
	int64_t		zeros;

	while (i < top) {
		if (h->bucket[i] != 0) {
			n += hdr_zigzag(out + n, (int64_t)h->bucket[i++]);
			continue;
		}
		for (zeros = 0; i < top && h->bucket[i] == 0; i++)
			zeros++;
		n += hdr_zigzag(out + n, zeros > 1 ? -zeros : 0);
	}
	put32(out, HDR_COOKIE);
	put32(out + 4, (uint32_t)(n - HDR_HEADER));
	put32(out + 8, 0);			/* normalizing index offset */
	put32(out + 12, HDR_DIGITS);
	put64(out + 16, 1);			/* lowest discernible value */
	put64(out + 24, INT64_MAX);		/* highest trackable value */
	put64(out + 32, 0x3ff0000000000000ULL);	/* conversion ratio 1.0 */
	return (n);
}

/* The compressed encoding: cookie, length, zlib of the encoding. */
int
hdr_compress(const struct hist *h, unsigned char **out, size_t *len)
{
	unsigned char	*raw, *z;
	size_t		 rlen;
	uLongf		 zlen;

	if ((raw = malloc(HDR_ENCODED_MAX)) == NULL)
		return (-1);
	rlen = hdr_encode(h, raw);
	zlen = compressBound((uLong)rlen);
	if ((z = malloc(8 + zlen)) == NULL) {
		free(raw);
		return (-1);
	}
	if (compress(z + 8, &zlen, raw, (uLong)rlen) != Z_OK) {
		free(raw);
		free(z);
		return (-1);
	}
	free(raw);
	put32(z, HDR_COOKIE_COMPRESSED);
	put32(z + 4, (uint32_t)zlen);
	*out = z;
	*len = 8 + zlen;
	return (0);
}

/* Base64 (RFC 4648, padded) of p[0..n), NUL-terminated; NULL if no memory. */
char *
hdr_base64(const unsigned char *p, size_t n)
{
	static const char	 a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*s, *o;
	uint32_t		 v;
	size_t			 i;

	if ((s = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return (NULL);
	for (i = 0, o = s; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = a[v >> 18];
		*o++ = a[(v >> 12) & 63];
		*o++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
	}
	*o = '\0';
	return (s);
}

/* The log's header, its base time start (seconds since the epoch). */
int
hdr_log_header(FILE *f, double start)
{
	char		when[64];
	time_t		t = (time_t)start;
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%a %b %d %H:%M:%S UTC %Y", &tm) == 0)
		when[0] = '\0';
	fprintf(f, "#[Histogram log format version 1.3]\n");
	fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", start,
	    when);
	fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", start);
	fprintf(f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
	    "\"Interval_Compressed_Histogram\"\n");
	return (ferror(f) ? -1 : 0);
}

/*
 * One interval's line: start (seconds after the base time), length, the
 * maximum in milliseconds (HdrHistogram's default ratio for ns), the
 * histogram.
 */
int
hdr_log_interval(FILE *f, const char *tag, double start, double len,
    const struct hist *h)
{
	unsigned char	*z;
	size_t		 zlen;
	char		*b64;
	unsigned	 top = hist_top(h);

	if (hdr_compress(h, &z, &zlen) == -1)
		return (-1);
	b64 = hdr_base64(z, zlen);
	free(z);
	if (b64 == NULL)
		return (-1);
	fprintf(f, "Tag=%s,%.3f,%.3f,%.3f,%s\n", tag, start, len,
	    top > 0 ? (double)hist_highest(top - 1) / 1e6 : 0.0, b64);
	free(b64);
	return (ferror(f) ? -1 : 0);
}

/* The next percentile to report after level, as HdrHistogram steps. */
static double
next_level(double level)
{
	double	ticks;

	ticks = HGRM_TICKS * pow(2, floor(log(100.0 / (100.0 - level)) /
	    log(2)) + 1);
	return (level + 100.0 / ticks);
}

/* One line of the spectrum. */
static void
spectrum_line(FILE *f, uint64_t value, double unit, double level,
    uint64_t seen)
{
	if (level != 100.0)
		fprintf(f, "%12.2f %2.12f %10llu %14.2f\n",
		    (double)value / unit, level / 100.0,
		    (unsigned long long)seen, 1 / (1.0 - level / 100.0));
	else
		fprintf(f, "%12.2f %2.12f %10llu\n", (double)value / unit,
		    level / 100.0, (unsigned long long)seen);
}

/*
 * The percentile spectrum as outputPercentileDistribution prints it
 * (values divided by unit): at each step a line once the count so far
 * reaches the level, the last at 100%, then mean, deviation and max of
 * the buckets' middles.
 */
void
hdr_percentiles(FILE *f, const struct hist *h, double unit)
{
	unsigned	i, top = hist_top(h);
	uint64_t	seen = 0;
	double		level = 0, mean = 0, dev = 0, d;

	fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile",
	    "TotalCount", "1/(1-Percentile)");
	for (i = 0; i < top && seen < h->count; i++) {
		if (h->bucket[i] == 0)
			continue;
		seen += h->bucket[i];
		while (100.0 * (double)seen / (double)h->count >= level) {
			spectrum_line(f, hist_highest(i), unit, level, seen);
			level = next_level(level);
			if (seen == h->count) {
				spectrum_line(f, hist_highest(i), unit, 100.0,
				    seen);
				break;
			}
		}
	}
	for (i = 0; i < top; i++)
		mean += (double)h->bucket[i] * (double)hist_mid(i);
	if (h->count > 0)
		mean /= (double)h->count;
	for (i = 0; i < top; i++) {
		d = (double)hist_mid(i) - mean;
		dev += d * d * (double)h->bucket[i];
	}
	if (h->count > 0)
		dev = sqrt(dev / (double)h->count);
	fprintf(f, "#[Mean    = %12.2f, StdDeviation   = %12.2f]\n",
	    mean / unit, dev / unit);
	fprintf(f, "#[Max     = %12.2f, Total count    = %12llu]\n",
	    top > 0 ? (double)hist_highest(top - 1) / unit : 0.0,
	    (unsigned long long)h->count);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n",
	    64 - HIST_SUB_BITS - 1, 2 * HIST_SUB);
}
