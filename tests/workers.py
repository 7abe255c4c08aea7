#!/usr/bin/env python3
"""workers: with several event loops every connection is served as with
one, the counters add up across them, and shutdown reaches them all;
workers = 0 means one per online CPU.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import re
import signal
import socket
import threading

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    recv_until_eof, send_recv_all, server_conf


def test_many_clients_four_workers():
    n, k = 40, 200
    with Daemon(server_conf(workers=4)) as d:
        socks = [connect(d.port) for _ in range(n)]
        for i, s in enumerate(socks):
            s.sendall(b"".join(b"c%d-%d\n" % (i, j) for j in range(k)))
        for i, s in enumerate(socks):
            check_eq(read_lines(s, k), [b"%dc%d-%d" % (j, i, j) for j in range(k)],
                     "client %d" % i)
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        line = d.wait_log(r"[^\n]*messages=[^\n]*", since=mark).group(0)
        m = re.search(r"messages=(\d+)", line)
        check_eq(int(m.group(1)), n * k, "messages= in %r" % line)
        m = re.search(r"connections=\D{0,3}(\d+)", line)
        check_eq(int(m.group(1)), n, "connections= in %r" % line)
        # Shutdown tells every client, whichever loop serves it.
        d.signal(signal.SIGTERM)
        for i, s in enumerate(socks):
            check_eq(recv_until_eof(s, timeout=5), b"ERR server shutting down\n",
                     "client %d" % i)
            s.close()
        check_eq(d.wait_exit(3), 0, "exit code")


def test_parallel_clients_threads():
    # Clients in threads, each pipelining and half-closing, all at once.
    n, k = 16, 2000
    with Daemon(server_conf(workers=3)) as d:
        results = [None] * n

        def client(i):
            try:
                data = b"".join(b"t%d %d\n" % (i, j) for j in range(k))
                results[i] = send_recv_all(d.port, data, timeout=20)
            except Exception as e:
                results[i] = e
        ths = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        for i in range(n):
            want = b"".join(b"%dt%d %d\n" % (j, i, j) for j in range(k))
            check_eq(results[i], want, "client %d" % i)


def test_max_connections_across_workers():
    with Daemon(server_conf(workers=4, max_connections=5)) as d:
        socks = []
        for i in range(5):
            s = connect(d.port)
            s.sendall(b"x\n")
            check_eq(read_lines(s, 1), [b"0x"], "client %d" % i)
            socks.append(s)
        for i in range(4):
            c = connect(d.port)
            check_eq(recv_until_eof(c), b"ERR too many connections\n", "extra %d" % i)
            c.close()
        for s in socks:
            s.close()


def test_one_worker():
    with Daemon(server_conf(workers=1)) as d:
        check_eq(send_recv_all(d.port, b"a\nb\n"), b"0a\n1b\n", "replies")


def worker_threads(pid):
    """The daemon's own worker threads, by the name each is given."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                n += re.fullmatch(r"seqechod-w\d+\n", f.read()) is not None
        except OSError:
            pass                # a thread that has just gone
    return n


def test_zero_means_one_per_online_cpu():
    # Worker 0 is the main thread; every other worker is a thread of its
    # own, named for it (a sanitizer's threads are not counted).
    ncpu = os.sysconf("SC_NPROCESSORS_ONLN")
    with Daemon(server_conf(workers=1)) as d:
        check_eq(worker_threads(d.pid), 0, "worker threads with workers = 1")
    with Daemon(server_conf(workers=0, log_level="debug")) as d:
        d.wait_log(r"debug: %d workers\b" % ncpu)
        harness.wait_for(lambda: worker_threads(d.pid) == ncpu - 1, 3,
                         "%d worker threads" % (ncpu - 1))
        check_eq(send_recv_all(d.port, b"a\n"), b"0a\n", "reply")


harness.main(globals())
