#!/usr/bin/env python3
"""sighup: SIGHUP re-reads the config file; new settings apply to new
connections, open ones carry on, a bad file is logged and the running
configuration kept, and the listeners stay put unless the file moves them."""

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


def test_port_change_moves_listener():
    p1, p2 = free_port(), free_port()
    if p1 == p2:
        harness.skip("no two free ports")
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


harness.main(globals())
