#!/usr/bin/env python3
"""port-zero: with port = 0 and several addresses ("*", a list), every
listener is on the one port the kernel chose for the first, and a reload
that keeps the group keeps its port, for a new address too.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import harness
from harness import Daemon, check, check_eq, send_recv_all, server_conf


def need_ipv6():
    if not harness.have_ipv6_loopback():
        harness.skip("no IPv6 loopback (::1 cannot be bound)")


def listeners(d, n):
    """The first n `listening on` lines, as (address, port)."""
    return harness.wait_for(lambda: len(d._listeners()) >= n and
                            d._listeners()[:n], 3, "%d listeners" % n)


def host_of(address):
    if address in ("0.0.0.0", "127.0.0.1"):
        return "127.0.0.1"
    return "::1"                        # [::] or [::1]


def one_port(ls):
    ports = sorted(set(p for a, p in ls))
    check_eq(len(ports), 1, "ports of %r" % ls)
    check(ports[0] != 0, "port 0 logged")
    return ports[0]


def serves(port, ls):
    for a, p in ls:
        host = host_of(a.strip("[]"))
        check_eq(send_recv_all(port, b"hi\n", host=host), b"0hi\n",
                 "reply on %s:%d" % (host, port))


def test_star_shares_one_port():
    need_ipv6()
    with Daemon(server_conf(address="*")) as d:
        ls = listeners(d, 2)
        fam = sorted(":" in a.strip("[]") for a, p in ls)
        check_eq(fam, [False, True], "an IPv4 and an IPv6 listener: %r" % ls)
        serves(one_port(ls), ls)


def test_list_shares_one_port():
    need_ipv6()
    with Daemon(server_conf(address=["127.0.0.1", "::1"])) as d:
        ls = listeners(d, 2)
        check_eq(sorted(a for a, p in ls), ["127.0.0.1", "[::1]"],
                 "listeners")
        serves(one_port(ls), ls)


def test_reload_keeps_the_port():
    need_ipv6()
    with Daemon(server_conf(address=["127.0.0.1", "::1"])) as d:
        port = one_port(listeners(d, 2))
        mark = d.reload(server_conf(address=["127.0.0.1", "::1"],
                                     separator=":"))
        check_eq(d.log_lines(r"listening on", since=mark), [],
                 "listeners changed on an unchanged reload")
        for host in ("127.0.0.1", "::1"):
            check_eq(send_recv_all(port, b"a\n", host=host), b"0:a\n",
                     "after reload on %s" % host)


def test_reload_adds_an_address_on_the_port():
    need_ipv6()
    with Daemon(server_conf(address="127.0.0.1")) as d:
        port = one_port(listeners(d, 1))
        mark = d.reload(server_conf(address=["127.0.0.1", "::1"]))
        m = d.wait_log(r"listening on \[::1\]:(\d+)", since=mark)
        check_eq(int(m.group(1)), port, "port of the address added")
        for host in ("127.0.0.1", "::1"):
            check_eq(send_recv_all(port, b"b\n", host=host), b"0b\n",
                     "after reload on %s" % host)


harness.main(globals())
