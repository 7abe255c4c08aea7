/*
 * test_config.c - unit tests for the configuration loader (src/config.c):
 * defaults, each setting, each kind of error with its line number, and a
 * failed load leaving the configuration as it was; server.listen's groups
 * (src/conflisten.c) and the one listener made without them.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "proxy.h"
#include "seqecho.h"

static char	tmpdir[1024];	/* short, so paths under it fit in PATH_MAX */
static int	nfiles;

/* Write text to a new file; returns its path (static storage per call). */
static const char *
write_conf(const char *text)
{
	static char	paths[256][PATH_MAX];
	char		*path;
	FILE		*f;

	assert_true(nfiles < 256);
	path = paths[nfiles];
	snprintf(path, PATH_MAX, "%s/c%d.conf", tmpdir, nfiles);
	nfiles++;
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return (path);
}

/*
 * A load (config_load or config_load_server) with stderr captured: returns
 * its result, and in *err what it logged (free it).
 */
static int
load_capture_with(int (*load)(struct config *, const char *, int),
    struct config *cfg, const char *path, int optional, char **err)
{
	char	 logpath[PATH_MAX];
	int	 fd, saved, rc;
	ssize_t	 n;
	size_t	 len = 0;

	snprintf(logpath, sizeof logpath, "%s/stderr", tmpdir);
	fflush(stderr);
	fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	saved = dup(2);
	assert_true(saved != -1);
	dup2(fd, 2);
	rc = load(cfg, path, optional);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	*err = malloc(65536);
	assert_non_null(*err);
	lseek(fd, 0, SEEK_SET);
	while (len < 65535 && (n = read(fd, *err + len, 65535 - len)) > 0)
		len += (size_t)n;
	(*err)[len] = '\0';
	close(fd);
	return (rc);
}

static int
load_capture(struct config *cfg, const char *path, int optional, char **err)
{
	return (load_capture_with(config_load, cfg, path, optional, err));
}

/* Load text; the caller frees *err. */
static int
load_text(struct config *cfg, const char *text, const char **path,
    char **err)
{
	*path = write_conf(text);
	return (load_capture(cfg, *path, 0, err));
}

static void
assert_contains(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) == NULL) {
		print_error("\"%s\" not in \"%s\"\n", needle, haystack);
		fail();
	}
}

/* Two listener groups compare equal. */
static void
assert_listen_equal(const struct listen_conf *a, const struct listen_conf *b)
{
	size_t	i;

	assert_int_equal(a->naddresses, b->naddresses);
	for (i = 0; i < a->naddresses; i++)
		assert_string_equal(a->addresses[i], b->addresses[i]);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->proxy, b->proxy);
	assert_int_equal(a->ntrusted, b->ntrusted);
	for (i = 0; i < a->ntrusted; i++)
		assert_memory_equal(&a->trusted[i], &b->trusted[i],
		    sizeof a->trusted[i]);
	assert_int_equal(a->tls, b->tls);
	assert_int_equal(a->line, b->line);
}

/* The whole configuration compares equal. */
static void
assert_config_equal(const struct config *a, const struct config *b)
{
	size_t	i;

	assert_int_equal(a->naddresses, b->naddresses);
	for (i = 0; i < a->naddresses; i++)
		assert_string_equal(a->addresses[i], b->addresses[i]);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->backlog, b->backlog);
	assert_int_equal(a->max_connections, b->max_connections);
	assert_int_equal(a->max_line, b->max_line);
	assert_int_equal(a->idle_timeout, b->idle_timeout);
	assert_string_equal(a->separator, b->separator);
	assert_int_equal(a->framing, b->framing);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->log_level, b->log_level);
	assert_string_equal(a->pidfile, b->pidfile);
	assert_string_equal(a->client_address, b->client_address);
	assert_int_equal(a->client_port, b->client_port);
	assert_int_equal(a->connect_timeout, b->connect_timeout);
	assert_int_equal(a->client_proxy, b->client_proxy);
	assert_int_equal(a->proxy_timeout, b->proxy_timeout);
	assert_int_equal(a->nlistens, b->nlistens);
	for (i = 0; i < a->nlistens; i++)
		assert_listen_equal(&a->listens[i], &b->listens[i]);
}

/*
 * load refuses text, saying PATH:want (want: "LINE: SETTING: message"),
 * and leaves the configuration as it was. case_no is for the message.
 */
static void
assert_refused(int (*load)(struct config *, const char *, int),
    const char *text, const char *want, size_t case_no)
{
	struct config	 cfg, def;
	const char	*path = write_conf(text);
	char		*err, line[PATH_MAX + 256];

	config_defaults(&def);
	config_defaults(&cfg);
	if (load_capture_with(load, &cfg, path, 0, &err) != -1)
		fail_msg("case %zu loaded: %s", case_no, text);
	snprintf(line, sizeof line, "%s:%s\n", path, want);
	if (strstr(err, line) == NULL)
		fail_msg("case %zu: \"%s\" not in \"%s\"", case_no, line, err);
	assert_config_equal(&cfg, &def);
	free(err);
	config_free(&cfg);
	config_free(&def);
}

/* A file, and what the daemon's load says of it (after "PATH:"). */
struct server_case {
	const char	*text;
	const char	*want;	/* or NULL: it loads */
};

/*
 * Each file loads for any program (which looks nothing up), and the
 * daemon's load, which checks the addresses to bind, says what it wants.
 */
static void
assert_server_cases(const struct server_case *cases, size_t n)
{
	struct config	 cfg;
	const char	*path;
	char		*err;
	size_t		 i;

	for (i = 0; i < n; i++) {
		config_defaults(&cfg);
		path = write_conf(cases[i].text);
		if (load_capture(&cfg, path, 0, &err) != 0)
			fail_msg("case %zu: %s", i, err);
		free(err);
		config_free(&cfg);
		if (cases[i].want != NULL) {
			assert_refused(config_load_server, cases[i].text,
			    cases[i].want, i);
			continue;
		}
		config_defaults(&cfg);
		if (load_capture_with(config_load_server, &cfg, path, 0,
		    &err) != 0)
			fail_msg("case %zu: %s", i, err);
		free(err);
		config_free(&cfg);
	}
}

static int
setup(void **state)
{
	const char	*base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/test_config.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	return (0);
}

static int
teardown(void **state)
{
	char	path[PATH_MAX + 32];
	int	i;

	(void)state;
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof path, "%s/c%d.conf", tmpdir, i);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/stderr", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return (0);
}

static void
test_defaults(void **state)
{
	struct config	cfg;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.naddresses, 1);
	assert_string_equal(cfg.addresses[0], "127.0.0.1");
	assert_int_equal(cfg.port, 1234);
	assert_int_equal(cfg.backlog, 128);
	assert_int_equal(cfg.max_connections, 10000);
	assert_int_equal(cfg.max_line, 4096);
	assert_int_equal(cfg.idle_timeout, 300);
	assert_string_equal(cfg.separator, "");
	assert_int_equal(cfg.framing, PROTO_FRAMING_LINE);
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_string_equal(cfg.pidfile, "");
	assert_string_equal(cfg.client_address, "127.0.0.1");
	assert_int_equal(cfg.client_port, 1234);
	assert_int_equal(cfg.connect_timeout, 5);
	assert_int_equal(cfg.client_proxy, PROXY_NONE);
	assert_int_equal(cfg.proxy_timeout, 3);
	assert_int_equal(cfg.nlistens, 0);
	assert_null(cfg.listens);
	config_free(&cfg);
}

static void
test_every_setting(void **state)
{
	struct config	 cfg;
	const char	*path;
	char		*err;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	    "# every setting, none at its default\n"
	    "server:\n"
	    "{\n"
	    "  address = \"::1\";\n"
	    "  port = 4321;\n"
	    "  backlog = 7;\n"
	    "  max_connections = 3;\n"
	    "  max_line = 100;\n"
	    "  idle_timeout = 0;\n"
	    "  separator = \": \";\n"
	    "  framing = \"segment\";\n"
	    "  workers = 4;\n"
	    "  log_level = \"debug\";\n"
	    "  pidfile = \"/run/seqechod.pid\";\n"
	    "  proxy_timeout = 10;\n"
	    "};\n"
	    "client:\n"
	    "{\n"
	    "  address = \"192.0.2.1\";\n"
	    "  port = 4322;\n"
	    "  connect_timeout = 9;\n"
	    "  proxy_protocol = \"v2\";\n"
	    "};\n", &path, &err), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.naddresses, 1);
	assert_string_equal(cfg.addresses[0], "::1");
	assert_int_equal(cfg.port, 4321);
	assert_int_equal(cfg.backlog, 7);
	assert_int_equal(cfg.max_connections, 3);
	assert_int_equal(cfg.max_line, 100);
	assert_int_equal(cfg.idle_timeout, 0);
	assert_string_equal(cfg.separator, ": ");
	assert_int_equal(cfg.framing, PROTO_FRAMING_SEGMENT);
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg.pidfile, "/run/seqechod.pid");
	assert_string_equal(cfg.client_address, "192.0.2.1");
	assert_int_equal(cfg.client_port, 4322);
	assert_int_equal(cfg.connect_timeout, 9);
	assert_int_equal(cfg.proxy_timeout, 10);
	assert_int_equal(cfg.client_proxy, PROXY_V2);
	free(err);
	config_free(&cfg);
}

static void
test_partial_file_keeps_defaults(void **state)
{
	struct config	 cfg, def;
	const char	*path;
	char		*err;

	(void)state;
	config_defaults(&def);
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, "server: { max_line = 10; };\n",
	    &path, &err), 0);
	assert_int_equal(cfg.max_line, 10);
	cfg.max_line = def.max_line;
	assert_config_equal(&cfg, &def);
	free(err);
	config_free(&cfg);
	config_free(&def);
}

static void
test_values(void **state)
{
	static const struct {
		const char	*text;
		size_t		 off;
		int		 value;
	} cases[] = {
		{ "server: { port = 0; };", offsetof(struct config, port), 0 },
		{ "server: { port = 65535; };", offsetof(struct config, port),
		    65535 },
		{ "server: { port = 0x50; };", offsetof(struct config, port),
		    80 },
		{ "server: { port = 80L; };", offsetof(struct config, port),
		    80 },
		{ "server: { framing = \"line\"; };",
		    offsetof(struct config, framing), PROTO_FRAMING_LINE },
		{ "server: { log_level = \"error\"; };",
		    offsetof(struct config, log_level), LOG_LEVEL_ERROR },
		{ "server: { log_level = \"warning\"; };",
		    offsetof(struct config, log_level), LOG_LEVEL_WARNING },
		{ "server: { log_level = \"info\"; };",
		    offsetof(struct config, log_level), LOG_LEVEL_INFO },
		{ "server: { idle_timeout = 1; };",
		    offsetof(struct config, idle_timeout), 1 },
		{ "server: { max_line = 1; };",
		    offsetof(struct config, max_line), 1 },
		{ "server = { port = 99; };", offsetof(struct config, port),
		    99 },
	};
	struct config	 cfg;
	const char	*path;
	char		*err;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		config_defaults(&cfg);
		if (load_text(&cfg, cases[i].text, &path, &err) != 0)
			fail_msg("%s: %s", cases[i].text, err);
		if (*(int *)((char *)&cfg + cases[i].off) != cases[i].value)
			fail_msg("%s: got %d", cases[i].text,
			    *(int *)((char *)&cfg + cases[i].off));
		free(err);
		config_free(&cfg);
	}
}

static void
test_address_forms(void **state)
{
	struct config	 cfg;
	const char	*path;
	char		*err;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	    "server: { address = [ \"127.0.0.1\", \"::1\" ]; };\n",
	    &path, &err), 0);
	assert_int_equal(cfg.naddresses, 2);
	assert_string_equal(cfg.addresses[0], "127.0.0.1");
	assert_string_equal(cfg.addresses[1], "::1");
	free(err);

	assert_int_equal(load_text(&cfg,
	    "server: { address = ( \"::1\" ); };\n", &path, &err), 0);
	assert_int_equal(cfg.naddresses, 1);
	assert_string_equal(cfg.addresses[0], "::1");
	free(err);

	assert_int_equal(load_text(&cfg, "server: { address = \"*\"; };\n",
	    &path, &err), 0);
	assert_int_equal(cfg.naddresses, 1);
	assert_string_equal(cfg.addresses[0], "*");
	free(err);
	config_free(&cfg);
}

static void
test_separator_strings(void **state)
{
	struct config	 cfg;
	const char	*path;
	char		*err, text[256], sep[80];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, "server: { separator = \"\\t\"; };\n",
	    &path, &err), 0);
	assert_string_equal(cfg.separator, "\t");
	free(err);

	/* Adjacent strings are joined, as libconfig says. */
	assert_int_equal(load_text(&cfg,
	    "server: { separator = \"a\" \"b\"; };\n", &path, &err), 0);
	assert_string_equal(cfg.separator, "ab");
	free(err);

	/* PROTO_SEPARATOR_MAX bytes fit; one more does not. */
	memset(sep, 's', PROTO_SEPARATOR_MAX);
	sep[PROTO_SEPARATOR_MAX] = '\0';
	snprintf(text, sizeof text, "server: { separator = \"%s\"; };\n", sep);
	assert_int_equal(load_text(&cfg, text, &path, &err), 0);
	assert_string_equal(cfg.separator, sep);
	free(err);
	snprintf(text, sizeof text, "server:\n{\n  separator = \"%ss\";\n};\n",
	    sep);
	assert_int_equal(load_text(&cfg, text, &path, &err), -1);
	assert_string_equal(cfg.separator, sep);
	free(err);
	config_free(&cfg);
}

/* One bad setting: -1, the message names file, line and setting. */
static const struct {
	const char	*text;
	int		 line;
	const char	*setting;
	const char	*message;	/* or NULL: not checked */
} bad[] = {
	{ "server:\n{\n  prot = 1234;\n};\n", 3, "prot", "unknown setting" },
	{ "server:\n{\n  Port = 1;\n};\n", 3, "Port", "unknown setting" },
	{ "server:\n{\n  port = 1234.0;\n};\n", 3, "port",
	    "must be an integer" },
	{ "server:\n{\n  port = \"1234\";\n};\n", 3, "port",
	    "must be an integer" },
	{ "server:\n{\n  port = true;\n};\n", 3, "port", "must be an integer" },
	{ "server:\n{\n  port = [ 1 ];\n};\n", 3, "port", "must be an integer" },
	{ "server:\n{\n  port = 70000;\n};\n", 3, "port", "must be 0..65535" },
	{ "server:\n{\n  port = 65536;\n};\n", 3, "port", "must be 0..65535" },
	{ "server:\n{\n  port = -1;\n};\n", 3, "port", "must be 0..65535" },
	/* libconfig 1.5 wraps these to 1234, 0 and -1. */
	{ "server:\n{\n  port = 4294968530;\n};\n", 3, "port",
	    "must be 0..65535" },
	{ "server:\n{\n  port = 4294967296;\n};\n", 3, "port",
	    "must be 0..65535" },
	{ "server:\n{\n  port = 0xFFFFFFFF;\n};\n", 3, "port", NULL },
	{ "server:\n{\n  port = 4294968530L;\n};\n", 3, "port",
	    "must be 0..65535" },
	{ "\n\n\nserver:\n{\n  backlog = -1;\n};\n", 6, "backlog", NULL },
	{ "server:\n{\n  max_connections = -1;\n};\n", 3, "max_connections",
	    NULL },
	{ "server:\n{\n  max_line = -1;\n};\n", 3, "max_line", NULL },
	{ "server:\n{\n  max_line = 0;\n};\n", 3, "max_line", NULL },
	{ "server:\n{\n  max_line = 9999999999;\n};\n", 3, "max_line", NULL },
	{ "server:\n{\n  idle_timeout = -1;\n};\n", 3, "idle_timeout", NULL },
	{ "server:\n{\n  idle_timeout = 1.5;\n};\n", 3, "idle_timeout",
	    "must be an integer" },
	{ "server:\n{\n  separator = 5;\n};\n", 3, "separator", NULL },
	{ "server:\n{\n  framing = \"stream\";\n};\n", 3, "framing", NULL },
	{ "server:\n{\n  framing = 1;\n};\n", 3, "framing", NULL },
	{ "server:\n{\n  workers = -1;\n};\n", 3, "workers", NULL },
	{ "server:\n{\n  log_level = \"loud\";\n};\n", 3, "log_level", NULL },
	{ "server:\n{\n  log_level = \"INFO\";\n};\n", 3, "log_level", NULL },
	{ "server:\n{\n  log_level = 2;\n};\n", 3, "log_level", NULL },
	{ "server:\n{\n  pidfile = 5;\n};\n", 3, "pidfile", NULL },
	{ "server:\n{\n  address = 5;\n};\n", 3, "address", NULL },
	{ "server:\n{\n  address = [ 1, 2 ];\n};\n", 3, "address", NULL },
	{ "server:\n{\n  address = [ ];\n};\n", 3, "address", NULL },
	{ "server:\n{\n  sub = { port = 1; };\n};\n", 3, "sub", NULL },
	{ "# comment\nsrever:\n{\n  port = 1;\n};\n", 2, "srever",
	    "unknown setting" },
	{ "port = 1;\n", 1, "port", NULL },
	{ "server = 5;\n", 1, "server", NULL },
	{ "client:\n{\n  port = 70000;\n};\n", 3, "port", NULL },
	{ "client:\n{\n  connect_timeout = -1;\n};\n", 3, "connect_timeout",
	    NULL },
	{ "client:\n{\n  address = 1;\n};\n", 3, "address", NULL },
	{ "client:\n{\n  timeout = 5;\n};\n", 3, "timeout", "unknown setting" },
	{ "server:\n{\n  proxy_timeout = 0;\n};\n", 3, "proxy_timeout",
	    "must be 1..3600" },
	{ "server:\n{\n  proxy_timeout = 3601;\n};\n", 3, "proxy_timeout",
	    "must be 1..3600" },
	{ "server:\n{\n  proxy_timeout = 4294967299;\n};\n", 3,
	    "proxy_timeout", "must be 1..3600" },
	{ "server:\n{\n  proxy_timeout = \"3\";\n};\n", 3, "proxy_timeout",
	    "must be an integer" },
	{ "client:\n{\n  proxy_protocol = \"any\";\n};\n", 3,
	    "proxy_protocol", "must be \"none\", \"v1\" or \"v2\"" },
	{ "client:\n{\n  proxy_protocol = \"V1\";\n};\n", 3,
	    "proxy_protocol", "must be \"none\", \"v1\" or \"v2\"" },
	{ "client:\n{\n  proxy_protocol = 1;\n};\n", 3,
	    "proxy_protocol", "must be \"none\", \"v1\" or \"v2\"" },
	{ "/* a\n   b */\nserver:\n{\n  // c\n\n  port = 0;\n  max_line = -5;\n"
	    "};\n", 8, "max_line", NULL },
};

static void
test_bad_settings(void **state)
{
	struct config	 cfg, def;
	const char	*path;
	char		*err, want[PATH_MAX + 128];
	size_t		 i;

	(void)state;
	config_defaults(&def);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		config_defaults(&cfg);
		if (load_text(&cfg, bad[i].text, &path, &err) != -1)
			fail_msg("case %zu loaded: %s", i, bad[i].text);
		snprintf(want, sizeof want, "%s:%d: %s: %s", path, bad[i].line,
		    bad[i].setting, bad[i].message != NULL ?
		    bad[i].message : "");
		if (strstr(err, want) == NULL)
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, want,
			    err);
		/* A bad file changes nothing. */
		assert_config_equal(&cfg, &def);
		free(err);
		config_free(&cfg);
	}
	config_free(&def);
}

static void
test_syntax_errors(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
	} cases[] = {
		{ "server:\n{\n  port = ;\n};\n", 3 },
		{ "server:\n{\n  port = 0;\n  max_line = 10 10;\n};\n", 4 },
		{ "server:\n{\n  port = 0;\n};\nwhat = ;\n", 5 },
	};
	struct config	 cfg, def;
	const char	*path;
	char		*err, want[PATH_MAX + 32];
	size_t		 i;

	(void)state;
	config_defaults(&def);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		config_defaults(&cfg);
		assert_int_equal(load_text(&cfg, cases[i].text, &path, &err),
		    -1);
		snprintf(want, sizeof want, "%s:%d: ", path, cases[i].line);
		assert_contains(err, want);
		assert_config_equal(&cfg, &def);
		free(err);
		config_free(&cfg);
	}
	config_free(&def);
}

static void
test_all_errors_reported(void **state)
{
	struct config	 cfg, def;
	const char	*path;
	char		*err, want[PATH_MAX + 64];

	(void)state;
	config_defaults(&def);
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	    "server:\n"
	    "{\n"
	    "  port = 70000;\n"
	    "  max_line = \"big\";\n"
	    "  separator = \":\";\n"
	    "  frmaing = \"line\";\n"
	    "};\n"
	    "client:\n"
	    "{\n"
	    "  port = -3;\n"
	    "};\n", &path, &err), -1);
	snprintf(want, sizeof want, "%s:3: port: ", path);
	assert_contains(err, want);
	snprintf(want, sizeof want, "%s:4: max_line: ", path);
	assert_contains(err, want);
	snprintf(want, sizeof want, "%s:6: frmaing: ", path);
	assert_contains(err, want);
	snprintf(want, sizeof want, "%s:10: port: ", path);
	assert_contains(err, want);
	/* The good setting on line 5 is not applied either. */
	assert_config_equal(&cfg, &def);
	free(err);
	config_free(&cfg);
	config_free(&def);
}

static void
test_missing_file(void **state)
{
	struct config	cfg, def;
	char		path[PATH_MAX + 32], *err;

	(void)state;
	config_defaults(&def);
	config_defaults(&cfg);
	snprintf(path, sizeof path, "%s/no-such.conf", tmpdir);
	/* The default path may be absent: the defaults serve. */
	assert_int_equal(load_capture(&cfg, path, 1, &err), 0);
	assert_config_equal(&cfg, &def);
	free(err);
	/* A path the user gave must exist. */
	assert_int_equal(load_capture(&cfg, path, 0, &err), -1);
	assert_contains(err, path);
	assert_contains(err, "No such file or directory");
	assert_config_equal(&cfg, &def);
	free(err);
	config_free(&cfg);
	config_free(&def);
}

static void
test_directory(void **state)
{
	struct config	cfg, def;
	char		*err;

	(void)state;
	config_defaults(&def);
	config_defaults(&cfg);
	assert_int_equal(load_capture(&cfg, tmpdir, 0, &err), -1);
	assert_contains(err, tmpdir);
	assert_contains(err, "Is a directory");
	free(err);
	/* Optional or not, a directory is an error. */
	assert_int_equal(load_capture(&cfg, tmpdir, 1, &err), -1);
	assert_config_equal(&cfg, &def);
	free(err);
	config_free(&cfg);
	config_free(&def);
}

/*
 * Found by tests/fuzz/fuzz_config.c: numbers too big for libconfig 1.5,
 * which it wraps to a value in range, written where config.c's re-reading
 * of the literal misses them. Each must be refused, naming the setting.
 */
static void
test_wrapped_number_not_hidden(void **state)
{
	static const struct {
		const char	*text;
		const char	*setting;
	} cases[] = {
		/* The name and the value on two lines: port wraps to 1234. */
		{ "server:\n{\n  port\n    = 4294968530;\n};\n", "port" },
		/* Both groups on one line: client.port wraps to 1234. */
		{ "server = { port = 1234; }; client = { port = 4294968530; };\n",
		    "port" },
		/* "port = 1234" earlier on the line, in a string... */
		{ "server = { separator = \"port = 1234\"; "
		    "port = 4294968530; };\n", "port" },
		/* ... or in a comment; 0x1000004D2 wraps to 1234 too. */
		{ "server = { /* port = 1234 */ port = 0x1000004D2; };\n",
		    "port" },
		/* No space between a value and the next name: max_line is 1. */
		{ "server:\n{\n  idle_timeout = 1max_line = 4294967297;\n};\n",
		    "max_line" },
	};
	struct config	 cfg, def;
	const char	*path;
	char		*err, want[PATH_MAX + 64];
	size_t		 i;

	(void)state;
	config_defaults(&def);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		config_defaults(&cfg);
		if (load_text(&cfg, cases[i].text, &path, &err) != -1)
			fail_msg("case %zu loaded (port %d, client port %d, "
			    "max_line %d): %s", i, cfg.port, cfg.client_port,
			    cfg.max_line, cases[i].text);
		snprintf(want, sizeof want, "%s:", path);
		assert_contains(err, want);
		snprintf(want, sizeof want, ": %s: ", cases[i].setting);
		assert_contains(err, want);
		assert_config_equal(&cfg, &def);
		free(err);
		config_free(&cfg);
	}
	config_free(&def);
}

static void
test_empty_file(void **state)
{
	struct config	 cfg, def;
	const char	*path;
	char		*err;

	(void)state;
	config_defaults(&def);
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, "", &path, &err), 0);
	assert_config_equal(&cfg, &def);
	free(err);
	assert_int_equal(load_text(&cfg, "# only a comment\n\n", &path, &err),
	    0);
	assert_config_equal(&cfg, &def);
	free(err);
	config_free(&cfg);
	config_free(&def);
}

static void
test_load_over_load(void **state)
{
	struct config	 cfg, first;
	const char	*path;
	char		*err;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	    "server: { port = 1000; address = [ \"a\", \"b\" ]; "
	    "separator = \"-\"; };\n", &path, &err), 0);
	free(err);
	config_defaults(&first);
	assert_int_equal(load_capture(&first, path, 0, &err), 0);
	free(err);

	/* A bad second file leaves the first file's values. */
	assert_int_equal(load_text(&cfg,
	    "server: { port = 2000; max_line = -1; };\n", &path, &err), -1);
	assert_config_equal(&cfg, &first);
	free(err);

	/* A good one changes what it names, nothing else. */
	assert_int_equal(load_text(&cfg, "server: { port = 2000; };\n",
	    &path, &err), 0);
	assert_int_equal(cfg.port, 2000);
	assert_int_equal(cfg.naddresses, 2);
	assert_string_equal(cfg.separator, "-");
	free(err);
	config_free(&cfg);
	config_free(&first);
}

static void
test_parse_port(void **state)
{
	(void)state;
	assert_int_equal(config_parse_port("0"), 0);
	assert_int_equal(config_parse_port("1234"), 1234);
	assert_int_equal(config_parse_port("65535"), 65535);
	assert_int_equal(config_parse_port("65536"), -1);
	assert_int_equal(config_parse_port("-1"), -1);
	assert_int_equal(config_parse_port(""), -1);
	assert_int_equal(config_parse_port("12ab"), -1);
	assert_int_equal(config_parse_port("http"), -1);
	assert_int_equal(config_parse_port("4294968530"), -1);
	assert_int_equal(config_parse_port("99999999999999999999999"), -1);
}

static void
test_set_address(void **state)
{
	struct config	cfg;

	(void)state;
	config_defaults(&cfg);
	config_set_address(&cfg, "::1");
	assert_int_equal(cfg.naddresses, 1);
	assert_string_equal(cfg.addresses[0], "::1");
	config_add_address(&cfg, "127.0.0.1");
	assert_int_equal(cfg.naddresses, 2);
	assert_string_equal(cfg.addresses[1], "127.0.0.1");
	config_set_address(&cfg, "*");
	assert_int_equal(cfg.naddresses, 1);
	assert_string_equal(cfg.addresses[0], "*");
	config_free(&cfg);
}

/*
 * libconfig's own errors, said with the setting and the line where the
 * trouble began: it names no setting for a duplicate, and reports a string
 * or comment that never ends at the end of the file.
 */
static void
test_libconfig_errors_named(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;	/* after "PATH:" */
	} cases[] = {
		{ "server:\n{\n  port = 0;\n  port = 1;\n};\n",
		    "4: port: set twice (first on line 3)" },
		{ "server:\n{\n  port\n  = 0;\n  max_line = 5;\n  port\n"
		    "  = 1;\n};\n", "6: port: set twice (first on line 3)" },
		{ "server = { port = 0; };\nserver = { port = 0; };\n",
		    "2: server: set twice (first on line 1)" },
		/* The same name in two groups, then twice in one. */
		{ "server = { port = 0; };\nclient = { port = 1;\n"
		    "  address = \"::1\"; address = \"::1\"; };\n",
		    "3: address: set twice (first on line 3)" },
		/* ".3e" is the float .3 and the name e, as libconfig reads. */
		{ "server:\n{\n  o = .3e = 1;\n  e = 2;\n};\n",
		    "4: e: set twice (first on line 3)" },
		/* No = is needed: libconfig finds it twice on the name. */
		{ "server:\n{\n  port = 0;\n  port x = 1;\n};\n",
		    "4: port: set twice (first on line 3)" },
		/* "port" inside a string or a comment is no setting. */
		{ "server:\n{\n  separator = \"port = 1;\";\n"
		    "  /* port = 2; */\n  port = 0;\n  port = 3;\n};\n",
		    "6: port: set twice (first on line 5)" },
		{ "server:\n{\n  port = 0;\n  separator = \"x;\n  max_line = 5;"
		    "\n};\n", "4: separator: string never closed" },
		{ "server:\n{\n  address = [ \"::1\", \"127.0.0.1 ];\n};\n",
		    "3: address: string never closed" },
		{ "server:\n{\n  separator = \"a;\n  pidfile = \"b\";\n};\n",
		    "3: separator: string not closed on the line it begins" },
		{ "# a\nserver:\n{\n  /* port = 1;\n  port = 0;\n};\n",
		    "4: comment never closed" },
		/* An error before the open string is libconfig's to say. */
		{ "server:\n{\n  port = ;\n  separator = \"x;\n};\n",
		    "3: syntax error" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_refused(config_load, cases[i].text, cases[i].want, i);
}

/* A relative pidfile is taken from the directory of the file naming it. */
static void
test_pidfile_relative_to_file(void **state)
{
	struct config	 cfg;
	const char	*path;
	char		*err, want[PATH_MAX + 64], *big;
	size_t		 n;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, "server: { pidfile = \"run/s.pid\"; "
	    "};\n", &path, &err), 0);
	snprintf(want, sizeof want, "%s/run/s.pid", tmpdir);
	assert_string_equal(cfg.pidfile, want);
	free(err);
	assert_int_equal(load_text(&cfg, "server: { pidfile = \"/run/s.pid\"; "
	    "};\n", &path, &err), 0);
	assert_string_equal(cfg.pidfile, "/run/s.pid");
	free(err);
	assert_int_equal(load_text(&cfg, "server: { pidfile = \"\"; };\n",
	    &path, &err), 0);
	assert_string_equal(cfg.pidfile, "");
	free(err);

	/* PATH_MAX bytes are allowed, but not once the directory is added. */
	n = PATH_MAX - strlen(tmpdir);
	big = malloc(n + 64);
	assert_non_null(big);
	memcpy(big, "server: { pidfile = \"", 21);
	memset(big + 21, 'p', n);
	strcpy(big + 21 + n, "\"; };\n");
	assert_int_equal(load_text(&cfg, big, &path, &err), -1);
	snprintf(want, sizeof want, "%s:1: pidfile: must be at most %d bytes "
	    "long with the file's directory", path, PATH_MAX);
	assert_contains(err, want);
	assert_string_equal(cfg.pidfile, "");
	free(err);
	free(big);
	config_free(&cfg);
}

/*
 * The daemon's load also finds what binding would: addresses that do not
 * resolve or collide, each at its own line. Other programs' loads do not
 * look the server's addresses up.
 */
static void
test_load_server_addresses(void **state)
{
	static const struct server_case cases[] = {
		{ "server:\n{\n  address = \"\";\n};\n",
		    "3: address: must not be empty" },
		{ "server:\n{\n  address = \"999.1.1.1\";\n};\n",
		    "3: address: 999.1.1.1: not an IPv4 address" },
		{ "server:\n{\n  address = [ \"::1\",\n    \"127.0.0.1\",\n"
		    "    \"::1\" ];\n};\n",
		    "5: address: ::1: listed twice (the other on line 3)" },
		{ "server:\n{\n  address = [ \"127.0.0.2\", \"*\" ];\n};\n",
		    "3: address: *: overlaps 127.0.0.2" },
		{ "server:\n{\n  address = [ \"*\", \"::1\" ];\n};\n",
		    "3: address: ::1: overlaps *" },
		{ "server:\n{\n  port = 0;\n  address = [ \"127.0.0.1\", "
		    "\"127.0.0.1\" ];\n};\n",
		    "4: address: 127.0.0.1: listed twice" },
		{ "server:\n{\n  address = [ \"127.0.0.1\", \"127.0.0.2\", "
		    "\"::1\" ];\n};\n", NULL },
		{ "server:\n{\n  address = \"*\";\n};\n", NULL },
		{ "server:\n{\n  address = \"127.1\";\n};\n", NULL },
	};

	(void)state;
	assert_server_cases(cases, sizeof cases / sizeof cases[0]);
}

/* The example of design.md (tls aside), every setting of a group read. */
static void
test_listen_groups(void **state)
{
	struct config		 cfg;
	struct listen_conf	*l;
	const char		*path;
	char			*err;
	uint8_t			 want[16];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg,
	    "server:\n"
	    "{\n"
	    "  listen = (\n"
	    "    { address = \"127.0.0.1\"; port = 1234; },\n"
	    "    { address = \"*\"; port = 1235; proxy_protocol = \"v2\";\n"
	    "      proxy_trusted = [ \"127.0.0.1\", \"::1\", \"10.9.8.7/8\" ]; },\n"
	    "    { address = [ \"127.0.0.1\", \"::1\" ]; port = 1236;\n"
	    "      tls = false; },\n"
	    "    { proxy_protocol = \"any\"; proxy_trusted = \"fd00::/8\";\n"
	    "      address = \"::1\"; },\n"
	    "    { proxy_protocol = \"v1\"; proxy_trusted = [ \"::1\" ];\n"
	    "      port = 0; },\n"
	    "    { proxy_protocol = \"none\"; proxy_trusted = [ ]; port = 1; }\n"
	    "  );\n"
	    "};\n", &path, &err), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.nlistens, 6);
	l = cfg.listens;
	assert_int_equal(l[0].naddresses, 1);
	assert_string_equal(l[0].addresses[0], "127.0.0.1");
	assert_int_equal(l[0].port, 1234);
	assert_int_equal(l[0].proxy, PROXY_NONE);
	assert_int_equal(l[0].ntrusted, 0);
	assert_int_equal(l[0].tls, 0);
	assert_int_equal(l[0].line, 4);

	assert_string_equal(l[1].addresses[0], "*");
	assert_int_equal(l[1].port, 1235);
	assert_int_equal(l[1].proxy, PROXY_V2);
	assert_int_equal(l[1].ntrusted, 3);
	assert_int_equal(l[1].trusted[0].family, AF_INET);
	assert_int_equal(l[1].trusted[0].bits, 32);
	assert_int_equal(l[1].trusted[1].family, AF_INET6);
	assert_int_equal(l[1].trusted[1].bits, 128);
	assert_int_equal(l[1].trusted[2].bits, 8);
	memset(want, 0, sizeof want);
	inet_pton(AF_INET, "10.0.0.0", want);
	assert_memory_equal(l[1].trusted[2].addr, want, sizeof want);
	assert_int_equal(l[1].line, 5);

	assert_int_equal(l[2].naddresses, 2);
	assert_string_equal(l[2].addresses[1], "::1");
	assert_int_equal(l[2].port, 1236);
	assert_int_equal(l[2].line, 7);

	/* The default port, 1234, on another address. */
	assert_int_equal(l[3].naddresses, 1);
	assert_string_equal(l[3].addresses[0], "::1");
	assert_int_equal(l[3].port, 1234);
	assert_int_equal(l[3].proxy, PROXY_ANY);
	assert_int_equal(l[3].ntrusted, 1);
	assert_int_equal(l[3].trusted[0].family, AF_INET6);
	/* The default address. */
	assert_int_equal(l[4].naddresses, 1);
	assert_string_equal(l[4].addresses[0], "127.0.0.1");
	assert_int_equal(l[4].proxy, PROXY_V1);
	assert_int_equal(l[4].port, 0);
	assert_int_equal(l[5].proxy, PROXY_NONE);
	assert_int_equal(l[5].ntrusted, 0);
	assert_int_equal(l[5].line, 13);
	free(err);

	/* The daemon's load finds nothing wrong with them either. */
	config_free(&cfg);
	config_defaults(&cfg);
	assert_int_equal(load_capture_with(config_load_server, &cfg, path, 0,
	    &err), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.nlistens, 6);
	free(err);
	config_free(&cfg);
}

/* listen = (); is as if it were not there. */
static void
test_listen_empty(void **state)
{
	static const char *const texts[] = {
		"server:\n{\n  listen = ();\n};\n",
		"server:\n{\n  listen = [];\n};\n",
		"server:\n{\n  listen = ( );\n  port = 99;\n};\n",
	};
	struct config	 cfg;
	const char	*path;
	char		*err;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		config_defaults(&cfg);
		if (load_text(&cfg, texts[i], &path, &err) != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(cfg.nlistens, 0);
		assert_null(cfg.listens);
		free(err);
		config_free(&cfg);
	}
}

/* Each error of a group, with its line and setting; nothing changes. */
static void
test_listen_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "server:\n{\n  listen = 5;\n};\n", "3: listen: must be a "
		    "list of groups: ( { port = 1234; }, ... )" },
		{ "server:\n{\n  listen = [ 1, 2 ];\n};\n", "3: listen: must "
		    "be a list of groups: ( { port = 1234; }, ... )" },
		{ "server:\n{\n  listen = ( { port = 1; },\n    7 );\n};\n",
		    "4: listen: must be a list of groups: ( { port = 1234; }, "
		    "... )" },
		{ "server:\n{\n  listen = {\n    port = 1;\n  };\n};\n",
		    "3: listen: must be a list of groups: ( { port = 1234; }, "
		    "... )" },
		{ "server:\n{\n  listen = (\n    { prot = 1; }\n  );\n};\n",
		    "4: prot: unknown setting" },
		{ "server:\n{\n  listen = (\n    { port = 70000; }\n  );\n};\n",
		    "4: port: must be 0..65535" },
		{ "server:\n{\n  listen = (\n    { port = -1; }\n  );\n};\n",
		    "4: port: must be 0..65535" },
		{ "server:\n{\n  listen = (\n    {\n      port =\n"
		    "        4294968530; }\n  );\n};\n",
		    "5: port: must be 0..65535" },
		{ "server:\n{\n  listen = (\n    { port = \"1\"; }\n  );\n};\n",
		    "4: port: must be an integer" },
		{ "server:\n{\n  listen = (\n    { address = 1; }\n  );\n};\n",
		    "4: address: must be a string or a list of strings" },
		{ "server:\n{\n  listen = (\n    { address = [ ]; }\n  );\n};\n",
		    "4: address: must name at least one address" },
		{ "server:\n{\n  listen = (\n    { proxy_protocol = \"v3\"; }\n"
		    "  );\n};\n", "4: proxy_protocol: must be \"none\", \"v1\", "
		    "\"v2\" or \"any\"" },
		{ "server:\n{\n  listen = (\n    { proxy_protocol = 2; }\n"
		    "  );\n};\n", "4: proxy_protocol: must be \"none\", \"v1\", "
		    "\"v2\" or \"any\"" },
		{ "server:\n{\n  listen = (\n    {\n      proxy_protocol = "
		    "\"v2\"; }\n  );\n};\n", "5: proxy_trusted: must list the "
		    "addresses allowed to send a PROXY header when "
		    "proxy_protocol is \"v2\"" },
		{ "server:\n{\n  listen = (\n    { proxy_protocol = \"any\";\n"
		    "      proxy_trusted = [];\n    }\n  );\n};\n",
		    "5: proxy_trusted: must list the addresses allowed to send a "
		    "PROXY header when proxy_protocol is \"any\"" },
		{ "server:\n{\n  listen = (\n    { proxy_protocol = \"v1\";\n"
		    "      proxy_trusted = [ \"::1\",\n        \"10.0.0.0/33\" ];"
		    " }\n  );\n};\n",
		    "6: proxy_trusted: 10.0.0.0/33: prefix length must be 0..32" },
		{ "server:\n{\n  listen = (\n    { proxy_protocol = \"v1\";\n"
		    "      proxy_trusted = \"localhost\"; }\n  );\n};\n",
		    "5: proxy_trusted: localhost: not an address or prefix" },
		{ "server:\n{\n  listen = (\n    { proxy_protocol = \"v1\";\n"
		    "      proxy_trusted = [ 1 ]; }\n  );\n};\n",
		    "5: proxy_trusted: must be a string or a list of strings" },
		{ "server:\n{\n  listen = (\n    { tls = 1; }\n  );\n};\n",
		    "4: tls: must be true or false" },
		/* Messages are one line, and each names its string. */
		{ "server:\n{\n  listen = (\n    { proxy_protocol = \"v1\";\n"
		    "      proxy_trusted = [ \"::1\", \"::1\n\" ]; }\n  );\n};\n",
		    "5: proxy_trusted: must not contain a newline" },
		{ "server:\n{\n  listen = (\n    { address = \"a\nb\"; }\n"
		    "  );\n};\n", "4: address: must not contain a newline" },
		{ "server:\n{\n  address = [ \"::1\",\n    \"\n\" ];\n};\n",
		    "3: address: must not contain a newline" },
		/* A bad group does not hide the setting after the list. */
		{ "server:\n{\n  listen = (\n    { tls = 1; }\n  );\n"
		    "  max_line = 0;\n};\n", "6: max_line: must be 1..1048576" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_refused(config_load, cases[i].text, cases[i].want, i);
		assert_refused(config_load_server, cases[i].text,
		    cases[i].want, i);
	}
}

/* What the daemon's load finds of the listeners' addresses. */
static void
test_listen_addresses_checked(void **state)
{
	static const struct server_case cases[] = {
		{ "server:\n{\n  listen = (\n    { address = \"999.1.1.1\"; }\n"
		    "  );\n};\n", "4: address: 999.1.1.1: not an IPv4 address" },
		{ "server:\n{\n  listen = (\n    { address = [ \"::1\",\n"
		    "      \"::1\" ]; }\n  );\n};\n",
		    "5: address: ::1: listed twice (the other on line 4)" },
		{ "server:\n{\n  listen = (\n    { port = 1235; },\n"
		    "    { address = \"*\";\n      port = 1235; }\n  );\n};\n",
		    "5: address: *: overlaps 127.0.0.1 on port 1235 (the other "
		    "on line 4)" },
		/* The default address and port, twice. */
		{ "server:\n{\n  listen = (\n    { },\n    { }\n  );\n};\n",
		    "5: address: 127.0.0.1: port 1234 listened on twice (the "
		    "other on line 4)" },
		{ "server:\n{\n  listen = (\n    { address = \"::1\"; },\n"
		    "    { address = [ \"127.0.0.1\",\n      \"::1\" ]; }\n"
		    "  );\n};\n", "6: address: ::1: port 1234 listened on twice "
		    "(the other on line 4)" },
		{ "server:\n{\n  listen = (\n    { port = 0; },\n"
		    "    { port = 0; }\n  );\n};\n", NULL },
		{ "server:\n{\n  listen = (\n    { port = 1; },\n"
		    "    { port = 2; address = [ \"127.0.0.1\", \"::1\" ]; },\n"
		    "    { port = 1; address = \"::1\"; }\n  );\n};\n", NULL },
		/* Not bound with listen given, so not checked. */
		{ "server:\n{\n  address = [ \"::1\", \"::1\" ];\n"
		    "  listen = ( { } );\n};\n", NULL },
	};

	(void)state;
	assert_server_cases(cases, sizeof cases / sizeof cases[0]);
}

/* Without server.listen, address and port are the one plain listener. */
static void
test_effective_listener(void **state)
{
	struct config	 cfg, copy;
	const char	*path;
	char		*err;

	(void)state;
	config_defaults(&cfg);
	config_set_address(&cfg, "::1");
	config_add_address(&cfg, "127.0.0.2");
	cfg.port = 4444;
	config_effective_listeners(&cfg);
	assert_int_equal(cfg.nlistens, 1);
	assert_int_equal(cfg.listens[0].naddresses, 2);
	assert_string_equal(cfg.listens[0].addresses[0], "::1");
	assert_string_equal(cfg.listens[0].addresses[1], "127.0.0.2");
	/* Its own copy: the server's addresses may go. */
	assert_true(cfg.listens[0].addresses != cfg.addresses);
	assert_true(cfg.listens[0].addresses[0] != cfg.addresses[0]);
	assert_int_equal(cfg.listens[0].port, 4444);
	assert_int_equal(cfg.listens[0].proxy, PROXY_NONE);
	assert_int_equal(cfg.listens[0].ntrusted, 0);
	assert_int_equal(cfg.listens[0].tls, 0);
	assert_int_equal(cfg.listens[0].line, 0);
	/* Twice is once. */
	config_effective_listeners(&cfg);
	assert_int_equal(cfg.nlistens, 1);
	config_free(&cfg);

	/* With the list given, the list stays as it is. */
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, "server:\n{\n  port = 5;\n"
	    "  listen = (\n    { port = 6; },\n    { port = 7; }\n  );\n};\n",
	    &path, &err), 0);
	free(err);
	config_defaults(&copy);
	assert_int_equal(load_capture(&copy, path, 0, &err), 0);
	free(err);
	config_effective_listeners(&cfg);
	assert_config_equal(&cfg, &copy);
	assert_int_equal(cfg.listens[1].port, 7);
	config_free(&cfg);
	config_free(&copy);
}

/* A failed load keeps the listeners; a good one without listen too. */
static void
test_listen_load_over_load(void **state)
{
	struct config	 cfg, first;
	const char	*path;
	char		*err;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(load_text(&cfg, "server: { listen = ( { port = 8; "
	    "proxy_protocol = \"v1\"; proxy_trusted = \"::1\"; } ); };\n",
	    &path, &err), 0);
	free(err);
	config_defaults(&first);
	assert_int_equal(load_capture(&first, path, 0, &err), 0);
	free(err);
	assert_int_equal(load_text(&cfg, "server: { listen = ( { port = 9; },"
	    " { port = -1; } ); };\n", &path, &err), -1);
	free(err);
	assert_config_equal(&cfg, &first);
	assert_int_equal(load_text(&cfg, "server: { port = 2; };\n", &path,
	    &err), 0);
	free(err);
	assert_int_equal(cfg.nlistens, 1);
	assert_int_equal(cfg.listens[0].port, 8);
	assert_int_equal(cfg.listens[0].trusted[0].family, AF_INET6);
	/* And listen = (); clears them. */
	assert_int_equal(load_text(&cfg, "server: { listen = (); };\n", &path,
	    &err), 0);
	free(err);
	assert_int_equal(cfg.nlistens, 0);
	config_free(&cfg);
	config_free(&first);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_setting),
		cmocka_unit_test(test_partial_file_keeps_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_address_forms),
		cmocka_unit_test(test_separator_strings),
		cmocka_unit_test(test_bad_settings),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_load_over_load),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_set_address),
		cmocka_unit_test(test_libconfig_errors_named),
		cmocka_unit_test(test_pidfile_relative_to_file),
		cmocka_unit_test(test_load_server_addresses),
		cmocka_unit_test(test_wrapped_number_not_hidden),
		cmocka_unit_test(test_listen_groups),
		cmocka_unit_test(test_listen_empty),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_listen_addresses_checked),
		cmocka_unit_test(test_effective_listener),
		cmocka_unit_test(test_listen_load_over_load),
	};

	return (cmocka_run_group_tests_name("config", tests, setup, teardown));
}
