#!/usr/bin/env python3
"""non-reading-clients: clients that send as fast as they can and never
read. Each is throttled: the daemon stops reading it once its unsent
output passes the high-water mark (CONN_OUTPUT_HIGH, 1 MiB), so its memory
grows by a bounded amount per such client, while other clients' replies
keep flowing. Then the non-readers vanish with output pending (a RST), and
the daemon lets go of every descriptor.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

The bound per non-reading client, as the code stands: the 1 MiB mark,
plus what conn_process adds between two checks of it (the replies to one
chunk of input: at most a 64 KiB read, whose replies to 8-byte lines take
about 1.6 times as much, in an evbuffer chain rounded up to a power of
two, 128 KiB), plus up to 64 KiB of input read but not yet answered, plus
allocator slack (partly filled chains, the worker threads' malloc arenas):
about 1.6 MiB measured. The test allows 2 MiB and prints the figure.
Kernel socket buffers are not in the daemon's RSS.
"""

import select
import socket
import threading
import time

import stresslib
import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    send_recv_all, server_conf
from stresslib import figure, fd_count, rss_kib

K = 16                      # non-reading clients
BOUND_KIB = 2048            # allowed RSS growth per non-reading client
LINE = 8                    # bytes per message, LF included


def lines(first, n):
    return b"".join(b"%07d\n" % (i % 10000000) for i in range(first, first + n))


def replies(first, n):
    return b"".join(b"%d%07d\n" % (i, i % 10000000) for i in range(first, first + n))


class Other(threading.Thread):
    """A well-behaved client: one message every 50 ms, alternately on a
    connection it keeps and on a new one; records each reply's latency."""

    def __init__(self, port):
        threading.Thread.__init__(self, daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.latencies = []
        self.error = None

    def run(self):
        try:
            keep = connect(self.port)
            n = 0
            while not self.stop.is_set():
                t0 = time.monotonic()
                keep.sendall(b"other %d\n" % n)
                check_eq(read_lines(keep, 1, timeout=5), [b"%dother %d" % (n, n)],
                         "kept connection's reply")
                check_eq(send_recv_all(self.port, b"new %d\n" % n, timeout=5),
                         b"0new %d\n" % n, "new connection's reply")
                self.latencies.append(time.monotonic() - t0)
                n += 1
                time.sleep(0.05)
            keep.close()
        except BaseException as e:      # reported by the main thread
            self.error = e


def test_non_reading_clients():
    port = harness.free_port()
    conf = server_conf(port=port, idle_timeout=0, log_level="warning")
    with Daemon(conf, env=stresslib.sanitizer_env(), quiet_port=port) as d:
        check_eq(send_recv_all(port, b"warm up\n"), b"0warm up\n", "warm-up")
        time.sleep(0.2)
        fds0, rss0 = fd_count(d.pid), rss_kib(d.pid)
        other = Other(port)
        other.start()

        socks = [connect(port) for _ in range(K)]
        for s in socks:
            s.setblocking(False)
        sent = [0] * K              # whole lines sent
        pending = [b""] * K         # the rest of a line partly sent
        last = time.monotonic()
        deadline = last + harness.t(60)
        while time.monotonic() - last < 1.0:
            check(time.monotonic() < deadline, "still sending after 60 s")
            _, w, _ = select.select([], socks, [], 0.1)
            for s in w:
                k = socks.index(s)
                if not pending[k]:
                    pending[k] = lines(sent[k], 8192)
                try:
                    n = s.send(pending[k])
                except BlockingIOError:
                    continue
                last = time.monotonic()
                pending[k] = pending[k][n:]
                if not pending[k]:
                    sent[k] += 8192
        time.sleep(0.5)
        rss1 = rss_kib(d.pid)
        total_sent = sum(sent) * LINE
        per = (rss1 - rss0) / float(K)
        print("%d clients sent %d MiB without reading, then blocked; daemon "
              "RSS %d -> %d KiB" % (K, total_sent >> 20, rss0, rss1))
        figure("RSS growth per non-reading client", "%.0f KiB (bound: %d KiB = "
               "1 MiB mark + one chunk of replies and input + slack)"
               % (per, BOUND_KIB))
        check(per <= BOUND_KIB, "grew %.0f KiB per non-reading client" % per)

        # Other clients were served all along.
        time.sleep(0.5)
        other.stop.set()
        other.join(harness.t(10))
        check(other.error is None, "other client: %r" % (other.error,))
        check(len(other.latencies) >= 10, "other client served only %d times"
              % len(other.latencies))
        worst = max(other.latencies)
        figure("other clients' replies during the flood",
               "%d round trips, slowest %.1f ms" % (len(other.latencies),
                                                   1000 * worst))
        check(worst < 1.0, "a reply took %.2f s" % worst)

        # One of them reads after all: every reply, in order.
        s = socks.pop(0)
        s.setblocking(True)
        s.settimeout(harness.t(30))
        rest = pending[0]
        want_lines = sent[0] + (8192 if rest else 0)

        def finish():
            try:
                s.sendall(rest)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        writer = threading.Thread(target=finish, daemon=True)
        writer.start()
        got = bytearray()
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            got += b
        writer.join(harness.t(10))
        s.close()
        want = bytearray()
        for first in range(0, want_lines, 65536):
            want += replies(first, min(65536, want_lines - first))
        check(got == want, "replies after reading: %d bytes, want %d"
              % (len(got), len(want)))
        print("a non-reader that read after all got its %d replies in order"
              % want_lines)

        # The others vanish with output pending.
        for s in socks:
            stresslib.rst_close(s)
        n = stresslib.wait_fds(d.pid, fds0, 10)
        check_eq(n, fds0, "daemon descriptors after the non-readers vanished")
        check_eq(send_recv_all(port, b"after\n"), b"0after\n", "afterwards")


harness.main(globals(), timeout=150)
