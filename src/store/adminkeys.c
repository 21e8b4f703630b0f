/* Admin keys in the store: only the hash of each secret is kept. */
#include "store/internal.h"

static void read_key(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_adminkey *k = row;
	k->access_key_id = ts__rows_str(c, r, 0, a);
	k->secret_hash = ts__rows_str(c, r, 1, a);
	k->policies = ts__rows_str(c, r, 2, a);
	k->description = ts__rows_str(c, r, 3, a);
	k->created_ms = ts__rows_int(c, r, 4);
}

ts_err ts_store_adminkey_insert(ts_store_conn_t *c, const struct ts_adminkey *k, struct ts_error *e)
{
	struct ts__param p[] = {
	        TS__TEXT(k->access_key_id), TS__TEXT(k->secret_hash), TS__TEXT(k->policies),
	        TS__TEXT(k->description ? k->description : ""), TS__INT(k->created_ms)};
	return ts__store_write(c, TS__Q_ADMINKEY_INSERT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_adminkey_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                             struct ts_adminkey *out, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(id)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, TS__Q_ADMINKEY_GET, p, 1, read_key, arena, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "admin key %s not found", id);
	return rc;
}

ts_err ts_store_adminkey_list(ts_store_conn_t *c, ts_arena_t *arena, const char *after, int limit,
                              struct ts_adminkey **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	struct ts__param p[] = {TS__TEXT(after ? after : ""), TS__INT(limit)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_ADMINKEY_LIST, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_adminkey *list = ts_arena_alloc(arena, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r))
		read_key(c, r, arena, &list[count++]);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_adminkey_delete(ts_store_conn_t *c, const char *id, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(id)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_ADMINKEY_DELETE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "admin key %s not found", id);
	return rc;
}

ts_err ts_store_adminkey_count(ts_store_conn_t *c, int64_t *n, struct ts_error *e)
{
	*n = 0;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_ADMINKEY_COUNT, NULL, 0, &r, e);
	if (rc == TS_ERR_OK && ts__rows_next(c, r))
		*n = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return rc;
}
