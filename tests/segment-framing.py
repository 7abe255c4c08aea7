#!/usr/bin/env python3
"""segment-framing: each chunk one read returns is one message, echoed with
its serial and nothing added; a chunk beginning with bye ends the session.
One small message in flight at a time, as the seed's TCPClient does.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, recv_until_eof, \
    send_recv_all, server_conf


def conf(**kw):
    return server_conf(framing="segment", **kw)


def recv_exactly(s, n, timeout=5):
    deadline = time.monotonic() + harness.t(timeout)
    got = b""
    while len(got) < n:
        left = deadline - time.monotonic()
        check(left > 0, "got %r, want %d bytes" % (got, n))
        s.settimeout(left)
        try:
            b = s.recv(n - len(got))
        except socket.timeout:
            continue
        check(b != b"", "EOF after %r" % got)
        got += b
    return got


def test_tcpclient_exchange():
    with Daemon(conf()) as d:
        s = connect(d.port)
        s.sendall(b"hello")
        check_eq(recv_exactly(s, 6), b"0hello", "first reply")
        s.sendall(b"world")
        check_eq(recv_exactly(s, 6), b"1world", "second reply")
        s.sendall(b"with newline\n")
        check_eq(recv_exactly(s, 14), b"2with newline\n", "third reply")
        s.sendall(b"bye")
        check_eq(recv_until_eof(s), b"", "after bye")
        s.close()
        d.wait_log(r"reason=bye")
        check(d.alive(), "daemon died")


def test_bye_prefix_ends_session():
    with Daemon(conf()) as d:
        s = connect(d.port)
        s.sendall(b"a")
        check_eq(recv_exactly(s, 2), b"0a", "reply")
        s.sendall(b"byebye")
        check_eq(recv_until_eof(s), b"", "after byebye")
        s.close()


def test_separator():
    with Daemon(conf(separator=": ")) as d:
        s = connect(d.port)
        s.sendall(b"x")
        check_eq(recv_exactly(s, 4), b"0: x", "reply")
        s.close()


def test_eof_ends_session():
    with Daemon(conf()) as d:
        check_eq(send_recv_all(d.port, b"only"), b"0only", "reply")
        d.wait_log(r"reason=eof")


def test_nul_and_cr_kept():
    with Daemon(conf()) as d:
        s = connect(d.port)
        s.sendall(b"a\0b\r\n")
        check_eq(recv_exactly(s, 6), b"0a\0b\r\n", "reply")
        s.close()


harness.main(globals())
