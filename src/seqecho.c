/*
 * seqecho.c - the client: reads lines from stdin, sends them as they come
 * (pipelined), writes each reply to stdout as it arrives, and ends the
 * session the way -x asks, so the teardown can be watched with tcpdump.
 * With -S it connects nowhere: it counts the sockets on the port by state
 * (sockstat.c).
 *
 * Everything runs in one libevent loop with three bufferevents: the socket,
 * stdin and stdout. Each direction has a bounded buffer, and a full one
 * stops its producer: a slow stdout stops the socket being read, a slow
 * socket stops stdin being read.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "seqecho.h"

/* Buffered bytes past this stop the producer feeding that buffer... */
#define CLIENT_HIGH	(256 * 1024)
/* ...and it resumes once they fall to this. */
#define CLIENT_LOW	(64 * 1024)
/* An ERR line longer than this is cut short when printed. */
#define CLIENT_ERR_MAX	512
/* -w bounds, in seconds. */
#define WATCH_MIN	0.1
#define WATCH_MAX	86400

/* How the session ends (-x). */
enum end_mode {
	END_BYE,		/* bye and FIN in one segment: client closes first */
	END_SERVER,		/* bye, wait for the server's FIN, then close */
	END_HALF,		/* no bye, just the FIN */
	END_RST			/* no bye: once the replies are in, a RST */
};

enum client_state {
	STATE_CONNECTING,
	STATE_RUNNING,		/* copying stdin to the socket */
	STATE_ENDING,		/* stdin done; the end sequence under way */
	STATE_DONE		/* waiting only for stdout to drain */
};

/* Where the end sequence has got to. */
enum end_step {
	STEP_NONE,
	STEP_DRAIN,		/* waiting for our output to reach the kernel */
	STEP_BYE_SENT,		/* corked bye queued: shut down once it is out */
	STEP_FINISHED		/* nothing left to send */
};

/* The head of the line being scanned, to spot "bye" and "ERR ". */
struct scan {
	uint64_t	 len;		/* bytes of the line so far */
	char		 head[4];	/* its first bytes */
};

struct client {
	struct event_base	*base;
	struct config		 cfg;

	const char		*host;
	int			 port;
	int			 timeout;
	enum end_mode		 mode;
	int			 quiet;
	int			 verbose;
	int			 interactive;	/* stdin is a terminal */

	struct evutil_addrinfo	*ai;
	struct evutil_addrinfo	*ai_next;
	char			 peer[ADDRSTRLEN];
	struct sockaddr_storage	 local_sa;	/* for -v's last look */
	struct sockaddr_storage	 peer_sa;
	int			 connect_errno;
	int			 connect_fd;
	struct event		*connect_ev;

	struct bufferevent	*sock;
	struct bufferevent	*in;
	struct bufferevent	*out;
	struct event		*sigint;

	enum client_state	 state;
	enum end_step		 step;
	uint64_t		 sent;		/* messages sent */
	uint64_t		 received;	/* replies received */
	struct scan		 in_scan;
	size_t			 in_held;	/* stdin bytes held back */
	struct scan		 reply_scan;
	size_t			 reply_held;	/* reply bytes held back */
	int			 in_paused;
	int			 sock_paused;
	int			 prompt_due;
	int			 prompt_shown;	/* and nothing typed since */

	int			 exit_code;
	char			 final[CLIENT_ERR_MAX + 128];	/* last word */
	int			 final_note;	/* not an error: no prefix */
};

static int	 stdout_flags = -1;	/* to restore at exit */

static void	 usage(FILE *, int) __attribute__((noreturn));
static void	 stdout_restore(void);
static int	 parse_mode(const char *, enum end_mode *);
static int	 parse_interval(const char *, struct timeval *);
static int	 client_resolve(struct client *);
static void	 client_connect_next(struct client *);
static void	 client_connect_callback(evutil_socket_t, short, void *);
static void	 client_connected(struct client *, int);
static void	 client_finish(struct client *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
static void	 client_exit_if_drained(struct client *);
static void	 client_end(struct client *);
static void	 client_end_step(struct client *);
static void	 client_prompt(struct client *);
static void	 client_narrate(struct client *, const char *);
static void	 client_close(struct client *);
static void	 scan_add(struct scan *, const char *, size_t);
static int	 scan_is_bye(const struct scan *);
static int	 scan_may_be_bye(const struct scan *);
static int	 scan_may_be_err(const struct scan *);
static void	 input_forward(struct client *);
static void	 input_read_callback(struct bufferevent *, void *);
static void	 input_event_callback(struct bufferevent *, short, void *);
static void	 reply_forward(struct client *, int);
static void	 reply_error(struct client *, const char *, size_t, size_t);
static void	 sock_read_callback(struct bufferevent *, void *);
static void	 sock_write_callback(struct bufferevent *, void *);
static void	 sock_event_callback(struct bufferevent *, short, void *);
static void	 output_write_callback(struct bufferevent *, void *);
static void	 output_event_callback(struct bufferevent *, short, void *);
static void	 sigint_callback(evutil_socket_t, short, void *);

/* Print the synopsis and exit. */
static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: seqecho [-qvVh] [-c file] [-t seconds] [-x mode] "
	    "[host [port]]\n"
	    "       seqecho -S [-w seconds] [-c file] [--json] [port]\n");
	exit(code);
}

/* Give stdout back its blocking mode, which the shell shares with us. */
static void
stdout_restore(void)
{
	if (stdout_flags != -1)
		fcntl(STDOUT_FILENO, F_SETFL, stdout_flags);
}

/* Map a -x argument to its mode; -1 if unknown. */
static int
parse_mode(const char *s, enum end_mode *mode)
{
	if (strcmp(s, "bye") == 0)
		*mode = END_BYE;
	else if (strcmp(s, "server") == 0)
		*mode = END_SERVER;
	else if (strcmp(s, "half") == 0)
		*mode = END_HALF;
	else if (strcmp(s, "rst") == 0)
		*mode = END_RST;
	else
		return (-1);
	return (0);
}

/* A -w argument: seconds, fractions allowed, within the bounds. */
static int
parse_interval(const char *s, struct timeval *tv)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < WATCH_MIN || v > WATCH_MAX)
		return (-1);
	tv->tv_sec = (time_t)v;
	tv->tv_usec = (suseconds_t)((v - (double)tv->tv_sec) * 1e6 + 0.5);
	if (tv->tv_usec >= 1000000) {
		tv->tv_sec++;
		tv->tv_usec -= 1000000;
	}
	return (0);
}

/* Parse the options, connect, and run the loop until the session ends. */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct client		 c;
	struct event_config	*ecfg;
	struct timeval		 interval;
	const char		*conf = NULL, *port_arg = NULL, *other = NULL;
	const char		*watch = NULL;
	int			 ch, fd, sockstat = 0, json = 0;

	log_init("seqecho", LOG_DEST_PLAIN);
	memset(&c, 0, sizeof c);
	c.mode = END_BYE;
	c.timeout = -1;
	c.connect_fd = -1;

	while ((ch = getopt_long(argc, argv, "c:hqSt:vVw:x:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'j':
			json = 1;
			break;
		case 'q':
			c.quiet = 1;
			other = "-q";
			break;
		case 'S':
			sockstat = 1;
			break;
		case 'v':
			c.verbose = 1;
			other = "-v";
			break;
		case 't':
			if ((c.timeout = config_parse_int(optarg, 1, 3600)) == -1)
				fatalx("-t %s: must be 1..3600 seconds", optarg);
			other = "-t";
			break;
		case 'V':
			printf("seqecho %s\n", PACKAGE_VERSION);
			return (0);
		case 'w':
			if (parse_interval(optarg, &interval) == -1)
				fatalx("-w %s: must be %g..%d seconds", optarg,
				    WATCH_MIN, WATCH_MAX);
			watch = "-w";
			break;
		case 'x':
			if (parse_mode(optarg, &c.mode) == -1)
				fatalx("-x %s: must be bye, server, half or rst",
				    optarg);
			other = "-x";
			break;
		default:
			usage(stderr, 1);
		}
	}
	argc -= optind;
	argv += optind;
	if (sockstat && other != NULL)
		fatalx("%s cannot be used with -S", other);
	if (!sockstat && (watch != NULL || json))
		fatalx("%s needs -S", watch != NULL ? watch : "--json");
	if (argc > (sockstat ? 1 : 2))
		usage(stderr, 1);

	/* Arguments beat the file, the file beats the built-in defaults. */
	config_defaults(&c.cfg);
	if (config_load(&c.cfg, conf != NULL ? conf : SEQECHO_CONF,
	    conf == NULL) == -1) {
		config_free(&c.cfg);
		return (1);
	}
	if (sockstat) {
		c.port = c.cfg.client_port;
		config_free(&c.cfg);
		if (argc > 0 && (c.port = config_parse_port(argv[0])) < 1)
			fatalx("%s: port must be 1..65535", argv[0]);
		return (sockstat_run(c.port, watch != NULL ? &interval : NULL,
		    json));
	}
	c.host = argc > 0 ? argv[0] : c.cfg.client_address;
	c.port = c.cfg.client_port;
	if (argc > 1) {
		port_arg = argv[1];
		if ((c.port = config_parse_port(port_arg)) < 1)
			fatalx("%s: port must be 1..65535", port_arg);
	}
	if (c.timeout == -1)
		c.timeout = c.cfg.connect_timeout;

	/* A closed 0, 1 or 2 would otherwise be reused by the socket. */
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);

	/* A peer's RST must show as an error, not kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	c.interactive = isatty(STDIN_FILENO);

	/*
	 * epoll refuses regular files and /dev/null (EPERM), and stdin or
	 * stdout may well be one; poll takes anything and, with three
	 * descriptors, costs nothing more.
	 */
	if ((ecfg = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	event_config_avoid_method(ecfg, "epoll");
	c.base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (c.base == NULL)
		fatalx("event_base_new failed");

	c.sigint = evsignal_new(c.base, SIGINT, sigint_callback, &c);
	if (c.sigint == NULL || event_add(c.sigint, NULL) == -1)
		fatalx("cannot catch SIGINT");

	if (client_resolve(&c) == 0) {
		client_connect_next(&c);
		if (c.state != STATE_DONE)
			event_base_dispatch(c.base);
	}

	/* Before the last word: stderr may share stdout's file description. */
	stdout_restore();
	/* Closing narrates the end, which comes before any last word. */
	client_close(&c);

	/* Not on the prompt's line. */
	if (c.final[0] != '\0' && c.prompt_shown)
		fputc('\n', stderr);
	if (c.final[0] != '\0' && c.final_note)
		fprintf(stderr, "%s\n", c.final);
	else if (c.final[0] != '\0')
		log_warnx("%s", c.final);

	if (c.connect_ev != NULL)
		event_free(c.connect_ev);
	if (c.connect_fd != -1)
		close(c.connect_fd);
	if (c.in != NULL)
		bufferevent_free(c.in);
	if (c.out != NULL)
		bufferevent_free(c.out);
	event_free(c.sigint);
	event_base_free(c.base);
	if (c.ai != NULL)
		evutil_freeaddrinfo(c.ai);
	config_free(&c.cfg);
	return (c.exit_code);
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

/* Set up the three bufferevents and start copying. */
static void
client_connected(struct client *c, int fd)
{
	struct stat	st;
	socklen_t	len;
	int		one = 1;

	/* Each line should leave at once; TCP_CORK still groups the end. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

	c->sock = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->in = bufferevent_socket_new(c->base, STDIN_FILENO, 0);
	c->out = bufferevent_socket_new(c->base, STDOUT_FILENO, 0);
	if (c->sock == NULL || c->in == NULL || c->out == NULL)
		fatalx("cannot create bufferevents");

	/*
	 * A blocking write to a full pipe would stall the whole loop, so a
	 * pipe or socket on stdout is made non-blocking (and restored at
	 * exit: the shell shares it). Terminals and files are left alone.
	 */
	if (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		stdout_flags = fcntl(STDOUT_FILENO, F_GETFL);
		if (stdout_flags != -1 && (stdout_flags & O_NONBLOCK) == 0) {
			atexit(stdout_restore);
			fcntl(STDOUT_FILENO, F_SETFL, stdout_flags | O_NONBLOCK);
		} else
			stdout_flags = -1;
	}

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

	c->state = STATE_RUNNING;
	if (c->verbose) {
		len = sizeof c->local_sa;
		if (getsockname(fd, (struct sockaddr *)&c->local_sa,
		    &len) == -1)
			c->local_sa.ss_family = AF_UNSPEC;
		len = sizeof c->peer_sa;
		if (getpeername(fd, (struct sockaddr *)&c->peer_sa,
		    &len) == -1)
			c->peer_sa.ss_family = AF_UNSPEC;
	}
	client_narrate(c, "connected");
	if (c->interactive && !c->quiet) {
		fprintf(stderr, "connected to %s\n", c->peer);
		c->prompt_due = 1;
		client_prompt(c);
	}
}

/*
 * Stop reading anything and exit with code once stdout has drained. The
 * message, if any, is printed last, after the replies before it.
 */
static void
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
static void
client_exit_if_drained(struct client *c)
{
	if (c->state != STATE_DONE)
		return;
	if (c->out == NULL || evbuffer_get_length(bufferevent_get_output(
	    c->out)) == 0)
		event_base_loopbreak(c->base);
}

/* Stdin is done (end of file or "bye"): start ending the session. */
static void
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
static void
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
			shutdown(fd, SHUT_WR);
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
		shutdown(fd, SHUT_WR);
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
		c->step = STEP_FINISHED;
		client_narrate(c, "sent bye and half-closed");
		break;
	default:
		break;
	}
}

/* On a terminal, prompt once the replies owed are all on stdout. */
static void
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
 * -v: what the kernel says of our socket (TCP_INFO), so the states of the
 * teardown can be followed from this end. The names are those of -S.
 */
static void
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
static void
client_close(struct client *c)
{
	char	 theirs_note[64] = "";
	int	 fd, ours, theirs;

	if (c->sock == NULL)
		return;
	/*
	 * libevent closes a freed bufferevent's socket only when it next
	 * runs its finalizers; close it now, so that what -v reports next
	 * (and the RST of -x rst) is the close's doing.
	 */
	fd = bufferevent_getfd(c->sock);
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

/* Note up to four bytes of the line's head and count its length. */
static void
scan_add(struct scan *s, const char *p, size_t n)
{
	while (n > 0 && s->len < sizeof s->head) {
		s->head[s->len++] = *p++;
		n--;
	}
	s->len += n;
}

/* Is the complete line "bye"? The server drops a CR before the LF. */
static int
scan_is_bye(const struct scan *s)
{
	return ((s->len == 3 && memcmp(s->head, "bye", 3) == 0) ||
	    (s->len == 4 && memcmp(s->head, "bye\r", 4) == 0));
}

/* Could the line so far still turn out to be "bye"? */
static int
scan_may_be_bye(const struct scan *s)
{
	return (s->len <= 4 && memcmp(s->head, "bye\r", s->len) == 0);
}

/* Could the line so far begin with "ERR "? (It does once len >= 4.) */
static int
scan_may_be_err(const struct scan *s)
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
	struct evbuffer	*in = bufferevent_get_input(c->in);
	struct evbuffer	*out = bufferevent_get_output(c->sock);
	struct scan	*s = &c->in_scan;
	const char	*p, *lf;
	size_t		 n, i, fwd = 0, seg;

	n = evbuffer_get_length(in);
	if (n == c->in_held)
		return;
	/* At most one read (4 KiB) and a held "bye\r": cheap to pull up. */
	if ((p = (const char *)evbuffer_pullup(in, -1)) == NULL)
		fatalx("out of memory");

	for (i = c->in_held; i < n; i = i + seg + 1) {
		lf = memchr(p + i, '\n', n - i);
		seg = lf != NULL ? (size_t)(lf - (p + i)) : n - i;
		scan_add(s, p + i, seg);
		if (lf == NULL)
			break;
		/* CR before LF is dropped by the server, so bye\r is bye. */
		if (scan_is_bye(s)) {
			evbuffer_remove_buffer(in, out, i + seg - s->len);
			evbuffer_drain(in, evbuffer_get_length(in));
			c->in_held = 0;
			client_end(c);
			return;
		}
		c->sent++;
		s->len = 0;
		fwd = i + seg + 1;
	}
	if (s->len > 0 && !scan_may_be_bye(s))
		fwd = n;
	evbuffer_remove_buffer(in, out, fwd);
	c->in_held = n - fwd;

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
	struct client	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct scan	*s = &c->in_scan;

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
		c->in_held = 0;
	}
	client_end(c);
}

/*
 * Move complete replies to stdout, counting them. A line that may still
 * turn out to begin "ERR " is held back until it is complete; anything
 * else is passed on as it comes. At the server's end of stream (eof set)
 * whatever is held is passed on too.
 */
static void
reply_forward(struct client *c, int eof)
{
	struct evbuffer	*in = bufferevent_get_input(c->sock);
	struct evbuffer	*out = bufferevent_get_output(c->out);
	struct scan	*s = &c->reply_scan;
	const char	*p = NULL, *lf;
	size_t		 n, i, fwd = 0, seg;

	n = evbuffer_get_length(in);
	if (n == c->reply_held && !eof)
		return;
	if (n > 0 && (p = (const char *)evbuffer_pullup(in, -1)) == NULL)
		fatalx("out of memory");

	for (i = c->reply_held; i < n; i = i + seg + 1) {
		lf = memchr(p + i, '\n', n - i);
		seg = lf != NULL ? (size_t)(lf - (p + i)) : n - i;
		scan_add(s, p + i, seg);
		if (lf == NULL)
			break;
		if (s->len >= 4 && scan_may_be_err(s)) {
			/* A held line starts where forwarding stopped. */
			reply_error(c, p, fwd, s->len);
			return;
		}
		c->received++;
		s->len = 0;
		fwd = i + seg + 1;
	}
	if (s->len > 0 && !scan_may_be_err(s))
		fwd = n;
	else if (s->len > 0 && (eof || n - fwd > CLIENT_ERR_MAX)) {
		/* An ERR line cut off by the close, or absurdly long. */
		if (s->len >= 4) {
			reply_error(c, p, fwd, n - fwd);
			return;
		}
		fwd = n;
	}
	evbuffer_remove_buffer(in, out, fwd);
	c->reply_held = n - fwd;

	if (c->sent == c->received)
		c->prompt_due = c->interactive && !c->quiet;
	if (evbuffer_get_length(out) >= CLIENT_HIGH && c->sock != NULL) {
		bufferevent_disable(c->sock, EV_READ);
		c->sock_paused = 1;
	}
}

/*
 * The server sent "ERR reason" at offset off of the socket's input (p is
 * that input pulled up): pass the replies before it to stdout, then print
 * it (without its LF, anything unprintable made visible) and exit 1.
 */
static void
reply_error(struct client *c, const char *p, size_t off, size_t len)
{
	struct evbuffer	*in = bufferevent_get_input(c->sock);
	char		 msg[CLIENT_ERR_MAX + 1];
	const char	*line = p + off;
	size_t		 i;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > CLIENT_ERR_MAX)
		len = CLIENT_ERR_MAX;
	for (i = 0; i < len; i++)
		msg[i] = line[i] >= ' ' && line[i] <= '~' ? line[i] : '?';
	msg[len] = '\0';

	/* Moving the buffer invalidates p: the line is copied by now. */
	evbuffer_remove_buffer(in, bufferevent_get_output(c->out), off);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->reply_held = 0;
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
 * The server closed, reset the connection, or it failed. A close with
 * nothing owed is the normal end; so is a reset then, since nothing was
 * lost (a sloppy server resets when it closes with our bye unread).
 */
static void
sock_event_callback(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	uint64_t	 owed;
	const char	*how = "closed";
	int		 error;

	(void)bev;
	if (c->state == STATE_DONE)
		return;
	if (what & BEV_EVENT_ERROR) {
		error = EVUTIL_SOCKET_ERROR();
		if (error != ECONNRESET && error != EPIPE) {
			client_finish(c, 1, "%s: %s", c->peer, strerror(error));
			return;
		}
		how = "reset";
	} else if ((what & BEV_EVENT_EOF) == 0)
		return;

	reply_forward(c, 1);
	if (c->state == STATE_DONE)
		return;
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
		stdout_restore();
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	/* Nothing more can be shown: leave now, whatever was under way. */
	c->state = STATE_DONE;
	c->exit_code = 1;
	snprintf(c->final, sizeof c->final, "stdout: %s", strerror(error));
	event_base_loopbreak(c->base);
}

/* ^C: stop at once. */
static void
sigint_callback(evutil_socket_t sig, short what, void *arg)
{
	struct client	*c = arg;

	(void)sig;
	(void)what;
	c->exit_code = 130;
	c->final[0] = '\0';
	event_base_loopbreak(c->base);
}
