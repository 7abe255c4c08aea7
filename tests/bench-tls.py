#!/usr/bin/env python3
"""bench-tls: seqecho-bench --tls drives every workload over TLS against
TLS servers that are not seqechod (Python's ssl in tests/tlsserver.py,
socat) and checks every reply as in the clear: closed loop, large
payloads, --idle, and --churn, where every connection is a full
handshake (the server never sees a resumed session) and the report gives
handshakes per second; verification as in seqecho, failures counted and
said in one line; a server asking for a certificate gets the client
group's.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json

import harness
import tlscerts
from harness import check, check_eq, run_bench, write_file
from tlsserver import TLSServer, socat_server


def certs():
    return tlscerts.make()


def server(cert="server", **kw):
    c = certs()
    return TLSServer(getattr(c, cert), getattr(c, cert + "_key"), **kw)


def bench(port, args, conf="", host="127.0.0.1", timeout=60):
    rc, out, err = run_bench(["-c", write_file(conf), "--json"] + list(args)
                             + [host, str(port)], timeout=timeout)
    try:
        j = json.loads(out)
    except ValueError:
        raise harness.Failure("not JSON: %r (stderr %r)" % (out, err))
    return rc, j, err


def clean(rc, j, err):
    check_eq((rc, j["errors"]["total"]), (0, 0),
             "rc, errors (%r, %r)" % (j["error_samples"], err))
    check_eq(j["tls"], True, "tls in the report")


def test_closed_loop():
    with server() as s:
        rc, j, err = bench(s.port, ["--tls", "--ca", certs().ca, "-n", "4",
                                    "-P", "8", "-d", "0.5"])
        clean(rc, j, err)
        check(j["messages"] > 0, "messages %d" % j["messages"])
        check_eq(j["handshakes"], 4, "one handshake a connection")
        check_eq(j["handshake_us"]["count"], 4, "handshake histogram")
        harness.wait_for(lambda: len(s.sessions) == 4, what="4 sessions")
        check_eq(sorted(r["end"] for r in s.sessions), ["bye"] * 4, "ends")
        check_eq({r["sni"] for r in s.sessions}, {None}, "no SNI for an IP")


def test_large_payloads():
    """Records bigger than a read, writes the socket cannot take whole."""
    with server() as s:
        rc, j, err = bench(s.port, ["--tls", "--ca", certs().ca, "-n", "2",
                                    "-P", "4", "-s", "200000", "-m", "200"])
        clean(rc, j, err)
        check_eq(j["messages"], 200, "messages")


def test_churn_full_handshakes():
    with server() as s:
        rc, j, err = bench(s.port, ["--tls", "--ca", certs().ca, "--churn",
                                    "-n", "2", "-m", "60"], host="localhost")
        clean(rc, j, err)
        check_eq(j["churned"], 60, "connections")
        check_eq(j["handshakes"], 60, "handshakes")
        check(j["handshakes_per_second"] > 0, "handshakes/s")
        harness.wait_for(lambda: len(s.sessions) == 60, what="60 sessions")
        check_eq({r["resumed"] for r in s.sessions}, {False}, "resumed")
        check_eq({r["sni"] for r in s.sessions}, {"localhost"}, "SNI")
    with server() as s:
        rc, out, err = run_bench(["-c", write_file(""), "--tls", "--ca",
                                  certs().ca, "--churn", "-n", "2", "-m",
                                  "10", "127.0.0.1", str(s.port)])
        check_eq(rc, 0, "text report (%r)" % err)
        check("full TLS handshakes/s" in out, out)
        check("target      127.0.0.1:%d over TLS\n" % s.port in out, out)


def test_idle():
    with server() as s:
        rc, j, err = bench(s.port, ["--tls", "--ca", certs().ca, "--idle",
                                    "-n", "20", "-d", "0.3"])
        clean(rc, j, err)
        check_eq(j["connections_held"], 20, "held")


def test_no_close_notify():
    """A server that only closes TCP loses nothing: not an error."""
    with server(close_notify=False) as s:
        rc, j, err = bench(s.port, ["--tls", "--ca", certs().ca, "--churn",
                                    "-n", "2", "-m", "10"])
        clean(rc, j, err)


def failed(port, args, reason):
    rc, j, err = bench(port, args)
    check_eq(rc, 1, "exit status")
    check(j["errors"]["connect_failed"] >= 1, "connect_failed counted")
    want = "seqecho-bench: tls 127.0.0.1:%d: %s\n" % (port, reason)
    check(want in err, "%r in %r" % (want, err))


def test_verification_failures():
    c = certs()
    with server("self_signed") as s:
        failed(s.port, ["--tls", "--ca", c.ca, "-n", "2", "-d", "0.2"],
               "certificate verify failed: self-signed certificate")
    with server() as s:
        failed(s.port, ["--tls", "-n", "1", "-d", "0.2"], "certificate "
               "verify failed: unable to get local issuer certificate")
        failed(s.port, ["--tls", "--ca", c.ca, "--servername", "example.com",
                        "--churn", "-n", "1", "-d", "0.2"],
               "certificate verify failed: hostname mismatch")


def test_insecure():
    with server("self_signed") as s:
        rc, j, err = bench(s.port, ["--tls", "--insecure", "-n", "2", "-d",
                                    "0.2"])
        clean(rc, j, err)
        check("seqecho-bench: --insecure: the server's certificate and name "
              "are not checked\n" in err, err)


def test_client_certificate():
    c = certs()
    conf = ('client = { tls = true; tls_ca = "ca.pem"; tls_certificate = '
            '"client.pem"; tls_key = "client.key"; };\n')
    with server(ca=c.ca, require=True) as s:
        rc, j, err = bench(s.port, ["-n", "2", "-m", "20"], conf=conf)
        clean(rc, j, err)
        harness.wait_for(lambda: len(s.sessions) == 2, what="2 sessions")
        check_eq({r["client"] for r in s.sessions}, {"seqecho-test-client"},
                 "client CN")
        rc, j, err = bench(s.port, ["--tls", "--ca", c.ca, "-n", "1", "-m",
                                    "5"])
        check_eq(rc, 1, "without a certificate")
        check("tlsv13 alert certificate required" in
              json.dumps(j["error_samples"]), repr(j["error_samples"]))


def test_option_errors():
    for args, want in [(["--ca", "x"], "--ca needs --tls"),
                       (["--insecure"], "--insecure needs --tls"),
                       (["--servername", "x"], "--servername needs --tls"),
                       (["--tls", "--ca", "/nonexistent/ca.pem"],
                        "tls: /nonexistent/ca.pem: No such file or "
                        "directory")]:
        rc, out, err = run_bench(["-c", write_file("")] + args +
                                 ["127.0.0.1", "1"])
        check_eq((rc, err), (1, "seqecho-bench: %s\n" % want), repr(args))


def test_socat_server():
    """socat's OpenSSL listener, a serial-echo script behind it."""
    c = certs()
    with socat_server(c.server, c.server_key) as port:
        rc, j, err = bench(port, ["--tls", "--ca", c.ca, "-n", "2", "-P",
                                  "4", "-m", "200"])
        clean(rc, j, err)
        rc, j, err = bench(port, ["--tls", "--ca", c.ca, "--churn", "-n",
                                  "2", "-m", "10"])
        clean(rc, j, err)
        check_eq(j["handshakes"], 10, "handshakes")


harness.main(globals())
