/*
 * bench-end.c - how a seqecho-bench connection ends: at the end of a run
 * (stop, then the grace for replies owed), at the server's EOF or an
 * error, counted by what was owed, the close, and with --churn the next
 * connection in its slot.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <unistd.h>

#include <openssl/ssl.h>

#include <event2/event.h>

#include "seqecho.h"
#include "bench.h"

static void	conn_eof_count(struct bench_conn *, int);

/*
 * The run is ending: a connection still being set up is dropped (a
 * churn one finishes), one with replies owed says bye once they are in.
 */
void
bench_conn_stop(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;

	if (c->timer != NULL)
		evtimer_del(c->timer);
	switch (c->state) {
	case BCONN_CONNECTING:
	case BCONN_HANDSHAKE:
		if (t->b->mode != MODE_CHURN) {
			t->setting_up--;
			bench_conn_close(c);
			c->state = BCONN_CLOSED;
		}
		break;
	case BCONN_READY:
	case BCONN_RUNNING:
		if (c->issued == c->replied)
			bench_conn_bye(c);
		else {
			c->state = BCONN_RUNNING;
			c->flags |= BCONN_WANT_BYE;
		}
		break;
	case BCONN_FREE:
		c->state = BCONN_CLOSED;
		break;
	default:
		/* WARMUP says bye after its reply; BYE is under way. */
		break;
	}
}

/*
 * A grace period after the end has run out. The first (stage 1): what
 * is still owed is missing, and bye goes out. The second: whoever has
 * not closed is closed.
 */
void
bench_conn_grace(struct bench_conn *c, int stage)
{
	struct bench_thread	*t = c->t;
	uint64_t		 owed;

	if (c->fd == -1)
		return;
	if (c->state == BCONN_CONNECTING || c->state == BCONN_HANDSHAKE) {
		bench_conn_close(c);
		c->state = BCONN_CLOSED;
		return;
	}
	if (stage == 1) {
		owed = c->issued - c->replied;
		if (owed > 0 && !(c->flags & BCONN_GOT_ERR))
			bench_thread_error(t, ERROR_MISSING, owed, "connection "
			    "%u: %" PRIu64 " replies still owed %d ms after "
			    "the end", c->id, owed, BENCH_GRACE_MS);
		c->replied = c->issued;
		t->inflight -= owed;
		if (c->state != BCONN_BYE)
			bench_conn_bye(c);
		return;
	}
	if (!(c->flags & BCONN_GOT_ERR))
		bench_thread_error(t, ERROR_UNCLOSED, 1, "connection %u: not "
		    "closed by the server %d ms after bye", c->id,
		    BENCH_GRACE_MS);
	bench_conn_close(c);
	c->state = BCONN_CLOSED;
}

/*
 * The server closed (error is 0) or reset the connection, or a write
 * failed. After our bye that is the end we asked for.
 */
void
bench_conn_eof(struct bench_conn *c, int error)
{
	struct bench_thread	*t = c->t;
	int			 warmup = c->state == BCONN_WARMUP;

	conn_eof_count(c, error);
	bench_conn_close(c);
	if (t->b->mode == MODE_CHURN)
		bench_conn_churn_next(c);
	else {
		c->state = BCONN_CLOSED;
		if (warmup) {
			t->setting_up--;
			bench_thread_setup_next(t);
		}
	}
	bench_thread_live(t);
	bench_thread_check_done(t);
}

/*
 * Count a close: after bye, churn's figures or what was still owed;
 * before it, an error, unless an ERR line already said why.
 */
static void
conn_eof_count(struct bench_conn *c, int error)
{
	struct bench_thread	*t = c->t;
	uint64_t		 owed = c->issued - c->replied;
	int64_t			 now = now_ns();

	if (c->flags & BCONN_GOT_ERR)
		return;
	if (c->state != BCONN_BYE) {
		bench_thread_error(t, ERROR_CLOSE, 1, "connection %u: %s "
		    "after %" PRIu64 " replies", c->id, error == 0 ?
		    "closed by the server" : error == EPROTO && c->ssl != NULL ?
		    t->tls_why : strerror(error), c->replied);
		if (owed > 0)
			bench_thread_error(t, ERROR_MISSING, owed, "connection "
			    "%u: closed with %" PRIu64 " replies owed", c->id,
			    owed);
	} else if (owed > 0)
		bench_thread_error(t, ERROR_MISSING, owed, "connection %u: "
		    "closed after bye with %" PRIu64 " replies owed", c->id,
		    owed);
	else if (c->plen > 0)
		bench_thread_error(t, ERROR_EXTRA, 1, "connection %u: an "
		    "unfinished line after the last reply", c->id);
	else if (t->b->mode == MODE_CHURN) {
		if (now <= t->window_end)
			t->stats.churned++;
		hist_add(&t->stats.teardown, now - c->t_reply);
		hist_add(&t->stats.lifetime, now - c->t_connect);
	}
}

/* Drop the socket; what it still owed is no longer waited for. */
void
bench_conn_close(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;

	if (c->fd == -1)
		return;
	event_del(c->rev);
	event_del(c->wev);
	if (c->timer != NULL)
		evtimer_del(c->timer);
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	close(c->fd);
	c->fd = -1;
	c->closes++;
	t->inflight -= c->issued - c->replied;
	c->replied = c->issued;
	c->state = BCONN_FREE;
	c->flags = 0;
	c->plen = 0;
	c->timer_due = 0;
	t->open--;
}

/* Churn: start the slot's next connection, if the run wants one. */
void
bench_conn_churn_next(struct bench_conn *c)
{
	struct bench_thread	*t = c->t;

	if (t->phase != PHASE_RUN || t->budget == 0) {
		c->state = BCONN_CLOSED;
		bench_thread_check_done(t);
		return;
	}
	t->budget--;
	/* A new id per connection: new payloads, the next source address. */
	c->id = t->churn_seq++ * (uint32_t)t->b->threads + (uint32_t)t->index;
	bench_conn_connect(c);
}
