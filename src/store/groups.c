/*
 * Directory groups and their memberships in the store. A membership is a row
 * of its own, so that adding or removing members costs in proportion to the
 * change: the batch functions take the ids as one JSON array parameter and
 * run one statement, never reading the member list.
 */
#include <ctype.h>
#include <string.h>

#include "store/internal.h"

static const char *lower(ts_arena_t *a, const char *s)
{
	char *out = ts_arena_strdup(a, s ? s : "");
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

static void read_group(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_group_row *g = row;
	g->group_id = ts__rows_str(c, r, 0, a);
	g->account_id = ts__rows_str(c, r, 1, a);
	g->display_name = ts__rows_str(c, r, 2, a);
	g->external_id = ts__rows_str(c, r, 3, a);
	g->resource = ts__rows_str(c, r, 4, a);
	g->version = ts__rows_int(c, r, 5);
	g->created_ms = ts__rows_int(c, r, 6);
	g->modified_ms = ts__rows_int(c, r, 7);
}

static ts_err read_groups(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, int limit,
                          struct ts_group_row **out, int *n)
{
	size_t cap = 0, count = 0, max = limit > 0 ? (size_t)limit : 0;
	struct ts_group_row *list = NULL;
	while (count < max && ts__rows_next(c, r)) {
		/* cannot fail: the loop stops at max */
		if (TS_ARENA_GROW(a, list, count, &cap, max) != TS_ERR_OK)
			break;
		read_group(c, r, a, &list[count++]);
	}
	if (list == NULL)
		list = ts_arena_alloc(a, sizeof *list);
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}

ts_err ts_store_group_insert(ts_store_conn_t *c, const struct ts_group_row *g, struct ts_error *e)
{
	ts_arena_t *a = ts_arena_new();
	struct ts__param p[] = {TS__TEXT(g->group_id),     TS__TEXT(g->account_id),
	                        TS__TEXT(g->display_name), TS__TEXT(lower(a, g->display_name)),
	                        TS__TEXT(g->external_id),  TS__TEXT(g->resource),
	                        TS__INT(g->version),       TS__INT(g->created_ms),
	                        TS__INT(g->modified_ms)};
	ts_err rc = ts__store_write(c, TS__Q_SCIM_GROUP_INSERT, p, TS__NPARAMS(p), NULL, e);
	ts_arena_free(&a);
	return rc;
}

static ts_err group_get(ts_store_conn_t *c, enum ts__store_query q, ts_arena_t *arena,
                        const char *account_id, const char *group_id, struct ts_group_row *out,
                        struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(group_id)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, q, p, 2, read_group, arena, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "group %s not found", group_id);
	return rc;
}

ts_err ts_store_group_get(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                          const char *group_id, struct ts_group_row *out, struct ts_error *e)
{
	return group_get(c, TS__Q_SCIM_GROUP_GET, arena, account_id, group_id, out, e);
}

ts_err ts_store_group_get_for_update(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                     const char *group_id, struct ts_group_row *out,
                                     struct ts_error *e)
{
	return group_get(c, TS__Q_SCIM_GROUP_GET_FOR_UPDATE, arena, account_id, group_id, out, e);
}

ts_err ts_store_group_update(ts_store_conn_t *c, const struct ts_group_row *g, struct ts_error *e)
{
	ts_arena_t *a = ts_arena_new();
	struct ts__param p[] = {TS__TEXT(g->account_id),   TS__TEXT(g->group_id),
	                        TS__TEXT(g->display_name), TS__TEXT(lower(a, g->display_name)),
	                        TS__TEXT(g->external_id),  TS__TEXT(g->resource),
	                        TS__INT(g->version),       TS__INT(g->modified_ms)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_SCIM_GROUP_UPDATE, p, TS__NPARAMS(p), &changed, e);
	ts_arena_free(&a);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "group %s not found", g->group_id);
	return rc;
}

ts_err ts_store_group_delete(ts_store_conn_t *c, const char *account_id, const char *group_id,
                             struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(group_id)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_SCIM_GROUP_DELETE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "group %s not found", group_id);
	return rc;
}

ts_err ts_store_group_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                           int64_t offset, int limit, struct ts_group_row **out, int *n,
                           struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		return TS_ERR_OK;
	struct ts__param p[] = {TS__TEXT(account_id), TS__INT(limit), TS__INT(offset)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SCIM_GROUP_LIST, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	return read_groups(c, r, arena, limit, out, n);
}

ts_err ts_store_group_count(ts_store_conn_t *c, const char *account_id, int64_t *n,
                            struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id)};
	struct ts__rows *r = NULL;
	*n = 0;
	ts_err rc = ts__store_exec(c, TS__Q_SCIM_GROUP_COUNT, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*n = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts_store_group_find(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                           enum ts_store_scim_key key, const char *value, int64_t lo_ms,
                           int64_t hi_ms, int limit, struct ts_group_row **out, int *n,
                           struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		return TS_ERR_OK;
	if (key == TS_STORE_GROUP_BY_ID) {
		struct ts_group_row *one = ts_arena_alloc(arena, sizeof *one);
		struct ts_error quiet = {0};
		ts_err rc = ts_store_group_get(c, arena, account_id, value, one, &quiet);
		if (rc == TS_ERR_NOT_FOUND)
			return TS_ERR_OK;
		if (rc != TS_ERR_OK) {
			if (e != NULL)
				*e = quiet;
			return rc;
		}
		*out = one;
		*n = 1;
		return TS_ERR_OK;
	}
	enum ts__store_query q;
	struct ts__param p[4] = {TS__TEXT(account_id)};
	int np = 3;
	switch (key) {
	case TS_STORE_GROUP_BY_NAME:
		q = TS__Q_SCIM_GROUP_BY_DISPLAY_KEY;
		p[1] = TS__TEXT(lower(arena, value));
		break;
	case TS_STORE_GROUP_BY_EXTERNAL:
		q = TS__Q_SCIM_GROUP_BY_EXTERNAL_ID;
		p[1] = TS__TEXT(value);
		break;
	case TS_STORE_GROUP_WITH_MEMBER:
		q = TS__Q_SCIM_GROUP_WITH_MEMBER;
		p[1] = TS__TEXT(value);
		break;
	case TS_STORE_GROUP_MODIFIED:
		q = TS__Q_SCIM_GROUP_MODIFIED;
		p[1] = TS__INT(lo_ms);
		p[2] = TS__INT(hi_ms);
		np = 4;
		break;
	default:
		return TS_FAIL(e, TS_ERR_INTERNAL, "not a group lookup");
	}
	p[np - 1] = TS__INT(limit);
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	return read_groups(c, r, arena, limit, out, n);
}

ts_err ts_store_group_members(ts_store_conn_t *c, ts_arena_t *arena, const char *group_id,
                              int limit, struct ts_group_member **out, int *n, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(group_id), TS__INT(limit)};
	struct ts__rows *r = NULL;
	*out = NULL;
	*n = 0;
	ts_err rc = ts__store_exec(c, TS__Q_SCIM_GROUP_MEMBERS, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t cap = 0, count = 0;
	struct ts_group_member *list = NULL;
	while (ts__rows_next(c, r)) {
		if (TS_ARENA_GROW(arena, list, count, &cap, TS__STORE_ROWS_MAX) != TS_ERR_OK) {
			ts__rows_close(c, &r);
			return TS_FAIL(e, TS_ERR_TOO_LARGE, "more than %zu rows",
			               TS__STORE_ROWS_MAX);
		}
		list[count].user_id = ts__rows_str(c, r, 0, arena);
		const char *dn = ts__rows_str(c, r, 1, arena);
		list[count].display = dn ? dn : ts__rows_str(c, r, 2, arena);
		count++;
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}

ts_err ts_store_group_members_add(ts_store_conn_t *c, const char *group_id, const char *ids_json,
                                  struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(group_id), TS__TEXT(ids_json)};
	return ts__store_write(c, TS__Q_SCIM_GROUP_MEMBERS_ADD, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_group_members_remove(ts_store_conn_t *c, const char *group_id, const char *ids_json,
                                     struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(group_id), TS__TEXT(ids_json)};
	return ts__store_write(c, TS__Q_SCIM_GROUP_MEMBERS_REMOVE, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_group_members_clear(ts_store_conn_t *c, const char *group_id, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(group_id)};
	return ts__store_write(c, TS__Q_SCIM_GROUP_MEMBERS_CLEAR, p, TS__NPARAMS(p), NULL, e);
}
