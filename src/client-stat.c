/*
 * client-stat.c - seqecho -S [-w seconds] [--json]: the sockets on one
 * port by state, once or every interval until ^C (counted by sockstat.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "seqecho.h"
#include "sockstat.h"
#include "client.h"

/* The -w loop. */
struct client_stat {
	struct event_base	*base;
	int			 port;
	int			 json;
	int			 timestamp;
	int			 rounds;
	int			 exit_code;
};

static int	 stat_round(struct client_stat *);
static void	 stat_print_text(const struct client_stat *,
		     const struct sockstat_counts *, const struct timespec *);
static void	 stat_print_json(const struct client_stat *,
		     const struct sockstat_counts *, const struct timespec *,
		     const char *);
static void	 stat_round_callback(evutil_socket_t, short, void *);
static void	 stat_sigint_callback(evutil_socket_t, short, void *);

/* One round: read, count, print. Returns 0, or -1 when it cannot read. */
static int
stat_round(struct client_stat *w)
{
	struct sockstat_counts	 c;
	struct timespec		 now;
	const char		*source;
	char			 err[256];

	clock_gettime(CLOCK_REALTIME, &now);
	if (sockstat_count(w->port, &c, &source, err, sizeof err) == -1) {
		log_warnx("%s", err);
		return (-1);
	}
	if (w->json)
		stat_print_json(w, &c, &now, source);
	else
		stat_print_text(w, &c, &now);
	w->rounds++;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		return (-1);
	}
	return (0);
}

/*
 * A title line (with -w, after a blank line between rounds, the time
 * first), a header, then one line per state in the kernel's order.
 */
static void
stat_print_text(const struct client_stat *w, const struct sockstat_counts *c,
    const struct timespec *now)
{
	struct tm	tm;
	char		stamp[32];
	int		s;

	if (w->timestamp) {
		if (w->rounds > 0)
			putchar('\n');
		localtime_r(&now->tv_sec, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		printf("%s.%03ld ", stamp, now->tv_nsec / 1000000);
	}
	printf("port %d: %lu socket%s\n", w->port, c->sockets,
	    c->sockets == 1 ? "" : "s");
	printf("%-11s %7s %7s %7s\n", "STATE", "TOTAL", "DAEMON", "CLIENTS");
	for (s = 1; s <= SOCKSTAT_NSTATES; s++)
		printf("%-11s %7lu %7lu %7lu\n", sockstat_state_name(s),
		    c->total[s], c->daemon[s], c->clients[s]);
}

/* One JSON object on one line; the states in the kernel's order. */
static void
stat_print_json(const struct client_stat *w, const struct sockstat_counts *c,
    const struct timespec *now, const char *source)
{
	struct tm	tm;
	char		stamp[32], zone[8];
	int		s;

	localtime_r(&now->tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	/* RFC 3339 wants +01:00 where strftime gives +0100. */
	strftime(zone, sizeof zone, "%z", &tm);
	printf("{\"time\":\"%s.%03ld%.3s:%.2s\",\"port\":%d,\"source\":\"%s\","
	    "\"sockets\":%lu,\"states\":{", stamp, now->tv_nsec / 1000000,
	    zone, zone + 3, w->port, source, c->sockets);
	for (s = 1; s <= SOCKSTAT_NSTATES; s++)
		printf("%s\"%s\":{\"total\":%lu,\"daemon\":%lu,"
		    "\"clients\":%lu}", s > 1 ? "," : "",
		    sockstat_state_name(s), c->total[s], c->daemon[s],
		    c->clients[s]);
	printf("}}\n");
}

/* The -w timer. */
static void
stat_round_callback(evutil_socket_t fd, short what, void *arg)
{
	struct client_stat	*w = arg;

	(void)fd;
	(void)what;
	if (stat_round(w) == -1) {
		w->exit_code = 1;
		event_base_loopbreak(w->base);
	}
}

/* ^C ends -w, as it ends a session: 130. */
static void
stat_sigint_callback(evutil_socket_t sig, short what, void *arg)
{
	struct client_stat	*w = arg;

	(void)sig;
	(void)what;
	w->exit_code = 130;
	event_base_loopbreak(w->base);
}

/*
 * seqecho -S: print the counts for port once, or with interval every
 * interval until SIGINT. Returns the exit code.
 */
int
client_stat_run(int port, const struct timeval *interval, int json)
{
	struct client_stat	 w;
	struct event		*timer, *sigint;

	memset(&w, 0, sizeof w);
	w.port = port;
	w.json = json;
	if (interval == NULL)
		return (stat_round(&w) == -1 ? 1 : 0);

	w.timestamp = 1;
	if ((w.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	timer = event_new(w.base, -1, EV_PERSIST, stat_round_callback, &w);
	sigint = evsignal_new(w.base, SIGINT, stat_sigint_callback, &w);
	if (timer == NULL || sigint == NULL || event_add(sigint, NULL) == -1)
		fatalx("cannot set up the -w loop");
	if (stat_round(&w) == -1)
		w.exit_code = 1;
	else {
		if (event_add(timer, interval) == -1)
			fatalx("cannot set up the -w timer");
		event_base_dispatch(w.base);
	}
	event_free(timer);
	event_free(sigint);
	event_base_free(w.base);
	return (w.exit_code);
}
