#!/usr/bin/env python3
"""socket-activation: started the way systemd starts seqechod.socket, the
daemon serves the listening socket it is handed (sd_listen_fds) instead of
binding its own; systemd-socket-activate stands in for systemd.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import signal
import subprocess
import time

import harness
from harness import check, check_eq, connect, recv_until_eof, server_conf


def start(port, conf):
    tool = harness.socket_activate_tool()
    log = open(harness.write_file("", suffix=".log"), "w+b")
    p = subprocess.Popen([tool, "-l", "127.0.0.1:%d" % port,
                          harness.seqechod_path(), "-c", conf],
                         stdout=log, stderr=log)
    # The tool listens first and execs the daemon on the first connection.
    harness.wait_for(lambda: _listening(port), 5, "the activation socket")
    return p, log


def _listening(port):
    try:
        connect(port, timeout=1).close()
        return True
    except OSError:
        return False


def stop(p, log):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=harness.t(5))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    log.seek(0)
    return rc, log.read().decode(errors="replace")


def test_serves_the_socket_it_is_given():
    # The file names another port: a daemon that bound its own socket
    # would listen there, not on the one handed over.
    port, other = harness.free_port(), harness.free_port()
    conf = harness.write_file(server_conf(port=other))
    p, log = start(port, conf)
    try:
        s = connect(port)
        s.sendall(b"hello\nworld\nbye\n")
        check_eq(recv_until_eof(s), b"0hello\n1world\n", "replies")
        s.close()
        check(not _listening(other), "also bound the file's port %d" % other)
    finally:
        rc, text = stop(p, log)
    check(not re.search(r"listening on 127\.0\.0\.1:%d\b" % other, text),
          "bound its own socket:\n" + text)
    check(re.search(r"listening on 127\.0\.0\.1:%d\b" % port, text),
          "no 'listening on' for the handed-over socket:\n" + text)
    check_eq(rc, 0, "exit status after SIGTERM")


harness.main(globals())
