/*
 * Names shared by the SCIM module's own files only: the filter parser's state
 * and entry points, so that the PATCH path parser (path.c) reads attribute
 * paths and bracketed value filters exactly as filters do.
 */
#ifndef TS_SCIM_INTERNAL_H
#define TS_SCIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "scim/filter.h"

struct ts__scim_parser {
	ts_arena_t *arena;
	const char *text; /* no NUL inside [0, len) */
	size_t len;
	size_t pos;
	unsigned flags;
	int depth;             /* current "(" / "not (" / "[" nesting */
	int max_depth;         /* deepest nesting reached so far */
	int comparisons;       /* attrExp leaves so far */
	const char *what;      /* "filter" or "path", for messages */
	const char *scim_type; /* set on failure */
	struct ts_error *e;
};

/* Starts p on text[0..len); fails (invalidFilter) on a NUL byte inside. */
TS_MUST_USE ts_err ts__scim_parser_init(struct ts__scim_parser *p, ts_arena_t *arena,
                                        const char *text, size_t len, unsigned flags,
                                        const char *what, const char *scim_type,
                                        struct ts_error *e);

/* Records a failure at the current offset with p->scim_type; returns TS_ERR_BAD_REQUEST. */
ts_err ts__scim_fail(struct ts__scim_parser *p, const char *fmt, ...) TS_PRINTF(2, 3);

/* Skips blanks (SP, HTAB, CR, LF); returns how many. */
size_t ts__scim_skip_ws(struct ts__scim_parser *p);

/*
 * Reads attrPath at p->pos. in_value_filter: a plain sub-attribute name only
 * (no URN, no '.'; "$ref" allowed).
 */
TS_MUST_USE ts_err ts__scim_parse_attr_path(struct ts__scim_parser *p, bool in_value_filter,
                                            struct ts_scim_attr_path *out);

/*
 * With p->pos on '[': reads "[" valFilter "]" and leaves p->pos after ']'.
 * Counts one nesting level.
 */
TS_MUST_USE ts_err ts__scim_parse_bracket(struct ts__scim_parser *p, struct ts_scim_filter **out);

/* Reads a sub-attribute name (ATTRNAME or "$ref") at p->pos into arena memory. */
TS_MUST_USE ts_err ts__scim_parse_sub_name(struct ts__scim_parser *p, const char **out);

/* prefix, the canonical text of f (nothing when NULL), suffix, in arena memory. */
char *ts__scim_filter_format_into(ts_arena_t *arena, const char *prefix,
                                  const struct ts_scim_filter *f, const char *suffix);

/* True when c may appear in an attribute path token. */
bool ts__scim_is_name_char(char c);

#endif
