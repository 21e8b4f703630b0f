#!/bin/sh
# make check: every test, in stages. Needs only what scripts/deps.sh installs.
#   1 lint (format + banned functions)   2 build          3 unit tests (ctest)
#   4 integration tests (pytest, SQLite and PostgreSQL)   5 the same under ASan+UBSan
#   6 every libFuzzer target, briefly
# Starts one throwaway PostgreSQL cluster on a free loopback port for the run.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
tmp="$root/tmp/check"
rm -rf "$tmp"
mkdir -p "$tmp"
passed=0
failed=0
failures=""

stage() {
	name=$1
	shift
	echo "==> $name"
	start=$(date +%s)
	if "$@"; then
		passed=$((passed + 1))
		echo "==> $name: ok ($(($(date +%s) - start)) s)"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "==> $name: FAILED ($(($(date +%s) - start)) s)"
	fi
}

pgdir="$tmp/pg"
cleanup() { sh scripts/pg-test.sh stop "$pgdir" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
if ! TESSERA_TEST_PG_URL=$(sh scripts/pg-test.sh start "$pgdir"); then
	echo "check: cannot start PostgreSQL for the tests" >&2
	cat "$pgdir/initdb.log" "$pgdir/server.log" 2>/dev/null >&2
	exit 1
fi
export TESSERA_TEST_PG_URL TESSERA_TEST_PG_DIR="$pgdir"

build() { # dir, cmake args...
	dir=$1
	shift
	cmake -S . -B "$dir" "$@" >"$tmp/cmake-$(basename "$dir").log" 2>&1 &&
		cmake --build "$dir" -j"$jobs" 2>&1 | grep -vE '^\[ *[0-9]+%\]' || return 1
	# grep's status hides cmake's: check the outputs exist
	[ -x "$dir/tessera" ]
}

unit() { # dir
	(cd "$1" && ctest --output-on-failure --timeout 300 -j"$jobs")
}

integration() { # dir
	TESSERA_BIN="$root/$1/tessera" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
		tests/integration
}

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

stage lint sh scripts/lint.sh all
stage build build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTS_WERROR=ON
stage unit unit build
stage integration integration build
stage asan-build build build-asan -DCMAKE_BUILD_TYPE=Debug -DTS_SANITIZE=ON -DTS_WERROR=ON
stage asan-unit unit build-asan
stage asan-integration integration build-asan
stage fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" sh scripts/fuzz.sh

echo "stages failed:${failures:- none}"
echo "check: $passed passed, $failed failed"
[ "$failed" = 0 ]
