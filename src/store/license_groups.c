/* Directory groups mapped to licence tiers (the Chime "Directory groups" page). */
#include "store/internal.h"

ts_err ts_store_license_group_upsert(ts_store_conn_t *c, const struct ts_license_group *g,
                                     struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(g->account_id), TS__TEXT(g->group_name),
	                        TS__TEXT(g->license), TS__INT(g->modified_ms)};
	return ts__store_write(c, TS__Q_DIR_LGROUP_UPSERT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_license_group_delete(ts_store_conn_t *c, const char *account_id,
                                     const char *group_name, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(group_name)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_DIR_LGROUP_DELETE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "no licence mapping for group %.200s",
		             group_name);
	return rc;
}

ts_err ts_store_license_group_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                   struct ts_license_group **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__param p[] = {TS__TEXT(account_id), TS__INT(TS_STORE_PAGE_MAX)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_LGROUP_LIST, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_license_group *list = ts_arena_alloc(arena, sizeof *list * TS_STORE_PAGE_MAX);
	int count = 0;
	while (count < TS_STORE_PAGE_MAX && ts__rows_next(c, r)) {
		struct ts_license_group *g = &list[count++];
		g->account_id = ts__rows_str(c, r, 0, arena);
		g->group_name = ts__rows_str(c, r, 1, arena);
		g->license = ts__rows_str(c, r, 2, arena);
		g->modified_ms = ts__rows_int(c, r, 3);
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_dir_group_exists(ts_store_conn_t *c, const char *account_id, const char *name,
                                 bool *exists, struct ts_error *e)
{
	*exists = false;
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(name)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_GROUP_EXISTS, p, TS__NPARAMS(p), &r, e);
	if (rc == TS_ERR_OK)
		*exists = ts__rows_next(c, r);
	ts__rows_close(c, &r);
	return rc;
}
