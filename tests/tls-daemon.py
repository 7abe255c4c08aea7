"""tls-daemon: seqechod's tls listeners against independent TLS stacks.

openssl s_client, socat, ncat --ssl (which closes without close_notify),
gnutls-cli and Python's ssl speak to a tls listener: replies come back,
the close line names the version, cipher, SNI and client certificate; a
failed or slow handshake closes with reason tls and OpenSSL's words;
tls_min_version, tls_verify, the file checks of -t (file:line, and the
warning for a certificate about to expire), SIGHUP swapping the
certificate (or keeping the old one when the new does not load), PROXY
before TLS on one listener (HAProxy's send-proxy-v2 ... ssl), the server's
and close_notify, both ways.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time

import harness
import haproxyctl
import tlscerts
from harness import Daemon, Raw, check, check_eq, connect, read_lines, \
    recv_until_eof, server_conf, write_file

CLOSE_TLS = r"closed .* reason=\w+ tls=(TLSv1\.[23]) cipher=(\S+) sni=(\S+)"


def tls_conf(certs=None, listen_extra="", **settings):
    c = certs or tlscerts.make()
    s = {"listen": Raw('( { address = "127.0.0.1"; port = 0; tls = true;%s } )'
                       % listen_extra),
         "tls_certificate": c.server, "tls_key": c.server_key}
    s.update(settings)
    return server_conf(**s)


def run(argv, data=b"", timeout=10):
    p = subprocess.run(argv, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=harness.t(timeout))
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def test_openssl_s_client():
    c = tlscerts.make()
    with Daemon(tls_conf()) as d:
        rc, out, err = run([harness.tool("openssl"), "s_client", "-quiet",
                            "-connect", "127.0.0.1:%d" % d.port,
                            "-CAfile", c.ca, "-servername", "localhost",
                            "-verify_return_error"], b"hello\nworld\nbye\n")
        check_eq(out, b"0hello\n1world\n", "s_client's replies (%s)" % err)
        m = d.wait_log(CLOSE_TLS)
        check_eq(m.group(1), "TLSv1.3", "version")
        check_eq(m.group(3), "localhost", "sni")
        check(d.log_lines(r"reason=bye tls="), "reason bye")


def test_socat():
    c = tlscerts.make()
    with Daemon(tls_conf()) as d:
        rc, out, err = run([harness.tool("socat"), "-t", "5", "-",
                            "OPENSSL:127.0.0.1:%d,cafile=%s,verify=1"
                            % (d.port, c.ca)], b"a\nb\n")
        check_eq((rc, out), (0, b"0a\n1b\n"), "socat (%s)" % err)
        d.wait_log(r"reason=eof tls=TLSv1\.3")


def test_ncat_closes_without_close_notify():
    # ncat --ssl ends with a bare FIN at the end of its stdin: that is the
    # end of the stream, and every owed reply still arrives.
    with Daemon(tls_conf()) as d:
        data = b"".join(b"line %d\n" % i for i in range(200))
        rc, out, err = run([harness.tool("ncat"), "--ssl", "127.0.0.1",
                            str(d.port)], data)
        want = b"".join(b"%dline %d\n" % (i, i) for i in range(200))
        check_eq(out, want, "ncat's replies (%s)" % err)
        m = d.wait_log(r"closed .* messages=200 .* reason=(\w+) tls=")
        check_eq(m.group(1), "eof", "reason")
        check(not d.log_lines(r"reason=(error|tls)"), "no error")


def test_gnutls_cli():
    c = tlscerts.make()
    with Daemon(tls_conf()) as d:
        rc, out, err = run([harness.tool("gnutls-cli"), "--x509cafile=" + c.ca,
                            "-p", str(d.port), "localhost"], b"p\nq\n")
        check(b"0p\n1q\n" in out, "gnutls-cli's replies: %r (%s)" % (out, err))
        d.wait_log(r"reason=eof tls=TLSv1\.3 .* sni=localhost")


def test_tls12_and_min_version():
    c = tlscerts.make()
    openssl = harness.tool("openssl")
    argv = [openssl, "s_client", "-quiet", "-tls1_2", "-CAfile", c.ca]
    with Daemon(tls_conf()) as d:
        rc, out, err = run(argv + ["-connect", "127.0.0.1:%d" % d.port],
                           b"x\nbye\n")
        check_eq(out, b"0x\n", "TLS 1.2 by default (%s)" % err)
        m = d.wait_log(CLOSE_TLS)
        check_eq(m.group(1), "TLSv1.2", "version")
    with Daemon(tls_conf(tls_min_version="1.3")) as d:
        rc, out, err = run(argv + ["-connect", "127.0.0.1:%d" % d.port],
                           b"x\nbye\n")
        check_eq(out, b"", "no reply over TLS 1.2")
        m = d.wait_log(r"closed .* reason=tls tls: (.*)")
        check("version" in m.group(1) or "protocol" in m.group(1),
              "the library's reason: %r" % m.group(1))


def test_plain_tcp_to_tls_listener():
    with Daemon(tls_conf()) as d:
        s = connect(d.port, tls=False)
        s.sendall(b"hello, this is not TLS\n")
        check_eq(recv_until_eof(s), b"", "closed without a reply")
        s.close()
        m = d.wait_log(r"closed .* first=server reason=tls tls: (.*)")
        check(m.group(1) == "wrong version number" or "http" in m.group(1)
              or "record" in m.group(1), "reason: %r" % m.group(1))


def test_handshake_bounded_by_proxy_timeout():
    with Daemon(tls_conf(proxy_timeout=1)) as d:
        s = connect(d.port, tls=False)
        t0 = time.monotonic()
        check_eq(recv_until_eof(s, timeout=5), b"", "nothing sent")
        took = time.monotonic() - t0
        check(0.8 <= took <= harness.t(4), "closed after %.2fs" % took)
        s.close()
        d.wait_log(r"closed .* reason=tls tls: no handshake in time")
        # The listener serves the next client as ever.
        s = connect(d.port, tls=True)
        s.sendall(b"after\n")
        check_eq(read_lines(s, 1), [b"0after"], "served")
        s.close()


def verify_conf(mode):
    c = tlscerts.make()
    return tls_conf(tls_ca=c.ca, tls_verify=mode)


def client_ctx(cert=None, key=None):
    c = tlscerts.make()
    ctx = ssl.create_default_context(cafile=c.ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def tls_session(port, ctx, data=b"x\nbye\n"):
    raw = connect(port, tls=False)
    s = harness.TlsSocket(raw, ctx)
    s.sendall(data)
    out = recv_until_eof(s)
    s.close()
    return out


def test_client_certificate_required():
    c = tlscerts.make()
    with Daemon(verify_conf("require")) as d:
        out = tls_session(d.port, client_ctx(c.client, c.client_key))
        check_eq(out, b"0x\n", "with a certificate")
        d.wait_log(r"reason=bye tls=\S+ cipher=\S+ sni=localhost "
                   r"client=seqecho-test-client")
        mark = d.mark()
        try:
            tls_session(d.port, client_ctx())
        except (ssl.SSLError, OSError):
            pass
        m = d.wait_log(r"closed .* reason=tls tls: (.*)", since=mark)
        check("certificate" in m.group(1), "without one: %r" % m.group(1))
        mark = d.mark()
        try:
            tls_session(d.port, client_ctx(c.other_client, c.other_client_key))
        except (ssl.SSLError, OSError):
            pass
        m = d.wait_log(r"closed .* reason=tls tls: (.*)", since=mark)
        check(m.group(1).startswith("certificate verify failed"),
              "from another CA: %r" % m.group(1))


def test_client_certificate_optional():
    c = tlscerts.make()
    with Daemon(verify_conf("optional")) as d:
        check_eq(tls_session(d.port, client_ctx()), b"0x\n", "without one")
        check_eq(tls_session(d.port, client_ctx(c.client, c.client_key)),
                 b"0x\n", "with one")
        d.wait_log(r"client=seqecho-test-client")


def test_close_notify_from_the_server():
    # After bye the server says close_notify: a clean end, not a truncation.
    c = tlscerts.make()
    with Daemon(tls_conf()) as d:
        ctx = ssl.create_default_context(cafile=c.ca)
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.port),
                                                     timeout=harness.t(5)),
                            server_hostname="localhost",
                            suppress_ragged_eofs=False)
        s.sendall(b"one\nbye\n")
        got = b""
        while True:
            b = s.recv(4096)        # SSLEOFError if no close_notify came
            if not b:
                break
            got += b
        check_eq(got, b"0one\n", "replies")
        s.close()


def test_owed_replies_after_client_close_notify():
    with Daemon(tls_conf()) as d:
        s = connect(d.port, tls=True)
        data = b"".join(b"m%d\n" % i for i in range(1000)) + b"tail"
        s.sendall(data)
        s.close_notify()
        out = recv_until_eof(s)
        want = b"".join(b"%dm%d\n" % (i, i) for i in range(1000)) + b"1000tail\n"
        check_eq(out, want, "owed replies after close_notify")
        s.close()
        d.wait_log(r"messages=1001 .* reason=eof tls=")


def proxy_v2_header(src, dst):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    body = socket.inet_aton(src[0]) + socket.inet_aton(dst[0]) + \
        struct.pack("!HH", src[1], dst[1])
    return sig + b"\x21\x11" + struct.pack("!H", len(body)) + body


def test_proxy_header_then_tls():
    extra = ' proxy_protocol = "v2"; proxy_trusted = [ "127.0.0.0/8" ];'
    with Daemon(tls_conf(listen_extra=extra)) as d:
        raw = connect(d.port, tls=False)
        raw.sendall(proxy_v2_header(("192.0.2.7", 4321), ("127.0.0.1", d.port)))
        s = harness.TlsSocket(raw)
        s.sendall(b"through\nbye\n")
        check_eq(recv_until_eof(s), b"0through\n", "reply")
        s.close()
        d.wait_log(r"closed peer=192\.0\.2\.7:4321 via=127\.0\.0\.1:\d+ .*"
                   r"reason=bye tls=TLSv1\.3")


def test_haproxy_send_proxy_v2_ssl():
    extra = ' proxy_protocol = "v2"; proxy_trusted = [ "127.0.0.1" ];'
    with Daemon(tls_conf(listen_extra=extra)) as d:
        with haproxyctl.HAProxy("    server s1 127.0.0.1:%d send-proxy-v2 "
                                "ssl verify none\n" % d.port) as ha:
            s = connect(ha.fe, tls=False)
            s.sendall(b"via haproxy\nbye\n")
            check_eq(recv_until_eof(s), b"0via haproxy\n", "reply")
            s.close()
            d.wait_log(r"closed peer=127\.0\.0\.1:\d+ via=127\.0\.0\.1:\d+ .*"
                       r"reason=bye tls=TLSv1\.3")


def notafter(port):
    c = tlscerts.make()
    ctx = ssl.create_default_context(cafile=c.ca)
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=harness.t(5)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert()["notAfter"]


def test_sighup_swaps_certificate():
    c = tlscerts.make()
    d_dir = harness.tmpdir()
    cert, key = os.path.join(d_dir, "live.pem"), os.path.join(d_dir, "live.key")
    shutil.copy(c.server, cert)
    shutil.copy(c.server_key, key)
    with Daemon(tls_conf(tls_certificate=cert, tls_key=key)) as d:
        before = notafter(d.port)
        old = connect(d.port, tls=True)
        old.sendall(b"before\n")
        check_eq(read_lines(old, 1), [b"0before"], "first connection")
        shutil.copy(c.expiring, cert)
        shutil.copy(c.expiring_key, key)
        d.reload(open(d.conf_path).read())
        after = notafter(d.port)
        check(after != before, "new connections have the new certificate")
        old.sendall(b"still\n")
        check_eq(read_lines(old, 1), [b"1still"], "open connection kept")
        # A certificate that does not load: the old one stays.
        with open(cert, "w") as f:
            f.write("not a certificate\n")
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload failed", since=mark)
        check(d.log_lines(r"tls_certificate: .*" + re.escape(cert), since=mark),
              "the log names the file")
        check_eq(notafter(d.port), after, "kept the certificate")
        old.close()


def test_seqecho_client_over_tls():
    c = tlscerts.make()
    with Daemon(tls_conf()) as d:
        rc, out, err = harness.run_client(["--tls", "--ca", c.ca, "127.0.0.1",
                                           str(d.port)], b"hello\nworld\n")
        check_eq((rc, out), (0, b"0hello\n1world\n"), "seqecho --tls (%s)" % err)
        # The client's FIN, behind its close_notify, went first.
        d.wait_log(r"first=client reason=bye tls=TLSv1\.3 cipher=\S+ sni=-")
        mark = d.mark()
        rc, out, err = harness.run_client(["-x", "server", "--tls", "--ca",
                                           c.ca, "127.0.0.1", str(d.port)],
                                          b"y\n")
        check_eq((rc, out), (0, b"0y\n"), "-x server (%s)" % err)
        d.wait_log(r"first=server reason=bye tls=", since=mark)
        rc, out, err = harness.run_client(["--tls", "--ca", c.ca,
                                           "--servername", "localhost",
                                           "--cert", c.client, "--key",
                                           c.client_key, "127.0.0.1",
                                           str(d.port)], b"x\nbye\n")
        check_eq((rc, out), (0, b"0x\n"), "with SNI (%s)" % err)
        d.wait_log(r"reason=bye tls=TLSv1\.3 cipher=\S+ sni=localhost")
    with Daemon(tls_conf(tls_certificate=c.self_signed,
                         tls_key=c.self_signed_key)) as d:
        rc, out, err = harness.run_client(["--tls", "--ca", c.ca, "127.0.0.1",
                                           str(d.port)], b"x\n")
        check_eq(rc, 1, "exit for a self-signed certificate")
        check_eq(err.strip(), "seqecho: tls 127.0.0.1:%d: certificate verify "
                 "failed: self-signed certificate" % d.port, "the one line")


def test_bench_over_tls():
    c = tlscerts.make()
    with Daemon(tls_conf()) as d:
        rc, out, err = harness.run_bench(["--tls", "--ca", c.ca, "-n", "4",
                                          "-P", "8", "-m", "2000", "-q",
                                          "127.0.0.1", str(d.port)])
        check_eq(rc, 0, "seqecho-bench --tls (%s %s)" % (out, err))
        rc, out, err = harness.run_bench(["--tls", "--ca", c.ca, "--churn",
                                          "-n", "2", "-m", "50", "--json",
                                          "127.0.0.1", str(d.port)])
        check_eq(rc, 0, "--churn --tls (%s)" % err)
        harness.wait_for(lambda: len(d.log_lines(r"reason=bye tls=")) >= 50,
                         what="50 TLS sessions ended by bye")


def test_metrics_and_status_over_tls():
    import calendar
    import json
    import httpget
    c = tlscerts.make()
    with httpget.HttpDaemon(tls_conf(http="127.0.0.1:0")) as d:
        s = connect(d.port, tls=True)
        s.sendall(b"open\n")
        check_eq(read_lines(s, 1), [b"0open"], "served")
        bad = connect(d.port, tls=False)
        bad.sendall(b"not tls\n")
        recv_until_eof(bad)
        bad.close()
        d.wait_log(r"reason=tls tls: ")
        text = httpget.metrics_text(d.http_port)
        m = re.search(r"^seqecho_tls_certificate_expiry_timestamp_seconds "
                      r"(\S+)$", text, re.M)
        check(m, "the expiry metric is there")
        want = ssl.cert_time_to_seconds(
            ssl._ssl._test_decode_cert(c.server)["notAfter"])
        check_eq(int(float(m.group(1))), want, "the certificate's notAfter")
        check(re.search(r'^seqecho_connections_closed_total\{reason="tls"\} 1$',
                        text, re.M), "the failed handshake counted")
        status = json.loads(httpget.get(d.http_port, "/status.json")[1])
        tls = [x["tls"] for x in status["connections"]]
        check_eq(tls, ["TLSv1.3"], "the open connection's tls")
        s.close()


def check_t(conf, want_rc, pattern):
    path = write_file(conf)
    rc, out, err = harness.run_daemon(["-t", "-c", path])
    check_eq(rc, want_rc, "seqechod -t exit (%s)" % err)
    check(re.search(pattern, err), "-t said %r, want %r" % (err, pattern))
    return err


def test_t_checks_tls_files():
    c = tlscerts.make()
    # Line 3 is listen, 4 tls_certificate, 5 tls_key (server_conf's order).
    s = lambda **kw: tls_conf(**kw).replace('  port = 0;\n  address = '
                                             '"127.0.0.1";\n', "")
    check_t(s(), 0, r"OK")
    check_t(s(tls_certificate=c.other_key), 1,
            r":4: tls_certificate: .*other\.key: ")
    check_t(s(tls_key=c.other_key), 1, r":5: tls_key: .*other\.key: ")
    check_t(s(tls_key="/nonexistent/key.pem"), 1,
            r":5: tls_key: /nonexistent/key\.pem: ")
    check_t(s(tls_certificate="", tls_key=""), 1,
            r":3: tls: a tls listener needs tls_certificate and tls_key")
    check_t(s(tls_verify="require"), 1, r":6: tls_verify: needs tls_ca")
    check_t(s(tls_verify="sometimes"), 1,
            r':6: tls_verify: must be "none", "optional" or "require"')
    check_t(s(tls_min_version="1.1"), 1,
            r':6: tls_min_version: must be "1.2" or "1.3"')
    check_t(s(tls_ca=c.other_key, tls_verify="optional"), 1,
            r":6: tls_ca: .*other\.key: ")
    err = check_t(s(tls_certificate=c.expiring, tls_key=c.expiring_key), 0,
                  r":4: tls_certificate: expires on \S+ \S+ UTC, in \d+ days")
    check("OK" in err, "still good: %r" % err)
    check_t(s(tls_certificate=c.expired, tls_key=c.expired_key), 0,
            r":4: tls_certificate: expired on 2020-02-01")


def test_start_fails_on_bad_certificate():
    c = tlscerts.make()
    path = write_file(tls_conf(tls_certificate=c.other_key))
    rc, out, err = harness.run_daemon(["-c", path])
    check_eq(rc, 1, "exit (%s)" % err)
    check(re.search(r"tls_certificate: ", err) and "listening" not in err,
          "one line, nothing bound: %r" % err)


harness.main(globals())
