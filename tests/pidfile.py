#!/usr/bin/env python3
"""pidfile: with -d the daemon writes its pid file, holds it so that a
second daemon on the same file is refused, and removes it at any exit."""

import os
import signal

import harness
from harness import Daemon, check, check_eq, free_port, run_daemon, \
    send_recv_all, server_conf, write_file


def _running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _stop(pid):
    os.kill(pid, signal.SIGTERM)
    harness.wait_for(lambda: not _running(pid), 5, "daemon %d exit" % pid)


def test_second_daemon_refused_and_file_removed_at_exit():
    pidfile = os.path.join(harness.tmpdir(), "one.pid")
    p1, p2 = free_port(), free_port()
    rc, out, err = run_daemon(["-d", "-c", write_file(
        server_conf(port=p1, pidfile=pidfile))])
    check_eq(rc, 0, "first daemon (stderr %r)" % err)
    pid = int(open(pidfile).read())
    try:
        rc, out, err = run_daemon(["-d", "-c", write_file(
            server_conf(port=p2, pidfile=pidfile))])
        check_eq(rc, 1, "second daemon's exit code")
        check("in use by another seqechod" in err, "stderr %r" % err)
        check_eq(len(err.strip().splitlines()), 1, "one line: %r" % err)
        check_eq(int(open(pidfile).read()), pid, "pid file kept")
        check(_running(pid), "first daemon still running")
        check_eq(send_recv_all(p1, b"x\n"), b"0x\n", "first still serves")
        _stop(pid)
        pid = None
        check(not os.path.exists(pidfile), "pid file left after exit")
    finally:
        if pid is not None and _running(pid):
            os.kill(pid, signal.SIGKILL)


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
