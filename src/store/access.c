/*
 * Access after sign-in in the store (store/access.h, docs/access.md):
 * targets, permission sets, assignments and the entitlements a user holds
 * through them. Writes of more than one statement (a delete with its
 * assignments, an assignment with the checks of what it names) run in c's
 * transaction when one is open, else in one of their own; reads run in c's
 * transaction or as single statements.
 */
#include "store/access.h"

#include <string.h>

#include "store/internal.h"

/* ---- rows ---- */

static void read_target_at(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, int col,
                           struct ts_target *t)
{
	t->target_id = ts__rows_str(c, r, col + 0, a);
	t->account_id = ts__rows_str(c, r, col + 1, a);
	t->name = ts__rows_str(c, r, col + 2, a);
	t->kind = ts__rows_str(c, r, col + 3, a);
	t->url = ts__rows_str(c, r, col + 4, a);
	t->created_ms = ts__rows_int(c, r, col + 5);
	t->modified_ms = ts__rows_int(c, r, col + 6);
}

static void read_pset_at(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, int col,
                         struct ts_permission_set *p)
{
	p->permission_set_id = ts__rows_str(c, r, col + 0, a);
	p->account_id = ts__rows_str(c, r, col + 1, a);
	p->name = ts__rows_str(c, r, col + 2, a);
	p->policies_json = ts__rows_str(c, r, col + 3, a);
	p->session_duration_s = ts__rows_int(c, r, col + 4);
	p->created_ms = ts__rows_int(c, r, col + 5);
	p->modified_ms = ts__rows_int(c, r, col + 6);
}

/* the number of columns of a target in TS__ENTITLEMENT_COLS */
#define TARGET_NCOLS 7

static void read_target(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	read_target_at(c, r, a, 0, row);
}

static void read_pset(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	read_pset_at(c, r, a, 0, row);
}

static void read_assignment(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_assignment *as = row;
	as->assignment_id = ts__rows_str(c, r, 0, a);
	as->account_id = ts__rows_str(c, r, 1, a);
	as->principal_type = ts__rows_str(c, r, 2, a);
	as->principal_id = ts__rows_str(c, r, 3, a);
	as->target_id = ts__rows_str(c, r, 4, a);
	as->permission_set_id = ts__rows_str(c, r, 5, a);
	as->created_ms = ts__rows_int(c, r, 6);
}

static void read_entitlement(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_entitlement *en = row;
	read_target_at(c, r, a, 0, &en->target);
	read_pset_at(c, r, a, TARGET_NCOLS, &en->permission_set);
}

/*
 * Reads up to limit rows of r (closed here) into an arena array of rows of
 * size bytes each, read by fn.
 */
static ts_err read_page(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, size_t size,
                        int limit, ts__row_read_fn fn, void **out, int *n)
{
	char *list = ts_arena_alloc(a, size * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r)) {
		memset(list + size * (size_t)count, 0, size);
		fn(c, r, a, list + size * (size_t)count);
		count++;
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

static int page_limit(int limit)
{
	return limit <= 0 || limit > TS_STORE_PAGE_MAX ? TS_STORE_PAGE_MAX : limit;
}

static ts_err list_query(ts_store_conn_t *c, ts_arena_t *a, enum ts__store_query q,
                         const struct ts__param *p, int np, size_t size, int limit,
                         ts__row_read_fn fn, void **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	return read_page(c, r, a, size, limit, fn, out, n);
}

static ts_err get_or_missing(ts_store_conn_t *c, enum ts__store_query q, const char *account_id,
                             const char *id, ts__row_read_fn fn, ts_arena_t *a, void *out,
                             const char *what, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(id)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, q, p, 2, fn, a, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "%s %s not found", what, id ? id : "");
	return rc;
}

/* Whether a count(*) query of (account, id) finds the row. */
static ts_err exists(ts_store_conn_t *c, enum ts__store_query q, const char *account_id,
                     const char *id, bool *found, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(id)};
	int64_t n = 0;
	ts_err rc = ts__store_get_int(c, q, p, 2, &n, e);
	*found = rc == TS_ERR_OK && n > 0;
	return rc;
}

/* A row and its assignments (a target or a permission set), in one transaction. */
struct delete_with {
	enum ts__store_query assignments, row;
	const char *account_id, *id, *what;
	int64_t *assignments_deleted;
};

static ts_err delete_with(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct delete_with *d = ctx;
	struct ts__param p[] = {TS__TEXT(d->account_id), TS__TEXT(d->id)};
	int64_t gone = 0, changed = 0;
	ts_err rc = ts__store_write(c, d->assignments, p, 2, &gone, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, d->row, p, 2, &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "%s %s not found", d->what, d->id);
	if (rc == TS_ERR_OK && d->assignments_deleted != NULL)
		*d->assignments_deleted = gone;
	return rc;
}

static ts_err update_or_missing(ts_store_conn_t *c, enum ts__store_query q,
                                const struct ts__param *p, int np, const char *what, const char *id,
                                struct ts_error *e)
{
	int64_t changed = 0;
	ts_err rc = ts__store_write_one(c, q, p, np, &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "%s %s not found", what, id);
	return rc;
}

/* ---- targets ---- */

ts_err ts_store_target_insert(ts_store_conn_t *c, const struct ts_target *t, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(t->target_id), TS__TEXT(t->account_id),
	                        TS__TEXT(t->name),      TS__TEXT(t->kind),
	                        TS__TEXT(t->url),       TS__INT(t->created_ms),
	                        TS__INT(t->modified_ms)};
	ts_err rc = ts__store_write_one(c, TS__Q_TARGET_INSERT, p, TS__NPARAMS(p), NULL, e);
	if (rc == TS_ERR_CONFLICT)
		rc = TS_FAIL(e, TS_ERR_CONFLICT, "the account already has a target named %s",
		             t->name);
	return rc;
}

ts_err ts_store_target_get(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                           const char *target_id, struct ts_target *out, struct ts_error *e)
{
	*out = (struct ts_target){0};
	return get_or_missing(c, TS__Q_TARGET_GET, account_id, target_id, read_target, a, out,
	                      "target", e);
}

ts_err ts_store_target_update(ts_store_conn_t *c, const struct ts_target *t, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(t->account_id), TS__TEXT(t->target_id),
	                        TS__TEXT(t->name),       TS__TEXT(t->kind),
	                        TS__TEXT(t->url),        TS__INT(t->modified_ms)};
	ts_err rc = update_or_missing(c, TS__Q_TARGET_UPDATE, p, TS__NPARAMS(p), "target",
	                              t->target_id, e);
	if (rc == TS_ERR_CONFLICT)
		rc = TS_FAIL(e, TS_ERR_CONFLICT, "the account already has a target named %s",
		             t->name);
	return rc;
}

ts_err ts_store_target_delete(ts_store_conn_t *c, const char *account_id, const char *target_id,
                              int64_t *assignments, struct ts_error *e)
{
	if (assignments != NULL)
		*assignments = 0;
	struct delete_with d = {TS__Q_TARGET_ASSIGNMENTS_DELETE,
	                        TS__Q_TARGET_DELETE,
	                        account_id,
	                        target_id,
	                        "target",
	                        assignments};
	return ts__store_in_write(c, delete_with, &d, e);
}

ts_err ts_store_target_list(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                            const char *after, int limit, struct ts_target **out, int *n,
                            struct ts_error *e)
{
	limit = page_limit(limit);
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(after ? after : ""), TS__INT(limit)};
	return list_query(c, a, TS__Q_TARGET_LIST, p, TS__NPARAMS(p), sizeof **out, limit,
	                  read_target, (void **)out, n, e);
}

/* ---- permission sets ---- */

ts_err ts_store_permission_set_insert(ts_store_conn_t *c, const struct ts_permission_set *ps,
                                      struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(ps->permission_set_id),
	                        TS__TEXT(ps->account_id),
	                        TS__TEXT(ps->name),
	                        TS__TEXT(ps->policies_json),
	                        TS__INT(ps->session_duration_s),
	                        TS__INT(ps->created_ms),
	                        TS__INT(ps->modified_ms)};
	ts_err rc = ts__store_write_one(c, TS__Q_PSET_INSERT, p, TS__NPARAMS(p), NULL, e);
	if (rc == TS_ERR_CONFLICT)
		rc = TS_FAIL(e, TS_ERR_CONFLICT,
		             "the account already has a permission set named %s", ps->name);
	return rc;
}

ts_err ts_store_permission_set_get(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                   const char *permission_set_id, struct ts_permission_set *out,
                                   struct ts_error *e)
{
	*out = (struct ts_permission_set){0};
	return get_or_missing(c, TS__Q_PSET_GET, account_id, permission_set_id, read_pset, a, out,
	                      "permission set", e);
}

ts_err ts_store_permission_set_update(ts_store_conn_t *c, const struct ts_permission_set *ps,
                                      struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(ps->account_id),
	                        TS__TEXT(ps->permission_set_id),
	                        TS__TEXT(ps->name),
	                        TS__TEXT(ps->policies_json),
	                        TS__INT(ps->session_duration_s),
	                        TS__INT(ps->modified_ms)};
	ts_err rc = update_or_missing(c, TS__Q_PSET_UPDATE, p, TS__NPARAMS(p), "permission set",
	                              ps->permission_set_id, e);
	if (rc == TS_ERR_CONFLICT)
		rc = TS_FAIL(e, TS_ERR_CONFLICT,
		             "the account already has a permission set named %s", ps->name);
	return rc;
}

ts_err ts_store_permission_set_delete(ts_store_conn_t *c, const char *account_id,
                                      const char *permission_set_id, int64_t *assignments,
                                      struct ts_error *e)
{
	if (assignments != NULL)
		*assignments = 0;
	struct delete_with d = {TS__Q_PSET_ASSIGNMENTS_DELETE,
	                        TS__Q_PSET_DELETE,
	                        account_id,
	                        permission_set_id,
	                        "permission set",
	                        assignments};
	return ts__store_in_write(c, delete_with, &d, e);
}

ts_err ts_store_permission_set_list(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                    const char *after, int limit, struct ts_permission_set **out,
                                    int *n, struct ts_error *e)
{
	limit = page_limit(limit);
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(after ? after : ""), TS__INT(limit)};
	return list_query(c, a, TS__Q_PSET_LIST, p, TS__NPARAMS(p), sizeof **out, limit, read_pset,
	                  (void **)out, n, e);
}

/* ---- assignments ---- */

/* What an assignment names is the account's: another tenant's id is not found. */
static ts_err check_refs(ts_store_conn_t *c, const struct ts_assignment *as, bool user,
                         struct ts_error *e)
{
	bool found = false;
	ts_err rc = exists(c, TS__Q_ACCESS_TARGET_EXISTS, as->account_id, as->target_id, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "target %s not found", as->target_id);
	if (rc == TS_ERR_OK)
		rc = exists(c, TS__Q_ACCESS_PSET_EXISTS, as->account_id, as->permission_set_id,
		            &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "permission set %s not found",
		             as->permission_set_id);
	if (rc == TS_ERR_OK)
		rc = exists(c, user ? TS__Q_ACCESS_USER_EXISTS : TS__Q_ACCESS_GROUP_EXISTS,
		            as->account_id, as->principal_id, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "%s %s not found", user ? "user" : "group",
		             as->principal_id);
	return rc;
}

static ts_err assignment_conflict(const struct ts_assignment *as, struct ts_error *e)
{
	return TS_FAIL(e, TS_ERR_CONFLICT, "%s %s already has permission set %s on target %s",
	               as->principal_type, as->principal_id, as->permission_set_id, as->target_id);
}

static ts_err assignment_insert(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	const struct ts_assignment *as = ctx;
	bool user = strcmp(as->principal_type, TS_ACCESS_PRINCIPAL_USER) == 0;
	ts_err rc = check_refs(c, as, user, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts__param p[] = {TS__TEXT(as->assignment_id),
	                        TS__TEXT(as->account_id),
	                        TS__TEXT(as->principal_type),
	                        TS__TEXT(as->principal_id),
	                        TS__TEXT(as->target_id),
	                        TS__TEXT(as->permission_set_id),
	                        TS__INT(as->created_ms),
	                        TS__TEXT(user ? as->principal_id : NULL),
	                        TS__TEXT(user ? NULL : as->principal_id)};
	rc = ts__store_write(c, TS__Q_ASSIGNMENT_INSERT, p, TS__NPARAMS(p), NULL, e);
	return rc == TS_ERR_CONFLICT ? assignment_conflict(as, e) : rc;
}

static ts_err assignment_update(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	const struct ts_assignment *as = ctx;
	bool user = strcmp(as->principal_type, TS_ACCESS_PRINCIPAL_USER) == 0;
	ts_err rc = check_refs(c, as, user, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts__param p[] = {TS__TEXT(as->account_id),
	                        TS__TEXT(as->assignment_id),
	                        TS__TEXT(as->principal_type),
	                        TS__TEXT(as->principal_id),
	                        TS__TEXT(as->target_id),
	                        TS__TEXT(as->permission_set_id),
	                        TS__TEXT(user ? as->principal_id : NULL),
	                        TS__TEXT(user ? NULL : as->principal_id)};
	int64_t changed = 0;
	rc = ts__store_write(c, TS__Q_ASSIGNMENT_UPDATE, p, TS__NPARAMS(p), &changed, e);
	if (rc == TS_ERR_CONFLICT)
		return assignment_conflict(as, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "assignment %s not found", as->assignment_id);
	return rc;
}

static ts_err assignment_check(const struct ts_assignment *as, struct ts_error *e)
{
	if (as->principal_type == NULL ||
	    (strcmp(as->principal_type, TS_ACCESS_PRINCIPAL_USER) != 0 &&
	     strcmp(as->principal_type, TS_ACCESS_PRINCIPAL_GROUP) != 0))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "PrincipalType must be USER or GROUP");
	if (as->principal_id == NULL || as->target_id == NULL || as->permission_set_id == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "an assignment needs a principal, a target and a permission set");
	return TS_ERR_OK;
}

ts_err ts_store_assignment_insert(ts_store_conn_t *c, const struct ts_assignment *as,
                                  struct ts_error *e)
{
	ts_err rc = assignment_check(as, e);
	return rc != TS_ERR_OK ? rc : ts__store_in_write(c, assignment_insert, (void *)as, e);
}

ts_err ts_store_assignment_update(ts_store_conn_t *c, const struct ts_assignment *as,
                                  struct ts_error *e)
{
	ts_err rc = assignment_check(as, e);
	return rc != TS_ERR_OK ? rc : ts__store_in_write(c, assignment_update, (void *)as, e);
}

ts_err ts_store_assignment_get(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                               const char *assignment_id, struct ts_assignment *out,
                               struct ts_error *e)
{
	*out = (struct ts_assignment){0};
	return get_or_missing(c, TS__Q_ASSIGNMENT_GET, account_id, assignment_id, read_assignment,
	                      a, out, "assignment", e);
}

ts_err ts_store_assignment_delete(ts_store_conn_t *c, const char *account_id,
                                  const char *assignment_id, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(assignment_id)};
	return update_or_missing(c, TS__Q_ASSIGNMENT_DELETE, p, 2, "assignment", assignment_id, e);
}

ts_err ts_store_assignment_list(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                const char *target_id, const char *principal_id, const char *after,
                                int limit, struct ts_assignment **out, int *n, struct ts_error *e)
{
	limit = page_limit(limit);
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(after ? after : ""),
	                        TS__TEXT(target_id ? target_id : ""),
	                        TS__TEXT(principal_id ? principal_id : ""), TS__INT(limit)};
	return list_query(c, a, TS__Q_ASSIGNMENT_LIST, p, TS__NPARAMS(p), sizeof **out, limit,
	                  read_assignment, (void **)out, n, e);
}

/* ---- entitlements ---- */

ts_err ts_store_access_entitlements(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                    const char *user_id, struct ts_entitlement **out, size_t *n,
                                    struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(user_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_ACCESS_ENTITLEMENTS, p, 2, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* what an account's administrators assigned: no page, the array grows */
	size_t cap = 0, count = 0;
	struct ts_entitlement *list = NULL;
	while (ts__rows_next(c, r)) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct ts_entitlement *grown = ts_arena_alloc(a, sizeof *grown * ncap);
			if (count > 0)
				memcpy(grown, list, sizeof *grown * count);
			list = grown;
			cap = ncap;
		}
		list[count] = (struct ts_entitlement){0};
		read_entitlement(c, r, a, &list[count]);
		count++;
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_access_entitled(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                const char *user_id, const char *target_id,
                                const char *permission_set_id, struct ts_entitlement *out,
                                struct ts_error *e)
{
	*out = (struct ts_entitlement){0};
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(user_id), TS__TEXT(target_id),
	                        TS__TEXT(permission_set_id)};
	bool found = false;
	ts_err rc = ts__store_get_one(c, TS__Q_ACCESS_ENTITLED, p, TS__NPARAMS(p), read_entitlement,
	                              a, out, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "user %s holds no permission set %s on target %s",
		             user_id, permission_set_id, target_id);
	return rc;
}
