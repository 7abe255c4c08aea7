#!/usr/bin/env python3
"""slowloris: with idle_timeout = 2, hundreds of clients that dribble a
byte a second and never send a newline, and hundreds that send nothing at
all, each get ERR idle timeout within idle_timeout + 1 s of connecting
(and not before idle_timeout), then the close; clients that send a
complete message every second meanwhile are never timed out, and get
theirs within idle_timeout + 1 s of their last message. The daemon stays
near idle throughout.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import select
import socket
import time

import stresslib
import harness
from harness import Daemon, check, check_eq, connect, send_recv_all, \
    server_conf
from stresslib import cpu_seconds, fd_count, figure

IDLE = 2
N_SLOW = 200
N_SILENT = 200
N_ACTIVE = 20
ACTIVE_FOR = 5.0                # seconds the active clients keep talking
ERR = b"ERR idle timeout\n"


class Client:
    def __init__(self, kind, sock):
        self.kind = kind
        self.sock = sock
        self.t0 = time.monotonic()
        self.last_message = self.t0
        self.next_send = self.t0 + 1.0
        self.buf = b""
        self.sent = 0
        self.err_after = None       # seconds from the reference to ERR
        self.eof = False


def test_slowloris_and_silent():
    stresslib.raise_nofile(N_SLOW + N_SILENT + N_ACTIVE + 64)
    port = harness.free_port()
    conf = server_conf(port=port, idle_timeout=IDLE, log_level="warning")
    with Daemon(conf, quiet_port=port) as d:
        check_eq(send_recv_all(port, b"warm up\n"), b"0warm up\n", "warm-up")
        time.sleep(0.2)         # the readiness probe's close is done
        fds0 = fd_count(d.pid)
        clients = []
        for kind, n in (("slow", N_SLOW), ("silent", N_SILENT),
                        ("active", N_ACTIVE)):
            for _ in range(n):
                s = connect(port)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.setblocking(False)
                clients.append(Client(kind, s))
        by_sock = {c.sock: c for c in clients}
        c0, w0 = cpu_seconds(d.pid), time.monotonic()
        deadline = w0 + ACTIVE_FOR + IDLE + harness.t(4)
        while any(not c.eof for c in clients):
            now = time.monotonic()
            check(now < deadline, "%d clients still open at the deadline" %
                  sum(1 for c in clients if not c.eof))
            for c in clients:
                if c.eof or c.err_after is not None or now < c.next_send:
                    continue
                if c.kind == "slow":
                    data = b"z"
                elif c.kind == "active" and now - w0 < ACTIVE_FOR:
                    data = b"a%d\n" % c.sent
                else:
                    continue
                try:
                    c.sock.send(data)
                except OSError:
                    pass
                if c.kind == "active":
                    c.last_message = now
                    c.sent += 1
                c.next_send = now + 1.0
            r, _, _ = select.select([c.sock for c in clients if not c.eof],
                                    [], [], 0.05)
            for s in r:
                c = by_sock[s]
                try:
                    b = s.recv(4096)
                except ConnectionResetError:
                    check(False, "%s client reset" % c.kind)
                if not b:
                    c.eof = True
                    continue
                c.buf += b
                if c.buf.endswith(ERR) and c.err_after is None:
                    ref = c.last_message if c.kind == "active" else c.t0
                    c.err_after = time.monotonic() - ref
        c1, w1 = cpu_seconds(d.pid), time.monotonic()

        for kind in ("slow", "silent", "active"):
            group = [c for c in clients if c.kind == kind]
            for c in group:
                want = ERR
                if kind == "active":
                    want = b"".join(b"%da%d\n" % (i, i) for i in range(c.sent)) + ERR
                check_eq(c.buf, want, "what a %s client got" % kind)
            times = [c.err_after for c in group]
            figure("ERR idle timeout for %d %s clients (idle_timeout=%d)"
                   % (len(group), kind, IDLE),
                   "after %.2f to %.2f s%s" % (min(times), max(times),
                                              " from their last message"
                                              if kind == "active" else ""))
            check(min(times) >= IDLE - 0.1, "a %s client timed out after "
                  "%.2f s" % (kind, min(times)))
            check(max(times) <= IDLE + harness.t(1), "a %s client timed out "
                  "only after %.2f s" % (kind, max(times)))
        for c in clients:
            if c.kind == "active":
                check(c.sent >= ACTIVE_FOR - 1, "active client sent only %d"
                      % c.sent)
        cpu = (c1 - c0) / (w1 - w0)
        figure("daemon CPU with %d slow and silent clients" % (N_SLOW + N_SILENT),
               "%.1f%% (%.2f s in %.1f s)" % (100 * cpu, c1 - c0, w1 - w0))
        check(cpu < 0.1, "daemon used %.0f%% CPU" % (100 * cpu))

        for c in clients:
            c.sock.close()
        check_eq(stresslib.wait_fds(d.pid, fds0, 5), fds0,
                 "daemon descriptors afterwards")
        check_eq(send_recv_all(port, b"after\n"), b"0after\n", "afterwards")


harness.main(globals(), timeout=60)
