#!/bin/sh
# Installs every Debian package that building and testing Tessera needs.
# Idempotent: packages already present are skipped; when nothing is missing it
# does nothing at all. Not root: prints the exact apt-get line instead.
set -eu

PKGS="build-essential cmake pkg-config clang-14 libclang-rt-14-dev clang-format-14
libh2o-evloop-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev libssl-dev
libc-ares-dev libcmocka-dev libxml2-dev libxmlsec1-dev zlib1g-dev libcurl4-openssl-dev
postgresql dnsmasq-base wrk nginx-light curl
python3 python3-pytest python3-requests python3-dnslib
xmlsec1 python3-pysaml2 python3-lasso python3-lxml chromium chromium-driver python3-selenium
python3-jwcrypto
apache2 libapache2-mod-auth-mellon"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# The OpenID provider of the tests (oidc-provider 8.8, npm: tests/integration/oidc/op) and
# the bench's peer run on Node.js 18 or later. A machine that has a node and npm of its own
# keeps them; otherwise Debian's (18 on Debian 12).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
if ! command -v jq >/dev/null 2>&1; then
	missing="$missing jq"
fi
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages; run as root:" >&2
	echo "  apt-get update && $line" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
