#!/usr/bin/env python3
"""half-close: end of stream without bye ends the session; a non-empty
unterminated tail is the last message; nothing owed is lost.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, run_client, send_recv_all


def test_tail_echoed():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b"hello"), b"0hello\n", "reply")
        d.wait_log(r"reason=eof")


def test_lines_and_tail():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b"a\nb\nc"), b"0a\n1b\n2c\n", "replies")


def test_no_tail():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b"a\nb\n"), b"0a\n1b\n", "replies")


def test_nothing_sent():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b""), b"", "replies")
        d.wait_log(r"reason=eof")


def test_tail_with_nul():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b"x\n\0tail\0"), b"0x\n1\0tail\0\n", "replies")


def test_half_close_after_reading():
    # Replies already read, then the half-close: the server closes too.
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"one\n")
        check_eq(read_lines(s, 1), [b"0one"], "reply")
        s.shutdown(socket.SHUT_WR)
        check_eq(recv_until_eof(s), b"", "after half-close")
        s.close()
        check(d.alive(), "daemon died")


def test_many_owed_then_tail():
    n = 20000
    data = b"".join(b"line %d\n" % i for i in range(n)) + b"tail"
    want = b"".join(b"%dline %d\n" % (i, i) for i in range(n)) + b"%dtail\n" % n
    with Daemon() as d:
        check_eq(send_recv_all(d.port, data, timeout=10), want, "replies")


def test_printf_hello_pipe_client():
    # printf hello | seqecho 127.0.0.1 PORT
    harness.require_program(harness.seqecho_path())
    with Daemon() as d:
        rc, out, err = run_client(["127.0.0.1", str(d.port)], b"hello")
        check_eq((rc, out), (0, b"0hello\n"), "client rc, stdout (stderr %r)" % err)


harness.main(globals())
