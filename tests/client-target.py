#!/usr/bin/env python3
"""client-target: where seqecho connects, and how long it tries: the
arguments, else -c FILE's client group, else 127.0.0.1 1234; -t over
client.connect_timeout; names resolved, IPv6 too.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import shutil
import socket
import subprocess
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


def in_private_hosts(hosts, argv):
    """Run argv (seqecho's arguments) with hosts as /etc/hosts, in a mount
    namespace of its own (unshare -m, root only), and with a gai.conf that
    ranks 127.0.0.7 first, since getaddrinfo sorts the addresses (RFC 6724)
    and would otherwise put 127.0.0.1 before it. Returns (rc, out, err)."""
    if os.geteuid() != 0:
        harness.skip("a private /etc/hosts needs root (unshare -m)")
    if shutil.which("unshare") is None:
        harness.skip("no unshare(1)")
    if not os.path.exists("/etc/gai.conf"):
        harness.skip("no /etc/gai.conf to stand in for: the address order "
                     "cannot be set")
    gai = write_file("precedence ::ffff:127.0.0.7/128 100\n"
                     "precedence ::1/128 50\nprecedence ::/0 40\n"
                     "precedence 2002::/16 30\nprecedence ::/96 20\n"
                     "precedence ::ffff:0:0/96 10\n")
    script = ('mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/gai.conf'
              ' && shift 2 && exec "$@"')
    cmd = ["unshare", "-m", "sh", "-c", script, "sh", write_file(hosts), gai]
    probe = subprocess.run(cmd + ["true"], capture_output=True, text=True,
                           timeout=harness.t(10))
    if probe.returncode != 0:
        harness.skip("no private mount namespace here: %s" % probe.stderr.strip())
    p = subprocess.run(cmd + [harness.seqecho_path()] + argv, input=b"x\n",
                       capture_output=True, timeout=harness.t(10))
    err = p.stderr.decode(errors="replace")
    harness._check_sanitizer(err, "seqecho " + " ".join(argv))
    return p.returncode, p.stdout, err


def test_each_address_in_turn():
    # A name whose first address is dead (nothing on 127.0.0.7 at the
    # daemon's port) and whose second is the daemon's: the client falls
    # through to the second, and -v says the first was refused.
    hosts = "127.0.0.7 multi.test\n127.0.0.1 multi.test\n"
    with Daemon() as d:
        rc, out, err = in_private_hosts(hosts, ["multi.test", str(d.port)])
        check_eq((rc, out, err), (0, b"0x\n", ""), "after 127.0.0.7 refused")
        rc, out, err = in_private_hosts(hosts, ["-v", "multi.test", str(d.port)])
        check_eq((rc, out), (0, b"0x\n"), "rc, stdout with -v")
        lines = err.splitlines()
        check_eq(lines[0], "seqecho: connect 127.0.0.7:%d: Connection refused"
                 % d.port, "the first address tried")
        check(lines[1].startswith("seqecho: connected: 127.0.0.1:%d ESTABLISHED"
                                  % d.port), "then the second: %r" % err)


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
    """A listener whose queue is full, so a connect to it just waits.

    Connections are made until one hangs: those that complete fill the
    queue (Linux takes backlog + 1), and the first that waits shows it is
    full. Where none ever waits (not every stack drops the SYN), skip.
    """
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    socks = [ls]
    for _ in range(8):
        probe = socket.socket()
        probe.settimeout(harness.t(0.5))
        try:
            probe.connect(("127.0.0.1", port))
        except socket.timeout:
            probe.close()
            return port, socks
        except OSError:
            probe.close()
            break
        socks.append(probe)
    for s in socks:
        s.close()
    harness.skip("a full listen queue does not stall connect here")


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
