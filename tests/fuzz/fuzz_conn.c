/*
 * fuzz_conn.c - libFuzzer target for one connection (src/conn.c) fed
 * through the real code: a socketpair, the real conn_new and its real
 * bufferevent callbacks on a real event loop, with a stand-in worker.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The first bytes choose the framing, max_line, the separator, how many
 * bytes the peer writes at a time and how much it reads between writes
 * (none, for a while, to get the connection throttled); the rest is the
 * stream the peer sends, followed by its FIN. The loop then runs until
 * the connection has freed itself (the worker is told), within a bound.
 * What came back must be replies with serials 0, 1, 2... in order, then
 * at most one ERR line; after the connection ends nothing may be left:
 * AddressSanitizer and LeakSanitizer see the rest.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "seqechod.h"

#define BACK_MAX	(4 * 1024 * 1024)

/* The stand-in worker: what conn.c asks of its worker. */
struct worker {
	struct event_base	*base;
	struct conn_list	 conns;
	struct stats		 stats;
	int			 closed;
};

struct event_base *
worker_base(struct worker *w)
{
	return (w->base);
}

struct stats *
worker_stats(struct worker *w)
{
	return (&w->stats);
}

struct conn_list *
worker_conns(struct worker *w)
{
	return (&w->conns);
}

void
worker_conn_closed(struct worker *w, int counted)
{
	(void)counted;
	w->closed++;
}

/* The replies must be serials 0, 1, 2... in order, then at most one ERR. */
static void
check_replies(const char *b, size_t len, const char *sep, size_t seplen)
{
	const char	*line, *lf;
	char		 want[PROTO_SERIAL_MAX + 1];
	size_t		 n;
	uint64_t	 k = 0;

	for (line = b; line < b + len; line = lf + 1) {
		if ((lf = memchr(line, '\n', (size_t)(b + len - line))) == NULL)
			abort();	/* every reply and error ends in LF */
		if (strncmp(line, "ERR ", 4) == 0) {
			if (lf + 1 != b + len)
				abort();	/* nothing after an error */
			return;
		}
		n = proto_format_serial(k++, want);
		if ((size_t)(lf - line) < n + seplen ||
		    memcmp(line, want, n) != 0 ||
		    memcmp(line + n, sep, seplen) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 inited;
	struct worker		 w;
	struct accepted		 a;
	char			*back;
	size_t			 backlen = 0, sent = 0, chunk, seplen;
	ssize_t			 n;
	size_t			 turn, turns;
	int			 sv[2], fin = 0, hold;

	if (!inited) {
		log_init("fuzz_conn", LOG_DEST_STDERR);
		log_setlevel(LOG_LEVEL_ERROR);
		inited = 1;
	}
	if (size < 4)
		return (0);
	memset(&a, 0, sizeof a);
	a.params.framing = data[0] & 1 ? PROTO_FRAMING_SEGMENT :
	    PROTO_FRAMING_LINE;
	a.params.max_line = 1 + data[1] % 64 * (data[0] & 2 ? 1 : 64);
	seplen = data[2] % 4;
	memcpy(a.params.separator, ":::", seplen);
	chunk = 1 + (size_t)data[3] * 37;
	hold = (data[0] >> 2) % 8;	/* turns without reading, each write */
	data += 4;
	size -= 4;
	/* Every write and each held turn, then room for the close. */
	turns = (size / chunk + 1) * (size_t)(hold + 1) + 1000;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	memset(&w, 0, sizeof w);
	if ((w.base = event_base_new()) == NULL)
		abort();
	LIST_INIT(&w.conns);
	a.fd = sv[0];
	a.peer.ss_family = AF_UNIX;
	a.id = 1;
	conn_new(&w, &a);

	back = malloc(BACK_MAX);
	for (turn = 0; turn < turns && !w.closed; turn++) {
		if (sent < size) {
			n = write(sv[1], data + sent, size - sent < chunk ?
			    size - sent : chunk);
			if (n > 0)
				sent += (size_t)n;
		} else if (!fin) {
			shutdown(sv[1], SHUT_WR);
			fin = 1;
		}
		event_base_loop(w.base, EVLOOP_NONBLOCK);
		if (hold > 0 && sent < size && turn % (size_t)(hold + 1) != 0)
			continue;
		while ((n = read(sv[1], back + backlen, BACK_MAX - backlen)) > 0)
			backlen += (size_t)n;
		if (backlen == BACK_MAX)
			backlen = 0;	/* enough checked; keep draining */
	}
	if (!w.closed)
		abort();	/* the connection never ended */
	while ((n = read(sv[1], back + backlen, BACK_MAX - backlen)) > 0)
		backlen += (size_t)n;
	if (a.params.framing == PROTO_FRAMING_LINE && backlen < BACK_MAX)
		check_replies(back, backlen, a.params.separator, seplen);

	free(back);
	close(sv[1]);
	event_base_free(w.base);
	return (0);
}
