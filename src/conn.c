/*
 * conn.c - one client connection, from accept to the last byte flushed:
 * its states, timers, the careful close and the one exit, conn_free.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * A connection is READING until bye, end of stream, an error line or
 * shutdown; then CLOSING while the replies it is owed drain; then LINGER,
 * half-closed, until the client's FIN or a short linger. Closing in two
 * steps means no reply is ever lost to a close() that sends a RST.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "seqechod.h"
#include "conn.h"

static const char *reason_names[REASON_COUNT] = {
	"bye", "eof", "timeout", "too-long", "full", "reset", "error",
	"shutdown", "proxy", "tls"
};

static void	conn_write_callback(struct bufferevent *, void *);
static void	conn_event_callback(struct bufferevent *, short, void *);
static void	conn_timer_callback(evutil_socket_t, short, void *);
static int	conn_idle_due(struct conn *, const struct timeval *,
		    struct timeval *);
static void	conn_flushed(struct conn *);
static int	conn_take_pre(struct conn *, const struct accepted *);
static int	conn_health_check(const struct conn *);
static void	conn_count_close(struct conn *);

const char *
conn_reason_name(enum conn_reason reason)
{
	return (reason_names[reason]);
}

/*
 * Start serving an accepted socket. A connection over the limit is still
 * set up, so that its error line goes out through the same careful close.
 */
void
conn_new(struct worker *worker, const struct accepted *a)
{
	struct event_base	*base = worker_base(worker);
	struct conn		*c;
	int			 one = 1;

	c = xcalloc(1, sizeof *c);
	c->worker = worker;
	c->stats = worker_stats(worker);
	c->id = a->id;
	c->fd = a->fd;
	c->idle_timeout = a->params.idle_timeout;
	proto_init(&c->proto, a->params.framing, a->params.max_line,
	    a->params.separator);
	addr_format((const struct sockaddr *)&a->peer, c->peer,
	    sizeof c->peer);
	if (a->has_via) {
		c->flags |= CONN_PROXIED;
		snprintf(c->via, sizeof c->via, " via=");
		addr_format((const struct sockaddr *)&a->via, c->via + 5,
		    sizeof c->via - 5);
	}
	event_base_gettimeofday_cached(base, &c->started);
	c->last_message = c->started;

	LIST_INSERT_HEAD(worker_conns(worker), c, entry);
	STAT_ADD(c->stats->conns_total, 1);
	if (!a->over_limit) {
		c->flags |= CONN_COUNTED;
		STAT_ADD(c->stats->conns_now, 1);
	}
	/* A balancer's health check sends nothing: wait for a byte. */
	if (!(c->flags & CONN_PROXIED) || a->npre > 0)
		conn_log_open(c);

	/* Replies are small and must not wait for Nagle. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (a->tls != NULL) {
		conn_tls_start(c, base, a->tls);
		SSL_CTX_free(a->tls);	/* the SSL holds its own */
	} else
		c->bev = bufferevent_socket_new(base, c->fd, 0);
	c->timer = evtimer_new(base, conn_timer_callback, c);
	if (c->bev == NULL || c->timer == NULL) {
		log_warnx("conn %llu: cannot set up a buffer",
		    (unsigned long long)c->id);
		conn_free(c, REASON_ERROR);
		return;
	}
	/* In segment mode one read is one message, so reads are capped. */
	if (a->params.framing == PROTO_FRAMING_SEGMENT)
		bufferevent_set_max_single_read(c->bev, a->params.max_line);
	else
		bufferevent_set_max_single_read(c->bev, CONN_READ_MAX);
	bufferevent_set_max_single_write(c->bev, CONN_WRITE_MAX);
	bufferevent_setcb(c->bev, conn_read_callback, conn_write_callback,
	    conn_event_callback, c);

	/* EV_WRITE (on by default) only while output is left: conn_flush. */
	if (!(c->flags & CONN_TLS))
		bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	if (a->over_limit) {
		conn_start_close(c, REASON_FULL, PROTO_ERR_TOO_MANY);
		return;
	}
	/* proxy_timeout bounds the handshake as it does a PROXY header. */
	conn_arm_timer(c, (c->flags & CONN_HANDSHAKE) ?
	    a->params.proxy_timeout : c->idle_timeout);
	/* What came with the PROXY header goes to the framer first. */
	if (a->npre > 0 && conn_take_pre(c, a) == 0)
		conn_process(c, 0);
}

/*
 * Put what was read past the PROXY header in the input; -1 (and the
 * connection freed) if it could not be. A socket bufferevent keeps its
 * input's end frozen, only its own reads adding there, so evbuffer_add
 * alone fails and the bytes would be lost.
 */
static int
conn_take_pre(struct conn *c, const struct accepted *a)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	int		 added;

	evbuffer_unfreeze(in, 0);
	added = evbuffer_add(in, a->pre, a->npre);
	evbuffer_freeze(in, 0);
	if (added == -1) {
		log_warnx("conn %llu: cannot set up a buffer",
		    (unsigned long long)c->id);
		conn_free(c, REASON_ERROR);
		return (-1);
	}
	return (0);
}

/* The connection's open line at info, once. */
void
conn_log_open(struct conn *c)
{
	if (c->flags & CONN_OPEN_LOGGED)
		return;
	c->flags |= CONN_OPEN_LOGGED;
	log_info("conn %llu open peer=%s%s", (unsigned long long)c->id,
	    c->peer, c->via);
}

/* Change state; the one place that does, so the debug log shows each. */
void
conn_set_state(struct conn *c, enum conn_state state)
{
	static const char *names[] = { "reading", "closing", "linger" };

	log_debug("conn %llu %s -> %s", (unsigned long long)c->id,
	    names[c->state], names[state]);
	c->state = state;
}

/* Fire the timer after secs seconds; 0 means no timer. */
void
conn_arm_timer(struct conn *c, int secs)
{
	struct timeval	tv = { secs, 0 };

	if (secs > 0)
		evtimer_add(c->timer, &tv);
	else
		evtimer_del(c->timer);
}

/*
 * Stop serving: send the error line if any after the replies already
 * queued, drop the rest of the input, and close once the output drains.
 */
void
conn_start_close(struct conn *c, enum conn_reason reason, const char *errline)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	struct evbuffer	*out = conn_output(c);

	if (c->state != CONN_READING)
		return;
	c->reason = reason;
	conn_set_state(c, CONN_CLOSING);
	if (errline != NULL) {
		evbuffer_add(out, errline, strlen(errline));
		c->bytes_out += strlen(errline);
		STAT_ADD(c->stats->bytes_out, strlen(errline));
	}
	c->bytes_in += evbuffer_get_length(in);
	STAT_ADD(c->stats->bytes_in, evbuffer_get_length(in));
	evbuffer_drain(in, evbuffer_get_length(in));

	/* Keep reading, to see the peer's FIN and to drop what it sends. */
	c->flags &= ~CONN_PAUSED;
	if (!(c->flags & CONN_PEER_EOF))
		bufferevent_enable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);

	conn_flush(c);

	/*
	 * Never free here: callers still hold c. With nothing to flush, the
	 * timer runs at once and finishes the close from the loop.
	 */
	c->out_mark = conn_owed(c);
	if (c->out_mark == 0)
		event_active(c->timer, EV_TIMEOUT, 1);
	else
		conn_arm_timer(c, CONN_FLUSH_TIMEOUT);
}

/*
 * Where replies are written: the bufferevent's output, or over TLS the
 * connection's own buffer, which conn_tls_flush encrypts from.
 */
struct evbuffer *
conn_output(struct conn *c)
{
	if (c->tls_out != NULL)
		return (c->tls_out);
	return (bufferevent_get_output(c->bev));
}

/* Bytes of replies not yet written to the socket, wherever they wait. */
size_t
conn_owed(struct conn *c)
{
	size_t	len = evbuffer_get_length(bufferevent_get_output(c->bev));

	return (c->tls_out != NULL ? len + evbuffer_get_length(c->tls_out) :
	    len);
}

/*
 * Write what is owed now, from the callback that produced it, rather than
 * arm EV_WRITE and wait a turn of the loop: that costs two epoll_ctl calls
 * per batch. EV_WRITE is enabled only while output is left over, and
 * write errors are left for libevent's own write to report. This is what
 * the bufferevent's own write callback does.
 */
void
conn_flush(struct conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (c->flags & CONN_TLS) {
		conn_tls_flush(c);
		return;
	}
	if (evbuffer_get_length(out) == 0 ||
	    (bufferevent_get_enabled(c->bev) & EV_WRITE))
		return;
	/* The bufferevent keeps its output's start frozen between writes. */
	evbuffer_unfreeze(out, 1);
	if (evbuffer_write(out, bufferevent_getfd(c->bev)) == -1 &&
	    (errno == ECONNRESET || errno == EPIPE))
		c->flags |= CONN_RESET;
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(c->bev, EV_WRITE);
}

/*
 * Everything owed has been sent. If the peer has closed, so can we;
 * otherwise half-close and wait for its FIN, so that unread input in
 * the kernel cannot turn our close into a RST.
 */
static void
conn_flushed(struct conn *c)
{
	int	fd = bufferevent_getfd(c->bev), peer_fin = 0;
	char	byte;

	/* The FIN may be queued but not yet read: then the peer was first. */
	if (!(c->flags & CONN_PEER_EOF) &&
	    recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		c->flags |= CONN_PEER_EOF;
	/*
	 * Over TLS the FIN can wait behind a close_notify not yet read: the
	 * peer was first, but closing now, with that record unread, would
	 * send a RST. Half-close and read to the end as ever.
	 */
	if (c->flags & CONN_TLS) {
		peer_fin = !(c->flags & CONN_PEER_EOF) &&
		    conn_tls_peer_closed(c);
		conn_tls_close_notify(c);
	}
	if ((c->flags & CONN_PEER_EOF) || shutdown(fd, SHUT_WR) == -1) {
		conn_free(c, c->reason);
		return;
	}
	if (!peer_fin)
		c->flags |= CONN_SERVER_FIRST;
	conn_set_state(c, CONN_LINGER);
	conn_arm_timer(c, CONN_LINGER_SECS);
}

static void
conn_write_callback(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	size_t		 len = evbuffer_get_length(bufferevent_get_output(bev));

	if (len == 0 && !(c->flags & CONN_TLS))
		bufferevent_disable(bev, EV_WRITE);
	if (c->state == CONN_CLOSING) {
		if (len == 0)
			conn_flushed(c);
		return;
	}
	if ((c->flags & CONN_PAUSED) && len <= CONN_OUTPUT_LOW) {
		c->flags &= ~CONN_PAUSED;
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		bufferevent_enable(c->bev, EV_READ);
		/* Lines already buffered get no new read event: answer now. */
		if (c->flags & CONN_TLS) {
			conn_tls_take_pending(c);
			conn_tls_read_on(c);
		}
		conn_process(c, 0);
	}
}

static void
conn_event_callback(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	size_t		 len;
	int		 error;

	if (what & BEV_EVENT_CONNECTED) {
		conn_tls_ready(c);
		/* Messages may have come, read ahead, with the Finished. */
		conn_tls_read_on(c);
		return;
	}
	if ((c->flags & CONN_HANDSHAKE) &&
	    (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
		conn_tls_failed(c, what);
		return;
	}
	/*
	 * Over TLS a write that fails once the session has seen the peer's
	 * end comes as EOF while writing (OpenSSL calls every failure then
	 * a zero return): what is owed cannot go, and writing on would spin.
	 */
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_WRITING)) {
		error = errno;
		log_debug("conn %llu: write after the peer's end: %s",
		    (unsigned long long)c->id, strerror(error));
		c->flags |= CONN_PEER_EOF;
		conn_free(c, error == ECONNRESET || error == EPIPE ?
		    REASON_RESET : REASON_ERROR);
		return;
	}
	/*
	 * A reset is read once: when our own write took it, the reads after
	 * see only an end of stream. Nothing owed can go.
	 */
	if ((what & BEV_EVENT_EOF) && (c->flags & CONN_RESET)) {
		c->flags |= CONN_PEER_EOF;
		conn_free(c, REASON_RESET);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->flags |= CONN_PEER_EOF;
		/* libevent stops a TLS bufferevent's writing at EOF. */
		if (c->flags & CONN_TLS)
			bufferevent_enable(bev, EV_WRITE);
		switch (c->state) {
		case CONN_READING:
			conn_process(c, 1);
			break;
		case CONN_CLOSING:
			break;		/* the write callback finishes */
		case CONN_LINGER:
			conn_free(c, c->reason);
			break;
		}
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		/* libevent keeps the socket's error here, not always in errno. */
		error = EVUTIL_SOCKET_ERROR();
		len = evbuffer_get_length(bufferevent_get_output(bev));
		log_debug("conn %llu: %s, %zu bytes unsent",
		    (unsigned long long)c->id, evutil_socket_error_to_string(error),
		    len);
		/* A write to a peer that reset gives EPIPE: a reset too. */
		if (error == ECONNRESET || error == EPIPE)
			c->flags |= CONN_PEER_EOF;
		conn_free(c, error == ECONNRESET || error == EPIPE ?
		    REASON_RESET : REASON_ERROR);
	}
}

/*
 * Whether the idle timeout has passed; if not, how long until the timer
 * should look again (in wait). A throttled connection is looked at each
 * second, to see whether the client has read since.
 */
static int
conn_idle_due(struct conn *c, const struct timeval *now,
    struct timeval *wait)
{
	struct timeval	from = c->last_message, one = { 1, 0 };
	uint64_t	taken;

	if (c->flags & CONN_PAUSED) {
		if ((taken = conn_taken(c)) != c->taken) {
			c->taken = taken;
			c->last_taken = *now;
		}
		if (timercmp(&c->last_taken, &from, >))
			from = c->last_taken;
	}
	from.tv_sec += c->idle_timeout;
	if (!timercmp(now, &from, <))
		return (1);
	timersub(&from, now, wait);
	if ((c->flags & CONN_PAUSED) && timercmp(wait, &one, >))
		*wait = one;
	return (0);
}

/*
 * In READING the timer is the idle timeout, counted from the last
 * complete message and re-armed lazily (bufferevent timeouts restart on
 * every byte, so a client dribbling bytes would never time out). While
 * throttled it counts from the last read the client made instead, and a
 * client that has read nothing for that long is dropped at once: an ERR
 * line queued behind output it does not read would never reach it.
 * In CLOSING it bounds a flush that makes no progress; in LINGER, the wait.
 */
static void
conn_timer_callback(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct timeval	 now, due;
	size_t		 len;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_READING:
		if (c->flags & CONN_HANDSHAKE) {
			conn_tls_fail(c, "no handshake in time");
			return;
		}
		event_base_gettimeofday_cached(bufferevent_get_base(c->bev),
		    &now);
		if (conn_idle_due(c, &now, &due) == 0) {
			evtimer_add(c->timer, &due);
			return;
		}
		if (c->flags & CONN_PAUSED) {
			log_info("conn %llu: %zu bytes unsent, client not "
			    "reading", (unsigned long long)c->id,
			    evbuffer_get_length(bufferevent_get_output(c->bev)));
			conn_free(c, REASON_TIMEOUT);
		} else
			conn_start_close(c, REASON_TIMEOUT, PROTO_ERR_IDLE);
		break;
	case CONN_CLOSING:
		len = evbuffer_get_length(bufferevent_get_output(c->bev));
		if (len == 0) {
			conn_flushed(c);
			return;
		}
		if (len < c->out_mark) {
			c->out_mark = len;
			conn_arm_timer(c, CONN_FLUSH_TIMEOUT);
			return;
		}
		log_info("conn %llu: %zu bytes unsent, client not reading",
		    (unsigned long long)c->id, len);
		conn_free(c, c->reason);
		break;
	case CONN_LINGER:
		conn_free(c, c->reason);
		break;
	}
}

/*
 * The one exit: log the connection's summary, count it and release it.
 * A connection already closing keeps the reason its close began with.
 * Unless the peer's FIN or RST came first, the server is closing first.
 */
void
conn_free(struct conn *c, enum conn_reason reason)
{
	struct timeval	now, took;
	char		tls[256];
	int		counted = c->flags & CONN_COUNTED;

	if (c->state == CONN_READING)
		c->reason = reason;
	if (!(c->flags & CONN_PEER_EOF))
		c->flags |= CONN_SERVER_FIRST;
	event_base_gettimeofday_cached(worker_base(c->worker), &now);
	timersub(&now, &c->started, &took);
	if (conn_health_check(c)) {
		log_debug("conn %llu closed peer=%s%s duration=%ld.%03lds "
		    "health check", (unsigned long long)c->id, c->peer,
		    c->via, (long)took.tv_sec, (long)took.tv_usec / 1000);
		STAT_ADD(c->stats->proxy_health_checks, 1);
	} else {
		conn_log_open(c);
		conn_tls_describe(c, tls, sizeof tls);
		log_info("conn %llu closed peer=%s%s messages=%llu in=%llu "
		    "out=%llu duration=%ld.%03lds first=%s reason=%s%s",
		    (unsigned long long)c->id, c->peer, c->via,
		    (unsigned long long)c->messages,
		    (unsigned long long)c->bytes_in,
		    (unsigned long long)c->bytes_out, (long)took.tv_sec,
		    (long)took.tv_usec / 1000,
		    (c->flags & CONN_SERVER_FIRST) ? "server" : "client",
		    reason_names[c->reason], tls);
		conn_count_close(c);
		stats_add_duration(c->stats, &took);
	}
	if (counted)
		STAT_ADD(c->stats->conns_now, -1);

	LIST_REMOVE(c, entry);
	if (c->timer != NULL)
		event_free(c->timer);
	/*
	 * The socket is closed here, not by libevent: bufferevent_free leaves
	 * that to a finalizer that runs later in the loop, and the acceptor
	 * counts the descriptor free as soon as worker_conn_closed says so.
	 * A flood's closes of one loop pass overshot the budget by that many
	 * (EMFILE under ASan, test fd-reserve).
	 */
	if (c->bev != NULL && (c->flags & CONN_TLS))
		conn_tls_free(c);
	else if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->fd != -1)
		close(c->fd);
	free(c->why);
	worker_conn_closed(c->worker, counted);
	free(c);
}

/*
 * A balancer's health check: a PROXY header, then the end of the stream
 * (FIN or RST) with not a byte sent. Not an error, and not a client.
 */
static int
conn_health_check(const struct conn *c)
{
	return ((c->flags & CONN_PROXIED) && (c->flags & CONN_PEER_EOF) &&
	    c->bytes_in == 0 && c->messages == 0 &&
	    (c->reason == REASON_EOF || c->reason == REASON_RESET));
}

/* Count a client's close by its reason and by who closed first. */
static void
conn_count_close(struct conn *c)
{
	STAT_ADD(c->stats->reasons[c->reason], 1);
	if (c->flags & CONN_SERVER_FIRST)
		STAT_ADD(c->stats->server_first, 1);
	else
		STAT_ADD(c->stats->client_first, 1);
}

/*
 * The daemon is stopping: answer every complete message already received,
 * whatever the output mark, then say so and close.
 */
void
conn_shutdown_all(struct conn_list *list)
{
	struct conn	*c, *next;

	for (c = LIST_FIRST(list); c != NULL; c = next) {
		next = LIST_NEXT(c, entry);
		if (c->state != CONN_READING)
			continue;
		c->flags &= ~CONN_PAUSED;
		c->flags |= CONN_DRAINING;
		if (c->flags & CONN_TLS)
			conn_tls_take_pending(c);
		conn_process(c, 0);
		if (c->state == CONN_READING)
			conn_start_close(c, REASON_SHUTDOWN, PROTO_ERR_SHUTDOWN);
	}
}

/* The shutdown deadline has passed: drop whoever is left. */
void
conn_free_all(struct conn_list *list)
{
	struct conn	*c;

	while ((c = LIST_FIRST(list)) != NULL) {
		conn_free(c, REASON_SHUTDOWN);
	}
}
