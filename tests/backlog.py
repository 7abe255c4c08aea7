#!/usr/bin/env python3
"""backlog - the backlog setting reaches the listening sockets.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

ss(8) shows a listening socket's backlog as its Send-Q: it is the
configured backlog.
"""

import shutil
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


def test_backlog_at_start():
    for backlog in (7, 100):
        with Daemon(server_conf(backlog=backlog)) as d:
            check_eq(listen_backlogs(d.port), [backlog],
                     "backlog of the listener")


def test_default_backlog():
    with Daemon(server_conf()) as d:
        check_eq(listen_backlogs(d.port), [128], "default backlog")


harness.main(globals())
