/*
 * bench-check.c - seqecho-bench's messages and the check of each reply:
 * payloads, the byte stream a connection sends, and what a reply that is
 * not the one expected did wrong. Pure: bytes in, answers out.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-check.h"

struct reply_parts {
	int		 has_serial;
	uint64_t	 serial;
	int		 sep_ok;	/* the separator follows the serial */
	const char	*body;		/* after the serial and separator */
	size_t		 blen;
};

static void	check_split(const struct check *, const char *, size_t,
		    struct reply_parts *);
static uint64_t	check_find(const struct check *, uint32_t, uint64_t,
		    uint64_t, const struct reply_parts *, int *);

/* Build the payload cycle for size-byte payloads; -1 if out of memory. */
int
check_init(struct check *chk, size_t size, const char *sep, size_t seplen)
{
	static const char	 cycle[CHECK_CYCLE + 1] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,:;-_+=/";
	size_t			 i, len = CHECK_CYCLE + size;

	if ((chk->pattern = malloc(len)) == NULL)
		return (-1);
	for (i = 0; i < len; i++)
		chk->pattern[i] = cycle[i % CHECK_CYCLE];
	chk->size = size;
	chk->sep = sep;
	chk->seplen = seplen;
	return (0);
}

/* Free the payload cycle. */
void
check_free(struct check *chk)
{
	free(chk->pattern);
	chk->pattern = NULL;
}

/* Message k's payload on connection id: size bytes from the cycle. */
const char *
check_payload(const struct check *chk, uint32_t id, uint64_t k)
{
	return (chk->pattern + (k + (uint64_t)id * 7) % CHECK_CYCLE);
}

/* Is p, len bytes, the payload of message k? */
int
check_payload_is(const struct check *chk, uint32_t id, uint64_t k,
    const char *p, size_t len)
{
	return (len == chk->size &&
	    memcmp(p, check_payload(chk, id, k), len) == 0);
}

/*
 * The len bytes from offset from of what connection id sends: issued
 * messages of size bytes and a LF each, then "bye\n". Made again from
 * the offset, so unsent bytes need not be kept.
 */
void
check_fill(const struct check *chk, uint32_t id, uint64_t issued,
    uint64_t from, char *buf, size_t len)
{
	uint64_t	 msglen = chk->size + 1;
	uint64_t	 m = from / msglen, stream = issued * msglen;
	size_t		 off = (size_t)(from % msglen), n;

	while (len > 0 && from < stream) {
		if (off < chk->size) {
			n = chk->size - off < len ? chk->size - off : len;
			memcpy(buf, check_payload(chk, id, m) + off, n);
			buf += n;
			len -= n;
			from += n;
			off += n;
		}
		if (len > 0) {
			*buf++ = '\n';
			len--;
			from++;
			off = 0;
			m++;
		}
	}
	if (len > 0)
		memcpy(buf, "bye\n" + (from - stream), len);
}

/* Expect serial v next. */
void
check_serial_set(struct check_serial *s, uint64_t v)
{
	s->value = v;
	s->ndigits = proto_format_serial(v, s->digits);
}

/*
 * Expect the serial after this one. Counting up in ASCII in place saves
 * a division per digit on every reply.
 */
void
check_serial_next(struct check_serial *s)
{
	size_t	i;

	s->value++;
	for (i = s->ndigits; i > 0 && s->digits[i - 1] == '9'; i--)
		s->digits[i - 1] = '0';
	if (i > 0)
		s->digits[i - 1]++;
	else
		check_serial_set(s, s->value);
}

/* Is p, len bytes without the LF, exactly message k's reply? */
int
check_reply(const struct check *chk, uint32_t id,
    const struct check_serial *s, uint64_t k, const char *p, size_t len)
{
	size_t	n = s->ndigits;

	return (len == n + chk->seplen + chk->size &&
	    memcmp(p, s->digits, n) == 0 &&
	    (chk->seplen == 0 || memcmp(p + n, chk->sep, chk->seplen) == 0) &&
	    memcmp(p + n + chk->seplen, check_payload(chk, id, k),
	    chk->size) == 0);
}

/* Cut a reply into its serial, if it has one, and what follows it. */
static void
check_split(const struct check *chk, const char *p, size_t len,
    struct reply_parts *r)
{
	size_t		i = 0;
	uint64_t	value = 0;

	/* 19 digits always fit in 64 bits; a 20th makes it not a serial. */
	while (i < len && i < PROTO_SERIAL_MAX - 1 &&
	    p[i] >= '0' && p[i] <= '9')
		value = value * 10 + (uint64_t)(p[i++] - '0');
	r->has_serial = i > 0 && (i == len || p[i] < '0' || p[i] > '9');
	r->serial = value;
	r->body = p + i;
	r->blen = len - i;
	r->sep_ok = chk->seplen == 0;
	if (chk->seplen > 0 && r->blen >= chk->seplen &&
	    memcmp(r->body, chk->sep, chk->seplen) == 0) {
		r->body += chk->seplen;
		r->blen -= chk->seplen;
		r->sep_ok = 1;
	}
}

/*
 * Which owed message, k or up to CHECK_AHEAD after it, has the reply's
 * payload: how many come before it, with *found unset if none does.
 */
static uint64_t
check_find(const struct check *chk, uint32_t id, uint64_t k, uint64_t owed,
    const struct reply_parts *r, int *found)
{
	uint64_t	ahead = owed - 1, i;

	*found = check_payload_is(chk, id, k, r->body, r->blen);
	if (ahead > CHECK_AHEAD)
		ahead = CHECK_AHEAD;
	for (i = 1; !*found && chk->size > 0 && i <= ahead; i++) {
		if (check_payload_is(chk, id, k + i, r->body, r->blen)) {
			*found = 1;
			return (i);
		}
	}
	return (0);
}

/*
 * Work out what is wrong with a reply when messages k on are owed (owed
 * of them): an ERR line, a reply with nothing owed, a repeat of the last
 * reply, a reply to a later message (those before it are missing), a
 * wrong payload, a wrong serial. The serial expected next follows the
 * one received, so one skip counts as one error, not one per reply.
 */
void
check_judge(const struct check *chk, uint32_t id,
    const struct check_serial *s, uint64_t k, uint64_t owed, const char *p,
    size_t len, struct check_verdict *v)
{
	struct reply_parts	r;
	int			found;

	memset(v, 0, sizeof *v);
	v->next_serial = s->value;
	if (len >= 3 && memcmp(p, "ERR", 3) == 0 && (len == 3 || p[3] == ' ')) {
		v->kind = CHECK_ERR;
		return;
	}
	check_split(chk, p, len, &r);
	if (r.has_serial)
		v->next_serial = r.serial + 1;
	if (owed == 0) {
		v->kind = CHECK_EXTRA;
		return;
	}
	if (chk->size > 0 && k > 0 &&
	    !check_payload_is(chk, id, k, r.body, r.blen) &&
	    check_payload_is(chk, id, k - 1, r.body, r.blen)) {
		v->kind = CHECK_REPEAT;
		return;
	}
	v->kind = CHECK_ANSWER;
	v->skipped = check_find(chk, id, k, owed, &r, &found);
	/* The right payload after a wrong separator is still wrong. */
	v->bad_payload = !found || !r.sep_ok;
	v->bad_serial = !r.has_serial || (r.serial != s->value &&
	    !(v->skipped > 0 && r.serial == s->value + v->skipped));
	if (!r.has_serial)
		v->next_serial = s->value + 1;
}

/* Bytes as printable text, escaped and cut short; returns its length. */
size_t
check_sample(char *buf, size_t size, const char *p, size_t len)
{
	size_t	i, n = 0;
	int	r;

	for (i = 0; i < len && i < CHECK_SAMPLE_BYTES && n + 5 < size; i++) {
		unsigned char	ch = (unsigned char)p[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			buf[n++] = (char)ch;
		else {
			r = snprintf(buf + n, size - n, "\\x%02x", ch);
			n += (size_t)r;
		}
	}
	if (i < len && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return (n);
}
