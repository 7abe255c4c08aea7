#!/usr/bin/env python3
"""client-target: where seqecho connects, and how long it tries: the
arguments, else -c FILE's client group, else 127.0.0.1 1234; -t over
client.connect_timeout; names resolved, IPv6 too."""

import socket
import time

import harness
from harness import Daemon, check, check_eq, free_port, run_client, \
    server_conf, write_file


def client_conf(**settings):
    lines = ["client:", "{"]
    lines += ["  %s = %s;" % (k, harness.conf_value(v)) for k, v in settings.items()]
    return "\n".join(lines + ["};"]) + "\n"


def test_port_from_file():
    # Two daemons told apart by their separators.
    with Daemon(server_conf(separator="A")) as a, \
            Daemon(server_conf(separator="B")) as b:
        conf = write_file(client_conf(address="127.0.0.1", port=b.port))
        rc, out, err = run_client(["-c", conf], b"x\n")
        check_eq((rc, out, err), (0, b"0Bx\n", ""), "file only")
        rc, out, err = run_client(["-c", conf, "127.0.0.1", str(a.port)], b"x\n")
        check_eq((rc, out, err), (0, b"0Ax\n", ""), "arguments over the file")
        rc, out, err = run_client(["-c", conf, "127.0.0.1"], b"x\n")
        check_eq((rc, out, err), (0, b"0Bx\n", ""), "host argument, file's port")


def test_address_from_file():
    p = free_port()
    conf = write_file(client_conf(address="127.0.0.2", port=p))
    rc, out, err = run_client(["-c", conf], b"x\n")
    check_eq((rc, out, err),
             (1, b"", "seqecho: connect 127.0.0.2:%d: Connection refused\n" % p),
             "file's address")
    rc, out, err = run_client(["-c", conf, "127.0.0.3"], b"x\n")
    check_eq((rc, out, err),
             (1, b"", "seqecho: connect 127.0.0.3:%d: Connection refused\n" % p),
             "argument over the file's address")


def test_defaults():
    # A file with no client group leaves the built-in 127.0.0.1 1234.
    conf = write_file(server_conf(port=1))
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 1234))
    except OSError:
        harness.skip("port 1234 is in use here")
    finally:
        s.close()
    rc, out, err = run_client(["-c", conf], b"x\n")
    check_eq((rc, out, err),
             (1, b"", "seqecho: connect 127.0.0.1:1234: Connection refused\n"),
             "default target")
    with Daemon(server_conf(port=1234, separator="D")):
        rc, out, err = run_client(["-c", conf], b"x\n")
        check_eq((rc, out, err), (0, b"0Dx\n", ""), "default target")


def test_host_name():
    with Daemon() as d:
        rc, out, err = run_client(["localhost", str(d.port)], b"x\n")
        check_eq((rc, out, err), (0, b"0x\n", ""), "localhost")


def test_each_address_in_turn():
    # Only meaningful where localhost has an IPv6 address and it comes first.
    addrs = [a[4][0] for a in socket.getaddrinfo("localhost", 1, type=socket.SOCK_STREAM)]
    if "127.0.0.1" not in addrs or addrs[0] == "127.0.0.1":
        harness.skip("localhost resolves to %r here" % addrs)
    with Daemon() as d:
        rc, out, err = run_client(["localhost", str(d.port)], b"x\n")
        check_eq((rc, out, err), (0, b"0x\n", ""), "after %s refused" % addrs[0])


def test_ipv6():
    if not harness.have_ipv6_loopback():
        harness.skip("no IPv6 loopback")
    with Daemon(server_conf(address="::1")) as d:
        rc, out, err = run_client(["::1", str(d.port)], b"x\n")
        check_eq((rc, out, err), (0, b"0x\n", ""), "::1")
    p = free_port()
    rc, out, err = run_client(["::1", str(p)], b"x\n")
    check_eq((rc, out, err),
             (1, b"", "seqecho: connect [::1]:%d: Connection refused\n" % p),
             "refused on ::1")


def unanswered_port():
    """A listener whose queue is full, so a connect to it just waits."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.2)
    # Check that a connect does hang here (not every stack drops the SYN).
    probe = socket.socket()
    probe.settimeout(0.5)
    try:
        probe.connect(("127.0.0.1", port))
        hangs = False
    except socket.timeout:
        hangs = True
    except OSError:
        hangs = False
    probe.close()
    if not hangs:
        for s in fillers:
            s.close()
        ls.close()
        harness.skip("a full listen queue does not stall connect here")
    return port, [ls] + fillers


def test_connect_timeout():
    port, socks = unanswered_port()
    try:
        conf = write_file(client_conf(connect_timeout=2))
        for args, want in ((["-c", conf], 2.0), (["-c", conf, "-t", "1"], 1.0)):
            start = time.monotonic()
            rc, out, err = run_client(args + ["127.0.0.1", str(port)], b"x\n")
            took = time.monotonic() - start
            check_eq((rc, out, err),
                     (1, b"", "seqecho: connect 127.0.0.1:%d: Connection timed "
                      "out\n" % port), "rc, stdout, stderr")
            check(want - 0.1 <= took <= harness.t(want + 1.5),
                  "%s took %.2fs, want about %.1fs" % (args, took, want))
    finally:
        for s in socks:
            s.close()


harness.main(globals())
