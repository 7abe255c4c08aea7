/*
 * hist.c - the latency histogram: bucket a value, merge, percentiles.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdint.h>

#include "hist.h"

/*
 * The bucket holding the value of rank ceil(q * count), at least 1, of a
 * histogram with values.
 */
static unsigned
rank_bucket(const struct hist *h, double q)
{
	uint64_t	rank, seen = 0;
	unsigned	i;

	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS - 1; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	return (i);
}

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
	uint64_t	v;

	if (h->count == 0)
		return (0);
	v = hist_mid(rank_bucket(h, q));
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return (v);
}

/* The lowest value of a bucket. */
uint64_t
hist_lowest(unsigned i)
{
	unsigned	shift;

	if (i < 2 * HIST_SUB)
		return (i);
	shift = i / HIST_SUB - 1;
	return ((uint64_t)(i % HIST_SUB + HIST_SUB) << shift);
}

/*
 * The highest value of a bucket: what HdrHistogram reports for a
 * percentile ("highest equivalent value").
 */
uint64_t
hist_highest(unsigned i)
{
	unsigned	shift;

	if (i < 2 * HIST_SUB)
		return (i);
	shift = i / HIST_SUB - 1;
	return (hist_lowest(i) + ((1ULL << shift) - 1));
}

/* One past the highest bucket with a count (0 when empty). */
unsigned
hist_top(const struct hist *h)
{
	unsigned	i;

	if (h->count == 0)
		return (0);
	for (i = HIST_BUCKETS; i > 0; i--) {
		if (h->bucket[i - 1] != 0)
			return (i);
	}
	return (0);
}

/*
 * The value at a percentile (0..100) as HdrHistogram's getValueAtPercentile
 * gives it: the highest value of the bucket holding that rank, so the
 * figures agree with its tools'.
 */
uint64_t
hist_value_at(const struct hist *h, double percent)
{
	unsigned	i;

	if (h->count == 0)
		return (0);
	if (percent > 100)
		percent = 100;
	if (percent < 0)
		percent = 0;
	i = rank_bucket(h, percent / 100.0);
	return (percent == 0 ? hist_lowest(i) : hist_highest(i));
}

/*
 * Count, sum, min and max again from the buckets alone (a histogram read
 * back from counts): the sum from bucket middles, min and max the lowest
 * and highest values of the outer buckets.
 */
void
hist_recount(struct hist *h)
{
	unsigned	i, lo = HIST_BUCKETS, hi = 0;

	h->count = h->sum = h->min = h->max = 0;
	for (i = 0; i < HIST_BUCKETS; i++) {
		if (h->bucket[i] == 0)
			continue;
		if (lo == HIST_BUCKETS)
			lo = i;
		hi = i;
		h->count += h->bucket[i];
		h->sum += h->bucket[i] * hist_mid(i);
	}
	if (h->count > 0) {
		h->min = hist_lowest(lo);
		h->max = hist_highest(hi);
	}
}
