/*
 * server-fds.c - the daemon's descriptor budget: raising the open file
 * limit for max_connections and what else is held, and fitting
 * max_connections (and the room for connections told the server is
 * full) to the limit there is.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */

#include "config.h"

#include <sys/resource.h>

#include <dirent.h>
#include <unistd.h>

#include "seqechod.h"
#include "http.h"

/*
 * Descriptors that come and go beside those counted: a reloaded file and
 * its includes, the resolver's, syslog's socket, the pid file.
 */
#define FD_SPARE		8
/* Descriptors each event base holds: epoll, its signal pipe, a wake-up. */
#define FD_PER_BASE		4
/*
 * Connections over the limit, told ERR too many connections, that may
 * linger at once (up to CONN_LINGER_SECS each): at least, at most.
 */
#define OVER_LIMIT_MIN		16
#define OVER_LIMIT_MAX		1024
/* The http endpoint's: its listener, its connections, a netlink socket. */
#define HTTP_FDS(cfg)	((cfg)->http[0] != '\0' ? HTTP_MAX_CONNS + 2 : 0)

static int	over_room(int);
static rlim_t	fd_limit_raise(rlim_t);

/*
 * Before anything is open: raise the open file limit for max_connections
 * and an estimate of the rest. server_listen counts what startup really
 * holds and fits max_connections to the limit.
 */
void
server_fd_limit(struct config *cfg)
{
	long	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int	nbases = cfg->workers > 0 ? cfg->workers :
		    (ncpu > 0 ? (int)ncpu : 1);
	rlim_t	want;

	want = (rlim_t)cfg->max_connections +
	    (rlim_t)over_room(cfg->max_connections) + FD_SPARE +
	    4 + (rlim_t)(nbases + 1) * FD_PER_BASE +
	    2 * listeners_wanted(cfg) + HTTP_FDS(cfg);
	fd_limit_raise(want);
}

/*
 * Each connection is a descriptor, and so is each over-limit one while
 * it lingers: make room for max_connections, the over-limit ones, what
 * is held besides (fixed: listeners, event bases, the reserve) and a
 * spare, or lower max_connections and say so, rather than hit EMFILE.
 * Returns how many over-limit connections may linger at once.
 */
int
fd_budget(struct config *cfg, int fixed)
{
	rlim_t	held, want, have, avail;
	int	room, fit;

	held = (rlim_t)fixed + FD_SPARE + HTTP_FDS(cfg);
	room = over_room(cfg->max_connections);
	want = (rlim_t)cfg->max_connections + room + held;
	if ((have = fd_limit_raise(want)) >= want)
		return (room);
	/* Share what there is: a quarter at most for the over-limit ones. */
	avail = have > held ? have - held : 0;
	if ((rlim_t)room > avail / 4)
		room = (int)(avail / 4);
	if (room < 1)
		room = 1;
	fit = avail > (rlim_t)room + 1 ? (int)(avail - (rlim_t)room) : 1;
	/* A smaller room may be all it takes: never raise the limit. */
	if (fit >= cfg->max_connections)
		return (room);
	cfg->max_connections = fit;
	log_warnx("open file limit is %llu: max_connections lowered to %d",
	    (unsigned long long)have, cfg->max_connections);
	return (room);
}

/* How many over-limit connections may linger beside max of them. */
static int
over_room(int max)
{
	int	room = max / 16;

	if (room < OVER_LIMIT_MIN)
		return (OVER_LIMIT_MIN);
	return (room > OVER_LIMIT_MAX ? OVER_LIMIT_MAX : room);
}

/* Raise the soft open file limit to want if it is lower; returns it. */
static rlim_t
fd_limit_raise(rlim_t want)
{
	struct rlimit	rl;

	/* A limit that cannot be read is none to fit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return (RLIM_INFINITY);
	if (rl.rlim_cur >= want)
		return (rl.rlim_cur);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_cur = rl.rlim_max;
	else
		rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 &&
	    getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return (RLIM_INFINITY);
	return (rl.rlim_cur);
}

/* What startup holds, should /proc not say: std*, the reserve, bases. */
int
fd_estimate(int nworkers)
{
	return (3 + 1 + (nworkers + 1) * FD_PER_BASE);
}

/* How many descriptors are open, or -1 if /proc cannot say. */
int
fd_count(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return (n - 1);		/* less the directory's own */
}
