/*
 * config.c - seqecho.conf: defaults, parsing with libconfig, and checking
 * every setting against a table of names, types and ranges.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * libconfig 1.5 has no schema, wraps out-of-range integers silently,
 * reports I/O errors without a cause and some syntax errors without the
 * setting or at the wrong line, so each of those is handled here (with
 * confscan.c). Relative paths in a file are taken from the file's
 * directory; the daemon's load also resolves the addresses it will bind.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>
#include <event2/util.h>

#include "confscan.h"
#include "confload.h"
#include "proxy.h"
#include "seqecho.h"

enum setting_kind {
	KIND_INT,
	KIND_STRING,
	KIND_PATH,		/* a string; relative to the file's directory */
	KIND_ADDRESSES,
	KIND_BOOL,
	KIND_CHOICE,		/* a string from a list of names: choices */
	KIND_LISTEN,		/* server.listen: conflisten.c */
	KIND_HOSTPORT		/* "ADDRESS:PORT" or "[IPv6]:PORT"; "" = none */
};

struct setting {
	const char	*group;
	const char	*name;
	enum setting_kind kind;
	long long	 min;
	long long	 max;
	size_t		 offset;
	const struct choice *choices;	/* KIND_CHOICE: ends with a NULL name */
};

#define OFFSET(f)	offsetof(struct config, f)
#define FIELD(f)	OFFSET(f), NULL
#define CHOICE(f, c)	OFFSET(f), c

static const struct choice framings[] = {
	{ "line", PROTO_FRAMING_LINE }, { "segment", PROTO_FRAMING_SEGMENT },
	{ NULL, 0 }
};
static const struct choice log_levels[] = {
	{ "error", LOG_LEVEL_ERROR }, { "warning", LOG_LEVEL_WARNING },
	{ "info", LOG_LEVEL_INFO }, { "debug", LOG_LEVEL_DEBUG }, { NULL, 0 }
};
static const struct choice client_proxies[] = {
	{ "none", PROXY_NONE }, { "v1", PROXY_V1 }, { "v2", PROXY_V2 },
	{ NULL, 0 }
};
static const struct choice tls_verifies[] = {
	{ "none", TLS_VERIFY_NONE }, { "optional", TLS_VERIFY_OPTIONAL },
	{ "require", TLS_VERIFY_REQUIRE }, { NULL, 0 }
};
static const struct choice tls_versions[] = {
	{ "1.2", TLS_VERSION_1_2 }, { "1.3", TLS_VERSION_1_3 }, { NULL, 0 }
};

static const struct setting settings[] = {
	{ "server", "address", KIND_ADDRESSES, 0, 0, FIELD(addresses) },
	{ "server", "port", KIND_INT, 0, 65535, FIELD(port) },
	{ "server", "backlog", KIND_INT, 1, 65535, FIELD(backlog) },
	{ "server", "max_connections", KIND_INT, 1, 1000000,
	    FIELD(max_connections) },
	{ "server", "max_line", KIND_INT, 1, 1048576, FIELD(max_line) },
	{ "server", "idle_timeout", KIND_INT, 0, 86400, FIELD(idle_timeout) },
	{ "server", "separator", KIND_STRING, 0, PROTO_SEPARATOR_MAX,
	    FIELD(separator) },
	{ "server", "framing", KIND_CHOICE, 0, 0, CHOICE(framing, framings) },
	{ "server", "workers", KIND_INT, 0, 256, FIELD(workers) },
	{ "server", "log_level", KIND_CHOICE, 0, 0,
	    CHOICE(log_level, log_levels) },
	{ "server", "pidfile", KIND_PATH, 0, PATH_MAX, FIELD(pidfile) },
	{ "server", "listen", KIND_LISTEN, 0, 0, FIELD(listens) },
	{ "server", "proxy_timeout", KIND_INT, 1, 3600, FIELD(proxy_timeout) },
	{ "server", "tls_certificate", KIND_PATH, 0, PATH_MAX,
	    FIELD(tls_certificate) },
	{ "server", "tls_key", KIND_PATH, 0, PATH_MAX, FIELD(tls_key) },
	{ "server", "tls_ca", KIND_PATH, 0, PATH_MAX, FIELD(tls_ca) },
	{ "server", "tls_verify", KIND_CHOICE, 0, 0,
	    CHOICE(tls_verify, tls_verifies) },
	{ "server", "tls_min_version", KIND_CHOICE, 0, 0,
	    CHOICE(tls_min_version, tls_versions) },
	{ "server", "http", KIND_HOSTPORT, 0, 255, FIELD(http) },
	{ "server", "name", KIND_STRING, 0, 255, FIELD(name) },
	{ "client", "address", KIND_STRING, 1, 255, FIELD(client_address) },
	{ "client", "port", KIND_INT, 1, 65535, FIELD(client_port) },
	{ "client", "connect_timeout", KIND_INT, 1, 3600,
	    FIELD(connect_timeout) },
	{ "client", "proxy_protocol", KIND_CHOICE, 0, 0,
	    CHOICE(client_proxy, client_proxies) },
	{ "client", "tls", KIND_BOOL, 0, 0, FIELD(client_tls) },
	{ "client", "tls_ca", KIND_PATH, 0, PATH_MAX, FIELD(client_tls_ca) },
	{ "client", "tls_servername", KIND_STRING, 0, 255,
	    FIELD(client_tls_servername) },
	{ "client", "tls_certificate", KIND_PATH, 0, PATH_MAX,
	    FIELD(client_tls_certificate) },
	{ "client", "tls_key", KIND_PATH, 0, PATH_MAX,
	    FIELD(client_tls_key) },
};
#define NSETTINGS	(sizeof settings / sizeof settings[0])

/* The strings struct config owns, for copying and freeing it. */
static const size_t string_fields[] = {
	OFFSET(separator), OFFSET(pidfile), OFFSET(tls_certificate),
	OFFSET(tls_key), OFFSET(tls_ca), OFFSET(http), OFFSET(name),
	OFFSET(client_address), OFFSET(client_tls_ca),
	OFFSET(client_tls_servername), OFFSET(client_tls_certificate),
	OFFSET(client_tls_key)
};
#define NSTRING_FIELDS	(sizeof string_fields / sizeof string_fields[0])

static int	 config_load_file(struct config *, const char *, int, int);
static int	 config_hostport(struct loader *, int, const char *,
		     const char *);
static int	 config_slurp(struct loader *);
static void	 config_copy(struct config *, const struct config *);
static void	 config_syntax_error(struct loader *, config_t *);
static const struct setting *setting_find(const char *, const char *);
static void	 config_group(struct loader *, struct config *,
		     config_setting_t *);
static void	 config_setting(struct loader *, struct config *,
		     const struct setting *, config_setting_t *);
static void	 config_addresses(struct loader *, struct config *,
		     config_setting_t *);
static void	 config_address_lines(struct loader *, config_setting_t *,
		     int);
static void	 config_address_problem(void *, size_t, long, const char *);
static void	 config_set_string(char **, const char *);

/* Every setting's default, as in the example file and seqecho.conf(5). */
void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	config_set_address(cfg, SEQECHO_ADDRESS);
	cfg->port = SEQECHO_PORT;
	cfg->backlog = 128;
	cfg->max_connections = 10000;
	cfg->max_line = 4096;		/* bytes, LF excluded */
	cfg->idle_timeout = 300;	/* seconds; 0 = never */
	cfg->separator = xstrdup("");
	cfg->framing = PROTO_FRAMING_LINE;
	cfg->workers = 0;		/* one per online CPU */
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->pidfile = xstrdup("");
	cfg->client_address = xstrdup(SEQECHO_ADDRESS);
	cfg->client_port = SEQECHO_PORT;
	cfg->connect_timeout = 5;	/* seconds */
	cfg->client_proxy = PROXY_NONE;
	cfg->proxy_timeout = 3;		/* seconds */
	cfg->tls_certificate = xstrdup("");
	cfg->tls_key = xstrdup("");
	cfg->tls_ca = xstrdup("");
	cfg->tls_verify = TLS_VERIFY_NONE;
	cfg->tls_min_version = TLS_VERSION_1_2;
	cfg->http = xstrdup("");
	cfg->name = xstrdup("");
	cfg->client_tls = 0;
	cfg->client_tls_ca = xstrdup("");
	cfg->client_tls_servername = xstrdup("");
	cfg->client_tls_certificate = xstrdup("");
	cfg->client_tls_key = xstrdup("");
	cfg->listens = NULL;		/* none: address and port serve */
	cfg->nlistens = 0;
}

void
config_free(struct config *cfg)
{
	size_t	i;

	config_strings_free(cfg->addresses, cfg->naddresses);
	for (i = 0; i < NSTRING_FIELDS; i++)
		free(*(char **)((char *)cfg + string_fields[i]));
	conflisten_free(cfg->listens, cfg->nlistens);
	memset(cfg, 0, sizeof *cfg);
}

/* Make dst a deep copy of src. */
static void
config_copy(struct config *dst, const struct config *src)
{
	size_t	i;

	*dst = *src;
	dst->addresses = xcalloc(src->naddresses, sizeof *dst->addresses);
	for (i = 0; i < src->naddresses; i++)
		dst->addresses[i] = xstrdup(src->addresses[i]);
	for (i = 0; i < NSTRING_FIELDS; i++)
		*(char **)((char *)dst + string_fields[i]) =
		    xstrdup(*(char *const *)((const char *)src +
		    string_fields[i]));
	conflisten_copy(dst, src);
}

static void
config_set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* Replace the server's addresses with one (what -a does). */
void
config_set_address(struct config *cfg, const char *address)
{
	config_strings_free(cfg->addresses, cfg->naddresses);
	cfg->addresses = NULL;
	cfg->naddresses = 0;
	config_add_address(cfg, address);
}

void
config_add_address(struct config *cfg, const char *address)
{
	cfg->addresses = realloc(cfg->addresses,
	    (cfg->naddresses + 1) * sizeof *cfg->addresses);
	if (cfg->addresses == NULL)
		fatalx("out of memory");
	cfg->addresses[cfg->naddresses++] = xstrdup(address);
}

/*
 * Load path over what cfg holds (the defaults, say). A missing file is not
 * an error when optional is set (the default path). Every error is logged
 * as FILE:LINE: SETTING: what is wrong; returns -1 if there was any, and
 * cfg is then unchanged.
 */
int
config_load(struct config *cfg, const char *path, int optional)
{
	return (config_load_file(cfg, path, optional, 0));
}

/*
 * As config_load, for the daemon: the server's addresses must also
 * resolve, and no two of them may name the same address, as binding would
 * find; the error then names the file and line rather than a bind.
 */
int
config_load_server(struct config *cfg, const char *path, int optional)
{
	return (config_load_file(cfg, path, optional, 1));
}

static int
config_load_file(struct config *cfg, const char *path, int optional,
    int listeners)
{
	struct loader		 ld;
	struct config		 new;
	config_t		 lc;
	config_setting_t	*root, *group;
	int			 i;

	memset(&ld, 0, sizeof ld);
	ld.path = path;
	ld.listeners = listeners;
	if (config_slurp(&ld) == -1) {
		if (optional && errno == ENOENT)
			return (0);
		log_errorx("%s: %s", path, strerror(errno));
		return (-1);
	}

	config_init(&lc);
	if (config_read_string(&lc, ld.text) != CONFIG_TRUE) {
		config_syntax_error(&ld, &lc);
		goto out;
	}

	/* Work on a copy so a bad file leaves cfg as it was. */
	config_copy(&new, cfg);
	ld.noverflows = confscan_overflows(ld.text, &ld.overflows);
	root = config_root_setting(&lc);
	for (i = 0; (group = config_setting_get_elem(root, i)) != NULL; i++)
		config_group(&ld, &new, group);
	/* Check the addresses that will be bound, and only those. */
	if (ld.listeners && new.nlistens > 0) {
		if (ld.listen != NULL && ld.listen_errors == 0)
			conflisten_check(&ld, ld.listen, &new);
	} else if (ld.listeners && ld.naddress_lines == new.naddresses)
		config_check_addresses(new.addresses, new.naddresses,
		    config_address_problem, &ld);
	if (ld.listeners && ld.errors == 0)
		conftls_check(&ld, root, &new);

	if (ld.errors == 0) {
		config_free(cfg);
		*cfg = new;
	} else
		config_free(&new);
out:
	config_destroy(&lc);
	free(ld.text);
	free(ld.overflows);
	free(ld.address_lines);
	return (ld.errors == 0 ? 0 : -1);
}

/* Read the whole file; -1 with errno set (EISDIR for a directory). */
static int
config_slurp(struct loader *ld)
{
	struct stat	 st;
	size_t		 len = 0, cap = 4096;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(ld->path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	ld->text = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= 16 * 1024 * 1024) {
				errno = EFBIG;
				goto fail;
			}
			cap *= 2;
			if ((ld->text = realloc(ld->text, cap)) == NULL)
				fatalx("out of memory");
		}
		n = read(fd, ld->text + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	ld->text[len] = '\0';
	if (memchr(ld->text, '\0', len) != NULL) {
		errno = EINVAL;
		goto fail;
	}
	close(fd);
	return (0);
fail:
	saved = errno;
	free(ld->text);
	ld->text = NULL;
	close(fd);
	errno = saved;
	return (-1);
}

/* Say what is wrong where, as FILE:LINE: SETTING: what, and count it. */
void
config_error(struct loader *ld, int line, const char *name,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (name != NULL)
		log_errorx("%s:%d: %s: %s", ld->path, line, name, msg);
	else
		log_errorx("%s:%d: %s", ld->path, line, msg);
	ld->errors++;
}

/*
 * libconfig could not parse the file. Its message names no setting for a
 * duplicate, and it reports a string or comment that never ends at the
 * end of the file: say where those began, and which setting it is.
 */
static void
config_syntax_error(struct loader *ld, config_t *lc)
{
	struct confscan_diag	 d;
	const char		*text = config_error_text(lc);
	int			 line = config_error_line(lc);

	confscan_diagnose(ld->text, &d);
	if (text != NULL && strstr(text, "duplicate setting") != NULL &&
	    d.dup_line != 0)
		config_error(ld, d.dup_line, d.dup_name, "set twice (first on "
		    "line %d)", d.dup_first_line);
	else if (d.open_line != 0 && d.open_line <= line)
		config_error(ld, d.open_line, d.open_name[0] != '\0' ?
		    d.open_name : NULL, "%s %s", d.open_what, d.open_closed ?
		    "not closed on the line it begins" : "never closed");
	else
		config_error(ld, line, NULL, "%s", text);
}

static const struct setting *
setting_find(const char *group, const char *name)
{
	size_t	i;

	for (i = 0; i < NSETTINGS; i++) {
		if (strcmp(settings[i].group, group) == 0 &&
		    strcmp(settings[i].name, name) == 0)
			return (&settings[i]);
	}
	return (NULL);
}

/* Check one top-level group and each setting in it. */
static void
config_group(struct loader *ld, struct config *cfg, config_setting_t *group)
{
	const char		*gname = config_setting_name(group);
	const struct setting	*st;
	config_setting_t	*s;
	int			 i, line = config_setting_source_line(group);

	if (strcmp(gname, "server") != 0 && strcmp(gname, "client") != 0) {
		config_error(ld, line, gname, "unknown setting");
		return;
	}
	if (config_setting_type(group) != CONFIG_TYPE_GROUP) {
		config_error(ld, line, gname, "must be a group");
		return;
	}
	for (i = 0; (s = config_setting_get_elem(group, i)) != NULL; i++) {
		st = setting_find(gname, config_setting_name(s));
		if (st == NULL) {
			config_error(ld, config_setting_source_line(s),
			    config_setting_name(s), "unknown setting");
			continue;
		}
		config_setting(ld, cfg, st, s);
	}
}

/* Check one setting's type and range and store it. */
static void
config_setting(struct loader *ld, struct config *cfg,
    const struct setting *st, config_setting_t *s)
{
	void			*field = (char *)cfg + st->offset;
	const char		*str;
	char			*path;
	int			 type = config_setting_type(s), line;

	line = config_setting_source_line(s);
	switch (st->kind) {
	case KIND_INT:
		config_get_int(ld, s, st->name, st->min, st->max, field);
		return;
	case KIND_STRING:
		if (config_get_string(ld, s, st->name, st->min, st->max, &str) == 0)
			config_set_string(field, str);
		return;
	case KIND_PATH:
		if (config_get_string(ld, s, st->name, st->min, st->max, &str) == -1)
			return;
		path = config_path_relative(ld->path, str);
		if (strlen(path) > PATH_MAX)
			config_error(ld, line, st->name, "must be at most %d "
			    "bytes long with the file's directory", PATH_MAX);
		else {
			free(*(char **)field);
			*(char **)field = path;
			return;
		}
		free(path);
		return;
	case KIND_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			config_error(ld, line, st->name,
			    "must be true or false");
		else
			*(int *)field = config_setting_get_bool(s);
		return;
	case KIND_CHOICE:
		config_get_choice(ld, s, st->name, st->choices, field);
		return;
	case KIND_ADDRESSES:
		config_addresses(ld, cfg, s);
		return;
	case KIND_HOSTPORT:
		if (config_get_string(ld, s, st->name, st->min, st->max,
		    &str) == 0 && config_hostport(ld, line, st->name, str) == 0)
			config_set_string(field, str);
		return;
	case KIND_LISTEN:
		ld->listen = s;
		ld->listen_errors = conflisten_parse(ld, s, cfg);
		return;
	}
}

/*
 * An "ADDRESS:PORT" setting: it must parse and, for the daemon, its
 * address resolve. 0, or -1 with the error said.
 */
static int
config_hostport(struct loader *ld, int line, const char *name,
    const char *value)
{
	struct evutil_addrinfo	*res;
	char			 host[256], why[512];
	int			 port;

	if (*value == '\0')
		return (0);
	if (config_parse_hostport(value, host, sizeof host, &port, why,
	    sizeof why) == -1 || (ld->listeners &&
	    config_resolve(host, port, &res, why, sizeof why) == -1)) {
		config_error(ld, line, name, "%s", why);
		return (-1);
	}
	if (ld->listeners)
		evutil_freeaddrinfo(res);
	return (0);
}

/* server.address: a string or a list of them, each noted with its line. */
static void
config_addresses(struct loader *ld, struct config *cfg, config_setting_t *s)
{
	char	**addresses;
	size_t	  n;

	if (config_get_strings(ld, s, "address", 0, &addresses, &n) == -1)
		return;
	config_strings_free(cfg->addresses, cfg->naddresses);
	cfg->addresses = addresses;
	cfg->naddresses = n;
	config_address_lines(ld, s, config_setting_source_line(s));
}

/* Note the line of each address, for the checks of the daemon's load. */
static void
config_address_lines(struct loader *ld, config_setting_t *s, int line)
{
	config_setting_t	*elem;
	int			 i, n, l;

	n = config_setting_type(s) == CONFIG_TYPE_STRING ? 1 :
	    config_setting_length(s);
	free(ld->address_lines);
	ld->address_lines = xcalloc((size_t)n, sizeof *ld->address_lines);
	ld->naddress_lines = (size_t)n;
	for (i = 0; i < n && n > 1; i++) {
		elem = config_setting_get_elem(s, i);
		l = config_setting_source_line(elem);
		ld->address_lines[i] = l > 0 ? l : line;
	}
	if (n == 1)
		ld->address_lines[0] = line;
}

/* An address the file names cannot be bound: say where. */
static void
config_address_problem(void *arg, size_t i, long other, const char *why)
{
	struct loader	*ld = arg;
	int		 line = ld->address_lines[i];

	if (other >= 0 && ld->address_lines[other] != line)
		config_error(ld, line, "address", "%s (the other on line %d)",
		    why, ld->address_lines[other]);
	else
		config_error(ld, line, "address", "%s", why);
}
