#!/usr/bin/env python3
"""client-sockstat: seqecho -S counts the sockets on one port by state, on
the daemon's side (local port) and the clients' side (remote port), as
ss(8) sees them; the /proc fallback says the same; -w repeats, --json
parses. Every test makes its own states on a fresh port-0 listener and
compares with `ss -Htan` on exactly that port, so sockets other tests
leave behind (TIME_WAIT on other ports) do not matter.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import harness
from harness import Daemon, check, check_eq, run_client, server_conf, \
    write_file

# The kernel's order, as -S prints it.
STATES = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT_1", "FIN_WAIT_2",
          "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
          "CLOSING"]
# ss's names for them.
SS_NAMES = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT",
            "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT_1",
            "FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT",
            "UNCONN": "CLOSE", "CLOSE-WAIT": "CLOSE_WAIT",
            "LAST-ACK": "LAST_ACK", "LISTEN": "LISTEN", "CLOSING": "CLOSING"}
CLOSED = re.compile(r"closed peer=127\.0\.0\.1:(\d+) .*first=(\w+) "
                    r"reason=([\w-]+)")


def need_ss():
    """ss(8), on PATH or where distributions put it; skip if there is none
    (it is the independent witness these tests compare -S with)."""
    ss = shutil.which("ss") or shutil.which("ss", path="/usr/sbin:/sbin")
    if ss is None:
        harness.skip("no ss(8): install iproute2")
    return ss


def _port(addr):
    p = addr.rsplit(":", 1)[1]
    return 0 if p == "*" else int(p)


def ss_sockets(port):
    """ss's TCP sockets on port, as (state, local port, peer port)."""
    out = subprocess.run([need_ss(), "-Htan"], check=True, capture_output=True,
                         text=True).stdout
    socks = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 5 or f[0] not in SS_NAMES:
            continue
        lp, rp = _port(f[3]), _port(f[4])
        if port in (lp, rp):
            socks.append((SS_NAMES[f[0]], lp, rp))
    return socks


def ss_counts(port):
    """{state: (total, daemon, clients)} for every state, from ss."""
    c = {s: [0, 0, 0] for s in STATES}
    for state, lp, rp in ss_sockets(port):
        c[state][0] += 1
        c[state][1] += lp == port
        c[state][2] += rp == port
    return {s: tuple(v) for s, v in c.items()}


def sockstat(port, source=None, extra=()):
    """seqecho -S --json port; returns the parsed object."""
    env = {"SEQECHO_SOCKSTAT": source} if source else {"SEQECHO_SOCKSTAT": ""}
    rc, out, err = run_client(["-S", "--json"] + list(extra) + [str(port)],
                              env=env)
    check_eq((rc, err), (0, ""), "seqecho -S rc, stderr")
    lines = out.decode().splitlines()
    check_eq(len(lines), 1, "lines of --json output")
    obj = json.loads(lines[0])
    check_eq(list(obj["states"]), STATES, "states, in the kernel's order")
    check_eq(obj["port"], port, "port")
    if source:
        check_eq(obj["source"], source, "source")
    check_eq(obj["sockets"], sum(v["total"] for v in obj["states"].values()),
             "sockets = sum of the totals")
    return obj


def counts_of(obj):
    return {s: (v["total"], v["daemon"], v["clients"])
            for s, v in obj["states"].items()}


_netlink = None


def sources():
    """The ways of reading this host allows: proc always, netlink mostly."""
    global _netlink
    if _netlink is None:
        rc, _, _ = run_client(["-S", "--json", "1"],
                              env={"SEQECHO_SOCKSTAT": "netlink"})
        _netlink = rc == 0
    return ["netlink", "proc"] if _netlink else ["proc"]


def agree(port, timeout=5):
    """-S, read both ways, equals ss on port; returns the counts.

    ss is read before and after seqecho, and a round counts only when ss
    saw the same both times and every way of reading agreed with it: a
    state may move under us, and /proc/net/tcp is no snapshot (the kernel
    walks its tables afresh for each read, so sockets coming and going on
    other ports can hide one of ours from that read). Rounds are tried
    until one counts or timeout passes; then the last mismatch fails.
    """
    deadline = time.monotonic() + harness.t(timeout)
    while True:
        before = ss_counts(port)
        got = {src: counts_of(sockstat(port, src)) for src in sources()}
        got["auto"] = counts_of(sockstat(port))
        after = ss_counts(port)
        wrong = [src for src, c in got.items() if c != before]
        if before == after and not wrong:
            return before
        if time.monotonic() > deadline:
            if before != after:
                raise harness.Failure("the sockets on port %d kept changing"
                                      % port)
            check_eq(got[wrong[0]], before,
                     "-S (%s) against ss on port %d" % (wrong[0], port))
        time.sleep(0.05)


def settle(port, pred, what):
    """Wait until ss's counts on port satisfy pred."""
    harness.wait_for(lambda: pred(ss_counts(port)), timeout=5, what=what)


def test_listen_and_established():
    with Daemon() as d:
        c = agree(d.port)
        check(c["LISTEN"][1] >= 1, "LISTEN on the daemon's side: %r" % (c,))
        conns = [harness.connect(d.port) for _ in range(3)]
        try:
            for s in conns:
                s.sendall(b"hi\n")
                check_eq(harness.read_line(s), b"0hi", "reply")
            c = agree(d.port)
            check(c["ESTABLISHED"][1] >= 3 and c["ESTABLISHED"][2] >= 3,
                  "3 ESTABLISHED on each side: %r" % (c,))
        finally:
            for s in conns:
                s.close()


def test_close_wait_and_fin_wait_2():
    # seqecho -x half toward a server that never closes: seqecho's socket
    # waits in FIN_WAIT_2, the server's in CLOSE_WAIT.
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(harness.t(5))
    port = ls.getsockname()[1]
    p = subprocess.Popen([harness.seqecho_path(), "-x", "half", "127.0.0.1",
                          str(port)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    s = None
    try:
        s, _ = ls.accept()
        settle(port, lambda c: c["CLOSE_WAIT"][1] >= 1 and
               c["FIN_WAIT_2"][2] >= 1, "CLOSE_WAIT and FIN_WAIT_2")
        c = agree(port)
        check_eq((c["CLOSE_WAIT"][2], c["FIN_WAIT_2"][1]), (0, 0),
                 "CLOSE_WAIT only on the server's side, FIN_WAIT_2 only on "
                 "the client's")
        check(c["LISTEN"][1] == 1, "the test server's LISTEN: %r" % (c,))
        # Now the server closes: seqecho ends cleanly, in TIME_WAIT.
        s.close()
        s = None
        out, err = p.communicate(timeout=harness.t(5))
        check_eq((p.returncode, out, err), (0, b"", b""), "seqecho")
        settle(port, lambda c: c["FIN_WAIT_2"][2] == 0, "FIN_WAIT_2 gone")
        c = agree(port)
        check(c["TIME_WAIT"][2] >= 1, "TIME_WAIT on the client's side")
    finally:
        if s is not None:
            s.close()
        ls.close()
        if p.poll() is None:
            p.kill()
            p.wait()


def session(d, mode):
    """One seqecho session against d; returns the client's port."""
    mark = d.mark()
    rc, out, err = run_client(["-x", mode, "127.0.0.1", str(d.port)],
                              b"hello\n")
    check_eq((rc, out, err), (0, b"0hello\n", ""), "seqecho -x %s" % mode)
    return int(d.wait_log(CLOSED, since=mark).group(1))


def test_time_wait_after_bye_and_server():
    with Daemon() as d:
        before = agree(d.port)
        bye = session(d, "bye")
        server = session(d, "server")
        want = {("TIME_WAIT", bye, d.port), ("TIME_WAIT", d.port, server)}
        harness.wait_for(lambda: want <= set(ss_sockets(d.port)), timeout=3,
                         what="both TIME_WAITs in ss")
        c = agree(d.port)
        # -x bye: the client's FIN went first, TIME_WAIT on its side;
        # -x server: on the daemon's.
        check(c["TIME_WAIT"][2] >= before["TIME_WAIT"][2] + 1,
              "TIME_WAIT on the clients' side after -x bye: %r" % (c,))
        check(c["TIME_WAIT"][1] >= before["TIME_WAIT"][1] + 1,
              "TIME_WAIT on the daemon's side after -x server: %r" % (c,))
        check_eq(c["ESTABLISHED"], (0, 0, 0), "ESTABLISHED after the ends")


def test_no_time_wait_after_rst():
    with Daemon() as d:
        before = agree(d.port)
        cport = session(d, "rst")
        c = agree(d.port)
        check(not any(cport in (lp, rp) for _, lp, rp in ss_sockets(d.port)),
              "a socket left of the -x rst connection")
        check(c["TIME_WAIT"][0] <= before["TIME_WAIT"][0],
              "TIME_WAIT after -x rst: %r" % (c,))
        check_eq(c["ESTABLISHED"], (0, 0, 0), "ESTABLISHED after the reset")


def test_ipv6():
    if not harness.have_ipv6_loopback():
        harness.skip("no IPv6 loopback")
    with Daemon(server_conf(address="::1")) as d:
        s = harness.connect(d.port, "::1")
        try:
            s.sendall(b"hi\n")
            check_eq(harness.read_line(s), b"0hi", "reply")
            c = agree(d.port)
            check(c["LISTEN"][1] >= 1 and c["ESTABLISHED"][1] >= 1 and
                  c["ESTABLISHED"][2] >= 1, "IPv6 sockets counted: %r" % (c,))
        finally:
            s.close()


def test_text_output():
    with Daemon() as d:
        s = harness.connect(d.port)
        try:
            s.sendall(b"hi\n")
            harness.read_line(s)

            def text_and_json():
                # The text and --json agree once nothing moves between them.
                rc, out, err = run_client(["-S", str(d.port)])
                check_eq((rc, err), (0, ""), "rc, stderr")
                want = counts_of(sockstat(d.port))
                lines = out.decode().splitlines()
                got = {}
                for l in lines[2:]:
                    f = l.split()
                    got[f[0]] = tuple(int(x) for x in f[1:])
                return (lines, want) if got == want else None

            lines, want = harness.wait_for(text_and_json, timeout=5,
                                           what="-S and -S --json agreeing")
            total = sum(v[0] for v in want.values())
            check_eq(lines[0], "port %d: %d socket%s" %
                     (d.port, total, "" if total == 1 else "s"), "title")
            check_eq(lines[1].split(), ["STATE", "TOTAL", "DAEMON", "CLIENTS"],
                     "header")
            check_eq([l.split()[0] for l in lines[2:]], STATES, "states")
        finally:
            s.close()


def watch(args, rounds, interval):
    """Run seqecho -S -w interval ... until it has printed rounds rounds,
    then ^C; returns (rc, out, err, seconds from the first round to the
    last)."""
    p = subprocess.Popen([harness.seqecho_path(), "-S", "-w", str(interval)]
                         + args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    try:
        # Each round ends with its CLOSING line (text) or is one line (JSON).
        end = b"\n" if "--json" in args else b"\nCLOSING "
        deadline = time.monotonic() + harness.t(5 + rounds * interval)
        while out.count(end) < rounds:
            check(time.monotonic() < deadline, "%d rounds of -w %s not "
                  "printed in time: %r" % (rounds, interval, out))
            b = os.read(p.stdout.fileno(), 65536)
            check(b != b"", "seqecho -S -w exited by itself: %r" % out)
            if not out:
                first = time.monotonic()
            out += b
        last = time.monotonic()
        check(p.poll() is None, "seqecho -S -w exited by itself")
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=harness.t(5))
        out += rest
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    harness._check_sanitizer(err.decode(errors="replace"), "seqecho -S -w")
    return p.returncode, out.decode(), err.decode(), last - first


def test_watch_repeats_json():
    with Daemon() as d:
        rc, out, err, took = watch(["--json", str(d.port)], 5, 0.2)
        check_eq((rc, err), (130, ""), "rc (^C), stderr")
        objs = [json.loads(l) for l in out.splitlines()]
        check(len(objs) >= 5, "%d rounds" % len(objs))
        for o in objs:
            check_eq(o["port"], d.port, "port")
            check_eq(o["states"]["LISTEN"]["daemon"], 1, "LISTEN")
        times = [o["time"] for o in objs]
        check_eq(times, sorted(times), "times in order")
        # Five rounds are four intervals apart: never sooner.
        check(took >= 4 * 0.2 - 0.05, "5 rounds at -w 0.2 in %.2f s" % took)


def test_watch_repeats_text():
    with Daemon() as d:
        rc, out, err, took = watch([str(d.port)], 3, 0.3)
        check_eq((rc, err), (130, ""), "rc (^C), stderr")
        titles = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} port %d: "
                            r"\d+ sockets?$" % d.port, out, re.M)
        check(len(titles) >= 3, "%d rounds:\n%s" % (len(titles), out))
        rounds = out.split("\n\n")
        check_eq(len(rounds), len(titles), "rounds, a blank line apart")
        for r in rounds:
            check_eq(len(r.strip("\n").splitlines()), 2 + len(STATES),
                     "lines in a round")
        check(took >= 2 * 0.3 - 0.05, "3 rounds at -w 0.3 in %.2f s" % took)


def test_port_from_config():
    with Daemon() as d:
        conf = write_file("client: { port = %d; };\n" % d.port)
        o = sockstat(d.port, extra=["-c", conf])
        rc, out, err = run_client(["-S", "--json", "-c", conf])
        check_eq((rc, err), (0, ""), "rc, stderr")
        check_eq(json.loads(out)["port"], d.port, "port from the config")
        check_eq(o["states"]["LISTEN"]["daemon"], 1, "LISTEN")
    rc, out, err = run_client(["-S", "--json", "-c", write_file("")])
    check_eq((rc, json.loads(out)["port"]), (0, 1234), "default port")


def test_usage_errors():
    for args, msg in (
            (["-w", "1"], "seqecho: -w needs -S\n"),
            (["--json"], "seqecho: --json needs -S\n"),
            (["-S", "-x", "bye"], "seqecho: -x cannot be used with -S\n"),
            (["-S", "-v"], "seqecho: -v cannot be used with -S\n"),
            (["-S", "-w", "0"], "seqecho: -w 0: must be 0.1..86400 seconds\n"),
            (["-S", "-w", "x"], "seqecho: -w x: must be 0.1..86400 seconds\n"),
            (["-S", "0"], "seqecho: 0: port must be 1..65535\n"),
            (["-S", "65536"], "seqecho: 65536: port must be 1..65535\n")):
        rc, out, err = run_client(args)
        check_eq((rc, out, err), (1, b"", msg), "seqecho %s" % " ".join(args))
    rc, out, err = run_client(["-S", "1", "2"])
    check_eq((rc, out), (1, b""), "two ports")
    check(err.startswith("usage: "), "usage on stderr: %r" % err)
    rc, out, err = run_client(["-S", "1"], env={"SEQECHO_SOCKSTAT": "nope"})
    check_eq((rc, out, err),
             (1, b"", "seqecho: SEQECHO_SOCKSTAT=nope: must be netlink or "
              "proc\n"), "a bad SEQECHO_SOCKSTAT")


harness.main(globals())
