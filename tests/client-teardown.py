#!/usr/bin/env python3
"""client-teardown: -x chooses who closes first and so where TIME_WAIT
lands: bye (the default) and half on the client, server on the daemon,
rst nowhere. Read with `ss -tan state time-wait` for the two ports. -v
narrates the states this end goes through, in order.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import re
import shutil
import subprocess

import harness
from harness import Daemon, check, check_eq, run_client

CLOSED = re.compile(r"closed peer=127\.0\.0\.1:(\d+) .*first=(\w+) reason=([\w-]+)")


def ss_path():
    """ss(8), on PATH or where distributions put it, or None."""
    return shutil.which("ss") or shutil.which("ss", path="/usr/sbin:/sbin")


def time_wait():
    """The TIME_WAIT sockets as (local port, peer port) pairs.

    From ss(8) where it is installed (iproute2; CI has it), else from the
    kernel's own tables in /proc/net/tcp and tcp6 (state 06 is TIME_WAIT),
    so these tests run on any Linux host.
    """
    pairs = set()
    ss = ss_path()
    if ss is None:
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            if not os.path.exists(path):
                continue
            with open(path) as f:
                for line in f.readlines()[1:]:
                    fld = line.split()
                    if len(fld) > 3 and fld[3] == "06":
                        pairs.add((int(fld[1].rsplit(":", 1)[1], 16),
                                   int(fld[2].rsplit(":", 1)[1], 16)))
        return pairs
    out = subprocess.run([ss, "-Htan", "state", "time-wait"], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        # Recv-Q Send-Q Local:Port Peer:Port (state is implied)
        addrs = [x for x in f if ":" in x]
        if len(addrs) >= 2:
            pairs.add((int(addrs[0].rsplit(":", 1)[1]),
                       int(addrs[1].rsplit(":", 1)[1])))
    return pairs


def session(mode, data=b"hello\nworld\n", want_reason="bye"):
    """Run one client session; returns (daemon port, client port, first)."""
    with Daemon() as d:
        args = ([] if mode is None else ["-x", mode]) + ["127.0.0.1", str(d.port)]
        rc, out, err = run_client(args, data)
        check_eq((rc, out, err), (0, b"0hello\n1world\n", ""), "rc, stdout, stderr")
        m = d.wait_log(CLOSED)
        check_eq(m.group(3), want_reason, "reason in the daemon's log")
        return d.port, int(m.group(1)), m.group(2)


def wait_time_wait(pair, present):
    harness.wait_for(lambda: (pair in time_wait()) == present, timeout=3,
                     what="%s %sin TIME_WAIT" % (pair, "" if present else "not "))


def test_bye_time_wait_on_client():
    dport, cport, first = session(None)
    check_eq(first, "client", "who closed first")
    wait_time_wait((cport, dport), True)
    check((dport, cport) not in time_wait(), "daemon's socket in TIME_WAIT")


def test_bye_on_stdin_time_wait_on_client():
    dport, cport, first = session("bye", b"hello\nworld\nbye\n")
    check_eq(first, "client", "who closed first")
    wait_time_wait((cport, dport), True)
    check((dport, cport) not in time_wait(), "daemon's socket in TIME_WAIT")


def test_server_time_wait_on_daemon():
    dport, cport, first = session("server")
    check_eq(first, "server", "who closed first")
    wait_time_wait((dport, cport), True)
    check((cport, dport) not in time_wait(), "client's socket in TIME_WAIT")


def test_half_time_wait_on_client():
    dport, cport, first = session("half", want_reason="eof")
    check_eq(first, "client", "who closed first")
    wait_time_wait((cport, dport), True)
    check((dport, cport) not in time_wait(), "daemon's socket in TIME_WAIT")


def test_rst_no_time_wait():
    dport, cport, first = session("rst", want_reason="reset")
    tw = time_wait()
    check((cport, dport) not in tw and (dport, cport) not in tw,
          "TIME_WAIT after -x rst: %r" % sorted(p for p in tw if dport in p))


def test_rst_waits_for_replies():
    n = 20000
    data = b"".join(b"line %d\n" % i for i in range(n))
    want = b"".join(b"%dline %d\n" % (i, i) for i in range(n))
    with Daemon() as d:
        rc, out, err = run_client(["-x", "rst", "127.0.0.1", str(d.port)], data,
                                  timeout=20)
        check_eq((rc, out, err), (0, want, ""), "rc, stdout, stderr")
        d.wait_log(r"messages=%d .*reason=reset" % n)


# The states a connection passes through, in order, on the side that
# closes first and on the side that closes second (RFC 793, Linux names).
ACTIVE = ["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]
PASSIVE = ["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"]
NARRATION = re.compile(r"seqecho: ([a-z -]+): 127\.0\.0\.1:\d+ ([A-Z_0-9]+)"
                       r"( \(the server's end ([A-Z_0-9]+)\))?,")


def test_verbose_narrates_states():
    # -v reads TCP_INFO: ESTABLISHED after connect, FIN_WAIT_1 right after
    # the half-close (or later already: loopback is quick, and the server
    # may have answered and closed before the client looks), then what the
    # server's close leaves, then where the connection ended up once closed,
    # as the kernel's tables say: TIME_WAIT on the side that closed first.
    end_states = "(FIN_WAIT_1|FIN_WAIT_2|TIME_WAIT)"
    with Daemon() as d:
        for mode, order, lines in (
                ("bye", ACTIVE,
                 [r"connected: .* ESTABLISHED, rtt [\d.]+ ms \(\+/- [\d.]+\), "
                  r"0 sent, 0 replies$",
                  r"sent bye and half-closed: .* %s, rtt [\d.]+ ms" % end_states,
                  r"server closed: .* TIME_WAIT, rtt [\d.]+ ms .* 2 replies$",
                  r"closed: .* TIME_WAIT, 2 sent, 2 replies$"]),
                ("server", PASSIVE,
                 [r"connected: .* ESTABLISHED,",
                  r"sent bye: .* ESTABLISHED, .* 2 sent, [0-2] replies$",
                  r"server closed: .* CLOSE_WAIT, .* 2 sent, 2 replies$",
                  r"closed: .* (LAST_ACK|CLOSE) \(the server's end "
                  r"(FIN_WAIT_1|FIN_WAIT_2|TIME_WAIT)\), 2 sent, 2 replies$"]),
                ("half", ACTIVE,
                 [r"connected: .* ESTABLISHED,",
                  r"half-closed: .* %s," % end_states,
                  r"server closed: .* TIME_WAIT,",
                  r"closed: .* TIME_WAIT, 2 sent, 2 replies$"]),
                ("rst", None,
                 [r"connected: .* ESTABLISHED,",
                  r"aborting: .* ESTABLISHED, .* 2 sent, 2 replies$",
                  r"closed: .* CLOSE( \(the server's end ESTABLISHED\))?, "
                  r"2 sent, 2 replies$"])):
            rc, out, err = run_client(["-v", "-x", mode, "127.0.0.1", str(d.port)],
                                      b"hello\nworld\n")
            check_eq((rc, out), (0, b"0hello\n1world\n"), "rc, stdout (-x %s)" % mode)
            got = err.splitlines()
            check_eq(len(got), len(lines), "lines on stderr with -x %s: %r" % (mode, got))
            for l, rx in zip(got, lines):
                check(re.match(r"seqecho: " + rx, l), "-x %s: %r !~ /%s/" % (mode, l, rx))
            if order is None:
                continue
            # This end's states only ever move forward.
            states = [NARRATION.match(l).group(2) for l in got]
            idx = [order.index(s) for s in states]
            check_eq(idx, sorted(idx), "-x %s: states in order: %r" % (mode, states))


def test_verbose_time_wait_side():
    # The last line says where TIME_WAIT is, and ss agrees. After -x server
    # the client's close sends its FIN, which loopback delivers at once:
    # the client's end is gone and the server's is in TIME_WAIT by the time
    # -v looks, unless the machine is too busy to have run the network yet.
    # The tables are read through netlink, or /proc where it is missing.
    with Daemon() as d:
        for mode, ours, theirs, source in (
                ("bye", "TIME_WAIT", None, "proc"),
                ("bye", "TIME_WAIT", None, ""),
                ("server", "(CLOSE|LAST_ACK)",
                 "(TIME_WAIT|FIN_WAIT_2|FIN_WAIT_1)", "proc"),
                ("server", "(CLOSE|LAST_ACK)",
                 "(TIME_WAIT|FIN_WAIT_2|FIN_WAIT_1)", "")):
            mark = d.mark()
            rc, out, err = run_client(["-v", "-x", mode, "127.0.0.1", str(d.port)],
                                      b"hello\n", env={"SEQECHO_SOCKSTAT": source})
            check_eq((rc, out), (0, b"0hello\n"), "rc, stdout (-x %s)" % mode)
            m = NARRATION.match(err.splitlines()[-1])
            check(m and m.group(1) == "closed", "last line: %r" % err)
            cport = int(d.wait_log(CLOSED, since=mark).group(1))
            check(re.fullmatch(ours, m.group(2)), "-x %s: this end %s"
                  % (mode, m.group(2)))
            if theirs is not None:
                check(re.fullmatch(theirs, m.group(4) or ""),
                      "-x %s: the server's end %s" % (mode, m.group(4)))
            pair = (cport, d.port) if ours == "TIME_WAIT" else (d.port, cport)
            wait_time_wait(pair, True)


harness.main(globals())
