#!/usr/bin/env python3
"""fd-limit: with few file descriptors the daemon lowers max_connections to
what it can hold and says so; past that limit a flood of clients gets
ERR too many connections, never an accept failing with EMFILE, every
admitted client is served in full, and the daemon neither dies nor spins.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import resource
import select
import time

import harness
from harness import Daemon, check, check_eq, connect, send_recv_all, \
    server_conf

NOFILE = 64
ERR = b"ERR too many connections"
MESSAGES = 20           # per admitted client


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0      # utime + stime


def lowered_limit(d):
    """The max_connections the daemon logged it lowered to."""
    m = d.wait_log(r"open file limit is %d: max_connections lowered to (\d+)"
                   % NOFILE)
    n = int(m.group(1))
    check(0 < n < NOFILE, "max_connections lowered to %d" % n)
    return n


class Flood:
    """Clients, each either admitted (its MESSAGES replies, in full) or
    rejected (exactly ERR, then EOF, and closed at once, as a client
    would). Admitted ones stay open, holding their places."""

    def __init__(self, socks):
        self.bufs = {s: b"" for s in socks}
        self.index = {s: i for i, s in enumerate(socks)}
        self.admitted = []
        self.rejected = 0

    def want(self, i):
        return b"".join(b"%dc%d-%d\n" % (j, i, j) for j in range(MESSAGES))

    def judge(self, s, eof):
        i, buf = self.index[s], self.bufs[s]
        if buf.startswith(b"E"):
            if eof:
                check_eq(buf, ERR + b"\n", "client %d before EOF" % i)
                self.rejected += 1
                del self.bufs[s]
                s.close()
            return
        check(not eof, "client %d: EOF after %r" % (i, buf))
        check_eq(buf, self.want(i)[:len(buf)], "client %d replies" % i)
        if len(buf) == len(self.want(i)):
            self.admitted.append(s)
            del self.bufs[s]

    def run(self, timeout):
        deadline = time.monotonic() + harness.t(timeout)
        while self.bufs and time.monotonic() < deadline:
            r, _, _ = select.select(list(self.bufs), [], [], 0.1)
            for s in r:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    check(False, "client %d reset" % self.index[s])
                self.bufs[s] += b
                self.judge(s, b == b"")
        check(not self.bufs, "%d clients neither served nor told ERR within "
              "%ss (accepted: %d, rejected: %d)"
              % (len(self.bufs), timeout, len(self.admitted), self.rejected))


def flood(d):
    """Twice NOFILE clients at once, each pipelining MESSAGES messages;
    returns the Flood once each is served or rejected, and the limit."""
    limit = lowered_limit(d)
    socks = [connect(d.port, timeout=5) for _ in range(2 * NOFILE)]
    f = Flood(socks)
    for i, s in enumerate(socks):
        s.sendall(b"".join(b"c%d-%d\n" % (i, j) for j in range(MESSAGES)))
    f.run(10)
    print("%d clients: %d served, %d rejected, limit %d"
          % (len(socks), len(f.admitted), f.rejected, limit))
    check_eq(len(f.admitted), limit, "clients served")
    check_eq(f.rejected, len(socks) - limit, "clients rejected")
    return f


def test_many_clients_few_fds():
    with Daemon(server_conf(max_connections=1000), preexec_fn=low_nofile) as d:
        f = flood(d)
        # Full, and not spinning: little CPU over a second in this state.
        c0 = cpu_seconds(d.pid)
        time.sleep(1)
        used = cpu_seconds(d.pid) - c0
        check(used < 0.3, "daemon used %.2fs of CPU in 1s while full" % used)
        check(d.alive(), "daemon died")
        for s in f.admitted:
            s.close()
        # Once they are gone, a new client is served (bounded wait).
        harness.wait_for(lambda: _try(d.port), 5, "a new client served")
        check(len(d.log_lines(r"accept")) < 20,
              "accept errors not rate-limited:\n" + d.log_text()[-2000:])


def test_flood_gets_err_before_emfile():
    # The descriptors held beyond max_connections (the workers' own, and
    # those of rejected clients while their ERR drains) are in the reserve,
    # so the daemon never runs out: every accept succeeds.
    with Daemon(server_conf(max_connections=1000), preexec_fn=low_nofile) as d:
        f = flood(d)
        check(not d.log_lines(r"accept: "),
              "accept failed:\n" + "\n".join(d.log_lines(r"accept: ")))
        for s in f.admitted:
            s.close()


def _try(port):
    try:
        return send_recv_all(port, b"again\n", timeout=1) == b"0again\n"
    except (OSError, harness.Failure):
        return False


harness.main(globals())
