/*
 * Targets, permission sets and assignments as the administrator manages them
 * (SPEC §8, docs/access.md): checking what is given, creating each in the
 * caller's write transaction (store/access.h), and their wire shapes
 * ({"Target": ...}, {"PermissionSet": ...}, {"Assignment": ...}). Shared by
 * the admin API (api_access.c) and the CLI (`tessera target|permission-set|
 * assignment`).
 */
#ifndef TS_ADMIN_ACCESS_H
#define TS_ADMIN_ACCESS_H

#include <jansson.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/access.h"
#include "store/conn.h"

#define TS_ACCESS_NAME_MAX 128 /* bytes of a target's or permission set's Name */
#define TS_ACCESS_KIND_MAX 64  /* bytes of a target's Kind */
#define TS_ACCESS_URL_MAX 2048 /* bytes of a target's Url */
#define TS_ACCESS_ID_MAX 128   /* bytes of an id named in a body (PrincipalId, TargetId, ...) */
#define TS_ACCESS_KIND_DEFAULT "Application"
/* a permission set's policy documents: how many, and their JSON text in all */
#define TS_ACCESS_POLICIES_MAX 10
#define TS_ACCESS_POLICIES_TEXT_MAX (32 * 1024)
/* SessionDuration in seconds: 15 minutes to 12 hours, 1 hour when not given */
#define TS_ACCESS_SESSION_MIN_S 900
#define TS_ACCESS_SESSION_MAX_S 43200
#define TS_ACCESS_SESSION_DEFAULT_S 3600

/*
 * A Name: 1 to TS_ACCESS_NAME_MAX bytes of UTF-8 without control
 * characters (C0, DEL, C1); member names the member in the message.
 */
TS_MUST_USE ts_err ts_admin_access_name_check(const char *member, const char *name,
                                              struct ts_error *e);
/* A Kind: 1 to TS_ACCESS_KIND_MAX letters, digits, '-', '_' or '.'. */
TS_MUST_USE ts_err ts_admin_access_kind_check(const char *kind, struct ts_error *e);
/*
 * A Url: an absolute http or https URL (RFC 3986 §4.3) of at most
 * TS_ACCESS_URL_MAX bytes of visible ASCII, whose scheme and authority are
 * an origin (http/url.h: a host, an optional port, no userinfo).
 */
TS_MUST_USE ts_err ts_admin_access_url_check(ts_arena_t *a, const char *url, struct ts_error *e);
/*
 * Policies: an array of 1 to TS_ACCESS_POLICIES_MAX IAM-style policy
 * documents (objects), each validated by the policy parser (admin/policy.h);
 * *text is the array as compact JSON (arena memory), at most
 * TS_ACCESS_POLICIES_TEXT_MAX bytes.
 */
TS_MUST_USE ts_err ts_admin_access_policies_check(ts_arena_t *a, const json_t *policies,
                                                  const char **text, struct ts_error *e);
/* SessionDuration: TS_ACCESS_SESSION_MIN_S to TS_ACCESS_SESSION_MAX_S. */
TS_MUST_USE ts_err ts_admin_access_duration_check(int64_t seconds, struct ts_error *e);

/*
 * Creates a target in account_id (which must exist: TS_ERR_NOT_FOUND) in
 * the caller's write transaction, after the checks above (kind NULL: the
 * default); *out is the stored target (a new id).
 */
TS_MUST_USE ts_err ts_admin_target_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                          const char *name, const char *kind, const char *url,
                                          int64_t now_ms, struct ts_target *out,
                                          struct ts_error *e);
/* As ts_admin_target_create; duration 0: the default. */
TS_MUST_USE ts_err ts_admin_permission_set_create(ts_store_conn_t *c, ts_arena_t *a,
                                                  const char *account_id, const char *name,
                                                  const json_t *policies, int64_t duration_s,
                                                  int64_t now_ms, struct ts_permission_set *out,
                                                  struct ts_error *e);
/*
 * Assigns a user or directory group (principal_type USER or GROUP) of the
 * account to a target and permission set of the same account: another
 * account's ids are TS_ERR_NOT_FOUND; the same assignment twice is
 * TS_ERR_CONFLICT.
 */
TS_MUST_USE ts_err ts_admin_assignment_create(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *account_id, const char *principal_type,
                                              const char *principal_id, const char *target_id,
                                              const char *permission_set_id, int64_t now_ms,
                                              struct ts_assignment *out, struct ts_error *e);

/* {"TargetId", "AccountId", "Name", "Kind", "Url", "CreatedTimestamp", "UpdatedTimestamp"}. */
json_t *ts_admin_target_json(const struct ts_target *t);
/*
 * {"PermissionSetId", "AccountId", "Name", "Policies": [documents],
 * "SessionDuration", "CreatedTimestamp", "UpdatedTimestamp"}.
 */
json_t *ts_admin_permission_set_json(const struct ts_permission_set *p);
/*
 * {"AssignmentId", "AccountId", "PrincipalType", "PrincipalId", "TargetId",
 * "PermissionSetId", "CreatedTimestamp"}.
 */
json_t *ts_admin_assignment_json(const struct ts_assignment *as);

#endif
