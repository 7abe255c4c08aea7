/*
 * tls-client.h - the client side of TLS that seqecho and seqecho-bench
 * share: a context that verifies the server (or, asked to, does not), and
 * a connection that sends the name and checks it.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_TLS_CLIENT_H
#define SEQECHO_TLS_CLIENT_H

#include <stddef.h>

#include <openssl/ssl.h>

/* What the command line and the client group say about TLS. */
struct tls_client_opts {
	const char	*ca;		/* PEM bundle; NULL or "": the system's */
	const char	*certificate;	/* our own; NULL or "": none */
	const char	*key;
	int		 insecure;	/* verify nothing */
};

SSL_CTX		*tls_client_ctx(const struct tls_client_opts *, char *,
		    size_t);
SSL		*tls_client_ssl(SSL_CTX *, const char *, int);
int		 tls_is_ip(const char *);
const char	*tls_reason_code(SSL *, unsigned long, char *, size_t);

#endif
