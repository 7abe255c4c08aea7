/*
 * client-tls.c - seqecho --tls: the context made before connecting, the
 * handshake on the connected socket (a bufferevent_openssl), what -v says
 * of it, our close_notify, and the library's reasons for failures.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The context does not ignore an unexpected end of file: a server that
 * closes without close_notify shows as that error, which is how -v can
 * tell whether close_notify came back. It is not an error for the client:
 * the serials already say whether any reply was lost.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/time.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "seqecho.h"
#include "client.h"

static void	 tls_event_callback(struct bufferevent *, short, void *);
static void	 tls_fin_callback(evutil_socket_t, short, void *);
static void	 tls_narrate(struct client *);
static void	 tls_narrate_peer(struct client *);
static void	 name_format(X509_NAME *, char *, size_t);
static void	 time_format(const ASN1_TIME *, char *, size_t);

/*
 * Make the context before connecting, so a file that does not load is
 * said before anything goes out. 0, or -1 having finished the session.
 */
int
client_tls_init(struct client *c)
{
	char	err[512];

	if (c->tls_opts.certificate != NULL &&
	    *c->tls_opts.certificate != '\0' &&
	    (c->tls_opts.key == NULL || *c->tls_opts.key == '\0')) {
		client_finish(c, 1, "%s: a client certificate needs its key "
		    "(--key or client.tls_key)", c->tls_opts.certificate);
		return (-1);
	}
	if ((c->tls_ctx = tls_client_ctx(&c->tls_opts, err,
	    sizeof err)) == NULL) {
		client_finish(c, 1, "tls: %s", err);
		return (-1);
	}
	if (c->tls_opts.insecure)
		log_warnx("--insecure: the server's certificate and name are "
		    "not checked");
	return (0);
}

/* Free the context and the connection's SSL once the loop is gone. */
void
client_tls_free(struct client *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->tls_ctx != NULL)
		SSL_CTX_free(c->tls_ctx);
}

/*
 * The TCP connection is up: start the handshake on fd, bounded by the
 * connect timeout. The session proper starts once it is done. The SSL is
 * ours to free (no BEV_OPT_CLOSE_ON_FREE): client_close closes the socket
 * at once, as it does in the clear.
 */
void
client_tls_start(struct client *c, int fd)
{
	struct timeval	 tv = { c->timeout, 0 };
	const char	*name = c->servername != NULL && *c->servername != '\0' ?
			    c->servername : c->host;

	if ((c->ssl = tls_client_ssl(c->tls_ctx, name,
	    c->tls_opts.insecure)) == NULL)
		fatalx("tls %s: cannot set up the connection", c->peer);
	c->sock = bufferevent_openssl_socket_new(c->base, fd, c->ssl,
	    BUFFEREVENT_SSL_CONNECTING, 0);
	if (c->sock == NULL)
		fatalx("cannot create a TLS bufferevent");
	gettimeofday(&c->tls_started, NULL);
	bufferevent_setcb(c->sock, NULL, NULL, tls_event_callback, c);
	bufferevent_set_timeouts(c->sock, &tv, &tv);
	bufferevent_enable(c->sock, EV_READ | EV_WRITE);
	client_narrate(c, "connected");
}

/* The handshake is done, has failed, or has timed out. */
static void
tls_event_callback(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	char		 why[256];

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_set_timeouts(bev, NULL, NULL);
		tls_narrate(c);
		client_session_start(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		client_finish(c, 1, "tls %s: handshake timed out", c->peer);
	else {
		client_tls_error(c, why, sizeof why);
		client_finish(c, 1, "tls %s: %s", c->peer, why);
	}
}

/*
 * Why the connection failed, into why: TLS_FAIL_TLS with the library's
 * reason (and the certificate check's), TLS_FAIL_EOF if the server only
 * closed without close_notify, TLS_FAIL_SOCKET for the socket's own
 * error (its text, or "connection closed"), left in errno.
 */
int
client_tls_error(struct client *c, char *why, size_t len)
{
	unsigned long	 e, real = 0;
	int		 error = EVUTIL_SOCKET_ERROR();

	/*
	 * libevent keeps the errors newest last, after SSL_get_error's own
	 * small code: the oldest library error is the cause.
	 */
	while ((e = bufferevent_get_openssl_error(c->sock)) != 0) {
		if (ERR_GET_LIB(e) != 0)
			real = e;
	}
	/* OpenSSL 3 may queue the socket's error as the system's. */
	if (real != 0 && ERR_GET_LIB(real) == ERR_LIB_SYS) {
		error = ERR_GET_REASON(real);
		real = 0;
	}
	if (real == 0) {
		snprintf(why, len, "%s", error != 0 ? strerror(error) :
		    "connection closed");
		errno = error;
		return (TLS_FAIL_SOCKET);
	}
	if (ERR_GET_LIB(real) == ERR_LIB_SSL &&
	    ERR_GET_REASON(real) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(why, len, "%s", ERR_reason_error_string(real));
		return (TLS_FAIL_EOF);
	}
	tls_reason_code(c->tls_opts.insecure ? NULL : c->ssl, real, why, len);
	return (TLS_FAIL_TLS);
}

/*
 * Send our close_notify, once, straight to the socket: libevent's output
 * must be empty (OpenSSL writes the socket itself). Best effort: a full
 * socket or a dead connection just goes without.
 */
void
client_tls_shutdown(struct client *c)
{
	if (c->ssl == NULL || c->tls_notify_sent ||
	    !SSL_is_init_finished(c->ssl))
		return;
	c->tls_notify_sent = 1;
	if (SSL_shutdown(c->ssl) < 0) {
		ERR_clear_error();
		if (c->verbose)
			log_info("tls: could not send close_notify");
		return;
	}
	if (c->verbose)
		log_info("tls: sent close_notify");
}

/*
 * -x server: the server's close_notify has come, and its FIN follows.
 * Answer with ours (the server reads until our FIN) and wait for the FIN
 * on the socket itself, so the server's FIN still goes first and
 * TIME_WAIT lands there. 0 if waiting, -1 if the FIN is already in.
 */
int
client_tls_await_fin(struct client *c)
{
	struct timeval	tv = { c->timeout, 0 };
	int		fd = bufferevent_getfd(c->sock);
	char		buf[256];

	client_tls_shutdown(c);
	bufferevent_disable(c->sock, EV_READ);
	if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) == 0)
		return (-1);
	c->fin_ev = event_new(c->base, fd, EV_READ | EV_PERSIST,
	    tls_fin_callback, c);
	if (c->fin_ev == NULL || event_add(c->fin_ev, &tv) == -1)
		fatalx("cannot wait for the server's FIN");
	return (0);
}

/*
 * The socket has something after close_notify: the FIN (or bytes past the
 * end, which mean nothing now), or the wait timed out.
 */
static void
tls_fin_callback(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	char		 buf[256];
	ssize_t		 n;

	if (!(what & EV_TIMEOUT)) {
		while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
			;
		if (n == -1 && errno == EAGAIN)
			return;
	}
	event_del(c->fin_ev);
	client_sock_closed(c, "closed");
}

/* -v at the end: did the server's close_notify come? */
void
client_tls_narrate_close(struct client *c, int notify)
{
	if (!c->verbose || c->ssl == NULL)
		return;
	log_info("tls: %s", notify ? "close_notify came back from the server" :
	    "the server closed without close_notify");
}

/* -v: the version, cipher, handshake time, and the server's certificate. */
static void
tls_narrate(struct client *c)
{
	struct timeval	now, d;

	if (!c->verbose)
		return;
	gettimeofday(&now, NULL);
	timersub(&now, &c->tls_started, &d);
	log_info("tls: %s, %s, handshake %.3f ms", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl), d.tv_sec * 1e3 + d.tv_usec / 1e3);
	tls_narrate_peer(c);
}

/* -v: whose certificate, whose signature, until when, and if checked. */
static void
tls_narrate_peer(struct client *c)
{
	X509	*cert;
	char	 subject[256], issuer[256], expiry[64];

	if ((cert = SSL_get1_peer_certificate(c->ssl)) == NULL) {
		log_info("tls: the server sent no certificate");
		return;
	}
	name_format(X509_get_subject_name(cert), subject, sizeof subject);
	name_format(X509_get_issuer_name(cert), issuer, sizeof issuer);
	time_format(X509_get0_notAfter(cert), expiry, sizeof expiry);
	log_info("tls: certificate %s, issuer %s, expires %s, %s", subject,
	    issuer, expiry, c->tls_opts.insecure ? "not verified (--insecure)" :
	    "verified");
	X509_free(cert);
}

/* A certificate name in RFC 2253's one line ("CN=localhost"). */
static void
name_format(X509_NAME *name, char *buf, size_t len)
{
	BIO	*bio;
	int	 n;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(bio, buf, (int)len - 1)) > 0)
		buf[n] = '\0';
	BIO_free(bio);
}

/* A certificate time as "2027-12-01 13:00:00 UTC". */
static void
time_format(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "(unreadable)");
}
