#!/usr/bin/env python3
"""sigusr1: SIGUSR1 logs the counters, exact after known traffic:
connections now and in total, messages, bytes each way, who closed first,
and the closes by reason; the daemon keeps running.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import signal
import socket
import struct

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    send_recv_all, server_conf


def counters(d, since):
    m = d.wait_log(r"[^\n]*connections=[^\n]*", since=since)
    line = m.group(0)
    check("messages=" in line, "no messages= in %r" % line)
    msgs = re.search(r"messages=(\d+)", line)
    check(msgs is not None, "messages= without a number in %r" % line)
    return line, int(msgs.group(1))


def test_counters():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b"a\nb\nc\n"), b"0a\n1b\n2c\n", "replies")
        check_eq(send_recv_all(d.port, b"d\ne\n"), b"0d\n1e\n", "replies")
        open_one = connect(d.port)
        open_one.sendall(b"f\n")
        check_eq(read_lines(open_one, 1), [b"0f"], "reply")
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        line, msgs = counters(d, mark)
        check_eq(msgs, 6, "messages= in %r" % line)
        check(re.search(r"connections=\D{0,3}1\b", line) is not None,
              "want 1 connection now in %r" % line)
        check(d.alive(), "daemon died on SIGUSR1")

        open_one.sendall(b"g\nbye\n")
        check_eq(harness.recv_until_eof(open_one), b"1g\n", "reply")
        open_one.close()
        d.wait_log(r"reason=bye")
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        line, msgs = counters(d, mark)
        check_eq(msgs, 7, "messages= in %r" % line)
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")


def test_repeated():
    with Daemon() as d:
        for i in range(5):
            mark = d.mark()
            d.signal(signal.SIGUSR1)
            counters(d, mark)
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")


def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def closed(d, n):
    harness.wait_for(lambda: len(d.log_lines(r" closed ")) >= n, 5,
                     "%d close lines" % n)


def known_traffic(d):
    """One connection per way of ending, each closed and logged before the
    next; one left open. Returns what the counters must then say."""
    check_eq(send_recv_all(d.port, b"a\nb\nc\n"), b"0a\n1b\n2c\n", "eof")
    closed(d, 1)
    s = connect(d.port)             # bye: the server closes first
    s.sendall(b"x\nbye\n")
    check_eq(harness.recv_until_eof(s), b"0x\n", "bye")
    s.close()
    closed(d, 2)
    s = connect(d.port)             # 21 bytes, max_line is 10
    s.sendall(b"y" * 20 + b"\n")
    check_eq(harness.recv_until_eof(s), b"ERR line too long\n", "too long")
    s.close()
    closed(d, 3)
    s = connect(d.port)             # the client resets, so it was first
    s.sendall(b"d\n")
    check_eq(read_lines(s, 1), [b"0d"], "before the reset")
    rst(s)
    closed(d, 4)
    kept = connect(d.port)          # stays open: the one place there is
    kept.sendall(b"e\n")
    check_eq(read_lines(kept, 1), [b"0e"], "open")
    s = connect(d.port)
    check_eq(harness.recv_until_eof(s), b"ERR too many connections\n", "full")
    s.close()
    closed(d, 5)
    return kept, {
        "connections": 1, "total": 6, "messages": 3 + 1 + 0 + 1 + 1 + 0,
        "bytes_in": 6 + 6 + 21 + 2 + 2 + 0,
        "bytes_out": 9 + 3 + 18 + 3 + 3 + 25,
        "client_first": 2, "server_first": 3,
        "bye": 1, "eof": 1, "timeout": 0, "too-long": 1, "full": 1,
        "reset": 1, "error": 0, "shutdown": 0}


def test_exact_counts():
    with Daemon(server_conf(max_line=10, max_connections=1)) as d:
        kept, want = known_traffic(d)
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        line = d.wait_log(r"[^\n]*connections=[^\n]*", since=mark).group(0)
        got = dict(re.findall(r"([a-z_-]+)=(\d+)", line))
        check_eq({k: int(got[k]) for k in want if k in got}, want,
                 "counters in %r" % line)
        kept.close()


harness.main(globals())
