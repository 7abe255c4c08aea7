#!/usr/bin/env python3
"""bench-haproxy: seqechod scaled out as a user would, tested for real.
Debian's HAProxy on 127.0.0.1 (mode tcp, balance roundrobin) in front of
three seqechod on 127.0.0.2, .3 and .4 with proxy_protocol "v2" listeners
trusting it (send-proxy-v2 check check-send-proxy); two seqecho-bench runs
at once stand for two load hosts (-b 127.0.1.1-127.0.1.8 and -b
127.0.2.1-127.0.2.8), each --json, then --merge: every reply verified,
no error, the merged message count the sum of the daemons' own (SIGUSR1)
counts, each daemon's peer= the bench's sources, the connections spread
within 10%. Then one daemon killed halfway through a run: its cut
connections are unexpected closes (never wrong serials), HAProxy's
checks take it out, and new connections go to the other two.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import re
import signal
import subprocess
import sys

import harness
import haproxyctl
from harness import Daemon, Raw, check, check_eq, connect, server_conf, \
    write_file

SERVER = ("    server s%d 127.0.0.%d:%d send-proxy-v2 check check-send-proxy "
          "inter 200ms fall 2 rise 1\n")
SOURCES = ("127.0.1.1-127.0.1.8", "127.0.2.1-127.0.2.8")
CONNS = 24
CLOSED = re.compile(r"conn \d+ closed peer=(127\.\d+\.\d+\.\d+):\d+ "
                    r"via=127\.0\.0\.1:\d+ messages=(\d+) ")


def daemon(host):
    return Daemon(server_conf(address=None, port=None, listen=Raw(
        '( { address = "%s"; port = 0; proxy_protocol = "v2"; '
        'proxy_trusted = [ "127.0.0.1/32" ]; } )' % host)))


def HAProxy(daemons):
    """HAProxy balancing round robin over the daemons, with its checks."""
    servers = "".join(SERVER % (i + 1, i + 2, d.port)
                      for i, d in enumerate(daemons))
    return haproxyctl.HAProxy("    balance roundrobin\n" + servers,
                              name="fleet", timeout=30,
                              global_extra="    maxconn 4000\n", wait=10)


def stats(d):
    mark = d.mark()
    d.signal(signal.SIGUSR1)
    line = d.wait_log(r"stats [^\n]*", since=mark).group(0)
    return {k: int(v) for k, v in re.findall(r"([a-z_]+)=(\d+)", line)}


def checked(daemons, want=2):
    """Each daemon has seen HAProxy's health checks: all are up."""
    for d in daemons:
        harness.wait_for(lambda: stats(d).get("proxy_health_checks", 0) >=
                         want, 15, "health checks on %d" % d.port,
                         interval=0.2)


def start_bench(fe, source, *args):
    argv = [harness.bench_path(), "-c", write_file(""), "--json", "-b",
            source] + list(args) + ["127.0.0.1", str(fe)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(p, timeout=60):
    try:
        out, err = p.communicate(timeout=harness.t(timeout))
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise harness.Failure("seqecho-bench did not end")
    return p.returncode, out, err


def closes(d):
    return CLOSED.findall(d.log_text())


def in_sources(addr):
    return re.fullmatch(r"127\.0\.[12]\.[1-8]", addr) is not None


def test_two_hosts_three_daemons():
    with daemon("127.0.0.2") as d2, daemon("127.0.0.3") as d3, \
            daemon("127.0.0.4") as d4:
        fleet = (d2, d3, d4)
        with HAProxy(fleet) as ha:
            checked(fleet)
            runs = [start_bench(ha.fe, src, "-n", str(CONNS), "-P", "4",
                                "-d", "2") for src in SOURCES]
            results = [finish(p) for p in runs]
            files = []
            for rc, out, err in results:
                r = json.loads(out)
                check_eq(r["errors"]["total"], 0, "errors: %r (stderr %r)"
                         % (r["error_samples"], err))
                check_eq(rc, 0, "bench exit")
                check_eq(r["connections_opened"], CONNS, "connections")
                files.append(write_file(out, suffix=".json"))
            rc, out, err = harness.run_bench(["--merge", "--json"] + files)
            check_eq(rc, 0, "merge (stderr %r)" % err)
            m = json.loads(out)
            check_eq(m["errors"]["total"], 0, "merged errors")
            replies = m["messages"] + m["messages_late"]
            check(m["messages"] > 0, "no messages")

            def all_closed():
                return sum(len(closes(d)) for d in fleet) == 2 * CONNS
            harness.wait_for(all_closed, 15, "every close line")
            counted = sum(stats(d)["messages"] for d in fleet)
            check_eq(replies, counted, "merged replies vs the daemons' "
                     "messages=")
            per = [len(closes(d)) for d in fleet]
            for d in fleet:
                for peer, n in closes(d):
                    check(in_sources(peer), "peer=%s on %d" % (peer, d.port))
                check_eq(sum(int(n) for _, n in closes(d)),
                         stats(d)["messages"], "close lines vs stats")
            check(max(per) - min(per) <= 0.1 * (2 * CONNS / 3),
                  "connections per daemon: %r" % per)
            seen = {p for d in fleet for p, _ in closes(d)}
            check_eq(len(seen), 16, "source addresses: %r" % sorted(seen))
            rc, text, err = harness.run_bench(["--merge"] + files)
            sys.stdout.write(text)


def test_one_daemon_killed():
    with daemon("127.0.0.2") as d2, daemon("127.0.0.3") as d3, \
            daemon("127.0.0.4") as d4:
        fleet = (d2, d3, d4)
        with HAProxy(fleet) as ha:
            checked(fleet)
            p = start_bench(ha.fe, SOURCES[0], "-n", "12", "-P", "4",
                            "-d", "3")
            harness.wait_for(lambda: len(d4.log_lines(r"conn \d+ open"))
                             >= 4, 10, "connections on the third")
            # The run well under way: replies flowing on all three.
            harness.wait_for(lambda: stats(d4)["messages"] > 1000, 10,
                             "replies from the third", interval=0.1)
            d4.expect_rc = -signal.SIGKILL
            d4.signal(signal.SIGKILL)
            d4.wait_exit()
            rc, out, err = finish(p)
            r = json.loads(out)
            check_eq(rc, 1, "exit status with cut connections")
            e = r["errors"]
            check(1 <= e["unexpected_close"] <= 4, "unexpected closes %r" % e)
            for k in ("wrong_serial", "wrong_payload", "extra_reply",
                      "err_line", "connect_failed"):
                check_eq(e[k], 0, k)
            check(r["messages"] > 0, "replies")
            harness.wait_for(lambda: "is DOWN" in ha.log(), 10,
                             "haproxy taking s3 out")
            before = sum(len(closes(d)) for d in (d2, d3))
            q = start_bench(ha.fe, SOURCES[1], "--churn", "-n", "4",
                            "-m", "60")
            rc, out, err = finish(q)
            r = json.loads(out)
            check_eq(r["errors"]["total"], 0, "errors after the kill: %r"
                     % r["error_samples"])
            check_eq(rc, 0, "exit status after the kill")
            check_eq(r["churned"], 60, "churned")
            harness.wait_for(lambda: sum(len(closes(d)) for d in (d2, d3)) -
                             before == 60, 10,
                             "new connections on the other two")


harness.main(globals())
