"""haproxyctl.py - Debian's HAProxy in the foreground, for the tests that
put it in front of seqechod (haproxy.py, bench-haproxy.py, tls-daemon.py).

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

    with HAProxy("    server s1 127.0.0.1:%d send-proxy-v2\\n" % port) as ha:
        s = harness.connect(ha.fe)

The config is HAProxy's own text: mode tcp, logging to stderr, a frontend
on a free loopback port (ha.fe) and the backend's lines as given. The
block ends with haproxy stopped; when it ends in a failure, the config and
haproxy's log are printed.
"""

import signal
import subprocess
import sys

import harness
from harness import check, connect, write_file

CONF = """\
global
    log stderr format raw local0 info
%(global_extra)sdefaults
    mode tcp
    log global
    timeout connect 2s
    timeout client %(timeout)ds
    timeout server %(timeout)ds
frontend fe
    bind 127.0.0.1:%(fe)d
%(frontend)s    default_backend %(name)s
backend %(name)s
%(backend)s"""


class HAProxy:
    """haproxy -db in front of the backend's servers, until the block ends;
    it is up once its frontend accepts, within wait seconds."""

    def __init__(self, backend, frontend="", name="be", timeout=10,
                 global_extra="", wait=5):
        self.fe = harness.free_port()
        self.text = CONF % {"fe": self.fe, "frontend": frontend,
                            "name": name, "backend": backend,
                            "timeout": timeout,
                            "global_extra": global_extra}
        self.wait = wait
        self.path = write_file(self.text, suffix=".cfg")
        self.log_path = write_file(b"", suffix=".haproxy.log")
        self.proc = None

    def __enter__(self):
        argv = [harness.tool("haproxy"), "-db", "-f", self.path]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)

        def up():
            check(self.proc.poll() is None, "haproxy exited %s:\n%s"
                  % (self.proc.returncode, self.log()))
            try:
                connect(self.fe, timeout=1, tls=False).close()
                return True
            except OSError:
                return False
        try:
            harness.wait_for(up, self.wait, "haproxy listening")
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def __exit__(self, etype, value, tb):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(harness.t(5))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        if etype is not None:
            sys.stdout.write("---- haproxy config ----\n%s---- haproxy log "
                             "----\n%s---- end ----\n" % (self.text,
                                                           self.log()))
        return False
