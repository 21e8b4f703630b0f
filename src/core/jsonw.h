/*
 * A JSON writer into arena memory, for documents whose shape is known (the
 * audit event) and for serializing jansson values without jansson's dumper.
 * The output is byte for byte what json_dumpb(..., JSON_COMPACT) gives for
 * valid values, so stored audit bodies keep their form and hashes.
 */
#ifndef TS_CORE_JSONW_H
#define TS_CORE_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/arena.h"

struct ts_jsonw {
	ts_arena_t *arena;
	char *data;
	size_t len, cap;
};

/* Starts an empty document in arena memory with room for cap bytes (grows). */
void ts_jsonw_init(struct ts_jsonw *w, ts_arena_t *arena, size_t cap);
/* Appends n bytes as they are (punctuation, numbers, literals). */
void ts_jsonw_raw(struct ts_jsonw *w, const char *s, size_t n);
#define ts_jsonw_lit(w, lit) ts_jsonw_raw((w), (lit), sizeof(lit) - 1)
/*
 * Appends s as a JSON string (RFC 8259 §7): '"' and '\\' escaped, controls
 * below U+0020 as \b \f \n \r \t or \u00XX, everything else as is. Returns
 * false when s is not valid UTF-8 (RFC 3629); the invalid bytes were then
 * written as U+FFFD. NULL is written as null.
 */
bool ts_jsonw_str(struct ts_jsonw *w, const char *s);
/* Appends the member name `"key":`, preceded by ',' unless it opens the object. */
void ts_jsonw_key(struct ts_jsonw *w, const char *key);
/*
 * Appends `"key":"s"` (or `"key":null` for NULL). When s is not valid UTF-8
 * its invalid bytes are written as the text \xHH, as ts_json_text does, and
 * false is returned: the member is never left out (jansson's json_string()
 * refuses such text, and a member once vanished that way).
 */
bool ts_jsonw_member_str(struct ts_jsonw *w, const char *key, const char *s);
/* Appends a jansson value compactly, members in their insertion order. */
void ts_jsonw_value(struct ts_jsonw *w, const json_t *j);
/* NUL-terminates and returns the text (arena memory); *len may be NULL. */
char *ts_jsonw_finish(struct ts_jsonw *w, size_t *len);

#endif
