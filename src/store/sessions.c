/*
 * Sign-in sessions (browser cookies and CLI tokens) in the store. Only the
 * hash of each token is kept. Every node reads the same rows, so a
 * revocation is seen by all of them at the next request.
 */
#include "store/internal.h"

static void read_session(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_session *s = row;
	s->session_id = ts__rows_str(c, r, 0, a);
	s->token_hash = ts__rows_str(c, r, 1, a);
	s->account_id = ts__rows_str(c, r, 2, a);
	s->user_id = ts__rows_str(c, r, 3, a);
	s->kind = ts__rows_str(c, r, 4, a);
	s->license = ts__rows_str(c, r, 5, a);
	s->created_ms = ts__rows_int(c, r, 6);
	s->expires_ms = ts__rows_int(c, r, 7);
	s->license_checked_ms = ts__rows_int(c, r, 8);
	s->revoked_ms = ts__rows_int(c, r, 9);
	s->client = ts__rows_str(c, r, 10, a);
	s->origin = ts__rows_str(c, r, 11, a);
	s->roles_json = ts__rows_str(c, r, 12, a);
	s->role_arn = ts__rows_str(c, r, 13, a);
	s->provider_arn = ts__rows_str(c, r, 14, a);
	s->role_session_name = ts__rows_str(c, r, 15, a);
}

ts_err ts_store_session_insert(ts_store_conn_t *c, const struct ts_session *s, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(s->session_id),   TS__TEXT(s->token_hash),
	                        TS__TEXT(s->account_id),   TS__TEXT(s->user_id),
	                        TS__TEXT(s->kind),         TS__TEXT(s->license),
	                        TS__INT(s->created_ms),    TS__INT(s->expires_ms),
	                        TS__TEXT(s->client),       TS__TEXT(s->origin),
	                        TS__TEXT(s->roles_json),   TS__TEXT(s->role_arn),
	                        TS__TEXT(s->provider_arn), TS__TEXT(s->role_session_name)};
	return ts__store_write(c, TS__Q_DIR_SESSION_INSERT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_session_by_hash(ts_store_conn_t *c, ts_arena_t *arena, const char *token_hash,
                                struct ts_session *out, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(token_hash)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, TS__Q_DIR_SESSION_BY_HASH, p, 1, read_session, arena, out,
	                              &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "no such session");
	return rc;
}

ts_err ts_store_session_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                       const char *session_id, struct ts_session *out,
                                       struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(session_id)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, TS__Q_DIR_SESSION_GET_FOR_UPDATE, p, 1, read_session,
	                              arena, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "no such session");
	return rc;
}

ts_err ts_store_session_set_role(ts_store_conn_t *c, const char *session_id, const char *role_arn,
                                 const char *provider_arn, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(session_id), TS__TEXT(role_arn), TS__TEXT(provider_arn)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_DIR_SESSION_SET_ROLE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "no such session");
	return rc;
}

ts_err ts_store_session_set_license(ts_store_conn_t *c, const char *session_id, const char *license,
                                    int64_t checked_ms, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(session_id), TS__TEXT(license), TS__INT(checked_ms)};
	return ts__store_write(c, TS__Q_DIR_SESSION_SET_LICENSE, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_session_revoke(ts_store_conn_t *c, const char *session_id, int64_t now_ms,
                               int64_t *changed, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(session_id), TS__INT(now_ms)};
	return ts__store_write(c, TS__Q_DIR_SESSION_REVOKE, p, TS__NPARAMS(p), changed, e);
}

/*
 * The user's row is locked first, in a statement of its own: a session
 * being opened for the user (its insert holds a key-share lock on that row
 * through the foreign key) commits before the revocation's UPDATE takes its
 * snapshot, so it is revoked with the rest, not left behind (PostgreSQL at
 * READ COMMITTED; a blocked UPDATE does not see rows inserted meanwhile).
 * Two such transactions that lock in the other order deadlock, which is
 * TS_ERR_RETRY: one runs again.
 */
ts_err ts_store_session_revoke_user(ts_store_conn_t *c, const char *user_id, int64_t now_ms,
                                    int64_t *changed, struct ts_error *e)
{
	if (changed != NULL)
		*changed = 0;
	struct ts__param u[] = {TS__TEXT(user_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_SESSION_USER_LOCK, u, TS__NPARAMS(u), &r, e);
	ts__rows_close(c, &r);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts__param p[] = {TS__TEXT(user_id), TS__INT(now_ms)};
	return ts__store_write(c, TS__Q_DIR_SESSION_REVOKE_USER, p, TS__NPARAMS(p), changed, e);
}

ts_err ts_store_session_live_count(ts_store_conn_t *c, const char *user_id, int64_t now_ms,
                                   int64_t *n, struct ts_error *e)
{
	*n = 0;
	struct ts__param p[] = {TS__TEXT(user_id), TS__INT(now_ms)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_SESSION_LIVE_COUNT, p, TS__NPARAMS(p), &r, e);
	if (rc == TS_ERR_OK && ts__rows_next(c, r))
		*n = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return rc;
}
