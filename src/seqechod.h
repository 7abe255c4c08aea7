/*
 * seqechod.h - the daemon's own structs and prototypes: server, workers,
 * connections and their counters. Only the daemon's files include it.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHOD_H
#define SEQECHOD_H

#include <sys/queue.h>
#include <sys/time.h>

#include <openssl/ssl.h>

#include "seqecho.h"

/* What the daemon's command line says, kept for reloads. */
struct daemon_options {
	const char	*conf_path;
	int		 conf_optional;	/* the default path may be absent */
	const char	*address;	/* -a, or NULL */
	int		 port;		/* -p, or -1 */
	int		 verbose;	/* -v count */
};

/* Unsent output past this stops a connection being read. */
#define CONN_OUTPUT_HIGH	(1024 * 1024)
/* Reading resumes once unsent output falls to this. */
#define CONN_OUTPUT_LOW		(256 * 1024)
/* Seconds a closing connection waits for the peer's FIN. */
#define CONN_LINGER_SECS	2
/* Seconds a closing connection may go without sending anything. */
#define CONN_FLUSH_TIMEOUT	30
/* Seconds shutdown waits for owed replies to drain. */
#define SHUTDOWN_DEADLINE	5

/* Why a connection ended; the names are what the log prints. */
enum conn_reason {
	REASON_BYE,
	REASON_EOF,
	REASON_TIMEOUT,
	REASON_TOO_LONG,
	REASON_FULL,
	REASON_RESET,
	REASON_ERROR,
	REASON_SHUTDOWN,
	REASON_PROXY,		/* no valid PROXY header: never served */
	REASON_TLS,		/* the TLS handshake failed or timed out */
	REASON_COUNT
};

/* seqecho_connection_duration_seconds: its bounds, and one for +Inf. */
#define DURATION_BOUNDS		8
#define DURATION_BUCKETS	(DURATION_BOUNDS + 1)

/*
 * Counters. Each worker owns one set and is its only writer; others read
 * them with relaxed atomic loads, so the message path takes no lock.
 */
struct stats {
	uint64_t	 conns_now;
	uint64_t	 conns_total;
	uint64_t	 messages;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 reasons[REASON_COUNT];
	uint64_t	 client_first;
	uint64_t	 server_first;
	uint64_t	 proxy_health_checks;	/* header, then nothing */
	uint64_t	 durations[DURATION_BUCKETS];	/* closes, by duration */
	uint64_t	 duration_usec;		/* their sum */
};

#define STAT_READ(f)		__atomic_load_n(&(f), __ATOMIC_RELAXED)
#define STAT_ADD(f, n)		__atomic_store_n(&(f), STAT_READ(f) + (n), \
				    __ATOMIC_RELAXED)

/* The buckets' upper bounds in microseconds: 1 ms to an hour. */
#define DURATION_BOUNDS_USEC	{ 1000, 10000, 100000, 1000000, 10000000, \
				    60000000, 600000000, 3600000000ULL }

/* Count a closed connection's duration, on its worker's thread. */
static inline void
stats_add_duration(struct stats *st, const struct timeval *took)
{
	static const uint64_t	bounds[DURATION_BOUNDS] =
	    DURATION_BOUNDS_USEC;
	uint64_t		usec = (uint64_t)took->tv_sec * 1000000 +
				    (uint64_t)took->tv_usec;
	int			i;

	for (i = 0; i < DURATION_BOUNDS && usec > bounds[i]; i++)
		;
	STAT_ADD(st->durations[i], 1);
	STAT_ADD(st->duration_usec, usec);
}

/* What a connection takes from the configuration when it opens. */
struct conn_params {
	int		 framing;
	size_t		 max_line;
	int		 idle_timeout;
	int		 proxy_timeout;
	char		 separator[PROTO_SEPARATOR_MAX + 1];
};

/*
 * An accepted socket on its way from the listener to its connection. On a
 * PROXY listener the worker reads the header first (conn-proxy.c); then
 * peer is the client the header names, via the balancer's socket, and pre
 * what was read past the header.
 */
struct accepted {
	int			 fd;
	struct sockaddr_storage	 peer;
	struct sockaddr_storage	 via;		/* with has_via */
	int			 has_via;
	uint64_t		 id;
	int			 over_limit;	/* answer ERR too many, close */
	int			 proxy;		/* PROXY_NONE, _V1, _V2, _ANY */
	int			 untrusted;	/* source outside proxy_trusted */
	const uint8_t		*pre;
	size_t			 npre;
	SSL_CTX			*tls;		/* a reference; NULL: plain */
	struct conn_params	 params;
};

/* What a listener tells the accept policy about one connection. */
struct listen_opts {
	int			 proxy;
	int			 trusted;	/* the source may send a header */
	int			 tls;
};

struct event_base;
struct listeners;
struct server;
struct worker;
struct conn;
struct proxy_wait;
struct metrics_snapshot;
LIST_HEAD(conn_list, conn);
LIST_HEAD(proxy_list, proxy_wait);

/* seqechod.c */
int		 daemon_load_config(struct config *,
		    const struct daemon_options *);

/* server.c */
struct server	*server_new(struct event_base *, struct config *,
		    const struct daemon_options *);
int		 server_listen(struct server *);
void		 server_reload(struct server *);
void		 server_shutdown(struct server *);
void		 server_free(struct server *);
void		 server_conn_closed(struct server *, int);
void		 server_worker_done(struct server *);
void		 server_notify(const char *);
void		 server_accept(struct server *, int, struct sockaddr *, int,
		    const struct listen_opts *);
void		 server_accept_error(struct server *);
time_t		 server_tls_not_after(const struct server *);
void		 server_counters(const struct server *,
		    struct metrics_snapshot *);
int		 server_nworkers(const struct server *);
struct worker	*server_worker(const struct server *, int);
struct listeners *server_listeners(const struct server *);
const struct config *server_config(const struct server *);

/* server-fds.c */
void		 server_fd_limit(struct config *);
int		 fd_budget(struct config *, int);
int		 fd_estimate(int);
int		 fd_count(void);

/* server-stats.c */
void		 server_log_stats(struct server *);
void		 server_sum_stats(struct server *, struct stats *);

/* server-listen.c */
struct listeners *listeners_new(struct event_base *, struct server *);
int		 listeners_inherit(struct listeners *, const struct config *);
void		 listeners_match(struct listeners *, const struct config *);
int		 listeners_rebind(struct listeners *, const struct config *,
		    int);
size_t		 listeners_count(const struct listeners *);
int		 listeners_fd(const struct listeners *, size_t);
void		 listeners_opts(const struct listeners *, size_t,
		    const struct sockaddr *, struct listen_opts *);
size_t		 listeners_wanted(const struct config *);
void		 listeners_enable(struct listeners *, int);
void		 listeners_close(struct listeners *);
void		 listeners_free(struct listeners *);

/* worker.c */
struct worker	*worker_new(struct server *, int, struct event_base *);
void		 worker_start(struct worker *);
void		 worker_hand(struct worker *, const struct accepted *);
void		 worker_stop(struct worker *);
void		 worker_join(struct worker *);
void		 worker_free(struct worker *);
void		 worker_add_stats(struct worker *, struct stats *);
void		 worker_conn_closed(struct worker *, int);
struct event_base *worker_base(struct worker *);
struct stats	*worker_stats(struct worker *);
struct conn_list *worker_conns(struct worker *);
struct proxy_list *worker_proxies(struct worker *);

/* conn.c */
void		 conn_new(struct worker *, const struct accepted *);
void		 conn_shutdown_all(struct conn_list *);
void		 conn_free_all(struct conn_list *);
const char	*conn_reason_name(enum conn_reason);

/* http.c */
struct http;
int		 http_configure(struct http **, struct server *,
		    struct event_base *, const char *);
void		 http_free(struct http *);

/* server-tls.c */
int		 server_tls_build(const struct config *, SSL_CTX **);
void		 accepted_close(struct accepted *);

/* conn-proxy.c */
void		 proxy_start(struct worker *, const struct accepted *);
void		 proxy_shutdown_all(struct proxy_list *);
void		 proxy_free_all(struct proxy_list *);

#endif
