/*
 * conn.h - what the files of one connection share (conn.c, conn-input.c);
 * http-status.c only reads a connection, for /status.json.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_CONN_H
#define SEQECHO_CONN_H

#include <sys/time.h>

/* Bytes read from a socket at a time: fewer, larger reads go faster. */
#define CONN_READ_MAX		(64 * 1024)
/* What one evbuffer_read takes at most (EVBUFFER_MAX_READ in libevent). */
#define EVBUFFER_READ_CAP	4096
#define CONN_WRITE_MAX		(256 * 1024)

enum conn_state {
	CONN_READING,
	CONN_CLOSING,		/* owed output draining */
	CONN_LINGER		/* half-closed, waiting for the peer's FIN */
};

#define CONN_PAUSED		0x1	/* output over the mark: not reading */
#define CONN_PEER_EOF		0x2	/* the peer's FIN has arrived */
#define CONN_SERVER_FIRST	0x4	/* our FIN went before the peer's */
#define CONN_COUNTED		0x8	/* counts against max_connections */
#define CONN_DRAINING		0x10	/* shutdown: answer all, ignore the mark */
#define CONN_PROXIED		0x20	/* came with a PROXY header */
#define CONN_OPEN_LOGGED	0x40	/* its open line is out at info */
#define CONN_TLS		0x80	/* a bufferevent_openssl */
#define CONN_HANDSHAKE		0x100	/* its TLS handshake is not done */
#define CONN_RESET		0x200	/* a write of ours met the peer's reset */

struct conn {
	LIST_ENTRY(conn)	 entry;
	struct worker		*worker;
	struct bufferevent	*bev;
	struct evbuffer		*tls_out;	/* replies not yet encrypted */
	struct event		*timer;
	struct stats		*stats;
	struct proto		 proto;

	uint64_t		 id;
	enum conn_state		 state;
	enum conn_reason	 reason;
	int			 flags;
	int			 idle_timeout;

	int			 fd;
	struct timeval		 started;
	struct timeval		 last_message;
	struct timeval		 last_taken;	/* throttled: client last read */
	uint64_t		 taken;		/* bytes it had read by then */
	uint64_t		 messages;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	size_t			 out_mark;	/* output length at last check */
	size_t			 in_left;	/* input left by the last callback */
	char			 peer[ADDRSTRLEN];
	char			 via[ADDRSTRLEN + 8];	/* " via=ADDRESS" or "" */
	const char		*tls_version;	/* "TLSv1.3"; NULL: plain TCP */
	char			*why;		/* what failed, for the close line */
};

struct bufferevent;

/* conn.c */
void		 conn_set_state(struct conn *, enum conn_state);
void		 conn_arm_timer(struct conn *, int);
void		 conn_start_close(struct conn *, enum conn_reason,
		    const char *);
void		 conn_flush(struct conn *);
struct evbuffer	*conn_output(struct conn *);
size_t		 conn_owed(struct conn *);
void		 conn_free(struct conn *, enum conn_reason);
void		 conn_log_open(struct conn *);

/* conn-tls.c */
struct event_base;
int		 conn_tls_start(struct conn *, struct event_base *,
		    SSL_CTX *);
void		 conn_tls_ready(struct conn *);
void		 conn_tls_free(struct conn *);
void		 conn_tls_failed(struct conn *, short);
void		 conn_tls_fail(struct conn *, const char *);
void		 conn_tls_close_notify(struct conn *);
int		 conn_tls_peer_closed(struct conn *);
void		 conn_tls_take_pending(struct conn *);
void		 conn_tls_read_on(struct conn *);
void		 conn_tls_flush(struct conn *);
void		 conn_tls_describe(struct conn *, char *, size_t);

/* conn-input.c */
void		 conn_read_callback(struct bufferevent *, void *);
void		 conn_process(struct conn *, int);
void		 conn_pause(struct conn *);
uint64_t	 conn_taken(struct conn *);

#endif
