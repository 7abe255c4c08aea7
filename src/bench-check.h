/*
 * bench-check.h - what seqecho-bench sends and what it expects back, as
 * pure functions: no sockets, no events. Unit-tested on its own.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The reply to message k on a connection must be serial k, the separator,
 * then message k's payload. Payloads differ from message to message (a
 * window into a CHECK_CYCLE-character cycle that moves on by one per
 * message and starts elsewhere on each connection), so the echo of a
 * wrong message shows; they never hold a LF, a CR, a digit or "bye".
 */
#ifndef SEQECHO_BENCH_CHECK_H
#define SEQECHO_BENCH_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Prime, so no shorter period lets a wrong message's payload match. */
#define CHECK_CYCLE		61
/* Replies searched for the one a dropped reply makes us wait for. */
#define CHECK_AHEAD		16
/* Bytes of a reply shown in an error's description. */
#define CHECK_SAMPLE_BYTES	40

/* The payloads and the separator of a run, fixed once it starts. */
struct check {
	char		*pattern;	/* CHECK_CYCLE + size bytes */
	size_t		 size;		/* payload bytes, without the LF */
	const char	*sep;
	size_t		 seplen;
};

/* The serial expected next, kept in ASCII too for a quick compare. */
struct check_serial {
	uint64_t	 value;
	size_t		 ndigits;
	char		 digits[PROTO_SERIAL_MAX];
};

enum check_kind {
	CHECK_ERR,		/* an ERR line */
	CHECK_EXTRA,		/* a reply with no message waiting for it */
	CHECK_REPEAT,		/* a repeat of the reply before */
	CHECK_ANSWER		/* answers a message, perhaps wrongly */
};

/* What is wrong with a reply that is not exactly the one expected. */
struct check_verdict {
	enum check_kind	 kind;
	uint64_t	 skipped;	/* ANSWER: messages left unanswered */
	int		 bad_payload;	/* ANSWER: no owed one, or bad sep */
	int		 bad_serial;	/* ANSWER: not the serial expected */
	uint64_t	 next_serial;	/* the serial to expect after it */
};

int		 check_init(struct check *, size_t, const char *, size_t);
void		 check_free(struct check *);
const char	*check_payload(const struct check *, uint32_t, uint64_t);
int		 check_payload_is(const struct check *, uint32_t, uint64_t,
		    const char *, size_t);
void		 check_fill(const struct check *, uint32_t, uint64_t,
		    uint64_t, char *, size_t);
void		 check_serial_set(struct check_serial *, uint64_t);
void		 check_serial_next(struct check_serial *);
int		 check_reply(const struct check *, uint32_t,
		    const struct check_serial *, uint64_t, const char *,
		    size_t);
void		 check_judge(const struct check *, uint32_t,
		    const struct check_serial *, uint64_t, uint64_t,
		    const char *, size_t, struct check_verdict *);
size_t		 check_sample(char *, size_t, const char *, size_t);

#endif
