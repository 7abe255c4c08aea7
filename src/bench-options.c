/*
 * bench-options.c - seqecho-bench's command line and the client group of
 * the configuration file: the run's options checked together, the
 * target, the payloads, and the descriptors the connections need.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "seqecho.h"
#include "bench.h"
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

/*
 * The command line, then the configuration file: b set up for the run,
 * its target resolved and its TLS context made, or exit.
 */
void
bench_setup(struct bench *b, int argc, char **argv)
{
	struct bench_args	a;

	memset(&a, 0, sizeof a);
	bench_options(b, &a, argc, argv);
	log_init("seqecho-bench", LOG_DEST_PLAIN);
	log_setlevel(LOG_LEVEL_WARNING);
	bench_configure(b, &a);
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

