/*
 * server-activate.c - socket activation: the listening sockets systemd
 * passed, served instead of binding, each with the options of the
 * listener group naming its address and port (none: a plain listener),
 * matched again on reload.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include <event2/listener.h>
#include <event2/util.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "seqechod.h"
#include "listen.h"

static int	group_matches(const struct listen_conf *,
		    const struct sockaddr *, int);
static int	same_addr(const struct sockaddr *, const struct sockaddr *);

/*
 * Socket activation: serve the listening sockets systemd passed, if any,
 * each with the options of the group it matches. Returns how many, or -1
 * if one of them is not a listening TCP socket.
 */
int
listeners_inherit(struct listeners *ls, const struct config *cfg)
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
		/*
		 * A negative backlog: the socket is listening already.
		 * lvec_add gives it its callbacks, matching enables it.
		 */
		lev = evconnlistener_new(ls->base, NULL, NULL,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED, -1, fd);
		if (lev == NULL)
			fatalx("cannot listen on systemd socket %d", fd);
		lvec_add(&ls->cur, ls, lev, "systemd", -1);
	}
	listeners_match(ls, cfg);
	return (n);
#else
	(void)ls;
	(void)cfg;
	return (0);
#endif
}

/*
 * Give each inherited socket the options of the group naming its address
 * and port; one that none names is plain. Logs each, as it now listens.
 */
void
listeners_match(struct listeners *ls, const struct config *cfg)
{
	const struct listen_conf	*gv = cfg->listens, *m;
	struct listener			*l;
	struct sockaddr_storage		 ss;
	socklen_t			 sslen;
	size_t				 i, g, n = cfg->nlistens;
	char				 opts[64];
	int				 had;

	for (i = 0; i < ls->cur.n; i++) {
		l = ls->cur.v[i];
		sslen = sizeof ss;
		m = NULL;
		if (getsockname(evconnlistener_get_fd(l->lev),
		    (struct sockaddr *)&ss, &sslen) == 0) {
			for (g = 0; g < n && m == NULL; g++) {
				if (group_matches(&gv[g],
				    (struct sockaddr *)&ss, l->bound_port))
					m = &gv[g];
			}
		}
		had = l->proxy;
		listener_set(l, m);
		listener_opts_text(l, opts, sizeof opts);
		if (!l->logged) {
			l->logged = 1;
			log_info("listening on %s%s", l->name, opts);
			evconnlistener_enable(l->lev);
		} else if (had != l->proxy)
			log_info("options of %s now:%s", l->name,
			    opts[0] != '\0' ? opts : " none");
	}
}

/* Whether group g names the address sa, bound to port, exactly. */
static int
group_matches(const struct listen_conf *g, const struct sockaddr *sa,
    int port)
{
	struct evutil_addrinfo	*res, *ai;
	char			 why[512];
	size_t			 i;
	int			 found = 0;

	if (g->port != port)
		return (0);
	for (i = 0; i < g->naddresses && !found; i++) {
		if (config_resolve(g->addresses[i], port, &res, why,
		    sizeof why) == -1)
			continue;
		for (ai = res; ai != NULL && !found; ai = ai->ai_next)
			found = same_addr(ai->ai_addr, sa);
		evutil_freeaddrinfo(res);
	}
	return (found);
}

/* Two socket addresses of one family, the same address and port. */
static int
same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a, *b6 = (const void *)b;

	if (a->sa_family != b->sa_family)
		return (0);
	if (a->sa_family == AF_INET)
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	if (a->sa_family == AF_INET6)
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof a6->sin6_addr) == 0);
	return (0);
}
