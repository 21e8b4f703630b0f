/* SCIM API keys in the store: only the hash of each secret is kept. */
#include <string.h>

#include "store/internal.h"

static void read_key(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_apikey *k = row;
	k->api_key_id = ts__rows_str(c, r, 0, a);
	k->account_id = ts__rows_str(c, r, 1, a);
	k->secret_hash = ts__rows_str(c, r, 2, a);
	k->description = ts__rows_str(c, r, 3, a);
	k->created_ms = ts__rows_int(c, r, 4);
	k->account_settings = ts__rows_str(c, r, 5, a);
}

ts_err ts_store_apikey_insert(ts_store_conn_t *c, const struct ts_apikey *k, struct ts_error *e)
{
	struct ts__param p[] = {
	        TS__TEXT(k->api_key_id), TS__TEXT(k->account_id), TS__TEXT(k->secret_hash),
	        TS__TEXT(k->description ? k->description : ""), TS__INT(k->created_ms)};
	return ts__store_write(c, TS__Q_SCIM_APIKEY_INSERT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_apikey_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                           struct ts_apikey *out, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(id)};
	bool found = false;
	ts_err rc =
	        ts__store_get_one(c, TS__Q_SCIM_APIKEY_AUTH, p, 1, read_key, arena, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "API key %s not found", id);
	return rc;
}

ts_err ts_store_apikey_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                            const char *after, int limit, struct ts_apikey **out, int *n,
                            struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(after ? after : ""), TS__INT(limit)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SCIM_APIKEY_LIST, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_apikey *list = ts_arena_alloc(arena, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r)) {
		read_key(c, r, arena, &list[count]);
		list[count].account_settings = NULL;
		count++;
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_apikey_delete(ts_store_conn_t *c, const char *account_id, const char *id,
                              struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(id)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_SCIM_APIKEY_DELETE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "API key %s not found", id);
	if (rc == TS_ERR_OK)
		rc = ts__store_auth_changed(c, e);
	return rc;
}

static void read_generation(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	(void)a;
	*(int64_t *)row = ts__rows_int(c, r, 0);
}

ts_err ts_store_auth_generation(ts_store_conn_t *c, int64_t *gen, struct ts_error *e)
{
	bool found = false;
	ts_err rc = ts__store_get_one(c, TS__Q_AUTH_GENERATION, NULL, 0, read_generation, NULL, gen,
	                              &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_STORE, "the auth_generation row is missing");
	return rc;
}

ts_err ts__store_auth_changed(ts_store_conn_t *c, struct ts_error *e)
{
	return ts__store_write(c, TS__Q_AUTH_GENERATION_BUMP, NULL, 0, NULL, e);
}
