#!/usr/bin/env python3
"""sigusr1: SIGUSR1 logs the counters and the daemon keeps running."""

import re
import signal

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    send_recv_all


def counters(d, since):
    m = d.wait_log(r"[^\n]*connections=[^\n]*", since=since)
    line = m.group(0)
    check("messages=" in line, "no messages= in %r" % line)
    msgs = re.search(r"messages=(\d+)", line)
    check(msgs is not None, "messages= without a number in %r" % line)
    return line, int(msgs.group(1))


def test_counters():
    with Daemon() as d:
        check_eq(send_recv_all(d.port, b"a\nb\nc\n"), b"0a\n1b\n2c\n", "replies")
        check_eq(send_recv_all(d.port, b"d\ne\n"), b"0d\n1e\n", "replies")
        open_one = connect(d.port)
        open_one.sendall(b"f\n")
        check_eq(read_lines(open_one, 1), [b"0f"], "reply")
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        line, msgs = counters(d, mark)
        check_eq(msgs, 6, "messages= in %r" % line)
        check(re.search(r"connections=\D{0,3}1\b", line) is not None,
              "want 1 connection now in %r" % line)
        check(d.alive(), "daemon died on SIGUSR1")

        open_one.sendall(b"g\nbye\n")
        check_eq(harness.recv_until_eof(open_one), b"1g\n", "reply")
        open_one.close()
        d.wait_log(r"reason=bye")
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        line, msgs = counters(d, mark)
        check_eq(msgs, 7, "messages= in %r" % line)
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")


def test_repeated():
    with Daemon() as d:
        for i in range(5):
            mark = d.mark()
            d.signal(signal.SIGUSR1)
            counters(d, mark)
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "still serving")


harness.main(globals())
