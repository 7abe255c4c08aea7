/*
 * server-stats.c - the counters summed over the workers: SIGUSR1's log
 * line, and what /metrics and /status.json take.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "seqechod.h"

/* Every worker's counters added up; callable on any thread. */
void
server_sum_stats(struct server *s, struct stats *st)
{
	int	i;

	memset(st, 0, sizeof *st);
	for (i = 0; i < server_nworkers(s); i++)
		worker_add_stats(server_worker(s, i), st);
}

/* SIGUSR1: one line of counters, summed over the workers. */
void
server_log_stats(struct server *s)
{
	struct stats	st;
	char		reasons[256];
	size_t		off = 0;
	int		i;

	server_sum_stats(s, &st);
	reasons[0] = '\0';
	for (i = 0; i < REASON_COUNT && off < sizeof reasons; i++) {
		off += (size_t)snprintf(reasons + off, sizeof reasons - off,
		    " %s=%llu", conn_reason_name(i),
		    (unsigned long long)st.reasons[i]);
	}
	log_info("stats connections=%llu total=%llu messages=%llu "
	    "bytes_in=%llu bytes_out=%llu client_first=%llu "
	    "server_first=%llu proxy_health_checks=%llu%s",
	    (unsigned long long)st.conns_now,
	    (unsigned long long)st.conns_total,
	    (unsigned long long)st.messages,
	    (unsigned long long)st.bytes_in,
	    (unsigned long long)st.bytes_out,
	    (unsigned long long)st.client_first,
	    (unsigned long long)st.server_first,
	    (unsigned long long)st.proxy_health_checks, reasons);
}
