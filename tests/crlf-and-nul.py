#!/usr/bin/env python3
"""crlf-and-nul: one CR before LF is dropped; every other byte, NUL
included, is echoed unchanged.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import harness
from harness import Daemon, check_eq, send_recv_all


def test_crlf():
    with Daemon() as d:
        got = send_recv_all(d.port, b"a\r\n\r\nb\r\r\nc\rd\n\re\n")
        check_eq(got, b"0a\n1\n2b\r\n3c\rd\n4\re\n", "replies")


def test_nul_bytes():
    with Daemon() as d:
        got = send_recv_all(d.port, b"\0\na\0b\n\0\0\0\r\n")
        check_eq(got, b"0\0\n1a\0b\n2\0\0\0\n", "replies")


def test_every_byte_value():
    data = bytes(b for b in range(256) if b != 10)
    with Daemon() as d:
        got = send_recv_all(d.port, data + b"\n" + data[::-1] + b"\n")
        check_eq(got, b"0" + data + b"\n1" + data[::-1] + b"\n", "replies")


def test_nul_before_bye_is_not_bye():
    with Daemon() as d:
        got = send_recv_all(d.port, b"bye\0\n\0bye\nbye\nafter\n")
        check_eq(got, b"0bye\0\n1\0bye\n", "replies")


def test_high_bytes_and_utf8():
    with Daemon() as d:
        msg = "grüße, 你好, \u2028 ok".encode() + b"\xff\xfe\x80"
        check_eq(send_recv_all(d.port, msg + b"\n"), b"0" + msg + b"\n", "reply")


harness.main(globals())
