/*
 * server.c - the accept policy: the connection limit, pausing accept,
 * spreading connections over the workers, reloading the configuration,
 * and graceful shutdown. The listening sockets themselves are
 * server-listen.c's; the descriptors all of it needs, server-fds.c's.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * One thread accepts and hands sockets to the workers. Per-worker listeners
 * with SO_REUSEPORT were the alternative, and measured no faster with two
 * workers (50 connections x 32 in flight: 4.61M msg/s either way; churn:
 * 30.2k conn/s here, 26.1k with reuseport; see bench/RESULTS.md). One
 * acceptor also keeps port 0, the global limit and listener changes on
 * reload simple (closing a reuseport listener resets the connections
 * queued on it), and worker 0 shares the acceptor's loop, so one worker
 * pays nothing for the hand-off.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "seqechod.h"
#include "tls.h"
#include "http.h"
#include "proxy.h"

/* Milliseconds accept stays paused before looking again. */
#define ACCEPT_RETRY_MS		100

struct server {
	struct event_base	*base;
	struct config		*cfg;
	const struct daemon_options *opts;
	struct conn_params	 params;

	struct listeners	*listeners;
	int			 accept_paused;		/* atomic */
	struct event		*accept_timer;
	time_t			 accept_logged;

	struct worker		**workers;
	int			 nworkers;
	unsigned		 next_worker;
	int			 nconns;		/* atomic */
	int			 nover;			/* atomic */
	int			 over_max;
	int			 fds_fixed;	/* held, listeners aside */
	int			 reserve_fd;	/* for the shutdown drain */
	uint64_t		 next_id;
	int			 stopping;
	int			 activated;	/* sockets from systemd */
	SSL_CTX			*tls;		/* for new tls connections */
	time_t			 tls_not_after;

	struct http		*http;		/* the metrics endpoint */
	struct timeval		 started;
	uint64_t		 accepted;	/* on the main thread, these */
	uint64_t		 rejected;
	uint64_t		 pauses;
	uint64_t		 reloads_ok;
	uint64_t		 reloads_failed;
};

static void	server_set_params(struct server *);
static int	server_can_accept(struct server *);
static void	server_accept_timer_callback(evutil_socket_t, short, void *);
static void	server_pause_accept(struct server *);
static void	server_accept_backlog(struct server *);
static int	server_tell_queued(struct server *, int);
static void	server_fd_budget(struct server *, struct config *);

/* Set up the workers; worker 0 shares base, the main thread's loop. */
struct server *
server_new(struct event_base *base, struct config *cfg,
    const struct daemon_options *opts)
{
	struct server	*s;
	long		 ncpu;
	int		 i;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->cfg = cfg;
	s->opts = opts;
	gettimeofday(&s->started, NULL);
	server_set_params(s);
	s->accept_timer = evtimer_new(base, server_accept_timer_callback, s);
	if (s->accept_timer == NULL)
		fatalx("cannot create a timer");
	s->listeners = listeners_new(base, s);
	/* Held so that shutdown can tell a queued client even at EMFILE. */
	if ((s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		fatal("/dev/null");

	s->nworkers = cfg->workers;
	if (s->nworkers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		s->nworkers = ncpu > 0 ? (int)ncpu : 1;
	}
	s->workers = xcalloc((size_t)s->nworkers, sizeof *s->workers);
	for (i = 0; i < s->nworkers; i++)
		s->workers[i] = worker_new(s, i, i == 0 ? base : NULL);
	for (i = 0; i < s->nworkers; i++)
		worker_start(s->workers[i]);
	log_debug("%d workers", s->nworkers);
	return (s);
}

/* Wait for the workers to finish, then free everything. */
void
server_free(struct server *s)
{
	int	i;

	http_free(s->http);
	s->http = NULL;
	for (i = 0; i < s->nworkers; i++) {
		worker_stop(s->workers[i]);
		worker_join(s->workers[i]);
	}
	for (i = 0; i < s->nworkers; i++)
		worker_free(s->workers[i]);
	free(s->workers);
	listeners_free(s->listeners);
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	event_free(s->accept_timer);
	if (s->reserve_fd != -1)
		close(s->reserve_fd);
	free(s);
}

/* Copy what new connections take from the configuration. */
static void
server_set_params(struct server *s)
{
	memset(&s->params, 0, sizeof s->params);
	s->params.framing = s->cfg->framing;
	s->params.max_line = (size_t)s->cfg->max_line;
	s->params.idle_timeout = s->cfg->idle_timeout;
	s->params.proxy_timeout = s->cfg->proxy_timeout;
	snprintf(s->params.separator, sizeof s->params.separator, "%s",
	    s->cfg->separator);
}

/*
 * Open a listener for every configured address, or take the sockets
 * systemd passed. Errors are logged as "bind ADDRESS:PORT: reason"; any
 * error closes them all and returns -1. Then, with every descriptor
 * startup opens held, fit max_connections to the open file limit.
 */
int
server_listen(struct server *s)
{
	int	n, held;

	if (server_tls_build(s->cfg, &s->tls) == -1)
		return (-1);
	s->tls_not_after = s->tls != NULL ? tls_ctx_not_after(s->tls) : 0;
	if ((n = listeners_inherit(s->listeners, s->cfg)) == -1)
		return (-1);
	s->activated = n > 0;
	/* From no listeners, a rebind binds every address or none. */
	if (!s->activated && listeners_rebind(s->listeners, s->cfg, 0) == -1)
		return (-1);
	if ((held = fd_count()) == -1)
		held = fd_estimate(s->nworkers) +
		    (int)listeners_count(s->listeners);
	s->fds_fixed = held - (int)listeners_count(s->listeners);
	server_fd_budget(s, s->cfg);
	if (http_configure(&s->http, s, s->base, s->cfg->http) == -1)
		return (-1);
	return (0);
}

/* Tell systemd how we are doing, when it started us. */
void
server_notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

/*
 * SIGHUP: read the configuration file again. A bad file changes nothing;
 * a good one applies to connections opened from now on.
 */
void
server_reload(struct server *s)
{
	struct config	new;
	SSL_CTX		*tls;
	size_t		i;
	int		keep;

	if (s->stopping)
		return;
	server_notify("RELOADING=1");
	if (daemon_load_config(&new, s->opts) == -1 ||
	    server_tls_build(&new, &tls) == -1) {
		log_warnx("reload failed: keeping the running configuration");
		s->reloads_failed++;
		config_free(&new);
		server_notify("READY=1");
		return;
	}
	if (new.workers != s->cfg->workers) {
		log_warnx("workers: a change needs a restart");
		new.workers = s->cfg->workers;
	}
	if (strcmp(new.pidfile, s->cfg->pidfile) != 0) {
		log_warnx("pidfile: a change needs a restart");
		free(new.pidfile);
		new.pidfile = xstrdup(s->cfg->pidfile);
	}
	/*
	 * systemd owns activated sockets: the file's addresses do not apply,
	 * but the options of the listeners they match do.
	 */
	keep = s->activated;
	if (keep)
		listeners_match(s->listeners, &new);
	/* Any that cannot be bound is logged; the others still apply. */
	if (!keep && listeners_rebind(s->listeners, &new, 1) == -1) {
		log_warnx("keeping the listeners of the running configuration");
		keep = 1;
	}
	if (keep) {
		config_set_address(&new, s->cfg->addresses[0]);
		for (i = 1; i < s->cfg->naddresses; i++)
			config_add_address(&new, s->cfg->addresses[i]);
		new.port = s->cfg->port;
	}
	/* Connections open keep the context they started with. */
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	s->tls = tls;
	s->tls_not_after = tls != NULL ? tls_ctx_not_after(tls) : 0;
	if (http_configure(&s->http, s, s->base, new.http) == -1) {
		log_warnx("http: keeping the running endpoint");
		free(new.http);
		new.http = xstrdup(s->cfg->http);
	}
	server_fd_budget(s, &new);
	s->reloads_ok++;
	config_free(s->cfg);
	*s->cfg = new;
	server_set_params(s);
	log_setlevel(s->cfg->log_level + s->opts->verbose);
	log_info("configuration reloaded");
	server_notify("READY=1");
}

/*
 * A listener accepted fd: hand it to the next worker, counted under
 * max_connections or, over it, to be told so. Over-limit connections
 * linger, each a descriptor: once as many as the reserve has room for
 * are closing, stop accepting until one has gone. On a PROXY listener the
 * worker reads the header, or closes a source not trusted to send one.
 */
void
server_accept(struct server *s, int fd, struct sockaddr *sa, int salen,
    const struct listen_opts *lo)
{
	struct worker	*w;
	struct accepted	 a;

	memset(&a, 0, sizeof a);
	a.fd = fd;
	if (salen > (int)sizeof a.peer)
		salen = sizeof a.peer;
	memcpy(&a.peer, sa, (size_t)salen);
	a.id = ++s->next_id;
	a.proxy = lo->proxy;
	a.untrusted = lo->proxy != PROXY_NONE && !lo->trusted;
	/* The connection's own reference, should a reload swap s->tls. */
	if (lo->tls && s->tls != NULL && SSL_CTX_up_ref(s->tls) == 1)
		a.tls = s->tls;
	/* Stopping, all are told that rather than that the server is full. */
	a.over_limit = !s->stopping &&
	    __atomic_load_n(&s->nconns, __ATOMIC_RELAXED) >=
	    s->cfg->max_connections;
	s->accepted++;
	if (!a.over_limit)
		__atomic_add_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&s->nover, 1, __ATOMIC_RELAXED);
	if (a.over_limit && !a.untrusted)
		s->rejected++;
	a.params = s->params;
	w = s->workers[s->next_worker++ % (unsigned)s->nworkers];
	worker_hand(w, &a);
	/* Stop before accepting one without a descriptor budgeted. */
	if (!s->stopping && !server_can_accept(s)) {
		log_debug("%d connections over the limit closing: accept "
		    "paused", __atomic_load_n(&s->nover, __ATOMIC_RELAXED));
		server_pause_accept(s);
	}
}

/*
 * accept failed. Out of descriptors or memory, the listening socket stays
 * readable and the loop would spin: pause accepting and retry shortly, or
 * as soon as a connection closes. Other errors are logged and survived.
 */
void
server_accept_error(struct server *s)
{
	int		 error = EVUTIL_SOCKET_ERROR();
	time_t		 now = time(NULL);

	if (now != s->accept_logged) {
		s->accept_logged = now;
		log_warnx("accept: %s", evutil_socket_error_to_string(error));
	}
	if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
	    error == ENOMEM)
		server_pause_accept(s);
}

/* Whether a connection accepted now has a descriptor budgeted for it. */
static int
server_can_accept(struct server *s)
{
	return (__atomic_load_n(&s->nconns, __ATOMIC_RELAXED) <
	    s->cfg->max_connections ||
	    __atomic_load_n(&s->nover, __ATOMIC_RELAXED) < s->over_max);
}

static void
server_pause_accept(struct server *s)
{
	struct timeval	tv = { 0, ACCEPT_RETRY_MS * 1000 };

	if (!__atomic_load_n(&s->accept_paused, __ATOMIC_RELAXED))
		s->pauses++;
	listeners_enable(s->listeners, 0);
	__atomic_store_n(&s->accept_paused, 1, __ATOMIC_RELAXED);
	evtimer_add(s->accept_timer, &tv);
}

/*
 * Accept again after a pause: on the timer, or when a connection closed,
 * if the connection would have its descriptor; else look again later.
 */
static void
server_accept_timer_callback(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;
	struct timeval	 tv = { 0, ACCEPT_RETRY_MS * 1000 };

	(void)fd;
	(void)what;
	if (!__atomic_load_n(&s->accept_paused, __ATOMIC_RELAXED) ||
	    s->stopping)
		return;
	if (!server_can_accept(s)) {
		evtimer_add(s->accept_timer, &tv);
		return;
	}
	__atomic_store_n(&s->accept_paused, 0, __ATOMIC_RELAXED);
	evtimer_del(s->accept_timer);
	listeners_enable(s->listeners, 1);
}

/* A connection has gone, on any worker's thread: a descriptor is free. */
void
server_conn_closed(struct server *s, int counted)
{
	if (counted)
		__atomic_sub_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
	else
		__atomic_sub_fetch(&s->nover, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&s->accept_paused, __ATOMIC_RELAXED))
		event_active(s->accept_timer, EV_TIMEOUT, 1);
}

/*
 * SIGTERM: stop accepting and let each worker answer what is owed and tell
 * the rest. The main loop ends when worker 0 is done; server_free then
 * waits for the others.
 */
void
server_shutdown(struct server *s)
{
	int	i;

	if (s->stopping)
		return;
	log_info("shutting down");
	server_notify("STOPPING=1");
	s->stopping = 1;
	http_free(s->http);
	s->http = NULL;
	server_accept_backlog(s);
	listeners_close(s->listeners);
	evtimer_del(s->accept_timer);
	for (i = 0; i < s->nworkers; i++)
		worker_stop(s->workers[i]);
}

/*
 * Closing a listening socket resets the connections still queued on it:
 * accept them first, so that they are told the server is shutting down.
 * Out of descriptors, the reserve one takes them, one at a time.
 */
static void
server_accept_backlog(struct server *s)
{
	struct sockaddr_storage	 ss;
	struct listen_opts	 lo;
	socklen_t		 sslen;
	size_t			 i, n, most;
	int			 fd, lfd, told = 0;

	/* What is queued now, not what a flood keeps adding. */
	most = (size_t)s->cfg->backlog + 64;
	for (i = 0; i < listeners_count(s->listeners); i++) {
		lfd = listeners_fd(s->listeners, i);
		for (n = 0; n < most; n++) {
			sslen = sizeof ss;
			fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd != -1) {
				listeners_opts(s->listeners, i,
				    (struct sockaddr *)&ss, &lo);
				server_accept(s, fd, (struct sockaddr *)&ss,
				    (int)sslen, &lo);
			} else if (errno == EMFILE || errno == ENFILE) {
				if (server_tell_queued(s, lfd) == -1)
					break;
				told++;
			} else if (errno != ECONNABORTED && errno != EINTR)
				break;
		}
	}
	if (told > 0)
		log_warnx("out of descriptors: %d queued connections told "
		    "directly", told);
}

/*
 * Accept one queued connection on the reserve descriptor, tell it the
 * server is shutting down and close it, then take the reserve back. What
 * the client sent is read first, as closing with it unread would reset
 * the connection. Returns -1 if nothing could be accepted.
 */
static int
server_tell_queued(struct server *s, int lfd)
{
	char	buf[4096];
	int	fd, i;

	if (s->reserve_fd == -1)
		return (-1);
	close(s->reserve_fd);
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd != -1) {
		if (write(fd, PROTO_ERR_SHUTDOWN,
		    sizeof PROTO_ERR_SHUTDOWN - 1) == -1)
			log_debug("queued connection: %s", strerror(errno));
		shutdown(fd, SHUT_WR);
		for (i = 0; i < 16 && read(fd, buf, sizeof buf) > 0; i++)
			;
		close(fd);
	}
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return (fd == -1 ? -1 : 0);
}

/* Worker 0, on the main loop, has closed its last connection. */
void
server_worker_done(struct server *s)
{
	event_base_loopexit(s->base, NULL);
}

/* Fit max_connections, and the over-limit room, to the open file limit. */
static void
server_fd_budget(struct server *s, struct config *cfg)
{
	s->over_max = fd_budget(cfg, s->fds_fixed +
	    (int)listeners_count(s->listeners));
}

/* The server's own counters for the metrics; on the main thread. */
void
server_counters(const struct server *s, struct metrics_snapshot *m)
{
	m->start_time = (double)s->started.tv_sec +
	    (double)s->started.tv_usec / 1e6;
	m->conns_max = (uint64_t)s->cfg->max_connections;
	m->accepted = s->accepted;
	m->rejected = s->rejected;
	m->accept_pauses = s->pauses;
	m->reloads_ok = s->reloads_ok;
	m->reloads_failed = s->reloads_failed;
	m->tls_not_after = server_tls_not_after(s);
}

int
server_nworkers(const struct server *s)
{
	return (s->nworkers);
}

struct worker *
server_worker(const struct server *s, int i)
{
	return (s->workers[i]);
}

struct listeners *
server_listeners(const struct server *s)
{
	return (s->listeners);
}

const struct config *
server_config(const struct server *s)
{
	return (s->cfg);
}

/* The TLS certificate's notAfter, since the epoch; 0 without TLS. */
time_t
server_tls_not_after(const struct server *s)
{
	return (s->tls_not_after);
}
