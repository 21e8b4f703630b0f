#!/bin/sh
# Builds every fuzz/fuzz_*.c target with clang's libFuzzer (+ASan+UBSan) and runs
# each for FUZZ_SECONDS from its seed corpus fuzz/corpus/<name>/ (copied, so the
# repository's corpus stays small). Fails on any crash, leak or sanitizer report.
set -eu
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-20}
dir=build-fuzz
mkdir -p tmp
CC=clang-14 cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTS_FUZZ=ON -DTS_WERROR=ON \
	>tmp/fuzz-cmake.log 2>&1 || { cat tmp/fuzz-cmake.log; exit 1; }
# Everything is built, not only the fuzzers: clang's warnings (-Werror) are a second
# opinion on the whole tree. A failed build fails the stage, so a stale binary from an
# earlier build is never what gets fuzzed.
if ! cmake --build "$dir" -j"$(nproc)" >tmp/fuzz-build.log 2>&1; then
	grep -vE '^\[ *[0-9]+%\]|^g?make\[' tmp/fuzz-build.log | tail -60
	echo "fuzz: the clang build failed" >&2
	exit 1
fi
# One target: its own copy of the seed corpus, its own log. Run by xargs below,
# as many at once as there are cores: each target still has a core for its
# FUZZ_SECONDS, and the stage takes half the time on two.
cat >tmp/fuzz-one.sh <<'ONE'
set -u
dir=$1 secs=$2 src=$3
name=$(basename "$src" .c)
bin="$dir/$name"
if [ ! -x "$bin" ]; then
	echo "fuzz: $name did not build" >&2
	exit 1
fi
work="tmp/fuzz/$name"
rm -rf "$work"
mkdir -p "$work/corpus"
seed="fuzz/corpus/${name#fuzz_}"
[ -d "$seed" ] && cp -r "$seed/." "$work/corpus/"
if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
	-artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1; then
	echo "fuzz: $name ok ($(grep -c . "$work/log") log lines, $secs s)"
else
	echo "fuzz: $name FAILED; see $work/log" >&2
	tail -40 "$work/log" >&2
	exit 1
fi
ONE
# xargs exits non-zero when any target failed
ls fuzz/fuzz_*.c | xargs -n 1 -P "$(nproc)" sh tmp/fuzz-one.sh "$dir" "$secs"
