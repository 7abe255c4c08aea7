/*
 * tls.c - what the programs share about TLS: OpenSSL's own words for a
 * failure, and a certificate chain with its key loaded and matched.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "seqecho.h"
#include "tls.h"

static int	tls_server_verify(SSL_CTX *, const struct config *, char *,
		    size_t);

/*
 * Why the last TLS operation failed, in the library's words, into buf:
 * the first reason on the thread's error queue ("wrong version number"),
 * with the certificate check's own when that was the cause ("certificate
 * verify failed: self-signed certificate"). The queue is emptied, so the
 * next failure is not blamed on this one. ssl may be NULL.
 */
const char *
tls_reason(SSL *ssl, char *buf, size_t len)
{
	unsigned long	 e = ERR_get_error();

	ERR_clear_error();
	return (tls_reason_of(e, ssl, buf, len));
}

/*
 * As tls_reason, for an error code already taken from the queue (libevent
 * takes them: bufferevent_get_openssl_error). e may be 0.
 */
const char *
tls_reason_of(unsigned long e, SSL *ssl, char *buf, size_t len)
{
	const char	*reason = e != 0 ? ERR_reason_error_string(e) : NULL;
	long		 verify;

	if (reason == NULL)
		reason = e != 0 ? "unknown error" : "connection closed";
	verify = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (verify != X509_V_OK)
		snprintf(buf, len, "%s: %s", reason,
		    X509_verify_cert_error_string(verify));
	else
		snprintf(buf, len, "%s", reason);
	return (buf);
}

/*
 * Load a PEM certificate chain and its private key into ctx and check
 * that they are a pair. TLS_PAIR_OK, or which file is at fault, with why
 * (the path and the library's reason) in err.
 */
int
tls_load_pair(SSL_CTX *ctx, const char *certificate, const char *key,
    char *err, size_t len)
{
	char	why[256];

	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, certificate) != 1) {
		snprintf(err, len, "%s: %s", certificate,
		    tls_reason(NULL, why, sizeof why));
		return (TLS_PAIR_CERTIFICATE);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_reason(NULL, why, sizeof why);
		/* OpenSSL says "key values mismatch" for a wrong pair. */
		snprintf(err, len, "%s: %s", key, why);
		return (TLS_PAIR_KEY);
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, len, "%s: not the key of %s", key, certificate);
		return (TLS_PAIR_KEY);
	}
	return (TLS_PAIR_OK);
}

/*
 * A server context from the server group's tls_* settings: the versions,
 * the certificate and key, the client certificates asked for. NULL, with
 * the setting at fault in *which and why in err, if a file does not load.
 */
SSL_CTX *
tls_server_ctx_new(const struct config *cfg, int *which, char *err,
    size_t len)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		fatalx("cannot create a TLS context");
	SSL_CTX_set_min_proto_version(ctx, cfg->tls_min_version ==
	    TLS_VERSION_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
	/*
	 * A FIN without close_notify is the end of the stream, as on plain
	 * TCP (libevent 2.1's allow_dirty_shutdown does nothing under
	 * OpenSSL 3). Idle connections give their buffers back.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/*
	 * TLS 1.3's suites, AES-128 first, in our order: OpenSSL's default
	 * and its clients put AES-256 first, which costs each idle session
	 * 190 bytes more heap (measured at 2,000) and each record more
	 * rounds, for no protection a test of a terminator needs.
	 */
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:"
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
	/*
	 * No resumption: every connection is a full handshake, which is
	 * what testing a terminator's handshakes needs; and a served
	 * connection is sent nothing it did not ask for (no tickets).
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * Read what the socket has, not a record's header then its body:
	 * half the reads, and records taken several to a turn of the loop
	 * (conn_tls_take_pending reads what libevent leaves in the session).
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	if ((*which = tls_load_pair(ctx, cfg->tls_certificate, cfg->tls_key,
	    err, len)) != TLS_PAIR_OK ||
	    (*which = tls_server_verify(ctx, cfg, err, len)) != TLS_PAIR_OK) {
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}

/* Ask for (or require) client certificates that chain to tls_ca. */
static int
tls_server_verify(SSL_CTX *ctx, const struct config *cfg, char *err,
    size_t len)
{
	STACK_OF(X509_NAME)	*names;
	char			 why[256];
	int			 mode = SSL_VERIFY_PEER;

	if (cfg->tls_ca[0] == '\0')
		return (TLS_PAIR_OK);
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx, cfg->tls_ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(cfg->tls_ca)) == NULL) {
		snprintf(err, len, "%s: %s", cfg->tls_ca,
		    tls_reason(NULL, why, sizeof why));
		return (TLS_PAIR_CA);
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	if (cfg->tls_verify == TLS_VERIFY_REQUIRE)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (cfg->tls_verify != TLS_VERIFY_NONE)
		SSL_CTX_set_verify(ctx, mode, NULL);
	return (TLS_PAIR_OK);
}

/* The context's certificate's notAfter, since the epoch; 0 if none. */
time_t
tls_ctx_not_after(SSL_CTX *ctx)
{
	X509		*x = SSL_CTX_get0_certificate(ctx);
	struct tm	 tm;

	if (x == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return (0);
	return (timegm(&tm));
}
