#!/usr/bin/env python3
"""bench-detects-errors: against a deliberately wrong server (here, in
Python) seqecho-bench reports each kind of error -- a skipped serial, a
dropped reply, a wrong payload, an early close, an ERR line, a repeated
reply, no close after bye -- counts it once, describes the first, and
exits 1. The same server without a fault passes, so the faults are what
is caught.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import json
import socket
import threading

import harness
from harness import check, check_eq, write_file

FAULT_AT = 5            # the message the fault hits, on every connection
MESSAGES = 40           # -m: 20 a connection, well past FAULT_AT


class WrongServer:
    """A seqecho-like line server on 127.0.0.1 that errs as asked.

    good      as the protocol says
    skip      the reply to message FAULT_AT skips a serial (5 -> 6)
    drop      no reply to message FAULT_AT, and no serial used for it
    payload   the reply to message FAULT_AT has a changed payload
    close     closes (no bye) after FAULT_AT replies
    err       sends an ERR line after FAULT_AT replies, then closes
    repeat    repeats the reply to message FAULT_AT, with its own serial
    noclose   ignores bye, and never closes
    """

    def __init__(self, mode, at=FAULT_AT):
        self.mode = mode
        self.at = at
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        return False

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            self._session(c)
        except OSError:
            pass

    def _session(self, c):
        mode, buf, index, serial = self.mode, b"", 0, 0
        while True:
            data = c.recv(65536)
            if not data:
                break
            buf += data
            *lines, buf = buf.split(b"\n")
            out = []
            for line in lines:
                if line == b"bye":
                    c.sendall(b"".join(out))
                    if mode == "noclose":
                        return self._hold(c)
                    return self._close(c)
                if index == self.at:
                    if mode == "skip":
                        serial += 1
                    elif mode == "drop":
                        index += 1
                        continue
                    elif mode == "payload":
                        line = b"#" + line[1:]
                    elif mode in ("close", "err"):
                        c.sendall(b"".join(out))
                        if mode == "err":
                            c.sendall(b"ERR deliberately wrong\n")
                        return self._close(c)
                    elif mode == "repeat":
                        out.append(b"%d%s\n" % (serial, line))
                        serial += 1
                out.append(b"%d%s\n" % (serial, line))
                serial += 1
                index += 1
            c.sendall(b"".join(out))
        self._close(c)

    def _close(self, c):
        # Half-close first, so no reply is lost to a reset.
        try:
            c.shutdown(socket.SHUT_WR)
            c.settimeout(2)
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()

    def _hold(self, c):
        try:
            c.settimeout(10)
            while c.recv(65536):
                pass
        except OSError:
            pass


STANDARD = ("-n", "2", "-T", "2", "-P", "4", "-s", "16", "-m", str(MESSAGES))


def run(mode, args=STANDARD, at=FAULT_AT, text=False, conf=""):
    """seqecho-bench with args and the configuration conf against a
    WrongServer(mode, at): returns (rc, the JSON report or the text one,
    stderr)."""
    with WrongServer(mode, at) as s:
        argv = ["-c", write_file(conf)] + list(args)
        if not text:
            argv.append("--json")
        argv += ["127.0.0.1", str(s.port)]
        rc, out, err = harness.run_bench(argv, timeout=20)
    if text:
        return rc, out, err
    try:
        return rc, json.loads(out), err
    except ValueError:
        raise harness.Failure("not JSON: %r (stderr %r)" % (out, err))


def expect(mode, kind, count=None, others=(), **kw):
    """The run fails with errors of kind (count of them, if given) and no
    errors of the kinds in others."""
    rc, r, err = run(mode, **kw)
    e = r["errors"]
    check_eq(rc, 1, "exit status (%r)" % e)
    if count is None:
        check(e[kind] >= 1, "no %s in %r" % (kind, e))
    else:
        check_eq(e[kind], count, "%s (all: %r)" % (kind, e))
    for k in others:
        check_eq(e[k], 0, "%s (all: %r)" % (k, e))
    check(kind in r["error_samples"], "no sample of %s: %r" % (kind, r))
    return r


def test_good_server_passes():
    rc, r, err = run("good")
    check_eq(r["errors"]["total"], 0, "errors %r" % r["error_samples"])
    check_eq(r["messages"], MESSAGES, "messages")
    check_eq(rc, 0, "exit status")


def test_skipped_serial():
    r = expect("skip", "wrong_serial", 2,
               ("wrong_payload", "missing_reply", "unexpected_close"))
    check_eq(r["errors"]["total"], 2, "total")
    sample = r["error_samples"]["wrong_serial"]
    check("want serial %d" % FAULT_AT in sample, "sample %r" % sample)
    check_eq(r["messages"], MESSAGES, "messages")


def test_dropped_reply():
    r = expect("drop", "missing_reply", 2,
               ("wrong_serial", "wrong_payload", "unexpected_close"))
    check_eq(r["errors"]["total"], 2, "total")
    check("no reply to message %d" % FAULT_AT in
          r["error_samples"]["missing_reply"], "sample %r" % r)


def test_wrong_payload():
    r = expect("payload", "wrong_payload", 2,
               ("wrong_serial", "missing_reply", "unexpected_close"))
    check_eq(r["errors"]["total"], 2, "total")
    check('got "%d#' % FAULT_AT in r["error_samples"]["wrong_payload"],
          "sample %r" % r["error_samples"])


def test_early_close():
    r = expect("close", "unexpected_close", 2, ("wrong_serial", "wrong_payload"))
    check(r["errors"]["missing_reply"] >= 2, "missing %r" % r["errors"])


def test_err_line():
    r = expect("err", "err_line", 2, ("wrong_serial", "wrong_payload",
                                      "unexpected_close", "missing_reply"))
    check("ERR deliberately wrong" in r["error_samples"]["err_line"],
          "sample %r" % r["error_samples"])


def test_repeated_reply():
    expect("repeat", "extra_reply", 2, ("wrong_serial", "wrong_payload",
                                        "missing_reply"))


def test_no_close_after_bye():
    expect("noclose", "not_closed", 2, ("wrong_serial", "wrong_payload",
                                        "missing_reply", "unexpected_close"))


def test_missing_separator():
    # The server sends no separator where the configuration wants one:
    # every payload is right, every reply wrong.
    r = expect("good", "wrong_payload", MESSAGES,
               ("wrong_serial", "missing_reply", "unexpected_close"),
               conf='server:\n{\n  separator = ": ";\n};\n')
    check_eq(r["errors"]["total"], MESSAGES, "total")
    check('want "0: ' in r["error_samples"]["wrong_payload"],
          "sample %r" % r["error_samples"])


def test_churn_sees_errors():
    r = expect("payload", "wrong_payload", 10, ("wrong_serial",
               "missing_reply", "unexpected_close"),
               args=("--churn", "-n", "2", "-m", "10"), at=0)
    check_eq(r["churned"], 10, "connections")


def test_text_report_names_the_error():
    rc, out, err = run("skip", text=True)
    check_eq(rc, 1, "exit status")
    check("errors      2 (wrong serial 2)" in out, "report %r" % out)
    check("first wrong serial: connection" in out, "report %r" % out)


harness.main(globals())
