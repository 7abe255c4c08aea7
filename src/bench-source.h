/*
 * bench-source.h - seqecho-bench's -b list of source addresses (pure).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_BENCH_SOURCE_H
#define SEQECHO_BENCH_SOURCE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

/* At most this many addresses in one -b, ranges counted out. */
#define SOURCES_MAX		65536

struct sources {
	struct sockaddr_storage	*addr;
	size_t			 count;
};

int	sources_parse(struct sources *, const char *, char *, size_t);
void	sources_free(struct sources *);

#endif
