/*
 * worker.c - event loops that serve connections. Worker 0 runs on the main
 * thread's base, beside the listeners, so one worker costs no hand-off;
 * the others each run a thread with a base of their own and receive
 * accepted sockets through a queue and a wake-up event.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/socket.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "seqechod.h"
#include "proxy.h"

struct handoff {
	STAILQ_ENTRY(handoff)	 entry;
	struct accepted		 a;
};
STAILQ_HEAD(handoff_queue, handoff);

struct worker {
	struct server		*server;
	int			 index;
	struct event_base	*base;
	int			 own_thread;
	pthread_t		 thread;

	pthread_mutex_t		 lock;		/* guards queue */
	struct handoff_queue	 queue;
	struct event		*wake;
	struct event		*stop;
	struct event		*deadline;

	struct conn_list	 conns;
	struct proxy_list	 proxies;	/* waiting for a header */
	int			 nconns;		/* both of them */
	int			 stopping;
	struct stats		 stats;
};

static void	*worker_main(void *);
static void	 worker_wake_callback(evutil_socket_t, short, void *);
static void	 worker_stop_callback(evutil_socket_t, short, void *);
static void	 worker_deadline_callback(evutil_socket_t, short, void *);
static void	 worker_take(struct worker *);
static void	 worker_begin(struct worker *, const struct accepted *);

/* Set up a worker; with a base it runs there, else on its own thread. */
struct worker *
worker_new(struct server *server, int index, struct event_base *base)
{
	struct worker	*w;

	w = xcalloc(1, sizeof *w);
	w->server = server;
	w->index = index;
	if (base == NULL) {
		if ((base = event_base_new()) == NULL)
			fatalx("cannot create an event base");
		w->own_thread = 1;
	}
	w->base = base;
	pthread_mutex_init(&w->lock, NULL);
	STAILQ_INIT(&w->queue);
	LIST_INIT(&w->conns);
	LIST_INIT(&w->proxies);
	w->wake = event_new(base, -1, 0, worker_wake_callback, w);
	w->stop = event_new(base, -1, 0, worker_stop_callback, w);
	w->deadline = evtimer_new(base, worker_deadline_callback, w);
	if (w->wake == NULL || w->stop == NULL || w->deadline == NULL)
		fatalx("cannot create worker events");
	return (w);
}

void
worker_start(struct worker *w)
{
	char	name[16];
	int	error;

	if (!w->own_thread)
		return;
	if ((error = pthread_create(&w->thread, NULL, worker_main, w)) != 0)
		fatalx("cannot start worker %d: %s", w->index,
		    strerror(error));
	/* So that top -H and ps -L tell the workers apart. */
	snprintf(name, sizeof name, "seqechod-w%d", w->index);
	pthread_setname_np(w->thread, name);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;

	/* Loop until stopped, even with nothing to do yet. */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return (NULL);
}

/* Give an accepted socket to a worker; called on the main thread. */
void
worker_hand(struct worker *w, const struct accepted *a)
{
	struct handoff	*h;

	if (!w->own_thread) {
		worker_begin(w, a);
		return;
	}
	h = xcalloc(1, sizeof *h);
	h->a = *a;
	pthread_mutex_lock(&w->lock);
	STAILQ_INSERT_TAIL(&w->queue, h, entry);
	pthread_mutex_unlock(&w->lock);
	event_active(w->wake, EV_READ, 1);
}

/* Start serving every socket handed over since the last wake-up. */
static void
worker_take(struct worker *w)
{
	struct handoff_queue	 q;
	struct handoff		*h;

	STAILQ_INIT(&q);
	pthread_mutex_lock(&w->lock);
	STAILQ_CONCAT(&q, &w->queue);
	pthread_mutex_unlock(&w->lock);

	while ((h = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		worker_begin(w, &h->a);
		free(h);
	}
}

/*
 * Serve an accepted socket; on a PROXY listener, read its header first.
 * Once stopping, it is told so at once, header or not.
 */
static void
worker_begin(struct worker *w, const struct accepted *a)
{
	w->nconns++;
	if (a->proxy != PROXY_NONE && !w->stopping)
		proxy_start(w, a);
	else
		conn_new(w, a);
}

static void
worker_wake_callback(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	worker_take(w);
	if (w->stopping)
		conn_shutdown_all(&w->conns);
}

/* Ask a worker to drain and stop; safe from any thread. */
void
worker_stop(struct worker *w)
{
	event_active(w->stop, EV_READ, 1);
}

static void
worker_stop_callback(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 tv = { SHUTDOWN_DEADLINE, 0 };

	(void)fd;
	(void)what;
	worker_take(w);
	w->stopping = 1;
	proxy_shutdown_all(&w->proxies);
	conn_shutdown_all(&w->conns);
	if (w->nconns == 0)
		worker_conn_closed(w, -1);
	else
		evtimer_add(w->deadline, &tv);
}

static void
worker_deadline_callback(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	(void)fd;
	(void)what;
	log_warnx("worker %d: shutdown deadline passed, dropping %d "
	    "connections", w->index, w->nconns);
	conn_free_all(&w->conns);
}

/*
 * A connection of this worker has closed (counted says whether it held a
 * place under max_connections; -1 means none closed, just check whether
 * a stopping worker is done).
 */
void
worker_conn_closed(struct worker *w, int counted)
{
	if (counted != -1) {
		w->nconns--;
		server_conn_closed(w->server, counted);
	}
	if (!w->stopping || w->nconns > 0)
		return;
	evtimer_del(w->deadline);
	if (w->own_thread)
		event_base_loopexit(w->base, NULL);
	else
		server_worker_done(w->server);
}

void
worker_join(struct worker *w)
{
	if (w->own_thread)
		pthread_join(w->thread, NULL);
}

void
worker_free(struct worker *w)
{
	struct handoff	*h;

	conn_free_all(&w->conns);
	proxy_free_all(&w->proxies);
	while ((h = STAILQ_FIRST(&w->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&w->queue, entry);
		accepted_close(&h->a);
		free(h);
	}
	event_free(w->wake);
	event_free(w->stop);
	event_free(w->deadline);
	if (w->own_thread)
		event_base_free(w->base);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Add this worker's counters to sum; callable from any thread. */
void
worker_add_stats(struct worker *w, struct stats *sum)
{
	int	i;

	sum->conns_now += STAT_READ(w->stats.conns_now);
	sum->conns_total += STAT_READ(w->stats.conns_total);
	sum->messages += STAT_READ(w->stats.messages);
	sum->bytes_in += STAT_READ(w->stats.bytes_in);
	sum->bytes_out += STAT_READ(w->stats.bytes_out);
	sum->client_first += STAT_READ(w->stats.client_first);
	sum->server_first += STAT_READ(w->stats.server_first);
	sum->proxy_health_checks += STAT_READ(w->stats.proxy_health_checks);
	for (i = 0; i < REASON_COUNT; i++)
		sum->reasons[i] += STAT_READ(w->stats.reasons[i]);
	for (i = 0; i < DURATION_BUCKETS; i++)
		sum->durations[i] += STAT_READ(w->stats.durations[i]);
	sum->duration_usec += STAT_READ(w->stats.duration_usec);
}

/* What a connection of this worker runs on and counts into. */
struct event_base *
worker_base(struct worker *w)
{
	return (w->base);
}

struct stats *
worker_stats(struct worker *w)
{
	return (&w->stats);
}

struct conn_list *
worker_conns(struct worker *w)
{
	return (&w->conns);
}

struct proxy_list *
worker_proxies(struct worker *w)
{
	return (&w->proxies);
}
