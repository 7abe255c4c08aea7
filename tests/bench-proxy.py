#!/usr/bin/env python3
"""bench-proxy: seqecho-bench --proxy v1|v2 begins every connection -- in
the closed loop, --idle and every one of --churn's -- with a PROXY header
naming that connection's own two ends, byte for byte, before its first
message, over IPv4 and IPv6, and the reply check after it still finds no
error; without --proxy the same server sees no header and the bench
fails; any other --proxy is a usage error.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json

import harness
from harness import check, check_eq, run_bench, write_file
from proxyserver import ProxyServer


def bench(version, host, args, proxy=True):
    """seqecho-bench args --json against a ProxyServer(version, host):
    (rc, the report, stderr, the server)."""
    with ProxyServer(version, host) as s:
        argv = ["-c", write_file("")] + list(args) + ["--json"]
        if proxy:
            argv += ["--proxy", version]
        rc, out, err = run_bench(argv + [host, str(s.port)], timeout=30)
        try:
            r = json.loads(out)
        except ValueError:
            raise harness.Failure("not JSON: %r (stderr %r)" % (out, err))
        return rc, r, err, s


def clean(version, host, args):
    """The run passes, and every connection's header was right."""
    rc, r, err, s = bench(version, host, args)
    check_eq(r["errors"]["total"], 0, "errors %r" % r.get("error_samples"))
    check_eq(rc, 0, "exit status (stderr %r)" % err)
    check_eq(s.wrong(), [], "wrong headers")
    return r, s


def test_closed_loop_v1():
    r, s = clean("v1", "127.0.0.1", ["-n", "4", "-T", "2", "-P", "4",
                                     "-m", "400"])
    check_eq(r["messages"], 400, "messages")
    check_eq(s.count(), 4, "connections with a header")


def test_closed_loop_v2():
    r, s = clean("v2", "127.0.0.1", ["-n", "4", "-P", "2", "-m", "200"])
    check_eq(r["messages"], 200, "messages")
    check_eq(s.count(), 4, "connections with a header")


def test_churn_v2():
    r, s = clean("v2", "127.0.0.1", ["--churn", "-n", "4", "-d", "1"])
    check(r["churned"] > 10, "churned %r" % r["churned"])
    # Every connection the bench made, churned or cut by the deadline.
    check(s.count() >= r["churned"], "%d headers for %d connections" %
          (s.count(), r["churned"]))


def test_churn_v1():
    r, s = clean("v1", "127.0.0.1", ["--churn", "-n", "2", "-m", "50"])
    check_eq(r["churned"], 50, "churned")
    check_eq(s.count(), 50, "connections with a header")


def test_churn_message_in_the_header_send_or_after():
    """Churn's message and bye go in the header's send when they fit and
    in a write of their own when not: either way the server reads the
    header, then the message, and bytes_sent counts the stream, not the
    header."""
    for version in ("v1", "v2"):
        for size in (16, 2000):
            r, s = clean(version, "127.0.0.1", ["--churn", "-n", "2", "-m",
                                                "20", "-s", str(size)])
            what = "%s, %d-byte messages" % (version, size)
            check_eq(r["churned"], 20, "churned, " + what)
            check_eq(s.count(), 20, "connections with a header, " + what)
            check_eq(r["bytes_sent"], 20 * (size + 1 + 4),
                     "bytes sent, " + what)


def test_idle_v2():
    r, s = clean("v2", "127.0.0.1", ["--idle", "-n", "3", "-d", "0.2"])
    check_eq(s.count(), 3, "connections with a header")


def test_ipv6():
    if not harness.have_ipv6_loopback():
        harness.skip("no IPv6 loopback on this host")
    for version in ("v1", "v2"):
        r, s = clean(version, "::1", ["--churn", "-n", "2", "-m", "20"])
        check_eq(s.count(), 20, "%s connections with a header" % version)
        r, s = clean(version, "::1", ["-n", "2", "-m", "40"])
        check_eq(r["messages"], 40, "%s messages" % version)


def test_without_proxy_the_server_refuses():
    """The first message lands where the header belongs: the server
    closes without a reply and the bench reports it."""
    rc, r, err, s = bench("v2", "127.0.0.1", ["-n", "2", "-m", "20"],
                          proxy=False)
    check_eq(rc, 1, "exit status")
    check(r["errors"]["total"] > 0, "no errors: %r" % r["errors"])
    check_eq(len(s.wrong()), s.count(), "headers that were right")


def test_bad_proxy_is_usage_error():
    for arg in ("v3", "any", ""):
        rc, out, err = run_bench(["--proxy", arg, "127.0.0.1", "1"])
        check_eq(rc, 1, "--proxy %r exit status" % arg)
        check("must be v1 or v2" in err and "usage:" in err, repr(err))


harness.main(globals())
