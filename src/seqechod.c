/*
 * seqechod.c - the daemon's main: options, configuration, detaching,
 * signals, and the event loop.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "seqechod.h"

static void	usage(void) __attribute__((noreturn));
static void	signal_callback(evutil_socket_t, short, void *);
static int	detach_begin(void);
static void	detach_finish(int);
static void	signals_block(int);
static void	pidfile_write(const char *);
static void	pidfile_remove(void);

static struct server	*server;
/* The pid file, absolute, held locked while we run; removed at exit. */
static char		*pidfile_path;
static const int	 signos[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };

static void
usage(void)
{
	fprintf(stderr, "usage: seqechod [-dtvVh] [-c file] [-a address] "
	    "[-p port]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct daemon_options	 opts = { SEQECHO_CONF, 1, NULL, -1, 0 };
	struct config		 cfg;
	struct event_base	*base;
	char			*conf_path = NULL, why[512];
	struct event		*sigs[sizeof signos / sizeof signos[0]];
	int			 ch, check = 0, detach = 0, ready_fd = -1;
	size_t			 i;

	while ((ch = getopt(argc, argv, "a:c:dhp:tvV")) != -1) {
		switch (ch) {
		case 'a':
			if (config_check_address(optarg, why, sizeof why) ==
			    -1) {
				fprintf(stderr, "seqechod: -a: %s\n", why);
				exit(1);
			}
			opts.address = optarg;
			break;
		case 'c':
			/* Absolute, so reloads find it after -d's chdir. */
			free(conf_path);
			conf_path = config_path_absolute(optarg);
			if (conf_path == NULL) {
				fprintf(stderr, "seqechod: getcwd: %s\n",
				    strerror(errno));
				exit(1);
			}
			opts.conf_path = conf_path;
			opts.conf_optional = 0;
			break;
		case 'd':
			detach = 1;
			break;
		case 'h':
			fprintf(stdout, "usage: seqechod [-dtvVh] [-c file] "
			    "[-a address] [-p port]\n");
			exit(0);
		case 'p':
			if ((opts.port = config_parse_port(optarg)) == -1) {
				fprintf(stderr, "seqechod: -p %s: must be "
				    "0..65535\n", optarg);
				exit(1);
			}
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'V':
			printf("seqechod %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/*
	 * Until the loop catches them, signals wait: a SIGHUP while starting
	 * must not kill us. Threads started meanwhile keep them blocked, so
	 * they all come to the main thread.
	 */
	signals_block(1);
	log_init("seqechod", LOG_DEST_STDERR);
	if (daemon_load_config(&cfg, &opts) == -1)
		exit(1);
	log_setlevel(cfg.log_level + opts.verbose);
	if (check) {
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}

	/*
	 * A pipelining client's input and replies go through buffers of up
	 * to 128 KiB, allocated and freed batch after batch. With glibc's
	 * default thresholds that memory went back to the kernel each time,
	 * and W4 (1 KiB messages, 64 in flight) spent a third of its time in
	 * page faults: 740 MB/s at 73% CPU, against 950 MB/s at 47% with
	 * these (bench/RESULTS.md has the runs).
	 */
#ifdef M_MMAP_THRESHOLD
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
#endif

	/* A peer that has gone must not kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	server_fd_limit(&cfg);

	/* Fork before any event base exists; the parent waits for binding. */
	if (detach) {
		ready_fd = detach_begin();
		if (cfg.pidfile[0] != '\0')
			pidfile_write(cfg.pidfile);
	}

	if (evthread_use_pthreads() == -1)
		fatalx("cannot set up libevent threads");
	if ((base = event_base_new()) == NULL)
		fatalx("cannot create an event base");
	server = server_new(base, &cfg, &opts);
	for (i = 0; i < sizeof signos / sizeof signos[0]; i++) {
		sigs[i] = evsignal_new(base, signos[i], signal_callback, NULL);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot catch signal %d", signos[i]);
	}
	if (server_listen(server) == -1)
		exit(1);
	signals_block(0);

	server_notify("READY=1");
	if (detach)
		detach_finish(ready_fd);

	event_base_dispatch(base);

	log_info("exiting");
	server_free(server);
	for (i = 0; i < sizeof signos / sizeof signos[0]; i++)
		event_free(sigs[i]);
	event_base_free(base);
	config_free(&cfg);
	free(conf_path);
	libevent_global_shutdown();
	return (0);
}

/*
 * The daemon's configuration: the defaults, the file, then -a and -p,
 * which name the one listener server.listen would replace; then
 * cfg->listens holds every listener. On error cfg still holds a valid
 * configuration to free.
 */
int
daemon_load_config(struct config *cfg, const struct daemon_options *opts)
{
	config_defaults(cfg);
	if (config_load_server(cfg, opts->conf_path, opts->conf_optional) ==
	    -1)
		return (-1);
	if (cfg->nlistens > 0 && (opts->address != NULL || opts->port != -1)) {
		log_errorx("-a/-p cannot be used with server.listen");
		return (-1);
	}
	if (opts->address != NULL)
		config_set_address(cfg, opts->address);
	if (opts->port != -1)
		cfg->port = opts->port;
	config_effective_listeners(cfg);
	return (0);
}

static void
signal_callback(evutil_socket_t signo, short what, void *arg)
{
	(void)what;
	(void)arg;
	switch (signo) {
	case SIGINT:
	case SIGTERM:
		server_shutdown(server);
		break;
	case SIGHUP:
		server_reload(server);
		break;
	case SIGUSR1:
		server_log_stats(server);
		break;
	}
}

/*
 * Fork; the parent exits 0 once the child reports it is serving, or 1 if
 * the child dies first, so errors still reach the terminal.
 */
static int
detach_begin(void)
{
	int	fds[2], status;
	char	byte;
	pid_t	pid;

	if (pipe(fds) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid != 0) {
		close(fds[1]);
		if (read(fds[0], &byte, 1) == 1)
			_exit(0);
		waitpid(pid, &status, 0);
		_exit(1);
	}
	close(fds[0]);
	if (setsid() == -1)
		fatal("setsid");
	return (fds[1]);
}

/* Serving: let the parent go, and drop the terminal. */
static void
detach_finish(int ready_fd)
{
	int	fd;

	if (chdir("/") == -1)
		fatal("chdir /");
	log_init("seqechod", LOG_DEST_SYSLOG);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(ready_fd, "", 1) != 1)
		fatal("write");
	close(ready_fd);
}

/* Hold back (or let through) the signals the loop handles. */
static void
signals_block(int block)
{
	sigset_t	set;
	size_t		i;

	sigemptyset(&set);
	for (i = 0; i < sizeof signos / sizeof signos[0]; i++)
		sigaddset(&set, signos[i]);
	if (sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
}

/*
 * Write our pid, holding the file locked while we run so that a second
 * daemon on the same file fails instead of overwriting it. The file is
 * removed at any exit, fatal ones included.
 */
static void
pidfile_write(const char *path)
{
	char	buf[32];
	int	fd, len;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		fatal("pidfile %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("pidfile %s: in use by another seqechod", path);
		fatal("pidfile %s", path);
	}
	if ((pidfile_path = config_path_absolute(path)) == NULL)
		pidfile_path = xstrdup(path);
	atexit(pidfile_remove);
	len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, (size_t)len) != len)
		fatal("pidfile %s", path);
	/* fd stays open: the lock lasts as long as we do. */
}

static void
pidfile_remove(void)
{
	if (pidfile_path != NULL)
		unlink(pidfile_path);
}
