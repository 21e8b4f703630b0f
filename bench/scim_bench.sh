#!/bin/bash
# SCIM benchmark: Tessera (SQLite store) against a scimmy + scimmy-routers peer,
# with wrk on this machine over loopback. Prints a Markdown table.
#
#   bench/scim_bench.sh TESSERA_BIN [SCIM_LOAD_BIN]
#
# Workloads (the issue's targets):
#   POST /Users         wrk -t2 -c32, unique userNames (bench/scim_post.lua)
#   GET filter eq       wrk -t2 -c32, random one of USERS loaded users (bench/scim_get.lua)
#   PATCH +1000         1,000 new members into a GROUP-member group (curl, median)
#   PATCH +1            one new member into a 1,000- and a USERS-member group (median)
#   RSS                 VmRSS of the server after the GET runs
# Environment: USERS (1000000), GROUP (100000), DUR (10 s per wrk run), REPS (3 wrk
# runs, median), PATCH_REPS (5), ONE_REPS (21), PEER (1: also run the scimmy peer),
# CONNS (32), SERVE_ARGS (flags for tessera serve; default "--threads 1": wrk runs on the
# same two cores, so a second event loop only competes with it, as bench/run.sh found), PEER_PATCH_MAX_S (60: the peer's one PATCH is cut off there), KEEP=1. The loader (bench/scim_load.c, default: next to TESSERA_BIN) writes
# USERS users straight into SQLite through the store's own insert functions.
set -euo pipefail

BIN=$(readlink -f "${1:?usage: scim_bench.sh TESSERA_BIN [SCIM_LOAD_BIN]}")
LOADER=$(readlink -f "${2:-$(dirname "$BIN")/scim_load}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
USERS=${USERS:-1000000}
GROUP=${GROUP:-100000}
DUR=${DUR:-10}
REPS=${REPS:-3}
PATCH_REPS=${PATCH_REPS:-5}
ONE_REPS=${ONE_REPS:-21}
PEER=${PEER:-1}
CONNS=${CONNS:-32}
SERVE_ARGS=${SERVE_ARGS---threads 1}
PEER_PATCH_MAX_S=${PEER_PATCH_MAX_S:-60}
EXTRA=$((PATCH_REPS * 1000 + 2 * ONE_REPS + 10)) # users outside every group, to add
bench_start scim-bench
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# patch_ms URL TOKEN BODYFILE: one PATCH, its time in ms (fails on a status other than 2xx)
patch_ms() {
	local out
	out=$(curl -s -o "$WORK/patch.out" -w '%{http_code} %{time_total}' -X PATCH --max-time 300 \
		-H "Authorization: Bearer $2" -H 'Content-Type: application/scim+json' \
		--data-binary "@$3" "$1")
	case "$out" in 2*) ;; *)
		echo "PATCH $1 failed: $out $(head -c 300 "$WORK/patch.out")" >&2
		exit 1
		;;
	esac
	echo "${out#* }" | awk '{printf "%.1f\n", $1 * 1000}'
}
# members_body FIRST COUNT IDSFILE > body: PatchOp adding ids FIRST..FIRST+COUNT-1 (0-based)
members_body() {
	sed -n "$(($1 + 1)),$(($1 + $2))p" "$3" |
		awk 'BEGIN {printf "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":["}
		     {printf "%s{\"value\":\"%s\"}", (NR > 1 ? "," : ""), $1}
		     END {print "]}]}"}'
}

# ---- Tessera -------------------------------------------------------------------
T0=$(date +%s)
DB=$WORK/t.db
KEY=$WORK/k
ROOT=$("$BIN" init --db "$DB" --master-key-file "$KEY" --json | jq -r .Token)
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
start_tessera() {
	"$BIN" serve --db "$DB" --master-key-file "$KEY" --listen "127.0.0.1:$PORT" \
		--access-log off --log-level warn ${SERVE_ARGS:-} >"$WORK/serve.log" 2>&1 &
	TPID=$!
	PIDS+=("$TPID")
	wait_up "$URL"
}
stop_tessera() {
	kill "$TPID"
	wait "$TPID" || true
}
start_tessera
ACCT=$(curl -sf -X POST -H "Authorization: Bearer $ROOT" -H 'Content-Type: application/json' \
	-d '{"Name":"bench"}' "$URL/api/v1/accounts" | jq -r .Account.AccountId)
TOKEN=$(curl -sf -X POST -H "Authorization: Bearer $ROOT" "$URL/api/v1/accounts/$ACCT/api-keys" |
	jq -r .ApiKey.Token)
new_group() {
	curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
		-d "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"$1\"}" \
		"$URL/scim/v2/Groups" | jq -r .id
}

log "tessera: POST /Users x $REPS"
read -r T_POST T_POST_P99 T_POST_ERR < <(wrk_runs t_post "$HERE/scim_post.lua" "$URL" "$TOKEN")
G_BIG=$(new_group big)
G_SMALL=$(new_group small)
G_HUGE=$(new_group huge)
stop_tessera

log "loading $USERS + $EXTRA users"
TL=$(date +%s.%N)
"$LOADER" "$DB" "$ACCT" $((USERS + EXTRA)) "$WORK/ids" "$G_BIG:0:$GROUP" "$G_SMALL:0:1000" \
	"$G_HUGE:0:$USERS" 2>&2
T_LOAD=$(echo "$(date +%s.%N) - $TL" | bc)
start_tessera

log "tessera: GET filter x $REPS"
DUR_SAVE=$DUR REPS_SAVE=$REPS
DUR=3 REPS=1 wrk_runs t_warm "$HERE/scim_get.lua" "$URL" "$TOKEN" "$USERS" >/dev/null
DUR=$DUR_SAVE REPS=$REPS_SAVE
read -r T_GET T_GET_P99 T_GET_ERR < <(wrk_runs t_get "$HERE/scim_get.lua" "$URL" "$TOKEN" "$USERS")
T_RSS=$(rss_mb "$TPID")

log "tessera: PATCH +1000 into $GROUP x $PATCH_REPS"
: >"$WORK/t_patch"
for r in $(seq 0 $((PATCH_REPS - 1))); do
	members_body $((USERS + r * 1000)) 1000 "$WORK/ids" >"$WORK/body"
	patch_ms "$URL/scim/v2/Groups/$G_BIG" "$TOKEN" "$WORK/body" | tee -a "$WORK/t_patch" >&2
done
T_PATCH=$(median <"$WORK/t_patch")

log "tessera: PATCH +1 at 1,000 and $USERS members x $ONE_REPS"
: >"$WORK/t_one_small"
: >"$WORK/t_one_huge"
base=$((USERS + PATCH_REPS * 1000))
for r in $(seq 0 $((ONE_REPS - 1))); do
	members_body $((base + 2 * r)) 1 "$WORK/ids" >"$WORK/body"
	patch_ms "$URL/scim/v2/Groups/$G_SMALL" "$TOKEN" "$WORK/body" >>"$WORK/t_one_small"
	members_body $((base + 2 * r + 1)) 1 "$WORK/ids" >"$WORK/body"
	patch_ms "$URL/scim/v2/Groups/$G_HUGE" "$TOKEN" "$WORK/body" >>"$WORK/t_one_huge"
done
T_ONE_SMALL=$(median <"$WORK/t_one_small")
T_ONE_HUGE=$(median <"$WORK/t_one_huge")
T_ONE_RATIO=$(echo "scale=2; $T_ONE_HUGE / $T_ONE_SMALL" | bc)
T_RSS_END=$(rss_mb "$TPID")
stop_tessera
log "tessera done in $(($(date +%s) - T0)) s"

# ---- scimmy peer -----------------------------------------------------------------
P_POST=n/a P_POST_P99=n/a P_GET=n/a P_GET_P99=n/a P_PATCH=n/a P_RSS=n/a P_POST_ERR=0 P_GET_ERR=0
if [ "$PEER" = 1 ] && [ -d "$HERE/peer/node_modules/scimmy" ]; then
	PPORT=$(free_port)
	PURL=http://127.0.0.1:$PPORT
	log "peer: POST /Users x $REPS"
	node "$HERE/peer/scimmy-server.mjs" "$PPORT" 2>"$WORK/peer.log" &
	PPID_=$!
	PIDS+=("$PPID_")
	wait_up "$PURL"
	read -r P_POST P_POST_P99 P_POST_ERR < <(wrk_runs p_post "$HERE/scim_post.lua" "$PURL" bench)
	kill "$PPID_"
	wait "$PPID_" || true
	log "peer: seeding $USERS users"
	SEED_USERS=$((USERS + EXTRA)) SEED_GROUP=$GROUP SEED_IDS_OUT=$WORK/pids \
		node --max-old-space-size=8192 "$HERE/peer/scimmy-server.mjs" "$PPORT" 2>"$WORK/peer.log" &
	PPID_=$!
	PIDS+=("$PPID_")
	for _ in $(seq 600); do
		curl -sf -o /dev/null "$PURL/healthz" && break
		sleep 0.5
	done
	log "peer: GET filter x $REPS"
	DUR=3 REPS=1 wrk_runs p_warm "$HERE/scim_get.lua" "$PURL" bench "$USERS" >/dev/null
	DUR=$DUR_SAVE REPS=$REPS_SAVE
	read -r P_GET P_GET_P99 P_GET_ERR < <(wrk_runs p_get "$HERE/scim_get.lua" "$PURL" bench "$USERS")
	P_RSS=$(rss_mb "$PPID_")
	# scimmy reads, patches and rewrites the whole group: one try, bounded by PEER_PATCH_MAX_S
	log "peer: PATCH +1000 into $GROUP x 1 (at most ${PEER_PATCH_MAX_S} s)"
	members_body "$USERS" 1000 "$WORK/pids" >"$WORK/body"
	P_PATCH=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -X PATCH \
		--max-time "$PEER_PATCH_MAX_S" -H 'Authorization: Bearer bench' \
		-H 'Content-Type: application/scim+json' --data-binary "@$WORK/body" \
		"$PURL/scim/v2/Groups/big" || true)
	case "$P_PATCH" in
	2*) P_PATCH=$(echo "${P_PATCH#* }" | awk '{printf "%.1f\n", $1 * 1000}') ;;
	*) P_PATCH=">$((PEER_PATCH_MAX_S * 1000)) (${P_PATCH%% *})" ;;
	esac
	kill "$PPID_"
	wait "$PPID_" || true
fi

ratio() { if [ "$2" = n/a ] || [ "$1" = n/a ]; then echo n/a; else echo "scale=1; $1 / $2" | bc; fi; }
rratio() { if [ "$2" = n/a ] || [ "$1" = n/a ] || [ "${2#>}" != "$2" ]; then echo n/a; else echo "scale=1; $2 / $1" | bc; fi; }
cat <<EOF

SCIM benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), wrk -t2 -c$CONNS -d${DUR}s, median of $REPS; $USERS users loaded in ${T_LOAD%.*} s; \`tessera serve $SERVE_ARGS\` (SQLite)

| Workload | Target | Tessera | scimmy | Tessera / scimmy |
|---|---|---|---|---|
| POST /Users (req/s) | ≥ 5,000 | $T_POST (p99 $T_POST_P99 ms, errors $T_POST_ERR) | $P_POST (p99 $P_POST_P99 ms, errors $P_POST_ERR) | $(ratio "$T_POST" "$P_POST")× |
| GET filter userName eq at $USERS users (req/s) | ≥ 20,000, p99 < 5 ms | $T_GET (p99 $T_GET_P99 ms, errors $T_GET_ERR) | $P_GET (p99 $P_GET_P99 ms, errors $P_GET_ERR) | $(ratio "$T_GET" "$P_GET")× |
| PATCH +1,000 members into $GROUP (ms, median of $PATCH_REPS) | < 50 | $T_PATCH | $P_PATCH | $(rratio "$T_PATCH" "$P_PATCH")× |
| PATCH +1 member at 1,000 / $USERS members (ms, median of $ONE_REPS) | ratio ≤ 2 | $T_ONE_SMALL / $T_ONE_HUGE (ratio $T_ONE_RATIO) | — | — |
| Server RSS after GET at $USERS users (MB) | < 256 | $T_RSS (after PATCHes: $T_RSS_END) | $P_RSS | — |
EOF
