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

#include "confscan.h"
#include "conflisten.h"
#include "proxy.h"
#include "seqecho.h"

enum setting_kind {
	KIND_INT,
	KIND_STRING,
	KIND_PATH,		/* a string; relative to the file's directory */
	KIND_ADDRESSES,
	KIND_FRAMING,
	KIND_LOG_LEVEL,
	KIND_LISTEN,		/* server.listen: conflisten.c */
	KIND_CLIENT_PROXY
};

struct setting {
	const char	*group;
	const char	*name;
	enum setting_kind kind;
	long long	 min;
	long long	 max;
	size_t		 offset;
};

#define FIELD(f)	offsetof(struct config, f)

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
	{ "server", "framing", KIND_FRAMING, 0, 0, FIELD(framing) },
	{ "server", "workers", KIND_INT, 0, 256, FIELD(workers) },
	{ "server", "log_level", KIND_LOG_LEVEL, 0, 0, FIELD(log_level) },
	{ "server", "pidfile", KIND_PATH, 0, PATH_MAX, FIELD(pidfile) },
	{ "server", "listen", KIND_LISTEN, 0, 0, FIELD(listens) },
	{ "server", "proxy_timeout", KIND_INT, 1, 3600, FIELD(proxy_timeout) },
	{ "client", "address", KIND_STRING, 1, 255, FIELD(client_address) },
	{ "client", "port", KIND_INT, 1, 65535, FIELD(client_port) },
	{ "client", "connect_timeout", KIND_INT, 1, 3600,
	    FIELD(connect_timeout) },
	{ "client", "proxy_protocol", KIND_CLIENT_PROXY, 0, 0,
	    FIELD(client_proxy) },
};
#define NSETTINGS	(sizeof settings / sizeof settings[0])

struct loader {
	const char	*path;
	char		*text;		/* the file, for confscan.c */
	int		 errors;
	int		 listeners;	/* check the server's addresses */
	struct confscan_overflow *overflows;
	size_t		 noverflows;
	int		*address_lines;	/* of the server addresses it set */
	size_t		 naddress_lines;
	config_setting_t *listen;	/* server.listen, when set */
	int		 listen_errors;	/* in it */
};

static int	 config_load_file(struct config *, const char *, int, int);
static int	 config_slurp(struct loader *);
static void	 config_copy(struct config *, const struct config *);
static void	 config_syntax_error(struct loader *, config_t *);
static const struct setting *setting_find(const char *, const char *);
static void	 config_group(struct loader *, struct config *,
		     config_setting_t *);
static void	 config_setting(struct loader *, struct config *,
		     const struct setting *, config_setting_t *);
static int	 config_string(struct loader *, const struct setting *,
		     config_setting_t *, const char **);
static void	 config_addresses(struct loader *, struct config *,
		     config_setting_t *);
static void	 config_address_lines(struct loader *, config_setting_t *,
		     int);
static void	 config_address_problem(void *, size_t, long, const char *);
static int	 overflowed(const struct loader *, int, const char *);
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
	cfg->listens = NULL;		/* none: address and port serve */
	cfg->nlistens = 0;
}

void
config_free(struct config *cfg)
{
	config_strings_free(cfg->addresses, cfg->naddresses);
	free(cfg->separator);
	free(cfg->pidfile);
	free(cfg->client_address);
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
	dst->separator = xstrdup(src->separator);
	dst->pidfile = xstrdup(src->pidfile);
	dst->client_address = xstrdup(src->client_address);
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
	int			 type = config_setting_type(s), line, i;

	line = config_setting_source_line(s);
	switch (st->kind) {
	case KIND_INT:
		config_get_int(ld, s, st->name, st->min, st->max, field);
		return;
	case KIND_STRING:
		if (config_string(ld, st, s, &str) == 0)
			config_set_string(field, str);
		return;
	case KIND_PATH:
		if (config_string(ld, st, s, &str) == -1)
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
	case KIND_FRAMING:
		if (type != CONFIG_TYPE_STRING) {
			config_error(ld, line, st->name, "must be a string");
			return;
		}
		str = config_setting_get_string(s);
		if (strcmp(str, "line") == 0)
			cfg->framing = PROTO_FRAMING_LINE;
		else if (strcmp(str, "segment") == 0)
			cfg->framing = PROTO_FRAMING_SEGMENT;
		else
			config_error(ld, line, st->name,
			    "must be \"line\" or \"segment\"");
		return;
	case KIND_LOG_LEVEL:
		if (type != CONFIG_TYPE_STRING ||
		    (i = log_level_parse(config_setting_get_string(s))) == -1) {
			config_error(ld, line, st->name, "must be \"error\", "
			    "\"warning\", \"info\" or \"debug\"");
			return;
		}
		cfg->log_level = i;
		return;
	case KIND_ADDRESSES:
		config_addresses(ld, cfg, s);
		return;
	case KIND_LISTEN:
		ld->listen = s;
		ld->listen_errors = conflisten_parse(ld, s, cfg);
		return;
	case KIND_CLIENT_PROXY:
		i = type == CONFIG_TYPE_STRING ?
		    proxy_mode_parse(config_setting_get_string(s)) : -1;
		if (i == -1 || i == PROXY_ANY) {
			config_error(ld, line, st->name,
			    "must be \"none\", \"v1\" or \"v2\"");
			return;
		}
		cfg->client_proxy = i;
		return;
	}
}

/*
 * An integer setting, min..max, into *out; 0, or -1 having said why. A
 * number libconfig wrapped is out of range whatever it became.
 */
int
config_get_int(struct loader *ld, config_setting_t *s, const char *name,
    long long min, long long max, int *out)
{
	long long	v;
	int		type = config_setting_type(s);
	int		line = config_setting_source_line(s);

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error(ld, line, name, "must be an integer");
		return (-1);
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max || overflowed(ld, line, name)) {
		config_error(ld, line, name, "must be %lld..%lld", min, max);
		return (-1);
	}
	*out = (int)v;
	return (0);
}

/* A string setting within its length and without a newline; 0 or -1. */
static int
config_string(struct loader *ld, const struct setting *st,
    config_setting_t *s, const char **str)
{
	int	line = config_setting_source_line(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error(ld, line, st->name, "must be a string");
		return (-1);
	}
	*str = config_setting_get_string(s);
	if ((long long)strlen(*str) < st->min ||
	    (long long)strlen(*str) > st->max) {
		config_error(ld, line, st->name,
		    "must be %lld to %lld bytes long", st->min, st->max);
		return (-1);
	}
	if (strchr(*str, '\n') != NULL) {
		config_error(ld, line, st->name, "must not contain a newline");
		return (-1);
	}
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

/*
 * A string or a list of strings (an address setting), copied into *out;
 * 0, or -1 having said why. An empty list is an error unless allowed.
 */
int
config_get_strings(struct loader *ld, config_setting_t *s, const char *name,
    int empty_ok, char ***out, size_t *nout)
{
	int	type = config_setting_type(s), i, n;
	int	line = config_setting_source_line(s);

	if (type == CONFIG_TYPE_STRING)
		n = 1;
	else if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST)
		n = config_setting_length(s);
	else
		n = -1;
	for (i = 0; type != CONFIG_TYPE_STRING && i < n; i++) {
		if (config_setting_type(config_setting_get_elem(s, i)) !=
		    CONFIG_TYPE_STRING)
			n = -1;
	}
	if (n == -1) {
		config_error(ld, line, name,
		    "must be a string or a list of strings");
		return (-1);
	}
	/* Each is said in messages, which are one line each. */
	for (i = 0; i < n; i++) {
		if (strchr(type == CONFIG_TYPE_STRING ?
		    config_setting_get_string(s) :
		    config_setting_get_string_elem(s, i), '\n') != NULL) {
			config_error(ld, line, name,
			    "must not contain a newline");
			return (-1);
		}
	}
	if (n == 0 && !empty_ok) {
		config_error(ld, line, name, "must name at least one address");
		return (-1);
	}
	*out = xcalloc(n > 0 ? (size_t)n : 1, sizeof **out);
	*nout = (size_t)n;
	if (type == CONFIG_TYPE_STRING)
		(*out)[0] = xstrdup(config_setting_get_string(s));
	for (i = 0; type != CONFIG_TYPE_STRING && i < n; i++)
		(*out)[i] = xstrdup(config_setting_get_string_elem(s, i));
	return (0);
}

/* Free a list of strings. */
void
config_strings_free(char **strings, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
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

/* Was a wrapped number given to this setting on this line? */
static int
overflowed(const struct loader *ld, int line, const char *name)
{
	size_t	i;

	for (i = 0; i < ld->noverflows; i++) {
		if ((ld->overflows[i].line == line ||
		    ld->overflows[i].name_line == line) &&
		    strcmp(ld->overflows[i].name, name) == 0)
			return (1);
	}
	return (0);
}
