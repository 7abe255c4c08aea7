#!/usr/bin/env python3
"""haproxy: the daemon behind the real thing. Debian's haproxy, started
here in the foreground (haproxy -db -f FILE) on loopback ports, in mode
tcp, sends send-proxy-v2, send-proxy (v1) and proxy-v2-options
crc32c,unique-id to a PROXY listener, with its own health checks
(check check-send-proxy inter 200ms): replies come back through it to the
seqecho client and to raw sockets, the daemon's log names the client as
peer= and HAProxy as via=, and the health checks are counted, never
logged as errors. curl --haproxy-protocol is a second sender.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import signal
import subprocess

import harness
import haproxyctl
from harness import Daemon, Raw, check, check_eq, connect, read_lines, \
    recv_until_eof, server_conf


def HAProxy(port, send, frontend=""):
    """HAProxy in front of the daemon's port, sending send, with its own
    health checks."""
    return haproxyctl.HAProxy("    server s1 127.0.0.1:%d %s check "
                              "check-send-proxy inter 200ms\n" % (port, send),
                              frontend=frontend)


def daemon_conf(mode):
    return server_conf(address=None, port=None, listen=Raw(
        '( { address = "127.0.0.1"; port = 0; proxy_protocol = "%s"; '
        'proxy_trusted = [ "127.0.0.1/8" ]; } )' % mode))


def stats(d):
    mark = d.mark()
    d.signal(signal.SIGUSR1)
    line = d.wait_log(r"stats [^\n]*", since=mark).group(0)
    return line, {k: int(v) for k, v in re.findall(r"([a-z_]+)=(\d+)", line)}


def through(d, ha):
    """Clients through HAProxy; their close lines name them and it."""
    s = connect(ha.fe)
    me = s.getsockname()
    s.sendall(b"a\nb\n")
    check_eq(read_lines(s, 2), [b"0a", b"1b"], "raw socket through haproxy")
    s.sendall(b"c\nbye\n")
    check_eq(recv_until_eof(s), b"2c\n", "up to bye")
    s.close()
    m = d.wait_log(r"conn (\d+) closed peer=127\.0\.0\.1:%d "
                   r"via=127\.0\.0\.1:(\d+) messages=3 in=10 out=9 "
                   r"[^\n]* reason=bye" % me[1])
    check(int(m.group(2)) != me[1], "via= is the client, not haproxy")
    d.wait_log(r"conn %s open peer=127\.0\.0\.1:%d via=127\.0\.0\.1:%s\n"
               % (m.group(1), me[1], m.group(2)))

    rc, out, err = harness.run_client(["127.0.0.1", str(ha.fe)],
                                      b"x\ny\nz\n")
    check_eq((rc, out), (0, b"0x\n1y\n2z\n"), "seqecho through haproxy "
             "(stderr %r)" % err)
    # The client ends with bye at the end of its input.
    harness.wait_for(lambda: len(d.log_lines(
        r"closed peer=127\.0\.0\.1:\d+ via=\S+ messages=3 in=10 out=9 ")) == 2,
        5, "the seqecho client's close line")


def health_checks(d, ha, want=5):
    """HAProxy's checks come every 200 ms: counted, at debug only."""
    def enough():
        line, got = stats(d)
        return got.get("proxy_health_checks", 0) >= want and (line, got)
    line, got = harness.wait_for(enough, 10, "%d health checks" % want,
                                 interval=0.2)
    check_eq(got.get("proxy", -1), 0, "proxy errors in %r" % line)
    check(not d.log_lines(r"reason=proxy"), "a health check as an error")
    closes = d.log_lines(r"conn \d+ closed")
    check_eq(len(closes), 2, "close lines at info (the two clients)")
    check(all(" via=" in c for c in closes), "close lines: %r" % closes)


def run(mode, send, frontend=""):
    with Daemon(daemon_conf(mode)) as d:
        with HAProxy(d.port, send, frontend) as ha:
            through(d, ha)
            health_checks(d, ha)


def test_send_proxy_v2():
    run("v2", "send-proxy-v2")


def test_send_proxy_v1():
    run("v1", "send-proxy")


def test_v2_crc32c_unique_id():
    run("any", "send-proxy-v2 proxy-v2-options crc32c,unique-id",
        "    unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid\n")


def test_curl_haproxy_protocol():
    curl = harness.tool("curl")
    conf = daemon_conf("v1").replace("{\n", "{\n  idle_timeout = 1;\n", 1)
    with Daemon(conf) as d:
        p = subprocess.run([curl, "-sN", "--haproxy-protocol",
                            "telnet://127.0.0.1:%d" % d.port],
                           input=b"hello\n", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=harness.t(10))
        check_eq(p.stdout, b"0hello\nERR idle timeout\n",
                 "curl's output (stderr %r)" % p.stderr)
        d.wait_log(r"closed peer=127\.0\.0\.1:(\d+) via=127\.0\.0\.1:\1 "
                   r"messages=1 in=6 ")


harness.main(globals())
