/*
 * What Tessera's authorization server keeps in the store (store/oauth.h,
 * docs/oauth.md). Every write runs in c's transaction when one is open, else
 * in one of its own; the reads run in c's transaction or as single
 * statements.
 */
#include "store/oauth.h"

#include <string.h>

#include "store/internal.h"

static bool field_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max;
}

static bool text_ok(const char *s, size_t max)
{
	return s == NULL || strlen(s) <= max;
}

/* ---- device flows ---- */

static void read_device(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_oauth_device *d = out;
	d->device_hash = ts__rows_str(c, r, 0, a);
	d->user_code = ts__rows_str(c, r, 1, a);
	d->account_id = ts__rows_str(c, r, 2, a);
	d->client_id = ts__rows_str(c, r, 3, a);
	d->scope = ts__rows_str(c, r, 4, a);
	d->client_info = ts__rows_str(c, r, 5, a);
	d->created_ms = ts__rows_int(c, r, 6);
	d->expires_ms = ts__rows_int(c, r, 7);
	d->interval_s = ts__rows_int(c, r, 8);
	d->last_poll_ms = ts__rows_int(c, r, 9);
	d->poll_slow = ts__rows_int(c, r, 10) != 0;
	d->wrong_entries = ts__rows_int(c, r, 11);
	d->status = ts__rows_str(c, r, 12, a);
	d->user_id = ts__rows_str(c, r, 13, a);
	d->session_id = ts__rows_str(c, r, 14, a);
	d->decided_ms = ts__rows_int(c, r, 15);
}

ts_err ts_store_oauth_device_insert(ts_store_conn_t *c, const struct ts_store_oauth_device *d,
                                    struct ts_error *e)
{
	if (!field_ok(d->device_hash, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(d->user_code, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(d->account_id, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(d->client_id, TS_STORE_OAUTH_FIELD_MAX) ||
	    !text_ok(d->scope, TS_STORE_OAUTH_TEXT_MAX) ||
	    !text_ok(d->client_info, TS_STORE_OAUTH_TEXT_MAX) || d->interval_s < 1)
		return TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "a device flow needs a hash, a user code, an account and a client of "
		        "1 to %d bytes, texts of at most %d and an interval",
		        TS_STORE_OAUTH_FIELD_MAX, TS_STORE_OAUTH_TEXT_MAX);
	struct ts__param p[] = {TS__TEXT(d->device_hash), TS__TEXT(d->user_code),
	                        TS__TEXT(d->account_id),  TS__TEXT(d->client_id),
	                        TS__TEXT(d->scope),       TS__TEXT(d->client_info),
	                        TS__INT(d->created_ms),   TS__INT(d->expires_ms),
	                        TS__INT(d->interval_s),   TS__INT(d->last_poll_ms)};
	return ts__store_write_one(c, TS__Q_OAUTH_DEVICE_INSERT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_oauth_device_poll(ts_store_conn_t *c, ts_arena_t *a, const char *device_hash,
                                  int64_t now_ms, int64_t raise_s,
                                  struct ts_store_oauth_device *out, bool *found,
                                  struct ts_error *e)
{
	*out = (struct ts_store_oauth_device){0};
	*found = false;
	if (!field_ok(device_hash, TS_STORE_OAUTH_FIELD_MAX)) /* never stored */
		return TS_ERR_OK;
	struct ts__param p[] = {TS__TEXT(device_hash), TS__INT(now_ms), TS__INT(raise_s)};
	return ts__store_get_one_alone(c, TS__Q_OAUTH_DEVICE_POLL, p, TS__NPARAMS(p), read_device,
	                               a, out, found, true, e);
}

/* A row of OAUTH_USER_STANDING: the user's columns, then the account's (a ts__row_read_fn). */
static void read_standing(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row)
{
	struct ts_store_oauth_standing *st = row;
	ts__store_user_read(c, r, a, &st->user);
	st->account_status = ts__rows_str(c, r, TS__USER_NCOLS, a);
	st->api_keys = ts__rows_int(c, r, TS__USER_NCOLS + 1);
	st->saml_sources = ts__rows_int(c, r, TS__USER_NCOLS + 2);
}

ts_err ts_store_oauth_user_standing(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                    const char *user_id, struct ts_store_oauth_standing *out,
                                    bool *found, struct ts_error *e)
{
	*out = (struct ts_store_oauth_standing){0};
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(user_id)};
	return ts__store_get_one(c, TS__Q_OAUTH_USER_STANDING, p, TS__NPARAMS(p), read_standing, a,
	                         out, found, e);
}

ts_err ts_store_oauth_device_by_code(ts_store_conn_t *c, ts_arena_t *a, const char *user_code,
                                     struct ts_store_oauth_device *out, bool *found,
                                     struct ts_error *e)
{
	*out = (struct ts_store_oauth_device){0};
	*found = false;
	if (!field_ok(user_code, TS_STORE_OAUTH_FIELD_MAX))
		return TS_ERR_OK;
	struct ts__param p[] = {TS__TEXT(user_code)};
	return ts__store_get_one(c, TS__Q_OAUTH_DEVICE_BY_CODE, p, 1, read_device, a, out, found,
	                         e);
}

ts_err ts_store_oauth_device_decide(ts_store_conn_t *c, const char *user_code, const char *status,
                                    const char *user_id, const char *session_id, int64_t now_ms,
                                    int64_t *changed, struct ts_error *e)
{
	*changed = 0;
	if (status == NULL || (strcmp(status, TS_STORE_OAUTH_APPROVED) != 0 &&
	                       strcmp(status, TS_STORE_OAUTH_DENIED) != 0))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a device flow is approved or denied");
	struct ts__param p[] = {TS__TEXT(user_code), TS__TEXT(status), TS__TEXT(user_id),
	                        TS__TEXT(session_id), TS__INT(now_ms)};
	return ts__store_write_one(c, TS__Q_OAUTH_DEVICE_DECIDE, p, TS__NPARAMS(p), changed, e);
}

struct device_wrong {
	const char *code;
	int64_t kill_at;
	int64_t *wrong;
};

static ts_err device_wrong(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct device_wrong *t = ctx;
	struct ts__param p[] = {TS__TEXT(t->code), TS__INT(t->kill_at)};
	return ts__store_get_int(c, TS__Q_OAUTH_DEVICE_WRONG, p, 2, t->wrong, e);
}

ts_err ts_store_oauth_device_wrong(ts_store_conn_t *c, const char *user_code, int64_t kill_at,
                                   int64_t *wrong, struct ts_error *e)
{
	*wrong = 0;
	struct device_wrong t = {user_code, kill_at, wrong};
	return ts__store_in_write(c, device_wrong, &t, e);
}

ts_err ts_store_oauth_device_consume(ts_store_conn_t *c, const char *device_hash, int64_t *changed,
                                     struct ts_error *e)
{
	*changed = 0;
	struct ts__param p[] = {TS__TEXT(device_hash)};
	return ts__store_write_one(c, TS__Q_OAUTH_DEVICE_CONSUME, p, 1, changed, e);
}

/* ---- refresh tokens ---- */

static void read_refresh(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_oauth_refresh *t = out;
	t->token_hash = ts__rows_str(c, r, 0, a);
	t->family_id = ts__rows_str(c, r, 1, a);
	t->account_id = ts__rows_str(c, r, 2, a);
	t->user_id = ts__rows_str(c, r, 3, a);
	t->client_id = ts__rows_str(c, r, 4, a);
	t->session_id = ts__rows_str(c, r, 5, a);
	t->created_ms = ts__rows_int(c, r, 6);
	t->expires_ms = ts__rows_int(c, r, 7);
	t->used_ms = ts__rows_int(c, r, 8);
	t->revoked_ms = ts__rows_int(c, r, 9);
}

ts_err ts_store_oauth_refresh_insert(ts_store_conn_t *c, const struct ts_store_oauth_refresh *r,
                                     struct ts_error *e)
{
	if (!field_ok(r->token_hash, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(r->family_id, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(r->account_id, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(r->user_id, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(r->client_id, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(r->session_id, TS_STORE_OAUTH_FIELD_MAX))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a refresh token's fields are 1 to %d bytes",
		               TS_STORE_OAUTH_FIELD_MAX);
	struct ts__param p[] = {TS__TEXT(r->token_hash), TS__TEXT(r->family_id),
	                        TS__TEXT(r->account_id), TS__TEXT(r->user_id),
	                        TS__TEXT(r->client_id),  TS__TEXT(r->session_id),
	                        TS__INT(r->created_ms),  TS__INT(r->expires_ms)};
	return ts__store_write_one(c, TS__Q_OAUTH_REFRESH_INSERT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_oauth_refresh_get(ts_store_conn_t *c, ts_arena_t *a, const char *token_hash,
                                  struct ts_store_oauth_refresh *out, bool *found,
                                  struct ts_error *e)
{
	*out = (struct ts_store_oauth_refresh){0};
	*found = false;
	if (!field_ok(token_hash, TS_STORE_OAUTH_FIELD_MAX))
		return TS_ERR_OK;
	struct ts__param p[] = {TS__TEXT(token_hash)};
	return ts__store_get_one(c, TS__Q_OAUTH_REFRESH_GET, p, 1, read_refresh, a, out, found, e);
}

ts_err ts_store_oauth_refresh_spend(ts_store_conn_t *c, const char *token_hash, int64_t now_ms,
                                    int64_t *changed, struct ts_error *e)
{
	*changed = 0;
	struct ts__param p[] = {TS__TEXT(token_hash), TS__INT(now_ms)};
	return ts__store_write_one(c, TS__Q_OAUTH_REFRESH_SPEND, p, 2, changed, e);
}

static void read_count(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	(void)a;
	*(int64_t *)out = ts__rows_int(c, r, 0);
}

ts_err ts_store_oauth_refresh_spent_since(ts_store_conn_t *c, const char *family_id,
                                          int64_t since_ms, int64_t *spent, struct ts_error *e)
{
	*spent = 0;
	bool found = false;
	struct ts__param p[] = {TS__TEXT(family_id), TS__INT(since_ms)};
	return ts__store_get_one(c, TS__Q_OAUTH_REFRESH_SPENT_SINCE, p, 2, read_count, NULL, spent,
	                         &found, e);
}

struct revoke_family {
	const char *family_id;
	int64_t now_ms;
	int64_t *sessions;
};

static ts_err revoke_family(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct revoke_family *t = ctx;
	struct ts__param p[] = {TS__TEXT(t->family_id), TS__INT(t->now_ms)};
	ts_err rc = ts__store_write(c, TS__Q_OAUTH_REFRESH_REVOKE_SESSIONS, p, 2, t->sessions, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_OAUTH_REFRESH_REVOKE_FAMILY, p, 2, NULL, e);
	return rc;
}

ts_err ts_store_oauth_refresh_revoke_family(ts_store_conn_t *c, const char *family_id,
                                            int64_t now_ms, int64_t *sessions, struct ts_error *e)
{
	int64_t ignored = 0;
	struct revoke_family t = {family_id, now_ms, sessions != NULL ? sessions : &ignored};
	return ts__store_in_write(c, revoke_family, &t, e);
}

/* ---- wrong user codes per address ---- */

static void read_failures(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	(void)a;
	struct ts_store_oauth_failures *f = out;
	f->failures = ts__rows_int(c, r, 0);
	f->window_start_ms = ts__rows_int(c, r, 1);
	f->locked_until_ms = ts__rows_int(c, r, 2);
}

ts_err ts_store_oauth_failures_get(ts_store_conn_t *c, const char *client_key,
                                   struct ts_store_oauth_failures *out, struct ts_error *e)
{
	*out = (struct ts_store_oauth_failures){0};
	bool found = false;
	struct ts__param p[] = {TS__TEXT(client_key)};
	return ts__store_get_one(c, TS__Q_OAUTH_FAIL_GET, p, 1, read_failures, NULL, out, &found,
	                         e);
}

struct failures_add {
	const char *key;
	int64_t now_ms, lock_at, window_ms, lock_ms;
	struct ts_store_oauth_failures *out;
};

static void read_added(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	(void)a;
	struct ts_store_oauth_failures *f = out;
	f->failures = ts__rows_int(c, r, 0);
	f->locked_until_ms = ts__rows_int(c, r, 1);
}

static ts_err failures_add(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct failures_add *t = ctx;
	struct ts__param p[] = {TS__TEXT(t->key), TS__INT(t->now_ms), TS__INT(t->lock_at),
	                        TS__INT(t->window_ms), TS__INT(t->lock_ms)};
	bool found = false;
	return ts__store_get_one(c, TS__Q_OAUTH_FAIL_ADD, p, TS__NPARAMS(p), read_added, NULL,
	                         t->out, &found, e);
}

ts_err ts_store_oauth_failures_add(ts_store_conn_t *c, const char *client_key, int64_t now_ms,
                                   int64_t lock_at, int64_t window_ms, int64_t lock_ms,
                                   struct ts_store_oauth_failures *out, struct ts_error *e)
{
	*out = (struct ts_store_oauth_failures){0};
	if (!field_ok(client_key, TS_STORE_OAUTH_FIELD_MAX))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a client key is 1 to %d bytes",
		               TS_STORE_OAUTH_FIELD_MAX);
	struct failures_add t = {client_key, now_ms, lock_at, window_ms, lock_ms, out};
	return ts__store_in_write(c, failures_add, &t, e);
}

/* ---- signing keys ---- */

ts_err ts_store_oauth_key_insert(ts_store_conn_t *c, const struct ts_store_oauth_key *k,
                                 bool *inserted, struct ts_error *e)
{
	*inserted = false;
	if (!field_ok(k->kid, TS_STORE_OAUTH_FIELD_MAX) ||
	    !field_ok(k->public_jwk, TS_STORE_OAUTH_JWK_MAX))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a signing key needs a kid and a public JWK");
	struct ts__param p[] = {TS__TEXT(k->kid), TS__TEXT(k->public_jwk), TS__INT(k->created_ms),
	                        TS__INT(k->generation)};
	int64_t changed = 0;
	ts_err rc = ts__store_write_one(c, TS__Q_OAUTH_KEY_INSERT, p, TS__NPARAMS(p), &changed, e);
	*inserted = rc == TS_ERR_OK && changed == 1;
	return rc;
}

ts_err ts_store_oauth_keys_live(ts_store_conn_t *c, ts_arena_t *a, int64_t now_ms, int max,
                                struct ts_store_oauth_key **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (max < 1)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a key listing reads at least one key");
	struct ts__param p[] = {TS__INT(now_ms), TS__INT(max)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_OAUTH_KEYS_LIVE, p, 2, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_store_oauth_key *keys = ts_arena_alloc(a, sizeof *keys * (size_t)max);
	while (*n < max && ts__rows_next(c, r)) {
		struct ts_store_oauth_key *k = &keys[*n];
		k->kid = ts__rows_str(c, r, 0, a);
		k->public_jwk = ts__rows_str(c, r, 1, a);
		k->created_ms = ts__rows_int(c, r, 2);
		k->retired_ms = ts__rows_int(c, r, 3);
		k->generation = ts__rows_int(c, r, 4);
		(*n)++;
	}
	ts__rows_close(c, &r);
	*out = keys;
	return TS_ERR_OK;
}

ts_err ts_store_oauth_keys_retire(ts_store_conn_t *c, int64_t below, int64_t until_ms,
                                  struct ts_error *e)
{
	struct ts__param p[] = {TS__INT(until_ms), TS__INT(below)};
	return ts__store_write_one(c, TS__Q_OAUTH_KEYS_RETIRE, p, 2, NULL, e);
}

/* ---- expiry ---- */

struct purge {
	int64_t now_ms;
	int limit;
	int64_t *n;
};

static ts_err purge(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct purge *t = ctx;
	static const enum ts__store_query limited[] = {
	        TS__Q_OAUTH_DEVICE_PURGE, TS__Q_OAUTH_REFRESH_PURGE, TS__Q_OAUTH_FAIL_PURGE};
	struct ts__param p[] = {TS__INT(t->now_ms), TS__INT(t->limit)};
	ts_err rc = TS_ERR_OK;
	for (size_t i = 0; rc == TS_ERR_OK && i < sizeof limited / sizeof limited[0]; i++) {
		int64_t k = 0;
		rc = ts__store_write(c, limited[i], p, 2, &k, e);
		*t->n += k;
	}
	/* a retired key's private half first: the row that names it goes next */
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_OAUTH_KEYS_SECRETS_PURGE, p, 1, NULL, e);
	int64_t k = 0;
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_OAUTH_KEYS_PURGE, p, 1, &k, e);
	*t->n += k;
	return rc;
}

ts_err ts_store_oauth_purge(ts_store_conn_t *c, int64_t now_ms, int limit, int64_t *n,
                            struct ts_error *e)
{
	int64_t ignored = 0;
	if (n == NULL)
		n = &ignored;
	*n = 0;
	if (limit < 1)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a purge deletes at least one row");
	struct purge t = {now_ms, limit, n};
	ts_err rc = ts__store_in_write(c, purge, &t, e);
	if (rc != TS_ERR_OK)
		*n = 0;
	return rc;
}
