#!/usr/bin/env python3
"""max-connections: past max_connections a client gets
ERR too many connections and is closed; a freed slot is reused.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, send_recv_all, server_conf

ERR = b"ERR too many connections\n"


def served(s, tag):
    s.sendall(tag + b"\n")
    check_eq(read_lines(s, 1), [b"0" + tag], "reply to " + tag.decode())


def test_limit_two():
    with Daemon(server_conf(max_connections=2)) as d:
        a = connect(d.port)
        served(a, b"a")
        b = connect(d.port)
        served(b, b"b")
        for i in range(3):
            c = connect(d.port)
            check_eq(recv_until_eof(c), ERR, "connection %d past the limit" % i)
            c.close()
        d.wait_log(r"reason=full")
        # The two in the limit still work.
        a.sendall(b"again\n")
        check_eq(read_lines(a, 1), [b"1again"], "a still served")
        # Free one slot: a new client gets it.
        a.sendall(b"bye\n")
        check_eq(recv_until_eof(a), b"", "a after bye")
        a.close()
        d.wait_log(r"reason=bye")
        c = connect(d.port)
        served(c, b"c")
        # And now the limit holds again.
        e = connect(d.port)
        check_eq(recv_until_eof(e), ERR, "connection past the limit")
        e.close()
        for s in (b, c):
            s.sendall(b"bye\n")
            check_eq(recv_until_eof(s), b"", "after bye")
            s.close()


def test_limit_one_many_rejected():
    with Daemon(server_conf(max_connections=1)) as d:
        a = connect(d.port)
        served(a, b"a")
        rejected = [connect(d.port) for _ in range(20)]
        for i, c in enumerate(rejected):
            check_eq(recv_until_eof(c), ERR, "rejected %d" % i)
            c.close()
        a.sendall(b"x\n")
        check_eq(read_lines(a, 1), [b"1x"], "a still served")
        a.close()
        # Once a has gone, the slot is free (bounded wait for the close).
        d.wait_log(r"reason=eof")
        check_eq(send_recv_all(d.port, b"y\n"), b"0y\n", "after the slot freed")


def test_rejected_client_sending_data():
    # A rejected client that sends data anyway still reads the ERR line
    # (no RST wipes it).
    with Daemon(server_conf(max_connections=1)) as d:
        a = connect(d.port)
        served(a, b"a")
        c = connect(d.port)
        c.sendall(b"hello\n" * 1000)
        try:
            got = recv_until_eof(c)
        except ConnectionResetError:
            got = "connection reset"
        check_eq(got, ERR, "rejected client")
        c.close()
        a.close()


harness.main(globals())
