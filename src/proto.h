/*
 * proto.h - the seqecho protocol, version 1, as pure functions: bytes in,
 * replies out, no sockets. Unit-tested on its own.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_PROTO_H
#define SEQECHO_PROTO_H

#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#define PROTO_FRAMING_LINE	0
#define PROTO_FRAMING_SEGMENT	1

#define PROTO_SERIAL_MAX	20	/* digits in UINT64_MAX */
#define PROTO_SEPARATOR_MAX	64

#define PROTO_ERR_TOO_LONG	"ERR line too long\n"
#define PROTO_ERR_TOO_MANY	"ERR too many connections\n"
#define PROTO_ERR_IDLE		"ERR idle timeout\n"
#define PROTO_ERR_SHUTDOWN	"ERR server shutting down\n"

struct proto {
	uint64_t	 serial;	/* of the next reply */
	size_t		 scanned;	/* partial-line bytes already searched */
	size_t		 max_line;
	int		 framing;
	size_t		 seplen;
	char		 sep[PROTO_SEPARATOR_MAX];
};

/* Why proto_process stopped. */
enum proto_stop {
	PROTO_MORE,		/* every complete message answered */
	PROTO_FULL,		/* no room for the next reply */
	PROTO_BYE,		/* "bye" consumed: the session ends */
	PROTO_TOO_LONG		/* the next message is over max_line */
};

struct proto_result {
	size_t		 consumed;	/* input bytes used */
	size_t		 produced;	/* output bytes written */
	uint64_t	 messages;	/* replies written */
};

void		proto_init(struct proto *, int, size_t, const char *);
size_t		proto_reply_max(const struct proto *);
enum proto_stop	proto_process(struct proto *, const char *, size_t,
		    char *, size_t, struct proto_result *);
enum proto_stop	proto_finish(struct proto *, const char *, size_t,
		    char *, size_t, struct proto_result *);
size_t		proto_format_serial(uint64_t, char *);
size_t		proto_join_size(const struct proto *, const struct iovec *,
		    int, size_t, int);

#endif
