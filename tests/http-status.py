#!/usr/bin/env python3
"""http-status: /status.json lists the counters, the listeners, the eleven
TCP states and the open connections (taken from every worker); HEAD is GET
without a body, other methods 405 with Allow, other paths 404; the 65th
HTTP connection is closed at once; a slow HTTP client holds up no echo
traffic.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import time

import harness
import httpget
from harness import check, check_eq, connect, read_lines, wait_for

STATES = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT_1", "FIN_WAIT_2",
          "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
          "CLOSING"]
CONN_FIELDS = ["id", "peer", "via", "local", "tls", "state", "phase",
               "messages", "bytes_in", "bytes_out", "age"]


def test_fields_and_held_connections():
    d = httpget.daemon(workers=3, name="edge-1")
    with d:
        socks = httpget.hold(d.port, 5)
        # The states are sampled at most a second before: wait for them.
        def settled():
            st = httpget.status(d.http_port)
            return st if st["tcp_states"]["ESTABLISHED"] == 10 else None
        st = wait_for(settled, what="10 ESTABLISHED")
        check_eq(st["name"], "edge-1", "name")
        check_eq(st["http"], "127.0.0.1:%d" % d.http_port, "http")
        check_eq((st["workers"], st["workers_answered"]), (3, 3), "workers")
        check_eq(st["listeners"], [{"address": "127.0.0.1:%d" % d.port,
                                    "proxy": "none", "tls": False}],
                 "listeners")
        check_eq(sorted(st["tcp_states"]), sorted(STATES), "eleven states")
        check_eq(st["tcp_states"]["ESTABLISHED"], 10, "ESTABLISHED, both ends")
        check_eq(st["tcp_states_daemon"]["ESTABLISHED"], 5, "daemon's")
        check_eq(st["tcp_states_clients"]["ESTABLISHED"], 5, "clients'")
        check_eq(st["tcp_states"]["LISTEN"], 1, "LISTEN")
        k = st["counters"]
        check_eq((k["connections_open"], k["accepted"], k["messages"]),
                 (5, 5, 5), "counters")
        check_eq(len(k["closed"]), 10, "every reason")
        conns = st["connections"]
        check_eq(len(conns), 5, "connections listed")
        peers = sorted("127.0.0.1:%d" % s.getsockname()[1] for s in socks)
        check_eq(sorted(c["peer"] for c in conns), peers, "peers")
        check_eq([c["id"] for c in conns],
                 sorted((c["id"] for c in conns), reverse=True),
                 "newest first")
        for c in conns:
            check_eq(sorted(c), sorted(CONN_FIELDS), "fields")
            check_eq((c["via"], c["tls"], c["state"], c["phase"]),
                     (None, None, "ESTABLISHED", "reading"), "conn")
            check_eq(c["local"], "127.0.0.1:%d" % d.port, "local")
            check_eq((c["messages"], c["bytes_in"], c["bytes_out"]),
                     (1, 3, 4), "counts")
            check(0 <= c["age"] < 60, "age %s" % c["age"])
        for s in socks:
            s.close()
        wait_for(lambda: httpget.status(d.http_port)["connections"] == [],
                 what="connections gone from the list")


def test_most_recent_hundred():
    d = httpget.daemon(workers=2)
    with d:
        socks = httpget.hold(d.port, 120)
        st = httpget.status(d.http_port)
        check_eq(st["counters"]["connections_open"], 120, "open")
        ids = [c["id"] for c in st["connections"]]
        check_eq(len(ids), 100, "listed")
        check_eq(ids, list(range(120, 20, -1)), "the newest 100")
        for s in socks:
            s.close()


def test_head_405_404():
    d = httpget.daemon()
    with d:
        for path in ("/", "/metrics", "/status.json"):
            status, hdrs, body = httpget.request(d.http_port, path)
            check_eq(status, 200, "GET " + path)
            hstatus, hhdrs, hbody = httpget.request(d.http_port, path,
                                                    method="HEAD")
            check_eq((hstatus, hbody), (200, b""), "HEAD " + path)
            check_eq(hhdrs["content-type"], hdrs["content-type"],
                     "HEAD's type")
            if path != "/status.json":	# its length moves with the time
                check_eq(hhdrs["content-length"], str(len(body)),
                         "HEAD's length")
        for method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
            status, hdrs, _ = httpget.request(d.http_port, "/metrics",
                                              method=method)
            check_eq(status, 405, method)
            check_eq(hdrs.get("allow"), "GET, HEAD", "Allow")
        for path in ("/nope", "/metrics/", "/status", "/index.html"):
            status, _, _ = httpget.request(d.http_port, path)
            check_eq(status, 404, path)
        status, _, body = httpget.request(d.http_port, "/metrics?x=1")
        check_eq(status, 200, "a query is not a path")
        _, body = httpget.get(d.http_port, "/")
        check(body.startswith(b"<!DOCTYPE html>"), "the page")
        check(b"<script src" not in body and b"<link" not in body and
              b"http://" not in body.replace(b"http://www.w3.org/2000/svg",
                                             b""), "self-contained")


def closed_at_once(s):
    """Whether the peer closes s without a byte, within a bounded wait."""
    s.settimeout(harness.t(5))
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_65th_connection_closed():
    d = httpget.daemon()
    with d:
        idle = [connect(d.http_port) for _ in range(64)]
        # The 64 are accepted: a request on the last is answered.
        idle[-1].sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        check(b"200 OK" in harness.recv_until_eof(idle[-1]), "64th served")
        idle[-1] = connect(d.http_port)
        extra = connect(d.http_port)
        check(closed_at_once(extra), "65th closed at once")
        extra.close()
        # Echo traffic is untouched meanwhile.
        check_eq(harness.send_recv_all(d.port, b"a\nbye\n"), b"0a\n", "echo")
        # One gone, one more fits.
        idle.pop().close()

        def served():
            try:
                return httpget.request(d.http_port, "/metrics")[0] == 200
            except OSError:
                return False
        wait_for(served, timeout=10, what="a place again")
        for s in idle:
            s.close()


def test_slow_client_does_not_block_echo():
    d = httpget.daemon(workers=1)
    with d:
        # Half a request, and a reader that reads nothing of a reply.
        half = connect(d.http_port)
        half.sendall(b"GET /metr")
        slow = []
        for _ in range(8):
            s = connect(d.http_port)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
            slow.append(s)
        start = time.monotonic()
        for i in range(20):
            check_eq(harness.send_recv_all(d.port, b"m%d\nbye\n" % i),
                     b"0m%d\n" % i, "echo %d" % i)
        took = time.monotonic() - start
        check(took < harness.t(3), "20 echo sessions took %.2fs" % took)
        check_eq(httpget.status(d.http_port)["counters"]["accepted"], 20,
                 "status answers beside them")
        # The half request times out (10 s) and is closed.
        check(closed_at_once_within(half, 15), "half request closed")
        for s in slow:
            s.close()


def closed_at_once_within(s, secs):
    s.settimeout(harness.t(secs))
    try:
        while True:
            b = s.recv(4096)
            if not b:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


harness.main(globals())
