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

time_wait_lands(client port, server port, "client" or "server") checks
where TIME_WAIT landed, from the kernel's own table.

socat_server(cert, key) is a second, independent server: socat's OpenSSL
listener, a serial-echo script behind it for each connection.
"""

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading

import harness


class TLSServer(harness.BackgroundServer):
    """Listens on host with cert and key.

    ca          a CA bundle: ask for a client certificate chaining to it
    require     with ca, refuse a client without one
    close_notify  send close_notify at the end
    version     None, or ssl.TLSVersion to pin (TLSv1_2, TLSv1_3)
    """

    def __init__(self, cert, key, host="127.0.0.1", ca=None, require=False,
                 close_notify=True, version=None):
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
        super().__init__(host)

    def _sni(self, sock, name, ctx):
        self.local.sni = name

    def count(self):
        with self.lock:
            return len(self.sessions) + len(self.failures)

    def finish_request(self, raw, peer):
        self.local.sni = None
        raw.settimeout(harness.t(10))
        c = self.ctx.wrap_socket(raw, server_side=True,
                                 suppress_ragged_eofs=False,
                                 do_handshake_on_connect=False)
        try:
            c.do_handshake()
        except (ssl.SSLError, OSError) as e:
            with self.lock:
                self.failures.append(str(e))
            # Close as a careful server does: a RST could wipe the alert.
            try:
                c.settimeout(harness.t(2))
                c.shutdown(socket.SHUT_WR)
                while c.recv(65536):
                    pass
            except OSError:
                pass
            c.close()
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
            out, serial, bye = harness.serial_replies(lines, serial)
            if bye:
                end = "bye"
            rec["lines"] = serial
            c.sendall(out)
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
    # -t: after the client's end, wait for the script's replies (by
    # default socat gives it 0.5 s, too little for python3 to start).
    p = subprocess.Popen([socat, "-t", str(harness.t(10)),
                          "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,"
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


def states():
    """The IPv4 sockets as {(local port, peer port): state}, from the
    kernel's table (state 06 is TIME_WAIT)."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return {(int(r[1].rsplit(":", 1)[1], 16), int(r[2].rsplit(":", 1)[1], 16)):
            r[3] for r in rows if len(r) > 3}


def time_wait():
    """The IPv4 TIME_WAIT sockets as (local port, peer port) pairs."""
    return {k for k, v in states().items() if v == "06"}


class TimeWaitOverflow(Exception):
    """The kernel dropped a TIME_WAIT socket (its table was full: other
    programs' load), so where it would have landed cannot be told: run
    the session again."""


def tw_overflows():
    """The kernel's count of TIME_WAIT sockets it could not keep."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:]))
            return int(row.get("TCPTimeWaitOverflow", 0))
    return 0


def time_wait_lands(cport, sport, on, note="", overflows=None):
    """TIME_WAIT is on the client's end (on="client") or the server's, and
    only there. overflows: tw_overflows() from before the session; if the
    kernel dropped TIME_WAIT sockets since, TimeWaitOverflow."""
    ours, theirs = (cport, sport), (sport, cport)
    want, other = (ours, theirs) if on == "client" else (theirs, ours)
    try:
        harness.wait_for(lambda: want in time_wait(), timeout=5,
                         what="TIME_WAIT on the %s" % on)
    except harness.Failure:
        st = states()
        if overflows is not None and tw_overflows() > overflows:
            raise TimeWaitOverflow()
        raise harness.Failure("no TIME_WAIT on the %s: client end %s, "
                              "server end %s %s" % (on, st.get(ours),
                                                    st.get(theirs), note))
    if other in time_wait():
        raise harness.Failure("TIME_WAIT on both ends %s" % note)


def retry_overflow(fn, tries=3):
    """fn(), again (up to tries in all) while TimeWaitOverflow says the
    kernel could not keep the socket the check looks for."""
    for k in range(tries):
        try:
            return fn()
        except TimeWaitOverflow:
            if k == tries - 1:
                raise harness.Failure("the kernel's TIME_WAIT table "
                                      "overflowed %d times running" % tries)
            print("TIME_WAIT table overflowed: once more")
