#!/bin/bash
# PostgreSQL benchmark: Tessera on PostgreSQL at its default
# durability (fsync and synchronous_commit on: scripts/pg-test.sh with
# PG_TEST_DURABLE=1, not the tests' fsync=off), against pgbench on the same
# server in the same run. Prints a Markdown table.
#
#   bench/pg_bench.sh TESSERA_BIN [SCIM_LOAD_BIN]
#
# Workloads:
#   pgbench             a custom transaction of two INSERTs with indexes, about the
#                       work of a SCIM create and its audit event (a users row with a
#                       uuid key, a unique (account, lower(userName)) index and a
#                       (account, created) index; an audit row with a uuid key and a
#                       time index), PGB_CLIENTS clients, -j 2
#   POST /Users         wrk -t2 -cCONNS (bench/scim_post.lua), 1 node, then 2 nodes
#                       behind nginx
#   GET filter eq       wrk -t2 -cCONNS (bench/scim_get.lua) at PG_USERS users loaded
#                       with scim_load into the same database, 1 node, then 2 nodes
# Environment: PG_USERS (100000), DUR (10 s per run), REPS (3, median), CONNS (32),
# PGB_CLIENTS (64), SERVE_ARGS ("--threads 1").
set -euo pipefail

BIN=$(readlink -f "${1:?usage: pg_bench.sh TESSERA_BIN [SCIM_LOAD_BIN]}")
LOADER=$(readlink -f "${2:-$(dirname "$BIN")/scim_load}")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
PG_USERS=${PG_USERS:-100000}
DUR=${DUR:-10}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
PGB_CLIENTS=${PGB_CLIENTS:-64}
SERVE_ARGS=${SERVE_ARGS---threads 1}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/pg-bench.XXXXXX)
chmod 0755 "$WORK" # nginx workers (nobody, when run as root) reach their prefix
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	sh "$REPO/scripts/pg-test.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "# $*" >&2; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
	for _ in $(seq 200); do
		curl -sf -o /dev/null "$1/healthz" && return 0
		sleep 0.1
	done
	echo "server at $1 did not come up" >&2
	exit 1
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) printf "%.0f\n", a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }
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

# ---- PostgreSQL, default durability -------------------------------------------------
log "starting PostgreSQL (fsync on, synchronous_commit on)"
URL=$(PG_TEST_DURABLE=1 sh "$REPO/scripts/pg-test.sh" start "$WORK/pg")
PG_PORT=$(cat "$WORK/pg/port")
SETTINGS=$("$PGBIN/psql" "$URL" -X -A -t -q -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes','max_connections')")
log "settings: $SETTINGS"
base=${URL%/*}

# ---- pgbench ---------------------------------------------------------------------------
"$PGBIN/psql" "$URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE pgb" >/dev/null
"$PGBIN/psql" "$base/pgb" -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE users (user_id uuid PRIMARY KEY, account_id text NOT NULL, user_name text NOT NULL,
                    resource text NOT NULL, created_ms bigint NOT NULL, modified_ms bigint NOT NULL);
CREATE UNIQUE INDEX users_by_name ON users (account_id, lower(user_name));
CREATE INDEX users_by_created ON users (account_id, created_ms, user_id);
CREATE TABLE audit_events (event_id uuid PRIMARY KEY, event_time_ms bigint NOT NULL,
                           event_name text NOT NULL, account_id text, body text NOT NULL);
CREATE INDEX audit_by_time ON audit_events (event_time_ms);
SQL
cat >"$WORK/pgb.sql" <<'SQL'
\set t random(1, 2000000000000)
BEGIN;
INSERT INTO users VALUES (gen_random_uuid(), 'acct-bench', gen_random_uuid()::text, repeat('u', 500), :t, :t);
INSERT INTO audit_events VALUES (gen_random_uuid(), :t, 'CreateUser', 'acct-bench', repeat('a', 700));
COMMIT;
SQL
log "pgbench x $REPS"
: >"$WORK/pgb.res"
for r in $(seq "$REPS"); do
	"$PGBIN/pgbench" -n -c "$PGB_CLIENTS" -j 2 -T "$DUR" -f "$WORK/pgb.sql" "$base/pgb" 2>&1 |
		sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/RESULT tps=\1/p' |
		tee -a "$WORK/pgb.res" >&2
done
PGB=$(field tps <"$WORK/pgb.res" | median)

# ---- Tessera on PostgreSQL -----------------------------------------------------------
KEY=$WORK/k
ROOT=$("$BIN" init --db "$URL" --master-key-file "$KEY" --json | jq -r .Token)
NODE_PIDS=()
NODE_PORTS=()
start_node() {
	local port
	port=$(free_port)
	"$BIN" serve --db "$URL" --master-key-file "$KEY" --listen "127.0.0.1:$port" \
		--access-log off --log-level warn --trusted-proxy 127.0.0.1/32 ${SERVE_ARGS:-} \
		>"$WORK/serve-$port.log" 2>&1 &
	PIDS+=("$!")
	NODE_PIDS+=("$!")
	NODE_PORTS+=("$port")
	wait_up "http://127.0.0.1:$port"
}
start_node
N1=http://127.0.0.1:${NODE_PORTS[0]}
ACCT=$(curl -sf -X POST -H "Authorization: Bearer $ROOT" -H 'Content-Type: application/json' \
	-d '{"Name":"bench"}' "$N1/api/v1/accounts" | jq -r .Account.AccountId)
TOKEN=$(curl -sf -X POST -H "Authorization: Bearer $ROOT" "$N1/api/v1/accounts/$ACCT/api-keys" |
	jq -r .ApiKey.Token)

log "tessera, 1 node: POST /Users x $REPS"
read -r POST1 POST1_P99 POST1_ERR < <(wrk_runs post1 "$HERE/scim_post.lua" "$N1" "$TOKEN")

log "loading $PG_USERS users"
"$LOADER" "$URL" "$ACCT" "$PG_USERS" "$WORK/ids" >&2
DUR_SAVE=$DUR REPS_SAVE=$REPS
DUR=3 REPS=1 wrk_runs warm "$HERE/scim_get.lua" "$N1" "$TOKEN" "$PG_USERS" >/dev/null
DUR=$DUR_SAVE REPS=$REPS_SAVE
log "tessera, 1 node: GET filter x $REPS"
read -r GET1 GET1_P99 GET1_ERR < <(wrk_runs get1 "$HERE/scim_get.lua" "$N1" "$TOKEN" "$PG_USERS")

# ---- 2 nodes behind nginx --------------------------------------------------------------
start_node
mkdir -p "$WORK/nginx/tmp"
chmod -R 0777 "$WORK/nginx"
NPORT=$(free_port)
ups=""
for p in "${NODE_PORTS[@]}"; do ups="${ups}server 127.0.0.1:$p; "; done
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$NPORT|g" -e "s|@UPSTREAMS@|$ups|" \
	"$HERE/nginx-upstream.conf.in" >"$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" -g 'daemon off;' \
	>"$WORK/nginx/stdout.log" 2>&1 &
PIDS+=("$!")
NX=http://127.0.0.1:$NPORT
wait_up "$NX"
log "tessera, 2 nodes + nginx: POST /Users x $REPS"
read -r POST2 POST2_P99 POST2_ERR < <(wrk_runs post2 "$HERE/scim_post.lua" "$NX" "$TOKEN")
log "tessera, 2 nodes + nginx: GET filter x $REPS"
read -r GET2 GET2_P99 GET2_ERR < <(wrk_runs get2 "$HERE/scim_get.lua" "$NX" "$TOKEN" "$PG_USERS")

pct() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else echo "$1 $2" | awk '{printf "%.0f%%", 100 * $1 / $2}'; fi; }
cat <<TABLE

PostgreSQL benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') ($SETTINGS), wrk -t2 -c$CONNS -d${DUR}s, pgbench -c$PGB_CLIENTS -j2 -T$DUR, median of $REPS; $PG_USERS users loaded for GET; \`tessera serve $SERVE_ARGS\` per node

| Workload | Target | 1 node | 2 nodes + nginx |
|---|---|---|---|
| pgbench, two-INSERT transaction with indexes (tps) | — | $PGB | — |
| POST /Users (req/s) | ≥ 70% of pgbench | $POST1 (p99 $POST1_P99 ms, errors $POST1_ERR; $(pct "$POST1" "$PGB") of pgbench) | $POST2 (p99 $POST2_P99 ms, errors $POST2_ERR; $(pct "$POST2" "$PGB") of pgbench) |
| GET filter userName eq at $PG_USERS users (req/s) | ≥ 10,000 on 1 node | $GET1 (p99 $GET1_P99 ms, errors $GET1_ERR) | $GET2 (p99 $GET2_P99 ms, errors $GET2_ERR) |
TABLE
