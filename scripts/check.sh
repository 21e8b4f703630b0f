#!/bin/sh
# make check: every test, in stages. Needs only what scripts/deps.sh installs.
#   1 lint (format + banned functions)   2 build          3 unit tests (ctest)
#   4 integration tests (pytest, SQLite and PostgreSQL)   5 the same under ASan+UBSan (side by side with 7)
#   6 every libFuzzer target, briefly
#   7 the store contract suite and the integration tests on SQLite with its tuning off
# Starts one throwaway PostgreSQL cluster on a free loopback port for the run.
# CHECK_STAGES="build unit" runs only the stages named (for a developer; make check runs all).
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

selected() { # name: whether CHECK_STAGES (when set) names the stage
	[ -z "${CHECK_STAGES:-}" ] || echo " $CHECK_STAGES " | grep -q " $1 "
}

stage() {
	name=$1
	shift
	if ! selected "$name"; then
		echo "==> $name: not run (CHECK_STAGES)"
		return 0
	fi
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

# The cluster's own files live under /tmp (scripts/pg-test.sh): this checkout may be in a
# directory the postgres user cannot enter, such as /root/tessera.
pgdir="$tmp/pg"
cleanup() { sh scripts/pg-test.sh stop "$pgdir" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
if ! TESSERA_TEST_PG_URL=$(sh scripts/pg-test.sh start "$pgdir"); then
	echo "check: cannot start PostgreSQL for the tests" >&2
	cat "$pgdir/initdb.log" "$pgdir/server.log" 2>/dev/null >&2
	exit 1
fi
export TESSERA_TEST_PG_URL TESSERA_TEST_PG_DIR="$pgdir"
# Inside make check a test whose real peer (PostgreSQL, dnsmasq) is missing fails; it
# skips only when a developer runs it alone without one.
export TESSERA_TEST_REQUIRE_PEERS=1

build() { # dir, cmake args...: the stage's status is cmake's own
	dir=$1
	shift
	log="$tmp/build-$(basename "$dir").log"
	if ! cmake -S . -B "$dir" "$@" >"$log" 2>&1 || ! cmake --build "$dir" -j"$jobs" >>"$log" 2>&1; then
		grep -vE '^\[ *[0-9]+%\]|^g?make\[' "$log" | tail -80
		return 1
	fi
}

unit() { # dir; a build without any test is a failure, not a pass
	(cd "$1" && ctest --output-on-failure --no-tests=error --timeout 300 -j"$jobs")
}

integration() { # dir, pytest args...
	dir=$1
	shift
	TESSERA_BIN="$root/$dir/tessera" /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" \
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
# timing tests (ratios, latency under load), the cluster tests (PostgreSQL + nodes + nginx,
# under load) and the browser test (headless Chromium) run once, above, in the plain build:
# not again under the sanitizers
# The ASan run and the run with SQLite's tuning off both leave out the timing, cluster and
# browser tests (which run once, above, in the plain build), so neither measures time: they
# run side by side, each with its own log and pytest directory, and take the time of the
# longer one rather than of both (each alone keeps about one of the two cores busy).
side_by_side() { # name:function ...; each function gets its pytest --basetemp
	for spec in "$@"; do
		name=${spec%%:*}
		selected "$name" || continue
		(
			start=$(date +%s)
			${spec#*:} --basetemp="$tmp/pytest-$name" >"$tmp/$name.log" 2>&1
			echo "$? $(($(date +%s) - start))" >"$tmp/$name.rc"
		) &
	done
	wait
	for spec in "$@"; do
		name=${spec%%:*}
		if ! selected "$name"; then
			echo "==> $name: not run (CHECK_STAGES)"
			continue
		fi
		echo "==> $name (side by side)"
		cat "$tmp/$name.log"
		read -r rc secs <"$tmp/$name.rc"
		if [ "$rc" = 0 ]; then
			passed=$((passed + 1))
			echo "==> $name: ok ($secs s)"
		else
			failed=$((failed + 1))
			failures="$failures $name"
			echo "==> $name: FAILED ($secs s)"
		fi
	done
}
asan_integration() { # pytest args...
	integration build-asan -m "not timing and not cluster and not browser" "$@"
}
# SQLite's own VFS, page cache and allocator (TESSERA_SQLITE_TUNING=off, docs/store.md): the
# contract holds without the WAL-batching VFS, the page-cache wrapper and the allocator caches.
# SQLite only (PostgreSQL has none of them).
untuned() { # pytest args... (the plain build)
	(
		export TESSERA_SQLITE_TUNING=off
		(cd build && env -u TESSERA_TEST_PG_URL -u TESSERA_TEST_REQUIRE_PEERS \
			ctest --output-on-failure --no-tests=error --timeout 300 -j"$jobs" -R '^test_store') &&
			integration build -m "not timing and not cluster and not browser" -k "not postgres" "$@"
	)
}
side_by_side asan-integration:asan_integration sqlite-untuned:untuned
stage fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" sh scripts/fuzz.sh

echo "stages failed:${failures:- none}"
echo "check: $passed passed, $failed failed"
[ "$failed" = 0 ]
