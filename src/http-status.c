/*
 * http-status.c - what /metrics and /status.json are made of: the
 * counters summed, the TCP states of the echo ports, the listeners, and
 * the open connections, asked of each worker through its own event loop.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * A connection belongs to its worker's thread, so no other thread reads
 * it. /status.json activates an event in each worker's base; the worker
 * copies its newest connections into its slot (under the slot's lock) and
 * wakes the main loop, which answers once all have, or after
 * STATUS_WAIT_MS with those that did: a worker never stops for it, and
 * one that cannot answer delays no one for long. Requests that come while
 * a round is out get its answer. The TCP states come from the sampler
 * thread (http-sample.c), which a round waits for too when its last
 * sample is over a second old; /metrics with a fresh one is answered at
 * once.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "http.h"
#include "conn.h"
#include "listen.h"
#include "proxy.h"

/* One worker's part of a round. */
struct slot {
	struct status		*status;
	struct worker		*worker;
	struct event		*ev;		/* in the worker's base */
	pthread_mutex_t		 lock;		/* guards what follows */
	unsigned		 asked;		/* the round wanted */
	unsigned		 answered;	/* the round copied */
	struct conn_snap	 snaps[STATUS_MAX_CONNS];
	size_t			 n;
};

/* A request waiting for the round's answer. */
struct waiting {
	TAILQ_ENTRY(waiting)	 entry;
	struct evhttp_request	*req;
	enum status_kind	 kind;
};
TAILQ_HEAD(waiting_list, waiting);

struct status {
	struct server		*server;
	struct event_base	*base;
	struct slot		*slots;
	int			 nslots;
	unsigned		 round;
	int			 busy;		/* a round is out */
	struct event		*answer;	/* a worker answered */
	struct event		*deadline;
	struct waiting_list	 waiting;
	char			 http[ADDRSTRLEN];	/* the endpoint's */
	struct sampler		*sampler;
	unsigned		 sample;	/* the round waits for it; 0 no */
	struct metrics_snapshot	 fresh;		/* else its states are here */
};

static void	slot_callback(evutil_socket_t, short, void *);
static void	slot_collect(struct slot *);
static void	snap_conn(const struct conn *, const struct timeval *,
		    struct conn_snap *);
static void	status_answer_callback(evutil_socket_t, short, void *);
static void	status_finish(struct status *);
static size_t	status_conns(struct status *, struct conn_snap *, int *);
static int	snap_newer(const void *, const void *);
static size_t	status_listener_snaps(struct server *,
		    struct listener_snap **);
static unsigned	status_sample(struct status *, struct metrics_snapshot *);
static void	status_reply(struct evhttp_request *, enum status_kind,
		    const struct metrics_snapshot *, struct evbuffer *);

/* Set up a slot and its event in each worker's base. */
struct status *
status_new(struct server *server, struct event_base *base, const char *http)
{
	struct status	*st;
	struct slot	*sl;
	int		 i;

	st = xcalloc(1, sizeof *st);
	st->server = server;
	st->base = base;
	snprintf(st->http, sizeof st->http, "%s", http);
	TAILQ_INIT(&st->waiting);
	st->nslots = server_nworkers(server);
	st->slots = xcalloc((size_t)st->nslots, sizeof *st->slots);
	st->answer = event_new(base, -1, 0, status_answer_callback, st);
	st->deadline = evtimer_new(base, status_answer_callback, st);
	if (st->answer == NULL || st->deadline == NULL)
		fatalx("cannot set up the status events");
	for (i = 0; i < st->nslots; i++) {
		sl = &st->slots[i];
		sl->status = st;
		sl->worker = server_worker(server, i);
		pthread_mutex_init(&sl->lock, NULL);
		sl->ev = event_new(worker_base(sl->worker), -1, 0,
		    slot_callback, sl);
		if (sl->ev == NULL)
			fatalx("cannot set up the status events");
	}
	st->sampler = sampler_new(st->answer);
	return (st);
}

/*
 * Answer what waits with 503 and free it all. A worker's callback still
 * running is waited for by event_free (libevent's locking does that).
 */
void
status_free(struct status *st)
{
	struct waiting	*wt;
	int		 i;

	if (st == NULL)
		return;
	while ((wt = TAILQ_FIRST(&st->waiting)) != NULL) {
		TAILQ_REMOVE(&st->waiting, wt, entry);
		http_send_status(wt->req, wt->kind, NULL);
		free(wt);
	}
	for (i = 0; i < st->nslots; i++) {
		event_free(st->slots[i].ev);
		pthread_mutex_destroy(&st->slots[i].lock);
	}
	/* Its last sample may activate answer: stop it first. */
	sampler_free(st->sampler);
	event_free(st->answer);
	event_free(st->deadline);
	free(st->slots);
	free(st);
}

/*
 * GET /status.json or /metrics: wait for a round, starting one if none is
 * out; /metrics with a fresh sample of the states is answered now.
 */
void
status_request(struct status *st, struct evhttp_request *req,
    enum status_kind kind)
{
	struct timeval		 tv = { STATUS_WAIT_MS / 1000,
				    (STATUS_WAIT_MS % 1000) * 1000 };
	struct metrics_snapshot	 m;
	struct waiting		*wt;
	struct slot		*sl;
	int			 i;

	if (kind == STATUS_METRICS && !st->busy) {
		status_snapshot(st->server, &m);
		if (status_sample(st, &m) == 0) {
			status_reply(req, kind, &m, NULL);
			return;
		}
	}
	wt = xcalloc(1, sizeof *wt);
	wt->req = req;
	wt->kind = kind;
	TAILQ_INSERT_TAIL(&st->waiting, wt, entry);
	if (st->busy)
		return;
	st->busy = 1;
	st->round++;
	memset(&st->fresh, 0, sizeof st->fresh);
	st->sample = status_sample(st, &st->fresh);
	for (i = 0; i < st->nslots; i++) {
		sl = &st->slots[i];
		pthread_mutex_lock(&sl->lock);
		sl->asked = st->round;
		pthread_mutex_unlock(&sl->lock);
		/* Worker 0 runs here, on this base: ask it now. */
		if (worker_base(sl->worker) == st->base)
			slot_collect(sl);
		else
			event_active(sl->ev, EV_READ, 1);
	}
	evtimer_add(st->deadline, &tv);
	event_active(st->answer, EV_READ, 1);
}

/*
 * The states of the echo ports (not the HTTP one): a fresh sample into m
 * and 0, or the number of the sample asked for.
 */
static unsigned
status_sample(struct status *st, struct metrics_snapshot *m)
{
	const struct listeners	*ls = server_listeners(st->server);
	int			 ports[64];
	size_t			 i, j, n = 0;

	for (i = 0; i < ls->cur.n && n < sizeof ports / sizeof ports[0];
	    i++) {
		for (j = 0; j < n && ports[j] != ls->cur.v[i]->bound_port; j++)
			;
		if (j == n)
			ports[n++] = ls->cur.v[i]->bound_port;
	}
	return (sampler_get(st->sampler, ports, n, m));
}

/* Answer one request: the metrics of m, or a copy of json. */
static void
status_reply(struct evhttp_request *req, enum status_kind kind,
    const struct metrics_snapshot *m, struct evbuffer *json)
{
	struct evbuffer	*body;

	if ((body = evbuffer_new()) == NULL)
		fatalx("out of memory");
	if (kind == STATUS_METRICS)
		metrics_format(m, body);
	else
		evbuffer_add(body, evbuffer_pullup(json, -1),
		    evbuffer_get_length(json));
	http_send_status(req, kind, body);
	evbuffer_free(body);
}

/* In a worker's thread: copy its connections, tell the main loop. */
static void
slot_callback(evutil_socket_t fd, short what, void *arg)
{
	struct slot	*sl = arg;

	(void)fd;
	(void)what;
	slot_collect(sl);
	event_active(sl->status->answer, EV_READ, 1);
}

/* The worker's newest connections (the list's head) into its slot. */
static void
slot_collect(struct slot *sl)
{
	struct conn	*c;
	struct timeval	 now;
	size_t		 n = 0;

	gettimeofday(&now, NULL);
	pthread_mutex_lock(&sl->lock);
	if (sl->answered != sl->asked) {
		LIST_FOREACH(c, worker_conns(sl->worker), entry) {
			if (n == STATUS_MAX_CONNS)
				break;
			snap_conn(c, &now, &sl->snaps[n++]);
		}
		sl->n = n;
		sl->answered = sl->asked;
	}
	pthread_mutex_unlock(&sl->lock);
}

/* One connection as /status.json shows it; the socket says the rest. */
static void
snap_conn(const struct conn *c, const struct timeval *now,
    struct conn_snap *s)
{
	struct sockaddr_storage	ss;
	struct tcp_info		ti;
	socklen_t		len = sizeof ss;
	struct timeval		age;

	memset(s, 0, sizeof *s);
	s->id = c->id;
	snprintf(s->peer, sizeof s->peer, "%s", c->peer);
	/* c->via is " via=ADDRESS", as the log line has it. */
	if (strncmp(c->via, " via=", 5) == 0)
		snprintf(s->via, sizeof s->via, "%s", c->via + 5);
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
		addr_format((struct sockaddr *)&ss, s->local, sizeof s->local);
	if (c->tls_version != NULL)
		snprintf(s->tls, sizeof s->tls, "%s", c->tls_version);
	len = sizeof ti;
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
		s->tcp_state = ti.tcpi_state;
	s->phase = c->state;
	s->messages = c->messages;
	s->bytes_in = c->bytes_in;
	s->bytes_out = c->bytes_out;
	/* started is libevent's cached clock, which may run a little ahead. */
	timersub(now, &c->started, &age);
	s->age = (double)age.tv_sec + (double)age.tv_usec / 1e6;
	if (s->age < 0)
		s->age = 0;
}

/* A worker answered, or the wait is over: answer if the round is done. */
static void
status_answer_callback(evutil_socket_t fd, short what, void *arg)
{
	struct status		*st = arg;
	struct metrics_snapshot	 m;
	int			 i, done = 0;

	(void)fd;
	if (!st->busy)
		return;
	for (i = 0; i < st->nslots; i++) {
		pthread_mutex_lock(&st->slots[i].lock);
		done += st->slots[i].answered == st->round;
		pthread_mutex_unlock(&st->slots[i].lock);
	}
	if ((done == st->nslots && (st->sample == 0 ||
	    sampler_ready(st->sampler, st->sample, &m))) ||
	    (what & EV_TIMEOUT))
		status_finish(st);
}

/* Make the round's answer and send it to every request waiting. */
static void
status_finish(struct status *st)
{
	struct metrics_snapshot	 m;
	struct status_view	 v;
	struct listener_snap	*ls;
	struct conn_snap	*conns;
	struct evbuffer		*json;
	struct waiting		*wt;

	st->busy = 0;
	evtimer_del(st->deadline);
	status_snapshot(st->server, &m);
	if (st->sample == 0) {
		m.tcp_valid = st->fresh.tcp_valid;
		m.tcp = st->fresh.tcp;
		m.tcp_source = st->fresh.tcp_source;
	} else if (!sampler_ready(st->sampler, st->sample, &m))
		log_debug("http: no sample of the TCP states in time");
	conns = xcalloc((size_t)st->nslots * STATUS_MAX_CONNS, sizeof *conns);
	memset(&v, 0, sizeof v);
	v.m = &m;
	v.http = st->http;
	v.nworkers = st->nslots;
	v.nconns = status_conns(st, conns, &v.answered);
	v.conns = conns;
	v.nlisteners = status_listener_snaps(st->server, &ls);
	v.listeners = ls;
	if ((json = evbuffer_new()) == NULL)
		fatalx("out of memory");
	status_format(&v, json);
	while ((wt = TAILQ_FIRST(&st->waiting)) != NULL) {
		TAILQ_REMOVE(&st->waiting, wt, entry);
		status_reply(wt->req, wt->kind, &m, json);
		free(wt);
	}
	evbuffer_free(json);
	free(ls);
	free(conns);
}

/* The answered slots' connections, the newest STATUS_MAX_CONNS first. */
static size_t
status_conns(struct status *st, struct conn_snap *all, int *answered)
{
	struct slot	*sl;
	size_t		 n = 0;
	int		 i;

	*answered = 0;
	for (i = 0; i < st->nslots; i++) {
		sl = &st->slots[i];
		pthread_mutex_lock(&sl->lock);
		if (sl->answered == st->round) {
			memcpy(all + n, sl->snaps, sl->n * sizeof *all);
			n += sl->n;
			(*answered)++;
		}
		pthread_mutex_unlock(&sl->lock);
	}
	/* Ids grow with each accept: the highest are the newest. */
	qsort(all, n, sizeof *all, snap_newer);
	return (n > STATUS_MAX_CONNS ? STATUS_MAX_CONNS : n);
}

static int
snap_newer(const void *a, const void *b)
{
	const struct conn_snap	*x = a, *y = b;

	return (x->id < y->id ? 1 : x->id > y->id ? -1 : 0);
}

/* The echo listeners, as the listening lines name them. */
static size_t
status_listener_snaps(struct server *server, struct listener_snap **out)
{
	const struct listeners	*ls = server_listeners(server);
	struct listener_snap	*v;
	size_t			 i;

	v = xcalloc(ls->cur.n > 0 ? ls->cur.n : 1, sizeof *v);
	for (i = 0; i < ls->cur.n; i++) {
		snprintf(v[i].address, sizeof v[i].address, "%s",
		    ls->cur.v[i]->name);
		v[i].proxy = ls->cur.v[i]->proxy;
		v[i].tls = ls->cur.v[i]->tls;
	}
	*out = v;
	return (ls->cur.n);
}

/* The counters, summed over the workers, and the daemon's own. */
void
status_snapshot(struct server *server, struct metrics_snapshot *m)
{
	const struct config	*cfg = server_config(server);
	struct stats		 st;
	struct timeval		 now;
	int			 i;

	memset(m, 0, sizeof *m);
	m->version = PACKAGE_VERSION;
	if (cfg->name[0] != '\0')
		snprintf(m->name, sizeof m->name, "%s", cfg->name);
	else if (gethostname(m->name, sizeof m->name - 1) == -1)
		snprintf(m->name, sizeof m->name, "seqechod");
	gettimeofday(&now, NULL);
	m->now = (double)now.tv_sec + (double)now.tv_usec / 1e6;
	server_counters(server, m);
	server_sum_stats(server, &st);
	m->conns_open = st.conns_now;
	m->messages = st.messages;
	m->bytes_in = st.bytes_in;
	m->bytes_out = st.bytes_out;
	m->proxy_health_checks = st.proxy_health_checks;
	for (i = 0; i < REASON_COUNT; i++) {
		m->closed[i] = st.reasons[i];
		m->reason_names[i] = conn_reason_name(i);
	}
	memcpy(m->durations, st.durations, sizeof m->durations);
	m->duration_usec = st.duration_usec;
}
