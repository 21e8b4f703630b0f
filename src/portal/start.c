/*
 * GET /start/{AccountId}[?next=/path]: the account's start URL (docs/portal.md,
 * SPEC §2, §8; the AWS "user portal URL"). It sends the browser to the
 * account's identity source, which brings it back signed in to next:
 *   SAML: 302 to /saml/{AccountId}/login?RelayState=<next> (the deep link
 *         that the ACS follows, docs/saml.md);
 *   OIDC: 302 to /auth/{AccountId}/oidc?target_link_uri=<base><next> (OpenID
 *         Connect Core §4's target, same-origin, docs/oidc.md).
 * A browser already signed in to that account goes to next at once.
 *
 * next is a same-origin path only (http/redirect.h: exactly one leading
 * '/', no "//" or "/\", no controls, no escapes that decode to any of
 * those) of at most TS_PORTAL_NEXT_MAX bytes; anything else is replaced by
 * TS_LOGIN_LANDING, never refused (an open-redirect attempt lands on the
 * portal). An unknown account, or one without an identity source, gets the
 * sign-in pages' 404: which of the two it was is not told.
 */
#include <string.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "http/client.h"
#include "http/html.h"
#include "http/redirect.h"
#include "login/login.h"
#include "portal/internal.h"
#include "saml/authn.h"
#include "store/oidc.h"
#include "store/saml.h"

#define STATUS_FOUND 302

/* the deep link must survive both protocols' own caps unchanged */
_Static_assert(TS_PORTAL_NEXT_MAX <= TS_SAML_RELAY_STATE_MAX, "next fits a RelayState");
_Static_assert(TS_HTTP_ORIGIN_MAX + TS_PORTAL_NEXT_MAX <= TS_STORE_OIDC_TARGET_MAX,
               "base + next fits an OIDC state's target");

const char *ts_portal_next(ts_arena_t *a, const char *next)
{
	struct ts_error e = {0};
	/* a path only: no allowed origins, so an absolute URL is refused however it is spelt */
	if (next == NULL || next[0] != '/' || strlen(next) > TS_PORTAL_NEXT_MAX ||
	    ts_http_redirect_check(a, next, NULL, 0, &e) != TS_ERR_OK)
		return TS_LOGIN_LANDING;
	return next;
}

/* An account ID as Tessera makes them (ts_uuid_v4): anything else names no account. */
static bool account_id_ok(const char *id)
{
	if (strlen(id) != TS_UUID_LEN)
		return false;
	for (const char *p = id; *p != '\0'; p++)
		if (strchr("0123456789abcdef-", *p) == NULL)
			return false;
	return true;
}

/* Whether the browser's session cookie names a live session of account_id. */
static bool signed_in_to(struct ts_http_req *req, ts_store_conn_t *conn, const char *account_id)
{
	const char *token = ts__portal_cookie(req);
	struct ts_session_info info;
	struct ts_error e = {0};
	return token != NULL &&
	       ts_directory_session_validate(conn, req->arena, token, ts_now_ms(), &info, &e) ==
	               TS_ERR_OK &&
	       strcmp(info.session.account_id, account_id) == 0;
}

void ts__portal_start_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	const struct ts_portal_config *cfg = ts__portal_config(req);
	const char *account_id = req->params[0];
	const char *next = ts_portal_next(req->arena, ts_http_query(req, "next"));
	struct ts_error e = {0};
	struct ts_http_base_url base;
	ts_store_conn_t *conn = NULL;
	ts_err rc = TS_ERR_OK;
	if (cfg == NULL || cfg->base_url == NULL ||
	    ts_http_base_url_parse(req->arena, cfg->base_url, &base, &e) != TS_ERR_OK) {
		rc = TS_FAIL(&e, TS_ERR_INTERNAL, "the start URL needs serve --base-url");
		goto fail;
	}
	if (!account_id_ok(account_id))
		goto none;
	rc = ts_http_conn(req, &conn, &e);
	if (rc != TS_ERR_OK)
		goto fail;
	if (signed_in_to(req, conn, account_id)) {
		rc = ts_http_redirect(req, res, next, NULL, 0, &e);
		if (rc != TS_ERR_OK)
			goto fail;
		return;
	}
	int64_t saml = 0, oidc = 0;
	rc = ts_store_begin(conn, false, &e);
	if (rc != TS_ERR_OK)
		goto fail;
	rc = ts_store_saml_config_version(conn, account_id, &saml, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_oidc_config_version(conn, account_id, &oidc, &e);
	ts_store_rollback(conn);
	if (rc != TS_ERR_OK)
		goto fail;
	/* one source is the rule; with both configured SAML, the older of the two protocols here,
	 * is the one the start URL uses (docs/portal.md) */
	const char *url = NULL;
	if (saml > 0)
		url = ts_arena_concat(req->arena, "/saml/", account_id, "/login?RelayState=",
		                      ts_http_client_form_encode(req->arena, next, strlen(next)),
		                      NULL);
	else if (oidc > 0) {
		const char *target = ts_arena_concat(req->arena, base.origin, next, NULL);
		url = ts_arena_concat(
		        req->arena, "/auth/", account_id, "/oidc?target_link_uri=",
		        ts_http_client_form_encode(req->arena, target, strlen(target)), NULL);
	} else
		goto none;
	ts_http_res_set(res, STATUS_FOUND, NULL, NULL, 0);
	ts_http_res_header(res, "location", url);
	ts_http_page_headers(req->arena, res, NULL);
	return;
none:
	ts_login_page(req, res, ts_err_status(TS_ERR_NOT_FOUND), "Sign-in not available",
	              "This sign-in address is not valid.");
	res->error_code = ts_err_name(TS_ERR_NOT_FOUND);
	return;
fail:
	*res = (struct ts_http_res){.arena = res->arena};
	ts_login_page_failed(req, res, rc, &e);
}
