#!/usr/bin/env python3
"""long-lines: lines up to the largest max_line (1 MiB) are echoed whole,
however they arrive, in time that grows linearly with their length.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket
import time

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, send_recv_all, sendall_bounded, server_conf

MiB = 1 << 20


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def test_one_mib_line():
    line = bytes(b"0123456789abcdef"[i % 16] for i in range(MiB))
    with Daemon(server_conf(max_line=MiB)) as d:
        got = send_recv_all(d.port, line + b"\r\n" + line, timeout=10)
        check(got == b"0" + line + b"\n1" + line + b"\n",
              "replies: %d bytes, want %d" % (len(got), 2 * MiB + 4))
        got = send_recv_all(d.port, line + b"x\n", timeout=10)
        check_eq(got, b"ERR line too long\n", "1 MiB + 1")


def test_one_mib_line_in_small_pieces():
    # 1 MiB in 256-byte writes (loopback may merge them): the daemon's
    # work stays small. The exact linearity check is in test_proto.
    line = b"z" * MiB
    with Daemon(server_conf(max_line=MiB)) as d:
        s = connect(d.port, timeout=20)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c0 = cpu_seconds(d.pid)
        t0 = time.monotonic()
        for off in range(0, MiB, 256):
            s.send(line[off:off + 256])
        s.sendall(b"\nok\n")
        got = read_lines(s, 2, timeout=20)
        took = time.monotonic() - t0
        used = cpu_seconds(d.pid) - c0
        s.close()
        check(got[0] == b"0" + line, "long reply: %d bytes" % len(got[0]))
        check_eq(got[1], b"1ok", "next reply")
        print("1 MiB in 256-byte pieces: %.2fs, daemon CPU %.2fs" % (took, used))
        check(used < harness.t(2.0), "daemon used %.2fs of CPU" % used)


def test_many_lines_near_max():
    # Lines just under, at and over a max_line that is not a power of two.
    m = 5000
    with Daemon(server_conf(max_line=m)) as d:
        data = b"".join(b"%c" % (65 + i) * (m - 1 + i) + b"\n" for i in range(3))
        got = send_recv_all(d.port, data)
        want = b"".join(b"%d" % i + b"%c" % (65 + i) * (m - 1 + i) + b"\n"
                        for i in range(2)) + b"ERR line too long\n"
        check(got == want, "got %d bytes, want %d; tail %r" % (len(got), len(want), got[-30:]))


harness.main(globals())
