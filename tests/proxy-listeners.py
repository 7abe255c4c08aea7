#!/usr/bin/env python3
"""proxy-listeners: server.listen's groups as listeners. A reload binds a
new PROXY group and closes a removed one without cutting a connection,
and one group that cannot be bound does not stop the others (nor close
a listener, until a reload binds whole);
two port-0 groups on one address each keep a port of their own; sockets
handed over by socket activation take the options of the group naming
their address and port (the others are plain); a connection over
max_connections on a PROXY listener is told so after its header; one
still waiting for its header at shutdown is told the server is shutting
down.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import signal
import socket
import subprocess

import harness
from harness import Daemon, Raw, check, check_eq, connect, read_lines, \
    recv_until_eof, server_conf

HEADER = b"PROXY TCP4 198.51.100.9 127.0.0.1 4444 1234\r\n"
LISTEN_RE = re.compile(r"info: listening on 127\.0\.0\.1:(\d+)( proxy=(\w+))?\n")


def conf(groups, **settings):
    """A config whose server.listen is groups, (port, mode) each."""
    text = []
    for port, mode in groups:
        g = 'address = "127.0.0.1"; port = %d;' % port
        if mode != "none":
            g += ' proxy_protocol = "%s"; proxy_trusted = [ "127.0.0.1" ];' \
                % mode
        text.append("{ %s }" % g)
    return server_conf(address=None, port=None,
                       listen=Raw("( %s )" % ", ".join(text)), **settings)


def listeners(text):
    """[(port, mode)] in the order the log names them."""
    return [(int(m.group(1)), m.group(3) or "none")
            for m in LISTEN_RE.finditer(text)]


def exchange(port, data):
    s = connect(port)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_until_eof(s)
    finally:
        s.close()


def test_reload_adds_and_removes_a_proxy_group():
    with Daemon(conf([(0, "none")])) as d:
        plain = d.port
        old = connect(plain)
        old.sendall(b"a\n")
        check_eq(read_lines(old, 1), [b"0a"], "before")
        mark = d.mark()
        d.reload(conf([(0, "none"), (0, "v1")]))
        added = listeners(d.log_text()[mark:])
        check_eq([m for _, m in added], ["v1"], "listeners added")
        check_eq(exchange(added[0][0], HEADER + b"b\n"), b"0b\n", "new v1")
        check_eq(exchange(plain, b"c\n"), b"0c\n", "plain kept, same port")
        mark = d.mark()
        d.reload(conf([(0, "none")]))
        d.wait_log(r"no longer listening on 127\.0\.0\.1:%d\n" % added[0][0],
                   since=mark)
        old.sendall(b"d\n")
        check_eq(read_lines(old, 1), [b"1d"], "open connection kept")
        old.close()


def test_unbindable_group_the_rest_applies():
    busy = socket.socket()
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    taken = busy.getsockname()[1]
    try:
        with Daemon(conf([(harness.free_port(), "none")])) as d:
            plain = d.port
            mark = d.mark()
            d.reload(conf([(taken, "none"), (0, "v1")], separator="="))
            d.wait_log(r"bind 127\.0\.0\.1:%d: Address already in use"
                       % taken, since=mark)
            d.wait_log(r"keeping the listeners", since=mark)
            added = listeners(d.log_text()[mark:])
            check_eq([m for _, m in added], ["v1"], "the group that bound")
            check_eq(exchange(added[0][0], HEADER + b"a\n"), b"0=a\n",
                     "the new v1 listener")
            check_eq(exchange(plain, b"b\n"), b"0=b\n",
                     "the old listener, kept")
            # Once the file binds whole, what it no longer names closes.
            mark = d.mark()
            d.reload(conf([(0, "v1")]))
            d.wait_log(r"no longer listening on 127\.0\.0\.1:%d\n" % plain,
                       since=mark)
            check(not listeners(d.log_text()[mark:]), "v1 rebound")
            check_eq(exchange(added[0][0], HEADER + b"c\n"), b"0c\n", "v1")
    finally:
        busy.close()


def test_two_port0_groups_on_one_address_keep_their_ports():
    with Daemon(conf([(0, "v2"), (0, "any"), (0, "none")])) as d:
        harness.wait_for(lambda: len(listeners(d.log_text())) == 3, 5,
                         "three listening lines")
        before = listeners(d.log_text())
        check_eq(len(set(p for p, _ in before)), 3, "three ports: %r" % before)
        mark = d.mark()
        d.reload(conf([(0, "v2"), (0, "v1"), (0, "none")]))
        d.wait_log(r"options of 127\.0\.0\.1:%d now: proxy=v1\n"
                   % before[1][0], since=mark)
        check(not listeners(d.log_text()[mark:]), "a listener rebound")
        check_eq(exchange(before[1][0], HEADER + b"x\n"), b"0x\n", "v1 now")
        check_eq(exchange(before[2][0], b"y\n"), b"0y\n", "plain")


def test_over_the_limit_told_after_the_header():
    with Daemon(conf([(0, "v1")], max_connections=1)) as d:
        held = connect(d.port)
        held.sendall(HEADER + b"a\n")
        check_eq(read_lines(held, 1), [b"0a"], "the one allowed")
        check_eq(exchange(d.port, HEADER), b"ERR too many connections\n",
                 "over the limit")
        d.wait_log(r"closed peer=198\.51\.100\.9:4444 via=\S+ messages=0 "
                   r"in=0 out=25 [^\n]*reason=full")
        held.close()


def test_shutdown_tells_a_connection_waiting_for_its_header():
    with Daemon(conf([(0, "v2")]), args=["-v"]) as d:
        s = connect(d.port)
        s.sendall(b"\r\n\r\n\x00")
        d.wait_log(r"conn 1: waiting for a PROXY header")
        d.signal(signal.SIGTERM)
        check_eq(recv_until_eof(s), b"ERR server shutting down\n",
                 "told at shutdown")
        s.close()
        check_eq(d.wait_exit(), 0, "exit status")
        check(d.log_lines(r"conn 1 closed [^\n]*reason=shutdown"),
              "no close line")


def activate(ports, conf_text):
    tool = harness.socket_activate_tool()
    argv = [tool]
    for p in ports:
        argv += ["-l", "127.0.0.1:%d" % p]
    path = harness.write_file(conf_text)
    log = open(harness.write_file("", suffix=".log"), "w+b")
    return subprocess.Popen(argv + [harness.seqechod_path(), "-c", path],
                            stdout=log, stderr=log), log, path


def test_activation_sockets_take_their_groups_options():
    plain, proxied = harness.free_port(), harness.free_port()
    p, log, path = activate([plain, proxied], conf([(proxied, "v1")]))
    try:
        # The first connection starts the daemon.
        harness.wait_for(lambda: _reply(plain, b"a\n") == b"0a\n", 5,
                         "the plain socket answering")
        check_eq(exchange(proxied, HEADER + b"b\n"), b"0b\n", "v1 socket")
        log.seek(0)
        text = log.read().decode(errors="replace")
        check_eq(sorted(listeners(text)), sorted([(plain, "none"),
                                                  (proxied, "v1")]),
                 "listeners:\n" + text)
        check("198.51.100.9:4444 via=" in text, "no peer= from the header")
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=harness.t(5))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    check_eq(rc, 0, "exit status")


def _reply(port, data):
    try:
        return exchange(port, data)
    except OSError:
        return None


harness.main(globals())
