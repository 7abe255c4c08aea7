#!/usr/bin/env python3
"""fd-limit: with few file descriptors the daemon neither dies nor spins:
clients past what it can hold get ERR too many connections or wait in the
backlog, and are served once others leave."""

import resource
import select
import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    send_recv_all, server_conf

NOFILE = 64


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0      # utime + stime


def test_many_clients_few_fds():
    ERR = b"ERR too many connections"
    with Daemon(server_conf(max_connections=1000), preexec_fn=low_nofile) as d:
        socks = []
        for i in range(3 * NOFILE):
            try:
                socks.append(connect(d.port, timeout=2))
            except OSError:
                break                   # backlog full: fine
        # Each is served, rejected with ERR, or not yet accepted.
        served = rejected = waiting = 0
        for i, s in enumerate(socks):
            try:
                s.sendall(b"c%d\n" % i)
            except OSError:
                pass
        first = collect(socks, harness.t(1.5))
        for i, l in first.items():
            if l == ERR:
                rejected += 1
            else:
                check_eq(l, b"0c%d" % i, "client %d" % i)
                served += 1
        waiting = len(socks) - len(first)
        print("%d connected: %d served, %d rejected, %d waiting"
              % (len(socks), served, rejected, waiting))
        check(served > 0, "nobody served")
        # Not spinning: little CPU over a second in this state.
        c0 = cpu_seconds(d.pid)
        time.sleep(1)
        used = cpu_seconds(d.pid) - c0
        check(used < 0.3, "daemon used %.2fs of CPU in 1s while full" % used)
        check(d.alive(), "daemon died")
        for s in socks:
            s.close()
        # Once they are gone, a new client is served (bounded wait).
        harness.wait_for(lambda: _try(d.port), 5, "a new client served")
        check(len(d.log_lines(r"accept")) < 20,
              "accept errors not rate-limited:\n" + d.log_text()[-2000:])


def collect(socks, timeout):
    """The first line from each socket that sends one within timeout."""
    bufs = {s: b"" for s in socks}
    idx = {s: i for i, s in enumerate(socks)}
    done = {}
    deadline = time.monotonic() + timeout
    while bufs and time.monotonic() < deadline:
        r, _, _ = select.select(list(bufs), [], [], 0.1)
        for s in r:
            try:
                b = s.recv(4096)
            except ConnectionResetError:
                check(False, "client %d reset" % idx[s])
            check(b != b"" or b"\n" in bufs[s],
                  "client %d closed with %r" % (idx[s], bufs[s]))
            bufs[s] += b
            if b"\n" in bufs[s]:
                done[idx[s]] = bufs.pop(s).split(b"\n")[0]
    return done


def _try(port):
    try:
        return send_recv_all(port, b"again\n", timeout=1) == b"0again\n"
    except (OSError, harness.Failure):
        return False


harness.main(globals())
