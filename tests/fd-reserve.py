#!/usr/bin/env python3
"""fd-reserve: under a low open file limit the daemon budgets its
descriptors so that a flood past max_connections is told ERR too many
connections, every client of it, and never runs out (no accept pause on
EMFILE), while the connections admitted carry on being served.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import resource
import select
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, server_conf

NOFILE = 64
FLOOD = 100
ERR = b"ERR too many connections\n"


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def read_to_end(socks, timeout):
    """Read each socket to EOF, closing it there: {index: bytes or
    "reset"}; those still open after timeout are missing."""
    open_ = {s: i for i, s in enumerate(socks)}
    bufs = {i: b"" for i in range(len(socks))}
    done = {}
    deadline = time.monotonic() + harness.t(timeout)
    while open_ and time.monotonic() < deadline:
        r, _, _ = select.select(list(open_), [], [], 0.05)
        for s in r:
            i = open_[s]
            try:
                b = s.recv(4096)
            except ConnectionResetError:
                b, bufs[i] = b"", "reset"
            if b:
                bufs[i] += b
                continue
            done[i] = bufs[i]
            del open_[s]
            s.close()
    return done


def test_flood_is_told_too_many():
    conf = server_conf(max_connections=1000, backlog=FLOOD + 28)
    with Daemon(conf, preexec_fn=low_nofile) as d:
        served = d.fill()
        check(len(served) >= 8, "max_connections lowered to %d" % len(served))
        mark = d.mark()

        # All at once, into the accept queue, before reading any reply.
        flood = [connect(d.port) for i in range(FLOOD)]
        for s in flood:
            s.sendall(b"ping\n")
        got = read_to_end(flood, 20)
        missing = [i for i in range(FLOOD) if i not in got]
        check(not missing, "%d of %d flood clients got no EOF within 20 s"
              % (len(missing), FLOOD))
        bad = dict((i, v) for i, v in got.items() if v != ERR)
        check(not bad, "%d of %d flood clients not told %r: %r"
              % (len(bad), FLOOD, ERR, sorted(bad.items())[:5]))
        check_eq(d.log_lines(r"accept: ", since=mark), [],
                 "accept errors during the flood")

        # The admitted ones are served still.
        for i, s in enumerate(served):
            s.sendall(b"t%d\n" % i)
            check_eq(read_lines(s, 1), [b"1t%d" % i], "served client %d" % i)
            s.close()


harness.main(globals())
