/*
 * http.h - what the files of the metrics and status endpoint share
 * (http.c, http-status.c, http-sample.c, metrics.c); the daemon's only.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_HTTP_H
#define SEQECHO_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "seqechod.h"
#include "sockstat.h"

/* HTTP connections at once; the next is closed as soon as accepted. */
#define HTTP_MAX_CONNS		64
/* Seconds an HTTP connection may take to send a request or read a reply. */
#define HTTP_TIMEOUT		10
/* Open connections /status.json lists: the most recent. */
#define STATUS_MAX_CONNS	100
/* Milliseconds /status.json waits for the workers before answering. */
#define STATUS_WAIT_MS		2000

/* Everything /metrics and /status.json say but the connections. */
struct metrics_snapshot {
	const char	*version;
	char		 name[256];
	double		 start_time;		/* since the epoch */
	double		 now;
	uint64_t	 conns_open;
	uint64_t	 conns_max;
	uint64_t	 accepted;
	uint64_t	 rejected;
	uint64_t	 closed[REASON_COUNT];
	const char	*reason_names[REASON_COUNT];
	uint64_t	 messages;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 durations[DURATION_BUCKETS];
	uint64_t	 duration_usec;
	uint64_t	 accept_pauses;
	uint64_t	 reloads_ok;
	uint64_t	 reloads_failed;
	uint64_t	 proxy_health_checks;
	int		 tcp_valid;		/* the states could be read */
	struct sockstat_counts tcp;		/* summed over the ports */
	const char	*tcp_source;		/* "netlink" or "proc" */
	time_t		 tls_not_after;		/* 0: no TLS */
};

/* One open connection, as /status.json lists it. */
struct conn_snap {
	uint64_t	 id;
	char		 peer[ADDRSTRLEN];
	char		 via[ADDRSTRLEN];	/* "" unless PROXY */
	char		 local[ADDRSTRLEN];
	char		 tls[16];		/* "" for plain TCP */
	int		 tcp_state;		/* the kernel's, 0 if unknown */
	int		 phase;			/* enum conn_state */
	uint64_t	 messages;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	double		 age;			/* seconds */
};

/* One echo listener. */
struct listener_snap {
	char		 address[ADDRSTRLEN];
	int		 proxy;			/* PROXY_NONE, ... */
	int		 tls;
};

/* What /status.json is made of. */
struct status_view {
	const struct metrics_snapshot *m;
	const char		*http;		/* the endpoint's address */
	const struct listener_snap *listeners;
	size_t			 nlisteners;
	const struct conn_snap	*conns;		/* the newest first */
	size_t			 nconns;
	int			 answered;	/* workers that did */
	int			 nworkers;
};

/* What a request waiting for a round wants. */
enum status_kind {
	STATUS_METRICS,		/* /metrics */
	STATUS_JSON		/* /status.json */
};

struct evbuffer;
struct event;
struct evhttp_request;
struct status;
struct sampler;

/* metrics.c */
void		 metrics_format(const struct metrics_snapshot *,
		    struct evbuffer *);
void		 json_string(struct evbuffer *, const char *);
void		 status_format(const struct status_view *, struct evbuffer *);

/* http.c */
void		 http_send_status(struct evhttp_request *, enum status_kind,
		    struct evbuffer *);

/* http-status.c */
void		 status_snapshot(struct server *, struct metrics_snapshot *);
struct status	*status_new(struct server *, struct event_base *,
		    const char *);
void		 status_request(struct status *, struct evhttp_request *,
		    enum status_kind);
void		 status_free(struct status *);

/* http-sample.c */
struct sampler	*sampler_new(struct event *);
void		 sampler_free(struct sampler *);
unsigned	 sampler_get(struct sampler *, const int *, size_t,
		    struct metrics_snapshot *);
int		 sampler_ready(struct sampler *, unsigned,
		    struct metrics_snapshot *);

/* status-html.c, made from status.html */
extern const unsigned char status_html[];
extern const size_t status_html_len;

#endif
