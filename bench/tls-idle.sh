#!/usr/bin/env bash
# tls-idle.sh - what an idle TLS connection costs seqechod: N connections
# opened by `seqecho-bench --idle --tls` and held, the daemon's RSS and
# its heap in use (glibc's malloc_stats, read through gdb) before and
# while they are held, per connection; the same over plain TCP.
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
#
#   bench/tls-idle.sh                 # 2,000 connections, 3 rounds
#   N=10000 REPS=1 bench/tls-idle.sh
#
# Each round is a fresh daemon (workers = 1, on SERVER_CPU), so that the
# memory one round frees is not the next one's. Without gdb, the heap
# column says "-". The RSS includes what the allocator holds free between
# the sessions' allocations (the handshakes' temporaries leave holes);
# the heap figure is what the sessions themselves hold.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SEQECHOD=${SEQECHOD:-$HERE/../src/seqechod}
SEQECHO_BENCH=${SEQECHO_BENCH:-$HERE/../src/seqecho-bench}
N=${N:-2000}
REPS=${REPS:-3}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-24720}

dir=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
ulimit -Sn "$(ulimit -Hn)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 2 -subj /CN=localhost -keyout "$dir/key.pem" \
    -out "$dir/cert.pem" 2>/dev/null
cat > "$dir/seqecho.conf" <<EOF
server: { workers = 1; log_level = "warning"; max_connections = $((N + 100));
  listen = ( { address = "127.0.0.1"; port = $PORT; tls = true; },
             { address = "127.0.0.1"; port = $((PORT + 1)); } );
  tls_certificate = "$dir/cert.pem"; tls_key = "$dir/key.pem"; };
client: { };
EOF

rss_kib() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}

# Bytes in use over all arenas: malloc_stats writes to the daemon's
# standard error, which is $dir/err.
heap_bytes() {
	command -v gdb >/dev/null || { echo -; return; }
	: > "$dir/err"
	gdb -p "$1" -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1
	awk '/^Total \(incl. mmap\):/ { t = 1 }
	    t && /in use bytes/ { print $NF; exit }' "$dir/err"
}

# $1: "tls" or "plain". Prints "rss_bytes_per_conn heap_bytes_per_conn".
one_round() {
	local port=$PORT tls="--tls --insecure" r0 h0 r1 h1 bpid i
	[ "$1" = plain ] && { port=$((PORT + 1)); tls=; }
	taskset -c "$SERVER_CPU" "$SEQECHOD" -c "$dir/seqecho.conf" \
	    2>"$dir/err" &
	dpid=$!
	for i in $(seq 50); do
		ss -ltn | grep -q ":$port " && break
		sleep 0.1
	done
	r0=$(rss_kib $dpid); h0=$(heap_bytes $dpid)
	taskset -c "$LOAD_CPU" "$SEQECHO_BENCH" -c "$dir/seqecho.conf" \
	    --idle $tls -n "$N" -d 6 -q 127.0.0.1 "$port" >"$dir/bench.out" 2>&1 &
	bpid=$!
	# Held once the daemon has a socket for each: then measure.
	for i in $(seq 100); do
		[ "$(ls /proc/$dpid/fd | wc -l)" -ge "$N" ] && break
		sleep 0.1
	done
	sleep 1
	r1=$(rss_kib $dpid); h1=$(heap_bytes $dpid)
	wait $bpid
	kill $dpid; wait $dpid 2>/dev/null; dpid=
	awk -v r0="$r0" -v r1="$r1" -v h0="$h0" -v h1="$h1" -v n="$N" 'BEGIN {
	    printf "%.0f %s\n", (r1 - r0) * 1024 / n,
	        h0 == "-" ? "-" : sprintf("%.0f", (h1 - h0) / n) }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

printf '%-6s %14s %16s   (%d connections, median of %d)\n' "" \
    "RSS B/conn" "heap B/conn" "$N" "$REPS"
for t in tls plain; do
	: > "$dir/r"
	for r in $(seq "$REPS"); do
		one_round $t >> "$dir/r"
	done
	printf '%-6s %14s %16s\n' $t "$(awk '{ print $1 }' "$dir/r" | median)" \
	    "$(awk '{ print $2 }' "$dir/r" | median)"
done
