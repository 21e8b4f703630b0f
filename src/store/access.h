/*
 * Access after sign-in in the store (SPEC §8, docs/access.md): an account's
 * targets (what a person opens: name, kind, URL), its permission sets (a
 * name, IAM-style policy documents as one JSON array text, a session
 * duration) and the assignments of a user or a directory group to a
 * (target, permission set) pair. Every row goes with its account; an
 * assignment goes with its target, its permission set and its principal
 * (migrations.c v12). The admin API checks what is written (admin/access.h);
 * the store keeps every reference inside one account. Part of the store
 * interface.
 */
#ifndef TS_STORE_ACCESS_H
#define TS_STORE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

/* PrincipalType of an assignment (SPEC §8). */
#define TS_ACCESS_PRINCIPAL_USER "USER"
#define TS_ACCESS_PRINCIPAL_GROUP "GROUP"

struct ts_target {
	const char *target_id, *account_id, *name, *kind, *url;
	int64_t created_ms, modified_ms;
};

struct ts_permission_set {
	const char *permission_set_id, *account_id, *name;
	const char *policies_json; /* JSON array of policy documents */
	int64_t session_duration_s;
	int64_t created_ms, modified_ms;
};

struct ts_assignment {
	const char *assignment_id, *account_id;
	const char *principal_type; /* TS_ACCESS_PRINCIPAL_USER or _GROUP */
	const char *principal_id;   /* a user's or a directory group's id in the account */
	const char *target_id, *permission_set_id;
	int64_t created_ms;
};

struct ts_entitlement {
	struct ts_target target;
	struct ts_permission_set permission_set;
};

/* ---- targets ---- */

/* TS_ERR_CONFLICT when the account has a target of that name (or the id exists). */
TS_MUST_USE ts_err ts_store_target_insert(ts_store_conn_t *c, const struct ts_target *t,
                                          struct ts_error *e);
/* TS_ERR_NOT_FOUND unless the account has the target. */
TS_MUST_USE ts_err ts_store_target_get(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                       const char *target_id, struct ts_target *out,
                                       struct ts_error *e);
/* Writes name, kind, url and modified_ms of t; TS_ERR_NOT_FOUND, TS_ERR_CONFLICT (name). */
TS_MUST_USE ts_err ts_store_target_update(ts_store_conn_t *c, const struct ts_target *t,
                                          struct ts_error *e);
/*
 * Deletes the target and its assignments in c's transaction (or one of its
 * own); *assignments (may be NULL) counts those. TS_ERR_NOT_FOUND.
 */
TS_MUST_USE ts_err ts_store_target_delete(ts_store_conn_t *c, const char *account_id,
                                          const char *target_id, int64_t *assignments,
                                          struct ts_error *e);
/* The account's targets by id after `after` (NULL: from the start), at most limit. */
TS_MUST_USE ts_err ts_store_target_list(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                        const char *after, int limit, struct ts_target **out,
                                        int *n, struct ts_error *e);

/* ---- permission sets (as targets) ---- */

TS_MUST_USE ts_err ts_store_permission_set_insert(ts_store_conn_t *c,
                                                  const struct ts_permission_set *p,
                                                  struct ts_error *e);
TS_MUST_USE ts_err ts_store_permission_set_get(ts_store_conn_t *c, ts_arena_t *a,
                                               const char *account_id,
                                               const char *permission_set_id,
                                               struct ts_permission_set *out, struct ts_error *e);
/* Writes name, policies_json, session_duration_s and modified_ms. */
TS_MUST_USE ts_err ts_store_permission_set_update(ts_store_conn_t *c,
                                                  const struct ts_permission_set *p,
                                                  struct ts_error *e);
TS_MUST_USE ts_err ts_store_permission_set_delete(ts_store_conn_t *c, const char *account_id,
                                                  const char *permission_set_id,
                                                  int64_t *assignments, struct ts_error *e);
TS_MUST_USE ts_err ts_store_permission_set_list(ts_store_conn_t *c, ts_arena_t *a,
                                                const char *account_id, const char *after,
                                                int limit, struct ts_permission_set **out, int *n,
                                                struct ts_error *e);

/* ---- assignments ---- */

/*
 * Inserts the assignment after checking, in c's transaction, that its
 * target, permission set and principal (a user, or a directory group, of
 * that type) are the account's: TS_ERR_NOT_FOUND naming the first that is
 * not, TS_ERR_BAD_REQUEST for another principal type, TS_ERR_CONFLICT when
 * the same principal already holds the pair.
 */
TS_MUST_USE ts_err ts_store_assignment_insert(ts_store_conn_t *c, const struct ts_assignment *as,
                                              struct ts_error *e);
/*
 * Rewrites the assignment's principal, target and permission set (its id,
 * account and created_ms stay), with the checks of ts_store_assignment_insert;
 * TS_ERR_NOT_FOUND when the account has no such assignment.
 */
TS_MUST_USE ts_err ts_store_assignment_update(ts_store_conn_t *c, const struct ts_assignment *as,
                                              struct ts_error *e);
TS_MUST_USE ts_err ts_store_assignment_get(ts_store_conn_t *c, ts_arena_t *a,
                                           const char *account_id, const char *assignment_id,
                                           struct ts_assignment *out, struct ts_error *e);
TS_MUST_USE ts_err ts_store_assignment_delete(ts_store_conn_t *c, const char *account_id,
                                              const char *assignment_id, struct ts_error *e);
/*
 * The account's assignments by id after `after`, at most limit; target_id
 * and principal_id (NULL or "": any) narrow the list.
 */
TS_MUST_USE ts_err ts_store_assignment_list(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id, const char *target_id,
                                            const char *principal_id, const char *after, int limit,
                                            struct ts_assignment **out, int *n, struct ts_error *e);

/* ---- what a user may open ---- */

/*
 * What a user may open: (target, permission set) pairs through the user's
 * own assignments and those of every directory group the user is a member
 * of, each pair once, ordered by target name, then permission set name
 * (bytewise). Runs inside the caller's transaction (read or write).
 */
TS_MUST_USE ts_err ts_store_access_entitlements(ts_store_conn_t *c, ts_arena_t *a,
                                                const char *account_id, const char *user_id,
                                                struct ts_entitlement **out, size_t *n,
                                                struct ts_error *e);
/* TS_ERR_NOT_FOUND unless the user holds (target_id, permission_set_id) that way; fills out. */
TS_MUST_USE ts_err ts_store_access_entitled(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id, const char *user_id,
                                            const char *target_id, const char *permission_set_id,
                                            struct ts_entitlement *out, struct ts_error *e);

#endif
