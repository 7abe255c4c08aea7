#!/usr/bin/env python3
"""proxy-header: listeners with proxy_protocol v1, v2 and any take the
PROXY header (built here by hand, from HAProxy's proxy-protocol.txt, not
by the daemon's code) before the client's data: replies count from 0
after it, in one segment with the header or split a byte at a time;
LOCAL and UNKNOWN keep the socket's addresses; every malformed header,
a late one and an untrusted source are closed without a reply and logged
with reason=proxy and why; health checks are counted, not logged at info;
a plain listener beside a PROXY one stays plain.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import re
import signal
import socket
import struct
import time

import harness
from harness import Daemon, Raw, check, check_eq, connect, expect_closed, \
    read_lines, recv_until_eof, server_conf

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
CLIENT = ("203.0.113.7", 5555)
LISTEN_RE = re.compile(r"info: listening on 127\.0\.0\.1:(\d+)( proxy=(\w+))?\n")


def crc32c(data):
    """CRC32C (Castagnoli, reflected 0x82F63B78), bit by bit."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def v1(src=CLIENT, dst=("127.0.0.1", 1234)):
    return b"PROXY TCP4 %s %s %d %d\r\n" % (src[0].encode(), dst[0].encode(),
                                            src[1], dst[1])


def v2(src=CLIENT, dst=("127.0.0.1", 1234), cmd=0x21, fam=0x11, tlvs=b"",
       crc=False, length=None):
    """A v2 header; with crc, a CRC32C TLV over the whole header."""
    body = b""
    if fam == 0x11:
        body = socket.inet_aton(src[0]) + socket.inet_aton(dst[0]) + \
            struct.pack("!HH", src[1], dst[1])
    body += tlvs
    if crc:
        body += b"\x03\x00\x04\x00\x00\x00\x00"
    n = len(body) if length is None else length
    h = V2_SIG + bytes([cmd, fam]) + struct.pack("!H", n) + body
    if crc:
        h = h[:-4] + struct.pack("!I", crc32c(h))
    return h


def listen(*groups):
    """server.listen from dicts of one group's settings each."""
    out = []
    for g in groups:
        g = dict(g)
        g.setdefault("address", "127.0.0.1")
        g.setdefault("port", 0)
        out.append("{ " + " ".join("%s = %s;" % (k, harness.conf_value(v))
                                   for k, v in g.items()) + " }")
    return Raw("( " + ", ".join(out) + " )")


def conf(*groups, **settings):
    return server_conf(address=None, port=None, listen=listen(*groups),
                       **settings)


def proxy_group(mode, trusted=("127.0.0.1",)):
    return {"proxy_protocol": mode, "proxy_trusted": list(trusted)}


def ports(d, n=1):
    """{mode: port} of the daemon's n listeners, "none" for a plain one,
    once it has logged them all."""
    harness.wait_for(lambda: len(LISTEN_RE.findall(d.log_text())) >= n, 5,
                     "%d listening lines" % n)
    got = {}
    for m in LISTEN_RE.finditer(d.log_text()):
        got[m.group(3) or "none"] = int(m.group(1))
    return got


def exchange(port, data, timeout=5):
    """Send data, half-close, return all that comes back."""
    s = connect(port, timeout=timeout)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_until_eof(s, timeout)
    finally:
        s.close()


def test_v2_header_and_data_in_one_segment():
    with Daemon(conf(proxy_group("v2"))) as d:
        p = ports(d)["v2"]
        check_eq(exchange(p, v2() + b"a\nb\n"), b"0a\n1b\n", "replies")
        m = d.wait_log(r"conn (\d+) closed peer=203\.0\.113\.7:5555 "
                       r"via=127\.0\.0\.1:(\d+) messages=2 in=4 out=6 ")
        d.wait_log(r"conn %s open peer=203\.0\.113\.7:5555 via=127\.0\.0\.1:%s\n"
                   % (m.group(1), m.group(2)))


def test_v2_then_data_later():
    with Daemon(conf(proxy_group("v2"))) as d:
        s = connect(ports(d)["v2"])
        s.sendall(v2())
        time.sleep(0.1)
        s.sendall(b"x\n")
        check_eq(read_lines(s, 1), [b"0x"], "reply")
        s.sendall(b"y\nbye\n")
        check_eq(recv_until_eof(s), b"1y\n", "after bye")
        s.close()


def test_split_one_byte_at_a_time():
    for mode, header in (("v2", v2(crc=True)), ("v1", v1()),
                         ("any", v2()), ("any", v1())):
        with Daemon(conf(proxy_group(mode))) as d:
            s = connect(ports(d)[mode])
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(header)):
                s.sendall(header[i:i + 1])
                time.sleep(0.002)
            s.sendall(b"m\n")
            check_eq(read_lines(s, 1), [b"0m"], "%s reply" % mode)
            s.close()
            d.wait_log(r"closed peer=203\.0\.113\.7:5555 via=\S+ messages=1 "
                       r"in=2 ")


def test_v1_and_any():
    with Daemon(conf(proxy_group("v1"), proxy_group("any"))) as d:
        p = ports(d, 2)
        check_eq(exchange(p["v1"], v1() + b"a\n"), b"0a\n", "v1")
        check_eq(exchange(p["any"], v1() + b"b\n"), b"0b\n", "any, v1")
        check_eq(exchange(p["any"], v2() + b"c\n"), b"0c\n", "any, v2")
        harness.wait_for(lambda: len(d.log_lines(
            r"closed peer=203\.0\.113\.7:5555 via=")) == 3, 5, "3 close lines")


def test_tlvs_and_crc32c():
    with Daemon(conf(proxy_group("v2"))) as d:
        p = ports(d)["v2"]
        tlvs = b"\x05\x00\x03abc" + b"\x04\x00\x02\x00\x00"   # unique id, noop
        check_eq(exchange(p, v2(tlvs=tlvs, crc=True) + b"a\n"), b"0a\n",
                 "TLVs, CRC32C")
        d.wait_log(r"closed peer=203\.0\.113\.7:5555 via=\S+ messages=1 ")


def test_local_and_unknown_keep_the_socket_addresses():
    with Daemon(conf(proxy_group("any"))) as d:
        p = ports(d)["any"]
        # An AWS NLB health check: LOCAL, TCP6, an address block and TLVs,
        # length 84.
        nlb = V2_SIG + b"\x20\x21" + struct.pack("!H", 84) + b"\x00" * 36 + \
            b"\x04\x00\x2d" + b"\x00" * 45
        check_eq(len(nlb), 16 + 84, "NLB header length")
        for header in (v2(cmd=0x20, fam=0x00), b"PROXY UNKNOWN\r\n",
                       b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", nlb):
            s = connect(p)
            local = s.getsockname()
            s.sendall(header + b"hi\n")
            s.shutdown(socket.SHUT_WR)
            check_eq(recv_until_eof(s), b"0hi\n", "reply after %r" % header)
            s.close()
            d.wait_log(r"closed peer=127\.0\.0\.1:%d via=127\.0\.0\.1:%d "
                       r"messages=1 in=3 " % (local[1], local[1]))


MALFORMED = [
    ("v2", b"GET / HTTP/1.0\r\n\r\n", "bad signature"),
    ("v2", V2_SIG + b"\x11\x11\x00\x0c" + b"\x00" * 12, "bad version"),
    ("v2", V2_SIG + b"\x2f\x11\x00\x0c" + b"\x00" * 12, "bad command"),
    ("v2", V2_SIG + b"\x21\x41\x00\x0c" + b"\x00" * 12, "bad family"),
    ("v2", V2_SIG + b"\x21\x11\x10\x01", "length over 4096"),
    ("v2", v2(crc=True)[:-1] + bytes([v2(crc=True)[-1] ^ 1]),
     "CRC32C mismatch"),
    ("v2", v1(), "v1 header on a v2 listener"),
    ("v1", b"PROXY TCP4 " + b"1" * 100 + b"\r\n", "v1 header over 107 bytes"),
    ("v1", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "v1 header without CRLF"),
    ("v1", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx", "v1 header without CRLF"),
    ("v1", v2(), "v2 header on a v1 listener"),
    ("any", b"hello\n", "bad signature"),
]


def test_malformed_closed_without_reply():
    groups = [proxy_group(m) for m in ("v1", "v2", "any")]
    with Daemon(conf(*groups)) as d:
        p = ports(d, 3)
        for mode, header, why in MALFORMED:
            mark = d.mark()
            s = connect(p[mode])
            s.sendall(header + b"data\n")
            expect_closed(s)
            s.close()
            d.wait_log(r"conn \d+ closed peer=127\.0\.0\.1:\d+ messages=0 "
                       r"in=0 out=0 \S+ first=server reason=proxy proxy: %s\n"
                       % re.escape(why), since=mark)
        mark = d.mark()
        d.signal(signal.SIGUSR1)
        line = d.wait_log(r"stats [^\n]*", since=mark).group(0)
        check(" proxy=%d" % len(MALFORMED) in line, "proxy= in %r" % line)
        check(not d.log_lines(r" open peer="), "an open line for a bad header")


def test_timeout():
    with Daemon(conf(proxy_group("v2"), proxy_timeout=1)) as d:
        s = connect(ports(d)["v2"])
        s.sendall(v2()[:10])
        start = time.monotonic()
        expect_closed(s, timeout=5)
        took = time.monotonic() - start
        s.close()
        check(0.8 <= took <= 3, "closed after %.2fs, want about 1" % took)
        d.wait_log(r"reason=proxy proxy: no whole header within 1s")


def test_untrusted_source():
    with Daemon(conf(proxy_group("v2", trusted=["127.0.0.1"]))) as d:
        p = ports(d)["v2"]
        s = socket.socket()
        s.settimeout(5)
        try:
            s.bind(("127.0.0.2", 0))
        except OSError as e:
            harness.skip("cannot bind 127.0.0.2: %s" % e)
        s.connect(("127.0.0.1", p))
        s.sendall(v2() + b"a\n")
        expect_closed(s)
        s.close()
        d.wait_log(r"closed peer=127\.0\.0\.2:\d+ [^\n]*reason=proxy "
                   r"proxy: untrusted source 127\.0\.0\.2\n")
        check_eq(exchange(p, v2() + b"b\n"), b"0b\n", "a trusted source")


def test_health_checks_counted_not_logged():
    with Daemon(conf(proxy_group("v2"))) as d:
        p = ports(d)["v2"]
        s = connect(p)                          # HAProxy's v2 check: FIN
        s.sendall(v2(cmd=0x20, fam=0x00))
        s.shutdown(socket.SHUT_WR)
        check_eq(recv_until_eof(s), b"", "nothing for a check")
        s.close()
        s = connect(p)                          # with addresses, then RST
        s.sendall(v2())
        time.sleep(0.1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()
        check_eq(exchange(p, v2() + b"a\n"), b"0a\n", "a client")
        d.wait_log(r"closed peer=203\.0\.113\.7:5555 via=\S+ messages=1 ")

        def checks():
            mark = d.mark()
            d.signal(signal.SIGUSR1)
            line = d.wait_log(r"stats [^\n]*", since=mark).group(0)
            m = re.search(r"proxy_health_checks=(\d+)", line)
            check(m is not None, "no proxy_health_checks= in %r" % line)
            return int(m.group(1)) == 2 and line
        line = harness.wait_for(checks, 5, "2 health checks")
        check(" proxy=0" in line, "health checks as errors: %r" % line)
        check(" eof=1 " in line, "only the client at eof: %r" % line)
        check_eq(len(d.log_lines(r"conn \d+ (open|closed)")), 2,
                 "info lines (only the client's open and close)")


def test_plain_listener_beside_a_proxy_one():
    with Daemon(conf({}, proxy_group("v2"))) as d:
        p = ports(d, 2)
        check(p.get("none") and p.get("v2") and p["none"] != p["v2"],
              "two listeners: %r" % p)
        check_eq(exchange(p["none"], b"a\n"), b"0a\n", "plain")
        check_eq(exchange(p["v2"], v2() + b"b\n"), b"0b\n", "proxy")
        d.wait_log(r"closed peer=127\.0\.0\.1:\d+ messages=1 in=2 ")
        d.wait_log(r"closed peer=203\.0\.113\.7:5555 via=")
        check(not d.log_lines(r"peer=127\.0\.0\.1:\d+ via="),
              "via= on the plain listener")
        # A header on the plain listener is only data.
        check_eq(exchange(p["none"], b"PROXY UNKNOWN\r\n"),
                 b"0PROXY UNKNOWN\n", "plain listener echoes a header")


def test_reload_changes_the_mode():
    with Daemon(conf({"port": harness.free_port()})) as d:
        port = d.port
        old = connect(port)
        old.sendall(b"a\n")
        check_eq(read_lines(old, 1), [b"0a"], "plain before")
        g = proxy_group("v1")
        g["port"] = port
        d.reload(conf(g))
        d.wait_log(r"options of 127\.0\.0\.1:%d now: proxy=v1" % port)
        check_eq(exchange(port, v1() + b"b\n"), b"0b\n", "v1 after")
        old.sendall(b"c\n")
        check_eq(read_lines(old, 1), [b"1c"], "open connection kept")
        old.close()


def test_data_read_with_the_header():
    """What came in the header's segment is read with it and goes to the
    framer: after a v1 line, more than one read of the header's takes
    after v2, and with segment framing the segment less the header is
    the first message."""
    with Daemon(conf(proxy_group("v1"))) as d:
        check_eq(exchange(ports(d)["v1"], v1() + b"a\nb\n"), b"0a\n1b\n",
                 "v1 replies")
        d.wait_log(r"closed peer=203\.0\.113\.7:5555 via=\S+ messages=2 "
                   r"in=4 ")
    lines = [b"%05d" % i for i in range(2000)]
    with Daemon(conf(proxy_group("v2"))) as d:
        got = exchange(ports(d)["v2"], v2() + b"".join(l + b"\n"
                                                     for l in lines))
        check_eq(got, b"".join(b"%d%s\n" % (i, l)
                               for i, l in enumerate(lines)),
                 "12000 bytes after v2")
        d.wait_log(r"closed peer=203\.0\.113\.7:5555 via=\S+ "
                   r"messages=2000 in=12000 ")
    with Daemon(conf(proxy_group("v2"), framing="segment")) as d:
        check_eq(exchange(ports(d)["v2"], v2() + b"hello"), b"0hello",
                 "segment after v2")


harness.main(globals())
