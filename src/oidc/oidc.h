/*
 * The OpenID Connect relying party's browser endpoints (docs/oidc.md
 * "Sign-in", docs/product.md §7): per account, the start of a sign-in
 * (GET /auth/{AccountId}/oidc: SP-initiated, or third-party-initiated from
 * the provider's Initiate Login URI, OpenID Connect Core §4) and the one
 * redirection endpoint every account shares (GET /auth/oidc/callback), where
 * the authorization code is exchanged, the ID token checked and the
 * directory asked. The JOSE work is jose.h's and idtoken.h's, the account's
 * configuration is store/oidc.h's, the decision is the directory's
 * (directory/signin_decide.h); this module holds the state between them
 * (state and nonce bound to the browser, PKCE, the per-worker trust cache)
 * and audits every decision.
 */
#ifndef TS_OIDC_OIDC_H
#define TS_OIDC_OIDC_H

#include <stdint.h>

#include "core/crypto.h"
#include "http/http.h"

/* How long a started sign-in may come back (docs/oidc.md: 10 minutes, as SAML's). */
#define TS_OIDC_STATE_TTL_MS (10 * 60 * 1000)
/* The cookie that binds a state to the browser that started the sign-in. */
#define TS_OIDC_BINDING_COOKIE "tessera_oidc"
/* The redirection endpoint (RFC 6749 §3.1.2), under the base URL, for every account. */
#define TS_OIDC_CALLBACK_PATH "/auth/oidc/callback"

/* What the OIDC endpoints need of the running server; outlives it. */
struct ts_oidc_config {
	/*
	 * The public origin given with serve --base-url (http/url.h). NULL when
	 * none was given: the provider needs an absolute redirect_uri that the
	 * Host header must not choose (docs/http.md), so every endpoint refuses.
	 */
	const char *base_url;
	/* opens the client secrets and keys the PKCE verifiers and nonces */
	const unsigned char *master_key;
	int64_t skew_ms; /* clock skew on exp and iat; 0: TS_OIDC_SKEW_DEFAULT_MS */
	/* both endpoints per client address (login.h, ts_login_admit); NULL: no limit */
	struct ts_throttle *throttle;
};

/* The OIDC module for the server (http/http.h): /auth/...; cfg may be NULL (no OIDC). */
struct ts_http_module ts_oidc_module(struct ts_oidc_config *cfg);

#endif
