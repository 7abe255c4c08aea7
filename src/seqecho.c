/*
 * seqecho.c - the client's main: options, usage, and the target. The
 * session itself (client.c, client-relay.c, client-end.c) reads lines from
 * stdin, sends them as they come (pipelined), writes each reply to stdout
 * as it arrives, and ends the way -x asks, so the teardown can be watched
 * with tcpdump. With -S it connects nowhere: it counts the sockets on the
 * port by state (client-stat.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/time.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqecho.h"
#include "client.h"
#include "proxy.h"

/* -w bounds, in seconds. */
#define WATCH_MIN	0.1
#define WATCH_MAX	86400

/* What the command line asks for besides the session's own settings. */
struct options {
	const char	*conf;		/* -c */
	int		 sockstat;	/* -S */
	int		 json;		/* --json */
	const char	*watch;		/* "-w" if given */
	struct timeval	 interval;	/* its value */
	const char	*other;		/* the last option -S refuses */
	const char	*tls_only;	/* the last option that needs TLS */
	const char	*ca;		/* --ca */
	const char	*cert;		/* --cert */
	const char	*key;		/* --key */
};

static void	 usage(FILE *, int) __attribute__((noreturn));
static int	 parse_mode(const char *, enum end_mode *);
static int	 parse_interval(const char *, struct timeval *);
static void	 options_parse(int, char **, struct client *,
		     struct options *);
static void	 tls_options(struct client *, const struct options *);
static int	 stat_main(struct client *, const struct options *, int,
		     char **);

/* Print the synopsis and exit. */
static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: seqecho [-qvVh] [-c file] [-t seconds] [-x mode] "
	    "[--tls] [--ca file]\n"
	    "               [--insecure] [--servername name] "
	    "[--cert file --key file]\n"
	    "               [--proxy v1|v2] [host [port]]\n"
	    "       seqecho -S [-w seconds] [-c file] [--json] [port]\n");
	exit(code);
}

/* Map a -x argument to its mode; -1 if unknown. */
static int
parse_mode(const char *s, enum end_mode *mode)
{
	if (strcmp(s, "bye") == 0)
		*mode = END_BYE;
	else if (strcmp(s, "server") == 0)
		*mode = END_SERVER;
	else if (strcmp(s, "half") == 0)
		*mode = END_HALF;
	else if (strcmp(s, "rst") == 0)
		*mode = END_RST;
	else
		return (-1);
	return (0);
}

/* A -w argument: seconds, fractions allowed, within the bounds. */
static int
parse_interval(const char *s, struct timeval *tv)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < WATCH_MIN || v > WATCH_MAX)
		return (-1);
	tv->tv_sec = (time_t)v;
	tv->tv_usec = (suseconds_t)((v - (double)tv->tv_sec) * 1e6 + 0.5);
	if (tv->tv_usec >= 1000000) {
		tv->tv_sec++;
		tv->tv_usec -= 1000000;
	}
	return (0);
}

/* Read the options into the session and o; bad ones exit. */
static void
options_parse(int argc, char **argv, struct client *c, struct options *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "proxy", required_argument, NULL, 'P' },
		{ "tls", no_argument, NULL, 'T' },
		{ "ca", required_argument, NULL, 'A' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "servername", required_argument, NULL, 'N' },
		{ "cert", required_argument, NULL, 'E' },
		{ "key", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "c:hqSt:vVw:x:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'j':
			o->json = 1;
			break;
		case 'P':
			c->proxy = proxy_mode_parse(optarg);
			if (c->proxy != PROXY_V1 && c->proxy != PROXY_V2) {
				log_warnx("--proxy %s: must be v1 or v2", optarg);
				usage(stderr, 1);
			}
			o->other = "--proxy";
			break;
		case 'T':
			c->tls = 1;
			o->other = "--tls";
			break;
		case 'A':
			o->ca = optarg;
			o->other = o->tls_only = "--ca";
			break;
		case 'I':
			c->tls_opts.insecure = 1;
			o->other = o->tls_only = "--insecure";
			break;
		case 'N':
			c->servername = optarg;
			o->other = o->tls_only = "--servername";
			break;
		case 'E':
			o->cert = optarg;
			o->other = o->tls_only = "--cert";
			break;
		case 'K':
			o->key = optarg;
			o->other = o->tls_only = "--key";
			break;
		case 'q':
			c->quiet = 1;
			o->other = "-q";
			break;
		case 'S':
			o->sockstat = 1;
			break;
		case 'v':
			c->verbose = 1;
			o->other = "-v";
			break;
		case 't':
			if ((c->timeout = config_parse_int(optarg, 1, 3600)) == -1)
				fatalx("-t %s: must be 1..3600 seconds", optarg);
			o->other = "-t";
			break;
		case 'V':
			printf("seqecho %s\n", PACKAGE_VERSION);
			exit(0);
		case 'w':
			if (parse_interval(optarg, &o->interval) == -1)
				fatalx("-w %s: must be %g..%d seconds", optarg,
				    WATCH_MIN, WATCH_MAX);
			o->watch = "-w";
			break;
		case 'x':
			if (parse_mode(optarg, &c->mode) == -1)
				fatalx("-x %s: must be bye, server, half or rst",
				    optarg);
			o->other = "-x";
			break;
		default:
			usage(stderr, 1);
		}
	}
}

/*
 * --tls and its company: the command line beats the client group. The
 * others mean nothing without TLS, and --cert and --key go together.
 */
static void
tls_options(struct client *c, const struct options *o)
{
	const struct config	*cfg = &c->cfg;

	if ((o->cert == NULL) != (o->key == NULL))
		fatalx("--cert and --key go together");
	if (!c->tls)
		c->tls = cfg->client_tls;
	if (!c->tls && o->tls_only != NULL)
		fatalx("%s needs --tls", o->tls_only);
	c->tls_opts.ca = o->ca != NULL ? o->ca : cfg->client_tls_ca;
	c->tls_opts.certificate = o->cert != NULL ? o->cert :
	    cfg->client_tls_certificate;
	c->tls_opts.key = o->key != NULL ? o->key : cfg->client_tls_key;
	if (c->servername == NULL)
		c->servername = cfg->client_tls_servername;
}

/* seqecho -S [port]: the port from the argument, else the file. */
static int
stat_main(struct client *c, const struct options *o, int argc, char **argv)
{
	int	port = c->cfg.client_port;

	config_free(&c->cfg);
	if (argc > 0 && (port = config_parse_port(argv[0])) < 1)
		fatalx("%s: port must be 1..65535", argv[0]);
	return (client_stat_run(port, o->watch != NULL ? &o->interval : NULL,
	    o->json));
}

/* Parse the options, then run the session (or -S) and exit with its code. */
int
main(int argc, char **argv)
{
	struct client	 c;
	struct options	 o;
	int		 code;

	log_init("seqecho", LOG_DEST_PLAIN);
	memset(&c, 0, sizeof c);
	memset(&o, 0, sizeof o);
	c.mode = END_BYE;
	c.timeout = -1;
	c.proxy = -1;

	options_parse(argc, argv, &c, &o);
	argc -= optind;
	argv += optind;
	if (o.sockstat && o.other != NULL)
		fatalx("%s cannot be used with -S", o.other);
	if (!o.sockstat && (o.watch != NULL || o.json))
		fatalx("%s needs -S", o.watch != NULL ? o.watch : "--json");
	if (argc > (o.sockstat ? 1 : 2))
		usage(stderr, 1);

	/* Arguments beat the file, the file beats the built-in defaults. */
	config_defaults(&c.cfg);
	if (config_load(&c.cfg, o.conf != NULL ? o.conf : SEQECHO_CONF,
	    o.conf == NULL) == -1) {
		config_free(&c.cfg);
		return (1);
	}
	if (o.sockstat)
		return (stat_main(&c, &o, argc, argv));

	c.host = argc > 0 ? argv[0] : c.cfg.client_address;
	c.port = c.cfg.client_port;
	if (argc > 1 && (c.port = config_parse_port(argv[1])) < 1)
		fatalx("%s: port must be 1..65535", argv[1]);
	if (c.timeout == -1)
		c.timeout = c.cfg.connect_timeout;
	if (c.proxy == -1)
		c.proxy = c.cfg.client_proxy;
	tls_options(&c, &o);

	code = client_run(&c);
	config_free(&c.cfg);
	return (code);
}
