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

/* What tls_load_pair found at fault. */
#define TLS_PAIR_OK		0
#define TLS_PAIR_CERTIFICATE	1	/* the certificate file */
#define TLS_PAIR_KEY		2	/* the key file, or a key not its pair */

const char	*tls_reason(SSL *, char *, size_t);
int		 tls_load_pair(SSL_CTX *, const char *, const char *, char *,
		    size_t);

#endif
