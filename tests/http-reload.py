#!/usr/bin/env python3
"""http-reload: the http setting. Port 0 is logged with the port chosen,
IPv6 goes in brackets; a bad value is FILE:LINE: http: at start and with
-t, and a reload with one keeps the running endpoint; an address in use
is "bind http ADDRESS:PORT: ..." and exit 1 at start; SIGHUP adds, moves
and removes the endpoint.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import re
import socket

import harness
import httpget
from harness import Daemon, check, check_eq, free_port, run_daemon, \
    server_conf, wait_for, write_file

# server_conf writes port on line 3, address on 4, then the rest.
BAD = [
    ("127.0.0.1", "127.0.0.1: must be ADDRESS:PORT"),
    ("127.0.0.1:70000", "port 70000: must be 0..65535"),
    ("127.0.0.1:x", "port x: must be 0..65535"),
    ("::1:9234", "::1:9234: an IPv6 address goes in brackets, as "
     "[::1]:9234"),
    ("[::1]", "[::1]: must be [ADDRESS]:PORT"),
    ("[1.2.3.4]:80", "1.2.3.4: not an IPv6 address"),
    ("999.1.1.1:80", "999.1.1.1: not an IPv4 address"),
]


def refused(port):
    try:
        httpget.request(port, "/metrics", timeout=2)
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    return False


def test_bad_http_is_file_line():
    for value, why in BAD:
        path = write_file(server_conf(http=value))
        for args in (["-c", path], ["-t", "-c", path]):
            rc, out, err = run_daemon(args)
            check_eq(rc, 1, "%s %s: exit" % (args[0], value))
            want = "%s:5: http: %s" % (path, why)
            check(err.strip().endswith(want),
                  "%s: got %r, want a line ending %r" % (value, err, want))
            check("listening" not in err, "bound nothing")
    rc, out, err = run_daemon(["-t", "-c", write_file(server_conf(
        http="[::1]:9234"))])
    check_eq((rc, err.strip()), (0, "configuration OK"), "-t good")
    rc, out, err = run_daemon(["-t", "-c", write_file(server_conf(
        http=5))])
    check_eq(rc, 1, "an int")
    check(":5: http: " in err, err)


def test_port_zero_and_ipv6_logged():
    d = httpget.daemon()
    with d:
        m = d.wait_log(httpget.HTTP_RE)
        check_eq(m.group(1), "127.0.0.1", "address")
        check(int(m.group(2)) != 0, "the port chosen, not 0")
        httpget.get(d.http_port, "/metrics")
    if not harness.have_ipv6_loopback():
        harness.skip("no IPv6 loopback")
    d = httpget.daemon(http="[::1]:0")
    with d:
        m = d.wait_log(httpget.HTTP_RE)
        check_eq(m.group(1), "[::1]", "IPv6 in brackets")
        httpget.get(d.http_port, "/metrics", host="::1")


def test_address_in_use_at_start():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        path = write_file(server_conf(http="127.0.0.1:%d" % port))
        rc, out, err = run_daemon(["-c", path])
        check_eq(rc, 1, "exit")
        check("bind http 127.0.0.1:%d: Address already in use" % port in err,
              err)
    finally:
        busy.close()


def test_sighup_adds_moves_removes():
    with Daemon(server_conf()) as d:
        check(not d.log_lines("http"), "off by default")
        target = free_port()
        mark = d.reload(server_conf(http="127.0.0.1:%d" % target))
        check_eq(httpget.http_port(d, since=mark), target, "added")
        httpget.get(target, "/metrics")
        # Moved to a port the kernel chooses: the old one is let go.
        mark = d.reload(server_conf(http="127.0.0.1:0"))
        moved = httpget.http_port(d, since=mark)
        check(moved != target, "moved")
        d.wait_log(r"http no longer listening on 127.0.0.1:%d" % target,
                   since=mark)
        httpget.get(moved, "/metrics")
        check(refused(target), "old port let go")
        # The same file again: kept where it is, not rebound.
        mark = d.reload(server_conf(http="127.0.0.1:0"))
        check(not d.log_lines("http", since=mark), "kept")
        httpget.get(moved, "/metrics")
        # Its own address spelled out: kept too.
        mark = d.reload(server_conf(http="127.0.0.1:%d" % moved))
        check(not d.log_lines("http", since=mark), "kept, same address")
        mark = d.reload(server_conf())
        d.wait_log(r"http no longer listening on 127.0.0.1:%d" % moved,
                   since=mark)
        check(refused(moved), "removed")
        check_eq(harness.send_recv_all(d.port, b"a\nbye\n"), b"0a\n",
                 "echo throughout")


def test_reload_to_busy_or_bad_keeps_endpoint():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        d = httpget.daemon()
        with d:
            port = d.http_port
            mark = d.reload(server_conf(http="127.0.0.1:%d" %
                                        busy.getsockname()[1]))
            d.wait_log(r"bind http 127.0.0.1:%d: Address already in use" %
                       busy.getsockname()[1], since=mark)
            d.wait_log(r"keeping the running endpoint", since=mark)
            httpget.get(port, "/metrics")
            mark = d.reload(server_conf(http="127.0.0.1"),
                            want=r"reload failed")
            check(d.log_lines(r":5: http: 127.0.0.1: must be ADDRESS:PORT",
                              since=mark), "FILE:LINE in the log")
            samples, _ = httpget.metrics(port)
            check_eq(samples[("seqecho_config_reloads_total",
                              '{result="failed"}')], 1, "failed counted")
    finally:
        busy.close()


def test_shutdown_with_status_pending():
    # A status request while the daemon stops gets an answer or a close,
    # and the daemon exits cleanly (no leak, no crash under sanitizers).
    d = httpget.daemon(workers=4)
    with d:
        socks = [harness.connect(d.http_port) for _ in range(8)]
        for s in socks:
            s.sendall(b"GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n")
        check_eq(d.stop(), 0, "exit status")
        for s in socks:
            harness.recv_until_eof(s)
            s.close()


harness.main(globals())
