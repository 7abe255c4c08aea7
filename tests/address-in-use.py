#!/usr/bin/env python3
"""address-in-use: a port already taken is one clear line and exit 1.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import socket

import harness
from harness import Daemon, check, check_eq, run_daemon, send_recv_all, \
    server_conf, write_file


def test_second_daemon():
    with Daemon() as d:
        p = d.port
        path = write_file(server_conf(port=p))
        rc, out, err = run_daemon(["-c", path], timeout=5)
        check_eq(rc, 1, "exit code (stderr %r)" % err)
        want = "bind 127.0.0.1:%d: Address already in use" % p
        check(want in err, "want %r in stderr %r" % (want, err))
        check("listening on" not in err, "second daemon said it listens: %r" % err)
        check_eq(send_recv_all(d.port, b"x\n"), b"0x\n", "first daemon still serving")


def test_port_option_in_use():
    with Daemon() as d:
        rc, out, err = run_daemon(["-c", write_file(server_conf()),
                                   "-p", str(d.port)], timeout=5)
        check_eq(rc, 1, "exit code (stderr %r)" % err)
        want = "bind 127.0.0.1:%d: Address already in use" % d.port
        check(want in err, "want %r in stderr %r" % (want, err))


def test_other_program_holds_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    p = s.getsockname()[1]
    try:
        rc, out, err = run_daemon(["-c", write_file(server_conf(port=p))], timeout=5)
        check_eq(rc, 1, "exit code (stderr %r)" % err)
        want = "bind 127.0.0.1:%d: Address already in use" % p
        check(want in err, "want %r in stderr %r" % (want, err))
        check_eq(len([l for l in err.splitlines() if want in l]), 1,
                 "error lines on stderr %r" % err)
        check("listening on" not in err, "said it listens: %r" % err)
    finally:
        s.close()


harness.main(globals())
