/*
 * confvalue.c - one setting's value, checked: an integer in its range
 * (catching what libconfig wrapped), a string, one of a list of names, a
 * list of strings. Errors name the file, the line and the setting.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "confscan.h"
#include "confload.h"
#include "seqecho.h"

static int	 overflowed(const struct loader *, int, const char *);

/*
 * An integer setting, min..max, into *out; 0, or -1 having said why. A
 * number libconfig wrapped is out of range whatever it became.
 */
int
config_get_int(struct loader *ld, config_setting_t *s, const char *name,
    long long min, long long max, int *out)
{
	long long	v;
	int		type = config_setting_type(s);
	int		line = config_setting_source_line(s);

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		config_error(ld, line, name, "must be an integer");
		return (-1);
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max || overflowed(ld, line, name)) {
		config_error(ld, line, name, "must be %lld..%lld", min, max);
		return (-1);
	}
	*out = (int)v;
	return (0);
}

/* A string setting within its length and without a newline; 0 or -1. */
int
config_get_string(struct loader *ld, config_setting_t *s, const char *name,
    long long min, long long max, const char **str)
{
	int	line = config_setting_source_line(s);

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_error(ld, line, name, "must be a string");
		return (-1);
	}
	*str = config_setting_get_string(s);
	if ((long long)strlen(*str) < min ||
	    (long long)strlen(*str) > max) {
		config_error(ld, line, name,
		    "must be %lld to %lld bytes long", min, max);
		return (-1);
	}
	if (strchr(*str, '\n') != NULL) {
		config_error(ld, line, name, "must not contain a newline");
		return (-1);
	}
	return (0);
}

/* A name from the setting's choices, its value into *out. */
void
config_get_choice(struct loader *ld, config_setting_t *s, const char *name,
    const struct choice *choices, int *out)
{
	const struct choice	*c;
	char			 names[256];
	const char		*str = NULL;
	size_t			 n = 0;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		str = config_setting_get_string(s);
	for (c = choices; str != NULL && c->name != NULL; c++) {
		if (strcmp(str, c->name) == 0) {
			*out = c->value;
			return;
		}
	}
	/* must be "a", "b" or "c" */
	names[0] = '\0';
	for (c = choices; c->name != NULL; c++, n++)
		;
	for (c = choices; c->name != NULL; c++, n--)
		snprintf(names + strlen(names), sizeof names - strlen(names),
		    "%s\"%s\"", c == choices ? "" : n == 1 ? " or " :
		    ", ", c->name);
	config_error(ld, config_setting_source_line(s), name,
	    "must be %s", names);
}

/*
 * A string or a list of strings (an address setting), copied into *out;
 * 0, or -1 having said why. An empty list is an error unless allowed.
 */
int
config_get_strings(struct loader *ld, config_setting_t *s, const char *name,
    int empty_ok, char ***out, size_t *nout)
{
	int	type = config_setting_type(s), i, n;
	int	line = config_setting_source_line(s);

	if (type == CONFIG_TYPE_STRING)
		n = 1;
	else if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST)
		n = config_setting_length(s);
	else
		n = -1;
	for (i = 0; type != CONFIG_TYPE_STRING && i < n; i++) {
		if (config_setting_type(config_setting_get_elem(s, i)) !=
		    CONFIG_TYPE_STRING)
			n = -1;
	}
	if (n == -1) {
		config_error(ld, line, name,
		    "must be a string or a list of strings");
		return (-1);
	}
	/* Each is said in messages, which are one line each. */
	for (i = 0; i < n; i++) {
		if (strchr(type == CONFIG_TYPE_STRING ?
		    config_setting_get_string(s) :
		    config_setting_get_string_elem(s, i), '\n') != NULL) {
			config_error(ld, line, name,
			    "must not contain a newline");
			return (-1);
		}
	}
	if (n == 0 && !empty_ok) {
		config_error(ld, line, name, "must name at least one address");
		return (-1);
	}
	*out = xcalloc(n > 0 ? (size_t)n : 1, sizeof **out);
	*nout = (size_t)n;
	if (type == CONFIG_TYPE_STRING)
		(*out)[0] = xstrdup(config_setting_get_string(s));
	for (i = 0; type != CONFIG_TYPE_STRING && i < n; i++)
		(*out)[i] = xstrdup(config_setting_get_string_elem(s, i));
	return (0);
}

/* Free a list of strings. */
void
config_strings_free(char **strings, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

/* Was a wrapped number given to this setting on this line? */
static int
overflowed(const struct loader *ld, int line, const char *name)
{
	size_t	i;

	for (i = 0; i < ld->noverflows; i++) {
		if ((ld->overflows[i].line == line ||
		    ld->overflows[i].name_line == line) &&
		    strcmp(ld->overflows[i].name, name) == 0)
			return (1);
	}
	return (0);
}
