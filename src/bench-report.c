/*
 * bench-report.c - what seqecho-bench prints: the report as a table, one
 * line (-q) or JSON, and the progress line on a terminal.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>

#include "seqecho.h"
#include "bench.h"

struct figures {
	const struct bench	*b;
	const struct bench_rates *r;	/* --merge: the runs' rates added */
	const struct bench_stats *s;
	double			 secs;		/* the measured window */
	double			 cpu_user;
	double			 cpu_sys;
	uint64_t		 errors;
};

static const char *const error_names[ERROR_COUNT] = {
	"wrong serial", "wrong payload", "missing reply", "unexpected close",
	"ERR line", "extra reply", "connect failed", "not closed"
};
const char *const bench_error_keys[ERROR_COUNT] = {
	"wrong_serial", "wrong_payload", "missing_reply", "unexpected_close",
	"err_line", "extra_reply", "connect_failed", "not_closed"
};
#define IS_TLS(b)	((b)->tls_ctx != NULL || (b)->tls_merged)

const char *const bench_mode_names[MODE_COUNT] = { "closed", "open", "churn", "idle" };

static void	report_quiet(const struct figures *);
static void	report_text(const struct figures *);
static void	report_text_run(const struct figures *);
static void	report_text_errors(const struct figures *);
static void	report_json(const struct figures *);
static void	print_hist_text(const char *, const struct hist *);
static void	print_hist_json(const char *, const struct hist *);
static void	print_json_string(const char *);

/* The summary: a table, one line with -q, or JSON. */
void
bench_report(const struct bench *b, const struct bench_stats *s,
    double secs, double cpu_user, double cpu_sys)
{
	struct figures	f = { b, NULL, s, secs, cpu_user, cpu_sys, 0 };
	struct bench_rates r;
	int		k;

	/* One run's rates are its counts over its window. */
	r.runs = 1;
	r.messages = secs > 0 ? s->messages / secs : 0;
	r.churned = secs > 0 ? s->churned / secs : 0;
	r.handshakes = secs > 0 ? s->handshakes / secs : 0;
	f.r = b->merged != NULL ? b->merged : &r;

	for (k = 0; k < ERROR_COUNT; k++)
		f.errors += s->errors[k];
	if (b->json)
		report_json(&f);
	else if (!b->quiet)
		report_text(&f);
	else
		report_quiet(&f);
	fflush(stdout);
}

/* The summary in one line. */
static void
report_quiet(const struct figures *f)
{
	const struct bench_stats	*s = f->s;

	if (f->b->mode == MODE_CHURN && IS_TLS(f->b))
		printf("%.0f conn/s, %.0f handshakes/s, p99 %.1f us, %" PRIu64
		    " errors\n", f->r->churned,
		    f->r->handshakes,
		    hist_percentile(&s->lifetime, 0.99) / 1e3, f->errors);
	else if (f->b->mode == MODE_CHURN)
		printf("%.0f conn/s, p99 %.1f us, %" PRIu64 " errors\n",
		    f->r->churned,
		    hist_percentile(&s->lifetime, 0.99) / 1e3, f->errors);
	else if (f->b->mode == MODE_IDLE)
		printf("%" PRIu64 " connections held, %" PRIu64 " errors\n",
		    s->held, f->errors);
	else
		printf("%.0f msg/s, p99 %.1f us, %" PRIu64 " errors\n",
		    f->r->messages,
		    hist_percentile(&s->latency, 0.99) / 1e3, f->errors);
}

/* The summary as a table, one figure a line, to fit 80 columns. */
static void
report_text(const struct figures *f)
{
	const struct bench	*b = f->b;
	const char		*plural = b->threads == 1 ? "" : "s";

	printf("target      %s%s\n", b->target_name,
	    IS_TLS(b) ? " over TLS" : "");
	if (f->r->runs > 1)
		printf("merged      %d runs: counts and histograms added, "
		    "rates added\n", f->r->runs);
	switch (b->mode) {
	case MODE_CHURN:
		printf("workload    churn, %d at a time, a %d-byte message and "
		    "bye each, %d thread%s\n", b->conns, b->size, b->threads,
		    plural);
		break;
	case MODE_IDLE:
		printf("workload    idle, %d connections, a %d-byte message "
		    "each, %d thread%s\n", b->conns, b->size, b->threads,
		    plural);
		break;
	default:
		printf("workload    %s, %d conns x %d in flight, "
		    "%d B payload, %d thread%s\n", b->mode == MODE_OPEN ?
		    "open loop" : "closed loop", b->conns, b->depth, b->size,
		    b->threads, plural);
		if (b->mode == MODE_OPEN)
			printf("rate        %.0f msg/s scheduled\n", b->rate);
		break;
	}
	report_text_run(f);
	print_hist_text(b->mode == MODE_CHURN ? "reply" : "latency",
	    &f->s->latency);
	print_hist_text("connect", &f->s->connect);
	print_hist_text("handshake", &f->s->handshake);
	if (b->mode == MODE_CHURN) {
		print_hist_text("teardown", &f->s->teardown);
		print_hist_text("lifetime", &f->s->lifetime);
	}
	if (b->start != 0 && b->end > b->start)
		printf("cpu         %.0f%% of one core (user %.2f s, system "
		    "%.2f s)\n", 100 * (f->cpu_user + f->cpu_sys) /
		    ((double)(b->end - b->start) / 1e9), f->cpu_user,
		    f->cpu_sys);
	report_text_errors(f);
}

/* The table's lines on what the run did. */
static void
report_text_run(const struct figures *f)
{
	const struct bench		*b = f->b;
	const struct bench_stats	*s = f->s;
	double				 secs = f->secs;

	if (b->start == 0)
		printf("run         interrupted while setting up\n");
	else if (b->mode == MODE_IDLE)
		printf("held        %" PRIu64 " connections for %.3f s\n",
		    s->held, secs);
	else if (b->mode == MODE_CHURN) {
		printf("connections %" PRIu64 " in %.3f s: %.0f conn/s\n",
		    s->churned, secs, f->r->churned);
		if (IS_TLS(b))
			printf("handshakes  %" PRIu64 " in %.3f s: %.0f full "
			    "TLS handshakes/s\n", s->handshakes, secs,
			    f->r->handshakes);
	}
	else {
		printf("messages    %" PRIu64 " in %.3f s", s->messages, secs);
		if (s->late > 0)
			printf(" (%" PRIu64 " more after it)", s->late);
		printf("\n");
		printf("throughput  %.0f msg/s, %.3f MB/s of payload\n",
		    f->r->messages,
		    f->r->messages * b->size / 1e6);
	}
}

/* The table's errors: the count of each kind, and the first of each. */
static void
report_text_errors(const struct figures *f)
{
	const struct bench_stats	*s = f->s;
	const char			*sep = "";
	int				 k;

	if (f->errors == 0) {
		printf("errors      0\n");
		return;
	}
	printf("errors      %" PRIu64 " (", f->errors);
	for (k = 0; k < ERROR_COUNT; k++) {
		if (s->errors[k] == 0)
			continue;
		printf("%s%s %" PRIu64, sep, error_names[k], s->errors[k]);
		sep = ", ";
	}
	printf(")\n");
	for (k = 0; k < ERROR_COUNT; k++) {
		if (s->errors[k] > 0)
			printf("  first %s: %s\n", error_names[k],
			    s->sample[k]);
	}
}

/* One histogram as a line of percentiles in microseconds. */
static void
print_hist_text(const char *name, const struct hist *h)
{
	if (h->count == 0)
		return;
	printf("%-11s p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f us\n",
	    name, hist_percentile(h, 0.5) / 1e3, hist_percentile(h, 0.9) / 1e3,
	    hist_percentile(h, 0.99) / 1e3, hist_percentile(h, 0.999) / 1e3,
	    h->max / 1e3);
}

/* Every figure as one JSON object on one line. */
static void
report_json(const struct figures *f)
{
	const struct bench		*b = f->b;
	const struct bench_stats	*s = f->s;
	double				 secs = f->secs, wall = 0;
	int				 k, first = 1;

	if (b->start != 0 && b->end > b->start)
		wall = (double)(b->end - b->start) / 1e9;
	printf("{\"version\":");
	print_json_string(PACKAGE_VERSION);
	printf(",\"runs\":%d,\"histogram_layout\":\"%s\"", f->r->runs,
	    BENCH_HIST_LAYOUT);
	printf(",\"target\":");
	print_json_string(b->target_name);
	printf(",\"mode\":\"%s\",\"connections\":%d,\"depth\":%d,"
	    "\"size\":%d,\"threads\":%d,\"rate\":%.3f,\"started\":%s,"
	    "\"interrupted\":%s,\"seconds\":%.6f,", bench_mode_names[b->mode],
	    b->conns, b->depth, b->size, b->threads, b->rate,
	    b->start != 0 ? "true" : "false",
	    b->signals > 0 ? "true" : "false", secs);
	printf("\"messages\":%" PRIu64 ",\"messages_late\":%" PRIu64 ","
	    "\"messages_per_second\":%.3f,\"payload_mb_per_second\":%.6f,",
	    s->messages, s->late, f->r->messages,
	    f->r->messages * b->size / 1e6);
	printf("\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ","
	    "\"connections_opened\":%" PRIu64 ",\"connections_held\":%"
	    PRIu64 ",\"churned\":%" PRIu64 ",\"connections_per_second\":"
	    "%.3f,", s->bytes_out, s->bytes_in, s->opened, s->held,
	    s->churned, f->r->churned);
	print_hist_json("latency_us", &s->latency);
	print_hist_json("connect_us", &s->connect);
	print_hist_json("teardown_us", &s->teardown);
	print_hist_json("lifetime_us", &s->lifetime);
	printf("\"tls\":%s,\"handshakes\":%" PRIu64 ",\"handshakes_per_second\""
	    ":%.3f,", IS_TLS(b) ? "true" : "false", s->handshakes,
	    f->r->handshakes);
	print_hist_json("handshake_us", &s->handshake);
	printf("\"cpu_user_seconds\":%.3f,\"cpu_system_seconds\":%.3f,"
	    "\"cpu_percent\":%.1f,", f->cpu_user, f->cpu_sys,
	    wall > 0 ? 100 * (f->cpu_user + f->cpu_sys) / wall : 0);
	printf("\"errors\":{\"total\":%" PRIu64, f->errors);
	for (k = 0; k < ERROR_COUNT; k++)
		printf(",\"%s\":%" PRIu64, bench_error_keys[k], s->errors[k]);
	printf("},\"error_samples\":{");
	for (k = 0; k < ERROR_COUNT; k++) {
		if (s->errors[k] == 0)
			continue;
		printf("%s\"%s\":", first ? "" : ",", bench_error_keys[k]);
		print_json_string(s->sample[k]);
		first = 0;
	}
	printf("}}\n");
}

/*
 * "name":{...}, with the figures in microseconds, then the exact ones in
 * nanoseconds and the counts as [HdrHistogram index, count] pairs, for
 * --merge.
 */
static void
print_hist_json(const char *name, const struct hist *h)
{
	const char	*sep = "";
	unsigned	 i, top = hist_top(h);

	printf("\"%s\":{\"count\":%" PRIu64 ",\"min\":%.3f,\"mean\":%.3f,"
	    "\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
	    "\"max\":%.3f,", name, h->count, h->min / 1e3,
	    h->count > 0 ? (double)h->sum / (double)h->count / 1e3 : 0,
	    hist_percentile(h, 0.5) / 1e3, hist_percentile(h, 0.9) / 1e3,
	    hist_percentile(h, 0.99) / 1e3, hist_percentile(h, 0.999) / 1e3,
	    h->max / 1e3);
	printf("\"min_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64 ",\"sum_ns\":%"
	    PRIu64 ",\"counts\":[", h->min, h->max, h->sum);
	for (i = 0; i < top; i++) {
		if (h->bucket[i] == 0)
			continue;
		printf("%s[%u,%" PRIu64 "]", sep, i, h->bucket[i]);
		sep = ",";
	}
	printf("]},");
}

/* A JSON string, quoted and escaped. */
static void
print_json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Once a second on a terminal: where the run has got to. */
void
bench_progress(struct bench *b)
{
	uint64_t	replies = 0, errors = 0, churned = 0, open = 0, count;
	int64_t		now = now_ns();
	double		secs, rate;
	int		i;

	for (i = 0; i < b->threads; i++) {
		replies += __atomic_load_n(&b->thread[i].live_replies,
		    __ATOMIC_RELAXED);
		errors += __atomic_load_n(&b->thread[i].live_errors,
		    __ATOMIC_RELAXED);
		churned += __atomic_load_n(&b->thread[i].live_churned,
		    __ATOMIC_RELAXED);
		open += __atomic_load_n(&b->thread[i].live_open,
		    __ATOMIC_RELAXED);
	}
	b->progress = 1;
	if (b->start == 0) {
		fprintf(stderr, "\rsetting up: %" PRIu64 " of %d connected, %"
		    PRIu64 " errors\033[K", open, b->conns, errors);
		return;
	}
	count = b->mode == MODE_CHURN ? churned : replies;
	secs = (double)(now - b->last_tick) / 1e9;
	rate = secs > 0 ? (double)(count - b->last_count) / secs : 0;
	b->last_tick = now;
	b->last_count = count;
	secs = (double)(now - b->start) / 1e9;
	if (b->mode == MODE_CHURN)
		fprintf(stderr, "\r%6.1f s  %" PRIu64 " connections  %.0f "
		    "conn/s  %" PRIu64 " open  %" PRIu64 " errors\033[K", secs,
		    count, rate, open, errors);
	else if (b->mode == MODE_IDLE)
		fprintf(stderr, "\r%6.1f s  holding %" PRIu64 " connections  %"
		    PRIu64 " errors\033[K", secs, open, errors);
	else
		fprintf(stderr, "\r%6.1f s  %" PRIu64 " messages  %.0f msg/s  %"
		    PRIu64 " open  %" PRIu64 " errors\033[K", secs, count,
		    rate, open, errors);
}

/* Wipe the progress line before anything else goes to the terminal. */
void
bench_progress_clear(struct bench *b)
{
	if (b->progress) {
		fputs("\r\033[K", stderr);
		b->progress = 0;
	}
}
