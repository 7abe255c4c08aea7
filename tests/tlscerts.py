"""tlscerts.py - certificates for the TLS tests, made with the openssl CLI.

Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.

Nothing private is checked in: each test run makes its own in a temporary
directory, once per test file.

    import tlscerts
    c = tlscerts.make()          # a Certs with the paths below
    c.ca, c.server, c.server_key, c.client, c.client_key

make() builds a CA; a server certificate for localhost, 127.0.0.1 and ::1
signed by it; a client certificate (CN "seqecho-test-client") signed by
it; a self-signed server certificate (not from the CA); a server
certificate that expires in 10 days; one that has expired; a second key
that matches none of them; and a second CA that signed nothing the tests
trust. Keys are ECDSA P-256 (fast to make and to handshake).
"""

import os
import shutil
import subprocess

import harness

_cache = {}


class Certs:
    def __init__(self, d):
        self.dir = d
        p = lambda n: os.path.join(d, n)
        self.ca, self.ca_key = p("ca.pem"), p("ca.key")
        self.other_ca, self.other_ca_key = p("other-ca.pem"), p("other-ca.key")
        self.server, self.server_key = p("server.pem"), p("server.key")
        self.client, self.client_key = p("client.pem"), p("client.key")
        self.self_signed, self.self_signed_key = p("self.pem"), p("self.key")
        self.expiring, self.expiring_key = p("expiring.pem"), p("expiring.key")
        self.expired, self.expired_key = p("expired.pem"), p("expired.key")
        self.other_key = p("other.key")
        self.other_client, self.other_client_key = (p("other-client.pem"),
                                                    p("other-client.key"))


def openssl():
    path = shutil.which("openssl")
    if path is None:
        harness.skip("openssl (Debian package openssl) not installed")
    return path


def _run(*args, cwd):
    r = subprocess.run([openssl()] + list(args), cwd=cwd,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=harness.t(60))
    if r.returncode != 0:
        raise harness.Failure("openssl %s: %s" %
                              (" ".join(args), r.stdout.decode(errors="replace")))


def _key(cwd, name):
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", name, cwd=cwd)


def _ca(cwd, name, cn):
    _key(cwd, name + ".key")
    _run("req", "-x509", "-new", "-key", name + ".key", "-out", name + ".pem",
         "-days", "3650", "-subj", "/CN=" + cn,
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=cwd)


def _signed(cwd, name, cn, ca, ext, days=None, start=None, end=None):
    """A certificate for name.key signed by ca, valid for days (or from
    start to end, as openssl x509 -not_before/-not_after do not exist in
    3.0: use ca -startdate/-enddate)."""
    _key(cwd, name + ".key")
    _run("req", "-new", "-key", name + ".key", "-out", name + ".csr",
         "-subj", "/CN=" + cn, cwd=cwd)
    with open(os.path.join(cwd, name + ".ext"), "w") as f:
        f.write(ext)
    if days is not None:
        _run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
             "-CAkey", ca + ".key", "-CAcreateserial", "-days", str(days),
             "-extfile", name + ".ext", "-out", name + ".pem", cwd=cwd)
        return
    # Dates in the past need openssl ca and its database.
    db = os.path.join(cwd, "ca-db")
    os.makedirs(db, exist_ok=True)
    open(os.path.join(db, "index.txt"), "a").close()
    with open(os.path.join(db, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=d\n[d]\ndir=%s\ndatabase=$dir/index.txt\n"
                "new_certs_dir=$dir\nserial=$dir/serial\n"
                "default_md=sha256\npolicy=p\nunique_subject=no\n"
                "[p]\ncommonName=supplied\n" % db)
    if not os.path.exists(os.path.join(db, "serial")):
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("1000\n")
    _run("ca", "-batch", "-config", os.path.join(db, "ca.cnf"),
         "-cert", ca + ".pem", "-keyfile", ca + ".key",
         "-startdate", start, "-enddate", end, "-extfile", name + ".ext",
         "-in", name + ".csr", "-out", name + ".pem", "-notext", cwd=cwd)


SERVER_EXT = ("basicConstraints=CA:FALSE\n"
              "keyUsage=digitalSignature\n"
              "extendedKeyUsage=serverAuth\n"
              "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
CLIENT_EXT = ("basicConstraints=CA:FALSE\n"
              "keyUsage=digitalSignature\n"
              "extendedKeyUsage=clientAuth\n")


def make():
    """The certificates, made once per process in a temporary directory."""
    if "certs" in _cache:
        return _cache["certs"]
    d = harness.tmpdir()
    _ca(d, "ca", "seqecho test CA")
    _ca(d, "other-ca", "another CA")
    _signed(d, "server", "localhost", "ca", SERVER_EXT, days=365)
    _signed(d, "client", "seqecho-test-client", "ca", CLIENT_EXT, days=365)
    _signed(d, "other-client", "stranger", "other-ca", CLIENT_EXT, days=365)
    _signed(d, "expiring", "localhost", "ca", SERVER_EXT, days=10)
    _signed(d, "expired", "localhost", "ca", SERVER_EXT,
            start="20200101000000Z", end="20200201000000Z")
    _key(d, "self.key")
    _run("req", "-x509", "-new", "-key", "self.key", "-out", "self.pem",
         "-days", "365", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", cwd=d)
    _key(d, "other.key")
    _cache["certs"] = Certs(d)
    return _cache["certs"]
