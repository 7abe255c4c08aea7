/*
 * bench-hlog.c - seqecho-bench's --hlog: each second, the histograms'
 * growth since the last as one interval per tag in HdrHistogram's log
 * format (hdr.c). A load thread copies its histograms once a second
 * under a lock; the main thread adds the copies up and writes the
 * difference, so the load's own path is untouched.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "seqecho.h"
#include "bench.h"
#include "hdr.h"

static const char *const tags[HLOG_TAGS] = { "latency", "connect",
    "teardown" };

static const struct hist	*tag_hist(const struct bench_stats *, int);
static void	thread_snap_cb(evutil_socket_t, short, void *);
static void	main_hlog_cb(evutil_socket_t, short, void *);
static void	write_intervals(struct bench *, const struct hist *, int64_t);

/* The histogram a tag logs. */
static const struct hist *
tag_hist(const struct bench_stats *s, int k)
{
	return (k == 0 ? &s->latency : k == 1 ? &s->connect : &s->teardown);
}

/* --hlog FILE: open it before any thread starts, or exit. */
void
bench_hlog_open(struct bench *b)
{
	if (b->hlog_path == NULL)
		return;
	if ((b->hlog = fopen(b->hlog_path, "w")) == NULL) {
		fprintf(stderr, "seqecho-bench: --hlog %s: %s\n", b->hlog_path,
		    strerror(errno));
		exit(1);
	}
	b->hlog_prev = xcalloc(HLOG_TAGS, sizeof *b->hlog_prev);
}

/* A thread's copies and its once-a-second timer. */
void
bench_hlog_thread_new(struct bench_thread *t)
{
	struct timeval	tv = { 1, 0 };

	if (t->b->hlog == NULL)
		return;
	t->snap = xcalloc(HLOG_TAGS, sizeof *t->snap);
	pthread_mutex_init(&t->snap_lock, NULL);
	t->snap_ev = event_new(t->base, -1, EV_PERSIST, thread_snap_cb, t);
	if (t->snap_ev == NULL)
		fatalx("cannot create events");
	evtimer_add(t->snap_ev, &tv);
}

/* Free them, the thread joined. */
void
bench_hlog_thread_delete(struct bench_thread *t)
{
	if (t->snap == NULL)
		return;
	event_free(t->snap_ev);
	pthread_mutex_destroy(&t->snap_lock);
	free(t->snap);
}

/* In the load thread: copy the histograms for the main thread. */
static void
thread_snap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_thread	*t = arg;
	int			 k;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&t->snap_lock);
	for (k = 0; k < HLOG_TAGS; k++)
		memcpy(&t->snap[k], tag_hist(&t->stats, k), sizeof t->snap[k]);
	pthread_mutex_unlock(&t->snap_lock);
}

/* The run's clock starts: the log's header, and the main's timer. */
void
bench_hlog_start(struct bench *b)
{
	struct timespec	ts;
	struct timeval	tv = { 1, 0 };

	if (b->hlog == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	b->hlog_epoch = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	b->hlog_mono = b->hlog_last = now_ns();
	hdr_log_header(b->hlog, b->hlog_epoch);
	b->hlog_ev = event_new(b->base, -1, EV_PERSIST, main_hlog_cb, b);
	if (b->hlog_ev == NULL)
		fatalx("cannot create events");
	evtimer_add(b->hlog_ev, &tv);
}

/* Each second: the threads' copies added up, the growth written. */
static void
main_hlog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;
	struct hist	*sum;
	int		 i, k;

	(void)fd;
	(void)what;
	sum = xcalloc(HLOG_TAGS, sizeof *sum);
	for (i = 0; i < b->threads; i++) {
		pthread_mutex_lock(&b->thread[i].snap_lock);
		for (k = 0; k < HLOG_TAGS; k++)
			hist_merge(&sum[k], &b->thread[i].snap[k]);
		pthread_mutex_unlock(&b->thread[i].snap_lock);
	}
	write_intervals(b, sum, now_ns());
	free(sum);
}

/* Write sum - prev per tag as the interval to now; prev becomes sum. */
static void
write_intervals(struct bench *b, const struct hist *sum, int64_t now)
{
	struct hist	*d;
	double		 start, len;
	unsigned	 i;
	int		 k;

	d = xcalloc(1, sizeof *d);
	start = (double)(b->hlog_last - b->hlog_mono) / 1e9;
	len = (double)(now - b->hlog_last) / 1e9;
	for (k = 0; k < HLOG_TAGS; k++) {
		for (i = 0; i < HIST_BUCKETS; i++)
			d->bucket[i] = sum[k].bucket[i] -
			    b->hlog_prev[k].bucket[i];
		hist_recount(d);
		if (hdr_log_interval(b->hlog, tags[k], start, len, d) == -1)
			fatalx("--hlog: cannot write an interval");
		memcpy(&b->hlog_prev[k], &sum[k], sizeof sum[k]);
	}
	b->hlog_last = now;
	free(d);
}

/* The run is over: the last interval from the whole figures; close. */
void
bench_hlog_finish(struct bench *b, const struct bench_stats *total)
{
	struct hist	*sum;
	int		 k;

	if (b->hlog == NULL)
		return;
	if (b->hlog_ev != NULL) {
		sum = xcalloc(HLOG_TAGS, sizeof *sum);
		for (k = 0; k < HLOG_TAGS; k++)
			memcpy(&sum[k], tag_hist(total, k), sizeof sum[k]);
		write_intervals(b, sum, now_ns());
		free(sum);
		event_free(b->hlog_ev);
	}
	if (fclose(b->hlog) != 0) {
		fprintf(stderr, "seqecho-bench: --hlog %s: %s\n", b->hlog_path,
		    strerror(errno));
		exit(1);
	}
	free(b->hlog_prev);
}
