#!/usr/bin/env python3
"""client-proxy: seqecho --proxy v1|v2 begins the connection with a PROXY
header naming its own two ends, byte for byte as proxy-protocol.txt has
it, before its first message, over IPv4 and IPv6; the replies after it
are checked as usual; client.proxy_protocol is the default and --proxy
beats it; any other --proxy is a usage error.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import harness
from harness import check, check_eq, run_client, write_file
from proxyserver import ProxyServer, expected_header


def session(version, host, args=None, conf=""):
    """seqecho against a ProxyServer wanting version's header: the
    server's one (got, want) pair and the client's (rc, out, err)."""
    with ProxyServer(version, host) as s:
        argv = ["-c", write_file(conf)]
        argv += ["--proxy", version] if args is None else list(args)
        res = run_client(argv + [host, str(s.port)], b"hello\nworld\n")
        harness.wait_for(lambda: s.count() >= 1, what="a connection")
        check_eq(s.count(), 1, "connections")
        return s.headers[0], res


def sends(version, host, **kw):
    (got, want), (rc, out, err) = session(version, host, **kw)
    check_eq(got, want, "the %s header" % version)
    check_eq(out, b"0hello\n1world\n", "replies (stderr %r)" % err)
    check_eq(rc, 0, "exit status (stderr %r)" % err)
    return got


def test_v1_ipv4():
    got = sends("v1", "127.0.0.1")
    check(got.startswith(b"PROXY TCP4 127.0.0.1 127.0.0.1 "), repr(got))


def test_v2_ipv4():
    got = sends("v2", "127.0.0.1")
    check_eq(len(got), 28, "v2 TCP4 header length")
    check_eq(got[12:16], b"\x21\x11\x00\x0c", "command, family, length")


def need_ipv6():
    if not harness.have_ipv6_loopback():
        harness.skip("no IPv6 loopback on this host")


def test_v1_ipv6():
    need_ipv6()
    got = sends("v1", "::1")
    check(got.startswith(b"PROXY TCP6 ::1 ::1 "), repr(got))


def test_v2_ipv6():
    need_ipv6()
    got = sends("v2", "::1")
    check_eq(len(got), 52, "v2 TCP6 header length")
    check_eq(got[12:16], b"\x21\x21\x00\x24", "command, family, length")


def test_config_default_and_override():
    conf = 'client = { proxy_protocol = "v2"; };\n'
    (got, want), (rc, out, err) = session("v2", "127.0.0.1", args=[],
                                          conf=conf)
    check_eq(got, want, "the header client.proxy_protocol asks for")
    check_eq((rc, out), (0, b"0hello\n1world\n"), "session (%r)" % err)
    sends("v1", "127.0.0.1", args=["--proxy", "v1"], conf=conf)


def test_no_header_without_option():
    """The server sees the first message where a header should be: the
    client sent none, and fails for want of replies."""
    (got, want), (rc, out, err) = session("v1", "127.0.0.1", args=[])
    check(got.startswith(b"hello\n"), "first bytes %r" % got)
    check_eq(rc, 1, "exit status")


def test_bad_proxy_is_usage_error():
    for arg in ("v3", "any", "none", ""):
        rc, out, err = run_client(["--proxy", arg, "127.0.0.1", "1"])
        check_eq(rc, 1, "--proxy %r exit status" % arg)
        check("must be v1 or v2" in err and "usage:" in err, repr(err))
        check_eq(out, b"", "stdout")


def test_expected_header_spelling():
    """The oracle itself, on the spec's own shapes."""
    check_eq(expected_header("v1", ("192.0.2.1", 5555), ("198.51.100.2", 1)),
             b"PROXY TCP4 192.0.2.1 198.51.100.2 5555 1\r\n", "v1")
    check_eq(expected_header("v2", ("127.0.0.1", 256), ("127.0.0.2", 1234)),
             b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x7f\x00\x00\x01"
             b"\x7f\x00\x00\x02\x01\x00\x04\xd2", "v2")


harness.main(globals())
