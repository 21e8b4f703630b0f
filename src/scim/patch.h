/*
 * The SCIM PATCH engine (RFC 7644 §3.5.2): applies a PatchOp body to a
 * resource held as JSON, all operations or none (the caller keeps the
 * original until this returns TS_ERR_OK). Group memberships are not part of
 * the document: operations on `members` come out as a list of deltas, so
 * that the store changes only the memberships named and never reads or
 * rewrites the member list.
 *
 * Accepted client forms (reference/scim-clients.md): ops in any case
 * ("Replace"), no-path values with plain, dotted ("name.givenName") and
 * URN-prefixed keys, value paths with filters (`emails[type eq "work"].value`,
 * creating the value when none matches), `members` removal with a value list,
 * `$ref: null` inside member values, `id` inside a no-path value (ignored).
 * Boolean strings ("False") are left for the resource rules to coerce.
 */
#ifndef TS_SCIM_PATCH_H
#define TS_SCIM_PATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "scim/filter.h"

#define TS_SCIM_PATCHOP_SCHEMA "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define TS_SCIM_PATCH_MAX_OPS 1000            /* operations per request */
#define TS_SCIM_PATCH_MAX_MEMBERS 10000       /* membership values per request */
#define TS_SCIM_STRICT_MAX_MEMBER_CHANGES 100 /* aws-strict: AWS IAM Identity Center's limit */

/*
 * Values a User's multi-valued attribute may hold, and a request may name
 * (an incident: one PATCH adding 40,000 emails held the writer lock for 40 s).
 * Far above what an IdP sends (Okta and Entra ID send one to three emails and
 * phone numbers); past them a POST, PUT or PATCH is refused with 400
 * invalidValue before any work on the values.
 */
#define TS_SCIM_MAX_EMAILS 100
#define TS_SCIM_MAX_PHONE_NUMBERS 100
#define TS_SCIM_MAX_IMS 100
#define TS_SCIM_MAX_PHOTOS 100
#define TS_SCIM_MAX_ADDRESSES 100
#define TS_SCIM_MAX_ENTITLEMENTS 1000
#define TS_SCIM_MAX_ROLES 1000
#define TS_SCIM_MAX_X509_CERTIFICATES 100
#define TS_SCIM_MAX_SCHEMAS 20                     /* schema URNs named by one resource */
#define TS_SCIM_MAX_OTHER_VALUES 100               /* any other array attribute (not in RFC 7643) */
#define TS_SCIM_MIN_VALUES_CAP TS_SCIM_MAX_SCHEMAS /* the smallest of the caps above */

struct ts_scim_patch_target {
	bool group;  /* members become deltas; displayName is required */
	bool strict; /* the aws-strict profile (checklist items 61, 65) */
	const struct ts_scim_attr_rules *rules;
	/*
	 * Values one request may name per multi-valued attribute; 0: the
	 * attribute's own cap (ts_scim_values_cap). Only tests raise it, to time
	 * the engine on inputs the caps refuse.
	 */
	size_t max_values;
};

struct ts_scim_patch_members {
	bool clear;     /* remove every member first (replace / remove of all members) */
	json_t *add;    /* JSON array of user ids to add (new reference, owned by the arena) */
	json_t *remove; /* JSON array of user ids to remove */
	int changes;    /* membership values named by the request */
};

/*
 * Applies body to doc in place. m may be NULL for users. On failure returns
 * TS_ERR_BAD_REQUEST (or TS_ERR_TOO_LARGE past a cap) with *scim_type set to
 * the RFC 7644 §3.12 value (invalidSyntax, invalidPath, invalidFilter,
 * invalidValue, noTarget, mutability) and the reason in e; doc is then in an
 * unspecified state and must be discarded.
 */
TS_MUST_USE ts_err ts_scim_patch_apply(ts_arena_t *a, json_t *doc, const json_t *body,
                                       const struct ts_scim_patch_target *t,
                                       struct ts_scim_patch_members *m, const char **scim_type,
                                       struct ts_error *e);

/*
 * The cap on the values of top-level attribute attr of a User (case-insensitive
 * name): TS_SCIM_MAX_EMAILS for "emails", ..., TS_SCIM_MAX_OTHER_VALUES for a
 * name RFC 7643 does not define.
 */
size_t ts_scim_values_cap(const char *attr);

/*
 * True when s holds a C0 control character (U+0000 - U+001F) or DEL: such
 * text is refused in the attributes people read (userName, displayName, ...)
 * because it reaches terminals and logs.
 */
bool ts_scim_has_control(const char *s, size_t len);

/* The member of obj whose key equals key case-insensitively (RFC 7643 §2.1), the exact spelling
 * first, or NULL. */
json_t *ts_scim_json_get(const json_t *obj, const char *key, const char **real_key);

#endif
