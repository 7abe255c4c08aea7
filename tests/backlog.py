#!/usr/bin/env python3
"""backlog: the configured backlog is the listening socket's, at start and
after a reload that changes it (ss shows a listener's backlog as its
Send-Q).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import shutil
import subprocess

import harness
from harness import Daemon, check, check_eq, send_recv_all, server_conf


def listen_backlogs(port):
    """The backlog of each socket listening on port, from ss."""
    if shutil.which("ss") is None:
        harness.skip("ss (iproute2) is not installed")
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port],
                         capture_output=True, text=True, timeout=5,
                         check=True).stdout
    return [int(l.split()[2]) for l in out.splitlines() if l.strip()]


def test_backlog_at_start():
    for backlog in (7, 100):
        with Daemon(server_conf(backlog=backlog)) as d:
            check_eq(listen_backlogs(d.port), [backlog],
                     "backlog of the listener")


def test_default_backlog():
    with Daemon(server_conf()) as d:
        check_eq(listen_backlogs(d.port), [128], "default backlog")


def test_backlog_changed_on_reload():
    with Daemon(server_conf(backlog=7)) as d:
        check_eq(listen_backlogs(d.port), [7], "backlog before reload")
        mark = d.reload(server_conf(backlog=19))
        check_eq(listen_backlogs(d.port), [19], "backlog after reload")
        check(d.log_lines(r"backlog 19 on 127\.0\.0\.1:%d" % d.port,
                          since=mark),
              "the change is not logged:\n" + d.log_text()[mark:])
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "served after")
        # Unchanged, nothing is done or said about it.
        mark = d.reload(server_conf(backlog=19, separator=":"))
        check_eq(d.log_lines(r"backlog", since=mark), [], "log lines")
        check_eq(listen_backlogs(d.port), [19], "backlog kept")


def test_new_listener_takes_the_new_backlog():
    with Daemon(server_conf(backlog=7)) as d:
        port = harness.free_port()
        mark = d.reload(server_conf(port=port, backlog=23))
        d.wait_log(r"listening on 127\.0\.0\.1:%d" % port, since=mark)
        check_eq(listen_backlogs(port), [23], "backlog of the new listener")
        check_eq(listen_backlogs(d.port), [], "old listener still open")


harness.main(globals())
