#!/usr/bin/env python3
"""http-metrics: GET /metrics gives every metric of design.md's table with
its type, in a text promtool finds nothing to say about, and the values
move as real clients (seqecho, seqecho-bench) connect, talk and close.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import re
import shutil
import signal
import socket
import subprocess
import time

import harness
import httpget
from harness import check, check_eq, connect, read_lines, server_conf, \
    wait_for, write_file

REASONS = ["bye", "eof", "timeout", "too-long", "full", "reset", "error",
           "shutdown", "proxy", "tls"]
STATES = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT_1", "FIN_WAIT_2",
          "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
          "CLOSING"]
TYPES = {
    "seqecho_build_info": "gauge",
    "seqecho_start_time_seconds": "gauge",
    "seqecho_connections_open": "gauge",
    "seqecho_connections_max": "gauge",
    "seqecho_connections_accepted_total": "counter",
    "seqecho_connections_rejected_total": "counter",
    "seqecho_connections_closed_total": "counter",
    "seqecho_messages_total": "counter",
    "seqecho_received_bytes_total": "counter",
    "seqecho_sent_bytes_total": "counter",
    "seqecho_connection_duration_seconds": "histogram",
    "seqecho_accept_pauses_total": "counter",
    "seqecho_config_reloads_total": "counter",
    "seqecho_proxy_health_checks_total": "counter",
    "seqecho_tcp_sockets": "gauge",
}
BOUNDS = ["0.001", "0.01", "0.1", "1", "10", "60", "600", "3600", "+Inf"]


def value(samples, name, labels=""):
    check((name, labels) in samples, "no sample %s%s" % (name, labels))
    return samples[(name, labels)]


def client(port, data, *args):
    rc, out, err = harness.run_client(list(args) + ["127.0.0.1", str(port)],
                                      stdin_bytes=data)
    check_eq(rc, 0, "seqecho exit (stderr %r)" % err)
    return out


def promtool(text):
    tool = shutil.which("promtool")
    if tool is None:
        harness.skip("promtool (Debian's prometheus) is not installed")
    p = subprocess.run([tool, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=harness.t(30))
    return p.returncode, (p.stdout + p.stderr).decode()


def test_every_metric_with_its_type():
    d = httpget.daemon()
    with d:
        hdrs, body = httpget.get(d.http_port, "/metrics")
        check_eq(hdrs["content-type"],
                 "text/plain; version=0.0.4; charset=utf-8", "content type")
        samples, types = httpget.metrics(d.http_port)
        for name, typ in TYPES.items():
            check_eq(types.get(name), typ, "type of " + name)
        check_eq(sorted(types), sorted(TYPES), "the metrics, and no others")
        for r in REASONS:
            check_eq(value(samples, "seqecho_connections_closed_total",
                           '{reason="%s"}' % r), 0, "closed " + r)
        for s in STATES:
            value(samples, "seqecho_tcp_sockets", '{state="%s"}' % s)
        for b in BOUNDS:
            value(samples, "seqecho_connection_duration_seconds_bucket",
                  '{le="%s"}' % b)
        for r in ("ok", "failed"):
            check_eq(value(samples, "seqecho_config_reloads_total",
                           '{result="%s"}' % r), 0, "reloads " + r)
        # Without TLS there is no certificate to expire.
        check("seqecho_tls_certificate_expiry_timestamp_seconds" not in
              body.decode(), "no TLS expiry without TLS")
        build = [k for k in samples if k[0] == "seqecho_build_info"]
        check_eq(len(build), 1, "one build_info")
        check_eq(build[0][1], '{version="%s",name="%s"}' %
                 (harness.run_daemon(["-V"])[1].split()[1],
                  socket.gethostname()), "build_info labels")
        start = value(samples, "seqecho_start_time_seconds")
        check(abs(start - time.time()) < 60, "start time %s" % start)
        check_eq(value(samples, "seqecho_connections_max"), 10000, "max")
        check_eq(value(samples, "seqecho_tcp_sockets", '{state="LISTEN"}'),
                 1, "the echo listener (not the HTTP one)")


def test_promtool_finds_nothing():
    d = httpget.daemon(name="edge \"1\"")
    with d:
        rc, out = promtool(httpget.metrics_text(d.http_port))
        check_eq((rc, out), (0, ""), "promtool on a fresh daemon")
        client(d.port, b"a\nb\nbye\n")
        s = connect(d.port)
        s.sendall(b"x" * 5000)
        check(b"ERR line too long" in harness.recv_until_eof(s),
              "too long")
        s.close()
        text = httpget.metrics_text(d.http_port)
        check('name="edge \\"1\\""' in text, "name escaped: " + text[:300])
        rc, out = promtool(text)
        check_eq((rc, out), (0, ""), "promtool after traffic")


def test_values_move_with_the_client():
    d = httpget.daemon()
    with d:
        before, _ = httpget.metrics(d.http_port)
        mark = d.mark()
        check_eq(client(d.port, b"hello\nworld\nbye\n"), b"0hello\n1world\n",
                 "replies")
        m = d.wait_log(r"closed .* in=(\d+) out=(\d+) .*reason=bye",
                       since=mark)
        after, _ = httpget.metrics(d.http_port)

        def moved(name, labels=""):
            return value(after, name, labels) - value(before, name, labels)
        check_eq(moved("seqecho_connections_accepted_total"), 1, "accepted")
        check_eq(moved("seqecho_messages_total"), 2, "messages")
        check_eq(moved("seqecho_received_bytes_total"), int(m.group(1)),
                 "bytes in, as the close line says")
        check_eq(moved("seqecho_sent_bytes_total"), int(m.group(2)),
                 "bytes out, as the close line says")
        check_eq(moved("seqecho_connections_closed_total", '{reason="bye"}'),
                 1, "closed bye")
        check_eq(moved("seqecho_connection_duration_seconds_count"), 1,
                 "durations")
        check_eq(value(after, "seqecho_connections_open"), 0, "open")


def test_values_move_with_the_bench():
    d = httpget.daemon(workers=2)
    with d:
        rc, out, err = harness.run_bench(
            ["-c", write_file(""), "--json", "-m", "3000", "-n", "4", "-P",
             "8", "127.0.0.1", str(d.port)], timeout=60)
        check_eq(rc, 0, "bench (stderr %r)" % err)
        report = json.loads(out)
        check_eq(report["messages"], 3000, "bench messages")
        # The bench's connections close as it exits: wait for the count.
        wait_for(lambda: value(httpget.metrics(d.http_port)[0],
                               "seqecho_connection_duration_seconds_count")
                 == 4, what="4 closes counted")
        samples, _ = httpget.metrics(d.http_port)
        check_eq(value(samples, "seqecho_messages_total"), 3000,
                 "messages summed over both workers")
        check_eq(value(samples, "seqecho_connections_accepted_total"), 4,
                 "accepted")
        closed = sum(value(samples, "seqecho_connections_closed_total",
                           '{reason="%s"}' % r) for r in REASONS)
        check_eq(closed, 4, "closed, every reason")
        check(value(samples, "seqecho_received_bytes_total") > 3000 * 16,
              "bytes in")


def test_open_connections_and_tcp_states():
    d = httpget.daemon()
    with d:
        held = httpget.hold(d.port, 3)
        samples, _ = httpget.metrics(d.http_port)
        check_eq(value(samples, "seqecho_connections_open"), 3, "open")

        def sockets(state):
            return value(httpget.metrics(d.http_port)[0],
                         "seqecho_tcp_sockets", '{state="%s"}' % state)
        # Both ends are on this host: the daemon's three and ours. The
        # states are sampled at most a second before: wait for them.
        wait_for(lambda: sockets("ESTABLISHED") == 6, what="6 ESTABLISHED")
        for s in held:
            s.close()
        wait_for(lambda: value(httpget.metrics(d.http_port)[0],
                               "seqecho_connections_open") == 0,
                 what="all closed")
        wait_for(lambda: sockets("ESTABLISHED") == 0, what="0 ESTABLISHED")
        # A line too long: the daemon says so and half-closes first, so
        # it waits in FIN_WAIT_2 and we, not closing, in CLOSE_WAIT. (Not
        # TIME_WAIT: the host's table of those may be full of others'.)
        s = connect(d.port)
        s.sendall(b"x" * 5000)
        check(b"ERR line too long" in harness.recv_until_eof(s), "too long")
        # Both in one sample, while the daemon lingers (2 s) on its end.
        def both():
            m = httpget.metrics(d.http_port)[0]
            return [value(m, "seqecho_tcp_sockets", '{state="%s"}' % state)
                    for state in ("CLOSE_WAIT", "FIN_WAIT_2")] == [1, 1]
        wait_for(both, what="1 CLOSE_WAIT and 1 FIN_WAIT_2")
        s.close()


def test_duration_buckets():
    d = httpget.daemon()
    with d:
        s = connect(d.port)
        s.sendall(b"a\n")
        read_lines(s, 1)
        time.sleep(1.2)		# the duration measured: not a wait
        s.sendall(b"bye\n")
        harness.recv_until_eof(s)
        s.close()
        client(d.port, b"bye\n")
        wait_for(lambda: value(httpget.metrics(d.http_port)[0],
                               "seqecho_connection_duration_seconds_count")
                 == 2, what="two closes")
        samples, _ = httpget.metrics(d.http_port)
        counts = [value(samples, "seqecho_connection_duration_seconds_bucket",
                        '{le="%s"}' % b) for b in BOUNDS]
        check_eq(counts, sorted(counts), "cumulative")
        check_eq(counts[3], 1, "one under a second")
        check_eq(counts[4], 2, "both under ten seconds")
        check_eq(counts[-1], 2, "+Inf is the count")
        total = value(samples, "seqecho_connection_duration_seconds_sum")
        check(1.2 <= total < 30, "sum %s" % total)


def test_rejected_and_accepted():
    d = httpget.daemon(max_connections=2)
    with d:
        held = [connect(d.port) for _ in range(2)]
        for i, s in enumerate(held):
            s.sendall(b"x\n")
            read_lines(s, 1)
        third = connect(d.port)
        check_eq(harness.read_line(third), b"ERR too many connections",
                 "third")
        third.close()
        wait_for(lambda: value(httpget.metrics(d.http_port)[0],
                               "seqecho_connections_closed_total",
                               '{reason="full"}') == 1, what="full closed")
        samples, _ = httpget.metrics(d.http_port)
        check_eq(value(samples, "seqecho_connections_rejected_total"), 1,
                 "rejected")
        check_eq(value(samples, "seqecho_connections_accepted_total"), 3,
                 "accepted, the rejected one included")
        check_eq(value(samples, "seqecho_connections_open"), 2, "open")
        check_eq(value(samples, "seqecho_connections_max"), 2, "max")
        for s in held:
            s.close()


def test_reloads_counted():
    d = httpget.daemon()
    with d:
        port = d.http_port
        d.reload(server_conf(http="127.0.0.1:%d" % port, max_line=100))
        d.reload("server: { port = 0; max_line = -1; };\n",
                 want=r"reload failed")
        samples, _ = httpget.metrics(port)
        check_eq(value(samples, "seqecho_config_reloads_total",
                       '{result="ok"}'), 1, "ok")
        check_eq(value(samples, "seqecho_config_reloads_total",
                       '{result="failed"}'), 1, "failed")


harness.main(globals())
