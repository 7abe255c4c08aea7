#!/usr/bin/env python3
"""trace-errors: seqecho-trace on captures made by hand (no privilege
needed): a file that is not a capture, a missing one and a truncated one
(one line naming the file, exit 1; what was read before the truncation
is drawn), malformed packets (skipped with a count), a capture that starts
mid-connection, a retransmission, a delayed ACK, a simultaneous close, a
refused connection; and the command line's errors.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import harness
import tracelib
from harness import check, check_eq
from tracelib import Conn, final_states, parse, pcap, run_trace, summary


def session():
    """A whole -x bye session: handshake, a line, its reply, teardown."""
    c = Conn()
    c.handshake()
    c.send("c", 0.001, "PA", b"hello\n")
    c.send("s", 0.0011, "A")
    c.send("s", 0.002, "PA", b"0hello\n")
    c.send("c", 0.003, "FA")
    c.send("s", 0.004, "FA")
    c.send("c", 0.005, "A")
    return c


def test_not_a_capture():
    path = harness.write_file(b"hello, this is text\n" * 4, suffix=".txt")
    check_eq(run_trace(["-r", path]), (1, "", "seqecho-trace: %s: not a "
             "capture (pcap or pcapng): unknown file format\n" % path),
             "rc, stdout, stderr")
    empty = harness.write_file(b"", suffix=".pcap")
    rc, out, err = run_trace(["-r", empty])
    check_eq((rc, out), (1, ""), "an empty file")
    check(err.startswith("seqecho-trace: %s: not a capture" % empty) and
          err.count("\n") == 1, "stderr: %r" % err)


def test_missing_file():
    path = harness.tmpdir() + "/no-such.pcap"
    check_eq(run_trace(["-r", path]), (1, "", "seqecho-trace: %s: No such "
             "file or directory\n" % path), "rc, stdout, stderr")


def test_truncated_drawn_as_far_as_read():
    data = pcap(session().segs)
    path = harness.write_file(data[:-30], suffix=".pcap")
    rc, out, err = run_trace(["-r", path])
    check_eq(rc, 1, "rc")
    check(err.startswith("seqecho-trace: %s: truncated capture" % path) and
          err.count("\n") == 1, "stderr: %r" % err)
    ladders = parse(out)
    check_eq(len(ladders), 1, "ladders:\n%s" % out)
    check(ladders[0]["unfinished"], "unfinished")
    check_eq(len(ladders[0]["segs"]), 8, "segments read before the cut")
    check_eq(final_states(ladders[0]), ("TIME_WAIT", "LAST_ACK"), "states")


def test_whole_session():
    path = harness.write_file(pcap(session().segs), suffix=".pcap")
    rc, out, err = run_trace(["-r", path])
    check_eq((rc, err), (0, ""), "rc, stderr")
    (l,) = parse(out)
    check_eq((l["left"], l["right"]), ("127.0.0.1:40000", "127.0.0.1:1234"),
             "columns")
    check_eq([(s["lstate"], s["rstate"]) for s in l["segs"]], [
        ("SYN_SENT", "SYN_RECV"), ("ESTABLISHED", "SYN_RECV"),
        ("ESTABLISHED", "ESTABLISHED"), ("ESTABLISHED", "ESTABLISHED"),
        ("ESTABLISHED", "ESTABLISHED"), ("ESTABLISHED", "ESTABLISHED"),
        ("FIN_WAIT_1", "CLOSE_WAIT"), ("TIME_WAIT", "LAST_ACK"),
        ("TIME_WAIT", "CLOSE")], "states")
    # The server's FIN rode on its ACK of the client's: three to close.
    check("note: a FIN rode on the ACK of the other's FIN: three segments "
          "to close, not four (#8)" in l["summary"], "notes: %r" % l["summary"])
    check_eq([s["rest"] for s in l["segs"]][3:6],
             ['"hello\\n"', "", '"0hello\\n"'], "payloads")
    check_eq(l["segs"][1]["rest"], "mss 65495 sackOK ws 7", "SYN options")
    check_eq(summary(l, "teardown"),
             "3 segments in 2.000 ms, 127.0.0.1:40000 closed first",
             "teardown")
    check_eq(summary(l, "handshake"), "3 segments in 0.200 ms", "handshake")
    check_eq(l["summary"][0], "127.0.0.1:40000 sent 5 segments, 6 bytes; "
             "127.0.0.1:1234 sent 4 segments, 7 bytes", "totals")


def test_malformed_skipped():
    c = session()
    bad = c.segs[3][1][:14 + 20 + 10]	# a TCP header cut short
    segs = c.segs[:3] + [(0.0005, bad)] + c.segs[3:]
    path = harness.write_file(pcap(segs), suffix=".pcap")
    rc, out, err = run_trace(["-r", path])
    check_eq((rc, err), (0, "seqecho-trace: %s: 1 truncated or malformed "
             "packets skipped\n" % path), "rc, stderr")
    check_eq(len(parse(out)[0]["segs"]), 9, "segments")


def test_mid_connection():
    c = session()
    path = harness.write_file(pcap(c.segs[4:]), suffix=".pcap")
    rc, out, err = run_trace(["-r", path])
    check_eq(rc, 0, "rc")
    (l,) = parse(out)
    check(summary(l, "handshake").startswith("not in the capture, which "
                                             "starts mid-connection"),
          "summary: %r" % l["summary"])
    # The first sender is on the left: here the server.
    check_eq(l["left"], "127.0.0.1:1234", "left column")
    check_eq(l["segs"][0]["lstate"], "ESTABLISHED", "guessed state")
    check_eq(final_states(l), ("CLOSE", "TIME_WAIT"), "states")


def test_retransmission_and_delayed_ack():
    c = Conn()
    c.handshake()
    c.send("c", 0.001, "PA", b"once\n")
    c.send("c", 0.201, "PA", b"once\n", seq=c.seq["c"] - 5)
    c.send("s", 0.300, "A")		# 299 ms after the data: delayed
    path = harness.write_file(pcap(c.segs), suffix=".pcap")
    rc, out, err = run_trace(["-r", path])
    (l,) = parse(out)
    check_eq(l["segs"][4]["rest"], '"once\\n"  (retransmitted)', "marked")
    check("note: a segment was retransmitted (#5)" in l["summary"],
          "summary: %r" % l["summary"])
    check("note: an ACK was delayed (#6)" in l["summary"],
          "summary: %r" % l["summary"])
    check(l["unfinished"], "unfinished")


def test_simultaneous_close():
    c = Conn()
    c.handshake()
    c.send("c", 0.001, "FA")
    c.send("s", 0.001, "FA", ack=c.seq["c"] - 1)	# crosses the client's
    c.send("c", 0.002, "A")
    c.send("s", 0.002, "A")
    path = harness.write_file(pcap(c.segs), suffix=".pcap")
    rc, out, err = run_trace(["-r", path])
    (l,) = parse(out)
    # The server's FIN does not acknowledge the client's: it was sent
    # before that arrived, so the server was ESTABLISHED, not CLOSE_WAIT.
    check_eq([(s["lstate"], s["rstate"]) for s in l["segs"]][3:], [
        ("FIN_WAIT_1", "ESTABLISHED"), ("CLOSING", "FIN_WAIT_1"),
        ("CLOSING", "FIN_WAIT_2"), ("TIME_WAIT", "TIME_WAIT")], "states")
    check_eq(final_states(l), ("TIME_WAIT", "TIME_WAIT"), "both TIME_WAIT")
    check_eq(summary(l, "TIME_WAIT"), "127.0.0.1:40000 and 127.0.0.1:1234 "
             "(a simultaneous close)", "TIME_WAIT")


def test_refused():
    c = Conn()
    c.send("c", 0, "S")
    c.send("s", 0.0001, "RA", ack=c.seq["c"])
    path = harness.write_file(pcap(c.segs), suffix=".pcap")
    rc, out, err = run_trace(["-r", path])
    (l,) = parse(out)
    check_eq(final_states(l), ("CLOSE", "CLOSE"), "states")
    check(not l["unfinished"], "finished")
    check_eq(summary(l, "handshake"), "not completed", "handshake")
    check_eq(summary(l, "TIME_WAIT"), "none: a RST ended the connection",
             "TIME_WAIT")
    check("note: a RST was sent (#2)" in l["summary"], "notes: %r"
          % l["summary"])


def test_many_connections_and_ports_reused():
    # 3000 connections over ten minutes, 500 client ports used twice: the
    # table grows, forgets the ones long drawn, and a SYN on the ends of
    # one drawn makes a new connection, while a straggler does not.
    segs = []
    for i in range(3000):
        c = Conn(cport=40000 + i % 2500, cisn=1000 + i)
        t = i * 0.2
        c.handshake(t)
        c.send("c", t + 0.001, "RA")
        c.send("s", t + 0.002, "A")		# a straggler after the RST
        segs += c.segs
    path = harness.write_file(pcap(segs), suffix=".pcap")
    rc, out, err = run_trace(["-q", "-r", path])
    check_eq((rc, err), (0, ""), "rc, stderr")
    heads = [l for l in out.splitlines() if l.startswith("connection ")]
    check_eq(len(heads), 3000, "ladders")
    check_eq(heads[2999], "connection 3000: 127.0.0.1:40499 -> 127.0.0.1:1234",
             "the last")
    check(all(summary(l, "TIME_WAIT") == "none: a RST ended the connection"
              for l in parse(out)), "every one reset")


def test_usage_errors():
    rc, out, err = run_trace(["-h"])
    check_eq((rc, err), (0, ""), "-h")
    check(out.startswith("usage: seqecho-trace [-qSV]"), "-h: %r" % out)
    rc, out, err = run_trace(["-V"])
    check(rc == 0 and out.startswith("seqecho-trace "), "-V: %r" % out)
    for args, line in (
            (["-r", "x", "-i", "lo"], "-r and -i cannot be used together"),
            (["-r", "x", "-c", "1"], "-c cannot be used with -r"),
            (["-p", "0", "-r", "x"], "-p 0: port must be 1..65535"),
            (["-c", "0"], "-c 0: must be 1..1000000000")):
        check_eq(run_trace(args), (1, "", "seqecho-trace: %s\n" % line),
                 " ".join(args))
    rc, out, err = run_trace(["-r", "x", "extra"])
    check(rc == 1 and err.startswith("usage: "), "an argument: %r" % err)
    rc, out, err = run_trace(["--bogus"])
    check(rc == 1 and "usage: " in err, "--bogus: %r" % err)


harness.main(globals())
