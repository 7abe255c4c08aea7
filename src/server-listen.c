/*
 * server-listen.c - the listening sockets: every address of each listener
 * group bound (with port 0, all of a group's on the one port the kernel
 * chose for its first), with the group's options (PROXY, trusted
 * sources); and the set brought in line with a reloaded configuration, backlog and options
 * included. systemd's sockets are server-activate.c's.
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

#include "seqechod.h"
#include "listen.h"
#include "proxy.h"

/* Times a port-0 group is bound afresh when its chosen port is taken. */
#define PORT0_TRIES		8

/* One pass at binding the addresses a configuration adds. */
struct bindpass {
	struct listeners	*ls;
	struct lvec		 made;
	int			 backlog;
	const struct listen_conf *g;	/* the group being bound */
	int			 nth;
	int			 cfg_port;	/* as configured */
	int			 port;		/* to bind; 0 until chosen */
	int			 chosen;	/* by the kernel, in this pass */
	int			 may_retry;
	int			 retry;		/* the chosen port was taken */
};

static int	group_nth(const struct listen_conf *, size_t, size_t);
static int	bind_pass(struct listeners *, const struct config *, int,
		    int, const struct listen_conf **, struct lvec *);
static int	bind_group(struct bindpass *, const struct listen_conf *,
		    size_t, const struct listen_conf **);
static int	bind_address(struct bindpass *, const char *);
static int	bind_one(struct bindpass *, struct evutil_addrinfo *,
		    const char *);
static int	kept_port(const struct listeners *, const struct listen_conf *,
		    size_t);
static void	set_port(struct sockaddr *, int);
static void	listeners_commit(struct listeners *, struct lvec *,
		    const struct listen_conf **, int, int);
static void	lvec_truncate(struct lvec *, size_t);
static void	listener_opts(const struct listener *, const struct sockaddr *,
		    struct listen_opts *);
static void	lvec_push(struct lvec *, struct listener *);
static void	listener_free(struct listener *);
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
	return (evconnlistener_get_fd(ls->cur.v[i]->lev));
}

/* What listener i says about a connection from sa. */
void
listeners_opts(const struct listeners *ls, size_t i,
    const struct sockaddr *sa, struct listen_opts *lo)
{
	listener_opts(ls->cur.v[i], sa, lo);
}

/* A connection from sa: the listener's PROXY mode, and whether sa may. */
static void
listener_opts(const struct listener *l, const struct sockaddr *sa,
    struct listen_opts *lo)
{
	lo->proxy = l->proxy;
	lo->tls = l->tls;
	lo->trusted = l->proxy == PROXY_NONE ||
	    proxy_trusted(sa, l->trusted, l->ntrusted);
}

/* How many addresses the configuration's listeners name, for the budget. */
size_t
listeners_wanted(const struct config *cfg)
{
	size_t	i, sum = 0;

	for (i = 0; i < cfg->nlistens; i++)
		sum += cfg->listens[i].naddresses;
	return (sum);
}

/* Accept on every listener, or on none. */
void
listeners_enable(struct listeners *ls, int on)
{
	size_t	i;

	for (i = 0; i < ls->cur.n; i++) {
		if (on)
			evconnlistener_enable(ls->cur.v[i]->lev);
		else
			evconnlistener_disable(ls->cur.v[i]->lev);
	}
}

static void
listen_accept_callback(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener		*l = arg;
	struct listen_opts	 lo;

	(void)lev;
	listener_opts(l, sa, &lo);
	server_accept(l->ls->server, fd, sa, salen, &lo);
}

static void
listen_error_callback(struct evconnlistener *lev, void *arg)
{
	struct listener	*l = arg;

	(void)lev;
	server_accept_error(l->ls->server);
}

/*
 * Which of the groups naming address a of group g on its port this is:
 * two port-0 groups may name one address, each then on a port of its own.
 */
static int
group_nth(const struct listen_conf *gv, size_t g, size_t a)
{
	size_t	i, j;
	int	nth = 0;

	for (i = 0; i < g; i++) {
		if (gv[i].port != gv[g].port)
			continue;
		for (j = 0; j < gv[i].naddresses; j++) {
			if (strcmp(gv[i].addresses[j],
			    gv[g].addresses[a]) == 0) {
				nth++;
				break;
			}
		}
	}
	return (nth);
}

/*
 * Make the listeners match a configuration: keep those still named (by
 * configured address, port and group), with the options now given them;
 * open the new ones first, and only then close the ones no longer named.
 * If a group cannot be bound, -1 is returned, and no listener is closed:
 * with partial the other groups still apply (a reload), without it
 * nothing changes (startup, which then exits).
 */
int
listeners_rebind(struct listeners *ls, const struct config *cfg, int partial)
{
	struct lvec		  made = { NULL, 0 };
	const struct listen_conf **keep;
	int			  rc, tries;

	keep = xcalloc(ls->cur.n + 1, sizeof *keep);
	for (tries = 1; ; tries++) {
		rc = bind_pass(ls, cfg, tries < PORT0_TRIES, partial, keep,
		    &made);
		if (rc != 1)
			break;
	}
	if (rc == 0 || partial)
		listeners_commit(ls, &made, keep, cfg->backlog, rc != 0);
	free(keep);
	return (rc);
}

/*
 * Bind what cfg names and ls lacks into made, marking in keep the group
 * of each listener still named. Returns 0, -1 on an error (logged: with
 * partial, made still holds the groups that bound), or 1 when the port
 * chosen for a port-0 group turned out taken on another address and the
 * pass should be tried again.
 */
static int
bind_pass(struct listeners *ls, const struct config *cfg, int may_retry,
    int partial, const struct listen_conf **keep, struct lvec *made)
{
	struct bindpass			 b;
	size_t				 g, from;
	int				 rc = 0;

	memset(&b, 0, sizeof b);
	b.ls = ls;
	b.backlog = cfg->backlog;
	b.may_retry = may_retry;
	memset(keep, 0, ls->cur.n * sizeof *keep);
	for (g = 0; g < cfg->nlistens; g++) {
		from = b.made.n;
		if (bind_group(&b, cfg->listens, g, keep) == 0)
			continue;
		if (b.retry || !partial) {
			lvec_free(&b.made);
			return (b.retry ? 1 : -1);
		}
		lvec_truncate(&b.made, from);	/* none of this group */
		rc = -1;
	}
	*made = b.made;
	return (rc);
}

/* Bind the addresses of group g that no listener has yet. */
static int
bind_group(struct bindpass *b, const struct listen_conf *gv, size_t g,
    const struct listen_conf **keep)
{
	struct listeners	*ls = b->ls;
	struct listener		*l;
	size_t			 i, j;
	int			 found;

	b->g = &gv[g];
	b->cfg_port = b->port = gv[g].port;
	b->chosen = 0;
	/* A port-0 group keeps the port its kept listeners have. */
	if (gv[g].port == 0)
		b->port = kept_port(ls, gv, g);
	for (i = 0; i < gv[g].naddresses; i++) {
		found = 0;
		b->nth = group_nth(gv, g, i);
		for (j = 0; j < ls->cur.n; j++) {
			l = ls->cur.v[j];
			if (l->port == gv[g].port && l->nth == b->nth &&
			    strcmp(l->address, gv[g].addresses[i]) == 0) {
				keep[j] = &gv[g];
				found = 1;
			}
		}
		if (!found && bind_address(b, gv[g].addresses[i]) == -1)
			return (-1);
	}
	return (0);
}

/* The port port-0 group g listens on now, if it keeps any of it. */
static int
kept_port(const struct listeners *ls, const struct listen_conf *gv,
    size_t g)
{
	const struct listener	*l;
	size_t			 i, j;

	for (i = 0; i < ls->cur.n; i++) {
		l = ls->cur.v[i];
		if (l->port != 0)
			continue;
		for (j = 0; j < gv[g].naddresses; j++) {
			if (strcmp(l->address, gv[g].addresses[j]) == 0 &&
			    l->nth == group_nth(gv, g, j))
				return (l->bound_port);
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
	struct listener		*l;
	char			 name[ADDRSTRLEN];
	unsigned		 flags;

	/* Enabled once its callbacks have their listener: commit does. */
	flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE | LEV_OPT_DISABLED;
	/* So that "*" can bind :: beside 0.0.0.0 on the same port. */
	if (ai->ai_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	set_port(ai->ai_addr, b->port);
	addr_format(ai->ai_addr, name, sizeof name);

	lev = evconnlistener_new_bind(b->ls->base, listen_accept_callback,
	    NULL, flags, b->backlog, ai->ai_addr, (int)ai->ai_addrlen);
	if (lev == NULL) {
		if (errno == EADDRINUSE && b->chosen && b->may_retry) {
			b->retry = 1;
			return (-1);
		}
		log_errorx("bind %s: %s", name, strerror(errno));
		return (-1);
	}
	lvec_add(&b->made, b->ls, lev, address, b->cfg_port);
	l = b->made.v[b->made.n - 1];
	l->nth = b->nth;
	listener_set(l, b->g);
	if (b->port == 0) {
		b->port = l->bound_port;
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
 * Serve the listeners just made beside those kept, close the rest (unless
 * keep_all: a group failed, whose old listeners may be the ones serving),
 * and give the kept ones their group's options (for connections from now
 * on) and a changed backlog: Linux takes a new one from listen() on a
 * socket already listening.
 */
static void
listeners_commit(struct listeners *ls, struct lvec *made,
    const struct listen_conf **keep, int backlog, int keep_all)
{
	struct lvec	 next = *made;
	struct listener	*l;
	char		 opts[64];
	size_t		 i;
	int		 had;

	for (i = 0; i < next.n; i++) {
		listener_opts_text(next.v[i], opts, sizeof opts);
		log_info("listening on %s%s", next.v[i]->name, opts);
		next.v[i]->logged = 1;
		evconnlistener_enable(next.v[i]->lev);
	}
	for (i = 0; i < ls->cur.n; i++) {
		l = ls->cur.v[i];
		if (keep[i] == NULL && !keep_all) {
			log_info("no longer listening on %s", l->name);
			listener_free(l);
			continue;
		}
		had = l->proxy;
		if (keep[i] != NULL)
			listener_set(l, keep[i]);
		if (had != l->proxy) {
			listener_opts_text(l, opts, sizeof opts);
			log_info("options of %s now:%s", l->name,
			    opts[0] != '\0' ? opts : " none");
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

/*
 * Give a listener a group's options (none: plain), its own copy, as a
 * reload frees the configuration they came from.
 */
void
listener_set(struct listener *l, const struct listen_conf *g)
{
	free(l->trusted);
	l->trusted = NULL;
	l->ntrusted = 0;
	l->proxy = PROXY_NONE;
	l->tls = 0;
	if (g == NULL)
		return;
	l->proxy = g->proxy;
	l->tls = g->tls;
	if (g->ntrusted > 0) {
		l->trusted = xcalloc(g->ntrusted, sizeof *l->trusted);
		memcpy(l->trusted, g->trusted, g->ntrusted *
		    sizeof *l->trusted);
		l->ntrusted = g->ntrusted;
	}
}

/* A listener's options as its log line shows them: " proxy=v2", or "". */
void
listener_opts_text(const struct listener *l, char *buf, size_t len)
{
	buf[0] = '\0';
	if (l->proxy != PROXY_NONE)
		snprintf(buf, len, " proxy=%s", proxy_mode_name(l->proxy));
	if (l->tls)
		snprintf(buf + strlen(buf), len - strlen(buf), " tls");
}

/* Record a listener, with the address and port it really has. */
void
lvec_add(struct lvec *lv, struct listeners *ls, struct evconnlistener *lev,
    const char *address, int port)
{
	struct listener		*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;

	l = xcalloc(1, sizeof *l);
	l->lev = lev;
	l->ls = ls;
	l->address = xstrdup(address);
	l->port = port;
	if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss,
	    &sslen) == 0) {
		addr_format((struct sockaddr *)&ss, l->name, sizeof l->name);
		if (ss.ss_family == AF_INET)
			l->bound_port = ntohs(((struct sockaddr_in *)
			    (void *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			l->bound_port = ntohs(((struct sockaddr_in6 *)
			    (void *)&ss)->sin6_port);
	} else
		snprintf(l->name, sizeof l->name, "%s", address);
	evconnlistener_set_cb(lev, listen_accept_callback, l);
	evconnlistener_set_error_cb(lev, listen_error_callback);
	lvec_push(lv, l);
}

static void
lvec_push(struct lvec *lv, struct listener *l)
{
	lv->v = realloc(lv->v, (lv->n + 1) * sizeof *lv->v);
	if (lv->v == NULL)
		fatalx("out of memory");
	lv->v[lv->n++] = l;
}

static void
listener_free(struct listener *l)
{
	evconnlistener_free(l->lev);
	free(l->address);
	free(l->trusted);
	free(l);
}

/* Close the listeners of lv from the n-th on. */
static void
lvec_truncate(struct lvec *lv, size_t n)
{
	while (lv->n > n)
		listener_free(lv->v[--lv->n]);
}

void
lvec_free(struct lvec *lv)
{
	size_t	i;

	for (i = 0; i < lv->n; i++)
		listener_free(lv->v[i]);
	free(lv->v);
	lv->v = NULL;
	lv->n = 0;
}
