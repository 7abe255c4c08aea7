/*
 * server.c - the listening sockets, the accept policy and the registry of
 * connections: the connection limit, pausing accept when out of file
 * descriptors, graceful shutdown and the counters.
 */
#include "config.h"

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

#include "seqecho.h"

/* Milliseconds accept stays paused after running out of descriptors. */
#define ACCEPT_RETRY_MS		100

struct listener {
	struct evconnlistener	*lev;
	char			 name[ADDRSTRLEN];
};

struct server {
	struct event_base	*base;
	const struct config	*cfg;

	struct listener		*listeners;
	size_t			 nlisteners;
	int			 accept_paused;
	struct event		*accept_timer;
	time_t			 accept_logged;

	struct conn_list	 conns;
	int			 nconns;	/* counted against the limit */
	int			 nall;		/* every open connection */
	uint64_t		 next_id;
	struct stats		 stats;

	int			 stopping;
	struct event		*deadline;
};

static int	server_bind(struct server *, const char *);
static int	server_bind_one(struct server *, struct evutil_addrinfo *);
static void	server_accept_callback(struct evconnlistener *,
		    evutil_socket_t, struct sockaddr *, int, void *);
static void	server_accept_error_callback(struct evconnlistener *, void *);
static void	server_accept_timer_callback(evutil_socket_t, short, void *);
static void	server_pause_accept(struct server *);
static void	server_resume_accept(struct server *);
static void	server_deadline_callback(evutil_socket_t, short, void *);
static void	server_free_listeners(struct server *);

struct server *
server_new(struct event_base *base, const struct config *cfg)
{
	struct server	*s;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->cfg = cfg;
	LIST_INIT(&s->conns);
	s->accept_timer = evtimer_new(base, server_accept_timer_callback, s);
	s->deadline = evtimer_new(base, server_deadline_callback, s);
	if (s->accept_timer == NULL || s->deadline == NULL)
		fatalx("cannot create a timer");
	return (s);
}

void
server_free(struct server *s)
{
	conn_free_all(&s->conns);
	server_free_listeners(s);
	event_free(s->accept_timer);
	event_free(s->deadline);
	free(s);
}

static void
server_free_listeners(struct server *s)
{
	size_t	i;

	for (i = 0; i < s->nlisteners; i++)
		evconnlistener_free(s->listeners[i].lev);
	free(s->listeners);
	s->listeners = NULL;
	s->nlisteners = 0;
}

/*
 * Open a listener for every configured address. Errors are logged as
 * "bind ADDRESS:PORT: reason"; any error closes them all and returns -1.
 */
int
server_listen(struct server *s)
{
	size_t	i;

	for (i = 0; i < s->cfg->naddresses; i++) {
		if (server_bind(s, s->cfg->addresses[i]) == -1) {
			server_free_listeners(s);
			return (-1);
		}
	}
	return (0);
}

/* Resolve one address setting ("*" is every address) and bind each. */
static int
server_bind(struct server *s, const char *address)
{
	struct evutil_addrinfo	 hints, *res, *ai;
	char			 port[8];
	const char		*host = address;
	int			 error, rc = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
	if (strcmp(address, "*") == 0)
		host = NULL;
	snprintf(port, sizeof port, "%d", s->cfg->port);

	error = evutil_getaddrinfo(host, port, &hints, &res);
	if (error != 0) {
		log_errorx("bind %s:%s: %s", address, port,
		    evutil_gai_strerror(error));
		return (-1);
	}
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next)
		rc = server_bind_one(s, ai);
	evutil_freeaddrinfo(res);
	return (rc);
}

static int
server_bind_one(struct server *s, struct evutil_addrinfo *ai)
{
	struct evconnlistener	*lev;
	struct listener		*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
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
	evconnlistener_set_error_cb(lev, server_accept_error_callback);

	/* With port 0 the kernel chose: say which. */
	if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss,
	    &sslen) == 0)
		addr_format((struct sockaddr *)&ss, name, sizeof name);

	s->listeners = realloc(s->listeners,
	    (s->nlisteners + 1) * sizeof *s->listeners);
	if (s->listeners == NULL)
		fatalx("out of memory");
	l = &s->listeners[s->nlisteners++];
	l->lev = lev;
	snprintf(l->name, sizeof l->name, "%s", name);
	log_info("listening on %s", name);
	return (0);
}

static void
server_accept_callback(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server	*s = arg;
	int		 over_limit;

	(void)lev;
	(void)salen;
	over_limit = s->nconns >= s->cfg->max_connections;
	if (!over_limit)
		s->nconns++;
	s->nall++;
	conn_new(s, s->base, s->cfg, &s->conns, &s->stats, fd, sa,
	    ++s->next_id, over_limit);
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

	if (s->stopping)
		return;
	for (i = 0; i < s->nlisteners; i++)
		evconnlistener_disable(s->listeners[i].lev);
	s->accept_paused = 1;
	evtimer_add(s->accept_timer, &tv);
}

static void
server_resume_accept(struct server *s)
{
	size_t	i;

	if (!s->accept_paused || s->stopping)
		return;
	s->accept_paused = 0;
	evtimer_del(s->accept_timer);
	for (i = 0; i < s->nlisteners; i++)
		evconnlistener_enable(s->listeners[i].lev);
}

static void
server_accept_timer_callback(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	server_resume_accept(arg);
}

/* A connection has gone: a descriptor is free again. */
void
server_conn_closed(struct server *s, int counted)
{
	if (counted)
		s->nconns--;
	s->nall--;
	server_resume_accept(s);
	if (s->stopping && s->nall == 0)
		event_base_loopexit(s->base, NULL);
}

/*
 * SIGTERM: stop accepting, answer what is owed, tell the rest, and leave
 * the loop once every connection has closed or the deadline has passed.
 */
void
server_shutdown(struct server *s)
{
	struct timeval	tv = { SHUTDOWN_DEADLINE, 0 };

	if (s->stopping)
		return;
	log_info("shutting down, %d connections open", s->nall);
	server_free_listeners(s);
	evtimer_del(s->accept_timer);
	s->stopping = 1;
	conn_shutdown_all(&s->conns);
	if (s->nall == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	evtimer_add(s->deadline, &tv);
}

static void
server_deadline_callback(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)what;
	log_warnx("shutdown deadline passed, dropping %d connections",
	    s->nall);
	conn_free_all(&s->conns);
	event_base_loopexit(s->base, NULL);
}

/* SIGUSR1: one line of counters. */
void
server_log_stats(struct server *s)
{
	const struct stats	*st = &s->stats;
	char			 reasons[256];
	size_t			 off = 0;
	int			 i;

	reasons[0] = '\0';
	for (i = 0; i < REASON_COUNT; i++) {
		off += (size_t)snprintf(reasons + off, sizeof reasons - off,
		    " %s=%llu", conn_reason_name(i),
		    (unsigned long long)st->reasons[i]);
		if (off >= sizeof reasons)
			break;
	}
	log_info("stats connections=%llu total=%llu messages=%llu "
	    "bytes_in=%llu bytes_out=%llu client_first=%llu "
	    "server_first=%llu%s",
	    (unsigned long long)st->conns_now,
	    (unsigned long long)st->conns_total,
	    (unsigned long long)st->messages,
	    (unsigned long long)st->bytes_in,
	    (unsigned long long)st->bytes_out,
	    (unsigned long long)st->client_first,
	    (unsigned long long)st->server_first, reasons);
}
