#!/bin/sh
# Source checks run by `make check`:
#   format: every C file is clang-formatted (.clang-format);
#   banned: no strcpy, strcat, strncpy, strncat, sprintf, vsprintf, gets, sscanf,
#           strtok, atoi, atol, atof, alloca or system, and no raw
#           malloc/calloc/realloc/free outside the allocator (src/core/alloc.c).
#           `sh scripts/lint.sh banned FILE...` checks the files given instead of src/.
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

# C text with comments (// and /* */, over any number of lines) and the contents
# of string and character literals blanked, line numbers kept: a banned name in
# a comment or a message is not a call.
strip_c() {
	awk '
	BEGIN { state = 0 } # 0 code, 1 block comment, 2 string, 3 character
	{
		line = $0; out = ""; n = length(line)
		for (i = 1; i <= n; i++) {
			c = substr(line, i, 1); d = substr(line, i, 2)
			if (state == 1) {
				if (d == "*/") { state = 0; i++; out = out " " }
			} else if (state == 2 || state == 3) {
				if (c == "\\") i++
				else if ((state == 2 && c == "\"") || (state == 3 && c == "\047")) { state = 0; out = out c }
			} else if (d == "/*") {
				state = 1; i++
			} else if (d == "//") {
				break
			} else {
				out = out c
				if (c == "\"") state = 2
				else if (c == "\047") state = 3
			}
		}
		if (state >= 2) state = 0 # an unterminated literal ends with its line
		print out
	}' "$1"
}

if [ "$what" = all ] || [ "$what" = banned ]; then
	if [ "$what" = banned ] && [ $# -gt 1 ]; then
		shift
		src=$*
	else
		src=$(echo "$files" | grep '^src/' || true)
	fi
	banned='strcpy|strcat|strncpy|strncat|sprintf|vsprintf|gets|sscanf|strtok|atoi|atol|atof|alloca|system'
	hits=$(for f in $src; do
		strip_c "$f" |
			grep -nE "(^|[^a-z_0-9.>])($banned)[[:space:]]*\(" |
			sed "s|^|$f:|"
	done)
	raw=$(for f in $src; do
		[ "$f" = src/core/alloc.c ] && continue
		strip_c "$f" |
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
