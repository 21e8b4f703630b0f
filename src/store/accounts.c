/* Accounts in the store. */
#include "store/internal.h"

static void read_account(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_account *out = row;
	out->account_id = ts__rows_str(c, r, 0, a);
	out->name = ts__rows_str(c, r, 1, a);
	out->account_type = ts__rows_str(c, r, 2, a);
	out->status = ts__rows_str(c, r, 3, a);
	out->created_ms = ts__rows_int(c, r, 4);
	out->settings = ts__rows_str(c, r, 5, a);
}

ts_err ts_store_account_insert(ts_store_conn_t *c, const struct ts_account *a, struct ts_error *e)
{
	struct ts__param p[] = {
	        TS__TEXT(a->account_id),   TS__TEXT(a->name),
	        TS__TEXT(a->account_type), TS__TEXT(a->status),
	        TS__INT(a->created_ms),    TS__TEXT(a->settings ? a->settings : "{}")};
	return ts__store_write(c, TS__Q_ACCOUNT_INSERT, p, TS__NPARAMS(p), NULL, e);
}

static ts_err account_get(ts_store_conn_t *c, enum ts__store_query q, ts_arena_t *arena,
                          const char *id, struct ts_account *out, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(id)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, q, p, 1, read_account, arena, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s not found", id);
	return rc;
}

ts_err ts_store_account_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                            struct ts_account *out, struct ts_error *e)
{
	return account_get(c, TS__Q_ACCOUNT_GET, arena, id, out, e);
}

ts_err ts_store_account_get_for_update(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                                       struct ts_account *out, struct ts_error *e)
{
	return account_get(c, TS__Q_ACCOUNT_GET_FOR_UPDATE, arena, id, out, e);
}

ts_err ts_store_account_list(ts_store_conn_t *c, ts_arena_t *arena, const char *after,
                             const char *name, int limit, struct ts_account **out, int *n,
                             struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	struct ts__param p[] = {TS__TEXT(after ? after : ""), TS__TEXT(name ? name : ""),
	                        TS__INT(limit)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_ACCOUNT_LIST, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_account *list = ts_arena_alloc(arena, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r))
		read_account(c, r, arena, &list[count++]);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_account_update(ts_store_conn_t *c, const struct ts_account *a, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(a->account_id), TS__TEXT(a->name),
	                        TS__TEXT(a->account_type), TS__TEXT(a->status),
	                        TS__TEXT(a->settings ? a->settings : "{}")};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_ACCOUNT_UPDATE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s not found", a->account_id);
	if (rc == TS_ERR_OK)
		rc = ts__store_auth_changed(c, e);
	return rc;
}

ts_err ts_store_account_delete(ts_store_conn_t *c, const char *id, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(id)};
	int64_t changed = 0;
	/*
	 * On PostgreSQL users have no foreign key to their account (migration
	 * v11): the inserts in flight for it are waited out, then its users are
	 * deleted here, with what refers to them. SQLite's cascade would do the same.
	 */
	ts_err rc = ts__store_write(c, TS__Q_ACCOUNT_HOLD, p, TS__NPARAMS(p), NULL, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_ACCOUNT_USERS_DELETE, p, TS__NPARAMS(p), NULL, e);
	/* the sealed SP private keys are not rows of the account: they go first */
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_SAML_KEY_SECRETS_DELETE_ACCOUNT, p, TS__NPARAMS(p),
		                     NULL, e);
	if (rc == TS_ERR_OK) /* and its OpenID client secret (store/oidc.h) */
		rc = ts__store_write(c, TS__Q_OIDC_SECRET_DELETE_ACCOUNT, p, TS__NPARAMS(p), NULL,
		                     e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_ACCOUNT_DELETE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s not found", id);
	if (rc == TS_ERR_OK) /* its keys went with it */
		rc = ts__store_auth_changed(c, e);
	return rc;
}
