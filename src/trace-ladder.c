/*
 * trace-ladder.c - one connection's ladder as text: a line per segment
 * with the time, each side's state after it, an arrow the way it went
 * with its flags, seq, ack, win and len, and the payload's first bytes;
 * then the summary (trace-summary.c). On a terminal, box-drawing arrows
 * and colour (unless NO_COLOR); piped, plain ASCII.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

#define STATE_W		11	/* strlen("ESTABLISHED") */
#define ARROW_MIN	40

static void	 rec_label(const struct trace_conn *, const struct trace_rec *,
		     int, char *, size_t);
static size_t	 arrow_width(const struct trace_conn *, int);
static void	 put_arrow(FILE *, const struct trace_out *, int, const char *,
		     size_t);
static void	 put_extra(FILE *, const struct trace_rec *, const char *);
static void	 put_escaped(FILE *, const char *, size_t, uint32_t);
static const char *flags_colour(unsigned);

/* An end's name, ADDRESS:PORT, an IPv6 address in brackets. */
void
trace_side_name(const struct trace_side *e, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (inet_ntop(e->family, e->addr, a, sizeof a) == NULL)
		snprintf(a, sizeof a, "?");
	if (e->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
}

/* The flags as words, in the order Wireshark lists them: "SYN,ACK". */
void
trace_flags_name(unsigned flags, char *buf, size_t len)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ TCPF_CWR, "CWR" }, { TCPF_ECE, "ECE" }, { TCPF_URG, "URG" },
		{ TCPF_SYN, "SYN" }, { TCPF_FIN, "FIN" }, { TCPF_RST, "RST" },
		{ TCPF_PSH, "PSH" }, { TCPF_ACK, "ACK" }
	};
	size_t	i, n = 0;
	int	w;

	buf[0] = '\0';
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(flags & names[i].bit) || n >= len)
			continue;
		w = snprintf(buf + n, len - n, "%s%s", n > 0 ? "," : "",
		    names[i].name);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n == 0)
		snprintf(buf, len, "none");
}

/* The words inside a segment's arrow: flags seq= ack= win= len=. */
static void
rec_label(const struct trace_conn *c, const struct trace_rec *r,
    int absolute, char *buf, size_t len)
{
	char		 fl[48], ack[24] = "";
	uint32_t	 seq = r->seq, an = r->ack;

	if (!absolute) {
		seq -= c->side[r->dir].isn;
		an -= c->side[!r->dir].isn;
	}
	trace_flags_name(r->flags, fl, sizeof fl);
	if (r->flags & TCPF_ACK)
		snprintf(ack, sizeof ack, " ack=%" PRIu32, an);
	snprintf(buf, len, "%s seq=%" PRIu32 "%s win=%u len=%" PRIu32,
	    fl, seq, ack, r->win, r->len);
}

/* The width of this ladder's arrows: its longest label, and some. */
static size_t
arrow_width(const struct trace_conn *c, int absolute)
{
	char	 label[128];
	size_t	 i, w = ARROW_MIN, n;

	for (i = 0; i < c->nrecs; i++) {
		rec_label(c, &c->recs[i], absolute, label, sizeof label);
		if ((n = strlen(label) + 8) > w)
			w = n;
	}
	return (w);
}

/* The colour of a segment's arrow, by its flags. */
static const char *
flags_colour(unsigned flags)
{
	if (flags & TCPF_RST)
		return ("\033[31m");
	if (flags & TCPF_SYN)
		return ("\033[32m");
	if (flags & TCPF_FIN)
		return ("\033[33m");
	return ("\033[36m");
}

/* An arrow width columns wide with the label in it, pointing dir's way. */
static void
put_arrow(FILE *f, const struct trace_out *o, int dir, const char *label,
    size_t width)
{
	const char	*dash = o->utf8 ? "\u2500" : "-";
	size_t		 i, fill = width - strlen(label) - 4;

	if (dir == 0)
		fprintf(f, "%s%s %s ", dash, dash, label);
	else
		fprintf(f, "%s%s %s ", o->utf8 ? "\u25c0" : "<", dash, label);
	for (i = 0; i < fill; i++)
		fputs(dash, f);
	fputs(dir == 0 ? (o->utf8 ? "\u25b6" : ">") : dash, f);
}

/* Payload bytes as a C string literal, "..." if there were more. */
static void
put_escaped(FILE *f, const char *p, size_t n, uint32_t total)
{
	size_t	i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char	ch = (unsigned char)p[i];

		if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
	if (total > n)
		fputs("...", f);
}

/*
 * The right side's state, then the payload, a SYN's options, a
 * retransmission; no spaces at the end of the line.
 */
static void
put_extra(FILE *f, const struct trace_rec *r, const char *state)
{
	if (r->len == 0 && !(r->flags & TCPF_SYN) &&
	    !(r->notes & NOTE_RETRANS)) {
		fputs(state, f);
		return;
	}
	fprintf(f, "%-*s", STATE_W, state);
	if (r->len > 0) {
		fputs("  ", f);
		put_escaped(f, r->snip, r->nsnip, r->len);
	}
	if (r->flags & TCPF_SYN) {
		if (r->opts & REC_MSS)
			fprintf(f, "  mss %u", r->mss);
		if (r->opts & REC_SACKOK)
			fputs(" sackOK", f);
		if (r->wscale >= 0)
			fprintf(f, " ws %d", r->wscale);
	}
	if (r->notes & NOTE_RETRANS)
		fputs("  (retransmitted)", f);
}

/* Draw one connection's ladder and summary, and into the SVG. */
void
trace_ladder_draw(struct trace_out *o, const struct trace_conn *c)
{
	FILE			*f = o->f;
	char			 l[64], r[64], label[128];
	const struct trace_rec	*rec;
	size_t			 i, width;
	int			 unfinished;

	unfinished = !tcpstate_closed(c->side[0].state) ||
	    !tcpstate_closed(c->side[1].state);
	trace_side_name(&c->side[0], l, sizeof l);
	trace_side_name(&c->side[1], r, sizeof r);
	width = arrow_width(c, o->absolute);
	fprintf(f, "connection %" PRIu64 ": %s -> %s%s\n", c->number, l, r,
	    unfinished ? " (unfinished)" : "");
	if (!o->quiet) {
		fprintf(f, "%5s %10s  %-*s%s\n", "#", "time",
		    (int)width + STATE_W + 4, l, r);
		for (i = 0; i < c->nrecs; i++) {
			rec = &c->recs[i];
			rec_label(c, rec, o->absolute, label, sizeof label);
			fprintf(f, "%5zu %10.6f  %-*s  ", i + 1,
			    (double)rec->usec / 1e6, STATE_W,
			    tcpstate_name(rec->state[0]));
			if (o->colour)
				fputs(flags_colour(rec->flags), f);
			put_arrow(f, o, rec->dir, label, width);
			if (o->colour)
				fputs("\033[0m", f);
			fputs("  ", f);
			put_extra(f, rec, tcpstate_name(rec->state[1]));
			fputc('\n', f);
		}
	}
	trace_summary_draw(o, c);
	fputc('\n', f);
	fflush(f);
	if (o->svg != NULL)
		trace_svg_draw(o->svg, c, o->absolute);
	o->drawn++;
}
