"""harness.py - shared by seqecho's end-to-end tests (Python 3, stdlib only).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

Each test file tests/<behaviour>.py defines test_* functions and ends with
harness.main(globals()). main() runs them in order and reports in TAP, as
automake's tap-driver.sh reads it, so every skipped case shows in the
`make check` summary: "1..N", then "ok K - NAME", "not ok K - NAME" or
"ok K - NAME # SKIP reason" per test, what a test prints as "# " lines.

    import harness
    from harness import Daemon, server_conf

    def test_hello():
        with Daemon(server_conf(separator=":")) as d:
            assert harness.send_recv_all(d.port, b"hi\\n") == b"0:hi\\n"

    harness.main(globals())

The programs come from $SEQECHOD, $SEQECHO and $SEQECHO_BENCH (absolute
paths, set by `make check`), else ../src/ next to this file. Everything is
on loopback and every wait is bounded; $SEQECHO_TIMEOUT_SCALE (default 1)
stretches the timeouts for slow builds (valgrind, say). $SEQECHOD_WRAPPER,
if set, is a command prefix (split like a shell would) put before every
seqechod the harness starts: SEQECHOD_WRAPPER="valgrind -q" runs the
daemon under valgrind (tests/valgrind.sh does).

$SEQECHO_TEST_TRANSPORT=tls runs a test file's cases over TLS (make check
does so for the files in TLS_TESTS, through tests/over-tls.sh): the
daemon server_conf() writes listens with tls = true and a certificate from
tlscerts.py, and connect() returns a TlsSocket, which speaks TLS over the
TCP socket and, unlike ssl.SSLSocket, keeps the session across
shutdown(SHUT_WR), so owed replies can still be read after a half-close.
"""

import contextlib
import errno
import os
import re
import shlex
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import weakref

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
SCALE = float(os.environ.get("SEQECHO_TIMEOUT_SCALE", "1") or "1")

# What a sanitizer report looks like in the daemon's log.
SANITIZER_RE = re.compile(r"Sanitizer|runtime error|LeakSanitizer")
LISTENING_RE = re.compile(r"listening on (\[[^\]]*\]|[^\s\[\]]+):(\d+)")


class Skip(Exception):
    """Raise (or call harness.skip) to skip the current test."""


class Failure(AssertionError):
    """A check failed."""


def skip(reason):
    raise Skip(reason)


def check(cond, msg="check failed"):
    """Like assert, but not removed by python -O."""
    if not cond:
        raise Failure(msg)


def check_eq(got, want, what="value"):
    if got != want:
        raise Failure("%s: got %s, want %s" % (what, _short(got), _short(want)))


def _short(v, limit=400):
    r = repr(v)
    if len(r) > limit:
        r = r[:limit // 2] + " ... " + r[-limit // 2:] + " (len %d)" % len(v) \
            if hasattr(v, "__len__") else r[:limit] + "..."
    return r


def t(seconds):
    """A timeout, stretched by $SEQECHO_TIMEOUT_SCALE."""
    return seconds * SCALE


def _program(var, name):
    p = os.environ.get(var)
    if p:
        return p
    return os.path.normpath(os.path.join(TESTS_DIR, "..", "src", name))


def seqechod_path():
    return _program("SEQECHOD", "seqechod")


def seqechod_wrapper():
    """The command prefix from $SEQECHOD_WRAPPER, as a list (maybe empty)."""
    return shlex.split(os.environ.get("SEQECHOD_WRAPPER", ""))


def seqecho_path():
    return _program("SEQECHO", "seqecho")


def bench_path():
    return _program("SEQECHO_BENCH", "seqecho-bench")


def require_program(path):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        skip("%s not built" % path)


def tool(name):
    """The path of an outside program the test needs, or skip, naming it."""
    path = shutil.which(name)
    if path is None:
        skip("%s is not installed (.ci/install-deps installs it)" % name)
    return path


# ---------------------------------------------------------------- config --

class Raw(str):
    """A value written into the config file as is: Raw("1234.0")."""


def conf_value(v):
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(conf_value(x) for x in v) + " ]"
    raise TypeError("cannot write %r into a config file" % (v,))


def server_conf(**settings):
    """The text of a config file with one server group.

    port = 0 and address = "127.0.0.1" unless given; a setting given as None
    is left out (so the daemon's default applies). One setting per line, in
    the order given, after the group's opening two lines, so the line of
    the k-th setting (from 0) is 3 + k. $SEQECHO_TEST_WORKERS, when set,
    adds workers = N last unless the test sets workers itself.
    """
    s = {"port": 0, "address": "127.0.0.1"}
    s.update(settings)
    # CI runs the suite once per worker count; last, so lines stay put.
    if os.environ.get("SEQECHO_TEST_WORKERS"):
        s.setdefault("workers", int(os.environ["SEQECHO_TEST_WORKERS"]))
    if over_tls() and "listen" not in s:
        s.update(_tls_listen(s))
    lines = ["server:", "{"]
    for k, v in s.items():
        if v is not None:
            lines.append("  %s = %s;" % (k, conf_value(v)))
    lines.append("};")
    return "\n".join(lines) + "\n"


def tcp_only(why):
    """Mark a test that the TLS run of its file leaves out, saying why."""
    def mark(fn):
        fn.tcp_only = why
        return fn
    return mark


def over_tls():
    """Whether this run's cases go over TLS ($SEQECHO_TEST_TRANSPORT)."""
    return os.environ.get("SEQECHO_TEST_TRANSPORT", "tcp") == "tls"


def _tls_listen(s):
    """The settings that make s's address and port one tls listener."""
    import tlscerts
    c = tlscerts.make()
    return {"listen": Raw("( { address = %s; port = %s; tls = true; } )" %
                          (conf_value(s["address"]), conf_value(s["port"]))),
            "tls_certificate": c.server, "tls_key": c.server_key}


_tmpdir = None


def tmpdir():
    """A directory for this test file, removed when every test passed."""
    global _tmpdir
    if _tmpdir is None:
        _tmpdir = tempfile.mkdtemp(prefix="seqecho-test-")
    return _tmpdir


_nfile = 0


def write_file(text, name=None, suffix=".conf"):
    """Write text (str or bytes) to a new file in tmpdir(); returns its path."""
    global _nfile
    _nfile += 1
    if name is None:
        name = "f%d%s" % (_nfile, suffix)
    path = os.path.join(tmpdir(), name)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    return path


# ---------------------------------------------------------------- daemon --

def run_daemon(args, timeout=5, env=None, stdin_bytes=b""):
    """Run seqechod to completion (for -V, -h, -t, bad configs).

    Returns (rc, stdout, stderr) as (int, str, str). A daemon still running
    after timeout is killed and the test fails.
    """
    return _run(seqechod_wrapper() + [seqechod_path()] + list(args),
                stdin_bytes, timeout, env)


def run_client(args, stdin_bytes=b"", timeout=10, env=None):
    """Run the client seqecho; returns (rc, stdout bytes, stderr str)."""
    require_program(seqecho_path())
    rc, out, err = _run([seqecho_path()] + _tls_args() + list(args),
                        stdin_bytes, timeout,
                        env, text=False)
    return rc, out, err.decode(errors="replace")


def run_bench(args, timeout=30, env=None):
    """Run seqecho-bench; returns (rc, stdout str, stderr str)."""
    require_program(bench_path())
    return _run([bench_path()] + _tls_args() + list(args), b"", timeout, env)


def _tls_args():
    """In a TLS run, the client's and the bench's options for it."""
    if not over_tls():
        return []
    import tlscerts
    return ["--tls", "--ca", tlscerts.make().ca]


def _run(argv, stdin_bytes, timeout, env, text=True):
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=full_env)
    try:
        out, err = p.communicate(stdin_bytes, timeout=t(timeout))
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise Failure("%s still running after %ss\nstdout: %r\nstderr: %s" %
                      (" ".join(argv), timeout, out, err.decode(errors="replace")))
    if text:
        out = out.decode(errors="replace")
        err = err.decode(errors="replace")
    _check_sanitizer(err if isinstance(err, str) else err.decode(errors="replace"),
                     " ".join(argv))
    return p.returncode, out, err


def _check_sanitizer(text, what):
    bad = [l for l in text.splitlines() if SANITIZER_RE.search(l)]
    if bad:
        raise Failure("sanitizer report from %s:\n%s" % (what, text))


class Daemon:
    """A seqechod in the foreground on a temporary config file.

        with Daemon(server_conf(max_line=10)) as d:
            s = connect(d.port)

    conf: the whole text of the config file (see server_conf); None for
    server_conf(); False for no -c at all. args: more options for
    seqechod. preexec_fn: run in the child before exec (setrlimit, say).
    On exit the daemon is stopped (SIGTERM) unless the test already did;
    it must have exited with expect_rc (0) and its log must hold no
    sanitizer report. The log is printed when anything fails.

    With quiet_port=P (for log levels that hide `listening on`), the
    daemon is ready once a connection to 127.0.0.1:P succeeds; that probe
    connection is closed at once.
    """

    def __init__(self, conf=None, args=(), env=None, expect_rc=0,
                 start_timeout=5, conf_path=None, preexec_fn=None,
                 quiet_port=None):
        self.quiet_port = quiet_port
        self.conf = server_conf() if conf is None else conf
        self.preexec_fn = preexec_fn
        self.args = list(args)
        self.env = env
        self.expect_rc = expect_rc
        self.start_timeout = start_timeout
        self.conf_path = conf_path
        self.proc = None
        self.rc = None
        self.port = None
        self.address = None
        self.listeners = []
        self.log_path = None

    # -- life --

    def start(self):
        if self.conf_path is None and self.conf is not False:
            self.conf_path = write_file(self.conf)
        self.log_path = write_file(b"", suffix=".log")
        full_env = dict(os.environ)
        if self.env:
            full_env.update(self.env)
        argv = [seqechod_path()]
        if self.conf_path is not None:
            argv += ["-c", self.conf_path]
        argv += self.args
        require_program(argv[0])
        argv = seqechod_wrapper() + argv
        self.argv = argv
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     env=full_env, preexec_fn=self.preexec_fn)
        self.pid = self.proc.pid
        if self.quiet_port is not None:
            self._wait_connectable(self.quiet_port)
            self.address, self.port = "127.0.0.1", self.quiet_port
            return self
        m = self.wait_log(LISTENING_RE, self.start_timeout)
        self.address, self.port = m.group(1), int(m.group(2))
        self.listeners = self._listeners()
        return self

    def _wait_connectable(self, port):
        deadline = time.monotonic() + t(self.start_timeout)
        while True:
            check(self.proc.poll() is None,
                  "seqechod exited (rc=%s) before listening" % self.proc.returncode)
            try:
                connect(port, timeout=1).close()
                return
            except OSError:
                pass
            check(time.monotonic() < deadline,
                  "nothing listening on port %d within %ss" % (port, self.start_timeout))
            time.sleep(0.02)

    def _listeners(self):
        return [(a, int(p)) for a, p in LISTENING_RE.findall(self.log_text())]

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self._abort()
            raise

    def __exit__(self, etype, value, tb):
        if etype is not None:
            self._abort()
            return False
        try:
            if self.rc is None:
                self.stop()
            check(self.rc == self.expect_rc,
                  "seqechod exited %s, want %s" % (self.rc, self.expect_rc))
            self.check_log()
        except BaseException:
            self._abort()
            raise
        return False

    def _abort(self):
        """Something failed: kill the daemon and show its log."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(t(3))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.rc = self.proc.returncode
        self.dump_log()

    def dump_log(self):
        sys.stdout.write("---- seqechod log (%s, rc=%s) ----\n%s---- end of log ----\n"
                         % (" ".join(getattr(self, "argv", [seqechod_path()])),
                            self.rc if self.proc is None else self.proc.returncode,
                            self.log_text()))
        if self.conf:
            sys.stdout.write("---- config ----\n%s---- end of config ----\n"
                             % self.conf)
        sys.stdout.flush()

    def check_log(self):
        _check_sanitizer(self.log_text(), "seqechod")

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    @contextlib.contextmanager
    def stopped(self):
        """The daemon is stopped (SIGSTOP) inside the block, so what the
        block sends all waits in the kernel, found at once on SIGCONT."""
        self.proc.send_signal(signal.SIGSTOP)
        try:
            yield self
        finally:
            self.proc.send_signal(signal.SIGCONT)

    def wait_exit(self, timeout=5):
        """Wait for the daemon to exit by itself; returns its exit code."""
        try:
            self.rc = self.proc.wait(t(timeout))
        except subprocess.TimeoutExpired:
            raise Failure("seqechod still running after %ss" % timeout)
        self._log.close()
        return self.rc

    def stop(self, timeout=5, sig=None):
        """Send SIGTERM (or sig), wait at most timeout; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if sig is None else sig)
        return self.wait_exit(timeout)

    # -- log --

    def log_text(self):
        if self.log_path is None:
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def mark(self):
        """A position in the log, for wait_log(..., since=mark)."""
        return len(self.log_text())

    def wait_log(self, regex, timeout=5, since=0):
        """Wait for a log line matching regex (after position since).

        Returns the match. Fails if the daemon exits first or timeout passes.
        """
        rx = re.compile(regex) if isinstance(regex, str) else regex
        deadline = time.monotonic() + t(timeout)
        while True:
            text = self.log_text()[since:]
            m = rx.search(text)
            if m:
                return m
            if self.proc.poll() is not None:
                # One last read: the line may have been written as it exited.
                m = rx.search(self.log_text()[since:])
                if m:
                    return m
                raise Failure("seqechod exited (rc=%s) before logging /%s/"
                              % (self.proc.returncode, rx.pattern))
            if time.monotonic() > deadline:
                raise Failure("no log line /%s/ within %ss" % (rx.pattern, timeout))
            time.sleep(0.02)

    def log_lines(self, regex, since=0):
        rx = re.compile(regex) if isinstance(regex, str) else regex
        return [l for l in self.log_text()[since:].splitlines() if rx.search(l)]

    def reload(self, text, want=r"configuration reloaded"):
        """Write text as the config file, send SIGHUP and wait for the log
        line want; returns the log position from before the signal."""
        with open(self.conf_path, "w") as f:
            f.write(text)
        mark = self.mark()
        self.signal(signal.SIGHUP)
        self.wait_log(want, since=mark)
        return mark

    def fill(self):
        """Take every place under the max_connections the daemon logged it
        lowered to, each client served once; returns their sockets."""
        m = self.wait_log(r"max_connections lowered to (\d+)")
        socks = []
        for i in range(int(m.group(1))):
            s = connect(self.port)
            socks.append(s)
            s.sendall(b"s%d\n" % i)
            check_eq(read_lines(s, 1), [b"0s%d" % i], "served client %d" % i)
        return socks

    def vmrss_kib(self):
        return vmrss_kib(self.pid)


def socket_activate_tool():
    """systemd-socket-activate's path, or skip: seqechod must have been
    built with libsystemd for socket activation to mean anything."""
    if os.environ.get("SEQECHO_LIBSYSTEMD") != "yes":
        skip("seqechod was built without libsystemd")
    tool = shutil.which("systemd-socket-activate")
    if tool is None:
        skip("systemd-socket-activate not found (Debian package systemd)")
    return tool


def serial_replies(lines, serial):
    """What a seqecho server answers to complete lines (a CR before the
    LF dropped), serials from serial on: (the replies, the next serial,
    whether bye came; what follows bye is not answered)."""
    out = []
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if line == b"bye":
            return b"".join(out), serial, True
        out.append(b"%d%s\n" % (serial, line))
        serial += 1
    return b"".join(out), serial, False


class BackgroundServer(socketserver.ThreadingTCPServer):
    """A test's own server on host (127.0.0.1 or ::1), port 0: self.port.
    It serves from a thread of its own while the with block runs; a
    subclass's finish_request does the talking."""

    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 512

    def __init__(self, host="127.0.0.1"):
        self.address_family = (socket.AF_INET6 if ":" in host
                               else socket.AF_INET)
        super().__init__((host, 0), None)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        return False


def running(pid):
    """pid is a live process (not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Failure("no VmRSS for pid %d" % pid)


# --------------------------------------------------------------- sockets --

def connect(port, host="127.0.0.1", timeout=5, tls=None):
    """A connected TCP socket with a timeout on every operation; over TLS
    (tls=True, or None in a TLS run) a TlsSocket, its handshake done."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(t(timeout))
    try:
        s.connect((host, port))
        if tls or (tls is None and over_tls()):
            return TlsSocket(s)
    except BaseException:
        s.close()
        raise
    return s


class TlsSocket:
    """A TLS client session over a connected TCP socket (ssl.SSLObject on
    memory BIOs), verifying the tests' CA. It offers what the tests use of
    a socket; the rest (settimeout, setsockopt, getsockname, fileno, ...)
    is the TCP socket's. shutdown() half-closes TCP without close_notify
    and the session stays: replies still owed can be read."""

    def __init__(self, raw, ctx=None):
        import tlscerts
        if ctx is None:
            ctx = ssl.create_default_context(cafile=tlscerts.make().ca)
        self.raw = raw
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self._in, self._out, server_side=False,
                                server_hostname="localhost")
        # Tests read in one thread while another writes: the session
        # (not thread-safe) is used under _lock, the socket's sending
        # under _send_lock, its reading by the one reader.
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._pending = b""
        self._shut = None       # a shutdown waiting for _pending to go
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush_all()
                self._fill()
        self._flush_all()

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def _flush_all(self):
        with self._send_lock:
            with self._lock:
                self._pending += self._out.read()
            while self._pending:
                n = self.raw.send(self._pending)
                self._pending = self._pending[n:]

    def _fill(self):
        data = self.raw.recv(65536)
        with self._lock:
            if data:
                self._in.write(data)
            else:
                self._in.write_eof()

    def send(self, data):
        # What is encrypted is sent before more is taken: a timeout in
        # the middle neither loses nor repeats a byte.
        with self._send_lock:
            while self._pending:
                n = self.raw.send(self._pending)
                self._pending = self._pending[n:]
            data = bytes(data[:16384])
            if not data:
                return 0
            with self._lock:
                self.obj.write(data)
                self._pending = self._out.read()
            try:
                n = self.raw.send(self._pending)
                self._pending = self._pending[n:]
            except (BlockingIOError, socket.timeout):
                pass
            return len(data)

    def sendall(self, data):
        # As socket.sendall: the timeout when it starts bounds the whole
        # (another thread may change the socket's meanwhile).
        timeout = self.raw.gettimeout()
        deadline = None if timeout is None else time.monotonic() + timeout
        view = memoryview(data)
        while view or self._pending:
            try:
                if view:
                    view = view[self.send(view):]
                else:
                    self._flush_all()
            except socket.timeout:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    def _send_some(self):
        """Non-blocking: send what is encrypted, then a waiting shutdown.
        Never waits for a sending thread: that one may be blocked on a
        peer that writes to us, and would be until we read."""
        if not self._send_lock.acquire(blocking=False):
            return
        try:
            if self._pending and self.raw.gettimeout() == 0:
                try:
                    n = self.raw.send(self._pending)
                    self._pending = self._pending[n:]
                except BlockingIOError:
                    pass
            if not self._pending and self._shut is not None:
                self.raw.shutdown(self._shut)
                self._shut = None
        finally:
            self._send_lock.release()

    def recv(self, n):
        # All that is decrypted, up to n: what stays in the session
        # would not make the socket readable for a select() after.
        self._send_some()
        while True:
            try:
                with self._lock:
                    data = self.obj.read(n)
                    while data and len(data) < n:
                        try:
                            more = self.obj.read(n - len(data))
                        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError,
                                ssl.SSLEOFError):
                            break
                        if not more:
                            break
                        data += more
                    return data
            except ssl.SSLWantReadError:
                if self._in.eof:
                    return b""
                self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def shutdown(self, how):
        # Non-blocking, records the peer cannot take yet are sent (and
        # then the FIN) by the next recv, as the kernel would.
        if self.raw.gettimeout() == 0:
            with self._lock:
                self._pending += self._out.read()
            self._shut = how
            self._send_some()
            return
        self._flush_all()
        self.raw.shutdown(how)

    def close_notify(self):
        """Say close_notify (and half-close TCP), as a clean TLS end."""
        with self._lock:
            try:
                self.obj.unwrap()
            except ssl.SSLWantReadError:
                pass
        self._flush_all()
        self.raw.shutdown(socket.SHUT_WR)

    def close(self):
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def recv_until_eof(sock, timeout=5, limit=1 << 30):
    """Read until the peer closes; returns the bytes. Fails on timeout."""
    deadline = time.monotonic() + t(timeout)
    chunks = []
    got = 0
    buf = _buffers.pop(sock, b"")
    if buf:
        chunks.append(buf)
        got += len(buf)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("no EOF within %ss; got %s" %
                          (timeout, _short(b"".join(chunks))))
        sock.settimeout(left)
        try:
            b = sock.recv(65536)
        except socket.timeout:
            continue
        if not b:
            return b"".join(chunks)
        chunks.append(b)
        got += len(b)
        if got > limit:
            raise Failure("more than %d bytes before EOF" % limit)


def sendall_bounded(sock, data, timeout=5):
    """sendall with an overall deadline (the server may be slow to read)."""
    deadline = time.monotonic() + t(timeout)
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("could not send %d more bytes within %ss"
                          % (len(view), timeout))
        sock.settimeout(left)
        try:
            n = sock.send(view)
        except socket.timeout:
            continue
        view = view[n:]


def send_recv_all(port, data, timeout=5, host="127.0.0.1"):
    """Connect, send data, half-close, read until EOF; returns the bytes."""
    s = connect(port, host, timeout)
    try:
        sendall_bounded(s, data, timeout)
        s.shutdown(socket.SHUT_WR)
        return recv_until_eof(s, timeout)
    finally:
        s.close()


# Bytes read past the last line returned, per socket.
_buffers = weakref.WeakKeyDictionary()


def read_lines(sock, n, timeout=5):
    """Read n lines; returns them as bytes without their LF.

    Bytes after the n-th line are kept for the next read_lines or
    recv_until_eof on the same socket. Fails on timeout or early EOF.
    """
    deadline = time.monotonic() + t(timeout)
    buf = _buffers.pop(sock, b"")
    lines = []
    while True:
        while len(lines) < n:
            i = buf.find(b"\n")
            if i < 0:
                break
            lines.append(buf[:i])
            buf = buf[i + 1:]
        if len(lines) == n:
            if buf:
                _buffers[sock] = buf
            return lines
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("got %d of %d lines within %ss; last %s, partial %s"
                          % (len(lines), n, timeout, _short(lines[-3:]),
                             _short(buf)))
        sock.settimeout(left)
        try:
            b = sock.recv(262144)
        except socket.timeout:
            continue
        if not b:
            raise Failure("EOF after %d of %d lines; last %s, partial %s"
                          % (len(lines), n, _short(lines[-3:]), _short(buf)))
        buf += b


def read_line(sock, timeout=5):
    return read_lines(sock, 1, timeout)[0]


def expect_closed(sock, timeout=5):
    """The peer closes with nothing more sent (EOF, or a reset)."""
    try:
        rest = recv_until_eof(sock, timeout)
    except ConnectionResetError:
        return
    check_eq(rest, b"", "bytes before close")


def wait_for(pred, timeout=5, what="condition", interval=0.02):
    """Poll pred() until true; fails after timeout."""
    deadline = time.monotonic() + t(timeout)
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure("%s not reached within %ss" % (what, timeout))
        time.sleep(interval)


def replies(n, first=0, payload=lambda i: b"m%d" % i, sep=b""):
    """The expected replies (without LF) to payload(first..first+n-1)."""
    return [b"%d%s%s" % (i - first, sep, payload(i)) for i in range(first, first + n)]


def free_port():
    """A port nobody listens on right now (for the address-in-use test)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def have_ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- runner --

class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Alarm("test timed out")


class _Diagnostics:
    """Stands in for sys.stdout while a test runs: every line the test
    prints (its own notes, a traceback, a daemon's log) goes out as a TAP
    diagnostic "# ...", so nothing it says can be read as a result."""

    def __init__(self, out):
        self.out = out
        self.partial = ""
        self.lock = threading.Lock()

    def write(self, text):
        with self.lock:
            lines = (self.partial + text).split("\n")
            self.partial = lines.pop()
            for line in lines:
                self.out.write(("# " + line).rstrip() + "\n")
        return len(text)

    def flush(self):
        with self.lock:
            if self.partial:
                self.out.write("# " + self.partial + "\n")
                self.partial = ""
            self.out.flush()


def report_line(text):
    """Write one line as is, not as a diagnostic: a figure a runner greps."""
    diag = sys.stdout
    diag.flush()
    out = diag.out if isinstance(diag, _Diagnostics) else diag
    out.write(text + "\n")
    out.flush()


def skip_all(reason):
    """Skip the whole file (before main): TAP's "1..0 # SKIP reason"."""
    print("1..0 # SKIP %s" % reason)
    sys.exit(77)


def _run_one(fn, timeout, diag):
    """Run one test with stdout as diagnostics; returns (verdict, why)."""
    signal.alarm(max(1, int(t(timeout))))
    sys.stdout = diag
    try:
        fn()
    except Skip as e:
        return "skip", str(e)
    except KeyboardInterrupt:
        raise
    except BaseException:
        traceback.print_exc(file=diag)
        return "fail", None
    finally:
        signal.alarm(0)
        diag.flush()
        sys.stdout = diag.out
    return "ok", None


def main(namespace, timeout=60):
    """Run the test_* functions of namespace in order and exit.

    Prints TAP: the plan "1..N", then per test "ok K - NAME", "not ok K -
    NAME" or "ok K - NAME # SKIP reason", what the test printed in between
    as "# " diagnostics. Arguments on the command line choose tests by
    name. Each test gets timeout seconds (stretched by
    $SEQECHO_TIMEOUT_SCALE) before it is failed. Exit 1 if any failed, 77
    if every test skipped (for runners that read only the exit status),
    else 0.
    """
    global _tmpdir
    sys.stdout.reconfigure(line_buffering=True)
    tests = [(k, v) for k, v in namespace.items()
             if k.startswith("test_") and callable(v)]
    # Over TLS, a file's cases that are about plain TCP are not part of
    # the run (the plain run has them): said, not skipped.
    for k, v in tests:
        if over_tls() and getattr(v, "tcp_only", None):
            print("# %s: not over TLS: %s" % (k, v.tcp_only))
    tests = [(k, v) for k, v in tests
             if not (over_tls() and getattr(v, "tcp_only", None))]
    if len(sys.argv) > 1:
        tests = [(k, v) for k, v in tests if k in sys.argv[1:]]
    name = os.path.basename(namespace.get("__file__", sys.argv[0]))
    if over_tls():
        name += " over TLS"
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    diag = _Diagnostics(sys.stdout)
    count = {"ok": 0, "fail": 0, "skip": 0}
    print("1..%d" % len(tests))
    for k, (tname, fn) in enumerate(tests, 1):
        start = time.monotonic()
        verdict, why = _run_one(fn, timeout, diag)
        count[verdict] += 1
        took = time.monotonic() - start
        if verdict == "skip":
            print("ok %d - %s # SKIP %s" % (k, tname, " ".join(why.split())))
        else:
            print("%s %d - %s (%.2fs)" % ("ok" if verdict == "ok" else
                                          "not ok", k, tname, took))
    print("# %s: %d passed, %d failed, %d skipped"
          % (name, count["ok"], count["fail"], count["skip"]))
    if _tmpdir is not None:
        if count["fail"]:
            print("# files kept in %s" % _tmpdir)
        else:
            shutil.rmtree(_tmpdir, ignore_errors=True)
    if count["fail"]:
        sys.exit(1)
    if count["skip"] and not count["ok"]:
        sys.exit(77)
    sys.exit(0)
