#!/usr/bin/env python3
"""early-signal: a signal that arrives while the daemon is still starting
is held until the loop can handle it; it never kills the daemon.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

The configuration file is a FIFO, so the daemon is caught, for certain,
in the middle of reading it: the signal is sent then, and the file
written after. A SIGHUP held that way is a reload once the daemon runs,
which reads the FIFO again: the second text has another separator, so
the reload shows in the replies."""

import os
import signal
import subprocess
import threading

import harness
from harness import check, check_eq, send_recv_all, server_conf, write_file


def _feed(fifo, text, box):
    """Write text into the FIFO once a reader opens it."""
    try:
        with open(fifo, "w") as f:
            f.write(text)
    except OSError as e:
        box.append(e)


def _start_with_signal(sig, separator_after):
    fifo = os.path.join(harness.tmpdir(), "seqecho-%d.conf" % sig)
    os.mkfifo(fifo)
    log_path = write_file(b"", suffix=".log")
    log = open(log_path, "ab")
    argv = harness.seqechod_wrapper() + [harness.seqechod_path(), "-c", fifo]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=log)
    try:
        # Blocks until the daemon opens the file: it is in main, reading.
        fd = harness.wait_for(lambda: _open_writer(fifo), 10,
                              "the daemon to open its configuration")
        os.kill(p.pid, sig)
        os.write(fd, server_conf(port=0).encode())
        os.close(fd)
        def up():
            if p.poll() is not None:
                return True
            with open(log_path, errors="replace") as f:
                return harness.LISTENING_RE.search(f.read())
        m = harness.wait_for(up, 10, "the daemon to listen or exit")
        check(p.poll() is None, "daemon died (rc %r); log:\n%s" %
              (p.returncode, open(log_path, errors="replace").read()))
        port = int(m.group(2))
        # Only now, with the first text read to its end, the reload's.
        if separator_after is not None:
            box = []
            th = threading.Thread(target=_feed, daemon=True, args=(
                fifo, server_conf(port=0, separator=separator_after), box))
            th.start()
        return p, port, log_path
    except BaseException:
        if p.poll() is None:
            p.kill()
            p.wait()
        raise


def _open_writer(fifo):
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return None     # no reader yet


def _finish(p):
    p.send_signal(signal.SIGTERM)
    check_eq(p.wait(harness.t(5)), 0, "exit code")


def test_sighup_while_reading_the_configuration():
    p, port, log_path = _start_with_signal(signal.SIGHUP, ":")
    try:
        harness.wait_for(lambda: "configuration reloaded" in
                         open(log_path, errors="replace").read(), 5,
                         "the held SIGHUP's reload")
        check_eq(send_recv_all(port, b"alive\n"), b"0:alive\n",
                 "reply after the held reload")
        _finish(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_sigusr1_while_reading_the_configuration():
    p, port, log_path = _start_with_signal(signal.SIGUSR1, None)
    try:
        check_eq(send_recv_all(port, b"alive\n"), b"0alive\n", "reply")
        _finish(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


harness.main(globals())
