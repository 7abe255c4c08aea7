/*
 * bench-conn.c - one seqecho-bench connection's start: the socket, its
 * source address, connect, the PROXY header, and the events that drive
 * it; how it ends is bench-end.c's.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Sockets are driven by plain events and read(2)/write(2), not by
 * bufferevents. On one core against a minimal epoll echo server, with 50
 * connections, 1 message in flight and 16-byte payloads (medians of five
 * interleaved runs), a bufferevent client made 100k msg/s and a plain-event
 * one 182k: a bufferevent costs an ioctl(FIONREAD) per read and an
 * epoll_ctl pair and a loop pass per write, which made the tool the
 * bottleneck.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <event2/event.h>

#include "seqecho.h"
#include "bench.h"
#include "proxy.h"

/* A churn slot whose connect failed waits this long before the next. */
#define CHURN_PAUSE_MS		10
/* On IPv4 loopback, sources 127.0.0.1 to 127.0.0.LOOPBACK_SOURCES. */
#define LOOPBACK_SOURCES	32
/* Churn's stream (message and bye) sent with the PROXY header, at most. */
#define CONN_PROXY_STREAM	512

static int	conn_socket(struct bench_conn *);
static int	conn_bind_source(struct bench_conn *, int);
static void	conn_connect_failed(struct bench_conn *, const char *,
		    const char *);
static void	conn_connected(struct bench_conn *, short);
static int	conn_send_proxy(struct bench_conn *);
static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_churn_cb(evutil_socket_t, short, void *);
static void	conn_churn_stall(struct bench_conn *);
static void	conn_timer_cb(evutil_socket_t, short, void *);

/* Make connection i of thread t, with its events, in t's base. */
void
bench_conn_init(struct bench_thread *t, struct bench_conn *c, int i)
{
	struct bench	*b = t->b;

	c->t = t;
	c->fd = -1;
	c->id = t->first_id + (uint32_t)i;
	c->sent = xcalloc((size_t)b->ring_mask + 1, sizeof *c->sent);
	c->phase = (double)c->id / b->conns;
	c->rev = event_new(t->base, -1, 0, NULL, NULL);
	c->wev = event_new(t->base, -1, 0, NULL, NULL);
	if (c->rev == NULL || c->wev == NULL)
		fatalx("cannot create events");
	if (b->mode == MODE_OPEN || b->mode == MODE_CHURN) {
		c->timer = evtimer_new(t->base, conn_timer_cb, c);
		if (c->timer == NULL)
			fatalx("cannot create a timer");
	}
}

/* Close the connection if open and free what it holds. */
void
bench_conn_free(struct bench_conn *c)
{
	if (c->fd != -1)
		bench_conn_close(c);
	event_free(c->rev);
	event_free(c->wev);
	if (c->timer != NULL)
		event_free(c->timer);
	free(c->sent);
	free(c->partial);
}

/*
 * Bind fd to c's -b source, round robin by connection id: churn gives
 * each new connection the next id, so it walks the list too, with no
 * counter shared between threads.
 */
static int
conn_bind_source(struct bench_conn *c, int fd)
{
	const struct bench		*b = c->t->b;
	const struct sockaddr_storage	*ss;
	int				 one = 1, error;

	ss = &b->sources.addr[c->id % b->sources.count];
#ifdef IP_BIND_ADDRESS_NO_PORT
	/* The port is chosen at connect, per 4-tuple. */
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#else
	(void)one;
#endif
	if (bind(fd, (const struct sockaddr *)ss, ss->ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) == -1) {
		error = errno;
		close(fd);
		errno = error;
		return (-1);
	}
	return (fd);
}

/* A socket for c, bound to its loopback source if sources are spread. */
static int
conn_socket(struct bench_conn *c)
{
	struct bench		*b = c->t->b;
	struct sockaddr_in	 src;
	int			 fd, one = 1, error;

	fd = socket(b->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (fd);
	if (b->sources.count > 0)
		return (conn_bind_source(c, fd));
	if (!b->spread_sources)
		return (fd);
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + c->id % LOOPBACK_SOURCES);
#ifdef IP_BIND_ADDRESS_NO_PORT
	/* The port is chosen at connect, per 4-tuple. */
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
	if (bind(fd, (struct sockaddr *)&src, sizeof src) == -1) {
		error = errno;
		close(fd);
		errno = error;
		return (-1);
	}
	return (fd);
}

/* Open a socket and start connecting; -1 if that failed at once. */
int
bench_conn_connect(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;
	struct bench		*b = t->b;
	int			 fd, one = 1, error;

	if ((fd = conn_socket(c)) == -1) {
		conn_connect_failed(c, "connect", strerror(errno));
		return (-1);
	}
	/*
	 * Churn sends its one message in one write: Nagle cannot delay. A
	 * TLS handshake and close_notify are writes of their own, which it
	 * could.
	 */
	if (b->mode != MODE_CHURN || b->tls_ctx != NULL)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->t_connect = now_ns();
	if (connect(fd, (struct sockaddr *)&b->target, b->target_len) == -1 &&
	    errno != EINPROGRESS) {
		error = errno;
		close(fd);
		conn_connect_failed(c, "connect", strerror(error));
		return (-1);
	}
	c->fd = fd;
	c->state = BCONN_CONNECTING;
	c->flags = 0;
	c->issued = c->replied = c->written = 0;
	check_serial_set(&c->serial, 0);
	c->plen = 0;
	t->open++;
	if (b->mode == MODE_CHURN) {
		/*
		 * One edge-triggered event for the connection's whole life:
		 * one epoll_ctl to add and one to delete, not four, and the
		 * reply and the close are read in one pass. The timeout is
		 * the connect timeout, then one for a stall.
		 */
		event_assign(c->rev, t->base, fd, EV_READ | EV_WRITE |
		    EV_PERSIST | EV_ET, conn_churn_cb, c);
		event_add(c->rev, &b->connect_timeout);
		return (0);
	}
	event_assign(c->rev, t->base, fd, EV_READ | EV_PERSIST, conn_read_cb,
	    c);
	event_assign(c->wev, t->base, fd, EV_WRITE, conn_write_cb, c);
	event_add(c->wev, &b->connect_timeout);
	return (0);
}

/*
 * Count a failed connect (what: "connect" or "tls", why: the reason); a
 * churn slot tries again after a pause.
 */
static void
conn_connect_failed(struct bench_conn *c, const char *what, const char *why)
{
	struct bench	*b = c->t->b;
	struct timeval	 tv;

	bench_thread_error(c->t, ERROR_CONNECT, 1, "%s %s: %s", what,
	    b->target_name, why);
	if (b->mode == MODE_CHURN) {
		c->state = BCONN_FREE;
		ns_to_timeval((int64_t)CHURN_PAUSE_MS * 1000000, &tv);
		evtimer_add(c->timer, &tv);
	} else
		c->state = BCONN_CLOSED;
}

/* The handshake is over, or the connect timed out. */
static void
conn_connected(struct bench_conn *c, short what)
{
	struct bench_thread	*t = c->t;
	enum bench_mode		 mode = t->b->mode;
	socklen_t		 len = sizeof(int);
	int			 error = 0;
	int64_t			 now;

	/*
	 * Churn's event also watches for reading: a connect that worked
	 * shows writable only, one that failed shows an error, which
	 * libevent reports as readable too. That saves a getsockopt per
	 * connection.
	 */
	if (what & EV_TIMEOUT)
		error = ETIMEDOUT;
	else if ((mode != MODE_CHURN || (what & EV_READ)) &&
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error == 0 && t->b->proxy != PROXY_NONE)
		error = conn_send_proxy(c);
	if (error != 0) {
		bench_conn_setup_failed(c, "connect", strerror(error));
		return;
	}
	now = now_ns();
	hist_add(&t->stats.connect, now - c->t_connect);
	if (t->b->tls_ctx != NULL)
		bench_tls_begin(c, now);
	else
		bench_conn_established(c, now);
}

/* Setting up the connection failed (what: "connect" or "tls"). */
void
bench_conn_setup_failed(struct bench_conn *c, const char *what,
    const char *why)
{
	struct bench_thread	*t = c->t;

	bench_conn_close(c);
	conn_connect_failed(c, what, why);
	if (t->b->mode != MODE_CHURN) {
		t->setting_up--;
		bench_thread_setup_next(t);
	}
	bench_thread_check_done(t);
}

/*
 * The connection is up (with --tls, the handshake done too): start its
 * work. Outside churn its events go back to the plain callbacks, which
 * serve TLS as well.
 */
void
bench_conn_established(struct bench_conn *c, int64_t now)
{
	struct bench_thread	*t = c->t;
	enum bench_mode		 mode = t->b->mode;
	uint32_t		 closes = c->closes;

	t->stats.opened++;
	if (mode != MODE_CHURN) {
		if (c->ssl != NULL) {
			event_del(c->rev);
			event_del(c->wev);
			event_assign(c->rev, t->base, c->fd, EV_READ |
			    EV_PERSIST, conn_read_cb, c);
			event_assign(c->wev, t->base, c->fd, EV_WRITE,
			    conn_write_cb, c);
		}
		event_add(c->rev, NULL);
	}

	switch (mode) {
	case MODE_IDLE:
		/* One round trip: proof the server serves this connection. */
		c->state = BCONN_WARMUP;
		c->sent[0] = now;
		c->issued = 1;
		t->inflight++;
		bench_conn_flush(c);
		break;
	case MODE_CHURN:
		/* The message and bye together, then our FIN. */
		c->sent[0] = now;
		c->issued = 1;
		t->inflight++;
		bench_conn_bye(c);
		/* An edge may have come during the handshake: look once. */
		if (c->ssl != NULL && c->closes == closes)
			while (bench_conn_read(c) == 1)
				;
		break;
	default:
		c->state = BCONN_READY;
		t->setting_up--;
		bench_thread_setup_next(t);
		break;
	}
}

/*
 * Send the PROXY header naming this connection's ends, before its first
 * message; 0, or the errno. A fresh socket's send buffer is empty, so the
 * header goes whole. Churn's message and bye go in the same send, after
 * it, when they fit: that saves a syscall per connection (strace -c of
 * --churn --proxy v2: sendto and write, now one sendto), and the
 * segment is the same one MSG_MORE used to make of the two.
 */
static int
conn_send_proxy(struct bench_conn *c)
{
	struct bench		*b = c->t->b;
	struct sockaddr_storage	 src;
	socklen_t		 len = sizeof src;
	uint8_t			 hdr[PROXY_V1_MAX + CONN_PROXY_STREAM];
	size_t			 n, total;
	ssize_t			 w;

	if (getsockname(c->fd, (struct sockaddr *)&src, &len) == -1)
		return (errno);
	n = proxy_build(b->proxy, (struct sockaddr *)&src,
	    (struct sockaddr *)&b->target, hdr, PROXY_V1_MAX);
	if (n == 0)
		return (EAFNOSUPPORT);
	total = n;
	/* Over TLS the message goes inside the session, not after this. */
	if (b->mode == MODE_CHURN && b->tls_ctx == NULL &&
	    b->msglen + 4 <= sizeof hdr - n) {
		check_fill(&b->check, c->id, 1, 0, (char *)hdr + n,
		    b->msglen + 4);
		total += b->msglen + 4;
	}
	do {
		w = send(c->fd, hdr, total, MSG_NOSIGNAL |
		    (b->mode == MODE_CHURN && total == n &&
		    b->tls_ctx == NULL ? MSG_MORE : 0));
	} while (w == -1 && errno == EINTR);
	if (w == -1)
		return (errno);
	if ((size_t)w < n)
		return (EMSGSIZE);
	/* bench_conn_flush writes what of the stream did not go here. */
	c->written = (uint64_t)w - n;
	c->t->stats.bytes_out += (uint64_t)w - n;
	return (0);
}

/* Readable (level-triggered): one read per wake-up, as fair as epoll. */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bench_conn_read(arg);
}

/* Writable: the connect finished, or the socket has room again. */
static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_conn	*c = arg;

	(void)fd;
	if (c->state == BCONN_CONNECTING) {
		conn_connected(c, what);
		return;
	}
	c->flags &= ~BCONN_WRITE_WAIT;
	bench_conn_flush(c);
}

/*
 * Churn, edge-triggered: the connect is done (send the message and bye),
 * or there is room to write, or something to read, which is read to the
 * end, as an edge is not reported twice.
 */
static void
conn_churn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_conn	*c = arg;

	(void)fd;
	if (c->state == BCONN_CONNECTING) {
		conn_connected(c, what);
		return;
	}
	if (c->state == BCONN_HANDSHAKE) {
		bench_tls_handshake(c, what);
		return;
	}
	if (what & EV_TIMEOUT) {
		conn_churn_stall(c);
		return;
	}
	if ((what & EV_WRITE) && (c->flags & BCONN_WRITE_WAIT)) {
		c->flags &= ~BCONN_WRITE_WAIT;
		bench_conn_flush(c);
		if (c->fd == -1 || c->state != BCONN_BYE)
			return;
	}
	if (what & EV_READ) {
		while (bench_conn_read(c) == 1)
			;
	}
}

/* A churn connection stalled for connect_timeout: give up on it. */
static void
conn_churn_stall(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;
	long			 secs = (long)t->b->connect_timeout.tv_sec;
	uint64_t		 owed = c->issued - c->replied;

	if (owed > 0)
		bench_thread_error(t, ERROR_MISSING, owed, "connection %u: "
		    "no reply in %ld s", c->id, secs);
	else
		bench_thread_error(t, ERROR_UNCLOSED, 1, "connection %u: "
		    "not closed by the server %ld s after bye", c->id, secs);
	bench_conn_close(c);
	bench_conn_churn_next(c);
	bench_thread_check_done(t);
}

/* -R: messages are due; churn: the pause after a failure is over. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->t->b->mode == MODE_CHURN)
		bench_conn_churn_next(c);
	else {
		c->timer_due = 0;
		bench_conn_schedule(c, now_ns());
	}
}
