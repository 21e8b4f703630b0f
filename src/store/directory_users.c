/*
 * Users as the directory's administration reads them (with their addresses
 * and groups), and the writes that belong to the admin API: invitations into
 * Team accounts, suspension, licences set by hand, personal PINs, removal.
 * SCIM writes the same rows through its own functions.
 */
#include <string.h>

#include "store/internal.h"

static ts_err read_users(ts_store_conn_t *c, ts_arena_t *arena, enum ts__store_query q,
                         const struct ts__param *p, int np, int limit, struct ts_user_row **out,
                         int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* grown as rows come: a sign-in's match finds one user, not the page's limit */
	struct ts_user_row *list = NULL;
	size_t count = 0, cap = 0;
	while (count < (size_t)limit && ts__rows_next(c, r)) {
		if (TS_ARENA_GROW(arena, list, count, &cap, (size_t)limit) != TS_ERR_OK)
			break; /* not reached: count stays below limit */
		ts__store_user_read(c, r, arena, &list[count++]);
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}

ts_err ts_store_dir_user_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                              const char *email_key, const char *after, int limit,
                              struct ts_user_row **out, int *n, struct ts_error *e)
{
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	if (email_key != NULL) {
		struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(after ? after : ""),
		                        TS__TEXT(email_key), TS__INT(limit)};
		return read_users(c, arena, TS__Q_DIR_USER_LIST_BY_EMAIL, p, TS__NPARAMS(p), limit,
		                  out, n, e);
	}
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(after ? after : ""), TS__INT(limit)};
	return read_users(c, arena, TS__Q_DIR_USER_LIST, p, TS__NPARAMS(p), limit, out, n, e);
}

ts_err ts_store_dir_user_match(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                               const char *key, int limit, struct ts_user_row **out, int *n,
                               struct ts_error *e)
{
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(key), TS__INT(limit)};
	return read_users(c, arena, TS__Q_DIR_USER_MATCH, p, TS__NPARAMS(p), limit, out, n, e);
}

ts_err ts_store_dir_user_emails(ts_store_conn_t *c, ts_arena_t *arena, const char *user_id,
                                struct ts_user_email **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__param p[] = {TS__TEXT(user_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_USER_EMAILS, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t cap = 0, count = 0;
	struct ts_user_email *list = NULL;
	while (count < TS_STORE_PAGE_MAX && ts__rows_next(c, r)) {
		/* cannot fail: the loop stops at TS_STORE_PAGE_MAX */
		if (TS_ARENA_GROW(arena, list, count, &cap, TS_STORE_PAGE_MAX) != TS_ERR_OK)
			break;
		struct ts_user_email *m = &list[count++];
		m->value = ts__rows_str(c, r, 0, arena);
		m->type = ts__rows_str(c, r, 1, arena);
		m->primary = ts__rows_int(c, r, 2) != 0;
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}

ts_err ts_store_dir_user_groups(ts_store_conn_t *c, ts_arena_t *arena, const char *user_id,
                                struct ts_dir_user_group **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__param p[] = {TS__TEXT(user_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_USER_GROUPS, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t cap = 0, count = 0;
	struct ts_dir_user_group *list = NULL;
	while (count < TS_STORE_PAGE_MAX && ts__rows_next(c, r)) {
		/* cannot fail: the loop stops at TS_STORE_PAGE_MAX */
		if (TS_ARENA_GROW(arena, list, count, &cap, TS_STORE_PAGE_MAX) != TS_ERR_OK)
			break;
		struct ts_dir_user_group *g = &list[count++];
		g->group_id = ts__rows_str(c, r, 0, arena);
		g->name = ts__rows_str(c, r, 1, arena);
		g->license = ts__rows_str(c, r, 2, arena);
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = (int)count;
	return TS_ERR_OK;
}

ts_err ts_store_dir_users_on_domain(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                    const char *domain, const char ***user_ids, bool **suspended,
                                    int *n, struct ts_error *e)
{
	*user_ids = NULL;
	*suspended = NULL;
	*n = 0;
	/* domain names are validated to letters, digits, '-' and '.': no LIKE wildcard in them */
	const char *pattern = ts_arena_printf(arena, "%%@%s", domain);
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(pattern)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_USERS_BY_PRIMARY_DOMAIN, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t icap = 0, scap = 0, count = 0;
	const char **ids = NULL;
	bool *susp = NULL;
	while (ts__rows_next(c, r)) {
		if (TS_ARENA_GROW(arena, ids, count, &icap, TS__STORE_ROWS_MAX) != TS_ERR_OK ||
		    TS_ARENA_GROW(arena, susp, count, &scap, TS__STORE_ROWS_MAX) != TS_ERR_OK) {
			ts__rows_close(c, &r);
			return TS_FAIL(e, TS_ERR_TOO_LARGE, "more than %zu rows",
			               TS__STORE_ROWS_MAX);
		}
		ids[count] = ts__rows_str(c, r, 0, arena);
		susp[count] = ts__rows_int(c, r, 1) != 0;
		count++;
	}
	ts__rows_close(c, &r);
	*user_ids = ids;
	*suspended = susp;
	*n = (int)count;
	return TS_ERR_OK;
}

static ts_err exists(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p, int np,
                     bool *found, struct ts_error *e)
{
	*found = false;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc == TS_ERR_OK)
		*found = ts__rows_next(c, r);
	ts__rows_close(c, &r);
	return rc;
}

ts_err ts_store_dir_pin_taken(ts_store_conn_t *c, const char *pin, bool *taken, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(pin)};
	return exists(c, TS__Q_DIR_PIN_TAKEN, p, 1, taken, e);
}

ts_err ts_store_dir_address_taken(ts_store_conn_t *c, const char *account_id, const char *key,
                                  bool *taken, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(key)};
	return exists(c, TS__Q_DIR_ADDRESS_TAKEN, p, 2, taken, e);
}

ts_err ts_store_dir_api_key_count(ts_store_conn_t *c, const char *account_id, int64_t *n,
                                  struct ts_error *e)
{
	*n = 0;
	struct ts__param p[] = {TS__TEXT(account_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_DIR_ACCOUNT_API_KEYS, p, TS__NPARAMS(p), &r, e);
	if (rc == TS_ERR_OK && ts__rows_next(c, r))
		*n = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return rc;
}

ts_err ts_store_dir_user_insert(ts_store_conn_t *c, const struct ts_user_row *u,
                                const char *primary_email, struct ts_error *e)
{
	char *key = NULL;
	ts_arena_t *a = ts_arena_new();
	/* user_name_key and value_key: the lowercase forms the unique indexes work on */
	key = ts_arena_strdup(a, u->user_name);
	for (char *k = key; *k; k++)
		if (*k >= 'A' && *k <= 'Z')
			*k = (char)(*k - 'A' + 'a');
	struct ts__param p[] = {TS__TEXT(u->user_id),
	                        TS__TEXT(u->account_id),
	                        TS__TEXT(u->user_name),
	                        TS__TEXT(key),
	                        TS__TEXT(u->display_name),
	                        TS__TEXT(u->registration_status),
	                        TS__TEXT(u->license),
	                        TS__TEXT(u->personal_pin),
	                        u->invited_ms ? TS__INT(u->invited_ms) : TS__TEXT(NULL),
	                        TS__INT(u->created_ms)};
	ts_err rc = ts__store_write(c, TS__Q_DIR_USER_INSERT, p, TS__NPARAMS(p), NULL, e);
	if (rc == TS_ERR_OK && primary_email != NULL) {
		char *vkey = ts_arena_strdup(a, primary_email);
		for (char *k = vkey; *k; k++)
			if (*k >= 'A' && *k <= 'Z')
				*k = (char)(*k - 'A' + 'a');
		struct ts__param q[] = {TS__TEXT(u->user_id),    TS__TEXT(u->account_id),
		                        TS__TEXT(primary_email), TS__TEXT(vkey),
		                        TS__TEXT("work"),        TS__INT(1)};
		rc = ts__store_write(c, TS__Q_DIR_EMAIL_INSERT, q, TS__NPARAMS(q), NULL, e);
	}
	ts_arena_free(&a);
	return rc;
}

static ts_err write_one(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p,
                        int np, const char *user_id, struct ts_error *e)
{
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, q, p, np, &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "user %.64s not found", user_id);
	return rc;
}

ts_err ts_store_dir_user_set_state(ts_store_conn_t *c, const char *user_id, bool suspended,
                                   const char *registration_status, int64_t now_ms,
                                   struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(user_id), TS__INT(suspended ? 1 : 0),
	                        TS__TEXT(registration_status), TS__INT(now_ms)};
	return write_one(c, TS__Q_DIR_USER_SET_STATE, p, TS__NPARAMS(p), user_id, e);
}

ts_err ts_store_dir_user_set_license(ts_store_conn_t *c, const char *user_id, const char *license,
                                     int64_t now_ms, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(user_id), TS__TEXT(license), TS__INT(now_ms)};
	return write_one(c, TS__Q_DIR_USER_SET_LICENSE, p, TS__NPARAMS(p), user_id, e);
}

ts_err ts_store_dir_user_set_pin(ts_store_conn_t *c, const char *user_id, const char *pin,
                                 int64_t now_ms, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(user_id), TS__TEXT(pin), TS__INT(now_ms)};
	return write_one(c, TS__Q_DIR_USER_SET_PIN, p, TS__NPARAMS(p), user_id, e);
}

ts_err ts_store_dir_user_register(ts_store_conn_t *c, const char *user_id, const char *pin,
                                  int64_t now_ms, int64_t *changed, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(user_id), TS__TEXT(pin), TS__INT(now_ms)};
	return ts__store_write(c, TS__Q_DIR_USER_REGISTER, p, TS__NPARAMS(p), changed, e);
}

ts_err ts_store_dir_user_delete(ts_store_conn_t *c, const char *user_id, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(user_id)};
	return write_one(c, TS__Q_DIR_USER_DELETE, p, TS__NPARAMS(p), user_id, e);
}
