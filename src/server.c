/*
 * server.c - the listening sockets and the accept policy: the connection
 * limit, pausing accept when out of descriptors, spreading connections over
 * the workers, reloading the configuration, and graceful shutdown.
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

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "seqechod.h"

/* Descriptors kept beyond max_connections for listeners, logs, files. */
#define FD_RESERVE		32
/* Milliseconds accept stays paused after running out of descriptors. */
#define ACCEPT_RETRY_MS		100

struct listener {
	struct evconnlistener	*lev;
	char			*address;	/* as configured */
	int			 port;		/* as configured */
	char			 name[ADDRSTRLEN];
};

struct listeners {
	struct listener		*v;
	size_t			 n;
};

struct server {
	struct event_base	*base;
	struct config		*cfg;
	const struct daemon_options *opts;
	struct conn_params	 params;

	struct listeners	 listeners;
	int			 accept_paused;		/* atomic */
	struct event		*accept_timer;
	time_t			 accept_logged;

	struct worker		**workers;
	int			 nworkers;
	unsigned		 next_worker;
	int			 nconns;		/* atomic */
	uint64_t		 next_id;
	int			 stopping;
	int			 activated;	/* sockets from systemd */
};

static void	server_set_params(struct server *);
static int	server_bind(struct server *, struct listeners *, const char *,
		    int);
static int	server_bind_one(struct server *, struct listeners *,
		    struct evutil_addrinfo *, const char *, int);
static int	server_rebind(struct server *, const struct config *);
static void	listeners_free(struct listeners *);
static void	server_accept_callback(struct evconnlistener *,
		    evutil_socket_t, struct sockaddr *, int, void *);
static void	server_accept_error_callback(struct evconnlistener *, void *);
static void	server_accept_timer_callback(evutil_socket_t, short, void *);
static void	server_pause_accept(struct server *);
static int	server_inherit(struct server *);
static void	server_accept_backlog(struct server *);
static void	server_add_listener(struct listeners *,
		    struct evconnlistener *, const char *, int);

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
	server_set_params(s);
	s->accept_timer = evtimer_new(base, server_accept_timer_callback, s);
	if (s->accept_timer == NULL)
		fatalx("cannot create a timer");

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

	for (i = 0; i < s->nworkers; i++) {
		worker_stop(s->workers[i]);
		worker_join(s->workers[i]);
	}
	for (i = 0; i < s->nworkers; i++)
		worker_free(s->workers[i]);
	free(s->workers);
	listeners_free(&s->listeners);
	event_free(s->accept_timer);
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
	snprintf(s->params.separator, sizeof s->params.separator, "%s",
	    s->cfg->separator);
}

static void
listeners_free(struct listeners *ls)
{
	size_t	i;

	for (i = 0; i < ls->n; i++) {
		evconnlistener_free(ls->v[i].lev);
		free(ls->v[i].address);
	}
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}

/*
 * Open a listener for every configured address, or take the sockets
 * systemd passed. Errors are logged as "bind ADDRESS:PORT: reason"; any
 * error closes them all and returns -1.
 */
int
server_listen(struct server *s)
{
	int	n;

	if ((n = server_inherit(s)) != 0)
		return (n > 0 ? 0 : -1);
	/* From no listeners, a rebind binds every address or none. */
	return (server_rebind(s, s->cfg));
}

/*
 * Socket activation: serve the listening sockets systemd passed, if any.
 * Returns how many, or -1 if one of them is not a listening TCP socket.
 */
static int
server_inherit(struct server *s)
{
#ifdef HAVE_LIBSYSTEMD
	struct evconnlistener	*lev;
	int			 n, i, fd;

	if ((n = sd_listen_fds(1)) <= 0)
		return (0);
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			log_errorx("systemd socket %d is not a listening "
			    "stream socket", fd);
			listeners_free(&s->listeners);
			return (-1);
		}
		evutil_make_socket_nonblocking(fd);
		evutil_make_socket_closeonexec(fd);
		/* A negative backlog: the socket is listening already. */
		lev = evconnlistener_new(s->base, server_accept_callback, s,
		    LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (lev == NULL)
			fatalx("cannot listen on systemd socket %d", fd);
		server_add_listener(&s->listeners, lev, "systemd", -1);
	}
	s->activated = 1;
	return (n);
#else
	(void)s;
	return (0);
#endif
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

/* Resolve one address setting ("*" is every address) and bind each. */
static int
server_bind(struct server *s, struct listeners *ls, const char *address,
    int port)
{
	struct evutil_addrinfo	 hints, *res, *ai;
	char			 service[8];
	const char		*host = address;
	int			 error, rc = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
	if (strcmp(address, "*") == 0)
		host = NULL;
	snprintf(service, sizeof service, "%d", port);

	error = evutil_getaddrinfo(host, service, &hints, &res);
	if (error != 0) {
		log_errorx("bind %s:%s: %s", address, service,
		    evutil_gai_strerror(error));
		return (-1);
	}
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next)
		rc = server_bind_one(s, ls, ai, address, port);
	evutil_freeaddrinfo(res);
	return (rc);
}

static int
server_bind_one(struct server *s, struct listeners *ls,
    struct evutil_addrinfo *ai, const char *address, int port)
{
	struct evconnlistener	*lev;
	char			 name[ADDRSTRLEN];
	unsigned		 flags;

	flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE;
	/* So that "*" can bind :: beside 0.0.0.0 on the same port. */
	if (ai->ai_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	addr_format(ai->ai_addr, name, sizeof name);

	lev = evconnlistener_new_bind(s->base, server_accept_callback, s,
	    flags, s->cfg->backlog, ai->ai_addr, (int)ai->ai_addrlen);
	if (lev == NULL) {
		log_errorx("bind %s: %s", name, strerror(errno));
		return (-1);
	}
	server_add_listener(ls, lev, address, port);
	return (0);
}

/* Record a listener and log the address it listens on. */
static void
server_add_listener(struct listeners *ls, struct evconnlistener *lev,
    const char *address, int port)
{
	struct listener		*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;

	evconnlistener_set_error_cb(lev, server_accept_error_callback);
	ls->v = realloc(ls->v, (ls->n + 1) * sizeof *ls->v);
	if (ls->v == NULL)
		fatalx("out of memory");
	l = &ls->v[ls->n++];
	l->lev = lev;
	l->address = xstrdup(address);
	l->port = port;
	/* With port 0 the kernel chose: say which. */
	if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss,
	    &sslen) == 0)
		addr_format((struct sockaddr *)&ss, l->name, sizeof l->name);
	else
		snprintf(l->name, sizeof l->name, "%s", address);
	log_info("listening on %s", l->name);
}

/*
 * Make the listeners match a new configuration: keep those still named,
 * open the new ones first, and only then close the ones no longer named.
 * If any new one cannot be bound, nothing changes and -1 is returned.
 */
static int
server_rebind(struct server *s, const struct config *cfg)
{
	struct listeners	 next = { NULL, 0 }, old = s->listeners;
	int			*keep;
	size_t			 i, j;
	int			 found;

	keep = xcalloc(old.n, sizeof *keep);
	for (i = 0; i < cfg->naddresses; i++) {
		found = 0;
		for (j = 0; j < old.n; j++) {
			if (old.v[j].port == cfg->port &&
			    strcmp(old.v[j].address, cfg->addresses[i]) == 0)
				keep[j] = found = 1;
		}
		if (!found && server_bind(s, &next, cfg->addresses[i],
		    cfg->port) == -1) {
			listeners_free(&next);
			free(keep);
			return (-1);
		}
	}

	for (j = 0; j < old.n; j++) {
		if (!keep[j]) {
			log_info("no longer listening on %s", old.v[j].name);
			evconnlistener_free(old.v[j].lev);
			free(old.v[j].address);
			continue;
		}
		next.v = realloc(next.v, (next.n + 1) * sizeof *next.v);
		if (next.v == NULL)
			fatalx("out of memory");
		next.v[next.n++] = old.v[j];
	}
	free(old.v);
	free(keep);
	s->listeners = next;
	return (0);
}

/*
 * SIGHUP: read the configuration file again. A bad file changes nothing;
 * a good one applies to connections opened from now on.
 */
void
server_reload(struct server *s)
{
	struct config	new;
	size_t		i;
	int		keep;

	if (s->stopping)
		return;
	server_notify("RELOADING=1");
	if (config_load_options(&new, s->opts) == -1) {
		log_warnx("reload failed: keeping the running configuration");
		config_free(&new);
		server_notify("READY=1");
		return;
	}
	server_fd_limit(&new);
	if (new.workers != s->cfg->workers) {
		log_warnx("workers: a change needs a restart");
		new.workers = s->cfg->workers;
	}
	if (strcmp(new.pidfile, s->cfg->pidfile) != 0) {
		log_warnx("pidfile: a change needs a restart");
		free(new.pidfile);
		new.pidfile = xstrdup(s->cfg->pidfile);
	}
	/* systemd owns activated sockets: the file's addresses do not apply. */
	keep = s->activated;
	if (!keep && server_rebind(s, &new) == -1) {
		log_warnx("keeping the listeners of the running configuration");
		keep = 1;
	}
	if (keep) {
		config_set_address(&new, s->cfg->addresses[0]);
		for (i = 1; i < s->cfg->naddresses; i++)
			config_add_address(&new, s->cfg->addresses[i]);
		new.port = s->cfg->port;
	}
	config_free(s->cfg);
	*s->cfg = new;
	server_set_params(s);
	log_setlevel(s->cfg->log_level + s->opts->verbose);
	log_info("configuration reloaded");
	server_notify("READY=1");
}

static void
server_accept_callback(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server	*s = arg;
	struct worker	*w;
	struct accepted	 a;

	(void)lev;
	memset(&a, 0, sizeof a);
	a.fd = fd;
	if (salen > (int)sizeof a.peer)
		salen = sizeof a.peer;
	memcpy(&a.peer, sa, (size_t)salen);
	a.id = ++s->next_id;
	a.over_limit = __atomic_load_n(&s->nconns, __ATOMIC_RELAXED) >=
	    s->cfg->max_connections;
	if (!a.over_limit)
		__atomic_add_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
	a.params = s->params;
	w = s->workers[s->next_worker++ % (unsigned)s->nworkers];
	worker_hand(w, &a);
}

/*
 * accept failed. Out of descriptors or memory, the listening socket stays
 * readable and the loop would spin: pause accepting and retry shortly, or
 * as soon as a connection closes. Other errors are logged and survived.
 */
static void
server_accept_error_callback(struct evconnlistener *lev, void *arg)
{
	struct server	*s = arg;
	int		 error = EVUTIL_SOCKET_ERROR();
	time_t		 now = time(NULL);

	(void)lev;
	if (now != s->accept_logged) {
		s->accept_logged = now;
		log_warnx("accept: %s", evutil_socket_error_to_string(error));
	}
	if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
	    error == ENOMEM)
		server_pause_accept(s);
}

static void
server_pause_accept(struct server *s)
{
	struct timeval	tv = { 0, ACCEPT_RETRY_MS * 1000 };
	size_t		i;

	for (i = 0; i < s->listeners.n; i++)
		evconnlistener_disable(s->listeners.v[i].lev);
	__atomic_store_n(&s->accept_paused, 1, __ATOMIC_RELAXED);
	evtimer_add(s->accept_timer, &tv);
}

/* Accept again after a pause: on the timer, or when a connection closed. */
static void
server_accept_timer_callback(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;
	size_t		 i;

	(void)fd;
	(void)what;
	if (!__atomic_load_n(&s->accept_paused, __ATOMIC_RELAXED) ||
	    s->stopping)
		return;
	__atomic_store_n(&s->accept_paused, 0, __ATOMIC_RELAXED);
	evtimer_del(s->accept_timer);
	for (i = 0; i < s->listeners.n; i++)
		evconnlistener_enable(s->listeners.v[i].lev);
}

/* A connection has gone, on any worker's thread: a descriptor is free. */
void
server_conn_closed(struct server *s, int counted)
{
	if (counted)
		__atomic_sub_fetch(&s->nconns, 1, __ATOMIC_RELAXED);
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
	server_accept_backlog(s);
	listeners_free(&s->listeners);
	evtimer_del(s->accept_timer);
	for (i = 0; i < s->nworkers; i++)
		worker_stop(s->workers[i]);
}

/*
 * Closing a listening socket resets the connections still queued on it:
 * accept them first, so that they are told the server is shutting down.
 */
static void
server_accept_backlog(struct server *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	size_t			 i;
	int			 fd, lfd;

	for (i = 0; i < s->listeners.n; i++) {
		lfd = evconnlistener_get_fd(s->listeners.v[i].lev);
		for (;;) {
			sslen = sizeof ss;
			fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd == -1)
				break;
			server_accept_callback(s->listeners.v[i].lev, fd,
			    (struct sockaddr *)&ss, (int)sslen, s);
		}
	}
}

/* Worker 0, on the main loop, has closed its last connection. */
void
server_worker_done(struct server *s)
{
	event_base_loopexit(s->base, NULL);
}

/*
 * Each connection is a descriptor: make room for max_connections plus a
 * reserve, or lower the limit and say so, rather than hit EMFILE.
 */
void
server_fd_limit(struct config *cfg)
{
	struct rlimit	rl;
	rlim_t		want = (rlim_t)cfg->max_connections + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_cur = rl.rlim_max;
	else
		rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want) {
		cfg->max_connections = rl.rlim_cur > FD_RESERVE * 2 ?
		    (int)(rl.rlim_cur - FD_RESERVE) : (int)rl.rlim_cur / 2;
		if (cfg->max_connections < 1)
			cfg->max_connections = 1;
		log_warnx("open file limit is %llu: max_connections lowered "
		    "to %d", (unsigned long long)rl.rlim_cur,
		    cfg->max_connections);
	}
}

/* SIGUSR1: one line of counters, summed over the workers. */
void
server_log_stats(struct server *s)
{
	struct stats	st;
	char		reasons[256];
	size_t		off = 0;
	int		i;

	memset(&st, 0, sizeof st);
	for (i = 0; i < s->nworkers; i++)
		worker_add_stats(s->workers[i], &st);
	reasons[0] = '\0';
	for (i = 0; i < REASON_COUNT && off < sizeof reasons; i++) {
		off += (size_t)snprintf(reasons + off, sizeof reasons - off,
		    " %s=%llu", conn_reason_name(i),
		    (unsigned long long)st.reasons[i]);
	}
	log_info("stats connections=%llu total=%llu messages=%llu "
	    "bytes_in=%llu bytes_out=%llu client_first=%llu "
	    "server_first=%llu%s",
	    (unsigned long long)st.conns_now,
	    (unsigned long long)st.conns_total,
	    (unsigned long long)st.messages,
	    (unsigned long long)st.bytes_in,
	    (unsigned long long)st.bytes_out,
	    (unsigned long long)st.client_first,
	    (unsigned long long)st.server_first, reasons);
}
