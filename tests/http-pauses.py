#!/usr/bin/env python3
"""http-pauses: with few descriptors, the http endpoint's are budgeted
(max_connections is lowered for them), it still answers while the echo
listeners are full and accepting is paused, and /metrics counts the
pause and the rejections. Left out under valgrind, which takes
descriptors of its own (tests/valgrind.sh).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import resource
import socket

import harness
import httpget
from harness import check, check_eq, connect, wait_for

NOFILE = 200


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def sample(port, name):
    return httpget.metrics(port)[0][(name, "")]


def test_pause_counted_and_http_answers():
    d = httpget.HttpDaemon(harness.server_conf(http="127.0.0.1:0",
                                               max_connections=1000),
                           preexec_fn=low_nofile)
    with d:
        m = d.wait_log(r"max_connections lowered to (\d+)")
        limit = int(m.group(1))
        # Room for all 64 HTTP connections beside the echo ones.
        check(limit <= NOFILE - 64 - 16, "limit %d leaves the endpoint "
              "its descriptors" % limit)
        held = httpget.hold(d.port, limit)
        check_eq(sample(d.http_port, "seqecho_accept_pauses_total"), 0,
                 "no pause yet")
        # Rejected ones linger (up to 2 s) until their room is full.
        over = []
        for _ in range(NOFILE):
            try:
                over.append(connect(d.port, timeout=1))
            except OSError:
                break
        wait_for(lambda: sample(d.http_port, "seqecho_accept_pauses_total")
                 >= 1, timeout=10, what="an accept pause counted")
        # Many HTTP clients at once still get their answers.
        web = [connect(d.http_port) for _ in range(32)]
        for s in web:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        for s in web:
            check(b" 200 OK" in harness.recv_until_eof(s, timeout=10),
                  "answered while paused")
            s.close()
        check(sample(d.http_port, "seqecho_connections_rejected_total") >= 1,
              "rejections counted")
        check_eq(sample(d.http_port, "seqecho_connections_open"), limit,
                 "open")
        for s in over + held:
            s.close()


harness.main(globals())
