#!/bin/sh
# valgrind.sh - the end-to-end tests (every tests/*.py that make check runs)
# with each seqechod they start running under valgrind's memcheck:
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
#
#   valgrind --error-exitcode=1 --leak-check=full
#            --errors-for-leak-kinds=definite
#
# through harness.py's $SEQECHOD_WRAPPER, the timeouts stretched with
# $SEQECHO_TIMEOUT_SCALE (default here 10). Fails if any test fails or any
# daemon's valgrind log reports an error (some tests expect the daemon to
# exit 1, which hides --error-exitcode, so the logs are read too).
#
# Run it from the top of a configured build directory (the source tree when
# configured in-tree), or set BUILDDIR. The logs go to tests/valgrind/ there.
# $VALGRIND_SKIP names tests to leave out; by default those whose checks
# valgrind itself defeats: backpressure.py measures the daemon's RSS (under
# valgrind, valgrind's), and fd-limit.py runs the daemon with 64
# descriptors, of which valgrind keeps 12 for itself, closing any accepted
# socket that lands there (the client sees a bare EOF); so do
# shutdown-out-of-fds.py, which runs the daemon out of descriptors, and
# http-pauses.py, which runs it with few.
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${BUILDDIR:-.}" && pwd)
if [ ! -f "$builddir/Makefile" ]; then
	echo "$0: no Makefile in $builddir: run it from a configured build" \
	    "directory, or set BUILDDIR" >&2
	exit 2
fi
command -v valgrind >/dev/null || { echo "$0: valgrind not found" >&2; exit 2; }
make -C "$builddir" -s all || exit 1

# The Python tests of make check, as the Makefile lists them.
tests=$(printf 'print-py-tests:\n\t@echo $(filter %%.py,$(TESTS))\n' |
    make -s -C "$builddir" -f Makefile -f - print-py-tests)
for skip in ${VALGRIND_SKIP-backpressure.py fd-limit.py shutdown-out-of-fds.py http-pauses.py}; do
	tests=$(echo " $tests " | sed "s| [^ ]*/$skip | |; s| $skip | |")
done

vgdir=$builddir/tests/valgrind
rm -rf "$vgdir"
mkdir -p "$vgdir"
SEQECHOD_WRAPPER="valgrind --tool=memcheck --error-exitcode=1 \
--leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
--num-callers=30 --suppressions=$srcdir/tests/valgrind.supp \
--log-file=$vgdir/seqechod.%p.log"
SEQECHO_TIMEOUT_SCALE=${SEQECHO_TIMEOUT_SCALE:-10}
export SEQECHOD_WRAPPER SEQECHO_TIMEOUT_SCALE

start=$(date +%s)
# Two at a time, as make check runs them: the timeouts are stretched.
make -C "$builddir" -k -j2 check TESTS="$tests"
rc=$?
took=$(( $(date +%s) - start ))

runs=$(ls "$vgdir" | wc -l)
bad=$(grep -l 'ERROR SUMMARY: [1-9]' "$vgdir"/*.log 2>/dev/null)
unfinished=$(grep -L 'ERROR SUMMARY:' "$vgdir"/*.log 2>/dev/null | wc -l)
echo "valgrind: $(echo $tests | wc -w) tests, left out:" \
    "${VALGRIND_SKIP-backpressure.py fd-limit.py}"
echo "valgrind: $runs daemon runs in ${took}s; $(echo "$bad" | grep -c .)" \
    "with errors; $unfinished killed before valgrind's summary"
if [ -n "$bad" ]; then
	for f in $bad; do
		echo "==== $f"
		sed -n '/ERROR SUMMARY/q;p' "$f" | grep -v '^==[0-9]*== *$' |
		    head -80
	done
	rc=1
fi
[ $rc -eq 0 ] && echo "valgrind: no errors" || echo "valgrind: FAILED"
exit $rc
