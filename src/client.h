/*
 * client.h - the client seqecho's run state and the prototypes its files
 * share: seqecho.c (main, options), client.c (connecting, the finish),
 * client-relay.c (stdin to socket, socket to stdout), client-end.c (-x,
 * -v), client-tls.c (--tls) and client-stat.c (-S).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_CLIENT_H
#define SEQECHO_CLIENT_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <stdint.h>

#include "seqecho.h"
#include "tls-client.h"

/* Buffered bytes past this stop the producer feeding that buffer... */
#define CLIENT_HIGH	(256 * 1024)
/* ...and it resumes once they fall to this. */
#define CLIENT_LOW	(64 * 1024)
/* An ERR line longer than this is cut short when printed. */
#define CLIENT_ERR_MAX	512
/* Bytes of a line's head kept: "bye\r", "ERR ", or a 64-bit serial. */
#define SCAN_HEAD	24

/* What client_tls_error found. */
#define TLS_FAIL_SOCKET	0	/* the socket's error, not TLS's */
#define TLS_FAIL_EOF	1	/* closed without close_notify */
#define TLS_FAIL_TLS	2	/* the library's error */

/* How the session ends (-x). */
enum end_mode {
	END_BYE,		/* bye and FIN in one segment: client closes first */
	END_SERVER,		/* bye, wait for the server's FIN, then close */
	END_HALF,		/* no bye, just the FIN */
	END_RST			/* no bye: once the replies are in, a RST */
};

enum client_state {
	STATE_CONNECTING,
	STATE_RUNNING,		/* copying stdin to the socket */
	STATE_ENDING,		/* stdin done; the end sequence under way */
	STATE_DONE		/* waiting only for stdout to drain */
};

/* Where the end sequence has got to. */
enum end_step {
	STEP_NONE,
	STEP_DRAIN,		/* waiting for our output to reach the kernel */
	STEP_BYE_SENT,		/* corked bye queued: shut down once it is out */
	STEP_FINISHED		/* nothing left to send */
};

/*
 * The line being scanned in a buffer that is passed on as it goes: its
 * head, to spot "bye", "ERR " and the serial, and its length so far. The
 * first held bytes of the buffer are scanned but held back.
 */
struct line_scan {
	uint64_t	 len;
	char		 head[SCAN_HEAD];
	size_t		 held;
};

struct bufferevent;
struct event;
struct event_base;
struct evbuffer;
struct evutil_addrinfo;

struct client {
	struct event_base	*base;
	struct config		 cfg;

	const char		*host;
	int			 port;
	int			 timeout;
	enum end_mode		 mode;
	int			 quiet;
	int			 verbose;
	int			 interactive;	/* stdin is a terminal */
	int			 proxy;		/* --proxy: PROXY_NONE, _V1, _V2 */
	int			 tls;		/* --tls */
	struct tls_client_opts	 tls_opts;	/* --ca, --cert, --key, --insecure */
	const char		*servername;	/* --servername; NULL: the host */

	struct evutil_addrinfo	*ai;
	struct evutil_addrinfo	*ai_next;
	char			 peer[ADDRSTRLEN];
	struct sockaddr_storage	 local_sa;	/* for -v's last look */
	struct sockaddr_storage	 peer_sa;
	int			 connect_errno;
	int			 connect_fd;
	struct event		*connect_ev;

	struct bufferevent	*sock;
	struct bufferevent	*in;
	struct bufferevent	*out;
	struct event		*sigint;
	SSL_CTX			*tls_ctx;
	SSL			*ssl;		/* c->sock's, freed by us */
	struct timeval		 tls_started;
	int			 tls_notify_sent; /* our close_notify */
	struct event		*fin_ev;	/* -x server: the FIN after it */
	int			 stdout_flags;	/* to restore; -1: untouched */

	enum client_state	 state;
	enum end_step		 step;
	uint64_t		 sent;		/* messages sent */
	uint64_t		 received;	/* replies received */
	struct line_scan	 in_scan;
	struct line_scan	 reply_scan;
	int			 in_paused;
	int			 sock_paused;
	int			 prompt_due;
	int			 prompt_shown;	/* and nothing typed since */

	int			 exit_code;
	char			 final[CLIENT_ERR_MAX + 128];	/* last word */
	int			 final_note;	/* not an error: no prefix */
};

/* client.c */
int	 client_run(struct client *);
void	 client_finish(struct client *, int, const char *, ...)
	     __attribute__((format(printf, 3, 4)));
void	 client_exit_if_drained(struct client *);
void	 client_stdout_restore(struct client *);
void	 client_session_start(struct client *);

/* client-relay.c */
void	 client_relay_start(struct client *);
void	 client_prompt(struct client *);
void	 client_sock_closed(struct client *, const char *);

/* client-end.c */
void	 client_end(struct client *);
void	 client_end_step(struct client *);
void	 client_narrate(struct client *, const char *);
void	 client_close(struct client *);

/* client-tls.c */
int	 client_tls_init(struct client *);
void	 client_tls_free(struct client *);
void	 client_tls_start(struct client *, int);
int	 client_tls_error(struct client *, char *, size_t);
void	 client_tls_shutdown(struct client *);
void	 client_tls_narrate_close(struct client *, int);
int	 client_tls_await_fin(struct client *);

/* client-stat.c */
struct timeval;
int	 client_stat_run(int, const struct timeval *, int);

#endif
