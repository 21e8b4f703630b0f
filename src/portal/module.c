/*
 * The portal module (portal.h): /api/v1/me in the SPEC §2 shape and a
 * minimal signed-in page at /portal, both from the session a cookie or a
 * bearer token names (ts_directory_session_validate: revoked, expired,
 * suspended or unlicensed sessions are refused on every node). It also
 * serves the pages' stylesheet (http/html.h), being the first module with
 * pages of its own.
 */
#include "portal/portal.h"

#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "http/cookie.h"
#include "http/html.h"
#include "http/url.h"
#include "store/store.h"

static const struct ts_http_slot portal_slot = {NULL, NULL};

/* What a request's session gives (arena memory). */
struct me {
	struct ts_session_info info;
	const char *primary_email; /* may be NULL */
};

/* The session's token: a bearer tss_ token, else the session cookie; NULL when neither. */
static const char *token_of(struct ts_http_req *req, const struct ts_portal_config *cfg)
{
	const char *b = ts_http_bearer(req);
	if (b != NULL)
		return b;
	struct ts_http_base_url base;
	struct ts_error e = {0};
	if (cfg == NULL || cfg->base_url == NULL ||
	    ts_http_base_url_parse(req->arena, cfg->base_url, &base, &e) != TS_ERR_OK)
		return NULL;
	struct ts_http_cookies jar;
	const char *v = NULL;
	if (ts_http_cookies_from_req(req, &jar, &e) != TS_ERR_OK ||
	    ts_http_cookie_get(&jar,
	                       ts_http_cookie_name(req->arena, &base, TS_PORTAL_SESSION_COOKIE), &v,
	                       &e) != TS_ERR_OK)
		return NULL;
	return v;
}

/* The session and the user's primary address; TS_ERR_UNAUTHORIZED without a live session. */
static ts_err load(struct ts_http_req *req, struct me *m, struct ts_error *e)
{
	const char *token = token_of(req, ts_http_config(req, &portal_slot));
	if (token == NULL ||
	    strncmp(token, TS_SESSION_TOKEN_PREFIX, strlen(TS_SESSION_TOKEN_PREFIX)) != 0)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "no session token");
	ts_store_conn_t *conn = NULL;
	ts_err rc = ts_http_conn(req, &conn, e);
	if (rc != TS_ERR_OK)
		return rc;
	rc = ts_directory_session_validate(conn, req->arena, token, ts_now_ms(), &m->info, e);
	if (rc != TS_ERR_OK)
		return rc;
	rc = ts_store_begin(conn, false, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_store_read_one(conn);
	struct ts_user_email *emails = NULL;
	int n = 0;
	rc = ts_store_dir_user_emails(conn, req->arena, m->info.user.user_id, &emails, &n, e);
	ts_store_rollback(conn);
	m->primary_email = n > 0 ? emails[0].value : NULL; /* primary first */
	return rc;
}

static const char *license_name(enum ts_license l)
{
	return l == TS_LICENSE_PRO ? "Pro" : l == TS_LICENSE_BASIC ? "Basic" : NULL;
}

/* SPEC §2: {"Me": {"AccountId","UserId","UserName","PrimaryEmail","LicenseType","Role",
 * "SessionExpires"}} */
static void me_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts_error e = {0};
	struct me m;
	ts_err rc = load(req, &m, &e);
	if (rc != TS_ERR_OK) {
		ts_http_error_plain(req, res, rc, ts_err_status(rc),
		                    rc == TS_ERR_UNAUTHORIZED ? ts_err_message(rc)
		                                              : "the session could not be read");
		if (rc == TS_ERR_UNAUTHORIZED)
			ts_http_res_header(res, "www-authenticate", "Bearer realm=\"tessera\"");
		return;
	}
	const struct ts_session *s = &m.info.session;
	json_t *role = json_null();
	if (s->role_arn != NULL) {
		role = json_object();
		ts_json_set_str(role, "RoleArn", s->role_arn);
		ts_json_set_str(role, "ProviderArn", s->provider_arn);
		ts_json_set_str(role, "RoleSessionName", s->role_session_name);
	}
	char expires[TS_ISO8601_LEN + 1];
	ts_time_iso(s->expires_ms, expires);
	json_t *me = json_object();
	ts_json_set_str(me, "AccountId", s->account_id);
	ts_json_set_str(me, "UserId", m.info.user.user_id);
	ts_json_set_str(me, "UserName", m.info.user.user_name);
	ts_json_set_str(me, "PrimaryEmail", m.primary_email);
	ts_json_set_str(me, "LicenseType", license_name(m.info.license));
	json_object_set_new(me, "Role", role);
	ts_json_set_str(me, "SessionExpires", expires);
	ts_http_res_json(req, res, 200, "application/json", json_pack("{s:o}", "Me", me));
	ts_http_res_header(res, "cache-control", "no-store");
}

static void portal_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts_error e = {0};
	struct me m;
	ts_err rc = load(req, &m, &e);
	struct ts_http_html h;
	ts_http_html_init(&h, req->arena);
	if (rc != TS_ERR_OK) {
		bool out = rc == TS_ERR_UNAUTHORIZED;
		ts_http_html_page_begin(&h, out ? "Not signed in" : "Portal unavailable");
		ts_http_html_lit(&h, "<h1>");
		ts_http_html_text(&h, out ? "Not signed in" : "Portal unavailable");
		ts_http_html_lit(&h, "</h1><p>");
		ts_http_html_text(&h, out ? "Sign in through your organization's sign-in page."
		                          : "Try again in a minute.");
		ts_http_html_lit(&h, "</p>");
		ts_http_html_page_end(&h);
		ts_http_res_html(req, res, ts_err_status(rc), &h);
		return;
	}
	const struct ts_session *s = &m.info.session;
	char expires[TS_ISO8601_LEN + 1];
	ts_time_iso(s->expires_ms, expires);
	ts_http_html_page_begin(&h, "Tessera portal");
	ts_http_html_lit(&h, "<h1>Signed in</h1><p>You are signed in as <strong>");
	ts_http_html_text(&h, m.info.user.user_name);
	ts_http_html_lit(&h, "</strong>.</p><dl><dt>Account</dt><dd>");
	ts_http_html_text(&h, m.info.account.name);
	ts_http_html_lit(&h, "</dd><dt>Licence</dt><dd>");
	ts_http_html_text(&h, license_name(m.info.license));
	ts_http_html_lit(&h, "</dd>");
	if (s->role_arn != NULL) {
		ts_http_html_lit(&h, "<dt>Role</dt><dd>");
		ts_http_html_text(&h, s->role_arn);
		ts_http_html_lit(&h, "</dd>");
	}
	ts_http_html_lit(&h, "<dt>Session ends</dt><dd>");
	ts_http_html_text(&h, expires);
	ts_http_html_lit(&h, "</dd></dl>");
	ts_http_html_page_end(&h);
	ts_http_res_html(req, res, 200, &h);
}

static const struct ts_http_route routes[] = {
        {"GET", "/api/v1/me", me_handle, 0, NULL, "portal:Me"},
        {"GET", "/portal", portal_handle, 0, NULL, "portal:Portal"},
        {"GET", TS_HTTP_HTML_STYLE_PATH, ts_http_html_style_route, TS_HTTP_INLINE, NULL,
         "static:Style"},
};

struct ts_http_module ts_portal_module(struct ts_portal_config *cfg)
{
	return (struct ts_http_module){.name = "portal",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = NULL,
	                               .slot = &portal_slot,
	                               .config = cfg};
}
