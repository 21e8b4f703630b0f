#!/bin/bash
# SAML sign-in benchmark: Tessera's ACS (SQLite store) against the limit (bare
# xmlsec1 verifying the same responses) and a peer (Apache 2.4 with
# mod_auth_mellon), in one run on the same cores. Prints a Markdown table.
#
#   bench/saml_bench.sh TESSERA_BIN [TOOLS_DIR]
#
# TOOLS_DIR (default: next to TESSERA_BIN) holds saml_forge, saml_xmlsec,
# saml_post and scim_load (bench/*.c, built with the server).
#
# Workloads:
#   Tessera        POST /saml/{AccountId}/acs, each of N unique Okta-shaped
#                  unsolicited responses once (bench/saml_forge.c: signed
#                  Assertion, RSA-SHA256, RSA-2048 IdP key, NameID = one of USERS
#                  provisioned users), CONNS keep-alive connections (bench/saml_post.c);
#                  the account lets them in (verified domain, licensed group,
#                  AllowIdpInitiated), so each is a 303 with a session and a SignIn
#                  audit event; anything else is an error. WARM responses first (the
#                  users' first sign-ins, which register them), then REPS runs of N/REPS.
#   limit          bench/saml_xmlsec.c on the same N responses: parse + verify the
#                  assertion signature with the IdP key, XMLSEC_THREADS threads, REPS runs.
#   mellon         Apache (event MPM) + mod_auth_mellon on a free loopback port,
#                  MELLON_N responses of the same shape and key made for its URLs, posted
#                  to its postResponse endpoint the same way; success is its 303.
#   PostgreSQL     (PG=1) the Tessera workload again with the store on PostgreSQL at its
#                  default durability, 2 nodes behind nginx (bench/pg_bench.sh's way).
# Environment: N (30000), WARM (2000), USERS (1000), REPS (3, median), CONNS (32),
# MELLON_N (1500, tuned mellon), MELLON_DEFAULT_N (150: mellon as installed is slow), MELLON_CONNS (CONNS), MELLON (1: run the peer), PG (1), PG_N (N),
# XMLSEC_THREADS (2), PERF_OUT (a file: perf record of the server, PERF_CG (dwarf) call graphs, during the timed
# Tessera runs), CALLGRIND_OUT (a path prefix: every node under valgrind's callgrind, and
# the timed Tessera runs' instructions dumped to PREFIX.PID.1; use small N), SERVE_ARGS ("--threads 1"), APACHE_PROCS (2), APACHE_THREADS (32).
set -euo pipefail

BIN=$(readlink -f "${1:?usage: saml_bench.sh TESSERA_BIN [TOOLS_DIR]}")
TOOLS=$(readlink -f "${2:-$(dirname "$BIN")}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
N=${N:-30000}
WARM=${WARM:-2000}
USERS=${USERS:-1000}
REPS=${REPS:-3}
CONNS=${CONNS:-32}
MELLON=${MELLON:-1}
MELLON_N=${MELLON_N:-1500}
MELLON_DEFAULT_N=${MELLON_DEFAULT_N:-150}
MELLON_CONNS=${MELLON_CONNS:-$CONNS}
PG=${PG:-1}
PG_N=${PG_N:-$N}
XMLSEC_THREADS=${XMLSEC_THREADS:-2}
SERVE_ARGS=${SERVE_ARGS---threads 1}
APACHE_PROCS=${APACHE_PROCS:-2}
APACHE_THREADS=${APACHE_THREADS:-32}
IDP_ENTITY=http://www.okta.com/exkbench0123456789
DOMAIN=bench.example
bench_start saml-bench
chmod 0755 "$WORK" # Apache's and nginx's workers (www-data, nobody) read their files
BENCH_NAME=saml_bench
need_tools saml_bench saml_forge saml_xmlsec saml_post scim_load

# ---- the IdP: an RSA-2048 key and its metadata (Okta's shape) -------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/idp.key" -out "$WORK/idp.crt" \
	-days 30 -subj "/CN=bench.okta.example" 2>/dev/null
IDP_CERT_B64=$(sed '/-----/d' "$WORK/idp.crt" | tr -d '\n')
cat >"$WORK/idp-metadata.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="$IDP_ENTITY"><md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>$IDP_CERT_B64</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://bench.okta.example/app/bench/exkbench0123456789/sso/saml"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://bench.okta.example/app/bench/exkbench0123456789/sso/saml"/></md:IDPSSODescriptor></md:EntityDescriptor>
EOF
chmod 0644 "$WORK"/idp-metadata.xml "$WORK"/idp.crt

# ---- Tessera: an account that lets USERS people in ------------------------------------
. "$HERE/signin_common.sh"

# setup_account DB: setup_directory, then the IdP metadata with AllowIdpInitiated. Sets
# ACCT, ACS_URL, SP_ENTITY; leaves one node running at $NODE_URL.
setup_account() {
	setup_directory "$1"
	jq -n --rawfile m "$WORK/idp-metadata.xml" '{MetadataDocument: $m, AllowIdpInitiated: true}' \
		>"$WORK/saml-config.json"
	api PUT "$NODE_URL/api/v1/accounts/$ACCT/saml-config" "@$WORK/saml-config.json" \
		>"$WORK/saml-config.out"
	ACS_URL=$(jq -r .SamlConfig.ServiceProvider.AcsUrl <"$WORK/saml-config.out")
	SP_ENTITY=$(jq -r .SamlConfig.ServiceProvider.EntityId <"$WORK/saml-config.out")
	check_allowed
}


log "tessera (SQLite): setting up"
DB=$WORK/t.db
setup_account "$DB"
T_URL=$NODE_URL
T_PID=${NODE_PIDS[0]}
PER=$((N / REPS))
log "forging $((WARM + PER * REPS)) responses for $ACS_URL"
TF=$(date +%s.%N)
"$TOOLS/saml_forge" "$WORK/idp.key" "$WORK/idp.crt" "$IDP_ENTITY" "$SP_ENTITY" "$ACS_URL" \
	"$USERS" $((WARM + PER * REPS)) "$WORK/t.bodies" 3600 / 2
T_FORGE=$(echo "$(date +%s.%N) - $TF" | bc | cut -d. -f1)
ACS_PATH=/${ACS_URL#http://*/}
T_PORT=${T_URL##*:}

log "tessera: warm-up, $WARM first sign-ins"
"$TOOLS/saml_post" 127.0.0.1 "$T_PORT" "$ACS_PATH" "$WORK/t.bodies" "$CONNS" 0 "$WARM" 303 |
	sed 's/^/# warm: /' >&2 || {
	echo "saml_bench: Tessera refused sign-ins; checks: $(refusal_checks "$T_URL")" >&2
	exit 1
}
log "tessera: $REPS x $PER sign-ins"
T_LOAD=$(load1)
[ -z "${CALLGRIND_OUT:-}" ] || callgrind_control -z "$T_PID" >/dev/null
if [ -n "${PERF_OUT:-}" ]; then # a call-graph profile of the server during the timed runs
	perf record -q --call-graph "${PERF_CG:-dwarf}" -F "${PERF_FREQ:-499}" -p "$T_PID" -o "$PERF_OUT" 2>/dev/null &
	PERF_PID=$!
fi
read -r T_RPS T_P99 T_ERR T_CPU < <(post_runs t_acs 127.0.0.1 "$T_PORT" "$ACS_PATH" \
	"$WORK/t.bodies" "$WARM" "$PER" "$CONNS" 303 "$T_PID")
if [ -n "${CALLGRIND_OUT:-}" ]; then # instructions of the timed runs alone
	callgrind_control -d "$T_PID" >/dev/null
	log "callgrind: $CALLGRIND_OUT.$T_PID.1 holds $((REPS * PER)) sign-ins"
fi
if [ -n "${PERF_OUT:-}" ]; then
	kill -INT "$PERF_PID"
	wait "$PERF_PID" || true
fi
T_RSS=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$T_PID/status")
[ "$T_ERR" = 0 ] || log "tessera refusals by check: $(refusal_checks "$T_URL")"
stop_nodes
# what the store holds afterwards: one session and one SignIn event per accepted response
read -r T_SESSIONS T_EVENTS < <(/usr/bin/python3 - "$DB" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
def count(sql):
    try:
        return c.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return "n/a"
print(count("SELECT count(*) FROM sessions"),
      count("SELECT count(*) FROM audit_events WHERE event_name = 'SignIn'"))
PY
)

log "limit: saml_xmlsec x $REPS on the same responses, $XMLSEC_THREADS threads"
X_LOAD=$(load1)
: >"$WORK/xmlsec.res"
for _ in $(seq "$REPS"); do
	"$TOOLS/saml_xmlsec" "$WORK/idp.crt" "$WORK/t.bodies" "$XMLSEC_THREADS" | tee -a "$WORK/xmlsec.res" >&2
done
X_RPS=$(field rps <"$WORK/xmlsec.res" | median)
X_ERR=$(field errors <"$WORK/xmlsec.res" | sort -g | tail -1)
X_CPU=$(field cpu_ms <"$WORK/xmlsec.res" | median)

# ---- Apache + mod_auth_mellon -------------------------------------------------------------
# Twice: as Debian installs it, and with SSL_CERT_FILE naming an empty file. mellon builds a
# new Lasso server for every response (see saml_mellon.conf.in), and each one makes an xmlsec
# keys manager whose X509 store loads OpenSSL's default CA file (Debian's bundle, ~140
# certificates, parsed twice per response): that is over 90% of its CPU (perf). An empty
# SSL_CERT_FILE skips it without changing what mellon checks (it trusts metadata keys, not
# CAs), so the ratio is taken against that faster, tuned mellon.
M_RPS=n/a M_P99=n/a M_ERR=n/a M_CPU=n/a M_PER=0 M_LOAD=n/a
D_RPS=n/a D_P99=n/a D_ERR=n/a D_CPU=n/a D_PER=0 D_LOAD=n/a
if [ "$MELLON" = 1 ]; then
	M=$WORK/mellon
	mkdir -p "$M/htdocs"
	MPORT=$(free_port)
	MU=http://127.0.0.1:$MPORT
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$M/sp.key" -out "$M/sp.crt" \
		-days 30 -subj "/CN=mellon.bench" 2>/dev/null
	cp "$WORK/idp-metadata.xml" "$M/"
	: >"$M/no-ca.pem"
	cat >"$M/sp-metadata.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="$MU/mellon/metadata"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>$(sed '/-----/d' "$M/sp.crt" | tr -d '\n')</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="$MU/mellon/postResponse" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>
EOF
	user=""
	[ "$(id -u)" = 0 ] && user='User www-data\nGroup www-data'
	sed -e "s|@PREFIX@|$M|g" -e "s|@PORT@|$MPORT|g" -e "s|@PROCS@|$APACHE_PROCS|g" \
		-e "s|@THREADS@|$APACHE_THREADS|g" -e "s|@MAXTHREADS@|$((APACHE_PROCS * APACHE_THREADS))|g" \
		-e "s|@MELLON_PATH@|/mellon|g" -e "s|@USER@|$user|" "$HERE/saml_mellon.conf.in" >"$M/httpd.conf"
	chmod -R a+rX "$M"
	M_PER=$((MELLON_N / REPS))
	D_PER=$((MELLON_DEFAULT_N / REPS))
	M_WARM=$(((M_PER + 4) / 5))
	D_WARM=$(((D_PER + 4) / 5))
	M_TOTAL=$((M_WARM + D_WARM + (M_PER + D_PER) * REPS))
	log "mellon: forging $M_TOTAL responses for $MU/mellon/postResponse"
	"$TOOLS/saml_forge" "$WORK/idp.key" "$WORK/idp.crt" "$IDP_ENTITY" "$MU/mellon/metadata" \
		"$MU/mellon/postResponse" "$USERS" "$M_TOTAL" "$WORK/m.bodies" 3600 / 2
	# run_mellon NAME FIRST WARM PER [ENV=VALUE...]: Apache started with that environment, WARM
	# responses from line FIRST, then REPS x PER; "rps p99 errors cpu_ms load" in $WORK/NAME.row
	run_mellon() {
		local name=$1 first=$2 warm=$3 per=$4 apid load
		shift 4
		env "$@" apache2 -f "$M/httpd.conf" -DFOREGROUND >"$M/$name.log" 2>&1 &
		apid=$!
		PIDS+=("$apid")
		for _ in $(seq 100); do
			curl -sf -o /dev/null "$MU/mellon/metadata" && break
			sleep 0.1
		done
		"$TOOLS/saml_post" 127.0.0.1 "$MPORT" /mellon/postResponse "$WORK/m.bodies" \
			"$MELLON_CONNS" "$first" "$warm" 303 | sed "s/^/# $name warm: /" >&2 || {
			grep -v ' \[.*:debug\] ' "$M/error.log" | tail -5 >&2
			echo "saml_bench: mellon refused sign-ins" >&2
			exit 1
		}
		log "$name: $REPS x $per sign-ins"
		load=$(load1)
		# shellcheck disable=SC2046 # the Apache processes, one word each
		echo "$(post_runs "$name" 127.0.0.1 "$MPORT" /mellon/postResponse "$WORK/m.bodies" \
			$((first + warm)) "$per" "$MELLON_CONNS" 303 "$apid" $(pgrep -P "$apid")) $load" \
			>"$WORK/$name.row"
		kill "$apid"
		wait "$apid" 2>/dev/null || true
	}
	run_mellon mellon_tuned 0 "$M_WARM" "$M_PER" SSL_CERT_FILE="$M/no-ca.pem"
	read -r M_RPS M_P99 M_ERR M_CPU M_LOAD <"$WORK/mellon_tuned.row"
	if [ "$D_PER" -gt 0 ]; then
		run_mellon mellon_default $((M_WARM + M_PER * REPS)) "$D_WARM" "$D_PER"
		read -r D_RPS D_P99 D_ERR D_CPU D_LOAD <"$WORK/mellon_default.row"
	fi
fi

# ---- PostgreSQL: 2 nodes behind nginx ---------------------------------------------------------
P_RPS=n/a P_P99=n/a P_ERR=n/a P_CPU=n/a P_SET="not run (PG=0)" P_LOAD=n/a
if [ "$PG" = 1 ]; then
	log "starting PostgreSQL (fsync on, synchronous_commit on)"
	PG_URL=$(PG_TEST_DURABLE=1 sh "$REPO/scripts/pg-test.sh" start "$WORK/pg")
	setup_account "$PG_URL"
	# the base URL of every node is nginx's, so that the ACS URL is the same on both
	NPORT=$(free_port)
	NX=http://127.0.0.1:$NPORT
	stop_nodes
	NODE_BASE=$NX
	start_node "$PG_URL" --trusted-proxy 127.0.0.1/32
	start_node "$PG_URL" --trusted-proxy 127.0.0.1/32
	ups=""
	for p in "${NODE_PORTS[@]}"; do ups="${ups}server 127.0.0.1:$p; "; done
	mkdir -p "$WORK/nginx/tmp"
	chmod -R 0777 "$WORK/nginx"
	sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$NPORT|g" -e "s|@UPSTREAMS@|$ups|" \
		"$HERE/nginx-upstream.conf.in" >"$WORK/nginx/nginx.conf"
	nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" -g 'daemon off;' \
		>"$WORK/nginx/stdout.log" 2>&1 &
	PIDS+=("$!")
	wait_up "$NX"
	ACS_URL=$NX/saml/$ACCT/acs
	SP_ENTITY=$NX/saml/$ACCT/metadata
	PG_PER=$((PG_N / REPS))
	log "postgres: forging $((WARM + PG_PER * REPS)) responses for $ACS_URL"
	"$TOOLS/saml_forge" "$WORK/idp.key" "$WORK/idp.crt" "$IDP_ENTITY" "$SP_ENTITY" "$ACS_URL" \
		"$USERS" $((WARM + PG_PER * REPS)) "$WORK/p.bodies" 3600 / 2
	"$TOOLS/saml_post" 127.0.0.1 "$NPORT" "/saml/$ACCT/acs" "$WORK/p.bodies" "$CONNS" 0 "$WARM" 303 |
		sed 's/^/# pg warm: /' >&2 || log "postgres refusals by check: $(refusal_checks "$NX")"
	log "postgres, 2 nodes + nginx: $REPS x $PG_PER sign-ins"
	P_LOAD=$(load1)
	read -r P_RPS P_P99 P_ERR P_CPU < <(post_runs p_acs 127.0.0.1 "$NPORT" "/saml/$ACCT/acs" \
		"$WORK/p.bodies" "$WARM" "$PG_PER" "$CONNS" 303 "${NODE_PIDS[@]}")
	P_SET="PostgreSQL $("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/postgres" --version | awk '{print $3}'), fsync and synchronous_commit on"
	stop_nodes
fi

pct() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else echo "$1 $2" | awk '{printf "%.0f%%", 100 * $1 / $2}'; fi; }
ratio() { if [ "$1" = n/a ] || [ "$2" = n/a ] || [ "$2" = 0 ]; then echo n/a; else echo "$1 $2" | awk '{printf "%.1f", $1 / $2}'; fi; }
cat <<EOF

SAML sign-in benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), load generator bench/saml_post.c with $CONNS connections on the same cores; unique Okta-shaped unsolicited responses (signed Assertion, RSA-SHA256, RSA-2048, $(head -1 "$WORK/t.bodies" | wc -c) bytes of form each), $USERS users, $WARM warm-up sign-ins, then median of $REPS runs of $PER (Tessera), of $M_PER and $D_PER (mellon tuned, as installed); forging $((WARM + PER * REPS)) took ${T_FORGE} s; \`tessera serve $SERVE_ARGS\`

| Workload | Target | Rate (per s) | p99 ms | Errors | Server CPU ms per sign-in | Load before |
|---|---|---|---|---|---|---|
| Tessera ACS, SQLite (303 + session + audit event) | ≥ 3,000/s | $T_RPS | $T_P99 | $T_ERR | $T_CPU | $T_LOAD |
| bare xmlsec1: parse + verify, $XMLSEC_THREADS threads (the limit) | — | $X_RPS | — | $X_ERR | $X_CPU | $X_LOAD |
| Apache 2.4 + mod_auth_mellon ($APACHE_PROCS × $APACHE_THREADS threads), SSL_CERT_FILE empty | — | $M_RPS | $M_P99 | $M_ERR | $M_CPU | $M_LOAD |
| Apache 2.4 + mod_auth_mellon, as installed (Debian's CA bundle) | — | $D_RPS | $D_P99 | $D_ERR | $D_CPU | $D_LOAD |
| Tessera ACS, 2 nodes + nginx, $P_SET | — | $P_RPS | $P_P99 | $P_ERR | $P_CPU (both nodes) | $P_LOAD |

- Tessera / bare xmlsec1: $(pct "$T_RPS" "$X_RPS") (target ≥ 70%); Tessera / mellon tuned: $(ratio "$T_RPS" "$M_RPS")× (target ≥ 2.5×); Tessera / mellon as installed: $(ratio "$T_RPS" "$D_RPS")×.
- In CPU time, which other load on the machine changes much less than rates: Tessera spends $T_CPU ms of server CPU per sign-in, bare xmlsec1 $X_CPU ms per verification (Tessera at $(pct "$X_CPU" "$T_CPU") of the limit), tuned mellon $M_CPU ms ($(ratio "$M_CPU" "$T_CPU")× Tessera's).
- After the SQLite runs the store held $T_SESSIONS sessions and $T_EVENTS SignIn audit events for $((WARM + PER * REPS)) responses posted; Tessera RSS ${T_RSS} MB.
EOF
