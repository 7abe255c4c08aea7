/*
 * bench-thread.c - one seqecho-bench event loop and its share of the
 * connections: set up, wait for go, run, stop, grace, done.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * A run, per thread: set up (connect; --idle also one round trip), report
 * ready, wait for go so that every thread's clock starts together, run
 * until the deadline, -m or a stop from the main thread, then wait up to
 * BENCH_GRACE_MS for the replies owed, send bye, and wait as long again
 * for the server to close. The main thread wakes a thread as the daemon
 * wakes its workers: event_active() on an event of the thread's base.
 */
#include "config.h"

#include <sys/types.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "seqecho.h"
#include "bench.h"

/*
 * Connections being set up at once, over all threads: a burst far past
 * the server's listen backlog is only answered by SYN retries a second
 * later.
 */
#define SETUP_WINDOW		128

static void	thread_init(struct bench_thread *);
static void	thread_free(struct bench_thread *);
static void	thread_go_cb(evutil_socket_t, short, void *);
static void	thread_stop_cb(evutil_socket_t, short, void *);
static void	thread_deadline_cb(evutil_socket_t, short, void *);
static void	thread_grace_cb(evutil_socket_t, short, void *);
static void	thread_go(struct bench_thread *);
static void	thread_stop(struct bench_thread *, int64_t);

/*
 * Make thread t's event base and the events the main thread wakes it
 * with, before it runs: a stop may come before the thread has started.
 */
void
bench_thread_new(struct bench *b, struct bench_thread *t)
{
	struct event_config	*cfg;

	t->b = b;
	if ((cfg = event_config_new()) == NULL)
		fatalx("cannot create an event configuration");
	/* -R needs timers finer than epoll's 1 ms. */
	if (b->mode == MODE_OPEN)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	if ((t->base = event_base_new_with_config(cfg)) == NULL)
		fatalx("cannot create an event base");
	event_config_free(cfg);

	t->go_ev = event_new(t->base, -1, 0, thread_go_cb, t);
	t->stop_ev = event_new(t->base, -1, 0, thread_stop_cb, t);
	t->deadline_ev = evtimer_new(t->base, thread_deadline_cb, t);
	t->grace_ev = evtimer_new(t->base, thread_grace_cb, t);
	if (t->go_ev == NULL || t->stop_ev == NULL || t->deadline_ev == NULL ||
	    t->grace_ev == NULL)
		fatalx("cannot create events");
	bench_hlog_thread_new(t);
}

/* Free the base and events of a thread that has been joined. */
void
bench_thread_delete(struct bench_thread *t)
{
	event_free(t->go_ev);
	event_free(t->stop_ev);
	event_free(t->deadline_ev);
	event_free(t->grace_ev);
	bench_hlog_thread_delete(t);
	event_base_free(t->base);
}

/* A load thread: its own event base, its share of the connections. */
void *
bench_thread_main(void *arg)
{
	struct bench_thread	*t = arg;

	thread_init(t);
	if (t->b->mode == MODE_CHURN) {
		t->phase = PHASE_READY;
		bench_tell_main(t->b, &t->b->ready);
	} else
		bench_thread_setup_next(t);
	/* With nothing pending yet (churn waits for go), run on. */
	event_base_loop(t->base, EVLOOP_NO_EXIT_ON_EMPTY);
	thread_free(t);
	bench_tell_main(t->b, &t->b->done);
	return (NULL);
}

/* Make the thread's buffers and connections, in the thread. */
static void
thread_init(struct bench_thread *t)
{
	struct bench	*b = t->b;
	int		 i;

	t->rbuf = xmalloc(BENCH_READ_MAX + b->reply_max);
	t->wbuf = xmalloc(BENCH_WRITE_MAX);
	t->window_end = INT64_MAX;
	t->window = SETUP_WINDOW / b->threads > 0 ?
	    SETUP_WINDOW / b->threads : 1;
	t->conns = xcalloc((size_t)t->nconns, sizeof *t->conns);
	for (i = 0; i < t->nconns; i++)
		bench_conn_init(t, &t->conns[i], i);
}

/* Free the connections and buffers; the stats stay for the report. */
static void
thread_free(struct bench_thread *t)
{
	int	i;

	for (i = 0; i < t->nconns; i++)
		bench_conn_free(&t->conns[i]);
	free(t->conns);
	free(t->rbuf);
	free(t->wbuf);
}

/* Count n errors of a kind; the first of each kind is described. */
void
bench_thread_error(struct bench_thread *t, enum bench_error kind, uint64_t n,
    const char *fmt, ...)
{
	va_list	ap;

	t->stats.errors[kind] += n;
	if (t->stats.sample[kind][0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(t->stats.sample[kind], BENCH_SAMPLE_MAX, fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&t->live_errors, t->live_errors + n,
	    __ATOMIC_RELAXED);
}

/* The main thread says go. */
static void
thread_go_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_thread	*t = arg;

	(void)fd;
	(void)what;
	if (t->phase == PHASE_READY)
		thread_go(t);
}

/* The main thread says stop (an interrupt, or --idle's time is up). */
static void
thread_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_thread	*t = arg;

	(void)fd;
	(void)what;
	thread_stop(t, __atomic_load_n(&t->b->stop_at, __ATOMIC_ACQUIRE));
}

/* -d has run out. */
static void
thread_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_thread	*t = arg;

	(void)fd;
	(void)what;
	thread_stop(t, t->window_end);
}

/*
 * Start connections until the set-up window is full; say ready once all
 * have been tried. Failures do not recurse here, so a run of them cannot
 * grow the stack.
 */
void
bench_thread_setup_next(struct bench_thread *t)
{
	struct bench_conn	*c;

	while (t->phase == PHASE_SETUP && t->next < t->nconns &&
	    t->setting_up < t->window) {
		c = &t->conns[t->next++];
		t->setting_up++;
		if (bench_conn_connect(c) == -1) {
			t->setting_up--;
			c->state = BCONN_CLOSED;
		}
	}
	if (t->phase == PHASE_SETUP && t->next == t->nconns &&
	    t->setting_up == 0) {
		t->phase = PHASE_READY;
		bench_thread_live(t);
		bench_tell_main(t->b, &t->b->ready);
	}
}

/* Start the measured run, on the clock the main thread set. */
static void
thread_go(struct bench_thread *t)
{
	struct bench	*b = t->b;
	struct timeval	 tv;
	int64_t		 now;
	int		 i;

	t->start = __atomic_load_n(&b->run_start, __ATOMIC_ACQUIRE);
	t->phase = PHASE_RUN;
	now = now_ns();
	if (b->seconds > 0 && b->mode != MODE_IDLE) {
		t->window_end = t->start + (int64_t)(b->seconds * NSEC);
		ns_to_timeval(t->window_end - now, &tv);
		evtimer_add(t->deadline_ev, &tv);
	}
	for (i = 0; i < t->nconns; i++) {
		if (b->mode == MODE_CHURN)
			bench_conn_churn_next(&t->conns[i]);
		else
			bench_conn_start(&t->conns[i], now);
	}
	bench_thread_live(t);
	bench_thread_check_done(t);
}

/*
 * End the run at time when: no more messages; each connection says bye
 * once its replies are in; the grace timer deals with the stragglers.
 */
static void
thread_stop(struct bench_thread *t, int64_t when)
{
	struct timeval	 tv;
	int		 i;

	if (t->phase >= PHASE_STOPPING)
		return;
	if (when < t->window_end)
		t->window_end = when;
	t->phase = PHASE_STOPPING;
	evtimer_del(t->deadline_ev);
	for (i = 0; i < t->nconns; i++)
		bench_conn_stop(&t->conns[i]);
	ns_to_timeval((int64_t)BENCH_GRACE_MS * 1000000, &tv);
	t->grace_stage = 1;
	evtimer_add(t->grace_ev, &tv);
	bench_thread_live(t);
	bench_thread_check_done(t);
}

/* A grace period has run out: the first for replies, then for closes. */
static void
thread_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_thread	*t = arg;
	struct timeval		 tv;
	int			 i;

	(void)fd;
	(void)what;
	for (i = 0; i < t->nconns; i++)
		bench_conn_grace(&t->conns[i], t->grace_stage);
	if (t->grace_stage++ == 1) {
		ns_to_timeval((int64_t)BENCH_GRACE_MS * 1000000, &tv);
		evtimer_add(t->grace_ev, &tv);
	}
	bench_thread_live(t);
	bench_thread_check_done(t);
}

/* Stop a run with nothing left to do; end the loop once all closed. */
void
bench_thread_check_done(struct bench_thread *t)
{
	int	idle;

	if (t->phase == PHASE_RUN) {
		if (t->b->mode == MODE_CHURN)
			idle = t->open == 0 && t->budget == 0;
		else
			idle = t->open == 0 ||
			    (t->budget == 0 && t->inflight == 0);
		if (idle)
			thread_stop(t, now_ns());
		return;
	}
	if (t->phase == PHASE_STOPPING && t->open == 0) {
		t->phase = PHASE_DONE;
		event_base_loopbreak(t->base);
	}
}

/* Publish the counters the progress line shows. */
void
bench_thread_live(struct bench_thread *t)
{
	__atomic_store_n(&t->live_replies, t->stats.messages + t->stats.late,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&t->live_churned, t->stats.churned, __ATOMIC_RELAXED);
	__atomic_store_n(&t->live_open, (uint64_t)t->open, __ATOMIC_RELAXED);
}
