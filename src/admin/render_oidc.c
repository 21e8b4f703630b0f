/*
 * The admin API's shape of an account's OpenID provider (docs/oidc.md
 * "Configuration", GET .../openid-config): what UpdateAccountOpenIdConfig
 * took without the ClientSecret (SPEC §2), the settings, what the stored
 * discovery document says of the provider, and the two URLs the
 * administrator pastes into Okta: the Login Redirect URI (one callback for
 * every account: the state names the account) and the Initiate Login URI.
 */
#include "admin/oidc.h"

#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "oidc/discovery.h"
#include "store/oidc.h"

static json_t *iso(int64_t ms)
{
	char buf[40];
	if (ms <= 0)
		return json_null();
	ts_time_iso(ms, buf);
	return json_string(buf);
}

static json_t *relay_list(ts_arena_t *a, const char *text)
{
	json_t *j = NULL;
	if (text != NULL && ts_json_parse(text, strlen(text), NULL, a, &j, NULL) == TS_ERR_OK &&
	    json_is_array(j))
		return json_incref(j);
	return json_array();
}

/* What the token request will use (docs/oidc.md): basic unless only post is offered. */
static const char *auth_method(const struct ts_oidc_discovery *d)
{
	return d->auth_basic ? "client_secret_basic" : "client_secret_post";
}

ts_err ts_admin_oidc_config_load_json(ts_store_conn_t *c, ts_arena_t *a, const char *base_url,
                                      const char *account_id, json_t **out, struct ts_error *e)
{
	struct ts_store_oidc_config cfg;
	struct ts_oidc_discovery d;
	bool found = false;
	*out = NULL;
	ts_err rc = ts_store_oidc_config_get(c, a, account_id, &cfg, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_NOT_FOUND, "account %s has no OpenID configuration",
		             account_id);
	if (rc != TS_ERR_OK)
		return rc;
	/* it parsed against this issuer when it was stored */
	if (ts_oidc_discovery_parse(a, cfg.discovery_json, strlen(cfg.discovery_json), cfg.issuer,
	                            &d, e) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_INTERNAL, "the stored discovery document of %s: %s",
		               account_id, e->message);
	json_t *provider = json_object();
	json_object_set_new(provider, "AuthorizationEndpoint",
	                    ts_json_text(d.authorization_endpoint));
	json_object_set_new(provider, "TokenEndpoint", ts_json_text(d.token_endpoint));
	json_object_set_new(provider, "JwksUri", ts_json_text(d.jwks_uri));
	json_object_set_new(provider, "UserinfoEndpoint", ts_json_text(d.userinfo_endpoint));
	json_object_set_new(provider, "TokenEndpointAuthMethod", json_string(auth_method(&d)));
	json_object_set_new(provider, "IssParameterSupported",
	                    json_boolean(d.iss_parameter_supported));
	json_object_set_new(provider, "JwksFetchedOn", iso(cfg.jwks_fetched_ms));
	json_t *view = json_object();
	json_object_set_new(view, "AccountId", ts_json_text(account_id));
	json_object_set_new(view, "Issuer", ts_json_text(cfg.issuer));
	json_object_set_new(view, "ClientId", ts_json_text(cfg.client_id));
	json_object_set_new(view, "Claim", ts_json_text(cfg.claim));
	json_object_set_new(view, "Scopes", ts_json_text(cfg.scopes));
	json_object_set_new(view, "RelayStateAllowList", relay_list(a, cfg.relay_allow));
	json_object_set_new(view, "AllowHs256", json_boolean(cfg.allow_hs256));
	json_object_set_new(view, "LoginRedirectUri",
	                    ts_json_text(ts_arena_printf(a, "%s" TS_OIDC_CALLBACK_PATH, base_url)));
	json_object_set_new(
	        view, "InitiateLoginUri",
	        ts_json_text(ts_arena_printf(a, "%s/auth/%s/oidc", base_url, account_id)));
	json_object_set_new(view, "Provider", provider);
	json_object_set_new(view, "CreatedOn", iso(cfg.created_ms));
	json_object_set_new(view, "UpdatedOn", iso(cfg.modified_ms));
	*out = view;
	return TS_ERR_OK;
}
