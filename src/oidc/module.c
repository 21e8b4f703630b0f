/*
 * The OIDC module (oidc.h): its routes and what every endpoint shares: the
 * request context, the record of a sign-in decision (one audit event, one
 * sign-in attempt: docs/product.md §9, docs/oidc.md "Sign-in") and the pages
 * a browser may get when something goes wrong. The per-worker trust cache
 * is trust.c's.
 */
#include <string.h>

#include "audit/event.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "directory/session.h"
#include "http/html.h"
#include "oidc/web.h"
#include "store/signins.h"

bool ts__oidc_begin(struct ts_http_req *req, struct ts_http_res *res, struct ts__oidc_ctx *ctx)
{
	*ctx = (struct ts__oidc_ctx){.req = req, .res = res, .now_ms = ts_now_ms()};
	ctx->cfg = ts_http_config(req, &ts__oidc_slot);
	struct ts_error e = {0};
	ts_err rc = TS_ERR_OK;
	if (ctx->cfg == NULL || ctx->cfg->base_url == NULL || ctx->cfg->master_key == NULL) {
		/* docs/http.md: browser flows need serve --base-url, never the Host header */
		rc = TS_FAIL(&e, TS_ERR_UNAVAILABLE, "OpenID Connect needs serve --base-url");
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
		ts__oidc_page_failed(req, res, rc, &e);
	return rc == TS_ERR_OK;
}

const char *ts__oidc_utf8_prefix(ts_arena_t *a, const char *s, size_t max)
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

ts_err ts__oidc_record(struct ts__oidc_ctx *ctx, const struct ts__oidc_outcome *o,
                       struct ts_error *e)
{
	struct ts_http_req *req = ctx->req;
	/* what a refused token claims is unverified: kept as long as a sign-in attempt keeps it */
	const char *claimed[] = {o->subject, o->identity, o->issuer};
	for (size_t i = 0; i < sizeof claimed / sizeof claimed[0]; i++)
		if (claimed[i] != NULL)
			claimed[i] = ts__oidc_utf8_prefix(req->arena, claimed[i],
			                                  TS_STORE_SIGNIN_IDENTITY_MAX);
	/* docs/oidc.md: the protocol, the issuer, the subject and the identity; never the
	 * code, a token or the client secret */
	json_t *params = ts_json_own(req->arena, json_object());
	json_object_set_new(params, "Protocol", json_string("oidc"));
	ts_json_set_str(params, "Issuer", claimed[2]);
	ts_json_set_str(params, "Subject", claimed[0]);
	ts_json_set_str(params, "Identity", claimed[1]);
	if (o->provider_error != NULL)
		ts_json_set_str(params, "ProviderError", o->provider_error);
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
	/* attempts are kept per user, or per identity, of an account: without both, none */
	const char *identity = claimed[1];
	if (ctx->account_id == NULL || identity == NULL || identity[0] == '\0')
		return TS_ERR_OK;
	struct ts_signin_attempt at = {.account_id = ctx->account_id,
	                               .user_id = o->user_id,
	                               .identity = identity,
	                               .time_ms = ctx->now_ms,
	                               .outcome = o->check == NULL ? "Allowed" : "Refused",
	                               .check_name = o->check,
	                               .source = TS_SESSION_ORIGIN_OIDC};
	return ts_store_signin_attempt_insert(ctx->conn, &at, e);
}

void ts__oidc_refuse_page(struct ts__oidc_ctx *ctx, const struct ts__oidc_outcome *o, int status,
                          const char *title, const char *text)
{
	struct ts_error e = {0};
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
	ts_err rc;
again:
	rc = ts_store_begin(ctx->conn, true, &e);
	if (rc == TS_ERR_OK)
		rc = ts__oidc_record(ctx, o, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(ctx->conn, &e);
	if (rc != TS_ERR_OK && ts_store_tx_retry(ctx->conn, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK) {
		ts_store_rollback(ctx->conn);
		*ctx->res = (struct ts_http_res){.arena = ctx->res->arena};
		ts__oidc_page_failed(ctx->req, ctx->res, rc, &e);
		return;
	}
	ts_log(TS_LOG_INFO, "oidc sign-in refused",
	       json_pack("{s:s, s:s, s:s}", "request_id", ctx->req->request_id, "account",
	                 ctx->account_id != NULL ? ctx->account_id : "", "check", o->check));
	*ctx->res = (struct ts_http_res){.arena = ctx->res->arena};
	if (title == NULL) {
		ts__oidc_page_refused(ctx->req, ctx->res);
		return;
	}
	ts__oidc_page(ctx->req, ctx->res, status, title, text);
	ctx->res->error_code = "SignInRefused";
}

void ts__oidc_refuse(struct ts__oidc_ctx *ctx, const struct ts__oidc_outcome *o)
{
	ts__oidc_refuse_page(ctx, o, 0, NULL, NULL);
}

void ts__oidc_page(struct ts_http_req *req, struct ts_http_res *res, int status, const char *title,
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

void ts__oidc_page_refused(struct ts_http_req *req, struct ts_http_res *res)
{
	/* STYLE.md, Errors: the browser never learns which check failed; the audit event does */
	ts__oidc_page(
	        req, res, ts_err_status(TS_ERR_FORBIDDEN), "Sign-in failed",
	        "You could not be signed in. If this keeps happening, give your administrator the "
	        "request id below.");
	res->error_code = "SignInRefused";
}

void ts__oidc_page_failed(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                          const struct ts_error *e)
{
	ts_log(TS_LOG_ERROR, "oidc request failed",
	       json_pack("{s:s, s:s, s:o}", "request_id", req->request_id, "code", ts_err_name(rc),
	                 "message", ts_json_text(ts_error_text(e, rc))));
	bool later = ts_store_err_transient(rc) || rc == TS_ERR_UNAVAILABLE;
	ts__oidc_page(req, res,
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

/* Every /auth path answers its errors (no route, 413) as a page, not JSON. */
static void surface_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                          const char *message)
{
	(void)message;
	ts__oidc_page(req, res, status, "Sign-in failed",
	              code == TS_ERR_TOO_LARGE ? "The sign-in message is too large."
	                                       : "This sign-in address is not valid.");
	res->error_code = ts_err_name(code);
}

#define ROUTE(m, path, fn)                                \
	{                                                 \
		m, "/auth" path, fn, 0, NULL, "oidc:" #fn \
	}
static const struct ts_http_route routes[] = {
        ROUTE("GET", "/oidc/callback", ts__oidc_callback_handle),
        ROUTE("GET", "/{}/oidc", ts__oidc_start_handle),
};

static const struct ts_http_surface surface = {"/auth", surface_error};

struct ts_http_module ts_oidc_module(struct ts_oidc_config *cfg)
{
	return (struct ts_http_module){.name = "oidc",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = &surface,
	                               .slot = &ts__oidc_slot,
	                               .config = cfg};
}
