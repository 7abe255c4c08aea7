/*
 * bench.h - seqecho-bench's run: options, threads, connections, figures.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_BENCH_H
#define SEQECHO_BENCH_H

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <pthread.h>
#include <stdint.h>

#include "seqecho.h"
#include "bench-check.h"
#include "hist.h"
#include "bench-source.h"

#define BENCH_READ_MAX		(64 * 1024)	/* bytes per read(2) */
#define BENCH_WRITE_MAX		(64 * 1024)	/* bytes per write(2) */
#define BENCH_THREADS_MAX	256
/* How long to wait for owed replies, then for the server's close. */
#define BENCH_GRACE_MS		2000
#define BENCH_SAMPLE_MAX	256	/* characters describing an error */
#define NSEC			1000000000LL

enum bench_error {
	ERROR_SERIAL,		/* a reply's serial is not the next one */
	ERROR_PAYLOAD,		/* a reply's payload is not its message's */
	ERROR_MISSING,		/* a message got no reply */
	ERROR_CLOSE,		/* the server closed a connection unasked */
	ERROR_ERR,		/* the server sent an ERR line */
	ERROR_EXTRA,		/* a reply with no message waiting for it */
	ERROR_CONNECT,		/* a connection could not be set up */
	ERROR_UNCLOSED,		/* the server did not close after bye */
	ERROR_COUNT
};

struct bench_stats {
	struct hist	 latency;	/* message sent (or due) to its reply */
	struct hist	 connect;	/* connect() to established */
	struct hist	 teardown;	/* churn: reply to the server's close */
	struct hist	 lifetime;	/* churn: connect() to the close */
	struct hist	 handshake;	/* --tls: established to handshake done */
	uint64_t	 messages;	/* replies inside the window */
	uint64_t	 late;		/* replies after it */
	uint64_t	 bytes_out;
	uint64_t	 bytes_in;
	uint64_t	 opened;	/* connections established */
	uint64_t	 churned;	/* churn connections done in time */
	uint64_t	 held;		/* --idle connections set up */
	uint64_t	 handshakes;	/* --tls: done inside the window */
	uint64_t	 errors[ERROR_COUNT];
	char		 sample[ERROR_COUNT][BENCH_SAMPLE_MAX];
};

enum bench_mode {
	MODE_CLOSED,
	MODE_OPEN,		/* -R */
	MODE_CHURN,
	MODE_IDLE,
	MODE_COUNT
};

enum bench_conn_state {
	BCONN_FREE,		/* no socket (churn: between connections) */
	BCONN_CONNECTING,
	BCONN_HANDSHAKE,	/* --tls: TCP is up, TLS is not yet */
	BCONN_WARMUP,		/* --idle: the first message in flight */
	BCONN_READY,		/* set up, waiting for the run */
	BCONN_RUNNING,
	BCONN_BYE,		/* bye sent: waiting for the server's close */
	BCONN_CLOSED		/* done for good */
};

#define BCONN_WANT_BYE		0x1	/* send bye once the replies are in */
#define BCONN_BYE_QUEUED	0x2	/* bye follows the messages */
#define BCONN_SHUT		0x4	/* our FIN has gone */
#define BCONN_WRITE_WAIT	0x8	/* socket full: wev is armed */
#define BCONN_GOT_ERR		0x10	/* the server sent an ERR line */

struct event;
struct event_base;
struct ssl_st;
struct ssl_ctx_st;
struct tls_client_opts;
struct bench;
struct bench_thread;

/*
 * What is sent on a connection is a stream: issued messages of size + 1
 * bytes each, then "bye\n" once queued. Message k's bytes depend only on
 * k and the connection's id, so unsent bytes are made again from the
 * count written instead of being kept (check_fill).
 */
struct bench_conn {
	struct bench_thread	*t;
	struct event		*rev;
	struct event		*wev;
	struct event		*timer;		/* -R: send; churn: retry */
	int			 fd;
	struct ssl_st		*ssl;		/* --tls; NULL in the clear */
	enum bench_conn_state	 state;
	int			 flags;
	uint32_t		 id;		/* picks payloads and source */
	uint32_t		 closes;	/* sockets closed so far */
	uint64_t		 issued;	/* messages queued to send */
	uint64_t		 replied;	/* answered or given up on */
	struct check_serial	 serial;	/* expected on the next reply */
	uint64_t		 written;	/* stream bytes written */
	int64_t			*sent;		/* ring: when sent (or due) */
	int64_t			 t_connect;
	int64_t			 t_reply;
	int64_t			 t_tls;		/* the handshake's start */
	int64_t			 timer_due;
	double			 phase;		/* -R: offset in the cycle */
	char			*partial;	/* unfinished reply of a read */
	size_t			 plen;
};

enum bench_phase {
	PHASE_SETUP,
	PHASE_READY,
	PHASE_RUN,
	PHASE_STOPPING,
	PHASE_DONE
};

/* One event loop and its share of the connections. */
struct bench_thread {
	struct bench		*b;
	pthread_t		 tid;
	int			 index;
	struct event_base	*base;
	struct event		*go_ev;		/* the main thread: start */
	struct event		*stop_ev;	/* the main thread: stop */
	struct event		*deadline_ev;
	struct event		*grace_ev;
	int			 grace_stage;
	enum bench_phase	 phase;

	struct bench_conn	*conns;
	int			 nconns;
	uint32_t		 first_id;
	int			 next;		/* next connection to set up */
	int			 setting_up;
	int			 window;
	int			 open;		/* connections with a socket */
	uint64_t		 inflight;
	uint64_t		 budget;	/* -m left (churn: conns) */
	uint32_t		 churn_seq;

	int64_t			 start;
	int64_t			 window_end;
	char			*rbuf;
	char			*wbuf;
	char			 tls_why[BENCH_SAMPLE_MAX]; /* last EPROTO's */
	struct bench_stats	 stats;

	/* --hlog: the histograms as of the last second, for the main thread. */
	struct hist		*snap;		/* HLOG_TAGS of them */
	pthread_mutex_t		 snap_lock;
	struct event		*snap_ev;

	/* Copies for the main thread's progress line. */
	uint64_t		 live_replies;
	uint64_t		 live_errors;
	uint64_t		 live_churned;
	uint64_t		 live_open;
};

/*
 * A run: the options, what follows from them (fixed before the threads
 * start, then only read), and the main thread's state.
 */
struct bench {
	int			 conns;
	int			 depth;
	int			 size;
	int			 threads;
	int			 json;
	int			 quiet;
	enum bench_mode		 mode;
	double			 seconds;	/* 0: no time limit */
	uint64_t		 messages;	/* 0: no count limit */
	double			 rate;

	struct sockaddr_storage	 target;
	socklen_t		 target_len;
	char			 target_name[ADDRSTRLEN];
	int			 spread_sources;
	struct sources		 sources;	/* -b */
	const char		*hlog_path;	/* --hlog */
	int			 percentiles;	/* --percentiles */
	const struct bench_rates *merged;	/* --merge; NULL for a run */
	int			 tls_merged;	/* --merge of TLS runs */
	int			 proxy;		/* PROXY_NONE, _V1, _V2 */
	struct ssl_ctx_st	*tls_ctx;	/* --tls; NULL in the clear */
	char			*tls_name;	/* SNI and the name checked */
	int			 tls_insecure;
	struct timeval		 connect_timeout;
	char			*separator;
	struct check		 check;
	size_t			 msglen;	/* payload and LF */
	size_t			 reply_max;
	uint32_t		 ring_mask;
	double			 interval_ns;	/* -R: per connection */

	struct bench_thread	*thread;
	struct event_base	*base;
	struct event		*notify_ev;	/* a thread is ready or done */
	struct event		*progress_ev;
	struct event		*hold_ev;
	int			 ready;		/* threads set up (atomic) */
	int			 done;		/* threads ended (atomic) */
	int64_t			 run_start;	/* set before go (atomic) */
	int64_t			 stop_at;	/* set before stop (atomic) */
	int			 started;
	int			 stopping;
	int			 signals;
	int			 progress;	/* the line is on screen */
	int64_t			 start;
	int64_t			 end;
	int64_t			 last_tick;
	uint64_t		 last_count;
	struct rusage		 ru_start;

	/* --hlog, on the main thread. */
	FILE			*hlog;
	struct hist		*hlog_prev;	/* HLOG_TAGS sums written */
	struct event		*hlog_ev;
	double			 hlog_epoch;	/* the base time */
	int64_t			 hlog_mono;	/* its monotonic clock */
	int64_t			 hlog_last;	/* the last interval's end */
};

#define HLOG_TAGS		3	/* latency, connect, teardown */

/* What the JSON's histograms are, so --merge adds only like to like. */
#define BENCH_HIST_LAYOUT	"HdrHistogram, 2 significant digits, ns"

/* Rates of a report: one run's, or --merge's sums. */
struct bench_rates {
	int		 runs;
	double		 messages;	/* per second */
	double		 churned;
	double		 handshakes;
};

/* bench.c */
int64_t		 now_ns(void);
void		 ns_to_timeval(int64_t, struct timeval *);
void		 bench_tell_main(struct bench *, int *);

/* bench-options.c */
void		 bench_setup(struct bench *, int, char **);

/* bench-target.c */
void		 bench_target(struct bench *, const char *, const char *);
void		 bench_sources_option(struct bench *, const char *);

/* bench-merge.c */
int		 bench_merge_main(int, char **);

/* bench-thread.c */
void		 bench_thread_new(struct bench *, struct bench_thread *);
void		*bench_thread_main(void *);
void		 bench_thread_delete(struct bench_thread *);
void		 bench_thread_error(struct bench_thread *, enum bench_error,
		    uint64_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
void		 bench_thread_setup_next(struct bench_thread *);
void		 bench_thread_check_done(struct bench_thread *);
void		 bench_thread_live(struct bench_thread *);

/* bench-conn.c */
void		 bench_conn_init(struct bench_thread *, struct bench_conn *,
		    int);
void		 bench_conn_free(struct bench_conn *);
int		 bench_conn_connect(struct bench_conn *);
void		 bench_conn_setup_failed(struct bench_conn *, const char *,
		    const char *);
void		 bench_conn_established(struct bench_conn *, int64_t);

/* bench-end.c */
void		 bench_conn_stop(struct bench_conn *);
void		 bench_conn_grace(struct bench_conn *, int);
void		 bench_conn_eof(struct bench_conn *, int);
void		 bench_conn_close(struct bench_conn *);
void		 bench_conn_churn_next(struct bench_conn *);

/* bench-msg.c */
int		 bench_conn_read(struct bench_conn *);
void		 bench_conn_start(struct bench_conn *, int64_t);
void		 bench_conn_schedule(struct bench_conn *, int64_t);
void		 bench_conn_flush(struct bench_conn *);
void		 bench_conn_bye(struct bench_conn *);

/* bench-tls.c */
void		 bench_tls_configure(struct bench *, int, const char *,
		    struct tls_client_opts *, const char *,
		    const struct config *, const char *);
void		 bench_tls_free(struct bench *);
void		 bench_tls_begin(struct bench_conn *, int64_t);
void		 bench_tls_handshake(struct bench_conn *, short);
ssize_t		 bench_tls_read(struct bench_conn *, char *, size_t);
ssize_t		 bench_tls_write(struct bench_conn *, const char *, size_t);
void		 bench_tls_shutdown(struct bench_conn *);

/* bench-hlog.c */
void		 bench_hlog_open(struct bench *);
void		 bench_hlog_thread_new(struct bench_thread *);
void		 bench_hlog_thread_delete(struct bench_thread *);
void		 bench_hlog_start(struct bench *);
void		 bench_hlog_finish(struct bench *, const struct bench_stats *);

/* bench-report.c */
extern const char *const bench_error_keys[ERROR_COUNT];
extern const char *const bench_mode_names[MODE_COUNT];
void		 bench_report(const struct bench *, const struct bench_stats *,
		    double, double, double);
void		 bench_progress(struct bench *);
void		 bench_progress_clear(struct bench *);

#endif
