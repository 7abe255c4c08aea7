/*
 * seqecho.h - what the files of seqecho share.
 */
#ifndef SEQECHO_H
#define SEQECHO_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "proto.h"

#ifndef SEQECHO_CONF
#define SEQECHO_CONF	"/etc/seqecho.conf"
#endif

#define SEQECHO_PORT		1234
#define SEQECHO_ADDRESS		"127.0.0.1"
#define ADDRSTRLEN		(INET6_ADDRSTRLEN + 8)

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

struct config {
	/* server group */
	char		**addresses;
	size_t		  naddresses;
	int		  port;
	int		  backlog;
	int		  max_connections;
	int		  max_line;
	int		  idle_timeout;
	char		 *separator;
	int		  framing;
	int		  workers;
	int		  log_level;
	char		 *pidfile;

	/* client group */
	char		 *client_address;
	int		  client_port;
	int		  connect_timeout;
};

/* What the daemon's command line says, kept for reloads. */
struct daemon_options {
	const char	*conf_path;
	int		 conf_optional;	/* the default path may be absent */
	const char	*address;	/* -a, or NULL */
	int		 port;		/* -p, or -1 */
	int		 verbose;	/* -v count */
};

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
	REASON_COUNT
};

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
};

#define STAT_READ(f)		__atomic_load_n(&(f), __ATOMIC_RELAXED)
#define STAT_ADD(f, n)		__atomic_store_n(&(f), STAT_READ(f) + (n), \
				    __ATOMIC_RELAXED)

/* What a connection takes from the configuration when it opens. */
struct conn_params {
	int		 framing;
	size_t		 max_line;
	int		 idle_timeout;
	char		 separator[PROTO_SEPARATOR_MAX + 1];
};

struct event_base;
struct server;
struct worker;
struct conn;
LIST_HEAD(conn_list, conn);

/* config.c */
void		 config_defaults(struct config *);
int		 config_load(struct config *, const char *, int);
void		 config_free(struct config *);
int		 config_load_options(struct config *,
		    const struct daemon_options *);
void		 config_set_address(struct config *, const char *);
void		 config_add_address(struct config *, const char *);
int		 config_parse_int(const char *, int, int);
int		 config_parse_port(const char *);

/* util.c */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
char		*xstrdup(const char *);
void		 addr_format(const struct sockaddr *, char *, size_t);

/* server.c */
struct server	*server_new(struct event_base *, struct config *,
		    const struct daemon_options *);
int		 server_listen(struct server *);
void		 server_reload(struct server *);
void		 server_shutdown(struct server *);
void		 server_log_stats(struct server *);
void		 server_free(struct server *);
void		 server_conn_closed(struct server *, int);
void		 server_worker_done(struct server *);
void		 server_notify(const char *);
void		 server_fd_limit(struct config *);

/* worker.c */
struct worker	*worker_new(struct server *, int, struct event_base *);
void		 worker_start(struct worker *);
void		 worker_hand(struct worker *, int, const struct sockaddr *,
		    socklen_t, uint64_t, int, const struct conn_params *);
void		 worker_stop(struct worker *);
void		 worker_join(struct worker *);
void		 worker_free(struct worker *);
void		 worker_add_stats(struct worker *, struct stats *);
void		 worker_conn_closed(struct worker *, int);

/* conn.c */
void		 conn_new(struct worker *, struct event_base *,
		    struct conn_list *, struct stats *, int,
		    const struct sockaddr *, uint64_t, int,
		    const struct conn_params *);
void		 conn_shutdown_all(struct conn_list *);
void		 conn_free_all(struct conn_list *);
const char	*conn_reason_name(enum conn_reason);

#endif
