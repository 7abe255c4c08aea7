/*
 * tls.h - what the programs share about TLS (OpenSSL 3, under libevent's
 * bufferevent_openssl): the library's reason for a failure, and loading
 * a certificate with its key.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_TLS_H
#define SEQECHO_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include <time.h>

struct config;

/* The setting a TLS failure is at (tls_load_pair, tls_server_ctx_new). */
#define TLS_PAIR_OK		0
#define TLS_PAIR_CERTIFICATE	1	/* the certificate file */
#define TLS_PAIR_KEY		2	/* the key file, or a key not its pair */
#define TLS_PAIR_CA		3	/* the CA bundle (server.tls_ca) */

const char	*tls_reason(SSL *, char *, size_t);
const char	*tls_reason_of(unsigned long, SSL *, char *, size_t);
int		 tls_load_pair(SSL_CTX *, const char *, const char *, char *,
		    size_t);
SSL_CTX		*tls_server_ctx_new(const struct config *, int *, char *,
		    size_t);
time_t		 tls_ctx_not_after(SSL_CTX *);

#endif
