"""proxyserver.py - a seqecho-like server on loopback that requires a PROXY
header (v1 or v2) on every connection, for the client's and the bench's
--proxy tests (tests/client-proxy.py, tests/bench-proxy.py).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

It reads exactly the header, as a strict receiver does (v1 up to its LF,
at most 107 bytes; v2 exactly 16 bytes, then exactly the length), and
compares it byte for byte with the header this connection's own two ends
make: the source is the client's address and port (the accepted socket's
peer), the destination ours. A wrong or missing header is recorded and the
connection closed without a reply; a right one is followed by the protocol:
replies "<serial><line>" from serial 0, bye ends the session.
"""

import ipaddress
import socket
import struct
import threading

import harness

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def expected_header(version, src, dst):
    """The header naming src -> dst ((host, port) pairs), as HAProxy's
    proxy-protocol.txt spells it."""
    a, b = ipaddress.ip_address(src[0]), ipaddress.ip_address(dst[0])
    if version == "v1":
        return ("PROXY TCP%d %s %s %d %d\r\n" % (a.version, a, b, src[1],
                                                  dst[1])).encode()
    fam = 0x11 if a.version == 4 else 0x21
    block = a.packed + b.packed + struct.pack(">HH", src[1], dst[1])
    return V2_SIG + bytes([0x21, fam]) + struct.pack(">H", len(block)) + block


def _recv_exact(c, n):
    buf = b""
    while len(buf) < n:
        data = c.recv(n - len(buf))
        if not data:
            break
        buf += data
    return buf


def read_header(c, version):
    """Exactly the header's bytes, as the version reads them."""
    if version == "v2":
        head = _recv_exact(c, 16)
        if len(head) < 16 or not head.startswith(V2_SIG):
            return head
        return head + _recv_exact(c, struct.unpack(">H", head[14:16])[0])
    buf = b""
    while len(buf) < 107 and not buf.endswith(b"\n"):
        data = c.recv(1)
        if not data:
            break
        buf += data
    return buf


class ProxyServer(harness.BackgroundServer):
    """Listens on host (127.0.0.1 or ::1) and wants version's header.

    headers     one (got, want) pair a connection, in accept order
    """

    def __init__(self, version, host="127.0.0.1"):
        self.version = version
        self.headers = []
        self.lock = threading.Lock()
        super().__init__(host)

    def wrong(self):
        """The (got, want) pairs that differ."""
        with self.lock:
            return [h for h in self.headers if h[0] != h[1]]

    def count(self):
        with self.lock:
            return len(self.headers)

    def finish_request(self, c, peer):
        try:
            c.settimeout(harness.t(10))
            want = expected_header(self.version, peer[:2],
                                   c.getsockname()[:2])
            got = read_header(c, self.version)
            with self.lock:
                self.headers.append((got, want))
            if got != want:
                return
            self._session(c)
        except OSError:
            pass

    def _session(self, c):
        buf, serial = b"", 0
        while True:
            data = c.recv(65536)
            if not data:
                break
            buf += data
            *lines, buf = buf.split(b"\n")
            out, serial, bye = harness.serial_replies(lines, serial)
            c.sendall(out)
            if bye:
                return self._close(c)
        self._close(c)

    def _close(self, c):
        # Half-close first, so no reply is lost to a reset.
        try:
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()
