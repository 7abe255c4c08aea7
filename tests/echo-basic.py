#!/usr/bin/env python3
"""echo-basic: hello/world get 0hello 1world, bye closes, the daemon keeps
running, serials are per connection, and the log says what happened.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import socket

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, send_recv_all, server_conf

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} seqechod "
                      r"(error|warning|info|debug): \S")


def test_hello_world_bye():
    with Daemon() as d:
        # As in `printf 'hello\nworld\nbye\n' | nc 127.0.0.1 PORT`: no
        # half-close, so only bye can end the session.
        s = connect(d.port)
        s.sendall(b"hello\nworld\nbye\n")
        check_eq(recv_until_eof(s), b"0hello\n1world\n", "replies")
        s.close()
        d.wait_log(r"reason=bye")
        check(d.alive(), "daemon died after bye")
        # The next connection starts again at 0.
        check_eq(send_recv_all(d.port, b"hello\nbye\n"), b"0hello\n", "second session")


def test_one_at_a_time():
    with Daemon() as d:
        s = connect(d.port)
        for i in range(20):
            s.sendall(b"message %d\n" % i)
            check_eq(read_lines(s, 1), [b"%dmessage %d" % (i, i)], "reply %d" % i)
        s.sendall(b"bye\n")
        check_eq(recv_until_eof(s), b"", "after bye")
        s.close()


def test_empty_line():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b"\n\nx\n\nbye\n"), b"0\n1\n2x\n3\n", "replies")


def test_serials_per_connection():
    with Daemon() as d:
        a = connect(d.port)
        b = connect(d.port)
        a.sendall(b"a0\n")
        check_eq(read_lines(a, 1), [b"0a0"], "a")
        b.sendall(b"b0\nb1\n")
        check_eq(read_lines(b, 2), [b"0b0", b"1b1"], "b")
        a.sendall(b"a1\n")
        check_eq(read_lines(a, 1), [b"1a1"], "a")
        a.sendall(b"bye\n")
        b.sendall(b"bye\n")
        check_eq(recv_until_eof(a), b"", "a after bye")
        check_eq(recv_until_eof(b), b"", "b after bye")
        a.close()
        b.close()


def test_many_clients():
    with Daemon() as d:
        socks = [connect(d.port) for _ in range(50)]
        for i, s in enumerate(socks):
            s.sendall(b"".join(b"c%d m%d\n" % (i, k) for k in range(10)) + b"bye\n")
        for i, s in enumerate(socks):
            want = b"".join(b"%dc%d m%d\n" % (k, i, k) for k in range(10))
            check_eq(recv_until_eof(s), want, "client %d" % i)
            s.close()
        check(d.alive(), "daemon died")


def test_bye_is_a_whole_line():
    with Daemon() as d:
        got = send_recv_all(d.port, b"byebye\n bye\nbye \nBYE\nby\nbye\nlost\n")
        check_eq(got, b"0byebye\n1 bye\n2bye \n3BYE\n4by\n", "replies")


def test_bye_with_crlf():
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"a\r\nbye\r\n")
        check_eq(recv_until_eof(s), b"0a\n", "replies")
        s.close()


def test_log_lines():
    with Daemon() as d:
        s = connect(d.port)
        cport = s.getsockname()[1]
        s.sendall(b"hello\nbye\n")
        check_eq(recv_until_eof(s), b"0hello\n", "replies")
        s.close()
        m = d.wait_log(r".*reason=(\w[\w-]*).*")
        line = m.group(0)
        check_eq(m.group(1), "bye", "reason in " + line)
        check(":%d" % cport in line, "peer 127.0.0.1:%d not in %r" % (cport, line))
        opened = d.log_lines(r":%d\b" % cport)
        check(len(opened) >= 2, "want an open and a close line for port %d, got %r"
              % (cport, opened))
        for l in d.log_text().splitlines():
            check(LOG_LINE.match(l), "log line not in the contract's format: %r" % l)


harness.main(globals())
