/*
 * test_hist.c - unit tests for the latency histogram (src/hist.c): bucket
 * index and middle, adding, merging, percentiles, and the edge values.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

/* A zeroed histogram on the heap: it is 58 KiB. */
static struct hist *
hist_new(void)
{
	struct hist	*h = calloc(1, sizeof *h);

	assert_non_null(h);
	return (h);
}

/* Below 2 * HIST_SUB each value has a bucket of its own. */
static void
test_small_values_exact(void **state)
{
	uint64_t	v;

	(void)state;
	for (v = 0; v < 2 * HIST_SUB; v++) {
		assert_int_equal(hist_index(v), v);
		assert_int_equal(hist_mid(hist_index(v)), v);
	}
	assert_int_equal(hist_index(2 * HIST_SUB), 2 * HIST_SUB);
	assert_int_equal(hist_index(2 * HIST_SUB + 1), 2 * HIST_SUB);
}

/* Every bucket's middle falls in that bucket, and the last one fits. */
static void
test_index_mid_round_trip(void **state)
{
	unsigned	i;

	(void)state;
	for (i = 0; i < HIST_BUCKETS; i++)
		assert_int_equal(hist_index(hist_mid(i)), i);
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
	assert_int_equal(hist_index(1ULL << 63), HIST_BUCKETS - HIST_SUB);
}

/* Buckets go up with the value, and a middle is within 1/128 of it. */
static void
test_buckets_ordered_and_narrow(void **state)
{
	uint64_t	v, mid, err;
	unsigned	i, prev = 0;
	int		bit;

	(void)state;
	for (bit = 7; bit < 64; bit++) {
		for (i = 0; i < 300; i++) {
			v = (1ULL << bit) + ((uint64_t)i * 0x9e3779b97f4a7c15ULL
			    >> (64 - bit));
			mid = hist_mid(hist_index(v));
			err = mid > v ? mid - v : v - mid;
			assert_true(err <= v / 128);
		}
	}
	for (v = 0; v < 100000; v += 7) {
		assert_true(hist_index(v) >= prev);
		prev = hist_index(v);
	}
}

/* add keeps count, sum, min and max; a negative value counts as 0. */
static void
test_add(void **state)
{
	struct hist	*h = hist_new();

	(void)state;
	hist_add(h, 500);
	hist_add(h, 20);
	hist_add(h, -5);
	assert_int_equal(h->count, 3);
	assert_int_equal(h->sum, 520);
	assert_int_equal(h->min, 0);
	assert_int_equal(h->max, 500);
	assert_int_equal(h->bucket[0], 1);
	assert_int_equal(h->bucket[20], 1);
	assert_int_equal(h->bucket[hist_index(500)], 1);
	free(h);
}

/* The edges: 0 alone, and the largest value a signed add can give. */
static void
test_edge_values(void **state)
{
	struct hist	*h = hist_new();

	(void)state;
	assert_int_equal(hist_percentile(h, 0.5), 0);
	hist_add(h, 0);
	assert_int_equal(hist_percentile(h, 0.5), 0);
	assert_int_equal(hist_percentile(h, 1.0), 0);
	hist_add(h, INT64_MAX);
	assert_int_equal(h->max, INT64_MAX);
	assert_int_equal(h->bucket[hist_index(INT64_MAX)], 1);
	assert_int_equal(hist_percentile(h, 0.5), 0);
	/* The top bucket's middle, below the maximum, within 1/128. */
	assert_int_equal(hist_percentile(h, 1.0),
	    hist_mid(hist_index(INT64_MAX)));
	assert_true(hist_percentile(h, 1.0) > INT64_MAX - INT64_MAX / 128);
	free(h);
}

/* Percentiles of 1..100, all exact: the rank is rounded up. */
static void
test_percentile_exact(void **state)
{
	struct hist	*h = hist_new();
	int		 v;

	(void)state;
	for (v = 100; v >= 1; v--)
		hist_add(h, v);
	assert_int_equal(hist_percentile(h, 0.5), 50);
	assert_int_equal(hist_percentile(h, 0.9), 90);
	assert_int_equal(hist_percentile(h, 0.99), 99);
	assert_int_equal(hist_percentile(h, 0.999), 100);
	assert_int_equal(hist_percentile(h, 0.0), 1);
	assert_int_equal(hist_percentile(h, 0.505), 51);
	free(h);
}

/* A bucket's middle is clamped to the values really seen. */
static void
test_percentile_clamped(void **state)
{
	struct hist	*h = hist_new();

	(void)state;
	hist_add(h, 1000001);
	assert_int_equal(hist_percentile(h, 0.5), 1000001);
	/* Both share a bucket whose middle, 1001472, is above them. */
	hist_add(h, 1000003);
	assert_int_equal(hist_mid(hist_index(1000001)), 1001472);
	assert_int_equal(hist_percentile(h, 0.5), 1000003);
	assert_int_equal(hist_percentile(h, 1.0), 1000003);
	free(h);

	/* Values in a bucket's upper half: its middle is below them. */
	h = hist_new();
	hist_add(h, 1003510);
	hist_add(h, 1003515);
	assert_int_equal(hist_index(1003515), hist_index(1000001));
	assert_int_equal(hist_percentile(h, 0.5), 1003510);
	free(h);
}

/* A stall among fast replies shows from the percentile it covers. */
static void
test_percentile_tail(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 p;
	int		 i;

	(void)state;
	for (i = 0; i < 990; i++)
		hist_add(h, 50000);
	for (i = 0; i < 10; i++)
		hist_add(h, 1000000000);
	p = hist_percentile(h, 0.99);
	assert_true(p > 49000 && p < 51000);
	p = hist_percentile(h, 0.999);
	assert_true(p > 990000000 && p <= 1000000000);
	free(h);
}

/* Merging equals adding every value into one histogram. */
static void
test_merge(void **state)
{
	struct hist	*a = hist_new(), *b = hist_new(), *all = hist_new();
	struct hist	*empty = hist_new();
	int64_t		 v;
	int		 i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		v = (int64_t)i * i * 977 + 3;
		hist_add(i % 3 == 0 ? a : b, v);
		hist_add(all, v);
	}
	hist_merge(a, empty);
	assert_int_equal(a->count, 334);
	hist_merge(empty, a);
	hist_merge(empty, b);
	assert_memory_equal(empty, all, sizeof *all);
	assert_int_equal(empty->min, 3);
	assert_int_equal(hist_percentile(empty, 0.5),
	    hist_percentile(all, 0.5));
	free(a);
	free(b);
	free(all);
	free(empty);
}

/*
 * The layout is HdrHistogram's for 2 significant digits: its counts index
 * (countsArrayIndex), lowest and highest equivalent values, and the length
 * of its counts array for Long.MAX_VALUE (7296), worked out by hand from
 * its sources' formulas.
 */
static void
test_hdr_layout(void **state)
{
	(void)state;
	assert_int_equal(HIST_SUB, 128);
	assert_int_equal(hist_index(255), 255);
	assert_int_equal(hist_index(256), 256);
	assert_int_equal(hist_index(257), 256);
	assert_int_equal(hist_index(1000), 506);
	assert_int_equal(hist_lowest(506), 1000);
	assert_int_equal(hist_highest(506), 1003);
	assert_int_equal(hist_mid(506), 1002);
	assert_int_equal(hist_index(1000000), 1780);
	assert_int_equal(hist_lowest(1780), 999424);
	assert_int_equal(hist_highest(1780), 1003519);
	assert_int_equal(hist_index(INT64_MAX), 7295);
	assert_int_equal(hist_highest(7295), INT64_MAX);
	assert_int_equal(hist_lowest(7296), 1ULL << 63);
}

/* Percentiles as HdrHistogram gives them: a bucket's highest value. */
static void
test_value_at(void **state)
{
	struct hist	*h = hist_new();
	int		 v;

	(void)state;
	assert_int_equal(hist_value_at(h, 50), 0);
	assert_int_equal(hist_top(h), 0);
	for (v = 1; v <= 100; v++)
		hist_add(h, v);
	assert_int_equal(hist_value_at(h, 50), 50);
	assert_int_equal(hist_value_at(h, 99), 99);
	assert_int_equal(hist_value_at(h, 100), 100);
	assert_int_equal(hist_value_at(h, 150), 100);
	assert_int_equal(hist_value_at(h, 0), 1);
	assert_int_equal(hist_top(h), 101);
	hist_add(h, 1000);
	assert_int_equal(hist_value_at(h, 100), 1003);
	assert_int_equal(hist_top(h), 507);
	free(h);
}

/* Read back from buckets alone, a histogram has its counts' figures. */
static void
test_recount(void **state)
{
	struct hist	*h = hist_new();

	(void)state;
	hist_recount(h);
	assert_int_equal(h->count, 0);
	assert_int_equal(h->max, 0);
	h->bucket[5] = 2;
	h->bucket[506] = 1;
	hist_recount(h);
	assert_int_equal(h->count, 3);
	assert_int_equal(h->min, 5);
	assert_int_equal(h->max, 1003);
	assert_int_equal(h->sum, 5 + 5 + 1002);
	free(h);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_index_mid_round_trip),
		cmocka_unit_test(test_buckets_ordered_and_narrow),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_edge_values),
		cmocka_unit_test(test_percentile_exact),
		cmocka_unit_test(test_percentile_clamped),
		cmocka_unit_test(test_percentile_tail),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_hdr_layout),
		cmocka_unit_test(test_value_at),
		cmocka_unit_test(test_recount),
	};

	return (cmocka_run_group_tests_name("hist", tests, NULL, NULL));
}
