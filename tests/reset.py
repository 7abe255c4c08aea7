#!/usr/bin/env python3
"""reset: a client that aborts with a RST (SO_LINGER 0) is logged as reset
or eof and freed; the daemon keeps serving (SIGPIPE ignored)."""

import re
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


def test_rst_after_data():
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"hello\n")
        check_eq(read_lines(s, 1), [b"0hello"], "reply")
        s.sendall(b"unanswered\npartial")
        rst(s)
        d.wait_log(r"reason=(reset|eof)")
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
                    time.sleep(0.01)
            rst(s)
        harness.wait_for(lambda: len(d.log_lines(r"reason=")) >= 3, 5, "3 closes")
        for l in d.log_lines(r"reason="):
            check(re.search(r"reason=(reset|eof)\b", l), "reason in %r" % l)
        check(d.alive(), "daemon died")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")
        harness.wait_for(lambda: conns_now(d) == 0, 3, "no connections left")


def test_rst_instead_of_fin_after_bye():
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"a\nbye\n")
        check_eq(recv_until_eof(s), b"0a\n", "replies")
        rst(s)
        d.wait_log(r"reason=bye")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")
        harness.wait_for(lambda: conns_now(d) == 0, 3, "no connections left")


def test_rst_right_after_connect():
    with Daemon() as d:
        for _ in range(20):
            rst(connect(d.port))
        harness.wait_for(lambda: len(d.log_lines(r"reason=")) >= 20, 5, "20 closes")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")
        harness.wait_for(lambda: conns_now(d) == 0, 3, "no connections left")


harness.main(globals())
