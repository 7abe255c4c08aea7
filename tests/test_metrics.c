/*
 * test_metrics.c - unit tests for src/metrics.c: the Prometheus text of
 * /metrics (names, types, cumulative buckets, escaped labels, the metrics
 * left out) and the JSON of /status.json (escaping, nulls, the states).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "http.h"
#include "proxy.h"

static const char *const reasons[REASON_COUNT] = {
	"bye", "eof", "timeout", "too-long", "full", "reset", "error",
	"shutdown", "proxy", "tls"
};

/* A snapshot with a distinct value in each field. */
static void
snapshot(struct metrics_snapshot *m)
{
	int	i;

	memset(m, 0, sizeof *m);
	m->version = "0.1.0";
	snprintf(m->name, sizeof m->name, "host \"a\"\\b\nc");
	m->start_time = 1700000000.25;
	m->now = 1700000010.5;
	m->conns_open = 3;
	m->conns_max = 10000;
	m->accepted = 12;
	m->rejected = 2;
	for (i = 0; i < REASON_COUNT; i++) {
		m->closed[i] = (uint64_t)i * 10;
		m->reason_names[i] = reasons[i];
	}
	m->messages = 77;
	m->bytes_in = 1000;
	m->bytes_out = 1200;
	m->durations[0] = 1;		/* <= 1 ms */
	m->durations[3] = 2;		/* <= 1 s */
	m->durations[DURATION_BOUNDS] = 1;	/* over an hour */
	m->duration_usec = 7200500000ULL;
	m->accept_pauses = 4;
	m->reloads_ok = 5;
	m->reloads_failed = 6;
	m->proxy_health_checks = 8;
	m->tcp_valid = 1;
	m->tcp_source = "netlink";
	m->tcp.total[1] = 9;
	m->tcp.daemon[1] = 4;
	m->tcp.clients[1] = 5;
	m->tcp.total[10] = 1;
	m->tcp.daemon[10] = 1;
}

/* The buffer's text, NUL-terminated, for strstr; the caller frees it. */
static char *
text(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s = malloc(len + 1);

	assert_non_null(s);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	return (s);
}

static void
has(const char *s, const char *want)
{
	if (strstr(s, want) == NULL)
		fail_msg("missing \"%s\" in:\n%s", want, s);
}

static void
test_metrics_text(void **state)
{
	struct metrics_snapshot	 m;
	struct evbuffer		*b = evbuffer_new();
	char			*s;

	(void)state;
	snapshot(&m);
	metrics_format(&m, b);
	s = text(b);
	has(s, "# TYPE seqecho_build_info gauge\n");
	has(s, "seqecho_build_info{version=\"0.1.0\",name=\"host \\\"a\\\"\\\\b"
	    "\\nc\"} 1\n");
	has(s, "seqecho_start_time_seconds 1700000000.250\n");
	has(s, "# TYPE seqecho_connections_open gauge\nseqecho_connections_open"
	    " 3\n");
	has(s, "seqecho_connections_max 10000\n");
	has(s, "# TYPE seqecho_connections_accepted_total counter\n"
	    "seqecho_connections_accepted_total 12\n");
	has(s, "seqecho_connections_rejected_total 2\n");
	has(s, "seqecho_connections_closed_total{reason=\"bye\"} 0\n");
	has(s, "seqecho_connections_closed_total{reason=\"too-long\"} 30\n");
	has(s, "seqecho_connections_closed_total{reason=\"tls\"} 90\n");
	has(s, "seqecho_messages_total 77\n");
	has(s, "seqecho_received_bytes_total 1000\n");
	has(s, "seqecho_sent_bytes_total 1200\n");
	/* Cumulative, every bound design.md lists, then +Inf. */
	has(s, "# TYPE seqecho_connection_duration_seconds histogram\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"0.001\"} 1\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"0.01\"} 1\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"0.1\"} 1\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"1\"} 3\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"10\"} 3\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"60\"} 3\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"600\"} 3\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"3600\"} 3\n"
	    "seqecho_connection_duration_seconds_bucket{le=\"+Inf\"} 4\n"
	    "seqecho_connection_duration_seconds_sum 7200.500000\n"
	    "seqecho_connection_duration_seconds_count 4\n");
	has(s, "seqecho_accept_pauses_total 4\n");
	has(s, "seqecho_config_reloads_total{result=\"ok\"} 5\n"
	    "seqecho_config_reloads_total{result=\"failed\"} 6\n");
	has(s, "seqecho_proxy_health_checks_total 8\n");
	has(s, "# TYPE seqecho_tcp_sockets gauge\n");
	has(s, "seqecho_tcp_sockets{state=\"ESTABLISHED\"} 9\n");
	has(s, "seqecho_tcp_sockets{state=\"LISTEN\"} 1\n");
	has(s, "seqecho_tcp_sockets{state=\"CLOSING\"} 0\n");
	/* No TLS, no expiry. */
	assert_null(strstr(s, "seqecho_tls_certificate_expiry"));
	assert_int_equal(s[strlen(s) - 1], '\n');
	free(s);

	m.tls_not_after = 1800000000;
	m.tcp_valid = 0;
	metrics_format(&m, b);
	s = text(b);
	has(s, "# TYPE seqecho_tls_certificate_expiry_timestamp_seconds gauge\n"
	    "seqecho_tls_certificate_expiry_timestamp_seconds 1800000000\n");
	/* Unreadable states: the metric is left out, not shown as zeros. */
	assert_null(strstr(s, "seqecho_tcp_sockets"));
	free(s);
	evbuffer_free(b);
}

static void
test_json_string(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;

	(void)state;
	json_string(b, "a\"b\\c\n\t\x01\x7f caf\xc3\xa9");
	s = text(b);
	assert_string_equal(s, "\"a\\\"b\\\\c\\u000a\\u0009\\u0001\\u007f "
	    "caf\xc3\xa9\"");
	free(s);
	evbuffer_free(b);
}

static void
test_status_json(void **state)
{
	struct metrics_snapshot	 m;
	struct listener_snap	 l[2];
	struct conn_snap	 c[2];
	struct status_view	 v;
	struct evbuffer		*b = evbuffer_new();
	char			*s;

	(void)state;
	snapshot(&m);
	memset(l, 0, sizeof l);
	snprintf(l[0].address, sizeof l[0].address, "127.0.0.1:1234");
	snprintf(l[1].address, sizeof l[1].address, "[::1]:1235");
	l[1].proxy = PROXY_V2;
	l[1].tls = 1;
	memset(c, 0, sizeof c);
	c[0].id = 9;
	snprintf(c[0].peer, sizeof c[0].peer, "127.0.0.1:5000");
	snprintf(c[0].local, sizeof c[0].local, "127.0.0.1:1234");
	c[0].tcp_state = 1;
	c[0].messages = 3;
	c[0].bytes_in = 10;
	c[0].bytes_out = 13;
	c[0].age = 1.5;
	c[1].id = 4;
	snprintf(c[1].peer, sizeof c[1].peer, "10.0.0.1:7");
	snprintf(c[1].via, sizeof c[1].via, "[::1]:6000");
	snprintf(c[1].tls, sizeof c[1].tls, "TLSv1.3");
	c[1].tcp_state = 8;
	c[1].phase = 2;
	memset(&v, 0, sizeof v);
	v.m = &m;
	v.http = "127.0.0.1:9234";
	v.listeners = l;
	v.nlisteners = 2;
	v.conns = c;
	v.nconns = 2;
	v.answered = 2;
	v.nworkers = 3;
	status_format(&v, b);
	s = text(b);
	has(s, "{\"name\":\"host \\\"a\\\"\\\\b\\u000ac\",\"version\":\"0.1.0\","
	    "\"time\":1700000010.500,\"start_time\":1700000000.250,"
	    "\"uptime\":10.250,\"http\":\"127.0.0.1:9234\",");
	has(s, "\"counters\":{\"connections_open\":3,\"connections_max\":10000,"
	    "\"accepted\":12,\"rejected\":2,\"messages\":77,"
	    "\"received_bytes\":1000,\"sent_bytes\":1200,\"accept_pauses\":4,"
	    "\"config_reloads_ok\":5,\"config_reloads_failed\":6,"
	    "\"proxy_health_checks\":8,\"closed\":{\"bye\":0,\"eof\":10,");
	has(s, "\"tls\":90}}");
	has(s, "\"tcp_source\":\"netlink\",\"tcp_states\":{\"ESTABLISHED\":9,"
	    "\"SYN_SENT\":0,");
	has(s, "\"tcp_states_daemon\":{\"ESTABLISHED\":4,");
	has(s, "\"tcp_states_clients\":{\"ESTABLISHED\":5,");
	has(s, "\"LISTEN\":1,\"CLOSING\":0}");
	has(s, "\"listeners\":[{\"address\":\"127.0.0.1:1234\",\"proxy\":"
	    "\"none\",\"tls\":false},{\"address\":\"[::1]:1235\",\"proxy\":"
	    "\"v2\",\"tls\":true}]");
	has(s, "\"workers\":3,\"workers_answered\":2,");
	has(s, "\"connections\":[{\"id\":9,\"peer\":\"127.0.0.1:5000\","
	    "\"via\":null,\"local\":\"127.0.0.1:1234\",\"tls\":null,"
	    "\"state\":\"ESTABLISHED\",\"phase\":\"reading\",\"messages\":3,"
	    "\"bytes_in\":10,\"bytes_out\":13,\"age\":1.500},");
	has(s, "{\"id\":4,\"peer\":\"10.0.0.1:7\",\"via\":\"[::1]:6000\","
	    "\"local\":\"\",\"tls\":\"TLSv1.3\",\"state\":\"CLOSE_WAIT\","
	    "\"phase\":\"linger\",");
	assert_string_equal(s + strlen(s) - 3, "]}\n");
	free(s);

	/* States that cannot be read are null, and none are listed. */
	m.tcp_valid = 0;
	v.nconns = 0;
	status_format(&v, b);
	s = text(b);
	has(s, "\"tcp_source\":null,\"listeners\"");
	assert_null(strstr(s, "tcp_states"));
	has(s, "\"connections\":[]}\n");
	free(s);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_text),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_status_json),
	};

	return (cmocka_run_group_tests_name("metrics", tests, NULL, NULL));
}
