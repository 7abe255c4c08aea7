/*
 * server-listen.c - the listening sockets: every configured address bound
 * (with port 0, all of them on the one port the kernel chose for the
 * first), systemd's sockets taken over, and the set brought in line with
 * a reloaded configuration, backlog included.
 *
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "seqechod.h"

/* Times a port-0 group is bound afresh when its chosen port is taken. */
#define PORT0_TRIES		8

struct listener {
	struct evconnlistener	*lev;
	char			*address;	/* as configured */
	int			 port;		/* as configured */
	int			 bound_port;	/* what the kernel gave */
	char			 name[ADDRSTRLEN];
};

struct lvec {
	struct listener		*v;
	size_t			 n;
};

struct listeners {
	struct lvec		 cur;
	struct event_base	*base;
	struct server		*server;
	int			 backlog;	/* what the listeners use */
};

/* One pass at binding the addresses a configuration adds. */
struct bindpass {
	struct listeners	*ls;
	struct lvec		 made;
	int			 backlog;
	int			 cfg_port;	/* as configured */
	int			 port;		/* to bind; 0 until chosen */
	int			 chosen;	/* by the kernel, in this pass */
	int			 may_retry;
	int			 retry;		/* the chosen port was taken */
};

static int	bind_pass(struct listeners *, const struct config *, int,
		    int *, struct lvec *);
static int	bind_address(struct bindpass *, const char *);
static int	bind_one(struct bindpass *, struct evutil_addrinfo *,
		    const char *);
static int	kept_port(const struct listeners *, const struct config *);
static void	set_port(struct sockaddr *, int);
static void	listeners_commit(struct listeners *, struct lvec *,
		    const int *, int);
static void	lvec_add(struct lvec *, struct evconnlistener *, const char *,
		    int);
static void	lvec_push(struct lvec *, const struct listener *);
static void	lvec_free(struct lvec *);
static void	listen_accept_callback(struct evconnlistener *,
		    evutil_socket_t, struct sockaddr *, int, void *);
static void	listen_error_callback(struct evconnlistener *, void *);

/* An empty set whose connections go to server's accept policy. */
struct listeners *
listeners_new(struct event_base *base, struct server *server)
{
	struct listeners	*ls;

	ls = xcalloc(1, sizeof *ls);
	ls->base = base;
	ls->server = server;
	return (ls);
}

void
listeners_free(struct listeners *ls)
{
	lvec_free(&ls->cur);
	free(ls);
}

/* Close every listener; connections still queued on them are reset. */
void
listeners_close(struct listeners *ls)
{
	lvec_free(&ls->cur);
}

size_t
listeners_count(const struct listeners *ls)
{
	return (ls->cur.n);
}

/* The listening socket of listener i, for draining its queue. */
int
listeners_fd(const struct listeners *ls, size_t i)
{
	return (evconnlistener_get_fd(ls->cur.v[i].lev));
}

/* Accept on every listener, or on none. */
void
listeners_enable(struct listeners *ls, int on)
{
	size_t	i;

	for (i = 0; i < ls->cur.n; i++) {
		if (on)
			evconnlistener_enable(ls->cur.v[i].lev);
		else
			evconnlistener_disable(ls->cur.v[i].lev);
	}
}

static void
listen_accept_callback(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	server_accept(arg, fd, sa, salen);
}

static void
listen_error_callback(struct evconnlistener *lev, void *arg)
{
	(void)lev;
	server_accept_error(arg);
}

/*
 * Socket activation: serve the listening sockets systemd passed, if any.
 * Returns how many, or -1 if one of them is not a listening TCP socket.
 */
int
listeners_inherit(struct listeners *ls)
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
			lvec_free(&ls->cur);
			return (-1);
		}
		evutil_make_socket_nonblocking(fd);
		evutil_make_socket_closeonexec(fd);
		/* A negative backlog: the socket is listening already. */
		lev = evconnlistener_new(ls->base, listen_accept_callback,
		    ls->server, LEV_OPT_CLOSE_ON_FREE, -1, fd);
		if (lev == NULL)
			fatalx("cannot listen on systemd socket %d", fd);
		lvec_add(&ls->cur, lev, "systemd", -1);
		log_info("listening on %s", ls->cur.v[ls->cur.n - 1].name);
	}
	return (n);
#else
	(void)ls;
	return (0);
#endif
}

/*
 * Make the listeners match a configuration: keep those still named (by
 * configured address and port), open the new ones first, and only then
 * close the ones no longer named. If any new one cannot be bound,
 * nothing changes and -1 is returned.
 */
int
listeners_rebind(struct listeners *ls, const struct config *cfg)
{
	struct lvec	 made = { NULL, 0 };
	int		*keep, rc, tries;

	keep = xcalloc(ls->cur.n + 1, sizeof *keep);
	for (tries = 1; ; tries++) {
		rc = bind_pass(ls, cfg, tries < PORT0_TRIES, keep, &made);
		if (rc != 1)
			break;
	}
	if (rc == 0)
		listeners_commit(ls, &made, keep, cfg->backlog);
	free(keep);
	return (rc);
}

/*
 * Bind what cfg names and ls lacks into made, marking in keep the
 * listeners still named. Returns 0, -1 on an error (logged), or 1 when
 * the port chosen for a port-0 group turned out taken on another address
 * and the pass should be tried again.
 */
static int
bind_pass(struct listeners *ls, const struct config *cfg, int may_retry,
    int *keep, struct lvec *made)
{
	struct bindpass	 b;
	size_t		 i, j;
	int		 found;

	memset(&b, 0, sizeof b);
	b.ls = ls;
	b.backlog = cfg->backlog;
	b.cfg_port = b.port = cfg->port;
	b.may_retry = may_retry;
	/* A port-0 group keeps the port its kept listeners have. */
	if (cfg->port == 0)
		b.port = kept_port(ls, cfg);
	memset(keep, 0, ls->cur.n * sizeof *keep);
	for (i = 0; i < cfg->naddresses; i++) {
		found = 0;
		for (j = 0; j < ls->cur.n; j++) {
			if (ls->cur.v[j].port == cfg->port &&
			    strcmp(ls->cur.v[j].address,
			    cfg->addresses[i]) == 0)
				keep[j] = found = 1;
		}
		if (!found && bind_address(&b, cfg->addresses[i]) == -1) {
			lvec_free(&b.made);
			return (b.retry ? 1 : -1);
		}
	}
	*made = b.made;
	return (0);
}

/* The port a port-0 group listens on now, if cfg keeps any of it. */
static int
kept_port(const struct listeners *ls, const struct config *cfg)
{
	size_t	i, j;

	for (i = 0; i < ls->cur.n; i++) {
		if (ls->cur.v[i].port != 0)
			continue;
		for (j = 0; j < cfg->naddresses; j++) {
			if (strcmp(ls->cur.v[i].address,
			    cfg->addresses[j]) == 0)
				return (ls->cur.v[i].bound_port);
		}
	}
	return (0);
}

/*
 * Resolve one address setting ("*" is every address), as the configuration
 * check did, and bind each.
 */
static int
bind_address(struct bindpass *b, const char *address)
{
	struct evutil_addrinfo	*res, *ai;
	char			 why[512];
	int			 rc = 0;

	if (config_resolve(address, b->port, &res, why, sizeof why) == -1) {
		log_errorx("bind %s:%d: %s", address, b->port, why);
		return (-1);
	}
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next)
		rc = bind_one(b, ai, address);
	evutil_freeaddrinfo(res);
	return (rc);
}

/*
 * Bind one resolved address. The first of a port-0 group lets the kernel
 * choose; the rest bind to what it chose, so the group shares one port.
 */
static int
bind_one(struct bindpass *b, struct evutil_addrinfo *ai, const char *address)
{
	struct evconnlistener	*lev;
	char			 name[ADDRSTRLEN];
	unsigned		 flags;

	flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE;
	/* So that "*" can bind :: beside 0.0.0.0 on the same port. */
	if (ai->ai_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	set_port(ai->ai_addr, b->port);
	addr_format(ai->ai_addr, name, sizeof name);

	lev = evconnlistener_new_bind(b->ls->base, listen_accept_callback,
	    b->ls->server, flags, b->backlog, ai->ai_addr,
	    (int)ai->ai_addrlen);
	if (lev == NULL) {
		if (errno == EADDRINUSE && b->chosen && b->may_retry) {
			b->retry = 1;
			return (-1);
		}
		log_errorx("bind %s: %s", name, strerror(errno));
		return (-1);
	}
	lvec_add(&b->made, lev, address, b->cfg_port);
	if (b->port == 0) {
		b->port = b->made.v[b->made.n - 1].bound_port;
		b->chosen = 1;
	}
	return (0);
}

static void
set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)(void *)sa)->sin_port =
		    htons((uint16_t)port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)sa)->sin6_port =
		    htons((uint16_t)port);
}

/*
 * Serve the listeners just made beside those kept, close the rest, and
 * give the kept ones a changed backlog: Linux takes a new one from
 * listen() on a socket already listening.
 */
static void
listeners_commit(struct listeners *ls, struct lvec *made, const int *keep,
    int backlog)
{
	struct lvec	 next = *made;
	struct listener	*l;
	size_t		 i;

	for (i = 0; i < next.n; i++)
		log_info("listening on %s", next.v[i].name);
	for (i = 0; i < ls->cur.n; i++) {
		l = &ls->cur.v[i];
		if (!keep[i]) {
			log_info("no longer listening on %s", l->name);
			evconnlistener_free(l->lev);
			free(l->address);
			continue;
		}
		if (backlog != ls->backlog) {
			if (listen(evconnlistener_get_fd(l->lev), backlog) == -1)
				log_warn("backlog %d on %s", backlog, l->name);
			else
				log_info("backlog %d on %s (was %d)", backlog,
				    l->name, ls->backlog);
		}
		lvec_push(&next, l);
	}
	free(ls->cur.v);
	ls->cur = next;
	ls->backlog = backlog;
}

/* Record a listener, with the address and port it really has. */
static void
lvec_add(struct lvec *lv, struct evconnlistener *lev, const char *address,
    int port)
{
	struct listener		 l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;

	memset(&l, 0, sizeof l);
	l.lev = lev;
	l.address = xstrdup(address);
	l.port = port;
	if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss,
	    &sslen) == 0) {
		addr_format((struct sockaddr *)&ss, l.name, sizeof l.name);
		if (ss.ss_family == AF_INET)
			l.bound_port = ntohs(((struct sockaddr_in *)
			    (void *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			l.bound_port = ntohs(((struct sockaddr_in6 *)
			    (void *)&ss)->sin6_port);
	} else
		snprintf(l.name, sizeof l.name, "%s", address);
	evconnlistener_set_error_cb(lev, listen_error_callback);
	lvec_push(lv, &l);
}

static void
lvec_push(struct lvec *lv, const struct listener *l)
{
	lv->v = realloc(lv->v, (lv->n + 1) * sizeof *lv->v);
	if (lv->v == NULL)
		fatalx("out of memory");
	lv->v[lv->n++] = *l;
}

static void
lvec_free(struct lvec *lv)
{
	size_t	i;

	for (i = 0; i < lv->n; i++) {
		evconnlistener_free(lv->v[i].lev);
		free(lv->v[i].address);
	}
	free(lv->v);
	lv->v = NULL;
	lv->n = 0;
}
