/*
 * tls-client.c - the client side of TLS, for seqecho and seqecho-bench:
 * the context (verification, the CA, our certificate, no resumption) and
 * each connection's name, sent as SNI and checked against the server's
 * certificate.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "tls.h"
#include "tls-client.h"

static int	ctx_load_ca(SSL_CTX *, const char *, char *, size_t);

/*
 * Load the CA bundle the server must chain to, or the system's store.
 * 0, or -1 with why in err.
 */
static int
ctx_load_ca(SSL_CTX *ctx, const char *ca, char *err, size_t len)
{
	char	 why[256];
	FILE	*f;

	if (ca == NULL || *ca == '\0') {
		if (SSL_CTX_set_default_verify_paths(ctx) == 1)
			return (0);
		snprintf(err, len, "the system's CA store: %s",
		    tls_reason(NULL, why, sizeof why));
		return (-1);
	}
	/* OpenSSL's words for a missing file are no help: say ours. */
	if ((f = fopen(ca, "r")) == NULL) {
		snprintf(err, len, "%s: %s", ca, strerror(errno));
		return (-1);
	}
	fclose(f);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(err, len, "%s: %s", ca,
		    tls_reason(NULL, why, sizeof why));
		return (-1);
	}
	return (0);
}

/*
 * A context for connecting to servers: TLS 1.2 or later, the server's
 * certificate verified unless o->insecure, our own certificate if given.
 * Every connection is a full handshake: nothing is cached to resume. NULL
 * with why in err if a file does not load.
 */
SSL_CTX *
tls_client_ctx(const struct tls_client_opts *o, char *err, size_t len)
{
	SSL_CTX	*ctx;
	char	 why[256];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, len, "SSL_CTX_new: %s",
		    tls_reason(NULL, why, sizeof why));
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	/* Idle connections hand their buffers back: --idle holds many. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (o->insecure)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (ctx_load_ca(ctx, o->ca, err, len) == -1)
			goto fail;
	}
	if (o->certificate != NULL && *o->certificate != '\0' &&
	    tls_load_pair(ctx, o->certificate, o->key, err, len) !=
	    TLS_PAIR_OK)
		goto fail;
	return (ctx);
fail:
	SSL_CTX_free(ctx);
	return (NULL);
}

/* Is name an IPv4 or IPv6 literal (which SNI may not carry)? */
int
tls_is_ip(const char *name)
{
	struct in6_addr	a;

	return (inet_pton(AF_INET, name, &a) == 1 ||
	    inet_pton(AF_INET6, name, &a) == 1);
}

/*
 * A connection to the server called name: the name goes out as SNI (a
 * host name only: RFC 6066 forbids an address there) and, unless
 * insecure, the certificate must match it (an address against the
 * certificate's IP entries). NULL if out of memory.
 */
SSL *
tls_client_ssl(SSL_CTX *ctx, const char *name, int insecure)
{
	SSL	*ssl;
	int	 ip = tls_is_ip(name), ok = 1;

	if ((ssl = SSL_new(ctx)) == NULL)
		return (NULL);
	if (!ip)
		ok = SSL_set_tlsext_host_name(ssl, name) == 1;
	if (ok && !insecure) {
		if (ip)
			ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    name) == 1;
		else
			ok = SSL_set1_host(ssl, name) == 1;
	}
	if (!ok) {
		SSL_free(ssl);
		return (NULL);
	}
	SSL_set_connect_state(ssl);
	return (ssl);
}

/*
 * As tls_reason, for an error code kept elsewhere than the thread's queue
 * (bufferevent_get_openssl_error's): it is put back on the queue, where
 * tls_reason takes it from. e may be 0.
 */
const char *
tls_reason_code(SSL *ssl, unsigned long e, char *buf, size_t len)
{
	ERR_clear_error();
	if (e != 0)
		ERR_raise(ERR_GET_LIB(e), ERR_GET_REASON(e));
	return (tls_reason(ssl, buf, len));
}
