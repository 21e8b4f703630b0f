/*
 * The AWS role chooser (docs/product.md §6): when the assertion's
 * https://aws.amazon.com/SAML/Attributes/Role offers several role pairs,
 * the ACS opens the session with no role chosen and shows this page; its
 * form posts POST /saml/{AccountId}/role with the index of the role and a
 * CSRF token bound to the new session (http/csrf.h), and the session then
 * carries that role (/api/v1/me shows it).
 */
#include <sodium.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "http/cookie.h"
#include "http/csrf.h"
#include "http/form.h"
#include "http/html.h"
#include "http/redirect.h"
#include "portal/portal.h"
#include "saml/web.h"

#define F_ROLE "role"
#define F_RELAY "RelayState"
/* The chooser's form is small: a token, an index and a RelayState. */
#define ROLE_FORM_MAX_BODY (8 * 1024)
#define ROLE_FORM_MAX_FIELDS 8

/* The origin of target when it is an absolute URL (an allow-listed one), else NULL. */
static const char *target_origin(ts_arena_t *a, const char *target)
{
	const char *s = target != NULL && target[0] != '/' ? strstr(target, "://") : NULL;
	if (s == NULL)
		return NULL;
	size_t at = (size_t)(s - target) + strlen("://");
	at += strcspn(target + at, "/?#");
	return ts_http_origin_normalize(a, target, at);
}

void ts__saml_chooser(struct ts__saml_ctx *ctx, const char *session_id,
                      const struct ts_signin_aws_role *roles, size_t n, const char *target)
{
	struct ts_http_req *req = ctx->login.req;
	unsigned char key[TS_HTTP_CSRF_KEY_LEN];
	ts_http_csrf_key(ctx->cfg->master_key, key);
	const char *csrf = ts_http_csrf_token(req->arena, key, session_id);
	sodium_memzero(key, sizeof key);
	struct ts_http_html h;
	ts_http_html_init(&h, req->arena);
	ts_http_html_page_begin(&h, "Choose a role");
	ts_http_html_lit(&h, "<h1>Choose a role</h1><form method=\"post\"");
	ts_http_html_url_attr(&h, "action",
	                      ts_arena_printf(req->arena, "/saml/%s/role", ctx->login.account_id),
	                      NULL, 0);
	ts_http_html_lit(&h, "><input type=\"hidden\" name=\"" TS_HTTP_CSRF_FIELD "\"");
	ts_http_html_attr(&h, "value", csrf);
	ts_http_html_lit(&h, ">");
	if (target != NULL) {
		ts_http_html_lit(&h, "<input type=\"hidden\" name=\"" F_RELAY "\"");
		ts_http_html_attr(&h, "value", target);
		ts_http_html_lit(&h, ">");
	}
	for (size_t i = 0; i < n; i++) {
		ts_http_html_lit(&h, "<button name=\"" F_ROLE "\"");
		ts_http_html_attr(&h, "value", ts_arena_printf(req->arena, "%zu", i));
		ts_http_html_lit(&h, ">");
		ts_http_html_text(&h, roles[i].role_arn);
		ts_http_html_lit(&h, "</button>");
	}
	ts_http_html_lit(&h, "</form>");
	ts_http_html_page_end(&h);
	const char *origin = target_origin(req->arena, target);
	if (origin == NULL || h.fault != NULL) {
		ts_http_res_html(req, ctx->login.res, 200, &h);
		return;
	}
	/* the page's headers with form-action also naming the deep link's origin */
	size_t len = 0;
	const char *body = ts_http_html_finish(&h, &len);
	ts_http_res_set(ctx->login.res, 200, TS_HTTP_HTML_TYPE, body, len);
	ts_http_page_headers(req->arena, ctx->login.res, origin);
}

/* The pair at index of the session's offered roles; false when there is none. */
static bool offered(ts_arena_t *a, const char *roles_json, size_t index, const char **role_arn,
                    const char **provider_arn)
{
	json_t *arr = NULL;
	struct ts_error e = {0};
	if (roles_json == NULL ||
	    ts_json_parse(roles_json, strlen(roles_json), NULL, a, &arr, &e) != TS_ERR_OK ||
	    !json_is_array(arr) || index >= json_array_size(arr))
		return false;
	json_t *pair = json_array_get(arr, index);
	*role_arn = ts_json_str(pair, "RoleArn");
	*provider_arn = ts_json_str(pair, "ProviderArn");
	return *role_arn != NULL && *provider_arn != NULL;
}

/* The session the cookie names, checked; false (answered) when there is none for this account. */
static bool session_of(struct ts__saml_ctx *ctx, struct ts_session_info *info)
{
	struct ts_http_cookies jar;
	struct ts_error e = {0};
	const char *token = NULL;
	ts_err rc = ts_http_cookies_from_req(ctx->login.req, &jar, &e);
	if (rc == TS_ERR_OK)
		rc = ts_http_cookie_get(&jar,
		                        ts_http_cookie_name(ctx->login.req->arena, &ctx->login.base,
		                                            TS_PORTAL_SESSION_COOKIE),
		                        &token, &e);
	if (rc == TS_ERR_OK && token == NULL)
		rc = TS_FAIL(&e, TS_ERR_UNAUTHORIZED, "no session cookie");
	if (rc == TS_ERR_OK)
		rc = ts_directory_session_validate(ctx->login.conn, ctx->login.req->arena, token,
		                                   ctx->login.now_ms, info, &e);
	if (rc == TS_ERR_OK && strcmp(info->session.account_id, ctx->login.account_id) != 0)
		rc = TS_FAIL(&e, TS_ERR_UNAUTHORIZED, "the session is another account's");
	if (rc == TS_ERR_OK)
		return true;
	if (rc == TS_ERR_UNAUTHORIZED || rc == TS_ERR_BAD_REQUEST)
		ts_login_page_refused(ctx->login.req, ctx->login.res);
	else
		ts_login_page_failed(ctx->login.req, ctx->login.res, rc, &e);
	return false;
}

void ts__saml_role_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts__saml_ctx ctx;
	if (!ts__saml_begin(req, res, &ctx))
		return;
	struct ts_error e = {0};
	struct ts_http_form_limits lim = TS_HTTP_FORM_LIMITS_DEFAULT;
	lim.max_body = ROLE_FORM_MAX_BODY;
	lim.max_fields = ROLE_FORM_MAX_FIELDS;
	struct ts_http_form form;
	const char *csrf = NULL, *role = NULL, *relay = NULL;
	ts_err rc = ts_http_form_from_req(req, &lim, &form, &e);
	if (rc == TS_ERR_OK)
		rc = ts_http_form_one(&form, TS_HTTP_CSRF_FIELD, &csrf, &e);
	if (rc == TS_ERR_OK)
		rc = ts_http_form_one(&form, F_ROLE, &role, &e);
	if (rc == TS_ERR_OK)
		rc = ts_http_form_opt(&form, F_RELAY, &relay, &e);
	size_t index = 0;
	if (rc == TS_ERR_OK && !ts__saml_role_index(role, TS_SAML_VALUES_MAX, &index))
		rc = TS_FAIL(&e, TS_ERR_BAD_REQUEST, "role is not an index");
	if (rc != TS_ERR_OK) {
		ts_login_page_refused(req, res);
		return;
	}
	struct ts_session_info info;
	if (!session_of(&ctx, &info))
		return;
	unsigned char key[TS_HTTP_CSRF_KEY_LEN];
	ts_http_csrf_key(ctx.cfg->master_key, key);
	rc = ts_http_csrf_check(req, &ctx.login.base, key, info.session.session_id, csrf, &e);
	sodium_memzero(key, sizeof key);
	if (rc != TS_ERR_OK) {
		ts_login_page_refused(req, res);
		return;
	}
	/* the index names one of the pairs the session was offered (roles_json, acs.c) */
	const char *role_arn = NULL, *provider_arn = NULL;
	if (!offered(req->arena, info.session.roles_json, index, &role_arn, &provider_arn)) {
		ts_login_page_refused(req, res);
		return;
	}
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
again:
	rc = ts_store_begin(ctx.login.conn, true, &e);
	if (rc == TS_ERR_OK)
		rc = ts_directory_session_set_role(ctx.login.conn, req->arena,
		                                   info.session.session_id, role_arn, provider_arn,
		                                   ctx.login.now_ms, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(ctx.login.conn, &e);
	if (rc != TS_ERR_OK && ts_store_tx_retry(ctx.login.conn, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK) {
		ts_store_rollback(ctx.login.conn);
		if (rc == TS_ERR_FORBIDDEN ||
		    rc == TS_ERR_NOT_FOUND) /* not offered, session gone */
			ts_login_page_refused(req, res);
		else
			ts_login_page_failed(req, res, rc, &e);
		return;
	}
	/* the trust's allow-list: RelayState came through the chooser's form */
	const struct ts__saml_trust *t = NULL;
	rc = ts__saml_trust(&ctx, &t, &e);
	if (rc != TS_ERR_OK || t == NULL) {
		ts_login_page_failed(req, res, rc != TS_ERR_OK ? rc : TS_ERR_INTERNAL, &e);
		return;
	}
	const char *target =
	        ts__saml_relay_target(req->arena, relay, t->relay_allow, t->n_relay_allow);
	rc = ts_http_redirect(req, res, target, t->relay_allow, t->n_relay_allow, &e);
	if (rc != TS_ERR_OK) /* the target passed this very check: never reached */
		ts_login_page_failed(req, res, TS_ERR_INTERNAL, &e);
}
