#!/usr/bin/env python3
"""no-rst-on-close: after bye (or an ERR line) the server flushes what it
owes and waits for the client's FIN instead of closing with unread input,
which would send a RST and wipe replies the client has not read yet.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import threading
import time

import harness
from harness import Daemon, check, check_eq, connect, recv_until_eof, \
    sendall_bounded, server_conf

N = 10000
PAYLOAD = b"p" * 60             # about 600 KiB of replies, unread at first


def lines():
    return b"".join(b"%d " % i + PAYLOAD + b"\n" for i in range(N))


def want():
    return b"".join(b"%d%d " % (i, i) + PAYLOAD + b"\n" for i in range(N))


def read_all(s, timeout=10):
    try:
        return recv_until_eof(s, timeout)
    except ConnectionResetError:
        return "ECONNRESET"


def test_garbage_after_bye_in_one_write():
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(lines() + b"bye\n" + b"garbage after bye\n" * 1000)
        time.sleep(0.5)         # the server has answered and closed by now
        got = read_all(s)
        s.close()
        check(got == want(), "replies: %s" %
              ("ECONNRESET" if got == "ECONNRESET" else
               "%d bytes, want %d" % (len(got), len(want()))))


def test_garbage_after_bye_later():
    # More input arrives after the server has flushed and half-closed.
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(lines() + b"bye\n")
        time.sleep(0.3)
        s.sendall(b"late garbage\n" * 1000)
        time.sleep(0.3)
        got = read_all(s)
        s.close()
        check(got == want(), "replies: %s" %
              ("ECONNRESET" if got == "ECONNRESET" else
               "%d bytes, want %d" % (len(got), len(want()))))
        d.wait_log(r"reason=bye")


def test_garbage_after_too_long():
    with Daemon(server_conf(max_line=100)) as d:
        s = connect(d.port)
        s.sendall(lines() + b"L" * 200 + b"\n" + b"garbage\n" * 10000)
        time.sleep(0.5)
        got = read_all(s)
        s.close()
        w = want() + b"ERR line too long\n"
        check(got == w, "replies: %s" %
              ("ECONNRESET" if got == "ECONNRESET" else
               "%d bytes, want %d; ends %r" % (len(got), len(w), got[-40:])))


def test_server_waits_for_fin_then_closes():
    # After bye the server half-closes; it closes for good once our FIN
    # arrives, and by itself after a short linger if it never does.
    with Daemon() as d:
        s = connect(d.port)
        s.sendall(b"a\nbye\n")
        check_eq(recv_until_eof(s), b"0a\n", "replies")
        t0 = time.monotonic()
        # Keep our side open: the server must still let go within ~2 s + slack.
        d.wait_log(r"reason=bye", timeout=5)
        s.close()
        check(time.monotonic() - t0 < harness.t(5), "linger too long")


harness.main(globals())
