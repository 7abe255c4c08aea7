#!/usr/bin/env python3
"""backpressure: a client that sends without reading is throttled, so the
daemon stays small; once it reads it gets every reply in order; other
clients are served meanwhile.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import select
import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    send_recv_all, server_conf

LINE = 64                       # bytes per message, LF included
TARGET = 64 << 20               # try to send this much without reading
GROWTH_LIMIT_KIB = 16 * 1024


def line(i):
    return (b"%010d" % i).ljust(LINE - 1, b".") + b"\n"


def asan_env():
    # ASan's quarantine keeps freed memory resident: keep it small so RSS
    # measures what the daemon holds, not what it has freed.
    opts = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": (opts + ":" if opts else "") + "quarantine_size_mb=1"}


class Checker:
    """Checks replies as they arrive: reply k is k + line(k)."""

    def __init__(self):
        self.buf = b""
        self.n = 0

    def feed(self, data):
        self.buf += data
        end = self.buf.rfind(b"\n")
        if end < 0:
            return
        lines, self.buf = self.buf[:end].split(b"\n"), self.buf[end + 1:]
        for l in lines:
            want = b"%d" % self.n + line(self.n)[:-1]
            if l != want:
                check_eq(l, want, "reply %d" % self.n)
            self.n += 1


def test_throttled_then_drained():
    with Daemon(server_conf(), env=asan_env()) as d:
        s = connect(d.port)
        s.setblocking(False)
        # Let the daemon settle, then measure.
        check_eq(send_recv_all(d.port, b"warm up\n"), b"0warm up\n", "warm-up")
        rss0 = d.vmrss_kib()

        # Phase 1: send without reading until TARGET or no progress for 1 s.
        sent = 0
        last_progress = time.monotonic()
        deadline = last_progress + harness.t(20)
        pending = b""
        while sent < TARGET:
            if not pending:
                first = sent // LINE
                pending = b"".join(line(i) for i in range(first, first + 1024))
            try:
                n = s.send(pending)
                sent += n
                pending = pending[n:]
                last_progress = time.monotonic()
            except BlockingIOError:
                if time.monotonic() - last_progress > 1.0:
                    break
                select.select([], [s], [], 0.1)
            check(time.monotonic() < deadline, "phase 1 took too long")
        rss1 = d.vmrss_kib()
        growth = rss1 - rss0
        print("sent %d MiB without reading; daemon RSS %d -> %d KiB"
              % (sent >> 20, rss0, rss1))
        check(growth < GROWTH_LIMIT_KIB,
              "daemon grew %d KiB while the client sent %d MiB unread"
              % (growth, sent >> 20))

        # Another client is served meanwhile.
        check_eq(send_recv_all(d.port, b"other\n", timeout=3), b"0other\n",
                 "other client")

        # Phase 2: read everything, finish the partial line, half-close.
        total = sent + len(pending)
        nlines = total // LINE
        checker = Checker()
        shut = False
        deadline = time.monotonic() + harness.t(30)
        while True:
            check(time.monotonic() < deadline,
                  "phase 2 took too long: %d of %d replies" % (checker.n, nlines))
            want_w = [s] if not shut else []
            r, w, _ = select.select([s], want_w, [], 0.5)
            if w:
                if pending:
                    try:
                        pending = pending[s.send(pending):]
                    except BlockingIOError:
                        pass
                if not pending:
                    s.shutdown(socket.SHUT_WR)
                    shut = True
            if r:
                try:
                    b = s.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not b:
                    break
                checker.feed(b)
        s.close()
        check_eq(checker.buf, b"", "bytes after the last LF")
        check_eq(checker.n, nlines, "replies")
        d.wait_log(r"reason=eof")


def test_slow_reader_gets_everything():
    # 8 MiB pipelined, read in small pieces: all replies in order.
    n = (8 << 20) // LINE
    with Daemon(server_conf(), env=asan_env()) as d:
        s = connect(d.port)
        s.setblocking(False)
        gen = (line(i) for i in range(n))
        pending = b""
        done_sending = shut = False
        checker = Checker()
        deadline = time.monotonic() + harness.t(40)
        while True:
            check(time.monotonic() < deadline,
                  "took too long: %d of %d replies" % (checker.n, n))
            if not pending and not done_sending:
                pending = b"".join(l for _, l in zip(range(512), gen))
                if not pending:
                    done_sending = True
            if done_sending and not shut:
                s.shutdown(socket.SHUT_WR)
                shut = True
            r, w, _ = select.select([s], [s] if pending else [], [], 0.5)
            if w and pending:
                try:
                    pending = pending[s.send(pending):]
                except BlockingIOError:
                    pass
            if r:
                try:
                    b = s.recv(8192)
                except BlockingIOError:
                    continue
                if not b:
                    break
                checker.feed(b)
        s.close()
        check_eq(checker.n, n, "replies")


harness.main(globals())
