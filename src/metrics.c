/*
 * metrics.c - what the HTTP endpoint says, made from a snapshot of the
 * counters: /metrics in Prometheus's text format 0.0.4, /status.json;
 * and the duration histogram the workers fill as connections close.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Pure: nothing here reads the daemon, so tests/test_metrics.c checks
 * the text itself. There is no C Prometheus client in Debian, and the
 * format is small: HELP and TYPE lines, then one sample a line.
 */
#include "config.h"

#include <sys/time.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "http.h"
#include "proxy.h"

/* Upper bounds of the buckets: design.md's. */
static const uint64_t duration_bounds[DURATION_BOUNDS] = DURATION_BOUNDS_USEC;

/* A metric with one sample and no labels: where its value is. */
struct plain {
	const char	*name;
	const char	*type;
	const char	*help;
	size_t		 offset;
};
#define SNAP(f)		offsetof(struct metrics_snapshot, f)
#define NPLAIN(t)	(sizeof t / sizeof t[0])

static const struct plain plain_first[] = {
	{ "seqecho_connections_open", "gauge",
	    "Connections open now, under max_connections.", SNAP(conns_open) },
	{ "seqecho_connections_max", "gauge",
	    "The max_connections setting in force.", SNAP(conns_max) },
	{ "seqecho_connections_accepted_total", "counter",
	    "Sockets accepted, rejected ones included.", SNAP(accepted) },
	{ "seqecho_connections_rejected_total", "counter",
	    "Connections told ERR too many connections.", SNAP(rejected) },
};
static const struct plain plain_traffic[] = {
	{ "seqecho_messages_total", "counter", "Messages echoed.",
	    SNAP(messages) },
	{ "seqecho_received_bytes_total", "counter",
	    "Bytes received from clients.", SNAP(bytes_in) },
	{ "seqecho_sent_bytes_total", "counter", "Bytes sent to clients.",
	    SNAP(bytes_out) },
};
static const struct plain plain_pauses[] = {
	{ "seqecho_accept_pauses_total", "counter",
	    "Times accepting paused, out of descriptors.",
	    SNAP(accept_pauses) },
};
static const struct plain plain_health[] = {
	{ "seqecho_proxy_health_checks_total", "counter",
	    "PROXY headers followed by nothing: a balancer's health checks.",
	    SNAP(proxy_health_checks) },
};

static const char *const phase_names[] = { "reading", "closing", "linger" };

static void	metric_head(struct evbuffer *, const char *, const char *,
		    const char *);
static void	metric_u64(struct evbuffer *, const char *, const char *,
		    const char *, uint64_t);
static void	label_value(struct evbuffer *, const char *);
static void	metrics_histogram(const struct metrics_snapshot *,
		    struct evbuffer *);
static void	metrics_rest(const struct metrics_snapshot *,
		    struct evbuffer *);
static void	metrics_plain(const struct metrics_snapshot *,
		    struct evbuffer *, const struct plain *, size_t);
static void	status_counters(const struct metrics_snapshot *,
		    struct evbuffer *);
static void	status_states(const struct sockstat_counts *,
		    const unsigned long *, struct evbuffer *);
static void	status_conn(const struct conn_snap *, struct evbuffer *);

/* The HELP and TYPE lines of one metric. */
static void
metric_head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* One sample; labels already formatted ("reason=\"bye\"") or NULL. */
static void
metric_u64(struct evbuffer *out, const char *name, const char *labels,
    const char *extra, uint64_t v)
{
	evbuffer_add_printf(out, "%s%s%s%s%s %llu\n", name,
	    labels != NULL ? "{" : "", labels != NULL ? labels : "",
	    extra != NULL ? extra : "", labels != NULL ? "}" : "",
	    (unsigned long long)v);
}

/* A label's value between quotes, with \, " and newline escaped. */
static void
label_value(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

/* /metrics: every metric of design.md's table, in its order. */
void
metrics_format(const struct metrics_snapshot *m, struct evbuffer *out)
{
	char	label[64];
	int	i;

	metric_head(out, "seqecho_build_info", "gauge",
	    "The daemon's version and name; always 1.");
	evbuffer_add_printf(out, "seqecho_build_info{version=");
	label_value(out, m->version);
	evbuffer_add_printf(out, ",name=");
	label_value(out, m->name);
	evbuffer_add_printf(out, "} 1\n");
	metric_head(out, "seqecho_start_time_seconds", "gauge",
	    "When the daemon started, in seconds since the epoch.");
	evbuffer_add_printf(out, "seqecho_start_time_seconds %.3f\n",
	    m->start_time);
	metrics_plain(m, out, plain_first, NPLAIN(plain_first));
	metric_head(out, "seqecho_connections_closed_total", "counter",
	    "Connections closed, by the reason the close line gives.");
	for (i = 0; i < REASON_COUNT; i++) {
		snprintf(label, sizeof label, "reason=\"%s\"",
		    m->reason_names[i]);
		metric_u64(out, "seqecho_connections_closed_total", label,
		    NULL, m->closed[i]);
	}
	metrics_plain(m, out, plain_traffic, NPLAIN(plain_traffic));
	metrics_histogram(m, out);
	metrics_rest(m, out);
}

/* Metrics of one unlabelled sample each, from a table. */
static void
metrics_plain(const struct metrics_snapshot *m, struct evbuffer *out,
    const struct plain *t, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		metric_head(out, t[i].name, t[i].type, t[i].help);
		metric_u64(out, t[i].name, NULL, NULL,
		    *(const uint64_t *)((const char *)m + t[i].offset));
	}
}

/* seqecho_connection_duration_seconds: cumulative buckets, sum, count. */
static void
metrics_histogram(const struct metrics_snapshot *m, struct evbuffer *out)
{
	const char	*name = "seqecho_connection_duration_seconds";
	uint64_t	 sum = 0;
	int		 i;

	metric_head(out, name, "histogram",
	    "How long closed connections were open, in seconds.");
	for (i = 0; i < DURATION_BUCKETS; i++) {
		sum += m->durations[i];
		if (i < DURATION_BOUNDS)
			evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n",
			    name, (double)duration_bounds[i] / 1e6,
			    (unsigned long long)sum);
		else
			evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} "
			    "%llu\n", name, (unsigned long long)sum);
	}
	evbuffer_add_printf(out, "%s_sum %.6f\n%s_count %llu\n", name,
	    (double)m->duration_usec / 1e6, name, (unsigned long long)sum);
}

/* From accept pauses on: the daemon's own events, sockets, TLS. */
static void
metrics_rest(const struct metrics_snapshot *m, struct evbuffer *out)
{
	char	label[64];
	int	s;

	metrics_plain(m, out, plain_pauses, NPLAIN(plain_pauses));
	metric_head(out, "seqecho_config_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.");
	metric_u64(out, "seqecho_config_reloads_total", "result=\"ok\"", NULL,
	    m->reloads_ok);
	metric_u64(out, "seqecho_config_reloads_total", "result=\"failed\"",
	    NULL, m->reloads_failed);
	metrics_plain(m, out, plain_health, NPLAIN(plain_health));
	if (m->tcp_valid) {
		metric_head(out, "seqecho_tcp_sockets", "gauge",
		    "TCP sockets on the echo listeners' ports, by state.");
		for (s = 1; s <= SOCKSTAT_NSTATES; s++) {
			snprintf(label, sizeof label, "state=\"%s\"",
			    sockstat_state_name(s));
			metric_u64(out, "seqecho_tcp_sockets", label, NULL,
			    m->tcp.total[s]);
		}
	}
	if (m->tls_not_after != 0) {
		metric_head(out, "seqecho_tls_certificate_expiry_timestamp_"
		    "seconds", "gauge", "When the TLS certificate expires "
		    "(notAfter), in seconds since the epoch.");
		evbuffer_add_printf(out, "seqecho_tls_certificate_expiry_"
		    "timestamp_seconds %lld\n", (long long)m->tls_not_after);
	}
}

/* A JSON string, quoted and escaped; bytes past ASCII pass as they are. */
void
json_string(struct evbuffer *out, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	evbuffer_add(out, "\"", 1);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(out, "\\u%04x", *p);
		else
			evbuffer_add(out, p, 1);
	}
	evbuffer_add(out, "\"", 1);
}

/*
 * /status.json: one object. Counters under "counters", the TCP states by
 * their kernel names (every socket on the ports, and the daemon's and the
 * clients' sides apart), the listeners, and the connections.
 */
void
status_format(const struct status_view *v, struct evbuffer *out)
{
	const struct metrics_snapshot	*m = v->m;
	size_t				 i;

	evbuffer_add_printf(out, "{\"name\":");
	json_string(out, m->name);
	evbuffer_add_printf(out, ",\"version\":");
	json_string(out, m->version);
	evbuffer_add_printf(out, ",\"time\":%.3f,\"start_time\":%.3f,"
	    "\"uptime\":%.3f,\"http\":", m->now, m->start_time,
	    m->now - m->start_time);
	json_string(out, v->http);
	status_counters(m, out);
	evbuffer_add_printf(out, ",\"tcp_source\":");
	if (m->tcp_valid) {
		json_string(out, m->tcp_source);
		status_states(&m->tcp, m->tcp.total, out);
	} else
		evbuffer_add_printf(out, "null");
	evbuffer_add_printf(out, ",\"listeners\":[");
	for (i = 0; i < v->nlisteners; i++) {
		evbuffer_add_printf(out, "%s{\"address\":", i > 0 ? "," : "");
		json_string(out, v->listeners[i].address);
		evbuffer_add_printf(out, ",\"proxy\":\"%s\",\"tls\":%s}",
		    v->listeners[i].proxy == PROXY_NONE ? "none" :
		    proxy_mode_name(v->listeners[i].proxy),
		    v->listeners[i].tls ? "true" : "false");
	}
	evbuffer_add_printf(out, "],\"workers\":%d,\"workers_answered\":%d,"
	    "\"connections\":[", v->nworkers, v->answered);
	for (i = 0; i < v->nconns; i++) {
		if (i > 0)
			evbuffer_add(out, ",", 1);
		status_conn(&v->conns[i], out);
	}
	evbuffer_add_printf(out, "]}\n");
}

/* The counters, as /metrics has them, with the closes by reason. */
static void
status_counters(const struct metrics_snapshot *m, struct evbuffer *out)
{
	int	i;

	evbuffer_add_printf(out, ",\"counters\":{\"connections_open\":%llu,"
	    "\"connections_max\":%llu,\"accepted\":%llu,\"rejected\":%llu,"
	    "\"messages\":%llu,\"received_bytes\":%llu,\"sent_bytes\":%llu,"
	    "\"accept_pauses\":%llu,\"config_reloads_ok\":%llu,"
	    "\"config_reloads_failed\":%llu,\"proxy_health_checks\":%llu,"
	    "\"closed\":{", (unsigned long long)m->conns_open,
	    (unsigned long long)m->conns_max,
	    (unsigned long long)m->accepted, (unsigned long long)m->rejected,
	    (unsigned long long)m->messages, (unsigned long long)m->bytes_in,
	    (unsigned long long)m->bytes_out,
	    (unsigned long long)m->accept_pauses,
	    (unsigned long long)m->reloads_ok,
	    (unsigned long long)m->reloads_failed,
	    (unsigned long long)m->proxy_health_checks);
	for (i = 0; i < REASON_COUNT; i++)
		evbuffer_add_printf(out, "%s\"%s\":%llu", i > 0 ? "," : "",
		    m->reason_names[i], (unsigned long long)m->closed[i]);
	evbuffer_add_printf(out, "}}");
	if (m->tls_not_after != 0)
		evbuffer_add_printf(out, ",\"tls_not_after\":%lld",
		    (long long)m->tls_not_after);
}

/* The eleven states, three ways: all, the daemon's side, the clients'. */
static void
status_states(const struct sockstat_counts *c, const unsigned long *total,
    struct evbuffer *out)
{
	static const char *const keys[] = {
		"tcp_states", "tcp_states_daemon", "tcp_states_clients"
	};
	const unsigned long	*v[3] = { total, c->daemon, c->clients };
	int			 k, s;

	for (k = 0; k < 3; k++) {
		evbuffer_add_printf(out, ",\"%s\":{", keys[k]);
		for (s = 1; s <= SOCKSTAT_NSTATES; s++)
			evbuffer_add_printf(out, "%s\"%s\":%lu",
			    s > 1 ? "," : "", sockstat_state_name(s), v[k][s]);
		evbuffer_add(out, "}", 1);
	}
}

/* One connection's object. */
static void
status_conn(const struct conn_snap *c, struct evbuffer *out)
{
	evbuffer_add_printf(out, "{\"id\":%llu,\"peer\":",
	    (unsigned long long)c->id);
	json_string(out, c->peer);
	evbuffer_add_printf(out, ",\"via\":");
	if (c->via[0] != '\0')
		json_string(out, c->via);
	else
		evbuffer_add_printf(out, "null");
	evbuffer_add_printf(out, ",\"local\":");
	json_string(out, c->local);
	evbuffer_add_printf(out, ",\"tls\":");
	if (c->tls[0] != '\0')
		json_string(out, c->tls);
	else
		evbuffer_add_printf(out, "null");
	evbuffer_add_printf(out, ",\"state\":\"%s\",\"phase\":\"%s\","
	    "\"messages\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
	    "\"age\":%.3f}", c->tcp_state > 0 &&
	    c->tcp_state <= SOCKSTAT_NSTATES ?
	    sockstat_state_name(c->tcp_state) : "UNKNOWN",
	    c->phase >= 0 && c->phase < 3 ? phase_names[c->phase] : "unknown",
	    (unsigned long long)c->messages,
	    (unsigned long long)c->bytes_in,
	    (unsigned long long)c->bytes_out, c->age);
}
