#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/.. disable=SC2016  # backticks are Markdown
# Tessera foundation benchmark: nginx static file vs Tessera /healthz vs
# authenticated GetAccount on SQLite, all with wrk on 127.0.0.1.
#
#   bench/run.sh [PATH_TO_TESSERA]     (default build-bench/tessera of this checkout)
#
# Prints a Markdown report on stdout (progress on stderr), writes it to
# bench/out/latest.md and appends it to bench/out/history.md. Knobs (env):
#   BENCH_DURATION=10   seconds per measured wrk run
#   BENCH_WARMUP=2      seconds of warm-up before each measured run
#   BENCH_CONNS=50      wrk connections
#   BENCH_WRK_THREADS="1 2"   wrk -t values to run (each one a row)
#   BENCH_TS_THREADS=1 BENCH_TS_WORKERS=2   tessera serve --threads/--workers
#                        (best found by bench/sweep.sh on the 2-core machine)
#   BENCH_NGINX_WORKERS="1 auto"   nginx worker_processes values
#   BENCH_KEEP=1        keep the temp dir (logs, database) for inspection
#   BENCH_QUIET_WAIT=10 seconds to wait, before each run, for someone else's wrk
# With the defaults the whole run takes about 2 minutes.
# `make bench` runs this with sh: re-run under bash (POSIX up to here)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESSERA=${1:-$(dirname "$BENCH_HERE")/build-bench/tessera}
BENCH_PY=${BENCH_PY:-/usr/bin/python3}
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_CONNS=${BENCH_CONNS:-50}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-1 2}
BENCH_TS_THREADS=${BENCH_TS_THREADS:-1}
BENCH_TS_WORKERS=${BENCH_TS_WORKERS:-2}
BENCH_NGINX_WORKERS=${BENCH_NGINX_WORKERS:-1 auto}
# shellcheck source=bench/lib.sh
. "$BENCH_HERE/lib.sh"

started=$(date '+%Y-%m-%d %H:%M:%S %Z')
start_s=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_init
bench_log "tessera $TESSERA, temp dir $BENCH_DIR"

for nw in $BENCH_NGINX_WORKERS; do
	bench_nginx_start "$nw"
	for wt in $BENCH_WRK_THREADS; do
		bench_wrk "nginx static JSON" "nginx, worker_processes $nw" "$NGINX_PID" "$wt" "$NGINX_URL"
	done
	bench_stop "$NGINX_PID"
done

bench_tessera_setup
audit_before=$(bench_audit_count)
bench_tessera_start "$BENCH_TS_THREADS" "$BENCH_TS_WORKERS"
ts_desc="tessera, --threads $BENCH_TS_THREADS --workers $BENCH_TS_WORKERS"
for wt in $BENCH_WRK_THREADS; do
	bench_wrk "Tessera GET /healthz" "$ts_desc" "$TS_PID" "$wt" "$TS_BASE/healthz"
done
getaccount_reqs=0
for wt in $BENCH_WRK_THREADS; do
	bench_wrk "Tessera GetAccount (SQLite)" "$ts_desc" "$TS_PID" "$wt" \
		"$TS_BASE/api/v1/accounts/$TESSERA_ACCOUNT_ID" "$BENCH_HERE/getaccount.lua"
	getaccount_reqs=$((getaccount_reqs + WRK_LAST_REQS))
done
rss_kb=$(bench_rss_kb "$TS_PID")
hwm_kb=$(bench_hwm_kb "$TS_PID")
nthreads=$(awk '/^Threads:/ { print $2 }' "/proc/$TS_PID/status")
bench_stop "$TS_PID"
audit_after=$(bench_audit_count)
audit_written=$((audit_after - audit_before))
db_kb=$(du -sk "$BENCH_DIR/tessera" | cut -f1)

nginx_best=$(bench_best "nginx static JSON")
healthz_best=$(bench_best "Tessera GET /healthz")
getacc_best=$(bench_best "Tessera GetAccount (SQLite)")
ratio=$(awk -v a="$healthz_best" -v b="$nginx_best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
verdict_h=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5 ? "met" : "MISSED") }')
verdict_g=$(awk -v g="$getacc_best" 'BEGIN { print (g >= 20000 ? "met" : "MISSED") }')
elapsed=$(($(date +%s) - start_s))
src_state=$(cd "$BENCH_HERE/.." && git rev-parse --short HEAD 2>/dev/null || echo unknown)
src_dirty=$(cd "$BENCH_HERE/.." && git status --porcelain -- src 2>/dev/null | wc -l)
src_time=$(cd "$BENCH_HERE/.." && git log -1 --format=%ct 2>/dev/null || echo 0)
bin_note=""
[ "$(date -r "$TESSERA" +%s)" -ge "$src_time" ] || bin_note=" (OLDER than that commit: rebuild)"

report=$(
	printf '## Tessera benchmark, %s\n\n' "$started"
	printf -- '- Machine: %s; load average before: %s, after: %s\n' "$(bench_machine)" \
		"$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf -- '- Command: `bench/run.sh %s` (BENCH_DURATION=%s BENCH_WARMUP=%s BENCH_CONNS=%s BENCH_WRK_THREADS="%s" BENCH_TS_THREADS=%s BENCH_TS_WORKERS=%s); %s s in all\n' \
		"$TESSERA" "$BENCH_DURATION" "$BENCH_WARMUP" "$BENCH_CONNS" "$BENCH_WRK_THREADS" \
		"$BENCH_TS_THREADS" "$BENCH_TS_WORKERS" "$elapsed"
	printf -- '- Source: commit %s, %s file(s) in src/ modified since; binary built %s%s\n' "$src_state" \
		"$src_dirty" "$(date -r "$TESSERA" '+%Y-%m-%d %H:%M:%S')" "$bin_note"
	printf -- '- wrk runs on the same cores as the server (loopback, 127.0.0.1); CPU columns are %% of one core over the measured run\n\n'
	bench_table
	printf '\n'
	printf -- '- Tessera /healthz vs nginx (best of each): %s / %s = %s (target >= 0.50: %s)\n' \
		"$healthz_best" "$nginx_best" "$ratio" "$verdict_h"
	printf -- '- Tessera GetAccount best: %s req/s (target >= 20000: %s)\n' "$getacc_best" "$verdict_g"
	printf -- '- Tessera after the run: VmRSS %d KiB, VmHWM %d KiB, %s threads; data dir %d KiB\n' \
		"$rss_kb" "$hwm_kb" "$nthreads" "$db_kb"
	printf -- '- Audit events written during serve: %d (GetAccount responses wrk counted, warm-ups included: %d)\n' \
		"$audit_written" "$getaccount_reqs"
)
mkdir -p "$BENCH_HERE/out"
printf '%s\n' "$report"
printf '%s\n' "$report" >"$BENCH_HERE/out/latest.md"
printf '%s\n\n' "$report" >>"$BENCH_HERE/out/history.md"
bench_log "done in ${elapsed}s; report in $BENCH_HERE/out/latest.md"
