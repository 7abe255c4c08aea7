/*
 * seqecho.h - what every seqecho program shares: the configuration, the
 * log, allocation, addresses and the protocol. A program's own structs
 * live in its own header (seqechod.h, client.h, bench.h).
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#ifndef SEQECHO_H
#define SEQECHO_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "proto.h"

#ifndef SEQECHO_CONF
#define SEQECHO_CONF	"/etc/seqecho.conf"
#endif

#define SEQECHO_PORT		1234
#define SEQECHO_ADDRESS		"127.0.0.1"
#define ADDRSTRLEN		(INET6_ADDRSTRLEN + 8)

/* server.tls_verify: whether to ask for client certificates. */
#define TLS_VERIFY_NONE		0
#define TLS_VERIFY_OPTIONAL	1
#define TLS_VERIFY_REQUIRE	2

/* server.tls_min_version */
#define TLS_VERSION_1_2		0
#define TLS_VERSION_1_3		1

/* An address or CIDR prefix allowed to send a PROXY header. */
struct addr_prefix {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network byte order */
	int		 bits;		/* prefix length */
};

/*
 * One listener group of server.listen (or the one that server.address
 * and server.port make): its addresses share one port.
 */
struct listen_conf {
	char		**addresses;
	size_t		  naddresses;
	int		  port;
	int		  proxy;	/* PROXY_NONE, _V1, _V2, _ANY (proxy.h) */
	struct addr_prefix *trusted;	/* proxy_trusted */
	size_t		  ntrusted;
	int		  tls;
	int		  line;		/* where the group begins; 0 = none */
};

struct config {
	/* server group */
	char		**addresses;
	size_t		  naddresses;
	int		  port;
	int		  backlog;
	int		  max_connections;
	int		  max_line;
	int		  idle_timeout;
	char		 *separator;
	int		  framing;
	int		  workers;
	int		  log_level;
	char		 *pidfile;
	struct listen_conf *listens;	/* server.listen; empty: see below */
	size_t		  nlistens;
	int		  proxy_timeout;	/* seconds: PROXY header, TLS handshake */
	char		 *tls_certificate;	/* paths; "" = none */
	char		 *tls_key;
	char		 *tls_ca;
	int		  tls_verify;		/* TLS_VERIFY_* */
	int		  tls_min_version;	/* TLS_VERSION_* */
	char		 *http;			/* "ADDRESS:PORT"; "" = off */
	char		 *name;			/* "" = the host name */

	/* client group */
	char		 *client_address;
	int		  client_port;
	int		  connect_timeout;
	int		  client_proxy;	/* PROXY_NONE, _V1 or _V2: --proxy */
	int		  client_tls;
	char		 *client_tls_ca;	/* "" = the system's store */
	char		 *client_tls_servername; /* "" = the host argument */
	char		 *client_tls_certificate;
	char		 *client_tls_key;
};

/* A problem config_check_listeners found with one listener's address. */
struct listen_problem {
	size_t		 group;		/* the listener */
	size_t		 address;	/* its address at fault */
	long		 other_group;	/* the one it collides with, or -1 */
	long		 other_address;
	const char	*why;
};

/* config.c */
void		 config_defaults(struct config *);
int		 config_load(struct config *, const char *, int);
int		 config_load_server(struct config *, const char *, int);
void		 config_free(struct config *);
void		 config_set_address(struct config *, const char *);
void		 config_add_address(struct config *, const char *);

/* conflisten.c */
void		 config_effective_listeners(struct config *);

/* confcheck.c */
struct evutil_addrinfo;
int		 config_resolve(const char *, int, struct evutil_addrinfo **,
		    char *, size_t);
char		*config_path_relative(const char *, const char *);
char		*config_path_absolute(const char *);
int		 config_parse_int(const char *, int, int);
double		 config_parse_real(const char *, double, double);
int		 config_parse_port(const char *);
int		 config_check_address(const char *, char *, size_t);
int		 config_check_addresses(char *const *, size_t,
		    void (*)(void *, size_t, long, const char *), void *);
int		 config_addr_overlap(const struct sockaddr *,
		    const struct sockaddr *);
int		 config_check_listeners(const struct listen_conf *, size_t,
		    void (*)(void *, const struct listen_problem *), void *);
int		 config_parse_prefix(const char *, struct addr_prefix *,
		    char *, size_t);
int		 config_parse_hostport(const char *, char *, size_t, int *,
		    char *, size_t);

/* util.c */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
char		*xstrdup(const char *);
void		 addr_format(const struct sockaddr *, char *, size_t);

#endif
