/*
 * SCIM PATCH paths (RFC 7644 §3.5.2): `path = attrPath / valuePath [subAttr]`,
 * for example `active`, `name.givenName`, `members[value eq "2819c223"]`,
 * `emails[type eq "work"].value`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
 * Pure parsing, no resource access: the PATCH engine applies the result.
 * The bracketed filter is read by the filter parser (scim/filter.h).
 */
#ifndef TS_SCIM_PATH_H
#define TS_SCIM_PATH_H

#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "scim/filter.h"

/* Longest path accepted, in bytes; longer is invalidPath. */
#define TS_SCIM_PATH_MAX_LEN 1024

/*
 * A parsed path, in arena memory. `sub` is the target sub-attribute whether
 * it was written as attrPath's subAttr (`name.givenName`) or after the value
 * filter (`emails[type eq "work"].value`).
 *
 * A path naming a whole extension schema, such as
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, parses as
 * urn "urn:...:enterprise:2.0" and attr "User": the PATCH engine recognises
 * it by joining urn ":" attr and comparing with the schemas it knows.
 */
struct ts_scim_path {
	const char *urn;                     /* schema URN as written, or NULL */
	const char *attr;                    /* attribute name as written */
	const struct ts_scim_filter *filter; /* value filter between brackets, or NULL */
	const char *sub;                     /* sub-attribute, or NULL */
};

/*
 * Parses text[0..len) into *out (arena memory). On failure returns
 * TS_ERR_BAD_REQUEST with the reason in e and *scim_type (when not NULL) set
 * to TS_SCIM_INVALID_PATH for path syntax, or TS_SCIM_INVALID_FILTER when the
 * bracketed filter is malformed (RFC 7644 §3.12 lists invalidFilter for
 * PATCH path filters); *out is then NULL.
 */
TS_MUST_USE ts_err ts_scim_path_parse(ts_arena_t *arena, const char *text, size_t len,
                                      struct ts_scim_path **out, const char **scim_type,
                                      struct ts_error *e);

/* Canonical text of p in arena memory (the filter as ts_scim_filter_format prints it). */
char *ts_scim_path_format(ts_arena_t *arena, const struct ts_scim_path *p);

#endif
