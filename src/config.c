/*
 * config.c - seqecho.conf: defaults, parsing with libconfig, and checking
 * every setting against a table of names, types and ranges.
 *
 * libconfig 1.5 has no schema, wraps out-of-range integers silently and
 * reports I/O errors without a cause, so each of those is handled here.
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

#include "seqecho.h"

enum setting_kind {
	KIND_INT,
	KIND_STRING,
	KIND_ADDRESSES,
	KIND_FRAMING,
	KIND_LOG_LEVEL
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
	{ "server", "pidfile", KIND_STRING, 0, PATH_MAX, FIELD(pidfile) },
	{ "client", "address", KIND_STRING, 1, 255, FIELD(client_address) },
	{ "client", "port", KIND_INT, 1, 65535, FIELD(client_port) },
	{ "client", "connect_timeout", KIND_INT, 1, 3600,
	    FIELD(connect_timeout) },
};
#define NSETTINGS	(sizeof settings / sizeof settings[0])

/* A number libconfig 1.5 would wrap, and the setting it is given to. */
struct overflow {
	int		 name_line;	/* where the setting's name is */
	int		 line;		/* where the number is */
	char		 name[64];
};

struct loader {
	const char	*path;
	char		*text;		/* the file, to find wrapped numbers */
	int		 errors;
	struct overflow	*overflows;
	size_t		 noverflows;
};

static int	 config_slurp(struct loader *);
static void	 config_error(struct loader *, int, const char *, const char *,
		     ...) __attribute__((format(printf, 4, 5)));
static const struct setting *setting_find(const char *, const char *);
static void	 config_group(struct loader *, struct config *,
		     config_setting_t *);
static void	 config_setting(struct loader *, struct config *,
		     const struct setting *, config_setting_t *);
static void	 scan_overflows(struct loader *);
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
}

void
config_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->naddresses; i++)
		free(cfg->addresses[i]);
	free(cfg->addresses);
	free(cfg->separator);
	free(cfg->pidfile);
	free(cfg->client_address);
	memset(cfg, 0, sizeof *cfg);
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
	size_t	i;

	for (i = 0; i < cfg->naddresses; i++)
		free(cfg->addresses[i]);
	free(cfg->addresses);
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
 * The daemon's configuration: defaults, then the file, then the command
 * line. On error cfg still holds a valid configuration to free.
 */
int
config_load_options(struct config *cfg, const struct daemon_options *opts)
{
	config_defaults(cfg);
	if (config_load(cfg, opts->conf_path, opts->conf_optional) == -1)
		return (-1);
	if (opts->address != NULL)
		config_set_address(cfg, opts->address);
	if (opts->port != -1)
		cfg->port = opts->port;
	return (0);
}

/* A number from the command line, min..max (min >= 0), or -1. */
int
config_parse_int(const char *s, int min, int max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return (-1);
	return ((int)v);
}

/*
 * A number from the command line, fractions allowed, more than min and at
 * most max; else -1 (so min must not be below -1).
 */
double
config_parse_real(const char *s, double min, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v > min) ||
	    !(v <= max))
		return (-1);
	return (v);
}

/* A port from the command line: 0..65535, or -1. */
int
config_parse_port(const char *s)
{
	return (config_parse_int(s, 0, 65535));
}

/*
 * Load path over the defaults already in cfg. A missing file is not an error
 * when optional is set (the default path). Every error is logged as
 * FILE:LINE: SETTING: what is wrong; returns -1 if there was any, and cfg
 * is then unchanged.
 */
int
config_load(struct config *cfg, const char *path, int optional)
{
	struct loader		 ld = { path, NULL, 0, NULL, 0 };
	struct config		 new;
	config_t		 lc;
	config_setting_t	*root, *group;
	int			 i;

	if (config_slurp(&ld) == -1) {
		if (optional && errno == ENOENT)
			return (0);
		log_errorx("%s: %s", path, strerror(errno));
		return (-1);
	}

	config_init(&lc);
	if (config_read_string(&lc, ld.text) != CONFIG_TRUE) {
		config_error(&ld, config_error_line(&lc), NULL, "%s",
		    config_error_text(&lc));
		goto out;
	}

	/* Work on a copy so a bad file leaves cfg as it was. */
	new = *cfg;
	new.addresses = xcalloc(cfg->naddresses, sizeof *new.addresses);
	for (i = 0; (size_t)i < cfg->naddresses; i++)
		new.addresses[i] = xstrdup(cfg->addresses[i]);
	new.separator = xstrdup(cfg->separator);
	new.pidfile = xstrdup(cfg->pidfile);
	new.client_address = xstrdup(cfg->client_address);

	scan_overflows(&ld);
	root = config_root_setting(&lc);
	for (i = 0; (group = config_setting_get_elem(root, i)) != NULL; i++)
		config_group(&ld, &new, group);

	if (ld.errors == 0) {
		config_free(cfg);
		*cfg = new;
	} else
		config_free(&new);
out:
	config_destroy(&lc);
	free(ld.text);
	free(ld.overflows);
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

static void
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
	config_setting_t	*elem;
	const char		*str;
	long long		 v;
	int			 type = config_setting_type(s), line, i, n;

	line = config_setting_source_line(s);
	switch (st->kind) {
	case KIND_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			config_error(ld, line, st->name, "must be an integer");
			return;
		}
		v = config_setting_get_int64(s);
		if (v < st->min || v > st->max ||
		    overflowed(ld, line, st->name)) {
			config_error(ld, line, st->name, "must be %lld..%lld",
			    st->min, st->max);
			return;
		}
		*(int *)field = (int)v;
		return;
	case KIND_STRING:
		if (type != CONFIG_TYPE_STRING) {
			config_error(ld, line, st->name, "must be a string");
			return;
		}
		str = config_setting_get_string(s);
		if ((long long)strlen(str) < st->min ||
		    (long long)strlen(str) > st->max) {
			config_error(ld, line, st->name,
			    "must be %lld to %lld bytes long", st->min, st->max);
			return;
		}
		if (strchr(str, '\n') != NULL) {
			config_error(ld, line, st->name,
			    "must not contain a newline");
			return;
		}
		config_set_string(field, str);
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
		if (type == CONFIG_TYPE_STRING) {
			config_set_address(cfg, config_setting_get_string(s));
			return;
		}
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
			config_error(ld, line, st->name,
			    "must be a string or a list of strings");
			return;
		}
		n = config_setting_length(s);
		if (n == 0) {
			config_error(ld, line, st->name,
			    "must name at least one address");
			return;
		}
		for (i = 0; i < n; i++) {
			elem = config_setting_get_elem(s, i);
			if (config_setting_type(elem) != CONFIG_TYPE_STRING) {
				config_error(ld, line, st->name,
				    "must be a string or a list of strings");
				return;
			}
		}
		for (i = 0; i < n; i++) {
			str = config_setting_get_string_elem(s, i);
			if (i == 0)
				config_set_address(cfg, str);
			else
				config_add_address(cfg, str);
		}
		return;
	}
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

/*
 * libconfig 1.5 reads an integer without an L suffix into an int, so
 * 4294968530 silently becomes 1234. Walk the text as its scanner does,
 * skipping comments and strings, and note every integer that does not
 * fit in 32 bits with the name of the setting it is given to; those
 * settings are then reported out of range whatever value they got.
 */
static void
scan_overflows(struct loader *ld)
{
	const char	*p = ld->text, *start;
	char		 name[64] = "", *end;
	unsigned long long u;
	long long	 v;
	size_t		 n;
	int		 line = 1, name_line = 0, wrapped;

	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/');
			    p++) {
				if (*p == '\n')
					line++;
			}
			if (*p != '\0')
				p += 2;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '\n')
					line++;
			}
			if (*p != '\0')
				p++;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '*') {
			start = p;
			while ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '_' || *p == '-' || *p == '*')
				p++;
			n = (size_t)(p - start);
			if (n >= sizeof name)
				n = sizeof name - 1;
			memcpy(name, start, n);
			name[n] = '\0';
			name_line = line;
		} else if ((*p >= '0' && *p <= '9') || ((*p == '-' || *p == '+') &&
		    p[1] >= '0' && p[1] <= '9')) {
			start = p;
			errno = 0;
			if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
				u = strtoull(p, &end, 16);
				wrapped = errno == ERANGE || u > 0xffffffffULL;
			} else {
				v = strtoll(p, &end, 10);
				wrapped = errno == ERANGE || v < INT_MIN ||
				    v > INT_MAX;
			}
			p = end;
			/* A float, or an int64 with its L, does not wrap. */
			if (*p == '.' || *p == 'e' || *p == 'E') {
				while ((*p >= '0' && *p <= '9') || *p == '.' ||
				    *p == 'e' || *p == 'E' || ((*p == '-' ||
				    *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
					p++;
				continue;
			}
			if (*p == 'L') {
				p++;
				continue;
			}
			if (!wrapped || p == start)
				continue;
			ld->overflows = realloc(ld->overflows,
			    (ld->noverflows + 1) * sizeof *ld->overflows);
			if (ld->overflows == NULL)
				fatalx("out of memory");
			ld->overflows[ld->noverflows].line = line;
			ld->overflows[ld->noverflows].name_line = name_line;
			snprintf(ld->overflows[ld->noverflows].name,
			    sizeof ld->overflows[ld->noverflows].name, "%s",
			    name);
			ld->noverflows++;
		} else
			p++;
	}
}
