#!/usr/bin/env python3
"""bench-basic: seqecho-bench against the real daemon, for about a second
in each mode (closed loop, open loop -R, --churn, --idle, -m), finds no
error, moves messages, and reports them as the man page says; bad usage
and an unreachable target are refused with exit 1.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import signal
import subprocess

import harness
from harness import Daemon, check, check_eq, server_conf, write_file

ERROR_KINDS = ("wrong_serial", "wrong_payload", "missing_reply",
               "unexpected_close", "err_line", "extra_reply",
               "connect_failed", "not_closed")


def empty_conf():
    # Not the installed default file: its settings could change the run.
    return write_file("")


def bench_json(port, *args, conf=None, timeout=30):
    """Run seqecho-bench --json against port; returns (rc, report, stderr)."""
    argv = ["-c", conf or empty_conf(), "--json"] + list(args) + \
        ["127.0.0.1", str(port)]
    rc, out, err = harness.run_bench(argv, timeout=timeout)
    try:
        report = json.loads(out)
    except ValueError:
        raise harness.Failure("not JSON: %r (stderr %r)" % (out, err))
    return rc, report, err


def check_clean(rc, r, err):
    check_eq(r["errors"]["total"], 0,
             "errors (%s; stderr %r)" % (r["error_samples"], err))
    for k in ERROR_KINDS:
        check_eq(r["errors"][k], 0, k)
    check_eq(rc, 0, "exit status")


def test_closed_loop():
    with Daemon(server_conf(workers=1)) as d:
        rc, r, err = bench_json(d.port, "-d", "1", "-n", "4", "-P", "8")
        check_clean(rc, r, err)
        check_eq(r["mode"], "closed", "mode")
        check(r["messages"] > 0, "no messages: %r" % r)
        check(r["messages_per_second"] > 0, "no rate")
        check(abs(r["seconds"] - 1.0) < 0.05, "window %r" % r["seconds"])
        check_eq(r["connections_opened"], 4, "connections opened")
        check_eq(r["connect_us"]["count"], 4, "connect times")
        lat = r["latency_us"]
        check(lat["count"] >= r["messages"], "latency count %r" % lat)
        check(0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <=
              lat["p999"] <= lat["max"], "percentiles out of order: %r" % lat)
        check(r["bytes_sent"] > 17 * r["messages"], "bytes sent")


def test_threads_and_big_messages():
    with Daemon(server_conf(workers=2)) as d:
        rc, r, err = bench_json(d.port, "-d", "1", "-n", "6", "-T", "3",
                                "-P", "16", "-s", "3000")
        check_clean(rc, r, err)
        check(r["messages"] > 0, "no messages")
        check_eq(r["threads"], 3, "threads")


def test_message_count():
    with Daemon() as d:
        rc, r, err = bench_json(d.port, "-m", "1000", "-n", "3", "-P", "5")
        check_clean(rc, r, err)
        check_eq(r["messages"], 1000, "messages")
        check_eq(r["messages_late"], 0, "late")


def test_open_loop():
    with Daemon() as d:
        rc, r, err = bench_json(d.port, "-d", "1", "-n", "2", "-P", "16",
                                "-R", "2000")
        check_clean(rc, r, err)
        check_eq(r["mode"], "open", "mode")
        # Sends are due up to the deadline only: at most rate x seconds,
        # and room in flight lets a slow (sanitized) run keep up.
        sent = r["messages"] + r["messages_late"]
        check(1000 <= sent <= 2002, "%d messages for 2000/s over 1 s" % sent)


def test_churn():
    with Daemon() as d:
        rc, r, err = bench_json(d.port, "--churn", "-d", "1", "-n", "2")
        check_clean(rc, r, err)
        check_eq(r["mode"], "churn", "mode")
        check(r["churned"] > 0, "no connections: %r" % r)
        check(r["connections_per_second"] > 0, "no rate")
        for h in ("connect_us", "teardown_us", "lifetime_us", "latency_us"):
            check(r[h]["count"] >= r["churned"], "%s count %r" % (h, r[h]))


def test_idle():
    with Daemon() as d:
        rc, r, err = bench_json(d.port, "--idle", "-n", "20", "-d", "0.5")
        check_clean(rc, r, err)
        check_eq(r["connections_held"], 20, "held")
        check(r["seconds"] >= 0.45, "held for %r s" % r["seconds"])


def test_idle_until_interrupted():
    with Daemon() as d:
        harness.require_program(harness.bench_path())
        p = subprocess.Popen([harness.bench_path(), "-c", empty_conf(),
                              "--json", "--idle", "-n", "5", "127.0.0.1",
                              str(d.port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = p.stderr.readline().decode()
            check("holding 5 connections" in line, "stderr %r" % line)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=harness.t(10))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        r = json.loads(out)
        check_clean(p.returncode, r, err.decode())
        check(r["interrupted"], "interrupted")
        check_eq(r["connections_held"], 5, "held")


def test_separator_from_config():
    conf = server_conf(separator=": ", workers=1)
    with Daemon(conf) as d:
        # The same file tells the bench what separator to expect...
        rc, r, err = bench_json(d.port, "-m", "200", "-n", "2",
                                conf=write_file(conf))
        check_clean(rc, r, err)
        check_eq(r["messages"], 200, "messages")
        # ...and without it every payload is wrong.
        rc, r, err = bench_json(d.port, "-m", "20", "-n", "1")
        check_eq(rc, 1, "exit status without the separator")
        check_eq(r["errors"]["wrong_payload"], 20, "wrong payloads")


def test_text_and_quiet_output():
    with Daemon() as d:
        rc, out, err = harness.run_bench(["-c", empty_conf(), "-d", "0.5",
                                          "-n", "2", "127.0.0.1", str(d.port)])
        check_eq(rc, 0, "exit status")
        for word in ("target", "messages", "throughput", "latency",
                     "p99.9", "connect", "errors      0"):
            check(word in out, "%r not in %r" % (word, out))
        # Not a terminal: no progress line.
        check_eq(err, "", "stderr")
        rc, out, err = harness.run_bench(["-q", "-c", empty_conf(), "-d",
                                          "0.3", "127.0.0.1", str(d.port)])
        check_eq(rc, 0, "exit status")
        check_eq(len(out.splitlines()), 1, "lines with -q: %r" % out)
        check(out.endswith(" 0 errors\n"), "-q line %r" % out)


def test_target_from_config():
    with Daemon() as d:
        conf = write_file("client:\n{\n  address = \"127.0.0.1\";\n"
                          "  port = %d;\n};\n" % d.port)
        rc, out, err = harness.run_bench(["-c", conf, "-q", "-d", "0.3"])
        check_eq(rc, 0, "exit status (%s)" % err)
        check(out.endswith(" 0 errors\n"), "output %r" % out)


def test_connect_refused():
    port = harness.free_port()
    rc, r, err = bench_json(port, "-d", "1", "-n", "3")
    check_eq(rc, 1, "exit status")
    check_eq(r["errors"]["connect_failed"], 3, "connect failures")
    check("Connection refused" in r["error_samples"]["connect_failed"],
          "sample %r" % r["error_samples"])
    check("Connection refused" in err, "stderr %r" % err)


def test_usage():
    rc, out, err = harness.run_bench(["-h"])
    check_eq(rc, 0, "-h exit status")
    check(out.startswith("usage: seqecho-bench [-n conns] [-P depth]"),
          "usage %r" % out)
    rc, out, err = harness.run_bench(["-V"])
    check_eq(rc, 0, "-V exit status")
    check(out.startswith("seqecho-bench "), "-V output %r" % out)
    for args in (["-n", "0"], ["-P", "x"], ["-d", "1", "-m", "5"],
                 ["--churn", "--idle"], ["--churn", "-P", "2"],
                 ["--idle", "-R", "5"], ["--idle", "-m", "5"],
                 ["-n", "2", "-T", "3"], ["-d", "-1"], ["--bogus"],
                 ["127.0.0.1", "0"], ["a", "1", "extra"]):
        rc, out, err = harness.run_bench(args)
        check_eq(rc, 1, "exit status for %r" % args)
        check(err.startswith("seqecho-bench: ") or err.startswith("usage:")
              or "unrecognized option" in err, "stderr for %r: %r" % (args, err))
        check_eq(out, "", "stdout for %r" % args)


harness.main(globals())
