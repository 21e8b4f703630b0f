#!/bin/sh
# A throwaway PostgreSQL cluster for the tests, on loopback, on a free port.
#   scripts/pg-test.sh start DIR   -> prints the connection URI on stdout
#   scripts/pg-test.sh stop DIR
# Works as root (initdb refuses root, so the server runs as the postgres user).
# fsync is off: this cluster holds only test data and is removed afterwards.
set -eu
cmd=${1:?start|stop}
base=${2:?directory}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run=""
if [ "$(id -u)" = 0 ]; then run="runuser -u postgres --"; fi

case "$cmd" in
start)
	mkdir -p "$base"
	base=$(cd "$base" && pwd)
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	mkdir -p "$base/sock"
	if [ -n "$run" ]; then chown -R postgres:postgres "$base"; fi
	chmod 700 "$base"
	$run "$pgbin/initdb" -D "$base/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
		-E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1
	$run "$pgbin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $base/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >/dev/null
	$run "$pgbin/psql" -h "$base/sock" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q \
		-c "CREATE ROLE tessera LOGIN CREATEDB PASSWORD 'tessera'" -c "CREATE DATABASE tessera OWNER tessera" >/dev/null
	echo "$port" >"$base/port"
	if [ -n "$run" ]; then chown postgres:postgres "$base/port"; fi
	echo "postgresql://tessera:tessera@127.0.0.1:$port/tessera"
	;;
stop)
	[ -d "$base/data" ] || exit 0
	$run "$pgbin/pg_ctl" -D "$base/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$base"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
