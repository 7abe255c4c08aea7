#!/usr/bin/env python3
"""shutdown-out-of-fds: SIGTERM while the daemon has no descriptor to spare
and clients wait in its accept queue. Each queued client must still read
ERR server shutting down and an orderly close, not a reset: the daemon
keeps a descriptor in reserve to tell them.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import resource
import select
import shutil
import signal
import subprocess
import time

import harness
from harness import Daemon, check, check_eq, connect, server_conf

NOFILE = 64
FLOOD = 60
FULL = b"ERR too many connections\n"
STOP = b"ERR server shutting down\n"


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def accept_queue(port):
    """Connections waiting in the listener's accept queue (ss Recv-Q)."""
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port],
                         capture_output=True, text=True, timeout=5,
                         check=True).stdout
    return sum(int(l.split()[1]) for l in out.splitlines() if l.strip())


def poll(socks, bufs, state, timeout):
    """Read what has come on the sockets still open, for up to timeout:
    bytes into bufs[i], and "eof" or "reset" into state[i] at the end."""
    deadline = time.monotonic() + timeout
    while True:
        live = [s for i, s in enumerate(socks) if i not in state]
        left = deadline - time.monotonic()
        if not live or left <= 0:
            return
        r, _, _ = select.select(live, [], [], min(left, 0.05))
        for s in r:
            i = socks.index(s)
            try:
                b = s.recv(4096)
            except ConnectionResetError:
                state[i] = "reset"
                continue
            if b:
                bufs[i] += b
            else:
                state[i] = "eof"


def test_queued_clients_told_at_shutdown():
    if shutil.which("ss") is None:
        harness.skip("ss (iproute2) is not installed")
    conf = server_conf(max_connections=1000, backlog=FLOOD + 4,
                       idle_timeout=0)
    with Daemon(conf, preexec_fn=low_nofile) as d:
        served = d.fill()
        limit = len(served)

        # Past the limit: some are told so and linger, the rest queue up.
        flood = [connect(d.port) for i in range(FLOOD)]
        for s in flood:
            s.sendall(b"ping\n")
        bufs = [b""] * FLOOD
        state = {}

        def settled():
            poll(flood, bufs, state, 0.05)
            told = sum(1 for b in bufs if b == FULL)
            return told + accept_queue(d.port) == FLOOD
        harness.wait_for(settled, 5, "each flood client told or queued")
        queued = accept_queue(d.port)
        check(queued >= 16, "only %d clients queued" % queued)

        d.signal(signal.SIGTERM)
        every = flood + served
        allbufs = bufs + [b""] * limit
        poll(every, allbufs, state, harness.t(10))
        check_eq(d.wait_exit(10), 0, "exit status")

        stopped = 0
        for i, s in enumerate(every):
            who = "flood client %d" % i if i < FLOOD else \
                "served client %d" % (i - FLOOD)
            check_eq(state.get(i), "eof", "%s's end (got %r)"
                     % (who, allbufs[i]))
            # One accepted with a descriptor to serve it is answered first.
            want = (FULL, STOP, b"0ping\n" + STOP) if i < FLOOD else (STOP,)
            check(allbufs[i] in want, "%s read %r" % (who, allbufs[i]))
            stopped += i < FLOOD and allbufs[i].endswith(STOP)
            s.close()
        check(stopped >= queued - 4, "only %d of %d queued clients told %r"
              % (stopped, queued, STOP))
        check(d.log_lines(r"out of descriptors: \d+ queued connections "
                          r"told directly"),
              "the reserve descriptor was not needed: the test is too easy")


harness.main(globals())
