/*
 * bench.c - seqecho-bench: load a seqecho server and check every reply.
 *
 * Each of the -T threads runs its own event base with its share of the
 * connections. Every reply is checked against the message it answers:
 * serial k, then that message's payload. Payloads differ from message to
 * message (a window into a 61-character cycle that moves on by one per
 * message and starts elsewhere on each connection), so the echo of a
 * wrong message shows; they never hold a LF, a CR, a digit or "bye".
 *
 * Sockets are driven by plain events and read(2)/write(2), not by
 * bufferevents. Against ref_epoll on one core, W2 (50 connections, 1 in
 * flight, 16 B), medians of five interleaved runs: a bufferevent client
 * made 100k msg/s, a plain-event client 182k, loadgen 193k. Here a
 * bufferevent costs an ioctl(FIONREAD) per read and an epoll_ctl pair and
 * a loop pass per write, which made the tool the bottleneck.
 *
 * A run, per thread: set up (connect; --idle also one round trip), report
 * ready, wait for go so that every thread's clock starts together, run
 * until the deadline, -m or a stop from the main thread, then wait up to
 * CLOSE_GRACE_MS for the replies owed, send bye, and wait as long again
 * for the server to close.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "seqecho.h"

#define BENCH_READ_MAX		(64 * 1024)	/* bytes per read(2) */
#define BENCH_WRITE_MAX		(64 * 1024)	/* bytes per write(2) */
#define BENCH_CONNS		50		/* default -n */
#define BENCH_CONNS_MAX		1000000
#define BENCH_DEPTH_MAX		65536
#define BENCH_SIZE		16		/* default -s */
#define BENCH_SIZE_MAX		(1024 * 1024)
#define BENCH_SECONDS		5		/* default -d */
#define BENCH_THREADS_MAX	256
/* Descriptors needed beyond one per connection. */
#define BENCH_FD_RESERVE	(32 + 2 * BENCH_THREADS_MAX)

/*
 * Connections being set up at once, over all threads: a burst far past
 * the server's listen backlog is only answered by SYN retries a second
 * later.
 */
#define SETUP_WINDOW		128
/* How long to wait for owed replies, then for the server's close. */
#define CLOSE_GRACE_MS		2000
/* A churn slot whose connect failed waits this long before the next. */
#define CHURN_PAUSE_MS		10
/* On IPv4 loopback, sources 127.0.0.1 to 127.0.0.LOOPBACK_SOURCES. */
#define LOOPBACK_SOURCES	32
/* Prime, so no shorter period lets a wrong message's payload match. */
#define PATTERN_CYCLE		61
/* Room in a reply for more than the expected one, an ERR line say. */
#define REPLY_SLACK		256
#define SAMPLE_MAX		256	/* characters describing an error */
#define SAMPLE_BYTES		40	/* bytes of a reply shown in it */
#define MATCH_AHEAD		16	/* replies searched for a dropped one */
#define NSEC			1000000000LL

/*
 * Log-bucketed histogram of nanoseconds: values below 2 * HIST_SUB are
 * exact, and each power of two above is cut into HIST_SUB buckets, so a
 * bucket is at most 1/64 of its values wide (HdrHistogram's scheme).
 */
#define HIST_SUB_BITS		6
#define HIST_SUB		(1 << HIST_SUB_BITS)
#define HIST_BUCKETS		((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t	 count;
	uint64_t	 sum;
	uint64_t	 min;
	uint64_t	 max;
	uint64_t	 bucket[HIST_BUCKETS];
};

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

static const char *error_names[ERROR_COUNT] = {
	"wrong serial", "wrong payload", "missing reply", "unexpected close",
	"ERR line", "extra reply", "connect failed", "not closed"
};
static const char *error_keys[ERROR_COUNT] = {
	"wrong_serial", "wrong_payload", "missing_reply", "unexpected_close",
	"err_line", "extra_reply", "connect_failed", "not_closed"
};

struct bench_stats {
	struct hist	 latency;	/* message sent (or due) to its reply */
	struct hist	 connect;	/* connect() to established */
	struct hist	 teardown;	/* churn: reply to the server's close */
	struct hist	 lifetime;	/* churn: connect() to the close */
	uint64_t	 messages;	/* replies inside the window */
	uint64_t	 late;		/* replies after it */
	uint64_t	 bytes_out;
	uint64_t	 bytes_in;
	uint64_t	 opened;	/* connections established */
	uint64_t	 churned;	/* churn connections done in time */
	uint64_t	 held;		/* --idle connections set up */
	uint64_t	 errors[ERROR_COUNT];
	char		 sample[ERROR_COUNT][SAMPLE_MAX];
};

enum bench_mode {
	MODE_CLOSED,
	MODE_OPEN,		/* -R */
	MODE_CHURN,
	MODE_IDLE
};

static const char *mode_names[] = { "closed", "open", "churn", "idle" };

enum conn_state {
	CONN_FREE,		/* no socket (churn: between connections) */
	CONN_CONNECTING,
	CONN_WARMUP,		/* --idle: the first message in flight */
	CONN_READY,		/* set up, waiting for the run */
	CONN_RUNNING,
	CONN_BYE,		/* bye sent: waiting for the server's close */
	CONN_CLOSED		/* done for good */
};

#define CONN_WANT_BYE		0x1	/* send bye once the replies are in */
#define CONN_BYE_QUEUED		0x2	/* bye follows the messages */
#define CONN_SHUT		0x4	/* our FIN has gone */
#define CONN_WRITE_WAIT		0x8	/* socket full: wev is armed */
#define CONN_GOT_ERR		0x10	/* the server sent an ERR line */

struct thread;

/*
 * What is sent on a connection is a stream: issued messages of msglen
 * bytes each, then "bye\n" once queued. Message k's bytes depend only on
 * k and the connection's id, so unsent bytes are made again from the
 * count written instead of being kept.
 */
struct conn {
	struct thread	*t;
	struct event	*rev;
	struct event	*wev;
	struct event	*timer;		/* -R: next send; churn: retry */
	int		 fd;
	enum conn_state	 state;
	int		 flags;
	uint32_t	 id;		/* picks payloads and source address */
	uint32_t	 closes;	/* sockets closed: tells a read it ended */
	uint64_t	 issued;	/* messages queued to send */
	uint64_t	 replied;	/* messages answered or given up on */
	uint64_t	 serial;	/* serial expected on the next reply */
	char		 digits[PROTO_SERIAL_MAX];	/* serial, in ASCII */
	size_t		 ndigits;
	uint64_t	 written;	/* bytes of the stream written */
	int64_t		*sent;		/* ring: each message's send time */
	int64_t		 t_connect;
	int64_t		 t_reply;
	int64_t		 timer_due;
	double		 phase;		/* -R: its offset in the send cycle */
	char		*partial;	/* unfinished reply of the last read */
	size_t		 plen;
};

enum thread_phase {
	PHASE_SETUP,
	PHASE_READY,
	PHASE_RUN,
	PHASE_STOPPING,
	PHASE_DONE
};

struct thread {
	pthread_t		 tid;
	int			 index;
	struct event_base	*base;
	int			 control[2];	/* main to thread: go, stop */
	struct event		*control_ev;
	struct event		*deadline_ev;
	struct event		*grace_ev;
	int			 grace_stage;
	enum thread_phase	 phase;

	struct conn		*conns;
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
	struct bench_stats	 stats;

	/* Copies for the main thread's progress line. */
	uint64_t		 live_replies;
	uint64_t		 live_errors;
	uint64_t		 live_churned;
	uint64_t		 live_open;
};

/* The options, fixed once parsed. */
static struct {
	int		 conns;
	int		 depth;
	int		 size;
	int		 threads;
	int		 json;
	int		 quiet;
	enum bench_mode	 mode;
	double		 seconds;	/* 0: no time limit */
	uint64_t	 messages;	/* 0: no count limit */
	double		 rate;
} opt = { BENCH_CONNS, 1, BENCH_SIZE, 1, 0, 0, MODE_CLOSED, 0, 0, 0 };

static struct sockaddr_storage	 target;
static socklen_t		 target_len;
static char			 target_name[ADDRSTRLEN];
static int			 spread_sources;
static struct timeval		 connect_timeout;
static char			*separator;
static size_t			 seplen;
static char			*pattern;	/* PATTERN_CYCLE + size bytes */
static size_t			 msglen;	/* payload and LF */
static size_t			 reply_max;
static uint32_t			 ring_mask;
static double			 interval_ns;	/* -R: per connection */

static int			 notify_fd[2];	/* threads to main */
static int64_t			 run_start;	/* set before go */
static int64_t			 stop_at;	/* set before stop */
static struct thread		*threads;

/* The main thread's state. */
static struct {
	struct event_base	*base;
	struct event		*notify_ev;
	struct event		*progress_ev;
	struct event		*hold_ev;
	int			 ready;
	int			 done;
	int			 stopping;
	int			 signals;
	int			 progress;	/* the line is on screen */
	int64_t			 start;
	int64_t			 end;
	int64_t			 last_tick;
	uint64_t		 last_count;
	struct rusage		 ru_start;
} run;

static void	usage(FILE *, int) __attribute__((noreturn));
static long long parse_count(int, const char *, long long, long long);
static double	parse_real(int, const char *, double, double);
static void	setup_target(const char *, const char *);
static int	probe_address(const struct sockaddr *, socklen_t);
static void	setup_payload(void);
static void	raise_fd_limit(void);
static int64_t	now_ns(void);
static void	ns_to_timeval(int64_t, struct timeval *);

static unsigned	hist_index(uint64_t);
static uint64_t	hist_mid(unsigned);
static void	hist_add(struct hist *, int64_t);
static void	hist_merge(struct hist *, const struct hist *);
static uint64_t	hist_percentile(const struct hist *, double);

static const char *payload_of(const struct conn *, uint64_t);
static int	payload_matches(const struct conn *, uint64_t, const char *,
		    size_t);
static size_t	sample_text(char *, size_t, const char *, size_t);
static void	thread_error(struct thread *, enum bench_error, uint64_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static void	*thread_main(void *);
static void	thread_init(struct thread *);
static void	thread_free(struct thread *);
static void	thread_control_cb(evutil_socket_t, short, void *);
static void	thread_deadline_cb(evutil_socket_t, short, void *);
static void	thread_grace_cb(evutil_socket_t, short, void *);
static void	thread_setup_next(struct thread *);
static void	thread_go(struct thread *);
static void	thread_stop(struct thread *, int64_t);
static void	thread_check_done(struct thread *);
static void	thread_live(struct thread *);
static void	notify_main(char);

static int	conn_connect(struct conn *);
static void	conn_connect_failed(struct conn *, int);
static void	conn_connected(struct conn *, short);
static int	conn_read(struct conn *);
static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_churn_cb(evutil_socket_t, short, void *);
static void	conn_timer_cb(evutil_socket_t, short, void *);
static void	conn_reply(struct conn *, const char *, size_t, int64_t);
static void	conn_reply_odd(struct conn *, const char *, size_t, int64_t);
static void	conn_account(struct conn *, uint64_t, int64_t);
static void	conn_set_serial(struct conn *, uint64_t);
static void	conn_after_read(struct conn *, int64_t);
static void	conn_issue(struct conn *, int64_t);
static void	conn_schedule(struct conn *, int64_t);
static void	conn_flush(struct conn *);
static void	conn_fill(const struct conn *, uint64_t, char *, size_t);
static void	conn_bye(struct conn *);
static void	conn_eof(struct conn *, int);
static void	conn_close(struct conn *);
static void	conn_churn_next(struct conn *);

static void	main_notify_cb(evutil_socket_t, short, void *);
static void	main_signal_cb(evutil_socket_t, short, void *);
static void	main_progress_cb(evutil_socket_t, short, void *);
static void	main_hold_cb(evutil_socket_t, short, void *);
static void	main_start(void);
static void	main_stop(void);
static void	main_tell(char);
static void	progress_clear(void);

static void	report(const struct bench_stats *, double, double, double);
static void	report_text(const struct bench_stats *, double, double,
		    double);
static void	report_json(const struct bench_stats *, double, double,
		    double);
static void	print_hist_text(const char *, const struct hist *);
static void	print_hist_json(const char *, const struct hist *);
static void	print_json_string(const char *);

static const char usage_text[] =
    "usage: seqecho-bench [-n conns] [-P depth] [-s bytes] "
    "[-d seconds | -m messages]\n"
    "                     [-T threads] [-R rate] [--churn | --idle] "
    "[--json] [-qV]\n"
    "                     [-c file] [host [port]]\n";

/* Print the synopsis and exit. */
static void
usage(FILE *f, int status)
{
	fputs(usage_text, f);
	exit(status);
}

/* A whole number in [min, max] for option ch, or exit. */
static long long
parse_count(int ch, const char *s, long long min, long long max)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "seqecho-bench: -%c %s: must be %lld..%lld\n",
		    ch, s, min, max);
		exit(1);
	}
	return (v);
}

/* A number (fractions allowed) in (min, max] for option ch, or exit. */
static double
parse_real(int ch, const char *s, double min, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v > min) ||
	    !(v <= max)) {
		fprintf(stderr, "seqecho-bench: -%c %s: must be more than %g "
		    "and at most %g\n", ch, s, min, max);
		exit(1);
	}
	return (v);
}

/* Nanoseconds on the monotonic clock. */
static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * NSEC + ts.tv_nsec);
}

/* Nanoseconds from now as a libevent timeout. */
static void
ns_to_timeval(int64_t ns, struct timeval *tv)
{
	if (ns < 0)
		ns = 0;
	tv->tv_sec = ns / NSEC;
	tv->tv_usec = (ns % NSEC) / 1000;
}

/*
 * Resolve the target. When a name has several addresses (localhost: ::1
 * and 127.0.0.1), use the first that accepts a connection, so the whole
 * run does not fail on the one the server does not listen on.
 */
static void
setup_target(const char *host, const char *port)
{
	struct evutil_addrinfo	 hints, *res, *ai;
	int			 error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	error = evutil_getaddrinfo(host, port, &hints, &res);
	if (error != 0) {
		fprintf(stderr, "seqecho-bench: %s: %s\n", host,
		    evutil_gai_strerror(error));
		exit(1);
	}
	ai = res;
	if (res->ai_next != NULL) {
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if (probe_address(ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		}
		if (ai == NULL)
			ai = res;
	}
	memcpy(&target, ai->ai_addr, ai->ai_addrlen);
	target_len = ai->ai_addrlen;
	addr_format((struct sockaddr *)&target, target_name,
	    sizeof target_name);
	evutil_freeaddrinfo(res);

	/*
	 * Every 127/8 address is local on Linux: spreading the sources gives
	 * more 4-tuples, so ports in TIME_WAIT do not cap --churn and many
	 * connections fit. Elsewhere only 127.0.0.1 may exist: check.
	 */
	if (target.ss_family == AF_INET) {
		struct sockaddr_in	*sin = (struct sockaddr_in *)&target;
		struct sockaddr_in	 src;
		int			 fd;

		if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
			return;
		memset(&src, 0, sizeof src);
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return;
		spread_sources = bind(fd, (struct sockaddr *)&src,
		    sizeof src) == 0;
		close(fd);
	}
}

/* Try a connection to sa within the connect timeout; end it with bye. */
static int
probe_address(const struct sockaddr *sa, socklen_t len)
{
	struct pollfd	pfd;
	int		fd, error = 0, ms;
	socklen_t	elen = sizeof error;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-1);
	if (connect(fd, sa, len) == -1) {
		if (errno != EINPROGRESS) {
			close(fd);
			return (-1);
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		ms = (int)(connect_timeout.tv_sec * 1000 +
		    connect_timeout.tv_usec / 1000);
		if (poll(&pfd, 1, ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &elen) == -1 ||
		    error != 0) {
			close(fd);
			return (-1);
		}
	}
	/* A clean session, not a reset: the server logs reason=bye. */
	if (write(fd, "bye\n", 4) == 4)
		shutdown(fd, SHUT_WR);
	close(fd);
	return (0);
}

/* Build the payload cycle and the sizes that follow from -s. */
static void
setup_payload(void)
{
	static const char	 cycle[PATTERN_CYCLE + 1] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,:;-_+=/";
	size_t			 i, len;

	len = PATTERN_CYCLE + (size_t)opt.size;
	pattern = xmalloc(len);
	for (i = 0; i < len; i++)
		pattern[i] = cycle[i % PATTERN_CYCLE];
	msglen = (size_t)opt.size + 1;
	reply_max = PROTO_SERIAL_MAX + seplen + (size_t)opt.size +
	    REPLY_SLACK;

	ring_mask = 1;
	while (ring_mask < (uint32_t)opt.depth)
		ring_mask <<= 1;
	ring_mask--;
	if (opt.mode == MODE_OPEN)
		interval_ns = (double)opt.conns * 1e9 / opt.rate;
}

/* One descriptor per connection: raise the soft limit, or say why not. */
static void
raise_fd_limit(void)
{
	struct rlimit	rl;
	rlim_t		need;

	need = (rlim_t)opt.conns + BENCH_FD_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "seqecho-bench: -n %d needs %llu file "
		    "descriptors, the hard limit is %llu (ulimit -n)\n",
		    opt.conns, (unsigned long long)need,
		    (unsigned long long)rl.rlim_max);
		exit(1);
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fprintf(stderr, "seqecho-bench: setrlimit: %s\n",
		    strerror(errno));
		exit(1);
	}
}

/* The bucket of a value. */
static unsigned
hist_index(uint64_t v)
{
	unsigned	shift;

	if (v < 2 * HIST_SUB)
		return ((unsigned)v);
	shift = 63 - (unsigned)__builtin_clzll(v) - HIST_SUB_BITS;
	return (shift * HIST_SUB + (unsigned)(v >> shift));
}

/* The middle of a bucket. */
static uint64_t
hist_mid(unsigned i)
{
	unsigned	shift;
	uint64_t	low;

	if (i < 2 * HIST_SUB)
		return (i);
	shift = i / HIST_SUB - 1;
	low = (uint64_t)(i % HIST_SUB + HIST_SUB) << shift;
	return (low + ((1ULL << shift) >> 1));
}

/* Count one value; a negative one (clock skew) counts as 0. */
static void
hist_add(struct hist *h, int64_t ns)
{
	uint64_t	v = ns < 0 ? 0 : (uint64_t)ns;

	h->bucket[hist_index(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

/* Add one histogram into another. */
static void
hist_merge(struct hist *to, const struct hist *from)
{
	unsigned	i;

	if (from->count == 0)
		return;
	for (i = 0; i < HIST_BUCKETS; i++)
		to->bucket[i] += from->bucket[i];
	if (to->count == 0 || from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
	to->count += from->count;
	to->sum += from->sum;
}

/* The value below which a fraction q of the values lie, in ns. */
static uint64_t
hist_percentile(const struct hist *h, double q)
{
	uint64_t	rank, seen = 0, v;
	unsigned	i;

	if (h->count == 0)
		return (0);
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	v = hist_mid(i);
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return (v);
}

/* Message k's payload on connection c: size bytes from the cycle. */
static const char *
payload_of(const struct conn *c, uint64_t k)
{
	return (pattern + (k + (uint64_t)c->id * 7) % PATTERN_CYCLE);
}

/* Is p, len bytes, the payload of message k? */
static int
payload_matches(const struct conn *c, uint64_t k, const char *p, size_t len)
{
	return (len == (size_t)opt.size &&
	    memcmp(p, payload_of(c, k), len) == 0);
}

/* Bytes as printable text, escaped and cut short; returns its length. */
static size_t
sample_text(char *buf, size_t size, const char *p, size_t len)
{
	size_t	i, n = 0;
	int	r;

	for (i = 0; i < len && i < SAMPLE_BYTES && n + 5 < size; i++) {
		unsigned char	ch = (unsigned char)p[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			buf[n++] = (char)ch;
		else {
			r = snprintf(buf + n, size - n, "\\x%02x", ch);
			n += (size_t)r;
		}
	}
	if (i < len && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return (n);
}

/* Count n errors of a kind; the first of each kind is described. */
static void
thread_error(struct thread *t, enum bench_error kind, uint64_t n,
    const char *fmt, ...)
{
	va_list	ap;

	t->stats.errors[kind] += n;
	if (t->stats.sample[kind][0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(t->stats.sample[kind], SAMPLE_MAX, fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&t->live_errors, t->live_errors + n,
	    __ATOMIC_RELAXED);
}

/* A load thread: its own event base, its share of the connections. */
static void *
thread_main(void *arg)
{
	struct thread	*t = arg;

	thread_init(t);
	if (opt.mode == MODE_CHURN) {
		t->phase = PHASE_READY;
		notify_main('r');
	} else
		thread_setup_next(t);
	event_base_dispatch(t->base);
	thread_free(t);
	notify_main('d');
	return (NULL);
}

/* Make the thread's event base, timers and connections, in the thread. */
static void
thread_init(struct thread *t)
{
	struct event_config	*cfg;
	struct conn		*c;
	int			 i;

	if ((cfg = event_config_new()) == NULL)
		fatalx("cannot create an event configuration");
	/* One thread per base; -R needs timers finer than epoll's 1 ms. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	if (opt.mode == MODE_OPEN)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	if ((t->base = event_base_new_with_config(cfg)) == NULL)
		fatalx("cannot create an event base");
	event_config_free(cfg);

	t->control_ev = event_new(t->base, t->control[0], EV_READ | EV_PERSIST,
	    thread_control_cb, t);
	t->deadline_ev = evtimer_new(t->base, thread_deadline_cb, t);
	t->grace_ev = evtimer_new(t->base, thread_grace_cb, t);
	if (t->control_ev == NULL || t->deadline_ev == NULL ||
	    t->grace_ev == NULL || event_add(t->control_ev, NULL) == -1)
		fatalx("cannot create events");

	t->rbuf = xmalloc(BENCH_READ_MAX + reply_max);
	t->wbuf = xmalloc(BENCH_WRITE_MAX);
	t->window_end = INT64_MAX;
	t->window = SETUP_WINDOW / opt.threads > 0 ?
	    SETUP_WINDOW / opt.threads : 1;

	t->conns = xcalloc((size_t)t->nconns, sizeof *t->conns);
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		c->t = t;
		c->fd = -1;
		c->id = t->first_id + (uint32_t)i;
		c->sent = xcalloc((size_t)ring_mask + 1, sizeof *c->sent);
		c->phase = (double)c->id / opt.conns;
		c->rev = event_new(t->base, -1, 0, NULL, NULL);
		c->wev = event_new(t->base, -1, 0, NULL, NULL);
		if (c->rev == NULL || c->wev == NULL)
			fatalx("cannot create events");
		if (opt.mode == MODE_OPEN || opt.mode == MODE_CHURN) {
			c->timer = evtimer_new(t->base, conn_timer_cb, c);
			if (c->timer == NULL)
				fatalx("cannot create a timer");
		}
	}
}

/* Free what the thread made; its stats stay for the report. */
static void
thread_free(struct thread *t)
{
	struct conn	*c;
	int		 i;

	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		if (c->fd != -1)
			conn_close(c);
		event_free(c->rev);
		event_free(c->wev);
		if (c->timer != NULL)
			event_free(c->timer);
		free(c->sent);
		free(c->partial);
	}
	free(t->conns);
	free(t->rbuf);
	free(t->wbuf);
	event_free(t->control_ev);
	event_free(t->deadline_ev);
	event_free(t->grace_ev);
	event_base_free(t->base);
	close(t->control[0]);
}

/* Tell the main thread: 'r' set up, 'd' done. */
static void
notify_main(char what)
{
	while (write(notify_fd[1], &what, 1) == -1 && errno == EINTR)
		;
}

/* A word from the main thread: 'g' to start, 's' to stop. */
static void
thread_control_cb(evutil_socket_t fd, short what, void *arg)
{
	struct thread	*t = arg;
	char		 buf[16];
	ssize_t		 n, i;

	(void)what;
	if ((n = read(fd, buf, sizeof buf)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		if (buf[i] == 'g' && t->phase == PHASE_READY)
			thread_go(t);
		else if (buf[i] == 's')
			thread_stop(t, __atomic_load_n(&stop_at,
			    __ATOMIC_ACQUIRE));
	}
}

/* -d has run out. */
static void
thread_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct thread	*t = arg;

	(void)fd;
	(void)what;
	thread_stop(t, t->window_end);
}

/*
 * Start connections until SETUP_WINDOW are under way; say ready once all
 * have been tried. Failures do not recurse here, so a run of them cannot
 * grow the stack.
 */
static void
thread_setup_next(struct thread *t)
{
	struct conn	*c;

	while (t->phase == PHASE_SETUP && t->next < t->nconns &&
	    t->setting_up < t->window) {
		c = &t->conns[t->next++];
		t->setting_up++;
		if (conn_connect(c) == -1) {
			t->setting_up--;
			c->state = CONN_CLOSED;
		}
	}
	if (t->phase == PHASE_SETUP && t->next == t->nconns &&
	    t->setting_up == 0) {
		t->phase = PHASE_READY;
		thread_live(t);
		notify_main('r');
	}
}

/* Start the measured run, on the clock the main thread set. */
static void
thread_go(struct thread *t)
{
	struct timeval	 tv;
	struct conn	*c;
	int64_t		 now;
	int		 i;

	t->start = __atomic_load_n(&run_start, __ATOMIC_ACQUIRE);
	t->phase = PHASE_RUN;
	now = now_ns();
	if (opt.seconds > 0 && opt.mode != MODE_IDLE) {
		t->window_end = t->start + (int64_t)(opt.seconds * NSEC);
		ns_to_timeval(t->window_end - now, &tv);
		evtimer_add(t->deadline_ev, &tv);
	}
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		if (opt.mode == MODE_CHURN) {
			conn_churn_next(c);
			continue;
		}
		if (c->state != CONN_READY)
			continue;
		c->state = CONN_RUNNING;
		if (opt.mode == MODE_CLOSED) {
			conn_issue(c, now);
			conn_flush(c);
		} else if (opt.mode == MODE_OPEN)
			conn_schedule(c, now);
	}
	thread_live(t);
	thread_check_done(t);
}

/*
 * End the run at time when: no more messages; each connection says bye
 * once its replies are in; the grace timer deals with the stragglers.
 */
static void
thread_stop(struct thread *t, int64_t when)
{
	struct timeval	 tv;
	struct conn	*c;
	int		 i;

	if (t->phase >= PHASE_STOPPING)
		return;
	if (when < t->window_end)
		t->window_end = when;
	t->phase = PHASE_STOPPING;
	evtimer_del(t->deadline_ev);
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		if (c->timer != NULL)
			evtimer_del(c->timer);
		switch (c->state) {
		case CONN_CONNECTING:
			/* A churn connection finishes; set-up is cut short. */
			if (opt.mode != MODE_CHURN) {
				t->setting_up--;
				conn_close(c);
				c->state = CONN_CLOSED;
			}
			break;
		case CONN_READY:
		case CONN_RUNNING:
			if (c->issued == c->replied)
				conn_bye(c);
			else {
				c->state = CONN_RUNNING;
				c->flags |= CONN_WANT_BYE;
			}
			break;
		case CONN_FREE:
			c->state = CONN_CLOSED;
			break;
		default:
			/* WARMUP says bye after its reply; BYE is under way. */
			break;
		}
	}
	ns_to_timeval((int64_t)CLOSE_GRACE_MS * 1000000, &tv);
	t->grace_stage = 1;
	evtimer_add(t->grace_ev, &tv);
	thread_live(t);
	thread_check_done(t);
}

/*
 * The grace has run out. First time: what is still owed is missing, and
 * everyone gets a bye. Second time: whoever has not closed is closed.
 */
static void
thread_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct thread	*t = arg;
	struct timeval	 tv;
	struct conn	*c;
	uint64_t	 owed;
	int		 i;

	(void)fd;
	(void)what;
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		if (c->fd == -1)
			continue;
		if (c->state == CONN_CONNECTING) {
			conn_close(c);
			c->state = CONN_CLOSED;
			continue;
		}
		if (t->grace_stage == 1) {
			owed = c->issued - c->replied;
			if (owed > 0 && !(c->flags & CONN_GOT_ERR))
				thread_error(t, ERROR_MISSING, owed,
				    "connection %u: %" PRIu64 " replies still "
				    "owed %d ms after the end", c->id, owed,
				    CLOSE_GRACE_MS);
			c->replied = c->issued;
			t->inflight -= owed;
			if (c->state != CONN_BYE)
				conn_bye(c);
		} else {
			if (!(c->flags & CONN_GOT_ERR))
				thread_error(t, ERROR_UNCLOSED, 1,
				    "connection %u: not closed by the server "
				    "%d ms after bye", c->id, CLOSE_GRACE_MS);
			conn_close(c);
			c->state = CONN_CLOSED;
		}
	}
	if (t->grace_stage++ == 1) {
		ns_to_timeval((int64_t)CLOSE_GRACE_MS * 1000000, &tv);
		evtimer_add(t->grace_ev, &tv);
	}
	thread_live(t);
	thread_check_done(t);
}

/* Stop a run with nothing left to do; end the loop once all closed. */
static void
thread_check_done(struct thread *t)
{
	int	idle;

	if (t->phase == PHASE_RUN) {
		if (opt.mode == MODE_CHURN)
			idle = t->open == 0 && t->budget == 0;
		else
			idle = t->open == 0 ||
			    (t->budget == 0 && t->inflight == 0);
		if (idle)
			thread_stop(t, now_ns());
		return;
	}
	if (t->phase == PHASE_STOPPING && t->open == 0) {
		t->phase = PHASE_DONE;
		event_base_loopbreak(t->base);
	}
}

/* Publish the counters the progress line shows. */
static void
thread_live(struct thread *t)
{
	__atomic_store_n(&t->live_replies, t->stats.messages + t->stats.late,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&t->live_churned, t->stats.churned, __ATOMIC_RELAXED);
	__atomic_store_n(&t->live_open, (uint64_t)t->open, __ATOMIC_RELAXED);
}

/* Open a socket and start connecting; -1 if that failed at once. */
static int
conn_connect(struct conn *c)
{
	struct thread		*t = c->t;
	struct sockaddr_in	 src;
	int			 fd, one = 1;

	fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		conn_connect_failed(c, errno);
		return (-1);
	}
	if (spread_sources) {
		memset(&src, 0, sizeof src);
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(INADDR_LOOPBACK +
		    c->id % LOOPBACK_SOURCES);
#ifdef IP_BIND_ADDRESS_NO_PORT
		/* The port is chosen at connect, per 4-tuple. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
#endif
		if (bind(fd, (struct sockaddr *)&src, sizeof src) == -1) {
			int	error = errno;

			close(fd);
			conn_connect_failed(c, error);
			return (-1);
		}
	}
	/* Churn sends its one message in one write: Nagle cannot delay. */
	if (opt.mode != MODE_CHURN)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->t_connect = now_ns();
	if (connect(fd, (struct sockaddr *)&target, target_len) == -1 &&
	    errno != EINPROGRESS) {
		int	error = errno;

		close(fd);
		conn_connect_failed(c, error);
		return (-1);
	}
	c->fd = fd;
	c->state = CONN_CONNECTING;
	c->flags = 0;
	c->issued = c->replied = c->written = 0;
	conn_set_serial(c, 0);
	c->plen = 0;
	t->open++;
	if (opt.mode == MODE_CHURN) {
		/*
		 * One edge-triggered event for the connection's whole life:
		 * one epoll_ctl to add and one to delete, not four, and the
		 * reply and the close are read in one pass. The timeout is
		 * the connect timeout, then one for a stall.
		 */
		event_assign(c->rev, t->base, fd, EV_READ | EV_WRITE |
		    EV_PERSIST | EV_ET, conn_churn_cb, c);
		event_add(c->rev, &connect_timeout);
		return (0);
	}
	event_assign(c->rev, t->base, fd, EV_READ | EV_PERSIST, conn_read_cb,
	    c);
	event_assign(c->wev, t->base, fd, EV_WRITE, conn_write_cb, c);
	event_add(c->wev, &connect_timeout);
	return (0);
}

/* Count a failed connect; a churn slot tries again after a pause. */
static void
conn_connect_failed(struct conn *c, int error)
{
	struct timeval	tv;

	thread_error(c->t, ERROR_CONNECT, 1, "connect %s: %s", target_name,
	    strerror(error));
	if (opt.mode == MODE_CHURN) {
		c->state = CONN_FREE;
		ns_to_timeval((int64_t)CHURN_PAUSE_MS * 1000000, &tv);
		evtimer_add(c->timer, &tv);
	} else
		c->state = CONN_CLOSED;
}

/* The handshake is over, or the connect timed out. */
static void
conn_connected(struct conn *c, short what)
{
	struct thread	*t = c->t;
	socklen_t	 len = sizeof(int);
	int		 error = 0;
	int64_t		 now;

	/*
	 * Churn's event also watches for reading: a connect that worked
	 * shows writable only, one that failed shows an error, which
	 * libevent reports as readable too. That saves a getsockopt per
	 * connection.
	 */
	if (what & EV_TIMEOUT)
		error = ETIMEDOUT;
	else if ((opt.mode != MODE_CHURN || (what & EV_READ)) &&
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error != 0) {
		conn_close(c);
		conn_connect_failed(c, error);
		if (opt.mode != MODE_CHURN) {
			t->setting_up--;
			thread_setup_next(t);
		}
		thread_check_done(t);
		return;
	}
	now = now_ns();
	hist_add(&t->stats.connect, now - c->t_connect);
	t->stats.opened++;
	if (opt.mode != MODE_CHURN)
		event_add(c->rev, NULL);

	switch (opt.mode) {
	case MODE_IDLE:
		/* One round trip: proof the server serves this connection. */
		c->state = CONN_WARMUP;
		c->sent[0] = now;
		c->issued = 1;
		t->inflight++;
		conn_flush(c);
		break;
	case MODE_CHURN:
		/* The message and bye together, then our FIN. */
		c->sent[0] = now;
		c->issued = 1;
		t->inflight++;
		conn_bye(c);
		break;
	default:
		c->state = CONN_READY;
		t->setting_up--;
		thread_setup_next(t);
		break;
	}
}

/*
 * Read once, check each complete reply, and send what is due. Returns 1
 * if the connection is still there, 0 if there was nothing to read, -1
 * if it has ended (and a churn slot may hold a new one already).
 */
static int
conn_read(struct conn *c)
{
	struct thread	*t = c->t;
	char		*buf = t->rbuf, *p, *end, *nl;
	ssize_t		 n;
	size_t		 left;
	int64_t		 now;
	uint32_t	 closes = c->closes;

	if (c->plen > 0)
		memcpy(buf, c->partial, c->plen);
	n = read(c->fd, buf + c->plen, BENCH_READ_MAX);
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return (0);
		conn_eof(c, n == 0 ? 0 : errno);
		return (-1);
	}
	now = now_ns();
	t->stats.bytes_in += (uint64_t)n;
	p = buf;
	end = buf + c->plen + n;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		conn_reply(c, p, (size_t)(nl - p), now);
		p = nl + 1;
	}
	left = (size_t)(end - p);
	if (left > reply_max) {
		char	got[SAMPLE_MAX];

		sample_text(got, sizeof got, p, left);
		thread_error(t, ERROR_PAYLOAD, 1, "connection %u: a reply "
		    "over %zu bytes: \"%s\"", c->id, reply_max, got);
		conn_eof(c, EMSGSIZE);
		return (-1);
	}
	if (left > 0) {
		if (c->partial == NULL)
			c->partial = xmalloc(reply_max);
		memcpy(c->partial, p, left);
	}
	c->plen = left;
	conn_after_read(c, now);
	thread_live(t);
	return (c->closes == closes ? 1 : -1);
}

/* Readable (level-triggered): one read per wake-up, as fair as epoll. */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_read(arg);
}

/* Writable: the connect finished, or the socket has room again. */
static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	if (c->state == CONN_CONNECTING) {
		conn_connected(c, what);
		return;
	}
	c->flags &= ~CONN_WRITE_WAIT;
	conn_flush(c);
}

/*
 * Churn, edge-triggered: the connect is done (send the message and bye),
 * or there is room to write, or something to read, which is read to the
 * end, as an edge is not reported twice.
 */
static void
conn_churn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct thread	*t = c->t;
	uint64_t	 owed;

	(void)fd;
	if (c->state == CONN_CONNECTING) {
		conn_connected(c, what);
		return;
	}
	if (what & EV_TIMEOUT) {
		/* A stall of connect_timeout: give up on this one. */
		owed = c->issued - c->replied;
		if (owed > 0)
			thread_error(t, ERROR_MISSING, owed, "connection %u: "
			    "no reply in %ld s", c->id,
			    (long)connect_timeout.tv_sec);
		else
			thread_error(t, ERROR_UNCLOSED, 1, "connection %u: "
			    "not closed by the server %ld s after bye",
			    c->id, (long)connect_timeout.tv_sec);
		conn_close(c);
		conn_churn_next(c);
		thread_check_done(t);
		return;
	}
	if ((what & EV_WRITE) && (c->flags & CONN_WRITE_WAIT)) {
		c->flags &= ~CONN_WRITE_WAIT;
		conn_flush(c);
		if (c->fd == -1 || c->state != CONN_BYE)
			return;
	}
	if (what & EV_READ) {
		while (conn_read(c) == 1)
			;
	}
}

/* -R: messages are due; churn: the pause after a failure is over. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	if (opt.mode == MODE_CHURN)
		conn_churn_next(c);
	else {
		c->timer_due = 0;
		conn_schedule(c, now_ns());
	}
}

/*
 * Check one reply line. The usual case, a correct reply, is kept quick:
 * the serial expected is kept in ASCII and counted up in place, which
 * saves a division per digit on every reply.
 */
static void
conn_reply(struct conn *c, const char *p, size_t len, int64_t now)
{
	size_t	n = c->ndigits, i;

	if (c->replied != c->issued &&
	    len == n + seplen + (size_t)opt.size &&
	    memcmp(p, c->digits, n) == 0 &&
	    (seplen == 0 || memcmp(p + n, separator, seplen) == 0) &&
	    memcmp(p + n + seplen, payload_of(c, c->replied),
	    (size_t)opt.size) == 0) {
		c->serial++;
		for (i = n; i > 0 && c->digits[i - 1] == '9'; i--)
			c->digits[i - 1] = '0';
		if (i > 0)
			c->digits[i - 1]++;
		else
			conn_set_serial(c, c->serial);
		conn_account(c, c->replied, now);
		return;
	}
	conn_reply_odd(c, p, len, now);
}

/* Expect serial v next. */
static void
conn_set_serial(struct conn *c, uint64_t v)
{
	c->serial = v;
	c->ndigits = proto_format_serial(v, c->digits);
}

/*
 * Work out what is wrong with a reply and count it once: an ERR line, a
 * reply with nothing owed, a repeat of the last reply, a reply to a later
 * message (those before it are missing), a wrong payload, a wrong serial.
 * The serial expected next follows the one received, so one skip counts
 * as one error, not as one per reply after it.
 */
static void
conn_reply_odd(struct conn *c, const char *p, size_t len, int64_t now)
{
	struct thread	*t = c->t;
	char		 got[SAMPLE_MAX], want[SAMPLE_MAX];
	char		 digits[PROTO_SERIAL_MAX + 1];
	const char	*body;
	size_t		 i = 0, blen, n;
	uint64_t	 value = 0, k, j, ahead;
	int		 has_serial, found;

	sample_text(got, sizeof got, p, len);
	if (len >= 3 && memcmp(p, "ERR", 3) == 0 && (len == 3 || p[3] == ' ')) {
		c->flags |= CONN_GOT_ERR;
		thread_error(t, ERROR_ERR, 1, "connection %u: \"%s\"", c->id,
		    got);
		return;
	}

	/* 19 digits always fit in 64 bits; a 20th makes it not a serial. */
	while (i < len && i < PROTO_SERIAL_MAX - 1 &&
	    p[i] >= '0' && p[i] <= '9')
		value = value * 10 + (uint64_t)(p[i++] - '0');
	has_serial = i > 0 && (i == len || p[i] < '0' || p[i] > '9');
	body = p + i;
	blen = len - i;
	if (seplen > 0 && blen >= seplen &&
	    memcmp(body, separator, seplen) == 0) {
		body += seplen;
		blen -= seplen;
	}

	if (c->replied == c->issued) {
		thread_error(t, ERROR_EXTRA, 1, "connection %u: a reply with "
		    "no message waiting: \"%s\"", c->id, got);
		if (has_serial)
			conn_set_serial(c, value + 1);
		return;
	}
	k = c->replied;
	if (opt.size > 0 && k > 0 && !payload_matches(c, k, body, blen) &&
	    payload_matches(c, k - 1, body, blen)) {
		thread_error(t, ERROR_EXTRA, 1, "connection %u: reply %" PRIu64
		    " repeats the one before: \"%s\"", c->id, k, got);
		if (has_serial)
			conn_set_serial(c, value + 1);
		return;
	}

	j = 0;
	found = payload_matches(c, k, body, blen);
	ahead = c->issued - k - 1;
	if (ahead > MATCH_AHEAD)
		ahead = MATCH_AHEAD;
	for (i = 1; !found && opt.size > 0 && i <= ahead; i++) {
		if (payload_matches(c, k + i, body, blen)) {
			found = 1;
			j = i;
		}
	}
	if (j > 0) {
		thread_error(t, ERROR_MISSING, j, "connection %u: no reply to "
		    "message %" PRIu64 " (the next reply answered message %"
		    PRIu64 ")", c->id, k, k + j);
		c->replied += j;
		t->inflight -= j;
		k += j;
	} else if (!found) {
		n = proto_format_serial(c->serial, digits);
		digits[n] = '\0';
		i = sample_text(want, sizeof want, separator, seplen);
		sample_text(want + i, sizeof want - i, payload_of(c, k),
		    (size_t)opt.size);
		thread_error(t, ERROR_PAYLOAD, 1, "connection %u, reply %"
		    PRIu64 ": got \"%s\", want \"%s%s\"", c->id, k, got,
		    digits, want);
	}
	if (!has_serial ||
	    (value != c->serial && !(j > 0 && value == c->serial + j)))
		thread_error(t, ERROR_SERIAL, 1, "connection %u, reply %"
		    PRIu64 ": got \"%s\", want serial %" PRIu64, c->id, k,
		    got, c->serial);
	conn_set_serial(c, has_serial ? value + 1 : c->serial + 1);
	conn_account(c, k, now);
}

/* Message k has its reply: time it and count it. */
static void
conn_account(struct conn *c, uint64_t k, int64_t now)
{
	struct thread	*t = c->t;

	hist_add(&t->stats.latency, now - c->sent[k & ring_mask]);
	c->replied = k + 1;
	c->t_reply = now;
	t->inflight--;
	if (now <= t->window_end)
		t->stats.messages++;
	else
		t->stats.late++;
}

/* After a read: refill the pipeline, or move the connection on. */
static void
conn_after_read(struct conn *c, int64_t now)
{
	struct thread	*t = c->t;

	switch (c->state) {
	case CONN_WARMUP:
		if (c->replied != c->issued)
			break;
		t->stats.held++;
		t->setting_up--;
		if (t->phase == PHASE_STOPPING)
			conn_bye(c);
		else {
			c->state = CONN_READY;
			thread_setup_next(t);
		}
		break;
	case CONN_RUNNING:
		if (c->flags & CONN_WANT_BYE) {
			if (c->replied == c->issued)
				conn_bye(c);
		} else if (opt.mode == MODE_OPEN)
			conn_schedule(c, now);
		else if (opt.mode == MODE_CLOSED) {
			conn_issue(c, now);
			conn_flush(c);
		}
		break;
	default:
		break;
	}
	if (t->budget == 0)
		thread_check_done(t);
}

/* Closed loop: fill the pipeline up to -P, within the -m budget. */
static void
conn_issue(struct conn *c, int64_t now)
{
	struct thread	*t = c->t;
	uint64_t	 room, i;

	/* The deadline's timer may run a little late: send nothing past it. */
	if (t->phase != PHASE_RUN || now > t->window_end)
		return;
	room = (uint64_t)opt.depth - (c->issued - c->replied);
	if (room > t->budget)
		room = t->budget;
	for (i = 0; i < room; i++)
		c->sent[(c->issued + i) & ring_mask] = now;
	c->issued += room;
	t->budget -= room;
	t->inflight += room;
}

/*
 * Open loop: message k on this connection is due at start + (k + phase) *
 * interval, and is timed from then, not from when it could go: a server
 * that stalls cannot hide its stall by holding the sender back (no
 * coordinated omission). -P still caps what is in flight.
 */
static void
conn_schedule(struct conn *c, int64_t now)
{
	struct thread	*t = c->t;
	struct timeval	 tv;
	uint64_t	 before = c->issued;
	int64_t		 due;

	if (t->phase != PHASE_RUN)
		return;
	while (c->issued - c->replied < (uint64_t)opt.depth && t->budget > 0) {
		due = t->start + (int64_t)(((double)c->issued + c->phase) *
		    interval_ns);
		if (due > t->window_end)
			break;
		if (due > now) {
			if (c->timer_due != due) {
				c->timer_due = due;
				ns_to_timeval(due - now, &tv);
				evtimer_add(c->timer, &tv);
			}
			break;
		}
		c->sent[c->issued & ring_mask] = due;
		c->issued++;
		t->budget--;
		t->inflight++;
	}
	if (c->issued != before)
		conn_flush(c);
}

/* Write what is owed of the stream until done or the socket is full. */
static void
conn_flush(struct conn *c)
{
	struct thread	*t = c->t;
	uint64_t	 end;
	size_t		 len;
	ssize_t		 n;

	if (c->flags & CONN_WRITE_WAIT)
		return;
	end = c->issued * msglen + ((c->flags & CONN_BYE_QUEUED) ? 4 : 0);
	while (c->written < end) {
		len = end - c->written > BENCH_WRITE_MAX ?
		    BENCH_WRITE_MAX : (size_t)(end - c->written);
		conn_fill(c, c->written, t->wbuf, len);
		n = write(c->fd, t->wbuf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->flags |= CONN_WRITE_WAIT;
				if (opt.mode != MODE_CHURN)
					event_add(c->wev, NULL);
				return;
			}
			conn_eof(c, errno);
			return;
		}
		c->written += (uint64_t)n;
		t->stats.bytes_out += (uint64_t)n;
	}
	if ((c->flags & (CONN_BYE_QUEUED | CONN_SHUT)) == CONN_BYE_QUEUED) {
		shutdown(c->fd, SHUT_WR);
		c->flags |= CONN_SHUT;
	}
}

/* The len bytes of the stream from offset from. */
static void
conn_fill(const struct conn *c, uint64_t from, char *buf, size_t len)
{
	uint64_t	 m = from / msglen, stream = c->issued * msglen;
	size_t		 off = (size_t)(from % msglen), size = msglen - 1, n;

	while (len > 0 && from < stream) {
		if (off < size) {
			n = size - off < len ? size - off : len;
			memcpy(buf, payload_of(c, m) + off, n);
			buf += n;
			len -= n;
			from += n;
			off += n;
		}
		if (len > 0) {
			*buf++ = '\n';
			len--;
			from++;
			off = 0;
			m++;
		}
	}
	if (len > 0)
		memcpy(buf, "bye\n" + (from - stream), len);
}

/* Queue bye after the messages, and half-close once it is written. */
static void
conn_bye(struct conn *c)
{
	c->flags |= CONN_BYE_QUEUED;
	c->flags &= ~CONN_WANT_BYE;
	c->state = CONN_BYE;
	conn_flush(c);
}

/*
 * The server closed (error is 0) or reset the connection. After our bye
 * that is the end we asked for; before it, an error, unless an ERR line
 * already said why.
 */
static void
conn_eof(struct conn *c, int error)
{
	struct thread	*t = c->t;
	uint64_t	 owed = c->issued - c->replied;
	int64_t		 now = now_ns();
	int		 warmup = c->state == CONN_WARMUP;

	if (c->flags & CONN_GOT_ERR)
		;
	else if (c->state == CONN_BYE) {
		if (owed > 0)
			thread_error(t, ERROR_MISSING, owed, "connection %u: "
			    "closed after bye with %" PRIu64 " replies owed",
			    c->id, owed);
		else if (c->plen > 0)
			thread_error(t, ERROR_EXTRA, 1, "connection %u: an "
			    "unfinished line after the last reply", c->id);
		else if (opt.mode == MODE_CHURN) {
			if (now <= t->window_end)
				t->stats.churned++;
			hist_add(&t->stats.teardown, now - c->t_reply);
			hist_add(&t->stats.lifetime, now - c->t_connect);
		}
	} else {
		thread_error(t, ERROR_CLOSE, 1, "connection %u: %s after %"
		    PRIu64 " replies", c->id, error == 0 ?
		    "closed by the server" : strerror(error), c->replied);
		if (owed > 0)
			thread_error(t, ERROR_MISSING, owed, "connection %u: "
			    "closed with %" PRIu64 " replies owed", c->id,
			    owed);
	}
	conn_close(c);
	if (opt.mode == MODE_CHURN)
		conn_churn_next(c);
	else {
		c->state = CONN_CLOSED;
		if (warmup) {
			t->setting_up--;
			thread_setup_next(t);
		}
	}
	thread_live(t);
	thread_check_done(t);
}

/* Drop the socket; what it still owed is no longer waited for. */
static void
conn_close(struct conn *c)
{
	struct thread	*t = c->t;

	if (c->fd == -1)
		return;
	event_del(c->rev);
	event_del(c->wev);
	if (c->timer != NULL)
		evtimer_del(c->timer);
	close(c->fd);
	c->fd = -1;
	c->closes++;
	t->inflight -= c->issued - c->replied;
	c->replied = c->issued;
	c->state = CONN_FREE;
	c->flags = 0;
	c->plen = 0;
	c->timer_due = 0;
	t->open--;
}

/* Churn: start the slot's next connection, if the run wants one. */
static void
conn_churn_next(struct conn *c)
{
	struct thread	*t = c->t;

	if (t->phase != PHASE_RUN || t->budget == 0) {
		c->state = CONN_CLOSED;
		thread_check_done(t);
		return;
	}
	t->budget--;
	/* A new id per connection: new payloads, the next source address. */
	c->id = t->churn_seq++ * (uint32_t)opt.threads + (uint32_t)t->index;
	conn_connect(c);
}

/* A thread is set up ('r') or done ('d'). */
static void
main_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	char	buf[64];
	ssize_t	n, i;

	(void)what;
	(void)arg;
	if ((n = read(fd, buf, sizeof buf)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		if (buf[i] == 'r' && ++run.ready == opt.threads &&
		    !run.stopping)
			main_start();
		else if (buf[i] == 'd' && ++run.done == opt.threads)
			event_base_loopbreak(run.base);
	}
}

/* Every thread is set up: start the clock for all of them at once. */
static void
main_start(void)
{
	struct timeval	tv;
	uint64_t	held = 0;
	int		i;

	run.start = now_ns();
	getrusage(RUSAGE_SELF, &run.ru_start);
	run.last_tick = run.start;
	run.last_count = 0;
	__atomic_store_n(&run_start, run.start, __ATOMIC_RELEASE);
	main_tell('g');
	if (opt.mode != MODE_IDLE)
		return;
	for (i = 0; i < opt.threads; i++)
		held += __atomic_load_n(&threads[i].live_open,
		    __ATOMIC_RELAXED);
	if (!opt.quiet) {
		progress_clear();
		fprintf(stderr, "seqecho-bench: holding %" PRIu64
		    " connections to %s%s\n", held, target_name,
		    opt.seconds > 0 ? "" : " until interrupted");
	}
	if (opt.seconds > 0) {
		ns_to_timeval((int64_t)(opt.seconds * NSEC), &tv);
		evtimer_add(run.hold_ev, &tv);
	}
}

/* Stop every thread (an interrupt, or --idle's time is up). */
static void
main_stop(void)
{
	if (run.stopping)
		return;
	run.stopping = 1;
	__atomic_store_n(&stop_at, now_ns(), __ATOMIC_RELEASE);
	main_tell('s');
}

/* Send a control byte to every thread. */
static void
main_tell(char what)
{
	int	i;

	for (i = 0; i < opt.threads; i++) {
		while (write(threads[i].control[1], &what, 1) == -1 &&
		    errno == EINTR)
			;
	}
}

/* The first interrupt ends the run cleanly, a second one at once. */
static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	if (run.signals++ > 0) {
		progress_clear();
		fprintf(stderr, "seqecho-bench: interrupted\n");
		_exit(130);
	}
	main_stop();
}

/* --idle has held its connections for -d seconds. */
static void
main_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	main_stop();
}

/* Once a second on a terminal: where the run has got to. */
static void
main_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	replies = 0, errors = 0, churned = 0, open = 0, count;
	int64_t		now = now_ns();
	double		secs, rate;
	int		i;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < opt.threads; i++) {
		replies += __atomic_load_n(&threads[i].live_replies,
		    __ATOMIC_RELAXED);
		errors += __atomic_load_n(&threads[i].live_errors,
		    __ATOMIC_RELAXED);
		churned += __atomic_load_n(&threads[i].live_churned,
		    __ATOMIC_RELAXED);
		open += __atomic_load_n(&threads[i].live_open,
		    __ATOMIC_RELAXED);
	}
	if (run.start == 0) {
		fprintf(stderr, "\rsetting up: %" PRIu64 " of %d connected, %"
		    PRIu64 " errors\033[K", open, opt.conns, errors);
		run.progress = 1;
		return;
	}
	count = opt.mode == MODE_CHURN ? churned : replies;
	secs = (double)(now - run.last_tick) / 1e9;
	rate = secs > 0 ? (double)(count - run.last_count) / secs : 0;
	run.last_tick = now;
	run.last_count = count;
	secs = (double)(now - run.start) / 1e9;
	if (opt.mode == MODE_CHURN)
		fprintf(stderr, "\r%6.1f s  %" PRIu64 " connections  %.0f "
		    "conn/s  %" PRIu64 " open  %" PRIu64 " errors\033[K", secs,
		    count, rate, open, errors);
	else if (opt.mode == MODE_IDLE)
		fprintf(stderr, "\r%6.1f s  holding %" PRIu64 " connections  %"
		    PRIu64 " errors\033[K", secs, open, errors);
	else
		fprintf(stderr, "\r%6.1f s  %" PRIu64 " messages  %.0f msg/s  %"
		    PRIu64 " open  %" PRIu64 " errors\033[K", secs, count,
		    rate, open, errors);
	run.progress = 1;
}

/* Wipe the progress line before anything else goes to the terminal. */
static void
progress_clear(void)
{
	if (run.progress) {
		fputs("\r\033[K", stderr);
		run.progress = 0;
	}
}

/* Parse the options, run the threads, merge their figures, report. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "churn",	no_argument,	NULL,	'C' },
		{ "idle",	no_argument,	NULL,	'I' },
		{ "json",	no_argument,	NULL,	'J' },
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 }
	};
	struct config		 cfg;
	struct bench_stats	*total;
	struct event		*sigint_ev, *sigterm_ev;
	struct rusage		 ru;
	sigset_t		 block, saved;
	const char		*conf = NULL, *host;
	char			 portbuf[16];
	double			 secs, cpu_user, cpu_sys;
	int64_t			 end = 0;
	uint32_t		 id = 0;
	int			 ch, i, k, port, set_d = 0, set_p = 0;
	int			 set_r = 0, churn = 0, idle = 0, error;
	uint64_t		 errors;

	while ((ch = getopt_long(argc, argv, "c:d:hm:n:P:qR:s:T:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			opt.seconds = parse_real(ch, optarg, 0, 1e7);
			set_d = 1;
			break;
		case 'h':
			usage(stdout, 0);
		case 'm':
			opt.messages = (uint64_t)parse_count(ch, optarg, 1,
			    LLONG_MAX / 2);
			break;
		case 'n':
			opt.conns = (int)parse_count(ch, optarg, 1,
			    BENCH_CONNS_MAX);
			break;
		case 'P':
			opt.depth = (int)parse_count(ch, optarg, 1,
			    BENCH_DEPTH_MAX);
			set_p = 1;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'R':
			opt.rate = parse_real(ch, optarg, 0, 1e9);
			set_r = 1;
			break;
		case 's':
			opt.size = (int)parse_count(ch, optarg, 0,
			    BENCH_SIZE_MAX);
			break;
		case 'T':
			opt.threads = (int)parse_count(ch, optarg, 1,
			    BENCH_THREADS_MAX);
			break;
		case 'V':
			printf("seqecho-bench %s\n", PACKAGE_VERSION);
			exit(0);
		case 'C':
			churn = 1;
			break;
		case 'I':
			idle = 1;
			break;
		case 'J':
			opt.json = 1;
			break;
		default:
			usage(stderr, 1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 2 || (set_d && opt.messages > 0) || (churn && idle))
		usage(stderr, 1);
	if ((churn || idle) && (set_p || set_r)) {
		fprintf(stderr, "seqecho-bench: --%s takes no -P or -R\n",
		    churn ? "churn" : "idle");
		exit(1);
	}
	if (idle && opt.messages > 0) {
		fprintf(stderr, "seqecho-bench: --idle takes no -m\n");
		exit(1);
	}
	if (opt.threads > opt.conns) {
		fprintf(stderr, "seqecho-bench: -T %d: more threads than "
		    "connections (-n %d)\n", opt.threads, opt.conns);
		exit(1);
	}
	if (churn)
		opt.mode = MODE_CHURN;
	else if (idle)
		opt.mode = MODE_IDLE;
	else if (set_r)
		opt.mode = MODE_OPEN;
	if (!set_d && opt.messages == 0 && opt.mode != MODE_IDLE)
		opt.seconds = BENCH_SECONDS;

	log_init("seqecho-bench", LOG_DEST_PLAIN);
	log_setlevel(LOG_LEVEL_WARNING);
	config_defaults(&cfg);
	if (config_load(&cfg, conf != NULL ? conf : SEQECHO_CONF,
	    conf == NULL) == -1)
		exit(1);
	host = argc > 0 ? argv[0] : cfg.client_address;
	port = cfg.client_port;
	if (argc > 1 && ((port = config_parse_port(argv[1])) == -1 ||
	    port == 0)) {
		fprintf(stderr, "seqecho-bench: port %s: must be 1..65535\n",
		    argv[1]);
		exit(1);
	}
	snprintf(portbuf, sizeof portbuf, "%d", port);
	connect_timeout.tv_sec = cfg.connect_timeout;
	separator = xstrdup(cfg.separator);
	seplen = strlen(separator);

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	setup_target(host, portbuf);
	config_free(&cfg);
	setup_payload();

	if ((run.base = event_base_new()) == NULL)
		fatalx("cannot create an event base");
	if (pipe2(notify_fd, O_CLOEXEC) == -1)
		fatal("pipe");
	run.notify_ev = event_new(run.base, notify_fd[0], EV_READ | EV_PERSIST,
	    main_notify_cb, NULL);
	run.hold_ev = evtimer_new(run.base, main_hold_cb, NULL);
	sigint_ev = evsignal_new(run.base, SIGINT, main_signal_cb, NULL);
	sigterm_ev = evsignal_new(run.base, SIGTERM, main_signal_cb, NULL);
	if (run.notify_ev == NULL || run.hold_ev == NULL || sigint_ev == NULL ||
	    sigterm_ev == NULL || event_add(run.notify_ev, NULL) == -1 ||
	    evsignal_add(sigint_ev, NULL) == -1 ||
	    evsignal_add(sigterm_ev, NULL) == -1)
		fatalx("cannot create events");
	if (!opt.quiet && isatty(STDERR_FILENO)) {
		struct timeval	second = { 1, 0 };

		run.progress_ev = event_new(run.base, -1, EV_PERSIST,
		    main_progress_cb, NULL);
		if (run.progress_ev == NULL ||
		    event_add(run.progress_ev, &second) == -1)
			fatalx("cannot create a timer");
	}

	/* Signals go to the main thread, whose loop turns them into stops. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	threads = xcalloc((size_t)opt.threads, sizeof *threads);
	for (i = 0; i < opt.threads; i++) {
		struct thread	*t = &threads[i];

		t->index = i;
		t->nconns = opt.conns / opt.threads +
		    (i < opt.conns % opt.threads);
		t->first_id = id;
		id += (uint32_t)t->nconns;
		if (opt.messages > 0) {
			t->budget = opt.messages / (uint64_t)opt.threads;
			if ((uint64_t)i < opt.messages % (uint64_t)opt.threads)
				t->budget++;
		} else
			t->budget = UINT64_MAX;
		if (pipe2(t->control, O_CLOEXEC) == -1)
			fatal("pipe");
		if ((error = pthread_create(&t->tid, NULL, thread_main,
		    t)) != 0) {
			errno = error;
			fatal("pthread_create");
		}
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);

	event_base_dispatch(run.base);
	run.end = now_ns();

	total = xcalloc(1, sizeof *total);
	for (i = 0; i < opt.threads; i++) {
		struct thread		*t = &threads[i];
		struct bench_stats	*s = &t->stats;

		pthread_join(t->tid, NULL);
		close(t->control[1]);
		hist_merge(&total->latency, &s->latency);
		hist_merge(&total->connect, &s->connect);
		hist_merge(&total->teardown, &s->teardown);
		hist_merge(&total->lifetime, &s->lifetime);
		total->messages += s->messages;
		total->late += s->late;
		total->bytes_out += s->bytes_out;
		total->bytes_in += s->bytes_in;
		total->opened += s->opened;
		total->churned += s->churned;
		total->held += s->held;
		for (k = 0; k < ERROR_COUNT; k++) {
			total->errors[k] += s->errors[k];
			if (total->sample[k][0] == '\0')
				memcpy(total->sample[k], s->sample[k],
				    SAMPLE_MAX);
		}
		if (t->window_end != INT64_MAX && t->window_end > end)
			end = t->window_end;
	}
	progress_clear();

	/* The window: start to the latest thread's end of counting. */
	secs = 0;
	if (run.start != 0 && end > run.start)
		secs = (double)(end - run.start) / 1e9;
	cpu_user = cpu_sys = 0;
	if (run.start != 0 && getrusage(RUSAGE_SELF, &ru) == 0) {
		cpu_user = (double)(ru.ru_utime.tv_sec -
		    run.ru_start.ru_utime.tv_sec) +
		    (double)(ru.ru_utime.tv_usec -
		    run.ru_start.ru_utime.tv_usec) / 1e6;
		cpu_sys = (double)(ru.ru_stime.tv_sec -
		    run.ru_start.ru_stime.tv_sec) +
		    (double)(ru.ru_stime.tv_usec -
		    run.ru_start.ru_stime.tv_usec) / 1e6;
	}
	/* Nothing got through: say why where a script will see it. */
	if (total->opened == 0 && total->errors[ERROR_CONNECT] > 0)
		fprintf(stderr, "seqecho-bench: %s\n",
		    total->sample[ERROR_CONNECT]);
	report(total, secs, cpu_user, cpu_sys);

	errors = 0;
	for (k = 0; k < ERROR_COUNT; k++)
		errors += total->errors[k];
	free(total);
	free(threads);
	free(pattern);
	free(separator);
	event_free(run.notify_ev);
	event_free(run.hold_ev);
	if (run.progress_ev != NULL)
		event_free(run.progress_ev);
	event_free(sigint_ev);
	event_free(sigterm_ev);
	event_base_free(run.base);
	close(notify_fd[0]);
	close(notify_fd[1]);
	libevent_global_shutdown();
	return (errors > 0 ? 1 : 0);
}

/* The summary: a table, one line with -q, or JSON. */
static void
report(const struct bench_stats *s, double secs, double cpu_user,
    double cpu_sys)
{
	uint64_t	errors = 0;
	int		k;

	if (opt.json)
		report_json(s, secs, cpu_user, cpu_sys);
	else if (!opt.quiet)
		report_text(s, secs, cpu_user, cpu_sys);
	else {
		for (k = 0; k < ERROR_COUNT; k++)
			errors += s->errors[k];
		if (opt.mode == MODE_CHURN)
			printf("%.0f conn/s, p99 %.1f us, %" PRIu64
			    " errors\n", secs > 0 ? s->churned / secs : 0,
			    hist_percentile(&s->lifetime, 0.99) / 1e3, errors);
		else if (opt.mode == MODE_IDLE)
			printf("%" PRIu64 " connections held, %" PRIu64
			    " errors\n", s->held, errors);
		else
			printf("%.0f msg/s, p99 %.1f us, %" PRIu64 " errors\n",
			    secs > 0 ? s->messages / secs : 0,
			    hist_percentile(&s->latency, 0.99) / 1e3, errors);
	}
	fflush(stdout);
}

/* The summary as a table, one figure a line, to fit 80 columns. */
static void
report_text(const struct bench_stats *s, double secs, double cpu_user,
    double cpu_sys)
{
	uint64_t	errors = 0;
	const char	*sep = "";
	int		k;

	printf("target      %s\n", target_name);
	switch (opt.mode) {
	case MODE_CHURN:
		printf("workload    churn, %d at a time, a %d-byte message and "
		    "bye each, %d thread%s\n", opt.conns, opt.size,
		    opt.threads, opt.threads == 1 ? "" : "s");
		break;
	case MODE_IDLE:
		printf("workload    idle, %d connections, a %d-byte message "
		    "each, %d thread%s\n", opt.conns, opt.size, opt.threads,
		    opt.threads == 1 ? "" : "s");
		break;
	default:
		printf("workload    %s, %d conns x %d in flight, "
		    "%d B payload, %d thread%s\n", opt.mode == MODE_OPEN ?
		    "open loop" : "closed loop", opt.conns, opt.depth,
		    opt.size, opt.threads, opt.threads == 1 ? "" : "s");
		if (opt.mode == MODE_OPEN)
			printf("rate        %.0f msg/s scheduled\n", opt.rate);
		break;
	}
	if (run.start == 0)
		printf("run         interrupted while setting up\n");
	else if (opt.mode == MODE_IDLE)
		printf("held        %" PRIu64 " connections for %.3f s\n",
		    s->held, secs);
	else if (opt.mode == MODE_CHURN)
		printf("connections %" PRIu64 " in %.3f s: %.0f conn/s\n",
		    s->churned, secs, secs > 0 ? s->churned / secs : 0);
	else {
		printf("messages    %" PRIu64 " in %.3f s", s->messages, secs);
		if (s->late > 0)
			printf(" (%" PRIu64 " more after it)", s->late);
		printf("\n");
		printf("throughput  %.0f msg/s, %.3f MB/s of payload\n",
		    secs > 0 ? s->messages / secs : 0,
		    secs > 0 ? (double)s->messages * opt.size / secs / 1e6 : 0);
	}
	print_hist_text(opt.mode == MODE_CHURN ? "reply" : "latency",
	    &s->latency);
	print_hist_text("connect", &s->connect);
	if (opt.mode == MODE_CHURN) {
		print_hist_text("teardown", &s->teardown);
		print_hist_text("lifetime", &s->lifetime);
	}
	if (run.start != 0 && run.end > run.start)
		printf("cpu         %.0f%% of one core (user %.2f s, system "
		    "%.2f s)\n", 100 * (cpu_user + cpu_sys) /
		    ((double)(run.end - run.start) / 1e9), cpu_user, cpu_sys);

	for (k = 0; k < ERROR_COUNT; k++)
		errors += s->errors[k];
	if (errors == 0) {
		printf("errors      0\n");
		return;
	}
	printf("errors      %" PRIu64 " (", errors);
	for (k = 0; k < ERROR_COUNT; k++) {
		if (s->errors[k] == 0)
			continue;
		printf("%s%s %" PRIu64, sep, error_names[k], s->errors[k]);
		sep = ", ";
	}
	printf(")\n");
	for (k = 0; k < ERROR_COUNT; k++) {
		if (s->errors[k] > 0)
			printf("  first %s: %s\n", error_names[k],
			    s->sample[k]);
	}
}

/* One histogram as a line of percentiles in microseconds. */
static void
print_hist_text(const char *name, const struct hist *h)
{
	if (h->count == 0)
		return;
	printf("%-11s p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f us\n",
	    name, hist_percentile(h, 0.5) / 1e3, hist_percentile(h, 0.9) / 1e3,
	    hist_percentile(h, 0.99) / 1e3, hist_percentile(h, 0.999) / 1e3,
	    h->max / 1e3);
}

/* Every figure as one JSON object on one line. */
static void
report_json(const struct bench_stats *s, double secs, double cpu_user,
    double cpu_sys)
{
	double		wall = 0;
	uint64_t	errors = 0;
	int		k, first = 1;

	if (run.start != 0 && run.end > run.start)
		wall = (double)(run.end - run.start) / 1e9;
	for (k = 0; k < ERROR_COUNT; k++)
		errors += s->errors[k];

	printf("{\"version\":");
	print_json_string(PACKAGE_VERSION);
	printf(",\"target\":");
	print_json_string(target_name);
	printf(",\"mode\":\"%s\",\"connections\":%d,\"depth\":%d,"
	    "\"size\":%d,\"threads\":%d,\"rate\":%.3f,\"started\":%s,"
	    "\"interrupted\":%s,\"seconds\":%.6f,", mode_names[opt.mode],
	    opt.conns, opt.depth, opt.size, opt.threads, opt.rate,
	    run.start != 0 ? "true" : "false",
	    run.signals > 0 ? "true" : "false", secs);
	printf("\"messages\":%" PRIu64 ",\"messages_late\":%" PRIu64 ","
	    "\"messages_per_second\":%.3f,\"payload_mb_per_second\":%.6f,",
	    s->messages, s->late, secs > 0 ? s->messages / secs : 0,
	    secs > 0 ? (double)s->messages * opt.size / secs / 1e6 : 0);
	printf("\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ","
	    "\"connections_opened\":%" PRIu64 ",\"connections_held\":%"
	    PRIu64 ",\"churned\":%" PRIu64 ",\"connections_per_second\":"
	    "%.3f,", s->bytes_out, s->bytes_in, s->opened, s->held,
	    s->churned, secs > 0 ? s->churned / secs : 0);
	print_hist_json("latency_us", &s->latency);
	print_hist_json("connect_us", &s->connect);
	print_hist_json("teardown_us", &s->teardown);
	print_hist_json("lifetime_us", &s->lifetime);
	printf("\"cpu_user_seconds\":%.3f,\"cpu_system_seconds\":%.3f,"
	    "\"cpu_percent\":%.1f,", cpu_user, cpu_sys,
	    wall > 0 ? 100 * (cpu_user + cpu_sys) / wall : 0);
	printf("\"errors\":{\"total\":%" PRIu64, errors);
	for (k = 0; k < ERROR_COUNT; k++)
		printf(",\"%s\":%" PRIu64, error_keys[k], s->errors[k]);
	printf("},\"error_samples\":{");
	for (k = 0; k < ERROR_COUNT; k++) {
		if (s->errors[k] == 0)
			continue;
		printf("%s\"%s\":", first ? "" : ",", error_keys[k]);
		print_json_string(s->sample[k]);
		first = 0;
	}
	printf("}}\n");
}

/* "name":{...}, with the figures in microseconds. */
static void
print_hist_json(const char *name, const struct hist *h)
{
	printf("\"%s\":{\"count\":%" PRIu64 ",\"min\":%.3f,\"mean\":%.3f,"
	    "\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
	    "\"max\":%.3f},", name, h->count, h->min / 1e3,
	    h->count > 0 ? (double)h->sum / (double)h->count / 1e3 : 0,
	    hist_percentile(h, 0.5) / 1e3, hist_percentile(h, 0.9) / 1e3,
	    hist_percentile(h, 0.99) / 1e3, hist_percentile(h, 0.999) / 1e3,
	    h->max / 1e3);
}

/* A JSON string, quoted and escaped. */
static void
print_json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}
