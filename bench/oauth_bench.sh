#!/bin/bash
# Token endpoint benchmark (docs/oauth.md): device-code polls per second and
# successful token issuances per second through POST /oauth/token, SQLite
# store, with p99. Prints a Markdown table.
#
#   bench/oauth_bench.sh TESSERA_BIN [TOOLS_DIR]
#
# TOOLS_DIR (default: next to TESSERA_BIN) holds oauth_load and saml_post (bench/*.c,
# built with the server).
#
# Workloads (each request sent once, CONNS keep-alive connections, bench/saml_post.c):
#   polls      PENDING distinct pending device flows (RFC 8628), polled in turn, round
#              after round: each poll is a real pending poll, one write transaction that
#              records it and decides slow_down from the row (store/queries_oauth.h); the
#              answer is a 400 (authorization_pending, or slow_down when a flow comes
#              round again within the interval, --device-poll-interval 1), anything else
#              is an error.
#   issuance   device-code grants of approved flows, each once (the code consumed, a CLI
#              session and a refresh token written), then refresh grants, each once (the
#              token spent, the session checked, a new session and refresh token); the
#              answer is a 200 with the tokens.
# The flows, sessions and refresh tokens are written beforehand by bench/oauth_load.c
# through the store's functions, untimed. WARM requests of each kind first, then REPS
# runs. The same again on PostgreSQL at its default durability (scripts/pg-test.sh with
# PG_TEST_DURABLE=1) with two nodes, each given half of every run's requests over half
# the connections at once (rate: the run's requests over the slower half's time; p99:
# the worse half's). Environment: PENDING (10000), ROUNDS (3 per run), GRANTS (5000 per
# run), WARM (1000), REPS (3, median), CONNS (32), SERVE_ARGS ("--threads 1"), PG (1; 0:
# SQLite only), KEEP=1.
set -euo pipefail

BIN=$(readlink -f "${1:?usage: oauth_bench.sh TESSERA_BIN [TOOLS_DIR]}")
TOOLS=$(readlink -f "${2:-$(dirname "$BIN")}")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
PG=${PG:-1}
PENDING=${PENDING:-10000}
ROUNDS=${ROUNDS:-3}
GRANTS=${GRANTS:-5000}
WARM=${WARM:-1000}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
SERVE_ARGS=${SERVE_ARGS---threads 1}
WORK=$(mktemp -d /tmp/oauth-bench.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -d "$WORK/pg" ]; then sh "$REPO/scripts/pg-test.sh" stop "$WORK/pg" >/dev/null 2>&1 || true; fi
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
. "$HERE/common.sh"
BENCH_NAME=oauth_bench
. "$HERE/signin_common.sh"
for t in oauth_load saml_post; do
	[ -x "$TOOLS/$t" ] || {
		echo "oauth_bench: $TOOLS/$t is missing (build bench/*.c)" >&2
		exit 1
	}
done

# runs NAME BODIES FIRST PER EXPECT PID: REPS runs of saml_post over consecutive slices
# of BODIES, each answer expected to be EXPECT; "rps p99 errors cpu_ms" (medians) on stdout
runs() {
	local name=$1 bodies=$2 first=$3 per=$4 expect=$5 pid=$6 errs=0 ticks=0 r c0 out e
	: >"$WORK/$name.res"
	for r in $(seq 0 $((REPS - 1))); do
		c0=$(cpu_ticks "$pid")
		out=$("$TOOLS/saml_post" 127.0.0.1 "$T_PORT" /oauth/token "$bodies" "$CONNS" \
			$((first + r * per)) "$per" "$expect" || true)
		ticks=$((ticks + $(cpu_ticks "$pid") - c0))
		echo "$out" | sed "s/^/# $name: /" >&2
		echo "$out" | grep '^RESULT' >>"$WORK/$name.res" || echo "RESULT rps=0 errors=$per" >>"$WORK/$name.res"
		e=$(echo "$out" | field errors | head -1)
		errs=$((errs + ${e:-$per}))
	done
	echo "$(field rps <"$WORK/$name.res" | median) $(field p99_ms <"$WORK/$name.res" | median)" \
		"$errs $(per_req_ms "$ticks" $((REPS * per)))"
}

# runs2 NAME BODIES FIRST PER EXPECT: as runs, each run split between the two nodes
# (NODE_PORTS) at once; "rps p99 errors cpu_ms" (medians; CPU of both nodes)
runs2() {
	local name=$1 bodies=$2 first=$3 per=$4 expect=$5 errs=0 ticks=0 half r c0 a b e
	half=$((per / 2))
	: >"$WORK/$name.res"
	for r in $(seq 0 $((REPS - 1))); do
		c0=$(cpu_ticks "${NODE_PIDS[@]}")
		("$TOOLS/saml_post" 127.0.0.1 "${NODE_PORTS[0]}" /oauth/token "$bodies" $((CONNS / 2)) \
			$((first + r * per)) "$half" "$expect" >"$WORK/$name.a" || true) &
		"$TOOLS/saml_post" 127.0.0.1 "${NODE_PORTS[1]}" /oauth/token "$bodies" $((CONNS / 2)) \
			$((first + r * per + half)) $((per - half)) "$expect" >"$WORK/$name.b" || true
		wait $!
		ticks=$((ticks + $(cpu_ticks "${NODE_PIDS[@]}") - c0))
		sed "s/^/# $name A: /" "$WORK/$name.a" >&2
		sed "s/^/# $name B: /" "$WORK/$name.b" >&2
		a=$(grep '^RESULT' "$WORK/$name.a" || echo "RESULT seconds=0 p99_ms=0 errors=$half")
		b=$(grep '^RESULT' "$WORK/$name.b" || echo "RESULT seconds=0 p99_ms=0 errors=$half")
		printf '%s\n%s\n' "$a" "$b" | awk -v n="$per" '
			{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			  if (v["seconds"] > s) s = v["seconds"]; if (v["p99_ms"] > p) p = v["p99_ms"]; e += v["errors"] }
			END { printf "RESULT rps=%.0f p99_ms=%.2f errors=%d\n", (s > 0 ? n / s : 0), p, e }' \
			>>"$WORK/$name.res"
		e=$(tail -1 "$WORK/$name.res" | field errors)
		errs=$((errs + ${e:-$per}))
	done
	echo "$(field rps <"$WORK/$name.res" | median) $(field p99_ms <"$WORK/$name.res" | median)" \
		"$errs $(per_req_ms "$ticks" $((REPS * per)))"
}

# warm NAME BODIES COUNT EXPECT: the first COUNT lines, untimed
warm() {
	"$TOOLS/saml_post" 127.0.0.1 "$T_PORT" /oauth/token "$2" "$CONNS" 0 "$3" "$4" |
		sed "s/^/# warm $1: /" >&2 || {
		echo "oauth_bench: the $1 warm-up had errors" >&2
		exit 1
	}
}

log "tessera (SQLite): $PENDING pending flows, $((WARM + REPS * GRANTS)) approved, as many refresh tokens"
DB=$WORK/t.db
"$BIN" init --db "$DB" --master-key-file "$KEY" --json >/dev/null
PER_POLL=$((PENDING * ROUNDS))
TOTAL_ROUNDS=$(((WARM + PER_POLL * REPS + PENDING - 1) / PENDING))
TOTAL_GRANTS=$((WARM + GRANTS * REPS))
"$TOOLS/oauth_load" "$DB" "$PENDING" "$TOTAL_ROUNDS" "$TOTAL_GRANTS" "$TOTAL_GRANTS" "$WORK" >&2
start_node "$DB" --device-poll-interval 1
T_PID=${NODE_PIDS[0]}
T_PORT=${NODE_PORTS[0]}

warm polls "$WORK/poll" "$WARM" 400
log "tessera: $REPS x $PER_POLL polls"
L_P=$(load1)
read -r P_RPS P_P99 P_ERR P_CPU < <(runs polls "$WORK/poll" "$WARM" "$PER_POLL" 400 "$T_PID")

warm grants "$WORK/grant" "$WARM" 200
log "tessera: $REPS x $GRANTS device-code grants"
L_G=$(load1)
read -r G_RPS G_P99 G_ERR G_CPU < <(runs grants "$WORK/grant" "$WARM" "$GRANTS" 200 "$T_PID")

warm refresh "$WORK/refresh" "$WARM" 200
log "tessera: $REPS x $GRANTS refresh grants"
L_R=$(load1)
read -r R_RPS R_P99 R_ERR R_CPU < <(runs refresh "$WORK/refresh" "$WARM" "$GRANTS" 200 "$T_PID")

cat <<EOF
| Workload (SQLite, one node) | Rate | p99 ms | Errors | CPU ms per request | load1 before |
|---|---|---|---|---|---|
| device-code polls over $PENDING pending flows (400 authorization_pending / slow_down) | $P_RPS/s | $P_P99 | $P_ERR | $P_CPU | $L_P |
| device-code grants (200: code consumed, session, refresh token) | $G_RPS/s | $G_P99 | $G_ERR | $G_CPU | $L_G |
| refresh grants (200: token spent, session checked, new session and token) | $R_RPS/s | $R_P99 | $R_ERR | $R_CPU | $L_R |
EOF

[ "$PG" = 1 ] || exit 0
stop_nodes
log "starting PostgreSQL (fsync on, synchronous_commit on)"
URL=$(PG_TEST_DURABLE=1 sh "$REPO/scripts/pg-test.sh" start "$WORK/pg")
"$BIN" init --db "$URL" --master-key-file "$KEY" --json >/dev/null
"$TOOLS/oauth_load" "$URL" "$PENDING" "$TOTAL_ROUNDS" "$TOTAL_GRANTS" "$TOTAL_GRANTS" "$WORK" >&2
start_node "$URL" --device-poll-interval 1
start_node "$URL" --device-poll-interval 1
T_PORT=${NODE_PORTS[0]}
warm polls "$WORK/poll" "$WARM" 400
log "tessera, 2 nodes on PostgreSQL: $REPS x $PER_POLL polls"
L_P=$(load1)
read -r P_RPS P_P99 P_ERR P_CPU < <(runs2 pg-polls "$WORK/poll" "$WARM" "$PER_POLL" 400)
warm grants "$WORK/grant" "$WARM" 200
log "tessera, 2 nodes on PostgreSQL: $REPS x $GRANTS device-code grants"
L_G=$(load1)
read -r G_RPS G_P99 G_ERR G_CPU < <(runs2 pg-grants "$WORK/grant" "$WARM" "$GRANTS" 200)
warm refresh "$WORK/refresh" "$WARM" 200
log "tessera, 2 nodes on PostgreSQL: $REPS x $GRANTS refresh grants"
L_R=$(load1)
read -r R_RPS R_P99 R_ERR R_CPU < <(runs2 pg-refresh "$WORK/refresh" "$WARM" "$GRANTS" 200)
cat <<EOF

| Workload (PostgreSQL, two nodes) | Rate | p99 ms | Errors | CPU ms per request (nodes) | load1 before |
|---|---|---|---|---|---|
| device-code polls over $PENDING pending flows | $P_RPS/s | $P_P99 | $P_ERR | $P_CPU | $L_P |
| device-code grants | $G_RPS/s | $G_P99 | $G_ERR | $G_CPU | $L_G |
| refresh grants | $R_RPS/s | $R_P99 | $R_ERR | $R_CPU | $L_R |
EOF
