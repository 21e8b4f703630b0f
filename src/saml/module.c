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

#include <sodium.h>
#include <string.h>

#include "audit/event.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "directory/session.h"
#include "http/html.h"
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
	*ctx = (struct ts__saml_ctx){.req = req, .res = res, .now_ms = ts_now_ms()};
	ctx->cfg = ts_http_config(req, &saml_slot);
	struct ts_error e = {0};
	ts_err rc = TS_ERR_OK;
	if (ctx->cfg == NULL || ctx->cfg->base_url == NULL || ctx->cfg->master_key == NULL) {
		/* docs/http.md: browser flows need serve --base-url, never the Host header */
		rc = TS_FAIL(&e, TS_ERR_UNAVAILABLE, "SAML needs serve --base-url");
		goto out;
	}
	rc = ts_http_base_url_parse(req->arena, ctx->cfg->base_url, &ctx->base, &e);
	if (rc != TS_ERR_OK)
		goto out;
	rc = ts_http_conn(req, &ctx->conn, &e);
	if (rc != TS_ERR_OK)
		goto out;
	ctx->account_id = req->nparams > 0 ? req->params[0] : NULL;
out:
	if (rc != TS_ERR_OK)
		ts__saml_page_failed(req, res, rc, &e);
	return rc == TS_ERR_OK;
}

static struct cache_entry *slot_of(struct cache *c, const char *account_id)
{
	uint32_t x = 2166136261u; /* FNV-1a: spreads account IDs over the slots */
	for (const unsigned char *p = (const unsigned char *)account_id; *p; p++)
		x = (x ^ *p) * 16777619u;
	return &c->slots[x % TS__SAML_CACHE_SLOTS];
}

/* The allow-list column: a JSON array of origins (store/saml.h); others are skipped. */
static void relay_allow_parse(ts_arena_t *a, const char *text, struct ts__saml_trust *t)
{
	t->relay_allow = NULL;
	t->n_relay_allow = 0;
	if (text == NULL)
		return;
	json_t *arr = NULL;
	struct ts_error e = {0};
	if (ts_json_parse(text, strlen(text), NULL, a, &arr, &e) != TS_ERR_OK ||
	    !json_is_array(arr))
		return;
	const char **out = ts_arena_alloc(a, sizeof *out * TS__SAML_RELAY_ALLOW_MAX);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (t->n_relay_allow == TS__SAML_RELAY_ALLOW_MAX)
			break;
		const char *s = json_string_value(v);
		const char *o = s != NULL ? ts_http_origin_normalize(a, s, strlen(s)) : NULL;
		if (o != NULL)
			out[t->n_relay_allow++] = o;
	}
	t->relay_allow = out;
}

/* Loads an account's trust into a fresh arena (the caller's read transaction). */
static ts_err trust_load(struct ts__saml_ctx *ctx, ts_arena_t *a, struct ts__saml_trust *t,
                         bool *found, struct ts_error *e)
{
	struct ts_store_saml_config cfg;
	ts_err rc = ts_store_saml_config_get(ctx->conn, a, ctx->account_id, &cfg, found, e);
	if (rc != TS_ERR_OK || !*found)
		return rc;
	if (cfg.metadata_xml == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "account %s: a SAML config without metadata",
		               ctx->account_id);
	struct ts_saml_idp_metadata md;
	rc = ts_saml_metadata_parse(a, cfg.metadata_xml, strlen(cfg.metadata_xml), &md, e);
	if (rc != TS_ERR_OK) /* it parsed when it was stored: this binary reads it otherwise */
		return TS_FAIL(e, TS_ERR_INTERNAL, "stored IdP metadata of %s: %s", ctx->account_id,
		               e->message);
	struct ts_saml_sp_keys keys;
	rc = ts_saml_sp_keys_load(ctx->conn, a, ctx->cfg->master_key, ctx->account_id, ctx->now_ms,
	                          &keys, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char **certs = ts_arena_alloc(a, sizeof *certs * (md.n_certs + 1));
	for (size_t i = 0; i < md.n_certs; i++)
		certs[i] = md.certs[i].pem;
	*t = (struct ts__saml_trust){
	        .account_id = ts_arena_strdup(a, ctx->account_id),
	        .version = cfg.version,
	        .loaded_ms = ctx->now_ms,
	        .idp_entity_id = md.entity_id,
	        .sso_url = md.sso_redirect_url,
	        .idp_certs = certs,
	        .n_idp_certs = md.n_certs,
	        .sp_certs = keys.certs_pem,
	        .n_sp_certs = keys.n,
	        .sp_keys = keys.keys_pem,
	        .n_sp_keys = keys.n,
	        .allow_idp_initiated = cfg.allow_idp_initiated,
	        .allow_sha1 = cfg.allow_sha1,
	        .sp_entity_id = ts_arena_printf(a, "%s/saml/%s/metadata", ctx->base.origin,
	                                        ctx->account_id),
	        .acs_url = ts_arena_printf(a, "%s/saml/%s/acs", ctx->base.origin, ctx->account_id),
	};
	relay_allow_parse(a, cfg.relay_allow, t);
	return TS_ERR_OK;
}

ts_err ts__saml_trust(struct ts__saml_ctx *ctx, const struct ts__saml_trust **out,
                      struct ts_error *e)
{
	*out = NULL;
	struct cache *c = ts_http_state(ctx->req, &saml_slot);
	if (c == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "no SAML cache on this worker (ts_saml_init failed)");
	int64_t version = 0;
	ts_err rc = ts_store_begin(ctx->conn, false, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_store_read_one(ctx->conn);
	rc = ts_store_saml_config_version(ctx->conn, ctx->account_id, &version, e);
	ts_store_rollback(ctx->conn);
	if (rc != TS_ERR_OK || version == 0)
		return rc;
	struct cache_entry *slot = slot_of(c, ctx->account_id);
	if (slot->arena != NULL && slot->trust.version == version &&
	    strcmp(slot->trust.account_id, ctx->account_id) == 0 &&
	    ctx->now_ms - slot->trust.loaded_ms < TS__SAML_TRUST_TTL_MS) {
		*out = &slot->trust;
		return TS_ERR_OK;
	}
	ts_arena_t *a = ts_arena_new();
	struct ts__saml_trust t;
	bool found = false;
	rc = ts_store_begin(ctx->conn, false, e);
	if (rc == TS_ERR_OK)
		rc = trust_load(ctx, a, &t, &found, e);
	ts_store_rollback(ctx->conn);
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

const char *ts__saml_utf8_prefix(ts_arena_t *a, const char *s, size_t max)
{
	size_t n = 0, len = strlen(s);
	if (len <= max)
		return s;
	while (n < len) {
		size_t k = ts_utf8_next((const unsigned char *)s + n, len - n, NULL);
		if (k == 0 || n + k > max)
			break;
		n += k;
	}
	return ts_arena_strndup(a, s, n);
}

ts_err ts__saml_record(struct ts__saml_ctx *ctx, const struct ts__saml_outcome *o,
                       struct ts_error *e)
{
	struct ts_http_req *req = ctx->req;
	/* a refused response's values are unverified, as long as the 256 KiB form allows:
	 * the audit trail keeps what the sign-in attempt keeps of them */
	const char *claimed[] = {o->name_id, o->assertion_id, o->in_response_to};
	for (size_t i = 0; i < sizeof claimed / sizeof claimed[0]; i++)
		if (claimed[i] != NULL)
			claimed[i] = ts__saml_utf8_prefix(req->arena, claimed[i],
			                                  TS_STORE_SIGNIN_IDENTITY_MAX);
	/* docs/saml.md: the protocol, the IdP and the NameID; never the assertion itself */
	json_t *params = ts_json_own(req->arena, json_object());
	json_object_set_new(params, "Protocol", json_string("saml"));
	ts_json_set_str(params, "IdpEntityId", o->idp_entity_id);
	ts_json_set_str(params, "NameId", claimed[0]);
	ts_json_set_str(params, "AssertionId", claimed[1]);
	ts_json_set_str(params, "InResponseTo", claimed[2]);
	ts_json_set_str(params, "Check", o->check);
	struct ts_audit_entry entry = {
	        .who = {.type = o->user_id != NULL ? "User" : "Anonymous",
	                .principal_id = o->user_id},
	        .event_source = TS_AUDIT_SOURCE_SIGNIN,
	        .event_name = TS_AUDIT_EVENT_SIGNIN,
	        .account_id = ctx->account_id,
	        .source_ip = req->peer,
	        .user_agent = ts_text_escape(req->arena, ts_http_header(req, "user-agent")),
	        .request_id = req->request_id,
	        .client_request_id = req->client_request_id,
	        .request_parameters = params,
	        .error_code = o->check,
	        .error_message = o->check != NULL ? o->reason : NULL,
	};
	ts_err rc = ts_audit_append(ctx->conn, req->arena, &entry, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* attempts are kept per user, or per identity: without an identity there is none to show */
	const char *identity = claimed[0];
	if (identity == NULL || identity[0] == '\0')
		return TS_ERR_OK;
	struct ts_signin_attempt at = {.account_id = ctx->account_id,
	                               .user_id = o->user_id,
	                               .identity = identity,
	                               .time_ms = ctx->now_ms,
	                               .outcome = o->check == NULL ? "Allowed" : "Refused",
	                               .check_name = o->check,
	                               .source = TS_SESSION_ORIGIN_SAML};
	return ts_store_signin_attempt_insert(ctx->conn, &at, e);
}

void ts__saml_refuse(struct ts__saml_ctx *ctx, const struct ts__saml_outcome *o)
{
	struct ts_error e = {0};
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
	ts_err rc;
again:
	rc = ts_store_begin(ctx->conn, true, &e);
	if (rc == TS_ERR_OK)
		rc = ts__saml_record(ctx, o, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(ctx->conn, &e);
	if (rc != TS_ERR_OK && ts_store_tx_retry(ctx->conn, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK) {
		ts_store_rollback(ctx->conn);
		ts__saml_page_failed(ctx->req, ctx->res, rc, &e);
		return;
	}
	ts_log(TS_LOG_INFO, "saml sign-in refused",
	       json_pack("{s:s, s:s, s:s}", "request_id", ctx->req->request_id, "account",
	                 ctx->account_id != NULL ? ctx->account_id : "", "check", o->check));
	ts__saml_page_refused(ctx->req, ctx->res);
}

void ts__saml_page(struct ts_http_req *req, struct ts_http_res *res, int status, const char *title,
                   const char *text)
{
	struct ts_http_html h;
	ts_http_html_init(&h, req->arena);
	ts_http_html_page_begin(&h, title);
	ts_http_html_lit(&h, "<h1>");
	ts_http_html_text(&h, title);
	ts_http_html_lit(&h, "</h1><p>");
	ts_http_html_text(&h, text);
	ts_http_html_lit(&h, "</p><p>Request id: <code>");
	ts_http_html_text(&h, req->request_id);
	ts_http_html_lit(&h, "</code></p>");
	ts_http_html_page_end(&h);
	ts_http_res_html(req, res, status, &h);
}

void ts__saml_page_refused(struct ts_http_req *req, struct ts_http_res *res)
{
	/* STYLE.md, Errors: the browser never learns which check failed; the audit event does */
	ts__saml_page(
	        req, res, ts_err_status(TS_ERR_FORBIDDEN), "Sign-in failed",
	        "You could not be signed in. If this keeps happening, give your administrator the "
	        "request id below.");
	res->error_code = "SignInRefused";
}

void ts__saml_page_failed(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                          const struct ts_error *e)
{
	ts_log(TS_LOG_ERROR, "saml request failed",
	       json_pack("{s:s, s:s, s:o}", "request_id", req->request_id, "code", ts_err_name(rc),
	                 "message", ts_json_text(ts_error_text(e, rc))));
	bool later = ts_store_err_transient(rc);
	ts__saml_page(req, res,
	              later ? ts_err_status(TS_ERR_UNAVAILABLE) : ts_err_status(TS_ERR_INTERNAL),
	              "Sign-in unavailable",
	              later ? "Sign-in is not available at the moment. Try again in a minute."
	                    : "Something went wrong on our side.");
	/* RFC 9110 §15.6.4, §10.2.3: a 503 says when to come back */
	if (later)
		ts_http_res_header(res, "retry-after",
		                   ts_arena_printf(req->arena, "%d", TS_STORE_RETRY_AFTER_S));
	res->error_code = ts_err_name(rc);
}

/* Every SAML path answers its errors (no route, 413) as a page, not JSON. */
static void surface_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                          const char *message)
{
	(void)message;
	ts__saml_page(req, res, status, "Sign-in failed",
	              code == TS_ERR_TOO_LARGE ? "The sign-in message is too large."
	                                       : "This sign-in address is not valid.");
	res->error_code = ts_err_name(code);
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

static const struct ts_http_surface surface = {"/saml", surface_error};

struct ts_http_module ts_saml_module(struct ts_saml_config *cfg)
{
	return (struct ts_http_module){.name = "saml",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = &surface,
	                               .slot = &saml_slot,
	                               .config = cfg};
}
