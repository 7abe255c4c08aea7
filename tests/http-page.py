#!/usr/bin/env python3
"""http-page: the status page at / in a real browser (headless Chromium):
with connections held, one in CLOSE_WAIT and one in TIME_WAIT, the
rendered page shows each TCP state's count as /status.json gives it, the
counters, the listener and the held connections' peers; served a
/status.json that fails, it says the daemon is not answering. The
screenshot is kept as tests/http-page.png in the build directory, for a
person to look at.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import html
import http.server
import os
import re
import shutil
import subprocess
import threading

import harness
import httpget
from harness import check, check_eq, connect, read_lines, wait_for

STATES = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT_1", "FIN_WAIT_2",
          "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
          "CLOSING"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    harness.skip("chromium is not installed")


def browse(url, *extra):
    """Chromium's rendering of url after 3 s of (virtual) time."""
    profile = os.path.join(harness.tmpdir(), "profile")
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--user-data-dir=" + profile,
            "--window-size=1300,1000", "--virtual-time-budget=3000"] + \
        list(extra) + [url]
    p = subprocess.run(argv, capture_output=True, timeout=harness.t(90))
    check_eq(p.returncode, 0, "chromium (stderr %r)" % p.stderr[-2000:])
    return p.stdout.decode(errors="replace")


def counts(dom):
    """Each state box's count, as the page filled it in."""
    found = {}
    for tag in re.findall(r'<text [^>]*id="count-[A-Z_0-9]+"[^>]*>', dom):
        name = re.search(r'id="count-([A-Z_0-9]+)"', tag).group(1)
        found[name] = re.search(r'data-count="(\d*)"', tag).group(1)
    return found


def visible_text(dom):
    """The page's text, without its script and style."""
    dom = re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", dom)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


def test_page_shows_live_counts():
    d = httpget.daemon(workers=2, name="page-test")
    with d:
        held = httpget.hold(d.port, 3)
        # One the daemon half-closes first (a line too long), that we do
        # not close: CLOSE_WAIT here, FIN_WAIT_2 there.
        half = connect(d.port)
        half.sendall(b"x" * 5000)
        check(b"ERR line too long" in harness.recv_until_eof(half), "ERR")
        # And one the real client ends with bye: TIME_WAIT on its side,
        # unless the host's table of them is full of others'.
        rc, out, err = harness.run_client(["127.0.0.1", str(d.port)],
                                          stdin_bytes=b"t\nbye\n")
        check_eq(rc, 0, "client")

        def settled():
            st = httpget.status(d.http_port)
            ts = st["tcp_states"]
            return st if (ts["ESTABLISHED"], ts["CLOSE_WAIT"],
                          st["counters"]["closed"]["too-long"]) == \
                (6, 1, 1) else None
        # The daemon closes its end after its linger (2 s). (Its orphan
        # in FIN_WAIT_2 may go at once when the host's table of those is
        # full of other tests': not counted on.)
        wait_for(settled, timeout=10, what="6 ESTABLISHED, 1 CLOSE_WAIT, "
                 "1 closed too-long")
        url = "http://127.0.0.1:%d/" % d.http_port
        # The page and /status.json are read a moment apart: the states
        # must agree, but one may move in between; try again, bounded.
        for attempt in range(3):
            dom = browse(url, "--dump-dom")
            st = httpget.status(d.http_port)
            if counts(dom) == {s: str(st["tcp_states"][s]) for s in STATES}:
                break
        shot = os.path.abspath(os.path.join("tests" if os.path.isdir(
            "tests") else ".", "http-page.png"))
        browse(url, "--screenshot=" + shot)
        check(os.path.getsize(shot) > 10000, "a screenshot")
        print("screenshot: " + shot)
        got = counts(dom)
        want = {s: str(st["tcp_states"][s]) for s in STATES}
        check_eq((want["ESTABLISHED"], want["CLOSE_WAIT"], want["LISTEN"]),
                 ("6", "1", "1"), "the states")
        check_eq(got, want, "every state's count on the page")
        text = visible_text(dom)
        for s in held:
            peer = "127.0.0.1:%d" % s.getsockname()[1]
            check(peer in text, "peer %s on the page" % peer)
        check("127.0.0.1:%d" % d.port in text, "the listener")
        check("page-test" in text, "the name")
        check(re.search(r"accepted\s+5\b", text) is not None,
              "counter accepted 5")
        check(re.search(r"too-long\s+1\b", text) is not None,
              "closed too-long 1")
        check("live," in text, "says it is live")
        check("not answering" not in text, "no banner")
        for s in held + [half]:
            s.close()


class DeadStatus(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self):
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
        else:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


def test_page_says_when_daemon_stops_answering():
    d = httpget.daemon()
    with d:
        DeadStatus.page = httpget.get(d.http_port, "/")[1]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DeadStatus)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        dom = browse("http://127.0.0.1:%d/" % srv.server_address[1],
                     "--dump-dom")
    finally:
        srv.shutdown()
        srv.server_close()
    text = visible_text(dom)
    check("The daemon is not answering (HTTP 503)" in text,
          "the banner: " + text[:600])
    check(re.search(r'id="banner"[^>]*class="show"|class="show"[^>]*'
                    r'id="banner"', dom) is not None, "banner shown")


harness.main(globals())
