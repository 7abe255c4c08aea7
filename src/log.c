/*
 * log.c - one line per event: timestamped to stderr in the foreground,
 * to syslog once the daemon has detached.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"

static int	 log_dest;
static int	 log_level = LOG_LEVEL_INFO;
static const char *log_name = "seqecho";

static void	 log_vwrite(int, const char *, const char *, va_list);
static void	 log_event_callback(int, const char *);

static const char *level_names[] = { "error", "warning", "info", "debug" };
static const int level_priorities[] = {
	LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG
};

/* Choose the destination; libevent's own warnings are routed here too. */
void
log_init(const char *name, int dest)
{
	log_name = name;
	log_dest = dest;
	if (dest == LOG_DEST_SYSLOG)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	event_set_log_callback(log_event_callback);
}

void
log_setlevel(int level)
{
	if (level < LOG_LEVEL_ERROR)
		level = LOG_LEVEL_ERROR;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

/* Workers read the level while the main thread may change it. */
int
log_getlevel(void)
{
	return (__atomic_load_n(&log_level, __ATOMIC_RELAXED));
}

/* Map a level name to its number, -1 if unknown. */
int
log_level_parse(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(name, level_names[i]) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Write one line; errno is kept so callers can log and then use it. */
static void
log_vwrite(int level, const char *suffix, const char *fmt, va_list ap)
{
	char		 msg[1024], stamp[32];
	struct timespec	 ts;
	struct tm	 tm;
	int		 saved_errno = errno;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_dest == LOG_DEST_SYSLOG) {
		if (suffix != NULL)
			syslog(level_priorities[level], "%s: %s", msg, suffix);
		else
			syslog(level_priorities[level], "%s", msg);
	} else if (log_dest == LOG_DEST_PLAIN) {
		fprintf(stderr, "%s: %s%s%s\n", log_name, msg,
		    suffix != NULL ? ": " : "", suffix != NULL ? suffix : "");
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s %s: %s%s%s\n", stamp,
		    ts.tv_nsec / 1000000, log_name, level_names[level], msg,
		    suffix != NULL ? ": " : "", suffix != NULL ? suffix : "");
	}
	errno = saved_errno;
}

/* An error the program survives, or reports before exiting itself. */
void
log_errorx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
}

/* Log at warning level with strerror(errno) appended. */
void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	if (log_getlevel() < LOG_LEVEL_WARNING)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARNING, strerror(errno), fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	if (log_getlevel() < LOG_LEVEL_WARNING)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_getlevel() < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_getlevel() < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

/* Log an error with strerror(errno) and exit 1. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, strerror(errno), fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log an error and exit 1. */
void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/* libevent's internal messages: keep its warnings and errors. */
static void
log_event_callback(int severity, const char *msg)
{
	if (severity == EVENT_LOG_DEBUG)
		log_debug("libevent: %s", msg);
	else if (severity == EVENT_LOG_MSG)
		log_info("libevent: %s", msg);
	else
		log_warnx("libevent: %s", msg);
}
