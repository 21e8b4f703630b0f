/*
 * Directory users in the store, as SCIM writes them: the row, its addresses
 * (user_emails, lowercase keys for sign-in and filters) and the lookups the
 * SCIM filter translation uses. Everything is scoped by account: a user of
 * another account is simply not found.
 */
#include <ctype.h>
#include <string.h>

#include "store/internal.h"

static const char *lower(ts_arena_t *a, const char *s)
{
	if (s == NULL)
		return NULL;
	char *out = ts_arena_strdup(a, s);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

void ts__store_user_read(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_user_row *u = row;
	u->user_id = ts__rows_str(c, r, 0, a);
	u->account_id = ts__rows_str(c, r, 1, a);
	u->user_name = ts__rows_str(c, r, 2, a);
	u->external_id = ts__rows_str(c, r, 3, a);
	u->display_name = ts__rows_str(c, r, 4, a);
	u->active = ts__rows_int(c, r, 5) != 0;
	u->resource = ts__rows_str(c, r, 6, a);
	u->version = ts__rows_int(c, r, 7);
	u->created_ms = ts__rows_int(c, r, 8);
	u->modified_ms = ts__rows_int(c, r, 9);
	u->suspended = ts__rows_int(c, r, 10) != 0;
	u->registration_status = ts__rows_str(c, r, 11, a);
	u->license = ts__rows_str(c, r, 12, a);
	u->personal_pin = ts__rows_str(c, r, 13, a);
	u->invited_ms = ts__rows_int(c, r, 14);
	u->joined_ms = ts__rows_int(c, r, 15);
}

/* Reads at most limit rows of an open result into arena memory. */
static ts_err read_users(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, int limit,
                         struct ts_user_row **out, int *n)
{
	size_t cap = 0, count = 0, max = limit > 0 ? (size_t)limit : 0;
	struct ts_user_row *list = NULL;
	while (count < max && ts__rows_next(c, r)) {
		/* cannot fail: the loop stops at max */
		if (TS_ARENA_GROW(a, list, count, &cap, max) != TS_ERR_OK)
			break;
		ts__store_user_read(c, r, a, &list[count++]);
	}
	if (list == NULL)
		list = ts_arena_alloc(a, sizeof *list);
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}

static ts_err write_emails(ts_store_conn_t *c, const struct ts_user_row *u,
                           const struct ts_user_email *emails, int nemails, struct ts_error *e)
{
	ts_arena_t *a = ts_arena_new();
	ts_err rc = TS_ERR_OK;
	const char **keys = ts_arena_alloc(a, sizeof *keys * (size_t)(nemails > 0 ? nemails : 1));
	for (int i = 0; i < nemails && rc == TS_ERR_OK; i++) {
		keys[i] = lower(a, emails[i].value);
		/*
		 * An address the list repeats (in any case) is stored once, the first
		 * time: skipped here, so that the insert is a plain one (PostgreSQL's
		 * ON CONFLICT is a speculative insertion, dearer). The list is capped
		 * (TS_SCIM_MAX_EMAILS).
		 */
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(keys[j], keys[i]) == 0;
		if (seen)
			continue;
		struct ts__param p[] = {
		        TS__TEXT(u->user_id),      TS__TEXT(u->account_id),
		        TS__TEXT(emails[i].value), TS__TEXT(keys[i]),
		        TS__TEXT(emails[i].type),  TS__INT(emails[i].primary ? 1 : 0)};
		rc = ts__store_write(c, TS__Q_SCIM_USER_EMAIL_INSERT, p, TS__NPARAMS(p), NULL, e);
	}
	ts_arena_free(&a);
	return rc;
}

ts_err ts_store_user_insert(ts_store_conn_t *c, const struct ts_user_row *u,
                            const struct ts_user_email *emails, int nemails, struct ts_error *e)
{
	ts_arena_t *a = ts_arena_new();
	struct ts__param p[] = {TS__TEXT(u->user_id),       TS__TEXT(u->account_id),
	                        TS__TEXT(u->user_name),     TS__TEXT(lower(a, u->user_name)),
	                        TS__TEXT(u->external_id),   TS__TEXT(u->display_name),
	                        TS__INT(u->active ? 1 : 0), TS__TEXT(u->resource),
	                        TS__INT(u->version),        TS__INT(u->created_ms),
	                        TS__INT(u->modified_ms)};
	ts_err rc = ts__store_write(c, TS__Q_SCIM_USER_INSERT, p, TS__NPARAMS(p), NULL, e);
	ts_arena_free(&a);
	if (rc == TS_ERR_OK)
		rc = write_emails(c, u, emails, nemails, e);
	return rc;
}

static ts_err user_get(ts_store_conn_t *c, enum ts__store_query q, ts_arena_t *arena,
                       const char *account_id, const char *user_id, struct ts_user_row *out,
                       struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(user_id)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, q, p, 2, ts__store_user_read, arena, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "user %.64s not found", user_id);
	return rc;
}

ts_err ts_store_user_get(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                         const char *user_id, struct ts_user_row *out, struct ts_error *e)
{
	return user_get(c, TS__Q_SCIM_USER_GET, arena, account_id, user_id, out, e);
}

ts_err ts_store_user_get_for_update(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                    const char *user_id, struct ts_user_row *out,
                                    struct ts_error *e)
{
	return user_get(c, TS__Q_SCIM_USER_GET_FOR_UPDATE, arena, account_id, user_id, out, e);
}

ts_err ts_store_user_update(ts_store_conn_t *c, const struct ts_user_row *u,
                            const struct ts_user_email *emails, int nemails, struct ts_error *e)
{
	ts_arena_t *a = ts_arena_new();
	struct ts__param p[] = {TS__TEXT(u->account_id),    TS__TEXT(u->user_id),
	                        TS__TEXT(u->user_name),     TS__TEXT(lower(a, u->user_name)),
	                        TS__TEXT(u->external_id),   TS__TEXT(u->display_name),
	                        TS__INT(u->active ? 1 : 0), TS__TEXT(u->resource),
	                        TS__INT(u->version),        TS__INT(u->modified_ms)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_SCIM_USER_UPDATE, p, TS__NPARAMS(p), &changed, e);
	ts_arena_free(&a);
	if (rc == TS_ERR_OK && changed == 0)
		return TS_FAIL(e, TS_ERR_NOT_FOUND, "user %s not found", u->user_id);
	if (rc == TS_ERR_OK && nemails >= 0) {
		struct ts__param q[] = {TS__TEXT(u->user_id)};
		rc = ts__store_write(c, TS__Q_SCIM_USER_EMAILS_CLEAR, q, TS__NPARAMS(q), NULL, e);
		if (rc == TS_ERR_OK)
			rc = write_emails(c, u, emails, nemails, e);
	}
	return rc;
}

ts_err ts_store_user_delete(ts_store_conn_t *c, const char *account_id, const char *user_id,
                            struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(user_id)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_SCIM_USER_DELETE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "user %.64s not found", user_id);
	return rc;
}

ts_err ts_store_user_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                          int64_t offset, int limit, struct ts_user_row **out, int *n,
                          struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		return TS_ERR_OK;
	struct ts__param p[] = {TS__TEXT(account_id), TS__INT(limit), TS__INT(offset)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SCIM_USER_LIST, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	return read_users(c, r, arena, limit, out, n);
}

static ts_err count_of(ts_store_conn_t *c, enum ts__store_query q, const char *account_id,
                       int64_t *n, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id)};
	struct ts__rows *r = NULL;
	*n = 0;
	ts_err rc = ts__store_exec(c, q, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*n = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts_store_user_count(ts_store_conn_t *c, const char *account_id, int64_t *n,
                           struct ts_error *e)
{
	return count_of(c, TS__Q_SCIM_USER_COUNT, account_id, n, e);
}

ts_err ts_store_user_find(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                          enum ts_store_scim_key key, const char *value, int64_t lo_ms,
                          int64_t hi_ms, int limit, struct ts_user_row **out, int *n,
                          struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		return TS_ERR_OK;
	if (key == TS_STORE_USER_BY_ID) {
		struct ts_user_row *one = ts_arena_alloc(arena, sizeof *one);
		struct ts_error quiet = {0};
		ts_err rc = ts_store_user_get(c, arena, account_id, value, one, &quiet);
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
	case TS_STORE_USER_BY_NAME:
		q = TS__Q_SCIM_USER_BY_NAME_KEY;
		p[1] = TS__TEXT(lower(arena, value));
		break;
	case TS_STORE_USER_BY_EXTERNAL:
		q = TS__Q_SCIM_USER_BY_EXTERNAL_ID;
		p[1] = TS__TEXT(value);
		break;
	case TS_STORE_USER_BY_EMAIL:
		q = TS__Q_SCIM_USER_BY_EMAIL;
		p[1] = TS__TEXT(lower(arena, value));
		break;
	case TS_STORE_USER_IN_GROUP:
		q = TS__Q_SCIM_USER_IN_GROUP;
		p[1] = TS__TEXT(value);
		break;
	case TS_STORE_USER_MODIFIED:
		q = TS__Q_SCIM_USER_MODIFIED;
		p[1] = TS__INT(lo_ms);
		p[2] = TS__INT(hi_ms);
		np = 4;
		break;
	default:
		return TS_FAIL(e, TS_ERR_INTERNAL, "not a user lookup");
	}
	p[np - 1] = TS__INT(limit);
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	return read_users(c, r, arena, limit, out, n);
}

ts_err ts_store_user_groups(ts_store_conn_t *c, ts_arena_t *arena, const char *user_id,
                            struct ts_group_member **out, int *n, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(user_id)};
	struct ts__rows *r = NULL;
	*out = NULL;
	*n = 0;
	ts_err rc = ts__store_exec(c, TS__Q_SCIM_USER_GROUPS, p, TS__NPARAMS(p), &r, e);
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
		list[count].display = ts__rows_str(c, r, 1, arena);
		count++;
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}

ts_err ts_store_users_existing(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                               const char *ids_json, const char ***out, int *n, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(ids_json)};
	struct ts__rows *r = NULL;
	*out = NULL;
	*n = 0;
	ts_err rc = ts__store_exec(c, TS__Q_SCIM_USERS_EXISTING, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t cap = 0, count = 0;
	const char **list = NULL;
	while (ts__rows_next(c, r)) {
		if (TS_ARENA_GROW(arena, list, count, &cap, TS__STORE_ROWS_MAX) != TS_ERR_OK) {
			ts__rows_close(c, &r);
			return TS_FAIL(e, TS_ERR_TOO_LARGE, "more than %zu rows",
			               TS__STORE_ROWS_MAX);
		}
		list[count++] = ts__rows_str(c, r, 0, arena);
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}
