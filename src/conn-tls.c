/*
 * conn-tls.c - a connection on a tls listener: its bufferevent_openssl,
 * the handshake and its bound, close_notify before the TCP half-close,
 * and what the close line says of the session.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The protocol inside is the same; conn.c and conn-input.c see the same
 * input and output evbuffers. What differs: libevent's TLS bufferevent
 * writes as soon as output is added (so conn_flush leaves it alone and
 * EV_WRITE stays on), and a close sends close_notify once the output is
 * empty, since SSL_shutdown writes the socket directly.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "seqechod.h"
#include "conn.h"
#include "tls.h"

/* A TLS record's plaintext, at most. */
#define TLS_RECORD_MAX		16384

static void	conn_tls_drain_callback(evutil_socket_t, short, void *);

/*
 * Make the connection's bufferevent a TLS server over its socket, with
 * a session from ctx. -1 if it cannot be. The socket and the session
 * stay ours to free (no BEV_OPT_CLOSE_ON_FREE): see conn_free.
 */
int
conn_tls_start(struct conn *c, struct event_base *base, SSL_CTX *ctx)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL) {
		ERR_clear_error();
		return (-1);
	}
	c->bev = bufferevent_openssl_socket_new(base, c->fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, 0);
	if (c->bev == NULL) {
		SSL_free(ssl);
		return (-1);
	}
	if ((c->tls_out = evbuffer_new()) == NULL)
		fatalx("out of memory");
	c->flags |= CONN_TLS | CONN_HANDSHAKE;
	return (0);
}

/* Free the TLS bufferevent, then its session; the socket is left open. */
void
conn_tls_free(struct conn *c)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);

	/* Its finalizer, later, touches the session only on CLOSE_ON_FREE. */
	bufferevent_free(c->bev);
	SSL_free(ssl);
	c->bev = NULL;
	evbuffer_free(c->tls_out);
	c->tls_out = NULL;
}

/* The handshake is done: the connection is served from now. */
void
conn_tls_ready(struct conn *c)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);

	c->flags &= ~CONN_HANDSHAKE;
	c->tls_version = SSL_get_version(ssl);
	log_debug("conn %llu: %s %s", (unsigned long long)c->id,
	    c->tls_version, SSL_get_cipher_name(ssl));
	/*
	 * The idle clock starts now: the loop's cached time is from before
	 * the handshake's crypto, which a slow machine (valgrind) makes long.
	 */
	event_base_update_cache_time(bufferevent_get_base(c->bev));
	event_base_gettimeofday_cached(bufferevent_get_base(c->bev),
	    &c->last_message);
	conn_arm_timer(c, c->idle_timeout);
}

/*
 * The handshake failed, or the stream ended inside it: close with reason
 * tls and the library's words for why.
 */
void
conn_tls_failed(struct conn *c, short what)
{
	unsigned long	 e, first = 0;
	int		 error = EVUTIL_SOCKET_ERROR();
	char		 why[256];

	/*
	 * libevent took the errors off the queue; it adds codes of its own
	 * (SSL_get_error's) that have no text: keep the first with one.
	 */
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (first == 0 && ERR_reason_error_string(e) != NULL)
			first = e;
	if (first != 0)
		tls_reason_of(first, bufferevent_openssl_get_ssl(c->bev), why,
		    sizeof why);
	else if ((what & BEV_EVENT_ERROR) && error != 0)
		snprintf(why, sizeof why, "%s in the handshake",
		    evutil_socket_error_to_string(error));
	else {
		snprintf(why, sizeof why, "end of stream in the handshake");
		c->flags |= CONN_PEER_EOF;
	}
	conn_tls_fail(c, why);
}

/*
 * Close a connection whose handshake came to nothing, saying why. Its
 * peer may have sent more than OpenSSL read: a close now would be a RST,
 * which can take the alert OpenSSL sent with it. So half-close, and drop
 * what comes until the peer's FIN or the linger, as for any other close.
 */
void
conn_tls_fail(struct conn *c, const char *why)
{
	struct timeval	tv = { CONN_LINGER_SECS, 0 };
	int		fd = bufferevent_getfd(c->bev);

	free(c->why);
	c->why = xstrdup(why);
	if ((c->flags & CONN_PEER_EOF) || shutdown(fd, SHUT_WR) == -1) {
		conn_free(c, REASON_TLS);
		return;
	}
	c->reason = REASON_TLS;
	c->flags |= CONN_SERVER_FIRST;
	conn_set_state(c, CONN_LINGER);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	/* The timer becomes the drain: the socket's reads, and the linger. */
	event_free(c->timer);
	c->timer = event_new(bufferevent_get_base(c->bev), fd,
	    EV_READ | EV_PERSIST, conn_tls_drain_callback, c);
	if (c->timer == NULL || event_add(c->timer, &tv) == -1)
		conn_free(c, REASON_TLS);
}

/* Drop what a failed connection still sends, until its FIN or the linger. */
static void
conn_tls_drain_callback(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	char		 buf[4096];
	ssize_t		 n;

	if (what & EV_READ) {
		while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
			;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		if (n == 0)
			c->flags |= CONN_PEER_EOF;
	}
	conn_free(c, REASON_TLS);
}

/*
 * Whether the peer's FIN has come. Over TLS it arrives behind the
 * client's close_notify, so the peek conn_flushed makes at the socket
 * sees the record, not the end: the socket's TCP state tells.
 */
int
conn_tls_peer_closed(struct conn *c)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof ti;

	if (getsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_INFO, &ti,
	    &len) == -1)
		return (0);
	return (ti.tcpi_state == TCP_CLOSE_WAIT);
}

/*
 * All owed output is out: say close_notify, before the TCP half-close.
 * The socket may be full; the half-close and the linger go on anyway.
 */
void
conn_tls_close_notify(struct conn *c)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);

	if (c->flags & CONN_HANDSHAKE)
		return;
	if (SSL_shutdown(ssl) < 0) {
		log_debug("conn %llu: close_notify not sent",
		    (unsigned long long)c->id);
		ERR_clear_error();
	}
}

/*
 * Move what the session has decrypted but libevent has not taken into
 * the input buffer. libevent 2.1 stops reading a TLS bufferevent when its
 * reading is disabled (throttling) with part of a record still in the
 * session; re-enabled, it waits for the socket, which may have nothing
 * more to say, and the connection stalls. SSL_pending bytes are read
 * without touching the socket.
 */
void
conn_tls_take_pending(struct conn *c)
{
	SSL			*ssl = bufferevent_openssl_get_ssl(c->bev);
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 iv;
	int			 n;

	while ((n = SSL_pending(ssl)) > 0) {
		if (evbuffer_reserve_space(in, n, &iv, 1) < 1)
			fatalx("out of memory");
		if ((n = SSL_read(ssl, iv.iov_base, n)) <= 0) {
			ERR_clear_error();
			return;
		}
		iv.iov_len = (size_t)n;
		evbuffer_commit_space(in, &iv, 1);
	}
}

/*
 * Encrypt and write what is owed now, from the callback that produced
 * it, as conn_flush does in the clear. Replies wait in the connection's
 * own buffer, not the bufferevent's: libevent 2.1 arms EV_WRITE as soon
 * as its output is added to and writes on the loop's next turn, which
 * costs an epoll_ctl on each side of every batch (W4 over TLS: 363 MB/s
 * so, 466 without them, medians of 3). One record a write, 16 KiB at
 * most. What the
 * socket cannot take goes to the bufferevent, after anything already
 * there, for libevent to write when it can: its retry of a record
 * OpenSSL could not finish starts with the same bytes and is no
 * shorter, as OpenSSL asks (libevent sets
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). Errors are left for that write
 * to report.
 */
void
conn_tls_flush(struct conn *c)
{
	SSL			*ssl = bufferevent_openssl_get_ssl(c->bev);
	struct evbuffer		*out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec	 iv;
	int			 n;

	/* Inside the handshake libevent holds it until the session is up. */
	while (!(c->flags & CONN_HANDSHAKE) && evbuffer_get_length(out) == 0 &&
	    evbuffer_peek(c->tls_out, TLS_RECORD_MAX, NULL, &iv, 1) > 0) {
		if (iv.iov_len > TLS_RECORD_MAX)
			iv.iov_len = TLS_RECORD_MAX;
		if ((n = SSL_write(ssl, iv.iov_base, (int)iv.iov_len)) <= 0) {
			if (SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL &&
			    (errno == ECONNRESET || errno == EPIPE))
				c->flags |= CONN_RESET;
			ERR_clear_error();
			break;
		}
		evbuffer_drain(c->tls_out, (size_t)n);
	}
	if (evbuffer_get_length(c->tls_out) > 0)
		evbuffer_add_buffer(out, c->tls_out);
}

/*
 * With read-ahead the session takes whole records from the socket at
 * once, and libevent 2.1, which looks only at SSL_pending, leaves those
 * not yet decrypted there and waits for the socket, which may have
 * nothing more to say (the client waits for their replies). While
 * reading is on, have libevent's own read run again now: it takes the
 * next record, data, close_notify or a bad one, and reports it as ever.
 */
void
conn_tls_read_on(struct conn *c)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);

	/* Queued just before a pause, it brings one record more: no harm. */
	if (SSL_has_pending(ssl) &&
	    (bufferevent_get_enabled(c->bev) & EV_READ) &&
	    !(c->flags & CONN_PAUSED))
		event_active(&c->bev->ev_read, EV_READ, 1);
}

/*
 * The close line's TLS words: " tls=VERSION cipher=NAME sni=NAME" and
 * " client=CN" for a client certificate; " tls: WHY" for a failure.
 */
void
conn_tls_describe(struct conn *c, char *buf, size_t len)
{
	SSL		*ssl;
	X509		*peer;
	const char	*sni;
	char		 cn[128];

	buf[0] = '\0';
	if (!(c->flags & CONN_TLS))
		return;
	if (c->why != NULL) {
		snprintf(buf, len, " tls: %s", c->why);
		return;
	}
	if (c->tls_version == NULL)
		return;
	ssl = bufferevent_openssl_get_ssl(c->bev);
	sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	snprintf(buf, len, " tls=%s cipher=%s sni=%s", c->tls_version,
	    SSL_get_cipher_name(ssl), sni != NULL ? sni : "-");
	if ((peer = SSL_get0_peer_certificate(ssl)) != NULL &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
	    NID_commonName, cn, sizeof cn) > 0)
		snprintf(buf + strlen(buf), len - strlen(buf), " client=%s",
		    cn);
}
