/*
 * test_bench_source.c - unit tests for seqecho-bench's -b list
 * (src/bench-source.c): single addresses, ranges, both families, errors.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bench-source.h"

/* Address i of l as text. */
static const char *
at(const struct sources *l, size_t i, char *buf, size_t len)
{
	const struct sockaddr_storage	*ss = &l->addr[i];

	if (ss->ss_family == AF_INET)
		return (inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->
		    sin_addr, buf, (socklen_t)len));
	return (inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->
	    sin6_addr, buf, (socklen_t)len));
}

/* A list of addresses and ranges, counted out in order. */
static void
test_ranges(void **state)
{
	struct sources	l;
	char		err[128], buf[64];

	(void)state;
	assert_int_equal(sources_parse(&l, "127.0.0.1-127.0.0.32", err,
	    sizeof err), 0);
	assert_int_equal(l.count, 32);
	assert_string_equal(at(&l, 0, buf, sizeof buf), "127.0.0.1");
	assert_string_equal(at(&l, 31, buf, sizeof buf), "127.0.0.32");
	sources_free(&l);
	assert_int_equal(sources_parse(&l, "127.0.1.255-127.0.2.1,10.0.0.9",
	    err, sizeof err), 0);
	assert_int_equal(l.count, 4);
	assert_string_equal(at(&l, 1, buf, sizeof buf), "127.0.2.0");
	assert_string_equal(at(&l, 3, buf, sizeof buf), "10.0.0.9");
	sources_free(&l);
	assert_int_equal(sources_parse(&l, "::1", err, sizeof err), 0);
	assert_int_equal(l.count, 1);
	sources_free(&l);
	assert_int_equal(sources_parse(&l, "fd00::fffe-fd00::1:1", err,
	    sizeof err), 0);
	assert_int_equal(l.count, 4);
	assert_string_equal(at(&l, 2, buf, sizeof buf), "fd00::1:0");
	sources_free(&l);
}

/* What is refused, with the reason, and the list left empty. */
static void
test_errors(void **state)
{
	static const char *const bad[] = { "", ",", "127.0.0.1,",
	    "127.0.0.2-127.0.0.1", "127.0.0.1-::1", "127.0.0.1,::1",
	    "host.example", "127.0.0.1-", "-127.0.0.1", "fd00::1-fd01::1",
	    "10.0.0.0-10.1.0.0", "127.0.0.1--127.0.0.2" };
	struct sources	l;
	char		err[128];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(sources_parse(&l, bad[i], err, sizeof err),
		    -1);
		assert_null(l.addr);
		assert_int_equal(l.count, 0);
		assert_true(err[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
