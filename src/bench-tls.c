/*
 * bench-tls.c - seqecho-bench --tls: the context, each connection's full
 * handshake (driven by the connection's own events), and the reads and
 * writes through OpenSSL once it is done.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Nothing here runs without --tls: the plain path only tests c->ssl. No
 * session is ever resumed (tls_client_ctx caches none), so with --churn
 * every connection costs the server a full handshake.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/event.h>

#include "seqecho.h"
#include "bench.h"
#include "tls.h"
#include "tls-client.h"

static void	bench_tls_init(struct bench *, const struct tls_client_opts *,
		    const char *);
static void	tls_step(struct bench_conn *);
static void	tls_event_cb(evutil_socket_t, short, void *);
static ssize_t	tls_failed(struct bench_conn *, int, int);

/*
 * --tls (tls) and its company (o: --ca, --insecure; name: --servername;
 * only: the last of them given) over the client group's tls settings;
 * the name checked is --servername's, else the file's, else the host's.
 */
void
bench_tls_configure(struct bench *b, int tls, const char *only,
    struct tls_client_opts *o, const char *name, const struct config *cfg,
    const char *host)
{
	if (!tls && !cfg->client_tls) {
		if (only != NULL) {
			fprintf(stderr, "seqecho-bench: %s needs --tls\n",
			    only);
			exit(1);
		}
		return;
	}
	if (o->ca == NULL)
		o->ca = cfg->client_tls_ca;
	o->certificate = cfg->client_tls_certificate;
	o->key = cfg->client_tls_key;
	if (name == NULL)
		name = *cfg->client_tls_servername != '\0' ?
		    cfg->client_tls_servername : host;
	bench_tls_init(b, o, name);
}

/* Make the context for every thread's connections, or exit. */
static void
bench_tls_init(struct bench *b, const struct tls_client_opts *o,
    const char *name)
{
	char	err[512];

	if (o->certificate != NULL && *o->certificate != '\0' &&
	    (o->key == NULL || *o->key == '\0')) {
		fprintf(stderr, "seqecho-bench: %s: a client certificate needs "
		    "its key (client.tls_key)\n", o->certificate);
		exit(1);
	}
	if ((b->tls_ctx = tls_client_ctx(o, err, sizeof err)) == NULL) {
		fprintf(stderr, "seqecho-bench: tls: %s\n", err);
		exit(1);
	}
	/* A bare FIN ends the stream here; the serials say what was lost. */
	SSL_CTX_set_options(b->tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	b->tls_name = xstrdup(name);
	b->tls_insecure = o->insecure;
	if (o->insecure)
		fprintf(stderr, "seqecho-bench: --insecure: the server's "
		    "certificate and name are not checked\n");
}

/* Free the context. */
void
bench_tls_free(struct bench *b)
{
	if (b->tls_ctx != NULL)
		SSL_CTX_free(b->tls_ctx);
	free(b->tls_name);
}

/*
 * The TCP connection is up (now): start the handshake. Outside churn
 * the connection's two events drive it, bounded by the connect timeout;
 * churn's one edge-triggered event already calls bench_tls_handshake.
 */
void
bench_tls_begin(struct bench_conn *c, int64_t now)
{
	struct bench_thread	*t = c->t;

	c->ssl = tls_client_ssl(t->b->tls_ctx, t->b->tls_name,
	    t->b->tls_insecure);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		bench_conn_setup_failed(c, "tls", "cannot set up the "
		    "connection");
		return;
	}
	/*
	 * The bench's writes regenerate the stream from the count written,
	 * so a retried write has the same bytes at another address, and at
	 * least as many of them.
	 */
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	c->t_tls = now;
	c->state = BCONN_HANDSHAKE;
	if (t->b->mode != MODE_CHURN) {
		event_assign(c->rev, t->base, c->fd, EV_READ, tls_event_cb, c);
		event_assign(c->wev, t->base, c->fd, EV_WRITE, tls_event_cb, c);
	}
	tls_step(c);
}

/* Churn's event, during the handshake: go on, or give up on a stall. */
void
bench_tls_handshake(struct bench_conn *c, short what)
{
	if (what & EV_TIMEOUT)
		bench_conn_setup_failed(c, "tls", "handshake timed out");
	else
		tls_step(c);
}

/* The handshake's events outside churn. */
static void
tls_event_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	bench_tls_handshake(arg, what);
}

/* Take the handshake as far as it goes now. */
static void
tls_step(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;
	struct timeval		*tv = &t->b->connect_timeout;
	char			 why[BENCH_SAMPLE_MAX];
	int64_t			 now;
	int			 r;

	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		now = now_ns();
		hist_add(&t->stats.handshake, now - c->t_tls);
		if (now <= t->window_end)
			t->stats.handshakes++;
		bench_conn_established(c, now);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		if (t->b->mode != MODE_CHURN)
			event_add(c->rev, tv);
		return;
	case SSL_ERROR_WANT_WRITE:
		if (t->b->mode != MODE_CHURN)
			event_add(c->wev, tv);
		return;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			snprintf(why, sizeof why, "%s", errno != 0 ?
			    strerror(errno) : "connection closed");
			break;
		}
		/* FALLTHROUGH */
	default:
		tls_reason(t->b->tls_insecure ? NULL : c->ssl, why,
		    sizeof why);
		break;
	}
	bench_conn_setup_failed(c, "tls", why);
}

/*
 * Read what OpenSSL has, up to len bytes, as read(2) would: 0 at the end
 * of the stream (close_notify, or a bare FIN), -1 with EAGAIN when there
 * is nothing more now. Decrypted bytes left over (a record larger than
 * the room) are not waited for on the socket: the event runs again.
 */
ssize_t
bench_tls_read(struct bench_conn *c, char *buf, size_t len)
{
	size_t	got = 0;
	int	n;

	while (got < len) {
		n = SSL_read(c->ssl, buf + got, (int)(len - got));
		if (n <= 0) {
			if (got > 0)
				break;
			return (tls_failed(c, n, 1));
		}
		got += (size_t)n;
	}
	if (SSL_pending(c->ssl) > 0)
		event_active(c->rev, EV_READ, 1);
	return ((ssize_t)got);
}

/* Write through OpenSSL, as write(2) would (EAGAIN when full). */
ssize_t
bench_tls_write(struct bench_conn *c, const char *buf, size_t len)
{
	int	n;

	if ((n = SSL_write(c->ssl, buf, (int)len)) > 0)
		return (n);
	return (tls_failed(c, n, 0));
}

/*
 * What a failed SSL_read or SSL_write (returning r) means in read(2)'s
 * terms: 0 for the end of the stream (reading), else -1 with errno set;
 * a TLS error is EPROTO, with the library's reason kept for the report.
 */
static ssize_t
tls_failed(struct bench_conn *c, int r, int reading)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		if (reading)
			return (0);
		errno = EPIPE;
		return (-1);
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (errno == 0)
				errno = reading ? 0 : EPIPE;
			return (errno == 0 ? 0 : -1);
		}
		/* FALLTHROUGH */
	default:
		tls_reason(NULL, c->t->tls_why, sizeof c->t->tls_why);
		errno = EPROTO;
		return (-1);
	}
}

/*
 * Our close_notify, once all is written and before TCP's half-close.
 * Best effort: a full socket or a failed connection goes without.
 */
void
bench_tls_shutdown(struct bench_conn *c)
{
	if (SSL_shutdown(c->ssl) < 0)
		ERR_clear_error();
}
