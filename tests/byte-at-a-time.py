#!/usr/bin/env python3
"""byte-at-a-time: a client that sends one byte per segment is answered
exactly as if it had sent whole lines.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import time

import harness
from harness import Daemon, check_eq, connect, read_lines, recv_until_eof, \
    server_conf


def dribble(s, data, pause=0.0):
    for i in range(len(data)):
        s.send(data[i:i + 1])
        if pause:
            time.sleep(pause)


def nodelay(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def test_hello_world_bye():
    with Daemon() as d:
        s = nodelay(connect(d.port))
        dribble(s, b"hello\r\nworld\nbye\n", 0.002)
        check_eq(recv_until_eof(s), b"0hello\n1world\n", "replies")
        s.close()


def test_cr_and_lf_apart():
    # "abc\r" then "\n" in separate segments: the CR is still dropped.
    with Daemon() as d:
        s = nodelay(connect(d.port))
        s.send(b"abc\r")
        time.sleep(0.1)
        s.send(b"\n")
        check_eq(read_lines(s, 1), [b"0abc"], "reply")
        s.send(b"x\r")
        time.sleep(0.1)
        s.send(b"\r")
        time.sleep(0.1)
        s.send(b"\n")
        check_eq(read_lines(s, 1), [b"1x\r"], "reply")
        s.close()


def test_long_line_byte_at_a_time():
    # max_line bytes, one per segment; then max_line again with CRLF.
    with Daemon(server_conf(max_line=2000)) as d:
        s = nodelay(connect(d.port))
        line = bytes(b"abcdefghij"[i % 10] for i in range(2000))
        dribble(s, line + b"\n")
        check_eq(read_lines(s, 1), [b"0" + line], "reply")
        dribble(s, line + b"\r\n")
        check_eq(read_lines(s, 1), [b"1" + line], "reply")
        s.close()


def test_reply_after_each_line():
    with Daemon() as d:
        s = nodelay(connect(d.port))
        for i in range(30):
            dribble(s, b"m%d\n" % i)
            check_eq(read_lines(s, 1), [b"%dm%d" % (i, i)], "reply %d" % i)
        dribble(s, b"bye\n")
        check_eq(recv_until_eof(s), b"", "after bye")
        s.close()


harness.main(globals())
