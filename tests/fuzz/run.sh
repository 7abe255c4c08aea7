#!/bin/sh
# run.sh SECONDS - build the libFuzzer targets if needed (make fuzz) and run
# each for SECONDS, from its seed corpus. Exits 1 if any target crashed,
# leaked, hung or failed its model check; the input that did it is saved
# under tests/fuzz/artifacts/ of the build directory.
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
#
# Run it from the top of a configured build directory (the source tree
# when configured in-tree), or set BUILDDIR. New corpus units go to
# tests/fuzz/work/TARGET/ there; the seed corpora in the source tree are
# only read.
set -u

secs=${1:-60}
case $secs in
''|*[!0-9]*|0) echo "usage: $0 SECONDS (at least 1)" >&2; exit 2 ;;
esac

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${BUILDDIR:-.}" && pwd)
if [ ! -f "$builddir/Makefile" ]; then
	echo "$0: no Makefile in $builddir: run it from a configured build" \
	    "directory, or set BUILDDIR" >&2
	exit 2
fi
make -C "$builddir" -s fuzz || exit 1

fuzzdir=$builddir/tests/fuzz
mkdir -p "$fuzzdir/artifacts"
export LSAN_OPTIONS="suppressions=$srcdir/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# The runner's ASan settings (CI sets detect_leaks=1 etc.) apply as well.

status=0
for target in proto config conn proxy trace hostport source merge; do
	work=$fuzzdir/work/$target
	log=$fuzzdir/fuzz_$target.log
	mkdir -p "$work"
	dict=
	[ -f "$srcdir/tests/fuzz/$target.dict" ] &&
	    dict="-dict=$srcdir/tests/fuzz/$target.dict"
	start=$(date +%s)
	# shellcheck disable=SC2086
	"$fuzzdir/fuzz_$target" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2560 -print_final_stats=1 $dict \
	    -artifact_prefix="$fuzzdir/artifacts/fuzz_$target-" \
	    "$work" "$srcdir/tests/fuzz/corpus_$target" \
	    </dev/null >"$log" 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	corpus=$(ls "$work" | wc -l)
	if [ $rc -eq 0 ]; then
		echo "fuzz_$target: ok: ${execs:-?} executions in ${took}s," \
		    "$corpus new corpus units"
	else
		status=1
		echo "fuzz_$target: FAILED (exit $rc) after ${execs:-?}" \
		    "executions in ${took}s; the log ($log) ends:"
		grep -v '^#[0-9]' "$log" | tail -40
		ls "$fuzzdir/artifacts" | sed "s|^|  artifact: $fuzzdir/artifacts/|"
	fi
done
exit $status
