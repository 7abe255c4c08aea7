/*
 * bench.c - seqecho-bench: load a seqecho server and check every reply.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * This file holds main and the main thread's loop (the options, the
 * target and the descriptors are bench-options.c's), which starts the -T
 * load threads (bench-thread.c), starts their clocks together once all
 * are set up, turns signals into stops, shows the progress, and merges
 * the threads' figures for the report (bench-report.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "seqecho.h"
#include "bench.h"
#include "hdr.h"

static void	bench_events(struct bench *, struct event **);
static void	bench_start(struct bench *);
static int64_t	bench_join(struct bench *, struct bench_stats *);
static void	stats_merge(struct bench_stats *, const struct bench_stats *);
static void	cpu_used(const struct bench *, double *, double *);

static void	main_notify_cb(evutil_socket_t, short, void *);
static void	main_signal_cb(evutil_socket_t, short, void *);
static void	main_progress_cb(evutil_socket_t, short, void *);
static void	main_hold_cb(evutil_socket_t, short, void *);
static void	main_start(struct bench *);
static void	main_stop(struct bench *);

/* Nanoseconds on the monotonic clock. */
int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * NSEC + ts.tv_nsec);
}

/* Nanoseconds from now as a libevent timeout. */
void
ns_to_timeval(int64_t ns, struct timeval *tv)
{
	if (ns < 0)
		ns = 0;
	tv->tv_sec = ns / NSEC;
	tv->tv_usec = (ns % NSEC) / 1000;
}

/*
 * The main thread's base and events: the threads' word, the two signals
 * (sig[0], sig[1]), --idle's hold timer, and on a terminal the progress.
 */
static void
bench_events(struct bench *b, struct event **sig)
{
	struct timeval	second = { 1, 0 };

	if (evthread_use_pthreads() == -1)
		fatalx("cannot set up libevent threads");
	if ((b->base = event_base_new()) == NULL)
		fatalx("cannot create an event base");
	b->notify_ev = event_new(b->base, -1, 0, main_notify_cb, b);
	b->hold_ev = evtimer_new(b->base, main_hold_cb, b);
	sig[0] = evsignal_new(b->base, SIGINT, main_signal_cb, b);
	sig[1] = evsignal_new(b->base, SIGTERM, main_signal_cb, b);
	if (b->notify_ev == NULL || b->hold_ev == NULL || sig[0] == NULL ||
	    sig[1] == NULL || evsignal_add(sig[0], NULL) == -1 ||
	    evsignal_add(sig[1], NULL) == -1)
		fatalx("cannot create events");
	if (!b->quiet && isatty(STDERR_FILENO)) {
		b->progress_ev = event_new(b->base, -1, EV_PERSIST,
		    main_progress_cb, b);
		if (b->progress_ev == NULL ||
		    event_add(b->progress_ev, &second) == -1)
			fatalx("cannot create a timer");
	}
}

/* Share out the connections and the -m budget, and start the threads. */
static void
bench_start(struct bench *b)
{
	struct bench_thread	*t;
	sigset_t		 block, saved;
	uint32_t		 id = 0;
	uint64_t		 n = (uint64_t)b->threads;
	int			 i, error;

	/* Signals go to the main thread, whose loop turns them into stops. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	b->thread = xcalloc((size_t)b->threads, sizeof *b->thread);
	for (i = 0; i < b->threads; i++) {
		t = &b->thread[i];
		t->index = i;
		t->nconns = b->conns / b->threads + (i < b->conns % b->threads);
		t->first_id = id;
		id += (uint32_t)t->nconns;
		t->budget = UINT64_MAX;
		if (b->messages > 0)
			t->budget = b->messages / n +
			    ((uint64_t)i < b->messages % n);
		bench_thread_new(b, t);
		if ((error = pthread_create(&t->tid, NULL, bench_thread_main,
		    t)) != 0) {
			errno = error;
			fatal("pthread_create");
		}
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

/* Wait for the threads and add up their figures; the window's end. */
static int64_t
bench_join(struct bench *b, struct bench_stats *total)
{
	struct bench_thread	*t;
	int64_t			 end = 0;
	int			 i;

	for (i = 0; i < b->threads; i++) {
		t = &b->thread[i];
		pthread_join(t->tid, NULL);
		stats_merge(total, &t->stats);
		if (t->window_end != INT64_MAX && t->window_end > end)
			end = t->window_end;
		bench_thread_delete(t);
	}
	return (end);
}

/* Add one thread's figures into the total. */
static void
stats_merge(struct bench_stats *to, const struct bench_stats *s)
{
	int	k;

	hist_merge(&to->latency, &s->latency);
	hist_merge(&to->connect, &s->connect);
	hist_merge(&to->teardown, &s->teardown);
	hist_merge(&to->lifetime, &s->lifetime);
	hist_merge(&to->handshake, &s->handshake);
	to->handshakes += s->handshakes;
	to->messages += s->messages;
	to->late += s->late;
	to->bytes_out += s->bytes_out;
	to->bytes_in += s->bytes_in;
	to->opened += s->opened;
	to->churned += s->churned;
	to->held += s->held;
	for (k = 0; k < ERROR_COUNT; k++) {
		to->errors[k] += s->errors[k];
		if (to->sample[k][0] == '\0')
			memcpy(to->sample[k], s->sample[k], BENCH_SAMPLE_MAX);
	}
}

/* The processor time used since the clock started, user and system. */
static void
cpu_used(const struct bench *b, double *user, double *sys)
{
	struct rusage	ru;

	*user = *sys = 0;
	if (b->start == 0 || getrusage(RUSAGE_SELF, &ru) == -1)
		return;
	*user = (double)(ru.ru_utime.tv_sec - b->ru_start.ru_utime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec - b->ru_start.ru_utime.tv_usec) / 1e6;
	*sys = (double)(ru.ru_stime.tv_sec - b->ru_start.ru_stime.tv_sec) +
	    (double)(ru.ru_stime.tv_usec - b->ru_start.ru_stime.tv_usec) / 1e6;
}

/* From a load thread: one more is set up or done (*counter). */
void
bench_tell_main(struct bench *b, int *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_ACQ_REL);
	event_active(b->notify_ev, EV_READ, 1);
}

/* Threads are set up or done: start the run, or end the loop. */
static void
main_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;

	(void)fd;
	(void)what;
	if (!b->started && !b->stopping &&
	    __atomic_load_n(&b->ready, __ATOMIC_ACQUIRE) == b->threads)
		main_start(b);
	if (__atomic_load_n(&b->done, __ATOMIC_ACQUIRE) == b->threads)
		event_base_loopbreak(b->base);
}

/* Every thread is set up: start the clock for all of them at once. */
static void
main_start(struct bench *b)
{
	struct timeval	tv;
	uint64_t	held = 0;
	int		i;

	b->started = 1;
	b->start = now_ns();
	getrusage(RUSAGE_SELF, &b->ru_start);
	bench_hlog_start(b);
	b->last_tick = b->start;
	b->last_count = 0;
	__atomic_store_n(&b->run_start, b->start, __ATOMIC_RELEASE);
	for (i = 0; i < b->threads; i++)
		event_active(b->thread[i].go_ev, EV_READ, 1);
	if (b->mode != MODE_IDLE)
		return;
	for (i = 0; i < b->threads; i++)
		held += __atomic_load_n(&b->thread[i].live_open,
		    __ATOMIC_RELAXED);
	if (!b->quiet) {
		bench_progress_clear(b);
		fprintf(stderr, "seqecho-bench: holding %" PRIu64
		    " connections to %s%s\n", held, b->target_name,
		    b->seconds > 0 ? "" : " until interrupted");
	}
	if (b->seconds > 0) {
		ns_to_timeval((int64_t)(b->seconds * NSEC), &tv);
		evtimer_add(b->hold_ev, &tv);
	}
}

/* Stop every thread (an interrupt, or --idle's time is up). */
static void
main_stop(struct bench *b)
{
	int	i;

	if (b->stopping)
		return;
	b->stopping = 1;
	__atomic_store_n(&b->stop_at, now_ns(), __ATOMIC_RELEASE);
	for (i = 0; i < b->threads; i++)
		event_active(b->thread[i].stop_ev, EV_READ, 1);
}

/* The first interrupt ends the run cleanly, a second one at once. */
static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct bench	*b = arg;

	(void)sig;
	(void)what;
	if (b->signals++ > 0) {
		bench_progress_clear(b);
		fprintf(stderr, "seqecho-bench: interrupted\n");
		_exit(130);
	}
	main_stop(b);
}

/* --idle has held its connections for -d seconds. */
static void
main_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	main_stop(arg);
}

/* Once a second on a terminal. */
static void
main_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bench_progress(arg);
}

/* Parse the options, run the threads, merge their figures, report. */
int
main(int argc, char **argv)
{
	struct bench		 b;
	struct bench_stats	*total;
	struct event		*sig[2];
	double			 secs = 0, cpu_user, cpu_sys;
	int64_t			 end;
	uint64_t		 errors = 0;
	int			 k;

	if (argc > 1 && strcmp(argv[1], "--merge") == 0)
		return (bench_merge_main(argc - 1, argv + 1));
	memset(&b, 0, sizeof b);
	bench_setup(&b, argc, argv);
	bench_hlog_open(&b);
	bench_events(&b, sig);
	bench_start(&b);

	event_base_dispatch(b.base);
	b.end = now_ns();
	total = xcalloc(1, sizeof *total);
	end = bench_join(&b, total);
	bench_progress_clear(&b);

	/* The window: start to the latest thread's end of counting. */
	if (b.start != 0 && end > b.start)
		secs = (double)(end - b.start) / 1e9;
	cpu_used(&b, &cpu_user, &cpu_sys);
	/* Nothing got through: say why where a script will see it. */
	if (total->opened == 0 && total->errors[ERROR_CONNECT] > 0)
		fprintf(stderr, "seqecho-bench: %s\n",
		    total->sample[ERROR_CONNECT]);
	bench_report(&b, total, secs, cpu_user, cpu_sys);
	if (b.percentiles) {
		hdr_percentiles(stdout, &total->latency, 1e3);
		fflush(stdout);
	}
	bench_hlog_finish(&b, total);

	for (k = 0; k < ERROR_COUNT; k++)
		errors += total->errors[k];
	free(total);
	free(b.thread);
	check_free(&b.check);
	free(b.separator);
	bench_tls_free(&b);
	sources_free(&b.sources);
	event_free(b.notify_ev);
	event_free(b.hold_ev);
	if (b.progress_ev != NULL)
		event_free(b.progress_ev);
	event_free(sig[0]);
	event_free(sig[1]);
	event_base_free(b.base);
	libevent_global_shutdown();
	return (errors > 0 ? 1 : 0);
}
