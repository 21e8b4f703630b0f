# Helpers shared by the benchmarks (bench/*_bench.sh, bash), sourced once the caller
# has set HERE (this folder); wrk_runs also needs REPS, DUR and CONNS.

REPO=$(dirname "$HERE")

log() { echo "# $*" >&2; }

# bench_start NAME: WORK, a new scratch directory /tmp/NAME.XXXXXX, and PIDS, the
# background processes to stop. On exit they are stopped, the PostgreSQL cluster at
# $WORK/pg (scripts/pg-test.sh), if one was started, too, and WORK removed (KEEP=1 keeps it).
bench_start() {
	WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
}
# stop_procs PID...: each process ended and waited for
stop_procs() {
	local p
	for p in "$@"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
bench_cleanup() {
	stop_procs "${PIDS[@]}"
	if [ -d "$WORK/pg" ]; then sh "$REPO/scripts/pg-test.sh" stop "$WORK/pg" >/dev/null 2>&1 || true; fi
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $WORK" >&2; else rm -rf "$WORK"; fi
}

# need_tools NAME TOOL...: exits unless every TOOL (bench/*.c) is built in TOOLS
need_tools() {
	local name=$1 t
	shift
	for t in "$@"; do
		[ -x "$TOOLS/$t" ] || {
			echo "$name: $TOOLS/$t is missing (build bench/*.c)" >&2
			exit 1
		}
	done
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_up URL: until URL/healthz answers (20 s at most)
wait_up() {
	for _ in $(seq 200); do
		curl -sf -o /dev/null "$1/healthz" && return 0
		sleep 0.1
	done
	echo "server at $1 did not come up" >&2
	exit 1
}

# the median of the numbers on stdin, or n/a
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# field NAME: the value of NAME=... on each RESULT line of stdin
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# wrk_runs NAME SCRIPT URL ARGS...: REPS runs; "rps p99 errors" medians on stdout
wrk_runs() {
	local name=$1 script=$2 url=$3
	shift 3
	: >"$WORK/$name.res"
	for r in $(seq "$REPS"); do
		wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$script" "$url" -- "$@" "$name$r$RANDOM" |
			grep '^RESULT' | tee -a "$WORK/$name.res" >&2
	done
	echo "$(field rps <"$WORK/$name.res" | median) $(field p99_ms <"$WORK/$name.res" | median)" \
		"$(field errors <"$WORK/$name.res" | sort -g | tail -1)"
}
