/*
 * fuzz_merge.c - libFuzzer target for seqecho-bench --merge's reading of
 * a --json report (src/bench-merge.c, on jansson), and the report of what
 * it read (src/bench-report.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The input is read as one report, twice into the same sum as a merge of
 * two files does. Checked: a report read adds exactly its histograms'
 * counts (each histogram's count is its buckets' sum); then the merged
 * report is printed, as text and as JSON, to /dev/null.
 */
#include "../../src/bench-merge.c"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The programs' helpers that bench-report.c and bench-merge.c call. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n, size);

	if (p == NULL)
		abort();
	return (p);
}

int64_t
now_ns(void)
{
	return (0);
}

/* Reports go nowhere. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
	return (0);
}

/* The buckets of h add up to its count. */
static void
check_hist(const struct hist *h)
{
	uint64_t	n = 0;
	unsigned	i;

	for (i = 0; i < HIST_BUCKETS; i++)
		n += h->bucket[i];
	if (n != h->count)
		abort();
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct merge	 m;
	json_error_t	 e;
	json_t		*o;
	int		 k, ok = 0;

	memset(&m, 0, sizeof m);
	m.s = xcalloc(1, sizeof *m.s);
	m.b.start = 1;
	o = json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK, &e);
	if (o != NULL && json_is_object(o)) {
		ok = merge_run(&m, o, 1) == 0;
		if (ok)
			ok = merge_run(&m, o, 0) == 0;
	}
	json_decref(o);
	if (ok) {
		check_hist(&m.s->latency);
		check_hist(&m.s->connect);
		check_hist(&m.s->teardown);
		check_hist(&m.s->lifetime);
		check_hist(&m.s->handshake);
		snprintf(m.b.target_name, sizeof m.b.target_name, "%s",
		    m.target);
		m.b.merged = &m.r;
		for (k = 0; k < 2; k++) {
			m.b.json = k;
			bench_report(&m.b, m.s, m.secs, m.cpu_user, m.cpu_sys);
		}
	}
	free(m.s);
	return (0);
}
