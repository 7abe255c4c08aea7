#!/usr/bin/env python3
"""many-connections: 10,000 clients connected at once, every one served
(twice, so all are live together), and the daemon's memory per connection
measured: RSS with them all held, less RSS at rest, over 10,000.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import selectors
import socket
import time

import stresslib
import harness
from harness import Daemon, check, check_eq, connect, send_recv_all, \
    server_conf
from stresslib import figure, fd_count, rss_kib, socket_fd_count

N = 10000


def read_round(socks, want, timeout):
    """Read one line from every socket; it must be want(i). Returns how
    many were right (failing on the first wrong one)."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
        bufs[i] = b""
    left = len(socks)
    deadline = time.monotonic() + harness.t(timeout)
    while left:
        check(time.monotonic() < deadline, "%d of %d clients got no reply "
              "within %ss" % (left, len(socks), timeout))
        for key, _ in sel.select(0.5):
            i = key.data
            try:
                b = key.fileobj.recv(256)
            except ConnectionResetError:
                check(False, "client %d reset" % i)
            check(b != b"", "client %d closed after %r" % (i, bufs[i]))
            bufs[i] += b
            if bufs[i].endswith(b"\n"):
                check_eq(bufs[i], want(i), "reply to client %d" % i)
                sel.unregister(key.fileobj)
                left -= 1
    sel.close()
    return len(socks)


def test_ten_thousand():
    stresslib.raise_nofile(N + 256)
    port = harness.free_port()
    conf = server_conf(port=port, max_connections=N, backlog=4096,
                       idle_timeout=0, log_level="warning")
    with Daemon(conf, env=stresslib.sanitizer_env(), quiet_port=port) as d:
        check(not d.log_lines(r"lowered"), "the daemon lowered its limit:\n"
              + d.log_text())
        check_eq(send_recv_all(port, b"warm up\n"), b"0warm up\n", "warm-up")
        time.sleep(0.2)
        fds0, rss0 = fd_count(d.pid), rss_kib(d.pid)

        t0 = time.monotonic()
        socks = []
        for i in range(N):
            s = connect(port, timeout=10)
            s.sendall(b"c%d\n" % i)
            socks.append(s)
        took_connect = time.monotonic() - t0
        read_round(socks, lambda i: b"0c%d\n" % i, 60)
        # Again on every one: all 10,000 are being served at once.
        for i, s in enumerate(socks):
            s.sendall(b"again %d\n" % i)
        read_round(socks, lambda i: b"1again %d\n" % i, 60)
        took = time.monotonic() - t0
        time.sleep(0.2)
        held = socket_fd_count(d.pid) - 1          # less the listener
        rss1 = rss_kib(d.pid)
        check(d.alive(), "daemon died")
        check(held >= N, "daemon holds %d sockets, want %d" % (held, N))

        per_conn = (rss1 - rss0) * 1024.0 / N
        print("connected %d in %.2fs; %d replies in %.2fs; daemon RSS %d KiB "
              "at rest, %d KiB with %d held (%d descriptors before)"
              % (N, took_connect, 2 * N, took, rss0, rss1, held, fds0))
        figure("connections held at once", "%d (every one served twice)" % held)
        figure("daemon memory per connection", "%.0f bytes (RSS %d -> %d KiB)"
               % (per_conn, rss0, rss1))
        # A struct conn, a bufferevent, two evbuffers and a timer: a few KiB
        # at most (more under AddressSanitizer's redzones and quarantine).
        check(per_conn < 32 * 1024, "%.0f bytes per connection" % per_conn)

        for s in socks:
            stresslib.rst_close(s)
        n = stresslib.wait_fds(d.pid, fds0, 15)
        check_eq(n, fds0, "daemon descriptors after all closed")
        check_eq(send_recv_all(port, b"after\n"), b"0after\n", "afterwards")


harness.main(globals(), timeout=180)
