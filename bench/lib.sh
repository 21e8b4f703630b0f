# shellcheck shell=bash disable=SC2034
# Shared helpers for bench/run.sh and bench/sweep.sh; sourced, not run.
# Every process started here is recorded in BENCH_PIDS and stopped by the
# EXIT trap that bench_init installs; the temp dir is removed there too.
# Progress goes to stderr, the Markdown report to stdout.

BENCH_PIDS=()
BENCH_DIR=""
BENCH_ROWS=""

bench_log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
bench_die() {
	bench_log "error: $*"
	exit 1
}

bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do
		bench_stop "$pid"
	done
	if [ -n "$BENCH_DIR" ] && [ -d "$BENCH_DIR" ] && [ -z "${BENCH_KEEP:-}" ]; then
		rm -rf -- "$BENCH_DIR"
	fi
}

# bench_init: checks the tools, makes the temp dir and installs the trap.
bench_init() {
	local t
	for t in wrk nginx curl "$BENCH_PY"; do
		command -v "$t" >/dev/null || bench_die "$t not found"
	done
	[ -x "$TESSERA" ] || bench_die "tessera binary $TESSERA not found (build it first)"
	BENCH_DIR=$(mktemp -d /tmp/tessera-bench.XXXXXX)
	# nginx workers drop to an unprivileged user when started as root: they
	# must be able to reach the static file, so only the nginx part is world
	# readable; the tessera part (master key, database) stays private.
	chmod 0755 "$BENCH_DIR"
	mkdir -m 0755 "$BENCH_DIR/nginx"
	mkdir -m 0700 "$BENCH_DIR/tessera"
	BENCH_ROWS="$BENCH_DIR/rows.tsv"
	: >"$BENCH_ROWS"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_stop PID: SIGTERM, then SIGKILL after 5 s; forgets the pid.
bench_stop() {
	local pid=$1 i kids
	kill -0 "$pid" 2>/dev/null || return 0
	kids=$(pgrep -P "$pid" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		bench_log "pid $pid ignored SIGTERM, killing it"
		# nginx workers outlive a SIGKILLed master: stop them by their ids
		# shellcheck disable=SC2086  # one word per pid
		kill -KILL "$pid" $kids 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	bench_forget "$pid"
}

bench_free_port() {
	"$BENCH_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# bench_wait_http URL PID: waits up to 10 s for a 200 from URL while PID lives.
bench_wait_http() {
	local url=$1 pid=$2 i
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		curl -sf -o /dev/null --max-time 1 "$url" && return 0
		sleep 0.1
	done
	return 1
}

# bench_cpu_ticks PID: user+system clock ticks of PID and its children.
bench_cpu_ticks() {
	local pid=$1 total=0 p t
	for p in $pid $(pgrep -P "$pid" 2>/dev/null || true); do
		[ -r "/proc/$p/stat" ] || continue
		t=$(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')
		total=$((total + t))
	done
	echo "$total"
}

bench_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
bench_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# bench_nginx_start WORKERS: starts nginx; sets NGINX_PID and NGINX_URL.
bench_nginx_start() {
	local workers=$1 dir="$BENCH_DIR/nginx" port
	rm -rf "${dir:?}"/*
	mkdir -p "$dir/www" "$dir/tmp"
	printf '{"Status":"ok"}' >"$dir/www/healthz.json"
	port=$(bench_free_port)
	sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$workers|g" \
		"$BENCH_HERE/nginx.conf.in" >"$dir/nginx.conf"
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' \
		>"$dir/stdout.log" 2>&1 &
	NGINX_PID=$!
	SERVER_LOG="$dir/error.log"
	BENCH_PIDS+=("$NGINX_PID")
	NGINX_URL="http://127.0.0.1:$port/healthz"
	bench_wait_http "$NGINX_URL" "$NGINX_PID" ||
		bench_die "nginx did not start: $(cat "$dir/error.log" "$dir/stdout.log" 2>/dev/null)"
}

# bench_tessera_setup: fresh database and key; sets TS_DB, TS_KEY,
# TESSERA_TOKEN and TESSERA_ACCOUNT_ID (exported for getaccount.lua).
bench_tessera_setup() {
	local dir="$BENCH_DIR/tessera" out
	rm -rf "${dir:?}"/*
	TS_DB="$dir/tessera.db"
	TS_KEY="$dir/k"
	out=$("$TESSERA" init --db "$TS_DB" --master-key-file "$TS_KEY" --json) ||
		bench_die "tessera init failed"
	TESSERA_TOKEN=$(printf '%s' "$out" | "$BENCH_PY" -c 'import json,sys; print(json.load(sys.stdin)["Token"])')
	out=$("$TESSERA" account create --db "$TS_DB" --master-key-file "$TS_KEY" --name bench --json) ||
		bench_die "tessera account create failed"
	TESSERA_ACCOUNT_ID=$(printf '%s' "$out" | "$BENCH_PY" -c 'import json,sys; print(json.load(sys.stdin)["AccountId"])')
	export TESSERA_TOKEN TESSERA_ACCOUNT_ID
}

# bench_tessera_start THREADS WORKERS: sets TS_PID, TS_BASE.
bench_tessera_start() {
	local threads=$1 workers=$2 log="$BENCH_DIR/tessera/serve.log" port i
	"$TESSERA" serve --listen 127.0.0.1:0 --db "$TS_DB" --master-key-file "$TS_KEY" \
		--access-log off --log-level warn --threads "$threads" --workers "$workers" \
		>"$log" 2>&1 &
	TS_PID=$!
	SERVER_LOG=$log
	BENCH_PIDS+=("$TS_PID")
	port=""
	for i in $(seq 100); do
		port=$(sed -n 's/^tessera listening on .*(port \([0-9]*\),.*/\1/p' "$log")
		[ -n "$port" ] && break
		kill -0 "$TS_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$port" ] || bench_die "tessera serve did not start: $(cat "$log")"
	TS_BASE="http://127.0.0.1:$port"
	bench_wait_http "$TS_BASE/healthz" "$TS_PID" || bench_die "tessera /healthz failed: $(cat "$log")"
	curl -sf -o /dev/null -H "Authorization: Bearer $TESSERA_TOKEN" \
		"$TS_BASE/api/v1/accounts/$TESSERA_ACCOUNT_ID" ||
		bench_die "tessera GetAccount failed before the run"
}

bench_audit_count() {
	"$BENCH_PY" - "$TS_DB" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM audit_events").fetchone()[0])
EOF
}

# bench_wrk_parse FILE: "rps p99_ms requests errors" from wrk --latency output.
bench_wrk_parse() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		return -1
	}
	/^Requests\/sec:/ { rps = $2 }
	$1 == "99%" { p99 = ms($2) }
	/ requests in / { reqs = $1 }
	/Non-2xx or 3xx responses:/ { err += $NF }
	/Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
	END { printf "%s %s %s %d\n", (rps == "" ? "0" : rps), (p99 == "" ? "-1" : p99), (reqs == "" ? "0" : reqs), err }
	' "$1"
}

# bench_bg OUT CMD...: runs CMD in the background with stdout and stderr in
# OUT and waits for it. A signal interrupts `wait` (not a foreground child),
# so the EXIT trap stops CMD at once; CMD's pid is in BENCH_PIDS meanwhile.
bench_bg() {
	local out=$1 pid rc=0
	shift
	"$@" >"$out" 2>&1 &
	pid=$!
	BENCH_PIDS+=("$pid")
	wait "$pid" || rc=$?
	bench_forget "$pid"
	return "$rc"
}

bench_forget() {
	local keep=() p
	for p in "${BENCH_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BENCH_PIDS=("${keep[@]}")
}

# bench_children_cpu: user + system seconds of the reaped children so far.
# `times` must run in this shell: a subshell starts with zero child times.
bench_children_cpu() {
	times >"$BENCH_DIR/times"
	awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] }
		printf "%.3f\n", t }' "$BENCH_DIR/times"
}

# bench_busy: percent of all cores busy over the next half second (the
# machine is shared: this says whether someone else was loading it).
bench_busy() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	sleep 0.5
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	echo "$a $b" | awk '{ busy = $3 - $1; idle = $4 - $2; printf "%.0f\n", (busy + idle > 0 ? 100 * busy / (busy + idle) : 0) }'
}

# bench_wait_quiet: waits up to BENCH_QUIET_WAIT seconds while another wrk
# (not ours: none of ours runs now) is loading the machine; sets BUSY.
bench_wait_quiet() {
	local i
	for i in $(seq "${BENCH_QUIET_WAIT:-10}"); do
		pgrep -x wrk >/dev/null || break
		[ "$i" = 1 ] && bench_log "another wrk is running on this machine; waiting for it"
		sleep 1
	done
	BUSY=$(bench_busy)
	[ "$BUSY" -lt 10 ] || bench_log "warning: machine ${BUSY}% busy before the run (other jobs)"
}

# bench_alive PID: dies with the log if the server has gone.
bench_alive() {
	kill -0 "$1" 2>/dev/null && return 0
	bench_die "server pid $1 exited during the run; log: $(tail -5 "$2" 2>/dev/null)" \
		"(\"signal\":\"Terminated\" means an outside SIGTERM, e.g. someone's pkill)"
}

# bench_wrk LABEL SERVER_DESC SERVER_PID WRK_THREADS URL [LUA]: warm-up run,
# measured run, one row appended to BENCH_ROWS; sets WRK_LAST_REQS to the
# requests completed in both runs.
bench_wrk() {
	local label=$1 desc=$2 spid=$3 wt=$4 url=$5 lua=${6:-} out t0 t1 parsed
	local args=(-t"$wt" -c"$BENCH_CONNS" --latency)
	[ -n "$lua" ] && args+=(-s "$lua")
	out="$BENCH_DIR/wrk.$(date +%s%N).txt"
	bench_log "$label ($desc), wrk -t$wt -c$BENCH_CONNS: warm-up ${BENCH_WARMUP}s"
	bench_bg "$out.warm" timeout $((BENCH_WARMUP + 20)) wrk "${args[@]}" -d"${BENCH_WARMUP}s" "$url" ||
		{ bench_alive "$spid" "$SERVER_LOG" && bench_die "wrk warm-up failed: $(cat "$out.warm")"; }
	bench_wait_quiet
	bench_log "$label: measuring ${BENCH_DURATION}s"
	t0=$(bench_cpu_ticks "$spid")
	local c0 c1
	bench_children_cpu >"$out.c0"
	c0=$(cat "$out.c0")
	bench_bg "$out" timeout $((BENCH_DURATION + 20)) wrk "${args[@]}" -d"${BENCH_DURATION}s" "$url" ||
		{ bench_alive "$spid" "$SERVER_LOG" && bench_die "wrk failed: $(cat "$out")"; }
	bench_children_cpu >"$out.c1"
	c1=$(cat "$out.c1")
	bench_alive "$spid" "$SERVER_LOG"
	t1=$(bench_cpu_ticks "$spid")
	parsed=$(bench_wrk_parse "$out")
	local rps p99 reqs errs wreqs
	read -r rps p99 reqs errs <<<"$parsed"
	wreqs=$(bench_wrk_parse "$out.warm" | awk '{ print $3 }')
	WRK_LAST_REQS=$((reqs + wreqs))
	local hz srv_cpu wrk_cpu srv_us
	hz=$(getconf CLK_TCK)
	srv_us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v r="$reqs" 'BEGIN { printf "%.1f", (r > 0 ? 1e6 * d / hz / r : 0) }')
	srv_cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$BENCH_DURATION" 'BEGIN { printf "%.0f%%", 100 * d / hz / s }')
	wrk_cpu=$(awk -v a="$c0" -v b="$c1" -v s="$BENCH_DURATION" 'BEGIN { printf "%.0f%%", 100 * (b - a) / s }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s%%\n' "$label" "$desc" "-t$wt -c$BENCH_CONNS" \
		"$rps" "$p99" "$srv_cpu" "$srv_us" "$wrk_cpu" "$errs" "$BUSY" >>"$BENCH_ROWS"
	bench_log "$label: $rps req/s, p99 $p99 ms, server CPU $srv_cpu ($srv_us us/req), wrk CPU $wrk_cpu, errors $errs"
	[ "$errs" = 0 ] || bench_log "warning: $label had $errs non-2xx responses or socket errors"
}

# bench_table: the rows as a Markdown table.
bench_table() {
	printf '| Scenario | Server | wrk | Requests/s | p99 (ms) | Server CPU | Server CPU µs/req | wrk CPU | Errors | Busy before |\n'
	printf '|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
	awk -F'\t' '{ printf "| %s | %s | `%s` | %.0f | %.2f | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' \
		"$BENCH_ROWS"
}

# bench_best LABEL: the highest requests/s among rows of LABEL.
bench_best() {
	awk -F'\t' -v l="$1" '$1 == l && $4 > best { best = $4 } END { printf "%.0f\n", best }' "$BENCH_ROWS"
}

bench_machine() {
	local model mem
	model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	printf '%s cores (nproc), %s, %s RAM, %s' "$(nproc)" "${model:-unknown CPU}" "$mem" "$(uname -sr)"
}
