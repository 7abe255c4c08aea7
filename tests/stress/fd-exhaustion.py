#!/usr/bin/env python3
"""fd-exhaustion: seqechod under a low `ulimit -n`, connected to far past
what it can hold. It must neither spin nor die: CPU near idle (measured
from /proc/PID/stat over 2 s), at most about one log line a second,
ERR too many connections to whom it can answer, never EMFILE, and a
waiting client accepted within 200 ms of a place freeing.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

tests/fd-limit.py checks that the daemon survives and serves again once
everyone has left; this measures the saturated state itself.

How it saturates: the daemon lowers max_connections to fit the limit
beside what it holds and room for rejected connections (ERR, then up to
2 s of linger waiting for a FIN these clients never send). With every
place served and that room full, it stops accepting, short of EMFILE,
and the rest wait in the accept queue.
"""

import select
import shutil
import socket
import subprocess
import time

import stresslib
import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    send_recv_all, server_conf
from stresslib import cpu_seconds, fd_count, figure

NOFILE = 64
ERR = b"ERR too many connections"


def flood(port, n):
    """Connect up to n clients that each send "ping"; stop when connecting
    stalls (the accept queue is full). Returns the sockets."""
    socks = []
    for i in range(n):
        try:
            s = connect(port, timeout=0.5)
        except OSError:
            break
        try:
            s.sendall(b"ping\n")
        except OSError:
            pass
        s.setblocking(False)
        socks.append(s)
    return socks


def poll_lines(socks, bufs, timeout):
    """Read what has arrived on socks for up to timeout seconds; fills
    bufs[s]. Returns the sockets that completed a first line."""
    done = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return done
        pending = [s for s in socks if b"\n" not in bufs.get(s, b"")]
        if not pending:
            return done
        r, _, _ = select.select(pending, [], [], min(left, 0.05))
        for s in r:
            try:
                b = s.recv(4096)
            except (BlockingIOError, ConnectionResetError):
                continue
            bufs[s] = bufs.get(s, b"") + b
            if b"\n" in bufs[s]:
                done.append(s)
        if done:
            return done


def accept_queue(port):
    """Connections waiting in the listener's accept queue (ss Recv-Q)."""
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port],
                         capture_output=True, text=True, timeout=5,
                         check=True).stdout
    return sum(int(l.split()[1]) for l in out.splitlines() if l.strip())


def exhaust(workers):
    port = harness.free_port()
    conf = server_conf(port=port, max_connections=1000, workers=workers,
                       idle_timeout=0, log_level="warning")
    if shutil.which("ss") is None:
        harness.skip("ss (iproute2) is not installed")
    with Daemon(conf, preexec_fn=stresslib.nofile_limiter(NOFILE),
                quiet_port=port) as d:
        m = d.wait_log(r"max_connections lowered to (\d+)")
        limit = int(m.group(1))
        check_eq(send_recv_all(port, b"warm up\n"), b"0warm up\n", "warm-up")
        time.sleep(0.2)         # the readiness probe's close is done
        base_fds = fd_count(d.pid)
        print("limit %d descriptors: max_connections lowered to %d; "
              "%d descriptors open at rest" % (NOFILE, limit, base_fds))

        # Fill every place with a served client.
        served = []
        for i in range(limit):
            s = connect(port)
            s.sendall(b"s%d\n" % i)
            check_eq(read_lines(s, 1), [b"0s%d" % i], "served client %d" % i)
            served.append(s)

        # Then far more: rejected with ERR, or left waiting in the queue.
        socks = flood(port, 4 * NOFILE)
        print("%d more clients connected" % len(socks))
        harness.wait_for(lambda: accept_queue(port) > 0, 5,
                         "clients waiting in the accept queue")
        check(fd_count(d.pid) < NOFILE, "every descriptor in use")

        # Exhausted: measure CPU and log over 2 s.
        bufs = {}
        mark = d.mark()
        c0, t0 = cpu_seconds(d.pid), time.monotonic()
        time.sleep(2)
        c1, t1 = cpu_seconds(d.pid), time.monotonic()
        lines = d.log_text()[mark:].splitlines()
        cpu = (c1 - c0) / (t1 - t0)
        figure("cpu under fd exhaustion (workers=%d)" % workers,
               "%.1f%% (%.2f s of CPU in %.2f s)" % (100 * cpu, c1 - c0, t1 - t0))
        figure("log lines under fd exhaustion (workers=%d)" % workers,
               "%.1f/s (%d in %.2f s)" % (len(lines) / (t1 - t0), len(lines),
                                         t1 - t0))
        check(cpu < 0.05, "daemon used %.0f%% CPU while exhausted" % (100 * cpu))
        check(len(lines) <= 3, "%d log lines in 2 s:\n%s"
              % (len(lines), "\n".join(lines[:20])))
        check(d.alive(), "daemon died")

        # Descriptors free up: a waiting client is taken within 200 ms.
        poll_lines(socks, bufs, 0.2)      # collect ERR lines so far
        waiting = [s for s in socks if b"\n" not in bufs.get(s, b"")]
        rejected = sum(1 for s in socks if bufs.get(s, b"").startswith(ERR))
        check(rejected > 0, "nobody got ERR too many connections")
        worst = 0.0
        for k in range(5):
            waiting = [s for s in socks if b"\n" not in bufs.get(s, b"")]
            check(waiting, "no client left waiting in the queue")
            harness.wait_for(lambda: accept_queue(port) > 0, 1,
                             "a client queued before freeing a place")
            t0 = time.monotonic()
            served.pop().close()
            # Only a freed place can give a reply other than ERR.
            got = None
            deadline = t0 + harness.t(2)
            while got is None and time.monotonic() < deadline:
                for s in poll_lines(waiting, bufs, deadline - time.monotonic()):
                    if bufs[s].startswith(b"0ping\n"):
                        got = time.monotonic() - t0
            check(got is not None, "no waiting client served within 2 s "
                  "of a descriptor freeing")
            worst = max(worst, got)
            print("freed a descriptor: a waiting client served after %.1f ms"
                  % (1000 * got))
            time.sleep(0.3)
        figure("time to accept again after an fd frees (workers=%d, worst of 5)"
               % workers, "%.1f ms" % (1000 * worst))
        check(worst < 0.2, "took %.0f ms to accept again" % (1000 * worst))
        for s in socks:
            for l in bufs.get(s, b"").split(b"\n")[:-1]:
                check(l in (ERR, b"0ping"), "unexpected line %r" % l)
        rejected = sum(1 for s in socks if bufs.get(s, b"").startswith(ERR))
        figure("clients answered ERR too many connections (workers=%d)"
               % workers, "%d of %d past the limit" % (rejected, len(socks)))

        check(not d.log_lines(r"accept: "), "accept failed:\n" +
              "\n".join(d.log_lines(r"accept: ")))
        for s in served + socks:
            s.close()
        # Back to normal: descriptors return, new clients are served.
        n = stresslib.wait_fds(d.pid, base_fds, 8)
        check_eq(n, base_fds, "descriptors after everyone left")
        check_eq(send_recv_all(port, b"again\n"), b"0again\n", "after recovery")


def test_one_worker():
    exhaust(1)


def test_four_workers():
    exhaust(4)


harness.main(globals(), timeout=60)
