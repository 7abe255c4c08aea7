/*
 * seqecho-trace.c - seqecho-trace's main: options, usage, and how the
 * ladders are written (a terminal gets box-drawing arrows and colour).
 * The capture is trace-capture.c's, the connections trace-conn.c's.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqecho.h"
#include "trace.h"

#define COUNT_MAX	1000000000

static void	 usage(FILE *, int) __attribute__((noreturn));
static void	 options_parse(int, char **, struct trace_opts *,
		     struct trace_out *, const char **);
static void	 out_terminal(struct trace_out *);
static int	 default_port(void);

/* Print the synopsis and exit. */
static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: seqecho-trace [-qSV] [-p port] [--svg file] "
	    "-r file\n"
	    "       seqecho-trace [-qSV] [-p port] [-c count] [--svg file] "
	    "[-i interface]\n");
	exit(code);
}

/* Read the options; bad ones exit. */
static void
options_parse(int argc, char **argv, struct trace_opts *o,
    struct trace_out *out, const char **svg)
{
	static const struct option longopts[] = {
		{ "svg", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, n;

	while ((ch = getopt_long(argc, argv, "c:hi:p:qr:SV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if ((n = config_parse_int(optarg, 1, COUNT_MAX)) == -1)
				fatalx("-c %s: must be 1..%d", optarg,
				    COUNT_MAX);
			o->count = (uint64_t)n;
			break;
		case 'h':
			usage(stdout, 0);
		case 'i':
			o->iface = optarg;
			break;
		case 'p':
			if ((o->port = config_parse_port(optarg)) < 1)
				fatalx("-p %s: port must be 1..65535", optarg);
			break;
		case 'q':
			out->quiet = 1;
			break;
		case 'r':
			o->file = optarg;
			break;
		case 's':
			*svg = optarg;
			break;
		case 'S':
			out->absolute = 1;
			break;
		case 'V':
			printf("seqecho-trace %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr, 1);
		}
	}
}

/* On a terminal: box-drawing in a UTF-8 locale, colour unless NO_COLOR. */
static void
out_terminal(struct trace_out *out)
{
	const char	*nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (!isatty(fileno(out->f)))
		return;
	setlocale(LC_CTYPE, "");
	out->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	out->colour = (nc == NULL || *nc == '\0') &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

/* Live, without -p: the client group's port, else 1234. */
static int
default_port(void)
{
	struct config	cfg;
	int		port;

	config_defaults(&cfg);
	if (config_load(&cfg, SEQECHO_CONF, 1) == -1)
		exit(1);
	port = cfg.client_port;
	config_free(&cfg);
	return (port);
}

/* Parse the options, draw the capture's ladders, exit with the result. */
int
main(int argc, char **argv)
{
	struct trace_opts	 o;
	struct trace_out	 out;
	const char		*svg = NULL;
	char			 err[512];
	int			 rc;

	log_init("seqecho-trace", LOG_DEST_PLAIN);
	memset(&o, 0, sizeof o);
	memset(&out, 0, sizeof out);
	out.f = stdout;
	options_parse(argc, argv, &o, &out, &svg);
	if (optind != argc)
		usage(stderr, 1);
	if (o.file != NULL && o.iface != NULL)
		fatalx("-r and -i cannot be used together");
	if (o.file != NULL && o.count != 0)
		fatalx("-c cannot be used with -r");
	if (o.file == NULL) {
		if (o.iface == NULL)
			o.iface = "lo";
		if (o.port == 0)
			o.port = default_port();
	}
	out_terminal(&out);
	if (svg != NULL && (out.svg = trace_svg_open(svg, err,
	    sizeof err)) == NULL)
		fatalx("--svg %s", err);
	rc = trace_run(&o, &out);
	if (out.svg != NULL && trace_svg_close(out.svg, err, sizeof err) == -1) {
		log_warnx("--svg %s", err);
		rc = 1;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("stdout");
		rc = 1;
	}
	return (rc);
}
