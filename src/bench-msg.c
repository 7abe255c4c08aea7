/*
 * bench-msg.c - the messages on a seqecho-bench connection: what is sent
 * when (closed loop, open loop), the stream written, and each reply read
 * and checked.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "seqecho.h"
#include "bench.h"

static void	conn_reply(struct bench_conn *, const char *, size_t, int64_t);
static void	conn_reply_odd(struct bench_conn *, const char *, size_t,
		    int64_t);
static void	conn_wrong_payload(struct bench_conn *, uint64_t,
		    const char *);
static void	conn_account(struct bench_conn *, uint64_t, int64_t);
static void	conn_after_read(struct bench_conn *, int64_t);
static void	conn_issue(struct bench_conn *, int64_t);

/*
 * Read once, check each complete reply, and send what is due. Returns 1
 * if the connection is still there, 0 if there was nothing to read, -1
 * if it has ended (and a churn slot may hold a new one already).
 */
int
bench_conn_read(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;
	size_t			 max = t->b->reply_max, left;
	char			*buf = t->rbuf, *p, *end, *nl;
	char			 got[BENCH_SAMPLE_MAX];
	ssize_t			 n;
	int64_t			 now;
	uint32_t		 closes = c->closes;

	if (c->plen > 0)
		memcpy(buf, c->partial, c->plen);
	if (c->ssl == NULL)
		n = read(c->fd, buf + c->plen, BENCH_READ_MAX);
	else
		n = bench_tls_read(c, buf + c->plen, BENCH_READ_MAX);
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return (0);
		bench_conn_eof(c, n == 0 ? 0 : errno);
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
	if (left > max) {
		check_sample(got, sizeof got, p, left);
		bench_thread_error(t, ERROR_PAYLOAD, 1, "connection %u: a "
		    "reply over %zu bytes: \"%s\"", c->id, max, got);
		bench_conn_eof(c, EMSGSIZE);
		return (-1);
	}
	if (left > 0) {
		if (c->partial == NULL)
			c->partial = xmalloc(max);
		memcpy(c->partial, p, left);
	}
	c->plen = left;
	conn_after_read(c, now);
	bench_thread_live(t);
	return (c->closes == closes ? 1 : -1);
}

/* Check one reply line; the usual case, a right reply, is kept quick. */
static void
conn_reply(struct bench_conn *c, const char *p, size_t len, int64_t now)
{
	if (c->replied != c->issued && check_reply(&c->t->b->check, c->id,
	    &c->serial, c->replied, p, len)) {
		check_serial_next(&c->serial);
		conn_account(c, c->replied, now);
		return;
	}
	conn_reply_odd(c, p, len, now);
}

/* Count what is wrong with a reply once (check_judge says what). */
static void
conn_reply_odd(struct bench_conn *c, const char *p, size_t len, int64_t now)
{
	struct bench_thread	*t = c->t;
	struct check_verdict	 v;
	char			 got[BENCH_SAMPLE_MAX];
	uint64_t		 k = c->replied, j;

	check_sample(got, sizeof got, p, len);
	check_judge(&t->b->check, c->id, &c->serial, k, c->issued - k, p, len,
	    &v);
	switch (v.kind) {
	case CHECK_ERR:
		c->flags |= BCONN_GOT_ERR;
		bench_thread_error(t, ERROR_ERR, 1, "connection %u: \"%s\"",
		    c->id, got);
		return;
	case CHECK_EXTRA:
		bench_thread_error(t, ERROR_EXTRA, 1, "connection %u: a reply "
		    "with no message waiting: \"%s\"", c->id, got);
		check_serial_set(&c->serial, v.next_serial);
		return;
	case CHECK_REPEAT:
		bench_thread_error(t, ERROR_EXTRA, 1, "connection %u: reply %"
		    PRIu64 " repeats the one before: \"%s\"", c->id, k, got);
		check_serial_set(&c->serial, v.next_serial);
		return;
	case CHECK_ANSWER:
		break;
	}
	if ((j = v.skipped) > 0) {
		bench_thread_error(t, ERROR_MISSING, j, "connection %u: no "
		    "reply to message %" PRIu64 " (the next reply answered "
		    "message %" PRIu64 ")", c->id, k, k + j);
		c->replied += j;
		t->inflight -= j;
		k += j;
	}
	if (v.bad_payload)
		conn_wrong_payload(c, k, got);
	if (v.bad_serial)
		bench_thread_error(t, ERROR_SERIAL, 1, "connection %u, reply %"
		    PRIu64 ": got \"%s\", want serial %" PRIu64, c->id, k,
		    got, c->serial.value);
	check_serial_set(&c->serial, v.next_serial);
	conn_account(c, k, now);
}

/* Count reply k's wrong payload, saying what was wanted. */
static void
conn_wrong_payload(struct bench_conn *c, uint64_t k, const char *got)
{
	const struct check	*chk = &c->t->b->check;
	char			 want[BENCH_SAMPLE_MAX];
	size_t			 i;

	i = check_sample(want, sizeof want, chk->sep, chk->seplen);
	check_sample(want + i, sizeof want - i, check_payload(chk, c->id, k),
	    chk->size);
	bench_thread_error(c->t, ERROR_PAYLOAD, 1, "connection %u, reply %"
	    PRIu64 ": got \"%s\", want \"%.*s%s\"", c->id, k, got,
	    (int)c->serial.ndigits, c->serial.digits, want);
}

/* Message k has its reply: time it and count it. */
static void
conn_account(struct bench_conn *c, uint64_t k, int64_t now)
{
	struct bench_thread	*t = c->t;

	hist_add(&t->stats.latency, now - c->sent[k & t->b->ring_mask]);
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
conn_after_read(struct bench_conn *c, int64_t now)
{
	struct bench_thread	*t = c->t;

	switch (c->state) {
	case BCONN_WARMUP:
		if (c->replied != c->issued)
			break;
		t->stats.held++;
		t->setting_up--;
		if (t->phase == PHASE_STOPPING)
			bench_conn_bye(c);
		else {
			c->state = BCONN_READY;
			bench_thread_setup_next(t);
		}
		break;
	case BCONN_RUNNING:
		if (c->flags & BCONN_WANT_BYE) {
			if (c->replied == c->issued)
				bench_conn_bye(c);
		} else if (t->b->mode == MODE_OPEN)
			bench_conn_schedule(c, now);
		else if (t->b->mode == MODE_CLOSED) {
			conn_issue(c, now);
			bench_conn_flush(c);
		}
		break;
	default:
		break;
	}
	if (t->budget == 0)
		bench_thread_check_done(t);
}

/* The run has begun: a set-up connection starts sending. */
void
bench_conn_start(struct bench_conn *c, int64_t now)
{
	if (c->state != BCONN_READY)
		return;
	c->state = BCONN_RUNNING;
	if (c->t->b->mode == MODE_CLOSED) {
		conn_issue(c, now);
		bench_conn_flush(c);
	} else if (c->t->b->mode == MODE_OPEN)
		bench_conn_schedule(c, now);
}

/* Closed loop: fill the pipeline up to -P, within the -m budget. */
static void
conn_issue(struct bench_conn *c, int64_t now)
{
	struct bench_thread	*t = c->t;
	uint64_t		 room, i;

	/* The deadline's timer may run a little late: send nothing past it. */
	if (t->phase != PHASE_RUN || now > t->window_end)
		return;
	room = (uint64_t)t->b->depth - (c->issued - c->replied);
	if (room > t->budget)
		room = t->budget;
	for (i = 0; i < room; i++)
		c->sent[(c->issued + i) & t->b->ring_mask] = now;
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
void
bench_conn_schedule(struct bench_conn *c, int64_t now)
{
	struct bench_thread	*t = c->t;
	struct bench		*b = t->b;
	struct timeval		 tv;
	uint64_t		 before = c->issued;
	int64_t			 due;

	if (t->phase != PHASE_RUN)
		return;
	while (c->issued - c->replied < (uint64_t)b->depth && t->budget > 0) {
		due = t->start + (int64_t)(((double)c->issued + c->phase) *
		    b->interval_ns);
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
		c->sent[c->issued & b->ring_mask] = due;
		c->issued++;
		t->budget--;
		t->inflight++;
	}
	if (c->issued != before)
		bench_conn_flush(c);
}

/* Write what is owed of the stream until done or the socket is full. */
void
bench_conn_flush(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;
	uint64_t		 end;
	size_t			 len;
	ssize_t			 n;

	if (c->flags & BCONN_WRITE_WAIT)
		return;
	end = c->issued * t->b->msglen +
	    ((c->flags & BCONN_BYE_QUEUED) ? 4 : 0);
	while (c->written < end) {
		len = end - c->written > BENCH_WRITE_MAX ?
		    BENCH_WRITE_MAX : (size_t)(end - c->written);
		check_fill(&t->b->check, c->id, c->issued, c->written, t->wbuf,
		    len);
		if (c->ssl == NULL)
			n = write(c->fd, t->wbuf, len);
		else
			n = bench_tls_write(c, t->wbuf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->flags |= BCONN_WRITE_WAIT;
				if (t->b->mode != MODE_CHURN)
					event_add(c->wev, NULL);
				return;
			}
			bench_conn_eof(c, errno);
			return;
		}
		c->written += (uint64_t)n;
		t->stats.bytes_out += (uint64_t)n;
	}
	if ((c->flags & (BCONN_BYE_QUEUED | BCONN_SHUT)) == BCONN_BYE_QUEUED) {
		/* TLS's half-close first, then TCP's. */
		if (c->ssl != NULL)
			bench_tls_shutdown(c);
		shutdown(c->fd, SHUT_WR);
		c->flags |= BCONN_SHUT;
	}
}

/* Queue bye after the messages, and half-close once it is written. */
void
bench_conn_bye(struct bench_conn *c)
{
	c->flags |= BCONN_BYE_QUEUED;
	c->flags &= ~BCONN_WANT_BYE;
	c->state = BCONN_BYE;
	bench_conn_flush(c);
}
