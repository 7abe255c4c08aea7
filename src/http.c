/*
 * http.c - the metrics and status endpoint: libevent's evhttp on the
 * acceptor's event base, from a listener of our own, so that its limits
 * are ours (64 connections, 10 s timeouts); its routes; moving it on
 * SIGHUP.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * evhttp 2.1 has no connection limit, and tells nobody when one of its
 * connections is freed. So each connection's bufferevent is made here and
 * held with a reference of ours: evhttp's bufferevent_free clears its
 * callbacks, and a sweep (each new connection, and a timer) drops ours
 * from those, which closes their sockets and counts them down. (A filter
 * bufferevent, freed with a callback, stalls evhttp's reads in 2.1.12.)
 * At the limit evhttp's listener is disabled and an event of ours accepts
 * what comes and closes it at once. Nothing here blocks: a slow client
 * only ever waits on its own buffers.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "http.h"

struct http {
	struct server		*server;
	struct event_base	*base;
	struct evhttp		*evh;
	struct evconnlistener	*lev;		/* evh frees it */
	struct event		*refuse;	/* at the limit: accept, close */
	struct event		*sweep;
	struct bufferevent	*bevs[HTTP_MAX_CONNS];	/* held */
	int			 nbevs;
	struct status		*status;
	int			 full;
	char			*spec;		/* as configured */
	struct sockaddr_storage	 bound;
	char			 name[ADDRSTRLEN];
};

static struct http *http_new(struct server *, struct event_base *,
		    struct sockaddr *, socklen_t);
static struct bufferevent *http_bev_callback(struct event_base *, void *);
static void	http_sweep(struct http *);
static void	http_sweep_callback(evutil_socket_t, short, void *);
static void	http_refuse_callback(evutil_socket_t, short, void *);
static void	http_route(struct evhttp_request *, void *);
static void	http_reply(struct evhttp_request *, int, const char *,
		    const char *, struct evbuffer *);
static int	http_same_address(const struct sockaddr *,
		    const struct sockaddr_storage *);

/*
 * Make the endpoint what spec says: "" none, else one listening on it.
 * An endpoint already on that address is kept; a new one replaces the
 * old only once it is bound. -1 if it cannot be bound (logged as
 * "bind http ADDRESS:PORT: why"), the old one still serving.
 */
int
http_configure(struct http **hp, struct server *server,
    struct event_base *base, const char *spec)
{
	struct http		*old = *hp, *h;
	struct evutil_addrinfo	*res;
	char			 host[256], why[512];
	int			 port;

	if (*spec == '\0') {
		if (old != NULL)
			log_info("http no longer listening on %s", old->name);
		http_free(old);
		*hp = NULL;
		return (0);
	}
	if (old != NULL && strcmp(old->spec, spec) == 0)
		return (0);
	if (config_parse_hostport(spec, host, sizeof host, &port, why,
	    sizeof why) == -1 || config_resolve(host, port, &res, why,
	    sizeof why) == -1) {
		log_errorx("http: %s", why);
		return (-1);
	}
	if (old != NULL && port != 0 &&
	    http_same_address(res->ai_addr, &old->bound)) {
		free(old->spec);
		old->spec = xstrdup(spec);
		evutil_freeaddrinfo(res);
		return (0);
	}
	h = http_new(server, base, res->ai_addr, res->ai_addrlen);
	evutil_freeaddrinfo(res);
	if (h == NULL)
		return (-1);
	h->spec = xstrdup(spec);
	if (old != NULL)
		log_info("http no longer listening on %s", old->name);
	http_free(old);
	log_info("http listening on %s", h->name);
	*hp = h;
	return (0);
}

/* Whether sa is where the endpoint is bound already. */
static int
http_same_address(const struct sockaddr *sa,
    const struct sockaddr_storage *bound)
{
	const struct sockaddr_in	*a4 = (const void *)sa;
	const struct sockaddr_in	*b4 = (const void *)bound;
	const struct sockaddr_in6	*a6 = (const void *)sa;
	const struct sockaddr_in6	*b6 = (const void *)bound;

	if (sa->sa_family != bound->ss_family)
		return (0);
	if (sa->sa_family == AF_INET)
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	return (a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof a6->sin6_addr) == 0);
}

/* Bind sa and serve HTTP there; NULL, logged, if it cannot be bound. */
static struct http *
http_new(struct server *server, struct event_base *base, struct sockaddr *sa,
    socklen_t salen)
{
	struct http	*h;
	socklen_t	 len;
	unsigned	 flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
			    LEV_OPT_REUSEABLE;
	char		 name[ADDRSTRLEN];

	if (sa->sa_family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	h = xcalloc(1, sizeof *h);
	h->lev = evconnlistener_new_bind(base, NULL, NULL, flags, 128, sa,
	    (int)salen);
	if (h->lev == NULL) {
		addr_format(sa, name, sizeof name);
		log_errorx("bind http %s: %s", name, strerror(errno));
		free(h);
		return (NULL);
	}
	h->server = server;
	h->base = base;
	len = sizeof h->bound;
	getsockname(evconnlistener_get_fd(h->lev),
	    (struct sockaddr *)&h->bound, &len);
	addr_format((struct sockaddr *)&h->bound, h->name, sizeof h->name);
	h->refuse = event_new(base, evconnlistener_get_fd(h->lev),
	    EV_READ | EV_PERSIST, http_refuse_callback, h);
	h->sweep = evtimer_new(base, http_sweep_callback, h);
	if ((h->evh = evhttp_new(base)) == NULL || h->refuse == NULL ||
	    h->sweep == NULL)
		fatalx("cannot set up the http endpoint");
	evhttp_set_timeout(h->evh, HTTP_TIMEOUT);
	evhttp_set_max_headers_size(h->evh, 16384);
	evhttp_set_max_body_size(h->evh, 65536);
	/* Every method reaches http_route, which says 405 and Allow. */
	evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->evh, http_route, h);
	evhttp_set_bevcb(h->evh, http_bev_callback, h);
	if (evhttp_bind_listener(h->evh, h->lev) == NULL)
		fatalx("cannot set up the http endpoint");
	h->status = status_new(server, base, h->name);
	return (h);
}

/* Close every HTTP connection and the listener; NULL is none. */
void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	/* Pending /status.json replies go out (or are dropped) first. */
	status_free(h->status);
	event_free(h->refuse);
	evhttp_free(h->evh);
	while (h->nbevs > 0)
		bufferevent_decref(h->bevs[--h->nbevs]);
	event_free(h->sweep);
	free(h->spec);
	free(h);
}

/*
 * A new HTTP connection: its bufferevent, held. The 64th fills the
 * endpoint: evhttp stops accepting, http_refuse_callback starts.
 */
static struct bufferevent *
http_bev_callback(struct event_base *base, void *arg)
{
	struct http		*h = arg;
	struct bufferevent	*bev;
	struct timeval		 tv = { 0, 500 * 1000 };

	http_sweep(h);
	if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("cannot set up an http connection");
	/* Never more than the limit: evhttp's listener is off at it. */
	bufferevent_incref(bev);
	h->bevs[h->nbevs++] = bev;
	if (h->nbevs >= HTTP_MAX_CONNS && !h->full) {
		h->full = 1;
		evconnlistener_disable(h->lev);
		event_add(h->refuse, NULL);
		log_debug("http: %d connections: refusing more", h->nbevs);
	}
	if (!evtimer_pending(h->sweep, NULL))
		evtimer_add(h->sweep, &tv);
	return (bev);
}

/*
 * Drop the connections evhttp has freed (their callbacks are cleared):
 * that closes their sockets, and makes room.
 */
static void
http_sweep(struct http *h)
{
	bufferevent_data_cb	 rd, wr;
	bufferevent_event_cb	 ev;
	void			*arg;
	int			 i;

	for (i = 0; i < h->nbevs; ) {
		bufferevent_getcb(h->bevs[i], &rd, &wr, &ev, &arg);
		if (rd != NULL || wr != NULL || ev != NULL) {
			i++;
			continue;
		}
		bufferevent_decref(h->bevs[i]);
		h->bevs[i] = h->bevs[--h->nbevs];
	}
	if (h->full && h->nbevs < HTTP_MAX_CONNS) {
		h->full = 0;
		event_del(h->refuse);
		evconnlistener_enable(h->lev);
	}
}

/* Sweep twice a second while there are connections. */
static void
http_sweep_callback(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;
	struct timeval	 tv = { 0, 500 * 1000 };

	(void)fd;
	(void)what;
	http_sweep(h);
	if (h->nbevs > 0)
		evtimer_add(h->sweep, &tv);
}

/* At the limit: take what is queued and close it at once. */
static void
http_refuse_callback(evutil_socket_t lfd, short what, void *arg)
{
	int	fd, i;

	(void)what;
	(void)arg;
	for (i = 0; i < 16; i++) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			break;
		close(fd);
	}
}

/* GET or HEAD of /, /metrics or /status.json; 404 and 405 else. */
static void
http_route(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	struct evbuffer		*body;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*path = uri != NULL ? evhttp_uri_get_path(uri) :
				    NULL;
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);

	if (path == NULL || (strcmp(path, "/") != 0 &&
	    strcmp(path, "/metrics") != 0 &&
	    strcmp(path, "/status.json") != 0)) {
		http_reply(req, 404, "Not Found", "text/plain; charset=utf-8",
		    NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		http_reply(req, 405, "Method Not Allowed",
		    "text/plain; charset=utf-8", NULL);
		return;
	}
	if (strcmp(path, "/status.json") == 0) {
		status_request(h->status, req, STATUS_JSON);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		status_request(h->status, req, STATUS_METRICS);
		return;
	}
	if ((body = evbuffer_new()) == NULL)
		fatalx("out of memory");
	evbuffer_add_reference(body, status_html, status_html_len, NULL, NULL);
	http_reply(req, 200, "OK", "text/html; charset=utf-8", body);
	evbuffer_free(body);
}

/*
 * Send a reply; with no body, the status line as one. HEAD gets the
 * headers alone (evhttp leaves the body out).
 */
static void
http_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq	*oh = evhttp_request_get_output_headers(req);
	struct evbuffer		*b = body;
	char			 len[24];

	if (b == NULL) {
		if ((b = evbuffer_new()) == NULL)
			fatalx("out of memory");
		evbuffer_add_printf(b, "%d %s\n", code, reason);
	}
	evhttp_add_header(oh, "Content-Type", type);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	/* evhttp leaves HEAD's out; it is what GET's would be. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof len, "%zu", evbuffer_get_length(b));
		evhttp_add_header(oh, "Content-Length", len);
	}
	evhttp_send_reply(req, code, reason, b);
	if (body == NULL)
		evbuffer_free(b);
}

/*
 * Reply to a request that http-status.c answers; NULL is 503. One whose
 * client has gone has no connection, and the reply just frees it.
 */
void
http_send_status(struct evhttp_request *req, enum status_kind kind,
    struct evbuffer *body)
{
	if (body == NULL)
		http_reply(req, 503, "Service Unavailable",
		    "text/plain; charset=utf-8", NULL);
	else if (kind == STATUS_METRICS)
		http_reply(req, 200, "OK", "text/plain; version=0.0.4; "
		    "charset=utf-8", body);
	else
		http_reply(req, 200, "OK", "application/json", body);
}
