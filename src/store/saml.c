/*
 * What SAML sign-in keeps in the store (store/saml.h, docs/store.md): the
 * identity sources, the SP key pairs, the AuthnRequests issued and the replay
 * cache. Every write runs in c's transaction when one is open, else in one of
 * its own, so that a caller may join them to its sign-in or run them alone;
 * the reads run in c's transaction or as single statements.
 */
#include "store/saml.h"

#include <string.h>

#include "store/internal.h"
#include "store/secrets.h"

#define SAML_KEYS_MAX 8              /* keys listed per account (saml.h) */
#define SAML_SP_OWNER_KIND "saml_sp" /* docs/secrets.md: the SP's sealed private keys */

static bool id_ok(const char *id)
{
	return id != NULL && id[0] != '\0' && strlen(id) <= TS_STORE_SAML_ID_MAX;
}

/* ---- identity sources ---- */

static void read_config(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_saml_config *cfg = out;
	cfg->account_id = ts__rows_str(c, r, 0, a);
	cfg->idp_entity_id = ts__rows_str(c, r, 1, a);
	cfg->metadata_xml = ts__rows_str(c, r, 2, a);
	cfg->metadata_url = ts__rows_str(c, r, 3, a);
	cfg->metadata_fetched_ms = ts__rows_int(c, r, 4);
	cfg->allow_idp_initiated = ts__rows_int(c, r, 5) != 0;
	cfg->allow_sha1 = ts__rows_int(c, r, 6) != 0;
	cfg->relay_allow = ts__rows_str(c, r, 7, a);
	cfg->version = ts__rows_int(c, r, 8);
	cfg->created_ms = ts__rows_int(c, r, 9);
	cfg->modified_ms = ts__rows_int(c, r, 10);
}

static ts_err config_put(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	const struct ts_store_saml_config *cfg = ctx;
	struct ts__param pv[] = {TS__TEXT(cfg->account_id)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SAML_CONFIG_VERSION_NEXT, pv, 1, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	int64_t version = ts__rows_next(c, r) ? ts__rows_int(c, r, 0) : 0;
	ts__rows_close(c, &r);
	if (version < 1)
		return TS_FAIL(e, TS_ERR_STORE,
		               "the SAML config's version counter gave no version");
	struct ts__param p[] = {TS__TEXT(cfg->account_id),
	                        TS__TEXT(cfg->idp_entity_id),
	                        TS__TEXT(cfg->metadata_xml),
	                        TS__TEXT(cfg->metadata_url),
	                        TS__INT(cfg->metadata_fetched_ms),
	                        TS__INT(cfg->allow_idp_initiated ? 1 : 0),
	                        TS__INT(cfg->allow_sha1 ? 1 : 0),
	                        TS__TEXT(cfg->relay_allow),
	                        TS__INT(version),
	                        TS__INT(cfg->created_ms != 0 ? cfg->created_ms : cfg->modified_ms),
	                        TS__INT(cfg->modified_ms)};
	return ts__store_write(c, TS__Q_SAML_CONFIG_PUT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_saml_config_put(ts_store_conn_t *c, const struct ts_store_saml_config *cfg,
                                struct ts_error *e)
{
	if (cfg->account_id == NULL || cfg->idp_entity_id == NULL || cfg->metadata_xml == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a SAML config needs an account, an IdP entityID and its metadata");
	return ts__store_in_write(c, config_put, (void *)cfg, e);
}

ts_err ts_store_saml_config_get(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                struct ts_store_saml_config *out, bool *found, struct ts_error *e)
{
	*out = (struct ts_store_saml_config){0};
	struct ts__param p[] = {TS__TEXT(account_id)};
	return ts__store_get_one(c, TS__Q_SAML_CONFIG_GET, p, 1, read_config, a, out, found, e);
}

ts_err ts_store_saml_config_version(ts_store_conn_t *c, const char *account_id, int64_t *version,
                                    struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(account_id)};
	return ts__store_get_int(c, TS__Q_SAML_CONFIG_VERSION, p, 1, version, e);
}

ts_err ts_store_saml_config_any(ts_store_conn_t *c, ts_arena_t *a, const char **account_id,
                                struct ts_error *e)
{
	return ts__store_get_str(c, TS__Q_SAML_CONFIG_ANY, NULL, 0, a, account_id, e);
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
	ts_err rc = ts__store_write(c, TS__Q_SAML_CONFIG_DELETE, p, 1, &changed, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_SAML_REQUESTS_DELETE_ACCOUNT, p, 1, NULL, e);
	*d->deleted = rc == TS_ERR_OK && changed > 0;
	return rc;
}

ts_err ts_store_saml_config_delete(ts_store_conn_t *c, const char *account_id, bool *deleted,
                                   struct ts_error *e)
{
	*deleted = false;
	struct config_delete d = {account_id, deleted};
	ts_err rc = ts__store_in_write(c, config_delete, &d, e);
	if (rc != TS_ERR_OK)
		*deleted = false;
	return rc;
}

ts_err ts_store_saml_config_due(ts_store_conn_t *c, ts_arena_t *a, int64_t before_ms, int limit,
                                struct ts_store_saml_config **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	if (limit < 1 || limit > TS_STORE_PAGE_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a limit is 1 to %d", TS_STORE_PAGE_MAX);
	struct ts__param p[] = {TS__INT(before_ms), TS__INT(limit)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SAML_CONFIG_DUE, p, 2, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_store_saml_config *list = ts_arena_alloc(a, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r))
		read_config(c, r, a, &list[count++]);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

/* ---- SP key pairs ---- */

static void read_key(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_saml_key *k = out;
	k->key_id = ts__rows_str(c, r, 0, a);
	k->account_id = ts__rows_str(c, r, 1, a);
	k->cert_pem = ts__rows_str(c, r, 2, a);
	k->created_ms = ts__rows_int(c, r, 3);
	k->not_after_ms = ts__rows_int(c, r, 4);
	k->retired_ms = ts__rows_int(c, r, 5);
}

ts_err ts_store_saml_key_insert(ts_store_conn_t *c, const struct ts_store_saml_key *k,
                                struct ts_error *e)
{
	if (k->key_id == NULL || k->key_id[0] == '\0' ||
	    strlen(k->key_id) > TS_STORE_SECRET_NAME_MAX || k->cert_pem == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "an SP key needs an ID of 1 to %d bytes and a certificate",
		               TS_STORE_SECRET_NAME_MAX);
	struct ts__param p[] = {TS__TEXT(k->key_id),      TS__TEXT(k->account_id),
	                        TS__TEXT(k->cert_pem),    TS__INT(k->created_ms),
	                        TS__INT(k->not_after_ms), TS__INT(k->retired_ms)};
	return ts__store_write_one(c, TS__Q_SAML_KEY_INSERT, p, TS__NPARAMS(p), NULL, e);
}

ts_err ts_store_saml_keys(ts_store_conn_t *c, ts_arena_t *a, const char *account_id, int64_t now_ms,
                          struct ts_store_saml_key **out, int *n, struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__param p[] = {TS__TEXT(account_id), TS__INT(now_ms), TS__INT(SAML_KEYS_MAX)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SAML_KEYS, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_store_saml_key *list = ts_arena_alloc(a, sizeof *list * SAML_KEYS_MAX);
	int count = 0;
	while (count < SAML_KEYS_MAX && ts__rows_next(c, r))
		read_key(c, r, a, &list[count++]);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_saml_keys_retire(ts_store_conn_t *c, const char *account_id, int64_t retire_ms,
                                 struct ts_error *e)
{
	if (retire_ms <= 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a key is retired at a time after 0");
	struct ts__param p[] = {TS__TEXT(account_id), TS__INT(retire_ms)};
	return ts__store_write_one(c, TS__Q_SAML_KEYS_RETIRE, p, 2, NULL, e);
}

struct keys_purge {
	int64_t now_ms;
	int64_t *n;
};

static ts_err keys_purge(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct keys_purge *kp = ctx;
	/* the rows deleted name the secrets to delete: none is left behind, none taken twice */
	struct ts__param p[] = {TS__INT(kp->now_ms)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_SAML_KEYS_PURGE, p, 1, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_arena_t *a = ts_arena_new();
	size_t cap = SAML_KEYS_MAX, count = 0;
	const char **ids = ts_arena_alloc(a, sizeof *ids * cap);
	while (rc == TS_ERR_OK && ts__rows_next(c, r)) {
		rc = ts_arena_grow(a, (void *)&ids, sizeof *ids, count, count + 1, &cap,
		                   TS__STORE_ROWS_MAX);
		if (rc != TS_ERR_OK)
			rc = TS_FAIL(e, rc, "more retired SP keys than one purge can hold");
		else
			ids[count++] = ts__rows_str(c, r, 0, a);
	}
	ts__rows_close(c, &r);
	for (size_t i = 0; rc == TS_ERR_OK && i < count; i++)
		rc = ts_store_secret_delete_owner(c, SAML_SP_OWNER_KIND, ids[i], e);
	ts_arena_free(&a);
	*kp->n = rc == TS_ERR_OK ? (int64_t)count : 0;
	return rc;
}

ts_err ts_store_saml_keys_purge(ts_store_conn_t *c, int64_t now_ms, int64_t *n, struct ts_error *e)
{
	*n = 0;
	struct keys_purge kp = {now_ms, n};
	ts_err rc = ts__store_in_write(c, keys_purge, &kp, e);
	if (rc != TS_ERR_OK)
		*n = 0;
	return rc;
}

/* ---- AuthnRequests ---- */

static void read_request(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	struct ts_store_saml_request *q = out;
	q->request_id = ts__rows_str(c, r, 0, a);
	q->account_id = ts__rows_str(c, r, 1, a);
	q->browser_hash = ts__rows_str(c, r, 2, a);
	q->relay_state = ts__rows_str(c, r, 3, a);
	q->created_ms = ts__rows_int(c, r, 4);
	q->expires_ms = ts__rows_int(c, r, 5);
}

ts_err ts_store_saml_request_insert(ts_store_conn_t *c, const struct ts_store_saml_request *r,
                                    struct ts_error *e)
{
	if (!id_ok(r->request_id))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a request ID is 1 to %d bytes",
		               TS_STORE_SAML_ID_MAX);
	struct ts__param p[] = {TS__TEXT(r->request_id),   TS__TEXT(r->account_id),
	                        TS__TEXT(r->browser_hash), TS__TEXT(r->relay_state),
	                        TS__INT(r->created_ms),    TS__INT(r->expires_ms)};
	return ts__store_write_one(c, TS__Q_SAML_REQUEST_INSERT, p, TS__NPARAMS(p), NULL, e);
}

struct request_take {
	ts_arena_t *a;
	const char *account_id, *request_id;
	int64_t now_ms;
	struct ts_store_saml_request *out;
	bool *found;
};

static ts_err request_take(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct request_take *t = ctx;
	struct ts__param p[] = {TS__TEXT(t->account_id), TS__TEXT(t->request_id),
	                        TS__INT(t->now_ms)};
	if (c->store->drv == &ts__store_postgres)
		return ts__store_get_one(c, TS__Q_SAML_REQUEST_TAKE, p, 3, read_request, t->a,
		                         t->out, t->found, e);
	/* SQLite: read and delete in the write transaction, which no other writer shares */
	ts_err rc = ts__store_get_one(c, TS__Q_SAML_REQUEST_GET, p, 3, read_request, t->a, t->out,
	                              t->found, e);
	if (rc == TS_ERR_OK && *t->found)
		rc = ts__store_write(c, TS__Q_SAML_REQUEST_DELETE, p, 2, NULL, e);
	return rc;
}

ts_err ts_store_saml_request_take(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                  const char *request_id, int64_t now_ms,
                                  struct ts_store_saml_request *out, bool *found,
                                  struct ts_error *e)
{
	*out = (struct ts_store_saml_request){0};
	*found = false;
	if (!id_ok(request_id)) /* never stored: not found */
		return TS_ERR_OK;
	struct request_take t = {a, account_id, request_id, now_ms, out, found};
	ts_err rc = ts__store_in_write(c, request_take, &t, e);
	if (rc != TS_ERR_OK) { /* rolled back: nothing was taken */
		*out = (struct ts_store_saml_request){0};
		*found = false;
	}
	return rc;
}

/* ---- the replay cache ---- */

struct replay {
	const char *account_id, *assertion_id;
	int64_t expires_ms, now_ms;
	bool *fresh;
};

static ts_err replay_record(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct replay *rp = ctx;
	struct ts__param p[] = {TS__TEXT(rp->account_id), TS__TEXT(rp->assertion_id),
	                        TS__INT(rp->expires_ms), TS__INT(rp->now_ms)};
	int64_t changed = 0;
	ts_err rc = ts__store_write(c, TS__Q_SAML_REPLAY_RECORD, p, TS__NPARAMS(p), &changed, e);
	*rp->fresh = rc == TS_ERR_OK && changed == 1;
	return rc;
}

ts_err ts_store_saml_replay_record(ts_store_conn_t *c, const char *account_id,
                                   const char *assertion_id, int64_t expires_ms, int64_t now_ms,
                                   bool *fresh, struct ts_error *e)
{
	*fresh = false;
	if (!id_ok(assertion_id))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "an assertion ID is 1 to %d bytes",
		               TS_STORE_SAML_ID_MAX);
	if (expires_ms <= now_ms)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a replay entry must outlive its recording (expires %lld, now %lld)",
		               (long long)expires_ms, (long long)now_ms);
	struct replay rp = {account_id, assertion_id, expires_ms, now_ms, fresh};
	ts_err rc = ts__store_in_write(c, replay_record, &rp, e);
	if (rc != TS_ERR_OK)
		*fresh = false;
	return rc;
}

struct purge {
	int64_t now_ms;
	int limit;
	int64_t *n;
};

static ts_err purge(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct purge *pu = ctx;
	struct ts__param p[] = {TS__INT(pu->now_ms), TS__INT(pu->limit)};
	int64_t requests = 0, replays = 0;
	ts_err rc = ts__store_write(c, TS__Q_SAML_PURGE_REQUESTS, p, 2, &requests, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_SAML_PURGE_REPLAY, p, 2, &replays, e);
	*pu->n = requests + replays;
	return rc;
}

ts_err ts_store_saml_purge(ts_store_conn_t *c, int64_t now_ms, int limit, int64_t *n,
                           struct ts_error *e)
{
	*n = 0;
	if (limit < 1)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a purge deletes at least one row per table");
	struct purge pu = {now_ms, limit, n};
	ts_err rc = ts__store_in_write(c, purge, &pu, e);
	if (rc != TS_ERR_OK)
		*n = 0;
	return rc;
}
