/*
 * bench-target.c - where seqecho-bench connects: the address to use of a
 * name's several, and the loopback sources to spread connections over.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/util.h>

#include "seqecho.h"
#include "bench.h"

static int	probe_address(const struct bench *, const struct sockaddr *,
		    socklen_t);
static void	setup_sources(struct bench *);

/*
 * Resolve the target. When a name has several addresses (localhost: ::1
 * and 127.0.0.1), use the first that accepts a connection, so the whole
 * run does not fail on the one the server does not listen on.
 */
void
bench_target(struct bench *b, const char *host, const char *port)
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
			if (probe_address(b, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
		}
		if (ai == NULL)
			ai = res;
	}
	memcpy(&b->target, ai->ai_addr, ai->ai_addrlen);
	b->target_len = ai->ai_addrlen;
	addr_format((struct sockaddr *)&b->target, b->target_name,
	    sizeof b->target_name);
	evutil_freeaddrinfo(res);
	if (b->sources.count > 0 &&
	    b->sources.addr[0].ss_family != b->target.ss_family) {
		fprintf(stderr, "seqecho-bench: -b: the sources are IPv%c and "
		    "the target %s is not\n", b->sources.addr[0].ss_family ==
		    AF_INET ? '4' : '6', b->target_name);
		exit(1);
	}
	setup_sources(b);
}

/* -b LIST: the sources to bind, or exit. */
void
bench_sources_option(struct bench *b, const char *list)
{
	char	err[256];

	sources_free(&b->sources);
	if (sources_parse(&b->sources, list, err, sizeof err) == -1) {
		fprintf(stderr, "seqecho-bench: -b %s: %s\n", list, err);
		exit(1);
	}
}

/*
 * Every 127/8 address is local on Linux: spreading the sources gives
 * more 4-tuples, so ports in TIME_WAIT do not cap --churn and many
 * connections fit. Elsewhere only 127.0.0.1 may exist: check.
 */
static void
setup_sources(struct bench *b)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&b->target;
	struct sockaddr_in	 src;
	int			 fd;

	if (b->target.ss_family != AF_INET ||
	    (ntohl(sin->sin_addr.s_addr) >> 24) != 127)
		return;
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	b->spread_sources = bind(fd, (struct sockaddr *)&src,
	    sizeof src) == 0;
	close(fd);
}

/* Try a connection to sa within the connect timeout; end it with bye. */
static int
probe_address(const struct bench *b, const struct sockaddr *sa,
    socklen_t len)
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
		ms = (int)(b->connect_timeout.tv_sec * 1000 +
		    b->connect_timeout.tv_usec / 1000);
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
