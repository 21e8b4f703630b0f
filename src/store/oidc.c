/*
 * What OpenID Connect sign-in keeps in the store (store/oidc.h,
 * docs/oidc.md): an account's OpenID provider, its sealed client secret and
 * the states issued to browsers. Every write runs in c's transaction when one
 * is open, else in one of its own, so that a caller may join them to its
 * change or run them alone; the reads run in c's transaction or as single
 * statements.
 */
#include "store/oidc.h"

#include <string.h>

#include "store/internal.h"
#include "store/secrets.h"

#define OIDC_CLAIM_DEFAULT "email"
#define OIDC_SCOPES_DEFAULT "openid email"

static bool hash_ok(const char *h)
{
	return h != NULL && h[0] != '\0' && strlen(h) <= TS_STORE_OIDC_HASH_MAX;
}

/* ---- an account's OpenID provider ---- */

static void read_config(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_oidc_config *cfg = out;
	cfg->account_id = ts__rows_str(c, r, 0, a);
	cfg->issuer = ts__rows_str(c, r, 1, a);
	cfg->client_id = ts__rows_str(c, r, 2, a);
	cfg->claim = ts__rows_str(c, r, 3, a);
	cfg->scopes = ts__rows_str(c, r, 4, a);
	cfg->discovery_json = ts__rows_str(c, r, 5, a);
	cfg->jwks_json = ts__rows_str(c, r, 6, a);
	cfg->jwks_fetched_ms = ts__rows_int(c, r, 7);
	cfg->relay_allow = ts__rows_str(c, r, 8, a);
	cfg->allow_hs256 = ts__rows_int(c, r, 9) != 0;
	cfg->version = ts__rows_int(c, r, 10);
	cfg->created_ms = ts__rows_int(c, r, 11);
	cfg->modified_ms = ts__rows_int(c, r, 12);
}

static ts_err config_put(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	const struct ts_store_oidc_config *cfg = ctx;
	struct ts__param pv[] = {TS__TEXT(cfg->account_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_OIDC_CONFIG_VERSION_NEXT, pv, 1, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	int64_t version = ts__rows_next(c, r) ? ts__rows_int(c, r, 0) : 0;
	ts__rows_close(c, &r);
	if (version < 1)
		return TS_FAIL(e, TS_ERR_STORE,
		               "the OpenID config's version counter gave no version");
	struct ts__param p[] = {TS__TEXT(cfg->account_id),
	                        TS__TEXT(cfg->issuer),
	                        TS__TEXT(cfg->client_id),
	                        TS__TEXT(cfg->claim ? cfg->claim : OIDC_CLAIM_DEFAULT),
	                        TS__TEXT(cfg->scopes ? cfg->scopes : OIDC_SCOPES_DEFAULT),
	                        TS__TEXT(cfg->discovery_json),
	                        TS__TEXT(cfg->jwks_json),
	                        TS__INT(cfg->jwks_fetched_ms),
	                        TS__TEXT(cfg->relay_allow),
	                        TS__INT(cfg->allow_hs256 ? 1 : 0),
	                        TS__INT(version),
	                        TS__INT(cfg->created_ms != 0 ? cfg->created_ms : cfg->modified_ms),
	                        TS__INT(cfg->modified_ms)};
	return ts__store_write(c, TS__Q_OIDC_CONFIG_PUT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_oidc_config_put(ts_store_conn_t *c, const struct ts_store_oidc_config *cfg,
                                struct ts_error *e)
{
	if (cfg->account_id == NULL || cfg->issuer == NULL || cfg->client_id == NULL ||
	    cfg->discovery_json == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "an OpenID config needs an account, an issuer, a client ID and the "
		               "issuer's discovery document");
	return ts__store_in_write(c, config_put, (void *)cfg, e);
}

ts_err ts_store_oidc_config_get(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                struct ts_store_oidc_config *out, bool *found, struct ts_error *e)
{
	*out = (struct ts_store_oidc_config){0};
	struct ts__param p[] = {TS__TEXT(account_id)};
	return ts__store_get_one(c, TS__Q_OIDC_CONFIG_GET, p, 1, read_config, a, out, found, e);
}

ts_err ts_store_oidc_config_version(ts_store_conn_t *c, const char *account_id, int64_t *version,
                                    struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id)};
	return ts__store_get_int(c, TS__Q_OIDC_CONFIG_VERSION, p, 1, version, e);
}

ts_err ts_store_oidc_config_any(ts_store_conn_t *c, ts_arena_t *a, const char **account_id,
                                struct ts_error *e)
{
	return ts__store_get_str(c, TS__Q_OIDC_CONFIG_ANY, NULL, 0, a, account_id, e);
}

struct config_delete {
	const char *account_id;
	bool *deleted;
};

static ts_err config_delete(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct config_delete *d = ctx;
	struct ts__param p[] = {TS__TEXT(d->account_id)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_OIDC_CONFIG_DELETE, p, 1, &changed, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_OIDC_SECRET_DELETE_ACCOUNT, p, 1, NULL, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_OIDC_STATES_DELETE_ACCOUNT, p, 1, NULL, e);
	*d->deleted = rc == TS_ERR_OK && changed > 0;
	return rc;
}

ts_err ts_store_oidc_config_delete(ts_store_conn_t *c, const char *account_id, bool *deleted,
                                   struct ts_error *e)
{
	*deleted = false;
	struct config_delete d = {account_id, deleted};
	ts_err rc = ts__store_in_write(c, config_delete, &d, e);
	if (rc != TS_ERR_OK)
		*deleted = false;
	return rc;
}

ts_err ts_store_oidc_jwks_put(ts_store_conn_t *c, const char *account_id, const char *jwks_json,
                              int64_t fetched_ms, struct ts_error *e)
{
	if (jwks_json == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a JWKS refresh needs the JWKS");
	struct ts__param p[] = {TS__TEXT(account_id), TS__TEXT(jwks_json), TS__INT(fetched_ms)};
	return ts__store_write_one(c, TS__Q_OIDC_JWKS_PUT, p, TS__NPARAMS(p), NULL, e);
}

/* ---- the client secret (docs/secrets.md) ---- */

ts_err ts_store_oidc_secret_put(ts_store_conn_t *c, ts_arena_t *a,
                                const unsigned char master[TS_MASTER_KEY_LEN],
                                const char *account_id, const unsigned char *plain, size_t n,
                                int64_t now_ms, struct ts_error *e)
{
	if (master == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no master key to seal the client secret with");
	if (n == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a client secret is not empty");
	struct ts_secret_key k;
	ts_secret_key_derive(master, &k);
	ts_err rc = ts_store_secret_seal_put(c, a, &k, TS__OIDC_SECRET_KIND, account_id,
	                                     TS__OIDC_SECRET_NAME, plain, n, now_ms, e);
	ts_secret_key_wipe(&k);
	return rc;
}

ts_err ts_store_oidc_secret_open(ts_store_conn_t *c, ts_arena_t *a,
                                 const unsigned char master[TS_MASTER_KEY_LEN],
                                 const char *account_id, const char **secret, size_t *n,
                                 bool *found, struct ts_error *e)
{
	*secret = NULL;
	*n = 0;
	*found = false;
	if (master == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no master key to open the client secret with");
	struct ts_secret_key k;
	ts_secret_key_derive(master, &k);
	unsigned char *plain = NULL;
	ts_err rc = ts_store_secret_open_get(c, a, &k, TS__OIDC_SECRET_KIND, account_id,
	                                     TS__OIDC_SECRET_NAME, &plain, n, found, e);
	ts_secret_key_wipe(&k);
	if (rc == TS_ERR_OK && *found)
		*secret = (const char *)plain;
	return rc;
}

/* ---- states ---- */

static void read_state(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_oidc_state *st = out;
	st->state_hash = ts__rows_str(c, r, 0, a);
	st->account_id = ts__rows_str(c, r, 1, a);
	st->browser_hash = ts__rows_str(c, r, 2, a);
	st->nonce_hash = ts__rows_str(c, r, 3, a);
	st->target = ts__rows_str(c, r, 4, a);
	st->created_ms = ts__rows_int(c, r, 5);
	st->expires_ms = ts__rows_int(c, r, 6);
}

ts_err ts_store_oidc_state_insert(ts_store_conn_t *c, const struct ts_store_oidc_state *st,
                                  struct ts_error *e)
{
	if (!hash_ok(st->state_hash) || !hash_ok(st->browser_hash) || !hash_ok(st->nonce_hash))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a state's hashes (state, browser, nonce) are 1 to %d bytes",
		               TS_STORE_OIDC_HASH_MAX);
	if (st->target != NULL && strlen(st->target) > TS_STORE_OIDC_TARGET_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a state's target is at most %d bytes",
		               TS_STORE_OIDC_TARGET_MAX);
	struct ts__param p[] = {TS__TEXT(st->state_hash),   TS__TEXT(st->account_id),
	                        TS__TEXT(st->browser_hash), TS__TEXT(st->nonce_hash),
	                        TS__TEXT(st->target),       TS__INT(st->created_ms),
	                        TS__INT(st->expires_ms)};
	return ts__store_write_one(c, TS__Q_OIDC_STATE_INSERT, p, TS__NPARAMS(p), NULL, e);
}

struct state_take {
	ts_arena_t *a;
	const char *state_hash;
	int64_t now_ms;
	struct ts_store_oidc_state *out;
	bool *found;
};

static ts_err state_take(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct state_take *t = ctx;
	struct ts__param p[] = {TS__TEXT(t->state_hash), TS__INT(t->now_ms)};
	if (c->store->drv == &ts__store_postgres)
		return ts__store_get_one(c, TS__Q_OIDC_STATE_TAKE, p, 2, read_state, t->a, t->out,
		                         t->found, e);
	/* SQLite: read and delete in the write transaction, which no other writer shares */
	ts_err rc = ts__store_get_one(c, TS__Q_OIDC_STATE_GET, p, 2, read_state, t->a, t->out,
	                              t->found, e);
	if (rc == TS_ERR_OK && *t->found)
		rc = ts__store_write(c, TS__Q_OIDC_STATE_DELETE, p, 1, NULL, e);
	return rc;
}

ts_err ts_store_oidc_state_take(ts_store_conn_t *c, ts_arena_t *a, const char *state_hash,
                                int64_t now_ms, struct ts_store_oidc_state *out, bool *found,
                                struct ts_error *e)
{
	*out = (struct ts_store_oidc_state){0};
	*found = false;
	if (!hash_ok(state_hash)) /* never stored: not found */
		return TS_ERR_OK;
	struct state_take t = {a, state_hash, now_ms, out, found};
	ts_err rc = ts__store_in_write(c, state_take, &t, e);
	if (rc != TS_ERR_OK) { /* rolled back: nothing was taken */
		*out = (struct ts_store_oidc_state){0};
		*found = false;
	}
	return rc;
}

ts_err ts_store_oidc_state_get(ts_store_conn_t *c, ts_arena_t *a, const char *state_hash,
                               int64_t now_ms, struct ts_store_oidc_state *out, bool *found,
                               struct ts_error *e)
{
	*out = (struct ts_store_oidc_state){0};
	*found = false;
	if (!hash_ok(state_hash)) /* never stored: not found */
		return TS_ERR_OK;
	struct ts__param p[] = {TS__TEXT(state_hash), TS__INT(now_ms)};
	ts_err rc = ts__store_get_one(c, TS__Q_OIDC_STATE_GET, p, 2, read_state, a, out, found, e);
	if (rc != TS_ERR_OK) {
		*out = (struct ts_store_oidc_state){0};
		*found = false;
	}
	return rc;
}

ts_err ts_store_oidc_purge(ts_store_conn_t *c, int64_t now_ms, int limit, int64_t *n,
                           struct ts_error *e)
{
	*n = 0;
	if (limit < 1)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a purge deletes at least one row");
	struct ts__param p[] = {TS__INT(now_ms), TS__INT(limit)};
	ts_err rc = ts__store_write_one(c, TS__Q_OIDC_PURGE_STATES, p, 2, n, e);
	if (rc != TS_ERR_OK)
		*n = 0;
	return rc;
}
