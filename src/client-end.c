/*
 * client-end.c - how the session ends (-x), for watching the teardown
 * with tcpdump, and the -v narration of the connection's states from its
 * own socket (TCP_INFO) and the kernel's tables (sockstat.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "seqecho.h"
#include "sockstat.h"
#include "client.h"

/* Stdin is done (end of file or "bye"): start ending the session. */
void
client_end(struct client *c)
{
	if (c->state != STATE_RUNNING)
		return;
	c->state = STATE_ENDING;
	c->prompt_due = 0;
	bufferevent_disable(c->in, EV_READ);
	c->in_paused = 0;

	if (c->mode == END_SERVER) {
		bufferevent_write(c->sock, "bye\n", 4);
		c->step = STEP_FINISHED;
		client_narrate(c, "sent bye");
		return;
	}
	c->step = STEP_DRAIN;
	client_end_step(c);
}

/*
 * Take the end sequence as far as it can go now; called again whenever our
 * output drains or a reply arrives.
 */
void
client_end_step(struct client *c)
{
	struct linger	 lg = { 1, 0 };
	int		 fd, on = 1, off = 0;

	if (c->state != STATE_ENDING || c->sock == NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->sock)) != 0)
		return;
	fd = bufferevent_getfd(c->sock);

	switch (c->step) {
	case STEP_DRAIN:
		if (c->mode == END_HALF) {
			/*
			 * TLS's half-close, then TCP's, in one segment: a
			 * server that closes on close_notify must not get
			 * its FIN out before ours.
			 */
			if (c->ssl != NULL) {
				setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on,
				    sizeof on);
				client_tls_shutdown(c);
			}
			shutdown(fd, SHUT_WR);
			if (c->ssl != NULL)
				setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off,
				    sizeof off);
			c->step = STEP_FINISHED;
			client_narrate(c, "half-closed");
		} else if (c->mode == END_RST) {
			if (c->received < c->sent)
				break;
			client_narrate(c, "aborting");
			/* A zero linger makes close() send a RST. */
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			client_close(c);
			c->step = STEP_FINISHED;
			client_finish(c, 0, NULL);
		} else {
			/*
			 * Everything before bye has reached the kernel. Cork,
			 * so that bye waits there for the FIN and both leave
			 * in one segment, whatever libevent's write returns.
			 */
			setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
			bufferevent_write(c->sock, "bye\n", 4);
			c->step = STEP_BYE_SENT;
		}
		break;
	case STEP_BYE_SENT:
		/* close_notify rides in the corked segment too. */
		client_tls_shutdown(c);
		shutdown(fd, SHUT_WR);
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
		c->step = STEP_FINISHED;
		client_narrate(c, "sent bye and half-closed");
		break;
	default:
		break;
	}
}

/*
 * -v: what the kernel says of our socket (TCP_INFO), so the states of the
 * teardown can be followed from this end. The names are those of -S.
 */
void
client_narrate(struct client *c, const char *when)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof ti;
	int		 state, ours, theirs;

	if (!c->verbose || c->sock == NULL)
		return;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(bufferevent_getfd(c->sock), IPPROTO_TCP, TCP_INFO, &ti,
	    &len) == -1) {
		log_warn("%s: TCP_INFO", when);
		return;
	}
	/*
	 * Once our FIN went first and the server's has come, Linux moves the
	 * connection to a TIME_WAIT socket of its own and leaves ours CLOSE:
	 * the connection's state is that socket's.
	 */
	state = ti.tcpi_state;
	if (state == TCP_CLOSE && sockstat_find((struct sockaddr *)
	    &c->local_sa, (struct sockaddr *)&c->peer_sa, &ours,
	    &theirs) == 0 && ours != 0)
		state = ours;
	log_info("%s: %s %s, rtt %.3f ms (+/- %.3f), %" PRIu64 " sent, %"
	    PRIu64 " replies", when, c->peer, sockstat_state_name(state),
	    ti.tcpi_rtt / 1000.0, ti.tcpi_rttvar / 1000.0, c->sent,
	    c->received);
}

/*
 * Close the socket. With -v, then say where the connection has ended up
 * in the kernel's tables: TIME_WAIT on the side whose FIN went first, CLOSE
 * (no socket left) otherwise, and the server's end too when it is on this
 * host.
 */
void
client_close(struct client *c)
{
	char	 theirs_note[64] = "";
	int	 fd, ours, theirs;

	if (c->fin_ev != NULL) {
		event_free(c->fin_ev);
		c->fin_ev = NULL;
	}
	if (c->sock == NULL)
		return;
	/*
	 * libevent closes a freed bufferevent's socket only when it next
	 * runs its finalizers; close it now, so that what -v reports next
	 * (and the RST of -x rst) is the close's doing. A TLS bufferevent
	 * does not own its socket, and a server that closed first is owed
	 * our close_notify; a RST sends none.
	 */
	fd = bufferevent_getfd(c->sock);
	if (c->ssl != NULL) {
		if (c->mode != END_RST)
			client_tls_shutdown(c);
	} else
		bufferevent_setfd(c->sock, -1);
	bufferevent_free(c->sock);
	c->sock = NULL;
	if (fd != -1)
		close(fd);
	if (!c->verbose)
		return;
	if (sockstat_find((struct sockaddr *)&c->local_sa, (struct sockaddr *)
	    &c->peer_sa, &ours, &theirs) == -1) {
		log_info("closed: %s, %" PRIu64 " sent, %" PRIu64 " replies",
		    c->peer, c->sent, c->received);
		return;
	}
	if (theirs != 0)
		snprintf(theirs_note, sizeof theirs_note,
		    " (the server's end %s)", sockstat_state_name(theirs));
	log_info("closed: %s %s%s, %" PRIu64 " sent, %" PRIu64 " replies",
	    c->peer, sockstat_state_name(ours != 0 ? ours : TCP_CLOSE),
	    theirs_note, c->sent, c->received);
}
