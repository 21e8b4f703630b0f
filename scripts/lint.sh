#!/bin/sh
# Source checks run by `make check`:
#   format: every C file is clang-formatted (.clang-format);
#   banned: no strcpy, strcat, sprintf, vsprintf, gets, atoi, atol, atof, and no
#           raw malloc/calloc/realloc/free outside the allocator (src/core/alloc.c).
set -eu
cd "$(dirname "$0")/.."
# Pinned: another clang-format version formats differently and would fail every file.
clang_format=clang-format-14
what=${1:-all}
fail=0
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' | grep -v '^bench/peer/' || true)

if [ "$what" = all ] || [ "$what" = format ]; then
	bad=""
	for f in $files; do
		[ -f "$f" ] || continue
		if ! "$clang_format" --dry-run -Werror "$f" >/dev/null 2>&1; then bad="$bad $f"; fi
	done
	if [ -n "$bad" ]; then
		echo "lint: not clang-formatted (run make format):$bad" >&2
		fail=1
	fi
fi

if [ "$what" = all ] || [ "$what" = banned ]; then
	src=$(echo "$files" | grep '^src/' || true)
	# strip comments and strings crudely: a banned name inside a comment is fine
	hits=$(for f in $src; do
		sed -e 's://.*$::' -e 's:/\*.*\*/::g' "$f" |
			grep -nE '(^|[^a-z_0-9.>])(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof)[[:space:]]*\(' |
			sed "s|^|$f:|"
	done)
	raw=$(for f in $src; do
		[ "$f" = src/core/alloc.c ] && continue
		sed -e 's://.*$::' -e 's:/\*.*\*/::g' "$f" |
			grep -nE '(^|[^a-z_0-9.>])(malloc|calloc|realloc|free)[[:space:]]*\(' |
			sed "s|^|$f:|"
	done)
	if [ -n "$hits$raw" ]; then
		echo "lint: banned functions:" >&2
		[ -n "$hits" ] && echo "$hits" >&2
		[ -n "$raw" ] && echo "$raw" >&2
		fail=1
	fi
fi
exit $fail
