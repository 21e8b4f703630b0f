#!/bin/bash
# OpenID Connect sign-in benchmark: completed callbacks per second through
# GET /auth/oidc/callback (SQLite store), and the ID token work of one core
# against `openssl speed` RSA-2048 verification, in one run on the same cores.
# Prints a Markdown table.
#
#   bench/oidc_bench.sh TESSERA_BIN [TOOLS_DIR]
#
# TOOLS_DIR (default: next to TESSERA_BIN) holds oidc_stub, saml_post and scim_load
# (bench/*.c, built with the server).
#
# Workloads:
#   Tessera   N sign-ins, each started untimed (GET /auth/{AccountId}/oidc as a new
#             browser: bench/oidc_flows.py keeps state, nonce and the binding cookie),
#             then each callback GET once, timed, CONNS keep-alive connections
#             (bench/saml_post.c). For each callback Tessera takes the state (single
#             use), calls the token endpoint over loopback http (client_secret_basic,
#             a reused connection), verifies the RS256 ID token with the JWKS key,
#             checks its claims, lets the directory decide, and writes the session,
#             the registration on a first sign-in, the SignIn audit event and the
#             sign-in attempt; the answer is a 303 with the session cookie, anything
#             else is an error. The account lets USERS people in (verified domain,
#             licensed group). WARM callbacks first, then REPS runs of N/REPS.
#   provider  bench/oidc_stub.c, so that the provider is not the bottleneck: the ID
#             tokens (RS256, RSA-2048) are signed before the timed phase, since each
#             flow's nonce is Tessera's; the token endpoint answers from memory.
#   verify    oidc_stub --verify: parse + RS256 verification + claim checks of one
#             ID token on one core for VERIFY_S seconds, next to `openssl speed
#             rsa2048` (verify/s, one core) in the same run.
# Environment: N (15000), WARM (2000), USERS (1000), REPS (3, median), CONNS (32),
# VERIFY_S (3), SERVE_ARGS ("--threads 1"), KEEP=1, CALLGRIND_OUT (a path prefix: the server
# under valgrind's callgrind, its counters zeroed before the timed runs and dumped after). The
# nodes run with --signin-rate-limit 0: one client address sends every sign-in.
set -euo pipefail

BIN=$(readlink -f "${1:?usage: oidc_bench.sh TESSERA_BIN [TOOLS_DIR]}")
TOOLS=$(readlink -f "${2:-$(dirname "$BIN")}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
N=${N:-15000}
WARM=${WARM:-2000}
USERS=${USERS:-1000}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
VERIFY_S=${VERIFY_S:-3}
SERVE_ARGS=${SERVE_ARGS---threads 1}
DOMAIN=bench.example
CLIENT_ID=tessera-bench
bench_start oidc-bench
BENCH_NAME=oidc_bench
. "$HERE/signin_common.sh"
need_tools oidc_bench oidc_stub saml_post scim_load

# stub NONCES: the provider on STUB_PORT with the flows of NONCES; waits until it is ready
STUB_PID=
stub() {
	if [ -n "$STUB_PID" ]; then
		kill "$STUB_PID" 2>/dev/null || true
		wait "$STUB_PID" 2>/dev/null || true
	fi
	"$TOOLS/oidc_stub" "$STUB_PORT" "$CLIENT_ID" "$WORK/op.key" "$1" >"$WORK/stub.out" \
		2>"$WORK/stub.err" &
	STUB_PID=$!
	PIDS+=("$STUB_PID")
	for _ in $(seq 1200); do
		grep -q '^READY' "$WORK/stub.out" 2>/dev/null && return 0
		kill -0 "$STUB_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "oidc_bench: the stub did not start: $(cat "$WORK/stub.err")" >&2
	exit 1
}

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/op.key" 2>/dev/null
STUB_PORT=$(free_port)
: >"$WORK/none"
stub "$WORK/none"

log "tessera (SQLite): setting up"
DB=$WORK/t.db
setup_directory "$DB"
jq -n --arg i "http://127.0.0.1:$STUB_PORT" --arg c "$CLIENT_ID" \
	'{Issuer: $i, ClientId: $c, ClientSecret: "bench-client-secret-0123456789abcdef"}' \
	>"$WORK/oidc-config.json"
api PUT "$NODE_URL/api/v1/accounts/$ACCT/openid-config" "@$WORK/oidc-config.json" \
	>"$WORK/oidc-config.out" || {
	echo "oidc_bench: the OpenID configuration was refused" >&2
	exit 1
}
check_allowed
T_URL=$NODE_URL
T_PID=${NODE_PIDS[0]}
T_PORT=${T_URL##*:}
PER=$((N / REPS))
TOTAL=$((WARM + PER * REPS))

log "starting $TOTAL sign-ins (untimed)"
TF=$(date +%s.%N)
/usr/bin/python3 "$HERE/oidc_flows.py" "$T_URL" "$ACCT" "$TOTAL" "$USERS" "$DOMAIN" \
	"$WORK/nonces" "$WORK/flows"
log "signing $TOTAL ID tokens (untimed)"
stub "$WORK/nonces"
T_PREP=$(awk -v a="$TF" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')

log "tessera: warm-up, $WARM first sign-ins"
"$TOOLS/saml_post" 127.0.0.1 "$T_PORT" - "$WORK/flows" "$CONNS" 0 "$WARM" 303 |
	sed 's/^/# warm: /' >&2 || {
	echo "oidc_bench: Tessera refused sign-ins; checks: $(refusal_checks "$T_URL")" >&2
	exit 1
}
log "tessera: $REPS x $PER callbacks"
L_T=$(load1)
S0=$(cpu_ticks "$STUB_PID")
[ -z "${CALLGRIND_OUT:-}" ] || callgrind_control -z "$T_PID" >/dev/null
read -r T_RPS T_P99 T_ERR T_CPU < <(post_runs tessera 127.0.0.1 "$T_PORT" - "$WORK/flows" \
	"$WARM" "$PER" "$CONNS" 303 "$T_PID")
if [ -n "${CALLGRIND_OUT:-}" ]; then # instructions of the timed runs alone
	callgrind_control -d "$T_PID" >/dev/null
	log "callgrind: $CALLGRIND_OUT.$T_PID.1 holds $((REPS * PER)) callbacks"
fi
S_CPU=$(per_req_ms $(($(cpu_ticks "$STUB_PID") - S0)) $((REPS * PER)))
SESSIONS=$(/usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM sessions").fetchone()[0])' "$DB" 2>/dev/null || echo "?")

log "one core: ID token verification against openssl speed"
L_V=$(load1)
V_RPS=$("$TOOLS/oidc_stub" --verify "$WORK/op.key" "$VERIFY_S" | field verifies_per_s)
O_RPS=$(openssl speed -seconds "$VERIFY_S" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF}')
RATIO=$(echo "$V_RPS $O_RPS" | awk '{ if ($2 > 0) printf "%.0f", 100 * $1 / $2; else print "n/a" }')

cat <<EOF
| Workload | Rate | p99 ms | Errors | CPU ms per sign-in | load1 before |
|---|---|---|---|---|---|
| Tessera callbacks, SQLite (303 + session + audit event + attempt) | $T_RPS/s | $T_P99 | $T_ERR | $T_CPU (server), $S_CPU (stub) | $L_T |
| ID token parse + RS256 verify + claims, 1 core | $V_RPS/s | | | | $L_V |
| openssl speed rsa2048 verify, 1 core | $O_RPS/s | | | | |
| verify / openssl | $RATIO % | | | | |

Sessions in the store after the run: $SESSIONS (one per callback: $TOTAL). Preparing the
flows and signing the tokens took ${T_PREP} s, untimed.
EOF
