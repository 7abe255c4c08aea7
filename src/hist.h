/*
 * hist.h - a log-bucketed histogram of nanoseconds (pure, no I/O).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Values below 2 * HIST_SUB are exact, and each power of two above is cut
 * into HIST_SUB buckets, so a bucket is at most 1/128 of its values wide:
 * exactly the counts array of an HdrHistogram with 2 significant digits
 * and a lowest discernible value of 1 (sub-bucket count 256, half 128),
 * so bucket i is HdrHistogram's counts index i.
 */
#ifndef SEQECHO_HIST_H
#define SEQECHO_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS		7
#define HIST_SUB		(1 << HIST_SUB_BITS)
#define HIST_BUCKETS		((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t	 count;
	uint64_t	 sum;
	uint64_t	 min;
	uint64_t	 max;
	uint64_t	 bucket[HIST_BUCKETS];
};

unsigned	 hist_index(uint64_t);
uint64_t	 hist_mid(unsigned);
void		 hist_add(struct hist *, int64_t);
void		 hist_merge(struct hist *, const struct hist *);
uint64_t	 hist_percentile(const struct hist *, double);
uint64_t	 hist_lowest(unsigned);
uint64_t	 hist_highest(unsigned);
unsigned	 hist_top(const struct hist *);
uint64_t	 hist_value_at(const struct hist *, double);
void		 hist_recount(struct hist *);

#endif
