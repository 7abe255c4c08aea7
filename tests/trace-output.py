#!/usr/bin/env python3
"""trace-output: how seqecho-trace writes its ladders. Piped, plain ASCII
with no escape sequences; on a terminal (a pty), box-drawing arrows in a
UTF-8 locale and colour, none with NO_COLOR set (or TERM=dumb), ASCII in
the C locale; -q keeps only each connection's head and summary; a
connection's ladder is drawn when it ends, those still open at the end of
the file last.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import pty
import select
import subprocess
import time

import harness
import tracelib
from harness import check, check_eq
from tracelib import Conn, parse, pcap, run_trace


def capture():
    """Two connections: the first still open when the second ends."""
    a, b = Conn(cport=40000), Conn(cport=40001)
    a.handshake(0.0)
    b.handshake(0.001)
    a.send("c", 0.002, "PA", b"still open \x01\xff\n")
    b.send("c", 0.003, "FA")
    b.send("s", 0.004, "FA")
    b.send("c", 0.005, "A")
    segs = sorted(a.segs + b.segs, key=lambda s: s[0])
    return harness.write_file(pcap(segs), suffix=".pcap")


def on_pty(args, env):
    """Run seqecho-trace with its stdout on a pty; (rc, output bytes)."""
    harness.require_program(tracelib.trace_path())
    master, slave = pty.openpty()
    full = dict(os.environ)
    full.update(env)
    p = subprocess.Popen([tracelib.trace_path()] + args, stdout=slave,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env=full)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + harness.t(10)
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:		# EIO: the other end is closed
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    rc = p.wait(timeout=harness.t(5))
    return rc, out


def test_piped_plain_ascii():
    rc, out, err = run_trace(["-r", capture()])
    check_eq((rc, err), (0, ""), "rc, stderr")
    check(out.isascii() and "\x1b" not in out, "plain ASCII: %r" % out)
    ladders = parse(out)
    check_eq([(l["number"], l["left"], l["unfinished"]) for l in ladders],
             [(1, "127.0.0.1:40000", True), (2, "127.0.0.1:40001", False)],
             "connections")
    check('"still open \\x01\\xff\\n"' in out, "payload escaped: %r" % out)
    # The one that ended is drawn first, the open one last.
    first = out.split("\n\n")[0]
    check(first.startswith("connection 2: "), "drawn first: %r" % first)
    check(out.rstrip("\n").split("\n\n")[-1].startswith(
        "connection 1: 127.0.0.1:40000 -> 127.0.0.1:1234 (unfinished)"),
        "drawn last: %r" % out)
    check(not any(l != l.rstrip() for l in out.splitlines()),
          "no trailing spaces")


def test_terminal_colour_and_box_drawing():
    path = capture()
    rc, out = on_pty(["-r", path], {"LC_ALL": "C.UTF-8", "TERM": "xterm"})
    text = out.decode("utf-8")
    check_eq(rc, 0, "rc")
    check("\x1b[" in text, "colour on a terminal: %r" % text)
    check("\u25b6" in text and "\u25c0" in text and "\u2500" in text,
          "box-drawing arrows: %r" % text)
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        env = dict(env, LC_ALL="C.UTF-8")
        env.setdefault("TERM", "xterm")
        rc, out = on_pty(["-r", path], env)
        text = out.decode("utf-8")
        check("\x1b" not in text, "%r: no colour: %r" % (env, text))
        check("\u25b6" in text, "%r: still box-drawing" % env)
    rc, out = on_pty(["-r", path], {"LC_ALL": "C", "TERM": "xterm"})
    check(out.isascii(), "the C locale: ASCII arrows: %r" % out)
    check(b"\x1b[" in out, "the C locale: still colour")


def test_quiet():
    rc, out, err = run_trace(["-q", "-r", capture()])
    check_eq(rc, 0, "rc")
    lines = out.splitlines()
    check_eq(sum(l.startswith("connection ") for l in lines), 2, "heads")
    check(not any(tracelib.SEG_RE.match(l) for l in lines),
          "no segment lines: %r" % out)
    check(any(l.startswith("  TIME_WAIT: ") for l in lines),
          "summaries: %r" % out)


harness.main(globals())
