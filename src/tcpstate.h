/*
 * tcpstate.h - one side's TCP state, inferred from the segments it sends
 * and receives, per RFC 9293's diagram (tcpstate.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_TCPSTATE_H
#define SEQECHO_TCPSTATE_H

/* The flags of a TCP header's thirteenth byte. */
#define TCPF_FIN	0x01
#define TCPF_SYN	0x02
#define TCPF_RST	0x04
#define TCPF_PSH	0x08
#define TCPF_ACK	0x10
#define TCPF_URG	0x20
#define TCPF_ECE	0x40
#define TCPF_CWR	0x80

/*
 * The kernel's numbers (include/net/tcp_states.h), so that the names are
 * those seqecho -S prints (sockstat_state_name). CLOSE is RFC 9293's
 * CLOSED.
 */
enum tcpstate {
	TCPS_UNKNOWN = 0,
	TCPS_ESTABLISHED = 1,
	TCPS_SYN_SENT,
	TCPS_SYN_RECV,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_TIME_WAIT,
	TCPS_CLOSE,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
	TCPS_LISTEN,
	TCPS_CLOSING
};

/* One segment as one side saw it. */
struct tcpstate_seg {
	int		 sent;		/* 1: this side sent it; 0: received */
	unsigned	 flags;		/* TCPF_* */
	int		 acks_fin;	/* received: its ACK covers our FIN */
};

enum tcpstate	 tcpstate_next(enum tcpstate, const struct tcpstate_seg *);
int		 tcpstate_begin(unsigned, enum tcpstate *, enum tcpstate *);
int		 tcpstate_closed(enum tcpstate);
const char	*tcpstate_name(enum tcpstate);

#endif
