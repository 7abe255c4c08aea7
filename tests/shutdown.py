#!/usr/bin/env python3
"""shutdown: on SIGTERM/SIGINT the daemon stops accepting, delivers every
reply owed, sends ERR server shutting down, closes and exits 0.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import select
import signal
import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, server_conf

ERR = b"ERR server shutting down\n"


def counter(d, name):
    """One counter of the SIGUSR1 line, logged now."""
    mark = d.mark()
    d.signal(signal.SIGUSR1)
    line = d.wait_log(r"[^\n]*connections=[^\n]*", since=mark).group(0)
    return int(re.search(r"\b%s=(\d+)" % name, line).group(1))


def test_idle_clients():
    with Daemon() as d:
        socks = []
        for i in range(3):
            s = connect(d.port)
            s.sendall(b"hi %d\n" % i)
            check_eq(read_lines(s, 1), [b"0hi %d" % i], "reply")
            socks.append(s)
        quiet = connect(d.port)         # never sent anything
        socks.append(quiet)
        harness.wait_for(lambda: len(d.log_lines(r"conn \d+ open")) == 4, 3,
                         "4 connections accepted")
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        for i, s in enumerate(socks):
            check_eq(recv_until_eof(s, timeout=3), ERR, "client %d" % i)
            s.close()
        check_eq(d.wait_exit(3), 0, "exit code")
        took = time.monotonic() - t0
        check(took < 3, "exit took %.2fs" % took)
        check(len(d.log_lines(r"reason=shutdown")) >= 4,
              "want 4 reason=shutdown lines:\n" + d.log_text())


def test_no_clients_sigint():
    with Daemon() as d:
        t0 = time.monotonic()
        check_eq(d.stop(timeout=3, sig=signal.SIGINT), 0, "exit code after SIGINT")
        check(time.monotonic() - t0 < 3, "exit took too long")


def test_owed_replies_delivered():
    # 1000 messages in one write, nothing read yet, then SIGTERM.
    with Daemon() as d:
        s = connect(d.port)
        data = b"".join(b"owed %d\n" % i for i in range(1000))
        s.sendall(data)
        harness.wait_for(lambda: counter(d, "bytes_in") == len(data), 3,
                         "the daemon has read the 1000 messages")
        d.signal(signal.SIGTERM)
        got = recv_until_eof(s, timeout=5)
        s.close()
        want = b"".join(b"%dowed %d\n" % (i, i) for i in range(1000)) + ERR
        check_eq(got, want, "replies")
        check_eq(d.wait_exit(3), 0, "exit code")


def test_partial_line_at_shutdown():
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"one\ntwo\nthr")
        check_eq(read_lines(s, 2), [b"0one", b"1two"], "replies")
        d.signal(signal.SIGTERM)
        got = recv_until_eof(s, timeout=5)
        s.close()
        check(got.endswith(ERR), "no ERR line at the end: %r" % got)
        check(got in (ERR, b"2thr\n" + ERR), "unexpected %r" % got)
        check_eq(d.wait_exit(3), 0, "exit code")


def test_backlogged_client_and_no_new_connections():
    # A client that sent megabytes without reading: after SIGTERM new
    # connections are refused, and the client gets a correct prefix of its
    # replies, then ERR, then EOF; then the daemon exits 0.
    with Daemon() as d:
        s = connect(d.port)
        s.setblocking(False)
        i = sent = 0
        last = time.monotonic()
        while time.monotonic() - last < 0.5 and sent < (64 << 20):
            data = b"".join(b"%d\n" % k for k in range(i, i + 4096))
            view = data
            while view:
                try:
                    n = s.send(view)
                    view = view[n:]
                    sent += n
                    last = time.monotonic()
                except BlockingIOError:
                    if time.monotonic() - last > 0.5:
                        break
                    select.select([], [s], [], 0.05)
            i += 4096
        print("sent %d KiB unread" % (sent >> 10))
        d.signal(signal.SIGTERM)
        # Stop accepting: connect is refused soon (bounded).
        deadline = time.monotonic() + harness.t(5)
        refused = False
        while time.monotonic() < deadline:
            try:
                c = connect(d.port, timeout=1)
            except ConnectionRefusedError:
                refused = True
                break
            except ConnectionResetError:
                # Queued on the listener as it closed: reset, as below.
                time.sleep(0.05)
                continue
            try:
                got = recv_until_eof(c, timeout=5)
                check_eq(got, ERR, "a connection accepted during shutdown")
            except ConnectionResetError:
                # The handshake completed in the kernel just as the
                # listener closed (after the daemon drained its accept
                # queue): the kernel resets it. The daemon never saw it;
                # the next attempt must be refused.
                pass
            finally:
                c.close()
            time.sleep(0.05)
        check(refused, "still accepting 5s after SIGTERM")
        # Now read what the daemon owes.
        s.setblocking(True)
        s.settimeout(harness.t(10))
        got = b""
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += b
        s.close()
        check(got.endswith(ERR), "no ERR at the end: %r" % got[-100:])
        lines = got[:-len(ERR)].split(b"\n")
        check_eq(lines[-1], b"", "partial reply before ERR")
        lines = lines[:-1]
        for k, l in enumerate(lines):
            if l != b"%d%d" % (k, k):
                check_eq(l, b"%d%d" % (k, k), "reply %d" % k)
        print("%d replies before ERR" % len(lines))
        check(len(lines) > 0, "no replies at all")
        check_eq(d.wait_exit(3), 0, "exit code")


def test_client_that_never_reads():
    # Replies owed to a client that never reads cannot hold the daemon
    # forever: it exits 0 after a bounded drain.
    with Daemon() as d:
        s = connect(d.port)
        s.setblocking(False)
        last = time.monotonic()
        while time.monotonic() - last < 0.5:
            try:
                s.send(b"never read\n" * 10000)
                last = time.monotonic()
            except BlockingIOError:
                select.select([], [s], [], 0.05)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        check_eq(d.wait_exit(10), 0, "exit code")
        took = time.monotonic() - t0
        print("exited %.2fs after SIGTERM" % took)
        check(took < 8, "exit took %.2fs" % took)
        s.close()


harness.main(globals())
