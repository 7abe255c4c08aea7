#!/usr/bin/env python3
"""bad-configs: every bad configuration file of libconfig 1.5's known
traps makes seqechod exit 1 with FILE:LINE: on stderr (or the file and
the cause, for a file that cannot be read), having bound nothing: it runs
with -p PORT, PORT is probed while it runs and must stay free. Where
libconfig's own message names no setting or the wrong line (a setting
given twice, a string never closed), the daemon's names both; and an
address that cannot be bound is refused at its line, before any bind.

test_wrapped_numbers holds the files the config fuzzer (tests/fuzz/
fuzz_config.c) found accepted with a number silently wrapped: an integer
too big for libconfig 1.5, written where a search of the setting's source
line for the first "NAME =" would miss it (src/confscan.c reads every
literal instead).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import socket
import subprocess
import time

import stresslib
import harness
from harness import Raw, check, check_eq, server_conf, write_file

# (name, text, line, setting): the error must name FILE:LINE: (and
# SETTING:, when not None).
PITFALLS = [
    ("unknown key", server_conf(prot=1234), 5, "prot"),
    ("port = 1234.0", server_conf(port=Raw("1234.0")), 3, "port"),
    ("port = \"1234\"", server_conf(port="1234"), 3, "port"),
    ("port = 70000", server_conf(port=70000), 3, "port"),
    ("port = -1", server_conf(port=-1), 3, "port"),
    ("port = 4294968530 (wraps to 1234)", server_conf(port=Raw("4294968530")),
     3, "port"),
    ("port = 4294967296 (wraps to 0)", server_conf(port=Raw("4294967296")), 3,
     "port"),
    ("port = 0xFFFFFFFF (wraps to -1)", server_conf(port=Raw("0xFFFFFFFF")), 3,
     "port"),
    ("port = 0x1000004D2 (wraps to 1234)", server_conf(port=Raw("0x1000004D2")),
     3, "port"),
    ("port = 4294968530L", server_conf(port=Raw("4294968530L")), 3, "port"),
    ("duplicate setting", "server:\n{\n  port = 1;\n  port = 1;\n};\n", 4,
     "port"),
    ("duplicate group", "server:\n{\n  port = 1;\n};\nserver:\n{\n  port = 2;\n};\n",
     5, "server"),
    ("syntax error", "server:\n{\n  port = ;\n};\n", 3, None),
    ("unterminated group", "server:\n{\n  port = 1;\n", None, None),
    ("unterminated string",
     "server:\n{\n  separator = \"x;\n  port = 1;\n};\n\n\n", 3, "separator"),
    ("unterminated comment", "server:\n{\n  /* port = 1;\n};\n\n", 3, None),
    ("address \"\"", server_conf(address=""), 4, "address"),
    ("address 999.1.1.1", server_conf(address="999.1.1.1"), 4, "address"),
    ("address twice", server_conf(address=["127.0.0.1", "127.0.0.1"]), 4,
     "address"),
    ("address and *", server_conf(address=["*", "127.0.0.1"]), 4, "address"),
]

# Once accepted with the number wrapped (see the docstring): each must
# be refused like the cases above.
WRAPPED = [
    ("name and value on two lines", "server:\n{\n  port\n    = 4294968530;\n};\n"),
    ("both groups on one line",
     "server = { port = 1234; }; client = { port = 4294968530; };\n"),
    ("an earlier string on the line",
     "server = { separator = \"port = 1234\"; port = 4294968530; };\n"),
    ("an earlier comment on the line",
     "server = { /* port = 1234 */ port = 0x1000004D2; };\n"),
    ("no space before the name",
     "server:\n{\n  idle_timeout = 1max_line = 4294967297;\n};\n"),
]


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def start(path, port, preexec_fn=None):
    """Run seqechod -c path -p port; while it runs, probe the port. Returns
    (rc, stderr, bound), the daemon killed if it is still running after
    3 s (it accepted the file)."""
    argv = harness.seqechod_wrapper() + [harness.seqechod_path(), "-c", path,
                                         "-p", str(port)]
    err_path = write_file(b"", suffix=".err")
    with open(err_path, "wb") as err:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err,
                             stderr=err, preexec_fn=preexec_fn)
    bound = False
    deadline = time.monotonic() + harness.t(3)
    while p.poll() is None and time.monotonic() < deadline and not bound:
        try:
            harness.connect(port, timeout=0.2).close()
            bound = True
        except OSError:
            time.sleep(0.02)
    if p.poll() is None:
        p.terminate()
        p.wait()
    with open(err_path, "rb") as f:
        text = f.read().decode(errors="replace")
    harness._check_sanitizer(text, " ".join(argv))
    return p.returncode, text, bound


def expect_refused(name, path, line, preexec_fn=None, cause=None,
                   setting=None):
    """None if seqechod refused the file properly, else what went wrong."""
    port = harness.free_port()
    rc, err, bound = start(path, port, preexec_fn)
    problems = []
    if rc != 1:
        problems.append("exit %s" % rc)
    if bound or "listening on" in err:
        problems.append("it bound port %d" % port)
    if not port_free(port):
        problems.append("port %d not free afterwards" % port)
    if line is not None and "%s:%d: " % (path, line) not in err:
        problems.append("no %s:%d: in stderr" % (path, line))
    if setting is not None and "%s:%d: %s: " % (path, line, setting) not in err:
        problems.append("no %s:%d: %s: in stderr" % (path, line, setting))
    if line is None and cause is None and not any(
            l.startswith(path + ":") or (" " + path + ":") in l
            for l in err.splitlines()):
        problems.append("no %s:LINE: in stderr" % path)
    if cause is not None and (path not in err or cause not in err):
        problems.append("want %s and %r in stderr" % (path, cause))
    if problems:
        return "%s: %s; stderr begins: %r" % (
            name, ", ".join(problems), "\n".join(err.splitlines()[:3]))
    print("refused: %-40s %s" % (name, err.strip().splitlines()[-1]
                                  if err.strip() else ""))
    return None


def test_pitfalls_bad_configs():
    failed = []
    for name, text, line, setting in PITFALLS:
        e = expect_refused(name, write_file(text), line, setting=setting)
        if e:
            failed.append(e)
    check(not failed, "\n".join(failed))


def test_directory():
    d = os.path.join(harness.tmpdir(), "a-directory.conf")
    os.mkdir(d)
    e = expect_refused("a directory", d, None, cause="Is a directory")
    check(e is None, e)


def as_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def test_unreadable_file():
    path = write_file(server_conf())
    os.chmod(path, 0)
    preexec = None
    if os.geteuid() == 0:
        # root reads any file: run the daemon as nobody instead, if nobody
        # may run it and reach the file.
        os.chmod(harness.tmpdir(), 0o711)
        for p in (harness.seqechod_path(), path):
            d = os.path.dirname(p)
            while d not in ("/", ""):
                if not os.stat(d).st_mode & 0o001:
                    harness.skip("running as root, and nobody cannot reach "
                                 "%s (root reads a chmod 000 file anyway)" % d)
                d = os.path.dirname(d)
        preexec = as_nobody
    e = expect_refused("unreadable file (chmod 000%s)"
                       % (", daemon run as nobody" if preexec else ""),
                       path, None, preexec_fn=preexec, cause="Permission denied")
    check(e is None, e)


def test_wrapped_numbers():
    failed = []
    for name, text in WRAPPED:
        e = expect_refused(name, write_file(text), None)
        if e:
            failed.append(e)
    check(not failed, "%d of %d files with a wrapped number accepted "
          "(src/confscan.c confscan_overflows):\n%s"
          % (len(failed), len(WRAPPED), "\n".join(failed)))


harness.main(globals(), timeout=120)
