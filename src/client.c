/*
 * client.c - the client's session from start to exit status: the loop,
 * resolving the host, connecting to each of its addresses in turn, and
 * the finish, which waits for stdout to drain before the last word.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Everything runs in one libevent loop with three bufferevents: the socket,
 * stdin and stdout (client-relay.c moves the bytes between them).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "seqecho.h"
#include "client.h"
#include "proxy.h"

static void	 client_base_new(struct client *);
static int	 client_resolve(struct client *);
static void	 client_connect_next(struct client *);
static void	 client_connect_callback(evutil_socket_t, short, void *);
static void	 client_connected(struct client *, int);
static void	 client_send_proxy(struct client *, int);
static void	 client_stdout_nonblock(struct client *);
static void	 client_stdout_restore_at_exit(int, void *);
static void	 client_last_word(struct client *);
static void	 client_sigint_callback(evutil_socket_t, short, void *);

/*
 * Connect and run the loop until the session ends, then close, say the
 * last word and free. Returns the exit code.
 */
int
client_run(struct client *c)
{
	int	fd;

	/* A closed 0, 1 or 2 would otherwise be reused by the socket. */
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);

	/* A peer's RST must show as an error, not kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	c->interactive = isatty(STDIN_FILENO);
	c->connect_fd = -1;
	c->stdout_flags = -1;
	client_base_new(c);

	if ((!c->tls || client_tls_init(c) == 0) && client_resolve(c) == 0) {
		client_connect_next(c);
		if (c->state != STATE_DONE)
			event_base_dispatch(c->base);
	}

	/* Before the last word: stderr may share stdout's file description. */
	client_stdout_restore(c);
	/* Closing narrates the end, which comes before any last word. */
	client_close(c);
	/*
	 * A TLS bufferevent defers its write callback, holding a reference
	 * to itself until that runs: one more pass of the loop lets it go,
	 * or the free client_close asked for never happens.
	 */
	if (c->tls)
		event_base_loop(c->base, EVLOOP_NONBLOCK);
	client_last_word(c);

	if (c->connect_ev != NULL)
		event_free(c->connect_ev);
	if (c->connect_fd != -1)
		close(c->connect_fd);
	if (c->in != NULL)
		bufferevent_free(c->in);
	if (c->out != NULL)
		bufferevent_free(c->out);
	event_free(c->sigint);
	event_base_free(c->base);
	client_tls_free(c);
	if (c->ai != NULL)
		evutil_freeaddrinfo(c->ai);
	return (c->exit_code);
}

/* The loop, with ^C caught in it. */
static void
client_base_new(struct client *c)
{
	struct event_config	*ecfg;

	/*
	 * epoll refuses regular files and /dev/null (EPERM), and stdin or
	 * stdout may well be one; poll takes anything and, with three
	 * descriptors, costs nothing more.
	 */
	if ((ecfg = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	event_config_avoid_method(ecfg, "epoll");
	c->base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (c->base == NULL)
		fatalx("event_base_new failed");

	c->sigint = evsignal_new(c->base, SIGINT, client_sigint_callback, c);
	if (c->sigint == NULL || event_add(c->sigint, NULL) == -1)
		fatalx("cannot catch SIGINT");
}

/* Look the host up; every address it has is tried in turn. */
static int
client_resolve(struct client *c)
{
	struct evutil_addrinfo	 hints;
	char			 port[8];
	int			 error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof port, "%d", c->port);
	error = evutil_getaddrinfo(c->host, port, &hints, &c->ai);
	if (error == EVUTIL_EAI_SYSTEM) {
		client_finish(c, 1, "%s: %s", c->host, strerror(errno));
		return (-1);
	}
	if (error != 0) {
		/* The codes are the system's (util.h); say it in its words. */
		client_finish(c, 1, "%s: %s", c->host, gai_strerror(error));
		return (-1);
	}
	c->ai_next = c->ai;
	return (0);
}

/*
 * Start connecting to the next address, or give up with the last error
 * when none is left. Only the last failure is reported, as ssh does.
 */
static void
client_connect_next(struct client *c)
{
	struct evutil_addrinfo	*ai;
	struct timeval		 tv = { c->timeout, 0 };
	int			 fd;

	if (c->connect_ev != NULL) {
		event_free(c->connect_ev);
		c->connect_ev = NULL;
	}
	if (c->connect_fd != -1) {
		close(c->connect_fd);
		c->connect_fd = -1;
	}

	while ((ai = c->ai_next) != NULL) {
		/* A failure before the last is worth a word with -v. */
		if (c->verbose && c->connect_errno != 0)
			log_info("connect %s: %s", c->peer,
			    strerror(c->connect_errno));
		c->connect_errno = 0;
		c->ai_next = ai->ai_next;
		addr_format(ai->ai_addr, c->peer, sizeof c->peer);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			c->connect_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			client_connected(c, fd);
			return;
		}
		if (errno != EINPROGRESS) {
			c->connect_errno = errno;
			close(fd);
			continue;
		}
		c->connect_fd = fd;
		c->connect_ev = event_new(c->base, fd, EV_WRITE,
		    client_connect_callback, c);
		if (c->connect_ev == NULL || event_add(c->connect_ev, &tv) == -1)
			fatalx("cannot wait for the connection");
		return;
	}
	client_finish(c, 1, "connect %s: %s", c->peer,
	    strerror(c->connect_errno));
}

/* The connection attempt has finished, failed or timed out. */
static void
client_connect_callback(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	socklen_t	 len = sizeof c->connect_errno;

	if (what & EV_TIMEOUT)
		c->connect_errno = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &c->connect_errno,
	    &len) == -1)
		c->connect_errno = errno;
	if (c->connect_errno != 0) {
		client_connect_next(c);
		return;
	}
	event_free(c->connect_ev);
	c->connect_ev = NULL;
	c->connect_fd = -1;
	client_connected(c, fd);
}

/*
 * Queue the PROXY header naming this connection's own two ends. Before a
 * TLS handshake (no bufferevent yet) it goes straight to the socket, in
 * the clear: a fresh socket's buffer takes it whole.
 */
static void
client_send_proxy(struct client *c, int fd)
{
	uint8_t	hdr[PROXY_V1_MAX];
	size_t	n;
	ssize_t	w;

	n = proxy_build(c->proxy, (struct sockaddr *)&c->local_sa,
	    (struct sockaddr *)&c->peer_sa, hdr, sizeof hdr);
	if (n == 0)
		fatalx("%s: cannot build a PROXY header for this connection",
		    c->peer);
	if (c->sock == NULL) {
		do {
			w = send(fd, hdr, n, MSG_NOSIGNAL);
		} while (w == -1 && errno == EINTR);
		if (w != (ssize_t)n)
			fatalx("%s: cannot send the PROXY header", c->peer);
		return;
	}
	if (bufferevent_write(c->sock, hdr, n) == -1)
		fatalx("cannot queue the PROXY header");
}

/*
 * The TCP connection is up: set up the socket's bufferevent (after the
 * TLS handshake, with --tls) and start the session.
 */
static void
client_connected(struct client *c, int fd)
{
	socklen_t	len;
	int		one = 1;

	/* Each line should leave at once; TCP_CORK still groups the end. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (c->verbose || c->proxy != PROXY_NONE) {
		len = sizeof c->local_sa;
		if (getsockname(fd, (struct sockaddr *)&c->local_sa,
		    &len) == -1)
			c->local_sa.ss_family = AF_UNSPEC;
		len = sizeof c->peer_sa;
		if (getpeername(fd, (struct sockaddr *)&c->peer_sa,
		    &len) == -1)
			c->peer_sa.ss_family = AF_UNSPEC;
	}
	if (c->tls) {
		/* The header goes first, in the clear, then the handshake. */
		if (c->proxy != PROXY_NONE)
			client_send_proxy(c, fd);
		client_tls_start(c, fd);
		return;
	}
	c->sock = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->sock == NULL)
		fatalx("cannot create bufferevents");
	/* The header goes first, ahead of anything the relay queues. */
	if (c->proxy != PROXY_NONE)
		client_send_proxy(c, fd);
	client_session_start(c);
}

/* Set up stdin's and stdout's bufferevents and start copying. */
void
client_session_start(struct client *c)
{
	c->in = bufferevent_socket_new(c->base, STDIN_FILENO, 0);
	c->out = bufferevent_socket_new(c->base, STDOUT_FILENO, 0);
	if (c->in == NULL || c->out == NULL)
		fatalx("cannot create bufferevents");
	client_stdout_nonblock(c);

	c->state = STATE_RUNNING;
	client_relay_start(c);
	if (!c->tls)
		client_narrate(c, "connected");
	if (c->interactive && !c->quiet) {
		if (c->tls)
			fprintf(stderr, "connected to %s (%s)\n", c->peer,
			    SSL_get_version(c->ssl));
		else
			fprintf(stderr, "connected to %s\n", c->peer);
		c->prompt_due = 1;
		client_prompt(c);
	}
}

/*
 * A blocking write to a full pipe would stall the whole loop, so a pipe
 * or socket on stdout is made non-blocking, and restored at exit (the
 * shell shares it): explicitly at the end of the run, and by an exit
 * handler on any other exit. The handler gets the flags themselves, so
 * it needs nothing that may be gone by then. Terminals and files are
 * left alone.
 */
static void
client_stdout_nonblock(struct client *c)
{
	struct stat	st;
	int		flags;

	if (fstat(STDOUT_FILENO, &st) == -1 ||
	    !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	flags = fcntl(STDOUT_FILENO, F_GETFL);
	if (flags == -1 || (flags & O_NONBLOCK) != 0)
		return;
	c->stdout_flags = flags;
	on_exit(client_stdout_restore_at_exit, (void *)(intptr_t)flags);
	fcntl(STDOUT_FILENO, F_SETFL, flags | O_NONBLOCK);
}

/* Give stdout back its blocking mode, which the shell shares with us. */
void
client_stdout_restore(struct client *c)
{
	if (c->stdout_flags != -1)
		fcntl(STDOUT_FILENO, F_SETFL, c->stdout_flags);
}

/* The exit handler: arg is stdout's flags as they were. */
static void
client_stdout_restore_at_exit(int status, void *arg)
{
	(void)status;
	fcntl(STDOUT_FILENO, F_SETFL, (int)(intptr_t)arg);
}

/*
 * Stop reading anything and exit with code once stdout has drained. The
 * message, if any, is printed last, after the replies before it.
 */
void
client_finish(struct client *c, int code, const char *fmt, ...)
{
	va_list	ap;

	if (c->state == STATE_DONE)
		return;
	c->state = STATE_DONE;
	c->exit_code = code;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(c->final, sizeof c->final, fmt, ap);
		va_end(ap);
	}
	if (c->in != NULL)
		bufferevent_disable(c->in, EV_READ);
	if (c->sock != NULL)
		bufferevent_disable(c->sock, EV_READ);
	client_exit_if_drained(c);
}

/* Leave the loop once finished and every reply is on stdout. */
void
client_exit_if_drained(struct client *c)
{
	if (c->state != STATE_DONE)
		return;
	if (c->out == NULL || evbuffer_get_length(bufferevent_get_output(
	    c->out)) == 0)
		event_base_loopbreak(c->base);
}

/* The one line that says how it ended, if any, off the prompt's line. */
static void
client_last_word(struct client *c)
{
	if (c->final[0] == '\0')
		return;
	if (c->prompt_shown)
		fputc('\n', stderr);
	if (c->final_note)
		fprintf(stderr, "%s\n", c->final);
	else
		log_warnx("%s", c->final);
}

/* ^C: stop at once. */
static void
client_sigint_callback(evutil_socket_t sig, short what, void *arg)
{
	struct client	*c = arg;

	(void)sig;
	(void)what;
	c->exit_code = 130;
	c->final[0] = '\0';
	event_base_loopbreak(c->base);
}
