#!/usr/bin/env python3
"""throttled-idle: a client that sends far more than it reads is throttled,
and while throttled its idle clock runs from the last time the kernel took
any of its replies (design rule 8). One that keeps reading, however
slowly, is never idle; one that reads nothing for idle_timeout is closed
with reason timeout, and the log says the server closed first.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import threading
import time

import harness
from harness import Daemon, check, check_eq, connect, server_conf

LINES = 131072
PAYLOAD = b"x" * 55                     # 64-byte messages: 8 MiB in all


def _send_all(sock, data, box):
    try:
        sock.settimeout(harness.t(60))
        sock.sendall(data)
    except OSError as e:
        box.append(e)


def test_slow_steady_reader_is_not_idle():
    with Daemon(server_conf(idle_timeout=1)) as d:
        s = connect(d.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        data = b"".join(b"%08d" % i + PAYLOAD + b"\n" for i in range(LINES))
        box = []
        th = threading.Thread(target=_send_all, args=(s, data + b"bye\n", box),
                              daemon=True)
        th.start()
        # Read back at a steady 1.6 MB/s: no gap near the idle timeout,
        # but the whole takes several times as long as it.
        want_len = sum(len(b"%d" % i) + 8 + len(PAYLOAD) + 1
                       for i in range(LINES))
        got = bytearray()
        deadline = time.monotonic() + harness.t(60)
        s.settimeout(0.05)
        while len(got) < want_len and time.monotonic() < deadline:
            t0 = time.monotonic()
            try:
                chunk = s.recv(min(49152, want_len - len(got)))
            except socket.timeout:
                continue
            if not chunk:
                break
            got += chunk
            rest = 0.03 - (time.monotonic() - t0)
            if rest > 0:
                time.sleep(rest)    # the pace itself, not a wait
        th.join(harness.t(10))
        check(not box, "send failed: %r" % box)
        check(b"ERR" not in got[-64:], "cut: %r" % bytes(got[-64:]))
        lines = bytes(got).split(b"\n")
        check_eq(len(lines) - 1, LINES, "replies")
        for i in (0, 1, LINES // 2, LINES - 1):
            check_eq(lines[i], b"%d%08d" % (i, i) + PAYLOAD, "reply %d" % i)
        check_eq(harness.recv_until_eof(s), b"", "after bye")
        s.close()
        d.wait_log(r"messages=%d .* reason=bye" % LINES)


def test_reader_of_nothing_is_cut_at_idle_timeout():
    with Daemon(server_conf(idle_timeout=1)) as d:
        s = connect(d.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        box = []
        data = b"".join(b"%08d" % i + PAYLOAD + b"\n" for i in range(LINES))
        th = threading.Thread(target=_send_all, args=(s, data, box),
                              daemon=True)
        t0 = time.monotonic()
        th.start()
        m = d.wait_log(r"conn \d+ closed .* duration=([\d.]+)s "
                       r"first=(\w+) reason=(\S+)", timeout=15)
        took = time.monotonic() - t0
        check_eq(m.group(3), "timeout", "reason")
        check_eq(m.group(2), "server", "who closed first")
        # idle_timeout, not idle_timeout plus a 30 s flush timeout.
        check(took < harness.t(5), "closed after %.1fs" % took)
        s.close()
        th.join(harness.t(10))


harness.main(globals())
