/*
 * JSON as jansson values, with the hard caps every outside document gets:
 * total size, nesting depth and string length. Documents are read by a parser
 * of our own (json.c) that builds what jansson's would; parsed values can be
 * tied to an arena so that they are released with the request.
 */
#ifndef TS_CORE_JSON_H
#define TS_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_JSON_MAX_DEPTH 32
#define TS_JSON_MAX_STRING (64 * 1024)

struct ts_json_limits {
	size_t max_bytes;  /* 0: no limit beyond the body cap */
	int max_depth;     /* 0: TS_JSON_MAX_DEPTH */
	size_t max_string; /* 0: TS_JSON_MAX_STRING */
};

/*
 * Parses text[0..len) into *out (a new reference; tied to arena when arena is
 * not NULL). Fails with TS_ERR_BAD_REQUEST and a message naming the problem
 * for malformed JSON, and TS_ERR_TOO_LARGE when a cap is exceeded.
 */
TS_MUST_USE ts_err ts_json_parse(const char *text, size_t len, const struct ts_json_limits *lim,
                                 ts_arena_t *arena, json_t **out, struct ts_error *e);
/* Ties a reference to the arena: json_decref runs when the arena is freed. Returns j. */
json_t *ts_json_own(ts_arena_t *arena, json_t *j);
/* Serializes compactly into arena memory (NUL-terminated); *len may be NULL. */
char *ts_json_dump(ts_arena_t *arena, const json_t *j, size_t *len);
/* The string member key of obj, or NULL when absent or not a string. */
const char *ts_json_str(const json_t *obj, const char *key);
/*
 * Text from outside as JSON, never NULL: jansson's json_string() answers NULL
 * for text that is not UTF-8 (RFC 8259 §8.1), and a NULL handed on is either
 * a crash (json_pack, a dumper) or a member silently left out. Valid text is
 * kept as it is; otherwise every byte that is not part of valid UTF-8 (and
 * any NUL) is written as the four characters \xHH. NULL gives null.
 * Use it for paths, headers, peers and messages that may quote input.
 */
json_t *ts_json_text(const char *s);
/* The same escaping into arena memory: s itself when it is valid UTF-8. */
const char *ts_text_escape(ts_arena_t *arena, const char *s);
/* Sets obj[key] to a string (ts_json_text: escaped if not UTF-8), or to null when s is NULL. */
void ts_json_set_str(json_t *obj, const char *key, const char *s);

#endif
