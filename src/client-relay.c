/*
 * client-relay.c - the client's two streams: stdin to the socket as it
 * comes (pipelined), replies to stdout as they arrive, each reply checked
 * for the serial owed next. One line scanner serves both directions.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Each direction has a bounded buffer, and a full one stops its producer:
 * a slow stdout stops the socket being read, a slow socket stops stdin
 * being read.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "seqecho.h"
#include "client.h"

/* The longest serial: 2^64 - 1 has 20 digits. */
#define SERIAL_DIGITS	20

static int	 scan_line(struct line_scan *, struct evbuffer *, size_t *);
static int	 scan_is_bye(const struct line_scan *);
static int	 scan_may_be_bye(const struct line_scan *);
static int	 scan_may_be_err(const struct line_scan *);
static void	 input_forward(struct client *);
static void	 input_read_callback(struct bufferevent *, void *);
static void	 input_event_callback(struct bufferevent *, short, void *);
static void	 reply_forward(struct client *, int);
static int	 reply_check(const struct client *, const struct line_scan *,
		     char *, size_t);
static void	 reply_error(struct client *, size_t, size_t);
static void	 reply_wrong(struct client *, size_t, const char *);
static void	 sock_read_callback(struct bufferevent *, void *);
static void	 sock_write_callback(struct bufferevent *, void *);
static const char *sock_tls_failed(struct client *);
static void	 sock_event_callback(struct bufferevent *, short, void *);
static void	 output_write_callback(struct bufferevent *, void *);
static void	 output_event_callback(struct bufferevent *, short, void *);

/* Give the three bufferevents their callbacks and limits, and start. */
void
client_relay_start(struct client *c)
{
	bufferevent_setcb(c->sock, sock_read_callback, sock_write_callback,
	    sock_event_callback, c);
	bufferevent_setwatermark(c->sock, EV_WRITE, CLIENT_LOW, 0);
	bufferevent_enable(c->sock, EV_READ | EV_WRITE);

	bufferevent_setcb(c->in, input_read_callback, NULL,
	    input_event_callback, c);
	bufferevent_enable(c->in, EV_READ);

	bufferevent_setcb(c->out, NULL, output_write_callback,
	    output_event_callback, c);
	bufferevent_setwatermark(c->out, EV_WRITE, CLIENT_LOW, 0);
	bufferevent_enable(c->out, EV_WRITE);
}

/* On a terminal, prompt once the replies owed are all on stdout. */
void
client_prompt(struct client *c)
{
	if (!c->prompt_due || c->state != STATE_RUNNING)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->out)) != 0)
		return;
	fputs("> ", stderr);
	fflush(stderr);
	c->prompt_due = 0;
	c->prompt_shown = 1;
}

/*
 * The one line scanner, for stdin and replies alike: take in buf from
 * *off up to the next LF, noting the line's head and adding to its
 * length. Returns 1 with *off just past the LF when the line is complete,
 * 0 with *off at the end of buf when it goes on past what has come. The
 * search starts at *off, so a long line is never searched twice.
 */
static int
scan_line(struct line_scan *s, struct evbuffer *buf, size_t *off)
{
	struct evbuffer_ptr	 p, lf;
	size_t			 n = evbuffer_get_length(buf), seg, head;

	if (*off >= n)
		return (0);
	if (evbuffer_ptr_set(buf, &p, *off, EVBUFFER_PTR_SET) == -1)
		fatalx("scan_line: offset %zu past %zu", *off, n);
	lf = evbuffer_search_eol(buf, &p, NULL, EVBUFFER_EOL_LF);
	seg = lf.pos == -1 ? n - *off : (size_t)lf.pos - *off;
	if (s->len < SCAN_HEAD) {
		head = SCAN_HEAD - (size_t)s->len;
		if (evbuffer_copyout_from(buf, &p, s->head + s->len,
		    seg < head ? seg : head) == -1)
			fatalx("scan_line: cannot copy");
	}
	s->len += seg;
	*off = lf.pos == -1 ? n : (size_t)lf.pos + 1;
	return (lf.pos != -1);
}

/* Is the complete line "bye"? The server drops a CR before the LF. */
static int
scan_is_bye(const struct line_scan *s)
{
	return ((s->len == 3 && memcmp(s->head, "bye", 3) == 0) ||
	    (s->len == 4 && memcmp(s->head, "bye\r", 4) == 0));
}

/* Could the line so far still turn out to be "bye"? */
static int
scan_may_be_bye(const struct line_scan *s)
{
	return (s->len <= 4 && memcmp(s->head, "bye\r", s->len) == 0);
}

/* Could the line so far begin with "ERR "? (It does once len >= 4.) */
static int
scan_may_be_err(const struct line_scan *s)
{
	size_t	n = s->len < 4 ? s->len : 4;

	return (memcmp(s->head, "ERR ", n) == 0);
}

/*
 * Move what stdin has given to the socket, counting the lines. A line that
 * may still turn out to be "bye" is held back, because bye must not leave
 * before the end sequence corks it. Anything else is passed on at once, a
 * partial line included, so a huge line never piles up here.
 */
static void
input_forward(struct client *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->in);
	struct evbuffer		*out = bufferevent_get_output(c->sock);
	struct line_scan	*s = &c->in_scan;
	size_t			 n, off = s->held, fwd = 0;

	n = evbuffer_get_length(in);
	if (n == s->held)
		return;
	while (scan_line(s, in, &off)) {
		/* CR before LF is dropped by the server, so bye\r is bye. */
		if (scan_is_bye(s)) {
			evbuffer_remove_buffer(in, out, off - 1 - s->len);
			evbuffer_drain(in, evbuffer_get_length(in));
			s->held = 0;
			client_end(c);
			return;
		}
		c->sent++;
		s->len = 0;
		fwd = off;
	}
	if (s->len > 0 && !scan_may_be_bye(s))
		fwd = n;
	evbuffer_remove_buffer(in, out, fwd);
	s->held = n - fwd;

	if (evbuffer_get_length(out) >= CLIENT_HIGH) {
		bufferevent_disable(c->in, EV_READ);
		c->in_paused = 1;
	}
}

/* Stdin has data. */
static void
input_read_callback(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	c->prompt_shown = 0;
	if (c->state == STATE_RUNNING)
		input_forward(c);
}

/*
 * End of stdin: an unterminated last line is sent with a LF added (or
 * ends the session, if it is "bye"), then the session ends.
 */
static void
input_event_callback(struct bufferevent *bev, short what, void *arg)
{
	struct client		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct line_scan	*s = &c->in_scan;

	if (c->state != STATE_RUNNING)
		return;
	if (what & BEV_EVENT_ERROR) {
		client_finish(c, 1, "stdin: %s",
		    strerror(EVUTIL_SOCKET_ERROR()));
		return;
	}
	/* ^D at the prompt: end its line, as a shell does. */
	if (c->prompt_shown) {
		fputc('\n', stderr);
		c->prompt_shown = 0;
	}
	input_forward(c);
	if (c->state != STATE_RUNNING)
		return;
	if (s->len > 0) {
		if (scan_is_bye(s))
			evbuffer_drain(in, evbuffer_get_length(in));
		else {
			evbuffer_add_buffer(bufferevent_get_output(c->sock), in);
			bufferevent_write(c->sock, "\n", 1);
			c->sent++;
		}
		s->len = 0;
		s->held = 0;
	}
	client_end(c);
}

/*
 * Move complete replies to stdout, counting them. A line that may still
 * turn out to begin "ERR " is held back until it is complete; anything
 * else is passed on as it comes, and checked once complete. At the
 * server's end of stream (eof set) whatever is held is passed on too.
 */
static void
reply_forward(struct client *c, int eof)
{
	struct evbuffer		*in = bufferevent_get_input(c->sock);
	struct evbuffer		*out = bufferevent_get_output(c->out);
	struct line_scan	*s = &c->reply_scan;
	char			 why[128];
	size_t			 n, off = s->held, fwd = 0;

	n = evbuffer_get_length(in);
	if (n == s->held && !eof)
		return;
	while (scan_line(s, in, &off)) {
		if (s->len >= 4 && scan_may_be_err(s)) {
			/* A held line starts where forwarding stopped. */
			reply_error(c, fwd, s->len);
			return;
		}
		if (reply_check(c, s, why, sizeof why) == -1) {
			reply_wrong(c, off, why);
			return;
		}
		c->received++;
		s->len = 0;
		fwd = off;
	}
	if (s->len > 0 && !scan_may_be_err(s))
		fwd = n;
	else if (s->len > 0 && (eof || n - fwd > CLIENT_ERR_MAX)) {
		/* An ERR line cut off by the close, or absurdly long. */
		if (s->len >= 4) {
			reply_error(c, fwd, n - fwd);
			return;
		}
		fwd = n;
	}
	evbuffer_remove_buffer(in, out, fwd);
	s->held = n - fwd;

	if (c->sent == c->received)
		c->prompt_due = c->interactive && !c->quiet;
	if (evbuffer_get_length(out) >= CLIENT_HIGH && c->sock != NULL) {
		bufferevent_disable(c->sock, EV_READ);
		c->sock_paused = 1;
	}
}

/*
 * Is the complete reply in s the one owed next, beginning with serial
 * c->received? Serials and messages are not told apart by the protocol
 * (the separator is empty by default, and "12" may be reply 1 to "2"), so
 * the check is that the reply begins with the serial owed. Returns 0, or
 * -1 with what is wrong in why.
 */
static int
reply_check(const struct client *c, const struct line_scan *s, char *why,
    size_t whylen)
{
	char	 want[SERIAL_DIGITS + 1], got[SERIAL_DIGITS + 1];
	size_t	 n, digits, wlen;

	n = s->len < SCAN_HEAD ? (size_t)s->len : SCAN_HEAD;
	for (digits = 0; digits < n && digits < SERIAL_DIGITS &&
	    s->head[digits] >= '0' && s->head[digits] <= '9'; digits++)
		got[digits] = s->head[digits];
	got[digits] = '\0';

	if (c->received >= c->sent) {
		if (digits == 0)
			snprintf(why, whylen, "reply without a serial not owed "
			    "(%" PRIu64 " sent)", c->sent);
		else
			snprintf(why, whylen, "reply serial %s not owed (%"
			    PRIu64 " sent)", got, c->sent);
		return (-1);
	}
	wlen = (size_t)snprintf(want, sizeof want, "%" PRIu64, c->received);
	if (wlen <= digits && memcmp(got, want, wlen) == 0)
		return (0);
	if (digits == 0)
		snprintf(why, whylen, "reply without a serial, expected %s",
		    want);
	else
		snprintf(why, whylen, "reply serial %s out of order, expected "
		    "%s", got, want);
	return (-1);
}

/*
 * A reply that was not owed, or not the one owed: print it (it ends at
 * offset end of the socket's input) and what came before it, then exit 1
 * saying why.
 */
static void
reply_wrong(struct client *c, size_t end, const char *why)
{
	struct evbuffer	*in = bufferevent_get_input(c->sock);

	evbuffer_remove_buffer(in, bufferevent_get_output(c->out), end);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->reply_scan.held = 0;
	client_finish(c, 1, "%s: %s", c->peer, why);
}

/*
 * The server sent "ERR reason" at offset off of the socket's input: pass
 * the replies before it to stdout, then print it (without its LF,
 * anything unprintable made visible) and exit 1.
 */
static void
reply_error(struct client *c, size_t off, size_t len)
{
	struct evbuffer		*in = bufferevent_get_input(c->sock);
	struct evbuffer_ptr	 p;
	char			 msg[CLIENT_ERR_MAX + 1];
	size_t			 i;

	if (len > CLIENT_ERR_MAX)
		len = CLIENT_ERR_MAX;
	if (evbuffer_ptr_set(in, &p, off, EVBUFFER_PTR_SET) == -1 ||
	    evbuffer_copyout_from(in, &p, msg, len) != (ev_ssize_t)len)
		fatalx("reply_error: cannot copy");
	if (len > 0 && msg[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++)
		if (msg[i] < ' ' || msg[i] > '~')
			msg[i] = '?';
	msg[len] = '\0';

	evbuffer_remove_buffer(in, bufferevent_get_output(c->out), off);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->reply_scan.held = 0;
	client_finish(c, 1, "%s", msg);
}

/* Replies have arrived. */
static void
sock_read_callback(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	if (c->state == STATE_DONE)
		return;
	reply_forward(c, 0);
	if (c->state == STATE_ENDING && c->mode == END_RST)
		client_end_step(c);
}

/* Our output has drained to the low mark: read stdin again, or end. */
static void
sock_write_callback(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	if (c->state == STATE_RUNNING && c->in_paused) {
		c->in_paused = 0;
		bufferevent_enable(c->in, EV_READ);
	}
	if (c->state == STATE_ENDING)
		client_end_step(c);
}

/*
 * A TLS connection failed: the library's error ends the session ("tls
 * PEER: reason"); a close without close_notify is a close, and a reset a
 * reset, as in the clear. Returns which, or NULL if finished.
 */
static const char *
sock_tls_failed(struct client *c)
{
	char	why[256];

	switch (client_tls_error(c, why, sizeof why)) {
	case TLS_FAIL_EOF:
		client_tls_narrate_close(c, 0);
		return ("closed");
	case TLS_FAIL_SOCKET:
		if (errno == ECONNRESET || errno == EPIPE)
			return ("reset");
		client_finish(c, 1, "%s: %s", c->peer, why);
		return (NULL);
	default:
		/* What came before the failure is still shown. */
		reply_forward(c, 1);
		client_finish(c, 1, "tls %s: %s", c->peer, why);
		return (NULL);
	}
}

/*
 * The server closed, reset the connection, or it failed. A close with
 * nothing owed is the normal end; so is a reset then, since nothing was
 * lost (a sloppy server resets when it closes with our bye unread).
 */
static void
sock_event_callback(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	const char	*how = "closed";
	int		 error;

	(void)bev;
	if (c->state == STATE_DONE)
		return;
	if ((what & BEV_EVENT_ERROR) && c->ssl != NULL)
		how = sock_tls_failed(c);
	else if (what & BEV_EVENT_ERROR) {
		error = EVUTIL_SOCKET_ERROR();
		if (error != ECONNRESET && error != EPIPE) {
			client_finish(c, 1, "%s: %s", c->peer, strerror(error));
			return;
		}
		how = "reset";
	} else if ((what & BEV_EVENT_EOF) == 0)
		return;
	else if (c->ssl != NULL)
		client_tls_narrate_close(c, 1);
	if (how == NULL)
		return;

	reply_forward(c, 1);
	if (c->state == STATE_DONE)
		return;
	/* -x server means the server's FIN, which follows close_notify. */
	if (how[0] == 'c' && c->ssl != NULL && c->mode == END_SERVER &&
	    client_tls_await_fin(c) == 0)
		return;
	client_sock_closed(c, how);
}

/*
 * The server has closed (how: "closed") or reset the connection: the end,
 * and an error if replies are still owed.
 */
void
client_sock_closed(struct client *c, const char *how)
{
	uint64_t	owed;

	client_narrate(c, how[0] == 'c' ? "server closed" : "server reset");
	owed = c->sent > c->received ? c->sent - c->received : 0;
	if (owed > 0) {
		client_finish(c, 1, "%s %s the connection with %" PRIu64 " %s "
		    "owed", c->peer, how, owed, owed == 1 ? "reply" : "replies");
		return;
	}
	if (c->interactive && !c->quiet) {
		c->final_note = 1;
		client_finish(c, 0, "connection %s by %s", how, c->peer);
	} else
		client_finish(c, 0, NULL);
}

/*
 * Stdout has drained to the low mark: read the socket again, prompt, or
 * leave if that was all.
 */
static void
output_write_callback(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	(void)bev;
	if (c->sock_paused && c->state != STATE_DONE && c->sock != NULL) {
		c->sock_paused = 0;
		bufferevent_enable(c->sock, EV_READ);
	}
	client_prompt(c);
	client_exit_if_drained(c);
}

/* Stdout is gone: a closed pipe ends us quietly, as it would a filter. */
static void
output_event_callback(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	int		 error = EVUTIL_SOCKET_ERROR();

	(void)bev;
	(void)what;
	if (error == EPIPE) {
		client_stdout_restore(c);
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	/* Nothing more can be shown: leave now, whatever was under way. */
	c->state = STATE_DONE;
	c->exit_code = 1;
	snprintf(c->final, sizeof c->final, "stdout: %s", strerror(error));
	event_base_loopbreak(c->base);
}
