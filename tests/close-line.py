#!/usr/bin/env python3
"""close-line - what each connection's close line says about it.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

messages=, in= the bytes received, out= exactly the bytes the client got
(error lines included), duration= the connection's life, first= who closed
first, and reason=.
"""

import re
import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, recv_until_eof, \
    server_conf

CLOSE_RE = (r"conn \d+ closed peer=127\.0\.0\.1:%d messages=(?P<messages>\d+) "
            r"in=(?P<in>\d+) out=(?P<out>\d+) "
            r"duration=(?P<duration>\d+\.\d{3})s first=(?P<first>\w+) "
            r"reason=(?P<reason>\S+)")


def close_line(d, port):
    """The close line of the connection from local port port, as a dict."""
    m = d.wait_log(CLOSE_RE % port).groupdict()
    return dict((k, v if k in ("first", "reason") else
                 float(v) if k == "duration" else int(v))
                for k, v in m.items())


def session(d, data, half_close=True):
    """Send data (then half-close, if told to), read to the end;
    returns (local port, bytes received, seconds from connect to EOF)."""
    t0 = time.monotonic()
    s = connect(d.port)
    port = s.getsockname()[1]
    harness.sendall_bounded(s, data)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    got = recv_until_eof(s, timeout=10)
    took = time.monotonic() - t0
    s.close()
    return port, got, took


def test_eof_counts_both_ways():
    data = b"".join(b"message %d\n" % i for i in range(100)) + b"tail"
    with Daemon() as d:
        port, got, _ = session(d, data)
        check_eq(got.count(b"\n"), 101, "replies")
        line = close_line(d, port)
        check_eq((line["messages"], line["in"], line["out"], line["first"],
                  line["reason"]),
                 (101, len(data), len(got), "client", "eof"),
                 "messages, in, out, first, reason")


def test_bye_out_is_what_the_client_read():
    # A megabyte of replies: out= is every byte of them, counted as sent.
    data = b"".join(b"%d %s\n" % (i, b"p" * 100) for i in range(10000))
    with Daemon() as d:
        port, got, _ = session(d, data + b"bye\n", half_close=False)
        check_eq(got.count(b"\n"), 10000, "replies")
        line = close_line(d, port)
        check_eq((line["messages"], line["in"], line["out"], line["first"],
                  line["reason"]),
                 (10000, len(data) + 4, len(got), "server", "bye"),
                 "messages, in, out, first, reason")


def test_error_line_counts_in_out():
    with Daemon(server_conf(max_line=8)) as d:
        data = b"short\n" + b"x" * 20 + b"\n"
        port, got, _ = session(d, data, half_close=False)
        check_eq(got, b"0short\nERR line too long\n", "replies")
        line = close_line(d, port)
        check_eq((line["messages"], line["out"], line["reason"]),
                 (1, len(got), "too-long"), "messages, out, reason")


def test_duration_is_the_connections_life():
    # The idle timer is the clock: the connection lives idle_timeout
    # seconds by the daemon's own reckoning, and no longer than the client
    # saw it live.
    with Daemon(server_conf(idle_timeout=1)) as d:
        t0 = time.monotonic()
        s = connect(d.port)
        port = s.getsockname()[1]
        check_eq(recv_until_eof(s, timeout=4), b"ERR idle timeout\n", "ERR")
        s.close()
        line = close_line(d, port)
        took = time.monotonic() - t0
        check(1.0 <= line["duration"] <= took + 0.05,
              "duration=%.3fs, the client saw %.3fs" % (line["duration"], took))
        check_eq((line["out"], line["reason"]), (17, "timeout"), "out, reason")


def test_short_connection_duration():
    with Daemon() as d:
        port, got, took = session(d, b"x\n")
        check_eq(got, b"0x\n", "reply")
        line = close_line(d, port)
        check(0 <= line["duration"] <= took + 0.05,
              "duration=%.3fs, the client saw %.3fs" % (line["duration"], took))


harness.main(globals())
