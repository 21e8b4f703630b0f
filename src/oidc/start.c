/*
 * GET /auth/{AccountId}/oidc: the start of a sign-in, the authorization
 * request of the code flow (OpenID Connect Core §3.1.2.1). Without `iss` it
 * is SP-initiated (a person opens the link); with `iss` it is the
 * provider's Initiate Login URI (Core §4, Okta's "Login initiated by:
 * Either"): iss must be the configured issuer, login_hint is passed on,
 * target_link_uri is where the person lands when it is same-origin or
 * allow-listed (else /portal, ts_login_target).
 *
 * A new state (32 random bytes, base64url) names the row kept in the store
 * for TS_OIDC_STATE_TTL_MS, single use, on any node: its hash, the account,
 * the target, the hash of the nonce, and the hash of the browser's binding
 * cookie (federation-security.md §3: a state that another browser brings is
 * refused, OAuth 2.0 Security BCP RFC 9700 §4.7). The nonce and the PKCE
 * verifier (RFC 7636, S256) are derived from the state with keys derived
 * from the master key, so the store holds hashes only and the verifier is
 * never written anywhere.
 */
#include <string.h>

#include "core/crypto.h"
#include "http/cookie.h"
#include "http/html.h"
#include "http/redirect.h"
#include "oidc/web.h"
#include "store/oidc.h"

#define STATUS_FOUND 302 /* RFC 6749 §4.1.1: the authorization request is a redirect */
void ts__oidc_start_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts__oidc_ctx ctx;
	/* both steps write to the store for anyone who asks: limited per client address */
	if (!ts__oidc_begin(req, res, &ctx) || !ts_login_admit(&ctx.login, ctx.cfg->throttle))
		return;
	struct ts_error e = {0};
	struct ts__oidc_start in;
	ts_err rc = ts__oidc_start_parse(req->arena, req->query, strlen(req->query), &in, &e);
	if (rc != TS_ERR_OK) {
		ts_login_page(req, res, ts_err_status(rc), "Sign-in failed",
		              "This sign-in address is not valid.");
		res->error_code = ts_err_name(rc);
		return;
	}
	struct ts__oidc_trust *t = NULL;
	rc = ts__oidc_trust(&ctx, &t, &e);
	if (rc != TS_ERR_OK)
		goto fail;
	if (t == NULL) {
		ts_login_page(req, res, ts_err_status(TS_ERR_NOT_FOUND), "Sign-in not available",
		              "This account has no OpenID Connect sign-in.");
		return;
	}
	/* OpenID Connect Core §4: iss names the provider that asks for the login; the RP
	 * starts a sign-in only with the one it is configured with (simple string comparison,
	 * Core §16.15's mix-up defence) */
	if (in.iss != NULL && strcmp(in.iss, t->issuer) != 0) {
		struct ts__oidc_outcome o = {.check = "InitiatorIssuer",
		                             .reason = "third-party-initiated login from an issuer "
		                                       "that is not the configured one",
		                             .issuer = t->issuer};
		ts__oidc_refuse(&ctx, &o);
		return;
	}
	const char *target = ts_login_target(req->arena, in.target_link_uri, TS_HTTP_REDIRECT_MAX,
	                                     t->relay_allow, t->n_relay_allow);
	unsigned char raw[TS__OIDC_RANDOM_BYTES];
	ts_random_bytes(raw, sizeof raw);
	const char *state = ts_b64url_encode(req->arena, raw, sizeof raw);
	char nonce[TS__OIDC_PKCE_VERIFIER_LEN + 1], verifier[TS__OIDC_PKCE_VERIFIER_LEN + 1];
	char challenge[TS__OIDC_PKCE_CHALLENGE_LEN + 1];
	ts__oidc_derive(ctx.cfg->master_key, TS__OIDC_KEY_NONCE, state, nonce);
	ts__oidc_derive(ctx.cfg->master_key, TS__OIDC_KEY_PKCE, state, verifier);
	ts__oidc_pkce_challenge(verifier, challenge);
	struct ts__oidc_authz az = {.client_id = t->client_id,
	                            .redirect_uri = t->redirect_uri,
	                            .scope = t->scopes,
	                            .state = state,
	                            .nonce = nonce,
	                            .code_challenge = challenge,
	                            .login_hint = in.login_hint};
	const char *url = NULL;
	rc = ts__oidc_authorize_url(req->arena, t->authorization_endpoint, &az, &url, &e);
	if (rc != TS_ERR_OK)
		goto fail;
	const char *binding = ts_login_binding_value(&ctx.login, TS_OIDC_BINDING_COOKIE);
	struct ts_store_oidc_state st = {.state_hash = ts_login_hash(req->arena, state),
	                                 .account_id = ctx.login.account_id,
	                                 .browser_hash = ts_login_hash(req->arena, binding),
	                                 .nonce_hash = ts_login_hash(req->arena, nonce),
	                                 .target = target,
	                                 .created_ms = ctx.login.now_ms,
	                                 .expires_ms = ctx.login.now_ms + TS_OIDC_STATE_TTL_MS};
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	rc = ts_store_begin(ctx.login.conn, true, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_oidc_state_insert(ctx.login.conn, &st, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(ctx.login.conn, &e);
	if (rc != TS_ERR_OK && ts_store_tx_retry(ctx.login.conn, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK)
		goto fail;
	/* the provider sends the browser back with a top-level GET: SameSite=Lax comes along */
	struct ts_http_cookie_opts co = {.max_age_s = TS_OIDC_STATE_TTL_MS / 1000,
	                                 .samesite = TS_HTTP_SAMESITE_LAX};
	rc = ts_http_cookie_set(res, req->arena, &ctx.login.base, TS_OIDC_BINDING_COOKIE, binding,
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
