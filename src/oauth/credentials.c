/*
 * Credentials for downstream use (issue 14, SPEC §8): a short-lived ES256
 * JWT naming the issuer, account, user, target, permission set, its policies,
 * the session that asked (sid) and an expiry, verifiable by anyone holding
 * /oauth/jwks. The portal checks the entitlement and the expiry's caps (the
 * permission set's SessionDuration and the session's own expiry); this file
 * only signs.
 */
#include "oauth/oauth.h"

#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "oauth/internal.h"

/* RFC 7519 §4.1.3: the audience every Tessera credential names. */
#define CREDENTIALS_AUD "tessera"
/* The policies of one permission set, as JSON text: a generous cap. */
#define CREDENTIALS_POLICIES_MAX (32 * 1024)

ts_err ts_oauth_credentials_sign(ts_store_conn_t *c, ts_arena_t *a,
                                 const struct ts_oauth_credentials *cr, const char **jwt,
                                 struct ts_error *e)
{
	*jwt = NULL;
	const struct ts_oauth_config *cfg = ts__oauth_installed();
	if (cfg == NULL || cfg->master_key == NULL || cfg->base_url == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "the authorization server is not configured (no key or issuer)");
	if (cr->account_id == NULL || cr->user_id == NULL || cr->target_id == NULL ||
	    cr->permission_set_id == NULL || cr->policies_json == NULL || cr->session_id == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "credentials name an account, a user, a target, a permission set, "
		               "its policies and the session that asked");
	int64_t now = ts_now_ms();
	if (cr->expires_ms <= now || cr->expires_ms - now > TS__OAUTH_CREDENTIALS_MAX_MS)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "credentials expire after now and within %lld s",
		               (long long)(TS__OAUTH_CREDENTIALS_MAX_MS / 1000));
	json_t *policies = NULL;
	struct ts_json_limits lim = {.max_bytes = CREDENTIALS_POLICIES_MAX};
	ts_err rc =
	        ts_json_parse(cr->policies_json, strlen(cr->policies_json), &lim, a, &policies, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (!json_is_array(policies))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the policies are a JSON array");
	char jti[TS_UUID_LEN + 1];
	ts_uuid_v4(jti);
	/*
	 * RFC 7519 §4.1: registered claims; sid as OpenID Connect Front-Channel
	 * Logout 1.0 §3 names a session (the id, never its token); then Tessera's own
	 */
	json_t *claims = ts_json_own(
	        a, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "iss",
	                     cfg->base_url, "sub", cr->user_id, "aud", CREDENTIALS_AUD, "iat",
	                     (json_int_t)(now / 1000), "exp", (json_int_t)(cr->expires_ms / 1000),
	                     "jti", jti, "sid", cr->session_id, "account_id", cr->account_id,
	                     "user_id", cr->user_id, "target_id", cr->target_id,
	                     "permission_set_id", cr->permission_set_id, "policies", policies));
	if (claims == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a credentials field is not UTF-8");
	return ts__oauth_jwt_sign(c, a, cfg->master_key, now, claims, jwt, e);
}
