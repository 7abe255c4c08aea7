/*
 * trace-conn.c - the connections of a capture: each segment finds its
 * connection (either way round), moves both sides' states (tcpstate.c),
 * gets its notes (retransmitted, FIN on data, piggybacked or delayed
 * ACK), and is kept until the connection ends, when its ladder is drawn
 * and the segments freed. A connection drawn stays in the table, without
 * its segments, so stragglers after its end do not open a new one.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqecho.h"
#include "trace.h"

#define NBUCKETS_MIN	1024
#define DELAYED_USEC	30000	/* a bare ACK this late was delayed */
#define FORGET_USEC	(240 * 1000000LL)	/* 2 MSL: no straggler after */

/* Sequence number comparisons, modulo 2^32 (RFC 9293 3.4). */
#define SEQ_LT(a, b)	((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b)	((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)	((int32_t)((a) - (b)) > 0)

struct trace_table {
	struct trace_out	 *out;
	struct trace_conn	**buckets;
	size_t			  nbuckets;
	size_t			  nconns;
	struct trace_conn	 *head, *tail;	/* not yet drawn, oldest first */
	uint64_t		  numbered;
};

static uint32_t		 end_hash(int, const uint8_t *, uint16_t);
static size_t		 conn_bucket(const struct trace_table *,
			     const struct trace_seg *);
static int		 side_is(const struct trace_side *, int,
			     const uint8_t *, uint16_t);
static struct trace_conn *conn_find(struct trace_table *,
			     const struct trace_seg *, int *);
static struct trace_conn *conn_new(struct trace_table *,
			     const struct trace_seg *, int64_t, int *);
static void		 conn_begin(struct trace_conn *,
			     const struct trace_seg *, int64_t, int *);
static void		 conn_grow_table(struct trace_table *);
static void		 conn_forget(struct trace_table *, int64_t);
static void		 conn_link(struct trace_table *, struct trace_conn *);
static void		 conn_unlink(struct trace_table *, struct trace_conn *);
static void		 conn_end(struct trace_table *, struct trace_conn *);
static uint8_t		 seg_notes(struct trace_conn *, int,
			     const struct trace_seg *, int64_t, int *);
static void		 rec_append(struct trace_conn *, int, int64_t,
			     const struct trace_seg *, uint8_t);
static void		 crossed_fins(struct trace_conn *, int,
			     const struct trace_seg *);
static void		 move_states(struct trace_conn *, int,
			     const struct trace_seg *, int);

/* A hash of one end; the two ends' are summed, so either way round. */
static uint32_t
end_hash(int family, const uint8_t *addr, uint16_t port)
{
	uint32_t	h = 2166136261u;
	size_t		i, n = family == AF_INET6 ? 16 : 4;

	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return (h);
}

/* The bucket of a segment's connection. */
static size_t
conn_bucket(const struct trace_table *t, const struct trace_seg *s)
{
	return ((end_hash(s->family, s->src, s->sport) +
	    end_hash(s->family, s->dst, s->dport)) & (t->nbuckets - 1));
}

/* Whether an end is this address and port. */
static int
side_is(const struct trace_side *e, int family, const uint8_t *addr,
    uint16_t port)
{
	return (e->family == family && e->port == port &&
	    memcmp(e->addr, addr, sizeof e->addr) == 0);
}

/* The connection a segment belongs to, and *dir the way it went. */
static struct trace_conn *
conn_find(struct trace_table *t, const struct trace_seg *s, int *dir)
{
	struct trace_conn	*c;

	for (c = t->buckets[conn_bucket(t, s)]; c != NULL; c = c->hnext) {
		if (side_is(&c->side[0], s->family, s->src, s->sport) &&
		    side_is(&c->side[1], s->family, s->dst, s->dport)) {
			*dir = 0;
			return (c);
		}
		if (side_is(&c->side[1], s->family, s->src, s->sport) &&
		    side_is(&c->side[0], s->family, s->dst, s->dport)) {
			*dir = 1;
			return (c);
		}
	}
	return (NULL);
}

/* Double the buckets once there are more connections than buckets. */
static void
conn_grow_table(struct trace_table *t)
{
	struct trace_conn	**old = t->buckets, *c, *next;
	size_t			  i, n = t->nbuckets;
	struct trace_seg	  key;

	t->nbuckets = n * 2;
	t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
	for (i = 0; i < n; i++) {
		for (c = old[i]; c != NULL; c = next) {
			next = c->hnext;
			memset(&key, 0, sizeof key);
			key.family = c->side[0].family;
			memcpy(key.src, c->side[0].addr, sizeof key.src);
			memcpy(key.dst, c->side[1].addr, sizeof key.dst);
			key.sport = c->side[0].port;
			key.dport = c->side[1].port;
			c->hnext = t->buckets[conn_bucket(t, &key)];
			t->buckets[conn_bucket(t, &key)] = c;
		}
	}
	free(old);
}

/*
 * Free the connections drawn longer ago than any straggler of theirs can
 * come (two maximum segment lifetimes), so that a long live capture
 * keeps only what it may still need.
 */
static void
conn_forget(struct trace_table *t, int64_t now)
{
	struct trace_conn	**pp, *c;
	size_t			  i;

	for (i = 0; i < t->nbuckets; i++) {
		for (pp = &t->buckets[i]; (c = *pp) != NULL; ) {
			if (c->done && now - c->last > FORGET_USEC) {
				*pp = c->hnext;
				free(c);
				t->nconns--;
			} else
				pp = &c->hnext;
		}
	}
}

/* Put a connection at the end of the list of those not yet drawn. */
static void
conn_link(struct trace_table *t, struct trace_conn *c)
{
	c->prev = t->tail;
	c->next = NULL;
	if (t->tail != NULL)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
}

/* Take a connection off that list. */
static void
conn_unlink(struct trace_table *t, struct trace_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		t->tail = c->prev;
	c->prev = c->next = NULL;
}

/*
 * (Re)start a connection at its first segment: the side that sent the
 * first SYN is on the left (the one that received a SYN,ACK, if the
 * capture missed the SYN; else the first sender). *dir is that segment's.
 */
static void
conn_begin(struct trace_conn *c, const struct trace_seg *s, int64_t usec,
    int *dir)
{
	struct trace_conn	 keep = *c;
	int			 d, i;

	memset(c, 0, sizeof *c);
	c->hnext = keep.hnext;
	c->recs = keep.recs;
	c->size = keep.size;
	d = (s->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK);
	c->side[d].family = c->side[!d].family = s->family;
	memcpy(c->side[d].addr, s->src, sizeof s->src);
	c->side[d].port = s->sport;
	memcpy(c->side[!d].addr, s->dst, sizeof s->dst);
	c->side[!d].port = s->dport;
	for (i = 0; i < 2; i++)
		c->side[i].owed_since = -1;
	c->midstream = tcpstate_begin(s->flags, &c->side[d].state,
	    &c->side[!d].state);
	c->start = usec;
	*dir = d;
}

/* A new connection for a segment no connection has. */
static struct trace_conn *
conn_new(struct trace_table *t, const struct trace_seg *s, int64_t usec,
    int *dir)
{
	struct trace_conn	*c;
	size_t			 b;

	if (t->nconns >= t->nbuckets)
		conn_forget(t, usec);
	if (t->nconns >= t->nbuckets)
		conn_grow_table(t);
	c = xcalloc(1, sizeof *c);
	conn_begin(c, s, usec, dir);
	b = conn_bucket(t, s);
	c->hnext = t->buckets[b];
	t->buckets[b] = c;
	t->nconns++;
	return (c);
}

/* The connection has ended: draw it, free its segments. */
static void
conn_end(struct trace_table *t, struct trace_conn *c)
{
	trace_ladder_draw(t->out, c);
	conn_unlink(t, c);
	c->done = 1;
	free(c->recs);
	c->recs = NULL;
	c->nrecs = c->size = 0;
}

/*
 * The notes of a segment sent by side d, and what it tells about the
 * sender; *acks_fin says whether it acknowledges the receiver's FIN.
 */
static uint8_t
seg_notes(struct trace_conn *c, int d, const struct trace_seg *g,
    int64_t usec, int *acks_fin)
{
	struct trace_side	*s = &c->side[d], *r = &c->side[!d];
	uint32_t		 occupy, end;
	uint8_t			 notes = 0;
	int			 advances;

	occupy = g->len + !!(g->flags & TCPF_SYN) + !!(g->flags & TCPF_FIN);
	if (!s->isn_known) {
		s->isn_known = 1;
		s->isn = (g->flags & TCPF_SYN) ? g->seq : g->seq - 1;
		s->nxt = g->seq;
	}
	end = g->seq + occupy;
	if (occupy > 0 && SEQ_LEQ(end, s->nxt))
		notes |= NOTE_RETRANS;
	else if (SEQ_GT(end, s->nxt))
		s->nxt = end;
	if ((g->flags & TCPF_FIN) && !s->fin_sent) {
		s->fin_sent = 1;
		s->fin_end = end;
	}
	if ((g->flags & TCPF_FIN) && g->len > 0)
		notes |= NOTE_FINDATA;
	if (g->flags & TCPF_RST)
		notes |= NOTE_RST;
	*acks_fin = (g->flags & TCPF_ACK) && r->fin_sent &&
	    !SEQ_LT(g->ack, r->fin_end);
	if (g->flags & TCPF_ACK) {
		if (!r->isn_known) {
			/* Mid-connection: as if the last ACK's were its ISN+1. */
			r->isn_known = 1;
			r->isn = g->ack - 1;
			r->nxt = g->ack;
		}
		advances = s->ack_known && SEQ_GT(g->ack, s->acked);
		if (advances && g->len > 0)
			notes |= NOTE_PIGGY;
		if (advances && occupy == 0 && s->owed_since >= 0 &&
		    usec - s->owed_since >= DELAYED_USEC)
			notes |= NOTE_DELAYED;
		if (advances && *acks_fin && (g->flags & TCPF_FIN) &&
		    SEQ_LT(s->acked, r->fin_end))
			notes |= NOTE_FINACK;
		if (!s->ack_known || SEQ_GT(g->ack, s->acked)) {
			s->acked = g->ack;
			s->ack_known = 1;
		}
		if (!SEQ_LT(g->ack, r->nxt))
			s->owed_since = -1;
	}
	if (g->len > 0 && r->owed_since < 0)
		r->owed_since = usec;
	s->segs++;
	s->bytes += g->len;
	return (notes);
}

/* Keep a segment until the ladder is drawn. */
static void
rec_append(struct trace_conn *c, int d, int64_t usec,
    const struct trace_seg *g, uint8_t notes)
{
	struct trace_rec	*r;

	if (c->nrecs == c->size) {
		c->size = c->size ? c->size * 2 : 16;
		c->recs = realloc(c->recs, c->size * sizeof *c->recs);
		if (c->recs == NULL)
			fatal("realloc");
	}
	r = &c->recs[c->nrecs++];
	memset(r, 0, sizeof *r);
	r->usec = usec - c->start;
	r->seq = g->seq;
	r->ack = g->ack;
	r->len = g->len;
	r->win = g->win;
	r->flags = g->flags;
	r->dir = (uint8_t)d;
	r->state[0] = (uint8_t)c->side[0].state;
	r->state[1] = (uint8_t)c->side[1].state;
	r->wscale = (int8_t)g->wscale;
	if (g->mss >= 0) {
		r->opts |= REC_MSS;
		r->mss = (uint16_t)g->mss;
	}
	if (g->sackok)
		r->opts |= REC_SACKOK;
	r->notes = notes;
	r->nsnip = (uint8_t)(g->caplen < TRACE_SNIP ? g->caplen : TRACE_SNIP);
	memcpy(r->snip, g->payload, r->nsnip);
}

/*
 * A FIN that does not acknowledge the other's FIN, already captured, was
 * sent before that FIN arrived: a simultaneous close. The capture saw the
 * other's FIN first, so this side was taken to be in CLOSE_WAIT: it was
 * still ESTABLISHED (its lines are put right), and the other's FIN counts
 * as arrived once this side acknowledges it.
 */
static void
crossed_fins(struct trace_conn *c, int d, const struct trace_seg *g)
{
	struct trace_side	*s = &c->side[d], *r = &c->side[!d];
	size_t			 i;

	if (!(g->flags & TCPF_FIN) || s->state != TCPS_CLOSE_WAIT ||
	    !r->fin_sent || ((g->flags & TCPF_ACK) &&
	    !SEQ_LT(g->ack, r->fin_end)))
		return;
	s->state = TCPS_ESTABLISHED;
	s->fin_pending = 1;
	for (i = c->nrecs; i > 0 && c->recs[i - 1].state[d] ==
	    TCPS_CLOSE_WAIT; i--)
		c->recs[i - 1].state[d] = TCPS_ESTABLISHED;
}

/* Both sides' states after a segment side d sent. */
static void
move_states(struct trace_conn *c, int d, const struct trace_seg *g,
    int acks_fin)
{
	struct trace_side	*s = &c->side[d], *r = &c->side[!d];
	struct tcpstate_seg	 ev;

	crossed_fins(c, d, g);
	ev.sent = 1;
	ev.flags = g->flags;
	ev.acks_fin = 0;
	s->state = tcpstate_next(s->state, &ev);
	if (s->fin_pending && (g->flags & TCPF_ACK) &&
	    !SEQ_LT(g->ack, r->fin_end)) {
		/* The other's FIN, which crossed ours, has arrived. */
		s->fin_pending = 0;
		ev.sent = 0;
		ev.flags = TCPF_FIN;
		s->state = tcpstate_next(s->state, &ev);
	}
	ev.sent = 0;
	ev.flags = g->flags;
	ev.acks_fin = acks_fin;
	if (r->fin_pending && (g->flags & TCPF_FIN))
		ev.flags &= ~TCPF_FIN;	/* its FIN is still on the way */
	r->state = tcpstate_next(r->state, &ev);
}

/* A new table of connections, drawing to out. */
struct trace_table *
trace_table_new(struct trace_out *out)
{
	struct trace_table	*t = xcalloc(1, sizeof *t);

	t->out = out;
	t->nbuckets = NBUCKETS_MIN;
	t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
	return (t);
}

/* Free the table and every connection in it. */
void
trace_table_free(struct trace_table *t)
{
	struct trace_conn	*c, *next;
	size_t			 i;

	for (i = 0; i < t->nbuckets; i++) {
		for (c = t->buckets[i]; c != NULL; c = next) {
			next = c->hnext;
			free(c->recs);
			free(c);
		}
	}
	free(t->buckets);
	free(t);
}

/* One segment captured at usec (since the epoch). */
void
trace_table_add(struct trace_table *t, int64_t usec, const struct trace_seg *g)
{
	struct trace_conn	*c;
	uint8_t			 notes;
	int			 d, acks_fin;

	if ((c = conn_find(t, g, &d)) == NULL) {
		c = conn_new(t, g, usec, &d);
		c->number = ++t->numbered;
		conn_link(t, c);
	} else if (c->done) {
		/* The same ends again: a new connection, or a straggler. */
		if ((g->flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN) {
			c->last = usec;
			return;
		}
		conn_begin(c, g, usec, &d);
		c->number = ++t->numbered;
		conn_link(t, c);
	}
	c->last = usec;
	notes = seg_notes(c, d, g, usec, &acks_fin);
	move_states(c, d, g, acks_fin);
	rec_append(c, d, usec, g, notes);
	if (tcpstate_closed(c->side[0].state) &&
	    tcpstate_closed(c->side[1].state))
		conn_end(t, c);
}

/* Draw every connection not yet drawn, oldest first: unfinished. */
void
trace_table_flush(struct trace_table *t)
{
	while (t->head != NULL)
		conn_end(t, t->head);
}

/* How many ladders have been drawn. */
uint64_t
trace_table_drawn(const struct trace_table *t)
{
	return (t->out->drawn);
}
