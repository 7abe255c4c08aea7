/*
 * fuzz_config.c - libFuzzer target for the configuration loader
 * (src/config.c, src/conflisten.c, src/confscan.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Any bytes, written to a memfd and loaded by path with config_defaults and
 * config_load, must give either -1 with the configuration left exactly as
 * it was, or 0 with a valid configuration: every integer within the range
 * seqecho.conf(5) documents, every string within its length, and no number
 * silently wrapped. That last check is independent of config.c: a small
 * scanner written from libconfig 1.5's lexical rules finds the numeric
 * literals in the file; in a file config_load accepts, each of them must be
 * the value of an integer setting (every other kind of setting rejects a
 * number), so, taken in file order, their exact values must equal the
 * loaded integer settings in the order libconfig lists them (the ports
 * of server.listen's groups where the list is).
 *
 * Every message names the file and a line that is in it, and libconfig's
 * own "duplicate setting name", which names no setting, never gets through:
 * confscan.c must find the setting libconfig found twice. A relative
 * pidfile comes back joined to the file's directory (/proc/self/fd).
 *
 * Inputs with "@include" are skipped: they would read other files.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "proxy.h"
#include "seqecho.h"

#define MAX_LITERALS	4096

struct int_setting {
	const char	*group;
	const char	*name;
	size_t		 offset;
	long long	 min;
	long long	 max;
};

/* The ranges of seqecho.conf(5), written out again here on purpose. */
static const struct int_setting ints[] = {
	{ "server", "port", offsetof(struct config, port), 0, 65535 },
	{ "server", "backlog", offsetof(struct config, backlog), 1, 65535 },
	{ "server", "max_connections", offsetof(struct config, max_connections),
	    1, 1000000 },
	{ "server", "max_line", offsetof(struct config, max_line), 1, 1048576 },
	{ "server", "idle_timeout", offsetof(struct config, idle_timeout),
	    0, 86400 },
	{ "server", "workers", offsetof(struct config, workers), 0, 256 },
	{ "server", "proxy_timeout", offsetof(struct config, proxy_timeout),
	    1, 3600 },
	{ "client", "port", offsetof(struct config, client_port), 1, 65535 },
	{ "client", "connect_timeout", offsetof(struct config, connect_timeout),
	    1, 3600 },
};
#define NINTS	(sizeof ints / sizeof ints[0])

/* A numeric literal: its exact value, or that it is out of range. */
struct literal {
	int		 is_float;
	int		 overflow;	/* beyond 64 bits */
	long long	 value;
	size_t		 offset;
};

static int	memfd = -1;
static char	path[64];
static char	*messages;	/* what config_load logged */
static size_t	 messages_len;

static void
fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_config: %s\n---- file ----\n%s\n---- end ----\n",
	    what, text != NULL ? text : "");
	abort();
}

static int
is_name_start(int ch)
{
	return (isalpha(ch) || ch == '*');
}

static int
is_name_char(int ch)
{
	return (isalnum(ch) || ch == '*' || ch == '-' || ch == '_');
}

/* Length of the longest match of libconfig 1.5's float at p, or 0. */
static size_t
match_float(const char *p)
{
	const char	*q = p, *digits;
	size_t		 best = 0;

	if (*q == '-' || *q == '+')
		q++;
	digits = q;
	while (isdigit((unsigned char)*q))
		q++;
	/* [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)? */
	if (*q == '.') {
		const char *r = q + 1;

		while (isdigit((unsigned char)*r))
			r++;
		best = (size_t)(r - p);
		if (*r == 'e' || *r == 'E') {
			const char *e = r + 1;

			if (*e == '-' || *e == '+')
				e++;
			if (isdigit((unsigned char)*e)) {
				while (isdigit((unsigned char)*e))
					e++;
				best = (size_t)(e - p);
			}
		}
		return (best);
	}
	/* [-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+ (the '.' case is above) */
	if (q > digits && (*q == 'e' || *q == 'E')) {
		const char *e = q + 1;

		if (*e == '-' || *e == '+')
			e++;
		if (isdigit((unsigned char)*e)) {
			while (isdigit((unsigned char)*e))
				e++;
			best = (size_t)(e - p);
		}
	}
	return (best);
}

/* Exact value of a decimal or hex digit string, or overflow. */
static void
literal_value_of(const char *p, size_t len, int base, int negative,
    struct literal *l)
{
	unsigned long long	v = 0, d, limit;
	size_t			i;

	limit = negative ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	l->overflow = 0;
	for (i = 0; i < len; i++) {
		d = isdigit((unsigned char)p[i]) ? (unsigned)(p[i] - '0') :
		    (unsigned)(tolower((unsigned char)p[i]) - 'a' + 10);
		if (v > (limit - d) / (unsigned)base) {
			l->overflow = 1;
			return;
		}
		v = v * (unsigned)base + d;
	}
	if (negative)
		l->value = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN :
		    -(long long)v;
	else
		l->value = (long long)v;
}

/*
 * Find the numeric literals of a libconfig 1.5 file, in order: skip
 * comments, strings and names, and take the longest of float, integer,
 * integer64, hex and hex64 where one starts. Returns how many.
 */
static size_t
scan_literals(const char *text, struct literal *out, size_t max)
{
	const char	*p = text, *q;
	size_t		 n = 0, flen, ilen, hlen;
	int		 negative;

	while (*p != '\0' && n < max) {
		if (p[0] == '/' && p[1] == '*') {
			q = strstr(p + 2, "*/");
			p = q == NULL ? p + strlen(p) : q + 2;
			continue;
		}
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
			continue;
		}
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
			}
			if (*p == '"')
				p++;
			continue;
		}
		if (is_name_start((unsigned char)*p)) {
			while (is_name_char((unsigned char)*p))
				p++;
			continue;
		}
		if (!(isdigit((unsigned char)*p) || *p == '-' || *p == '+' ||
		    *p == '.')) {
			p++;
			continue;
		}

		flen = match_float(p);
		q = p;
		negative = 0;
		if (*q == '-' || *q == '+')
			negative = *q++ == '-';
		ilen = 0;
		while (isdigit((unsigned char)q[ilen]))
			ilen++;
		hlen = 0;
		if (q == p && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
			while (isxdigit((unsigned char)q[2 + hlen]))
				hlen++;
		}
		if (hlen > 0 && 2 + hlen >= flen) {
			/* hex or hex64 */
			out[n].is_float = 0;
			out[n].offset = (size_t)(p - text);
			literal_value_of(q + 2, hlen, 16, 0, &out[n]);
			p = q + 2 + hlen;
			if (*p == 'L')
				p += p[1] == 'L' ? 2 : 1;
			n++;
			continue;
		}
		if (flen > 0 && flen > (size_t)(q - p) + ilen) {
			out[n].is_float = 1;
			out[n].overflow = 0;
			out[n].value = 0;
			out[n].offset = (size_t)(p - text);
			p += flen;
			n++;
			continue;
		}
		if (ilen > 0) {
			out[n].is_float = 0;
			out[n].offset = (size_t)(p - text);
			literal_value_of(q, ilen, 10, negative, &out[n]);
			p = q + ilen;
			if (*p == 'L')
				p += p[1] == 'L' ? 2 : 1;
			n++;
			continue;
		}
		p++;		/* a lone sign: garbage */
	}
	return (n);
}

static const struct int_setting *
int_find(const char *group, const char *name)
{
	size_t	i;

	for (i = 0; i < NINTS; i++) {
		if (strcmp(ints[i].group, group) == 0 &&
		    strcmp(ints[i].name, name) == 0)
			return (&ints[i]);
	}
	return (NULL);
}

static int
field(const struct config *cfg, const struct int_setting *is)
{
	return (*(const int *)((const char *)cfg + is->offset));
}

/* The listeners of a configuration that loaded, as documented. */
static void
check_listens(const struct config *cfg, const char *text)
{
	const struct listen_conf	*l;
	size_t				 i, j;

	if ((cfg->nlistens == 0) != (cfg->listens == NULL))
		fail("listens and nlistens disagree", text);
	for (i = 0; i < cfg->nlistens; i++) {
		l = &cfg->listens[i];
		if (l->naddresses < 1 || l->addresses == NULL)
			fail("a listener without an address", text);
		for (j = 0; j < l->naddresses; j++) {
			if (l->addresses[j] == NULL)
				fail("a NULL listener address", text);
		}
		if (l->port < 0 || l->port > 65535)
			fail("a listener's port out of range", text);
		if (l->proxy < PROXY_NONE || l->proxy > PROXY_ANY)
			fail("a listener's proxy_protocol out of range", text);
		if (l->proxy != PROXY_NONE && l->ntrusted == 0)
			fail("a PROXY listener without proxy_trusted", text);
		for (j = 0; j < l->ntrusted; j++) {
			if (!(l->trusted[j].family == AF_INET &&
			    l->trusted[j].bits >= 0 &&
			    l->trusted[j].bits <= 32) &&
			    !(l->trusted[j].family == AF_INET6 &&
			    l->trusted[j].bits >= 0 &&
			    l->trusted[j].bits <= 128))
				fail("a bad proxy_trusted prefix", text);
		}
		if (l->tls)
			fail("a TLS listener accepted", text);
		if (l->line < 1)
			fail("a listener without its line", text);
	}
}

/* A configuration that loaded: every value as documented. */
static void
check_valid(const struct config *cfg, const char *text)
{
	size_t	i;

	for (i = 0; i < NINTS; i++) {
		if (field(cfg, &ints[i]) < ints[i].min ||
		    field(cfg, &ints[i]) > ints[i].max) {
			fprintf(stderr, "%s.%s = %d\n", ints[i].group,
			    ints[i].name, field(cfg, &ints[i]));
			fail("integer setting out of its range", text);
		}
	}
	if (cfg->naddresses < 1 || cfg->addresses == NULL)
		fail("no server address", text);
	for (i = 0; i < cfg->naddresses; i++) {
		if (cfg->addresses[i] == NULL)
			fail("a NULL server address", text);
	}
	if (cfg->separator == NULL || strlen(cfg->separator) >
	    PROTO_SEPARATOR_MAX || strchr(cfg->separator, '\n') != NULL)
		fail("bad separator", text);
	if (cfg->pidfile == NULL || strlen(cfg->pidfile) > PATH_MAX ||
	    strchr(cfg->pidfile, '\n') != NULL)
		fail("bad pidfile", text);
	if (cfg->pidfile[0] != '\0' && cfg->pidfile[0] != '/')
		fail("a relative pidfile not taken from the file's directory",
		    text);
	if (cfg->client_address == NULL || strlen(cfg->client_address) < 1 ||
	    strlen(cfg->client_address) > 255 ||
	    strchr(cfg->client_address, '\n') != NULL)
		fail("bad client address", text);
	if (cfg->framing != PROTO_FRAMING_LINE &&
	    cfg->framing != PROTO_FRAMING_SEGMENT)
		fail("bad framing", text);
	if (cfg->log_level < LOG_LEVEL_ERROR ||
	    cfg->log_level > LOG_LEVEL_DEBUG)
		fail("bad log level", text);
	if (cfg->client_proxy != PROXY_NONE && cfg->client_proxy != PROXY_V1 &&
	    cfg->client_proxy != PROXY_V2)
		fail("bad client proxy_protocol", text);
	check_listens(cfg, text);
}

/*
 * The next literal is an integer equal to the loaded value v of the
 * setting group.name; *k moves past it.
 */
static void
literal_is(const struct literal *lits, size_t nlits, size_t *k,
    const char *group, const char *name, int v, const char *text)
{
	if (*k >= nlits)
		fail("more integer settings than literals (scanner out of "
		    "step)", text);
	if (lits[*k].is_float)
		fail("a float literal where an integer setting was loaded",
		    text);
	if (lits[*k].overflow || lits[*k].value != (long long)v) {
		fprintf(stderr, "%s.%s: loaded %d; literal at offset %zu is "
		    "%s%lld\n", group, name, v, lits[*k].offset,
		    lits[*k].overflow ? "beyond 64 bits, " : "",
		    lits[*k].value);
		fail("a number was wrapped or misread", text);
	}
	(*k)++;
}

/* The integers in server.listen's groups: only ports, in order. */
static void
listen_literals(const struct config *cfg, config_setting_t *list,
    const struct literal *lits, size_t nlits, size_t *k, const char *text)
{
	config_setting_t	*g, *m;
	int			 i, j, type;

	for (i = 0; (g = config_setting_get_elem(list, i)) != NULL; i++) {
		if ((size_t)i >= cfg->nlistens)
			fail("a listen group not loaded", text);
		for (j = 0; (m = config_setting_get_elem(g, j)) != NULL; j++) {
			type = config_setting_type(m);
			if (type != CONFIG_TYPE_INT &&
			    type != CONFIG_TYPE_INT64)
				continue;
			if (strcmp(config_setting_name(m), "port") != 0)
				fail("an unknown integer setting accepted in "
				    "a listen group", text);
			literal_is(lits, nlits, k, "listen", "port",
			    cfg->listens[i].port, text);
		}
	}
}

/*
 * No silent wrap: the file's numeric literals, in order, are exactly the
 * integer settings libconfig found, in order, and the loaded values.
 */
static void
check_literals(const struct config *cfg, const char *text)
{
	static struct literal		 lits[MAX_LITERALS];
	const struct int_setting	*is;
	config_t			 lc;
	config_setting_t		*root, *group, *s;
	size_t				 nlits, k = 0;
	int				 i, j, type;

	nlits = scan_literals(text, lits, MAX_LITERALS);
	if (nlits == MAX_LITERALS)
		return;
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE)
		fail("config_load accepted what libconfig rejects", text);
	root = config_root_setting(&lc);
	for (i = 0; (group = config_setting_get_elem(root, i)) != NULL; i++) {
		for (j = 0; (s = config_setting_get_elem(group, j)) != NULL;
		    j++) {
			type = config_setting_type(s);
			if (type == CONFIG_TYPE_LIST && strcmp(
			    config_setting_name(s), "listen") == 0) {
				listen_literals(cfg, s, lits, nlits, &k, text);
				continue;
			}
			if (type != CONFIG_TYPE_INT &&
			    type != CONFIG_TYPE_INT64)
				continue;
			is = int_find(config_setting_name(group),
			    config_setting_name(s));
			if (is == NULL)
				fail("an unknown integer setting accepted",
				    text);
			literal_is(lits, nlits, &k, is->group, is->name,
			    field(cfg, is), text);
		}
	}
	config_destroy(&lc);
	if (k != nlits) {
		fprintf(stderr, "%zu literals, %zu integer settings\n", nlits,
		    k);
		fail("a numeric literal that is no integer setting was "
		    "accepted", text);
	}
}

/* A failed load leaves the configuration as it was: the defaults here. */
static void
check_unchanged(const struct config *cfg, const struct config *def,
    const char *text)
{
	size_t	i;

	for (i = 0; i < NINTS; i++) {
		if (field(cfg, &ints[i]) != field(def, &ints[i]))
			fail("a failed load changed an integer", text);
	}
	if (cfg->naddresses != def->naddresses ||
	    strcmp(cfg->addresses[0], def->addresses[0]) != 0 ||
	    strcmp(cfg->separator, def->separator) != 0 ||
	    strcmp(cfg->pidfile, def->pidfile) != 0 ||
	    strcmp(cfg->client_address, def->client_address) != 0 ||
	    cfg->framing != def->framing || cfg->log_level != def->log_level ||
	    cfg->client_proxy != def->client_proxy ||
	    cfg->nlistens != def->nlistens)
		fail("a failed load changed a setting", text);
}

/*
 * Each message is "PATH:LINE: ..." with LINE in the file, but for a file
 * that cannot be read at all (a NUL byte: "PATH: Invalid argument").
 */
static void
check_messages(const char *text, size_t size, int has_nul, int rc)
{
	const char	*m = messages, *end;
	char		 prefix[128];
	long		 line, nlines = 1;
	size_t		 i, plen;
	char		*num;

	for (i = 0; i < size; i++)
		nlines += text[i] == '\n';
	plen = (size_t)snprintf(prefix, sizeof prefix, "fuzz_config: %s:",
	    path);
	if (rc == 0 && messages_len != 0)
		fail("a file that loaded logged an error", text);
	if (rc == -1 && messages_len == 0)
		fail("a file refused without a message", text);
	for (; m < messages + messages_len; m = end + 1) {
		if ((end = memchr(m, '\n', messages + messages_len - m)) ==
		    NULL)
			fail("a message without its newline", text);
		if ((size_t)(end - m) < plen || memcmp(m, prefix, plen) != 0)
			fail("a message that does not begin with the file",
			    text);
		if (has_nul)
			continue;
		line = strtol(m + plen, &num, 10);
		if (num == m + plen || *num != ':' || line < 1 ||
		    line > nlines) {
			fprintf(stderr, "%.*s\n", (int)(end - m), m);
			fail("a message without a line of the file", text);
		}
		/* libconfig's own words, where a setting's name should be. */
		if ((size_t)(end - num) >= 19 &&
		    memcmp(num, ": duplicate setting", 19) == 0) {
			fprintf(stderr, "%.*s\n", (int)(end - m), m);
			fail("libconfig's duplicate passed on without the "
			    "setting", text);
		}
	}
}

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/*
	 * Errors are expected by the thousand: config_load logs them through
	 * stdio's stderr, pointed at a memory stream while it runs, to be
	 * checked. (The sanitizers write to descriptor 2 directly, so their
	 * reports still show.)
	 */
	log_init("fuzz_config", LOG_DEST_PLAIN);
	log_setlevel(LOG_LEVEL_ERROR);
	memfd = memfd_create("seqecho.conf", MFD_CLOEXEC);
	if (memfd == -1) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg, def;
	FILE		*saved_stderr, *log;
	char		*text;
	int		 rc, has_nul;

	if (memmem(data, size, "@include", 8) != NULL)
		return (0);
	if (ftruncate(memfd, 0) == -1 || (size > 0 &&
	    pwrite(memfd, data, size, 0) != (ssize_t)size)) {
		perror("memfd");
		abort();
	}
	/* The text as config.c will see it (a NUL makes it reject). */
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	config_defaults(&cfg);
	config_defaults(&def);
	if ((log = open_memstream(&messages, &messages_len)) == NULL) {
		perror("open_memstream");
		abort();
	}
	saved_stderr = stderr;
	stderr = log;
	rc = config_load(&cfg, path, 0);
	stderr = saved_stderr;
	fclose(log);
	has_nul = memchr(data, '\0', size) != NULL;
	check_messages(text, size, has_nul, rc);
	free(messages);
	if (rc == 0) {
		if (has_nul)
			fail("a file with a NUL byte accepted", NULL);
		check_valid(&cfg, text);
		check_literals(&cfg, text);
	} else if (rc == -1)
		check_unchanged(&cfg, &def, text);
	else
		fail("config_load returned neither 0 nor -1", text);
	config_free(&cfg);
	config_free(&def);
	free(text);
	return (0);
}
