/*
 * confscan.h - a scanner of seqecho.conf's text that follows libconfig
 * 1.5's lexical rules, for what libconfig does not say itself.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_CONFSCAN_H
#define SEQECHO_CONFSCAN_H

#include <stddef.h>

#define CONFSCAN_NAME_MAX	64

/* A number libconfig 1.5 would wrap, and the setting it is given to. */
struct confscan_overflow {
	int		 name_line;	/* where the setting's name is */
	int		 line;		/* where the number is */
	char		 name[CONFSCAN_NAME_MAX];
};

/* Where libconfig's own error really is. */
struct confscan_diag {
	/* The first setting named twice in one group, or line 0. */
	int		 dup_line;
	int		 dup_first_line;
	char		 dup_name[CONFSCAN_NAME_MAX];

	/* The first string or comment not closed on its line, or line 0. */
	int		 open_line;
	int		 open_closed;	/* closed, but on a later line */
	const char	*open_what;	/* "string" or "comment" */
	char		 open_name[CONFSCAN_NAME_MAX];	/* setting, or "" */
};

size_t		 confscan_overflows(const char *, struct confscan_overflow **);
void		 confscan_diagnose(const char *, struct confscan_diag *);

#endif
