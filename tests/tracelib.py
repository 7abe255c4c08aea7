"""tracelib.py - shared by the seqecho-trace tests (tests/trace-*.py).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

Capturing real sessions with tcpdump (root only), reading a capture with
tshark (the independent decoder the ladders are checked against), running
seqecho-trace and parsing its ladders, and writing small pcap files by
hand for the cases no real session makes (truncation, mid-connection,
retransmission, a delayed ACK).
"""

import os
import re
import shutil
import signal
import struct
import subprocess
import time

import harness
from harness import check, check_eq

TCPDUMP_READY = re.compile(r"listening on ")
SEG_RE = re.compile(
    r"^\s*(\d+)\s+([\d.]+)\s+([A-Z_0-9]+)\s+(--|<-) ([A-Z,]+|none) "
    r"seq=(\d+)(?: ack=(\d+))? win=(\d+) len=(\d+) -*>?\s+([A-Z_0-9]+)(.*)$")
HEAD_RE = re.compile(r"^connection (\d+): (\S+) -> (\S+?)( \(unfinished\))?$")
LETTERS = {"A": "ACK", "P": "PSH", "R": "RST", "S": "SYN", "F": "FIN",
           "U": "URG", "E": "ECE", "C": "CWR"}
PERM_LINE = ("seqecho-trace: lo: permission denied: run it as root, give it "
             "cap_net_raw (setcap cap_net_raw+ep), or capture with tcpdump -w "
             "and read the file with -r")


def trace_path():
    p = os.environ.get("SEQECHO_TRACE")
    if p:
        return p
    return os.path.normpath(os.path.join(harness.TESTS_DIR, "..", "src",
                                         "seqecho-trace"))


def tool(name):
    """The path of a Debian tool the test needs, or skip naming it."""
    p = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if p is None:
        harness.skip("%s not installed (.ci/install-deps installs it)" % name)
    return p


def require_root():
    if os.geteuid() != 0:
        harness.skip("capturing needs root (CI runs the tests as root)")


def run_trace(args, timeout=30, env=None):
    """Run seqecho-trace to the end: (rc, stdout str, stderr str)."""
    harness.require_program(trace_path())
    return harness._run([trace_path()] + list(args), b"", timeout, env)


class Capture:
    """tcpdump -w into a file while the block runs.

        with Capture("tcp port %d" % d.port) as cap:
            run_client(...)
        cap.path
    """

    def __init__(self, bpf, iface="lo", extra=()):
        # A big buffer (KiB): loopback's segments are up to 64 KiB each.
        self.argv = [tool("tcpdump"), "-i", iface, "-U", "--immediate-mode",
                     "-B", "65536", "-n", "-s", "0"] + list(extra)
        self.path = harness.write_file(b"", suffix=".pcap")
        self.argv += ["-w", self.path, bpf]
        self.errpath = self.path + ".err"

    def __enter__(self):
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        harness.wait_for(lambda: self.proc.poll() is not None or
                         TCPDUMP_READY.search(self._err()), harness.t(10),
                         "tcpdump listening")
        check(self.proc.poll() is None, "tcpdump exited: %s" % self._err())
        return self

    def _err(self):
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def __exit__(self, etype, value, tb):
        # -U writes each packet as it comes: wait until the file is quiet.
        last, since = -1, time.monotonic()
        deadline = time.monotonic() + harness.t(5)
        while time.monotonic() < deadline:
            size = os.path.getsize(self.path)
            if size != last:
                last, since = size, time.monotonic()
            elif time.monotonic() - since > 0.5:
                break
            time.sleep(0.05)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=harness.t(10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        m = re.search(r"(\d+) packets? dropped by kernel", self._err())
        if etype is None:
            check(m is not None and m.group(1) == "0",
                  "tcpdump lost packets, the capture is not whole: %s"
                  % self._err())
        return False


def parse(out):
    """The ladders of seqecho-trace's output, as dicts."""
    ladders, cur = [], None
    for line in out.splitlines():
        m = HEAD_RE.match(line)
        if m:
            cur = {"number": int(m.group(1)), "left": m.group(2),
                   "right": m.group(3),
                   "unfinished": bool(m.group(4)), "segs": [], "summary": []}
            ladders.append(cur)
            continue
        m = SEG_RE.match(line)
        if m and cur is not None:
            cur["segs"].append({
                "n": int(m.group(1)), "time": float(m.group(2)),
                "lstate": m.group(3), "dir": 0 if m.group(4) == "--" else 1,
                "flags": set(m.group(5).split(",")), "seq": int(m.group(6)),
                "ack": None if m.group(7) is None else int(m.group(7)),
                "win": int(m.group(8)), "len": int(m.group(9)),
                "rstate": m.group(10), "rest": m.group(11).strip()})
            continue
        if line.startswith("  ") and cur is not None and \
                not line.lstrip().startswith("#"):
            cur["summary"].append(line.strip())
    # Unfinished ones come last: put them back in order of appearance.
    return sorted(ladders, key=lambda l: l["number"])


def summary(ladder, key):
    """The summary line starting with key:, without it; None if none."""
    for l in ladder["summary"]:
        if l.startswith(key + ": "):
            return l[len(key) + 2:]
    return None


def tshark(path, absolute=False):
    """Per TCP stream, its segments as tshark decodes them, in order."""
    argv = [tool("tshark"), "-n", "-r", path, "-T", "fields",
            "-E", "separator=\t", "-e", "tcp.stream", "-e", "tcp.srcport",
            "-e", "tcp.dstport", "-e", "tcp.seq", "-e", "tcp.ack",
            "-e", "tcp.len", "-e", "tcp.flags.str",
            "-e", "tcp.window_size_value", "tcp"]
    if absolute:
        argv[1:1] = ["-o", "tcp.relative_sequence_numbers:FALSE"]
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=harness.t(120))
    check_eq(p.returncode, 0, "tshark exit (%s)" % p.stderr)
    streams = {}
    for line in p.stdout.splitlines():
        f = line.split("\t")
        flags = {LETTERS[c] for c in f[6] if c in LETTERS}
        streams.setdefault(int(f[0]), []).append({
            "sport": int(f[1]), "dport": int(f[2]), "seq": int(f[3]),
            "ack": int(f[4]), "len": int(f[5]), "flags": flags,
            "win": int(f[7])})
    return [streams[k] for k in sorted(streams)]


def port_of(end):
    return int(end.rsplit(":", 1)[1])


def compare(ladder, rows, what):
    """Every segment of the ladder agrees with tshark's, in order."""
    check_eq(len(ladder["segs"]), len(rows), "%s: segments" % what)
    lport = port_of(ladder["left"])
    for s, r in zip(ladder["segs"], rows):
        w = "%s: segment %d" % (what, s["n"])
        check_eq(s["dir"], 0 if r["sport"] == lport else 1, w + " direction")
        check_eq(s["flags"], r["flags"], w + " flags")
        check_eq(s["seq"], r["seq"], w + " seq")
        if "ACK" in r["flags"]:
            check_eq(s["ack"], r["ack"], w + " ack")
        check_eq(s["len"], r["len"], w + " len")
        check_eq(s["win"], r["win"], w + " win")


def final_states(ladder):
    last = ladder["segs"][-1]
    return last["lstate"], last["rstate"]


# -- pcap files by hand ---------------------------------------------------

def _frame(src, sport, dst, dport, seq, ack, flags, payload=b"", win=512,
           opts=b""):
    flagbits = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
    fl = sum(flagbits[c] for c in flags)
    off = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff,
                      ack & 0xffffffff, off << 4, fl, win, 0, 0) + opts + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64,
                     6, 0, bytes(src), bytes(dst))
    return b"\0" * 12 + b"\x08\x00" + ip + tcp


def pcap(segments, t0=1700000000.0):
    """A pcap file (Ethernet) of (time, frame) pairs."""
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1)
    for t, f in segments:
        sec = int(t0 + t)
        usec = int(round((t0 + t - sec) * 1e6))
        out += struct.pack("<IIII", sec, usec, len(f), len(f)) + f
    return out


class Conn:
    """Segments of one made-up connection, 127.0.0.1:40000 -> :1234."""

    def __init__(self, cport=40000, sport=1234, cisn=1000, sisn=5000):
        self.c = ([127, 0, 0, 1], cport)
        self.s = ([127, 0, 0, 1], sport)
        self.seq = {"c": cisn, "s": sisn}
        self.segs = []

    def send(self, who, t, flags, payload=b"", seq=None, ack=None, opts=b""):
        """A segment from "c" or "s" at time t (seq/ack as they run)."""
        other = "s" if who == "c" else "c"
        a, b = (self.c, self.s) if who == "c" else (self.s, self.c)
        sq = self.seq[who] if seq is None else seq
        ak = self.seq[other] if ack is None else ack
        self.segs.append((t, _frame(a[0], a[1], b[0], b[1], sq, ak, flags,
                                    payload, opts=opts)))
        if seq is None:
            self.seq[who] += len(payload) + ("S" in flags) + ("F" in flags)

    def handshake(self, t=0.0):
        mss = b"\x02\x04\xff\xd7\x04\x02\x01\x01\x01\x03\x03\x07"
        self.send("c", t, "S", opts=mss)
        self.send("s", t + 0.0001, "SA", opts=mss)
        self.send("c", t + 0.0002, "A")
