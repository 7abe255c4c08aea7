#!/usr/bin/env python3
"""client-terminal: on a terminal seqecho says when it connects, prompts,
prints each reply, and says when the server closes; -q keeps it to the
replies. ^D ends the session like end of stdin, ^C exits 130.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import pty
import re
import select
import signal
import time

import harness
from harness import Daemon, check, check_eq, server_conf


class Terminal:
    """seqecho on a pseudo-terminal: stdin, stdout and stderr all on it."""

    def __init__(self, args):
        harness.require_program(harness.seqecho_path())
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execv(harness.seqecho_path(), ["seqecho"] + list(args))
            finally:
                os._exit(127)
        self.buf = b""

    def expect(self, regex, timeout=5):
        """Read until regex matches what has come since the last match."""
        rx = re.compile(regex)
        deadline = time.monotonic() + harness.t(timeout)
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise harness.Failure("no %r on the terminal within %ss; got %r"
                                      % (regex, timeout, self.buf))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    b = os.read(self.fd, 4096)
                except OSError:         # EIO: the child has gone
                    b = b""
                if not b:
                    raise harness.Failure("terminal closed before %r; got %r"
                                          % (regex, self.buf))
                self.buf += b

    def rest(self, timeout=5):
        """Everything until the child closes the terminal."""
        deadline = time.monotonic() + harness.t(timeout)
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.1)
            if r:
                try:
                    b = os.read(self.fd, 4096)
                except OSError:
                    b = b""
                if not b:
                    break
                self.buf += b
        out, self.buf = self.buf, b""
        return out

    def type(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=5):
        deadline = time.monotonic() + harness.t(timeout)
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                os.close(self.fd)
                raise harness.Failure("seqecho still running after %ss" % timeout)
            time.sleep(0.02)


def test_prompt_and_notices():
    with Daemon() as d:
        t = Terminal(["127.0.0.1", str(d.port)])
        t.expect(rb"^connected to 127\.0\.0\.1:%d\r\n> $" % d.port)
        t.type(b"hello\n")
        t.expect(rb"^hello\r\n0hello\r\n> $")
        t.type(b"world\n")
        t.expect(rb"^world\r\n1world\r\n> $")
        t.type(b"bye\n")
        t.expect(rb"^bye\r\nconnection closed by 127\.0\.0\.1:%d\r\n$" % d.port)
        check_eq(t.wait(), 0, "exit code")


def test_quiet():
    with Daemon() as d:
        t = Terminal(["-q", "127.0.0.1", str(d.port)])
        t.type(b"hello\n")
        t.expect(rb"^hello\r\n0hello\r\n$")
        t.type(b"bye\n")
        check_eq(t.rest(), b"bye\r\n", "after bye")
        check_eq(t.wait(), 0, "exit code")


def test_ctrl_d():
    with Daemon() as d:
        t = Terminal(["127.0.0.1", str(d.port)])
        t.expect(rb"> $")
        t.type(b"tail")
        t.type(b"\x04")                 # the partial line goes...
        t.expect(rb"^tail")
        t.type(b"\x04")                 # ...and then end of input
        t.expect(rb"0tail\r\nconnection closed by 127\.0\.0\.1:%d\r\n$" % d.port)
        check_eq(t.wait(), 0, "exit code")
        d.wait_log(r"messages=1 .*reason=bye")


def test_ctrl_c():
    with Daemon() as d:
        t = Terminal(["127.0.0.1", str(d.port)])
        t.expect(rb"> $")
        t.type(b"\x03")
        check_eq(t.wait(), 130, "exit code")


def test_server_closes():
    with Daemon(server_conf(idle_timeout=1)) as d:
        t = Terminal(["127.0.0.1", str(d.port)])
        t.expect(rb"> $")
        t.expect(rb"^\r\nseqecho: ERR idle timeout\r\n$", timeout=5)
        check_eq(t.wait(), 1, "exit code")


harness.main(globals())
