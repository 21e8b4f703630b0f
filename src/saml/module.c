/*
 * The SAML module (saml.h): its routes, its per-worker cache of each
 * account's parsed trust (IdP metadata, SP keys, settings), keyed by
 * (account, config version), and what every endpoint shares: the request
 * context, the record of a sign-in decision (one audit event, one sign-in
 * attempt: docs/product.md §9, docs/saml.md "The audit event")
 * and the two pages a browser may get when something goes wrong.
 *
 * The cache is why a sign-in costs one small read and one write transaction
 * and no XML parse of the metadata: parsing Okta's metadata and opening the
 * sealed SP key cost more than verifying the response.
 */
#include "saml/web.h"

#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "directory/session.h"
#include "saml/metadata.h"
#include "saml/spkeys.h"
#include "store/saml.h"
#include "store/signins.h"

struct cache_entry {
	ts_arena_t *arena; /* everything of trust; NULL when the slot is empty */
	struct ts__saml_trust trust;
};

struct cache {
	struct cache_entry slots[TS__SAML_CACHE_SLOTS];
};

/*
 * Each worker's cache. The first worker to start also sets up libxml2 and
 * xmlsec1 for the process (ts_saml_init runs once, under its own lock),
 * before any request can reach the verifier; when that fails the worker
 * keeps no cache and every SAML request answers 500.
 */
static void *slot_init(void *config)
{
	const struct ts_saml_config *cfg = config;
	static int warned; /* once per process, not once per worker */
	if ((cfg == NULL || cfg->base_url == NULL) &&
	    !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		ts_log(TS_LOG_WARN,
		       "SAML sign-in is off: serve --base-url is not set (docs/saml.md)", NULL);
	struct ts_error e = {0};
	if (ts_saml_init(&e) != TS_ERR_OK) {
		ts_log(TS_LOG_ERROR, "SAML is not available",
		       json_pack("{s:o}", "message", ts_json_text(e.message)));
		return NULL;
	}
	return ts_calloc(1, sizeof(struct cache));
}

/* The arenas wipe the private keys they hold (ts_saml_sp_keys_load). */
static void slot_free(void *state)
{
	struct cache *c = state;
	if (c == NULL)
		return;
	for (int i = 0; i < TS__SAML_CACHE_SLOTS; i++)
		ts_arena_free(&c->slots[i].arena);
	ts_free(c);
}

static const struct ts_http_slot saml_slot = {slot_init, slot_free};

bool ts__saml_begin(struct ts_http_req *req, struct ts_http_res *res, struct ts__saml_ctx *ctx)
{
	ctx->cfg = ts_http_config(req, &saml_slot);
	bool usable = ctx->cfg != NULL && ctx->cfg->master_key != NULL;
	if (!ts_login_begin(req, res, TS_SESSION_ORIGIN_SAML, usable ? ctx->cfg->base_url : NULL,
	                    usable, &ctx->login))
		return false;
	ctx->login.account_id = req->nparams > 0 ? req->params[0] : NULL;
	return true;
}

/* Loads an account's trust into a fresh arena (the caller's read transaction). */
static ts_err trust_load(struct ts__saml_ctx *ctx, ts_arena_t *a, struct ts__saml_trust *t,
                         bool *found, struct ts_error *e)
{
	struct ts_store_saml_config cfg;
	ts_err rc =
	        ts_store_saml_config_get(ctx->login.conn, a, ctx->login.account_id, &cfg, found, e);
	if (rc != TS_ERR_OK || !*found)
		return rc;
	if (cfg.metadata_xml == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "account %s: a SAML config without metadata",
		               ctx->login.account_id);
	struct ts_saml_idp_metadata md;
	rc = ts_saml_metadata_parse(a, cfg.metadata_xml, strlen(cfg.metadata_xml), &md, e);
	if (rc != TS_ERR_OK) /* it parsed when it was stored: this binary reads it otherwise */
		return TS_FAIL(e, TS_ERR_INTERNAL, "stored IdP metadata of %s: %s",
		               ctx->login.account_id, e->message);
	struct ts_saml_sp_keys keys;
	rc = ts_saml_sp_keys_load(ctx->login.conn, a, ctx->cfg->master_key, ctx->login.account_id,
	                          ctx->login.now_ms, &keys, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char **certs = ts_arena_alloc(a, sizeof *certs * (md.n_certs + 1));
	for (size_t i = 0; i < md.n_certs; i++)
		certs[i] = md.certs[i].pem;
	*t = (struct ts__saml_trust){
	        .account_id = ts_arena_strdup(a, ctx->login.account_id),
	        .version = cfg.version,
	        .loaded_ms = ctx->login.now_ms,
	        .idp_entity_id = md.entity_id,
	        .sso_url = md.sso_redirect_url,
	        .idp_certs = certs,
	        .n_idp_certs = md.n_certs,
	        .sp_certs = keys.certs_pem,
	        .n_sp_certs = keys.n,
	        .sp_keys = keys.keys_pem,
	        .n_sp_keys = keys.n,
	        .valid_until_ms = md.valid_until_ms,
	        .allow_idp_initiated = cfg.allow_idp_initiated,
	        .allow_sha1 = cfg.allow_sha1,
	        .sp_entity_id = ts_arena_printf(a, "%s/saml/%s/metadata", ctx->login.base.origin,
	                                        ctx->login.account_id),
	        .acs_url = ts_arena_printf(a, "%s/saml/%s/acs", ctx->login.base.origin,
	                                   ctx->login.account_id),
	};
	t->n_relay_allow = ts_login_origins(a, cfg.relay_allow, NULL, TS__SAML_RELAY_ALLOW_MAX,
	                                    &t->relay_allow);
	return TS_ERR_OK;
}

ts_err ts__saml_trust(struct ts__saml_ctx *ctx, const struct ts__saml_trust **out,
                      struct ts_error *e)
{
	*out = NULL;
	struct cache *c = ts_http_state(ctx->login.req, &saml_slot);
	if (c == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "no SAML cache on this worker (ts_saml_init failed)");
	int64_t version = 0;
	ts_err rc = ts_login_source_version(&ctx->login, ts_store_saml_config_version, &version, e);
	if (rc != TS_ERR_OK || version == 0)
		return rc;
	struct cache_entry *slot =
	        &c->slots[ts_login_account_hash(ctx->login.account_id) % TS__SAML_CACHE_SLOTS];
	if (slot->arena != NULL && slot->trust.version == version &&
	    strcmp(slot->trust.account_id, ctx->login.account_id) == 0 &&
	    ctx->login.now_ms - slot->trust.loaded_ms < TS__SAML_TRUST_TTL_MS) {
		*out = &slot->trust;
		return TS_ERR_OK;
	}
	ts_arena_t *a = ts_arena_new();
	struct ts__saml_trust t;
	bool found = false;
	rc = ts_store_begin(ctx->login.conn, false, e);
	if (rc == TS_ERR_OK)
		rc = trust_load(ctx, a, &t, &found, e);
	ts_store_rollback(ctx->login.conn);
	if (rc != TS_ERR_OK || !found) {
		ts_arena_free(&a);
		return rc;
	}
	ts_arena_free(&slot->arena);
	slot->arena = a;
	slot->trust = t;
	*out = &slot->trust;
	return TS_ERR_OK;
}

struct ts_login_outcome ts__saml_login_outcome(struct ts__saml_ctx *ctx,
                                               const struct ts__saml_outcome *o)
{
	ts_arena_t *a = ctx->login.req->arena;
	/* a refused response's values are unverified, as long as the 256 KiB form allows:
	 * the audit trail keeps what the sign-in attempt keeps of them */
	const char *claimed[] = {o->name_id, o->assertion_id, o->in_response_to};
	for (size_t i = 0; i < sizeof claimed / sizeof claimed[0]; i++)
		if (claimed[i] != NULL)
			claimed[i] =
			        ts_login_utf8_prefix(a, claimed[i], TS_STORE_SIGNIN_IDENTITY_MAX);
	/* docs/saml.md: the IdP and the NameID; never the assertion itself */
	json_t *params = ts_json_own(a, json_object());
	ts_json_set_str(params, "IdpEntityId", o->idp_entity_id);
	ts_json_set_str(params, "NameId", claimed[0]);
	ts_json_set_str(params, "AssertionId", claimed[1]);
	ts_json_set_str(params, "InResponseTo", claimed[2]);
	return (struct ts_login_outcome){.check = o->check,
	                                 .reason = o->reason,
	                                 .identity = claimed[0],
	                                 .user_id = o->user_id,
	                                 .params = params};
}

void ts__saml_refuse(struct ts__saml_ctx *ctx, const struct ts__saml_outcome *o)
{
	struct ts_login_outcome lo = ts__saml_login_outcome(ctx, o);
	ts_login_refuse(&ctx->login, &lo);
}

#define ROUTE(m, path, fn, flags)                             \
	{                                                     \
		m, "/saml" path, fn, flags, NULL, "saml:" #fn \
	}
static const struct ts_http_route routes[] = {
        ROUTE("GET", "/{}/metadata", ts__saml_metadata_handle, 0),
        ROUTE("GET", "/{}/login", ts__saml_login_handle, 0),
        ROUTE("POST", "/{}/acs", ts__saml_acs_handle, 0),
        ROUTE("POST", "/{}/role", ts__saml_role_handle, 0),
        ROUTE("GET", "/static/resubmit.js", ts__saml_resubmit_js_handle, TS_HTTP_INLINE),
};

/* every SAML path answers its errors (no route, 413) as a page, not JSON */
static const struct ts_http_surface surface = {"/saml", ts_login_surface_error, NULL};

struct ts_http_module ts_saml_module(struct ts_saml_config *cfg)
{
	return (struct ts_http_module){.name = "saml",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = &surface,
	                               .slot = &saml_slot,
	                               .config = cfg};
}
