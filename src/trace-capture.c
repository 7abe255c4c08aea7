/*
 * trace-capture.c - where the segments come from: a capture file (-r,
 * pcap or pcapng, no privilege needed) or a live capture (-i), opened
 * with CAP_NET_RAW, which is dropped at once (libcap-ng). Live, SIGINT
 * and SIGTERM are read from a signalfd in the same poll as the capture,
 * so no handler and no global are needed.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>

#include <cap-ng.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seqecho.h"
#include "trace.h"

#define SNAPLEN		262144
#define POLL_MS		200
#define NOBODY		65534

struct capture {
	const struct trace_opts	*opts;
	struct trace_table	*table;
	pcap_t			*p;
	int			 linktype;
	uint64_t		 bad;
};

static void	 capture_packet(u_char *, const struct pcap_pkthdr *,
		     const u_char *);
static int	 read_file(const struct trace_opts *, struct capture *);
static pcap_t	*live_open(const struct trace_opts *);
static void	 drop_privileges(void);
static int	 live_loop(const struct trace_opts *, struct capture *,
		     pcap_t *);

/* One captured frame: parse it, keep it if it is TCP on our port. */
static void
capture_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capture		*cap = (struct capture *)arg;
	struct trace_seg	 seg;
	int			 r, port = cap->opts->port;

	/* -c ladders drawn: the rest of this batch is not looked at. */
	if (cap->opts->count != 0 &&
	    trace_table_drawn(cap->table) >= cap->opts->count) {
		pcap_breakloop(cap->p);
		return;
	}
	r = trace_parse(cap->linktype, data, h->caplen, &seg);
	if (r == TRACE_BAD)
		cap->bad++;
	if (r != TRACE_TCP)
		return;
	if (port != 0 && seg.sport != port && seg.dport != port)
		return;
	trace_table_add(cap->table, (int64_t)h->ts.tv_sec * 1000000 +
	    h->ts.tv_usec, &seg);
}

/* -r: the whole file; a truncated one is drawn as far as it goes. */
static int
read_file(const struct trace_opts *o, struct capture *cap)
{
	char			 errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr	*h;
	const u_char		*data;
	pcap_t			*p;
	FILE			*fp;
	int			 r;

	/* Our own fopen, so that its errors are told apart from pcap's. */
	if ((fp = fopen(o->file, "rb")) == NULL) {
		log_warnx("%s: %s", o->file, strerror(errno));
		return (1);
	}
	if ((p = pcap_fopen_offline(fp, errbuf)) == NULL) {
		fclose(fp);
		log_warnx("%s: not a capture (pcap or pcapng): %s", o->file,
		    errbuf);
		return (1);
	}
	cap->linktype = pcap_datalink(p);
	while ((r = pcap_next_ex(p, &h, &data)) == 1)
		capture_packet((u_char *)cap, h, data);
	trace_table_flush(cap->table);
	if (r == PCAP_ERROR) {
		log_warnx("%s: truncated capture, drawn as far as it goes: %s",
		    o->file, pcap_geterr(p));
		pcap_close(p);
		return (1);
	}
	pcap_close(p);
	if (cap->bad > 0)
		log_warnx("%s: %" PRIu64 " truncated or malformed packets "
		    "skipped", o->file, cap->bad);
	return (0);
}

/* -i: open and activate the capture; exits with one line on failure. */
static pcap_t *
live_open(const struct trace_opts *o)
{
	char			 errbuf[PCAP_ERRBUF_SIZE], expr[32];
	struct bpf_program	 prog;
	pcap_t			*p;
	int			 r;

	if ((p = pcap_create(o->iface, errbuf)) == NULL)
		fatalx("%s: %s", o->iface, errbuf);
	pcap_set_snaplen(p, SNAPLEN);
	pcap_set_immediate_mode(p, 1);
	pcap_set_timeout(p, POLL_MS);
	if ((r = pcap_activate(p)) < 0) {
		if (r == PCAP_ERROR_PERM_DENIED)
			fatalx("%s: permission denied: run it as root, give it "
			    "cap_net_raw (setcap cap_net_raw+ep), or capture "
			    "with tcpdump -w and read the file with -r",
			    o->iface);
		if (r == PCAP_ERROR_NO_SUCH_DEVICE)
			fatalx("%s: no such interface", o->iface);
		fatalx("%s: %s", o->iface, pcap_geterr(p));
	}
	if (o->port != 0)
		snprintf(expr, sizeof expr, "tcp port %d", o->port);
	else
		snprintf(expr, sizeof expr, "tcp");
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1 ||
	    pcap_setfilter(p, &prog) == -1)
		fatalx("%s: filter %s: %s", o->iface, expr, pcap_geterr(p));
	pcap_freecode(&prog);
	if (pcap_setnonblock(p, 1, errbuf) == -1)
		fatalx("%s: %s", o->iface, errbuf);
	return (p);
}

/*
 * Keep nothing of the privilege that opened the capture: every
 * capability, and root itself (for nobody, or the real user of a
 * set-user-id run). libcap-ng does the order right (keep-caps, groups,
 * then the ids) where prctl and capset by hand are easy to get wrong.
 */
static void
drop_privileges(void)
{
	struct passwd	*pw;
	uid_t		 uid = getuid();
	gid_t		 gid = getgid();
	int		 r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	capng_clear(CAPNG_SELECT_BOTH);
	if (geteuid() == 0) {
		if (uid == 0) {
			pw = getpwnam("nobody");
			uid = pw != NULL ? pw->pw_uid : NOBODY;
			gid = pw != NULL ? pw->pw_gid : NOBODY;
		}
		r = capng_change_id((int)uid, (int)gid,
		    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	} else {
		/* File capabilities: the bounding set needs CAP_SETPCAP. */
		capng_clear(CAPNG_SELECT_CAPS);
		r = capng_apply(CAPNG_SELECT_CAPS);
	}
	if (r != 0)
		fatalx("cannot drop privileges (libcap-ng error %d)", r);
}

/* Read the live capture until -c ladders are drawn, or a signal. */
static int
live_loop(const struct trace_opts *o, struct capture *cap, pcap_t *p)
{
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2];
	sigset_t		 sigs;
	int			 r;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) == -1 ||
	    (pfd[1].fd = signalfd(-1, &sigs, SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	pfd[0].fd = pcap_get_selectable_fd(p);
	pfd[0].events = pfd[1].events = POLLIN;
	cap->linktype = pcap_datalink(p);
	cap->p = p;
	for (;;) {
		if (poll(pfd, 2, POLL_MS) == -1 && errno != EINTR)
			fatal("poll");
		r = pcap_dispatch(p, -1, capture_packet, (u_char *)cap);
		if (r == PCAP_ERROR)
			fatalx("%s: %s", o->iface, pcap_geterr(p));
		if (o->count != 0 && trace_table_drawn(cap->table) >= o->count)
			break;
		if (pfd[1].revents & POLLIN) {
			if (read(pfd[1].fd, &si, sizeof si) != sizeof si)
				fatal("signalfd read");
			/* Whatever was captured before the signal counts. */
			while (pcap_dispatch(p, -1, capture_packet,
			    (u_char *)cap) > 0)
				;
			/* What is still open is drawn, marked unfinished. */
			trace_table_flush(cap->table);
			break;
		}
	}
	close(pfd[1].fd);
	return (0);
}

/* Draw the connections of the file or the live capture o names. */
int
trace_run(const struct trace_opts *o, struct trace_out *out)
{
	struct capture	 cap;
	pcap_t		*p;
	int		 rc;

	memset(&cap, 0, sizeof cap);
	cap.opts = o;
	cap.table = trace_table_new(out);
	if (o->file != NULL)
		rc = read_file(o, &cap);
	else {
		p = live_open(o);
		drop_privileges();
		rc = live_loop(o, &cap, p);
		pcap_close(p);
	}
	trace_table_free(cap.table);
	return (rc);
}
