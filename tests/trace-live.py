#!/usr/bin/env python3
"""trace-live: seqecho-trace capturing live on lo (as root): the
privileges are gone once the capture is open (uid nobody, no
capabilities), -c 1 exits after the first ladder (which agrees with
tshark's reading of tcpdump's capture beside it), SIGINT draws the
connections still open, marked unfinished, and exits 0; without the
privilege to capture, the one line design.md gives and exit 1.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import shutil
import signal
import subprocess
import tempfile

import harness
import tracelib
from harness import Daemon, check, check_eq, run_client
from tracelib import final_states, parse, summary


def status(pid):
    """The Uid, CapEff and CapPrm lines of /proc/PID/status, as a dict."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.split()
    except OSError:
        pass
    return out


def dropped(pid):
    """Whether the process runs as nobody with no capability left."""
    st = status(pid)
    return st.get("Uid", [""])[0] == "65534" and \
        st.get("CapPrm") == ["0000000000000000"]


class Live:
    """seqecho-trace -i lo ... running; ready once it dropped root."""

    def __init__(self, args, prefix=(), program=None):
        tracelib.require_root()
        program = program or tracelib.trace_path()
        harness.require_program(program)
        self.out = harness.write_file(b"", suffix=".out")
        self.err = harness.write_file(b"", suffix=".err")
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = subprocess.Popen(list(prefix) + [program] + args,
                                         stdin=subprocess.DEVNULL, stdout=o,
                                         stderr=e)
        # The capture is open and filtered before the drop: wait for it.
        try:
            harness.wait_for(lambda: self.proc.poll() is not None or
                             dropped(self.proc.pid), harness.t(10),
                             "seqecho-trace dropping its privileges")
            check(self.proc.poll() is None, "seqecho-trace exited: %s" %
                  self.text(self.err))
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def __enter__(self):
        return self

    def __exit__(self, etype, value, tb):
        # A test that failed half-way leaves no capture running.
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return False

    def text(self, path):
        with open(path, errors="replace") as f:
            return f.read()

    def wait(self, timeout=10):
        try:
            rc = self.proc.wait(timeout=harness.t(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise harness.Failure("seqecho-trace still running: %s" %
                                  self.text(self.out))
        return rc, self.text(self.out), self.text(self.err)


def test_privileges_dropped():
    with Daemon() as d:
        with Live(["-i", "lo", "-p", str(d.port)]) as live:
            st = status(live.proc.pid)
            check_eq(st["Uid"], ["65534"] * 4, "uids")
            check_eq(st["CapEff"], ["0000000000000000"], "effective capabilities")
            check_eq(st["CapPrm"], ["0000000000000000"], "permitted capabilities")
            check_eq(st["CapBnd"], ["0000000000000000"], "bounding set")
            check_eq(st["NoNewPrivs"], ["1"], "no_new_privs")
            live.proc.send_signal(signal.SIGINT)
            check_eq(live.wait(), (0, "", ""), "rc, stdout, stderr")


def test_count_one():
    with Daemon() as d:
        # No -i: lo is the default.
        with Live(["-c", "1", "-p", str(d.port)]) as live:
            with tracelib.Capture("tcp port %d" % d.port) as cap:
                rc, out, err = run_client(["127.0.0.1", str(d.port)],
                                          b"hello\nbye\n")
                check_eq((rc, out), (0, b"0hello\n"), "client")
                d.wait_log(r"closed peer=")
            # -c 1: it exits by itself once the first ladder is drawn.
            rc, out, err = live.wait()
            check_eq((rc, err), (0, ""), "rc, stderr")
            ladders = parse(out)
            check_eq(len(ladders), 1, "ladders:\n%s" % out)
            check(not ladders[0]["unfinished"], "unfinished")
            check_eq(final_states(ladders[0]), ("TIME_WAIT", "CLOSE"), "states")
            check_eq(summary(ladders[0], "TIME_WAIT"), ladders[0]["left"],
                     "TIME_WAIT side")
            # What it captured live is what tcpdump captured, as tshark reads it.
            tracelib.compare(ladders[0], tracelib.tshark(cap.path)[0], "live")
            check("\x1b" not in out and out.isascii(), "plain ASCII: %r" % out)


def test_sigint_draws_unfinished():
    with Daemon() as d:
        with Live(["-i", "lo", "-p", str(d.port)]) as live:
            s = harness.connect(d.port)
            try:
                harness.sendall_bounded(s, b"open\n")
                check_eq(harness.read_line(s), b"0open", "reply")
                live.proc.send_signal(signal.SIGINT)
                rc, out, err = live.wait()
            finally:
                s.close()
            check_eq((rc, err), (0, ""), "rc, stderr")
            ladders = parse(out)
            check_eq(len(ladders), 1, "ladders:\n%s" % out)
            check(ladders[0]["unfinished"], "marked unfinished:\n%s" % out)
            check_eq([x["len"] for x in ladders[0]["segs"] if x["len"]], [5, 6],
                     "the line and its reply")
            check_eq(final_states(ladders[0]), ("ESTABLISHED", "ESTABLISHED"),
                     "states")
            check(summary(ladders[0], "unfinished").startswith("the capture ends"),
                  "summary: %r" % ladders[0]["summary"])


def test_permission_denied():
    tracelib.require_root()
    setpriv = tracelib.tool("setpriv")
    harness.require_program(tracelib.trace_path())
    rc, out, err = harness._run([setpriv, "--reuid=65534", "--regid=65534",
                                 "--clear-groups", "--inh-caps=-all",
                                 tracelib.trace_path(), "-i", "lo", "-p",
                                 "1234"], b"", 10, None)
    check_eq((rc, out, err), (1, "", tracelib.PERM_LINE + "\n"),
             "rc, stdout, stderr")


def test_file_capability_for_a_user():
    # What seqecho-trace(1) tells an admin: cap_net_raw on the binary lets
    # a user capture, and the capability is gone once the capture is open.
    tracelib.require_root()
    setcap, setpriv = tracelib.tool("setcap"), tracelib.tool("setpriv")
    d = tempfile.mkdtemp(prefix="seqecho-trace-cap-")
    try:
        os.chmod(d, 0o755)
        prog = os.path.join(d, "seqecho-trace")
        shutil.copy(tracelib.trace_path(), prog)
        r = subprocess.run([setcap, "cap_net_raw+ep", prog],
                           capture_output=True, text=True)
        if r.returncode != 0:
            harness.skip("setcap on %s: %s" % (d, r.stderr.strip()))
        with Daemon() as dm:
            with Live(["-c", "1", "-p", str(dm.port)],
                      prefix=[setpriv, "--reuid=65534", "--regid=65534",
                              "--clear-groups"], program=prog) as live:
                check_eq(status(live.proc.pid)["CapEff"], ["0000000000000000"],
                         "effective capabilities")
                rc, out, err = run_client(["-x", "server", "127.0.0.1",
                                           str(dm.port)], b"hi\n")
                check_eq(rc, 0, "client")
                rc, out, err = live.wait()
                check_eq((rc, err), (0, ""), "rc, stderr")
                (l,) = parse(out)
                check_eq(final_states(l), ("CLOSE", "TIME_WAIT"), "states")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_no_such_interface():
    tracelib.require_root()
    rc, out, err = tracelib.run_trace(["-i", "nosuchif0", "-p", "1"])
    check_eq((rc, out), (1, ""), "rc, stdout")
    check(err.startswith("seqecho-trace: nosuchif0: ") and
          err.count("\n") == 1, "stderr: %r" % err)


harness.main(globals())
