/*
 * sockstat.c - the host's TCP sockets on one port, by state: seqecho -S
 * counts them, and seqecho -v looks up where its own connection ended.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * The kernel is asked through NETLINK_SOCK_DIAG (inet_diag), IPv4 then
 * IPv6, with a bytecode filter so that it sends only the sockets whose
 * local or remote port is the port. Where netlink is not available (some
 * containers and sandboxes) the tables in /proc/net/tcp and /proc/net/tcp6
 * say the same, more slowly. Both show what ss(8) and netstat(8) show:
 * listeners, connections, request sockets (as SYN_RECV) and the kernel's
 * own TIME_WAIT sockets (as TIME_WAIT, or FIN_WAIT_2 for an orphan).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqecho.h"
#include "sockstat.h"

/* What forces one way of reading: "netlink", "proc", or unset for both. */
#define SOCKSTAT_ENV		"SEQECHO_SOCKSTAT"
/* Big enough for any netlink dump message (the kernel caps them at 32K). */
#define SOCKSTAT_NLBUF		(64 * 1024)

/* One socket, as either source describes it. Addresses in network order. */
struct sock_entry {
	int		 family;	/* AF_INET, or AF_INET6 unless mapped */
	int		 state;		/* TCP_ESTABLISHED..TCP_CLOSING */
	uint16_t	 lport;		/* host order */
	uint16_t	 rport;
	uint8_t		 laddr[16];	/* IPv4: the first four bytes */
	uint8_t		 raddr[16];
	unsigned long	 inode;		/* 0: none (TIME_WAIT, SYN_RECV) */
};

struct sock_list {
	struct sock_entry	*v;
	size_t			 n;
	size_t			 size;
};

/* The kernel's names, in the kernel's order (include/net/tcp_states.h). */
static const char *const state_names[SOCKSTAT_NSTATES + 1] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT_1",
	"FIN_WAIT_2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
	"CLOSING"
};

static void	 list_add(struct sock_list *, const struct sock_entry *);
static void	 list_unique(struct sock_list *);
static int	 entry_cmp(const void *, const void *);
static void	 entry_unmap(struct sock_entry *);
static int	 scan(int, struct sock_list *, const char **, char *, size_t);
static int	 scan_netlink(int, struct sock_list *, char *, size_t);
static int	 scan_netlink_family(int, int, int, struct sock_list *, char *,
		     size_t, char *, size_t);
static int	 netlink_entry(const struct nlmsghdr *, struct sock_list *,
		     int *);
static int	 scan_proc(int, struct sock_list *, char *, size_t);
static int	 scan_proc_file(const char *, int, int, struct sock_list *,
		     char *, size_t);
static int	 parse_hex_addr(const char *, uint8_t *, size_t);
static void	 count(const struct sock_list *, int, struct sockstat_counts *);
static int	 sockaddr_split(const struct sockaddr *, int *, uint8_t *,
		     uint16_t *);

/* The name of a TCP state, as -S and -v print it. */
const char *
sockstat_state_name(int state)
{
	if (state < 1 || state > SOCKSTAT_NSTATES)
		return (state_names[0]);
	return (state_names[state]);
}

/* Append a socket to the list. */
static void
list_add(struct sock_list *l, const struct sock_entry *e)
{
	struct sock_entry	*v;

	if (l->n == l->size) {
		l->size = l->size == 0 ? 64 : l->size * 2;
		if ((v = realloc(l->v, l->size * sizeof *v)) == NULL)
			fatalx("out of memory");
		l->v = v;
	}
	l->v[l->n++] = *e;
}

/*
 * Drop the sockets listed twice. The kernel walks its tables afresh for
 * each read of /proc/net/tcp (and each part of a netlink dump), resuming
 * at a count of sockets, so a socket that comes or goes on any port while
 * the table is read shifts the count and a socket already seen comes
 * again. A socket is its inode; one without (TIME_WAIT, a request) is its
 * addresses and ports, which no other such socket shares.
 */
static void
list_unique(struct sock_list *l)
{
	size_t	i, n = 0;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof *l->v, entry_cmp);
	for (i = 1; i < l->n; i++)
		if (entry_cmp(&l->v[n], &l->v[i]) != 0)
			l->v[++n] = l->v[i];
	l->n = n + 1;
}

/* Order sockets by what makes one: inode, then family, ports, addresses. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct sock_entry	*x = a, *y = b;
	int			 d;

	if (x->inode != y->inode)
		return (x->inode < y->inode ? -1 : 1);
	if (x->family != y->family)
		return (x->family < y->family ? -1 : 1);
	if (x->lport != y->lport)
		return (x->lport < y->lport ? -1 : 1);
	if (x->rport != y->rport)
		return (x->rport < y->rport ? -1 : 1);
	if ((d = memcmp(x->laddr, y->laddr, sizeof x->laddr)) != 0)
		return (d);
	return (memcmp(x->raddr, y->raddr, sizeof x->raddr));
}

/* An IPv4-mapped IPv6 socket is an IPv4 one, for matching. */
static void
entry_unmap(struct sock_entry *e)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (e->family != AF_INET6 || memcmp(e->laddr, mapped, 12) != 0 ||
	    memcmp(e->raddr, mapped, 12) != 0)
		return;
	e->family = AF_INET;
	memmove(e->laddr, e->laddr + 12, 4);
	memmove(e->raddr, e->raddr + 12, 4);
	memset(e->laddr + 4, 0, 12);
	memset(e->raddr + 4, 0, 12);
}

/*
 * Collect the sockets whose local or remote port is port: netlink first,
 * /proc if that fails, unless $SEQECHO_SOCKSTAT names one. Sets *source to
 * the one that answered. On failure returns -1 with the reason in err.
 */
static int
scan(int port, struct sock_list *l, const char **source, char *err,
    size_t errlen)
{
	const char	*force = getenv(SOCKSTAT_ENV);
	char		 nlerr[256];

	if (force != NULL && *force == '\0')
		force = NULL;
	if (force != NULL && strcmp(force, "netlink") != 0 &&
	    strcmp(force, "proc") != 0) {
		snprintf(err, errlen, "%s=%s: must be netlink or proc",
		    SOCKSTAT_ENV, force);
		return (-1);
	}

	l->n = 0;
	if (force == NULL || strcmp(force, "netlink") == 0) {
		*source = "netlink";
		if (scan_netlink(port, l, nlerr, sizeof nlerr) == 0) {
			list_unique(l);
			return (0);
		}
		if (force != NULL) {
			snprintf(err, errlen, "%s", nlerr);
			return (-1);
		}
		log_debug("%s; reading /proc/net instead", nlerr);
		l->n = 0;
	}
	*source = "proc";
	if (scan_proc(port, l, err, errlen) == -1)
		return (-1);
	list_unique(l);
	return (0);
}

/* Ask inet_diag for the TCP sockets of both families on port. */
static int
scan_netlink(int port, struct sock_list *l, char *err, size_t errlen)
{
	char	*buf;
	int	 fd, error;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		return (-1);
	}
	buf = xmalloc(SOCKSTAT_NLBUF);
	error = scan_netlink_family(fd, AF_INET, port, l, buf, SOCKSTAT_NLBUF,
	    err, errlen);
	if (error == 0)
		error = scan_netlink_family(fd, AF_INET6, port, l, buf,
		    SOCKSTAT_NLBUF, err, errlen);
	free(buf);
	close(fd);
	return (error);
}

/*
 * One inet_diag dump, read into buf. The bytecode keeps only sport == port
 * or dport == port, with the GE/LE pairs every kernel since 2.6 knows (EQ
 * came in 4.16); it is laid out as ss(8) compiles an "or": the first test,
 * a JMP to the end (accept), the second test, whose failure jumps 4 bytes
 * past the end (reject). Each op's "no" is a byte offset from that op.
 */
static int
scan_netlink_family(int fd, int family, int port, struct sock_list *l,
    char *buf, size_t buflen, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr		 nlh;
		struct inet_diag_req_v2	 r;
		struct nlattr		 nla;
		struct inet_diag_bc_op	 bc[9];
	}			 req;
	struct sockaddr_nl	 kernel = { .nl_family = AF_NETLINK };
	struct iovec		 iov = { buf, buflen };
	struct msghdr		 msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct nlmsghdr		*h;
	ssize_t			 n;
	int			 len, done, error;
	const char		*fam = family == AF_INET ? "IPv4" : "IPv6";

	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	/* One dump per family on this socket: the family tells them apart. */
	req.nlh.nlmsg_seq = (uint32_t)family;
	req.r.sdiag_family = family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	/* States 1 to 11; asking for SYN_RECV brings request sockets too. */
	req.r.idiag_states = ((1U << (SOCKSTAT_NSTATES + 1)) - 1) & ~1U;
	req.nla.nla_type = INET_DIAG_REQ_BYTECODE;
	req.nla.nla_len = sizeof req.nla + sizeof req.bc;
	req.bc[0] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_GE, 8, 20 };
	req.bc[2] = (struct inet_diag_bc_op){ INET_DIAG_BC_S_LE, 8, 12 };
	req.bc[4] = (struct inet_diag_bc_op){ INET_DIAG_BC_JMP, 4, 20 };
	req.bc[5] = (struct inet_diag_bc_op){ INET_DIAG_BC_D_GE, 8, 20 };
	req.bc[7] = (struct inet_diag_bc_op){ INET_DIAG_BC_D_LE, 8, 12 };
	req.bc[1].no = req.bc[3].no = req.bc[6].no = req.bc[8].no = port;

	while (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel,
	    sizeof kernel) == -1) {
		if (errno != EINTR) {
			snprintf(err, errlen, "netlink %s: %s", fam,
			    strerror(errno));
			return (-1);
		}
	}

	for (;;) {
		if ((n = recvmsg(fd, &msg, 0)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "netlink %s: %s", fam,
			    strerror(errno));
			return (-1);
		}
		if (n == 0 || (msg.msg_flags & MSG_TRUNC)) {
			snprintf(err, errlen, "netlink %s: %s", fam, n == 0 ?
			    "end of stream" : "message truncated");
			return (-1);
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req.nlh.nlmsg_seq)
				continue;
			if ((done = netlink_entry(h, l, &error)) == 1)
				return (0);
			if (done == -1) {
				snprintf(err, errlen, "netlink %s: %s", fam,
				    error != 0 ? strerror(error) :
				    "unexpected reply");
				return (-1);
			}
		}
	}
}

/*
 * One message of a dump: a socket is added to the list (0), the end of
 * the dump is 1, a failure -1 with *error its errno (0: none given).
 */
static int
netlink_entry(const struct nlmsghdr *h, struct sock_list *l, int *error)
{
	const struct inet_diag_msg	*m;
	struct sock_entry		 e;

	*error = 0;
	if (h->nlmsg_type == NLMSG_DONE) {
		/* A dump that failed part way says so here. */
		if (h->nlmsg_len >= NLMSG_LENGTH(sizeof *error))
			memcpy(error, NLMSG_DATA(h), sizeof *error);
		*error = -*error;
		return (*error > 0 ? -1 : 1);
	}
	if (h->nlmsg_type == NLMSG_ERROR) {
		if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)))
			*error = -((const struct nlmsgerr *)
			    NLMSG_DATA(h))->error;
		if (*error < 0)
			*error = 0;
		return (-1);
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return (0);
	m = NLMSG_DATA(h);
	memset(&e, 0, sizeof e);
	e.family = m->idiag_family;
	e.state = m->idiag_state;
	e.lport = ntohs(m->id.idiag_sport);
	e.rport = ntohs(m->id.idiag_dport);
	e.inode = m->idiag_inode;
	memcpy(e.laddr, m->id.idiag_src, e.family == AF_INET ? 4 : 16);
	memcpy(e.raddr, m->id.idiag_dst, e.family == AF_INET ? 4 : 16);
	entry_unmap(&e);
	list_add(l, &e);
	return (0);
}

/* Read both /proc tables. A host without IPv6 has no tcp6, and that is fine. */
static int
scan_proc(int port, struct sock_list *l, char *err, size_t errlen)
{
	if (scan_proc_file("/proc/net/tcp", AF_INET, port, l, err,
	    errlen) == -1)
		return (-1);
	return (scan_proc_file("/proc/net/tcp6", AF_INET6, port, l, err,
	    errlen));
}

/*
 * One table: "sl local_address rem_address st ...", addresses in hex as
 * the kernel's 32-bit words print in host order, ports in hex.
 */
static int
scan_proc_file(const char *path, int family, int port, struct sock_list *l,
    char *err, size_t errlen)
{
	FILE			*f;
	char			*line = NULL, la[33], ra[33];
	size_t			 size = 0, alen = family == AF_INET ? 4 : 16;
	unsigned int		 lp, rp, st;
	struct sock_entry	 e;
	int			 first = 1, error = 0;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && family == AF_INET6)
			return (0);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (getline(&line, &size, f) != -1) {
		if (first) {
			first = 0;
			continue;
		}
		memset(&e, 0, sizeof e);
		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x "
		    "%*x:%*x %*x:%*x %*x %*u %*u %lu", la, &lp, ra, &rp, &st,
		    &e.inode) < 5)
			continue;
		if (lp != (unsigned int)port && rp != (unsigned int)port)
			continue;
		e.family = family;
		e.state = (int)st;
		e.lport = (uint16_t)lp;
		e.rport = (uint16_t)rp;
		if (parse_hex_addr(la, e.laddr, alen) == -1 ||
		    parse_hex_addr(ra, e.raddr, alen) == -1)
			continue;
		entry_unmap(&e);
		list_add(l, &e);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		error = -1;
	}
	free(line);
	fclose(f);
	return (error);
}

/*
 * An address from /proc: each 8 hex digits are a 32-bit word of the
 * address in network order, printed as a host-order integer, so storing
 * the integer back in host order gives the bytes.
 */
static int
parse_hex_addr(const char *s, uint8_t *addr, size_t len)
{
	char		 word[9];
	uint32_t	 v;
	size_t		 i;

	if (strlen(s) != len * 2)
		return (-1);
	for (i = 0; i < len; i += 4) {
		memcpy(word, s + i * 2, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(addr + i, &v, 4);
	}
	return (0);
}

/* Count by state and side; a socket with both ports = port is on both. */
static void
count(const struct sock_list *l, int port, struct sockstat_counts *c)
{
	const struct sock_entry	*e;
	size_t			 i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < l->n; i++) {
		e = &l->v[i];
		if (e->state < 1 || e->state > SOCKSTAT_NSTATES)
			continue;
		if (e->lport != port && e->rport != port)
			continue;
		c->sockets++;
		c->total[e->state]++;
		if (e->lport == port)
			c->daemon[e->state]++;
		if (e->rport == port)
			c->clients[e->state]++;
	}
}

/*
 * Count the sockets on port by state and side, and say which way the
 * tables were read ("netlink" or "proc"). On failure returns -1 with the
 * reason in err.
 */
int
sockstat_count(int port, struct sockstat_counts *c, const char **source,
    char *err, size_t errlen)
{
	struct sock_list	 l = { NULL, 0, 0 };
	int			 error;

	if ((error = scan(port, &l, source, err, errlen)) == 0)
		count(&l, port, c);
	free(l.v);
	return (error);
}

/* Family, address bytes (unmapped) and port of a socket address. */
static int
sockaddr_split(const struct sockaddr *sa, int *family, uint8_t *addr,
    uint16_t *port)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;

	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET) {
		*family = AF_INET;
		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		*port = ntohs(sin6->sin6_port);
		if (memcmp(&sin6->sin6_addr, mapped, 12) == 0) {
			*family = AF_INET;
			memcpy(addr, (const uint8_t *)&sin6->sin6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, &sin6->sin6_addr, 16);
		}
	} else
		return (-1);
	return (0);
}

/*
 * Where the connection from local to remote stands in the kernel's tables,
 * if anywhere: *ours is the state of this end (0: no socket left), *theirs
 * that of the other end, if it is on this host (0: none here). Returns -1
 * if the tables cannot be read.
 */
int
sockstat_find(const struct sockaddr *local, const struct sockaddr *remote,
    int *ours, int *theirs)
{
	struct sock_list	 l = { NULL, 0, 0 };
	const struct sock_entry	*e;
	const char		*source;
	char			 err[256];
	uint8_t			 la[16], ra[16];
	uint16_t		 lp, rp;
	int			 lf, rf;
	size_t			 i;

	*ours = *theirs = 0;
	if (sockaddr_split(local, &lf, la, &lp) == -1 ||
	    sockaddr_split(remote, &rf, ra, &rp) == -1 || lf != rf)
		return (-1);
	if (scan(rp, &l, &source, err, sizeof err) == -1) {
		log_debug("%s", err);
		free(l.v);
		return (-1);
	}
	for (i = 0; i < l.n; i++) {
		e = &l.v[i];
		if (e->family != lf)
			continue;
		if (e->lport == lp && e->rport == rp &&
		    memcmp(e->laddr, la, 16) == 0 &&
		    memcmp(e->raddr, ra, 16) == 0)
			*ours = e->state;
		else if (e->lport == rp && e->rport == lp &&
		    memcmp(e->laddr, ra, 16) == 0 &&
		    memcmp(e->raddr, la, 16) == 0)
			*theirs = e->state;
	}
	free(l.v);
	return (0);
}
