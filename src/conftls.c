/*
 * conftls.c - the daemon's TLS settings, checked as its file loads: the
 * files load and match, a tls listener has them, and a certificate about
 * to expire is worth a warning. Errors name the file, line and setting.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libconfig.h>

#include "confload.h"
#include "seqecho.h"
#include "tls.h"

/* A certificate that expires within this many days is warned about. */
#define TLS_EXPIRY_WARN_DAYS	30

static int	conftls_line(config_setting_t *, const char *);
static int	conftls_listen_line(config_setting_t *, size_t, int);
static void	conftls_expiry(struct loader *, int, SSL_CTX *);

/*
 * Check the server group's TLS settings in cfg, as root (the file's
 * settings) placed them: when a listener has tls, or a certificate is
 * named at all.
 */
void
conftls_check(struct loader *ld, config_setting_t *root,
    const struct config *cfg)
{
	static const char *names[] = { NULL, "tls_certificate", "tls_key",
	    "tls_ca" };
	config_setting_t	*server = config_setting_get_member(root,
				    "server");
	const struct listen_conf *tls = NULL;
	SSL_CTX			*ctx;
	char			 err[512];
	size_t			 i;
	int			 which, tls_line = 0;

	for (i = 0; i < cfg->nlistens && tls == NULL; i++)
		if (cfg->listens[i].tls) {
			tls = &cfg->listens[i];
			tls_line = conftls_listen_line(server, i, tls->line);
		}
	if (tls == NULL && cfg->tls_certificate[0] == '\0' &&
	    cfg->tls_key[0] == '\0')
		return;
	if (cfg->tls_certificate[0] == '\0' || cfg->tls_key[0] == '\0') {
		if (tls != NULL)
			config_error(ld, tls_line, "tls", "a tls listener "
			    "needs tls_certificate and tls_key");
		else
			config_error(ld, conftls_line(server,
			    cfg->tls_key[0] == '\0' ? "tls_certificate" :
			    "tls_key"), cfg->tls_key[0] == '\0' ?
			    "tls_certificate" : "tls_key", "needs %s too",
			    cfg->tls_key[0] == '\0' ? "tls_key" :
			    "tls_certificate");
		return;
	}
	if (cfg->tls_verify != TLS_VERIFY_NONE && cfg->tls_ca[0] == '\0') {
		config_error(ld, conftls_line(server, "tls_verify"),
		    "tls_verify", "needs tls_ca, the CA that client "
		    "certificates must chain to");
		return;
	}
	if ((ctx = tls_server_ctx_new(cfg, &which, err, sizeof err)) == NULL) {
		config_error(ld, conftls_line(server, names[which]),
		    names[which], "%s", err);
		return;
	}
	conftls_expiry(ld, conftls_line(server, "tls_certificate"), ctx);
	SSL_CTX_free(ctx);
}

/* The line a server setting is on (the group's if it is not there). */
static int
conftls_line(config_setting_t *server, const char *name)
{
	config_setting_t	*s;

	if (server == NULL)
		return (0);
	s = config_setting_get_member(server, name);
	return (config_setting_source_line(s != NULL ? s : server));
}

/* The line of listener i's tls setting, else line. */
static int
conftls_listen_line(config_setting_t *server, size_t i, int line)
{
	config_setting_t	*listen, *group, *tls;

	if (server == NULL ||
	    (listen = config_setting_get_member(server, "listen")) == NULL ||
	    (group = config_setting_get_elem(listen, (unsigned)i)) == NULL ||
	    (tls = config_setting_get_member(group, "tls")) == NULL)
		return (line);
	return (config_setting_source_line(tls));
}

/* Warn when the certificate has expired or soon will. */
static void
conftls_expiry(struct loader *ld, int line, SSL_CTX *ctx)
{
	time_t		 end = tls_ctx_not_after(ctx), now = time(NULL);
	struct tm	 tm;
	char		 date[32];

	if (end == 0 || end - now > TLS_EXPIRY_WARN_DAYS * 86400L)
		return;
	gmtime_r(&end, &tm);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (end <= now)
		log_warnx("%s:%d: tls_certificate: expired on %s", ld->path,
		    line, date);
	else
		log_warnx("%s:%d: tls_certificate: expires on %s, in %ld "
		    "days", ld->path, line, date, (long)((end - now) / 86400));
}
