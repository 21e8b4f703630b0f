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
#   POST /Users         wrk -t2 -cCONNS (bench/scim_post.lua), 1 node, the same node
#                       behind nginx, then 2 nodes behind nginx
#   GET filter eq       wrk -t2 -cCONNS (bench/scim_get.lua) at PG_USERS users loaded
#                       with scim_load into the same database, 1 node, then 2 nodes
# Environment: PG_USERS (100000), DUR (10 s per run), REPS (3, median), CONNS (32),
# PGB_CLIENTS (64), SERVE_ARGS ("--threads 1"), PG_PARTS ("post get nginx": which of
# POST on 1 node, GET on 1 node, the nginx columns to run; pgbench always runs, and
# what is left out reads n/a), PGB_AGAIN (0; 1: pgbench once more after Tessera's POST,
# so that a ratio is not one side's lucky minute on a shared machine), KEEP=1.
set -euo pipefail

BIN=$(readlink -f "${1:?usage: pg_bench.sh TESSERA_BIN [SCIM_LOAD_BIN]}")
LOADER=$(readlink -f "${2:-$(dirname "$BIN")/scim_load}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
PG_USERS=${PG_USERS:-100000}
DUR=${DUR:-10}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
PGB_CLIENTS=${PGB_CLIENTS:-64}
SERVE_ARGS=${SERVE_ARGS---threads 1}
PG_PARTS=${PG_PARTS:-post get nginx}
PGB_AGAIN=${PGB_AGAIN:-0}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
bench_start pg-bench
chmod 0755 "$WORK" # nginx workers (nobody, when run as root) reach their prefix

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
pgbench_runs() {
	log "pgbench x $REPS"
	for r in $(seq "$REPS"); do
		"$PGBIN/pgbench" -n -c "$PGB_CLIENTS" -j 2 -T "$DUR" -f "$WORK/pgb.sql" "$base/pgb" 2>&1 |
			sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/RESULT tps=\1/p' |
			tee -a "$WORK/pgb.res" >&2
	done
}
: >"$WORK/pgb.res"
pgbench_runs

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

has() { case " $PG_PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
POST1=n/a POST1_P99=n/a POST1_ERR=n/a GET1=n/a GET1_P99=n/a GET1_ERR=n/a
POSTN=n/a POSTN_P99=n/a POSTN_ERR=n/a GETN=n/a GETN_P99=n/a GETN_ERR=n/a
POST2=n/a POST2_P99=n/a POST2_ERR=n/a GET2=n/a GET2_P99=n/a GET2_ERR=n/a
if has post; then
	log "tessera, 1 node: POST /Users x $REPS"
	read -r POST1 POST1_P99 POST1_ERR < <(wrk_runs post1 "$HERE/scim_post.lua" "$N1" "$TOKEN")
	if [ "$PGB_AGAIN" = 1 ]; then pgbench_runs; fi
fi
PGB=$(field tps <"$WORK/pgb.res" | median | cut -d. -f1)
if has get || has nginx; then
	log "loading $PG_USERS users"
	"$LOADER" "$URL" "$ACCT" "$PG_USERS" "$WORK/ids" >&2
	DUR_SAVE=$DUR REPS_SAVE=$REPS
	DUR=3 REPS=1 wrk_runs warm "$HERE/scim_get.lua" "$N1" "$TOKEN" "$PG_USERS" >/dev/null
	DUR=$DUR_SAVE REPS=$REPS_SAVE
fi
if has get; then
	log "tessera, 1 node: GET filter x $REPS"
	read -r GET1 GET1_P99 GET1_ERR < <(wrk_runs get1 "$HERE/scim_get.lua" "$N1" "$TOKEN" "$PG_USERS")
fi

# ---- nginx in front: 1 node, then 2 nodes -------------------------------------------------
# The same balancer in front of one node and then of two, so that the step
# from one node to two is measured with the balancer's cost on both sides.
if has nginx; then
mkdir -p "$WORK/nginx/tmp"
chmod -R 0777 "$WORK/nginx"
NPORT=$(free_port)
NX=http://127.0.0.1:$NPORT
NGINX_PID=
# balance PORT...: (re)starts nginx in front of the nodes on those ports
balance() {
	local ups="" p
	for p in "$@"; do ups="${ups}server 127.0.0.1:$p; "; done
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID"
		wait "$NGINX_PID" 2>/dev/null || true
	fi
	sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$NPORT|g" -e "s|@UPSTREAMS@|$ups|" \
		"$HERE/nginx-upstream.conf.in" >"$WORK/nginx/nginx.conf"
	nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" -g 'daemon off;' \
		>"$WORK/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	wait_up "$NX"
}
balance "${NODE_PORTS[0]}"
log "tessera, 1 node + nginx: POST /Users x $REPS"
read -r POSTN POSTN_P99 POSTN_ERR < <(wrk_runs postn "$HERE/scim_post.lua" "$NX" "$TOKEN")
log "tessera, 1 node + nginx: GET filter x $REPS"
read -r GETN GETN_P99 GETN_ERR < <(wrk_runs getn "$HERE/scim_get.lua" "$NX" "$TOKEN" "$PG_USERS")

start_node
balance "${NODE_PORTS[@]}"
log "tessera, 2 nodes + nginx: POST /Users x $REPS"
read -r POST2 POST2_P99 POST2_ERR < <(wrk_runs post2 "$HERE/scim_post.lua" "$NX" "$TOKEN")
log "tessera, 2 nodes + nginx: GET filter x $REPS"
read -r GET2 GET2_P99 GET2_ERR < <(wrk_runs get2 "$HERE/scim_get.lua" "$NX" "$TOKEN" "$PG_USERS")
fi

pct() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else echo "$1 $2" | awk '{printf "%.0f%%", 100 * $1 / $2}'; fi; }
cat <<TABLE

PostgreSQL benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') ($SETTINGS), wrk -t2 -c$CONNS -d${DUR}s, pgbench -c$PGB_CLIENTS -j2 -T$DUR, median of $REPS; $PG_USERS users loaded for GET; \`tessera serve $SERVE_ARGS\` per node

| Workload | Target | 1 node | 1 node + nginx | 2 nodes + nginx |
|---|---|---|---|---|
| pgbench, two-INSERT transaction with indexes (tps) | — | $PGB | — | — |
| POST /Users (req/s) | ≥ 70% of pgbench; 2 nodes ≥ 1 | $POST1 (p99 $POST1_P99 ms, errors $POST1_ERR; $(pct "$POST1" "$PGB") of pgbench) | $POSTN (p99 $POSTN_P99 ms, errors $POSTN_ERR) | $POST2 (p99 $POST2_P99 ms, errors $POST2_ERR; $(pct "$POST2" "$POSTN") of 1 node + nginx) |
| GET filter userName eq at $PG_USERS users (req/s) | ≥ 10,000 on 1 node | $GET1 (p99 $GET1_P99 ms, errors $GET1_ERR) | $GETN (p99 $GETN_P99 ms, errors $GETN_ERR) | $GET2 (p99 $GET2_P99 ms, errors $GET2_ERR; $(pct "$GET2" "$GETN") of 1 node + nginx) |
TABLE
