/*
 * confload.h - between config.c and the files that read its settings:
 * the file being loaded, the readers of one value (confvalue.c), and the
 * parser of server.listen (conflisten.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_CONFLOAD_H
#define SEQECHO_CONFLOAD_H

#include <stddef.h>

#include <libconfig.h>

struct config;
struct listen_conf;
struct confscan_overflow;

/* One file being loaded. */
struct loader {
	const char	*path;
	char		*text;		/* the file, for confscan.c */
	int		 errors;
	int		 listeners;	/* check the server's addresses */
	struct confscan_overflow *overflows;
	size_t		 noverflows;
	int		*address_lines;	/* of the server addresses it set */
	size_t		 naddress_lines;
	config_setting_t *listen;	/* server.listen, when set */
	int		 listen_errors;	/* in it */
};

/* The names a KIND_CHOICE setting takes, and the int each stores. */
struct choice {
	const char	*name;
	int		 value;
};

/* config.c */
void		 config_error(struct loader *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));

/* confvalue.c */
int		 config_get_int(struct loader *, config_setting_t *,
		    const char *, long long, long long, int *);
int		 config_get_string(struct loader *, config_setting_t *,
		    const char *, long long, long long, const char **);
void		 config_get_choice(struct loader *, config_setting_t *,
		    const char *, const struct choice *, int *);
int		 config_get_strings(struct loader *, config_setting_t *,
		    const char *, int, char ***, size_t *);
void		 config_strings_free(char **, size_t);

/* conftls.c */
void		 conftls_check(struct loader *, config_setting_t *,
		    const struct config *);

/* conflisten.c */
int		 conflisten_parse(struct loader *, config_setting_t *,
		    struct config *);
void		 conflisten_check(struct loader *, config_setting_t *,
		    const struct config *);
void		 conflisten_copy(struct config *, const struct config *);
void		 conflisten_free(struct listen_conf *, size_t);

#endif
