/*
 * conflisten.c - server.listen: its groups parsed and checked, and the
 * one listener that server.address and server.port make when there is no
 * list.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "confload.h"
#include "proxy.h"
#include "seqecho.h"

/* What a problem with a listener's address is said with. */
struct listen_check {
	struct loader		*ld;
	config_setting_t	*list;
	const struct config	*cfg;
};

static void	 listen_group(struct loader *, config_setting_t *,
		     struct listen_conf *);
static void	 listen_member(struct loader *, config_setting_t *,
		     struct listen_conf *, int *);
static int	 listen_trusted(struct loader *, config_setting_t *,
		     struct listen_conf *, int *);
static void	 listen_problem(void *, const struct listen_problem *);
static int	 listen_address_line(config_setting_t *, size_t, size_t);
static void	 listen_copy(struct listen_conf *, const struct listen_conf *);

/*
 * server.listen: a list of groups, each one listener, into cfg (an empty
 * list is as if none were given). Returns how many errors it found.
 */
int
conflisten_parse(struct loader *ld, config_setting_t *s, struct config *cfg)
{
	struct listen_conf	*l;
	config_setting_t	*g;
	size_t			 n, i;
	int			 type = config_setting_type(s), errors = 0;

	if (type != CONFIG_TYPE_LIST && !(type == CONFIG_TYPE_ARRAY &&
	    config_setting_length(s) == 0)) {
		config_error(ld, config_setting_source_line(s), "listen",
		    "must be a list of groups: ( { port = 1234; }, ... )");
		return (1);
	}
	n = (size_t)config_setting_length(s);
	l = n > 0 ? xcalloc(n, sizeof *l) : NULL;
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			config_error(ld, config_setting_source_line(g) > 0 ?
			    config_setting_source_line(g) :
			    config_setting_source_line(s), "listen",
			    "must be a list of groups: ( { port = 1234; }, "
			    "... )");
			errors++;
			l[i].line = config_setting_source_line(s);
			l[i].addresses = xcalloc(1, sizeof *l[i].addresses);
			l[i].addresses[0] = xstrdup(SEQECHO_ADDRESS);
			l[i].naddresses = 1;
			continue;
		}
		listen_group(ld, g, &l[i]);
		errors += l[i].line == -1;
		l[i].line = config_setting_source_line(g);
	}
	conflisten_free(cfg->listens, cfg->nlistens);
	cfg->listens = l;
	cfg->nlistens = n;
	return (errors);
}

/* One group of server.listen; its line is -1 if it was bad. */
static void
listen_group(struct loader *ld, config_setting_t *g, struct listen_conf *l)
{
	config_setting_t	*m, *trusted = NULL, *proxy = NULL;
	const char		*name;
	int			 i, bad = 0, ntrusted = 0;

	l->port = SEQECHO_PORT;
	l->proxy = PROXY_NONE;
	for (i = 0; (m = config_setting_get_elem(g, (unsigned int)i)) != NULL;
	    i++) {
		name = config_setting_name(m);
		if (strcmp(name, "proxy_trusted") == 0) {
			trusted = m;
			ntrusted = listen_trusted(ld, m, l, &bad);
		} else {
			if (strcmp(name, "proxy_protocol") == 0)
				proxy = m;
			listen_member(ld, m, l, &bad);
		}
	}
	if (l->addresses == NULL) {
		l->addresses = xcalloc(1, sizeof *l->addresses);
		l->addresses[0] = xstrdup(SEQECHO_ADDRESS);
		l->naddresses = 1;
	}
	if (l->proxy != PROXY_NONE && ntrusted == 0) {
		config_error(ld, config_setting_source_line(trusted != NULL ?
		    trusted : proxy), "proxy_trusted", "must list the "
		    "addresses allowed to send a PROXY header when "
		    "proxy_protocol is \"%s\"", config_setting_get_string(proxy));
		bad = 1;
	}
	l->line = bad ? -1 : 0;
}

/* One setting of a listen group other than proxy_trusted. */
static void
listen_member(struct loader *ld, config_setting_t *m, struct listen_conf *l,
    int *bad)
{
	const char	*name = config_setting_name(m);
	int		 line = config_setting_source_line(m), mode;

	if (strcmp(name, "address") == 0) {
		config_strings_free(l->addresses, l->naddresses);
		l->addresses = NULL;
		l->naddresses = 0;
		if (config_get_strings(ld, m, name, 0, &l->addresses,
		    &l->naddresses) == -1)
			*bad = 1;
	} else if (strcmp(name, "port") == 0) {
		if (config_get_int(ld, m, name, 0, 65535, &l->port) == -1)
			*bad = 1;
	} else if (strcmp(name, "proxy_protocol") == 0) {
		mode = config_setting_type(m) == CONFIG_TYPE_STRING ?
		    proxy_mode_parse(config_setting_get_string(m)) : -1;
		if (mode == -1) {
			config_error(ld, line, name, "must be \"none\", \"v1\", "
			    "\"v2\" or \"any\"");
			*bad = 1;
		} else
			l->proxy = mode;
	} else if (strcmp(name, "tls") == 0) {
		if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
			config_error(ld, line, name, "must be true or false");
			*bad = 1;
		} else
			l->tls = config_setting_get_bool(m);
	} else {
		config_error(ld, line, name, "unknown setting");
		*bad = 1;
	}
}

/*
 * proxy_trusted: addresses or prefixes, each parsed; a bad one is said.
 * Returns how many were given, or -1 if it was no list of strings.
 */
static int
listen_trusted(struct loader *ld, config_setting_t *m, struct listen_conf *l,
    int *bad)
{
	config_setting_t	*e;
	char			**strings, why[512];
	size_t			 n, i;
	int			 line;

	free(l->trusted);
	l->trusted = NULL;
	l->ntrusted = 0;
	if (config_get_strings(ld, m, "proxy_trusted", 1, &strings, &n) ==
	    -1) {
		*bad = 1;
		return (-1);
	}
	l->trusted = xcalloc(n > 0 ? n : 1, sizeof *l->trusted);
	for (i = 0; i < n; i++) {
		if (config_parse_prefix(strings[i], &l->trusted[l->ntrusted],
		    why, sizeof why) == 0) {
			l->ntrusted++;
			continue;
		}
		line = config_setting_source_line(m);
		if (config_setting_type(m) != CONFIG_TYPE_STRING &&
		    (e = config_setting_get_elem(m, (unsigned int)i)) != NULL &&
		    config_setting_source_line(e) > 0)
			line = config_setting_source_line(e);
		config_error(ld, line, "proxy_trusted", "%s", why);
		*bad = 1;
	}
	config_strings_free(strings, n);
	return ((int)n);
}

/*
 * The daemon's checks of a good server.listen: each group's addresses as
 * server.address's, and no two listeners on one address and port.
 */
void
conflisten_check(struct loader *ld, config_setting_t *list,
    const struct config *cfg)
{
	struct listen_check	lc = { ld, list, cfg };

	config_check_listeners(cfg->listens, cfg->nlistens, listen_problem,
	    &lc);
}

/* A listener's address cannot be bound: say where, and where the other. */
static void
listen_problem(void *arg, const struct listen_problem *p)
{
	struct listen_check	*lc = arg;
	int			 line, other;

	line = listen_address_line(lc->list, p->group, p->address);
	if (p->other_group < 0) {
		config_error(lc->ld, line, "address", "%s", p->why);
		return;
	}
	other = listen_address_line(lc->list, (size_t)p->other_group,
	    (size_t)p->other_address);
	if (other != line)
		config_error(lc->ld, line, "address", "%s (the other on line "
		    "%d)", p->why, other);
	else
		config_error(lc->ld, line, "address", "%s", p->why);
}

/*
 * The line of a listen group's address: of the element in a list, of the
 * setting, or of the group where it has none (the default address).
 */
static int
listen_address_line(config_setting_t *list, size_t group, size_t address)
{
	config_setting_t	*g, *a, *e;

	g = config_setting_get_elem(list, (unsigned int)group);
	if ((a = config_setting_get_member(g, "address")) == NULL)
		return (config_setting_source_line(g));
	if (config_setting_type(a) != CONFIG_TYPE_STRING &&
	    (e = config_setting_get_elem(a, (unsigned int)address)) != NULL &&
	    config_setting_source_line(e) > 0)
		return (config_setting_source_line(e));
	return (config_setting_source_line(a));
}

/*
 * Without server.listen, server.address and server.port are the one
 * plain listener (after -a and -p): make it, so that the daemon has
 * only cfg->listens to bind. With the list given, nothing changes.
 */
void
config_effective_listeners(struct config *cfg)
{
	struct listen_conf	l;

	if (cfg->nlistens > 0)
		return;
	memset(&l, 0, sizeof l);
	l.addresses = cfg->addresses;
	l.naddresses = cfg->naddresses;
	l.port = cfg->port;
	l.proxy = PROXY_NONE;
	cfg->listens = xcalloc(1, sizeof *cfg->listens);
	listen_copy(&cfg->listens[0], &l);
	cfg->nlistens = 1;
}

/* Copy src's listeners into dst, which holds a shallow copy of them. */
void
conflisten_copy(struct config *dst, const struct config *src)
{
	size_t	i;

	dst->listens = NULL;
	if (src->nlistens == 0)
		return;
	dst->listens = xcalloc(src->nlistens, sizeof *dst->listens);
	for (i = 0; i < src->nlistens; i++)
		listen_copy(&dst->listens[i], &src->listens[i]);
}

/* Make dst a deep copy of src. */
static void
listen_copy(struct listen_conf *dst, const struct listen_conf *src)
{
	size_t	i;

	*dst = *src;
	dst->addresses = xcalloc(src->naddresses > 0 ? src->naddresses : 1,
	    sizeof *dst->addresses);
	for (i = 0; i < src->naddresses; i++)
		dst->addresses[i] = xstrdup(src->addresses[i]);
	dst->trusted = NULL;
	if (src->ntrusted > 0) {
		dst->trusted = xcalloc(src->ntrusted, sizeof *dst->trusted);
		memcpy(dst->trusted, src->trusted,
		    src->ntrusted * sizeof *dst->trusted);
	}
}

/* Free n listener groups and the array that holds them. */
void
conflisten_free(struct listen_conf *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		config_strings_free(l[i].addresses, l[i].naddresses);
		free(l[i].trusted);
	}
	free(l);
}
