#!/usr/bin/env python3
"""client-exit: every exit code of seqecho and the one line on stderr that
goes with it: 0 at a clean end, 1 when it cannot connect, when the server
sends ERR or closes with replies owed, and on bad usage; 130 on SIGINT.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import Daemon, check, check_eq, free_port, run_client, \
    server_conf, write_file


def fake_server(handler):
    """A one-connection server on a thread; returns (port, join)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(harness.t(10))

    def run():
        try:
            s, _ = ls.accept()
            s.settimeout(harness.t(10))
            handler(s)
            s.close()
        finally:
            ls.close()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return ls.getsockname()[1], lambda: th.join(harness.t(10))


def read_lines_from(s, n):
    buf = b""
    while buf.count(b"\n") < n:
        b = s.recv(4096)
        if not b:
            break
        buf += b
    return buf


def test_clean_end_is_0():
    with Daemon() as d:
        rc, out, err = run_client(["127.0.0.1", str(d.port)], b"x\n")
        check_eq((rc, out, err), (0, b"0x\n", ""), "rc, stdout, stderr")


def test_connection_refused():
    p = free_port()
    rc, out, err = run_client(["127.0.0.1", str(p)], b"x\n")
    check_eq((rc, out, err),
             (1, b"", "seqecho: connect 127.0.0.1:%d: Connection refused\n" % p),
             "rc, stdout, stderr")


def test_unknown_host():
    rc, out, err = run_client(["no-such-host.invalid", "1234"], b"", timeout=30)
    check_eq((rc, out), (1, b""), "rc, stdout")
    check(err.startswith("seqecho: no-such-host.invalid: ") and
          err.count("\n") == 1, "stderr %r" % err)


def test_err_line_too_long():
    # Replies before the ERR are printed; the ERR goes to stderr; exit 1.
    with Daemon(server_conf(max_line=10)) as d:
        rc, out, err = run_client(["127.0.0.1", str(d.port)],
                                  b"short\n0123456789abc\nmore\n")
        check_eq((rc, out, err), (1, b"0short\n", "seqecho: ERR line too long\n"),
                 "rc, stdout, stderr")


def test_err_idle_timeout():
    # stdin stays open, so only the server can end this.
    with Daemon(server_conf(idle_timeout=1)) as d:
        p = subprocess.Popen([harness.seqecho_path(), "127.0.0.1", str(d.port)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.stdin.write(b"x\n")
            p.stdin.flush()
            out, err = p.stdout.read(), p.stderr.read()
            rc = p.wait(harness.t(10))
        finally:
            p.stdin.close()
            if p.poll() is None:
                p.kill()
                p.wait()
        check_eq((rc, out, err),
                 (1, b"0x\n", b"seqecho: ERR idle timeout\n"), "rc, stdout, stderr")


def read_until_eof(s):
    buf = b""
    while True:
        b = s.recv(4096)
        if not b:
            return buf
        buf += b


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_server_closes_with_replies_owed():
    def handler(s):
        read_until_eof(s)
        s.sendall(b"0a\n")      # one of three replies, then close

    port, join = fake_server(handler)
    rc, out, err = run_client(["127.0.0.1", str(port)], b"a\nb\nc\n")
    join()
    check_eq((rc, out), (1, b"0a\n"), "rc, stdout (stderr %r)" % err)
    check_eq(err, "seqecho: 127.0.0.1:%d closed the connection with 2 replies "
             "owed\n" % port, "stderr")


def test_server_closes_mid_reply():
    def handler(s):
        read_until_eof(s)
        s.sendall(b"0a")        # no LF: the reply is cut off

    port, join = fake_server(handler)
    rc, out, err = run_client(["127.0.0.1", str(port)], b"a\n")
    join()
    check_eq((rc, out), (1, b"0a"), "rc, stdout (stderr %r)" % err)
    check_eq(err, "seqecho: 127.0.0.1:%d closed the connection with 1 reply "
             "owed\n" % port, "stderr")


def test_server_closes_nothing_owed():
    def handler(s):
        read_until_eof(s)
        s.sendall(b"0a\n")

    port, join = fake_server(handler)
    rc, out, err = run_client(["127.0.0.1", str(port)], b"a\n")
    join()
    check_eq((rc, out, err), (0, b"0a\n", ""), "rc, stdout, stderr")


def scripted_server(replies):
    """A server that reads the whole session (to bye or EOF), then sends
    replies as they are and closes; returns (port, join)."""
    def handler(s):
        buf = b""
        while not (buf.startswith(b"bye\n") or b"\nbye\n" in buf):
            b = s.recv(4096)
            if not b:
                break
            buf += b
        s.sendall(replies)

    return fake_server(handler)


def scripted_session(replies, stdin):
    """seqecho against scripted_server(replies); returns (port, rc, out, err)."""
    port, join = scripted_server(replies)
    rc, out, err = run_client(["127.0.0.1", str(port)], stdin)
    join()
    return port, rc, out, err


def wrong_reply(replies, stdin, want_out, want_err):
    """A wrong reply: exit 1, stdout want_out, and one line on stderr."""
    port, rc, out, err = scripted_session(replies, stdin)
    check_eq((rc, out, err), (1, want_out, "seqecho: 127.0.0.1:%d: %s\n"
                              % (port, want_err)), "rc, stdout, stderr")


def test_reply_not_owed_is_1():
    # One message, two replies: the extra one is printed, then exit 1.
    wrong_reply(b"0hello\n1extra\n", b"hello\n", b"0hello\n1extra\n",
                "reply serial 1 not owed (1 sent)")


def test_serial_out_of_order_is_1():
    wrong_reply(b"0hello\n2world\n", b"hello\nworld\n", b"0hello\n2world\n",
                "reply serial 2 out of order, expected 1")


def test_serial_repeated_is_1():
    # The same serial twice: the first error stops the client, so the
    # replies after it are not printed.
    wrong_reply(b"0a\n0b\n1c\n", b"a\nb\nc\n", b"0a\n0b\n",
                "reply serial 0 out of order, expected 1")


def test_reply_without_serial_is_1():
    wrong_reply(b"0a\nb\n", b"a\nb\n", b"0a\nb\n",
                "reply without a serial, expected 1")


def test_serials_in_order_are_0():
    # Messages that begin with digits, and serials past one digit: reply k
    # begins with k, whatever follows it.
    n = 12
    msgs = b"".join(b"%d\n" % (i * 7) for i in range(n))
    want = b"".join(b"%d%d\n" % (i, i * 7) for i in range(n))
    _, rc, out, err = scripted_session(want, msgs)
    check_eq((rc, out, err), (0, want, ""), "rc, stdout, stderr")
    with Daemon(server_conf(separator=":")) as d:
        rc, out, err = run_client(["127.0.0.1", str(d.port)], msgs)
        want = b"".join(b"%d:%d\n" % (i, i * 7) for i in range(n))
        check_eq((rc, out, err), (0, want, ""),
                 "rc, stdout, stderr against the daemon")


def test_server_resets_with_replies_owed():
    def handler(s):
        read_lines_from(s, 2)
        reset(s)

    port, join = fake_server(handler)
    rc, out, err = run_client(["127.0.0.1", str(port)], b"a\nb\n")
    join()
    check_eq((rc, out), (1, b""), "rc, stdout (stderr %r)" % err)
    check_eq(err, "seqecho: 127.0.0.1:%d reset the connection with 2 replies "
             "owed\n" % port, "stderr")


def test_server_resets_nothing_owed():
    # Every reply is in: a server closing with our bye unread is sloppy,
    # but nothing was lost. The server resets only once seqecho has
    # printed both replies.
    printed = threading.Event()

    def handler(s):
        read_lines_from(s, 2)
        s.sendall(b"0a\n1b\n")
        check(printed.wait(harness.t(10)), "replies not printed")
        reset(s)

    port, join = fake_server(handler)
    p = subprocess.Popen([harness.seqecho_path(), "127.0.0.1", str(port)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"a\nb\n")
        p.stdin.flush()
        out = p.stdout.readline() + p.stdout.readline()
        printed.set()
        out += p.stdout.read()
        err = p.stderr.read()
        rc = p.wait(harness.t(10))
    finally:
        printed.set()
        p.stdin.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    join()
    check_eq((rc, out, err), (0, b"0a\n1b\n", b""), "rc, stdout, stderr")


def test_sigint_is_130():
    with Daemon() as d:
        p = subprocess.Popen([harness.seqecho_path(), "127.0.0.1", str(d.port)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.stdin.write(b"x\n")
            p.stdin.flush()
            check_eq(p.stdout.readline(), b"0x\n", "reply")
            p.send_signal(signal.SIGINT)
            rc = p.wait(harness.t(5))
            err = p.stderr.read()
        finally:
            p.stdin.close()
            if p.poll() is None:
                p.kill()
                p.wait()
        check_eq(rc, 130, "exit code (stderr %r)" % err)


def test_stdout_closed_is_sigpipe():
    # seqecho | head -1: like any filter, seqecho dies of SIGPIPE.
    with Daemon() as d:
        data = b"".join(b"line %d\n" % i for i in range(200000))
        p = subprocess.Popen([harness.seqecho_path(), "127.0.0.1", str(d.port)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        def feed():
            try:
                p.stdin.write(data)
                p.stdin.close()
            except BrokenPipeError:
                pass

        th = threading.Thread(target=feed, daemon=True)
        try:
            th.start()
            check_eq(p.stdout.readline(), b"0line 0\n", "first reply")
            p.stdout.close()
            rc = p.wait(harness.t(10))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check_eq(rc, -signal.SIGPIPE, "exit status")


def test_stdout_full():
    if not os.path.exists("/dev/full"):
        harness.skip("no /dev/full")
    with Daemon() as d, open("/dev/full", "wb") as full:
        p = subprocess.run([harness.seqecho_path(), "127.0.0.1", str(d.port)],
                           input=b"x\n", stdout=full, stderr=subprocess.PIPE,
                           timeout=harness.t(10))
        check_eq((p.returncode, p.stderr),
                 (1, b"seqecho: stdout: No space left on device\n"), "rc, stderr")


def test_usage_errors():
    cases = [["-x", "fin"], ["-x"], ["-t", "0"], ["-t", "3601"], ["-t", "1s"],
             ["127.0.0.1", "0"], ["127.0.0.1", "65536"], ["127.0.0.1", "12ab"],
             ["a", "1", "extra"], ["-Z"], ["-c"]]
    for args in cases:
        rc, out, err = run_client(args, b"x\n")
        what = "seqecho %s" % " ".join(args)
        check_eq((rc, out), (1, b""), "rc, stdout of %s (stderr %r)" % (what, err))
        check(err.strip() != "", "nothing on stderr for %s" % what)


def test_help_and_version():
    rc, out, err = run_client(["-h"])
    check_eq(rc, 0, "exit code of -h")
    check(out.startswith(b"usage: seqecho "), "usage %r" % out)
    for opt in (b"-c", b"-t", b"-x", b"host", b"port"):
        check(opt in out, "usage lacks %r: %r" % (opt, out))
    rc, out, err = run_client(["-V"])
    check_eq(rc, 0, "exit code of -V")
    check(re.match(rb"^seqecho \d+\.\d+\.\d+\n$", out), "version %r" % out)


def test_bad_config_file():
    path = write_file("client:\n{\n  port = 0;\n};\n")
    rc, out, err = run_client(["-c", path], b"x\n")
    check_eq((rc, out), (1, b""), "rc, stdout")
    check_eq(err, "seqecho: %s:3: port: must be 1..65535\n" % path, "stderr")
    rc, out, err = run_client(["-c", path + ".missing"], b"x\n")
    check_eq((rc, out), (1, b""), "rc, stdout")
    check(path + ".missing" in err, "stderr %r" % err)


harness.main(globals())
