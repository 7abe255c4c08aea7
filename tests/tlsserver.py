"""tlsserver.py - a seqecho-like server on loopback that speaks TLS
(Python's ssl, OpenSSL underneath but not seqechod's code), for the
client's and the bench's --tls tests until and besides seqechod's own TLS
listeners (tests/client-tls*.py, tests/bench-tls*.py).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

Each connection gets the protocol: replies "<serial><line>" from serial
0, bye ends the session. At the end the server sends its close_notify
(unless close_notify=False: then it just closes TCP, as a careless server
does), half-closes, and closes once the client's FIN arrives. What each
connection showed is recorded in `sessions`: the SNI it sent, the
client certificate's CN, the TLS version, whether the session was
resumed, the client's port, and how the client ended
("close_notify" if its close_notify came, "eof" for a bare TCP FIN).

socat_server(cert, key) is a second, independent server: socat's OpenSSL
listener, a serial-echo script behind it for each connection.
"""

import contextlib
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading

import harness


class TLSServer(socketserver.ThreadingTCPServer):
    """Listens on host with cert and key.

    ca          a CA bundle: ask for a client certificate chaining to it
    require     with ca, refuse a client without one
    close_notify  send close_notify at the end
    version     None, or ssl.TLSVersion to pin (TLSv1_2, TLSv1_3)
    """

    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 512

    def __init__(self, cert, key, host="127.0.0.1", ca=None, require=False,
                 close_notify=True, version=None):
        self.address_family = (socket.AF_INET6 if ":" in host
                               else socket.AF_INET)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        # A bare FIN must show as one, not as a close_notify.
        self.ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
        if ca is not None:
            self.ctx.load_verify_locations(ca)
            self.ctx.verify_mode = (ssl.CERT_REQUIRED if require
                                    else ssl.CERT_OPTIONAL)
        if version is not None:
            self.ctx.minimum_version = self.ctx.maximum_version = version
        self.ctx.sni_callback = self._sni
        self.close_notify = close_notify
        self.sessions = []
        self.failures = []
        self.lock = threading.Lock()
        self.local = threading.local()
        super().__init__((host, 0), None)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        return False

    def _sni(self, sock, name, ctx):
        self.local.sni = name

    def count(self):
        with self.lock:
            return len(self.sessions) + len(self.failures)

    def finish_request(self, raw, peer):
        self.local.sni = None
        raw.settimeout(harness.t(10))
        try:
            c = self.ctx.wrap_socket(raw, server_side=True,
                                     suppress_ragged_eofs=False)
        except (ssl.SSLError, OSError) as e:
            with self.lock:
                self.failures.append(str(e))
            raw.close()
            return
        cert = c.getpeercert()
        cn = None
        if cert:
            cn = dict(x[0] for x in cert["subject"]).get("commonName")
        rec = {"sni": self.local.sni, "client": cn, "version": c.version(),
               "resumed": c.session_reused, "end": None, "lines": 0,
               "peer": peer[1], "port": self.port}
        try:
            rec["end"] = self._session(c, rec)
        except (ssl.SSLError, OSError) as e:
            rec["end"] = "error: %s" % e
        with self.lock:
            self.sessions.append(rec)

    def _session(self, c, rec):
        buf, serial, end = b"", 0, None
        while end is None:
            try:
                data = c.recv(65536)
            except ssl.SSLEOFError:
                data, end = b"", "eof"
            if not data:
                end = end or "close_notify"
                break
            buf += data
            *lines, buf = buf.split(b"\n")
            out = []
            for line in lines:
                if line.endswith(b"\r"):
                    line = line[:-1]
                if line == b"bye":
                    end = "bye"
                    break
                out.append(b"%d%s\n" % (serial, line))
                serial += 1
            rec["lines"] = serial
            c.sendall(b"".join(out))
        if end != "bye" and buf:
            # Rule 5: an unterminated tail is a last message.
            c.sendall(b"%d%s\n" % (serial, buf))
            rec["lines"] = serial + 1
        self._close(c)
        return end

    def _close(self, c):
        raw = c
        if self.close_notify:
            try:
                raw = c.unwrap()
            except (ssl.SSLError, OSError):
                raw = c
        try:
            raw.shutdown(socket.SHUT_WR)
            while raw.recv(65536):
                pass
        except (ssl.SSLError, OSError):
            pass
        raw.close()


# The protocol for socat's EXEC: one connection's serials, up to bye.
ECHO = ("import sys\n"
        "n = 0\n"
        "for l in sys.stdin.buffer:\n"
        "    l = l.rstrip(b'\\n').rstrip(b'\\r')\n"
        "    if l == b'bye':\n"
        "        break\n"
        "    sys.stdout.buffer.write(b'%d%s\\n' % (n, l))\n"
        "    sys.stdout.buffer.flush()\n"
        "    n += 1\n")


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def socat_server(cert, key):
    """socat OPENSSL-LISTEN on 127.0.0.1; yields its port."""
    socat = shutil.which("socat")
    if socat is None:
        harness.skip("socat not installed (.ci/install-deps)")
    script = harness.write_file(ECHO, suffix=".py")
    port = harness.free_port()
    p = subprocess.Popen([socat, "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,"
                          "fork,cert=%s,key=%s,verify=0" % (port, cert, key),
                          "EXEC:python3 %s" % script],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        harness.wait_for(lambda: p.poll() is None and listening(port),
                         what="socat listening")
        yield port
    finally:
        p.kill()
        p.wait()
