/*
 * OpenID Connect Discovery 1.0: the provider's configuration document
 * parsed and checked (oidc/discovery.h), and the fetches of it and of the
 * JWKS. The document decides where Tessera sends browsers, codes and
 * secrets, so each URL in it passes the outbound client's check, and an
 * https issuer cannot point at plain http (a loopback service).
 */
#include "oidc/discovery.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "http/client.h"

#define JSON_ACCEPT "application/json"
#define JWKS_ACCEPT "application/jwk-set+json, application/json;q=0.9"

static bool is_https(const char *url)
{
	return strncasecmp(url, "https://", strlen("https://")) == 0;
}

const char *ts_oidc_discovery_url(ts_arena_t *a, const char *issuer)
{
	size_t n = strlen(issuer);
	if (n > 0 && issuer[n - 1] == '/')
		n--;
	return ts_arena_printf(a, "%.*s%s", (int)n, issuer, TS_OIDC_DISCOVERY_PATH);
}

/* A URL member: required or not, checked as the outbound client would, same scheme rule. */
static ts_err url_member(ts_arena_t *a, json_t *doc, const char *name, bool required,
                         bool https_only, const char **out, struct ts_error *e)
{
	json_t *v = json_object_get(doc, name);
	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the discovery document has no %s",
			               name);
		return TS_ERR_OK;
	}
	if (!json_is_string(v))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the discovery document's %s is not a string",
		               name);
	struct ts_error why = {0};
	if (ts_http_client_url_check(json_string_value(v), &why) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the discovery document's %s: %s", name,
		               why.message);
	if (https_only && !is_https(json_string_value(v)))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the discovery document's %s is not https, and the issuer is", name);
	*out = ts_arena_strdup(a, json_string_value(v));
	return TS_ERR_OK;
}

/*
 * A list member (an array of short strings): *present false when absent.
 * The entries into *items (arena memory) when items is not NULL.
 */
static ts_err list_member(ts_arena_t *a, json_t *doc, const char *name, bool *present,
                          const char *const **items, size_t *n, struct ts_error *e)
{
	json_t *v = json_object_get(doc, name);
	*present = false;
	if (items != NULL) {
		*items = NULL;
		*n = 0;
	}
	if (v == NULL || json_is_null(v))
		return TS_ERR_OK;
	if (!json_is_array(v) || json_array_size(v) > TS_OIDC_DISCOVERY_LIST_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the discovery document's %s is not an array of at most %d strings",
		               name, TS_OIDC_DISCOVERY_LIST_MAX);
	size_t i;
	json_t *item;
	const char **list = ts_arena_alloc(a, sizeof *list * (json_array_size(v) + 1));
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);
		if (s == NULL || strlen(s) > TS_OIDC_DISCOVERY_NAME_MAX)
			return TS_FAIL(
			        e, TS_ERR_BAD_REQUEST,
			        "the discovery document's %s[%zu] is not a string of at most "
			        "%d bytes",
			        name, i, TS_OIDC_DISCOVERY_NAME_MAX);
		list[i] = ts_arena_strdup(a, s);
	}
	list[json_array_size(v)] = NULL;
	*present = true;
	if (items != NULL) {
		*items = list;
		*n = json_array_size(v);
	}
	return TS_ERR_OK;
}

static bool listed(json_t *doc, const char *name, const char *value)
{
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(doc, name), i, item)
	{
		const char *s = json_string_value(item);
		if (s != NULL && strcmp(s, value) == 0)
			return true;
	}
	return false;
}

static ts_err check_lists(ts_arena_t *a, json_t *doc, struct ts_oidc_discovery *d,
                          struct ts_error *e)
{
	bool present = false;
	/* §3: response_types_supported; the authorization code flow is the only one used */
	ts_err rc = list_member(a, doc, "response_types_supported", &present, NULL, NULL, e);
	if (rc == TS_ERR_OK && present && !listed(doc, "response_types_supported", "code"))
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "the provider does not offer the authorization code flow "
		             "(response_types_supported has no \"code\")");
	/* RFC 8414 §2: code_challenge_methods_supported; Tessera sends S256 always */
	if (rc == TS_ERR_OK)
		rc = list_member(a, doc, "code_challenge_methods_supported", &present, NULL, NULL,
		                 e);
	if (rc == TS_ERR_OK && present && !listed(doc, "code_challenge_methods_supported", "S256"))
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "the provider does not offer PKCE S256 "
		             "(code_challenge_methods_supported)");
	/* §3: absent means client_secret_basic */
	if (rc == TS_ERR_OK)
		rc = list_member(a, doc, "token_endpoint_auth_methods_supported", &present, NULL,
		                 NULL, e);
	if (rc != TS_ERR_OK)
		return rc;
	d->auth_basic = !present ||
	                listed(doc, "token_endpoint_auth_methods_supported", "client_secret_basic");
	d->auth_post = present &&
	               listed(doc, "token_endpoint_auth_methods_supported", "client_secret_post");
	if (!d->auth_basic && !d->auth_post)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the provider accepts neither client_secret_basic nor "
		               "client_secret_post at its token endpoint "
		               "(token_endpoint_auth_methods_supported)");
	return list_member(a, doc, "id_token_signing_alg_values_supported", &present,
	                   &d->signing_algs, &d->n_signing_algs, e);
}

ts_err ts_oidc_discovery_parse(ts_arena_t *a, const char *json, size_t len,
                               const char *expected_issuer, struct ts_oidc_discovery *out,
                               struct ts_error *e)
{
	*out = (struct ts_oidc_discovery){0};
	if (len > TS_OIDC_DISCOVERY_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the discovery document is larger than %d bytes",
		               TS_OIDC_DISCOVERY_MAX);
	json_t *doc = NULL;
	struct ts_error why = {0};
	const struct ts_json_limits lim = {.max_bytes = TS_OIDC_DISCOVERY_MAX, .max_depth = 8};
	if (ts_json_parse(json, len, &lim, a, &doc, &why) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the discovery document is not JSON: %s",
		               why.message);
	if (!json_is_object(doc))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the discovery document is not a JSON object");
	struct ts_oidc_discovery d = {0};
	ts_err rc = url_member(a, doc, "issuer", true, false, &d.issuer, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* §4.3: exactly the issuer whose document this is meant to be, byte for byte */
	if (expected_issuer != NULL && strcmp(d.issuer, expected_issuer) != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the discovery document names issuer %s, not %s (OpenID Connect "
		               "Discovery 1.0 §4.3)",
		               ts_text_escape(a, d.issuer), ts_text_escape(a, expected_issuer));
	bool https = is_https(d.issuer);
	rc = url_member(a, doc, "authorization_endpoint", true, https, &d.authorization_endpoint,
	                e);
	if (rc == TS_ERR_OK)
		rc = url_member(a, doc, "token_endpoint", true, https, &d.token_endpoint, e);
	if (rc == TS_ERR_OK)
		rc = url_member(a, doc, "jwks_uri", true, https, &d.jwks_uri, e);
	if (rc == TS_ERR_OK)
		rc = url_member(a, doc, "userinfo_endpoint", false, https, &d.userinfo_endpoint, e);
	if (rc == TS_ERR_OK)
		rc = check_lists(a, doc, &d, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *iss_param = json_object_get(doc, "authorization_response_iss_parameter_supported");
	if (iss_param != NULL && !json_is_null(iss_param) && !json_is_boolean(iss_param))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the discovery document's "
		               "authorization_response_iss_parameter_supported is not a boolean");
	d.iss_parameter_supported = json_is_true(iss_param);
	*out = d;
	return TS_ERR_OK;
}

/* GETs url and wants a 200 with a body: TS_ERR_BAD_REQUEST naming what (and url) otherwise. */
static ts_err get_document(ts_arena_t *a, const char *what, const char *url, size_t max,
                           const char *accept, struct ts_http_client_response *r,
                           struct ts_error *e)
{
	struct ts_http_client_opts o = {
	        .max_bytes = max, .timeout_ms = TS_OIDC_FETCH_TIMEOUT_MS, .accept = accept};
	struct ts_error why = {0};
	ts_err rc = ts_http_client_get(a, url, &o, r, &why);
	if (rc == TS_ERR_TOO_LARGE)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the %s at %s is larger than %zu bytes", what,
		               ts_text_escape(a, url), max);
	if (rc != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the %s at %s could not be fetched: %s", what,
		               ts_text_escape(a, url), why.message);
	if (r->status != 200)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the %s at %s answered HTTP %ld, not 200",
		               what, ts_text_escape(a, url), r->status);
	if (r->len == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the %s at %s is empty", what,
		               ts_text_escape(a, url));
	return TS_ERR_OK;
}

ts_err ts_oidc_discovery_fetch(ts_arena_t *a, const char *issuer, struct ts_oidc_discovery *out,
                               const char **json, size_t *len, struct ts_error *e)
{
	*out = (struct ts_oidc_discovery){0};
	struct ts_error why = {0};
	if (ts_http_client_url_check(issuer, &why) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the issuer: %s", why.message);
	/* Core §2 "iss": a case-sensitive https URL with no query or fragment */
	if (strpbrk(issuer, "?#") != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "an issuer has no query or fragment");
	const char *url = ts_oidc_discovery_url(a, issuer);
	struct ts_http_client_response r;
	ts_err rc = get_document(a, "discovery document", url, TS_OIDC_DISCOVERY_MAX, JSON_ACCEPT,
	                         &r, e);
	if (rc == TS_ERR_OK &&
	    (rc = ts_oidc_discovery_parse(a, r.body, r.len, issuer, out, &why)) != TS_ERR_OK)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s: %s", ts_text_escape(a, url), why.message);
	if (rc != TS_ERR_OK)
		return rc;
	if (json != NULL)
		*json = r.body;
	if (len != NULL)
		*len = r.len;
	return TS_ERR_OK;
}

ts_err ts_oidc_discovery_jwks_fetch(ts_arena_t *a, const char *jwks_uri, const char **json,
                                    size_t *len, struct ts_error *e)
{
	*json = NULL;
	*len = 0;
	struct ts_http_client_response r;
	ts_err rc =
	        get_document(a, "JWKS", jwks_uri, TS_OIDC_DISCOVERY_JWKS_MAX, JWKS_ACCEPT, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *doc = NULL;
	struct ts_error why = {0};
	const struct ts_json_limits lim = {.max_bytes = TS_OIDC_DISCOVERY_JWKS_MAX, .max_depth = 8};
	if (ts_json_parse(r.body, r.len, &lim, a, &doc, &why) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the JWKS at %s is not JSON: %s",
		               ts_text_escape(a, jwks_uri), why.message);
	json_t *keys = json_object_get(doc, "keys");
	if (!json_is_array(keys) || json_array_size(keys) < 1 ||
	    json_array_size(keys) > TS_OIDC_DISCOVERY_JWKS_KEYS_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the JWKS at %s has no \"keys\" array of 1 to %d keys (RFC 7517 §5)",
		               ts_text_escape(a, jwks_uri), TS_OIDC_DISCOVERY_JWKS_KEYS_MAX);
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k)
	{
		if (ts_json_str(k, "kty") == NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "the JWKS at %s: key %zu has no \"kty\" (RFC 7517 §4.1)",
			               ts_text_escape(a, jwks_uri), i);
	}
	*json = r.body;
	*len = r.len;
	return TS_ERR_OK;
}
