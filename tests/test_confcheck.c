/*
 * test_confcheck.c - unit tests for src/confcheck.c: paths taken from a
 * file's directory, addresses that collide, the check of a list of server
 * addresses and of every listener's (numeric ones only: nothing here is
 * looked up); and proxy_trusted's prefixes.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "seqecho.h"

/* What config_check_addresses reported, one line per problem. */
struct reports {
	char	text[4096];
};

static void
test_path_relative(void **state)
{
	static const struct {
		const char	*file;
		const char	*path;
		const char	*want;
	} cases[] = {
		{ "/etc/seqecho.conf", "run/s.pid", "/etc/run/s.pid" },
		{ "/etc/seqecho.conf", "/run/s.pid", "/run/s.pid" },
		{ "/etc/seqecho.conf", "", "" },
		{ "/seqecho.conf", "s.pid", "/s.pid" },
		{ "/a/b/c.conf", "../s.pid", "/a/b/../s.pid" },
		{ "/a/b/c.conf", "./s.pid", "/a/b/./s.pid" },
		/* A relative file: relative to where it is, still. */
		{ "conf/c.conf", "s.pid", "conf/s.pid" },
		{ "c.conf", "s.pid", "s.pid" },
		{ "/proc/self/fd/3", "x", "/proc/self/fd/x" },
	};
	char	*got;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = config_path_relative(cases[i].file, cases[i].path);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s, %s: got \"%s\", want \"%s\"",
			    cases[i].file, cases[i].path, got, cases[i].want);
		free(got);
	}
}

static void
test_path_absolute(void **state)
{
	char	cwd[PATH_MAX], want[PATH_MAX + 16], *got;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	got = config_path_absolute("/etc/seqecho.conf");
	assert_string_equal(got, "/etc/seqecho.conf");
	free(got);
	got = config_path_absolute("x/s.conf");
	snprintf(want, sizeof want, "%s/x/s.conf", cwd);
	assert_string_equal(got, want);
	free(got);

	/* From /, no doubled slash. */
	assert_int_equal(chdir("/"), 0);
	got = config_path_absolute("s.conf");
	assert_string_equal(got, "/s.conf");
	free(got);
	assert_int_equal(chdir(cwd), 0);
}

/* A sockaddr from a numeric address. */
static struct sockaddr_storage
sa(const char *address, unsigned scope)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, address,
		    &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_scope_id = scope;
	}
	return (ss);
}

static void
test_addr_overlap(void **state)
{
	static const struct {
		const char	*a;
		unsigned	 ascope;
		const char	*b;
		unsigned	 bscope;
		int		 overlap;
	} cases[] = {
		{ "127.0.0.1", 0, "127.0.0.1", 0, 1 },
		{ "127.0.0.1", 0, "127.0.0.2", 0, 0 },
		{ "0.0.0.0", 0, "127.0.0.1", 0, 1 },
		{ "127.0.0.1", 0, "0.0.0.0", 0, 1 },
		{ "0.0.0.0", 0, "0.0.0.0", 0, 1 },
		{ "::1", 0, "::1", 0, 1 },
		{ "::1", 0, "::2", 0, 0 },
		{ "::", 0, "::1", 0, 1 },
		/* The IPv6 wildcard is bound IPv6-only. */
		{ "::", 0, "127.0.0.1", 0, 0 },
		{ "0.0.0.0", 0, "::1", 0, 0 },
		{ "::", 0, "0.0.0.0", 0, 0 },
		{ "fe80::1", 1, "fe80::1", 1, 1 },
		{ "fe80::1", 1, "fe80::1", 2, 0 },
	};
	struct sockaddr_storage	a, b;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = sa(cases[i].a, cases[i].ascope);
		b = sa(cases[i].b, cases[i].bscope);
		if (config_addr_overlap((struct sockaddr *)&a,
		    (struct sockaddr *)&b) != cases[i].overlap)
			fail_msg("%s and %s: want %d", cases[i].a, cases[i].b,
			    cases[i].overlap);
	}
}

static void
report(void *arg, size_t i, long other, const char *why)
{
	struct reports	*r = arg;
	size_t		 len = strlen(r->text);

	snprintf(r->text + len, sizeof r->text - len, "%zu %ld %s\n", i, other,
	    why);
}

static void
test_check_addresses(void **state)
{
	static const struct {
		const char	*addresses[4];
		const char	*want;
	} cases[] = {
		{ { "127.0.0.1", "::1" }, "" },
		{ { "127.0.0.1", "127.0.0.1" },
		    "1 0 127.0.0.1: listed twice\n" },
		{ { "*", "127.0.0.1", "::1" },
		    "1 0 127.0.0.1: overlaps *\n2 0 ::1: overlaps *\n" },
		{ { "::1", "*" }, "1 0 *: overlaps ::1\n" },
		{ { "", "999.1.1.1", "1.2.3.4.5", "::1::" },
		    "0 -1 must not be empty\n"
		    "1 -1 999.1.1.1: not an IPv4 address\n"
		    "2 -1 1.2.3.4.5: not an IPv4 address\n"
		    "3 -1 ::1::: not an IPv6 address\n" },
		/* A bad one does not hide a collision after it. */
		{ { "::1", "", "::1" }, "1 -1 must not be empty\n"
		    "2 0 ::1: listed twice\n" },
		/* inet_aton's forms, as binding takes them. */
		{ { "127.1", "127.0.0.1" }, "1 0 127.0.0.1: overlaps 127.1\n" },
	};
	struct reports	r;
	size_t		i, n;
	int		rc, lines;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (n = 0; n < 4 && cases[i].addresses[n] != NULL; n++)
			;
		r.text[0] = '\0';
		rc = config_check_addresses((char *const *)cases[i].addresses,
		    n, report, &r);
		if (strcmp(r.text, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, r.text,
			    cases[i].want);
		for (lines = 0, n = 0; r.text[n] != '\0'; n++)
			lines += r.text[n] == '\n';
		assert_int_equal(rc, lines);
	}
}

static void
test_parse_prefix(void **state)
{
	static const struct {
		const char	*s;
		int		 family;	/* 0: refused */
		const char	*addr;		/* after masking; or why */
		int		 bits;
	} cases[] = {
		{ "127.0.0.1", AF_INET, "127.0.0.1", 32 },
		{ "127.0.0.0/8", AF_INET, "127.0.0.0", 8 },
		{ "10.1.2.3/8", AF_INET, "10.0.0.0", 8 },
		{ "192.168.1.255/23", AF_INET, "192.168.0.0", 23 },
		{ "0.0.0.0/0", AF_INET, "0.0.0.0", 0 },
		{ "1.2.3.4/32", AF_INET, "1.2.3.4", 32 },
		{ "::1", AF_INET6, "::1", 128 },
		{ "fd00::1/8", AF_INET6, "fd00::", 8 },
		{ "2001:db8::ffff/127", AF_INET6, "2001:db8::fffe", 127 },
		{ "::/0", AF_INET6, "::", 0 },
		{ "", 0, "must not be empty", 0 },
		{ "10.0.0.0/33", 0, "10.0.0.0/33: prefix length must be 0..32",
		    0 },
		{ "::1/129", 0, "::1/129: prefix length must be 0..128", 0 },
		{ "10.0.0.0/", 0, "10.0.0.0/: prefix length must be 0..32", 0 },
		{ "10.0.0.0/-1", 0, "10.0.0.0/-1: prefix length must be 0..32",
		    0 },
		{ "10.0.0.0/8x", 0, "10.0.0.0/8x: prefix length must be 0..32",
		    0 },
		{ "10.0.0.0/ 8", 0, "10.0.0.0/ 8: prefix length must be 0..32",
		    0 },
		{ "localhost", 0, "localhost: not an address or prefix", 0 },
		{ "127.1", 0, "127.1: not an address or prefix", 0 },
		{ "999.0.0.0/8", 0, "999.0.0.0/8: not an address or prefix", 0 },
		{ "/8", 0, "/8: not an address or prefix", 0 },
		{ "*", 0, "*: not an address or prefix", 0 },
	};
	struct addr_prefix	p;
	uint8_t			want[16];
	char			why[512];
	size_t			i;
	int			rc;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		why[0] = '\0';
		rc = config_parse_prefix(cases[i].s, &p, why, sizeof why);
		if (cases[i].family == 0) {
			if (rc != -1 || strcmp(why, cases[i].addr) != 0)
				fail_msg("%s: rc %d, why \"%s\"", cases[i].s,
				    rc, why);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: refused: %s", cases[i].s, why);
		memset(want, 0, sizeof want);
		assert_int_equal(inet_pton(cases[i].family, cases[i].addr,
		    want), 1);
		assert_int_equal(p.family, cases[i].family);
		assert_int_equal(p.bits, cases[i].bits);
		if (memcmp(p.addr, want, sizeof want) != 0)
			fail_msg("%s: not masked to %s", cases[i].s,
			    cases[i].addr);
	}
}

static void
listen_report(void *arg, const struct listen_problem *p)
{
	struct reports	*r = arg;
	size_t		 len = strlen(r->text);

	snprintf(r->text + len, sizeof r->text - len, "%zu.%zu %ld.%ld %s\n",
	    p->group, p->address, p->other_group, p->other_address, p->why);
}

static void
test_check_listeners(void **state)
{
	static const struct {
		struct {
			const char	*addresses[3];
			int		 port;
		}		 groups[3];
		const char	*want;
	} cases[] = {
		/* The design's example: good. */
		{ { { { "127.0.0.1" }, 1234 }, { { "*" }, 1235 },
		    { { "127.0.0.1", "::1" }, 1236 } }, "" },
		/* Same address, other ports; port 0 twice: good. */
		{ { { { "127.0.0.1" }, 1234 }, { { "127.0.0.1" }, 1235 },
		    { { "127.0.0.1", "::1" }, 0 } }, "" },
		{ { { { "127.0.0.1" }, 0 }, { { "127.0.0.1" }, 0 } }, "" },
		{ { { { "127.0.0.1" }, 1234 }, { { "127.0.0.1" }, 1234 } },
		    "1.0 0.0 127.0.0.1: port 1234 listened on twice\n" },
		{ { { { "127.0.0.1" }, 1234 }, { { "*" }, 1234 } },
		    "1.0 0.0 *: overlaps 127.0.0.1 on port 1234\n" },
		/* "*" is IPv4 and IPv6: said once, for the first. */
		{ { { { "127.0.0.2", "::1" }, 1234 }, { { "*" }, 1234 } },
		    "1.0 0.0 *: overlaps 127.0.0.2 on port 1234\n" },
		{ { { { "::1" }, 7 }, { { "127.0.0.1" }, 7 },
		    { { "127.0.0.2", "::1" }, 7 } },
		    "2.1 0.0 ::1: port 7 listened on twice\n" },
		/*
		 * Within a group as config_check_addresses, then across:
		 * each address said once.
		 */
		{ { { { "127.0.0.1" }, 9 }, { { "127.0.0.1", "127.0.0.1" },
		    9 } }, "1.1 1.0 127.0.0.1: listed twice\n"
		    "1.0 0.0 127.0.0.1: port 9 listened on twice\n" },
		{ { { { "999.1.1.1" }, 9 }, { { "::1", "" }, 9 } },
		    "0.0 -1.-1 999.1.1.1: not an IPv4 address\n"
		    "1.1 -1.-1 must not be empty\n" },
	};
	struct listen_conf	l[3];
	struct reports		r;
	size_t			i, g, n;
	int			rc, lines;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(l, 0, sizeof l);
		for (g = 0; g < 3 && cases[i].groups[g].addresses[0] != NULL;
		    g++) {
			for (n = 0; n < 3 &&
			    cases[i].groups[g].addresses[n] != NULL; n++)
				;
			l[g].addresses = (char **)cases[i].groups[g].addresses;
			l[g].naddresses = n;
			l[g].port = cases[i].groups[g].port;
		}
		r.text[0] = '\0';
		rc = config_check_listeners(l, g, listen_report, &r);
		if (strcmp(r.text, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    r.text, cases[i].want);
		for (lines = 0, n = 0; r.text[n] != '\0'; n++)
			lines += r.text[n] == '\n';
		assert_int_equal(rc, lines);
	}
}

/* The http setting: ADDRESS:PORT, [IPv6]:PORT, port 0 allowed. */
static void
test_parse_hostport(void **state)
{
	static const struct {
		const char	*in;
		const char	*host;	/* NULL: an error */
		int		 port;
		const char	*why;
	} cases[] = {
		{ "127.0.0.1:9234", "127.0.0.1", 9234, NULL },
		{ "127.0.0.1:0", "127.0.0.1", 0, NULL },
		{ "localhost:65535", "localhost", 65535, NULL },
		{ "*:80", "*", 80, NULL },
		{ "[::1]:9234", "::1", 9234, NULL },
		{ "[::]:0", "::", 0, NULL },
		{ "[fe80::1%lo]:1", NULL, 0, "fe80::1%lo: not an IPv6 address" },
		{ "[::1]", NULL, 0, "[::1]: must be [ADDRESS]:PORT" },
		{ "[::1:80", NULL, 0, "[::1:80: must be [ADDRESS]:PORT" },
		{ "[]:80", NULL, 0, "[]:80: must be ADDRESS:PORT" },
		{ "[1.2.3.4]:80", NULL, 0, "1.2.3.4: not an IPv6 address" },
		{ "::1:9234", NULL, 0, "::1:9234: an IPv6 address goes in "
		    "brackets, as [::1]:9234" },
		{ "127.0.0.1", NULL, 0, "127.0.0.1: must be ADDRESS:PORT" },
		{ ":9234", NULL, 0, ":9234: must be ADDRESS:PORT" },
		{ "127.0.0.1:", NULL, 0, "port : must be 0..65535" },
		{ "127.0.0.1:65536", NULL, 0, "port 65536: must be 0..65535" },
		{ "127.0.0.1:-1", NULL, 0, "port -1: must be 0..65535" },
		{ "127.0.0.1:+80", NULL, 0, "port +80: must be 0..65535" },
		{ "127.0.0.1: 80", NULL, 0, "port  80: must be 0..65535" },
		{ "127.0.0.1:80x", NULL, 0, "port 80x: must be 0..65535" },
		{ "127.0.0.1:000080", NULL, 0, "port 000080: must be 0..65535" },
		{ "127.0.0.1:4294967376", NULL, 0,
		    "port 42949673...: must be 0..65535" },
	};
	char	host[64], why[512];
	size_t	i;
	int	port, rc;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		port = -7;
		why[0] = '\0';
		rc = config_parse_hostport(cases[i].in, host, sizeof host,
		    &port, why, sizeof why);
		if (cases[i].host != NULL) {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].in, why);
			assert_string_equal(host, cases[i].host);
			assert_int_equal(port, cases[i].port);
		} else {
			if (rc != -1)
				fail_msg("%s: accepted", cases[i].in);
			assert_string_equal(why, cases[i].why);
			assert_int_equal(port, -7);
		}
	}
	/* A host too long for the buffer is an error, not a truncation. */
	assert_int_equal(config_parse_hostport("abcdefgh:1", host, 8, &port,
	    why, sizeof why), -1);
	assert_int_equal(config_parse_hostport("abcdefg:1", host, 8, &port,
	    why, sizeof why), 0);
	assert_string_equal(host, "abcdefg");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_relative),
		cmocka_unit_test(test_path_absolute),
		cmocka_unit_test(test_addr_overlap),
		cmocka_unit_test(test_check_addresses),
		cmocka_unit_test(test_parse_prefix),
		cmocka_unit_test(test_check_listeners),
		cmocka_unit_test(test_parse_hostport),
	};

	return (cmocka_run_group_tests_name("confcheck", tests, NULL, NULL));
}
