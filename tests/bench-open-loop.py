#!/usr/bin/env python3
"""bench-open-loop: with -R, seqecho-bench times each message from when
it was due, not from when it could be sent, so a server that stalls
cannot hide the stall by holding the sender back (coordinated omission).
A server here answers rightly but holds one reply for STALL seconds: the
messages due while it stalls, and only those, show the wait.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import socket
import threading
import time

import harness
from harness import check, check_eq, write_file

RATE = 200              # -R: one message every 5 ms on one connection
SECONDS = 3             # -d
STALL_AT = 100          # the reply held: message 100, due at 0.5 s
STALL = 1.0             # seconds it is held


class StallServer:
    """A right seqecho line server on 127.0.0.1 that, on each connection,
    waits STALL seconds before answering message STALL_AT."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stalled = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        with c:
            try:
                self._session(c)
            except OSError:
                pass

    def _session(self, c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf, serial = b"", 0
        while True:
            data = c.recv(65536)
            if not data:
                return
            *lines, buf = (buf + data).split(b"\n")
            out = []
            for line in lines:
                if line == b"bye":
                    c.sendall(b"".join(out))
                    c.shutdown(socket.SHUT_WR)
                    c.settimeout(harness.t(5))
                    while c.recv(65536):
                        pass
                    return
                if serial == STALL_AT:
                    c.sendall(b"".join(out))
                    out = []
                    time.sleep(STALL)   # the stall under test
                    self.stalled.set()
                out.append(b"%d%s\n" % (serial, line))
                serial += 1
            c.sendall(b"".join(out))


def run(args):
    s = StallServer()
    try:
        rc, out, err = harness.run_bench(["-c", write_file(""), "--json"] +
                                         list(args) +
                                         ["127.0.0.1", str(s.port)])
    finally:
        s.close()
    try:
        r = json.loads(out)
    except ValueError:
        raise harness.Failure("not JSON: %r (stderr %r)" % (out, err))
    check_eq(r["errors"]["total"], 0, "errors (%s)" % r["error_samples"])
    check_eq(rc, 0, "exit status")
    check(s.stalled.is_set(), "the server never stalled: %r" % r)
    return r


def test_open_loop_counts_the_stall():
    # One message in flight: while the reply to message 100 is held,
    # the messages due after it cannot go. About STALL * RATE = 200 of
    # the 600 are due during the stall; timed from when each was due,
    # their latencies spread evenly from STALL down to 0, so more than
    # a tenth of all messages wait over 0.4 s. Timed from when each
    # went, only message 100 would.
    r = run(["-n", "1", "-P", "1", "-R", str(RATE), "-d", str(SECONDS)])
    sent = r["messages"] + r["messages_late"]
    check(RATE * SECONDS * 0.9 <= sent <= RATE * SECONDS + 1,
          "%d messages at %d/s for %d s" % (sent, RATE, SECONDS))
    lat = r["latency_us"]
    check(lat["max"] >= STALL * 0.95e6, "max %r: the stall not seen" % lat)
    check(lat["p99"] >= STALL * 0.8e6, "p99 %r: the stall not seen" % lat)
    check(lat["p90"] >= STALL * 0.4e6,
          "p90 %r: the messages held back do not count the stall" % lat)
    # The two thirds due before or after it were not delayed.
    check(lat["p50"] < 0.1e6, "p50 %r: more than the stall is slow" % lat)


def test_closed_loop_hides_the_stall():
    # The same stall in a closed loop: the sender waits, so only the
    # one message held shows it. This is what -R is for.
    r = run(["-n", "1", "-P", "1", "-d", str(SECONDS)])
    lat = r["latency_us"]
    check(lat["max"] >= STALL * 0.95e6, "max %r: the stall not seen" % lat)
    check(lat["p99"] < 0.1e6, "p99 %r in a closed loop" % lat)


harness.main(globals())
