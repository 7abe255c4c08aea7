/*
 * trace.h - seqecho-trace's own: a captured TCP segment, the connections
 * and their ladders, the text and SVG writers, the capture.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_TRACE_H
#define SEQECHO_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpstate.h"

#define TRACE_SNIP	24	/* payload bytes shown per segment */
#define TRACE_LINE	200	/* a summary line's room */

/* trace_parse's verdicts. */
#define TRACE_TCP	0	/* a TCP segment, parsed */
#define TRACE_OTHER	1	/* not TCP (ARP, UDP, a later fragment) */
#define TRACE_BAD	(-1)	/* truncated or malformed */

/* A TCP segment as trace_parse finds it in a captured frame. */
struct trace_seg {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint16_t	 sport;
	uint16_t	 dport;
	uint32_t	 seq;
	uint32_t	 ack;
	uint16_t	 win;		/* as sent, not scaled */
	uint8_t		 flags;		/* TCPF_* */
	uint32_t	 len;		/* payload bytes, from the IP length */
	int		 mss;		/* -1: no such option */
	int		 wscale;	/* -1: no such option */
	int		 sackok;
	const uint8_t	*payload;	/* what the capture holds of it */
	size_t		 caplen;
};

/* One segment of a connection, kept until its ladder is drawn. */
struct trace_rec {
	int64_t		 usec;		/* since the connection's first */
	uint32_t	 seq;		/* absolute */
	uint32_t	 ack;
	uint32_t	 len;
	uint16_t	 win;
	uint16_t	 mss;
	uint8_t		 flags;
	uint8_t		 dir;		/* 0: left to right; 1: right to left */
	uint8_t		 state[2];	/* each side's, after it */
	int8_t		 wscale;	/* -1: none */
	uint8_t		 opts;		/* REC_MSS, REC_SACKOK */
	uint8_t		 notes;		/* NOTE_* */
	uint8_t		 nsnip;
	char		 snip[TRACE_SNIP];
};

#define REC_MSS		0x01
#define REC_SACKOK	0x02

#define NOTE_RETRANS	0x01	/* covers sequence space sent before */
#define NOTE_FINDATA	0x02	/* a FIN riding on data */
#define NOTE_PIGGY	0x04	/* data carrying the ACK of new bytes */
#define NOTE_DELAYED	0x08	/* a bare ACK sent late */
#define NOTE_FINACK	0x10	/* a FIN riding on the ACK of the other's */
#define NOTE_RST	0x20	/* a reset */

/* One end of a connection. */
struct trace_side {
	int		 family;
	uint8_t		 addr[16];
	uint16_t	 port;
	uint32_t	 isn;		/* the first seq seen: its SYN's */
	int		 isn_known;
	uint32_t	 nxt;		/* the end of what it has sent */
	int		 fin_sent;
	uint32_t	 fin_end;	/* seq after its FIN */
	uint32_t	 acked;		/* the highest ACK it has sent */
	int		 ack_known;
	int64_t		 owed_since;	/* -1: no unacknowledged bytes owed */
	int		 fin_pending;	/* the other's FIN seen, not yet here */
	uint64_t	 segs;
	uint64_t	 bytes;
	enum tcpstate	 state;
};

/* A connection, from its first segment until its ladder is drawn. */
struct trace_conn {
	struct trace_side	 side[2];	/* [0] sent the first SYN */
	int64_t			 start;		/* usec of the first segment */
	int			 midstream;
	int			 done;		/* drawn: later segments dropped */
	int64_t			 last;		/* usec of the latest segment */
	uint64_t		 number;	/* 1, 2, ... in order of appearance */
	struct trace_rec	*recs;
	size_t			 nrecs;
	size_t			 size;
	struct trace_conn	*hnext;		/* hash chain */
	struct trace_conn	*prev, *next;	/* open ones, oldest first */
};

/* How the ladders are written. */
struct trace_out {
	FILE		*f;
	int		 absolute;	/* -S */
	int		 quiet;		/* -q */
	int		 utf8;		/* box-drawing characters */
	int		 colour;
	struct trace_svg *svg;		/* --svg, or NULL */
	uint64_t	 drawn;
};

struct trace_table;

/* trace-parse.c */
int	trace_parse(int, const uint8_t *, size_t, struct trace_seg *);

/* trace-conn.c */
struct trace_table *trace_table_new(struct trace_out *);
void	trace_table_free(struct trace_table *);
void	trace_table_add(struct trace_table *, int64_t,
	    const struct trace_seg *);
void	trace_table_flush(struct trace_table *);
uint64_t trace_table_drawn(const struct trace_table *);

/* trace-ladder.c */
void	trace_ladder_draw(struct trace_out *, const struct trace_conn *);
void	trace_side_name(const struct trace_side *, char *, size_t);
void	trace_flags_name(unsigned, char *, size_t);

/* trace-summary.c */
void	trace_summary_draw(struct trace_out *, const struct trace_conn *);
size_t	trace_summary_lines(const struct trace_conn *, char [][TRACE_LINE],
	    size_t);

/* trace-svg.c */
struct trace_svg *trace_svg_open(const char *, char *, size_t);
void	trace_svg_draw(struct trace_svg *, const struct trace_conn *, int);
int	trace_svg_close(struct trace_svg *, char *, size_t);

/* trace-capture.c */
struct trace_opts {
	const char	*file;		/* -r */
	const char	*iface;		/* -i */
	int		 port;		/* -p; 0: every port */
	uint64_t	 count;		/* -c; 0: no limit */
};
int	trace_run(const struct trace_opts *, struct trace_out *);

#endif
