/*
 * The browser sign-in's shared steps (login.h): context, decision, record,
 * cookie, landing and pages. A sign-in costs one write transaction: what the
 * protocol consumes (its request, its replay entry), the directory's
 * decision, the registration, the session, the audit event and the sign-in
 * attempt commit together or not at all (docs/store.md, transactions).
 */
#include "login/login.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "audit/event.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "directory/user.h"
#include "http/cookie.h"
#include "http/html.h"
#include "http/redirect.h"
#include "http/url.h"
#include "portal/portal.h"
#include "store/signins.h"

bool ts_login_begin(struct ts_http_req *req, struct ts_http_res *res, const char *protocol,
                    const char *base_url, bool usable, struct ts_login_ctx *ctx)
{
	*ctx = (struct ts_login_ctx){
	        .req = req, .res = res, .protocol = protocol, .now_ms = ts_now_ms()};
	struct ts_error e = {0};
	ts_err rc = TS_ERR_OK;
	if (base_url == NULL || !usable) {
		/* docs/http.md: browser flows need serve --base-url, never the Host header */
		rc = TS_FAIL(&e, TS_ERR_UNAVAILABLE, "%s sign-in needs serve --base-url", protocol);
		goto out;
	}
	rc = ts_http_base_url_parse(req->arena, base_url, &ctx->base, &e);
	if (rc == TS_ERR_OK)
		rc = ts_http_conn(req, &ctx->conn, &e);
out:
	if (rc != TS_ERR_OK)
		ts_login_page_failed(req, res, rc, &e);
	return rc == TS_ERR_OK;
}

const char *ts_login_client_key(ts_arena_t *a, const char *peer)
{
	unsigned char in6[16];
	if (peer == NULL || strchr(peer, ':') == NULL || inet_pton(AF_INET6, peer, in6) != 1)
		return peer != NULL ? peer : "";
	char *out = ts_arena_alloc(a, INET6_ADDRSTRLEN);
	/* RFC 4291 §2.5.5.2: an IPv4 client of a dual-stack socket is its IPv4 address */
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(in6, mapped, sizeof mapped) == 0)
		return inet_ntop(AF_INET, in6 + 12, out, INET6_ADDRSTRLEN) != NULL ? out : peer;
	memset(in6 + 8, 0, 8);
	return inet_ntop(AF_INET6, in6, out, INET6_ADDRSTRLEN) != NULL ? out : peer;
}

bool ts_login_admit(struct ts_login_ctx *ctx, ts_throttle_t *t)
{
	int64_t retry_s = 0;
	if (ts_throttle_take(t, ts_login_client_key(ctx->req->arena, ctx->req->peer), ts_mono_ns(),
	                     &retry_s))
		return true;
	ts_login_page(ctx->req, ctx->res, ts_err_status(TS_ERR_THROTTLED), "Too many sign-ins",
	              "Too many sign-in attempts came from your network. Try again in a minute.");
	/* RFC 6585 §4: 429 Too Many Requests, RFC 9110 §10.2.3: when to come back */
	ts_http_res_header(ctx->res, "retry-after",
	                   ts_arena_printf(ctx->req->arena, "%lld", (long long)retry_s));
	ctx->res->error_code = ts_err_name(TS_ERR_THROTTLED);
	return false;
}

const char *ts_login_utf8_prefix(ts_arena_t *a, const char *s, size_t max)
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

const char *ts_login_client(struct ts_http_req *req)
{
	const char *ua = ts_http_header(req, "user-agent");
	return ua != NULL ? ts_login_utf8_prefix(req->arena, ua, TS_LOGIN_CLIENT_MAX) : NULL;
}

ts_err ts_login_record(struct ts_login_ctx *ctx, const struct ts_login_outcome *o,
                       struct ts_error *e)
{
	struct ts_http_req *req = ctx->req;
	/* a refused message's values are unverified: the audit trail keeps what the sign-in
	 * attempt keeps of them (docs/saml.md, docs/oidc.md: never a token or an assertion) */
	const char *identity = o->identity != NULL
	                               ? ts_login_utf8_prefix(req->arena, o->identity,
	                                                      TS_STORE_SIGNIN_IDENTITY_MAX)
	                               : NULL;
	json_t *params = ts_json_own(req->arena, json_object());
	json_object_set_new(params, "Protocol", json_string(ctx->protocol));
	if (o->params != NULL)
		json_object_update(params, o->params);
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
	/* attempts are kept per user, or per identity: without an identity (or an account, an
	 * OIDC callback whose state is unknown) there is none to show */
	if (identity == NULL || identity[0] == '\0' || ctx->account_id == NULL)
		return TS_ERR_OK;
	struct ts_signin_attempt at = {.account_id = ctx->account_id,
	                               .user_id = o->user_id,
	                               .identity = identity,
	                               .time_ms = ctx->now_ms,
	                               .outcome = o->check == NULL ? "Allowed" : "Refused",
	                               .check_name = o->check,
	                               .source = ctx->protocol};
	return ts_store_signin_attempt_insert(ctx->conn, &at, e);
}

bool ts_login_transact(struct ts_login_ctx *ctx, ts_login_step_fn step, void *arg,
                       struct ts_login_outcome *o)
{
	struct ts_error e = {0};
	const struct ts_login_outcome base = *o;
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
	ts_err rc;
again:
	*o = base;
	rc = ts_store_begin(ctx->conn, true, &e);
	if (rc == TS_ERR_OK && step != NULL)
		rc = step(ctx, arg, o, &e);
	if (rc == TS_ERR_OK && !o->unrecorded)
		rc = ts_login_record(ctx, o, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(ctx->conn, &e);
	if (rc != TS_ERR_OK && ts_store_tx_retry(ctx->conn, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK) {
		ts_store_rollback(ctx->conn);
		ts_login_page_failed(ctx->req, ctx->res, rc, &e);
		return false;
	}
	return true;
}

void ts_login_refuse(struct ts_login_ctx *ctx, const struct ts_login_outcome *o)
{
	ts_login_refuse_with(ctx, NULL, NULL, o);
}

void ts_login_refuse_with(struct ts_login_ctx *ctx, ts_login_step_fn step, void *arg,
                          const struct ts_login_outcome *o)
{
	struct ts_login_outcome copy = *o;
	if (!ts_login_transact(ctx, step, arg, &copy))
		return;
	ts_log(TS_LOG_INFO, "sign-in refused",
	       json_pack("{s:s, s:s, s:s, s:s}", "request_id", ctx->req->request_id, "protocol",
	                 ctx->protocol, "account", ctx->account_id != NULL ? ctx->account_id : "",
	                 "check", copy.check));
	ts_login_page_refused(ctx->req, ctx->res);
}

ts_err ts_login_decide(struct ts_login_ctx *ctx, const struct ts_signin_assertion *in,
                       struct ts_session_origin *origin, struct ts_login_outcome *o,
                       struct ts_login_session *out, struct ts_error *e)
{
	ts_arena_t *a = ctx->req->arena;
	*out = (struct ts_login_session){0};
	struct ts_signin_decision d;
	ts_err rc = ts_directory_signin_decide(ctx->conn, a, ctx->account_id, in, NULL, &d, e);
	if (rc == TS_ERR_NOT_FOUND) { /* the account went away with its identity source */
		o->check = "NotConfigured";
		o->reason = "the account does not exist";
		return TS_ERR_OK;
	}
	if (rc != TS_ERR_OK)
		return rc;
	o->user_id = d.user != NULL ? d.user->user_id : NULL;
	if (!d.allowed) {
		/* the rule's texts live in d, on this stack frame: the outcome outlives it */
		o->check = ts_arena_strdup(a, d.rules[d.first_failure].name);
		o->reason = ts_arena_strdup(a, d.rules[d.first_failure].reason);
		return TS_ERR_OK;
	}
	/* docs/product.md §4: the first successful sign-in registers the user; the row read in
	 * this transaction says whether that is still to do (a PIN drawn for nothing otherwise) */
	const char *status = d.user->registration_status;
	if (status == NULL || strcmp(status, TS_USER_REGISTERED) != 0) {
		bool registered = false;
		rc = ts_directory_user_register(ctx->conn, a, d.user->user_id, ctx->now_ms,
		                                &registered, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	origin->origin = ctx->protocol;
	struct ts_session s;
	rc = ts_directory_session_create_from(ctx->conn, a, ctx->account_id, d.user->user_id,
	                                      TS_SESSION_BROWSER, TS_LOGIN_SESSION_TTL_MS,
	                                      d.license, ts_login_client(ctx->req), origin,
	                                      &out->token, &s, e);
	if (rc != TS_ERR_OK)
		return rc;
	out->session_id = s.session_id;
	out->license = d.license;
	return TS_ERR_OK;
}

ts_err ts_login_cookie_set(struct ts_login_ctx *ctx, const char *token, struct ts_error *e)
{
	struct ts_http_cookie_opts co = {.max_age_s = TS_LOGIN_SESSION_TTL_MS / 1000};
	return ts_http_cookie_set(ctx->res, ctx->req->arena, &ctx->base, TS_PORTAL_SESSION_COOKIE,
	                          token, &co, e);
}

const char *ts_login_target(ts_arena_t *a, const char *target, size_t max,
                            const char *const *allowed, int n)
{
	/* docs/product.md §6, §7: deep links only to a same-origin path or an allow-listed
	 * origin; anything else is not refused, it lands on the portal */
	struct ts_error e = {0};
	if (target == NULL || target[0] == '\0' || strlen(target) > max ||
	    ts_http_redirect_check(a, target, allowed, n, &e) != TS_ERR_OK)
		return TS_LOGIN_LANDING;
	return target;
}

void ts_login_land(struct ts_login_ctx *ctx, const char *token, const char *target,
                   const char *const *allowed, int n)
{
	struct ts_error e = {0};
	ts_err rc = ts_login_cookie_set(ctx, token, &e);
	if (rc == TS_ERR_OK)
		rc = ts_http_redirect(ctx->req, ctx->res, target, allowed, n, &e);
	if (rc != TS_ERR_OK)
		ts_login_page_failed(ctx->req, ctx->res, rc, &e);
}

const char *ts_login_hash(ts_arena_t *a, const char *s)
{
	char *hash = ts_arena_alloc(a, TS_SHA256_HEX_LEN + 1);
	ts_sha256_hex(s, strlen(s), hash);
	return hash;
}

const char *ts_login_binding_value(struct ts_login_ctx *ctx, const char *name)
{
	struct ts_http_cookies jar;
	struct ts_error e = {0};
	const char *v = NULL;
	if (ts_http_cookies_from_req(ctx->req, &jar, &e) == TS_ERR_OK &&
	    ts_http_cookie_get(&jar, ts_http_cookie_name(ctx->req->arena, &ctx->base, name), &v,
	                       &e) == TS_ERR_OK &&
	    v != NULL && strlen(v) == TS_LOGIN_BINDING_RANDOM &&
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
	            TS_LOGIN_BINDING_RANDOM)
		return v;
	char *fresh = ts_arena_alloc(ctx->req->arena, TS_LOGIN_BINDING_RANDOM + 1);
	ts_random_token(fresh, TS_LOGIN_BINDING_RANDOM);
	return fresh;
}

int ts_login_origins(ts_arena_t *a, const char *json, const char *first, int max,
                     const char *const **out)
{
	const char **o = ts_arena_alloc(a, sizeof *o * (size_t)(max + 1));
	int n = 0;
	*out = o;
	if (first != NULL)
		o[n++] = ts_arena_strdup(a, first);
	json_t *arr = NULL;
	struct ts_error e = {0};
	if (json == NULL || ts_json_parse(json, strlen(json), NULL, a, &arr, &e) != TS_ERR_OK ||
	    !json_is_array(arr))
		return n;
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (n == max + (first != NULL))
			break;
		const char *s = json_string_value(v);
		const char *origin = s != NULL ? ts_http_origin_normalize(a, s, strlen(s)) : NULL;
		if (origin != NULL)
			o[n++] = origin;
	}
	return n;
}

ts_err ts_login_source_version(struct ts_login_ctx *ctx, ts_login_version_fn fn, int64_t *version,
                               struct ts_error *e)
{
	*version = 0;
	ts_err rc = ts_store_begin(ctx->conn, false, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_store_read_one(ctx->conn);
	rc = fn(ctx->conn, ctx->account_id, version, e);
	ts_store_rollback(ctx->conn);
	return rc;
}

uint32_t ts_login_account_hash(const char *account_id)
{
	uint32_t x = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)account_id; *p; p++)
		x = (x ^ *p) * 16777619u;
	return x;
}

void ts_login_surface_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code,
                            int status, const char *message)
{
	(void)message;
	ts_login_page(req, res, status, "Sign-in failed",
	              code == TS_ERR_TOO_LARGE ? "The sign-in message is too large."
	                                       : "This sign-in address is not valid.");
	res->error_code = ts_err_name(code);
}

const char *ts_login_cookie_hash(struct ts_login_ctx *ctx, const char *name)
{
	struct ts_http_cookies jar;
	struct ts_error e = {0};
	const char *v = NULL;
	if (ts_http_cookies_from_req(ctx->req, &jar, &e) != TS_ERR_OK ||
	    ts_http_cookie_get(&jar, ts_http_cookie_name(ctx->req->arena, &ctx->base, name), &v,
	                       &e) != TS_ERR_OK ||
	    v == NULL || v[0] == '\0')
		return NULL;
	return ts_login_hash(ctx->req->arena, v);
}

bool ts_login_same_hash(const char *stored, const char *sent)
{
	return stored != NULL && sent != NULL && strlen(stored) == TS_SHA256_HEX_LEN &&
	       strlen(sent) == TS_SHA256_HEX_LEN &&
	       sodium_memcmp(stored, sent, TS_SHA256_HEX_LEN) == 0;
}

void ts_login_page(struct ts_http_req *req, struct ts_http_res *res, int status, const char *title,
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

void ts_login_page_refused(struct ts_http_req *req, struct ts_http_res *res)
{
	/* STYLE.md, Errors: the browser never learns which check failed; the audit event does */
	ts_login_page(
	        req, res, ts_err_status(TS_ERR_FORBIDDEN), "Sign-in failed",
	        "You could not be signed in. If this keeps happening, give your administrator the "
	        "request id below.");
	res->error_code = "SignInRefused";
}

void ts_login_page_failed(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                          const struct ts_error *e)
{
	ts_log(TS_LOG_ERROR, "sign-in request failed",
	       json_pack("{s:s, s:s, s:o}", "request_id", req->request_id, "code", ts_err_name(rc),
	                 "message", ts_json_text(ts_error_text(e, rc))));
	bool later = ts_store_err_transient(rc);
	ts_login_page(req, res,
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
