/*
 * Sessions: creation (token shown once, hash stored), validation with the
 * licence re-check, and revocation. See session.h.
 */
#include "directory/session.h"

#include <string.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "directory/user.h"

static const char *kind_name(enum ts_session_kind k)
{
	return k == TS_SESSION_CLI ? "cli" : "browser";
}

/* Whether roles (a JSON array of role pairs) offers exactly (role_arn, provider_arn). */
static bool role_offered(const json_t *roles, const char *role_arn, const char *provider_arn)
{
	size_t i;
	const json_t *r;
	json_array_foreach(roles, i, r)
	{
		const char *ra = ts_json_str(r, "RoleArn"), *pa = ts_json_str(r, "ProviderArn");
		if (ra != NULL && pa != NULL && strcmp(ra, role_arn) == 0 &&
		    strcmp(pa, provider_arn) == 0)
			return true;
	}
	return false;
}

/* Parses and checks roles_json (arena-owned *roles); TS_ERR_BAD_REQUEST naming the fault. */
static ts_err roles_parse(ts_arena_t *a, const char *roles_json, json_t **roles, struct ts_error *e)
{
	*roles = NULL;
	size_t len = strlen(roles_json);
	if (len > TS_SESSION_ROLES_JSON_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the roles offered exceed %d bytes",
		               TS_SESSION_ROLES_JSON_MAX);
	json_t *j = NULL;
	struct ts_json_limits lim = {.max_bytes = TS_SESSION_ROLES_JSON_MAX, .max_depth = 2};
	struct ts_error why = {0};
	if (ts_json_parse(roles_json, len, &lim, a, &j, &why) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the roles offered are not JSON: %s",
		               why.message);
	if (!json_is_array(j) || json_array_size(j) > TS_SESSION_ROLES_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the roles offered are an array of at most %d",
		               TS_SESSION_ROLES_MAX);
	size_t i;
	const json_t *r;
	json_array_foreach(j, i, r)
	{
		const char *ra = ts_json_str(r, "RoleArn"), *pa = ts_json_str(r, "ProviderArn");
		if (!json_is_object(r) || json_object_size(r) != 2 || ra == NULL || pa == NULL ||
		    ra[0] == '\0' || pa[0] == '\0' || strlen(ra) > TS_SESSION_ARN_MAX ||
		    strlen(pa) > TS_SESSION_ARN_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "role %zu offered is not {\"RoleArn\", \"ProviderArn\"} "
			               "with two ARNs of at most %d bytes",
			               i, TS_SESSION_ARN_MAX);
	}
	*roles = j;
	return TS_ERR_OK;
}

static ts_err origin_check(ts_arena_t *a, const struct ts_session_origin *o, struct ts_error *e)
{
	if (o->origin != NULL && strcmp(o->origin, TS_SESSION_ORIGIN_SAML) != 0 &&
	    strcmp(o->origin, TS_SESSION_ORIGIN_OIDC) != 0 &&
	    strcmp(o->origin, TS_SESSION_ORIGIN_DEVICE) != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "unknown session origin %.32s", o->origin);
	if (o->role_session_name != NULL &&
	    (o->role_session_name[0] == '\0' ||
	     strlen(o->role_session_name) > TS_SESSION_ROLE_SESSION_NAME_MAX))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a RoleSessionName is 1 to %d bytes",
		               TS_SESSION_ROLE_SESSION_NAME_MAX);
	if ((o->role_arn == NULL) != (o->provider_arn == NULL))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a role is chosen as a pair: a role ARN and its provider ARN");
	json_t *roles = NULL;
	if (o->roles_json != NULL) {
		ts_err rc = roles_parse(a, o->roles_json, &roles, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	if (o->role_arn != NULL &&
	    (roles == NULL || !role_offered(roles, o->role_arn, o->provider_arn)))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the role chosen is not one of those offered");
	return TS_ERR_OK;
}

ts_err ts_directory_session_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                   const char *user_id, enum ts_session_kind kind, int64_t ttl_ms,
                                   enum ts_license license, const char *client, const char **token,
                                   struct ts_session *out, struct ts_error *e)
{
	return ts_directory_session_create_from(c, a, account_id, user_id, kind, ttl_ms, license,
	                                        client, NULL, token, out, e);
}

ts_err ts_directory_session_create_from(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                        const char *user_id, enum ts_session_kind kind,
                                        int64_t ttl_ms, enum ts_license license, const char *client,
                                        const struct ts_session_origin *origin, const char **token,
                                        struct ts_session *out, struct ts_error *e)
{
	*token = NULL;
	static const struct ts_session_origin none = {0};
	if (origin == NULL)
		origin = &none;
	ts_err orc = origin_check(a, origin, e);
	if (orc != TS_ERR_OK)
		return orc;
	if (ttl_ms < 1 || ttl_ms > TS_SESSION_TTL_MAX_MS)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a session lives 1 ms to %lld ms",
		               (long long)TS_SESSION_TTL_MAX_MS);
	if (license == TS_LICENSE_NONE)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a session needs a licence (Pro or Basic)");
	char *tok = ts_arena_alloc(a, TS_SESSION_TOKEN_LEN + 1);
	memcpy(tok, TS_SESSION_TOKEN_PREFIX, strlen(TS_SESSION_TOKEN_PREFIX));
	ts_random_token(tok + strlen(TS_SESSION_TOKEN_PREFIX), TS_SESSION_TOKEN_RANDOM);
	char *hash = ts_arena_alloc(a, TS_SHA256_HEX_LEN + 1);
	ts_sha256_hex(tok, strlen(tok), hash);
	char *id = ts_arena_alloc(a, TS_UUID_LEN + 1);
	ts_uuid_v4(id);
	int64_t now = ts_now_ms();
	struct ts_session s = {
	        .session_id = id,
	        .token_hash = hash,
	        .account_id = account_id,
	        .user_id = user_id,
	        .kind = kind_name(kind),
	        .license = ts_directory_license_name(license),
	        .created_ms = now,
	        .expires_ms = now + ttl_ms,
	        .license_checked_ms = now,
	        .client = client,
	        .origin = origin->origin,
	        .roles_json = origin->roles_json,
	        .role_arn = origin->role_arn,
	        .provider_arn = origin->provider_arn,
	        .role_session_name = origin->role_session_name,
	};
	ts_err rc = ts_store_session_insert(c, &s, e);
	if (rc != TS_ERR_OK)
		return rc;
	*token = tok;
	if (out != NULL)
		*out = s;
	return TS_ERR_OK;
}

/* Why a session is not valid, for the log; NULL when it is. */
static const char *refusal(const struct ts_session_info *in, int64_t now_ms)
{
	if (in->session.revoked_ms != 0)
		return "the session was revoked";
	if (in->session.expires_ms <= now_ms)
		return "the session has expired";
	if (strcmp(in->account.status, "Active") != 0)
		return "the account is not active";
	if (in->user.suspended)
		return "the user is suspended";
	if (!in->user.active)
		return "the user is deactivated by the directory";
	if (in->user.registration_status != NULL &&
	    (strcmp(in->user.registration_status, TS_USER_SUSPENDED) == 0 ||
	     strcmp(in->user.registration_status, TS_USER_RELEASED) == 0))
		return "the user is suspended or released";
	return NULL;
}

/*
 * The account and user of out->session, loaded in c's transaction, and the
 * verdict: the refusals of refusal(), then, when recheck, the licence
 * computed again (out->license; else the session's own). TS_ERR_UNAUTHORIZED
 * with the reason in e; the caller refuses a licence of TS_LICENSE_NONE.
 */
static ts_err judge(ts_store_conn_t *c, ts_arena_t *a, int64_t now_ms, bool recheck,
                    struct ts_session_info *out, struct ts_error *e)
{
	ts_err rc = ts_store_account_get(c, a, out->session.account_id, &out->account, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_user_get(c, a, out->session.account_id, out->session.user_id,
		                       &out->user, e);
	if (rc == TS_ERR_NOT_FOUND)
		rc = TS_FAIL(e, TS_ERR_UNAUTHORIZED, "the session's user or account is gone");
	if (rc == TS_ERR_OK && refusal(out, now_ms) != NULL)
		rc = TS_FAIL(e, TS_ERR_UNAUTHORIZED, "%s", refusal(out, now_ms));
	out->license = ts_directory_license_parse(out->session.license);
	bool managed = false;
	if (rc == TS_ERR_OK && recheck)
		rc = ts_directory_account_managed(c, out->account.account_id, &managed, e);
	if (rc == TS_ERR_OK && recheck)
		rc = ts_directory_user_license(c, a, &out->user, managed, &out->license, e);
	return rc;
}

static ts_err no_license(struct ts_error *e)
{
	return TS_FAIL(e, TS_ERR_UNAUTHORIZED,
	               "the user no longer holds a licence (no mapped directory group)");
}

ts_err ts_directory_session_validate(ts_store_conn_t *c, ts_arena_t *a, const char *token,
                                     int64_t now_ms, struct ts_session_info *out,
                                     struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	if (token == NULL ||
	    strncmp(token, TS_SESSION_TOKEN_PREFIX, strlen(TS_SESSION_TOKEN_PREFIX)) != 0 ||
	    strlen(token) != TS_SESSION_TOKEN_LEN)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "not a session token");
	char hash[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex(token, strlen(token), hash);

	bool recheck = false;
	ts_err rc = ts_store_begin(c, false, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the lookup is by hash: equal hashes are equal tokens, nothing to compare in time */
	rc = ts_store_session_by_hash(c, a, hash, &out->session, e);
	if (rc == TS_ERR_NOT_FOUND)
		rc = TS_FAIL(e, TS_ERR_UNAUTHORIZED, "unknown session token");
	recheck = rc == TS_ERR_OK &&
	          now_ms - out->session.license_checked_ms >= TS_SESSION_LICENSE_RECHECK_MS;
	if (rc == TS_ERR_OK)
		rc = judge(c, a, now_ms, recheck, out, e);
	ts_store_rollback(c);
	if (rc != TS_ERR_OK)
		return rc;
	if (recheck) {
		/* a change of groups or mappings reaches live sessions here, within a minute */
		rc = ts_store_begin(c, true, e);
		if (rc == TS_ERR_OK)
			rc = ts_store_session_set_license(c, out->session.session_id,
			                                  ts_directory_license_name(out->license),
			                                  now_ms, e);
		if (rc == TS_ERR_OK)
			rc = ts_store_commit(c, e);
		else
			ts_store_rollback(c);
		if (rc != TS_ERR_OK)
			return rc;
		out->session.license = ts_directory_license_name(out->license);
		out->session.license_checked_ms = now_ms;
	}
	if (out->license == TS_LICENSE_NONE)
		return no_license(e);
	return TS_ERR_OK;
}

ts_err ts_directory_session_recheck(ts_store_conn_t *c, ts_arena_t *a, const char *session_id,
                                    int64_t now_ms, struct ts_session_info *out, struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	/* locked: a revocation or re-check of this session at the same time waits (docs/store.md)
	 */
	ts_err rc = ts_store_session_get_for_update(c, a, session_id, &out->session, e);
	if (rc == TS_ERR_NOT_FOUND)
		rc = TS_FAIL(e, TS_ERR_UNAUTHORIZED, "unknown session");
	if (rc == TS_ERR_OK)
		rc = judge(c, a, now_ms, true, out, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the groups as they are now, not as they were up to a minute ago */
	rc = ts_store_session_set_license(c, session_id, ts_directory_license_name(out->license),
	                                  now_ms, e);
	if (rc != TS_ERR_OK)
		return rc;
	out->session.license = ts_directory_license_name(out->license);
	out->session.license_checked_ms = now_ms;
	if (out->license == TS_LICENSE_NONE)
		return no_license(e);
	return TS_ERR_OK;
}

ts_err ts_directory_session_set_role(ts_store_conn_t *c, ts_arena_t *a, const char *session_id,
                                     const char *role_arn, const char *provider_arn, int64_t now_ms,
                                     struct ts_error *e)
{
	if (role_arn == NULL || provider_arn == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a role is chosen as a pair: a role ARN and its provider ARN");
	struct ts_session s;
	/* locked: a concurrent revocation or choice waits for this one (docs/store.md) */
	ts_err rc = ts_store_session_get_for_update(c, a, session_id, &s, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (s.revoked_ms != 0 || s.expires_ms <= now_ms)
		return TS_FAIL(e, TS_ERR_NOT_FOUND, "no live session %.64s", session_id);
	json_t *roles = NULL;
	if (s.roles_json != NULL) {
		rc = roles_parse(a, s.roles_json, &roles, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	if (roles == NULL || !role_offered(roles, role_arn, provider_arn))
		return TS_FAIL(e, TS_ERR_FORBIDDEN,
		               "the role chosen is not one of those the identity provider offered");
	return ts_store_session_set_role(c, session_id, role_arn, provider_arn, e);
}

ts_err ts_directory_session_revoke(ts_store_conn_t *c, const char *session_id, struct ts_error *e)
{
	int64_t changed = 0;
	ts_err rc = ts_store_session_revoke(c, session_id, ts_now_ms(), &changed, e);
	if (rc == TS_ERR_OK && changed == 0)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "no live session %.64s", session_id);
	return rc;
}

ts_err ts_directory_session_revoke_all(ts_store_conn_t *c, const char *user_id, int64_t *n,
                                       struct ts_error *e)
{
	int64_t changed = 0;
	ts_err rc = ts_store_session_revoke_user(c, user_id, ts_now_ms(), &changed, e);
	if (n != NULL)
		*n = changed;
	return rc;
}
