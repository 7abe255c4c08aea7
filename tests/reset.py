#!/usr/bin/env python3
"""reset: a client that aborts with a RST (SO_LINGER 0) is logged with
reason=reset and freed, whether the RST finds the connection idle, with
input unread or with replies owed; the daemon keeps serving (SIGPIPE
ignored).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import select
import signal
import socket
import struct
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, send_recv_all


def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def conns_now(d):
    mark = d.mark()
    d.signal(signal.SIGUSR1)
    line = d.wait_log(r"[^\n]*connections=[^\n]*", since=mark).group(0)
    m = re.search(r"connections=\D{0,3}(\d+)", line)
    check(m is not None, "no count in %r" % line)
    return int(m.group(1))


def closes(d, n, timeout=5):
    """The reason= of the first n close lines, once there are n."""
    harness.wait_for(lambda: len(d.log_lines(r" closed .*reason=")) >= n,
                     timeout, "%d close lines" % n)
    return [re.search(r"reason=(\S+)", l).group(1)
            for l in d.log_lines(r" closed .*reason=")]


def answered(d):
    """A connection on which one message has been answered and read."""
    s = connect(d.port)
    s.sendall(b"hello\n")
    check_eq(read_lines(s, 1), [b"0hello"], "reply")
    return s


def test_rst_when_idle():
    # Everything answered and read: the RST is all the daemon has to read,
    # so its read fails with ECONNRESET.
    with Daemon() as d:
        rst(answered(d))
        check_eq(closes(d, 1), ["reset"], "reasons")
        check(d.log_lines(r" closed .*messages=1 in=6 out=7 .*reason=reset"),
              "close line:\n" + d.log_text())
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")


def test_rst_after_data():
    # The RST follows the input closely: the daemon may read both at once.
    with Daemon() as d:
        s = answered(d)
        s.sendall(b"unanswered\npartial")
        rst(s)
        check_eq(closes(d, 1), ["reset"], "reasons")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")


def test_rst_behind_unread_input():
    # The daemon is stopped while a message and the RST arrive, so it finds
    # both at once, always: it reads the message, its reply meets the
    # reset, and the close is still a reset, not an end of stream.
    with Daemon() as d:
        s = answered(d)
        with d.stopped():
            s.sendall(b"unread\npartial")
            rst(s)
        check_eq(closes(d, 1), ["reset"], "reasons")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")


def test_rst_with_replies_pending():
    # Megabytes owed to a client that then resets: writes fail with
    # EPIPE/ECONNRESET, which must not kill the daemon.
    with Daemon() as d:
        for _ in range(3):
            s = connect(d.port)
            s.setblocking(False)
            data = b"x" * 100 + b"\n"
            sent = 0
            t0 = time.monotonic()
            while sent < (4 << 20) and time.monotonic() - t0 < harness.t(3):
                try:
                    sent += s.send(data * 1000)
                except BlockingIOError:
                    select.select([], [s], [], 0.05)
            rst(s)
        check_eq(closes(d, 3), ["reset"] * 3, "reasons")
        check(d.alive(), "daemon died")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")
        harness.wait_for(lambda: conns_now(d) == 0, 3, "no connections left")


def test_rst_instead_of_fin_after_bye():
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"a\nbye\n")
        check_eq(recv_until_eof(s), b"0a\n", "replies")
        rst(s)
        check_eq(closes(d, 1), ["bye"], "reasons")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")
        harness.wait_for(lambda: conns_now(d) == 0, 3, "no connections left")


def test_rst_right_after_connect():
    with Daemon() as d:
        for _ in range(20):
            rst(connect(d.port))
        check_eq(closes(d, 20), ["reset"] * 20, "reasons")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")
        harness.wait_for(lambda: conns_now(d) == 0, 3, "no connections left")


harness.main(globals())
