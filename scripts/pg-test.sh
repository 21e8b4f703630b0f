#!/bin/sh
# A throwaway PostgreSQL cluster for the tests, on loopback, on a free port.
#   scripts/pg-test.sh start DIR   -> prints the connection URI on stdout
#   scripts/pg-test.sh stop DIR
#   scripts/pg-test.sh reap        -> stops clusters whose DIR is gone (a killed run)
#   scripts/pg-test.sh halt DIR    -> stops the server, keeps the cluster (tests of an outage)
#   scripts/pg-test.sh resume DIR  -> starts it again, same port and settings
# DIR is the caller's handle: it may be anywhere, including inside a checkout in a
# 0700 directory such as /root/tessera. The cluster itself lives in a directory of its
# own under /tmp (tessera-pg.XXXXXX), owned by the postgres user when run
# as root (initdb refuses root, and postgres cannot reach a root-only checkout).
# DIR/cluster names that directory and DIR/port its port; the cluster's "owner" file
# names DIR, so a cluster whose DIR has vanished is found and removed by `reap`
# (every `start` reaps first).
# fsync is off: this cluster holds only test data and is removed afterwards.
# PG_TEST_DURABLE=1 keeps PostgreSQL's default durability instead (fsync and
# synchronous_commit on), for benchmarks that compare with pgbench.
set -eu
cmd=${1:?start|stop|reap}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run=""
if [ "$(id -u)" = 0 ]; then run="runuser -u postgres --"; fi
# not $TMPDIR: that may be a private directory too
tmproot=/tmp

stop_cluster() { # cluster directory
	if [ -d "$1/data" ]; then
		$run "$pgbin/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$1"
}

reap() {
	for c in "$tmproot"/tessera-pg.*; do
		[ -d "$c" ] || continue
		owner=$(cat "$c/owner" 2>/dev/null || true)
		# a cluster still being created has no owner file yet: leave it
		[ -n "$owner" ] || continue
		if [ ! -e "$owner/cluster" ] || [ "$(cat "$owner/cluster" 2>/dev/null)" != "$c" ]; then
			stop_cluster "$c"
		fi
	done
}

case "$cmd" in
start)
	base=${2:?directory}
	mkdir -p "$base"
	base=$(cd "$base" && pwd)
	reap
	cluster=$(mktemp -d "$tmproot/tessera-pg.XXXXXX")
	# a start that fails half way leaves nothing running behind it
	trap 'stop_cluster "$cluster"; rm -f "$base/cluster"' EXIT
	echo "$cluster" >"$base/cluster"
	echo "$base" >"$cluster/owner"
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$cluster/sock"
	if [ -n "$run" ]; then chown -R postgres:postgres "$cluster"; fi
	chmod 700 "$cluster"
	if ! $run "$pgbin/initdb" -D "$cluster/data" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$cluster/initdb.log" 2>&1; then
		cat "$cluster/initdb.log" >&2
		exit 1
	fi
	opts="-c listen_addresses=127.0.0.1 -p $port -k $cluster/sock -c max_connections=200"
	if [ "${PG_TEST_DURABLE:-0}" != 1 ]; then
		opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	fi
	echo "$opts" >"$cluster/opts"
	if ! $run "$pgbin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
		-o "$opts" start >/dev/null; then
		cat "$cluster/server.log" >&2
		exit 1
	fi
	$run "$pgbin/psql" -h "$cluster/sock" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q \
		-c "CREATE ROLE tessera LOGIN CREATEDB PASSWORD 'tessera'" -c "CREATE DATABASE tessera OWNER tessera" >/dev/null
	echo "$port" >"$base/port"
	echo "$cluster/sock" >"$base/sockdir"
	trap - EXIT
	echo "postgresql://tessera:tessera@127.0.0.1:$port/tessera"
	;;
stop)
	base=${2:?directory}
	cluster=$(cat "$base/cluster" 2>/dev/null || true)
	case "$cluster" in
	"$tmproot"/tessera-pg.*) stop_cluster "$cluster" ;;
	esac
	rm -f "$base/cluster" "$base/port" "$base/sockdir"
	;;
halt | resume)
	base=${2:?directory}
	cluster=$(cat "$base/cluster" 2>/dev/null || true)
	case "$cluster" in
	"$tmproot"/tessera-pg.*) ;;
	*)
		echo "$0: no cluster for $base" >&2
		exit 1
		;;
	esac
	if [ "$cmd" = halt ]; then
		$run "$pgbin/pg_ctl" -D "$cluster/data" -m fast -w -t 60 stop >/dev/null
	else
		$run "$pgbin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
			-o "$(cat "$cluster/opts")" start >/dev/null
	fi
	;;
reap)
	reap
	;;
*)
	echo "usage: $0 start DIR | stop DIR | halt DIR | resume DIR | reap" >&2
	exit 2
	;;
esac
