/*
 * conn-input.c - a connection's input: reading the socket, answering the
 * complete messages, and throttling a client that does not read.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "seqechod.h"
#include "conn.h"

static void	conn_read_more(struct conn *);
static int	conn_join_line(struct conn *, size_t, int);
static void	conn_answer(struct conn *, enum proto_stop);

void
conn_read_callback(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	/* Queued before conn_process, which may pause or free c. */
	if (c->flags & CONN_TLS)
		conn_tls_read_on(c);
	if (c->state != CONN_READING) {
		/* After bye or an error line, input is read and dropped. */
		c->bytes_in += evbuffer_get_length(in);
		STAT_ADD(c->stats->bytes_in, evbuffer_get_length(in));
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (!(c->flags & CONN_OPEN_LOGGED) && evbuffer_get_length(in) > 0)
		conn_log_open(c);
	conn_read_more(c);
	conn_process(c, 0);
}

/*
 * libevent 2.1 reads at most 4096 bytes at a time whatever the
 * bufferevent's max_single_read, so a pipelining client costs a turn of
 * the loop per 4 KiB. When a full 4096 bytes came, more is probably
 * waiting: read it now, up to CONN_READ_MAX. A short read means the
 * socket is empty, so this costs no extra call otherwise. End of stream
 * and errors are left for the bufferevent's next read to report.
 * Measured with 1 KiB messages, 64 in flight on each connection.
 */
static void
conn_read_more(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 iv;
	size_t			 got = evbuffer_get_length(in) - c->in_left;
	ssize_t			 n;
	int			 fd = bufferevent_getfd(c->bev);

	if (c->proto.framing != PROTO_FRAMING_LINE)
		return;		/* one read is one message */
	if (c->flags & CONN_TLS)
		return;		/* the session reads ahead: conn_tls_read_on */
	/* The bufferevent keeps its input's end frozen between reads. */
	evbuffer_unfreeze(in, 0);
	while (got >= EVBUFFER_READ_CAP && got < CONN_READ_MAX) {
		if (evbuffer_reserve_space(in, CONN_READ_MAX - got, &iv,
		    1) < 1)
			break;
		n = recv(fd, iv.iov_base, iv.iov_len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		iv.iov_len = (size_t)n;
		evbuffer_commit_space(in, &iv, 1);
		if ((size_t)n < CONN_READ_MAX - got)
			break;
		got += (size_t)n;
	}
	evbuffer_freeze(in, 0);
}

/*
 * Answer the complete messages in the input buffer. Stops at the output
 * mark unless draining for shutdown, or at the end of the session. With
 * at_eof, the unterminated tail is answered as the last message.
 */
void
conn_process(struct conn *c, int at_eof)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer		*out = conn_output(c);
	struct evbuffer_iovec	 iv, ov;
	struct proto_result	 r;
	enum proto_stop		 stop;
	uint64_t		 messages = 0;
	size_t			 len, want, produced = 0, consumed = 0;

	for (;;) {
		len = evbuffer_get_length(in);
		if (len == 0 && !at_eof)
			break;
		if ((c->flags & CONN_PAUSED) &&
		    c->state == CONN_READING && !at_eof)
			break;

		if (evbuffer_peek(in, -1, NULL, &iv, 1) < 1) {
			iv.iov_base = NULL;
			iv.iov_len = 0;
		}
		if (c->proto.scanned > iv.iov_len)
			c->proto.scanned = iv.iov_len;
		if (iv.iov_len < len && c->proto.framing ==
		    PROTO_FRAMING_LINE && (at_eof ||
		    memchr((char *)iv.iov_base + c->proto.scanned, '\n',
		    iv.iov_len - c->proto.scanned) == NULL) &&
		    conn_join_line(c, len, at_eof))
			continue;

		want = iv.iov_len + proto_reply_max(&c->proto) + 1024;
		if (evbuffer_reserve_space(out, (ssize_t)want, &ov, 1) < 1)
			fatalx("out of memory");
		if (at_eof)
			stop = proto_finish(&c->proto, iv.iov_base, iv.iov_len,
			    ov.iov_base, ov.iov_len, &r);
		else
			stop = proto_process(&c->proto, iv.iov_base,
			    iv.iov_len, ov.iov_base, ov.iov_len, &r);
		ov.iov_len = r.produced;
		evbuffer_commit_space(out, &ov, 1);
		evbuffer_drain(in, r.consumed);
		produced += r.produced;
		consumed += r.consumed;
		messages += r.messages;

		if (stop == PROTO_FULL)
			continue;
		if (stop != PROTO_MORE) {
			conn_answer(c, stop);
			break;
		}
		if (at_eof) {
			conn_start_close(c, REASON_EOF, NULL);
			break;
		}
		if (r.consumed == 0)
			break;		/* only a partial line is left */
		if (conn_owed(c) > CONN_OUTPUT_HIGH &&
		    c->state == CONN_READING && !(c->flags & CONN_DRAINING)) {
			conn_flush(c);
			if (conn_owed(c) <= CONN_OUTPUT_HIGH)
				continue;
			conn_pause(c);
		}
	}
	conn_flush(c);
	c->in_left = evbuffer_get_length(in);

	c->bytes_in += consumed;
	c->bytes_out += produced;
	STAT_ADD(c->stats->bytes_in, consumed);
	STAT_ADD(c->stats->bytes_out, produced);
	if (messages > 0) {
		c->messages += messages;
		STAT_ADD(c->stats->messages, messages);
		event_base_gettimeofday_cached(bufferevent_get_base(c->bev),
		    &c->last_message);
	}
}

/*
 * The client is not reading: stop reading it until its output falls to
 * the low mark. Its idle clock now runs from what it reads (rule 8),
 * sampled by the timer at least once a second.
 */
void
conn_pause(struct conn *c)
{
	c->flags |= CONN_PAUSED;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, CONN_OUTPUT_LOW, 0);
	event_base_gettimeofday_cached(bufferevent_get_base(c->bev),
	    &c->last_taken);
	c->taken = conn_taken(c);
	if (c->idle_timeout > 0)
		conn_arm_timer(c, 1);
}

/*
 * Bytes of output the client has acknowledged: written to the socket less
 * what its send queue still holds. The kernel wakes a writer only once a
 * good part of a large send queue has gone, so a slow reader can go many
 * seconds without our output shrinking while it reads all the time; its
 * acknowledgements show every read.
 */
uint64_t
conn_taken(struct conn *c)
{
	size_t	unsent = conn_owed(c);
	int	queued = 0;

	if (ioctl(bufferevent_getfd(c->bev), TIOCOUTQ, &queued) == -1 ||
	    queued < 0)
		queued = 0;
	return (c->bytes_out - unsent - (uint64_t)queued);
}

/*
 * The first chunk of input ends in the middle of a line: make that line
 * contiguous, and no more, so that the rest of the input is not copied
 * (proto_join_size says how much). Returns 0 when there is nothing to join.
 */
static int
conn_join_line(struct conn *c, size_t len, int at_eof)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v[16];
	struct iovec		 iov[16];
	size_t			 want;
	int			 i, n;

	n = evbuffer_peek(in, -1, NULL, v, 16);
	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	if ((want = proto_join_size(&c->proto, iov, n, len, at_eof)) == 0)
		return (0);
	if (evbuffer_pullup(in, (ssize_t)want) == NULL)
		fatalx("out of memory");
	return (1);
}

/* The protocol ended the session: bye, or a line over the limit. */
static void
conn_answer(struct conn *c, enum proto_stop stop)
{
	if (stop == PROTO_BYE)
		conn_start_close(c, REASON_BYE, NULL);
	else
		conn_start_close(c, REASON_TOO_LONG, PROTO_ERR_TOO_LONG);
}
