#!/usr/bin/env python3
"""sighup: SIGHUP re-reads the config file; new settings apply to new
connections, open ones carry on, a bad file is logged and the running
configuration kept, the listeners stay put unless the file moves them, and
a higher max_connections raises the descriptor limit.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import resource
import signal
import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, free_port, read_lines, \
    recv_until_eof, send_recv_all, server_conf, write_file

RELOADED = r"configuration reloaded"


def reload(d, text, want=RELOADED):
    with open(d.conf_path, "w") as f:
        f.write(text)
    mark = d.mark()
    d.signal(signal.SIGHUP)
    return d.wait_log(want, since=mark), mark


def test_new_separator_for_new_connections():
    with Daemon(server_conf()) as d:
        old = connect(d.port)
        old.sendall(b"a\n")
        check_eq(read_lines(old, 1), [b"0a"], "before reload")
        reload(d, server_conf(separator=": "))
        # Same port (port = 0 both times): the listener was kept.
        check_eq(send_recv_all(d.port, b"b\n"), b"0: b\n", "new connection")
        old.sendall(b"c\n")
        check_eq(read_lines(old, 1), [b"1c"], "connection opened before")
        old.close()


def test_bad_file_keeps_running_config():
    with Daemon(server_conf(separator="-")) as d:
        text = server_conf(separator="+", max_line=-1)
        m, mark = reload(d, text, r"reload failed|keeping")
        check(d.log_lines(r"%s:6: max_line: " % d.conf_path, since=mark),
              "no FILE:LINE: SETTING: line:\n" + d.log_text()[mark:])
        check(d.alive(), "daemon died on a bad reload")
        check_eq(send_recv_all(d.port, b"x\n"), b"0-x\n", "old configuration")


def test_syntax_error_keeps_running_config():
    with Daemon(server_conf(separator="-")) as d:
        reload(d, "server:\n{\n  port = ;\n};\n", r"reload failed|keeping")
        check_eq(send_recv_all(d.port, b"x\n"), b"0-x\n", "old configuration")


def test_new_limits():
    with Daemon(server_conf(max_line=100)) as d:
        check_eq(send_recv_all(d.port, b"y" * 50 + b"\n"), b"0" + b"y" * 50 + b"\n",
                 "50 bytes before")
        reload(d, server_conf(max_line=10))
        check_eq(send_recv_all(d.port, b"y" * 50 + b"\n"), b"ERR line too long\n",
                 "50 bytes after")


def two_free_ports():
    """Two different ports nobody listens on: both bound at once to pick."""
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        return a.getsockname()[1], b.getsockname()[1]


def test_port_change_moves_listener():
    p1, p2 = two_free_ports()
    with Daemon(server_conf(port=p1)) as d:
        check_eq(d.port, p1, "first port")
        old = connect(p1)
        old.sendall(b"a\n")
        check_eq(read_lines(old, 1), [b"0a"], "reply")
        reload(d, server_conf(port=p2))
        check_eq(send_recv_all(p2, b"b\n"), b"0b\n", "on the new port")
        try:
            c = connect(p1, timeout=1)
            c.close()
            refused = False
        except ConnectionRefusedError:
            refused = True
        check(refused, "old port still accepting")
        old.sendall(b"c\n")
        check_eq(read_lines(old, 1), [b"1c"], "open connection still served")
        old.close()


def test_unbindable_port_keeps_old_listener():
    # The new port is taken by someone else: the reload logs the bind
    # error, keeps the old listener, and the rest of the file still applies.
    p1 = free_port()
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    p2 = busy.getsockname()[1]
    try:
        with Daemon(server_conf(port=p1)) as d:
            mark = d.mark()
            reload(d, server_conf(port=p2, separator="="))
            d.wait_log(r"bind 127\.0\.0\.1:%d: Address already in use" % p2,
                       since=mark)
            d.wait_log(r"keeping the listeners", since=mark)
            check_eq(send_recv_all(p1, b"x\n"), b"0=x\n",
                     "old port, new separator")
    finally:
        busy.close()


def test_p_option_survives_reload():
    p = free_port()
    with Daemon(server_conf(), args=["-p", str(p)]) as d:
        check_eq(d.port, p, "port")
        reload(d, server_conf(separator="="))
        check_eq(send_recv_all(p, b"x\n"), b"0=x\n", "after reload")


def nofile(pid):
    """The soft and hard descriptor limits of a process, from /proc."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise harness.Failure("no Max open files in /proc/%d/limits" % pid)


def test_higher_max_connections_raises_fd_limit():
    # The daemon starts with a soft limit of 64, which 20 connections fit;
    # for 2000 it must raise the limit on the reload, up to the hard one.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 4096:
        harness.skip("hard descriptor limit %d, under 4096" % hard)

    def soft_64():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    with Daemon(server_conf(max_connections=20), preexec_fn=soft_64) as d:
        # 64, or a little more where valgrind keeps descriptors of its own.
        start = nofile(d.pid)[0]
        check(start < 100, "soft limit %d at start" % start)
        reload(d, server_conf(max_connections=2000))
        soft = nofile(d.pid)[0]
        if any("valgrind" in w for w in harness.seqechod_wrapper()):
            # valgrind refuses to let its guest raise RLIMIT_NOFILE: then
            # the daemon must fit max_connections to the limit and say so.
            check(d.log_lines(r"max_connections lowered"),
                  "limit not raised, nor max_connections lowered:\n" +
                  d.log_text())
        else:
            check(soft > 2000,
                  "soft limit %d after max_connections = 2000" % soft)
            check(not d.log_lines(r"max_connections lowered"),
                  "limit lowered:\n" + d.log_text())
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "reply")


harness.main(globals())
