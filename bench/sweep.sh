#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/.. disable=SC2016  # backticks are Markdown
# Sweep tessera serve --threads/--workers for /healthz and GetAccount, to
# pick the defaults of bench/run.sh. Not part of `make bench`.
#
#   bench/sweep.sh [PATH_TO_TESSERA]
#
# Knobs (env): BENCH_SWEEP_THREADS="1 2", BENCH_SWEEP_WORKERS="1 2 4 8",
# BENCH_DURATION=5, BENCH_WARMUP=1, BENCH_CONNS=50, BENCH_WRK_THREADS=1.
# About 15 s per (threads, workers) pair: 8 pairs take about 2 minutes.
# Report on stdout, also appended to bench/out/sweep.md.
# `make bench` runs this with sh: re-run under bash (POSIX up to here)
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESSERA=${1:-$(dirname "$BENCH_HERE")/build-bench/tessera}
BENCH_PY=${BENCH_PY:-/usr/bin/python3}
BENCH_DURATION=${BENCH_DURATION:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_CONNS=${BENCH_CONNS:-50}
BENCH_WRK_THREADS=${BENCH_WRK_THREADS:-1}
BENCH_SWEEP_THREADS=${BENCH_SWEEP_THREADS:-1 2}
BENCH_SWEEP_WORKERS=${BENCH_SWEEP_WORKERS:-1 2 4 8}
# shellcheck source=bench/lib.sh
. "$BENCH_HERE/lib.sh"

started=$(date '+%Y-%m-%d %H:%M:%S %Z')
bench_init
bench_tessera_setup
for th in $BENCH_SWEEP_THREADS; do
	for wk in $BENCH_SWEEP_WORKERS; do
		bench_tessera_start "$th" "$wk"
		desc="--threads $th --workers $wk"
		for wt in $BENCH_WRK_THREADS; do
			bench_wrk "healthz" "$desc" "$TS_PID" "$wt" "$TS_BASE/healthz"
			bench_wrk "GetAccount" "$desc" "$TS_PID" "$wt" \
				"$TS_BASE/api/v1/accounts/$TESSERA_ACCOUNT_ID" "$BENCH_HERE/getaccount.lua"
		done
		bench_stop "$TS_PID"
	done
done

report=$(
	printf '## Tessera --threads/--workers sweep, %s\n\n' "$started"
	printf -- '- Machine: %s\n' "$(bench_machine)"
	printf -- '- Command: `bench/sweep.sh %s` (BENCH_DURATION=%s BENCH_WARMUP=%s BENCH_CONNS=%s BENCH_WRK_THREADS="%s")\n\n' \
		"$TESSERA" "$BENCH_DURATION" "$BENCH_WARMUP" "$BENCH_CONNS" "$BENCH_WRK_THREADS"
	bench_table
	printf '\n'
	for l in healthz GetAccount; do
		awk -F'\t' -v l="$l" '$1 == l && $4 > best { best = $4; cfg = $2 }
			END { printf "- Best %s: %.0f req/s with `%s`\n", l, best, cfg }' "$BENCH_ROWS"
	done
)
mkdir -p "$BENCH_HERE/out"
printf '%s\n' "$report"
printf '%s\n\n' "$report" >>"$BENCH_HERE/out/sweep.md"
