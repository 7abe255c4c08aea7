/*
 * sockstat.h - the host's TCP sockets on one port, by state (sockstat.c).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_SOCKSTAT_H
#define SEQECHO_SOCKSTAT_H

#include <stddef.h>

#define SOCKSTAT_NSTATES	11	/* TCP_ESTABLISHED (1) to TCP_CLOSING */

/*
 * Per state (index 1..11, the kernel's numbers): every socket on the
 * port, those whose local port it is (the daemon's), and those whose
 * remote port it is (the clients'). A socket with both is on both sides.
 */
struct sockstat_counts {
	unsigned long	 total[SOCKSTAT_NSTATES + 1];
	unsigned long	 daemon[SOCKSTAT_NSTATES + 1];
	unsigned long	 clients[SOCKSTAT_NSTATES + 1];
	unsigned long	 sockets;
};

struct sockaddr;

const char	*sockstat_state_name(int);
int		 sockstat_count(int, struct sockstat_counts *, const char **,
		    char *, size_t);
int		 sockstat_find(const struct sockaddr *, const struct sockaddr *,
		    int *, int *);

#endif
