/*
 * GET /auth/oidc/callback: the redirection endpoint of every account
 * (RFC 6749 §3.1.2; the state names the account). In order:
 *   1. the query (ts__oidc_callback_parse: each parameter once, capped);
 *   2. the state, read (single use: it is taken, on any node, in the one write
 *      transaction that records the outcome, step 6 or a refusal; of two
 *      callbacks with one state only the first to commit is not refused),
 *      and the browser's binding cookie compared with the hash its row
 *      keeps, in constant time: a state that is unknown, used, expired or
 *      another browser's is refused (RFC 9700 §4.7);
 *   3. a provider error (RFC 6749 §4.1.2.1) is shown as a page naming the
 *      error code only when it is a registered one, and audited with its
 *      description; the state is used up all the same;
 *   4. the RFC 9207 iss parameter: equal to the configured issuer when
 *      present, and required when discovery says the provider sends it;
 *   5. outside any transaction (a slow provider holds no lock): the code
 *      exchanged at the token endpoint (RFC 6749 §4.1.3, PKCE's
 *      code_verifier derived again from the state, client_secret_basic
 *      unless discovery offers only client_secret_post); the ID token's
 *      signature with pinned algorithms and the issuer's keys (jose.h; one
 *      JWKS refresh on an unknown kid, trust.c) and its claims (idtoken.h:
 *      iss, aud, azp, exp, iat, nonce, sub); userinfo (OpenID Connect Core
 *      §5.3) when the configured claim is not in the ID token, whose sub
 *      must be the ID token's;
 *   6. one write transaction: the state taken, the directory decides
 *      (docs/product.md §4), and when it allows, the user is registered and a session opened; the
 *      audit event and the sign-in attempt are written either way;
 *   7. the session cookie and a 303 to the target kept with the state (or
 *      /portal), or the one refusal page.
 * Every refusal writes exactly one SignIn audit event naming its check, and
 * opens nothing. The code, the tokens and the client secret are never
 * logged or audited.
 */
#include <sodium.h>
#include <strings.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "http/client.h"
#include "http/redirect.h"
#include "oidc/idtoken.h"
#include "oidc/web.h"
#include "store/oidc.h"

/* What the callback learnt, step by step. */
struct cb {
	struct ts__oidc_ctx *ctx;
	struct ts__oidc_trust *t;
	struct ts__oidc_callback q;
	struct ts_store_oidc_state st; /* the taken state's row */
	const char *access_token;
	const char *id_token;
	struct ts_oidc_claims claims;
	const char *identity; /* the configured claim's value, verified */
	struct ts__oidc_outcome o;
	struct ts_login_session session; /* opened when the directory allows */
};

/* Step 2: reads the state; *found says whether it lives. */
static ts_err state_read(struct cb *x, bool *found, struct ts_error *e)
{
	struct ts__oidc_ctx *ctx = x->ctx;
	const char *hash = ts_login_hash(ctx->login.req->arena, x->q.state);
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
	ts_err rc;
again:
	*found = false;
	rc = ts_store_begin(ctx->login.conn, false, e);
	if (rc == TS_ERR_OK) {
		ts_store_read_one(ctx->login.conn);
		rc = ts_store_oidc_state_get(ctx->login.conn, ctx->login.req->arena, hash,
		                             ctx->login.now_ms, &x->st, found, e);
		ts_store_rollback(ctx->login.conn);
	}
	if (rc != TS_ERR_OK && ts_store_tx_retry(ctx->login.conn, rc, &attempt))
		goto again;
	return rc;
}

/*
 * In the transaction that records the outcome: takes the state read in step
 * 2 (when one was). A state another callback took meanwhile refuses this
 * one, unless it is refused already.
 */
static ts_err state_take(struct ts_login_ctx *lc, void *arg, struct ts_login_outcome *o,
                         struct ts_error *e)
{
	struct cb *x = arg;
	if (x->st.state_hash == NULL)
		return TS_ERR_OK;
	struct ts_store_oidc_state st;
	bool found = false;
	ts_err rc = ts_store_oidc_state_take(lc->conn, lc->req->arena, x->st.state_hash, lc->now_ms,
	                                     &st, &found, e);
	if (rc == TS_ERR_OK && !found && o->check == NULL) {
		o->check = "State";
		o->reason = "another callback used this state meanwhile";
	}
	return rc;
}

/* A refusal after step 2: recorded with the state taken, then the refusal page. */
static void refuse_now(struct cb *x)
{
	struct ts_login_outcome lo = ts__oidc_login_outcome(x->ctx, &x->o);
	ts_login_refuse_with(&x->ctx->login, state_take, x, &lo);
}

/* Sets the refusal; returns false so that a step can `return refuse(...)`. */
static bool refuse(struct cb *x, const char *check, const char *reason)
{
	x->o.check = check;
	x->o.reason = reason;
	return false;
}

/* A JSON object answer of an outbound call, or NULL. */
static json_t *json_answer(ts_arena_t *a, const struct ts_http_client_response *r)
{
	json_t *j = NULL;
	struct ts_error e = {0};
	if (ts_json_parse(r->body, r->len, NULL, a, &j, &e) != TS_ERR_OK || !json_is_object(j))
		return NULL;
	return j;
}

/*
 * Step 5a: the token request (RFC 6749 §4.1.3, RFC 7636 §4.5, OpenID Connect
 * Core §3.1.3.1). false with x->o set on a refusal: whatever fails here is
 * the provider's answer or the way to it (TokenEndpoint names both).
 */
static bool token_exchange(struct cb *x)
{
	struct ts__oidc_ctx *ctx = x->ctx;
	const struct ts__oidc_trust *t = x->t;
	ts_arena_t *a = ctx->login.req->arena;
	char verifier[TS__OIDC_PKCE_VERIFIER_LEN + 1];
	ts__oidc_derive(ctx->cfg->master_key, TS__OIDC_KEY_PKCE, x->q.state, verifier);
	static const char *const names[] = {"grant_type",    "code",      "redirect_uri",
	                                    "code_verifier", "client_id", "client_secret"};
	const char *const values[] = {"authorization_code",
	                              x->q.code,
	                              t->redirect_uri,
	                              verifier,
	                              t->secret_post ? t->client_id : NULL,
	                              t->secret_post ? t->client_secret : NULL};
	const char *body = ts__oidc_query(a, names, values, sizeof names / sizeof names[0]);
	struct ts_http_client_request req = {
	        .method = "POST",
	        .url = t->token_endpoint,
	        .body = body,
	        .body_len = strlen(body),
	        .content_type = "application/x-www-form-urlencoded",
	        /* RFC 6749 §2.3.1: http/client.h form-encodes both before joining them */
	        .basic_user = t->secret_post ? NULL : t->client_id,
	        .basic_password = t->secret_post ? NULL : t->client_secret,
	};
	struct ts_http_client_opts opts = {.max_bytes = TS__OIDC_TOKEN_RESPONSE_MAX,
	                                   .accept = "application/json"};
	struct ts_http_client_response r;
	struct ts_error ce = {0};
	ts_err crc = ts_http_client_do(a, &req, &opts, &r, &ce);
	sodium_memzero(verifier, sizeof verifier);
	if (crc != TS_ERR_OK)
		return refuse(x, "TokenEndpoint",
		              ts_arena_printf(a, "the token request failed: %s", ce.message));
	json_t *j = json_answer(a, &r);
	if (r.status != 200) {
		/* RFC 6749 §5.2: the error code is the provider's word for what went wrong */
		const char *err = j != NULL ? ts_json_str(j, "error") : NULL;
		return refuse(x, "TokenEndpoint",
		              ts_arena_printf(
		                      a, "the token endpoint answered %ld%s%s", r.status,
		                      err != NULL ? ": " : "",
		                      err != NULL ? ts_login_utf8_prefix(a, err, TS__OIDC_ERROR_MAX)
		                                  : ""));
	}
	if (j == NULL)
		return refuse(x, "TokenEndpoint",
		              "the token endpoint's answer is not a JSON object");
	/* RFC 6749 §5.1 (access_token, token_type REQUIRED; §7.1 the type is case-insensitive),
	 * OpenID Connect Core §3.1.3.3 (token_type MUST be Bearer, id_token) */
	const char *type = ts_json_str(j, "token_type");
	if (type == NULL || strcasecmp(type, "Bearer") != 0)
		return refuse(x, "TokenType", "the token endpoint's token_type is not Bearer");
	x->access_token = ts_json_str(j, "access_token");
	x->id_token = ts_json_str(j, "id_token");
	if (x->access_token == NULL || x->id_token == NULL)
		return refuse(x, "TokenResponse",
		              "the token endpoint gave no access_token or no id_token");
	return true;
}

/*
 * Step 5b: the ID token (OpenID Connect Core §3.1.3.7). The signature
 * first (jose.h): only pinned algorithms, only the issuer's keys (or the
 * client secret for HS256 when allowed); one JWKS refresh when the kid is
 * unknown. Then the claims (idtoken.h). false with x->o set on a refusal;
 * *rc an error of ours (the store, on the refresh).
 */
static bool id_token_check(struct cb *x, ts_err *rc, struct ts_error *e)
{
	struct ts__oidc_ctx *ctx = x->ctx;
	struct ts__oidc_trust *t = x->t;
	ts_arena_t *a = ctx->login.req->arena;
	*rc = TS_ERR_OK;
	struct ts_oidc_jws j;
	struct ts_error je = {0};
	if (ts_oidc_jws_parse(a, x->id_token, strlen(x->id_token), &j, &je) != TS_ERR_OK)
		return refuse(x, ts_oidc_check_name(TS_OIDC_CHECK_MALFORMED),
		              ts_arena_printf(a, "the ID token: %s", je.message));
	/* what the token claims, unverified: only so that a refusal is found under it */
	x->o.subject = ts_json_str(j.payload, "sub");
	x->o.identity = ts_json_str(j.payload, t->claim);
	bool hs = j.alg == TS_OIDC_HS256 || j.alg == TS_OIDC_HS384 || j.alg == TS_OIDC_HS512;
	bool unknown_kid = false, refreshed = false;
	ts_err vrc = ts_oidc_jws_verify(&j, t->jwks, t->algs, t->n_algs, t->client_secret,
	                                t->client_secret_len, &unknown_kid, &je);
	if (vrc == TS_ERR_UNAUTHORIZED && unknown_kid && !hs) {
		/* OpenID Connect Core §10.1.1: the provider rotated its keys; ask once */
		bool changed = false;
		struct ts_error re = {0};
		ts_err frc = ts__oidc_jwks_refresh(ctx, t, &changed, &re);
		if (frc != TS_ERR_OK && frc != TS_ERR_BAD_REQUEST && frc != TS_ERR_TOO_LARGE) {
			*rc = frc; /* the store's */
			*e = re;
			return false;
		}
		if (frc != TS_ERR_OK)
			return refuse(
			        x, ts_oidc_check_name(TS_OIDC_CHECK_KEY_UNKNOWN),
			        ts_arena_printf(a, "the JWKS refresh failed: %s", re.message));
		if (changed) {
			refreshed = true;
			unknown_kid = false;
			je = (struct ts_error){0};
			vrc = ts_oidc_jws_verify(&j, t->jwks, t->algs, t->n_algs, t->client_secret,
			                         t->client_secret_len, &unknown_kid, &je);
			if (!unknown_kid)
				ts__oidc_jwks_served(t);
		}
	}
	if (vrc != TS_ERR_OK)
		return refuse(
		        x, ts_oidc_check_name(ts_oidc_jose_check(vrc, false, unknown_kid)),
		        unknown_kid && !refreshed
		                ? "no key has the ID token's kid (the JWKS was fetched moments "
		                  "ago)"
		                : ts_arena_printf(a, "the ID token: %s", je.message));
	char nonce[TS__OIDC_PKCE_VERIFIER_LEN + 1];
	ts__oidc_derive(ctx->cfg->master_key, TS__OIDC_KEY_NONCE, x->q.state, nonce);
	struct ts_oidc_idtoken_expect ex = {
	        .issuer = t->issuer,
	        .client_id = t->client_id,
	        .nonce = nonce,
	        .now_ms = ts_now_ms(), /* the token call may have taken seconds */
	        .skew_ms = ctx->cfg->skew_ms > 0 ? ctx->cfg->skew_ms : TS_OIDC_SKEW_DEFAULT_MS};
	enum ts_oidc_check failed = TS_OIDC_CHECK_NONE;
	if (ts_oidc_idtoken_check(a, &j, &ex, &x->claims, &failed, &je) != TS_ERR_OK)
		return refuse(x, ts_oidc_check_name(failed), je.message);
	/* the nonce this browser's state was issued with (its hash is the row's) */
	if (x->claims.nonce == NULL ||
	    !ts_login_same_hash(x->st.nonce_hash, ts_login_hash(a, x->claims.nonce)))
		return refuse(x, "Nonce", "the ID token's nonce is not the one of this state");
	x->o.issuer = x->claims.iss;
	x->o.subject = x->claims.sub;
	const char *v = json_string_value(json_object_get(x->claims.all, t->claim));
	x->identity = v;
	x->o.identity = v;
	return true;
}

/*
 * Step 5c: userinfo (OpenID Connect Core §5.3) when the ID token lacks the
 * configured claim: the access token in the Authorization header (§5.3.1,
 * RFC 6750 §2.1), a JSON answer whose sub is the ID token's (§5.3.2).
 */
static bool userinfo(struct cb *x)
{
	struct ts__oidc_ctx *ctx = x->ctx;
	const struct ts__oidc_trust *t = x->t;
	ts_arena_t *a = ctx->login.req->arena;
	if (x->identity != NULL || t->userinfo_endpoint == NULL)
		return true; /* the directory's IdentityMatch refuses a missing identity */
	const char *headers[] = {
	        ts_arena_concat(a, "Authorization: Bearer ", x->access_token, (char *)NULL), NULL};
	struct ts_http_client_request req = {
	        .method = "GET", .url = t->userinfo_endpoint, .headers = headers};
	struct ts_http_client_opts opts = {.max_bytes = TS__OIDC_USERINFO_MAX,
	                                   .accept = "application/json"};
	struct ts_http_client_response r;
	struct ts_error ce = {0};
	if (ts_http_client_do(a, &req, &opts, &r, &ce) != TS_ERR_OK)
		return refuse(x, "Userinfo",
		              ts_arena_printf(a, "the userinfo request failed: %s", ce.message));
	if (r.status != 200)
		return refuse(x, "Userinfo",
		              ts_arena_printf(a, "the userinfo endpoint answered %ld", r.status));
	/* §5.3.2: a signed or encrypted answer (application/jwt) is not what was asked for */
	json_t *j = json_answer(a, &r);
	if (j == NULL)
		return refuse(x, "Userinfo", "the userinfo answer is not a JSON object");
	const char *sub = ts_json_str(j, "sub");
	if (sub == NULL || strcmp(sub, x->claims.sub) != 0)
		return refuse(
		        x, "UserinfoSubject",
		        "the userinfo answer's sub is not the ID token's (OpenID Connect Core "
		        "§5.3.2)");
	x->identity = ts_json_str(j, t->claim);
	x->o.identity = x->identity;
	return true;
}

/* Step 6, in the open write transaction (ts_login_transact); o->check says a refusal. */
static ts_err decide(struct ts_login_ctx *lc, void *arg, struct ts_login_outcome *o,
                     struct ts_error *e)
{
	struct cb *x = arg;
	ts_err rc = state_take(lc, arg, o, e);
	if (rc != TS_ERR_OK || o->check != NULL)
		return rc;
	struct ts_signin_assertion in = {.via = TS_SIGNIN_VIA_OIDC,
	                                 .identity = x->identity,
	                                 .identity_source = x->t->claim,
	                                 .issuer = x->claims.iss,
	                                 .subject = x->claims.sub};
	struct ts_session_origin origin = {0};
	return ts_login_decide(lc, &in, &origin, o, &x->session, e);
}

/* Steps 6 and 7: the transaction (retried as a whole), then the answer. */
static void finish(struct cb *x)
{
	struct ts__oidc_ctx *ctx = x->ctx;
	struct ts_login_outcome o = ts__oidc_login_outcome(ctx, &x->o);
	ts_store_write_soon(ctx->login.conn, true); /* lets the transaction join a group commit */
	if (!ts_login_transact(&ctx->login, decide, x, &o))
		return;
	if (o.check != NULL) {
		ts_login_page_refused(ctx->login.req, ctx->login.res);
		return;
	}
	const char *target =
	        ts_login_target(ctx->login.req->arena, x->st.target, TS_HTTP_REDIRECT_MAX,
	                        x->t->relay_allow, x->t->n_relay_allow);
	ts_login_land(&ctx->login, x->session.token, target, x->t->relay_allow,
	              x->t->n_relay_allow);
}

/* Step 3: the provider's error (RFC 6749 §4.1.2.1), a page of its own, audited. */
static void provider_error(struct cb *x)
{
	struct ts__oidc_ctx *ctx = x->ctx;
	ts_arena_t *a = ctx->login.req->arena;
	bool known = ts__oidc_error_known(x->q.error);
	x->o.check = "ProviderError";
	x->o.provider_error = x->q.error;
	x->o.reason = x->q.error_description != NULL
	                      ? ts_arena_printf(a, "%s: %s", x->q.error, x->q.error_description)
	                      : x->q.error;
	/* the description is the provider's text as the browser brought it: anyone can write
	 * one into a link, so the page never shows it; a registered code it names */
	const char *text =
	        known ? ts_arena_printf(a,
	                                "The identity provider did not sign you in (%s). Try "
	                                "again, or ask your administrator.",
	                                x->q.error)
	              : "The identity provider did not sign you in. Try again, or ask your "
	                "administrator.";
	struct ts_login_outcome o = ts__oidc_login_outcome(ctx, &x->o);
	if (!ts_login_transact(&ctx->login, state_take, x, &o))
		return;
	ts_login_page(ctx->login.req, ctx->login.res, ts_err_status(TS_ERR_FORBIDDEN),
	              "Sign-in failed", text);
	ctx->login.res->error_code = "SignInRefused";
}

void ts__oidc_callback_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts__oidc_ctx ctx;
	/* both steps write to the store for anyone who asks: limited per client address */
	if (!ts__oidc_begin(req, res, &ctx) || !ts_login_admit(&ctx.login, ctx.cfg->throttle))
		return;
	struct cb x = {.ctx = &ctx};
	struct ts_error e = {0};
	ts_err rc = ts__oidc_callback_parse(req->arena, req->query, strlen(req->query), &x.q, &e);
	if (rc != TS_ERR_OK) {
		refuse(&x, "Malformed", e.message);
		refuse_now(&x);
		return;
	}
	if (x.q.state == NULL) {
		if (x.q.error != NULL) {
			provider_error(&x);
			return;
		}
		refuse(&x, "StateMissing", "the callback has no state");
		refuse_now(&x);
		return;
	}
	bool found = false;
	rc = state_read(&x, &found, &e);
	if (rc != TS_ERR_OK) {
		ts_login_page_failed(req, res, rc, &e);
		return;
	}
	if (found)
		ctx.login.account_id = x.st.account_id;
	if (x.q.error != NULL) {
		provider_error(&x);
		return;
	}
	if (!found) {
		refuse(&x, "State",
		       "no live sign-in has this state (never issued, used or expired)");
		refuse_now(&x);
		return;
	}
	if (!ts_login_same_hash(x.st.browser_hash,
	                        ts_login_cookie_hash(&ctx.login, TS_OIDC_BINDING_COOKIE))) {
		refuse(&x, "State", "the state was issued to another browser");
		refuse_now(&x);
		return;
	}
	rc = ts__oidc_trust(&ctx, &x.t, &e);
	if (rc != TS_ERR_OK) {
		ts_login_page_failed(req, res, rc, &e);
		return;
	}
	if (x.t == NULL) {
		refuse(&x, "NotConfigured", "the account has no OpenID Connect configuration");
		refuse_now(&x);
		return;
	}
	x.o.issuer = x.t->issuer;
	/* RFC 9207 §2.4: iss, when present, is the issuer (simple string comparison); a
	 * provider that advertises it must send it */
	if ((x.q.iss != NULL && strcmp(x.q.iss, x.t->issuer) != 0) ||
	    (x.q.iss == NULL && x.t->iss_param_required)) {
		refuse(&x, "IssuerParameter",
		       x.q.iss != NULL
		               ? "the iss parameter is not the configured issuer"
		               : "the provider sends iss (RFC 9207) and this callback has none");
		refuse_now(&x);
		return;
	}
	if (x.q.code == NULL || x.q.code[0] == '\0') {
		refuse(&x, "Malformed", "the callback has no code");
		refuse_now(&x);
		return;
	}
	rc = TS_ERR_OK;
	if (!token_exchange(&x) || !id_token_check(&x, &rc, &e) || !userinfo(&x)) {
		if (rc != TS_ERR_OK)
			ts_login_page_failed(req, res, rc, &e);
		else
			refuse_now(&x);
		return;
	}
	finish(&x);
}
