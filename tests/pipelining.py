#!/usr/bin/env python3
"""pipelining: many messages in one write get their replies in order.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import threading

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, send_recv_all, sendall_bounded


def test_1000_in_one_write():
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"".join(b"m%d\n" % i for i in range(1000)))
        got = read_lines(s, 1000)
        check_eq(got, [b"%dm%d" % (i, i) for i in range(1000)], "replies")
        s.sendall(b"bye\n")
        check_eq(recv_until_eof(s), b"", "after bye")
        s.close()


def test_1000_then_half_close():
    data = b"".join(b"message number %d\n" % i for i in range(1000))
    want = b"".join(b"%dmessage number %d\n" % (i, i) for i in range(1000))
    with Daemon() as d:
        check_eq(send_recv_all(d.port, data), want, "replies")


def test_100000_while_reading():
    # Sender and reader at once, with lines of varied length: replies stay
    # in order and none is lost or doubled.
    n = 100000
    lines = [b"%d:" % i + b"x" * (i % 200) for i in range(n)]
    data = b"".join(l + b"\n" for l in lines)
    with Daemon() as d:
        s = connect(d.port, timeout=20)
        err = []

        def send():
            try:
                sendall_bounded(s, data, timeout=20)
                s.shutdown(socket.SHUT_WR)
            except Exception as e:
                err.append(e)
        th = threading.Thread(target=send)
        th.start()
        got = recv_until_eof(s, timeout=20)
        th.join()
        s.close()
        check(not err, "send failed: %r" % err)
        got = got.split(b"\n")
        check_eq(got[-1], b"", "tail after last LF")
        got = got[:-1]
        check_eq(len(got), n, "number of replies")
        for i, l in enumerate(got):
            if l != b"%d" % i + lines[i]:
                check_eq(l, b"%d" % i + lines[i], "reply %d" % i)


def test_pipelined_across_writes():
    # Messages split across writes at every possible point.
    msg = b"alpha\nbeta\ngamma\n"
    with Daemon() as d:
        for cut in range(1, len(msg)):
            s = connect(d.port)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(msg[:cut])
            s.sendall(msg[cut:])
            check_eq(read_lines(s, 3), [b"0alpha", b"1beta", b"2gamma"], "cut at %d" % cut)
            s.close()


harness.main(globals())
