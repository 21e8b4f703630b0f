#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/.. disable=SC2016  # backticks are Markdown
# Where an authenticated GetAccount spends its time, in figures that do not
# depend on how busy the (shared) machine is: instructions per request by
# function (valgrind callgrind) and system calls per request (strace -c).
# Not part of `make bench`; takes about 40 s.
#
#   bench/profile.sh [PATH_TO_TESSERA]
#
# Knobs (env): PROFILE_THREADS=1 PROFILE_WORKERS=2 (tessera serve flags),
# PROFILE_SECONDS=8 (callgrind run), BENCH_KEEP=1 keeps callgrind.out.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESSERA=${1:-$(dirname "$BENCH_HERE")/build-bench/tessera}
BENCH_PY=${BENCH_PY:-/usr/bin/python3}
PROFILE_THREADS=${PROFILE_THREADS:-1}
PROFILE_WORKERS=${PROFILE_WORKERS:-2}
PROFILE_SECONDS=${PROFILE_SECONDS:-8}
# shellcheck source=bench/lib.sh
. "$BENCH_HERE/lib.sh"

for t in valgrind callgrind_annotate strace; do
	command -v "$t" >/dev/null || bench_die "$t not found"
done
bench_init
bench_tessera_setup
url_path="/api/v1/accounts/$TESSERA_ACCOUNT_ID"
lua="$BENCH_HERE/getaccount.lua"

# 1. callgrind: the server under valgrind, a few connections, then SIGTERM
cg="$BENCH_DIR/callgrind.out"
port=$(bench_free_port)
audit0=$(bench_audit_count)
valgrind --tool=callgrind --callgrind-out-file="$cg" "$TESSERA" serve \
	--listen "127.0.0.1:$port" --db "$TS_DB" --master-key-file "$TS_KEY" \
	--access-log off --log-level warn --threads "$PROFILE_THREADS" \
	--workers "$PROFILE_WORKERS" >"$BENCH_DIR/valgrind.log" 2>&1 &
vg=$!
BENCH_PIDS+=("$vg")
bench_log "callgrind: waiting for the server (valgrind starts slowly)"
for _ in $(seq 100); do
	curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" && break
	kill -0 "$vg" 2>/dev/null || bench_die "valgrind exited: $(cat "$BENCH_DIR/valgrind.log")"
	sleep 0.3
done
bench_log "callgrind: GetAccount for ${PROFILE_SECONDS}s"
timeout $((PROFILE_SECONDS + 20)) wrk -t1 -c8 -d"${PROFILE_SECONDS}s" -s "$lua" \
	"http://127.0.0.1:$port$url_path" >"$BENCH_DIR/wrk-cg.txt" 2>&1 || true
bench_stop "$vg"
[ -s "$cg" ] || bench_die "no callgrind output: $(cat "$BENCH_DIR/valgrind.log")"
n_cg=$(($(bench_audit_count) - audit0))
[ "$n_cg" -gt 0 ] || bench_die "no GetAccount completed under callgrind"
callgrind_annotate --inclusive=yes --threshold=100 "$cg" >"$BENCH_DIR/cg-incl.txt" 2>/dev/null
callgrind_annotate --threshold=100 "$cg" >"$BENCH_DIR/cg-self.txt" 2>/dev/null

# 2. strace -c on a native run (strace slows the server: only counts matter)
bench_tessera_start "$PROFILE_THREADS" "$PROFILE_WORKERS"
audit0=$(bench_audit_count)
strace -f -c -o "$BENCH_DIR/strace.txt" -p "$TS_PID" 2>/dev/null &
st=$!
BENCH_PIDS+=("$st")
sleep 0.5
timeout 25 wrk -t1 -c50 -d3s -s "$lua" "$TS_BASE$url_path" >"$BENCH_DIR/wrk-st.txt" 2>&1 || true
sleep 0.2
kill -INT "$st" 2>/dev/null || true
wait "$st" 2>/dev/null || true
wal_bytes=$(stat -c %s "$TS_DB-wal" 2>/dev/null || echo 0)
bench_stop "$TS_PID"
n_st=$(($(bench_audit_count) - audit0))

# the report
mkdir -p "$BENCH_HERE/out"
per_req() { # FILE N: the inclusive Ir per request of the functions named
	awk -v n="$2" '
	BEGIN {
		split("PROGRAM_TOTALS worker_main loop_main admin_handle ts_http_conn " \
		      "ts_admin_key_authenticate ts_admin_policy_parse_text ts_admin_policy_evaluate " \
		      "get_account ts_http_audit_then_answer ts_store_audit_append_now " \
		      "ts_store_audit_append ts_store_audit_hash ts_json_dump ts_http_res_json " \
		      "ts_store_begin ts_store_commit ts_store_rollback sqlite3_step sqlite3_exec " \
		      "checkpointer sqlite3_wal_checkpoint_v2 json_loadb json_dumpb malloc free", want, " ")
		for (i in want) w[want[i]] = i
	}
	{
		gsub(",", "", $1)
		name = $0
		if ($0 ~ /PROGRAM TOTALS/) { name = "PROGRAM_TOTALS" }
		else {
			sub(/^.*:/, "", name)
			sub(/ .*/, "", name)
		}
		if ((name in w) && !(name in seen)) { seen[name] = $1; order[w[name]] = name }
	}
	END {
		printf "| Function (inclusive) | Instructions per request | Share |\n|---|---:|---:|\n"
		for (i = 1; i <= length(want); i++) {
			f = order[i]
			if (f == "") continue
			printf "| %s | %.0f | %.1f%% |\n", f, seen[f] / n, 100 * seen[f] / seen["PROGRAM_TOTALS"]
		}
	}' "$1"
}
{
	printf '## GetAccount profile, %s\n\n' "$(date '+%Y-%m-%d %H:%M:%S %Z')"
	printf -- '- `%s serve --threads %s --workers %s`; %d GetAccount calls under callgrind (wrk -c8), %d under strace (wrk -c50)\n' \
		"$TESSERA" "$PROFILE_THREADS" "$PROFILE_WORKERS" "$n_cg" "$n_st"
	printf -- '- Instruction counts include server start-up (amortised over the calls) and the event loop\n\n'
	per_req "$BENCH_DIR/cg-incl.txt" "$n_cg"
	printf '\nTop functions by own instructions (per request):\n\n| Function | Instructions per request |\n|---|---:|\n'
	grep -E '^ *[0-9,]+ \( *[0-9.]+%\)' "$BENCH_DIR/cg-self.txt" | sed -n '2,16p' |
		sed -E 's/^ *([0-9,]+) \( *[0-9.]+%\) +/\1 /' | awk -v n="$n_cg" '{
		c = $1; gsub(",", "", c); $1 = ""; sub(/^ +/, ""); printf "| `%s` | %.0f |\n", substr($0, 1, 90), c / n }'
	printf '\nSystem calls per GetAccount (strace -c, all threads):\n\n| Syscall | Calls per request | Errors |\n|---|---:|---:|\n'
	awk -v n="$n_st" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {
		err = (NF == 6 ? $5 : 0); printf "| %s | %.2f | %s |\n", $NF, $4 / n, err }' "$BENCH_DIR/strace.txt" |
		sort -t'|' -k3 -g -r | head -15
	printf '\nWAL after the strace run: %d bytes for %d audit events, %s KiB and %s frames per event\n' \
		"$wal_bytes" "$n_st" "$(awk -v b="$wal_bytes" -v n="$n_st" 'BEGIN { printf "%.1f", b / 1024 / n }')" \
		"$(awk -v b="$wal_bytes" -v n="$n_st" 'BEGIN { printf "%.2f", (b - 32) / 4120 / n }')"
	printf '(a lower bound: the WAL file is reused from its start after a complete checkpoint)\n'
} | tee -a "$BENCH_HERE/out/profile.md"
if [ -n "${BENCH_KEEP:-}" ]; then bench_log "kept $cg"; fi
