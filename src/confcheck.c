/*
 * confcheck.c - what is checked of a configuration besides its syntax:
 * paths taken from the file's directory, the server's addresses (of one
 * listener, or of all) resolved and compared as binding them would, the
 * prefixes of proxy_trusted, and the command line's numbers and address.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/util.h>

#include "seqecho.h"

/* One address an address setting resolved to. */
struct resolved {
	struct sockaddr_storage	 ss;
	size_t			 index;		/* of its address setting */
};

/* One listener group being checked, for its addresses' reports. */
struct group_check {
	void		(*report)(void *, const struct listen_problem *);
	void		 *arg;
	size_t		  group;
	char		 *said;		/* per address: reported already */
};

static int	addr_is_any(const struct sockaddr *);
static int	resolve_append(const char *, size_t, struct resolved **,
		    size_t *, char *, size_t);
static void	group_problem(void *, size_t, long, const char *);
static int	cross_check(const struct listen_conf *, size_t,
		    struct resolved *const *, const size_t *,
		    const struct group_check *);
static const struct resolved *overlap_find(const struct resolved *, size_t,
		    const struct resolved *);
static void	overlap_report(char *const *, size_t, const struct resolved *,
		    const struct resolved *,
		    void (*)(void *, size_t, long, const char *), void *);

/*
 * path as named in file: a relative path is relative to the directory file
 * is in, so that the daemon finds it after -d changes to / and on reloads.
 * "" (none) stays "". Returns a new string.
 */
char *
config_path_relative(const char *file, const char *path)
{
	const char	*slash;
	char		*out;
	size_t		 dirlen, len;

	if (*path == '\0' || *path == '/' ||
	    (slash = strrchr(file, '/')) == NULL)
		return (xstrdup(path));
	dirlen = (size_t)(slash - file);
	len = dirlen + 1 + strlen(path) + 1;
	out = xmalloc(len);
	snprintf(out, len, "%.*s/%s", (int)dirlen, file, path);
	return (out);
}

/* path made absolute from the working directory; NULL if getcwd fails. */
char *
config_path_absolute(const char *path)
{
	char	*cwd, *out;
	size_t	 len;

	if (*path == '/')
		return (xstrdup(path));
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return (NULL);
	len = strlen(cwd) + 1 + strlen(path) + 1;
	out = xmalloc(len);
	snprintf(out, len, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/",
	    path);
	free(cwd);
	return (out);
}

/*
 * Resolve a server address and port for binding ("*" is every address),
 * as the daemon binds them; 0, or -1 and why. All digits and dots is no
 * host name, and a ':' is in no host name, so those are never looked up:
 * "999.1.1.1" is simply wrong.
 */
int
config_resolve(const char *address, int port, struct evutil_addrinfo **res,
    char *why, size_t whylen)
{
	struct evutil_addrinfo	 hints;
	struct in_addr		 in;
	const char		*host = address;
	char			 service[8];
	int			 error;

	*res = NULL;
	if (*address == '\0') {
		snprintf(why, whylen, "must not be empty");
		return (-1);
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
	if (strcmp(address, "*") == 0)
		host = NULL;
	else if (address[strspn(address, "0123456789.")] == '\0') {
		if (inet_aton(address, &in) == 0) {
			snprintf(why, whylen, "%s: not an IPv4 address",
			    address);
			return (-1);
		}
		hints.ai_flags |= EVUTIL_AI_NUMERICHOST;
	} else if (strchr(address, ':') != NULL)
		hints.ai_flags |= EVUTIL_AI_NUMERICHOST;
	snprintf(service, sizeof service, "%d", port);

	if ((error = evutil_getaddrinfo(host, service, &hints, res)) != 0) {
		if (hints.ai_flags & EVUTIL_AI_NUMERICHOST)
			snprintf(why, whylen, "%s: not an IPv6 address",
			    address);
		else
			snprintf(why, whylen, "%s: %s", address,
			    evutil_gai_strerror(error));
		*res = NULL;
		return (-1);
	}
	return (0);
}

/*
 * "ADDRESS" or "ADDRESS/BITS", IPv4 or IPv6, into *p with the bits past
 * the prefix cleared; 0, or -1 and why. No names: a list of who may claim
 * any source address must not depend on DNS.
 */
int
config_parse_prefix(const char *s, struct addr_prefix *p, char *why,
    size_t whylen)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long		 bits;
	int		 max, i;

	memset(p, 0, sizeof *p);
	if (*s == '\0') {
		snprintf(why, whylen, "must not be empty");
		return (-1);
	}
	if (strlen(s) >= sizeof buf) {
		snprintf(why, whylen, "%s: not an address or prefix", s);
		return (-1);
	}
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = AF_INET6;
	else {
		snprintf(why, whylen, "%s: not an address or prefix", s);
		return (-1);
	}
	max = p->family == AF_INET ? 32 : 128;
	p->bits = max;
	if (slash != NULL) {
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    bits < 0 || bits > max) {
			snprintf(why, whylen, "%s: prefix length must be "
			    "0..%d", s, max);
			return (-1);
		}
		p->bits = (int)bits;
	}
	for (i = p->bits; i < max; i++)
		p->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return (0);
}

/* A number from the command line, min..max (min >= 0), or -1. */
int
config_parse_int(const char *s, int min, int max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return (-1);
	return ((int)v);
}

/*
 * A number from the command line, fractions allowed, more than min and at
 * most max; else -1 (so min must not be below -1).
 */
double
config_parse_real(const char *s, double min, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v > min) ||
	    !(v <= max))
		return (-1);
	return (v);
}

/*
 * The http setting, "ADDRESS:PORT" or "[IPv6]:PORT" (port 0..65535, 0 for
 * the kernel to choose), split into host and port; 0, or -1 and why. The
 * address is not resolved here: config_resolve does that, as for any.
 */
int
config_parse_hostport(const char *s, char *host, size_t hostlen, int *port,
    char *why, size_t whylen)
{
	const char	*colon, *end, *in = s;
	struct in6_addr	 in6;
	size_t		 len;
	int		 v, bracketed = *s == '[';

	if (bracketed) {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':') {
			snprintf(why, whylen, "%s: must be [ADDRESS]:PORT", s);
			return (-1);
		}
		colon = end + 1;
		s++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			snprintf(why, whylen, "%s: must be ADDRESS:PORT", s);
			return (-1);
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			snprintf(why, whylen, "%s: an IPv6 address goes in "
			    "brackets, as [::1]:9234", s);
			return (-1);
		}
		end = colon;
	}
	len = (size_t)(end - s);
	if (len == 0 || len >= hostlen) {
		snprintf(why, whylen, "%.*s: must be ADDRESS:PORT",
		    (int)(strlen(in) > 300 ? 300 : strlen(in)), in);
		return (-1);
	}
	memcpy(host, s, len);
	host[len] = '\0';
	if (bracketed && inet_pton(AF_INET6, host, &in6) != 1) {
		snprintf(why, whylen, "%s: not an IPv6 address", host);
		return (-1);
	}
	if (colon[1] < '0' || colon[1] > '9' || strlen(colon + 1) > 5 ||
	    (v = config_parse_int(colon + 1, 0, 65535)) == -1) {
		snprintf(why, whylen, "port %.8s%s: must be 0..65535",
		    colon + 1, strlen(colon + 1) > 8 ? "..." : "");
		return (-1);
	}
	*port = v;
	return (0);
}

/* A port from the command line: 0..65535, or -1. */
int
config_parse_port(const char *s)
{
	return (config_parse_int(s, 0, 65535));
}

/* An address that can be bound (what -a gives); 0, or -1 and why. */
int
config_check_address(const char *address, char *why, size_t whylen)
{
	struct evutil_addrinfo	*res;

	if (config_resolve(address, 0, &res, why, whylen) == -1)
		return (-1);
	evutil_freeaddrinfo(res);
	return (0);
}

static int
addr_is_any(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (sin->sin_addr.s_addr == htonl(INADDR_ANY));
	if (sa->sa_family == AF_INET6)
		return (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
	return (0);
}

/*
 * Would two listeners on one port collide: the same address, or one the
 * wildcard of the other's family? (An IPv6 wildcard is bound IPv6-only,
 * so it leaves IPv4 alone.)
 */
int
config_addr_overlap(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in	*b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6	*b6 = (const struct sockaddr_in6 *)b;

	if (a->sa_family != b->sa_family)
		return (0);
	if (addr_is_any(a) || addr_is_any(b))
		return (a->sa_family == AF_INET || a->sa_family == AF_INET6);
	if (a->sa_family == AF_INET)
		return (a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	if (a->sa_family == AF_INET6)
		return (memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof a6->sin6_addr) == 0 &&
		    a6->sin6_scope_id == b6->sin6_scope_id);
	return (0);
}

/*
 * Check the addresses of one listener group, which all share one port
 * (with port 0 too: the one the kernel chose): each must resolve, and none
 * may take an address an earlier one (or itself, twice) takes. Each
 * problem goes to report with the index of the address at fault and of
 * the earlier one it collides with (or -1). Returns how many there were.
 */
int
config_check_addresses(char *const *addresses, size_t n,
    void (*report)(void *, size_t, long, const char *), void *arg)
{
	struct resolved		*r = NULL;
	size_t			 nr = 0, i, j, k, first;
	char			 why[512];
	int			 problems = 0, found;

	for (i = 0; i < n; i++) {
		first = nr;
		if (resolve_append(addresses[i], i, &r, &nr, why, sizeof why) ==
		    -1) {
			report(arg, i, -1, why);
			problems++;
			continue;
		}
		/* The first collision of this address is enough to say. */
		for (found = 0, j = first; j < nr && !found; j++) {
			for (k = 0; k < j && !found; k++) {
				if (!config_addr_overlap((struct sockaddr *)
				    &r[k].ss, (struct sockaddr *)&r[j].ss))
					continue;
				overlap_report(addresses, i, &r[j], &r[k],
				    report, arg);
				found = 1;
			}
		}
		problems += found;
	}
	free(r);
	return (problems);
}

/* Say how address i (resolved to *late) collides with *early. */
static void
overlap_report(char *const *addresses, size_t i, const struct resolved *late,
    const struct resolved *early,
    void (*report)(void *, size_t, long, const char *), void *arg)
{
	const struct sockaddr_in	*sin = (const void *)&late->ss;
	const struct sockaddr_in6	*sin6 = (const void *)&late->ss;
	char				 why[512], name[INET6_ADDRSTRLEN];

	if (late->ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &sin6->sin6_addr, name, sizeof name);
	else
		inet_ntop(AF_INET, &sin->sin_addr, name, sizeof name);
	if (early->index == i)
		snprintf(why, sizeof why, "%s: resolves to %s twice",
		    addresses[i], name);
	else if (strcmp(addresses[early->index], addresses[i]) == 0)
		snprintf(why, sizeof why, "%s: listed twice", addresses[i]);
	else
		snprintf(why, sizeof why, "%s: overlaps %s", addresses[i],
		    addresses[early->index]);
	report(arg, i, (long)early->index, why);
}

/* Resolve address (number index of its list) onto the end of *r. */
static int
resolve_append(const char *address, size_t index, struct resolved **r,
    size_t *nr, char *why, size_t whylen)
{
	struct evutil_addrinfo	*res, *ai;

	if (config_resolve(address, 0, &res, why, whylen) == -1)
		return (-1);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof (*r)->ss)
			continue;
		if ((*r = realloc(*r, (*nr + 1) * sizeof **r)) == NULL)
			fatalx("out of memory");
		memset(&(*r)[*nr], 0, sizeof (*r)[*nr]);
		memcpy(&(*r)[*nr].ss, ai->ai_addr, ai->ai_addrlen);
		(*r)[(*nr)++].index = index;
	}
	evutil_freeaddrinfo(res);
	return (0);
}

/*
 * Check every listener: each group's addresses as config_check_addresses
 * does, then no two groups on one port other than 0 may take one address
 * (a group with port 0 gets a port no other listener has). Each problem
 * goes to report; returns how many there were.
 */
int
config_check_listeners(const struct listen_conf *l, size_t n,
    void (*report)(void *, const struct listen_problem *), void *arg)
{
	struct group_check	  gc = { report, arg, 0, NULL };
	struct resolved		**r;
	size_t			 *nr, g, i;
	char			  why[512];
	int			  problems = 0;

	r = xcalloc(n > 0 ? n : 1, sizeof *r);
	nr = xcalloc(n > 0 ? n : 1, sizeof *nr);
	for (g = 0; g < n; g++) {
		gc.group = g;
		gc.said = xcalloc(l[g].naddresses + 1, 1);
		problems += config_check_addresses(l[g].addresses,
		    l[g].naddresses, group_problem, &gc);
		/* What does not resolve was said just now. */
		for (i = 0; i < l[g].naddresses; i++)
			resolve_append(l[g].addresses[i], i, &r[g], &nr[g],
			    why, sizeof why);
		problems += cross_check(l, g, r, nr, &gc);
		free(gc.said);
	}
	for (g = 0; g < n; g++)
		free(r[g]);
	free(r);
	free(nr);
	return (problems);
}

/* A problem within one group, passed on with the group's number. */
static void
group_problem(void *arg, size_t i, long other, const char *why)
{
	struct group_check	*gc = arg;
	struct listen_problem	 p;

	p.group = gc->group;
	p.address = i;
	p.other_group = other >= 0 ? (long)gc->group : -1;
	p.other_address = other;
	p.why = why;
	gc->said[i] = 1;
	gc->report(gc->arg, &p);
}

/*
 * Each address of group g against the earlier groups on its port, but
 * those already found wrong within the group.
 */
static int
cross_check(const struct listen_conf *l, size_t g, struct resolved *const *r,
    const size_t *nr, const struct group_check *gc)
{
	struct listen_problem	 p;
	const struct resolved	*early;
	const char		*a, *b;
	char			 why[512];
	size_t			 h, j;
	long			 said;
	int			 problems = 0;

	for (j = 0, said = -1; j < nr[g] && l[g].port != 0; j++) {
		/* The first collision of an address is enough to say. */
		if ((long)r[g][j].index == said || gc->said[r[g][j].index])
			continue;
		for (h = 0, early = NULL; h < g && early == NULL; h++) {
			if (l[h].port == l[g].port)
				early = overlap_find(r[h], nr[h], &r[g][j]);
		}
		if (early == NULL)
			continue;
		h--;
		a = l[g].addresses[r[g][j].index];
		b = l[h].addresses[early->index];
		if (strcmp(a, b) == 0)
			snprintf(why, sizeof why, "%s: port %d listened on "
			    "twice", a, l[g].port);
		else
			snprintf(why, sizeof why, "%s: overlaps %s on port %d",
			    a, b, l[g].port);
		p.group = g;
		p.address = r[g][j].index;
		p.other_group = (long)h;
		p.other_address = (long)early->index;
		p.why = why;
		gc->report(gc->arg, &p);
		problems++;
		said = (long)p.address;
	}
	return (problems);
}

/* The first of the n resolved addresses at r that x collides with. */
static const struct resolved *
overlap_find(const struct resolved *r, size_t n, const struct resolved *x)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (config_addr_overlap((const struct sockaddr *)&r[i].ss,
		    (const struct sockaddr *)&x->ss))
			return (&r[i]);
	}
	return (NULL);
}
