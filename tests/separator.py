#!/usr/bin/env python3
"""separator: the configured separator goes between serial and message.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import harness
from harness import Daemon, check_eq, send_recv_all, server_conf


def test_default_is_empty():
    with Daemon(server_conf()) as d:
        check_eq(send_recv_all(d.port, b"hello\n"), b"0hello\n", "reply")


def test_colon_space():
    with Daemon(server_conf(separator=": ")) as d:
        check_eq(send_recv_all(d.port, b"hello\nworld\n\n"),
                 b"0: hello\n1: world\n2: \n", "replies")


def test_tab():
    with Daemon(server_conf(separator="\t")) as d:
        check_eq(send_recv_all(d.port, b"a\nb\n"), b"0\ta\n1\tb\n", "replies")


def test_long_separator():
    sep = "<" + "-" * 62 + ">"        # 64 bytes
    with Daemon(server_conf(separator=sep)) as d:
        check_eq(send_recv_all(d.port, b"x\n"), b"0" + sep.encode() + b"x\n", "reply")


def test_separator_not_counted_in_max_line():
    with Daemon(server_conf(separator="::", max_line=4)) as d:
        check_eq(send_recv_all(d.port, b"abcd\n"), b"0::abcd\n", "reply")


def test_segment_framing():
    with Daemon(server_conf(separator=" ", framing="segment")) as d:
        check_eq(send_recv_all(d.port, b"hello"), b"0 hello", "reply")


harness.main(globals())
