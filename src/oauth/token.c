/*
 * The device authorization endpoint (RFC 8628 §3.1, §3.2) and the token
 * endpoint (RFC 8628 §3.4, §3.5 for the device-code grant; RFC 6749 §6 for
 * refresh). A poll is first recorded on its own (slow_down decided from the
 * row as it was, store/queries_oauth.h; committed without waiting for the
 * disk, as it only paces: one round trip on PostgreSQL). A pending flow is
 * answered from that row. Otherwise one write transaction follows: when the
 * flow is approved, the code consumed (from approved only, so of two polls
 * one wins), a CLI session opened (the access token, directory/session.h)
 * and a refresh token stored, with the audit event, all or nothing. Refresh
 * tokens rotate at every use; a spent one coming back revokes its family and
 * every session it gave (RFC 9700 §4.14.2, "refresh token rotation").
 */
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "audit/event.h"
#include "core/json.h"
#include "core/log.h"
#include "core/throttle.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "directory/user.h"
#include "http/form.h"
#include "login/login.h"
#include "oauth/internal.h"
#include "store/oidc.h"

/*
 * An access token (a CLI session) lives an hour, never past its family's end;
 * a family's refresh tokens all end when its first does (serve
 * --refresh-token-ttl, docs/oauth.md).
 */
#define ACCESS_TTL_MS (3600LL * 1000)
/*
 * A spent refresh token back within this of its spend, while its successor is
 * unused, is refused without revoking the family: two refreshes of one token
 * at once (Okta's rotation grace period is 30 s; docs/oauth.md).
 */
#define REUSE_GRACE_MS (30LL * 1000)
#define REFRESH_PREFIX "tsr_"
#define REFRESH_RANDOM 43 /* A-Za-z0-9: about 256 bits */
#define DEVICE_RANDOM 43  /* RFC 8628 §5.2: far above 128 bits */
/* RFC 8628 §3.5: slow_down adds 5 seconds to the interval */
#define SLOW_DOWN_S 5
/* Draws of a user code before giving up on a collision (20^8 codes: never in practice). */
#define USER_CODE_TRIES 4
/* Expired flows, tokens and counters removed per sweep, and how often a node sweeps. */
#define PURGE_LIMIT 1000
#define PURGE_EVERY_MS 60000
/*
 * The audit event of a token grant (docs/oauth.md "Audit"), source
 * signin.tessera; named after AWS SSO OIDC's token call.
 */
#define GRANT_EVENT "CreateToken"

/* The form, or an answered error. */
static bool read_form(struct ts_http_req *req, struct ts_http_res *res, struct ts_http_form *f)
{
	struct ts_error e = {0};
	struct ts_http_form_limits lim = TS__OAUTH_FORM_LIMITS;
	ts_err rc = ts_http_form_from_req(req, &lim, f, &e);
	if (rc == TS_ERR_OK)
		return true;
	/* RFC 6749 §5.2: a malformed request is invalid_request, whatever was wrong */
	ts__oauth_error(req, res, TS_ERR_OAUTH_INVALID_REQUEST, e.message);
	return false;
}

/* RFC 8628 §3.4 and RFC 6749 §3.2.1: the public client names itself with client_id. */
static ts_err client_of(const struct ts_http_form *f, struct ts_error *e)
{
	const char *client = NULL;
	if (ts_http_form_one(f, "client_id", &client, e) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_OAUTH_INVALID_REQUEST, "client_id is required once");
	if (strcmp(client, TS_OAUTH_CLI_CLIENT) != 0)
		return TS_FAIL(e, TS_ERR_OAUTH_INVALID_CLIENT, "unknown client");
	return TS_ERR_OK;
}

ts_err ts__oauth_token_request(const struct ts_http_form *f, struct ts__oauth_token_req *out,
                               struct ts_error *e)
{
	*out = (struct ts__oauth_token_req){0};
	const char *grant = NULL;
	if (ts_http_form_one(f, "grant_type", &grant, e) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_OAUTH_INVALID_REQUEST, "grant_type is required once");
	bool device = strcmp(grant, TS__OAUTH_GRANT_DEVICE) == 0;
	if (!device && strcmp(grant, TS__OAUTH_GRANT_REFRESH) != 0)
		return TS_FAIL(e, TS_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE,
		               "the grants are the device code and refresh_token");
	ts_err rc = client_of(f, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *secret = NULL;
	if (ts_http_form_one(f, device ? "device_code" : "refresh_token", &secret, e) !=
	            TS_ERR_OK ||
	    secret[0] == '\0')
		return TS_FAIL(e, TS_ERR_OAUTH_INVALID_REQUEST,
		               device ? "device_code is required once"
		                      : "refresh_token is required once");
	out->device = device;
	out->secret = secret;
	return TS_ERR_OK;
}

/* A store failure: 503 with Retry-After when transient, else 500. */
static void store_failed(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                         const struct ts_error *e)
{
	ts_log(TS_LOG_ERROR, "oauth: store failure",
	       json_pack("{s:s, s:o}", "request_id", req->request_id, "error",
	                 ts_json_text(e->message)));
	bool later = ts_store_err_transient(rc);
	ts__oauth_error(req, res, later ? TS_ERR_UNAVAILABLE : TS_ERR_INTERNAL,
	                later ? "try again shortly" : "internal error");
	if (later)
		ts_http_res_header(res, "retry-after", "1");
}

/* Once a minute per process, the expired rows go (docs/oauth.md "Expiry"). */
static void maybe_purge(ts_store_conn_t *c)
{
	static atomic_llong last;
	long long now = ts_now_ms(), seen = atomic_load(&last);
	/* one worker of the process sweeps; the others go on */
	if (now - seen < PURGE_EVERY_MS || !atomic_compare_exchange_strong(&last, &seen, now))
		return;
	struct ts_error e = {0};
	int64_t n = 0;
	if (ts_store_oauth_purge(c, now, PURGE_LIMIT, &n, &e) != TS_ERR_OK)
		ts_log(TS_LOG_WARN, "oauth: purge failed",
		       json_pack("{s:o}", "error", ts_json_text(e.message)));
}

/* The account of a start URL ({base}/start/{AccountId}, SPEC §8), or NULL. */
static const char *start_account(ts_arena_t *a, const char *base, const char *start_url)
{
	const char *prefix = ts_arena_printf(a, "%s/start/", base);
	size_t n = strlen(prefix);
	if (start_url == NULL || strncmp(start_url, prefix, n) != 0)
		return NULL;
	const char *id = start_url + n;
	if (id[0] == '\0' || strlen(id) > TS_STORE_OAUTH_FIELD_MAX || strpbrk(id, "/?#%") != NULL)
		return NULL;
	return id;
}

ts_err ts__oauth_device_request(ts_arena_t *a, const char *base, const struct ts_http_form *f,
                                struct ts__oauth_device_req *out, struct ts_error *e)
{
	*out = (struct ts__oauth_device_req){0};
	ts_err rc = client_of(f, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *start_url = NULL, *scope = NULL;
	if (ts_http_form_one(f, "start_url", &start_url, e) != TS_ERR_OK ||
	    ts_http_form_opt(f, "scope", &scope, e) != TS_ERR_OK ||
	    (scope != NULL && strlen(scope) > TS_STORE_OAUTH_TEXT_MAX))
		return TS_FAIL(e, TS_ERR_OAUTH_INVALID_REQUEST,
		               "start_url is required once; scope at most once");
	out->account_id = start_account(a, base, start_url);
	if (out->account_id == NULL)
		return TS_FAIL(e, TS_ERR_OAUTH_INVALID_REQUEST,
		               "start_url is not this server's {base}/start/{AccountId}");
	out->scope = scope;
	return TS_ERR_OK;
}

void ts__oauth_device_authorization(struct ts_http_req *req, struct ts_http_res *res)
{
	const struct ts_oauth_config *cfg = ts__oauth_config(req);
	struct ts_http_form f;
	struct ts_error e = {0};
	int64_t retry_s = 0;
	/* every device authorization writes a row: one address may not fill the store */
	if (cfg != NULL &&
	    !ts_throttle_take(cfg->throttle, ts_login_client_key(req->arena, req->peer),
	                      ts_mono_ns(), &retry_s)) {
		ts__oauth_error(req, res, TS_ERR_THROTTLED, "too many device sign-ins from here");
		ts_http_res_header(res, "retry-after",
		                   ts_arena_printf(req->arena, "%lld", (long long)retry_s));
		return;
	}
	if (!read_form(req, res, &f))
		return;
	if (cfg == NULL || cfg->base_url == NULL) {
		ts__oauth_error(req, res, TS_ERR_UNAVAILABLE, "no base URL configured");
		return;
	}
	struct ts__oauth_device_req dr;
	ts_err rc = ts__oauth_device_request(req->arena, cfg->base_url, &f, &dr, &e);
	if (rc != TS_ERR_OK) {
		ts__oauth_error(req, res, rc, e.message);
		return;
	}
	const char *account_id = dr.account_id, *scope = dr.scope;
	ts_store_conn_t *c = NULL;
	rc = ts_http_conn(req, &c, &e);
	struct ts_account acct;
	int64_t saml = 0, oidc = 0;
	/* SPEC §8: an existing account with an identity source to sign in through */
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get(c, req->arena, account_id, &acct, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_config_version(c, account_id, &saml, &e);
	if (rc == TS_ERR_OK && saml == 0)
		rc = ts_store_oidc_config_version(c, account_id, &oidc, &e);
	if (rc == TS_ERR_NOT_FOUND || (rc == TS_ERR_OK && saml == 0 && oidc == 0)) {
		ts__oauth_error(
		        req, res, TS_ERR_OAUTH_INVALID_REQUEST,
		        "start_url names no account that signs in through an identity source");
		return;
	}
	char device_code[DEVICE_RANDOM + 1];
	ts_random_token(device_code, DEVICE_RANDOM);
	device_code[DEVICE_RANDOM] = '\0';
	char hash[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex(device_code, DEVICE_RANDOM, hash);
	char code[TS__OAUTH_USER_CODE_LEN + 1];
	int64_t now = ts_now_ms(), ttl_s = ts__oauth_device_ttl_s(cfg),
	        interval = ts__oauth_interval_s(cfg);
	const char *ua = ts_login_client(req);
	const char *info = ts_login_utf8_prefix(
	        req->arena,
	        ts_arena_printf(req->arena, "%s from %s", ua != NULL ? ua : "an unnamed client",
	                        req->peer != NULL ? req->peer : "an unknown address"),
	        TS_STORE_OAUTH_TEXT_MAX);
	for (int i = 0; rc == TS_ERR_OK || (rc == TS_ERR_CONFLICT && i < USER_CODE_TRIES); i++) {
		ts__oauth_user_code_new(code);
		struct ts_store_oauth_device d = {.device_hash = hash,
		                                  .user_code = code,
		                                  .account_id = account_id,
		                                  .client_id = TS_OAUTH_CLI_CLIENT,
		                                  .scope = scope,
		                                  .client_info = info,
		                                  .created_ms = now,
		                                  .expires_ms = now + ttl_s * 1000,
		                                  .interval_s = interval};
		rc = ts_store_oauth_device_insert(c, &d, &e);
		if (rc == TS_ERR_OK)
			break;
	}
	if (rc != TS_ERR_OK) {
		store_failed(req, res, rc, &e);
		return;
	}
	maybe_purge(c);
	const char *shown = ts__oauth_user_code_display(req->arena, code);
	/* RFC 8628 §3.2 */
	json_t *j = json_pack(
	        "{s:s, s:s, s:s, s:s, s:I, s:I}", "device_code", device_code, "user_code", shown,
	        "verification_uri", ts_arena_printf(req->arena, "%s/device", cfg->base_url),
	        "verification_uri_complete",
	        ts_arena_printf(req->arena, "%s/device?user_code=%s", cfg->base_url, shown),
	        "expires_in", (json_int_t)ttl_s, "interval", (json_int_t)interval);
	sodium_memzero(device_code, sizeof device_code);
	ts_http_res_json(req, res, 200, "application/json", j);
	ts_http_res_header(res, "cache-control", "no-store");
}

/* ---- the token endpoint ---- */

/* What a grant gives (arena memory). */
struct tokens {
	const char *access, *refresh;
	int64_t access_ttl_ms;
};

/* One grant's run inside its write transaction. */
struct grant {
	struct ts_http_req *req;
	ts_arena_t *a;
	const char *secret_hash;          /* of the device code or refresh token */
	struct ts_store_oauth_device dev; /* the device flow as its poll left it */
	int64_t now_ms;
	ts_err answer; /* TS_ERR_OK: tokens; else the OAuth error, whose writes commit too */
	const char *why;
	struct tokens out;
	/* for the audit event: audit is set once a known flow or token was found */
	bool audit, family_revoked;
	const char *grant_type, *account_id, *user_id, *family_id, *session_id;
};

/* Why a user may no longer hold tokens (session.c's rules), or NULL. */
static const char *user_refusal(const char *account_status, const struct ts_user_row *u)
{
	if (strcmp(account_status, "Active") != 0)
		return "the account is not active";
	if (u->suspended)
		return "the user is suspended";
	if (!u->active)
		return "the user is deactivated by the directory";
	if (u->registration_status != NULL &&
	    (strcmp(u->registration_status, TS_USER_SUSPENDED) == 0 ||
	     strcmp(u->registration_status, TS_USER_RELEASED) == 0))
		return "the user is suspended or released";
	return NULL;
}

/*
 * A fresh access token (a CLI session) and refresh token of family (NULL: a
 * new family, ending after serve --refresh-token-ttl; else ending at
 * family_end_ms, its first token's end) for the user, in c's write
 * transaction; g->answer set instead when the user may no longer sign in.
 */
static ts_err issue(ts_store_conn_t *c, struct grant *g, const char *account_id,
                    const char *user_id, const char *family, int64_t family_end_ms,
                    struct ts_error *e)
{
	struct ts_store_oauth_standing st;
	bool found = false;
	ts_err rc = ts_store_oauth_user_standing(c, g->a, account_id, user_id, &st, &found, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (!found) {
		g->answer = TS_ERR_OAUTH_INVALID_GRANT;
		g->why = "the user or account is gone";
		return TS_ERR_OK;
	}
	const struct ts_user_row *u = &st.user;
	g->why = user_refusal(st.account_status, u);
	bool managed = ts_directory_managed_by(st.api_keys, st.saml_sources);
	enum ts_license lic = TS_LICENSE_NONE;
	if (g->why == NULL)
		rc = ts_directory_user_license(c, g->a, u, managed, &lic, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (g->why == NULL && lic == TS_LICENSE_NONE)
		g->why = "the user no longer holds a licence";
	if (g->why != NULL) {
		g->answer = TS_ERR_OAUTH_INVALID_GRANT;
		return TS_ERR_OK;
	}
	if (family == NULL)
		family_end_ms =
		        g->now_ms + ts__oauth_refresh_ttl_s(ts__oauth_config(g->req)) * 1000;
	g->out.access_ttl_ms = family_end_ms - g->now_ms < ACCESS_TTL_MS ? family_end_ms - g->now_ms
	                                                                 : ACCESS_TTL_MS;
	struct ts_session_origin origin = {.origin = TS_SESSION_ORIGIN_DEVICE};
	struct ts_session s;
	rc = ts_directory_session_create_from(c, g->a, account_id, user_id, TS_SESSION_CLI,
	                                      g->out.access_ttl_ms, lic, TS_OAUTH_CLI_CLIENT,
	                                      &origin, &g->out.access, &s, e);
	if (rc != TS_ERR_OK)
		return rc;
	char *refresh = ts_arena_alloc(g->a, strlen(REFRESH_PREFIX) + REFRESH_RANDOM + 1);
	memcpy(refresh, REFRESH_PREFIX, strlen(REFRESH_PREFIX));
	ts_random_token(refresh + strlen(REFRESH_PREFIX), REFRESH_RANDOM);
	refresh[strlen(REFRESH_PREFIX) + REFRESH_RANDOM] = '\0';
	char hash[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex(refresh, strlen(refresh), hash);
	char fam[TS_UUID_LEN + 1];
	if (family == NULL) {
		ts_uuid_v4(fam);
		family = fam;
	}
	struct ts_store_oauth_refresh r = {.token_hash = hash,
	                                   .family_id = family,
	                                   .account_id = account_id,
	                                   .user_id = user_id,
	                                   .client_id = TS_OAUTH_CLI_CLIENT,
	                                   .session_id = s.session_id,
	                                   .created_ms = g->now_ms,
	                                   .expires_ms = family_end_ms};
	rc = ts_store_oauth_refresh_insert(c, &r, e);
	if (rc == TS_ERR_OK) {
		g->out.refresh = refresh;
		g->family_id = ts_arena_strdup(g->a, family);
		g->session_id = s.session_id;
	}
	return rc;
}

/*
 * RFC 8628 §3.5: a polled flow that is no longer pending (device_poll), in
 * the grant's transaction.
 */
static ts_err device_step(ts_store_conn_t *c, struct grant *g, struct ts_error *e)
{
	const struct ts_store_oauth_device d = g->dev;
	ts_err rc = TS_ERR_OK;
	g->audit = true;
	g->account_id = d.account_id;
	g->user_id = d.user_id;
	if (strcmp(d.status, TS_STORE_OAUTH_CONSUMED) == 0) {
		g->answer = TS_ERR_OAUTH_INVALID_GRANT; /* a code yields tokens once */
		g->why = "the device code was used already";
	} else if (d.expires_ms <= g->now_ms) {
		g->answer = TS_ERR_OAUTH_EXPIRED_TOKEN;
		g->why = "the device code has expired";
	} else if (strcmp(d.status, TS_STORE_OAUTH_DENIED) == 0) {
		g->answer = TS_ERR_OAUTH_ACCESS_DENIED;
		g->why = "the sign-in was refused";
	} else if (strcmp(d.status, TS_STORE_OAUTH_APPROVED) != 0) {
		g->audit = false; /* pending, expired at the poll: the clock went back since */
		g->answer = TS_ERR_OAUTH_AUTHORIZATION_PENDING;
		g->why = "the person has not decided yet";
	} else {
		/*
		 * Approved: the approver's browser session must still be live, or
		 * LogoutUser between approval and poll would leave a sign-in behind.
		 * Locked, so that a revocation committing now waits or is seen.
		 */
		struct ts_session s;
		rc = ts_store_session_get_for_update(c, g->a, d.session_id, &s, e);
		if (rc == TS_ERR_NOT_FOUND ||
		    (rc == TS_ERR_OK && (s.revoked_ms != 0 || s.expires_ms <= g->now_ms))) {
			g->answer = TS_ERR_OAUTH_ACCESS_DENIED;
			g->why = "the session that approved the sign-in has ended";
			return TS_ERR_OK;
		}
		if (rc != TS_ERR_OK)
			return rc;
		int64_t changed = 0;
		rc = ts_store_oauth_device_consume(c, g->secret_hash, &changed, e);
		if (rc != TS_ERR_OK)
			return rc;
		if (changed != 1) {
			g->answer = TS_ERR_OAUTH_INVALID_GRANT;
			g->why = "the device code was used already";
			return TS_ERR_OK;
		}
		rc = issue(c, g, d.account_id, d.user_id, NULL, 0, e);
	}
	return rc;
}

/* RFC 6749 §6 with rotation; reuse of a spent token revokes the family (docs/oauth.md). */
static ts_err refresh_step(ts_store_conn_t *c, struct grant *g, struct ts_error *e)
{
	struct ts_store_oauth_refresh r;
	bool found = false;
	ts_err rc = ts_store_oauth_refresh_get(c, g->a, g->secret_hash, &r, &found, e);
	if (rc != TS_ERR_OK)
		return rc;
	g->answer = TS_ERR_OAUTH_INVALID_GRANT;
	if (!found || strcmp(r.client_id, TS_OAUTH_CLI_CLIENT) != 0) {
		g->why = "unknown refresh token";
		return TS_ERR_OK;
	}
	g->audit = true;
	g->account_id = r.account_id;
	g->user_id = r.user_id;
	g->family_id = r.family_id;
	g->session_id = r.session_id;
	if (r.revoked_ms != 0) {
		g->why = "the refresh token's family was revoked";
		return TS_ERR_OK;
	}
	if (r.expires_ms <= g->now_ms) {
		g->why = "the refresh token has expired";
		return TS_ERR_OK;
	}
	bool revoke = false;
	struct ts_session s;
	if (r.used_ms != 0) {
		int64_t spent = 1;
		if (g->now_ms - r.used_ms < REUSE_GRACE_MS)
			rc = ts_store_oauth_refresh_spent_since(c, r.family_id, r.used_ms, &spent,
			                                        e);
		if (rc != TS_ERR_OK)
			return rc;
		if (spent == 0) {
			g->why = "the refresh token was used already; its successor is valid";
			return TS_ERR_OK;
		}
		g->why = "a spent refresh token came back: its family is revoked";
		revoke = true;
	} else {
		/* LogoutUser, suspension and deactivation revoke the sessions (directory/session.h)
		 */
		rc = ts_store_session_get_for_update(c, g->a, r.session_id, &s, e);
		if (rc == TS_ERR_NOT_FOUND || (rc == TS_ERR_OK && s.revoked_ms != 0)) {
			g->why = "the sign-in was revoked";
			revoke = true;
			rc = TS_ERR_OK;
		}
	}
	if (rc == TS_ERR_OK && !revoke) {
		int64_t changed = 0;
		rc = ts_store_oauth_refresh_spend(c, g->secret_hash, g->now_ms, &changed, e);
		if (rc == TS_ERR_OK && changed != 1) {
			g->why = "the refresh token was used already";
			return TS_ERR_OK;
		}
		g->answer = TS_ERR_OK;
		if (rc == TS_ERR_OK)
			rc = issue(c, g, r.account_id, r.user_id, r.family_id, r.expires_ms, e);
		revoke = rc == TS_ERR_OK && g->answer != TS_ERR_OK;
	}
	if (rc == TS_ERR_OK && revoke) {
		rc = ts_store_oauth_refresh_revoke_family(c, r.family_id, g->now_ms, NULL, e);
		g->family_revoked = true;
		ts_log(TS_LOG_WARN, "oauth: refresh token family revoked",
		       json_pack("{s:s, s:s, s:s, s:s}", "request_id", g->req->request_id, "family",
		                 r.family_id, "user", r.user_id, "reason", g->why));
	}
	return rc;
}

typedef ts_err (*grant_fn)(ts_store_conn_t *c, struct grant *g, struct ts_error *e);

/*
 * The grant's audit event, in its transaction: allowed or refused with the
 * reason, the family and session ids; never a token or a code.
 */
static ts_err grant_audit(ts_store_conn_t *c, const struct grant *g, struct ts_error *e)
{
	struct ts_http_req *req = g->req;
	json_t *params = ts_json_own(g->a, json_object());
	ts_json_set_str(params, "GrantType", g->grant_type);
	ts_json_set_str(params, "ClientId", TS_OAUTH_CLI_CLIENT);
	ts_json_set_str(params, "FamilyId", g->family_id);
	ts_json_set_str(params, "SessionId", g->session_id);
	if (g->family_revoked)
		json_object_set_new(params, "FamilyRevoked", json_true());
	struct ts_audit_entry entry = {
	        .who = {.type = g->user_id != NULL ? "User" : "Anonymous",
	                .principal_id = g->user_id},
	        .event_source = TS_AUDIT_SOURCE_SIGNIN,
	        .event_name = GRANT_EVENT,
	        .account_id = g->account_id,
	        .source_ip = req->peer,
	        .user_agent = ts_text_escape(g->a, ts_http_header(req, "user-agent")),
	        .request_id = req->request_id,
	        .client_request_id = req->client_request_id,
	        .request_parameters = params,
	        .error_code = g->answer != TS_ERR_OK ? ts_err_oauth_name(g->answer) : NULL,
	        .error_message = g->answer != TS_ERR_OK ? g->why : NULL,
	};
	return ts_audit_append(c, g->a, &entry, e);
}

/*
 * RFC 8628 §3.5: the poll, recorded on its own (store/oauth.h), retried
 * when the store asks. True when it decided the answer: an unknown code, or
 * a flow still pending; else g->dev goes on to the grant's transaction.
 */
static bool device_poll(ts_store_conn_t *c, struct grant *g, ts_err *rc, struct ts_error *e)
{
	bool found = false, lost = false;
	int attempt = 0;
	for (;;) {
		g->now_ms = ts_now_ms();
		*rc = ts_store_oauth_device_poll(c, g->a, g->secret_hash, g->now_ms, SLOW_DOWN_S,
		                                 &g->dev, &found, e);
		if (*rc == TS_ERR_OK)
			break;
		/*
		 * A poll whose answer was lost (a connection that had gone stale) may
		 * have been recorded: run once more on a fresh one, which at worst
		 * records the poll twice and answers slow_down (store/oauth.h).
		 */
		if (*rc == TS_ERR_UNAVAILABLE && !lost) {
			lost = true;
			continue;
		}
		if (!ts_store_tx_retry(c, *rc, &attempt))
			break;
	}
	if (*rc != TS_ERR_OK)
		return true;
	if (!found || strcmp(g->dev.client_id, TS_OAUTH_CLI_CLIENT) != 0) {
		g->answer = TS_ERR_OAUTH_INVALID_GRANT; /* nobody's flow: nothing to audit */
		g->why = "unknown device code";
		return true;
	}
	/* a flow consumed, denied or approved goes on, as does an expired one */
	if (strcmp(g->dev.status, TS_STORE_OAUTH_PENDING) != 0 || g->dev.expires_ms <= g->now_ms)
		return false;
	/* a poll that waits grants nothing and is not audited */
	g->answer = g->dev.poll_slow ? TS_ERR_OAUTH_SLOW_DOWN : TS_ERR_OAUTH_AUTHORIZATION_PENDING;
	g->why = g->dev.poll_slow ? "polled faster than the interval; it is now longer"
	                          : "the person has not decided yet";
	return true;
}

/*
 * Runs fn in one write transaction, retried when the store asks (a device
 * code's poll first, on its own); answers.
 */
static void run_grant(struct ts_http_req *req, struct ts_http_res *res, grant_fn fn,
                      const char *grant_type, const char *secret)
{
	struct ts_error e = {0};
	char hash[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex(secret, strlen(secret), hash);
	struct grant g = {.req = req, .a = req->arena, .secret_hash = hash};
	ts_store_conn_t *c = NULL;
	ts_err rc = ts_http_conn(req, &c, &e);
	bool decided = rc == TS_ERR_OK && fn == device_step && device_poll(c, &g, &rc, &e);
	int attempt = 0;
	while (rc == TS_ERR_OK && !decided) {
		g.now_ms = ts_now_ms();
		g.answer = TS_ERR_OK;
		g.why = NULL;
		g.out = (struct tokens){0};
		g.audit = g.family_revoked = false;
		g.grant_type = grant_type;
		g.account_id = g.user_id = g.family_id = g.session_id = NULL;
		rc = ts_store_begin(c, true, &e);
		if (rc == TS_ERR_OK)
			rc = fn(c, &g, &e);
		if (rc == TS_ERR_OK && g.audit)
			rc = grant_audit(c, &g, &e);
		if (rc == TS_ERR_OK)
			rc = ts_store_commit(c, &e);
		if (rc == TS_ERR_OK)
			break;
		ts_store_rollback(c);
		if (!ts_store_tx_retry(c, rc, &attempt))
			break;
		rc = TS_ERR_OK;
	}
	if (rc != TS_ERR_OK) {
		store_failed(req, res, rc, &e);
		return;
	}
	if (g.answer != TS_ERR_OK) {
		ts__oauth_error(req, res, g.answer, g.why);
		return;
	}
	/* RFC 6749 §5.1 */
	json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "access_token", g.out.access, "token_type",
	                      "Bearer", "expires_in", (json_int_t)(g.out.access_ttl_ms / 1000),
	                      "refresh_token", g.out.refresh);
	ts_http_res_json(req, res, 200, "application/json", j);
	ts_http_res_header(res, "cache-control", "no-store");
	ts_http_res_header(res, "pragma", "no-cache");
}

void ts__oauth_token(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts_http_form f;
	struct ts_error e = {0};
	if (!read_form(req, res, &f))
		return;
	struct ts__oauth_token_req tr;
	ts_err rc = ts__oauth_token_request(&f, &tr, &e);
	if (rc != TS_ERR_OK) {
		ts__oauth_error(req, res, rc, e.message);
		return;
	}
	run_grant(req, res, tr.device ? device_step : refresh_step,
	          tr.device ? TS__OAUTH_GRANT_DEVICE : TS__OAUTH_GRANT_REFRESH, tr.secret);
}
