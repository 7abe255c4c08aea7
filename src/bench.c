/*
 * bench.c - seqecho-bench: load a seqecho server and check every reply.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * This file holds main: the options, the target, the file descriptor
 * limit, and the main thread's loop, which starts the -T load threads
 * (bench-thread.c), starts their clocks together once all are set up,
 * turns signals into stops, shows the progress, and merges the threads'
 * figures for the report (bench-report.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "seqecho.h"
#include "bench.h"
#include "hdr.h"
#include "proxy.h"
#include "tls-client.h"

#define BENCH_CONNS		50		/* default -n */
#define BENCH_CONNS_MAX		1000000
#define BENCH_DEPTH_MAX		65536
#define BENCH_SIZE		16		/* default -s */
#define BENCH_SIZE_MAX		(1024 * 1024)
#define BENCH_SECONDS		5		/* default -d */
/* Descriptors needed beyond one per connection. */
#define BENCH_FD_RESERVE	(32 + 2 * BENCH_THREADS_MAX)
/* Room in a reply for more than the expected one, an ERR line say. */
#define REPLY_SLACK		256

/* What the command line says beyond the run's options. */
struct bench_args {
	const char	*conf;
	const char	*host;
	const char	*port;
	int		 set_d;
	int		 set_p;
	int		 set_r;
	int		 churn;
	int		 idle;
	int		 proxy;		/* --proxy; -1: the config's */
	int		 tls;		/* --tls */
	int		 insecure;	/* --insecure */
	const char	*ca;		/* --ca */
	const char	*servername;	/* --servername */
	const char	*tls_only;	/* the last option that needs TLS */
};

static void	usage(FILE *, int) __attribute__((noreturn));
static int	opt_int(int, const char *, int, int);
static double	opt_real(int, const char *, double, double);
static void	bench_getopt(struct bench *, struct bench_args *, int,
		    char **);
static void	bench_options(struct bench *, struct bench_args *, int,
		    char **);
static void	bench_configure(struct bench *, const struct bench_args *);
static void	setup_payload(struct bench *);
static void	raise_fd_limit(const struct bench *);
static void	bench_events(struct bench *, struct event **);
static void	bench_start(struct bench *);
static int64_t	bench_join(struct bench *, struct bench_stats *);
static void	stats_merge(struct bench_stats *, const struct bench_stats *);
static void	cpu_used(const struct bench *, double *, double *);

static void	main_notify_cb(evutil_socket_t, short, void *);
static void	main_signal_cb(evutil_socket_t, short, void *);
static void	main_progress_cb(evutil_socket_t, short, void *);
static void	main_hold_cb(evutil_socket_t, short, void *);
static void	main_start(struct bench *);
static void	main_stop(struct bench *);

static const char usage_text[] =
    "usage: seqecho-bench [-n conns] [-P depth] [-s bytes] "
    "[-d seconds | -m messages]\n"
    "                     [-T threads] [-R rate] [--churn | --idle] "
    "[--json] [-qV]\n"
    "                     [-b source[,source...]] [--hlog file] "
    "[--percentiles]\n"
    "                     [--tls] [--ca file] [--insecure] "
    "[--servername name]\n"
    "                     [--proxy v1|v2] [-c file] [host [port]]\n"
    "       seqecho-bench --merge [--json] file...\n";

/* Print the synopsis and exit. */
static void
usage(FILE *f, int status)
{
	fputs(usage_text, f);
	exit(status);
}

/* A whole number in [min, max] for option ch, or exit. */
static int
opt_int(int ch, const char *s, int min, int max)
{
	int	v;

	if ((v = config_parse_int(s, min, max)) == -1) {
		fprintf(stderr, "seqecho-bench: -%c %s: must be %d..%d\n",
		    ch, s, min, max);
		exit(1);
	}
	return (v);
}

/* A number (fractions allowed) in (min, max] for option ch, or exit. */
static double
opt_real(int ch, const char *s, double min, double max)
{
	double	v;

	if ((v = config_parse_real(s, min, max)) == -1) {
		fprintf(stderr, "seqecho-bench: -%c %s: must be more than %g "
		    "and at most %g\n", ch, s, min, max);
		exit(1);
	}
	return (v);
}

/* Nanoseconds on the monotonic clock. */
int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * NSEC + ts.tv_nsec);
}

/* Nanoseconds from now as a libevent timeout. */
void
ns_to_timeval(int64_t ns, struct timeval *tv)
{
	if (ns < 0)
		ns = 0;
	tv->tv_sec = ns / NSEC;
	tv->tv_usec = (ns % NSEC) / 1000;
}

/* Read the options into b and a, or exit. */
static void
bench_getopt(struct bench *b, struct bench_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "churn",	no_argument,	NULL,	'C' },
		{ "idle",	no_argument,	NULL,	'I' },
		{ "json",	no_argument,	NULL,	'J' },
		{ "proxy",	required_argument, NULL, 'X' },
		{ "tls",	no_argument,	NULL,	'L' },
		{ "ca",		required_argument, NULL, 'A' },
		{ "insecure",	no_argument,	NULL,	'K' },
		{ "servername",	required_argument, NULL, 'N' },
		{ "hlog",	required_argument, NULL, 'H' },
		{ "percentiles", no_argument,	NULL,	'E' },
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "b:c:d:hm:n:P:qR:s:T:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			bench_sources_option(b, optarg);
			break;
		case 'c':
			a->conf = optarg;
			break;
		case 'H':
			b->hlog_path = optarg;
			break;
		case 'E':
			b->percentiles = 1;
			break;
		case 'd':
			b->seconds = opt_real(ch, optarg, 0, 1e7);
			a->set_d = 1;
			break;
		case 'h':
			usage(stdout, 0);
		case 'm':
			b->messages = (uint64_t)opt_int(ch, optarg, 1, INT_MAX);
			break;
		case 'n':
			b->conns = opt_int(ch, optarg, 1, BENCH_CONNS_MAX);
			break;
		case 'P':
			b->depth = opt_int(ch, optarg, 1, BENCH_DEPTH_MAX);
			a->set_p = 1;
			break;
		case 'q':
			b->quiet = 1;
			break;
		case 'R':
			b->rate = opt_real(ch, optarg, 0, 1e9);
			a->set_r = 1;
			break;
		case 's':
			b->size = opt_int(ch, optarg, 0, BENCH_SIZE_MAX);
			break;
		case 'T':
			b->threads = opt_int(ch, optarg, 1, BENCH_THREADS_MAX);
			break;
		case 'V':
			printf("seqecho-bench %s\n", PACKAGE_VERSION);
			exit(0);
		case 'C':
			a->churn = 1;
			break;
		case 'I':
			a->idle = 1;
			break;
		case 'J':
			b->json = 1;
			break;
		case 'L':
			a->tls = 1;
			break;
		case 'A':
			a->ca = optarg;
			a->tls_only = "--ca";
			break;
		case 'K':
			a->insecure = 1;
			a->tls_only = "--insecure";
			break;
		case 'N':
			a->servername = optarg;
			a->tls_only = "--servername";
			break;
		case 'X':
			a->proxy = proxy_mode_parse(optarg);
			if (a->proxy != PROXY_V1 && a->proxy != PROXY_V2) {
				fprintf(stderr, "seqecho-bench: --proxy %s: "
				    "must be v1 or v2\n", optarg);
				usage(stderr, 1);
			}
			break;
		default:
			usage(stderr, 1);
		}
	}
}

/* The command line: options that go together, the mode, the target. */
static void
bench_options(struct bench *b, struct bench_args *a, int argc, char **argv)
{
	b->conns = BENCH_CONNS;
	b->depth = 1;
	b->size = BENCH_SIZE;
	b->threads = 1;
	b->mode = MODE_CLOSED;
	a->proxy = -1;
	bench_getopt(b, a, argc, argv);
	argc -= optind;
	argv += optind;
	if (argc > 2 || (a->set_d && b->messages > 0) || (a->churn && a->idle))
		usage(stderr, 1);
	if ((a->churn || a->idle) && (a->set_p || a->set_r)) {
		fprintf(stderr, "seqecho-bench: --%s takes no -P or -R\n",
		    a->churn ? "churn" : "idle");
		exit(1);
	}
	if (b->percentiles && b->json) {
		fprintf(stderr, "seqecho-bench: --percentiles and --json both "
		    "write the standard output\n");
		exit(1);
	}
	if (a->idle && b->messages > 0) {
		fprintf(stderr, "seqecho-bench: --idle takes no -m\n");
		exit(1);
	}
	if (b->threads > b->conns) {
		fprintf(stderr, "seqecho-bench: -T %d: more threads than "
		    "connections (-n %d)\n", b->threads, b->conns);
		exit(1);
	}
	if (a->churn)
		b->mode = MODE_CHURN;
	else if (a->idle)
		b->mode = MODE_IDLE;
	else if (a->set_r)
		b->mode = MODE_OPEN;
	if (!a->set_d && b->messages == 0 && b->mode != MODE_IDLE)
		b->seconds = BENCH_SECONDS;
	a->host = argc > 0 ? argv[0] : NULL;
	a->port = argc > 1 ? argv[1] : NULL;
}

/* The configuration file, then the target and what the run expects. */
static void
bench_configure(struct bench *b, const struct bench_args *a)
{
	struct config		 cfg;
	struct tls_client_opts	 o = { NULL, NULL, NULL, 0 };
	const char		*host;
	char		 portbuf[16];
	int		 port;

	config_defaults(&cfg);
	if (config_load(&cfg, a->conf != NULL ? a->conf : SEQECHO_CONF,
	    a->conf == NULL) == -1)
		exit(1);
	host = a->host != NULL ? a->host : cfg.client_address;
	port = cfg.client_port;
	if (a->port != NULL && ((port = config_parse_port(a->port)) == -1 ||
	    port == 0)) {
		fprintf(stderr, "seqecho-bench: port %s: must be 1..65535\n",
		    a->port);
		exit(1);
	}
	snprintf(portbuf, sizeof portbuf, "%d", port);
	b->connect_timeout.tv_sec = cfg.connect_timeout;
	b->separator = xstrdup(cfg.separator);
	b->proxy = a->proxy != -1 ? a->proxy : cfg.client_proxy;

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(b);
	bench_target(b, host, portbuf);
	o.ca = a->ca;
	o.insecure = a->insecure;
	bench_tls_configure(b, a->tls, a->tls_only, &o, a->servername, &cfg,
	    host);
	config_free(&cfg);
	setup_payload(b);
}

/* Build the payloads and the sizes that follow from -s and -P. */
static void
setup_payload(struct bench *b)
{
	size_t	seplen = strlen(b->separator);

	if (check_init(&b->check, (size_t)b->size, b->separator, seplen) == -1)
		fatal("malloc");
	b->msglen = (size_t)b->size + 1;
	b->reply_max = PROTO_SERIAL_MAX + seplen + (size_t)b->size +
	    REPLY_SLACK;
	b->ring_mask = 1;
	while (b->ring_mask < (uint32_t)b->depth)
		b->ring_mask <<= 1;
	b->ring_mask--;
	if (b->mode == MODE_OPEN)
		b->interval_ns = (double)b->conns * 1e9 / b->rate;
}

/* One descriptor per connection: raise the soft limit, or say why not. */
static void
raise_fd_limit(const struct bench *b)
{
	struct rlimit	rl;
	rlim_t		need;

	need = (rlim_t)b->conns + BENCH_FD_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "seqecho-bench: -n %d needs %llu file "
		    "descriptors, the hard limit is %llu (ulimit -n)\n",
		    b->conns, (unsigned long long)need,
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

/*
 * The main thread's base and events: the threads' word, the two signals
 * (sig[0], sig[1]), --idle's hold timer, and on a terminal the progress.
 */
static void
bench_events(struct bench *b, struct event **sig)
{
	struct timeval	second = { 1, 0 };

	if (evthread_use_pthreads() == -1)
		fatalx("cannot set up libevent threads");
	if ((b->base = event_base_new()) == NULL)
		fatalx("cannot create an event base");
	b->notify_ev = event_new(b->base, -1, 0, main_notify_cb, b);
	b->hold_ev = evtimer_new(b->base, main_hold_cb, b);
	sig[0] = evsignal_new(b->base, SIGINT, main_signal_cb, b);
	sig[1] = evsignal_new(b->base, SIGTERM, main_signal_cb, b);
	if (b->notify_ev == NULL || b->hold_ev == NULL || sig[0] == NULL ||
	    sig[1] == NULL || evsignal_add(sig[0], NULL) == -1 ||
	    evsignal_add(sig[1], NULL) == -1)
		fatalx("cannot create events");
	if (!b->quiet && isatty(STDERR_FILENO)) {
		b->progress_ev = event_new(b->base, -1, EV_PERSIST,
		    main_progress_cb, b);
		if (b->progress_ev == NULL ||
		    event_add(b->progress_ev, &second) == -1)
			fatalx("cannot create a timer");
	}
}

/* Share out the connections and the -m budget, and start the threads. */
static void
bench_start(struct bench *b)
{
	struct bench_thread	*t;
	sigset_t		 block, saved;
	uint32_t		 id = 0;
	uint64_t		 n = (uint64_t)b->threads;
	int			 i, error;

	/* Signals go to the main thread, whose loop turns them into stops. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	b->thread = xcalloc((size_t)b->threads, sizeof *b->thread);
	for (i = 0; i < b->threads; i++) {
		t = &b->thread[i];
		t->index = i;
		t->nconns = b->conns / b->threads + (i < b->conns % b->threads);
		t->first_id = id;
		id += (uint32_t)t->nconns;
		t->budget = UINT64_MAX;
		if (b->messages > 0)
			t->budget = b->messages / n +
			    ((uint64_t)i < b->messages % n);
		bench_thread_new(b, t);
		if ((error = pthread_create(&t->tid, NULL, bench_thread_main,
		    t)) != 0) {
			errno = error;
			fatal("pthread_create");
		}
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

/* Wait for the threads and add up their figures; the window's end. */
static int64_t
bench_join(struct bench *b, struct bench_stats *total)
{
	struct bench_thread	*t;
	int64_t			 end = 0;
	int			 i;

	for (i = 0; i < b->threads; i++) {
		t = &b->thread[i];
		pthread_join(t->tid, NULL);
		stats_merge(total, &t->stats);
		if (t->window_end != INT64_MAX && t->window_end > end)
			end = t->window_end;
		bench_thread_delete(t);
	}
	return (end);
}

/* Add one thread's figures into the total. */
static void
stats_merge(struct bench_stats *to, const struct bench_stats *s)
{
	int	k;

	hist_merge(&to->latency, &s->latency);
	hist_merge(&to->connect, &s->connect);
	hist_merge(&to->teardown, &s->teardown);
	hist_merge(&to->lifetime, &s->lifetime);
	hist_merge(&to->handshake, &s->handshake);
	to->handshakes += s->handshakes;
	to->messages += s->messages;
	to->late += s->late;
	to->bytes_out += s->bytes_out;
	to->bytes_in += s->bytes_in;
	to->opened += s->opened;
	to->churned += s->churned;
	to->held += s->held;
	for (k = 0; k < ERROR_COUNT; k++) {
		to->errors[k] += s->errors[k];
		if (to->sample[k][0] == '\0')
			memcpy(to->sample[k], s->sample[k], BENCH_SAMPLE_MAX);
	}
}

/* The processor time used since the clock started, user and system. */
static void
cpu_used(const struct bench *b, double *user, double *sys)
{
	struct rusage	ru;

	*user = *sys = 0;
	if (b->start == 0 || getrusage(RUSAGE_SELF, &ru) == -1)
		return;
	*user = (double)(ru.ru_utime.tv_sec - b->ru_start.ru_utime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec - b->ru_start.ru_utime.tv_usec) / 1e6;
	*sys = (double)(ru.ru_stime.tv_sec - b->ru_start.ru_stime.tv_sec) +
	    (double)(ru.ru_stime.tv_usec - b->ru_start.ru_stime.tv_usec) / 1e6;
}

/* From a load thread: one more is set up or done (*counter). */
void
bench_tell_main(struct bench *b, int *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_ACQ_REL);
	event_active(b->notify_ev, EV_READ, 1);
}

/* Threads are set up or done: start the run, or end the loop. */
static void
main_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench	*b = arg;

	(void)fd;
	(void)what;
	if (!b->started && !b->stopping &&
	    __atomic_load_n(&b->ready, __ATOMIC_ACQUIRE) == b->threads)
		main_start(b);
	if (__atomic_load_n(&b->done, __ATOMIC_ACQUIRE) == b->threads)
		event_base_loopbreak(b->base);
}

/* Every thread is set up: start the clock for all of them at once. */
static void
main_start(struct bench *b)
{
	struct timeval	tv;
	uint64_t	held = 0;
	int		i;

	b->started = 1;
	b->start = now_ns();
	getrusage(RUSAGE_SELF, &b->ru_start);
	bench_hlog_start(b);
	b->last_tick = b->start;
	b->last_count = 0;
	__atomic_store_n(&b->run_start, b->start, __ATOMIC_RELEASE);
	for (i = 0; i < b->threads; i++)
		event_active(b->thread[i].go_ev, EV_READ, 1);
	if (b->mode != MODE_IDLE)
		return;
	for (i = 0; i < b->threads; i++)
		held += __atomic_load_n(&b->thread[i].live_open,
		    __ATOMIC_RELAXED);
	if (!b->quiet) {
		bench_progress_clear(b);
		fprintf(stderr, "seqecho-bench: holding %" PRIu64
		    " connections to %s%s\n", held, b->target_name,
		    b->seconds > 0 ? "" : " until interrupted");
	}
	if (b->seconds > 0) {
		ns_to_timeval((int64_t)(b->seconds * NSEC), &tv);
		evtimer_add(b->hold_ev, &tv);
	}
}

/* Stop every thread (an interrupt, or --idle's time is up). */
static void
main_stop(struct bench *b)
{
	int	i;

	if (b->stopping)
		return;
	b->stopping = 1;
	__atomic_store_n(&b->stop_at, now_ns(), __ATOMIC_RELEASE);
	for (i = 0; i < b->threads; i++)
		event_active(b->thread[i].stop_ev, EV_READ, 1);
}

/* The first interrupt ends the run cleanly, a second one at once. */
static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct bench	*b = arg;

	(void)sig;
	(void)what;
	if (b->signals++ > 0) {
		bench_progress_clear(b);
		fprintf(stderr, "seqecho-bench: interrupted\n");
		_exit(130);
	}
	main_stop(b);
}

/* --idle has held its connections for -d seconds. */
static void
main_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	main_stop(arg);
}

/* Once a second on a terminal. */
static void
main_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bench_progress(arg);
}

/* Parse the options, run the threads, merge their figures, report. */
int
main(int argc, char **argv)
{
	struct bench		 b;
	struct bench_args	 a;
	struct bench_stats	*total;
	struct event		*sig[2];
	double			 secs = 0, cpu_user, cpu_sys;
	int64_t			 end;
	uint64_t		 errors = 0;
	int			 k;

	if (argc > 1 && strcmp(argv[1], "--merge") == 0)
		return (bench_merge_main(argc - 1, argv + 1));
	memset(&b, 0, sizeof b);
	memset(&a, 0, sizeof a);
	bench_options(&b, &a, argc, argv);
	log_init("seqecho-bench", LOG_DEST_PLAIN);
	log_setlevel(LOG_LEVEL_WARNING);
	bench_configure(&b, &a);
	bench_hlog_open(&b);
	bench_events(&b, sig);
	bench_start(&b);

	event_base_dispatch(b.base);
	b.end = now_ns();
	total = xcalloc(1, sizeof *total);
	end = bench_join(&b, total);
	bench_progress_clear(&b);

	/* The window: start to the latest thread's end of counting. */
	if (b.start != 0 && end > b.start)
		secs = (double)(end - b.start) / 1e9;
	cpu_used(&b, &cpu_user, &cpu_sys);
	/* Nothing got through: say why where a script will see it. */
	if (total->opened == 0 && total->errors[ERROR_CONNECT] > 0)
		fprintf(stderr, "seqecho-bench: %s\n",
		    total->sample[ERROR_CONNECT]);
	bench_report(&b, total, secs, cpu_user, cpu_sys);
	if (b.percentiles) {
		hdr_percentiles(stdout, &total->latency, 1e3);
		fflush(stdout);
	}
	bench_hlog_finish(&b, total);

	for (k = 0; k < ERROR_COUNT; k++)
		errors += total->errors[k];
	free(total);
	free(b.thread);
	check_free(&b.check);
	free(b.separator);
	bench_tls_free(&b);
	sources_free(&b.sources);
	event_free(b.notify_ev);
	event_free(b.hold_ev);
	if (b.progress_ev != NULL)
		event_free(b.progress_ev);
	event_free(sig[0]);
	event_free(sig[1]);
	event_base_free(b.base);
	libevent_global_shutdown();
	return (errors > 0 ? 1 : 0);
}
