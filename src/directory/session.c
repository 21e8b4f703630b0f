/*
 * Sessions: creation (token shown once, hash stored), validation with the
 * licence re-check, and revocation. See session.h.
 */
#include "directory/session.h"

#include <string.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "directory/user.h"

static const char *kind_name(enum ts_session_kind k)
{
	return k == TS_SESSION_CLI ? "cli" : "browser";
}

ts_err ts_directory_session_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                   const char *user_id, enum ts_session_kind kind, int64_t ttl_ms,
                                   enum ts_license license, const char *client, const char **token,
                                   struct ts_session *out, struct ts_error *e)
{
	*token = NULL;
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

	bool managed = false, recheck = false;
	ts_err rc = ts_store_begin(c, false, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the lookup is by hash: equal hashes are equal tokens, nothing to compare in time */
	rc = ts_store_session_by_hash(c, a, hash, &out->session, e);
	if (rc == TS_ERR_NOT_FOUND)
		rc = TS_FAIL(e, TS_ERR_UNAUTHORIZED, "unknown session token");
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get(c, a, out->session.account_id, &out->account, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_user_get(c, a, out->session.account_id, out->session.user_id,
		                       &out->user, e);
	if (rc == TS_ERR_NOT_FOUND)
		rc = TS_FAIL(e, TS_ERR_UNAUTHORIZED, "the session's user or account is gone");
	if (rc == TS_ERR_OK && refusal(out, now_ms) != NULL)
		rc = TS_FAIL(e, TS_ERR_UNAUTHORIZED, "%s", refusal(out, now_ms));
	out->license = ts_directory_license_parse(out->session.license);
	recheck = now_ms - out->session.license_checked_ms >= TS_SESSION_LICENSE_RECHECK_MS;
	if (rc == TS_ERR_OK && recheck)
		rc = ts_directory_account_managed(c, out->account.account_id, &managed, e);
	if (rc == TS_ERR_OK && recheck)
		rc = ts_directory_user_license(c, a, &out->user, managed, &out->license, e);
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
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED,
		               "the user no longer holds a licence (no mapped directory group)");
	return TS_ERR_OK;
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
