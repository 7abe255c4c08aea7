#!/usr/bin/env python3
"""bench-scale: seqecho-bench past one machine. -b ranges bind the
connections round robin to their sources, as the daemon's peer= shows;
--merge of two real runs' --json is their sums (counts, histograms,
errors, rates) and merges again; --hlog is read by HdrHistogram's own
HistogramLogProcessor, whose percentile spectrum of the log agrees with
--percentiles; bad -b lists and merge inputs are refused.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import os
import re
import shutil
import subprocess

import harness
from harness import Daemon, check, check_eq, server_conf, write_file

JAR = "/usr/share/java/hdrhistogram.jar"


def bench(args, timeout=60):
    if args[0] != "--merge":
        args = ["-c", write_file("")] + args
    return harness.run_bench(args, timeout=timeout)


def bench_json(args):
    rc, out, err = bench(["--json"] + args)
    check_eq(rc, 0, "exit status (stderr %r)" % err)
    r = json.loads(out)
    check_eq(r["errors"]["total"], 0, "errors: %r" % r["error_samples"])
    return r, out


def peers(d):
    return re.findall(r"closed peer=(127\.\d+\.\d+\.\d+):\d+ ", d.log_text())


def test_sources_round_robin():
    with Daemon(server_conf(workers=1)) as d:
        r, _ = bench_json(["-b", "127.0.1.1-127.0.1.4,127.0.1.9", "-n", "10",
                           "-m", "100", "127.0.0.1", str(d.port)])
        check_eq(r["connections_opened"], 10, "connections")
        harness.wait_for(lambda: len(peers(d)) >= 10, 10, "close lines")
        got = sorted(peers(d))
        want = sorted(["127.0.1.%d" % i for i in (1, 2, 3, 4, 9)] * 2)
        check_eq(got, want, "peer addresses, each source twice")


def test_churn_walks_sources():
    with Daemon(server_conf(workers=1)) as d:
        r, _ = bench_json(["-b", "127.0.2.1-127.0.2.8", "--churn", "-n", "2",
                           "-m", "40", "127.0.0.1", str(d.port)])
        check_eq(r["churned"], 40, "churned")
        harness.wait_for(lambda: len(peers(d)) >= 40, 10, "close lines")
        counts = {}
        for p in peers(d):
            counts[p] = counts.get(p, 0) + 1
        check_eq(sorted(counts), ["127.0.2.%d" % i for i in range(1, 9)],
                 "sources used")
        check_eq(set(counts.values()), {5}, "round robin: %r" % counts)


def test_bad_sources():
    for bad, why in (("127.0.0.9-127.0.0.1", "range goes up"),
                     ("nowhere", "not an address"),
                     ("127.0.0.1,::1", "mixed"),
                     ("::1", "the target")):
        rc, out, err = bench(["-b", bad, "-m", "1", "127.0.0.1", "9"])
        check_eq(rc, 1, "exit status for -b %s" % bad)
        check(why in err, "stderr for -b %s: %r" % (bad, err))
    with Daemon() as d:
        # An address not on this host: every connection fails, said why.
        rc, out, err = bench(["-b", "192.0.2.1", "-m", "1", "-n", "1",
                              "127.0.0.1", str(d.port)])
        check_eq(rc, 1, "exit status for a source not here")
        check("Cannot assign requested address" in err or "connect" in err,
              "stderr %r" % err)


def add_hist(a, b):
    c = dict(a)
    for k, v in b:
        c[k] = c.get(k, 0) + v
    return c


def test_merge_is_the_sum():
    with Daemon(server_conf(workers=2)) as d:
        runs = []
        for src in ("127.0.3.1-127.0.3.3", "127.0.4.1-127.0.4.3"):
            r, out = bench_json(["-b", src, "-n", "3", "-P", "4", "-d", "1",
                                 "127.0.0.1", str(d.port)])
            runs.append((r, write_file(out, suffix=".json")))
    (a, fa), (b, fb) = runs
    rc, out, err = bench(["--merge", "--json", fa, fb])
    check_eq(rc, 0, "merge exit (stderr %r)" % err)
    m = json.loads(out)
    check_eq(m["runs"], 2, "runs")
    for k in ("messages", "messages_late", "bytes_sent", "bytes_received",
              "connections_opened", "connections"):
        check_eq(m[k], a[k] + b[k], k)
    check(abs(m["messages_per_second"] - a["messages_per_second"] -
              b["messages_per_second"]) < 0.01, "rates added")
    for h in ("latency_us", "connect_us"):
        want = add_hist({}, [tuple(p) for p in a[h]["counts"]])
        want = add_hist(want, [tuple(p) for p in b[h]["counts"]])
        check_eq({k: v for k, v in m[h]["counts"]}, want, h + " counts")
        check_eq(m[h]["count"], a[h]["count"] + b[h]["count"], h)
        check_eq(m[h]["max_ns"], max(a[h]["max_ns"], b[h]["max_ns"]), h)
        check_eq(m[h]["min_ns"], min(a[h]["min_ns"], b[h]["min_ns"]), h)
    # Merged again with one of its parts: three runs.
    fm = write_file(out, suffix=".json")
    rc, out, err = bench(["--merge", "--json", fm, fa])
    m3 = json.loads(out)
    check_eq(m3["runs"], 3, "runs of a merge merged")
    check_eq(m3["messages"], 2 * a["messages"] + b["messages"], "messages")
    rc, text, err = bench(["--merge", fa, fb])
    check_eq(rc, 0, "text merge")
    check("merged      2 runs" in text, "text: %r" % text)
    check("messages    %d in" % m["messages"] in text, "text: %r" % text)


def test_merge_refuses():
    bad = write_file("{\"mode\": \"closed\"}\n", suffix=".json")
    rc, out, err = bench(["--merge", bad])
    check_eq(rc, 1, "a JSON that is not a report")
    check("not a seqecho-bench --json report" in err, "stderr %r" % err)
    rc, out, err = bench(["--merge", "/nonexistent.json"])
    check_eq(rc, 1, "a missing file")
    rc, out, err = bench(["--merge"])
    check_eq(rc, 1, "no file")
    check("usage:" in err, "usage: %r" % err)
    rc, out, err = bench(["--percentiles", "--json", "127.0.0.1", "9"])
    check_eq(rc, 1, "--percentiles with --json")
    check("--percentiles and --json" in err, "stderr %r" % err)
    rc, out, err = bench(["--hlog", "/nonexistent/x.hlog", "-m", "1",
                          "127.0.0.1", "9"])
    check_eq(rc, 1, "--hlog where no file can be")
    check("--hlog /nonexistent/x.hlog: No such file or directory" in err,
          "stderr %r" % err)
    empty = {"histogram_layout": "HdrHistogram, 2 significant digits, ns"}
    for h in ("latency", "connect", "teardown", "lifetime", "handshake"):
        empty[h + "_us"] = {"count": 0, "counts": []}
    churn = write_file(json.dumps(dict(empty, mode="churn")), suffix=".json")
    closed = write_file(json.dumps(dict(empty, mode="closed")),
                        suffix=".json")
    rc, out, err = bench(["--merge", closed, churn])
    check_eq(rc, 1, "runs of different modes")
    check("not like the others" in err, "stderr %r" % err)
    rc, out, err = bench(["--merge", "--json", closed, closed])
    check_eq(rc, 0, "two empty runs (stderr %r)" % err)
    check_eq(json.loads(out)["runs"], 2, "runs")
    bad = closed + ".bad"
    with open(closed) as f, open(bad, "w") as g:
        g.write(f.read().replace('"counts": []', '"counts": [[7424, 1]]',
                                 1))
    rc, out, err = bench(["--merge", bad])
    check_eq(rc, 1, "a count outside the layout")


def spectrum(text):
    """The (value, percentile, count) lines of a .hgrm text."""
    return [(float(v), float(p), int(c)) for v, p, c in re.findall(
        r"^\s+([\d.]+) ([\d.]+)\s+(\d+)(?:\s+[\d.]+|\s*)$", text, re.M)]


def test_hlog_read_by_hdrhistogram():
    java = shutil.which("java")
    if java is None or not os.path.exists(JAR):
        harness.skip("java or HdrHistogram's jar missing "
                     "(.ci/install-deps installs them)")
    hlog = write_file(b"", suffix=".hlog")
    with Daemon(server_conf(workers=1)) as d:
        rc, out, err = bench(["--hlog", hlog, "--percentiles", "-n", "4",
                              "-P", "2", "-d", "2.5", "127.0.0.1",
                              str(d.port)])
    check_eq(rc, 0, "bench (stderr %r)" % err)
    with open(hlog) as f:
        log = f.read()
    check(log.startswith("#[Histogram log format version 1.3]\n"), log[:80])
    for tag in ("latency", "connect", "teardown"):
        n = len(re.findall(r"^Tag=%s," % tag, log, re.M))
        check(3 <= n <= 4, "%d intervals of %s" % (n, tag))
    base = os.path.join(harness.tmpdir(), "processed")
    p = subprocess.run([java, "-cp", JAR,
                        "org.HdrHistogram.HistogramLogProcessor", "-i", hlog,
                        "-tag", "latency", "-outputValueUnitRatio", "1000",
                        "-o", base], capture_output=True, text=True,
                       timeout=harness.t(60))
    check_eq(p.returncode, 0, "HistogramLogProcessor: %s" % p.stderr)
    with open(base + ".hgrm") as f:
        theirs = spectrum(f.read())
    ours = spectrum(out)
    check(len(ours) > 20, "our spectrum: %r" % out[:300])
    check_eq(len(theirs), len(ours), "lines of the spectrum")
    for (v1, p1, c1), (v2, p2, c2) in zip(ours, theirs):
        # Java rounds the printed decimal half up, C the binary value.
        check(abs(v1 - v2) <= 0.011 and abs(p1 - p2) < 1e-11 and c1 == c2,
              "ours %r, HdrHistogram's %r" % ((v1, p1, c1), (v2, p2, c2)))
    total = re.search(r"Total count\s+=\s+(\d+)", out)
    check(total is not None and int(total.group(1)) == ours[-1][2],
          "total count")


harness.main(globals())
