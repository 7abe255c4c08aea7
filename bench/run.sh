#!/usr/bin/env bash
# run.sh - measure seqechod (or any server for the same protocol) with
# seqecho-bench on the standard workloads, and print one table.
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
#
#   bench/run.sh [server ...]
#
# A server is "seqechod" (the default: the built daemon, workers = 1), or a
# command that runs a server in the foreground on 127.0.0.1 at the port
# written {PORT}, optionally named: 'mine=/path/to/server {PORT}'.
# Each run gets a fresh server on a fresh port, pinned to CPU 0; the load
# runs on CPU 1. Nothing is built: make first (an -O2 build, as configure
# gives by default).
#
# Workloads (W1-W5 last DUR seconds; REPS runs each, median and min-max)
#   W1  1 connection, 1 in flight, 16 B       round trips, msg/s
#   W2  50 connections, 1 in flight, 16 B     msg/s
#   W3  50 connections, 32 in flight, 16 B    pipelined msg/s
#   W4  1 connection, 64 in flight, 1 KiB     payload MB/s
#   W5  churn, 8 at a time                    connections/s
#   W6  IDLE_CONNS idle connections           server RSS per connection
#
# Environment
#   DUR=3 REPS=3 IDLE_CONNS=10000 WORKLOADS="W1 W2 W3 W4 W5 W6"
#   SERVER_CPU=0 LOAD_CPU=1 PORT_BASE=24000
#   SEQECHOD, SEQECHO_BENCH   the programs (default: ../src/ beside here)
#
# W6 needs a file descriptor per connection on both sides: the script
# raises its soft limit to the hard one (ulimit -n), and skips W6 when that
# is too low.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SEQECHOD=${SEQECHOD:-$HERE/../src/seqechod}
SEQECHO_BENCH=${SEQECHO_BENCH:-$HERE/../src/seqecho-bench}
DUR=${DUR:-3}
REPS=${REPS:-3}
IDLE_CONNS=${IDLE_CONNS:-10000}
WORKLOADS=${WORKLOADS:-"W1 W2 W3 W4 W5 W6"}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT_BASE:-24000}

for p in "$SEQECHO_BENCH" "$SEQECHOD"; do
	[ -x "$p" ] || { echo "run.sh: $p not built (run make)" >&2; exit 1; }
done
for t in taskset ss python3; do
	command -v $t >/dev/null || { echo "run.sh: needs $t" >&2; exit 1; }
done

TMPD=$(mktemp -d -t seqecho-bench.XXXXXX)
SPID=
stop_server() {
	[ -n "$SPID" ] || return 0
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}
trap 'stop_server; rm -rf "$TMPD"' EXIT
trap 'exit 130' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] &&
    [ "$(ulimit -n)" -lt $((IDLE_CONNS + 100)) ]; then
	echo "run.sh: ulimit -n is $(ulimit -n): too low for W6 with" \
	    "$IDLE_CONNS connections, W6 skipped" >&2
	WORKLOADS=$(echo " $WORKLOADS " | sed 's/ W6 / /')
fi

# The daemon's configuration: one worker, quiet, room for W6.
cat >"$TMPD/seqechod.conf" <<EOF
server:
{
  address = "127.0.0.1";
  port = 0;
  workers = 1;
  max_connections = $((IDLE_CONNS + 1000));
  idle_timeout = 0;
  log_level = "warning";
};
EOF

[ $# -gt 0 ] || set -- seqechod
NAMES=()
CMDS=()
for s in "$@"; do
	case $s in
	seqechod)
		NAMES+=(seqechod)
		CMDS+=("$SEQECHOD -c $TMPD/seqechod.conf -p {PORT}") ;;
	*=*)
		NAMES+=("${s%%=*}")
		CMDS+=("${s#*=}") ;;
	*)
		set -- $s
		NAMES+=("$(basename "$1")")
		CMDS+=("$s") ;;
	esac
done

next_port() {
	PORT=$((PORT + 1))
	while ss -Htan "sport = :$PORT" 2>/dev/null | grep -q .; do
		PORT=$((PORT + 1))
	done
}

start_server() { # command
	local cmd=${1//\{PORT\}/$PORT}
	taskset -c "$SERVER_CPU" sh -c "exec $cmd" >"$TMPD/server.log" 2>&1 &
	SPID=$!
	for _ in $(seq 100); do
		ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "run.sh: no server on port $PORT: $cmd" >&2
	sed 's/^/    /' "$TMPD/server.log" >&2
	stop_server
	return 1
}

rss_kib() { # pid -> VmRSS of it and its descendants, KiB
	local total=0 p r
	for p in "$1" $(pgrep -P "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		total=$((total + ${r:-0}))
	done
	echo "$total"
}

bench_args() { # workload
	case $1 in
	W1) echo "-n 1 -P 1 -s 16 -d $DUR" ;;
	W2) echo "-n 50 -P 1 -s 16 -d $DUR" ;;
	W3) echo "-n 50 -P 32 -s 16 -d $DUR" ;;
	W4) echo "-n 1 -P 64 -s 1024 -d $DUR" ;;
	W5) echo "--churn -n 8 -s 16 -d $DUR" ;;
	esac
}

# One JSON report in, "value errors p50 p99" out, for the workload.
summarise() { # workload file
	python3 - "$1" "$2" <<'EOF'
import json, sys
w, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
key = {"W4": "payload_mb_per_second",
       "W5": "connections_per_second"}.get(w, "messages_per_second")
lat = r["lifetime_us" if w == "W5" else "latency_us"]
print(r[key], r["errors"]["total"], lat["p50"], lat["p99"])
EOF
}

run_one() { # index workload rep
	local name=${NAMES[$1]} cmd=${CMDS[$1]} w=$2 rep=$3 out=$TMPD/out.json
	local rss0 rss1 held line
	next_port
	start_server "$cmd" || return 1
	if [ "$w" = W6 ]; then
		sleep 0.2
		rss0=$(rss_kib "$SPID")
		taskset -c "$LOAD_CPU" "$SEQECHO_BENCH" -c /dev/null --json \
		    --idle -n "$IDLE_CONNS" 127.0.0.1 "$PORT" \
		    >"$out" 2>"$TMPD/bench.err" &
		local bpid=$!
		for _ in $(seq 1200); do
			grep -q holding "$TMPD/bench.err" && break
			kill -0 "$bpid" 2>/dev/null || break
			sleep 0.05
		done
		sleep 0.5
		rss1=$(rss_kib "$SPID")
		kill -INT "$bpid" 2>/dev/null
		wait "$bpid"
		held=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["connections_held"], r["errors"]["total"])' "$out" 2>/dev/null)
		stop_server
		[ -n "$held" ] || { echo "  $name W6: no report" >&2; return 1; }
		set -- $held
		[ "$1" -gt 0 ] || { echo "  $name W6: nothing held" >&2; return 1; }
		line="$(( (rss1 - rss0) * 1024 / $1 )) $2 0 0"
		echo "$1" >>"$TMPD/$name.W6.held"
	else
		timeout -k 5 $((${DUR%.*} + 60)) taskset -c "$LOAD_CPU" \
		    "$SEQECHO_BENCH" -c /dev/null --json $(bench_args "$w") \
		    127.0.0.1 "$PORT" >"$out" 2>"$TMPD/bench.err"
		stop_server
		line=$(summarise "$w" "$out" 2>/dev/null)
		if [ -z "$line" ]; then
			echo "  $name $w #$rep: no report:" >&2
			sed 's/^/    /' "$TMPD/bench.err" >&2
			return 1
		fi
	fi
	set -- $line
	echo "$1" >>"$TMPD/$name.$w.value"
	echo "$2" >>"$TMPD/$name.$w.errors"
	echo "$3" >>"$TMPD/$name.$w.p50"
	echo "$4" >>"$TMPD/$name.$w.p99"
	printf '  %-14s %s #%s: %s (errors %s)\n' "$name" "$w" "$rep" "$1" "$2"
}

echo "# $(date -u +%FT%TZ) $(uname -sr), $(nproc) CPUs; DUR=$DUR REPS=$REPS" \
    "IDLE_CONNS=$IDLE_CONNS; server on CPU $SERVER_CPU, load on CPU $LOAD_CPU"
T0=$(date +%s)
# One pass over every server per repetition, so slow drift of a shared
# machine hits them all alike and shows in the spread.
for r in $(seq "$REPS"); do
	echo "== pass $r of $REPS"
	for i in "${!NAMES[@]}"; do
		for w in $WORKLOADS; do
			run_one "$i" "$w" "$r" ||
			    echo "  ${NAMES[$i]} $w #$r failed" >&2
		done
	done
done

python3 - "$TMPD" "$REPS" "$DUR" "${NAMES[@]}" <<'EOF'
import os, statistics, sys
d, reps, dur, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]

def values(name, w, what):
    path = os.path.join(d, "%s.%s.%s" % (name, w, what))
    if not os.path.exists(path):
        return []
    return [float(x) for x in open(path).read().split()]

def short(v):
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e4:
        return "%.0fk" % (v / 1e3)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v if v >= 100 else "%.3g" % v

def cell(name, w):
    v = values(name, w, "value")
    if not v:
        return "-"
    m = statistics.median(v)
    s = short(m) if min(v) == max(v) else \
        "%s (%s–%s)" % (short(m), short(min(v)), short(max(v)))
    e = sum(values(name, w, "errors"))
    return s + (" **%d errors**" % e if e else "")

ws = ["W1", "W2", "W3", "W4", "W5", "W6"]
print()
print("Medians of %s runs (min–max); W1-W5 %s s each." % (reps, dur))
print()
print("| server | W1 msg/s | W2 msg/s | W3 msg/s | W4 MB/s | W5 conn/s | W6 B/conn |")
print("|---|---|---|---|---|---|---|")
for n in names:
    print("| %s | %s |" % (n, " | ".join(cell(n, w) for w in ws)))
print()
print("Latency, µs, medians of the runs' p50 / p99 (W1-W4 send to reply, W5 connect to close):")
print()
print("| server | W1 | W2 | W3 | W4 | W5 |")
print("|---|---|---|---|---|---|")
for n in names:
    row = []
    for w in ws[:5]:
        a, b = values(n, w, "p50"), values(n, w, "p99")
        row.append("%s / %s" % (short(statistics.median(a)),
                   short(statistics.median(b))) if a else "-")
    print("| %s | %s |" % (n, " | ".join(row)))
for n in names:
    h = values(n, "W6", "held")
    if h:
        print("- W6 %s: %d..%d connections held" % (n, min(h), max(h)))
EOF
echo "- wall time: $(( $(date +%s) - T0 )) s"
