/*
 * hist.c - the latency histogram: bucket a value, merge, percentiles.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdint.h>

#include "hist.h"

/* The bucket of a value. */
unsigned
hist_index(uint64_t v)
{
	unsigned	shift;

	if (v < 2 * HIST_SUB)
		return ((unsigned)v);
	shift = 63 - (unsigned)__builtin_clzll(v) - HIST_SUB_BITS;
	return (shift * HIST_SUB + (unsigned)(v >> shift));
}

/* The middle of a bucket. */
uint64_t
hist_mid(unsigned i)
{
	unsigned	shift;
	uint64_t	low;

	if (i < 2 * HIST_SUB)
		return (i);
	shift = i / HIST_SUB - 1;
	low = (uint64_t)(i % HIST_SUB + HIST_SUB) << shift;
	return (low + ((1ULL << shift) >> 1));
}

/* Count one value; a negative one (clock skew) counts as 0. */
void
hist_add(struct hist *h, int64_t ns)
{
	uint64_t	v = ns < 0 ? 0 : (uint64_t)ns;

	h->bucket[hist_index(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

/* Add one histogram into another. */
void
hist_merge(struct hist *to, const struct hist *from)
{
	unsigned	i;

	if (from->count == 0)
		return;
	for (i = 0; i < HIST_BUCKETS; i++)
		to->bucket[i] += from->bucket[i];
	if (to->count == 0 || from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
	to->count += from->count;
	to->sum += from->sum;
}

/* The value below which a fraction q of the values lie, in ns. */
uint64_t
hist_percentile(const struct hist *h, double q)
{
	uint64_t	rank, seen = 0, v;
	unsigned	i;

	if (h->count == 0)
		return (0);
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	v = hist_mid(i);
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return (v);
}
