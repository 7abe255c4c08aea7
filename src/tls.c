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

#include "tls.h"

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
	const char	*reason = e != 0 ? ERR_reason_error_string(e) : NULL;
	long		 verify;

	ERR_clear_error();
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
