/*
 * The OIDC module's pure pieces, kept apart so that the unit tests
 * (tests/unit/test_oidc_web.c) and the fuzzer (fuzz/fuzz_oidc_callback.c)
 * hold them: the values derived from a state (PKCE verifier, nonce), the S256
 * challenge, the authorization URL and the two query strings a browser
 * brings. No I/O.
 */
#include <sodium.h>
#include <string.h>

#include "core/crypto.h"
#include "http/client.h"
#include "http/form.h"
#include "oidc/web.h"

void ts__oidc_derive(const unsigned char master[TS_MASTER_KEY_LEN], const char *purpose,
                     const char *state, char out[TS__OIDC_PKCE_VERIFIER_LEN + 1])
{
	unsigned char key[TS_MASTER_KEY_LEN];
	unsigned char mac[TS_SHA256_LEN];
	ts_secret_subkey(master, purpose, key);
	struct ts_hmac_sha256 m;
	ts_hmac_sha256_init(&m, key, sizeof key);
	ts_hmac_sha256_update(&m, state, strlen(state));
	ts_hmac_sha256_final(&m, mac);
	/* RFC 7636 §4.1: base64url of 32 octets is 43 characters of [A-Za-z0-9-_] */
	sodium_bin2base64(out, TS__OIDC_PKCE_VERIFIER_LEN + 1, mac, sizeof mac,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(key, sizeof key);
	sodium_memzero(mac, sizeof mac);
	sodium_memzero(&m, sizeof m);
}

void ts__oidc_pkce_challenge(const char *verifier, char out[TS__OIDC_PKCE_CHALLENGE_LEN + 1])
{
	unsigned char digest[TS_SHA256_LEN];
	struct ts_sha256 h;
	ts_sha256_init(&h);
	ts_sha256_update(&h, verifier, strlen(verifier));
	ts_sha256_final(&h, digest);
	sodium_bin2base64(out, TS__OIDC_PKCE_CHALLENGE_LEN + 1, digest, sizeof digest,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

const char *ts__oidc_query(ts_arena_t *a, const char *const *names, const char *const *values,
                           size_t n)
{
	const char *out = "";
	for (size_t i = 0; i < n; i++) {
		if (values[i] == NULL)
			continue;
		out = ts_arena_concat(
		        a, out, out[0] != '\0' ? "&" : "",
		        ts_http_client_form_encode(a, names[i], strlen(names[i])), "=",
		        ts_http_client_form_encode(a, values[i], strlen(values[i])), (char *)NULL);
	}
	return out;
}

ts_err ts__oidc_authorize_url(ts_arena_t *a, const char *endpoint, const struct ts__oidc_authz *p,
                              const char **out, struct ts_error *e)
{
	*out = NULL;
	if (strncmp(endpoint, "https://", 8) != 0 && strncmp(endpoint, "http://", 7) != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the authorization endpoint is not an http(s) URL");
	/* RFC 6749 §3.1: the endpoint URI MAY include a query component, which MUST be
	 * retained; it MUST NOT include a fragment */
	if (strchr(endpoint, '#') != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the authorization endpoint has a fragment");
	/* OpenID Connect Core §3.1.2.1, RFC 7636 §4.3 */
	static const char *const names[] = {
	        "response_type", "client_id",      "redirect_uri",          "scope",     "state",
	        "nonce",         "code_challenge", "code_challenge_method", "login_hint"};
	const char *const values[] = {"code",       p->client_id, p->redirect_uri,   p->scope,
	                              p->state,     p->nonce,     p->code_challenge, "S256",
	                              p->login_hint};
	size_t n = strlen(endpoint);
	const char *sep = strchr(endpoint, '?') == NULL                      ? "?"
	                  : endpoint[n - 1] == '?' || endpoint[n - 1] == '&' ? ""
	                                                                     : "&";
	*out = ts_arena_concat(a, endpoint, sep,
	                       ts__oidc_query(a, names, values, sizeof names / sizeof names[0]),
	                       (char *)NULL);
	return TS_ERR_OK;
}

/* The query as a form (the same grammar: RFC 6749 §4.1.2 uses application/x-www-form-urlencoded).
 */
static ts_err query_form(ts_arena_t *a, const char *query, size_t len, struct ts_http_form *f,
                         struct ts_error *e)
{
	struct ts_http_form_limits lim = {.max_body = TS__OIDC_QUERY_MAX,
	                                  .max_fields = TS__OIDC_QUERY_FIELDS_MAX,
	                                  .max_name = TS_HTTP_FORM_MAX_NAME,
	                                  .max_value = TS__OIDC_QUERY_MAX,
	                                  .multiline = false};
	return ts_http_form_parse(a, query, len, &lim, f, e);
}

/* The field at most once (RFC 6749 §3.1) and at most max bytes. */
static ts_err field(const struct ts_http_form *f, const char *name, size_t max, const char **out,
                    struct ts_error *e)
{
	ts_err rc = ts_http_form_opt(f, name, out, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (*out != NULL && strlen(*out) > max)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "%s is longer than %zu bytes", name, max);
	return TS_ERR_OK;
}

ts_err ts__oidc_callback_parse(ts_arena_t *a, const char *query, size_t len,
                               struct ts__oidc_callback *out, struct ts_error *e)
{
	*out = (struct ts__oidc_callback){0};
	struct ts_http_form f;
	struct ts__oidc_callback c = {0};
	const char *desc = NULL;
	ts_err rc = query_form(a, query, len, &f, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "code", TS__OIDC_CODE_MAX, &c.code, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "state", TS__OIDC_STATE_LEN, &c.state, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "iss", TS__OIDC_ISS_MAX, &c.iss, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "error", TS__OIDC_ERROR_MAX, &c.error, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "error_description", TS__OIDC_QUERY_MAX, &desc, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (desc != NULL)
		c.error_description = ts_login_utf8_prefix(a, desc, TS__OIDC_ERROR_DESCRIPTION_MAX);
	*out = c;
	return TS_ERR_OK;
}

ts_err ts__oidc_start_parse(ts_arena_t *a, const char *query, size_t len,
                            struct ts__oidc_start *out, struct ts_error *e)
{
	*out = (struct ts__oidc_start){0};
	struct ts_http_form f;
	struct ts__oidc_start s = {0};
	ts_err rc = query_form(a, query, len, &f, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "iss", TS__OIDC_ISS_MAX, &s.iss, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "login_hint", TS__OIDC_QUERY_MAX, &s.login_hint, e);
	if (rc == TS_ERR_OK)
		rc = field(&f, "target_link_uri", TS__OIDC_QUERY_MAX, &s.target_link_uri, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* a hint or a deep link we cannot keep is dropped, never the sign-in (as SAML's RelayState)
	 */
	if (s.login_hint != NULL &&
	    (s.login_hint[0] == '\0' || strlen(s.login_hint) > TS__OIDC_LOGIN_HINT_MAX))
		s.login_hint = NULL;
	*out = s;
	return TS_ERR_OK;
}

bool ts__oidc_error_known(const char *s)
{
	/* RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6 */
	static const char *const known[] = {"invalid_request",
	                                    "unauthorized_client",
	                                    "access_denied",
	                                    "unsupported_response_type",
	                                    "invalid_scope",
	                                    "server_error",
	                                    "temporarily_unavailable",
	                                    "interaction_required",
	                                    "login_required",
	                                    "account_selection_required",
	                                    "consent_required",
	                                    "invalid_request_uri",
	                                    "invalid_request_object",
	                                    "request_not_supported",
	                                    "request_uri_not_supported",
	                                    "registration_not_supported"};
	if (s == NULL)
		return false;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(s, known[i]) == 0)
			return true;
	return false;
}
