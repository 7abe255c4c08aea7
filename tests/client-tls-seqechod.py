#!/usr/bin/env python3
"""client-tls-seqechod: seqecho --tls and seqecho-bench --tls against
seqechod's own tls listeners: the server verified, SNI in the close line,
each -x mode ending as it does in the clear (the reason, where TIME_WAIT
lands) with close_notify both ways, a client certificate where the
listener requires one, PROXY before the handshake, and every bench
workload over TLS with every reply right.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import re

import harness
import tlscerts
from harness import Daemon, Raw, check, check_eq, run_bench, run_client, \
    server_conf, write_file
from tlsserver import retry_overflow, time_wait, time_wait_lands, \
    tw_overflows

CLOSED = re.compile(r"closed peer=127\.0\.0\.1:(\d+) .*first=(\w+) "
                    r"reason=([\w-]+) tls=(\S+) cipher=(\S+) sni=(\S+)(.*)")


def tls_conf(cert="server", listen_extra="", **settings):
    c = tlscerts.make()
    s = {"listen": Raw('( { address = "127.0.0.1"; port = 0; tls = true;%s } )'
                       % listen_extra),
         "tls_certificate": getattr(c, cert),
         "tls_key": getattr(c, cert + "_key")}
    s.update(settings)
    return server_conf(**s)


def client(d, args, data=b"hello\nworld\n", host="127.0.0.1"):
    return run_client(["-c", write_file(""), "--tls", "--ca",
                       tlscerts.make().ca] + list(args) + [host, str(d.port)],
                      data)


def test_session_and_sni():
    with Daemon(tls_conf()) as d:
        rc, out, err = client(d, [], host="localhost")
        check_eq((rc, out, err), (0, b"0hello\n1world\n", ""), "session")
        m = d.wait_log(CLOSED)
        check_eq((m.group(3), m.group(4), m.group(6)),
                 ("bye", "TLSv1.3", "localhost"), "reason, version, SNI")
        mark = d.mark()
        rc, out, err = client(d, [])
        check_eq(rc, 0, "by address (%r)" % err)
        check_eq(d.wait_log(CLOSED, since=mark).group(6), "-",
                 "no SNI for an address")


def teardown(mode, reason, lands):
    """One session ending as -x mode says: the daemon's reason, and where
    TIME_WAIT lands (None: nowhere)."""
    return retry_overflow(lambda: _teardown(mode, reason, lands))


def _teardown(mode, reason, lands):
    with Daemon(tls_conf()) as d:
        before = tw_overflows()
        rc, out, err = client(d, ["-v", "-x", mode], data=b"hello\nworld")
        check_eq((rc, out), (0, b"0hello\n1world\n"), "-x %s (%r)" %
                 (mode, err))
        m = d.wait_log(CLOSED)
        check_eq(m.group(3), reason, "-x %s: reason" % mode)
        cport = int(m.group(1))
        if lands is not None:
            time_wait_lands(cport, d.port, lands, "-x %s" % mode, before)
        else:
            check((cport, d.port) not in time_wait() and
                  (d.port, cport) not in time_wait(), "no TIME_WAIT")
        return err


def test_x_bye():
    err = teardown("bye", "bye", "client")
    check("tls: sent close_notify" in err, err)
    check("tls: close_notify came back from the server" in err, err)


def test_x_server():
    err = teardown("server", "bye", "server")
    check("tls: close_notify came back from the server" in err, err)


def test_x_half():
    err = teardown("half", "eof", "client")
    check("tls: close_notify came back from the server" in err, err)


def test_x_rst():
    err = teardown("rst", "reset", None)
    check("close_notify" not in err, err)


def test_self_signed_daemon():
    with Daemon(tls_conf("self_signed")) as d:
        rc, out, err = client(d, [])
        check_eq((rc, out, err), (1, b"", "seqecho: tls 127.0.0.1:%d: "
                                  "certificate verify failed: self-signed "
                                  "certificate\n" % d.port), "result")
        d.wait_log(r"closed .* reason=tls tls: ")


def test_client_certificate_required():
    c = tlscerts.make()
    with Daemon(tls_conf(tls_ca=c.ca, tls_verify="require")) as d:
        rc, out, err = client(d, ["--cert", c.client, "--key", c.client_key])
        check_eq((rc, out, err), (0, b"0hello\n1world\n", ""), "with one")
        check_eq(d.wait_log(CLOSED).group(7), " client=seqecho-test-client",
                 "client= in the close line")
        rc, out, err = client(d, [])
        check_eq((rc, out), (1, b""), "without one")
        check(re.fullmatch(r"seqecho: tls 127\.0\.0\.1:%d: [^\n]*certificate"
                           r"[^\n]*\n" % d.port, err), "one line: %r" % err)


def test_proxy_then_tls():
    extra = ' proxy_protocol = "v2"; proxy_trusted = [ "127.0.0.0/8" ];'
    with Daemon(tls_conf(listen_extra=extra)) as d:
        rc, out, err = client(d, ["--proxy", "v2"])
        check_eq((rc, out, err), (0, b"0hello\n1world\n", ""), "session")
        d.wait_log(r"closed peer=127\.0\.0\.1:\d+ via=127\.0\.0\.1:\d+ .*"
                   r"reason=bye tls=TLSv1\.3")
        rc, j, err = bench(d, ["--proxy", "v2", "--churn", "-n", "2", "-m",
                               "20"])
        clean(rc, j, err)


def bench(d, args):
    rc, out, err = run_bench(["-c", write_file(""), "--json", "--tls", "--ca",
                              tlscerts.make().ca] + list(args) +
                             ["127.0.0.1", str(d.port)], timeout=60)
    try:
        return rc, json.loads(out), err
    except ValueError:
        raise harness.Failure("not JSON: %r (%r)" % (out, err))


def clean(rc, j, err):
    check_eq((rc, j["errors"]["total"]), (0, 0), "rc, errors (%r, %r)" %
             (j["error_samples"], err))


def test_bench_workloads():
    with Daemon(tls_conf(max_line=200000)) as d:
        rc, j, err = bench(d, ["-n", "8", "-P", "16", "-d", "0.5"])
        clean(rc, j, err)
        check(j["messages"] > 0 and j["handshakes"] == 8, "closed loop")
        rc, j, err = bench(d, ["-n", "2", "-P", "4", "-s", "100000", "-m",
                               "100"])
        clean(rc, j, err)
        rc, j, err = bench(d, ["--churn", "-n", "4", "-m", "200"])
        clean(rc, j, err)
        check_eq((j["churned"], j["handshakes"]), (200, 200), "churn")
        rc, j, err = bench(d, ["--idle", "-n", "50", "-d", "0.3"])
        clean(rc, j, err)
        check_eq(j["connections_held"], 50, "idle")
        d.wait_log(r"reason=bye tls=TLSv1\.3")


harness.main(globals())
