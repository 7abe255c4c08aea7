/*
 * fuzz_proto.c - libFuzzer target for the framing code (src/proto.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The input chooses the framing, max_line, the separator, the first serial,
 * the size of the output buffer, how the stream is cut into reads, how the
 * reads sit in the input buffer's chunks, which reads arrive while the
 * connection is paused, and whether the stream ends with the peer's FIN.
 * The bytes are then fed through proto_process and proto_finish the way
 * conn_process in src/conn.c feeds them: the first contiguous chunk of the
 * unconsumed input (joined with the next ones by conn_join_line's rule
 * while it holds no LF past the scanned offset), the scanned offset kept
 * between calls, an output buffer of at least proto_reply_max bytes, and
 * PROTO_FULL answered by calling again with a fresh buffer. (conn.c's
 * extra reads, conn_read_more, only change where chunks begin and end,
 * which the input chooses anyway.)
 *
 * Every presented chunk and every output buffer is its own allocation of
 * exactly its size, so AddressSanitizer sees any read or write past it.
 * After each step the output so far must equal what an independent model
 * computes from the bytes received so far: one reply per complete line,
 * serials in order, payload equal to the line less one CR before the LF,
 * nothing for bye and nothing after it, and ERR line too long (no reply)
 * as soon as the bytes received prove a message longer than max_line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define MAX_CHUNKS	8192

/* The fuzzer's choices, read from a control string; zeros once it ends. */
struct choices {
	const uint8_t	*p;
	size_t		 len;
	size_t		 next;
};

static uint8_t
choose(struct choices *c)
{
	if (c->len == 0)
		return (0);
	return (c->p[c->next++ % c->len]);
}

/* What the model expects: built up as bytes arrive. */
struct model {
	int		 framing;
	size_t		 max_line;
	const char	*sep;
	size_t		 seplen;
	uint64_t	 first;		/* serial of the first reply */
	uint64_t	 serial;
	size_t		 pos;		/* start of the unfinished line */
	size_t		 scanned;	/* bytes of it known to hold no LF */
	enum proto_stop	 done;		/* PROTO_MORE while the session runs */
	char		*out;
	size_t		 outlen;
	size_t		 outcap;
};

/* Input received so far, and what the connection has consumed of it. */
struct stream {
	char		*buf;
	size_t		 len;		/* bytes received */
	size_t		 consumed;	/* bytes the connection has drained */
	size_t		 chunks[MAX_CHUNKS];	/* unconsumed, in chunks */
	size_t		 nchunks;
};

/* The harness's view: the protocol state and everything it wrote. */
struct conn {
	struct proto	 proto;
	enum proto_stop	 done;
	char		*out;
	size_t		 outlen;
	size_t		 outcap;
	uint64_t	 messages;
};

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_proto: %s\n", what);
	abort();
}

static void
append(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 64;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			fail("out of memory");
	}
	if (n > 0)
		memcpy(*buf + *len, p, n);
	*len += n;
}

/* Model: the reply to one message. */
static void
model_reply(struct model *m, const char *msg, size_t len)
{
	char	digits[32];

	snprintf(digits, sizeof digits, "%llu", (unsigned long long)m->serial);
	m->serial++;
	append(&m->out, &m->outlen, &m->outcap, digits, strlen(digits));
	append(&m->out, &m->outlen, &m->outcap, m->sep, m->seplen);
	append(&m->out, &m->outlen, &m->outcap, msg, len);
	if (m->framing == PROTO_FRAMING_LINE)
		append(&m->out, &m->outlen, &m->outcap, "\n", 1);
}

/* Model, line framing: take in the stream up to s->len. */
static void
model_lines(struct model *m, const struct stream *s)
{
	const char	*line, *lf;
	size_t		 left, len;

	while (m->done == PROTO_MORE) {
		line = s->buf + m->pos;
		left = s->len - m->pos;
		lf = memchr(line + m->scanned, '\n', left - m->scanned);
		if (lf == NULL) {
			m->scanned = left;
			/*
			 * Too long for sure: more than max_line + 1 bytes, or
			 * max_line + 1 that do not end in a CR (which a LF
			 * could still turn into a line of max_line).
			 */
			if (left > m->max_line + 1 || (left == m->max_line + 1 &&
			    line[left - 1] != '\r'))
				m->done = PROTO_TOO_LONG;
			return;
		}
		len = (size_t)(lf - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		m->pos += (size_t)(lf - line) + 1;
		m->scanned = 0;
		if (len > m->max_line)
			m->done = PROTO_TOO_LONG;
		else if (len == 3 && memcmp(line, "bye", 3) == 0)
			m->done = PROTO_BYE;
		else
			model_reply(m, line, len);
	}
}

/* Model, line framing: the peer's FIN; an unterminated tail is a message. */
static void
model_eof(struct model *m, const struct stream *s)
{
	const char	*tail = s->buf + m->pos;
	size_t		 len = s->len - m->pos;

	model_lines(m, s);
	if (m->done != PROTO_MORE || len == 0)
		return;
	m->pos = s->len;
	if (len > m->max_line)
		m->done = PROTO_TOO_LONG;
	else if (len == 3 && memcmp(tail, "bye", 3) == 0)
		m->done = PROTO_BYE;
	else
		model_reply(m, tail, len);
}

/* Drop n bytes from the front of the unconsumed input (evbuffer_drain). */
static void
stream_drain(struct stream *s, size_t n)
{
	size_t	i = 0, j;

	s->consumed += n;
	while (n > 0) {
		if (s->chunks[i] > n) {
			s->chunks[i] -= n;
			break;
		}
		n -= s->chunks[i++];
	}
	for (j = 0; i < s->nchunks; i++, j++)
		s->chunks[j] = s->chunks[i];
	s->nchunks = j;
	while (s->nchunks > 0 && s->chunks[0] == 0) {
		memmove(s->chunks, s->chunks + 1,
		    --s->nchunks * sizeof s->chunks[0]);
	}
}

/* Make the first want bytes one chunk (evbuffer_pullup). */
static void
stream_pullup(struct stream *s, size_t want)
{
	size_t	have = s->chunks[0], i = 1, j;

	while (have < want && i < s->nchunks)
		have += s->chunks[i++];
	s->chunks[0] = have;
	for (j = 1; i < s->nchunks; i++, j++)
		s->chunks[j] = s->chunks[i];
	s->nchunks = j;
}

/*
 * conn_join_line: the first chunk ends in the middle of a line; join as
 * much as proto_join_size says, from at most the first 16 chunks as the
 * daemon peeks them. Returns 0 when there is nothing to join.
 */
static int
join_line(const struct conn *c, struct stream *s, size_t len, int at_eof)
{
	struct iovec	 v[16];
	char		*base = s->buf + s->consumed;
	size_t		 want, off = 0;
	int		 i, n;

	n = s->nchunks < 16 ? (int)s->nchunks : 16;
	for (i = 0; i < n; i++) {
		v[i].iov_base = base + off;
		v[i].iov_len = s->chunks[i];
		off += s->chunks[i];
	}
	if ((want = proto_join_size(&c->proto, v, n, len, at_eof)) == 0)
		return (0);
	stream_pullup(s, want);
	return (1);
}

/*
 * conn_process, with the socket and the evbuffers taken out. Returns
 * when every complete message is answered, or the session has ended.
 */
static void
conn_process(struct conn *c, struct stream *s, int at_eof,
    struct choices *ch)
{
	struct proto_result	 r;
	enum proto_stop		 stop;
	char			*in, *out;
	size_t			 len, ivlen, want, outcap, prevscan;
	int			 rounds = 0;

	for (;;) {
		if (++rounds > 1000000)
			fail("conn_process does not end");
		len = s->len - s->consumed;
		if (len == 0 && !at_eof)
			break;
		ivlen = s->nchunks > 0 ? s->chunks[0] : 0;
		if (c->proto.scanned > ivlen)
			c->proto.scanned = ivlen;
		if (ivlen < len && c->proto.framing == PROTO_FRAMING_LINE &&
		    (at_eof || memchr(s->buf + s->consumed + c->proto.scanned,
		    '\n', ivlen - c->proto.scanned) == NULL) &&
		    join_line(c, s, len, at_eof))
			continue;

		/* Exactly sized copies, so ASan sees any overrun. */
		in = malloc(ivlen > 0 ? ivlen : 1);
		if (in == NULL)
			fail("out of memory");
		memcpy(in, s->buf + s->consumed, ivlen);
		/* At least the longest reply, as conn.c reserves; often
		 * little more, so that PROTO_FULL comes up. */
		want = choose(ch);
		outcap = proto_reply_max(&c->proto) +
		    ((want & 0x80) ? ivlen + 1024 : want % 48);
		if ((out = malloc(outcap)) == NULL)
			fail("out of memory");
		prevscan = c->proto.scanned;
		if (at_eof)
			stop = proto_finish(&c->proto, in, ivlen, out, outcap,
			    &r);
		else
			stop = proto_process(&c->proto, in, ivlen, out, outcap,
			    &r);
		if (r.consumed > ivlen)
			fail("consumed more than it was given");
		if (r.produced > outcap)
			fail("produced more than the buffer holds");
		/* (After the session ends the offset no longer matters.) */
		if ((stop == PROTO_MORE || stop == PROTO_FULL) &&
		    c->proto.scanned > ivlen - r.consumed)
			fail("scanned past the input left");
		/* Linear time: a partial line is never searched twice. */
		if (stop == PROTO_MORE && !at_eof && c->proto.framing ==
		    PROTO_FRAMING_LINE && c->proto.scanned != ivlen - r.consumed)
			fail("the partial line is not marked scanned");
		if (r.consumed == 0 && c->proto.scanned < prevscan)
			fail("the scanned offset went back");
		append(&c->out, &c->outlen, &c->outcap, out, r.produced);
		c->messages += r.messages;
		free(out);
		free(in);
		stream_drain(s, r.consumed);

		if (stop == PROTO_FULL) {
			if (r.consumed == 0)
				fail("PROTO_FULL with a buffer of "
				    "proto_reply_max: no progress");
			continue;
		}
		if (stop != PROTO_MORE) {
			c->done = stop;
			break;
		}
		if (at_eof)
			break;
		if (r.consumed == 0)
			break;
	}
}

/* The output and the end so far agree with the model. */
static void
compare(const struct conn *c, const struct model *m)
{
	if (c->outlen != m->outlen ||
	    (m->outlen > 0 && memcmp(c->out, m->out, m->outlen) != 0)) {
		fprintf(stderr, "output %zu bytes, model %zu bytes\n",
		    c->outlen, m->outlen);
		fail("output differs from the model");
	}
	if (c->done != m->done) {
		fprintf(stderr, "stopped with %d, model %d\n", c->done,
		    m->done);
		fail("end of session differs from the model");
	}
	if (c->proto.serial != m->serial || c->messages != m->serial - m->first)
		fail("serial or message count differs from the model");
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 max_lines[] = { 1, 2, 3, 4, 5, 8, 16, 4096 };
	static const uint64_t	 serials[] = { 0, 9, 4294967295ULL,
				    UINT64_MAX - 2 };
	struct model		 m;
	struct stream		 s;
	struct conn		 c;
	struct choices		 ch;
	char			 sep[PROTO_SEPARATOR_MAX + 8];
	size_t			 seplen, nctl, off, n, i, max_line;
	uint8_t			 flags;
	int			 framing, eof, paused;

	if (size < 4)
		return (0);
	flags = data[0];
	framing = (flags & 1) ? PROTO_FRAMING_SEGMENT : PROTO_FRAMING_LINE;
	eof = (flags & 2) != 0;
	max_line = (flags & 4) ? data[1] % 64 + 1 : max_lines[data[1] % 8];
	seplen = data[2] % (PROTO_SEPARATOR_MAX + 4);
	nctl = data[3];
	off = 4;
	if (seplen > size - off)
		seplen = size - off;
	for (i = 0; i < seplen; i++)	/* a C string: no NUL */
		sep[i] = data[off + i] == '\0' ? ':' : (char)data[off + i];
	sep[seplen] = '\0';
	off += seplen;
	if (nctl > size - off)
		nctl = size - off;
	ch.p = data + off;
	ch.len = nctl;
	ch.next = 0;
	off += nctl;

	memset(&c, 0, sizeof c);
	proto_init(&c.proto, framing, max_line, sep);
	c.proto.serial = serials[(flags >> 3) & 3];
	if (proto_reply_max(&c.proto) != PROTO_SERIAL_MAX +
	    (seplen > PROTO_SEPARATOR_MAX ? PROTO_SEPARATOR_MAX : seplen) +
	    max_line + 1)
		fail("proto_reply_max");

	memset(&m, 0, sizeof m);
	m.framing = framing;
	m.max_line = max_line;
	m.sep = sep;
	m.seplen = seplen > PROTO_SEPARATOR_MAX ? PROTO_SEPARATOR_MAX : seplen;
	m.first = m.serial = c.proto.serial;
	m.done = PROTO_MORE;

	memset(&s, 0, sizeof s);
	s.buf = malloc(size - off + 1);
	if (s.buf == NULL)
		fail("out of memory");

	/* Deliver the rest of the input in reads the control bytes size. */
	while (off < size && c.done == PROTO_MORE) {
		uint8_t	cb = choose(&ch);

		n = (size_t)(cb & 0x3f) + 1;
		if (cb & 0x80)
			n += 64 * (size_t)(choose(&ch) & 0x3f);
		if (nctl == 0)
			n = size - off;
		if (framing == PROTO_FRAMING_SEGMENT && n > max_line)
			n = max_line;	/* bufferevent_set_max_single_read */
		if (n > size - off)
			n = size - off;
		memcpy(s.buf + s.len, data + off, n);
		s.len += n;
		off += n;
		/* A new chunk, or appended to the last one's free space. */
		if (s.nchunks > 0 && (cb & 0x40) &&
		    framing == PROTO_FRAMING_LINE)
			s.chunks[s.nchunks - 1] += n;
		else if (s.nchunks < MAX_CHUNKS)
			s.chunks[s.nchunks++] = n;
		else
			s.chunks[s.nchunks - 1] += n;

		/*
		 * Paused (output over the mark): the read waits in the buffer.
		 * In segment framing a paused read would merge with the next
		 * one, which the model does not follow: never paused there.
		 */
		paused = framing == PROTO_FRAMING_LINE &&
		    (choose(&ch) & 0x7) == 0;
		if (paused)
			continue;
		conn_process(&c, &s, 0, &ch);
		if (framing == PROTO_FRAMING_LINE)
			model_lines(&m, &s);
		else if (m.done == PROTO_MORE) {
			if (n >= 3 && memcmp(s.buf + s.len - n, "bye", 3) == 0)
				m.done = PROTO_BYE;
			else
				model_reply(&m, s.buf + s.len - n, n);
		}
		compare(&c, &m);
	}
	if (c.done == PROTO_MORE) {
		/* Resumed after a pause, or the shutdown's last pass. */
		conn_process(&c, &s, 0, &ch);
		if (framing == PROTO_FRAMING_LINE)
			model_lines(&m, &s);
		compare(&c, &m);
	}
	if (eof && c.done == PROTO_MORE) {
		conn_process(&c, &s, 1, &ch);
		if (framing == PROTO_FRAMING_LINE)
			model_eof(&m, &s);
		compare(&c, &m);
	}

	free(s.buf);
	free(c.out);
	free(m.out);
	return (0);
}
