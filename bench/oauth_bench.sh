#!/bin/bash
# Token endpoint benchmark (docs/oauth.md): device-code polls per second and
# successful token issuances per second through POST /oauth/token, SQLite
# store, with p99. Prints a Markdown table.
#
#   bench/oauth_bench.sh TESSERA_BIN [TOOLS_DIR]
#
# TOOLS_DIR (default: next to TESSERA_BIN) holds oauth_load and saml_post (bench/*.c,
# built with the server).
#
# Workloads (each request sent once, CONNS keep-alive connections, bench/saml_post.c):
#   polls      PENDING distinct pending device flows (RFC 8628), polled in turn, round
#              after round: each poll is a real pending poll, one write transaction that
#              records it and decides slow_down from the row (store/queries_oauth.h); the
#              answer is a 400 (authorization_pending, or slow_down when a flow comes
#              round again within the interval, --device-poll-interval 1), anything else
#              is an error.
#   issuance   device-code grants of approved flows, each once (the code consumed, a CLI
#              session and a refresh token written), then refresh grants, each once (the
#              token spent, the session checked, a new session and refresh token); the
#              answer is a 200 with the tokens.
# The flows, sessions and refresh tokens are written beforehand by bench/oauth_load.c
# through the store's functions, untimed. WARM requests of each kind first, then REPS
# runs. The same again on PostgreSQL at its default durability (scripts/pg-test.sh with
# PG_TEST_DURABLE=1) with two nodes, each given half of every run's requests over half
# the connections at once (rate: the run's requests over the slower half's time; p99:
# the worse half's). Environment: PENDING (10000), ROUNDS (3 per run), GRANTS (5000 per
# run), WARM (1000), REPS (3, median), CONNS (32), SERVE_ARGS ("--threads 1"), PG (1; 0:
# SQLite only), KEEP=1.
set -euo pipefail

BIN=$(readlink -f "${1:?usage: oauth_bench.sh TESSERA_BIN [TOOLS_DIR]}")
TOOLS=$(readlink -f "${2:-$(dirname "$BIN")}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
PG=${PG:-1}
PENDING=${PENDING:-10000}
ROUNDS=${ROUNDS:-3}
GRANTS=${GRANTS:-5000}
WARM=${WARM:-1000}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
SERVE_ARGS=${SERVE_ARGS---threads 1}
bench_start oauth-bench
BENCH_NAME=oauth_bench
. "$HERE/signin_common.sh"
need_tools oauth_bench oauth_load saml_post

# runs NAME BODIES FIRST PER EXPECT PID: post_runs on the token endpoint of T_PORT
runs() { post_runs "$1" 127.0.0.1 "$T_PORT" /oauth/token "$2" "$3" "$4" "$CONNS" "$5" "$6"; }

# runs2 NAME BODIES FIRST PER EXPECT: as runs, each run split between the two nodes
# (NODE_PORTS) at once; "rps p99 errors cpu_ms" (medians; CPU of both nodes)
runs2() {
	local name=$1 bodies=$2 first=$3 per=$4 expect=$5 errs=0 ticks=0 half r c0 a b e
	half=$((per / 2))
	: >"$WORK/$name.res"
	for r in $(seq 0 $((REPS - 1))); do
		c0=$(cpu_ticks "${NODE_PIDS[@]}")
		("$TOOLS/saml_post" 127.0.0.1 "${NODE_PORTS[0]}" /oauth/token "$bodies" $((CONNS / 2)) \
			$((first + r * per)) "$half" "$expect" >"$WORK/$name.a" || true) &
		"$TOOLS/saml_post" 127.0.0.1 "${NODE_PORTS[1]}" /oauth/token "$bodies" $((CONNS / 2)) \
			$((first + r * per + half)) $((per - half)) "$expect" >"$WORK/$name.b" || true
		wait $!
		ticks=$((ticks + $(cpu_ticks "${NODE_PIDS[@]}") - c0))
		sed "s/^/# $name A: /" "$WORK/$name.a" >&2
		sed "s/^/# $name B: /" "$WORK/$name.b" >&2
		a=$(grep '^RESULT' "$WORK/$name.a" || echo "RESULT seconds=0 p99_ms=0 errors=$half")
		b=$(grep '^RESULT' "$WORK/$name.b" || echo "RESULT seconds=0 p99_ms=0 errors=$half")
		printf '%s\n%s\n' "$a" "$b" | awk -v n="$per" '
			{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			  if (v["seconds"] > s) s = v["seconds"]; if (v["p99_ms"] > p) p = v["p99_ms"]; e += v["errors"] }
			END { printf "RESULT rps=%.0f p99_ms=%.2f errors=%d\n", (s > 0 ? n / s : 0), p, e }' \
			>>"$WORK/$name.res"
		e=$(tail -1 "$WORK/$name.res" | field errors)
		errs=$((errs + ${e:-$per}))
	done
	echo "$(field rps <"$WORK/$name.res" | median) $(field p99_ms <"$WORK/$name.res" | median)" \
		"$errs $(per_req_ms "$ticks" $((REPS * per)))"
}

# warm NAME BODIES COUNT EXPECT: the first COUNT lines, untimed
warm() {
	"$TOOLS/saml_post" 127.0.0.1 "$T_PORT" /oauth/token "$2" "$CONNS" 0 "$3" "$4" |
		sed "s/^/# warm $1: /" >&2 || {
		echo "oauth_bench: the $1 warm-up had errors" >&2
		exit 1
	}
}

log "tessera (SQLite): $PENDING pending flows, $((WARM + REPS * GRANTS)) approved, as many refresh tokens"
DB=$WORK/t.db
"$BIN" init --db "$DB" --master-key-file "$KEY" --json >/dev/null
PER_POLL=$((PENDING * ROUNDS))
TOTAL_ROUNDS=$(((WARM + PER_POLL * REPS + PENDING - 1) / PENDING))
TOTAL_GRANTS=$((WARM + GRANTS * REPS))
"$TOOLS/oauth_load" "$DB" "$PENDING" "$TOTAL_ROUNDS" "$TOTAL_GRANTS" "$TOTAL_GRANTS" "$WORK" >&2
start_node "$DB" --device-poll-interval 1
T_PID=${NODE_PIDS[0]}
T_PORT=${NODE_PORTS[0]}

warm polls "$WORK/poll" "$WARM" 400
log "tessera: $REPS x $PER_POLL polls"
L_P=$(load1)
read -r P_RPS P_P99 P_ERR P_CPU < <(runs polls "$WORK/poll" "$WARM" "$PER_POLL" 400 "$T_PID")

warm grants "$WORK/grant" "$WARM" 200
log "tessera: $REPS x $GRANTS device-code grants"
L_G=$(load1)
read -r G_RPS G_P99 G_ERR G_CPU < <(runs grants "$WORK/grant" "$WARM" "$GRANTS" 200 "$T_PID")

warm refresh "$WORK/refresh" "$WARM" 200
log "tessera: $REPS x $GRANTS refresh grants"
L_R=$(load1)
read -r R_RPS R_P99 R_ERR R_CPU < <(runs refresh "$WORK/refresh" "$WARM" "$GRANTS" 200 "$T_PID")

cat <<EOF
| Workload (SQLite, one node) | Rate | p99 ms | Errors | CPU ms per request | load1 before |
|---|---|---|---|---|---|
| device-code polls over $PENDING pending flows (400 authorization_pending / slow_down) | $P_RPS/s | $P_P99 | $P_ERR | $P_CPU | $L_P |
| device-code grants (200: code consumed, session, refresh token) | $G_RPS/s | $G_P99 | $G_ERR | $G_CPU | $L_G |
| refresh grants (200: token spent, session checked, new session and token) | $R_RPS/s | $R_P99 | $R_ERR | $R_CPU | $L_R |
EOF

[ "$PG" = 1 ] || exit 0
stop_nodes
log "starting PostgreSQL (fsync on, synchronous_commit on)"
URL=$(PG_TEST_DURABLE=1 sh "$REPO/scripts/pg-test.sh" start "$WORK/pg")
"$BIN" init --db "$URL" --master-key-file "$KEY" --json >/dev/null
"$TOOLS/oauth_load" "$URL" "$PENDING" "$TOTAL_ROUNDS" "$TOTAL_GRANTS" "$TOTAL_GRANTS" "$WORK" >&2
start_node "$URL" --device-poll-interval 1
start_node "$URL" --device-poll-interval 1
T_PORT=${NODE_PORTS[0]}
warm polls "$WORK/poll" "$WARM" 400
log "tessera, 2 nodes on PostgreSQL: $REPS x $PER_POLL polls"
L_P=$(load1)
read -r P_RPS P_P99 P_ERR P_CPU < <(runs2 pg-polls "$WORK/poll" "$WARM" "$PER_POLL" 400)
warm grants "$WORK/grant" "$WARM" 200
log "tessera, 2 nodes on PostgreSQL: $REPS x $GRANTS device-code grants"
L_G=$(load1)
read -r G_RPS G_P99 G_ERR G_CPU < <(runs2 pg-grants "$WORK/grant" "$WARM" "$GRANTS" 200)
warm refresh "$WORK/refresh" "$WARM" 200
log "tessera, 2 nodes on PostgreSQL: $REPS x $GRANTS refresh grants"
L_R=$(load1)
read -r R_RPS R_P99 R_ERR R_CPU < <(runs2 pg-refresh "$WORK/refresh" "$WARM" "$GRANTS" 200)
stop_nodes

# The peer on the same cluster, right after: pgbench running the store work alone, with
# CONNS clients. Polls: the server's own poll UPDATE (store/queries_oauth.h) on the same
# table and flows, each a statement in autocommit with synchronous_commit off (the least a
# poll can cost the database: one round trip, no WAL flush waited for, as a Tessera poll's
# pipeline; Tessera also parses HTTP). Grants: a transaction of two indexed INSERTs (a
# session row and a refresh token's, about what a grant writes besides its UPDATE),
# durable, as bench/pg_bench.sh's peer; and a device-code grant's own statements
# (store/queries_*.h) on the same tables and rows: the flow read by its hash, then BEGIN,
# the approving session locked, the code consumed, the account, the user, its API key
# count and its groups read, a session, a refresh token and an audit event (with its seq)
# written, COMMIT, each statement prepared (as the server's are) and waited for in turn;
# the writes go to copies of the tables with the same indexes, so the store is left as it
# was. That is the database doing a grant's work for a client without HTTP, JSON or
# pipelining.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
"$PGBIN/psql" "$URL" -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE pgb_codes (i int PRIMARY KEY, h text NOT NULL);
INSERT INTO pgb_codes SELECT row_number() OVER (ORDER BY device_hash), device_hash
  FROM oauth_device_codes WHERE status = 'pending';
CREATE TABLE pgb_sessions (id uuid PRIMARY KEY, token_hash text NOT NULL UNIQUE, user_id text NOT NULL,
                           created_ms bigint NOT NULL, body text NOT NULL);
CREATE INDEX pgb_sessions_by_user ON pgb_sessions (user_id);
CREATE TABLE pgb_refresh (h text PRIMARY KEY, family text NOT NULL, created_ms bigint NOT NULL);
CREATE INDEX pgb_refresh_by_family ON pgb_refresh (family);
CREATE TABLE pgb_flows (i int PRIMARY KEY, h text NOT NULL);
INSERT INTO pgb_flows SELECT row_number() OVER (ORDER BY device_hash), device_hash
  FROM oauth_device_codes WHERE session_id IS NOT NULL;
CREATE TABLE pgb_device (LIKE oauth_device_codes INCLUDING ALL);
INSERT INTO pgb_device SELECT * FROM oauth_device_codes;
UPDATE pgb_device SET status = 'approved' WHERE session_id IS NOT NULL;
CREATE TABLE pgb_gsessions (LIKE sessions INCLUDING ALL);
CREATE TABLE pgb_grefresh (LIKE oauth_refresh_tokens INCLUDING ALL);
CREATE TABLE pgb_audit (LIKE audit_events INCLUDING ALL);
CREATE TABLE pgb_audit_pending (LIKE audit_pending INCLUDING ALL);
CREATE SEQUENCE pgb_audit_seq;
SQL
NFLOWS=$("$PGBIN/psql" "$URL" -X -qAt -c "SELECT count(*) FROM pgb_flows")
NCODES=$("$PGBIN/psql" "$URL" -X -qAt -c "SELECT count(*) FROM pgb_codes")
cat >"$WORK/pgb-poll.sql" <<SQL
\\set i random(1, $NCODES)
\\set t random(1, 2000000000000)
UPDATE oauth_device_codes SET poll_slow = CASE WHEN (status = 'pending' AND :t - last_poll_ms < interval_s * 1000) THEN 1 ELSE 0 END, interval_s = CASE WHEN (status = 'pending' AND :t - last_poll_ms < interval_s * 1000) THEN interval_s + 5 ELSE interval_s END, last_poll_ms = :t WHERE device_hash = (SELECT h FROM pgb_codes WHERE i = :i) RETURNING device_hash, status, interval_s;
SQL
cat >"$WORK/pgb-grant.sql" <<'SQL'
\set t random(1, 2000000000000)
BEGIN;
INSERT INTO pgb_sessions VALUES (gen_random_uuid(), md5(random()::text) || md5(random()::text), 'user-' || (:t % 1000), :t, repeat('s', 300));
INSERT INTO pgb_refresh VALUES (md5(random()::text) || md5(random()::text), gen_random_uuid()::text, :t);
COMMIT;
SQL
cat >"$WORK/pgb-device-grant.sql" <<SQL
\\set i random(1, $NFLOWS)
\\set t random(1, 2000000000000)
SELECT device_hash AS h, session_id AS sid, account_id AS acct, user_id AS uid FROM pgb_device WHERE device_hash = (SELECT h FROM pgb_flows WHERE i = :i) \\gset
BEGIN;
SELECT session_id, token_hash, account_id, user_id, kind, license, created_ms, expires_ms, license_checked_ms, revoked_ms, client, origin, roles_json, role_arn, provider_arn, role_session_name FROM sessions WHERE session_id = :sid FOR UPDATE;
UPDATE pgb_device SET status = CASE WHEN status = 'approved' THEN 'consumed' ELSE 'approved' END WHERE device_hash = :h;
SELECT account_id, name, account_type, status, created_ms, settings FROM accounts WHERE account_id = :acct;
SELECT u.user_id, u.account_id, u.user_name, u.external_id, u.display_name, u.active, u.resource, u.version, u.created_ms, u.modified_ms, u.suspended, u.registration_status, u.license, u.personal_pin, u.invited_ms, u.joined_ms FROM users u WHERE u.account_id = :acct AND u.user_id = :uid;
SELECT count(*) FROM api_keys WHERE account_id = :acct;
SELECT g.group_id, g.display_name, lg.license FROM group_members m JOIN groups g ON g.group_id = m.group_id LEFT JOIN license_groups lg ON lg.account_id = g.account_id AND lg.group_name = g.display_name WHERE m.user_id = :uid ORDER BY g.display_name;
INSERT INTO pgb_gsessions (session_id, token_hash, account_id, user_id, kind, license, created_ms, expires_ms, license_checked_ms, client, origin, roles_json, role_arn, provider_arn, role_session_name) VALUES (gen_random_uuid()::text, md5(random()::text) || md5(random()::text), :acct, :uid, 'cli', 'Pro', :t, CAST(:t AS BIGINT) + 3600000, :t, 'tessera-cli', 'device', NULL, NULL, NULL, NULL);
INSERT INTO pgb_grefresh (token_hash, family_id, account_id, user_id, client_id, session_id, created_ms, expires_ms, used_ms, revoked_ms) VALUES (md5(random()::text) || md5(random()::text), gen_random_uuid()::text, :acct, :uid, 'tessera-cli', :sid, :t, CAST(:t AS BIGINT) + 28800000, 0, 0);
SELECT nextval('pgb_audit_seq') AS seq \\gset
WITH e AS (INSERT INTO pgb_audit (seq, event_id, event_time_ms, event_name, account_id, body, mac) VALUES (:seq, gen_random_uuid()::text, :t, 'CreateToken', :acct, repeat('x', 900), md5(random()::text) || md5(random()::text)) RETURNING seq) INSERT INTO pgb_audit_pending (seq) SELECT seq FROM e;
COMMIT;
SQL
pgb() { # script [PGOPTIONS [PGBENCH_FLAGS]]: median tps of REPS runs of 5 s
	local r
	: >"$WORK/pgb.res"
	for r in $(seq "$REPS"); do
		# shellcheck disable=SC2086 # the flags are words
		PGOPTIONS=${2:-} "$PGBIN/pgbench" -n ${3:-} -c "$CONNS" -j 2 -T 5 -f "$1" "$URL" 2>&1 |
			tee -a "$WORK/pgbench.log" |
			sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/RESULT rps=\1/p' \
				>>"$WORK/pgb.res"
	done
	field rps <"$WORK/pgb.res" | median | awk '{ printf "%.0f", $1 }'
}
log "pgbench: the poll's UPDATE alone, a two-INSERT transaction, a grant's statements"
L_B=$(load1)
B_POLL=$(pgb "$WORK/pgb-poll.sql" "-c synchronous_commit=off")
B_GRANT=$(pgb "$WORK/pgb-grant.sql")
B_DGRANT=$(pgb "$WORK/pgb-device-grant.sql" "" "-M prepared")
pct() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.0f %%", 100 * $1 / $2; else print "n/a" }'; }

cat <<EOF

| Workload (PostgreSQL, two nodes) | Rate | p99 ms | Errors | CPU ms per request (nodes) | load1 before |
|---|---|---|---|---|---|
| device-code polls over $PENDING pending flows | $P_RPS/s | $P_P99 | $P_ERR | $P_CPU | $L_P |
| device-code grants | $G_RPS/s | $G_P99 | $G_ERR | $G_CPU | $L_G |
| refresh grants | $R_RPS/s | $R_P99 | $R_ERR | $R_CPU | $L_R |
| pgbench: the poll UPDATE alone (autocommit, synchronous_commit off) | $B_POLL/s | | | | $L_B |
| pgbench: two indexed INSERTs per transaction (durable) | $B_GRANT/s | | | | |
| pgbench: a device-code grant's own statements (durable) | $B_DGRANT/s | | | | |

Tessera's polls on two nodes run at $(pct "$P_RPS" "$B_POLL") of the database doing the
polls' statement alone; its device-code grants at $(pct "$G_RPS" "$B_GRANT") and its refresh
grants at $(pct "$R_RPS" "$B_GRANT") of the database doing two inserts per transaction. Its
device-code grants run at $(pct "$G_RPS" "$B_DGRANT") of the database doing a grant's own
statements with nothing between them.
EOF
