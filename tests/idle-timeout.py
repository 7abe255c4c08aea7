#!/usr/bin/env python3
"""idle-timeout: no complete message for idle_timeout seconds gets
ERR idle timeout; dribbling bytes without a LF does not keep a connection
alive; complete messages do.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import select
import signal
import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, server_conf

ERR = b"ERR idle timeout\n"


def conf():
    return server_conf(idle_timeout=1)


def test_silent_client():
    with Daemon(conf()) as d:
        t0 = time.monotonic()
        s = connect(d.port)
        got = recv_until_eof(s, timeout=4)
        took = time.monotonic() - t0
        s.close()
        check_eq(got, ERR, "silent client")
        check(0.8 <= took <= harness.t(2.5), "ERR after %.2fs, want about 1s" % took)
        d.wait_log(r"reason=timeout")


def dribbler(port, pause, limit):
    """Send one byte every pause seconds, never a LF; returns (bytes
    received, seconds until EOF) or fails after limit seconds."""
    s = connect(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.monotonic()
    got = b""
    next_send = t0
    try:
        while time.monotonic() - t0 < harness.t(limit):
            now = time.monotonic()
            if now >= next_send:
                try:
                    s.send(b"z")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                next_send += pause
            r, _, _ = select.select([s], [], [], max(0.0, next_send - time.monotonic()))
            if r:
                try:
                    b = s.recv(4096)
                except ConnectionResetError:
                    return got, time.monotonic() - t0, "reset"
                if not b:
                    return got, time.monotonic() - t0, "eof"
                got += b
        return got, time.monotonic() - t0, "still open"
    finally:
        s.close()


def test_dribbler_times_out():
    with Daemon(conf()) as d:
        got, took, how = dribbler(d.port, 0.3, 5)
        check_eq((got, how), (ERR, "eof"), "dribbling client after %.2fs" % took)
        check(0.8 <= took <= harness.t(2.5), "ERR after %.2fs, want about 1s" % took)


def test_timer_counts_from_last_message():
    with Daemon(conf()) as d:
        s = connect(d.port)
        time.sleep(0.6)
        s.sendall(b"a\n")
        check_eq(read_lines(s, 1), [b"0a"], "reply")
        t0 = time.monotonic()
        s.sendall(b"partial")
        got = recv_until_eof(s, timeout=4)
        took = time.monotonic() - t0
        s.close()
        check_eq(got, ERR, "after the message")
        check(0.8 <= took <= harness.t(2.5), "ERR %.2fs after the last message" % took)


def test_active_client_not_timed_out():
    with Daemon(conf()) as d:
        s = connect(d.port)
        for i in range(7):          # 3.5 s, well past idle_timeout
            s.sendall(b"tick %d\n" % i)
            check_eq(read_lines(s, 1), [b"%dtick %d" % (i, i)], "reply %d" % i)
            time.sleep(0.5)
        s.sendall(b"bye\n")
        check_eq(recv_until_eof(s), b"", "after bye")
        s.close()
        check(not d.log_lines(r"reason=timeout"), "a connection timed out")


def test_idle_and_active_together():
    # One connection timing out does not disturb another.
    with Daemon(conf()) as d:
        idle = connect(d.port)
        busy = connect(d.port)
        for i in range(4):
            busy.sendall(b"b%d\n" % i)
            check_eq(read_lines(busy, 1), [b"%db%d" % (i, i)], "busy reply")
            time.sleep(0.4)
        check_eq(recv_until_eof(idle, timeout=3), ERR, "idle client")
        idle.close()
        busy.sendall(b"last\n")
        check_eq(read_lines(busy, 1), [b"4last"], "busy still served")
        busy.close()


def test_zero_means_never():
    # Two daemons side by side, idle_timeout = 1 and 0, a silent client on
    # each: once the first is cut, the second has been idle longer than a
    # timeout of 1 allows, and is still served; it is cut only when the
    # daemon stops.
    with Daemon(conf()) as d1, Daemon(server_conf(idle_timeout=0)) as d0:
        t0 = time.monotonic()
        cut = connect(d1.port)
        kept = connect(d0.port)
        check_eq(recv_until_eof(cut, timeout=4), ERR, "idle_timeout = 1")
        cut.close()
        idle = time.monotonic() - t0
        check(idle >= 0.8, "cut after %.2fs" % idle)
        r, _, _ = select.select([kept], [], [], 0)
        check(not r, "idle_timeout = 0: the client was sent something "
              "after %.2fs idle" % idle)
        kept.sendall(b"still here\n")
        check_eq(read_lines(kept, 1), [b"0still here"], "idle_timeout = 0")
        check(not d0.log_lines(r"reason=timeout"), "idle_timeout = 0 timed out")
        d0.signal(signal.SIGTERM)
        check_eq(recv_until_eof(kept), b"ERR server shutting down\n",
                 "at shutdown")
        kept.close()
        check_eq(d0.wait_exit(), 0, "exit code")


harness.main(globals())
