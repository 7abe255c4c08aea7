#!/usr/bin/env python3
"""churn-and-resets: 100,000 short connections against a daemon under
`ulimit -n 64` (max_connections 30 to fit), from several client threads,
mixing every way a connection can end: bye, half-close with a tail, a RST
right after connecting, a RST in the middle of a line, a RST after the
reply, a FIN with nothing sent, and peers that vanish with output pending
(64 KiB of messages never read, then close). Every reply that is owed must
be right; afterwards the daemon holds exactly the descriptors it held
before (counted in /proc/PID/fd), has not crashed, and exits 0.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import signal
import socket
import struct
import threading
import time

import stresslib
import harness
from harness import Daemon, check, check_eq, send_recv_all, server_conf
from stresslib import fd_count, figure

NOFILE = 64
TOTAL = 100000
THREADS = 8
LINGER0 = struct.pack("ii", 1, 0)
BIG = b"".join(b"v%06d\n" % i for i in range(8192))     # 64 KiB


def recv_all(s):
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            return out
        out += b


def one(port, i, kinds):
    """One connection of kind i % 100; returns None or what went wrong."""
    k = i % 100
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(harness.t(10))
    try:
        s.connect(("127.0.0.1", port))
        if k < 80:
            kind = "bye"
            s.sendall(b"x%d\nbye\n" % i)
            s.shutdown(socket.SHUT_WR)
            got, want = recv_all(s), b"0x%d\n" % i
        elif k < 88:
            kind = "half-close"
            s.sendall(b"h%d\ntail" % i)
            s.shutdown(socket.SHUT_WR)
            got, want = recv_all(s), b"0h%d\n1tail\n" % i
        elif k < 91:
            kind = "rst at once"
            got = want = None
        elif k < 94:
            kind = "rst mid-line"
            s.sendall(b"partial line %d" % i)
            got = want = None
        elif k < 97:
            kind = "rst after reply"
            s.sendall(b"r%d\n" % i)
            want = b"0r%d\n" % i
            got = b""
            while not got.endswith(b"\n"):
                b = s.recv(100)
                if not b:
                    break
                got += b
        elif k < 99:
            kind = "fin, nothing sent"
            s.shutdown(socket.SHUT_WR)
            got, want = recv_all(s), b""
        else:
            kind = "vanish, output pending"
            s.sendall(BIG)
            time.sleep(0.001)
            got = want = None
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind.startswith("rst"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
        if got != want:
            return "connection %d (%s): got %r, want %r" % (i, kind, got, want)
        return None
    except OSError as e:
        return "connection %d: %s" % (i, e)
    finally:
        s.close()


def test_hundred_thousand_short_connections():
    port = harness.free_port()
    conf = server_conf(port=port, max_connections=NOFILE - 34, idle_timeout=0)
    with Daemon(conf, preexec_fn=stresslib.nofile_limiter(NOFILE),
                quiet_port=port) as d:
        check(not d.log_lines(r"lowered"), "limit lowered:\n" + d.log_text())
        check_eq(send_recv_all(port, b"warm up\n"), b"0warm up\n", "warm-up")
        time.sleep(0.3)
        fds0 = fd_count(d.pid)
        errors = []
        kinds = [dict() for _ in range(THREADS)]
        lock = threading.Lock()

        def worker(t):
            for i in range(t, TOTAL, THREADS):
                e = one(port, i, kinds[t])
                if e is not None:
                    with lock:
                        errors.append(e)
                    if len(errors) > 10:
                        return

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(t,), daemon=True)
                   for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(harness.t(120))
        took = time.monotonic() - t0
        check(not any(th.is_alive() for th in threads), "clients still running")
        check(not errors, "%d failures, first ones:\n%s"
              % (len(errors), "\n".join(errors[:10])))
        total = {}
        for k in kinds:
            for kind, n in k.items():
                total[kind] = total.get(kind, 0) + n
        check_eq(sum(total.values()), TOTAL, "connections made")
        print("%d connections in %.1f s (%.0f/s): %s" % (
            TOTAL, took, TOTAL / took,
            ", ".join("%s %d" % kv for kv in sorted(total.items()))))

        fds1 = stresslib.wait_fds(d.pid, fds0, 10)
        figure("descriptors leaked after %d short connections under "
               "ulimit -n %d" % (TOTAL, NOFILE),
               "%d (%d before, %d after)" % (fds1 - fds0, fds0, fds1))
        check_eq(fds1, fds0, "daemon descriptors after the churn")
        check(d.alive(), "daemon died")

        mark = d.mark()
        d.signal(signal.SIGUSR1)
        m = d.wait_log(r"stats connections=(\d+) total=(\d+)", since=mark)
        print(d.log_text()[mark:].strip())
        check_eq(int(m.group(1)), 0, "connections open per the daemon")
        # The readiness probe and the warm-up make two more.
        check_eq(int(m.group(2)), TOTAL + 2, "connections in total")
        reasons = dict(re.findall(r" (\w+(?:-\w+)?)=(\d+)",
                                  d.log_text()[mark:]))
        figure("connection ends seen by the daemon", " ".join(
            "%s=%s" % (r, reasons.get(r, "?")) for r in
            ("bye", "eof", "reset", "error", "full", "timeout")))
        check(not d.log_lines(r"accept:"), "accept errors:\n"
              + "\n".join(d.log_lines(r"accept:")[:5]))
        check_eq(send_recv_all(port, b"after\n"), b"0after\n", "afterwards")


harness.main(globals(), timeout=150)
