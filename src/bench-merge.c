/*
 * bench-merge.c - seqecho-bench --merge: the --json reports of several
 * runs (load hosts) as one: counts and histograms added, so percentiles
 * are the summed histograms' and never averages; rates added, as the
 * runs went at once; the report printed as a run's, --json again so a
 * merge can be merged.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "seqecho.h"
#include "bench.h"

/* The merged run, as the report takes it. */
struct merge {
	struct bench		 b;
	struct bench_rates	 r;
	struct bench_stats	*s;
	double			 secs;
	double			 cpu_user;
	double			 cpu_sys;
	char			 target[ADDRSTRLEN];
};

static void	merge_usage(void) __attribute__((noreturn));
static int	merge_file(struct merge *, const char *, int);
static int	merge_run(struct merge *, json_t *, int);
static int	merge_hist(struct hist *, json_t *);
static uint64_t	get_u64(json_t *, const char *);
static double	get_real(json_t *, const char *);

/* The merge's synopsis, and exit. */
static void
merge_usage(void)
{
	fprintf(stderr, "usage: seqecho-bench --merge [--json] file...\n");
	exit(1);
}

/* A whole number member of o (0 if absent). */
static uint64_t
get_u64(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_integer(v) && json_integer_value(v) >= 0 ?
	    (uint64_t)json_integer_value(v) : 0);
}

/* A number member of o (0 if absent). */
static double
get_real(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_number(v) ? json_number_value(v) : 0);
}

/* Add a histogram's counts from its JSON into h; -1 if malformed. */
static int
merge_hist(struct hist *h, json_t *o)
{
	struct hist	 one;
	json_t		*counts = json_object_get(o, "counts"), *pair;
	json_int_t	 i, c;
	size_t		 k;

	if (!json_is_object(o) || !json_is_array(counts))
		return (-1);
	memset(&one, 0, sizeof one);
	json_array_foreach(counts, k, pair) {
		if (!json_is_array(pair) || json_array_size(pair) != 2 ||
		    !json_is_integer(json_array_get(pair, 0)) ||
		    !json_is_integer(json_array_get(pair, 1)))
			return (-1);
		i = json_integer_value(json_array_get(pair, 0));
		c = json_integer_value(json_array_get(pair, 1));
		if (i < 0 || i >= HIST_BUCKETS || c < 0)
			return (-1);
		one.bucket[i] += (uint64_t)c;
	}
	hist_recount(&one);
	if (one.count != get_u64(o, "count"))
		return (-1);
	/* The exact figures when they are there, bucket ones if not. */
	if (one.count > 0) {
		one.min = get_u64(o, "min_ns");
		one.max = get_u64(o, "max_ns");
		one.sum = get_u64(o, "sum_ns");
	}
	hist_merge(h, &one);
	return (0);
}

/* Add one run's (or merge's) JSON object into m; -1 if it is not one. */
static int
merge_run(struct merge *m, json_t *o, int first)
{
	static const char *const hists[] = { "latency_us", "connect_us",
	    "teardown_us", "lifetime_us", "handshake_us" };
	struct hist	*to[5] = { &m->s->latency, &m->s->connect,
	    &m->s->teardown, &m->s->lifetime, &m->s->handshake };
	json_t		*errs, *samples, *v;
	const char	*mode = json_string_value(json_object_get(o, "mode"));
	const char	*layout, *target;
	int		 k, runs;

	layout = json_string_value(json_object_get(o, "histogram_layout"));
	if (layout == NULL || strcmp(layout, BENCH_HIST_LAYOUT) != 0 ||
	    mode == NULL)
		return (-1);
	for (k = 0; k < MODE_COUNT; k++)
		if (strcmp(mode, bench_mode_names[k]) == 0)
			break;
	if (k == MODE_COUNT || (!first && (int)m->b.mode != k))
		return (-2);
	m->b.mode = (enum bench_mode)k;
	for (k = 0; k < 5; k++)
		if (merge_hist(to[k], json_object_get(o, hists[k])) == -1)
			return (-1);
	target = json_string_value(json_object_get(o, "target"));
	if (first && target != NULL)
		snprintf(m->target, sizeof m->target, "%s", target);
	else if (target != NULL && strcmp(target, m->target) != 0)
		snprintf(m->target, sizeof m->target, "several");
	runs = (int)get_u64(o, "runs");
	m->r.runs += runs > 0 ? runs : 1;
	m->b.conns += (int)get_u64(o, "connections");
	m->b.threads += (int)get_u64(o, "threads");
	m->b.rate += get_real(o, "rate");
	if (first) {
		m->b.depth = (int)get_u64(o, "depth");
		m->b.size = (int)get_u64(o, "size");
	}
	if (!json_is_true(json_object_get(o, "started")))
		m->b.start = 0;
	if (json_is_true(json_object_get(o, "interrupted")))
		m->b.signals = 1;
	if (json_is_true(json_object_get(o, "tls")))
		m->b.tls_merged = 1;
	if (get_real(o, "seconds") > m->secs)
		m->secs = get_real(o, "seconds");
	m->s->messages += get_u64(o, "messages");
	m->s->late += get_u64(o, "messages_late");
	m->s->bytes_out += get_u64(o, "bytes_sent");
	m->s->bytes_in += get_u64(o, "bytes_received");
	m->s->opened += get_u64(o, "connections_opened");
	m->s->held += get_u64(o, "connections_held");
	m->s->churned += get_u64(o, "churned");
	m->s->handshakes += get_u64(o, "handshakes");
	m->r.messages += get_real(o, "messages_per_second");
	m->r.churned += get_real(o, "connections_per_second");
	m->r.handshakes += get_real(o, "handshakes_per_second");
	m->cpu_user += get_real(o, "cpu_user_seconds");
	m->cpu_sys += get_real(o, "cpu_system_seconds");
	errs = json_object_get(o, "errors");
	samples = json_object_get(o, "error_samples");
	for (k = 0; k < ERROR_COUNT; k++) {
		m->s->errors[k] += get_u64(errs, bench_error_keys[k]);
		v = json_object_get(samples, bench_error_keys[k]);
		if (m->s->sample[k][0] == '\0' && json_is_string(v))
			snprintf(m->s->sample[k], BENCH_SAMPLE_MAX, "%s",
			    json_string_value(v));
	}
	return (0);
}

/* One file: a --json report (its last line); -1 with the reason said. */
static int
merge_file(struct merge *m, const char *path, int first)
{
	json_error_t	 e;
	json_t		*o;
	int		 r;

	/* A report is one line: take the last object in the file. */
	o = json_load_file(path, JSON_DISABLE_EOF_CHECK, &e);
	if (o == NULL) {
		fprintf(stderr, "seqecho-bench: %s:%d: %s\n", path, e.line,
		    e.text);
		return (-1);
	}
	r = json_is_object(o) ? merge_run(m, o, first) : -1;
	json_decref(o);
	if (r == -1)
		fprintf(stderr, "seqecho-bench: %s: not a seqecho-bench "
		    "--json report of this version's histograms\n", path);
	else if (r == -2)
		fprintf(stderr, "seqecho-bench: %s: a %s run, not like the "
		    "others\n", path, bench_mode_names[m->b.mode]);
	return (r < 0 ? -1 : 0);
}

/* seqecho-bench --merge [--json] file...: exits 1 if any had errors. */
int
bench_merge_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL,	'J' },
		{ NULL,		0,		NULL,	0 }
	};
	struct merge	 m;
	uint64_t	 errors = 0;
	int		 ch, i, k;

	memset(&m, 0, sizeof m);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'J')
			merge_usage();
		m.b.json = 1;
	}
	if (optind >= argc)
		merge_usage();
	m.s = xcalloc(1, sizeof *m.s);
	m.b.start = 1;
	for (i = optind; i < argc; i++)
		if (merge_file(&m, argv[i], i == optind) == -1)
			exit(1);
	if (m.b.start != 0)
		m.b.end = m.b.start + (int64_t)(m.secs * 1e9);
	snprintf(m.b.target_name, sizeof m.b.target_name, "%s", m.target);
	m.b.merged = &m.r;
	bench_report(&m.b, m.s, m.secs, m.cpu_user, m.cpu_sys);
	for (k = 0; k < ERROR_COUNT; k++)
		errors += m.s->errors[k];
	free(m.s);
	return (errors > 0 ? 1 : 0);
}
