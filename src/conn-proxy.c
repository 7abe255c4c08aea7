/*
 * conn-proxy.c - the PROXY header of a connection on a PROXY listener,
 * read by the worker that will serve it, from the raw socket, before the
 * connection's bufferevent exists; then the connection, or its close.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * A partial header waits on a plain read event: no MSG_PEEK, no spinning.
 * What is read past the header is the client's first data, handed to the
 * framer (proxy_room says when that is allowed).
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "seqechod.h"
#include "proxy.h"

struct proxy_wait {
	LIST_ENTRY(proxy_wait)	 entry;
	struct worker		*worker;
	struct event		*ev;
	struct event		*timer;
	struct accepted		 a;
	struct timeval		 started;
	int			 waiting;	/* on the heap, its events set */
	size_t			 len;
	uint8_t			 buf[PROXY_HEADER_MAX];
};

static void	proxy_host(const struct sockaddr_storage *, char *, size_t);
static size_t	proxy_room(const struct proxy_wait *, size_t);
static int	proxy_read(struct proxy_wait *);
static void	proxy_done(struct proxy_wait *, const struct proxy_header *,
		    size_t);
static void	proxy_fail(struct proxy_wait *, int, const char *);
static void	proxy_reject(struct worker *, const struct accepted *,
		    const struct timeval *, int, const char *);
static void	proxy_release(struct proxy_wait *);
static void	proxy_read_callback(evutil_socket_t, short, void *);
static void	proxy_timer_callback(evutil_socket_t, short, void *);

/*
 * Begin a connection on a PROXY listener: close it at once if its source
 * may not send a header, else read the header, starting with what may
 * already be there.
 */
void
proxy_start(struct worker *w, const struct accepted *a)
{
	struct event_base	*base = worker_base(w);
	struct proxy_wait	 first, *pw;
	struct timeval		 now, tv = { a->params.proxy_timeout, 0 };
	char			 why[INET6_ADDRSTRLEN + 32];

	event_base_gettimeofday_cached(base, &now);
	if (a->untrusted) {
		snprintf(why, sizeof why, "untrusted source ");
		proxy_host(&a->peer, why + strlen(why),
		    sizeof why - strlen(why));
		proxy_reject(w, a, &now, 1, why);
		return;
	}
	/*
	 * A balancer sends the header at once, so it is usually here
	 * already: read it from the stack, and set up a wait (its buffer,
	 * events and timer cost a quarter of a churning connection) only
	 * when it is not all here.
	 */
	first.worker = w;
	first.a = *a;
	first.started = now;
	first.waiting = 0;
	first.len = 0;
	if (proxy_read(&first) == 0)
		return;
	pw = xmalloc(sizeof *pw);
	memcpy(pw, &first, offsetof(struct proxy_wait, buf) + first.len);
	pw->waiting = 1;
	pw->ev = event_new(base, a->fd, EV_READ | EV_PERSIST,
	    proxy_read_callback, pw);
	pw->timer = evtimer_new(base, proxy_timer_callback, pw);
	if (pw->ev == NULL || pw->timer == NULL)
		fatalx("cannot create PROXY events");
	LIST_INSERT_HEAD(worker_proxies(w), pw, entry);
	/* proxy_timeout is at least 1: a header is never waited for forever. */
	evtimer_add(pw->timer, &tv);
	event_add(pw->ev, NULL);
	log_debug("conn %llu: waiting for a PROXY header",
	    (unsigned long long)a->id);
}

/* An address without its port, as a trusted prefix names it. */
static void
proxy_host(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*addr;

	if (ss->ss_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_addr;
	else
		addr = &((const struct sockaddr_in *)(const void *)ss)->
		    sin_addr;
	if (inet_ntop(ss->ss_family, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "(unknown)");
}

/*
 * How much to ask the socket for, when the header needs need bytes in all.
 * One recv of all the buffer's room takes the header and what came with it
 * in one call where reading exactly 16 bytes, then exactly length (v2), or
 * one byte at a time (v1) took two or more, and the bufferevent's readv
 * and ioctl after them. Measured on churn, seqecho-bench --churn --proxy v2
 * against one worker: strace -c counted 3.3 recvfrom, 1 readv and 1 ioctl
 * per connection, now 2.3 recvfrom (one is conn_flushed's peek, 0.3 an
 * EAGAIN before the header came) and neither. With proxy_done's order
 * of events, the daemon's CPU per connection (schedstat, medians of 16
 * alternating pairs on a busy 2-core host) went from 1.17 to 1.02 times
 * a plain listener's.
 * What is read past the header goes to the framer as a.pre. Not on a TLS
 * listener, whose socket OpenSSL reads itself, nor with segment framing,
 * where one read is one message: there exactly what the header needs.
 */
static size_t
proxy_room(const struct proxy_wait *pw, size_t need)
{
	if (pw->a.tls != NULL ||
	    pw->a.params.framing == PROTO_FRAMING_SEGMENT)
		return (need - pw->len);
	return (sizeof pw->buf - pw->len);
}

/*
 * Read what the header still needs, as much as the socket has of it; on a
 * whole header start the connection, on a bad one or the end of the
 * stream close it, and return 0. Otherwise return 1: wait for more.
 */
static int
proxy_read(struct proxy_wait *pw)
{
	struct proxy_header	 h;
	enum proxy_status	 st;
	const char		*why = NULL;
	char			 msg[128];
	size_t			 need = 0, used = 0;
	ssize_t			 n;

	for (;;) {
		st = proxy_parse(pw->buf, pw->len, pw->a.proxy, &h, &need,
		    &used, &why);
		if (st == PROXY_DONE) {
			proxy_done(pw, &h, used);
			return (0);
		}
		if (st == PROXY_BAD) {
			proxy_fail(pw, 1, why != NULL ? why : "bad header");
			return (0);
		}
		if (need <= pw->len || need > sizeof pw->buf) {
			proxy_fail(pw, 1, "header over its limit");
			return (0);
		}
		n = recv(pw->a.fd, pw->buf + pw->len, proxy_room(pw, need),
		    MSG_DONTWAIT);
		if (n > 0) {
			pw->len += (size_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			snprintf(msg, sizeof msg, "end of stream %s the "
			    "header", pw->len == 0 ? "before" : "inside");
		else
			snprintf(msg, sizeof msg, "%s %s the header",
			    strerror(errno), pw->len == 0 ? "before" : "inside");
		proxy_fail(pw, n == 0 ? 0 : 1, msg);
		return (0);
	}
}

/*
 * A whole valid header of used bytes: the connection is the client's it
 * names (LOCAL and UNKNOWN keep the socket's), through the balancer's
 * socket; what came after the header is the client's first data.
 */
static void
proxy_done(struct proxy_wait *pw, const struct proxy_header *h, size_t used)
{
	struct accepted	 a = pw->a;

	a.via = a.peer;
	a.has_via = 1;
	if (!h->local)
		a.peer = h->src;
	a.pre = pw->buf + used;
	a.npre = pw->len - used;
	log_debug("conn %llu: PROXY v%d header of %zu bytes%s",
	    (unsigned long long)a.id, h->version, used,
	    h->local ? ", local" : "");
	/*
	 * The connection's bufferevent takes the descriptor over. It adds
	 * its read event while the wait's is still on the descriptor, so
	 * libevent's epoll sees no change for either: freeing the wait's
	 * first cost an EPOLL_CTL_DEL and an EPOLL_CTL_ADD per connection
	 * that waited (strace -c of churn through a v2 listener: 2.4
	 * epoll_ctl per connection when a fifth waited, now 2.0 as on a
	 * plain listener, whatever waits). Should conn_new
	 * have closed the socket already, libevent's DEL meets EBADF or
	 * ENOENT, which it takes as done: the number can be no new socket
	 * of this worker's yet.
	 */
	if (pw->waiting)
		LIST_REMOVE(pw, entry);
	conn_new(pw->worker, &a);	/* copies a.pre before returning */
	if (pw->waiting) {
		event_free(pw->ev);
		event_free(pw->timer);
		free(pw);
	}
}

/*
 * The header did not come whole and valid: close without a reply. The
 * events go first: once closed, the descriptor's number may be another
 * thread's new socket already.
 */
static void
proxy_fail(struct proxy_wait *pw, int server_first, const char *why)
{
	struct worker	*w = pw->worker;
	struct accepted	 a = pw->a;
	struct timeval	 started = pw->started;

	pw->a.fd = -1;		/* closed by proxy_reject */
	pw->a.tls = NULL;
	proxy_release(pw);
	proxy_reject(w, &a, &started, server_first, why);
}

/*
 * Log, count and close a connection that never got served: its close
 * line has reason proxy and what was wrong with it.
 */
static void
proxy_reject(struct worker *w, const struct accepted *a,
    const struct timeval *started, int server_first, const char *why)
{
	struct stats	*st = worker_stats(w);
	struct accepted	 closing = *a;
	struct timeval	 now, took;
	char		 peer[ADDRSTRLEN];

	event_base_gettimeofday_cached(worker_base(w), &now);
	timersub(&now, started, &took);
	addr_format((const struct sockaddr *)&a->peer, peer, sizeof peer);
	log_info("conn %llu closed peer=%s messages=0 in=0 out=0 "
	    "duration=%ld.%03lds first=%s reason=proxy proxy: %s",
	    (unsigned long long)a->id, peer, (long)took.tv_sec,
	    (long)took.tv_usec / 1000, server_first ? "server" : "client",
	    why);
	STAT_ADD(st->conns_total, 1);
	STAT_ADD(st->reasons[REASON_PROXY], 1);
	if (server_first)
		STAT_ADD(st->server_first, 1);
	else
		STAT_ADD(st->client_first, 1);
	accepted_close(&closing);
	worker_conn_closed(w, !closing.over_limit);
}

/* Free a wait (its events before its socket, closed unless passed on). */
static void
proxy_release(struct proxy_wait *pw)
{
	struct accepted	a = pw->a;

	if (pw->waiting) {
		LIST_REMOVE(pw, entry);
		event_free(pw->ev);
		event_free(pw->timer);
		free(pw);
	}
	accepted_close(&a);
}

static void
proxy_read_callback(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	proxy_read(arg);
}

static void
proxy_timer_callback(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_wait	*pw = arg;
	char			 why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof why, "no whole header within %ds",
	    pw->a.params.proxy_timeout);
	proxy_fail(pw, 1, why);
}

/*
 * The worker is stopping: the connections still waiting for a header are
 * served as they are, which tells them the server is shutting down.
 */
void
proxy_shutdown_all(struct proxy_list *list)
{
	struct proxy_wait	*pw;
	struct accepted		 a;

	struct worker		*w;

	while ((pw = LIST_FIRST(list)) != NULL) {
		w = pw->worker;
		a = pw->a;
		a.proxy = PROXY_NONE;
		a.npre = 0;
		pw->a.fd = -1;		/* passed on */
		pw->a.tls = NULL;
		proxy_release(pw);
		conn_new(w, &a);
	}
}

/* The worker is going: close whatever still waits. */
void
proxy_free_all(struct proxy_list *list)
{
	struct proxy_wait	*pw;

	while ((pw = LIST_FIRST(list)) != NULL)
		proxy_release(pw);
}
