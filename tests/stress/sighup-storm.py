#!/usr/bin/env python3
"""sighup-storm: 100 SIGHUPs, alternating a good file and a broken one
(each of the broken kinds in turn), while clients pipeline on connections
they keep and others connect, talk and leave. Not one message may go
unanswered or be answered wrongly, no connection may drop, each good file
is taken and each broken one refused with FILE:LINE, and the listener
stays where it was.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import signal
import socket
import threading
import time

import stresslib
import harness
from harness import Daemon, Raw, check, check_eq, connect, read_lines, \
    send_recv_all, server_conf
from stresslib import figure

HUPS = 100
KEEPERS = 8             # threads pipelining on a connection each keeps
CHURNERS = 4            # threads opening a new connection per message
BATCH = 50

GOOD = [server_conf(separator=":", idle_timeout=300),
        server_conf(separator=":", idle_timeout=301, backlog=129)]
# (text, line of the error): the kinds of pitfalls.md's libconfig section.
BAD = [
    (server_conf(separator=":", prot=1234), 6),
    (server_conf(separator=":", max_line=Raw("1234.0")), 6),
    (server_conf(separator=":", max_line="1234"), 6),
    (server_conf(separator=":", backlog=70000), 6),
    (server_conf(separator=":", idle_timeout=-1), 6),
    (server_conf(separator=":", max_connections=Raw("4294968530")), 6),
    ("server:\n{\n  port = 0;\n  port = 0;\n};\n", 4),
    ("server:\n{\n  port = 0;\n  separator = \":\"\n  max_line = ;\n};\n", 5),
]


class Traffic(threading.Thread):
    def __init__(self, port, keep):
        threading.Thread.__init__(self, daemon=True)
        self.port = port
        self.keep = keep
        self.stop = threading.Event()
        self.messages = 0
        self.connections = 0
        self.error = None

    def run(self):
        try:
            if self.keep:
                self.run_keeper()
            else:
                self.run_churner()
        except BaseException as e:
            self.error = e

    def run_keeper(self):
        s = connect(self.port)
        self.connections += 1
        n = 0
        while not self.stop.is_set():
            s.sendall(b"".join(b"k%d\n" % i for i in range(n, n + BATCH)))
            got = read_lines(s, BATCH, timeout=10)
            want = [b"%d:k%d" % (i, i) for i in range(n, n + BATCH)]
            if got != want:
                check_eq(got, want, "replies on a kept connection")
            n += BATCH
            self.messages += BATCH
        s.sendall(b"bye\n")
        s.shutdown(socket.SHUT_WR)
        check_eq(harness.recv_until_eof(s, 10), b"", "after bye")
        s.close()

    def run_churner(self):
        n = 0
        while not self.stop.is_set():
            got = send_recv_all(self.port, b"c%d\nd%d\nbye\n" % (n, n),
                                timeout=10)
            check_eq(got, b"0:c%d\n1:d%d\n" % (n, n), "a new connection")
            n += 1
            self.messages += 2
            self.connections += 1


def test_sighup_storm():
    with Daemon(GOOD[0]) as d:
        port = d.port
        path = d.conf_path
        traffic = [Traffic(port, True) for _ in range(KEEPERS)] + \
                  [Traffic(port, False) for _ in range(CHURNERS)]
        for th in traffic:
            th.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        good = bad = 0
        for i in range(HUPS):
            if i % 2 == 0:
                text, line = GOOD[(i // 2) % 2], None
            else:
                text, line = BAD[(i // 2) % len(BAD)]
            tmp = path + ".new"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)       # never a half-written file
            mark = d.mark()
            d.signal(signal.SIGHUP)
            if line is None:
                d.wait_log(r"configuration reloaded", since=mark)
                good += 1
            else:
                d.wait_log(r"reload failed", since=mark)
                check(d.log_lines(r"%s:%d: " % (path, line), since=mark),
                      "no %s:%d: in\n%s" % (path, line, d.log_text()[mark:]))
                bad += 1
            for th in traffic:
                check(th.error is None, "traffic: %r" % (th.error,))
        took = time.monotonic() - t0
        for th in traffic:
            th.stop.set()
        for th in traffic:
            th.join(harness.t(15))
            check(not th.is_alive(), "a traffic thread is stuck")
            check(th.error is None, "traffic: %r" % (th.error,))
        messages = sum(th.messages for th in traffic)
        conns = sum(th.connections for th in traffic)
        check(all(th.messages > 0 for th in traffic), "a client made no progress")
        figure("SIGHUPs under traffic", "%d in %.1f s (%d good files taken, %d "
               "broken ones refused); %d messages on %d connections answered, "
               "0 lost" % (HUPS, took, good, bad, messages, conns))
        check_eq(len(d.log_lines(r"configuration reloaded")), good, "reloads")
        check(not d.log_lines(r"no longer listening|listening on .*:(?!%d)"
                              % port), "the listener moved:\n" + d.log_text())
        check_eq(send_recv_all(port, b"after\n"), b"0:after\n", "afterwards")


harness.main(globals(), timeout=120)
