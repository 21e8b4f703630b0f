/* Claimed email domains and their verification state (docs/product.md §1, §4). */
#include "store/internal.h"

static void read_domain(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_domain *d = row;
	d->account_id = ts__rows_str(c, r, 0, a);
	d->domain_name = ts__rows_str(c, r, 1, a);
	d->status = ts__rows_str(c, r, 2, a);
	d->token = ts__rows_str(c, r, 3, a);
	d->created_ms = ts__rows_int(c, r, 4);
	d->verified_ms = ts__rows_int(c, r, 5);
	d->next_check_ms = ts__rows_int(c, r, 6);
	d->attempts = ts__rows_int(c, r, 7);
	d->last_error = ts__rows_str(c, r, 8, a);
}

static struct ts__param opt_int(int64_t v)
{
	return v != 0 ? TS__INT(v) : TS__TEXT(NULL);
}

ts_err ts_store_domain_insert(ts_store_conn_t *c, const struct ts_domain *d, struct ts_error *e)
{
	struct ts__param p[] = {
	        TS__TEXT(d->account_id),   TS__TEXT(d->domain_name), TS__TEXT(d->status),
	        TS__TEXT(d->token),        TS__INT(d->created_ms),   opt_int(d->verified_ms),
	        TS__INT(d->next_check_ms), TS__INT(d->attempts),     TS__TEXT(d->last_error)};
	return ts__store_write(c, TS__Q_DIR_DOMAIN_INSERT, p, TS__NPARAMS(p), NULL, e);
}

static ts_err domain_get(ts_store_conn_t *c, enum ts__store_query q, ts_arena_t *arena,
                         const char *account_id, const char *name, struct ts_domain *out,
                         struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(name)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, q, p, 2, read_domain, arena, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "domain %.253s not found", name);
	return rc;
}

ts_err ts_store_domain_get(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                           const char *name, struct ts_domain *out, struct ts_error *e)
{
	return domain_get(c, TS__Q_DIR_DOMAIN_GET, arena, account_id, name, out, e);
}

ts_err ts_store_domain_get_for_update(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      const char *name, struct ts_domain *out, struct ts_error *e)
{
	return domain_get(c, TS__Q_DIR_DOMAIN_GET_FOR_UPDATE, arena, account_id, name, out, e);
}

static ts_err read_list(ts_store_conn_t *c, ts_arena_t *arena, enum ts__store_query q,
                        const struct ts__param *p, int np, int limit, struct ts_domain **out,
                        int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_domain *list = ts_arena_alloc(arena, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r))
		read_domain(c, r, arena, &list[count++]);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_domain_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                            const char *after, int limit, struct ts_domain **out, int *n,
                            struct ts_error *e)
{
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(after ? after : ""), TS__INT(limit)};
	return read_list(c, arena, TS__Q_DIR_DOMAIN_LIST, p, TS__NPARAMS(p), limit, out, n, e);
}

ts_err ts_store_domain_due(ts_store_conn_t *c, ts_arena_t *arena, int64_t now_ms, int limit,
                           struct ts_domain **out, int *n, struct ts_error *e)
{
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	struct ts__param p[] = {TS__INT(now_ms), TS__INT(limit)};
	return read_list(c, arena, TS__Q_DIR_DOMAIN_DUE, p, TS__NPARAMS(p), limit, out, n, e);
}

ts_err ts_store_domain_verified_owner(ts_store_conn_t *c, ts_arena_t *arena, const char *name,
                                      const char **owner, struct ts_error *e)
{
	*owner = NULL;
	struct ts__param p[] = {TS__TEXT(name)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_DOMAIN_VERIFIED_OWNER, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*owner = ts__rows_str(c, r, 0, arena);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts_store_domain_verified_names(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      const char ***names, int *n, struct ts_error *e)
{
	*names = NULL;
	*n = 0;
	struct ts__param p[] = {TS__TEXT(account_id), TS__INT(TS_STORE_PAGE_MAX)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_DOMAIN_VERIFIED_NAMES, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* grown as rows come: every sign-in reads these, and an account has a few */
	const char **list = NULL;
	size_t count = 0, cap = 0;
	while (count < TS_STORE_PAGE_MAX && ts__rows_next(c, r)) {
		if (TS_ARENA_GROW(arena, list, count, &cap, TS_STORE_PAGE_MAX) != TS_ERR_OK)
			break; /* not reached: count stays below the maximum */
		list[count++] = ts__rows_str(c, r, 0, arena);
	}
	ts__rows_close(c, &r);
	*names = list;
	*n = (int)count;
	return TS_ERR_OK;
}

ts_err ts_store_domain_next_due(ts_store_conn_t *c, int64_t *next_ms, bool *found,
                                struct ts_error *e)
{
	*next_ms = 0;
	*found = false;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_DOMAIN_NEXT_DUE, NULL, 0, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r) && c->store->drv->text(r, 0) != NULL) {
		*next_ms = ts__rows_int(c, r, 0);
		*found = true;
	}
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts_store_domain_claim(ts_store_conn_t *c, const char *account_id, const char *name,
                             int64_t seen_next_ms, int64_t lease_until_ms, bool *won,
                             struct ts_error *e)
{
	*won = false;
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(name), TS__INT(seen_next_ms),
	                        TS__INT(lease_until_ms)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_DIR_DOMAIN_CLAIM, p, TS__NPARAMS(p), &changed, e);
	*won = rc == TS_ERR_OK && changed == 1;
	return rc;
}

ts_err ts_store_domain_update(ts_store_conn_t *c, const struct ts_domain *d, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(d->account_id),   TS__TEXT(d->domain_name),
	                        TS__TEXT(d->status),       opt_int(d->verified_ms),
	                        TS__INT(d->next_check_ms), TS__INT(d->attempts),
	                        TS__TEXT(d->last_error)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_DIR_DOMAIN_UPDATE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "domain %.253s not found", d->domain_name);
	return rc;
}

ts_err ts_store_domain_delete(ts_store_conn_t *c, const char *account_id, const char *name,
                              struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(name)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_DIR_DOMAIN_DELETE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "domain %.253s not found", name);
	return rc;
}
