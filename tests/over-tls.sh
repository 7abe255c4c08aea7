#!/bin/sh
# over-tls.sh - run one end-to-end test file over TLS: make check gives it
# tests/over-tls/NAME.tls, which names the file (tests/NAME.py); the
# harness then gives the daemon tls listeners and the tests TLS sockets
# ($SEQECHO_TEST_TRANSPORT, see tests/harness.py).
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
set -e
here=$(cd "$(dirname "$0")" && pwd)
name=$(cat "$1")
SEQECHO_TEST_TRANSPORT=tls exec python3 "$here/$name"
