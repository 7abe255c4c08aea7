"""httpget.py - what the tests of seqechod's http endpoint share: start
a daemon with http on port 0, read its port from the log, GET and parse
/metrics (Prometheus text) and /status.json.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import http.client
import json
import re

import harness
from harness import Daemon, check, check_eq, connect, read_lines, \
    server_conf

HTTP_RE = r"http listening on (\[[^\]]*\]|[^\s\[\]]+):(\d+)"
SAMPLE_RE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


class HttpDaemon(Daemon):
    """A Daemon whose log names its http port: d.http_port."""

    def start(self):
        super().start()
        self.http_port = http_port(self)
        return self


def daemon(http="127.0.0.1:0", **settings):
    """A Daemon (to use with with) whose config sets http."""
    return HttpDaemon(server_conf(http=http, **settings))


def http_port(d, since=0):
    m = d.wait_log(HTTP_RE, since=since)
    return int(m.group(2))


def request(port, path, method="GET", host="127.0.0.1", timeout=10,
            headers=None):
    """(status, headers dict lowercased, body bytes)."""
    c = http.client.HTTPConnection(host, port, timeout=harness.t(timeout))
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def get(port, path, **kw):
    status, hdrs, body = request(port, path, **kw)
    check(status == 200, "GET %s: %d %r" % (path, status, body[:200]))
    return hdrs, body


def metrics_text(port):
    return get(port, "/metrics")[1].decode()


def metrics(port):
    """{(name, labels-string or ""): float} and {name: type}."""
    samples, types = {}, {}
    for line in metrics_text(port).splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE_RE.match(line)
        check(m is not None, "not a sample line: %r" % line)
        samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return samples, types


def status(port):
    hdrs, body = get(port, "/status.json")
    check(hdrs.get("content-type", "").startswith("application/json"),
          "content type %r" % hdrs.get("content-type"))
    return json.loads(body)


def hold(port, n, tag=b"h"):
    """n echo connections, each served once and left open."""
    socks = []
    for i in range(n):
        s = connect(port)
        s.sendall(b"%s%d\n" % (tag, i))
        check_eq(read_lines(s, 1), [b"0%s%d" % (tag, i)], "held %d" % i)
        socks.append(s)
    return socks
