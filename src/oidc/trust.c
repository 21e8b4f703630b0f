/*
 * Each worker's cache of the accounts' OIDC trust, keyed by (account,
 * config version): the configuration, its discovery document read once, the
 * JWKS parsed (jose.h) and the client secret opened. A callback then costs a
 * version read, the two outbound calls and one write transaction; no JSON of
 * the configuration is parsed and no secret opened on the way.
 *
 * Key rotation (OpenID Connect Core §10.1.1): an ID token whose kid the
 * JWKS does not hold makes the callback ask for the JWKS again, once. A
 * newer JWKS that another node stored is taken as it is; otherwise jwks_uri
 * is fetched and the answer stored with ts_store_oidc_jwks_put so that the
 * other nodes reuse it. A fetch that did not bring the kid blocks the next
 * one of the account in this process (a table shared by the workers) for
 * TS__OIDC_JWKS_REFRESH_MIN_MS: tokens naming kids nobody knows cost one
 * fetch per interval, while each real rotation is followed at once.
 */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "oidc/discovery.h"
#include "oidc/web.h"
#include "store/oidc.h"

struct cache_entry {
	ts_arena_t *arena; /* everything of trust but the JWKS; NULL when the slot is empty */
	struct ts__oidc_trust trust;
};

struct cache {
	struct cache_entry slots[TS__OIDC_CACHE_SLOTS];
};

static void *slot_init(void *config)
{
	const struct ts_oidc_config *cfg = config;
	static int warned; /* once per process, not once per worker */
	if ((cfg == NULL || cfg->base_url == NULL) &&
	    !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		ts_log(TS_LOG_WARN,
		       "OpenID Connect sign-in is off: serve --base-url is not set (docs/oidc.md)",
		       NULL);
	return ts_calloc(1, sizeof(struct cache));
}

static void entry_clear(struct cache_entry *s)
{
	ts_oidc_jwks_free(s->trust.jwks);
	s->trust.jwks = NULL;
	ts_arena_free(&s->arena); /* wipes the opened client secret (ts_secret_open_at) */
}

static void slot_free(void *state)
{
	struct cache *c = state;
	if (c == NULL)
		return;
	for (int i = 0; i < TS__OIDC_CACHE_SLOTS; i++)
		entry_clear(&c->slots[i]);
	ts_free(c);
}

const struct ts_http_slot ts__oidc_slot = {slot_init, slot_free};

/*
 * Pins the algorithms: what discovery's id_token_signing_alg_values_supported
 * lists (OpenID Connect Discovery §3, REQUIRED) among the asymmetric ones
 * jose.h verifies, plus HS256 when the account allows it (the client secret
 * as key, OpenID Connect Core §10.1); RS256 when the list is absent (Core
 * §15.1). "none" is never among them.
 */
static void algs_pin(const struct ts_oidc_discovery *d, bool allow_hs256, struct ts__oidc_trust *t)
{
	t->n_algs = 0;
	if (d->n_signing_algs == 0)
		t->algs[t->n_algs++] = TS_OIDC_RS256;
	for (size_t i = 0; i < d->n_signing_algs && t->n_algs < TS__OIDC_ALGS_MAX - 1; i++) {
		enum ts_oidc_alg alg = ts_oidc_alg_from_name(d->signing_algs[i]);
		bool dup = false;
		for (size_t k = 0; k < t->n_algs; k++)
			dup = dup || t->algs[k] == alg;
		if (alg >= TS_OIDC_RS256 && alg <= TS_OIDC_ES512 && !dup)
			t->algs[t->n_algs++] = alg;
	}
	if (allow_hs256)
		t->algs[t->n_algs++] = TS_OIDC_HS256;
}

/* Loads an account's trust into a fresh arena (the caller's read transaction). */
static ts_err trust_load(struct ts__oidc_ctx *ctx, ts_arena_t *a, struct ts__oidc_trust *t,
                         bool *found, struct ts_error *e)
{
	struct ts_store_oidc_config cfg;
	ts_err rc =
	        ts_store_oidc_config_get(ctx->login.conn, a, ctx->login.account_id, &cfg, found, e);
	if (rc != TS_ERR_OK || !*found)
		return rc;
	/* it was checked against the issuer when it was stored: this binary reads it otherwise */
	struct ts_oidc_discovery d;
	if (cfg.discovery_json == NULL ||
	    ts_oidc_discovery_parse(a, cfg.discovery_json, strlen(cfg.discovery_json), cfg.issuer,
	                            &d, e) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "account %s: the stored discovery document does not read",
		               ctx->login.account_id);
	*t = (struct ts__oidc_trust){
	        .account_id = ts_arena_strdup(a, ctx->login.account_id),
	        .version = cfg.version,
	        .loaded_ms = ctx->login.now_ms,
	        .issuer = cfg.issuer,
	        .client_id = cfg.client_id,
	        .claim = cfg.claim != NULL && cfg.claim[0] != '\0' ? cfg.claim : "email",
	        .scopes = cfg.scopes != NULL && cfg.scopes[0] != '\0' ? cfg.scopes : "openid email",
	        .authorization_endpoint = d.authorization_endpoint,
	        .token_endpoint = d.token_endpoint,
	        .userinfo_endpoint = d.userinfo_endpoint,
	        .jwks_uri = d.jwks_uri,
	        /* OpenID Connect Core §9: client_secret_basic unless only _post is offered */
	        .secret_post = d.auth_post && !d.auth_basic,
	        /* RFC 9207 §3: a provider that says it sends iss must send it */
	        .iss_param_required = d.iss_parameter_supported,
	        .allow_hs256 = cfg.allow_hs256,
	        .jwks_fetched_ms = cfg.jwks_fetched_ms,
	        .redirect_uri =
	                ts_arena_printf(a, "%s" TS_OIDC_CALLBACK_PATH, ctx->login.base.origin),
	};
	algs_pin(&d, cfg.allow_hs256, t);
	/* this server's own origin first: a target_link_uri is an absolute URL */
	t->n_relay_allow = ts_login_origins(a, cfg.relay_allow, ctx->login.base.origin,
	                                    TS__OIDC_RELAY_ALLOW_MAX, &t->relay_allow);
	bool has_secret = false;
	rc = ts_store_oidc_secret_open(ctx->login.conn, a, ctx->cfg->master_key,
	                               ctx->login.account_id, &t->client_secret,
	                               &t->client_secret_len, &has_secret, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (!has_secret)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "account %s: an OIDC config without a client secret",
		               ctx->login.account_id);
	if (cfg.jwks_json != NULL) {
		/* it parsed when it was stored: this binary reads it otherwise */
		rc = ts_oidc_jwks_parse(cfg.jwks_json, strlen(cfg.jwks_json), &t->jwks, e);
		if (rc != TS_ERR_OK)
			return TS_FAIL(e, TS_ERR_INTERNAL, "stored JWKS of %s: %s",
			               ctx->login.account_id, e->message);
	}
	return TS_ERR_OK;
}

ts_err ts__oidc_trust(struct ts__oidc_ctx *ctx, struct ts__oidc_trust **out, struct ts_error *e)
{
	*out = NULL;
	struct cache *c = ts_http_state(ctx->login.req, &ts__oidc_slot);
	if (c == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no OIDC cache on this worker");
	int64_t version = 0;
	ts_err rc = ts_login_source_version(&ctx->login, ts_store_oidc_config_version, &version, e);
	if (rc != TS_ERR_OK || version == 0)
		return rc;
	struct cache_entry *slot =
	        &c->slots[ts_login_account_hash(ctx->login.account_id) % TS__OIDC_CACHE_SLOTS];
	if (slot->arena != NULL && slot->trust.version == version &&
	    strcmp(slot->trust.account_id, ctx->login.account_id) == 0 &&
	    ctx->login.now_ms - slot->trust.loaded_ms < TS__OIDC_TRUST_TTL_MS) {
		*out = &slot->trust;
		return TS_ERR_OK;
	}
	ts_arena_t *a = ts_arena_new();
	struct ts__oidc_trust t = {0};
	bool found = false;
	rc = ts_store_begin(ctx->login.conn, false, e);
	if (rc == TS_ERR_OK)
		rc = trust_load(ctx, a, &t, &found, e);
	ts_store_rollback(ctx->login.conn);
	if (rc != TS_ERR_OK || !found) {
		ts_oidc_jwks_free(t.jwks);
		ts_arena_free(&a);
		return rc;
	}
	entry_clear(slot);
	slot->arena = a;
	slot->trust = t;
	*out = &slot->trust;
	return TS_ERR_OK;
}

/*
 * The process's last JWKS fetch per account (by hash: a collision only
 * shares a limit) and config version. A fetch blocks the next one for
 * TS__OIDC_JWKS_REFRESH_MIN_MS unless it proved useful (the kid was in it:
 * ts__oidc_jwks_served), so that a provider's rotations are each followed
 * at once while kids that no JWKS names cost one fetch per interval. A new
 * config version (the administrator's PUT) starts afresh.
 */
static struct {
	pthread_mutex_t lock;
	struct {
		uint32_t account;
		int64_t version;
		int64_t at_ms;
		bool blocked;
	} slots[TS__OIDC_REFRESH_SLOTS];
} refreshes = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Whether this process may fetch the account's JWKS now; if so, the fetch is noted. */
static bool refresh_allowed(const struct ts__oidc_trust *t, int64_t now_ms)
{
	uint32_t h = ts_login_account_hash(t->account_id);
	bool ok = false;
	pthread_mutex_lock(&refreshes.lock);
	__typeof__(refreshes.slots[0]) *s = &refreshes.slots[h % TS__OIDC_REFRESH_SLOTS];
	if (s->account != h || s->version != t->version || !s->blocked ||
	    now_ms - s->at_ms >= TS__OIDC_JWKS_REFRESH_MIN_MS || now_ms < s->at_ms) {
		s->account = h;
		s->version = t->version;
		s->at_ms = now_ms;
		s->blocked = true;
		ok = true;
	}
	pthread_mutex_unlock(&refreshes.lock);
	return ok;
}

void ts__oidc_jwks_served(const struct ts__oidc_trust *t)
{
	uint32_t h = ts_login_account_hash(t->account_id);
	pthread_mutex_lock(&refreshes.lock);
	__typeof__(refreshes.slots[0]) *s = &refreshes.slots[h % TS__OIDC_REFRESH_SLOTS];
	if (s->account == h && s->version == t->version)
		s->blocked = false;
	pthread_mutex_unlock(&refreshes.lock);
}

/* A newer JWKS another node stored, parsed into *out (NULL when there is none). */
static ts_err stored_newer(struct ts__oidc_ctx *ctx, const struct ts__oidc_trust *t,
                           struct ts_oidc_jwks **out, int64_t *fetched_ms, struct ts_error *e)
{
	*out = NULL;
	ts_arena_t *a = ts_arena_new();
	struct ts_store_oidc_config cfg;
	bool found = false;
	ts_err rc = ts_store_begin(ctx->login.conn, false, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_oidc_config_get(ctx->login.conn, a, ctx->login.account_id, &cfg,
		                              &found, e);
	ts_store_rollback(ctx->login.conn);
	if (rc == TS_ERR_OK && found && cfg.jwks_json != NULL &&
	    cfg.jwks_fetched_ms > t->jwks_fetched_ms) {
		rc = ts_oidc_jwks_parse(cfg.jwks_json, strlen(cfg.jwks_json), out, e);
		*fetched_ms = cfg.jwks_fetched_ms;
	}
	ts_arena_free(&a);
	return rc;
}

ts_err ts__oidc_jwks_refresh(struct ts__oidc_ctx *ctx, struct ts__oidc_trust *t, bool *changed,
                             struct ts_error *e)
{
	*changed = false;
	struct ts_oidc_jwks *fresh = NULL;
	int64_t fetched_ms = 0;
	ts_err rc = stored_newer(ctx, t, &fresh, &fetched_ms, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (fresh == NULL) {
		if (!refresh_allowed(t, ctx->login.now_ms))
			return TS_ERR_OK;
		const char *json = NULL;
		size_t len = 0;
		rc = ts_oidc_discovery_jwks_fetch(ctx->login.req->arena, t->jwks_uri, &json, &len,
		                                  e);
		if (rc != TS_ERR_OK)
			return rc;
		rc = ts_oidc_jwks_parse(json, len, &fresh, e);
		if (rc != TS_ERR_OK)
			return rc;
		fetched_ms = ctx->login.now_ms;
		int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
	again:
		rc = ts_store_begin(ctx->login.conn, true, e);
		if (rc == TS_ERR_OK)
			rc = ts_store_oidc_jwks_put(ctx->login.conn, ctx->login.account_id, json,
			                            fetched_ms, e);
		if (rc == TS_ERR_OK)
			rc = ts_store_commit(ctx->login.conn, e);
		if (rc != TS_ERR_OK && ts_store_tx_retry(ctx->login.conn, rc, &attempt))
			goto again;
		if (rc != TS_ERR_OK) {
			ts_store_rollback(ctx->login.conn);
			ts_oidc_jwks_free(fresh);
			return rc;
		}
	}
	ts_oidc_jwks_free(t->jwks);
	t->jwks = fresh;
	t->jwks_fetched_ms = fetched_ms;
	*changed = true;
	return TS_ERR_OK;
}
