/*
 * The portal module (portal.h): /api/v1/me in the SPEC §2 and §8 shape and
 * the signed-in page at /portal, both from the session a cookie or a bearer
 * token names (ts_directory_session_validate: revoked, expired, suspended
 * or unlicensed sessions are refused on every node), with what the person
 * may open (store/access.h: through the user's own assignments and those of
 * the user's directory groups). The start URL is start.c's, credentials are
 * credentials.c's. It also serves the pages' stylesheet (http/html.h),
 * being the first module with pages of its own.
 */
#include "portal/portal.h"

#include <sodium.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "http/cookie.h"
#include "http/csrf.h"
#include "http/html.h"
#include "http/redirect.h"
#include "http/url.h"
#include "login/login.h"
#include "portal/internal.h"
#include "store/access.h"
#include "store/store.h"

static const struct ts_http_slot portal_slot = {NULL, NULL};

const struct ts_portal_config *ts__portal_config(const struct ts_http_req *req)
{
	return ts_http_config(req, &portal_slot);
}

const char *ts__portal_cookie(struct ts_http_req *req)
{
	const struct ts_portal_config *cfg = ts__portal_config(req);
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

const char *ts__portal_token(struct ts_http_req *req, bool *from_cookie)
{
	const char *b = ts_http_bearer(req);
	*from_cookie = b == NULL;
	return b != NULL ? b : ts__portal_cookie(req);
}

ts_err ts__portal_me(struct ts_http_req *req, struct ts__portal_me *m, struct ts_error *e)
{
	memset(m, 0, sizeof *m);
	const char *token = ts__portal_token(req, &m->from_cookie);
	if (token == NULL ||
	    strncmp(token, TS_SESSION_TOKEN_PREFIX, strlen(TS_SESSION_TOKEN_PREFIX)) != 0)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "no session token");
	ts_store_conn_t *conn = NULL;
	ts_err rc = ts_http_conn(req, &conn, e);
	if (rc != TS_ERR_OK)
		return rc;
	return ts_directory_session_validate(conn, req->arena, token, ts_now_ms(), &m->info, e);
}

/* One target and the permission sets the person holds on it (entitlements grouped). */
struct target_row {
	const struct ts_target *target;
	const struct ts_permission_set **sets;
	size_t nsets;
};

/*
 * The user's primary address and entitlements, grouped by target (the
 * store orders them by target name, unique in an account, so each
 * target's pairs are consecutive), in one read transaction.
 */
static ts_err load_access(struct ts_http_req *req, struct ts__portal_me *m,
                          struct target_row **rows, size_t *nrows, struct ts_error *e)
{
	*rows = NULL;
	*nrows = 0;
	ts_store_conn_t *conn = NULL;
	ts_err rc = ts_http_conn(req, &conn, e);
	if (rc != TS_ERR_OK)
		return rc;
	rc = ts_store_begin(conn, false, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_user_email *emails = NULL;
	int ne = 0;
	struct ts_entitlement *ent = NULL;
	size_t n = 0;
	rc = ts_store_dir_user_emails(conn, req->arena, m->info.user.user_id, &emails, &ne, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_access_entitlements(conn, req->arena, m->info.session.account_id,
		                                  m->info.user.user_id, &ent, &n, e);
	ts_store_rollback(conn);
	if (rc != TS_ERR_OK)
		return rc;
	m->primary_email = ne > 0 ? emails[0].value : NULL; /* primary first */
	struct target_row *r = ts_arena_alloc(req->arena, (n > 0 ? n : 1) * sizeof *r);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k == 0 || strcmp(r[k - 1].target->target_id, ent[i].target.target_id) != 0) {
			r[k] = (struct target_row){
			        .target = &ent[i].target,
			        .sets = ts_arena_alloc(req->arena, (n - i) * sizeof *r[k].sets)};
			k++;
		}
		r[k - 1].sets[r[k - 1].nsets++] = &ent[i].permission_set;
	}
	*rows = r;
	*nrows = k;
	return TS_ERR_OK;
}

static const char *license_name(enum ts_license l)
{
	return l == TS_LICENSE_PRO ? "Pro" : l == TS_LICENSE_BASIC ? "Basic" : NULL;
}

/* A session that is missing or dead is a 401 with the Bearer challenge (RFC 6750 §3). */
static void me_error(struct ts_http_req *req, struct ts_http_res *res, ts_err rc)
{
	ts_http_error_plain(req, res, rc, ts_err_status(rc),
	                    rc == TS_ERR_UNAUTHORIZED ? ts_err_message(rc)
	                                              : "the session could not be read");
	if (rc == TS_ERR_UNAUTHORIZED)
		ts_http_res_header(res, "www-authenticate", "Bearer realm=\"tessera\"");
}

/*
 * SPEC §2: {"Me": {"AccountId","UserId","UserName","PrimaryEmail","LicenseType","Role",
 * "SessionExpires"}}; SPEC §8: with "Targets": [{"TargetId","Name","Url",
 * "PermissionSets": [{"PermissionSetId","Name"}]}] beside "Me".
 */
static void me_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts_error e = {0};
	struct ts__portal_me m;
	struct target_row *rows = NULL;
	size_t nrows = 0;
	ts_err rc = ts__portal_me(req, &m, &e);
	if (rc == TS_ERR_OK)
		rc = load_access(req, &m, &rows, &nrows, &e);
	if (rc != TS_ERR_OK) {
		me_error(req, res, rc);
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
	json_t *targets = json_array();
	for (size_t i = 0; i < nrows; i++) {
		json_t *t = json_object(), *sets = json_array();
		ts_json_set_str(t, "TargetId", rows[i].target->target_id);
		ts_json_set_str(t, "Name", rows[i].target->name);
		ts_json_set_str(t, "Url", rows[i].target->url);
		for (size_t j = 0; j < rows[i].nsets; j++) {
			json_t *p = json_object();
			ts_json_set_str(p, "PermissionSetId", rows[i].sets[j]->permission_set_id);
			ts_json_set_str(p, "Name", rows[i].sets[j]->name);
			json_array_append_new(sets, p);
		}
		json_object_set_new(t, "PermissionSets", sets);
		json_array_append_new(targets, t);
	}
	ts_http_res_json(req, res, 200, "application/json",
	                 json_pack("{s:o,s:o}", "Me", me, "Targets", targets));
	ts_http_res_header(res, "cache-control", "no-store");
}

/*
 * The origin of an absolute http(s) URL (http/url.h), or NULL: what the
 * target's link is checked against (http/redirect.h) before it is written.
 */
static const char *url_origin(ts_arena_t *a, const char *url)
{
	const char *p = strstr(url, "://");
	if (p == NULL)
		return NULL;
	size_t n = strcspn(p + 3, "/?#");
	return ts_http_origin_normalize(a, url, (size_t)(p + 3 - url) + n);
}

/* A target's heading and a link per permission set to its URL (or the names, unlinked, when
 * the URL is not one a page may link to). */
static void target_html(struct ts_http_req *req, struct ts_http_html *h, const struct target_row *r)
{
	struct ts_error e = {0};
	const char *origin = url_origin(req->arena, r->target->url);
	const char *const allowed[] = {origin};
	bool linkable = origin != NULL && ts_http_redirect_check(req->arena, r->target->url,
	                                                         allowed, 1, &e) == TS_ERR_OK;
	ts_http_html_lit(h, "<section class=\"target\"><h3>");
	ts_http_html_text(h, r->target->name);
	ts_http_html_lit(h, "</h3>");
	if (r->target->kind != NULL && r->target->kind[0] != '\0') {
		ts_http_html_lit(h, "<p class=\"kind\">");
		ts_http_html_text(h, r->target->kind);
		ts_http_html_lit(h, "</p>");
	}
	ts_http_html_lit(h, "<ul>");
	for (size_t j = 0; j < r->nsets; j++) {
		ts_http_html_lit(h, "<li>");
		if (linkable) {
			/* a plain link: no script, opens the target as the person's own navigation
			 */
			ts_http_html_lit(h, "<a");
			ts_http_html_url_attr(h, "href", r->target->url, allowed, 1);
			ts_http_html_attr(h, "data-permission-set", r->sets[j]->permission_set_id);
			ts_http_html_lit(h, " rel=\"noopener noreferrer\">");
		}
		ts_http_html_text(h, r->sets[j]->name);
		if (linkable)
			ts_http_html_lit(h, "</a>");
		ts_http_html_lit(h, "</li>");
	}
	ts_http_html_lit(h, "</ul></section>");
}

static void portal_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts_error e = {0};
	struct ts__portal_me m;
	struct target_row *rows = NULL;
	size_t nrows = 0;
	ts_err rc = ts__portal_me(req, &m, &e);
	if (rc == TS_ERR_OK)
		rc = load_access(req, &m, &rows, &nrows, &e);
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
	const struct ts_portal_config *cfg = ts__portal_config(req);
	if (m.from_cookie && cfg != NULL && cfg->master_key != NULL) {
		/* for a page script of the operator's that asks for credentials (portal.h) */
		unsigned char key[TS_HTTP_CSRF_KEY_LEN];
		ts_http_csrf_key(cfg->master_key, key);
		const char *csrf = ts_http_csrf_token(req->arena, key, s->session_id);
		sodium_memzero(key, sizeof key);
		ts_http_html_lit(&h, "<meta name=\"csrf-token\"");
		ts_http_html_attr(&h, "content", csrf);
		ts_http_html_lit(&h, ">");
	}
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
	ts_http_html_lit(&h, "</dd></dl><h2>Your access</h2>");
	if (nrows == 0)
		ts_http_html_lit(&h, "<p>Nothing has been assigned to you yet.</p>");
	for (size_t i = 0; i < nrows; i++)
		target_html(req, &h, &rows[i]);
	ts_http_html_page_end(&h);
	ts_http_res_html(req, res, 200, &h);
}

static const struct ts_http_route routes[] = {
        {"GET", "/api/v1/me", me_handle, 0, NULL, "portal:Me"},
        {"POST", "/api/v1/me/credentials", ts__portal_credentials_handle, 0, NULL,
         "portal:Credentials"},
        {"GET", "/portal", portal_handle, 0, NULL, "portal:Portal"},
        {"GET", "/start/{}", ts__portal_start_handle, 0, NULL, "portal:Start"},
        {"GET", TS_HTTP_HTML_STYLE_PATH, ts_http_html_style_route, TS_HTTP_INLINE, NULL,
         "static:Style"},
};

/* the start URL and the portal are a browser's: the HTTP layer's own refusals there are a
 * page, not JSON (/api/v1/me keeps {"Code","Message"}) */
static const struct ts_http_surface portal_surface = {"/portal", ts_login_surface_error, NULL};
static const struct ts_http_surface start_surface = {"/start", ts_login_surface_error,
                                                     &portal_surface};

struct ts_http_module ts_portal_module(struct ts_portal_config *cfg)
{
	return (struct ts_http_module){.name = "portal",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = &start_surface,
	                               .slot = &portal_slot,
	                               .config = cfg};
}
