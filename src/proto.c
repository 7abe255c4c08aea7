/*
 * proto.c - framing and replies for the seqecho protocol. Pure: the caller
 * owns the bytes and the sockets; nothing here allocates or blocks.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Line framing: a message is the bytes before a LF, less one CR right before
 * it; the reply is <serial><separator><message>LF. Segment framing: whatever
 * one read returned is the message, answered with nothing added.
 */
#include <string.h>

#include "proto.h"

static size_t	proto_reply(struct proto *, const char *, size_t, char *);
static int	proto_is_bye(const char *, size_t);

/* Set up a connection's protocol state; the separator is truncated to fit. */
void
proto_init(struct proto *p, int framing, size_t max_line, const char *sep)
{
	size_t	len = strlen(sep);

	memset(p, 0, sizeof *p);
	p->framing = framing;
	p->max_line = max_line;
	if (len > sizeof p->sep)
		len = sizeof p->sep;
	memcpy(p->sep, sep, len);
	p->seplen = len;
}

/* Room the longest possible reply needs: callers give at least this much. */
size_t
proto_reply_max(const struct proto *p)
{
	return (PROTO_SERIAL_MAX + p->seplen + p->max_line + 1);
}

/* Write n in decimal; returns the number of digits. */
size_t
proto_format_serial(uint64_t n, char *out)
{
	char	 digits[PROTO_SERIAL_MAX];
	size_t	 len = 0, i;

	do {
		digits[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	for (i = 0; i < len; i++)
		out[i] = digits[len - 1 - i];
	return (len);
}

/* Write the reply to one message and advance the serial. */
static size_t
proto_reply(struct proto *p, const char *msg, size_t len, char *out)
{
	size_t	n;

	n = proto_format_serial(p->serial++, out);
	memcpy(out + n, p->sep, p->seplen);
	n += p->seplen;
	memcpy(out + n, msg, len);
	n += len;
	if (p->framing == PROTO_FRAMING_LINE)
		out[n++] = '\n';
	return (n);
}

static int
proto_is_bye(const char *msg, size_t len)
{
	return (len == 3 && memcmp(msg, "bye", 3) == 0);
}

/*
 * Answer every complete message in in[0..inlen) that fits in out. The search
 * for a LF resumes where the previous call left off, so a long line arriving
 * in small pieces costs linear, not quadratic, time.
 */
enum proto_stop
proto_process(struct proto *p, const char *in, size_t inlen, char *out,
    size_t outcap, struct proto_result *r)
{
	const char	*line, *lf;
	size_t		 left, len;

	memset(r, 0, sizeof *r);

	if (p->framing == PROTO_FRAMING_SEGMENT) {
		if (inlen == 0)
			return (PROTO_MORE);
		if (inlen >= 3 && memcmp(in, "bye", 3) == 0) {
			r->consumed = inlen;
			return (PROTO_BYE);
		}
		if (outcap < PROTO_SERIAL_MAX + p->seplen + inlen)
			return (PROTO_FULL);
		r->produced = proto_reply(p, in, inlen, out);
		r->consumed = inlen;
		r->messages = 1;
		return (PROTO_MORE);
	}

	/* A caller with nothing buffered may pass in = NULL. */
	if (inlen == 0) {
		p->scanned = 0;
		return (PROTO_MORE);
	}
	for (;;) {
		line = in + r->consumed;
		left = inlen - r->consumed;
		if (p->scanned > left)
			p->scanned = left;	/* caller dropped input */
		lf = memchr(line + p->scanned, '\n', left - p->scanned);
		if (lf == NULL) {
			p->scanned = left;
			/* Over max_line already, unless the last byte is a CR. */
			if (left > p->max_line + 1 || (left == p->max_line + 1 &&
			    line[left - 1] != '\r'))
				return (PROTO_TOO_LONG);
			return (PROTO_MORE);
		}
		len = (size_t)(lf - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > p->max_line)
			return (PROTO_TOO_LONG);
		if (proto_is_bye(line, len)) {
			r->consumed += (size_t)(lf - line) + 1;
			p->scanned = 0;
			return (PROTO_BYE);
		}
		if (outcap - r->produced < PROTO_SERIAL_MAX + p->seplen + len + 1)
			return (PROTO_FULL);
		r->produced += proto_reply(p, line, len, out + r->produced);
		r->consumed += (size_t)(lf - line) + 1;
		r->messages++;
		p->scanned = 0;
	}
}

/*
 * The peer has half-closed: answer what proto_process left, treating a
 * non-empty unterminated tail as the last message.
 */
enum proto_stop
proto_finish(struct proto *p, const char *in, size_t inlen, char *out,
    size_t outcap, struct proto_result *r)
{
	enum proto_stop	stop;

	stop = proto_process(p, in, inlen, out, outcap, r);
	if (stop != PROTO_MORE || p->framing == PROTO_FRAMING_SEGMENT)
		return (stop);
	if (inlen == r->consumed)
		return (PROTO_MORE);
	in += r->consumed;
	inlen -= r->consumed;
	if (inlen > p->max_line)
		return (PROTO_TOO_LONG);
	if (proto_is_bye(in, inlen)) {
		r->consumed += inlen;
		return (PROTO_BYE);
	}
	if (outcap - r->produced < PROTO_SERIAL_MAX + p->seplen + inlen + 1)
		return (PROTO_FULL);
	r->produced += proto_reply(p, in, inlen, out + r->produced);
	r->consumed += inlen;
	r->messages++;
	p->scanned = 0;
	return (PROTO_MORE);
}

/*
 * The first of the input's n chunks (len bytes in all) ends inside a line:
 * how many bytes, from the start, to make contiguous. Through the first LF
 * in the chunks that follow, or max_line + 2 when none is in sight, enough
 * to tell a line over max_line from a CRLF-terminated one of max_line; all
 * of it at end of stream. 0 when the first chunk already holds that much.
 */
size_t
proto_join_size(const struct proto *p, const struct iovec *v, int n,
    size_t len, int at_eof)
{
	const char	*lf;
	size_t		 want = 0, off, limit = p->max_line + 2;
	int		 i;

	if (at_eof)
		want = len;
	else {
		off = v[0].iov_len;
		for (i = 1; i < n && off < limit; i++) {
			lf = memchr(v[i].iov_base, '\n', v[i].iov_len);
			if (lf != NULL) {
				want = off + (size_t)(lf - (char *)v[i].iov_base)
				    + 1;
				break;
			}
			off += v[i].iov_len;
		}
		if (want == 0 || want > limit)
			want = limit;
		if (want > len)
			want = len;
	}
	return (want <= v[0].iov_len ? 0 : want);
}
