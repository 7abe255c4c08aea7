/*
 * log.h - timestamped lines to stderr in the foreground, syslog when detached.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_LOG_H
#define SEQECHO_LOG_H

#include <stdarg.h>

#define LOG_LEVEL_ERROR		0
#define LOG_LEVEL_WARNING	1
#define LOG_LEVEL_INFO		2
#define LOG_LEVEL_DEBUG		3

#define LOG_DEST_STDERR		0	/* timestamped lines */
#define LOG_DEST_SYSLOG		1
#define LOG_DEST_PLAIN		2	/* "name: message", for tools */

void	log_init(const char *, int);
void	log_setlevel(int);
int	log_getlevel(void);
int	log_level_parse(const char *);
void	log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#define log_enabled(l)	(log_getlevel() >= (l))

#endif
