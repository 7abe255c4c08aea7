#!/usr/bin/env python3
"""config-paths: the file given with -c is made absolute at start, and a
relative path inside it is relative to the file's directory, so a daemon
that detached (-d changes to /) still reloads the same file on SIGHUP and
writes its pid file where the file says.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import signal
import subprocess

import harness
from harness import check, check_eq, send_recv_all, server_conf


def _start_detached(top, conf_rel):
    """seqechod -d -c CONF_REL run from the directory top; returns the
    port it listens on (logged to stderr before it detached)."""
    argv = harness.seqechod_wrapper() + [harness.seqechod_path(), "-d",
                                         "-c", conf_rel]
    harness.require_program(harness.seqechod_path())
    p = subprocess.run(argv, cwd=top, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=harness.t(5))
    err = p.stderr.decode(errors="replace")
    check_eq(p.returncode, 0, "exit code of the foreground process "
             "(stderr %r)" % err)
    m = harness.LISTENING_RE.search(err)
    check(m is not None, "no listening line in %r" % err)
    return int(m.group(2))


def _stop(pid):
    if pid is not None and harness.running(pid):
        os.kill(pid, signal.SIGTERM)
        harness.wait_for(lambda: not harness.running(pid), 5, "daemon %d exit" % pid)


def _reload_shows(port, pid, conf, text, want):
    """Write text to conf, SIGHUP pid, and wait until a new connection's
    reply to x is want: the reload took."""
    with open(conf, "w") as f:
        f.write(text)
    os.kill(pid, signal.SIGHUP)
    harness.wait_for(lambda: send_recv_all(port, b"x\n") == want, 5,
                     "reply %r after SIGHUP" % want)
    check(harness.running(pid), "daemon died on SIGHUP")


def _kill(pidfile):
    """Clean up after a failed test: kill the daemon that wrote pidfile."""
    try:
        pid = int(open(pidfile).read().strip())
    except (OSError, ValueError):
        return
    if harness.running(pid):
        os.kill(pid, signal.SIGKILL)


def test_reload_after_detach():
    top = harness.tmpdir()
    os.makedirs(os.path.join(top, "a", "etc"))
    conf = os.path.join(top, "a", "etc", "seqecho.conf")
    # An absolute pid file: this test is about the file itself.
    pidfile = os.path.join(top, "a.pid")
    with open(conf, "w") as f:
        f.write(server_conf(separator="-", pidfile=pidfile))
    try:
        port = _start_detached(top, "a/etc/seqecho.conf")
        pid = int(open(pidfile).read().strip())
        check_eq(send_recv_all(port, b"x\n"), b"0-x\n", "before SIGHUP")
        _reload_shows(port, pid, conf, server_conf(
            separator="+", pidfile=pidfile), b"0+x\n")
        # And again: the first reload did not lose the path either.
        _reload_shows(port, pid, conf, server_conf(
            separator=": ", pidfile=pidfile), b"0: x\n")
        _stop(pid)
    finally:
        _kill(pidfile)


def test_pidfile_relative_to_file():
    top = harness.tmpdir()
    etc = os.path.join(top, "b", "etc")
    os.makedirs(os.path.join(etc, "run"))
    conf = os.path.join(etc, "seqecho.conf")
    with open(conf, "w") as f:
        f.write(server_conf(separator="-", pidfile="run/seqechod.pid"))
    pidfile = os.path.join(etc, "run", "seqechod.pid")
    try:
        port = _start_detached(os.path.join(top, "b"), "etc/seqecho.conf")
        check(os.path.exists(pidfile), "no pid file %s; %s holds %r"
              % (pidfile, etc, os.listdir(etc)))
        pid = int(open(pidfile).read().strip())
        check(harness.running(pid), "no process %d" % pid)
        # The same relative path on reload is the same pid file: no
        # "a change needs a restart", and the reload applies.
        _reload_shows(port, pid, conf, server_conf(
            separator="+", pidfile="run/seqechod.pid"), b"0+x\n")
        _stop(pid)
        check(not os.path.exists(pidfile), "pid file left after exit")
    finally:
        _kill(pidfile)


def test_errors_name_the_absolute_path():
    top = harness.tmpdir()
    os.makedirs(os.path.join(top, "c"))
    with open(os.path.join(top, "c", "bad.conf"), "w") as f:
        f.write(server_conf(max_line=-1))
    argv = harness.seqechod_wrapper() + [harness.seqechod_path(), "-t",
                                         "-c", "c/bad.conf"]
    p = subprocess.run(argv, cwd=top, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=harness.t(5))
    err = p.stderr.decode(errors="replace")
    check_eq(p.returncode, 1, "exit code (stderr %r)" % err)
    want = "%s:5: max_line: " % os.path.join(top, "c", "bad.conf")
    check(want in err, "want %r in %r" % (want, err))


harness.main(globals())
