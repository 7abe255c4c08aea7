#!/usr/bin/env python3
"""config-errors: every bad configuration is exit 1 with FILE:LINE: SETTING:
on stderr, having bound nothing; all errors in a file are reported; -t
checks a file and says configuration OK. What binding would find is found
first: an address that does not resolve, or one listed twice, within one
listener or across server.listen's; and what libconfig says without a
setting or at the wrong line (a setting given twice, a string never
closed) is said with both. -a and -p are refused with server.listen.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
"""

import os
import re

import harness
from harness import Raw, check, check_eq, run_daemon, server_conf, \
    write_file

# (name, config text, line, setting, message) -- the error expected (the
# setting None for none).  server_conf writes port on line 3, address on
# line 4 and further settings from 5.
CASES = [
    ("unknown setting", server_conf(prot=1234), 5, "prot", "unknown setting"),
    ("unknown setting, case", server_conf(Port=1), 5, "Port", "unknown setting"),
    ("port real", server_conf(port=Raw("1234.0")), 3, "port", "must be an integer"),
    ("port string", server_conf(port="1234"), 3, "port", "must be an integer"),
    ("port bool", server_conf(port=Raw("true")), 3, "port", "must be an integer"),
    ("port 70000", server_conf(port=70000), 3, "port", "must be 0..65535"),
    ("port 65536", server_conf(port=65536), 3, "port", "must be 0..65535"),
    ("port -1", server_conf(port=-1), 3, "port", "must be 0..65535"),
    ("port wraps to 1234", server_conf(port=Raw("4294968530")), 3, "port",
     "must be 0..65535"),
    ("port wraps to 0", server_conf(port=Raw("4294967296")), 3, "port",
     "must be 0..65535"),
    ("port hex wraps to -1", server_conf(port=Raw("0xFFFFFFFF")), 3, "port", None),
    ("backlog -1", server_conf(backlog=-1), 5, "backlog", None),
    ("max_connections -1", server_conf(max_connections=-1), 5, "max_connections", None),
    ("max_connections string", server_conf(max_connections="10"), 5,
     "max_connections", "must be an integer"),
    ("max_line -1", server_conf(max_line=-1), 5, "max_line", None),
    ("max_line huge", server_conf(max_line=Raw("9999999999")), 5, "max_line", None),
    ("idle_timeout -1", server_conf(idle_timeout=-1), 5, "idle_timeout", None),
    ("idle_timeout real", server_conf(idle_timeout=Raw("1.5")), 5, "idle_timeout",
     "must be an integer"),
    ("separator int", server_conf(separator=5), 5, "separator", None),
    ("separator too long", server_conf(separator="x" * 1000), 5, "separator", None),
    ("framing unknown", server_conf(framing="stream"), 5, "framing", None),
    ("framing int", server_conf(framing=1), 5, "framing", None),
    ("workers -1", server_conf(workers=-1), 5, "workers", None),
    ("log_level unknown", server_conf(log_level="loud"), 5, "log_level", None),
    ("log_level int", server_conf(log_level=2), 5, "log_level", None),
    ("pidfile int", server_conf(pidfile=5), 5, "pidfile", None),
    ("address int", server_conf(address=5), 4, "address", None),
    ("address list of ints", server_conf(address=Raw("[ 1, 2 ]")), 4, "address", None),
    ("unknown group", "# a comment\nsrever:\n{\n  port = 0;\n};\n", 2, "srever",
     "unknown setting"),
    ("client port", "server: { port = 0; };\n\nclient:\n{\n  port = 70000;\n};\n",
     5, "port", None),
    ("client unknown", "client:\n{\n  timeout = 5;\n};\n", 3, "timeout",
     "unknown setting"),
    ("address empty", server_conf(address=""), 4, "address", "must not be empty"),
    ("address 999.1.1.1", server_conf(address="999.1.1.1"), 4, "address",
     "999.1.1.1: not an IPv4 address"),
    ("address bad IPv6", server_conf(address=["::1", "::1:2:3:4:5:6:7:8:9"]), 4,
     "address", "::1:2:3:4:5:6:7:8:9: not an IPv6 address"),
    ("address empty in a list", server_conf(address=["127.0.0.1", ""]), 4,
     "address", "must not be empty"),
    ("address twice", server_conf(address=["127.0.0.1", "127.0.0.1"]), 4,
     "address", "127.0.0.1: listed twice"),
    ("address twice, port 1234",
     server_conf(port=1234, address=["::1", "127.0.0.1", "::1"]), 4,
     "address", "::1: listed twice"),
    ("address twice, two lines",
     server_conf(address=Raw('[ "127.0.0.1",\n    "127.0.0.1" ]')), 5,
     "address", "127.0.0.1: listed twice (the other on line 4)"),
    ("address within *", server_conf(address=["*", "127.0.0.1"]), 4, "address",
     "127.0.0.1: overlaps *"),
    ("address * after ::1",
     server_conf(address=Raw('[ "::1",\n    "*" ]')), 5, "address",
     "*: overlaps ::1 (the other on line 4)"),
    ("port twice", "server:\n{\n  port = 0;\n  port = 1;\n};\n", 4, "port",
     "set twice (first on line 3)"),
    ("port twice in client", "server: { port = 0; };\nclient:\n{\n"
     "  port = 1; address = \"::1\";\n\n  port = 2;\n};\n", 6, "port",
     "set twice (first on line 4)"),
    ("group twice", "server:\n{\n  port = 0;\n};\nserver:\n{\n  port = 0;\n};\n",
     5, "server", "set twice (first on line 1)"),
    ("string never closed",
     "server:\n{\n  separator = \"abc;\n  port = 0;\n};\n\n", 3, "separator",
     "string never closed"),
    ("string closed a line late",
     "server:\n{\n  separator = \"abc;\n  pidfile = \"x\";\n};\n", 3,
     "separator", "string not closed on the line it begins"),
    ("comment never closed",
     "server:\n{\n  /* port = 1;\n  port = 0;\n};\n", 3, None,
     "comment never closed"),
    ("listen not a list", server_conf(listen=5), 5, "listen",
     "must be a list of groups: ( { port = 1234; }, ... )"),
    ("listen of numbers", server_conf(listen=Raw("( 1 )")), 5, "listen",
     "must be a list of groups: ( { port = 1234; }, ... )"),
    ("listen unknown setting", server_conf(listen=Raw("( { prot = 1; } )")),
     5, "prot", "unknown setting"),
    ("listen unknown setting, and a port out of range after it",
     server_conf(listen=Raw("(\n    { port = 1;\n      port2 = 0; },\n"
                            "    { port = 70000; }\n  )")),
     7, "port2", "unknown setting"),
    ("listen port out of range",
     server_conf(listen=Raw("(\n    { port = 1; },\n    { port = 70000; }\n  )")),
     7, "port", "must be 0..65535"),
    ("listen port wraps to 1234",
     server_conf(listen=Raw("( { port = 4294968530; } )")), 5, "port",
     "must be 0..65535"),
    ("listen address int", server_conf(listen=Raw("( { address = 1; } )")),
     5, "address", "must be a string or a list of strings"),
    ("listen proxy_protocol unknown",
     server_conf(listen=Raw('( { proxy_protocol = "v3"; } )')), 5,
     "proxy_protocol", 'must be "none", "v1", "v2" or "any"'),
    ("listen proxy without proxy_trusted",
     server_conf(listen=Raw('( { proxy_protocol = "v2"; } )')), 5,
     "proxy_trusted", "must list the addresses allowed to send a PROXY header "
     'when proxy_protocol is "v2"'),
    ("listen proxy_trusted empty",
     server_conf(listen=Raw('(\n    { proxy_protocol = "any";\n'
                            '      proxy_trusted = [ ]; }\n  )')), 7,
     "proxy_trusted", "must list the addresses allowed to send a PROXY header "
     'when proxy_protocol is "any"'),
    ("listen proxy_trusted bits",
     server_conf(listen=Raw('( { proxy_protocol = "v1";\n'
                            '      proxy_trusted = [ "127.0.0.0/8",\n'
                            '        "10.0.0.0/33" ]; } )')), 7,
     "proxy_trusted", "10.0.0.0/33: prefix length must be 0..32"),
    ("listen proxy_trusted IPv6 bits",
     server_conf(listen=Raw('( { proxy_protocol = "v1"; '
                            'proxy_trusted = "::1/129"; } )')), 5,
     "proxy_trusted", "::1/129: prefix length must be 0..128"),
    ("listen proxy_trusted name",
     server_conf(listen=Raw('( { proxy_protocol = "v1"; '
                            'proxy_trusted = [ "localhost" ]; } )')), 5,
     "proxy_trusted", "localhost: not an address or prefix"),
    ("listen tls", server_conf(listen=Raw("(\n    { port = 0;\n"
                                          "      tls = true; }\n  )")),
     7, "tls", "a tls listener needs tls_certificate and tls_key"),
    ("listen tls int", server_conf(listen=Raw("( { tls = 1; } )")), 5, "tls",
     "must be true or false"),
    ("listen address bad", server_conf(listen=Raw('( { address = "999.1.1.1"; } )')),
     5, "address", "999.1.1.1: not an IPv4 address"),
    ("listen address twice in a group",
     server_conf(listen=Raw('( { address = [ "::1",\n'
                            '      "::1" ]; } )')), 6, "address",
     "::1: listed twice (the other on line 5)"),
    ("listen two groups on one port",
     server_conf(listen=Raw("(\n    { port = 1236; },\n"
                            "    { port = 1236; } )")), 7, "address",
     "127.0.0.1: port 1236 listened on twice (the other on line 6)"),
    ("listen * over another group",
     server_conf(listen=Raw('(\n    { port = 1236; address = "::1"; },\n'
                            '    { port = 1235; },\n'
                            '    { port = 1236; address = "*"; } )')), 8,
     "address", "*: overlaps ::1 on port 1236 (the other on line 6)"),
    ("proxy_timeout 0", server_conf(proxy_timeout=0), 5, "proxy_timeout",
     "must be 1..3600"),
    ("proxy_timeout 3601", server_conf(proxy_timeout=3601), 5, "proxy_timeout",
     "must be 1..3600"),
    ("client proxy_protocol any",
     "client:\n{\n  proxy_protocol = \"any\";\n};\n", 3, "proxy_protocol",
     'must be "none", "v1" or "v2"'),
    ("line after comments",
     "# seqecho.conf\n#\n\n/* block\n   comment */\nserver:\n{\n  // port\n"
     "  port = 0;\n\n  max_line = -5;\n};\n", 11, "max_line", None),
]

# Syntax errors: (name, text, line); the setting is not named.
SYNTAX = [
    ("missing value", "server:\n{\n  port = ;\n};\n", 3),
    ("two values", "server:\n{\n  port = 0;\n  max_line = 10 10;\n};\n", 4),
    ("stray setting", "server:\n{\n  port = 0;\n};\nwhat = ;\n", 5),
]


def expect_error(path, line, setting, msg, extra_args=()):
    rc, out, err = run_daemon(["-c", path] + list(extra_args))
    prefix = "%s:%d: " % (path, line)
    if setting is not None:
        prefix += setting + ": "
    check_eq(rc, 1, "exit code (stderr %r)" % err)
    check(prefix in err, "want %r in stderr %r" % (prefix, err))
    if msg is not None:
        check(prefix + msg in err, "want %r in stderr %r" % (prefix + msg, err))
    check("listening on" not in err, "it listened: %r" % err)
    check("configuration OK" not in out + err, "said OK: %r" % (out + err))
    return err


def test_bad_settings():
    failed = []
    for name, text, line, setting, msg in CASES:
        path = write_file(text)
        try:
            expect_error(path, line, setting, msg)
        except harness.Failure as e:
            failed.append("%s: %s" % (name, e))
    check(not failed, "\n".join(failed))


def test_bad_settings_with_t():
    failed = []
    for name, text, line, setting, msg in CASES:
        path = write_file(text)
        try:
            expect_error(path, line, setting, msg, ["-t"])
        except harness.Failure as e:
            failed.append("%s: %s" % (name, e))
    check(not failed, "\n".join(failed))


def test_syntax_errors():
    failed = []
    for name, text, line in SYNTAX:
        path = write_file(text)
        for extra in ([], ["-t"]):
            try:
                expect_error(path, line, None, None, extra)
            except harness.Failure as e:
                failed.append("%s %s: %s" % (name, extra, e))
    check(not failed, "\n".join(failed))


def test_unterminated():
    path = write_file("server:\n{\n  port = 0;\n")
    rc, out, err = run_daemon(["-c", path])
    check_eq(rc, 1, "exit code (stderr %r)" % err)
    check(path + ":" in err, "want the file in stderr %r" % err)


def test_several_errors_all_reported():
    text = ("server:\n"
            "{\n"
            "  port = 70000;\n"         # 3
            "  max_line = \"big\";\n"   # 4
            "  separator = \":\";\n"    # 5 fine
            "  frmaing = \"line\";\n"   # 6
            "  idle_timeout = -1;\n"    # 7
            "};\n")
    path = write_file(text)
    err = expect_error(path, 3, "port", "must be 0..65535")
    for line, setting in ((4, "max_line"), (6, "frmaing"), (7, "idle_timeout")):
        want = "%s:%d: %s: " % (path, line, setting)
        check(want in err, "want %r in stderr %r" % (want, err))
    check("%s:5:" % path not in err, "the good line 5 reported: %r" % err)


def test_missing_file():
    path = os.path.join(harness.tmpdir(), "does-not-exist.conf")
    for extra in ([], ["-t"]):
        rc, out, err = run_daemon(["-c", path] + extra)
        check_eq(rc, 1, "exit code (stderr %r)" % err)
        check(path in err and "No such file or directory" in err,
              "want the path and the cause in %r" % err)
        check("listening on" not in err, "it listened: %r" % err)


def test_directory():
    path = harness.tmpdir()
    rc, out, err = run_daemon(["-c", path])
    check_eq(rc, 1, "exit code (stderr %r)" % err)
    check(path in err and "Is a directory" in err,
          "want the path and the cause in %r" % err)


def test_t_good_files():
    full = ("server:\n{\n"
            "  address = [ \"127.0.0.1\", \"::1\" ];\n"
            "  port = 1234;\n  backlog = 128;\n  max_connections = 10000;\n"
            "  max_line = 4096;\n  idle_timeout = 300;\n  separator = \"\";\n"
            "  framing = \"line\";\n  workers = 0;\n  log_level = \"info\";\n"
            "  pidfile = \"\";\n};\n\n"
            "client:\n{\n  address = \"127.0.0.1\";\n  port = 1234;\n"
            "  connect_timeout = 5;\n};\n")
    goods = [
        ("empty file", ""),
        ("only comments", "# nothing here\n"),
        ("every setting", full),
        ("segment, debug", server_conf(framing="segment", log_level="debug",
                                       separator=": ", workers=4)),
        ("address star", server_conf(address="*", port=65535)),
        ("address list", server_conf(address=Raw('( "127.0.0.1" )'))),
        ("address name", server_conf(address="localhost")),
        ("two loopback addresses",
         server_conf(address=["127.0.0.1", "127.0.0.2", "::1"], port=1234)),
        ("relative pidfile", server_conf(pidfile="run/seqechod.pid")),
        ("limits", server_conf(port=0, idle_timeout=0, max_line=1)),
        # design.md's three listeners, the third without tls.
        ("listen",
         "server:\n{\n  listen = (\n"
         '    { address = "127.0.0.1"; port = 1234; },\n'
         '    { address = "*"; port = 1235; proxy_protocol = "v2"; '
         'proxy_trusted = [ "127.0.0.1", "::1" ]; },\n'
         '    { address = [ "127.0.0.1", "::1" ]; port = 1236; }\n'
         "  );\n  proxy_timeout = 3;\n};\n"
         'client:\n{\n  proxy_protocol = "none";\n};\n'),
        ("listen, every setting",
         server_conf(proxy_timeout=3600, listen=Raw(
             '( { address = "::1"; port = 0; proxy_protocol = "any";\n'
             '    proxy_trusted = [ "10.0.0.0/8", "::1", "fd00::/8" ];'
             ' tls = false; },\n'
             '  { port = 0; }, { proxy_protocol = "v1";'
             ' proxy_trusted = "127.0.0.0/8"; } )'))),
        ("listen empty", server_conf(listen=Raw("()"))),
        # seqecho.conf(5)'s example behind HAProxy.
        ("listen behind HAProxy",
         "server:\n{\n  listen = (\n"
         '    { address = "127.0.0.1"; port = 1234; },\n'
         '    { address = "127.0.0.1"; port = 1235; proxy_protocol = "v2";\n'
         '      proxy_trusted = [ "127.0.0.1" ]; }\n'
         "  );\n  proxy_timeout = 3;\n};\n"),
        ("client proxy_protocol",
         'client:\n{\n  proxy_protocol = "v1";\n};\n'),
    ]
    example = os.path.join(harness.TESTS_DIR, "..", "conf", "seqecho.conf")
    if os.path.exists(example):
        goods.append(("conf/seqecho.conf", open(example).read()))
    failed = []
    for name, text in goods:
        path = write_file(text)
        rc, out, err = run_daemon(["-t", "-c", path])
        if rc != 0 or "configuration OK" not in out + err:
            failed.append("%s: rc %d, stdout %r, stderr %r" % (name, rc, out, err))
        if "listening on" in err:
            failed.append("%s: -t listened: %r" % (name, err))
    check(not failed, "\n".join(failed))


def test_a_checked():
    # -a is checked as the file's addresses are, before anything binds.
    for addr, want in (("999.1.1.1", "-a: 999.1.1.1: not an IPv4 address"),
                       ("", "-a: must not be empty")):
        for extra in ([], ["-t"]):
            rc, out, err = run_daemon(["-c", write_file(server_conf()),
                                       "-a", addr] + extra)
            check_eq(rc, 1, "exit code of -a %r %s (stderr %r)"
                     % (addr, extra, err))
            check(want in err, "want %r in stderr %r" % (want, err))
            check("configuration OK" not in out + err, "said OK: %r" % err)
            check("listening on" not in err, "it listened: %r" % err)


def test_a_p_with_listen():
    # -a/-p name the one listener server.listen replaces: refused with it.
    path = write_file(server_conf(listen=Raw("( { port = 0; } )")))
    failed = []
    for opts in (["-a", "127.0.0.1"], ["-p", "0"],
                 ["-a", "::1", "-p", "1234"]):
        for extra in ([], ["-t"]):
            rc, out, err = run_daemon(["-c", path] + opts + extra)
            if (rc != 1 or "-a/-p cannot be used with server.listen" not in err
                    or "listening on" in err
                    or "configuration OK" in out + err):
                failed.append("%s %s: rc %d, stderr %r" % (opts, extra, rc, err))
    # Without the list (or with an empty one) they are what they were.
    for text in (server_conf(), server_conf(listen=Raw("()"))):
        rc, out, err = run_daemon(["-t", "-c", write_file(text), "-a", "::1",
                                   "-p", "0"])
        if rc != 0 or "configuration OK" not in out + err:
            failed.append("%r: rc %d, stderr %r" % (text, rc, err))
    check(not failed, "\n".join(failed))


harness.main(globals())
