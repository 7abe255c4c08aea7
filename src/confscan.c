/*
 * confscan.c - walk seqecho.conf's text token by token, as libconfig 1.5's
 * scanner does, to find what its parser hides or misplaces: integers it
 * wraps, the name of a setting given twice, and the line where a string
 * or comment that never ends began.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confscan.h"
#include "log.h"

enum tok_kind {
	TOK_END,
	TOK_NAME,
	TOK_NUMBER,
	TOK_STRING,
	TOK_COMMENT,		/* a block comment; line comments are skipped */
	TOK_PUNCT
};

struct tok {
	enum tok_kind	 kind;
	const char	*start;
	size_t		 len;
	int		 line;		/* where it begins */
	int		 end_line;	/* where it ends */
	int		 closed;	/* a string or comment was closed */
	int		 wrapped;	/* a number libconfig 1.5 would wrap */
};

struct scanner {
	const char	*p;
	int		 line;
};

/* A setting name seen in a group, for finding one given twice. */
struct seen {
	size_t		 scope;
	const char	*name;
	size_t		 len;
	int		 line;
};

/* An open group, list or array. */
struct scope {
	size_t		 id;
	int		 group;		/* its elements are named settings */
};

/* The names of the settings in the groups open at one point. */
struct scopes {
	struct scope	*stack;		/* innermost last */
	size_t		 depth;
	size_t		 next;		/* the next group's number */
	struct seen	*seen;
	size_t		 nseen;
};

static void	scan_next(struct scanner *, struct tok *);
static void	scan_block(struct scanner *, struct tok *, const char *);
static void	scan_number(struct scanner *, struct tok *);
static size_t	exponent_len(const char *);
static int	is_name_start(int);
static int	is_name_char(int);
static void	tok_name(const struct tok *, char *);
static void	scopes_open(struct scopes *, int);
static int	scopes_add(struct scopes *, const struct tok *,
		    struct confscan_diag *);

static int
is_name_start(int ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    ch == '*');
}

static int
is_name_char(int ch)
{
	return (is_name_start(ch) || (ch >= '0' && ch <= '9') || ch == '_' ||
	    ch == '-');
}

/* Copy a token's text into a CONFSCAN_NAME_MAX buffer, cut if longer. */
static void
tok_name(const struct tok *t, char *name)
{
	size_t	n = t->len;

	if (n >= CONFSCAN_NAME_MAX)
		n = CONFSCAN_NAME_MAX - 1;
	memcpy(name, t->start, n);
	name[n] = '\0';
}

/* The next token; whitespace, line comments and stray bytes are skipped. */
static void
scan_next(struct scanner *sc, struct tok *t)
{
	const char	*p;

	memset(t, 0, sizeof *t);
	for (;;) {
		p = sc->p;
		t->start = p;
		t->line = t->end_line = sc->line;
		if (*p == '\0') {
			t->kind = TOK_END;
			return;
		}
		if (*p == '\n') {
			sc->line++;
			sc->p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*sc->p != '\0' && *sc->p != '\n')
				sc->p++;
		} else if (p[0] == '/' && p[1] == '*') {
			scan_block(sc, t, "*/");
			return;
		} else if (*p == '"') {
			scan_block(sc, t, "\"");
			return;
		} else if (is_name_start((unsigned char)*p)) {
			while (is_name_char((unsigned char)*sc->p))
				sc->p++;
			t->kind = TOK_NAME;
			t->len = (size_t)(sc->p - p);
			return;
		} else if ((*p >= '0' && *p <= '9') || *p == '.' ||
		    ((*p == '-' || *p == '+') && ((p[1] >= '0' &&
		    p[1] <= '9') || p[1] == '.'))) {
			scan_number(sc, t);
			return;
		} else if (strchr("=:;,{}()[]", *p) != NULL) {
			t->kind = TOK_PUNCT;
			t->len = 1;
			sc->p++;
			return;
		} else
			sc->p++;
	}
}

/* A string (closed by '"', with escapes) or a block comment ("*" "/"). */
static void
scan_block(struct scanner *sc, struct tok *t, const char *end)
{
	const char	*p = sc->p;
	size_t		 endlen = strlen(end);
	int		 string = end[0] == '"';

	t->kind = string ? TOK_STRING : TOK_COMMENT;
	for (p += string ? 1 : 2; *p != '\0'; p++) {
		if (strncmp(p, end, endlen) == 0) {
			t->closed = 1;
			p += endlen;
			break;
		}
		if (string && *p == '\\' && p[1] != '\0' && p[1] != '\n')
			p++;
		else if (*p == '\n')
			sc->line++;
	}
	t->end_line = sc->line;
	t->len = (size_t)(p - sc->p);
	sc->p = p;
}

/* How many of p's bytes are an exponent, [eE][-+]?[0-9]+, or 0. */
static size_t
exponent_len(const char *p)
{
	size_t	n = 1;

	if (*p != 'e' && *p != 'E')
		return (0);
	if (p[n] == '-' || p[n] == '+')
		n++;
	if (!(p[n] >= '0' && p[n] <= '9'))
		return (0);
	while (p[n] >= '0' && p[n] <= '9')
		n++;
	return (n);
}

/*
 * A number, taken as libconfig 1.5's scanner takes it, the longest match:
 * a float ([-+]?[0-9]*\.[0-9]*, or digits with an exponent), a hex
 * integer, or a decimal one, either with an L (int64). An integer without
 * its L is read into an int, so 4294968530 silently becomes 1234: note
 * whether this one would not fit in 32 bits.
 */
static void
scan_number(struct scanner *sc, struct tok *t)
{
	const char		*p = sc->p, *d = p;
	size_t			 digits = 0, len;
	int			 integer = 1;
	unsigned long long	 u;
	long long		 v;

	t->kind = TOK_NUMBER;
	if (*d == '-' || *d == '+')
		d++;
	while (d[digits] >= '0' && d[digits] <= '9')
		digits++;
	if (d[digits] == '.' || (digits > 0 && exponent_len(d + digits))) {
		integer = 0;
		len = (size_t)(d - p) + digits;
		if (p[len] == '.')
			for (len++; p[len] >= '0' && p[len] <= '9'; len++)
				;
		len += exponent_len(p + len);
	} else if (d == p && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2])) {
		errno = 0;
		u = strtoull(p, NULL, 16);
		t->wrapped = errno == ERANGE || u > 0xffffffffULL;
		for (len = 2; isxdigit((unsigned char)p[len]); len++)
			;
	} else {
		errno = 0;
		v = strtoll(p, NULL, 10);
		t->wrapped = errno == ERANGE || v < INT_MIN || v > INT_MAX;
		len = (size_t)(d - p) + digits;
	}
	if (integer && p[len] == 'L') {
		t->wrapped = 0;
		len += p[len + 1] == 'L' ? 2 : 1;
	}
	t->len = len;
	sc->p = p + len;
}

/*
 * Every integer in text that libconfig 1.5 would wrap, with the name of the
 * setting it is given to; those settings are then reported out of range
 * whatever value they got. Returns how many, in *out (free it).
 */
size_t
confscan_overflows(const char *text, struct confscan_overflow **out)
{
	struct scanner		 sc = { text, 1 };
	struct tok		 t;
	char			 name[CONFSCAN_NAME_MAX] = "";
	size_t			 n = 0;
	int			 name_line = 0;

	*out = NULL;
	for (scan_next(&sc, &t); t.kind != TOK_END; scan_next(&sc, &t)) {
		if (t.kind == TOK_NAME) {
			tok_name(&t, name);
			name_line = t.line;
		}
		if (t.kind != TOK_NUMBER || !t.wrapped)
			continue;
		if ((*out = realloc(*out, (n + 1) * sizeof **out)) == NULL)
			fatalx("out of memory");
		(*out)[n].line = t.line;
		(*out)[n].name_line = name_line;
		memcpy((*out)[n].name, name, sizeof name);
		n++;
	}
	return (n);
}

/* A group, list or array begins: its settings are a new scope. */
static void
scopes_open(struct scopes *sc, int group)
{
	sc->stack = realloc(sc->stack, (sc->depth + 1) * sizeof *sc->stack);
	if (sc->stack == NULL)
		fatalx("out of memory");
	sc->stack[sc->depth].id = ++sc->next;
	sc->stack[sc->depth++].group = group;
}

/* Note a setting's name; 1 if its group already had one so named. */
static int
scopes_add(struct scopes *sc, const struct tok *name,
    struct confscan_diag *d)
{
	size_t	scope = sc->depth > 0 ? sc->stack[sc->depth - 1].id : 0, i;

	for (i = 0; i < sc->nseen; i++) {
		if (sc->seen[i].scope == scope && sc->seen[i].len ==
		    name->len && memcmp(sc->seen[i].name, name->start,
		    name->len) == 0) {
			d->dup_line = name->line;
			d->dup_first_line = sc->seen[i].line;
			tok_name(name, d->dup_name);
			return (1);
		}
	}
	sc->seen = realloc(sc->seen, (sc->nseen + 1) * sizeof *sc->seen);
	if (sc->seen == NULL)
		fatalx("out of memory");
	sc->seen[sc->nseen].scope = scope;
	sc->seen[sc->nseen].name = name->start;
	sc->seen[sc->nseen].len = name->len;
	sc->seen[sc->nseen].line = name->line;
	sc->nseen++;
	return (0);
}

/*
 * After libconfig failed to parse text: find the first setting named twice
 * in one group (libconfig says "duplicate setting name" without the name),
 * and the first string or comment not closed on the line it began on
 * (libconfig reports an unclosed one at the end of the file). Only called
 * on a bad file, so the quadratic search for names does not matter.
 *
 * In a group (or at the top), every name is a setting's, but a value's
 * true or false: libconfig adds the setting, and finds it is there twice,
 * as soon as it has read the name, whatever follows.
 */
void
confscan_diagnose(const char *text, struct confscan_diag *d)
{
	struct scanner	 sc = { text, 1 };
	struct scopes	 scopes = { NULL, 0, 0, NULL, 0 };
	struct tok	 t;
	char		 setting[CONFSCAN_NAME_MAX] = "";
	int		 dup_found = 0, value = 0;

	memset(d, 0, sizeof *d);
	for (scan_next(&sc, &t); t.kind != TOK_END; scan_next(&sc, &t)) {
		if ((t.kind == TOK_STRING || t.kind == TOK_COMMENT) &&
		    d->open_line == 0 && (!t.closed || t.end_line != t.line)) {
			d->open_line = t.line;
			d->open_closed = t.closed;
			d->open_what = t.kind == TOK_STRING ? "string" :
			    "comment";
			if (t.kind == TOK_STRING)
				memcpy(d->open_name, setting, sizeof setting);
		}
		if (t.kind == TOK_COMMENT)
			continue;
		if (t.kind == TOK_NAME && !value && (scopes.depth == 0 ||
		    scopes.stack[scopes.depth - 1].group)) {
			tok_name(&t, setting);
			if (!dup_found)
				dup_found = scopes_add(&scopes, &t, d);
		} else if (t.kind == TOK_PUNCT && strchr("{([", *t.start))
			scopes_open(&scopes, *t.start == '{');
		else if (t.kind == TOK_PUNCT && strchr("})]", *t.start) &&
		    scopes.depth > 0)
			scopes.depth--;
		value = t.kind == TOK_PUNCT && strchr("=:", *t.start);
	}
	free(scopes.stack);
	free(scopes.seen);
}
