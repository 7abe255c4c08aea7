#!/bin/sh
# Generate configure and Makefile.in from configure.ac and Makefile.am.
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
exec autoreconf -fi
