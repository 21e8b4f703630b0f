/*
 * POST /api/v1/me/credentials {"TargetId","PermissionSetId"} ->
 * {"Credentials":{"Token","Expiration"}} (SPEC §8, docs/portal.md): short-lived
 * credentials for one (target, permission set) the signed-in person holds
 * through an assignment of their own or of one of their directory groups.
 * The token is an ES256 JWT of Tessera's authorization server
 * (oauth/oauth.h), verifiable with /oauth/jwks, naming the account, the
 * user, the target, the permission set and its policies, and the session
 * that asked (sid, its id), and expiring the permission set's
 * SessionDuration from now or when that session expires, whichever is
 * first: credentials never outlive the session (SPEC §8).
 *
 * The write transaction asks the directory again whether the person may
 * still use the session and with which licence
 * (ts_directory_session_recheck), without the minute validate allows
 * itself: a user taken out of the licensed group gets no credentials from
 * that moment (401, the session being dead by the directory's rules, as on
 * every other route a minute later).
 *
 * The session is a CLI access token (Authorization: Bearer) or the browser's
 * cookie; a cookie call is a browser POST, so it passes the anti-CSRF check
 * of every browser POST here (http/csrf.h: the Origin header and the
 * session's token, sent in the TS_PORTAL_CSRF_HEADER header). A pair the
 * person does not hold, another account's ids included, is 403. Every issue
 * and every refusal after authentication writes one audit event, never the
 * token.
 */
#include <sodium.h>
#include <string.h>

#include "audit/event.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "http/csrf.h"
#include "http/url.h"
#include "oauth/oauth.h"
#include "portal/internal.h"
#include "store/access.h"
#include "store/store.h"

/* The body is two ids: a few hundred bytes; anything much larger is not one. */
#define BODY_MAX 4096
/* An id Tessera makes is a UUID (36); the cap only keeps junk out of the audit event. */
#define ID_MAX 64

struct request {
	const char *target_id, *permission_set_id;
};

static ts_err parse(struct ts_http_req *req, struct request *r, struct ts_error *e)
{
	const struct ts_json_limits lim = {
	        .max_bytes = BODY_MAX, .max_depth = 2, .max_string = ID_MAX};
	json_t *j = NULL;
	ts_err rc = ts_json_parse(req->body != NULL ? req->body : "", req->body_len, &lim,
	                          req->arena, &j, e);
	if (rc != TS_ERR_OK)
		return rc;
	r->target_id = ts_json_str(j, "TargetId");
	r->permission_set_id = ts_json_str(j, "PermissionSetId");
	if (!json_is_object(j) || r->target_id == NULL || r->permission_set_id == NULL ||
	    r->target_id[0] == '\0' || r->permission_set_id[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "TargetId and PermissionSetId are required strings");
	return TS_ERR_OK;
}

/* http/csrf.h for a cookie call; a bearer token is not sent by a browser on its own. */
static ts_err csrf(struct ts_http_req *req, const struct ts__portal_me *m, struct ts_error *e)
{
	if (!m->from_cookie)
		return TS_ERR_OK;
	const struct ts_portal_config *cfg = ts__portal_config(req);
	struct ts_http_base_url base;
	if (cfg == NULL || cfg->master_key == NULL || cfg->base_url == NULL ||
	    ts_http_base_url_parse(req->arena, cfg->base_url, &base, e) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_FORBIDDEN,
		               "browser posts need the master key and base URL");
	unsigned char key[TS_HTTP_CSRF_KEY_LEN];
	ts_http_csrf_key(cfg->master_key, key);
	ts_err rc = ts_http_csrf_check(req, &base, key, m->info.session.session_id,
	                               ts_http_header(req, TS_PORTAL_CSRF_HEADER), e);
	sodium_memzero(key, sizeof key);
	return rc;
}

/* What one run of the write transaction decided. */
struct issue {
	struct ts_session_info live; /* the session as the directory sees it now */
	struct ts_entitlement ent;
	const char *token; /* the JWT; NULL when refused */
	int64_t expires_ms;
	const char *dead; /* why the session may no longer be used: 401; NULL when it may */
	bool refused;     /* not entitled: 403 */
};

static ts_err audit(ts_store_conn_t *c, struct ts_http_req *req, const struct ts__portal_me *m,
                    const struct request *r, const struct issue *is, struct ts_error *e)
{
	json_t *params = ts_json_own(req->arena, json_object());
	ts_json_set_str(params, "TargetId", r->target_id);
	ts_json_set_str(params, "PermissionSetId", r->permission_set_id);
	ts_json_set_str(params, "Session", m->from_cookie ? "cookie" : "bearer");
	ts_json_set_str(params, "SessionId", m->info.session.session_id); /* the sid, not a token */
	json_t *out = NULL;
	char exp[TS_ISO8601_LEN + 1];
	if (is->token != NULL) {
		ts_time_iso(is->expires_ms, exp);
		out = ts_json_own(req->arena, json_object());
		ts_json_set_str(out, "Expiration", exp); /* never the token */
	}
	struct ts_audit_entry entry = {
	        .who = {.type = "User", .principal_id = m->info.user.user_id},
	        .event_source = TS_PORTAL_AUDIT_SOURCE,
	        .event_name = TS_PORTAL_AUDIT_CREDENTIALS,
	        .account_id = m->info.session.account_id,
	        .source_ip = req->peer,
	        .user_agent = ts_text_escape(req->arena, ts_http_header(req, "user-agent")),
	        .request_id = req->request_id,
	        .client_request_id = req->client_request_id,
	        .request_parameters = params,
	        .response_elements = out,
	        .error_code = is->dead != NULL ? ts_err_name(TS_ERR_UNAUTHORIZED)
	                      : is->refused    ? ts_err_name(TS_ERR_FORBIDDEN)
	                                       : NULL,
	        .error_message = is->dead != NULL ? is->dead
	                         : is->refused
	                                 ? "no assignment gives this target and permission set"
	                                 : NULL,
	};
	return ts_audit_append(c, req->arena, &entry, e);
}

/* One run: the entitlement, the token, the audit event, in one write transaction. */
static ts_err run(ts_store_conn_t *c, struct ts_http_req *req, const struct ts__portal_me *m,
                  const struct request *r, struct issue *is, struct ts_error *e)
{
	*is = (struct issue){0};
	ts_err rc = ts_store_begin(c, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	int64_t now = ts_now_ms();
	const struct ts_session *s = &is->live.session;
	/* the licence as the groups give it now, the session locked against a revocation */
	struct ts_error why = {0};
	rc = ts_directory_session_recheck(c, req->arena, m->info.session.session_id, now, &is->live,
	                                  &why);
	if (rc == TS_ERR_UNAUTHORIZED) {
		is->dead = ts_arena_strdup(req->arena, why.message);
		is->refused = true;
		rc = TS_ERR_OK;
	} else if (rc != TS_ERR_OK) {
		*e = why;
	}
	/* the account is the session's: another account's ids are simply not held */
	if (rc == TS_ERR_OK && !is->refused)
		rc = ts_store_access_entitled(c, req->arena, s->account_id, is->live.user.user_id,
		                              r->target_id, r->permission_set_id, &is->ent, e);
	if (rc == TS_ERR_NOT_FOUND) {
		is->refused = true;
		rc = TS_ERR_OK;
	}
	if (rc == TS_ERR_OK && !is->refused) {
		/* docs/portal.md: SessionDuration from now, and never past the session's end */
		is->expires_ms = now + is->ent.permission_set.session_duration_s * TS_MS_PER_S;
		if (is->expires_ms > s->expires_ms)
			is->expires_ms = s->expires_ms;
		struct ts_oauth_credentials cr = {
		        .account_id = s->account_id,
		        .user_id = is->live.user.user_id,
		        .target_id = is->ent.target.target_id,
		        .permission_set_id = is->ent.permission_set.permission_set_id,
		        .policies_json = is->ent.permission_set.policies_json,
		        .session_id = s->session_id,
		        .expires_ms = is->expires_ms};
		rc = ts_oauth_credentials_sign(c, req->arena, &cr, &is->token, e);
	}
	if (rc == TS_ERR_OK)
		rc = audit(c, req, m, r, is, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}

/* A missing or dead session: 401 with the Bearer challenge (RFC 6750 §3). */
static void unauthorized(struct ts_http_req *req, struct ts_http_res *res)
{
	ts_http_error_plain(req, res, TS_ERR_UNAUTHORIZED, ts_err_status(TS_ERR_UNAUTHORIZED),
	                    ts_err_message(TS_ERR_UNAUTHORIZED));
	ts_http_res_header(res, "www-authenticate", "Bearer realm=\"tessera\"");
}

void ts__portal_credentials_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts_error e = {0};
	struct ts__portal_me m;
	ts_err rc = ts__portal_me(req, &m, &e);
	if (rc == TS_ERR_UNAUTHORIZED) {
		unauthorized(req, res);
		return;
	}
	if (rc == TS_ERR_OK)
		rc = csrf(req, &m, &e);
	if (rc == TS_ERR_FORBIDDEN) {
		ts_http_error_plain(req, res, rc, ts_err_status(rc), "cross-site request refused");
		return;
	}
	struct request r = {0};
	if (rc == TS_ERR_OK)
		rc = parse(req, &r, &e);
	if (rc == TS_ERR_BAD_REQUEST || rc == TS_ERR_TOO_LARGE) {
		ts_http_error_plain(req, res, rc, ts_err_status(rc), e.message);
		return;
	}
	ts_store_conn_t *c = NULL;
	if (rc == TS_ERR_OK)
		rc = ts_http_conn(req, &c, &e);
	struct issue is;
	int attempt = 0; /* runs the store refused for another's sake (ts_store_tx_retry) */
	if (rc == TS_ERR_OK) {
		do
			rc = run(c, req, &m, &r, &is, &e);
		while (rc != TS_ERR_OK && ts_store_tx_retry(c, rc, &attempt));
	}
	if (rc != TS_ERR_OK) {
		ts_http_error_plain(req, res, rc, ts_err_status(rc), ts_err_message(rc));
		return;
	}
	if (is.dead != NULL) {
		unauthorized(req, res);
		return;
	}
	if (is.refused) {
		ts_http_error_plain(req, res, TS_ERR_FORBIDDEN, ts_err_status(TS_ERR_FORBIDDEN),
		                    "you hold no assignment to this target and permission set");
		return;
	}
	char exp[TS_ISO8601_LEN + 1];
	ts_time_iso(is.expires_ms, exp);
	ts_http_res_json(
	        req, res, 200, "application/json",
	        json_pack("{s:{s:s,s:s}}", "Credentials", "Token", is.token, "Expiration", exp));
	ts_http_res_header(res, "cache-control", "no-store");
}
