#!/usr/bin/env python3
"""client-tls: seqecho --tls against TLS servers that are not seqechod
(Python's ssl in tests/tlsserver.py, socat, openssl s_server): the server
is verified by default (--ca, else the system's store; the name from
--servername, else the host argument, an IP literal against the
certificate's addresses), each failure is one line and exit 1, --insecure
skips the check and says so, --cert/--key answer a server that asks, the
client group's tls settings are the defaults, -v narrates the handshake
and whether close_notify came back, every -x mode keeps its meaning, a
terminal is told the TLS version, and a plain server or a silent one fail
cleanly.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import pty
import select
import socket
import ssl
import subprocess
import time

import harness
import tlscerts
from harness import check, check_eq, run_client, write_file
from tlsserver import TLSServer, retry_overflow, socat_server, time_wait, \
    time_wait_lands, tw_overflows

DATA = b"hello\nworld\n"
WANT = b"0hello\n1world\n"


def certs():
    return tlscerts.make()


def server(cert="server", **kw):
    c = certs()
    return TLSServer(getattr(c, cert), getattr(c, cert + "_key"), **kw)


def client(port, args, host="127.0.0.1", data=DATA, conf=""):
    return run_client(["-c", write_file(conf)] + list(args) +
                      [host, str(port)], data)


def fails(port, args, reason, host="127.0.0.1", conf=""):
    """The one line and exit 1 of a failed verification or handshake."""
    rc, out, err = client(port, args, host=host, conf=conf)
    check_eq((rc, out, err), (1, b"", "seqecho: tls %s:%d: %s\n" %
                              (host, port, reason)), "rc, stdout, stderr")


def test_verified_with_ca():
    with server() as s:
        rc, out, err = client(s.port, ["--tls", "--ca", certs().ca])
        check_eq((rc, out, err), (0, WANT, ""), "rc, stdout, stderr")
        harness.wait_for(lambda: len(s.sessions) == 1, what="the session")
        rec = s.sessions[0]
        check_eq(rec["sni"], None, "SNI for an IP literal (RFC 6066)")
        check_eq(rec["end"], "bye", "how the session ended")


def test_name_from_host_and_servername():
    with server() as s:
        ca = certs().ca
        rc, out, err = client(s.port, ["--tls", "--ca", ca], host="localhost")
        check_eq((rc, out), (0, WANT), "by host name (%r)" % err)
        rc, out, err = client(s.port, ["--tls", "--ca", ca, "--servername",
                                       "localhost"])
        check_eq((rc, out), (0, WANT), "by --servername (%r)" % err)
        harness.wait_for(lambda: len(s.sessions) == 2, what="two sessions")
        check_eq([r["sni"] for r in s.sessions], ["localhost"] * 2, "SNI")


def test_self_signed():
    with server("self_signed") as s:
        fails(s.port, ["--tls", "--ca", certs().ca],
              "certificate verify failed: self-signed certificate")


def test_wrong_ca():
    with server() as s:
        fails(s.port, ["--tls", "--ca", certs().other_ca],
              "certificate verify failed: unable to get local issuer "
              "certificate")


def test_system_store_by_default():
    """The test CA is in no system's store."""
    with server() as s:
        fails(s.port, ["--tls"], "certificate verify failed: unable to get "
              "local issuer certificate")


def test_wrong_name():
    with server() as s:
        fails(s.port, ["--tls", "--ca", certs().ca, "--servername",
                       "example.com"],
              "certificate verify failed: hostname mismatch")


def test_wrong_address():
    """127.0.0.2 is loopback too, but not in the certificate."""
    with server(host="127.0.0.2") as s:
        fails(s.port, ["--tls", "--ca", certs().ca],
              "certificate verify failed: IP address mismatch",
              host="127.0.0.2")


def test_expired():
    with server("expired") as s:
        fails(s.port, ["--tls", "--ca", certs().ca],
              "certificate verify failed: certificate has expired")


def test_insecure_says_so():
    with server("self_signed") as s:
        rc, out, err = client(s.port, ["--tls", "--insecure"])
        check_eq((rc, out), (0, WANT), "session (%r)" % err)
        check_eq(err, "seqecho: --insecure: the server's certificate and "
                 "name are not checked\n", "stderr")


def test_client_certificate():
    c = certs()
    with server(ca=c.ca, require=True) as s:
        rc, out, err = client(s.port, ["--tls", "--ca", c.ca, "--cert",
                                       c.client, "--key", c.client_key])
        check_eq((rc, out, err), (0, WANT, ""), "with a certificate")
        harness.wait_for(lambda: len(s.sessions) == 1, what="the session")
        check_eq(s.sessions[0]["client"], "seqecho-test-client", "its CN")
        # TLS 1.3: the client finishes first, the refusal comes after.
        fails(s.port, ["--tls", "--ca", c.ca],
              "tlsv13 alert certificate required")


def test_client_certificate_tls12():
    c = certs()
    with server(ca=c.ca, require=True, version=ssl.TLSVersion.TLSv1_2) as s:
        rc, out, err = client(s.port, ["--tls", "--ca", c.ca, "--cert",
                                       c.client, "--key", c.client_key])
        check_eq((rc, out, err), (0, WANT, ""), "with a certificate")
        rc, out, err = client(s.port, ["--tls", "--ca", c.ca])
        check_eq((rc, out), (1, b""), "without one")
        check(err.startswith("seqecho: tls 127.0.0.1:%d: " % s.port) and
              err.count("\n") == 1, "one line: %r" % err)


def test_client_group_defaults():
    """Relative paths in the file are relative to its directory (the
    certificates' own, here)."""
    c = certs()
    check_eq(os.path.dirname(c.ca), harness.tmpdir(), "certificates' dir")
    conf = ('client = { tls = true; tls_ca = "ca.pem"; tls_servername = '
            '"localhost"; tls_certificate = "client.pem"; tls_key = '
            '"client.key"; };\n')
    with server(ca=c.ca, require=True) as s:
        rc, out, err = client(s.port, [], conf=conf)
        check_eq((rc, out, err), (0, WANT, ""), "from the client group")
        harness.wait_for(lambda: len(s.sessions) == 1, what="the session")
        check_eq((s.sessions[0]["sni"], s.sessions[0]["client"]),
                 ("localhost", "seqecho-test-client"), "SNI, client CN")
        # The command line beats the file.
        fails(s.port, ["--servername", "example.com"],
              "certificate verify failed: hostname mismatch", conf=conf)


def test_option_errors():
    c = certs()
    cases = [
        (["--ca", c.ca], "seqecho: --ca needs --tls\n"),
        (["--insecure"], "seqecho: --insecure needs --tls\n"),
        (["--servername", "x"], "seqecho: --servername needs --tls\n"),
        (["--tls", "--cert", c.client], "seqecho: --cert and --key go "
         "together\n"),
        (["--tls", "--ca", "/nonexistent/ca.pem"],
         "seqecho: tls: /nonexistent/ca.pem: No such file or directory\n"),
        (["--tls", "--ca", c.ca_key],
         "seqecho: tls: %s: no certificate or crl found\n" % c.ca_key),
        (["--tls", "--ca", c.ca, "--cert", c.client, "--key", c.other_key],
         "seqecho: tls: %s: key values mismatch\n" % c.other_key),
    ]
    for args, want in cases:
        rc, out, err = run_client(["-c", write_file("")] + args +
                                  ["127.0.0.1", "1"])
        check_eq((rc, out, err), (1, b"", want), "seqecho %s" % " ".join(args))
    rc, out, err = run_client(["-S", "--tls", "1"])
    check_eq((rc, err), (1, "seqecho: --tls cannot be used with -S\n"), "-S")


def test_verbose_narrates():
    with server() as s:
        rc, out, err = client(s.port, ["-v", "--tls", "--ca", certs().ca])
        check_eq((rc, out), (0, WANT), "session (%r)" % err)
        for want in ["seqecho: tls: TLSv1.3, TLS_", ", handshake ",
                     "seqecho: tls: certificate CN=localhost, issuer CN="
                     "seqecho test CA, expires 20", " UTC, verified\n",
                     "seqecho: tls: sent close_notify\n",
                     "seqecho: tls: close_notify came back from the server\n"]:
            check(want in err, "%r in %r" % (want, err))
    with server(close_notify=False) as s:
        rc, out, err = client(s.port, ["-v", "--tls", "--ca", certs().ca])
        check_eq((rc, out), (0, WANT), "no close_notify (%r)" % err)
        check("seqecho: tls: the server closed without close_notify\n" in err,
              err)
        check("came back" not in err, err)


def test_verbose_tls12():
    with server(version=ssl.TLSVersion.TLSv1_2) as s:
        rc, out, err = client(s.port, ["-v", "--tls", "--ca", certs().ca])
        check_eq((rc, out), (0, WANT), "session (%r)" % err)
        check("seqecho: tls: TLSv1.2, ECDHE-ECDSA-" in err, err)


def teardown(mode, close_notify=True, lands=None):
    """One session ending as -x mode says, and where TIME_WAIT lands
    (lands: "client", "server", or None for unchecked)."""
    return retry_overflow(lambda: _teardown(mode, close_notify, lands))


def _teardown(mode, close_notify, lands):
    with server(close_notify=close_notify) as s:
        before = tw_overflows()
        rc, out, err = client(s.port, ["-v", "-x", mode, "--tls", "--ca",
                                       certs().ca], data=b"hello\nworld")
        check_eq((rc, out), (0, WANT), "-x %s (%r)" % (mode, err))
        harness.wait_for(lambda: len(s.sessions) == 1, what="the session")
        rec = s.sessions[0]
        if lands is not None:
            time_wait_lands(rec["peer"], rec["port"], lands, repr(rec),
                            before)
        return rec, err


def test_x_bye():
    rec, err = teardown("bye", lands="client")
    check_eq(rec["end"], "bye", "the server's view")


def test_x_server():
    """The server's close_notify comes before its FIN: the client waits for
    the FIN, so TIME_WAIT is still the server's."""
    for notify in (True, False):
        rec, err = teardown("server", notify, lands="server")
        check_eq(rec["end"], "bye", "the server's view")


def test_x_half():
    """close_notify is TLS's half-close: the server sees the end of the
    stream, not an error, and the owed replies still come."""
    rec, err = teardown("half", lands="client")
    check_eq(rec["end"], "close_notify", "the server's view")
    check_eq(rec["lines"], 2, "lines served")


def test_x_rst():
    rec, err = teardown("rst")
    check(rec["end"] != "close_notify", "no close_notify: %r" % rec)
    check("sent close_notify" not in err, err)
    ours = (rec["peer"], rec["port"])
    check(ours not in time_wait() and ours[::-1] not in time_wait(),
          "no TIME_WAIT after a RST")


def test_many_pipelined_lines():
    data = b"".join(b"line %d\n" % i for i in range(20000))
    want = b"".join(b"%dline %d\n" % (i, i) for i in range(20000))
    with server() as s:
        rc, out, err = client(s.port, ["--tls", "--ca", certs().ca],
                              data=data)
        check_eq((rc, out, err), (0, want, ""), "20000 lines")


def test_plain_server():
    """A seqechod without TLS echoes the ClientHello as a line."""
    with harness.Daemon() as d:
        rc, out, err = run_client(["-c", write_file(""), "--tls", "--ca",
                                   certs().ca, "127.0.0.1", str(d.port)],
                                  DATA)
        check_eq((rc, out), (1, b""), "rc, stdout")
        check(err.startswith("seqecho: tls 127.0.0.1:%d: " % d.port) and
              err.count("\n") == 1, "one line: %r" % err)


def test_silent_server_times_out():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    try:
        port = lsock.getsockname()[1]
        rc, out, err = run_client(["-c", write_file(""), "-t", "1", "--tls",
                                   "127.0.0.1", str(port)], DATA, timeout=10)
        check_eq((rc, out, err), (1, b"", "seqecho: tls 127.0.0.1:%d: "
                                  "handshake timed out\n" % port), "result")
    finally:
        lsock.close()


def test_terminal():
    """On a terminal, the connect message names the TLS version."""
    harness.require_program(harness.seqecho_path())
    with server() as s:
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execv(harness.seqecho_path(), [
                    "seqecho", "-c", write_file(""), "--tls", "--ca",
                    certs().ca, "127.0.0.1", str(s.port)])
            finally:
                os._exit(127)
        buf = b""

        def expect(what):
            nonlocal buf
            deadline = time.monotonic() + harness.t(10)
            while what not in buf:
                left = deadline - time.monotonic()
                check(left > 0, "no %r on the terminal: %r" % (what, buf))
                if select.select([fd], [], [], left)[0]:
                    try:
                        b = os.read(fd, 4096)
                    except OSError:
                        b = b""
                    check(b != b"", "terminal closed before %r: %r" %
                          (what, buf))
                    buf += b
            buf = buf[buf.index(what) + len(what):]

        try:
            expect(b"connected to 127.0.0.1:%d (TLSv1.3)" % s.port)
            expect(b"> ")
            os.write(fd, b"hello\n")
            expect(b"0hello")
            os.write(fd, b"bye\n")
            expect(b"connection closed by 127.0.0.1:%d" % s.port)
            _, status = os.waitpid(pid, 0)
            pid = 0
            check_eq(os.waitstatus_to_exitcode(status), 0, "exit status")
        finally:
            if pid:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            os.close(fd)


def test_socat_server():
    """socat's OpenSSL listener, a serial-echo script behind it."""
    c = certs()
    with socat_server(c.server, c.server_key) as port:
        rc, out, err = client(port, ["-v", "--tls", "--ca", c.ca])
        check_eq((rc, out), (0, WANT), "session (%r)" % err)
        check("seqecho: tls: certificate CN=localhost" in err, err)


def s_server(cert, key, *extra):
    """openssl s_server on a free port, its stdin held open (at its end
    of file it would close the connection)."""
    port = harness.free_port()
    p = subprocess.Popen([tlscerts.openssl(), "s_server", "-accept",
                          "127.0.0.1:%d" % port, "-cert", cert, "-key", key,
                          "-quiet", "-naccept", "1"] + list(extra),
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    return p, port


def test_openssl_s_server_failures():
    c = certs()
    for cert, key, extra, args, reason in [
            (c.self_signed, c.self_signed_key, [], ["--ca", c.ca],
             "certificate verify failed: self-signed certificate"),
            (c.server, c.server_key, ["-Verify", "1", "-CAfile", c.ca],
             ["--ca", c.ca], "tlsv13 alert certificate required")]:
        p, port = s_server(cert, key, *extra)
        try:
            harness.wait_for(lambda: p.poll() is None and _probe(port),
                             what="s_server listening")
            fails(port, ["--tls"] + args, reason)
        finally:
            p.kill()
            p.wait()


def _probe(port):
    """Is port in LISTEN? Read from /proc: a probe connection would use up
    -naccept 1."""
    want = ":%04X" % port
    with open("/proc/net/tcp") as f:
        return any(l.split()[1].endswith(want) and l.split()[3] == "0A"
                   for l in f.readlines()[1:])


harness.main(globals())
