/*
 * The directory's rows: users and groups as SCIM writes them (with their
 * addresses and memberships), the reads of users, emails and memberships
 * that the admin API and the sign-in rules need (SCIM writes those rows;
 * Team-account invitations and the admin state of a user are written here),
 * and the mapping of directory groups to licence tiers.
 * Part of the store interface (store/store.h).
 */
#ifndef TS_STORE_DIRECTORY_H
#define TS_STORE_DIRECTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

/* ---- users and groups as SCIM writes them ------------------------------ */

/*
 * A directory user: one row type for SCIM and for the admin API. resource is
 * the SCIM JSON as the client sent it (minus id, meta and groups), for
 * faithful round trips; user_name, external_id, display_name and active are
 * its indexed copies. user_name_key is user_name in lowercase (RFC 7643
 * §4.1.1: userName is case-insensitive). version moves with every change
 * (the SCIM ETag). The admin state after it is written by the admin API
 * (ts_store_dir_user_*), never by SCIM writes, which leave it as it is.
 */
struct ts_user_row {
	const char *user_id;
	const char *account_id;
	const char *user_name;
	const char *external_id;  /* may be NULL */
	const char *display_name; /* may be NULL */
	bool active;              /* SCIM active */
	const char *resource;     /* JSON object text */
	int64_t version;
	int64_t created_ms, modified_ms;
	/* the admin state (read by every read; written by ts_store_dir_user_* only) */
	bool suspended; /* admin SuspendUsers */
	const char
	        *registration_status; /* "Registered" | "Unregistered" | "Suspended" | "Released" */
	const char *license;          /* set by hand (Team accounts); may be NULL */
	const char *personal_pin;     /* may be NULL */
	int64_t invited_ms, joined_ms; /* 0 when not set */
};

/* An address of a user, duplicated into user_emails for sign-in and filters. */
struct ts_user_email {
	const char *value;
	const char *type; /* may be NULL */
	bool primary;
};

struct ts_group_row {
	const char *group_id;
	const char *account_id;
	const char *display_name;
	const char *external_id; /* may be NULL */
	const char *resource;    /* JSON object text, without members */
	int64_t version;
	int64_t created_ms, modified_ms;
};

struct ts_group_member {
	const char *user_id;
	const char *display; /* displayName, else userName */
};

/* Which index a candidate lookup uses (SCIM filters translated to SQL). */
enum ts_store_scim_key {
	TS_STORE_USER_BY_NAME,      /* value: userName (compared in lowercase) */
	TS_STORE_USER_BY_EXTERNAL,  /* value: externalId, exact */
	TS_STORE_USER_BY_ID,        /* value: id, exact */
	TS_STORE_USER_BY_EMAIL,     /* value: an address (compared in lowercase) */
	TS_STORE_USER_IN_GROUP,     /* value: a group id */
	TS_STORE_USER_MODIFIED,     /* lo_ms..hi_ms */
	TS_STORE_GROUP_BY_NAME,     /* value: displayName (compared in lowercase) */
	TS_STORE_GROUP_BY_EXTERNAL, /* value: externalId, exact */
	TS_STORE_GROUP_BY_ID,       /* value: id, exact */
	TS_STORE_GROUP_WITH_MEMBER, /* value: a user id */
	TS_STORE_GROUP_MODIFIED,    /* lo_ms..hi_ms */
};

/* Inserts a user and its addresses. TS_ERR_CONFLICT when the userName is taken. */
TS_MUST_USE ts_err ts_store_user_insert(ts_store_conn_t *c, const struct ts_user_row *u,
                                        const struct ts_user_email *emails, int nemails,
                                        struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent or in another account. */
TS_MUST_USE ts_err ts_store_user_get(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                     const char *user_id, struct ts_user_row *out,
                                     struct ts_error *e);
/*
 * The same read for a write that depends on it (read, check the version,
 * write): in a write transaction, no other write changes the row until it
 * ends (SQLite: the writer lock; PostgreSQL: SELECT ... FOR UPDATE).
 */
TS_MUST_USE ts_err ts_store_user_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                const char *account_id, const char *user_id,
                                                struct ts_user_row *out, struct ts_error *e);
/* Rewrites a user and its addresses (emails NULL with nemails < 0: addresses untouched). */
TS_MUST_USE ts_err ts_store_user_update(ts_store_conn_t *c, const struct ts_user_row *u,
                                        const struct ts_user_email *emails, int nemails,
                                        struct ts_error *e);
/* Deletes a user; addresses and memberships go with it. */
TS_MUST_USE ts_err ts_store_user_delete(ts_store_conn_t *c, const char *account_id,
                                        const char *user_id, struct ts_error *e);
/* Users of an account in creation order, from offset, at most limit. */
TS_MUST_USE ts_err ts_store_user_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      int64_t offset, int limit, struct ts_user_row **out, int *n,
                                      struct ts_error *e);
TS_MUST_USE ts_err ts_store_user_count(ts_store_conn_t *c, const char *account_id, int64_t *n,
                                       struct ts_error *e);
/* Candidates by one index, in creation order, at most limit. */
TS_MUST_USE ts_err ts_store_user_find(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      enum ts_store_scim_key key, const char *value, int64_t lo_ms,
                                      int64_t hi_ms, int limit, struct ts_user_row **out, int *n,
                                      struct ts_error *e);
/* The groups a user is in (group_id, display_name in *out as members). */
TS_MUST_USE ts_err ts_store_user_groups(ts_store_conn_t *c, ts_arena_t *arena, const char *user_id,
                                        struct ts_group_member **out, int *n, struct ts_error *e);
/* Of the ids in ids_json (a JSON array of strings), those that are users of the account. */
TS_MUST_USE ts_err ts_store_users_existing(ts_store_conn_t *c, ts_arena_t *arena,
                                           const char *account_id, const char *ids_json,
                                           const char ***out, int *n, struct ts_error *e);

TS_MUST_USE ts_err ts_store_group_insert(ts_store_conn_t *c, const struct ts_group_row *g,
                                         struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_get(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      const char *group_id, struct ts_group_row *out,
                                      struct ts_error *e);
/* As ts_store_user_get_for_update, for a group. */
TS_MUST_USE ts_err ts_store_group_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                 const char *account_id, const char *group_id,
                                                 struct ts_group_row *out, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_update(ts_store_conn_t *c, const struct ts_group_row *g,
                                         struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_delete(ts_store_conn_t *c, const char *account_id,
                                         const char *group_id, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_list(ts_store_conn_t *c, ts_arena_t *arena,
                                       const char *account_id, int64_t offset, int limit,
                                       struct ts_group_row **out, int *n, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_count(ts_store_conn_t *c, const char *account_id, int64_t *n,
                                        struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_find(ts_store_conn_t *c, ts_arena_t *arena,
                                       const char *account_id, enum ts_store_scim_key key,
                                       const char *value, int64_t lo_ms, int64_t hi_ms, int limit,
                                       struct ts_group_row **out, int *n, struct ts_error *e);
/* Members of a group, at most limit. */
TS_MUST_USE ts_err ts_store_group_members(ts_store_conn_t *c, ts_arena_t *arena,
                                          const char *group_id, int limit,
                                          struct ts_group_member **out, int *n, struct ts_error *e);
/* Adds (ignoring present ones) or removes the users in ids_json, in one statement each. */
TS_MUST_USE ts_err ts_store_group_members_add(ts_store_conn_t *c, const char *group_id,
                                              const char *ids_json, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_members_remove(ts_store_conn_t *c, const char *group_id,
                                                 const char *ids_json, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_members_clear(ts_store_conn_t *c, const char *group_id,
                                                struct ts_error *e);

/* ---- licence groups; the admin API reads and writes of users ---------- */

struct ts_license_group {
	const char *account_id;
	const char *group_name; /* exact displayName of a SCIM group */
	const char *license;    /* "Pro" | "Basic" */
	int64_t modified_ms;
};

TS_MUST_USE ts_err ts_store_license_group_upsert(ts_store_conn_t *c,
                                                 const struct ts_license_group *g,
                                                 struct ts_error *e);
/* TS_ERR_NOT_FOUND when the account has no mapping for the group. */
TS_MUST_USE ts_err ts_store_license_group_delete(ts_store_conn_t *c, const char *account_id,
                                                 const char *group_name, struct ts_error *e);
/* Every mapping of an account (at most TS_STORE_PAGE_MAX), by group name. */
TS_MUST_USE ts_err ts_store_license_group_list(ts_store_conn_t *c, ts_arena_t *arena,
                                               const char *account_id,
                                               struct ts_license_group **out, int *n,
                                               struct ts_error *e);
/* Whether the account has a SCIM group whose displayName is exactly name. */
TS_MUST_USE ts_err ts_store_dir_group_exists(ts_store_conn_t *c, const char *account_id,
                                             const char *name, bool *exists, struct ts_error *e);

struct ts_dir_user_group {
	const char *group_id;
	const char *name;    /* displayName */
	const char *license; /* the tier it is mapped to, or NULL when unmapped */
};

/*
 * Up to limit users of an account by user ID, strictly after `after` (NULL:
 * from the start); with email_key (lowercase) only those who have that
 * address, primary or proxy.
 */
TS_MUST_USE ts_err ts_store_dir_user_list(ts_store_conn_t *c, ts_arena_t *arena,
                                          const char *account_id, const char *email_key,
                                          const char *after, int limit, struct ts_user_row **out,
                                          int *n, struct ts_error *e);
/* Users whose userName or any address equals key (lowercase), at most limit. */
TS_MUST_USE ts_err ts_store_dir_user_match(ts_store_conn_t *c, ts_arena_t *arena,
                                           const char *account_id, const char *key, int limit,
                                           struct ts_user_row **out, int *n, struct ts_error *e);
/* A user's addresses, primary first. */
TS_MUST_USE ts_err ts_store_dir_user_emails(ts_store_conn_t *c, ts_arena_t *arena,
                                            const char *user_id, struct ts_user_email **out, int *n,
                                            struct ts_error *e);
/* A user's directory groups with the tier each is mapped to (at most TS_STORE_PAGE_MAX). */
TS_MUST_USE ts_err ts_store_dir_user_groups(ts_store_conn_t *c, ts_arena_t *arena,
                                            const char *user_id, struct ts_dir_user_group **out,
                                            int *n, struct ts_error *e);
/* IDs and suspension of the users whose primary address is on domain (lowercase). */
TS_MUST_USE ts_err ts_store_dir_users_on_domain(ts_store_conn_t *c, ts_arena_t *arena,
                                                const char *account_id, const char *domain,
                                                const char ***user_ids, bool **suspended, int *n,
                                                struct ts_error *e);
/* Whether any user holds this personal PIN. */
TS_MUST_USE ts_err ts_store_dir_pin_taken(ts_store_conn_t *c, const char *pin, bool *taken,
                                          struct ts_error *e);
/* Whether a user of the account has key (lowercase) as userName or address. */
TS_MUST_USE ts_err ts_store_dir_address_taken(ts_store_conn_t *c, const char *account_id,
                                              const char *key, bool *taken, struct ts_error *e);
/* Number of SCIM API keys of the account (an account with one is managed by an IdP). */
TS_MUST_USE ts_err ts_store_dir_api_key_count(ts_store_conn_t *c, const char *account_id,
                                              int64_t *n, struct ts_error *e);
/*
 * Inserts an invited user (active, not suspended, without a SCIM resource)
 * with its primary address; of u it reads user_id, account_id, user_name,
 * display_name, registration_status, license, personal_pin, invited_ms and
 * created_ms.
 */
TS_MUST_USE ts_err ts_store_dir_user_insert(ts_store_conn_t *c, const struct ts_user_row *u,
                                            const char *primary_email, struct ts_error *e);
/* The admin state of a user: suspension and registration status. */
TS_MUST_USE ts_err ts_store_dir_user_set_state(ts_store_conn_t *c, const char *user_id,
                                               bool suspended, const char *registration_status,
                                               int64_t now_ms, struct ts_error *e);
TS_MUST_USE ts_err ts_store_dir_user_set_license(ts_store_conn_t *c, const char *user_id,
                                                 const char *license, int64_t now_ms,
                                                 struct ts_error *e);
/* TS_ERR_CONFLICT when another user holds the PIN. */
TS_MUST_USE ts_err ts_store_dir_user_set_pin(ts_store_conn_t *c, const char *user_id,
                                             const char *pin, int64_t now_ms, struct ts_error *e);
/*
 * Registers an Unregistered user at their first sign-in: Registered, joined_ms
 * (RegisteredOn) now_ms, and pin unless they hold one. *changed 0 when the user
 * is not Unregistered (registered already, suspended, released) or unknown.
 * TS_ERR_CONFLICT when another user holds the PIN.
 */
TS_MUST_USE ts_err ts_store_dir_user_register(ts_store_conn_t *c, const char *user_id,
                                              const char *pin, int64_t now_ms, int64_t *changed,
                                              struct ts_error *e);
/* Deletes a user with their addresses, memberships and sessions. */
TS_MUST_USE ts_err ts_store_dir_user_delete(ts_store_conn_t *c, const char *user_id,
                                            struct ts_error *e);

#endif
