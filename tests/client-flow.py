#!/usr/bin/env python3
"""client-flow: seqecho's buffers are bounded both ways. A stdout nobody
reads stops it reading the socket (and so, through the daemon, stdin); a
server that does not read stops it reading stdin. Checked from outside:
how far it has read its stdin file, and its resident memory.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import hashlib
import os
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import Daemon, check, check_eq, vmrss_kib



def tcp_buffer_max(name):
    """The most the kernel lets a TCP socket's buffer grow to (autotuning)."""
    with open("/proc/sys/net/ipv4/" + name) as f:
        return int(f.read().split()[2])


# What legitimately sits between the two ends: a send and a receive buffer
# on each of the two connections' paths (stdin -> daemon, daemon -> us), as
# large as this host lets them grow, plus the programs' own bounded
# buffers (the daemon's 1 MiB, the client's 2 x 256 KiB) and a margin.
MAX_READ = 2 * (tcp_buffer_max("tcp_rmem") + tcp_buffer_max("tcp_wmem")) \
    + (8 << 20)
# Input twice that, and at least 64 MiB, so that an unbounded client is
# caught whatever the host's buffers.
LINES = max(1 << 20, 2 * MAX_READ // 64)
MAX_RSS_KIB = 48 * 1024
# Under AddressSanitizer freed memory is held in a quarantine, so the RSS
# would grow with the bytes that passed, not with what is held: no
# quarantine for the client here (the option means nothing otherwise).
ASAN_ENV = {"ASAN_OPTIONS": ":".join(
    x for x in (os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=0") if x)}


def line(i):
    return b"%063d\n" % i


def input_file():
    path = os.path.join(harness.tmpdir(), "input")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            for i in range(0, LINES, 4096):
                f.write(b"".join(line(k) for k in range(i, i + 4096)))
    return path


def stdin_offset(pid):
    with open("/proc/%d/fdinfo/0" % pid) as f:
        for l in f:
            if l.startswith("pos:"):
                return int(l.split()[1])
    raise harness.Failure("no pos in fdinfo")


def settle(pid, seconds=1.0):
    """Wait until the client stops reading stdin; returns the offset."""
    last, still = -1, 0
    deadline = time.monotonic() + harness.t(10)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        pos = stdin_offset(pid)
        still = still + 1 if pos == last else 0
        last = pos
        if still * 0.1 >= seconds:
            return pos
    raise harness.Failure("the client never stopped reading stdin (at %d)" % last)


def test_slow_stdout():
    path = input_file()
    with Daemon() as d, open(path, "rb") as stdin:
        p = subprocess.Popen([harness.seqecho_path(), "127.0.0.1", str(d.port)],
                             stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             env=dict(os.environ, **ASAN_ENV))
        try:
            pos = settle(p.pid)
            rss = vmrss_kib(p.pid)
            check(pos < MAX_READ, "read %d bytes of stdin while stdout was "
                  "stalled" % pos)
            check(rss < MAX_RSS_KIB, "RSS %d KiB while stdout was stalled" % rss)
            # Now read it all: every reply, in order.
            h, n = hashlib.sha1(), 0
            for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
            rc = p.wait(harness.t(30))
            err = p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        want = hashlib.sha1()
        for i in range(0, LINES, 4096):
            want.update(b"".join(b"%d%s" % (k, line(k)) for k in range(i, i + 4096)))
        check_eq((rc, err), (0, b""), "rc, stderr")
        check_eq(h.hexdigest(), want.hexdigest(), "digest of %d bytes of replies" % n)


def test_server_not_reading():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(harness.t(10))
    path = input_file()
    with open(path, "rb") as stdin:
        p = subprocess.Popen([harness.seqecho_path(), "127.0.0.1",
                              str(ls.getsockname()[1])],
                             stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE,
                             env=dict(os.environ, **ASAN_ENV))
    try:
        s, _ = ls.accept()
        pos = settle(p.pid)
        rss = vmrss_kib(p.pid)
        check(pos < MAX_READ, "read %d bytes of stdin for a server that "
              "reads nothing" % pos)
        check(rss < MAX_RSS_KIB, "RSS %d KiB" % rss)
        # The server gives up: a reset, with every reply owed.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        out, err = p.communicate(timeout=harness.t(10))
    finally:
        ls.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    check_eq((p.returncode, out), (1, b""), "rc, stdout (stderr %r)" % err)
    check(b"reset the connection with" in err and err.count(b"\n") == 1,
          "stderr %r" % err)


harness.main(globals())
