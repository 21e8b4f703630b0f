/*
 * Sign-in attempts for the sign-in check (store/signins.h).
 */
#include "store/signins.h"

#include <string.h>

#include "store/internal.h"

static bool text_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max;
}

static ts_err insert_trim(ts_store_conn_t *c, const struct ts_signin_attempt *at,
                          struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(at->account_id), TS__TEXT(at->user_id),
	                        TS__TEXT(at->identity),   TS__INT(at->time_ms),
	                        TS__TEXT(at->outcome),    TS__TEXT(at->check_name),
	                        TS__TEXT(at->source)};
	ts_err rc = ts__store_write(c, TS__Q_SIGNIN_INSERT, p, TS__NPARAMS(p), NULL, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the group: the user matched, else the identity among attempts that matched nobody */
	bool by_user = at->user_id != NULL;
	struct ts__param t[] = {TS__TEXT(at->account_id),
	                        TS__TEXT(by_user ? at->user_id : at->identity),
	                        TS__INT(TS_STORE_SIGNIN_KEEP)};
	return ts__store_write(c, by_user ? TS__Q_SIGNIN_TRIM_USER : TS__Q_SIGNIN_TRIM_IDENTITY, t,
	                       TS__NPARAMS(t), NULL, e);
}

ts_err ts_store_signin_attempt_insert(ts_store_conn_t *c, const struct ts_signin_attempt *at,
                                      struct ts_error *e)
{
	if (at->outcome == NULL ||
	    (strcmp(at->outcome, "Allowed") != 0 && strcmp(at->outcome, "Refused") != 0))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a sign-in attempt is Allowed or Refused");
	if (!text_ok(at->account_id, TS_STORE_SIGNIN_IDENTITY_MAX) ||
	    !text_ok(at->identity, TS_STORE_SIGNIN_IDENTITY_MAX) ||
	    !text_ok(at->source, TS_STORE_SIGNIN_FIELD_MAX) ||
	    (at->check_name != NULL && !text_ok(at->check_name, TS_STORE_SIGNIN_FIELD_MAX)))
		return TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "a sign-in attempt needs an account, an identity of at most %d bytes "
		        "and a source; source and check name are at most %d bytes",
		        TS_STORE_SIGNIN_IDENTITY_MAX, TS_STORE_SIGNIN_FIELD_MAX);
	if (c->in_tx)
		return insert_trim(c, at, e);
	ts_err rc = ts_store_begin(c, true, e);
	if (rc == TS_ERR_OK)
		rc = insert_trim(c, at, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}

ts_err ts_store_signin_attempts(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                const char *user_id, const char *identity, int limit,
                                struct ts_signin_attempt **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (user_id == NULL && identity == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "sign-in attempts of whom: no user, no identity");
	if (limit < 1 || limit > TS_STORE_PAGE_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a limit is 1 to %d", TS_STORE_PAGE_MAX);
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(user_id), TS__TEXT(identity),
	                        TS__INT(limit)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SIGNIN_LIST, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_signin_attempt *list = ts_arena_alloc(a, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r)) {
		struct ts_signin_attempt *at = &list[count++];
		at->account_id = ts__rows_str(c, r, 0, a);
		at->user_id = ts__rows_str(c, r, 1, a);
		at->identity = ts__rows_str(c, r, 2, a);
		at->time_ms = ts__rows_int(c, r, 3);
		at->outcome = ts__rows_str(c, r, 4, a);
		at->check_name = ts__rows_str(c, r, 5, a);
		at->source = ts__rows_str(c, r, 6, a);
	}
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}
