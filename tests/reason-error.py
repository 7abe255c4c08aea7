#!/usr/bin/env python3
"""reason-error - a connection that fails other than by a reset.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

reason=error is what a socket error other than ECONNRESET or EPIPE gives.
On loopback the one such error a test can cause is a retransmission
timeout (ETIMEDOUT): in a private network namespace, with few retries
allowed, the loopback interface goes down just as the daemon owes a
reply, which it then cannot deliver. Needs root, or unprivileged user
namespaces.
"""

import ctypes
import fcntl
import os
import socket
import struct

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    server_conf

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def set_loopback(up):
    """Bring lo up or down, as `ip link set lo up|down` does."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        flags = flags | IFF_UP if up else flags & ~IFF_UP
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags))


def private_network(retries):
    """Move this process, and the daemons it starts, into a network
    namespace of its own with lo up and tcp_retries2 = retries."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNET | (CLONE_NEWUSER if os.geteuid() != 0 else 0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        harness.skip("no private network namespace: unshare: %s (run as "
                     "root)" % os.strerror(ctypes.get_errno()))
    if flags & CLONE_NEWUSER:
        for name, text in (("setgroups", "deny"), ("uid_map", "0 %d 1" % uid),
                           ("gid_map", "0 %d 1" % gid)):
            with open("/proc/self/" + name, "w") as f:
                f.write(text)
    set_loopback(True)
    with open("/proc/sys/net/ipv4/tcp_retries2", "w") as f:
        f.write("%d\n" % retries)


def test_retransmission_timeout_is_an_error():
    private_network(1)
    with Daemon(server_conf()) as d:
        s = connect(d.port)
        s.sendall(b"a\n")
        check_eq(read_lines(s, 1), [b"0a"], "reply")
        with d.stopped():       # so it cannot answer before lo is down
            s.sendall(b"b\n")
            set_loopback(False)
        try:
            line = d.wait_log(r"closed [^\n]*reason=\S+", timeout=20).group(0)
        finally:
            set_loopback(True)
        s.close()
        check("messages=2 " in line and line.endswith("reason=error"),
              "close line %r" % line)
        check_eq(harness.send_recv_all(d.port, b"x\n"), b"0x\n",
                 "still serving")


harness.main(globals())
