/*
 * trace-svg.c - the ladders as one standalone SVG picture (--svg): per
 * connection two lifelines, one sloped arrow per segment with its flags,
 * seq, ack and len above it and its payload below, each side's state
 * beside its lifeline, the summary under them. Nothing outside the file
 * is referred to. The height is known only at the end, so the header
 * holds a fixed-width placeholder, rewritten when the file is closed.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqecho.h"
#include "trace.h"

#define SVG_W		1000
#define X_TIME		16
#define X_LEFT		300	/* the lifelines */
#define X_RIGHT		700
#define ROW_H		46
#define SLOPE		18	/* how far an arrow drops on its way */
#define HEAD_H		64
#define SUM_H		18
#define HEIGHT_DIGITS	10

struct trace_svg {
	FILE		*f;
	char		*path;
	long		 height_at;	/* offsets of the placeholders */
	long		 viewbox_at;
	long		 y;		/* where the next ladder starts */
};

static void	 svg_text(FILE *, const char *);
static void	 svg_header(struct trace_svg *);
static const char *svg_colour(unsigned);
static void	 svg_segment(struct trace_svg *, const struct trace_conn *,
		     const struct trace_rec *, long, int);
static void	 svg_payload(FILE *, const struct trace_rec *);

/* Text with XML's special characters escaped. */
static void
svg_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

/* The colour of a segment's arrow, as in the text ladder. */
static const char *
svg_colour(unsigned flags)
{
	if (flags & TCPF_RST)
		return ("rst");
	if (flags & TCPF_SYN)
		return ("syn");
	if (flags & TCPF_FIN)
		return ("fin");
	return ("dat");
}

/* The document's start: size placeholders, arrowheads, styles. */
static void
svg_header(struct trace_svg *s)
{
	static const struct {
		const char	*name;
		const char	*colour;
	} c[] = { { "syn", "#1e7b34" }, { "fin", "#b35900" },
	    { "rst", "#c0262d" }, { "dat", "#1f5fa8" } };
	FILE	*f = s->f;
	size_t	 i;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"", SVG_W);
	s->height_at = ftell(f);
	fprintf(f, "%0*d\" viewBox=\"0 0 %d ", HEIGHT_DIGITS, 0, SVG_W);
	s->viewbox_at = ftell(f);
	fprintf(f, "%0*d\">\n", HEIGHT_DIGITS, 0);
	fputs("<style>text{font-family:'DejaVu Sans Mono',monospace;"
	    "font-size:12px;fill:#222}.title{font-size:15px;font-weight:bold}"
	    ".end{font-size:13px;font-weight:bold}.state{font-size:12px;"
	    "fill:#444}.pay{font-size:11px;fill:#666}.life{stroke:#555;"
	    "stroke-width:2}", f);
	for (i = 0; i < sizeof c / sizeof c[0]; i++)
		fprintf(f, ".%s{stroke:%s;stroke-width:1.6;fill:none}"
		    "text.%s{fill:%s;stroke:none}", c[i].name, c[i].colour,
		    c[i].name, c[i].colour);
	fputs("</style>\n<defs>\n", f);
	for (i = 0; i < sizeof c / sizeof c[0]; i++)
		fprintf(f, "<marker id=\"h-%s\" markerWidth=\"10\" "
		    "markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\">"
		    "<path d=\"M0,0 L10,4 L0,8 z\" fill=\"%s\"/></marker>\n",
		    c[i].name, c[i].colour);
	fputs("</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
	    f);
}

/* A segment's payload (or a SYN's options) under its arrow. */
static void
svg_payload(FILE *f, const struct trace_rec *r)
{
	char	 buf[4 * TRACE_SNIP + 8];
	size_t	 i, n = 0;

	if (r->len > 0) {
		buf[n++] = '"';
		for (i = 0; i < r->nsnip; i++) {
			unsigned char ch = (unsigned char)r->snip[i];

			if (ch == '\n')
				n += (size_t)snprintf(buf + n, sizeof buf - n,
				    "\\n");
			else if (ch < 0x20 || ch >= 0x7f)
				n += (size_t)snprintf(buf + n, sizeof buf - n,
				    "\\x%02x", ch);
			else
				buf[n++] = (char)ch;
		}
		n += (size_t)snprintf(buf + n, sizeof buf - n, "\"%s",
		    r->len > r->nsnip ? "..." : "");
	} else if ((r->flags & TCPF_SYN) && (r->opts & REC_MSS))
		n += (size_t)snprintf(buf, sizeof buf, "mss %u%s", r->mss,
		    (r->opts & REC_SACKOK) ? " sackOK" : "");
	buf[n] = '\0';
	if (n > 0) {
		fputs("<tspan class=\"pay\">", f);
		svg_text(f, buf);
		fputs("</tspan>", f);
	}
}

/* One segment: its time, the arrow and its words, the states after it. */
static void
svg_segment(struct trace_svg *s, const struct trace_conn *c,
    const struct trace_rec *r, long y, int absolute)
{
	FILE		*f = s->f;
	const char	*cl = svg_colour(r->flags);
	char		 fl[48];
	uint32_t	 seq = r->seq, ack = r->ack;
	int		 x0 = r->dir == 0 ? X_LEFT : X_RIGHT;
	int		 x1 = r->dir == 0 ? X_RIGHT : X_LEFT;

	if (!absolute) {
		seq -= c->side[r->dir].isn;
		ack -= c->side[!r->dir].isn;
	}
	trace_flags_name(r->flags, fl, sizeof fl);
	fprintf(f, "<text x=\"%d\" y=\"%ld\">%.6f</text>\n", X_TIME, y + 4,
	    (double)r->usec / 1e6);
	fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%ld\" x2=\"%d\" "
	    "y2=\"%ld\" marker-end=\"url(#h-%s)\"/>\n", cl, x0, y, x1,
	    y + SLOPE, cl);
	fprintf(f, "<text class=\"%s\" x=\"%d\" y=\"%ld\" text-anchor=\"middle\""
	    ">%s seq=%" PRIu32, cl, (X_LEFT + X_RIGHT) / 2, y + SLOPE / 2 - 9,
	    fl, seq);
	if (r->flags & TCPF_ACK)
		fprintf(f, " ack=%" PRIu32, ack);
	fprintf(f, " len=%" PRIu32 "%s</text>\n", r->len,
	    (r->notes & NOTE_RETRANS) ? " (retransmitted)" : "");
	fprintf(f, "<text x=\"%d\" y=\"%ld\" text-anchor=\"middle\">",
	    (X_LEFT + X_RIGHT) / 2, y + SLOPE / 2 + 17);
	svg_payload(f, r);
	fputs("</text>\n", f);
	fprintf(f, "<text class=\"state\" x=\"%d\" y=\"%ld\" "
	    "text-anchor=\"end\">%s</text>\n", X_LEFT - 8,
	    y + (r->dir == 0 ? 4 : SLOPE + 4), tcpstate_name(r->state[0]));
	fprintf(f, "<text class=\"state\" x=\"%d\" y=\"%ld\">%s</text>\n",
	    X_RIGHT + 8, y + (r->dir == 1 ? 4 : SLOPE + 4),
	    tcpstate_name(r->state[1]));
}

/* Open the SVG file and write its start. */
struct trace_svg *
trace_svg_open(const char *path, char *err, size_t errlen)
{
	struct trace_svg	*s;
	FILE			*f;

	if ((f = fopen(path, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	s = xcalloc(1, sizeof *s);
	s->f = f;
	s->path = xstrdup(path);
	svg_header(s);
	if (s->height_at < 0 || s->viewbox_at < 0) {
		snprintf(err, errlen, "%s: not a regular file: the SVG's "
		    "height is written last", path);
		fclose(f);
		free(s->path);
		free(s);
		return (NULL);
	}
	s->y = 20;
	return (s);
}

/* Draw one connection below the last. */
void
trace_svg_draw(struct trace_svg *s, const struct trace_conn *c, int absolute)
{
	FILE	*f = s->f;
	char	 l[64], r[64], sum[12][TRACE_LINE];
	long	 y = s->y, bottom;
	size_t	 i, n;

	trace_side_name(&c->side[0], l, sizeof l);
	trace_side_name(&c->side[1], r, sizeof r);
	fprintf(f, "<g>\n<text class=\"title\" x=\"%d\" y=\"%ld\">connection "
	    "%" PRIu64 ": ", X_TIME, y, c->number);
	svg_text(f, l);
	fputs(" \u2192 ", f);
	svg_text(f, r);
	fputs("</text>\n", f);
	fprintf(f, "<text class=\"end\" x=\"%d\" y=\"%ld\" text-anchor=\"middle\""
	    ">%s</text>\n<text class=\"end\" x=\"%d\" y=\"%ld\" "
	    "text-anchor=\"middle\">%s</text>\n", X_LEFT, y + 30, l, X_RIGHT,
	    y + 30, r);
	bottom = y + HEAD_H + (long)c->nrecs * ROW_H;
	fprintf(f, "<line class=\"life\" x1=\"%d\" y1=\"%ld\" x2=\"%d\" "
	    "y2=\"%ld\"/>\n<line class=\"life\" x1=\"%d\" y1=\"%ld\" x2=\"%d\" "
	    "y2=\"%ld\"/>\n", X_LEFT, y + 38, X_LEFT, bottom, X_RIGHT, y + 38,
	    X_RIGHT, bottom);
	for (i = 0; i < c->nrecs; i++)
		svg_segment(s, c, &c->recs[i], y + HEAD_H + (long)i * ROW_H,
		    absolute);
	n = trace_summary_lines(c, sum, sizeof sum / sizeof sum[0]);
	for (i = 0; i < n; i++) {
		fprintf(f, "<text x=\"%d\" y=\"%ld\">", X_TIME,
		    bottom + 24 + (long)i * SUM_H);
		svg_text(f, sum[i]);
		fputs("</text>\n", f);
	}
	fputs("</g>\n", f);
	s->y = bottom + 24 + (long)n * SUM_H + 30;
}

/* End the document, write its height, close it; -1 and err on failure. */
int
trace_svg_close(struct trace_svg *s, char *err, size_t errlen)
{
	FILE	*f = s->f;
	int	 rc = 0;

	fputs("</svg>\n", f);
	if (fseek(f, s->height_at, SEEK_SET) == -1 ||
	    fprintf(f, "%0*ld", HEIGHT_DIGITS, s->y) < 0 ||
	    fseek(f, s->viewbox_at, SEEK_SET) == -1 ||
	    fprintf(f, "%0*ld", HEIGHT_DIGITS, s->y) < 0 ||
	    fflush(f) == EOF || ferror(f)) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		rc = -1;
	}
	if (fclose(f) == EOF && rc == 0) {
		snprintf(err, errlen, "%s: %s", s->path, strerror(errno));
		rc = -1;
	}
	free(s->path);
	free(s);
	return (rc);
}
