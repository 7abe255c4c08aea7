#!/usr/bin/env python3
"""line-too-long: max_line bytes are fine, one more gets ERR line too long
after the replies owed before it, and the connection closes.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, send_recv_all, server_conf

ERR = b"ERR line too long\n"
MAX = 16


def conf():
    return server_conf(max_line=MAX)


def test_exactly_max_line():
    with Daemon(conf()) as d:
        line = b"x" * MAX
        check_eq(send_recv_all(d.port, line + b"\n" + line + b"\r\n" + line),
                 b"0" + line + b"\n1" + line + b"\n2" + line + b"\n", "replies")


def test_max_line_plus_one():
    with Daemon(conf()) as d:
        s = connect(d.port)
        s.sendall(b"a\nb\n" + b"y" * (MAX + 1) + b"\nnever\n")
        check_eq(recv_until_eof(s), b"0a\n1b\n" + ERR, "replies")
        s.close()
        d.wait_log(r"reason=too-long")
        check_eq(send_recv_all(d.port, b"ok\n"), b"0ok\n", "next connection")


def test_max_line_plus_one_with_crlf():
    # The CR does not count, but one data byte too many does.
    with Daemon(conf()) as d:
        check_eq(send_recv_all(d.port, b"y" * (MAX + 1) + b"\r\n"), ERR, "reply")


def test_tail_too_long_at_eof():
    with Daemon(conf()) as d:
        check_eq(send_recv_all(d.port, b"a\n" + b"z" * (MAX + 1)), b"0a\n" + ERR, "replies")


def test_err_without_waiting_for_lf():
    # max_line + 2 bytes and no LF: the server cannot wait for one.
    with Daemon(conf()) as d:
        s = connect(d.port)
        s.sendall(b"ok\n" + b"w" * (MAX + 2))
        check_eq(read_lines(s, 2, timeout=3), [b"0ok", ERR.rstrip(b"\n")], "replies")
        check_eq(recv_until_eof(s, timeout=5), b"", "after ERR")
        s.close()


def test_huge_line_default_max():
    # 8 MiB with no LF against the default max_line (4096): ERR, no growth.
    with Daemon() as d:
        s = connect(d.port)
        rss0 = d.vmrss_kib()
        s.setblocking(False)
        chunk = b"q" * 65536
        sent = 0
        deadline = time.monotonic() + harness.t(10)
        got = b""
        while sent < 8 << 20 and time.monotonic() < deadline:
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                b = s.recv(4096)
                got += b
                if not b:
                    break
            except BlockingIOError:
                pass
            except ConnectionResetError:
                break
        check(got.startswith(ERR) or got == b"",
              "first bytes %r" % got[:100])
        s.setblocking(True)
        s.settimeout(harness.t(5))
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        if not got.startswith(ERR):
            try:
                got += recv_until_eof(s)
            except ConnectionResetError:
                pass
        check(got.startswith(ERR), "no %r; got %r" % (ERR, got[:100]))
        check_eq(got, ERR, "everything received")
        growth = d.vmrss_kib() - rss0
        check(growth < 16 * 1024, "daemon grew %d KiB" % growth)
        s.close()
        check_eq(send_recv_all(d.port, b"ok\n"), b"0ok\n", "next connection")


harness.main(globals())
