#!/bin/bash
# What the sign-in benchmarks (bench/saml_bench.sh, bench/oidc_bench.sh) share, sourced
# after bench/common.sh once the caller has set BIN, TOOLS, WORK, PIDS, USERS, DOMAIN,
# REPS and BENCH_NAME: CPU accounting, nodes, the admin API, the directory an account
# needs for every sign-in to be allowed, and the closed-loop runs of saml_post (also bench/oauth_bench.sh's).

# cpu_ticks PID...: user + system clock ticks of those processes (all their threads)
cpu_ticks() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}
# load1: the 1-minute load average now (the machine is shared: a figure above 1 before a
# phase means someone else was running, and its row is not a clean measurement)
load1() { cut -d' ' -f1 /proc/loadavg; }
# per_req_ms TICKS REQUESTS: CPU ms per request
per_req_ms() { echo "$1 $2 $(getconf CLK_TCK)" | awk '{ if ($2 > 0) printf "%.2f", 1000 * $1 / $3 / $2; else print "n/a" }'; }

# post_runs NAME HOST PORT PATH BODIES FIRST PER_RUN CONNS EXPECT PIDS...: REPS runs of
# saml_post over consecutive slices of BODIES, each answer expected to be status EXPECT;
# "rps p99 errors cpu_ms" (medians, errors summed; CPU of PIDS per request) on stdout
post_runs() {
	local name=$1 host=$2 port=$3 path=$4 bodies=$5 first=$6 per=$7 conns=$8 expect=$9
	shift 9
	: >"$WORK/$name.res"
	local errs=0 ticks=0 r c0 out e
	for r in $(seq 0 $((REPS - 1))); do
		c0=$(cpu_ticks "$@")
		out=$("$TOOLS/saml_post" "$host" "$port" "$path" "$bodies" "$conns" \
			$((first + r * per)) "$per" "$expect" || true)
		ticks=$((ticks + $(cpu_ticks "$@") - c0))
		echo "$out" | sed "s/^/# $name: /" >&2
		echo "$out" | grep '^RESULT' >>"$WORK/$name.res" || echo "RESULT rps=0 errors=$per" >>"$WORK/$name.res"
		e=$(echo "$out" | field errors | head -1)
		errs=$((errs + ${e:-$per}))
	done
	echo "$(field rps <"$WORK/$name.res" | median) $(field p99_ms <"$WORK/$name.res" | median)" \
		"$errs $(per_req_ms "$ticks" $((REPS * per)))"
}

KEY=$WORK/k
NODE_PIDS=()
NODE_PORTS=()
# start_node DB [EXTRA_ARGS...]: one `tessera serve` on a free port; its URL in $NODE_URL;
# its --base-url (which names the ACS) is $NODE_BASE, else its own URL. The sign-in limit
# per client address is off: every sign-in comes from the one load generator's address.
# CALLGRIND_OUT (a path prefix) runs it under valgrind's callgrind.
start_node() {
	local db=$1 port
	shift
	port=$(free_port)
	${CALLGRIND_OUT:+valgrind --tool=callgrind --callgrind-out-file="$CALLGRIND_OUT.%p"} \
		"$BIN" serve --db "$db" --master-key-file "$KEY" --listen "127.0.0.1:$port" \
		--base-url "${NODE_BASE:-http://127.0.0.1:$port}" --access-log off --log-level warn \
		--signin-rate-limit 0 "$@" ${SERVE_ARGS:-} >"$WORK/serve-$port.log" 2>&1 &
	PIDS+=("$!")
	NODE_PIDS+=("$!")
	NODE_PORTS+=("$port")
	NODE_URL=http://127.0.0.1:$port
	wait_up "$NODE_URL"
}
stop_nodes() {
	stop_procs "${NODE_PIDS[@]}"
	NODE_PIDS=()
	NODE_PORTS=()
}
api() { # api METHOD URL [BODY]: the admin API with the root key, the answer on stdout
	curl -sf -X "$1" -H "Authorization: Bearer $ROOT" -H 'Content-Type: application/json' \
		${3:+-d "$3"} "$2"
}

# setup_directory DB: account, SCIM group, USERS users in it (scim_load), the domain
# verified over DNS (dnsmasq), the group licensed Pro. Sets ROOT and ACCT; leaves one node
# running at $NODE_URL. check_allowed then says whether user 0 may sign in.
setup_directory() {
	local db=$1 dns_port rec name value token group
	ROOT=$("$BIN" init --db "$db" --master-key-file "$KEY" --json | jq -r .Token)
	dns_port=$(free_port)
	start_node "$db" --dns-server "127.0.0.1:$dns_port"
	ACCT=$(api POST "$NODE_URL/api/v1/accounts" '{"Name":"bench"}' | jq -r .Account.AccountId)
	token=$(api POST "$NODE_URL/api/v1/accounts/$ACCT/api-keys" | jq -r .ApiKey.Token)
	group=$(curl -sf -X POST -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/scim+json' \
		-d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"bench-pro"}' \
		"$NODE_URL/scim/v2/Groups" | jq -r .id)
	stop_nodes
	log "loading $USERS users into group bench-pro"
	"$TOOLS/scim_load" "$db" "$ACCT" "$USERS" "$WORK/ids" "$group:0:$USERS" >&2
	start_node "$db" --dns-server "127.0.0.1:$dns_port"
	rec=$(api POST "$NODE_URL/api/v1/accounts/$ACCT/domains" "{\"DomainName\":\"$DOMAIN\"}" |
		jq -r '.Domain.VerificationRecord | .Name + " " + .Value')
	read -r name value <<<"$rec"
	/usr/sbin/dnsmasq --no-daemon --no-resolv --no-hosts --conf-file=/dev/null \
		--port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces --user=root \
		--txt-record="$name,$value" --log-facility="$WORK/dnsmasq.log" 2>"$WORK/dnsmasq.err" &
	PIDS+=("$!")
	sleep 0.5
	api POST "$NODE_URL/api/v1/accounts/$ACCT/domains/$DOMAIN?operation=verify" >/dev/null
	for _ in $(seq 100); do
		[ "$(api GET "$NODE_URL/api/v1/accounts/$ACCT/domains/$DOMAIN" | jq -r .Domain.DomainStatus)" = Verified ] && break
		sleep 0.2
	done
	[ "$(api GET "$NODE_URL/api/v1/accounts/$ACCT/domains/$DOMAIN" | jq -r .Domain.DomainStatus)" = Verified ] || {
		echo "$BENCH_NAME: $DOMAIN did not verify" >&2
		exit 1
	}
	api PUT "$NODE_URL/api/v1/accounts/$ACCT/groups" \
		'{"Groups":[{"GroupName":"bench-pro","LicenseType":"Pro"}]}' >/dev/null
}

# check_allowed: the sign-in check of user 0 must already say Allowed (rules 2-5 of SPEC §4)
check_allowed() {
	local uid
	uid=$(head -1 "$WORK/ids")
	if [ "$(api GET "$NODE_URL/api/v1/accounts/$ACCT/users/$uid/sign-in-check" | jq -r .SignInCheck.Allowed)" != true ]; then
		api GET "$NODE_URL/api/v1/accounts/$ACCT/users/$uid/sign-in-check" >&2
		echo "$BENCH_NAME: the sign-in check of user0000000@$DOMAIN does not allow it" >&2
		exit 1
	fi
}


# refusal_checks URL: the failed checks of refused SignIn events (why 303s were missing)
refusal_checks() {
	api GET "$1/api/v1/audit-events?eventName=SignIn&max-results=50" |
		jq -r '[.Events[]? | (if type == "string" then fromjson else . end) | .errorCode // empty] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' 2>/dev/null || true
}
