#!/usr/bin/env python3
"""backlog - the backlog setting reaches the listening sockets.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

ss(8) shows a listening socket's backlog as its Send-Q: it is the
configured backlog at start, and a backlog changed on SIGHUP applies to a
listener that the reload keeps.
"""

import shutil
import signal
import subprocess

import harness
from harness import Daemon, check, check_eq, send_recv_all, server_conf


def listen_backlogs(port):
    """The Send-Q (the backlog) of each TCP socket listening on port."""
    if shutil.which("ss") is None:
        harness.skip("no ss(8) (Debian package iproute2)")
    out = subprocess.run(["ss", "-ltnH", "sport = :%d" % port],
                         capture_output=True, text=True, timeout=harness.t(5),
                         check=True).stdout
    return [int(line.split()[2]) for line in out.splitlines()]


def reload(d, text):
    with open(d.conf_path, "w") as f:
        f.write(text)
    mark = d.mark()
    d.signal(signal.SIGHUP)
    d.wait_log(r"configuration reloaded", since=mark)


def test_backlog_at_start():
    for backlog in (7, 100):
        with Daemon(server_conf(backlog=backlog)) as d:
            check_eq(listen_backlogs(d.port), [backlog],
                     "backlog of the listener")


def test_default_backlog():
    with Daemon(server_conf()) as d:
        check_eq(listen_backlogs(d.port), [128], "default backlog")


def test_backlog_change_applies_to_kept_listener():
    # port = 0 both times, so the listener is kept; its backlog is the
    # new one (listen() again), and it still serves.
    with Daemon(server_conf(backlog=7)) as d:
        check_eq(listen_backlogs(d.port), [7], "backlog at start")
        reload(d, server_conf(backlog=23))
        check_eq(len(d.log_lines(r"listening on")), 1, "listeners bound")
        check_eq(listen_backlogs(d.port), [23], "backlog after SIGHUP")
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "reply")


harness.main(globals())
