/*
 * tlsload.c - a closed-loop TLS (or plain TCP) load generator for line
 * echo servers: seqechod, socat PIPE and ncat --exec /bin/cat alike.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * seqecho-bench checks the serial in front of every reply; socat and
 * ncat send none, they echo verbatim. This one tool drives all three on
 * the same workload and checks either form (-M seq or -M plain), so
 * their figures compare. Benchmark only: not installed, not in make check.
 *
 *	cc -O2 -Wall -Wextra -Werror bench/tlsload.c -o tlsload \
 *	    $(pkg-config --cflags --libs libevent_openssl openssl libevent)
 *
 * libevent 2.1.12's bufferevents read 4 KiB (TCP, an ioctl each) or one
 * record (TLS) a turn, and write on the next turn, an epoll_ctl either
 * side: the tool, not the server, was the bound (W3, W4). So, as
 * seqecho-bench does, a batch is written at once (one record), TCP is
 * read by the tool, and over TLS what else waits is read at once; the
 * bufferevents keep the connect, the handshake, TLS and what a write
 * leaves over.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#define SETUP_TIMEOUT	10		/* s to connect and shake hands */
#define READ_MORE	(64 * 1024)	/* read_more's most at once */
#define BLOCK_MAX	(64 << 20)	/* -P times -s, at most */
#define ERRORS_TOLD	5		/* on stderr; all are counted */

struct load;

struct lconn {
	struct load		*l;
	struct bufferevent	*bev;
	struct event		*rev;		/* TCP's reads (tcp_read_cb) */
	uint64_t		 serial;	/* the next reply's (-M seq) */
	size_t			 left;		/* partial line kept */
	int			 up;
};

struct load {
	struct event_base	*base;
	SSL_CTX			*ctx;		/* NULL: --plain-tcp */
	struct addrinfo		*ai;
	struct lconn		*conns;
	struct event		*timer;
	char			*block;		/* -P messages */
	size_t			 size;
	double			 dur, t0, t1;
	int			 n, depth, seq, plain, json, nup, live, counting;
	uint64_t		 msgs, errors;
};

static void	usage(void);
static double	now(void);
static void	load_connect(struct load *, struct lconn *);
static void	load_send(struct lconn *, int);
static void	write_cb(struct bufferevent *, void *);
static void	tcp_read_cb(evutil_socket_t, short, void *);
static int	read_more(struct lconn *);
static int	load_check(struct lconn *, const char *, size_t);
static void	read_cb(struct bufferevent *, void *);
static void	event_cb(struct bufferevent *, short, void *);
static void	ssl_failed(struct lconn *, int);
static void	lconn_fail(struct lconn *, const char *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	load_options(struct load *, int, char **);
static void	load_setup(struct load *);

/* Say how to run it, and exit. */
static void
usage(void)
{
	fprintf(stderr, "usage: tlsload [-n conns] [-P depth] [-s bytes] "
	    "[-d seconds] [-M seq|plain] [--plain-tcp] [--json] host port\n");
	exit(2);
}

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Open connection c: TCP, then (unless --plain-tcp) the TLS handshake. */
static void
load_connect(struct load *l, struct lconn *c)
{
	SSL	*ssl;
	int	 one = 1;

	c->l = l;
	if (l->ctx == NULL)
		c->bev = bufferevent_socket_new(l->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	else if ((ssl = SSL_new(l->ctx)) == NULL ||
	    SSL_set_tlsext_host_name(ssl, "localhost") != 1)
		c->bev = NULL;
	else
		c->bev = bufferevent_openssl_socket_new(l->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		fprintf(stderr, "tlsload: cannot set up a connection\n");
		exit(1);
	}
	/* OpenSSL's retry of a write must not be cut short. */
	bufferevent_set_max_single_write(c->bev, BLOCK_MAX);
	bufferevent_setcb(c->bev, read_cb, l->ctx == NULL ? write_cb : NULL,
	    event_cb, c);
	/* Over TCP, EV_WRITE only for a rest (load_send). */
	bufferevent_enable(c->bev, EV_READ | (l->ctx != NULL ? EV_WRITE : 0));
	l->live++;
	if (bufferevent_socket_connect(c->bev, l->ai->ai_addr,
	    l->ai->ai_addrlen) != 0) {
		lconn_fail(c, "cannot connect");
		return;
	}
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof one);
}

/*
 * Send k more messages on c in one write, now. What cannot go now goes to
 * the bufferevent, by reference: over TLS all of it, as OpenSSL wants
 * the same write retried.
 */
static void
load_send(struct lconn *c, int k)
{
	struct load	*l = c->l;
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	SSL		*ssl;
	size_t		 len = k * (l->size + 1);
	ssize_t		 n = 0;
	int		 e;

	if (evbuffer_get_length(out) == 0 && l->ctx == NULL)
		n = write(bufferevent_getfd(c->bev), l->block, len);
	else if (evbuffer_get_length(out) == 0) {
		ssl = bufferevent_openssl_get_ssl(c->bev);
		if ((n = SSL_write(ssl, l->block, len)) <= 0 &&
		    (e = SSL_get_error(ssl, n)) != SSL_ERROR_WANT_WRITE &&
		    e != SSL_ERROR_WANT_READ) {
			ssl_failed(c, n);
			return;
		}
	}
	if (n < 0)
		n = 0;	/* EAGAIN, or an error the bufferevent will meet */
	if ((size_t)n < len) {
		evbuffer_add_reference(out, l->block + n, len - n, NULL, NULL);
		if (l->ctx == NULL)
			bufferevent_enable(c->bev, EV_WRITE);
	}
}

/* Over TCP: the bufferevent has written the rest load_send left it. */
static void
write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_disable(bev, EV_WRITE);
}

/*
 * Over TCP, once connected, the tool reads the socket itself: what is
 * there, up to READ_MORE, in one read(2), without the bufferevent's
 * ioctl(FIONREAD) per read.
 */
static void
tcp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lconn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 iv;
	ssize_t			 n = -1;

	(void)what;
	if (evbuffer_reserve_space(in, READ_MORE, &iv, 1) == 1 &&
	    (n = read(fd, iv.iov_base, iv.iov_len)) > 0) {
		iv.iov_len = n;
		evbuffer_commit_space(in, &iv, 1);
		read_cb(c->bev, c);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		lconn_fail(c, n == 0 ? "closed by the server" :
		    strerror(errno));
}

/*
 * Over TLS a full 4 KiB came in: take what else waits, up to READ_MORE.
 * An error ends c here (-1), as the socket may not wake libevent again.
 */
static int
read_more(struct lconn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 iv;
	SSL			*ssl;
	size_t			 got = 0;
	ssize_t			 n;

	if (c->l->ctx == NULL || evbuffer_get_length(in) - c->left < 4096)
		return (0);
	ssl = bufferevent_openssl_get_ssl(c->bev);
	while (got < READ_MORE &&
	    evbuffer_reserve_space(in, 16384, &iv, 1) == 1) {
		if ((n = SSL_read(ssl, iv.iov_base, iv.iov_len)) <= 0) {
			if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ)
				break;
			ssl_failed(c, n);
			return (-1);
		}
		iv.iov_len = n;
		evbuffer_commit_space(in, &iv, 1);
		got += n;
	}
	return (0);
}

/* Whether reply line p (len bytes, no "\n") is the one c is owed. */
static int
load_check(struct lconn *c, const char *p, size_t len)
{
	char		 d[24];
	size_t		 nd = 0, i;
	uint64_t	 v = c->serial++;

	if (c->l->seq) {
		do
			d[nd++] = '0' + v % 10;
		while ((v /= 10) != 0);
		if (len != nd + c->l->size)
			return (0);
		for (i = 0; i < nd; i++)
			if (p[i] != d[nd - 1 - i])
				return (0);
		p += nd;
		len -= nd;
	}
	return (len == c->l->size && memcmp(p, c->l->block, len) == 0);
}

/* Check every complete reply that has come, and send as many more. */
static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct lconn		*c = arg;
	struct load		*l = c->l;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	size_t			 eol_len;
	int			 k = 0;

	if (read_more(c) == -1)
		return;
	/* Not searched until a reply's length is in: big -s is not n^2. */
	while (evbuffer_get_length(in) > l->size) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0)
			break;
		if (!load_check(c, (char *)evbuffer_pullup(in, eol.pos + 1),
		    eol.pos))
			l->errors++;
		else if (l->counting)
			l->msgs++;
		evbuffer_drain(in, eol.pos + 1);
		k++;
	}
	/* Longer than any right reply: it will not come right. */
	if ((c->left = evbuffer_get_length(in)) > l->size + 21)
		lconn_fail(c, "reply too long");
	else if (k > 0)
		load_send(c, k);
}

/* Connected (and the handshake done): start; or the connection ended. */
static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct lconn	*c = arg;
	struct load	*l = c->l;
	struct timeval	 tv;
	unsigned long	 e;
	char		 why[256];

	if (what & BEV_EVENT_CONNECTED) {
		c->up = 1;
		l->nup++;
		if (l->ctx == NULL) {
			/* The input is the tool's now: no more freezes. */
			bufferevent_disable(bev, EV_READ);
			evbuffer_unfreeze(bufferevent_get_input(bev), 0);
			if ((c->rev = event_new(l->base, bufferevent_getfd(bev),
			    EV_READ | EV_PERSIST, tcp_read_cb, c)) == NULL ||
			    event_add(c->rev, NULL) != 0) {
				lconn_fail(c, "cannot make an event");
				return;
			}
		}
		load_send(c, l->depth);
		if (l->nup == l->n) {	/* all up: the window opens */
			l->counting = 1;
			l->t0 = now();
			tv.tv_sec = (time_t)l->dur;
			tv.tv_usec = (suseconds_t)((l->dur - tv.tv_sec) * 1e6);
			evtimer_add(l->timer, &tv);
		}
		return;
	}
	/* libevent queues SSL_get_error's codes too: find a real one. */
	while (l->ctx != NULL && (e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_reason_error_string(e) != NULL) {
			ERR_error_string_n(e, why, sizeof why);
			lconn_fail(c, why);
			return;
		}
	lconn_fail(c, what & BEV_EVENT_EOF ? "closed by the server" :
	    strerror(errno));
}

/* OpenSSL returned ret on c, not WANT_READ or WANT_WRITE: say why. */
static void
ssl_failed(struct lconn *c, int ret)
{
	unsigned long	e = ERR_get_error();
	char		why[256];

	if (e != 0)
		ERR_error_string_n(e, why, sizeof why);
	lconn_fail(c, e != 0 ? why : ret == 0 ? "closed by the server" :
	    strerror(errno));
}

/* Count c's end as an error; stop when none is left, or in the setup. */
static void
lconn_fail(struct lconn *c, const char *why)
{
	struct load	*l = c->l;

	if (l->errors++ < ERRORS_TOLD)
		fprintf(stderr, "tlsload: connection %td: %s\n",
		    c - l->conns, why);
	if (c->rev != NULL)
		event_free(c->rev);
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->rev = NULL;
	l->nup -= c->up;
	c->up = 0;
	if (--l->live == 0 || !l->counting)
		event_base_loopbreak(l->base);
}

/* The window is over, or the connections took too long to come up. */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load	*l = arg;

	(void)fd;
	(void)what;
	if (!l->counting)
		fprintf(stderr, "tlsload: %d of %d connections up after %d s\n",
		    l->nup, l->n, SETUP_TIMEOUT);
	l->t1 = now();
	event_base_loopbreak(l->base);
}

/* Read the options and the address into l, or exit. */
static void
load_options(struct load *l, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "plain-tcp",	no_argument,	NULL,	't' },
		{ "json",	no_argument,	NULL,	'j' },
		{ NULL,		0,		NULL,	0 }
	};
	struct addrinfo	 hints;
	int		 ch, e;

	l->n = l->depth = l->seq = 1;
	l->size = 16;
	l->dur = 3;
	while ((ch = getopt_long(argc, argv, "n:P:s:d:M:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			l->n = atoi(optarg);
			break;
		case 'P':
			l->depth = atoi(optarg);
			break;
		case 's':
			l->size = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			l->dur = atof(optarg);
			break;
		case 'M':
			l->seq = strcmp(optarg, "seq") == 0;
			if (!l->seq && strcmp(optarg, "plain") != 0)
				usage();
			break;
		case 't':
			l->plain = 1;
			break;
		case 'j':
			l->json = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || l->n < 1 || l->depth < 1 || l->size < 1 ||
	    l->depth > BLOCK_MAX || l->size >= (size_t)(BLOCK_MAX / l->depth) ||
	    !(l->dur > 0 && l->dur < 86400))
		usage();
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(argv[optind], argv[optind + 1], &hints,
	    &l->ai)) != 0) {
		fprintf(stderr, "tlsload: %s: %s\n", argv[optind],
		    gai_strerror(e));
		exit(1);
	}
}

/* The TLS context (unless --plain-tcp), the messages, the event base. */
static void
load_setup(struct load *l)
{
	size_t	i;

	if (!l->plain) {
		/* A benchmark against a test certificate: nothing verified. */
		if ((l->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
		    !SSL_CTX_set_min_proto_version(l->ctx, TLS1_3_VERSION)) {
			fprintf(stderr, "tlsload: cannot make a TLS context\n");
			exit(1);
		}
		SSL_CTX_set_verify(l->ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_options(l->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	}
	l->block = malloc(l->depth * (l->size + 1));
	l->conns = calloc(l->n, sizeof *l->conns);
	if (l->block == NULL || l->conns == NULL) {
		fprintf(stderr, "tlsload: out of memory\n");
		exit(1);
	}
	for (i = 0; i < l->depth * (l->size + 1); i++)
		l->block[i] = i % (l->size + 1) == l->size ? '\n' :
		    'a' + i % (l->size + 1) % 26;
	if ((l->base = event_base_new()) == NULL ||
	    (l->timer = evtimer_new(l->base, timer_cb, l)) == NULL) {
		fprintf(stderr, "tlsload: cannot set up libevent\n");
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct load	l;
	struct timeval	tv = { SETUP_TIMEOUT, 0 };
	double		t;
	int		i;

	/* Chains of 64 KiB come and go: keep glibc from trimming per turn. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	signal(SIGPIPE, SIG_IGN);
	memset(&l, 0, sizeof l);
	load_options(&l, argc, argv);
	load_setup(&l);
	evtimer_add(l.timer, &tv);
	for (i = 0; i < l.n && l.errors == 0; i++)
		load_connect(&l, &l.conns[i]);
	if (l.errors == 0)
		event_base_dispatch(l.base);
	if (!l.counting && l.errors == 0)
		l.errors++;	/* told already: the window never opened */
	else if (l.t1 == 0)
		l.t1 = now();	/* every connection ended within it */
	if (l.counting && l.msgs == 0 && l.errors == 0) {
		fprintf(stderr, "tlsload: no reply in the window\n");
		l.errors++;
	}

	t = l.counting ? l.t1 - l.t0 : 1;
	printf(l.json ? "{\"messages_per_second\":%.1f,\"mb_per_second\":"
	    "%.3f,\"errors\":%" PRIu64 ",\"conns\":%d}\n" : "messages/s %.0f"
	    "  MB/s %.3f  errors %" PRIu64 "  conns %d\n", l.msgs / t,
	    l.msgs * l.size / t / 1e6, l.errors, l.nup);

	for (i = 0; i < l.n; i++) {
		if (l.conns[i].rev != NULL)
			event_free(l.conns[i].rev);
		if (l.conns[i].bev != NULL)
			bufferevent_free(l.conns[i].bev);
	}
	event_free(l.timer);
	event_base_free(l.base);
	if (l.ctx != NULL)
		SSL_CTX_free(l.ctx);
	freeaddrinfo(l.ai);
	free(l.conns);
	free(l.block);
	return (l.errors != 0);
}
