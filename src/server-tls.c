/*
 * server-tls.c - the daemon's TLS context, built from the server group's
 * tls_* settings at start and on SIGHUP (new connections take the new
 * one; each connection keeps a reference to its own), and the release of
 * a socket accepted for a connection that never began.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "seqechod.h"
#include "tls.h"

static int	server_tls_wanted(const struct config *);

/*
 * The context the configuration's tls listeners need, into *ctx (NULL
 * when none has tls). -1, having said why, when the files do not load:
 * the loader checked them, so they changed since.
 */
int
server_tls_build(const struct config *cfg, SSL_CTX **ctx)
{
	char		err[512], date[32];
	struct tm	tm;
	time_t		end;
	int		which;

	*ctx = NULL;
	if (!server_tls_wanted(cfg))
		return (0);
	if ((*ctx = tls_server_ctx_new(cfg, &which, err, sizeof err)) == NULL) {
		log_errorx("tls: %s", err);
		return (-1);
	}
	end = tls_ctx_not_after(*ctx);
	gmtime_r(&end, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	log_info("tls: certificate %s, expires %s", cfg->tls_certificate,
	    date);
	return (0);
}

/* Whether any listener of cfg speaks TLS. */
static int
server_tls_wanted(const struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nlistens; i++)
		if (cfg->listens[i].tls)
			return (1);
	return (0);
}

/* Close a socket that never became a connection, and its TLS reference. */
void
accepted_close(struct accepted *a)
{
	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	if (a->tls != NULL)
		SSL_CTX_free(a->tls);
	a->tls = NULL;
}
