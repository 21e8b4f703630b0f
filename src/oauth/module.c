/*
 * The authorization server's module (oauth.h): its routes, the RFC 8414
 * metadata, the JWK Set, the RFC 6749 §5.2 error shape of /oauth, and the
 * process-wide setting ts_oauth_credentials_sign reads.
 */
#include "oauth/oauth.h"

#include <stdatomic.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "login/login.h"
#include "oauth/internal.h"

static const struct ts_http_slot oauth_slot = {NULL, NULL};
/* the setting the portal's credentials use (ts_oauth_credentials_sign) */
static _Atomic(const struct ts_oauth_config *) installed;

const struct ts_oauth_config *ts__oauth_config(const struct ts_http_req *req)
{
	return ts_http_config(req, &oauth_slot);
}

const struct ts_oauth_config *ts__oauth_installed(void)
{
	return atomic_load(&installed);
}

int64_t ts__oauth_device_ttl_s(const struct ts_oauth_config *cfg)
{
	return cfg != NULL && cfg->device_ttl_s > 0 ? cfg->device_ttl_s : TS_OAUTH_DEVICE_TTL_S;
}

int64_t ts__oauth_interval_s(const struct ts_oauth_config *cfg)
{
	return cfg != NULL && cfg->interval_s > 0 ? cfg->interval_s : TS_OAUTH_INTERVAL_S;
}

int64_t ts__oauth_refresh_ttl_s(const struct ts_oauth_config *cfg)
{
	return cfg != NULL && cfg->refresh_ttl_s > 0 ? cfg->refresh_ttl_s : TS_OAUTH_REFRESH_TTL_S;
}

void ts__oauth_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code,
                     const char *description)
{
	/* RFC 6749 §5.2: "error" and a human-readable "error_description" */
	json_t *j = json_object();
	ts_json_set_str(j, "error", ts_err_oauth_name(code));
	if (description != NULL)
		json_object_set_new(j, "error_description", ts_json_text(description));
	ts_http_res_json(req, res, ts_err_status(code), "application/json", j);
	/* RFC 6749 §5.1, §5.2: token answers are not cached */
	ts_http_res_header(res, "cache-control", "no-store");
	ts_http_res_header(res, "pragma", "no-cache");
	if (code == TS_ERR_OAUTH_INVALID_CLIENT)
		ts_http_res_header(res, "www-authenticate", "Bearer realm=\"tessera\"");
	res->error_code = ts_err_oauth_name(code);
}

/* The HTTP layer's own refusals on /oauth (413, not UTF-8, no route) in the same shape. */
static void surface_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                          const char *message)
{
	(void)status;
	ts__oauth_error(req, res,
	                code == TS_ERR_NOT_FOUND || code == TS_ERR_METHOD
	                        ? TS_ERR_OAUTH_INVALID_REQUEST
	                        : code,
	                message);
	if (code == TS_ERR_NOT_FOUND || code == TS_ERR_METHOD || code == TS_ERR_TOO_LARGE)
		res->status = status;
}

/* RFC 8414 §2, §3: the authorization server's metadata. */
static void metadata_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	const struct ts_oauth_config *cfg = ts__oauth_config(req);
	if (cfg == NULL || cfg->base_url == NULL) {
		ts_http_error_plain(req, res, TS_ERR_UNAVAILABLE, 503, "no base URL configured");
		return;
	}
	const char *b = cfg->base_url;
	ts_arena_t *a = req->arena;
	json_t *j = json_pack(
	        "{s:s, s:s, s:s, s:s, s:[s,s], s:[], s:[s]}", "issuer", b, "token_endpoint",
	        ts_arena_printf(a, "%s/oauth/token", b), "device_authorization_endpoint",
	        ts_arena_printf(a, "%s/oauth/device_authorization", b), "jwks_uri",
	        ts_arena_printf(a, "%s/oauth/jwks", b), "grant_types_supported",
	        "urn:ietf:params:oauth:grant-type:device_code", "refresh_token",
	        "response_types_supported", "token_endpoint_auth_methods_supported", "none");
	ts_http_res_json(req, res, 200, "application/json", j);
	ts_http_res_header(res, "cache-control", "max-age=300");
}

/* RFC 7517 §5: the keys published now, the retired ones in their overlap included. */
static void jwks_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	const struct ts_oauth_config *cfg = ts__oauth_config(req);
	struct ts_error e = {0};
	ts_store_conn_t *c = NULL;
	const char *jwks = NULL;
	ts_err rc = ts_http_conn(req, &c, &e);
	int64_t now = ts_now_ms();
	if (rc == TS_ERR_OK)
		rc = ts__oauth_jwks(c, req->arena, now, &jwks, &e);
	/* a store that never signed publishes its first key now: verifiers may load it early */
	if (rc == TS_ERR_OK && strcmp(jwks, "{\"keys\":[]}") == 0 && cfg != NULL &&
	    cfg->master_key != NULL) {
		rc = ts__oauth_key_new(c, req->arena, cfg->master_key, now, 1, NULL, &e);
		if (rc == TS_ERR_OK)
			rc = ts__oauth_jwks(c, req->arena, now, &jwks, &e);
	}
	if (rc != TS_ERR_OK) {
		ts_http_error_plain(req, res, rc, ts_err_status(rc), "the keys could not be read");
		return;
	}
	ts_http_res_set(res, 200, "application/jwk-set+json", jwks, strlen(jwks));
	ts_http_res_header(res, "cache-control",
	                   ts_arena_printf(req->arena, "max-age=%d", TS__OAUTH_JWKS_MAX_AGE_S));
}

static const struct ts_http_route routes[] = {
        {"GET", "/.well-known/oauth-authorization-server", metadata_handle, 0, NULL,
         "oauth:Metadata"},
        {"GET", "/oauth/jwks", jwks_handle, 0, NULL, "oauth:Jwks"},
        {"POST", "/oauth/device_authorization", ts__oauth_device_authorization, 0, NULL,
         "oauth:DeviceAuthorization"},
        {"POST", "/oauth/token", ts__oauth_token, 0, NULL, "oauth:Token"},
        {"GET", "/device", ts__oauth_device_page, 0, NULL, "oauth:DevicePage"},
        {"POST", "/device", ts__oauth_device_post, 0, NULL, "oauth:DeviceDecision"},
};

/* /device is a browser's page: the HTTP layer's own refusals there are a page, not JSON */
static const struct ts_http_surface device_surface = {"/device", ts_login_surface_error, NULL};
static const struct ts_http_surface surface = {"/oauth", surface_error, &device_surface};

struct ts_http_module ts_oauth_module(struct ts_oauth_config *cfg)
{
	if (cfg != NULL)
		atomic_store(&installed, cfg);
	return (struct ts_http_module){.name = "oauth",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = &surface,
	                               .slot = &oauth_slot,
	                               .config = cfg};
}
