#!/usr/bin/env python3
"""client-pipe: seqecho with stdin and stdout piped prints exactly the
replies and nothing else, sends without waiting for replies, and ends the
session at bye or at the end of stdin.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import subprocess
import threading

import harness
from harness import Daemon, check, check_eq, run_client, server_conf

CLOSED = r"closed peer=127\.0\.0\.1:\d+ messages=%d in=%d .*reason=%s"


def client(d, data, args=(), **kw):
    return run_client(list(args) + ["127.0.0.1", str(d.port)], data, **kw)


def check_client(got, want_out, want_rc=0):
    rc, out, err = got
    check_eq((rc, out, err), (want_rc, want_out, ""), "rc, stdout, stderr")


def test_hello_world_bye():
    with Daemon() as d:
        check_client(client(d, b"hello\nworld\nbye\n"), b"0hello\n1world\n")
        d.wait_log(CLOSED % (2, 16, "bye"))


def test_bye_mid_stream():
    # Nothing after bye is sent: the daemon saw 8 bytes, "a\nb\nbye\n".
    with Daemon() as d:
        check_client(client(d, b"a\nb\nbye\nc\nd\n"), b"0a\n1b\n")
        d.wait_log(CLOSED % (2, 8, "bye"))


def test_end_of_stdin_sends_bye():
    with Daemon() as d:
        check_client(client(d, b"a\nb\n"), b"0a\n1b\n")
        d.wait_log(CLOSED % (2, 8, "bye"))


def test_unterminated_last_line():
    # printf hello | seqecho: the tail goes with a LF added, then bye.
    with Daemon() as d:
        check_client(client(d, b"hello"), b"0hello\n")
        d.wait_log(CLOSED % (1, 10, "bye"))


def test_unterminated_bye():
    with Daemon() as d:
        check_client(client(d, b"a\nbye"), b"0a\n")
        d.wait_log(CLOSED % (1, 6, "bye"))


def test_empty_stdin():
    with Daemon() as d:
        check_client(client(d, b""), b"")
        d.wait_log(CLOSED % (0, 4, "bye"))


def test_empty_lines():
    with Daemon() as d:
        check_client(client(d, b"\n\nx\n\n"), b"0\n1\n2x\n3\n")


def test_bye_must_be_the_whole_line():
    with Daemon() as d:
        check_client(client(d, b"byebye\nbye \n bye\nBYE\nby\nbye\r\r\n"),
                     b"0byebye\n1bye \n2 bye\n3BYE\n4by\n5bye\r\n")


def test_crlf_and_nul():
    with Daemon() as d:
        check_client(client(d, b"a\r\n\0b\0\nbye\r\nlost\n"),
                     b"0a\n1\0b\0\n")


def test_replies_exactly_as_received():
    with Daemon(server_conf(separator=": ")) as d:
        check_client(client(d, b"hello\nworld\n"), b"0: hello\n1: world\n")


def test_100000_lines_in_order():
    n = 100000
    data = b"".join(b"%d\n" % i for i in range(1, n + 1))
    want = b"".join(b"%d%d\n" % (i - 1, i) for i in range(1, n + 1))
    with Daemon() as d:
        check_client(client(d, data, timeout=30), want)
        d.wait_log(CLOSED % (n, len(data) + 4, "bye"))


def test_long_lines():
    line = bytes(range(32, 127)) * 43          # 4085 bytes, under max_line
    data = b"".join(b"%d %s\n" % (i, line) for i in range(3000))
    want = b"".join(b"%d%d %s\n" % (i, i, line) for i in range(3000))
    with Daemon() as d:
        check_client(client(d, data, timeout=30), want)


def test_regular_files():
    # seqecho < file > file: epoll refuses regular files, so this checks
    # the loop copes with them (and with /dev/null) as well as with pipes.
    src = harness.write_file(b"a\nb\n", suffix=".in")
    dst = src + ".out"
    with Daemon() as d:
        for stdin, stdout, want in ((src, dst, b"0a\n1b\n"),
                                    ("/dev/null", dst, b"")):
            with open(stdin, "rb") as i, open(dst, "wb") as o:
                p = subprocess.run([harness.seqecho_path(), "127.0.0.1",
                                    str(d.port)], stdin=i, stdout=o,
                                   stderr=subprocess.PIPE,
                                   timeout=harness.t(10))
            with open(dst, "rb") as o:
                check_eq((p.returncode, o.read(), p.stderr), (0, want, b""),
                         "rc, %s, stderr with stdin %s" % (dst, stdin))


def test_sends_without_waiting():
    # A server that answers nothing until it has all three lines: a client
    # that waited for each reply before sending the next would hang here.
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(harness.t(10))
    seen = []

    def serve():
        s, _ = ls.accept()
        s.settimeout(harness.t(10))
        buf = b""
        while buf.count(b"\n") < 3:
            b = s.recv(4096)
            if not b:
                break
            buf += b
        seen.append(buf)
        s.sendall(b"0a\n1b\n2c\n")
        while s.recv(4096):
            pass
        s.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        rc, out, err = run_client(["127.0.0.1", str(ls.getsockname()[1])],
                                  b"a\nb\nc\n")
    finally:
        th.join(harness.t(10))
        ls.close()
    check_eq((rc, out, err), (0, b"0a\n1b\n2c\n", ""), "rc, stdout, stderr")
    check(seen and seen[0].startswith(b"a\nb\nc\n"), "server saw %r" % seen)


harness.main(globals())
