/*
 * SCIM 2.0 filters (RFC 7644 §3.4.2.2): a parser from the `filter` query
 * parameter to an AST kept in an arena, a checker that rejects filters the
 * resource's schema cannot answer (`gt` on a boolean, an unknown attribute),
 * an evaluator against a resource held as jansson JSON, and a printer giving a
 * canonical form. No HTTP and no SQL here: the endpoints and the store
 * translate from this AST.
 *
 * Every parse and check failure is TS_ERR_BAD_REQUEST with the SCIM scimType
 * "invalidFilter" (RFC 7644 §3.12); nothing malformed is accepted silently,
 * so that a typo can never become a match-all.
 *
 * Shape of the AST (all memory in the arena given to the parser):
 *
 *   `userName eq "bjensen"`           COMPARE  path{NULL,"userName",NULL} EQ "bjensen"
 *   `name.familyName pr`              PRESENT  path{NULL,"name","familyName"}
 *   `a pr or b pr and not (c pr)`     OR(a, AND(b, NOT(c)))  (not > and > or)
 *   `a pr and b pr and c pr`          AND(AND(a, b), c)      (left-associative)
 *   `emails[type eq "work"]`          VALUE_PATH path{NULL,"emails",NULL}
 *                                      inner = COMPARE path{NULL,"type",NULL} EQ "work"
 *   `emails[type eq "work"].value eq "x"` (Entra's form, not RFC grammar) becomes
 *                                     VALUE_PATH emails, inner = AND(type eq "work",
 *                                     value eq "x"), which is what it means
 *                                     (scim-clients.md item 26).
 *   `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`
 *                                     path{"urn:...:enterprise:2.0:User","manager","value"}
 *
 * Inside a value filter the attribute names are sub-attributes of the value
 * (`type`, `value`), so they never carry a URN or a '.'; a value filter cannot
 * contain another one (RFC 7644 Figure 1: valFilter has no valuePath).
 * Names are kept as written; comparisons of names are case-insensitive
 * (RFC 7643 §2.1).
 */
#ifndef TS_SCIM_FILTER_H
#define TS_SCIM_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

/* Hard caps on a filter; exceeding one is invalidFilter naming the cap. */
#define TS_SCIM_FILTER_MAX_LEN 4096       /* bytes of filter text */
#define TS_SCIM_FILTER_MAX_DEPTH 32       /* nested "(", "not (" and "[" */
#define TS_SCIM_FILTER_MAX_COMPARISONS 64 /* attrExp leaves, value filters included */

/* SCIM scimType values (RFC 7644 §3.12) this module reports. */
#define TS_SCIM_INVALID_FILTER "invalidFilter"
#define TS_SCIM_INVALID_PATH "invalidPath"

/* Parser flags. */
enum {
	/*
	 * Accept an unquoted word as a string value (`externalId eq jyoung`), as
	 * the Entra tutorial shows (scim-clients.md item 25). Only for the
	 * permissive compatibility profile; true/false/null and numbers keep
	 * their JSON meaning.
	 */
	TS_SCIM_FILTER_BARE_VALUES = 1u << 0,
};

/* attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644 Figure 1). */
struct ts_scim_attr_path {
	const char *urn;  /* schema URN as written, or NULL */
	const char *attr; /* attribute name as written, never NULL */
	const char *sub;  /* sub-attribute name, or NULL */
};

enum ts_scim_op {
	TS_SCIM_OP_EQ,
	TS_SCIM_OP_NE,
	TS_SCIM_OP_CO,
	TS_SCIM_OP_SW,
	TS_SCIM_OP_EW,
	TS_SCIM_OP_GT,
	TS_SCIM_OP_GE,
	TS_SCIM_OP_LT,
	TS_SCIM_OP_LE,
	TS_SCIM_OP_PR,
};

enum ts_scim_value_type {
	TS_SCIM_VALUE_STRING,
	TS_SCIM_VALUE_NUMBER,
	TS_SCIM_VALUE_BOOL,
	TS_SCIM_VALUE_NULL,
};

/* compValue = false / null / true / number / string (RFC 7644 Figure 1). */
struct ts_scim_value {
	enum ts_scim_value_type type;
	const char *str;      /* STRING: decoded UTF-8, NUL-terminated (no NUL inside) */
	size_t str_len;       /* STRING: bytes in str */
	const char *num_text; /* NUMBER: the JSON number as written */
	double num;           /* NUMBER: its value (always finite) */
	bool is_int;          /* NUMBER: no fraction or exponent, and fits int64 */
	int64_t i;            /* NUMBER: its value when is_int */
	bool boolean;         /* BOOL */
};

enum ts_scim_filter_kind {
	TS_SCIM_FILTER_AND,        /* left and right */
	TS_SCIM_FILTER_OR,         /* left or right */
	TS_SCIM_FILTER_NOT,        /* not (left) */
	TS_SCIM_FILTER_COMPARE,    /* path op value */
	TS_SCIM_FILTER_PRESENT,    /* path pr */
	TS_SCIM_FILTER_VALUE_PATH, /* path[inner]; path.sub is NULL */
};

struct ts_scim_filter {
	enum ts_scim_filter_kind kind;
	struct ts_scim_filter *left;   /* AND, OR, NOT */
	struct ts_scim_filter *right;  /* AND, OR */
	struct ts_scim_attr_path path; /* COMPARE, PRESENT, VALUE_PATH */
	enum ts_scim_op op;            /* COMPARE (never PR); PRESENT has TS_SCIM_OP_PR */
	struct ts_scim_value value;    /* COMPARE */
	struct ts_scim_filter *inner;  /* VALUE_PATH: applied to each value of path */
};

/*
 * Parses text[0..len) (need not be NUL-terminated) into *out, allocated in
 * arena. flags: TS_SCIM_FILTER_* or 0. On failure returns TS_ERR_BAD_REQUEST,
 * sets *scim_type (when not NULL) to TS_SCIM_INVALID_FILTER and puts the
 * reason and byte offset in e; *out is then NULL.
 */
TS_MUST_USE ts_err ts_scim_filter_parse(ts_arena_t *arena, const char *text, size_t len,
                                        unsigned flags, struct ts_scim_filter **out,
                                        const char **scim_type, struct ts_error *e);

/* "eq", "ne", ... "pr". */
const char *ts_scim_op_name(enum ts_scim_op op);

/*
 * The canonical text of f in arena memory: lowercase operators, single spaces,
 * only the parentheses precedence needs, strings re-escaped as JSON, numbers
 * and names as written. Parsing it again gives an equal filter
 * (ts_scim_filter_equal), though it can be a few bytes longer than the input.
 */
char *ts_scim_filter_format(ts_arena_t *arena, const struct ts_scim_filter *f);

/* Structural equality; names compare case-insensitively, values exactly. */
bool ts_scim_filter_equal(const struct ts_scim_filter *a, const struct ts_scim_filter *b);

/* ---- Attribute rules: what the schema says about an attribute ---- */

enum ts_scim_attr_type {
	TS_SCIM_ATTR_STRING,
	TS_SCIM_ATTR_BOOLEAN,
	TS_SCIM_ATTR_DECIMAL,
	TS_SCIM_ATTR_INTEGER,
	TS_SCIM_ATTR_DATETIME,
	TS_SCIM_ATTR_BINARY,
	TS_SCIM_ATTR_REFERENCE,
	TS_SCIM_ATTR_COMPLEX,
};

/* RFC 7643 §2.2 / §7 characteristics the filter needs. */
struct ts_scim_attr_info {
	enum ts_scim_attr_type type;
	bool case_exact;
	bool multi_valued;
	bool filterable; /* false for returned:"never" attributes such as password */
	/*
	 * URN of the schema defining the attribute. An extension's attributes
	 * sit in the resource under that URN; the core schema's (and the common
	 * attributes id, externalId, meta) at the top level.
	 */
	const char *schema;
	bool extension;
};

struct ts_scim_attr_rules;

/*
 * Looks up attribute attr (sub-attribute sub when not NULL) of the schema
 * named urn (NULL: the resource's core schema, then its extensions). Returns
 * false when the schema has no such attribute.
 */
typedef bool (*ts_scim_attr_lookup_fn)(const struct ts_scim_attr_rules *rules, const char *urn,
                                       const char *attr, const char *sub,
                                       struct ts_scim_attr_info *out);

struct ts_scim_attr_rules {
	const char *core_schema; /* e.g. "urn:ietf:params:scim:schemas:core:2.0:User" */
	ts_scim_attr_lookup_fn lookup;
	const void *ctx; /* for lookup */
};

#define TS_SCIM_SCHEMA_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define TS_SCIM_SCHEMA_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define TS_SCIM_SCHEMA_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

/*
 * Rules of RFC 7643 §4.1 (User) plus the enterprise extension (§4.3), and
 * §4.2 (Group), each with the common attributes of §3.1. Static; never freed.
 * Their lookup is ts_scim_attr_rules_default_lookup.
 */
const struct ts_scim_attr_rules *ts_scim_attr_rules_user(void);
const struct ts_scim_attr_rules *ts_scim_attr_rules_group(void);
bool ts_scim_attr_rules_default_lookup(const struct ts_scim_attr_rules *rules, const char *urn,
                                       const char *attr, const char *sub,
                                       struct ts_scim_attr_info *out);

/*
 * Rejects, before any evaluation, a filter the rules cannot answer
 * (RFC 7644 §3.4.2.2: "gt" on a boolean or binary is invalidFilter; also an
 * unknown or non-filterable attribute, a value of the wrong type, `co`/`sw`/
 * `ew` on a dateTime or number, a string that is not an RFC 3339 time for a
 * dateTime, a complex attribute compared without a sub-attribute when it has
 * no "value", a value filter on a simple attribute). Returns TS_ERR_OK or
 * TS_ERR_BAD_REQUEST (scimType TS_SCIM_INVALID_FILTER) with the reason in e.
 * rules NULL: nothing to check against, returns TS_ERR_OK.
 */
TS_MUST_USE ts_err ts_scim_filter_check(const struct ts_scim_filter *f,
                                        const struct ts_scim_attr_rules *rules, struct ts_error *e);

/*
 * Whether resource (a SCIM resource as JSON) matches f (RFC 7644 §3.4.2.2):
 * a multi-valued attribute matches if any value does; a complex attribute
 * without a sub-attribute compares its "value"; `pr` is true for a value
 * that is present and not null, "", [] or {}; strings compare per caseExact
 * (case folding is ASCII only), dateTimes as instants, numbers numerically;
 * `ne` needs a present value that differs, so an absent attribute matches
 * neither `eq` nor `ne` (`not (x eq ...)` matches it); `eq null` matches an
 * absent or null value and `ne null` a present one. A value of
 * the wrong JSON type never matches. Attribute names match the resource's
 * keys case-insensitively. rules NULL: types come from the JSON and strings
 * compare case-insensitively (RFC 7643 §2.2 default caseExact false).
 * Run ts_scim_filter_check first: without it an unanswerable comparison
 * simply does not match.
 */
bool ts_scim_filter_match(const struct ts_scim_filter *f, const json_t *resource,
                          const struct ts_scim_attr_rules *rules);

#endif
