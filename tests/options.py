#!/usr/bin/env python3
"""options: -V, -h, bad options, -p and -a over the file, -v, -d with a
pid file, and no -c at all.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import signal
import time

import harness
from harness import Daemon, check, check_eq, connect, free_port, \
    run_daemon, send_recv_all, server_conf, write_file


def test_version():
    rc, out, err = run_daemon(["-V"])
    check_eq((rc, out), (0, "seqechod 0.1.0\n"), "rc, stdout (stderr %r)" % err)


def test_help():
    rc, out, err = run_daemon(["-h"])
    check_eq(rc, 0, "exit code")
    check("usage: seqechod" in out + err, "no usage in %r" % (out + err))
    for opt in ("-c", "-a", "-p"):
        check(opt in out + err, "usage does not mention %s: %r" % (opt, out + err))


def test_bad_options():
    for args in (["-x"], ["-c"], ["-p"], ["-p", "70000"], ["-p", "12ab"],
                 ["-p", "-1"], ["extra-argument"]):
        rc, out, err = run_daemon(args)
        check_eq(rc, 1, "exit code of seqechod %s (stderr %r)" % (" ".join(args), err))
        check(err.strip() != "", "nothing on stderr for %s" % " ".join(args))
        check("listening on" not in err, "listened with %s" % " ".join(args))


def test_p_overrides_file():
    p = free_port()
    with Daemon(server_conf(port=1), args=["-p", str(p)]) as d:
        check_eq(d.port, p, "port")
        check_eq(send_recv_all(p, b"x\n"), b"0x\n", "reply")


def test_p_zero_overrides_file():
    with Daemon(server_conf(port=1), args=["-p", "0"]) as d:
        check(d.port != 1 and d.port > 0, "port %d" % d.port)
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "reply")


def test_a_overrides_file():
    # 127.0.0.2 is loopback on Linux; the file says it, -a says 127.0.0.1.
    with Daemon(server_conf(address="127.0.0.2"), args=["-a", "127.0.0.1"]) as d:
        check_eq(d.address, "127.0.0.1", "address")
        check_eq(len(d.listeners), 1, "listeners %r" % d.listeners)
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "reply")
    with Daemon(server_conf(address=["127.0.0.1", "127.0.0.2"]),
                args=["-a", "127.0.0.2"]) as d:
        check_eq(d.address, "127.0.0.2", "address")
        # Served: every listener was bound and logged before the loop ran.
        check_eq(send_recv_all(d.port, b"x\n", host="127.0.0.2"), b"0x\n", "reply")
        check_eq(len(d._listeners()), 1, "listeners %r" % d._listeners())


def test_v_raises_log_level():
    # At warning and error no connection lines (nor, perhaps, `listening
    # on`, so the port is chosen here); -v brings back info.
    for level in ("warning", "error"):
        p = free_port()
        with Daemon(server_conf(port=p, log_level=level), quiet_port=p) as d:
            # The daemon logs a close before its close() sends the FIN, so
            # once the client has the EOF any close line is in the log.
            check_eq(send_recv_all(p, b"x\n"), b"0x\n", "reply")
            check(not d.log_lines(r"reason=|open|close"),
                  "info lines at %s:\n%s" % (level, d.log_text()))
    with Daemon(server_conf(log_level="warning"), args=["-v"]) as d:
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "reply")
        d.wait_log(r"reason=eof")


def test_log_level_debug_is_more():
    with Daemon(server_conf(log_level="debug")) as d:
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "reply")
        d.wait_log(r"reason=eof")
        check(d.log_lines(r" seqechod debug: "), "no debug lines:\n" + d.log_text())


def test_detach_with_pidfile():
    p = free_port()
    pidfile = os.path.join(harness.tmpdir(), "seqechod.pid")
    path = write_file(server_conf(port=p, pidfile=pidfile))
    t0 = time.monotonic()
    rc, out, err = run_daemon(["-d", "-c", path], timeout=5)
    check_eq(rc, 0, "exit code of the foreground process (stderr %r)" % err)
    check(time.monotonic() - t0 < harness.t(3), "-d took too long")
    pid = None
    try:
        pid = int(open(pidfile).read().strip())
        check(pid != os.getpid(), "pid")
        check(os.path.exists("/proc/%d" % pid), "no process %d" % pid)
        # Already listening when the foreground process returned.
        check_eq(send_recv_all(p, b"detached\n"), b"0detached\n", "reply")
        os.kill(pid, signal.SIGTERM)
        harness.wait_for(lambda: not harness.running(pid), 3, "daemon %d exit" % pid)
        pid = None
    finally:
        if pid is not None and harness.running(pid):
            os.kill(pid, signal.SIGKILL)


def test_detach_bind_error_reported():
    with Daemon() as d:
        path = write_file(server_conf(port=d.port))
        rc, out, err = run_daemon(["-d", "-c", path], timeout=5)
        check_eq(rc, 1, "exit code (stderr %r)" % err)
        check("Address already in use" in err, "no bind error in %r" % err)


def test_no_c_uses_defaults():
    default = os.environ.get("SEQECHO_DEFAULT_CONF")
    if not default:
        harness.skip("SEQECHO_DEFAULT_CONF not set (make check sets it)")
    if os.path.exists(default):
        harness.skip("%s exists" % default)
    with Daemon(conf=False, args=["-p", "0"]) as d:
        check_eq(d.address, "127.0.0.1", "default address")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "reply")


harness.main(globals())
