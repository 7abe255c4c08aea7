/*
 * test_hdr.c - unit tests for HdrHistogram's formats (src/hdr.c): ZigZag
 * LEB128, the V2 encoding's header and counts, the compressed form
 * inflated back, base64, the log lines and the percentile spectrum.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "hdr.h"

/* Big-endian 32 bits back. */
static uint32_t
get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* ZigZag LEB128 as HdrHistogram writes it, the 9-byte form too. */
static void
test_zigzag(void **state)
{
	unsigned char	b[9];

	(void)state;
	assert_int_equal(hdr_zigzag(b, 0), 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(hdr_zigzag(b, -1), 1);
	assert_int_equal(b[0], 1);
	assert_int_equal(hdr_zigzag(b, 1), 1);
	assert_int_equal(b[0], 2);
	assert_int_equal(hdr_zigzag(b, 64), 2);
	assert_int_equal(b[0], 0x80);
	assert_int_equal(b[1], 0x01);
	assert_int_equal(hdr_zigzag(b, -300), 2);
	assert_int_equal(b[0], 0xd7);
	assert_int_equal(b[1], 0x04);
	assert_int_equal(hdr_zigzag(b, INT64_MIN), 9);
	assert_int_equal(b[8], 0xff);
}

/* The header's fields, and counts with runs of zeros as negatives. */
static void
test_encode(void **state)
{
	struct hist	*h = calloc(1, sizeof *h);
	unsigned char	*out = malloc(HDR_ENCODED_MAX);
	size_t		 n;

	(void)state;
	hist_add(h, 0);
	hist_add(h, 2);
	hist_add(h, 2);
	hist_add(h, 3);
	hist_add(h, 10);
	n = hdr_encode(h, out);
	assert_int_equal(get32(out), HDR_COOKIE);
	assert_int_equal(get32(out + 12), 2);
	assert_int_equal(get32(out + 20), 1);
	assert_int_equal(get32(out + 24), 0x7fffffff);
	assert_int_equal(get32(out + 32), 0x3ff00000);
	/* 1, 0 (one zero alone), 2, 1, -6 (run of 6 zeros), 1 */
	assert_int_equal(n, HDR_HEADER + 6);
	assert_int_equal(get32(out + 4), 6);
	assert_int_equal(out[40], 2);
	assert_int_equal(out[41], 0);
	assert_int_equal(out[42], 4);
	assert_int_equal(out[43], 2);
	assert_int_equal(out[44], 11);
	assert_int_equal(out[45], 2);
	free(out);
	free(h);
}

/* The compressed form: its cookie, length, and zlib of the encoding. */
static void
test_compress(void **state)
{
	struct hist	*h = calloc(1, sizeof *h);
	unsigned char	*z, *raw = malloc(HDR_ENCODED_MAX);
	unsigned char	*back = malloc(HDR_ENCODED_MAX);
	uLongf		 blen = HDR_ENCODED_MAX;
	size_t		 zlen, rlen;
	int		 i;

	(void)state;
	for (i = 0; i < 10000; i++)
		hist_add(h, (int64_t)i * i * 31);
	rlen = hdr_encode(h, raw);
	assert_int_equal(hdr_compress(h, &z, &zlen), 0);
	assert_int_equal(get32(z), HDR_COOKIE_COMPRESSED);
	assert_int_equal(get32(z + 4), zlen - 8);
	assert_int_equal(uncompress(back, &blen, z + 8, zlen - 8), Z_OK);
	assert_int_equal(blen, rlen);
	assert_memory_equal(back, raw, rlen);
	free(z);
	free(raw);
	free(back);
	free(h);
}

/* RFC 4648's test vectors. */
static void
test_base64(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob",
	    "fooba", "foobar" };
	static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char	*s;
	int	 i;

	(void)state;
	for (i = 0; i < 7; i++) {
		s = hdr_base64((const unsigned char *)in[i], strlen(in[i]));
		assert_string_equal(s, want[i]);
		free(s);
	}
}

/* The log's header and an interval line, as HdrHistogram writes them. */
static void
test_log_lines(void **state)
{
	struct hist	*h = calloc(1, sizeof *h);
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*f = open_memstream(&buf, &len);

	(void)state;
	hist_add(h, 1000000);
	assert_int_equal(hdr_log_header(f, 1e9), 0);
	assert_int_equal(hdr_log_interval(f, "latency", 1.0, 1.0, h), 0);
	fclose(f);
	assert_non_null(strstr(buf, "#[Histogram log format version 1.3]\n"
	    "#[StartTime: 1000000000.000 (seconds since epoch), Sun Sep 09 "
	    "01:46:40 UTC 2001]\n#[BaseTime: 1000000000.000 (seconds since "
	    "epoch)]\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
	    "\"Interval_Compressed_Histogram\"\n"));
	/* The max is the bucket's highest value, in milliseconds. */
	assert_non_null(strstr(buf, "Tag=latency,1.000,1.000,1.004,HISTF"));
	free(buf);
	free(h);
}

/* The spectrum of 1..100: each step's line, the last at 100%. */
static void
test_percentiles(void **state)
{
	struct hist	*h = calloc(1, sizeof *h);
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*f = open_memstream(&buf, &len);
	int		 v;

	(void)state;
	for (v = 1; v <= 100; v++)
		hist_add(h, v);
	hdr_percentiles(f, h, 1);
	fclose(f);
	assert_non_null(strstr(buf, "       Value     Percentile TotalCount "
	    "1/(1-Percentile)\n\n        1.00 0.000000000000          1 "
	    "          1.00\n"));
	assert_non_null(strstr(buf, "       50.00 0.500000000000         50 "
	    "          2.00\n"));
	assert_non_null(strstr(buf, "      100.00 1.000000000000        100\n"
	    "#[Mean    =        50.50, StdDeviation   =        28.87]\n"
	    "#[Max     =       100.00, Total count    =          100]\n"
	    "#[Buckets =           56, SubBuckets     =          256]\n"));
	free(buf);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zigzag),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_compress),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_percentiles),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
