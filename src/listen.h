/*
 * listen.h - what the files of the listening sockets share
 * (server-listen.c, server-activate.c); http-status.c only reads them.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_LISTEN_H
#define SEQECHO_LISTEN_H

struct evconnlistener;

struct listener {
	struct evconnlistener	*lev;
	struct listeners	*ls;
	char			*address;	/* as configured */
	int			 port;		/* as configured */
	int			 nth;		/* of the groups naming both */
	int			 bound_port;	/* what the kernel gave */
	char			 name[ADDRSTRLEN];
	int			 proxy;		/* the group's options */
	struct addr_prefix	*trusted;
	size_t			 ntrusted;
	int			 tls;
	int			 logged;	/* its listening line is out */
};

/* Pointers, as each listener's own is its callbacks' argument. */
struct lvec {
	struct listener		**v;
	size_t			  n;
};

struct listeners {
	struct lvec		 cur;
	struct event_base	*base;
	struct server		*server;
	int			 backlog;	/* what the listeners use */
};

/* server-listen.c */
void		 lvec_add(struct lvec *, struct listeners *,
		    struct evconnlistener *, const char *, int);
void		 lvec_free(struct lvec *);
void		 listener_set(struct listener *, const struct listen_conf *);
void		 listener_opts_text(const struct listener *, char *, size_t);

#endif
