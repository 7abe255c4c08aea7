/*
 * conflisten.h - between config.c and conflisten.c: what the loader lends
 * the parser of server.listen, and what that parser gives back.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_CONFLISTEN_H
#define SEQECHO_CONFLISTEN_H

#include <stddef.h>

#include <libconfig.h>

struct config;
struct listen_conf;
struct loader;

/* config.c */
void		 config_error(struct loader *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
int		 config_get_int(struct loader *, config_setting_t *,
		    const char *, long long, long long, int *);
int		 config_get_strings(struct loader *, config_setting_t *,
		    const char *, int, char ***, size_t *);
void		 config_strings_free(char **, size_t);

/* conflisten.c */
int		 conflisten_parse(struct loader *, config_setting_t *,
		    struct config *);
void		 conflisten_check(struct loader *, config_setting_t *,
		    const struct config *);
void		 conflisten_copy(struct config *, const struct config *);
void		 conflisten_free(struct listen_conf *, size_t);

#endif
