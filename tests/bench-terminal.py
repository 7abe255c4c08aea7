#!/usr/bin/env python3
"""bench-terminal: with standard error on a terminal, seqecho-bench shows
a progress line once a second -- the time, the messages so far, the rate,
the connections open and the errors -- rewritten in place, and wipes it
before it exits; piped, or with -q, it shows none. The report on standard
output is the same either way.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import pty
import re
import select
import subprocess
import time

import harness
from harness import Daemon, check, check_eq, write_file

PROGRESS_RE = re.compile(rb"\r *(\d+\.\d) s  (\d+) messages  (\d+) msg/s  "
                         rb"(\d+) open  (\d+) errors\x1b\[K")
CLEAR = b"\r\x1b[K"


def bench_on_terminal(args, timeout=20):
    """Run seqecho-bench with stderr on a pseudo-terminal: returns
    (rc, stdout, everything written to the terminal)."""
    harness.require_program(harness.bench_path())
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([harness.bench_path()] + list(args),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=slave)
    finally:
        os.close(slave)
    term = b""
    deadline = time.monotonic() + harness.t(timeout)
    try:
        while True:
            left = deadline - time.monotonic()
            check(left > 0, "still running after %ss; terminal %r" %
                  (timeout, term))
            r, _, _ = select.select([master], [], [], left)
            if not r:
                continue
            try:
                b = os.read(master, 4096)
            except OSError:             # EIO: the last writer has gone
                b = b""
            if not b:
                break
            term += b
        out, _ = p.communicate(timeout=harness.t(5))
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out.decode(errors="replace"), term


def test_progress_line_on_a_terminal():
    with Daemon() as d:
        rc, out, term = bench_on_terminal(["-c", write_file(""), "-d", "2.6",
                                           "-n", "3", "127.0.0.1",
                                           str(d.port)])
        check_eq(rc, 0, "exit status (terminal %r)" % term)
        lines = PROGRESS_RE.findall(term)
        check(len(lines) >= 2, "progress lines %r in %r" % (lines, term))
        secs = [float(m[0]) for m in lines]
        counts = [int(m[1]) for m in lines]
        check(secs == sorted(secs) and secs[-1] > secs[0],
              "time does not go on: %r" % secs)
        check(counts == sorted(counts) and counts[-1] > 0,
              "messages do not go up: %r" % counts)
        check(all(int(m[2]) > 0 for m in lines), "rates %r" % lines)
        check(all(m[3] == b"3" and m[4] == b"0" for m in lines),
              "open and errors %r" % lines)
        # Rewritten in place: no line feed between updates, and wiped at
        # the end, after the last one.
        check(b"\n" not in term, "a line feed on the terminal: %r" % term)
        check(term.endswith(CLEAR), "not wiped at the end: %r" % term[-80:])
        check(term.rfind(CLEAR) > term.rfind(b"errors\x1b[K"),
              "wiped before the last update: %r" % term[-80:])
        for word in ("target", "messages", "throughput", "errors      0"):
            check(word in out, "%r not in the report %r" % (word, out))


def test_quiet_shows_no_progress():
    with Daemon() as d:
        rc, out, term = bench_on_terminal(["-q", "-c", write_file(""), "-d",
                                           "1.5", "-n", "2", "127.0.0.1",
                                           str(d.port)])
        check_eq(rc, 0, "exit status")
        check_eq(term, b"", "terminal with -q")
        check(out.endswith(" 0 errors\n"), "-q line %r" % out)


def test_piped_shows_no_progress():
    with Daemon() as d:
        rc, out, err = harness.run_bench(["-c", write_file(""), "-d", "1.5",
                                          "-n", "2", "127.0.0.1",
                                          str(d.port)])
        check_eq(rc, 0, "exit status")
        check_eq(err, "", "stderr on a pipe")
        check("errors      0" in out, "report %r" % out)


harness.main(globals())
