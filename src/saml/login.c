/*
 * GET /saml/{AccountId}/login[?RelayState=...]: the SP-initiated sign-in
 * (SAML Profiles §4.1.3). A signed AuthnRequest goes to the IdP over the
 * HTTP-Redirect binding (authn.h); its ID is stored, single use, for
 * TS_SAML_REQUEST_TTL_MS, bound to this browser by the hash of a random
 * cookie (federation-security.md §1: an InResponseTo that another browser,
 * or nobody, asked for is refused at the ACS). A browser that has a binding
 * cookie keeps it, so that sign-ins started in two tabs both succeed.
 */
#include <string.h>

#include "core/crypto.h"
#include "http/cookie.h"
#include "http/html.h"
#include "saml/authn.h"
#include "saml/web.h"
#include "store/saml.h"

#define STATUS_FOUND 302 /* SAML Bindings §3.4.4: the Redirect binding uses a 302 */

void ts__saml_login_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts__saml_ctx ctx;
	if (!ts__saml_begin(req, res, &ctx) || !ts_login_admit(&ctx.login, ctx.cfg->throttle))
		return;
	struct ts_error e = {0};
	const struct ts__saml_trust *t = NULL;
	ts_err rc = ts__saml_trust(&ctx, &t, &e);
	if (rc != TS_ERR_OK)
		goto fail;
	if (t == NULL || (t->valid_until_ms != 0 && ctx.login.now_ms >= t->valid_until_ms)) {
		ts_login_page(req, res, ts_err_status(TS_ERR_NOT_FOUND), "Sign-in not available",
		              "This account has no SAML sign-in.");
		return;
	}
	if (t->sso_url == NULL || t->n_sp_keys == 0) {
		rc = TS_FAIL(
		        &e, TS_ERR_INTERNAL,
		        "account %s: no HTTP-Redirect SSO URL in the IdP metadata, or no SP key",
		        ctx.login.account_id);
		goto fail;
	}
	/* SAML Bindings §3.4.3: RelayState is at most 80 bytes by the letter, more in practice;
	 * past our cap the deep link is dropped, never the sign-in */
	const char *relay = ts_http_query(req, "RelayState");
	if (relay != NULL && (relay[0] == '\0' || strlen(relay) > TS_SAML_RELAY_STATE_MAX))
		relay = NULL;
	struct ts_saml_authn_request ar = {.request_id = ts_saml_request_id(req->arena),
	                                   .sp_entity_id = t->sp_entity_id,
	                                   .acs_url = t->acs_url,
	                                   .sso_url = t->sso_url,
	                                   .relay_state = relay,
	                                   .sp_key_pem = t->sp_keys[0],
	                                   .now_ms = ctx.login.now_ms};
	const char *url = NULL;
	rc = ts_saml_authn_redirect(req->arena, &ar, &url, &e);
	if (rc != TS_ERR_OK)
		goto fail;
	const char *binding = ts_login_binding_value(&ctx.login, TS_SAML_BINDING_COOKIE);
	const char *hash = ts_login_hash(req->arena, binding);
	struct ts_store_saml_request sr = {.request_id = ar.request_id,
	                                   .account_id = ctx.login.account_id,
	                                   .browser_hash = hash,
	                                   .relay_state = relay,
	                                   .created_ms = ctx.login.now_ms,
	                                   .expires_ms = ctx.login.now_ms + TS_SAML_REQUEST_TTL_MS};
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	rc = ts_store_begin(ctx.login.conn, true, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_request_insert(ctx.login.conn, &sr, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(ctx.login.conn, &e);
	if (rc != TS_ERR_OK && ts_store_tx_retry(ctx.login.conn, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK)
		goto fail;
	/* the IdP posts back cross-site: over https the cookie must be SameSite=None to come
	 * along; over http browsers refuse None, and the ACS's resubmit page brings it */
	struct ts_http_cookie_opts co = {.max_age_s = TS_SAML_REQUEST_TTL_MS / 1000,
	                                 .samesite = ctx.login.base.secure ? TS_HTTP_SAMESITE_NONE
	                                                                   : TS_HTTP_SAMESITE_LAX};
	rc = ts_http_cookie_set(res, req->arena, &ctx.login.base, TS_SAML_BINDING_COOKIE, binding,
	                        &co, &e);
	if (rc != TS_ERR_OK)
		goto fail;
	ts_http_res_set(res, STATUS_FOUND, NULL, NULL, 0);
	ts_http_res_header(res, "location", url);
	ts_http_page_headers(req->arena, res, NULL);
	return;
fail:
	ts_store_rollback(ctx.login.conn);
	*res = (struct ts_http_res){.arena = res->arena};
	ts_login_page_failed(req, res, rc, &e);
}
