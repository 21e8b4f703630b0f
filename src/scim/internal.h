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

/* ---- the SCIM endpoints (api.c, user.c, group.c, search.c, *_api.c, discovery.c) ---- */

#include <jansson.h>

#include "core/jsonw.h"
#include "http/http.h"
#include "store/store.h"

#define TS__SCIM_LIST_SCHEMA "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define TS__SCIM_ERROR_SCHEMA "urn:ietf:params:scim:api:messages:2.0:Error"
#define TS__SCIM_SEARCH_SCHEMA "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
#define TS__SCIM_CONTENT_TYPE "application/scim+json"
#define TS__SCIM_COUNT_DEFAULT 100
#define TS__SCIM_COUNT_MAX 1000       /* items per page (ServiceProviderConfig filter.maxResults) */
#define TS__SCIM_STRICT_COUNT_MAX 100 /* aws-strict: AWS ListUsers allows 1..100 */
/*
 * Rows a filtered request may evaluate: candidates from the indexes, or the
 * whole account when the filter has no indexed part. Past it the answer is
 * 400 tooMany (RFC 7644 §3.4.2), never a slow scan or a partial answer.
 */
#define TS__SCIM_SCAN_MAX 20000
#define TS__SCIM_MEMBERS_RENDER_MAX 1000000 /* members a group read lists */
#define TS__SCIM_GROUP_CREATE_MAX_MEMBERS 10000
/*
 * A PATCH is computed before the writer lock on the version it read; under
 * the lock the version is read again, and when another write moved it the
 * call starts over, this many times at most. The last attempt computes under
 * the lock, which the caps on values keep short.
 */
#define TS__SCIM_WRITE_ATTEMPTS 3

struct ts__scim_attrs {
	const char **incl; /* attributes=, as paths; NULL: all defaults */
	int nincl;
	const char **excl; /* excludedAttributes= */
	int nexcl;
};

struct ts__scim_call {
	struct ts_http_req *req;
	ts_arena_t *a;
	ts_store_conn_t *conn;
	const char *account_id;
	const char *api_key_id;
	bool strict;      /* account setting ScimCompatibility = aws-strict */
	const char *base; /* ".../scim/v2" */
	json_t *body;     /* parsed JSON body, or NULL */
	struct ts__scim_attrs attrs;
	/* results */
	int status;
	json_t *response;        /* stolen by the dispatcher */
	const char *location;    /* Location header */
	const char *etag;        /* ETag header */
	const char *scim_type;   /* on failure */
	const char *resource_id; /* for the audit event */
	/* the answer already written with ts_jsonw (arena memory), instead of response */
	const char *response_text;
	size_t response_len;
	/*
	 * Work that needs no store, run once the transaction has committed: a
	 * write renders its answer here, outside the one writer's lock.
	 */
	void (*after)(struct ts__scim_call *call);
	const void *after_arg;
	void *prepared; /* what an operation's prepare made for its run */
	int attempt;    /* 0 first; counts the starts over (TS__SCIM_WRITE_ATTEMPTS) */
	bool retry;     /* set by run: the version moved since prepare, start over */
};

struct ts__scim_op {
	const char *event; /* audit eventName: "CreateUser" */
	bool write;
	bool needs_body;
	ts_err (*run)(struct ts__scim_call *call, struct ts_error *e);
	/*
	 * Work on the body that needs no store, run before a write takes the
	 * one writer's lock (NULL: none). A failure refuses the call as run's would.
	 */
	ts_err (*prepare)(struct ts__scim_call *call, struct ts_error *e);
};

/* Operations (users_api.c, groups_api.c, discovery.c). */
extern const struct ts__scim_op ts__scim_create_user, ts__scim_get_user, ts__scim_list_users,
        ts__scim_search_users, ts__scim_replace_user, ts__scim_patch_user, ts__scim_delete_user,
        ts__scim_create_group, ts__scim_get_group, ts__scim_list_groups, ts__scim_search_groups,
        ts__scim_replace_group, ts__scim_patch_group, ts__scim_delete_group,
        ts__scim_service_provider_config, ts__scim_resource_types, ts__scim_resource_type,
        ts__scim_schemas, ts__scim_schema;

/* Fails with status code and scimType (may be NULL); returns code. */
ts_err ts__scim_err(struct ts__scim_call *call, struct ts_error *e, ts_err code,
                    const char *scim_type, const char *fmt, ...) TS_PRINTF(5, 6);

/* `attributes` / `excludedAttributes` from a comma-separated list. */
void ts__scim_attrs_parse(struct ts__scim_call *call, const char *incl, const char *excl);
/* Whether attribute attr (top-level, core schema) is part of the answer. */
bool ts__scim_attrs_want(const struct ts__scim_call *call, const char *attr, bool by_default);
/* Applies attributes / excludedAttributes to a rendered resource (RFC 7644 §3.4.2.5). */
void ts__scim_attrs_apply(const struct ts__scim_call *call, json_t *res, const char *core);
/* W/"<version>" in arena memory. */
const char *ts__scim_etag(struct ts__scim_call *call, int64_t version);
/* RFC 7644 §3.14: If-Match on writes (412 on mismatch). */
TS_MUST_USE ts_err ts__scim_check_if_match(struct ts__scim_call *call, int64_t version,
                                           struct ts_error *e);
/* Sets the single-resource answer: body, ETag, and for 201 the Location. */
void ts__scim_answer_resource(struct ts__scim_call *call, int status, json_t *res, int64_t version,
                              const char *core);

/* Longest attribute name a dotted "attr.sub" key may have (RFC 7643 §2.1 ATTRNAME) */
#define TS__SCIM_NAME_MAX 128

/*
 * RFC 7644 §3.10: the attribute name of key with the core schema's URN
 * prefix removed ("urn:...:core:2.0:User:userName" -> "userName", any case),
 * or key itself when it is not so qualified. Points into key.
 */
const char *ts__scim_core_name(const char *key, const char *core);
/*
 * Rewrites doc's core-URN-qualified members ("urn:...:User:userName",
 * "urn:...:User:name.givenName") and the members of the URN-keyed core
 * object ({"urn:...:core:2.0:User": {...}}) as plain attribute names, so
 * that every later check sees one spelling. NULL when done; else the name
 * that was given twice (with and without its URN), doc then half rewritten.
 * Allocates nothing when no member is qualified.
 */
const char *ts__scim_canonicalise(ts_arena_t *a, json_t *doc, const char *core);

/* user.c: client document -> stored resource and row; row -> SCIM JSON. */
TS_MUST_USE ts_err ts__scim_user_from_doc(struct ts__scim_call *call, json_t *doc,
                                          struct ts_user_row *row, struct ts_user_email **emails,
                                          int *nemails, struct ts_error *e);
/*
 * Writes what ts_json_dump(ts__scim_user_render(call, row, groups, ngroups))
 * gives, byte for byte, without building jansson values: the stored
 * resource's members are copied as text. False (nothing written) when the
 * stored text is not the compact object the write paths store.
 */
bool ts__scim_user_write(struct ts__scim_call *call, struct ts_jsonw *w,
                         const struct ts_user_row *row, const struct ts_group_member *groups,
                         int ngroups);
json_t *ts__scim_user_render(struct ts__scim_call *call, const struct ts_user_row *row,
                             const struct ts_group_member *groups, int ngroups);
/* The stored resource of row as a mutable document (new reference). */
json_t *ts__scim_resource_doc(const char *resource);

/* group.c */
TS_MUST_USE ts_err ts__scim_group_from_doc(struct ts__scim_call *call, json_t *doc,
                                           struct ts_group_row *row, json_t **members,
                                           struct ts_error *e);
json_t *ts__scim_group_render(struct ts__scim_call *call, const struct ts_group_row *row,
                              const struct ts_group_member *members, int nmembers);
/* Checks that every id of ids (JSON array) is a user of the account: 400 invalidValue otherwise. */
TS_MUST_USE ts_err ts__scim_members_check(struct ts__scim_call *call, const json_t *ids,
                                          struct ts_error *e);

/* search.c: GET /Users, GET /Groups and POST /.search. */
TS_MUST_USE ts_err ts__scim_search(struct ts__scim_call *call, bool users, const char *filter,
                                   const char *start_index, const char *count, struct ts_error *e);

#endif
