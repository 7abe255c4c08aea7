#!/usr/bin/env bash
# tls-peers.sh - TLS throughput of seqechod on W3 and W4: against the
# same over plain TCP, and against socat and ncat, one load generator
# (bench/tlsload.c) driving all of them.
#
# Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
#
#   bench/tls-peers.sh
#
# Servers, each started afresh for every run on fresh ports, pinned to
# SERVER_CPU (socat's and ncat's forked children inherit it); the load
# runs on LOAD_CPU:
#   seqechod-tls    the built daemon, workers = 1, its tls listener
#   seqechod-plain  the same daemon's plain listener (tlsload --plain-tcp)
#   socat           socat OPENSSL-LISTEN:...,fork PIPE (verbatim echo)
#   ncat            ncat --ssl -k --exec /bin/cat (a cat per connection)
# and, as a check that tlsload is not the bound (XCHECK=0 drops them),
# seqecho-bench --tls and plain against seqechod.
#
# Workloads: W3 -n 50 -P 32 -s 16 (msg/s), W4 -n 1 -P 64 -s 1024 (MB/s).
# REPS interleaved passes over every server, DUR seconds each; medians
# (min-max). A run that fails or has errors is reported, not fatal.
#
# Environment
#   DUR=3 REPS=3 SERVER_CPU=0 LOAD_CPU=1 PORT_BASE=25400 XCHECK=1 CC=cc
#   SEQECHOD, SEQECHO_BENCH   the programs (default: ../src/ beside here)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SEQECHOD=${SEQECHOD:-$HERE/../src/seqechod}
SEQECHO_BENCH=${SEQECHO_BENCH:-$HERE/../src/seqecho-bench}
DUR=${DUR:-3}
REPS=${REPS:-3}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT_BASE:-25400}
XCHECK=${XCHECK:-1}
CC=${CC:-cc}

die() { echo "tls-peers.sh: $*" >&2; exit 1; }
[ -x "$SEQECHOD" ] || die "$SEQECHOD not built (run make)"
[ "$XCHECK" = 0 ] || [ -x "$SEQECHO_BENCH" ] ||
    die "$SEQECHO_BENCH not built (run make, or XCHECK=0)"
for t in taskset setsid ss timeout openssl socat ncat python3 pkg-config \
    "$CC"; do
	command -v "$t" >/dev/null || die "needs $t (apt-get install socat ncat ...)"
done

TMPD=$(mktemp -d -t seqecho-tls.XXXXXX)
SPID=
stop_server() {
	[ -n "$SPID" ] || return 0
	# Its own process group: socat's and ncat's children (and each cat)
	# go with it.
	kill -TERM -- "-$SPID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}
trap 'stop_server; rm -rf "$TMPD"' EXIT
trap 'exit 130' INT TERM

# A throwaway self-signed ECDSA P-256 certificate, as for a test.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TMPD/key.pem" -out "$TMPD/cert.pem" -days 90 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    >"$TMPD/openssl.log" 2>&1 || { cat "$TMPD/openssl.log" >&2; exit 1; }
# shellcheck disable=SC2046
"$CC" -O2 -Wall -Wextra -Werror "$HERE/tlsload.c" -o "$TMPD/tlsload" \
    $(pkg-config --cflags --libs libevent_openssl openssl libevent) ||
    die "cannot build tlsload"
TLSLOAD=$TMPD/tlsload

next_port() {
	PORT=$((PORT + 1))
	while ss -Htan "sport = :$PORT" 2>/dev/null | grep -q .; do
		PORT=$((PORT + 1))
	done
}

# Start server NAME in its own process group; PORT is where to load it.
start_server() { # name
	local tls plain cmd
	next_port
	case $1 in
	seqechod-*)
		tls=$PORT
		next_port
		plain=$PORT
		cat >"$TMPD/seqechod.conf" <<EOF
server:
{
  workers = 1;
  log_level = "warning";
  max_connections = 10000;
  tls_certificate = "$TMPD/cert.pem";
  tls_key = "$TMPD/key.pem";
  listen = (
    { address = "127.0.0.1"; port = $tls; tls = true; },
    { address = "127.0.0.1"; port = $plain; }
  );
};
EOF
		cmd="$SEQECHOD -c $TMPD/seqechod.conf"
		[ "$1" = seqechod-tls ] && PORT=$tls ;;
	socat)
		cmd="socat OPENSSL-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork,backlog=128,cert=$TMPD/cert.pem,key=$TMPD/key.pem,verify=0 PIPE" ;;
	ncat)
		cmd="ncat --ssl --ssl-cert $TMPD/cert.pem --ssl-key $TMPD/key.pem -k -l 127.0.0.1 $PORT --exec /bin/cat" ;;
	esac
	# shellcheck disable=SC2086
	setsid taskset -c "$SERVER_CPU" $cmd >"$TMPD/server.log" 2>&1 &
	SPID=$!
	for _ in $(seq 100); do
		ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "  no $1 on port $PORT: $cmd" >&2
	sed 's/^/    /' "$TMPD/server.log" >&2
	stop_server
	return 1
}

load_args() { # workload
	case $1 in
	W3) echo "-n 50 -P 32 -s 16 -d $DUR" ;;
	W4) echo "-n 1 -P 64 -s 1024 -d $DUR" ;;
	esac
}

# One run: "value errors" appended to NAME.W.value / .errors.
run_one() { # name workload rep
	local name=$1 w=$2 rep=$3 out=$TMPD/out.json srv cmd line
	srv=${name% (seqecho-bench)}
	start_server "$srv" || {
		echo "- -" >>"$TMPD/$name.$w.fail"
		return 1
	}
	case $name in
	*"(seqecho-bench)")
		cmd="$SEQECHO_BENCH -c /dev/null --json"
		[ "$srv" = seqechod-tls ] && cmd="$cmd --tls --insecure" ;;
	seqechod-tls) cmd="$TLSLOAD --json -M seq" ;;
	seqechod-plain) cmd="$TLSLOAD --json -M seq --plain-tcp" ;;
	*) cmd="$TLSLOAD --json -M plain" ;;
	esac
	# shellcheck disable=SC2046,SC2086
	timeout -k 5 $((${DUR%.*} + 40)) taskset -c "$LOAD_CPU" $cmd \
	    $(load_args "$w") 127.0.0.1 "$PORT" >"$out" 2>"$TMPD/load.err"
	stop_server
	line=$(python3 - "$w" "$out" <<'EOF' 2>/dev/null
import json, sys
w, r = sys.argv[1], json.load(open(sys.argv[2]))
if "payload_mb_per_second" in r:    # seqecho-bench
    v = r["payload_mb_per_second" if w == "W4" else "messages_per_second"]
    e = r["errors"]["total"]
else:
    v = r["mb_per_second" if w == "W4" else "messages_per_second"]
    e = r["errors"]
print(v, e)
EOF
)
	if [ -z "$line" ]; then
		echo "  $name $w #$rep: no report:" >&2
		sed 's/^/    /' "$TMPD/load.err" "$TMPD/server.log" | head -20 >&2
		echo "- -" >>"$TMPD/$name.$w.fail"
		return 1
	fi
	# shellcheck disable=SC2086
	set -- $line
	echo "$1" >>"$TMPD/$name.$w.value"
	echo "$2" >>"$TMPD/$name.$w.errors"
	printf '  %-30s %s #%s: %s (errors %s)\n' "$name" "$w" "$rep" "$1" "$2"
	[ "$2" = 0 ] || sed 's/^/    /' "$TMPD/load.err" | head -5 >&2
}

NAMES=(seqechod-tls seqechod-plain socat ncat)
[ "$XCHECK" = 0 ] || NAMES+=("seqechod-tls (seqecho-bench)" \
    "seqechod-plain (seqecho-bench)")
echo "# $(date -u +%FT%TZ) $(uname -sr), $(nproc) CPUs; DUR=$DUR REPS=$REPS;" \
    "server on CPU $SERVER_CPU, load on CPU $LOAD_CPU"
echo "# $(socat -V | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')," \
    "$(ncat --version 2>&1 | sed -n 's/^Ncat: Version \([^ ]*\).*/ncat \1/p')," \
    "$(openssl version | cut -d' ' -f1-2)"
T0=$(date +%s)
# Every server once per pass, so a shared machine's drift hits all alike.
for r in $(seq "$REPS"); do
	echo "== pass $r of $REPS"
	for w in W3 W4; do
		for n in "${NAMES[@]}"; do
			run_one "$n" "$w" "$r" || echo "  $n $w #$r failed" >&2
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
    return [float(x) for x in open(path).read().split() if x != "-"]

def nfail(name, w):
    path = os.path.join(d, "%s.%s.fail" % (name, w))
    return len(open(path).readlines()) if os.path.exists(path) else 0

def short(v):
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e4:
        return "%.0fk" % (v / 1e3)
    return "%.1f" % v

def median(name, w):
    v = values(name, w, "value")
    return statistics.median(v) if v else None

def cell(name, w):
    v = values(name, w, "value")
    s = "-"
    if v:
        m = statistics.median(v)
        s = short(m) if min(v) == max(v) else \
            "%s (%s-%s)" % (short(m), short(min(v)), short(max(v)))
    e, f = sum(values(name, w, "errors")), nfail(name, w)
    if e:
        s += " **%d errors**" % e
    if f:
        s += " **%d of %s runs failed**" % (f, reps)
    return s

print()
print("Medians of %s runs (min-max), %s s each." % (reps, dur))
print()
print("| server | W3 msg/s | W4 MB/s |")
print("|---|---|---|")
for n in names:
    print("| %s | %s | %s |" % (n, cell(n, "W3"), cell(n, "W4")))
print()
print("| ratio of medians | W3 | W4 |")
print("|---|---|---|")
for other in ["seqechod-plain", "socat", "ncat",
              "seqechod-tls (seqecho-bench)"]:
    if other not in names:
        continue
    row = []
    for w in ["W3", "W4"]:
        a, b = median("seqechod-tls", w), median(other, w)
        row.append("%.2f" % (a / b) if a and b else "-")
    print("| seqechod-tls / %s | %s |" % (other, " | ".join(row)))
EOF
echo "- wall time: $(( $(date +%s) - T0 )) s"
