#!/usr/bin/env python3
"""ipv6: listening on [::1]:PORT, serving over IPv6, lists of addresses
and "*" (every address, IPv4 and IPv6); with port 0 every listener of one
daemon shares the one port the kernel chose.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import harness
from harness import Daemon, check, check_eq, send_recv_all, server_conf

if not harness.have_ipv6_loopback():
    harness.skip_all("no IPv6 loopback")


def test_v6_loopback():
    with Daemon(server_conf(address="::1")) as d:
        check_eq(d.address, "[::1]", "logged address")
        d.wait_log(r"listening on \[::1\]:%d" % d.port)
        check_eq(send_recv_all(d.port, b"six\n", host="::1"), b"0six\n", "reply")
        d.wait_log(r"\[::1\]:\d+.*reason=eof|reason=eof.*\[::1\]:\d+")


def test_a_option_v6():
    with Daemon(server_conf(), args=["-a", "::1"]) as d:
        check_eq(d.address, "[::1]", "logged address")
        check_eq(send_recv_all(d.port, b"six\n", host="::1"), b"0six\n", "reply")


def test_list_v4_and_v6():
    with Daemon(server_conf(address=["127.0.0.1", "::1"])) as d:
        ls = harness.wait_for(lambda: len(d._listeners()) >= 2 and d._listeners(),
                              3, "two listeners")
        check_eq(sorted(a for a, p in ls), ["127.0.0.1", "[::1]"], "listeners %r" % ls)
        for a, p in ls:
            host = a.strip("[]")
            check_eq(send_recv_all(p, b"hi\n", host=host), b"0hi\n", "reply on " + a)


def test_star():
    with Daemon(server_conf(address="*")) as d:
        ls = harness.wait_for(lambda: len(d._listeners()) >= 2 and d._listeners(),
                              3, "two listeners")
        v4 = [p for a, p in ls if ":" not in a.strip("[]")]
        v6 = [p for a, p in ls if ":" in a.strip("[]")]
        check(v4 and v6, "want IPv4 and IPv6 listeners: %r" % ls)
        check_eq(send_recv_all(v4[0], b"four\n"), b"0four\n", "over IPv4")
        check_eq(send_recv_all(v6[0], b"six\n", host="::1"), b"0six\n", "over IPv6")


def listeners(d, n):
    """The daemon's listeners once it has logged n of them."""
    return harness.wait_for(lambda: len(d._listeners()) >= n and d._listeners(),
                            3, "%d listeners" % n)


def check_one_port(address):
    # port = 0 asks the kernel for one port: the first listener's, which
    # every other address then binds too.
    with Daemon(server_conf(address=address)) as d:
        ls = listeners(d, 2)
        check_eq(sorted(set(p for a, p in ls)), [d.port],
                 "ports of the listeners %r" % ls)
        check_eq(send_recv_all(d.port, b"four\n"), b"0four\n", "over IPv4")
        check_eq(send_recv_all(d.port, b"six\n", host="::1"), b"0six\n",
                 "over IPv6")


def test_list_shares_one_port():
    check_one_port(["127.0.0.1", "::1"])


def test_star_shares_one_port():
    check_one_port("*")


harness.main(globals())
