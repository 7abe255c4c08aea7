#!/usr/bin/env python3
"""pidfile - the pid file of a detached daemon (-d), from start to exit.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

With -d and pidfile set, the file holds the daemon's pid while it runs
and is gone once it has exited on SIGTERM or SIGINT, or after a failed
start. The daemon holds it locked: a second one on the same file is
refused and leaves it alone.
"""

import os
import signal

import harness
from harness import Daemon, check, check_eq, free_port, run_daemon, \
    send_recv_all, server_conf, write_file


def detach(pidfile):
    """Start seqechod -d with pidfile; returns (pid, port) once it serves."""
    p = free_port()
    path = write_file(server_conf(port=p, pidfile=pidfile))
    rc, out, err = run_daemon(["-d", "-c", path], timeout=5)
    check_eq(rc, 0, "exit code of the foreground process (stderr %r)" % err)
    text = harness.wait_for(lambda: os.path.exists(pidfile) and
                            open(pidfile).read(), 3, "pid file written")
    check(text.endswith("\n") and text[:-1].isdigit(),
          "pid file holds %r" % text)
    pid = int(text)
    check(pid != os.getpid() and harness.running(pid),
          "no daemon %d running" % pid)
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        check(b"seqechod" in f.read(), "pid %d is not seqechod" % pid)
    check_eq(send_recv_all(p, b"x\n"), b"0x\n", "reply")
    return pid


def stop(pid, sig, pidfile):
    """Stop the daemon with sig; the pid file must be gone once it exited."""
    try:
        os.kill(pid, sig)
        harness.wait_for(lambda: not harness.running(pid), 5, "daemon %d exit" % pid)
    finally:
        if harness.running(pid):
            os.kill(pid, signal.SIGKILL)
    check(not os.path.exists(pidfile),
          "pid file %s left after %s" % (pidfile, signal.Signals(sig).name))


def test_removed_at_sigterm():
    pidfile = os.path.join(harness.tmpdir(), "term.pid")
    stop(detach(pidfile), signal.SIGTERM, pidfile)


def test_removed_at_sigint():
    pidfile = os.path.join(harness.tmpdir(), "int.pid")
    stop(detach(pidfile), signal.SIGINT, pidfile)


def test_second_daemon_refused():
    pidfile = os.path.join(harness.tmpdir(), "one.pid")
    pid = detach(pidfile)
    try:
        rc, out, err = run_daemon(["-d", "-c", write_file(
            server_conf(port=free_port(), pidfile=pidfile))])
        check_eq(rc, 1, "second daemon's exit code")
        check("in use by another seqechod" in err, "stderr %r" % err)
        check_eq(len(err.strip().splitlines()), 1, "one line: %r" % err)
        check_eq(int(open(pidfile).read()), pid, "pid file kept")
        check(harness.running(pid), "first daemon still running")
    finally:
        stop(pid, signal.SIGTERM, pidfile)


def test_failed_start_leaves_no_pid_file():
    pidfile = os.path.join(harness.tmpdir(), "stale.pid")
    # A stale file from a daemon that died without cleaning up.
    with open(pidfile, "w") as f:
        f.write("999999\n")
    with Daemon() as d:
        rc, out, err = run_daemon(["-d", "-c", write_file(
            server_conf(port=d.port, pidfile=pidfile))])
        check_eq(rc, 1, "exit code (stderr %r)" % err)
        check("Address already in use" in err, "stderr %r" % err)
        check(not os.path.exists(pidfile), "pid file left after exit 1")


harness.main(globals())
