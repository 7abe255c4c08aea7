#!/usr/bin/env bash
# tls-handshakes.sh - full TLS 1.3 handshakes per second of one seqechod
# worker, against the bound `openssl speed` sets and against OpenSSL's own
# server, `openssl s_server`, driven by the same client.
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
#
#   bench/tls-handshakes.sh            # ECDSA P-256 and RSA-2048 keys
#   KEYS=ec REPS=3 DUR=4 bench/tls-handshakes.sh
#
# For each key: `openssl speed` on the server's CPU gives the signature
# and the X25519 derivation a handshake needs; the bound is the
# handshakes one core could do if it did only those two. Then REPS
# interleaved rounds of `openssl s_time -new` (a full handshake per
# connection, no resumption) against seqechod (workers = 1) and against
# `openssl s_server -quiet -no_ticket`, each pinned to SERVER_CPU, the
# client to LOAD_CPU. Each server's figure is handshakes per second of its
# own CPU time (user + system, from /proc): on a machine of two cores the
# client, which verifies, cannot keep the server's core busy, so a wall
# clock rate would measure the client.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SEQECHOD=${SEQECHOD:-$HERE/../src/seqechod}
KEYS=${KEYS:-"ec rsa"}
REPS=${REPS:-3}
DUR=${DUR:-4}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-24710}

dir=$(mktemp -d)
pids=
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

# $1: ec or rsa. A self-signed certificate for localhost.
make_cert() {
	local alg
	case $1 in
	ec)	alg="-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
	rsa)	alg="-newkey rsa:2048" ;;
	esac
	openssl req -x509 $alg -nodes -days 2 -subj /CN=localhost \
	    -keyout "$dir/$1.key" -out "$dir/$1.pem" 2>/dev/null
}

# $1: the pid; its user and system time so far, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# $1: the server's pid, $2: its port. Prints "handshakes ticks".
one_round() {
	local t0 t1 out n
	t0=$(cpu_ticks "$1")
	out=$(taskset -c "$LOAD_CPU" openssl s_time -connect "127.0.0.1:$2" \
	    -new -time "$DUR" 2>/dev/null)
	t1=$(cpu_ticks "$1")
	n=$(echo "$out" | sed -n 's/^\([0-9]*\) connections in .*/\1/p' |
	    head -1)
	echo "${n:-0} $((t1 - t0))"
}

# Median of the numbers on standard input.
median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

hz=$(getconf CLK_TCK)
printf '%-5s %10s %10s %10s %10s %8s %8s\n' key bound/s seqechod/s \
    s_server/s "us/hs" ratio vs_s_srv
for key in $KEYS; do
	make_cert "$key"
	case $key in
	ec)	sig=ecdsap256; sigcol=sign ;;
	rsa)	sig=rsa2048; sigcol=sign ;;
	esac
	# openssl speed: "... sign/s verify/s" rows; X25519 "op/s".
	speed=$(taskset -c "$SERVER_CPU" openssl speed -seconds 2 \
	    ecdhx25519 "$sig" 2>/dev/null)
	sign_s=$(echo "$speed" | awk -v k="$sig" '
	    k == "ecdsap256" && /256 bits ecdsa \(nistp256\)/ { print $(NF-1) }
	    k == "rsa2048" && /^rsa 2048 bits/ { print $(NF-1) }')
	x_s=$(echo "$speed" | awk '/253 bits ecdh \(X25519\)/ { print $NF }')
	bound=$(awk -v s="$sign_s" -v x="$x_s" \
	    'BEGIN { printf "%.0f", 1 / (1 / s + 1 / x) }')

	cat > "$dir/$key.conf" <<EOF
server: { workers = 1; log_level = "warning"; max_connections = 20000;
  listen = ( { address = "127.0.0.1"; port = $PORT; tls = true; } );
  tls_certificate = "$dir/$key.pem"; tls_key = "$dir/$key.key"; };
EOF
	taskset -c "$SERVER_CPU" "$SEQECHOD" -c "$dir/$key.conf" \
	    2>"$dir/seqechod.err" &
	dpid=$!
	taskset -c "$SERVER_CPU" openssl s_server -quiet -tls1_3 -no_ticket \
	    -accept $((PORT + 1)) -cert "$dir/$key.pem" -key "$dir/$key.key" \
	    >/dev/null 2>&1 </dev/null &
	spid=$!
	pids="$dpid $spid"
	sleep 1
	: > "$dir/d" ; : > "$dir/s"
	for r in $(seq "$REPS"); do
		one_round "$dpid" "$PORT" >> "$dir/d"
		one_round "$spid" $((PORT + 1)) >> "$dir/s"
	done
	kill $pids 2>/dev/null
	wait 2>/dev/null
	pids=
	# Per round: handshakes per CPU second; the median of the rounds.
	d=$(awk -v hz="$hz" '$2 > 0 { printf "%.0f\n", $1 * hz / $2 }' \
	    "$dir/d" | median)
	s=$(awk -v hz="$hz" '$2 > 0 { printf "%.0f\n", $1 * hz / $2 }' \
	    "$dir/s" | median)
	awk -v k="$key" -v b="$bound" -v d="$d" -v s="$s" 'BEGIN {
	    printf "%-5s %10d %10d %10d %10.0f %8.2f %8.2f\n",
	        k, b, d, s, 1e6 / d, d / b, d / s }'
done
