/* JSON helpers: capped parsing, arena ownership, compact dumping. */
#include "core/json.h"

#include <string.h>

#include "core/jsonw.h"

static void decref(void *p)
{
	json_decref(p);
}

json_t *ts_json_own(ts_arena_t *arena, json_t *j)
{
	if (arena != NULL && j != NULL)
		ts_arena_defer(arena, decref, j);
	return j;
}

/* Walks the raw text once: depth and string-length caps are checked before
 * jansson builds anything, so a hostile document costs O(len) and no memory. */
static ts_err prescan(const char *s, size_t len, int max_depth, size_t max_string,
                      struct ts_error *e)
{
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '"') {
			size_t start = ++i;
			while (i < len && s[i] != '"') {
				if (s[i] == '\\')
					i++;
				i++;
			}
			if (i - start > max_string)
				return TS_FAIL(e, TS_ERR_TOO_LARGE,
				               "JSON string longer than %zu bytes", max_string);
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth)
				return TS_FAIL(e, TS_ERR_TOO_LARGE, "JSON nested deeper than %d",
				               max_depth);
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return TS_ERR_OK;
}

ts_err ts_json_parse(const char *text, size_t len, const struct ts_json_limits *lim,
                     ts_arena_t *arena, json_t **out, struct ts_error *e)
{
	*out = NULL;
	int max_depth = (lim && lim->max_depth) ? lim->max_depth : TS_JSON_MAX_DEPTH;
	size_t max_string = (lim && lim->max_string) ? lim->max_string : TS_JSON_MAX_STRING;
	if (lim && lim->max_bytes && len > lim->max_bytes)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "JSON body larger than %zu bytes",
		               lim->max_bytes);
	ts_err rc = prescan(text, len, max_depth, max_string, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_error_t jerr;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "malformed JSON at line %d column %d: %s",
		               jerr.line, jerr.column, jerr.text);
	*out = ts_json_own(arena, j);
	return TS_ERR_OK;
}

char *ts_json_dump(ts_arena_t *arena, const json_t *j, size_t *len)
{
	/* the hand-written writer gives jansson's compact form at a fraction of its cost */
	struct ts_jsonw w;
	ts_jsonw_init(&w, arena, 512);
	ts_jsonw_value(&w, j);
	return ts_jsonw_finish(&w, len);
}

const char *ts_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

void ts_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, s ? json_string(s) : json_null());
}
