/*
 * An OpenID provider's configuration (OpenID Connect Discovery 1.0): the
 * document at {issuer}/.well-known/openid-configuration parsed and checked
 * (§3 members, §4.3 the issuer it names must be the issuer asked), and the
 * fetches of it and of the provider's JWKS through the outbound client
 * (http/client.h). Used when an account's provider is configured (admin/
 * oidc.h) and by the sign-in's trust cache.
 */
#ifndef TS_OIDC_DISCOVERY_H
#define TS_OIDC_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_OIDC_DISCOVERY_MAX (64 * 1024)      /* bytes of a discovery document */
#define TS_OIDC_DISCOVERY_JWKS_MAX (64 * 1024) /* bytes of a JWKS fetched */
#define TS_OIDC_DISCOVERY_JWKS_KEYS_MAX 16     /* keys in a JWKS */
#define TS_OIDC_DISCOVERY_LIST_MAX 32          /* entries of any list member */
#define TS_OIDC_DISCOVERY_NAME_MAX 64          /* bytes of a list entry (an alg, a method) */
#define TS_OIDC_FETCH_TIMEOUT_MS 10000         /* one fetch of the document or the JWKS */
#define TS_OIDC_DISCOVERY_PATH "/.well-known/openid-configuration"

/* What Tessera uses of a provider's configuration (strings in the arena). */
struct ts_oidc_discovery {
	const char *issuer;
	const char *authorization_endpoint;
	const char *token_endpoint;
	const char *jwks_uri;
	const char *userinfo_endpoint; /* NULL: none published */
	/* token_endpoint_auth_methods_supported (absent: client_secret_basic, §3) */
	bool auth_basic, auth_post;
	/* id_token_signing_alg_values_supported; NULL, 0 when not published */
	const char *const *signing_algs;
	size_t n_signing_algs;
	/* RFC 9207 §3: authorization responses carry iss (then the callback requires it) */
	bool iss_parameter_supported;
};

/*
 * The discovery URL of an issuer (Discovery §4: a terminating "/" removed
 * before the path is appended), in arena memory.
 */
const char *ts_oidc_discovery_url(ts_arena_t *a, const char *issuer);

/*
 * Parses json[0..len) into out. The issuer it names must equal
 * expected_issuer exactly (§4.3; NULL: not compared); authorization_endpoint,
 * token_endpoint and jwks_uri are required; every URL passes
 * ts_http_client_url_check, and none is plain http when the issuer is https;
 * a published response_types_supported must list "code", a published
 * code_challenge_methods_supported "S256" (PKCE, RFC 7636 §4.2), a published
 * token_endpoint_auth_methods_supported client_secret_basic or
 * client_secret_post. TS_ERR_BAD_REQUEST naming the member otherwise.
 */
TS_MUST_USE ts_err ts_oidc_discovery_parse(ts_arena_t *a, const char *json, size_t len,
                                           const char *expected_issuer,
                                           struct ts_oidc_discovery *out, struct ts_error *e);

/*
 * GETs the issuer's discovery document and parses it against issuer (the
 * issuer must pass ts_http_client_url_check and have no query or fragment).
 * *json, *len (may be NULL) get the document as fetched. Every failure is
 * TS_ERR_BAD_REQUEST with a message naming the URL and why: no answer, not
 * 200, not the document, another issuer. Blocks for up to
 * TS_OIDC_FETCH_TIMEOUT_MS.
 */
TS_MUST_USE ts_err ts_oidc_discovery_fetch(ts_arena_t *a, const char *issuer,
                                           struct ts_oidc_discovery *out, const char **json,
                                           size_t *len, struct ts_error *e);

/*
 * GETs a JWKS (RFC 7517 §5) from jwks_uri: a 200 whose body, at most
 * TS_OIDC_DISCOVERY_JWKS_MAX bytes, is a JSON object with a "keys" array of
 * 1 to TS_OIDC_DISCOVERY_JWKS_KEYS_MAX objects each naming its "kty". The
 * keys themselves are jose.h's to read. TS_ERR_BAD_REQUEST naming why.
 */
TS_MUST_USE ts_err ts_oidc_discovery_jwks_fetch(ts_arena_t *a, const char *jwks_uri,
                                                const char **json, size_t *len, struct ts_error *e);

#endif
