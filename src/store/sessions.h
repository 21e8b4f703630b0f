/*
 * Sign-in sessions: stored by the hash of their token, revoked by a single
 * UPDATE so that every node refuses a revoked session from its next
 * transaction. Part of the store interface (store/store.h).
 */
#ifndef TS_STORE_SESSIONS_H
#define TS_STORE_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

struct ts_session {
	const char *session_id;
	const char *token_hash; /* hex SHA-256 of the token; the token itself is never stored */
	const char *account_id;
	const char *user_id;
	const char *kind;    /* "browser" | "cli" */
	const char *license; /* "Pro" | "Basic" | NULL */
	int64_t created_ms;
	int64_t expires_ms;
	int64_t license_checked_ms;
	int64_t revoked_ms; /* 0 while live */
	const char *client; /* may be NULL */
	/* where it came from and the AWS role (docs/product.md §2, §6); all may be NULL */
	const char *origin;     /* "saml" | "oidc" | "device" */
	const char *roles_json; /* JSON array of the {"RoleArn","ProviderArn"} pairs offered */
	const char *role_arn, *provider_arn; /* the pair chosen (one of roles_json) */
	const char *role_session_name;
};

/* Inserts s (license_checked_ms is set to created_ms). */
TS_MUST_USE ts_err ts_store_session_insert(ts_store_conn_t *c, const struct ts_session *s,
                                           struct ts_error *e);
/* TS_ERR_NOT_FOUND when no session has this token hash. */
TS_MUST_USE ts_err ts_store_session_by_hash(ts_store_conn_t *c, ts_arena_t *arena,
                                            const char *token_hash, struct ts_session *out,
                                            struct ts_error *e);
/* The session of this ID, locked for the write transaction's change; TS_ERR_NOT_FOUND when none. */
TS_MUST_USE ts_err ts_store_session_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                   const char *session_id, struct ts_session *out,
                                                   struct ts_error *e);
/* Sets the AWS role pair chosen (the caller checked it was offered); TS_ERR_NOT_FOUND when none. */
TS_MUST_USE ts_err ts_store_session_set_role(ts_store_conn_t *c, const char *session_id,
                                             const char *role_arn, const char *provider_arn,
                                             struct ts_error *e);
TS_MUST_USE ts_err ts_store_session_set_license(ts_store_conn_t *c, const char *session_id,
                                                const char *license, int64_t checked_ms,
                                                struct ts_error *e);
/* Revokes one live session; *changed 0 when it was already revoked or is unknown. */
TS_MUST_USE ts_err ts_store_session_revoke(ts_store_conn_t *c, const char *session_id,
                                           int64_t now_ms, int64_t *changed, struct ts_error *e);
/* Revokes every live session of a user; *changed counts them. */
TS_MUST_USE ts_err ts_store_session_revoke_user(ts_store_conn_t *c, const char *user_id,
                                                int64_t now_ms, int64_t *changed,
                                                struct ts_error *e);
/* Sessions of a user that are neither revoked nor expired at now_ms. */
TS_MUST_USE ts_err ts_store_session_live_count(ts_store_conn_t *c, const char *user_id,
                                               int64_t now_ms, int64_t *n, struct ts_error *e);

#endif
