# Helpers shared by bench/scim_bench.sh and bench/pg_bench.sh (bash), sourced
# after the caller has set WORK (its scratch directory), REPS, DUR and CONNS.

log() { echo "# $*" >&2; }

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
