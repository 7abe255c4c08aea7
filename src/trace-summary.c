/*
 * trace-summary.c - the lines under a ladder: segments and bytes each
 * way, the handshake and the teardown, who closed first, where TIME_WAIT
 * is (or that a RST left none), and the notes.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

#define LIST_MAX	6	/* segment numbers listed per note */

struct lines {
	char		(*v)[TRACE_LINE];
	size_t		  n;
	size_t		  max;
};

static void	 add(struct lines *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
static void	 span(const struct trace_conn *, size_t, size_t, char *,
		     size_t);
static void	 handshake(const struct trace_conn *, struct lines *);
static void	 teardown(const struct trace_conn *, struct lines *);
static void	 note(const struct trace_conn *, struct lines *, uint8_t,
		     const char *, const char *);

/* Append a line, if there is room. */
static void
add(struct lines *ls, const char *fmt, ...)
{
	va_list	ap;

	if (ls->n >= ls->max)
		return;
	va_start(ap, fmt);
	vsnprintf(ls->v[ls->n++], TRACE_LINE, fmt, ap);
	va_end(ap);
}

/* "N segments, T ms" for the segments first..last. */
static void
span(const struct trace_conn *c, size_t first, size_t last, char *buf,
    size_t len)
{
	size_t	n = last - first + 1;

	snprintf(buf, len, "%zu segment%s in %.3f ms", n, n == 1 ? "" : "s",
	    (double)(c->recs[last].usec - c->recs[first].usec) / 1e3);
}

/* The handshake: from the first SYN until both ends are ESTABLISHED. */
static void
handshake(const struct trace_conn *c, struct lines *ls)
{
	char	 buf[64];
	size_t	 i;

	if (c->midstream && (c->nrecs == 0 || !(c->recs[0].flags & TCPF_SYN))) {
		add(ls, "handshake: not in the capture, which starts "
		    "mid-connection (the states before it are a guess)");
		return;
	}
	for (i = 0; i < c->nrecs; i++) {
		if (c->recs[i].state[0] == TCPS_ESTABLISHED &&
		    c->recs[i].state[1] == TCPS_ESTABLISHED)
			break;
		/* Both ends past the handshake already (a FIN came at once). */
		if (c->recs[i].state[0] != TCPS_SYN_SENT &&
		    c->recs[i].state[0] != TCPS_SYN_RECV &&
		    c->recs[i].state[0] != TCPS_CLOSE &&
		    c->recs[i].state[1] != TCPS_SYN_SENT &&
		    c->recs[i].state[1] != TCPS_SYN_RECV &&
		    c->recs[i].state[1] != TCPS_LISTEN &&
		    c->recs[i].state[1] != TCPS_CLOSE)
			break;
	}
	if (i == c->nrecs) {
		add(ls, "handshake: not completed%s", c->midstream ?
		    " (the capture missed its first SYN)" : "");
		return;
	}
	span(c, 0, i, buf, sizeof buf);
	add(ls, "handshake: %s%s", buf, c->midstream ?
	    " (the capture missed its first SYN)" : "");
}

/* The teardown: from the first FIN or RST to the end. */
static void
teardown(const struct trace_conn *c, struct lines *ls)
{
	char		 buf[64], who[64];
	size_t		 i, j;
	int		 tw[2], rst = 0;

	for (i = 0; i < c->nrecs; i++)
		if (c->recs[i].flags & (TCPF_FIN | TCPF_RST))
			break;
	if (i == c->nrecs) {
		add(ls, "teardown: not in the capture");
		return;
	}
	for (j = i; j < c->nrecs; j++)
		rst |= (c->recs[j].flags & TCPF_RST) != 0;
	span(c, i, c->nrecs - 1, buf, sizeof buf);
	trace_side_name(&c->side[c->recs[i].dir], who, sizeof who);
	add(ls, "teardown: %s, %s closed first%s", buf, who,
	    (c->recs[i].flags & TCPF_RST) ? ", with a RST" : "");
	tw[0] = c->side[0].state == TCPS_TIME_WAIT;
	tw[1] = c->side[1].state == TCPS_TIME_WAIT;
	if (tw[0] || tw[1]) {
		trace_side_name(&c->side[tw[0] ? 0 : 1], who, sizeof who);
		if (tw[0] && tw[1]) {
			trace_side_name(&c->side[1], buf, sizeof buf);
			add(ls, "TIME_WAIT: %s and %s (a simultaneous close)",
			    who, buf);
		} else
			add(ls, "TIME_WAIT: %s", who);
	} else if (rst)
		add(ls, "TIME_WAIT: none: a RST ended the connection");
}

/* One note: the segments with the bit, counted and the first listed. */
static void
note(const struct trace_conn *c, struct lines *ls, uint8_t bit,
    const char *one, const char *many)
{
	char	 list[TRACE_LINE];
	size_t	 i, n = 0, len = 0;
	int	 w;

	for (i = 0; i < c->nrecs; i++) {
		if (!(c->recs[i].notes & bit))
			continue;
		if (++n <= LIST_MAX && len < sizeof list) {
			w = snprintf(list + len, sizeof list - len, "%s#%zu",
			    n > 1 ? ", " : "", i + 1);
			len += w > 0 ? (size_t)w : 0;
		}
	}
	if (n == 0)
		return;
	if (n == 1)
		add(ls, "note: %s (%s)", one, list);
	else
		add(ls, "note: %zu %s (%s%s)", n, many, list,
		    n > LIST_MAX ? ", ..." : "");
}

/* The summary's lines into v (max of them); returns how many. */
size_t
trace_summary_lines(const struct trace_conn *c, char v[][TRACE_LINE],
    size_t max)
{
	struct lines	 ls = { v, 0, max };
	char		 l[64], r[64];

	trace_side_name(&c->side[0], l, sizeof l);
	trace_side_name(&c->side[1], r, sizeof r);
	add(&ls, "%s sent %" PRIu64 " segments, %" PRIu64 " bytes; "
	    "%s sent %" PRIu64 " segments, %" PRIu64 " bytes", l,
	    c->side[0].segs, c->side[0].bytes, r, c->side[1].segs,
	    c->side[1].bytes);
	handshake(c, &ls);
	teardown(c, &ls);
	if (!tcpstate_closed(c->side[0].state) ||
	    !tcpstate_closed(c->side[1].state))
		add(&ls, "unfinished: the capture ends with %s %s and %s %s",
		    l, tcpstate_name(c->side[0].state), r,
		    tcpstate_name(c->side[1].state));
	note(c, &ls, NOTE_FINDATA, "a FIN rode on data", "FINs rode on data");
	note(c, &ls, NOTE_FINACK, "a FIN rode on the ACK of the other's FIN: "
	    "three segments to close, not four", "FINs rode on ACKs of FINs");
	note(c, &ls, NOTE_PIGGY, "an ACK was piggybacked on data",
	    "ACKs were piggybacked on data");
	note(c, &ls, NOTE_DELAYED, "an ACK was delayed",
	    "ACKs were delayed (30 ms or more after the data)");
	note(c, &ls, NOTE_RETRANS, "a segment was retransmitted",
	    "segments were retransmitted");
	note(c, &ls, NOTE_RST, "a RST was sent", "RSTs were sent");
	return (ls.n);
}

/* Write the summary under the ladder. */
void
trace_summary_draw(struct trace_out *o, const struct trace_conn *c)
{
	char	 v[12][TRACE_LINE];
	size_t	 i, n;

	n = trace_summary_lines(c, v, sizeof v / sizeof v[0]);
	for (i = 0; i < n; i++)
		fprintf(o->f, "  %s\n", v[i]);
}
