"""stresslib.py - what the stress tests (tests/stress/*.py) share, on top of
tests/harness.py: the daemon's CPU time, descriptors and memory read from
/proc, descriptor limits, and a figure printer.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

Each stress test starts with

    import stresslib
    import harness

so that harness (one directory up) can be imported.
"""

import os
import resource
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import harness  # noqa: E402
from harness import check  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU time of a process so far, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(CLK_TCK)


def fd_count(pid):
    """Open descriptors of a process."""
    return len(os.listdir("/proc/%d/fd" % pid))


def socket_fd_count(pid):
    """Open socket descriptors of a process."""
    n = 0
    base = "/proc/%d/fd" % pid
    for fd in os.listdir(base):
        try:
            if os.readlink(os.path.join(base, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def rss_kib(pid):
    return harness.vmrss_kib(pid)


def nofile_limiter(n):
    """A preexec_fn that sets the soft and hard descriptor limit to n."""
    def set_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return set_limit


def raise_nofile(want):
    """Raise this process's soft descriptor limit to at least want (and the
    hard one, if allowed); skip the test when that is impossible."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    new_hard = hard
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            harness.skip("need %d descriptors, hard limit is %d" % (want, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, new_hard))
    return want


def sanitizer_env():
    """ASan's quarantine keeps freed memory resident: keep it small so RSS
    measures what the daemon holds (a no-op for an uninstrumented build)."""
    opts = os.environ.get("ASAN_OPTIONS", "")
    return {"ASAN_OPTIONS": (opts + ":" if opts else "") + "quarantine_size_mb=1"}


def under_wrapper():
    """True when the daemon runs under $SEQECHOD_WRAPPER (valgrind, say):
    memory and CPU figures then measure the wrapper, not the daemon."""
    return bool(harness.seqechod_wrapper())


def figure(name, value, unit=""):
    """Print one measured figure in a fixed form, easy to grep and quote."""
    harness.report_line("FIGURE %s: %s%s" % (name, value,
                                             (" " + unit) if unit else ""))


def rst_close(s):
    """Close with a RST (SO_LINGER 0) rather than a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def wait_fds(pid, want, timeout):
    """Wait until the process has at most want descriptors; returns the
    last count seen."""
    deadline = time.monotonic() + harness.t(timeout)
    n = fd_count(pid)
    while n > want and time.monotonic() < deadline:
        time.sleep(0.05)
        n = fd_count(pid)
    return n


def check_no_sanitizer(d):
    d.check_log()
    check(d.alive(), "daemon died")
