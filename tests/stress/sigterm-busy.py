#!/usr/bin/env python3
"""sigterm-busy: SIGTERM while 1,000 connections are busy. Half pipeline
continuously (16 messages in flight each, reading as they go); the other
half have each sent a burst of 200 messages and read nothing yet, so every
one of those replies is owed when the signal comes. After SIGTERM every
client reads until EOF: its replies must be complete and in order, then
ERR server shutting down, then the close; a burst client must get all 200
(replies lost: 0); and the daemon must exit 0 within its shutdown
deadline (SHUTDOWN_DEADLINE, 5 s) without dropping anyone.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import selectors
import signal
import socket
import time

import stresslib
import harness
from harness import Daemon, check, check_eq, connect, server_conf
from stresslib import figure

N_BUSY = 500
N_BURST = 500
WINDOW = 16
BURST = 200
ERR = b"ERR server shutting down\n"


class Client:
    def __init__(self, sock, burst):
        self.sock = sock
        self.burst = burst
        self.sent = 0               # whole messages written
        self.out = b""              # bytes of a message not yet written
        self.buf = b""
        self.answered = 0           # replies checked
        self.eof = False
        self.stopped = False        # no new messages after SIGTERM

    def msg(self, n):
        return b"m%d\n" % n

    def want(self, n):
        return b"%dm%d" % (n, n)


def test_sigterm_with_busy_connections():
    stresslib.raise_nofile(N_BUSY + N_BURST + 256)
    port = harness.free_port()
    conf = server_conf(port=port, max_connections=N_BUSY + N_BURST + 100,
                       idle_timeout=0, log_level="warning")
    with Daemon(conf, quiet_port=port) as d:
        sel = selectors.DefaultSelector()
        clients = []
        for i in range(N_BUSY + N_BURST):
            s = connect(port)
            burst = i >= N_BUSY
            c = Client(s, burst)
            if burst:
                s.sendall(b"".join(c.msg(n) for n in range(BURST)))
                c.sent = BURST
                c.stopped = True
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, c)
            clients.append(c)

        def pump(t_end, after_term):
            while time.monotonic() < t_end:
                if after_term and all(c.eof for c in clients):
                    return
                for c in clients:
                    if c.burst or c.stopped or c.eof:
                        continue
                    while not c.out and c.sent - c.answered < WINDOW:
                        c.out = c.msg(c.sent)
                        c.sent += 1
                    if c.out:
                        try:
                            n = c.sock.send(c.out)
                            c.out = c.out[n:]
                        except BlockingIOError:
                            pass
                        except OSError:
                            c.out = b""
                for key, _ in sel.select(0.01):
                    c = key.data
                    if c.burst and not after_term:
                        continue        # burst clients read only afterwards
                    try:
                        b = c.sock.recv(65536)
                    except ConnectionResetError:
                        check(False, "a client was reset")
                    if not b:
                        # Close at once, as a client does: the daemon's
                        # linger ends with our FIN.
                        c.eof = True
                        sel.unregister(c.sock)
                        c.sock.close()
                        continue
                    c.buf += b
                    while True:
                        i = c.buf.find(b"\n")
                        if i < 0 or c.buf == ERR:
                            break
                        line, c.buf = c.buf[:i], c.buf[i + 1:]
                        if line + b"\n" == ERR:
                            c.buf = ERR
                            break
                        check_eq(line, c.want(c.answered), "reply")
                        c.answered += 1
            check(not after_term, "%d clients without EOF at the deadline"
                  % sum(1 for c in clients if not c.eof))

        pump(time.monotonic() + 1.5, False)
        busy_answered = sum(c.answered for c in clients if not c.burst)
        check(busy_answered > 0, "no busy traffic before SIGTERM")
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        # A message half written when the signal came is finished, then no
        # more: the count of messages sent before SIGTERM stays exact.
        for c in clients:
            if c.out:
                c.sock.setblocking(True)
                try:
                    c.sock.sendall(c.out)
                except OSError:
                    pass
                c.sock.setblocking(False)
                c.out = b""
            c.stopped = True
        pump(t0 + harness.t(15), True)
        rc = d.wait_exit(10)
        took = time.monotonic() - t0
        check_eq(rc, 0, "exit code")

        lost = 0
        unanswered = 0
        for c in clients:
            check_eq(c.buf, ERR, "after the last reply")
            check(c.answered <= c.sent, "more replies than messages")
            if c.burst:
                lost += BURST - c.answered
            else:
                unanswered += c.sent - c.answered
        total = sum(c.answered for c in clients)
        print("%d replies delivered in total; %d to the busy clients before "
              "SIGTERM" % (total, busy_answered))
        figure("replies lost on SIGTERM", "%d of %d owed to %d clients that "
               "had not read" % (lost, N_BURST * BURST, N_BURST))
        figure("busy clients' messages still in flight, never read by the "
               "daemon", "%d (at most %d in flight each)" % (unanswered, WINDOW))
        figure("SIGTERM to exit with %d busy connections" % len(clients),
               "%.2f s, exit 0" % took)
        check_eq(lost, 0, "replies lost")
        check(took < 5.0, "exit took %.2f s" % took)
        check(not d.log_lines(r"deadline passed"), "connections dropped:\n"
              + d.log_text()[-2000:])
        sel.close()


harness.main(globals(), timeout=90)
