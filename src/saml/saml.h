/*
 * The SAML 2.0 service provider's browser endpoints (docs/saml.md,
 * docs/product.md §6): per account, the SP metadata, the SP-initiated login
 * (AuthnRequest over HTTP-Redirect), the Assertion Consumer Service
 * (HTTP-POST) and the AWS role chooser. The XML work is response.h's,
 * metadata.h's and authn.h's; the decision is the directory's
 * (directory/signin_decide.h); this module holds the state between them
 * (requests bound to the browser, the replay cache, sessions) and audits
 * every decision.
 */
#ifndef TS_SAML_SAML_H
#define TS_SAML_SAML_H

#include <stdint.h>

#include "core/crypto.h"
#include "http/http.h"

/* How long an AuthnRequest may be answered (docs/saml.md: 10 minutes). */
#ifndef TS_SAML_REQUEST_TTL_MS
#define TS_SAML_REQUEST_TTL_MS (10 * 60 * 1000)
#endif
/* The cookie that binds an AuthnRequest to the browser that asked for it. */
#define TS_SAML_BINDING_COOKIE "saml_binding"
/* The script of the resubmit page (served by this module: CSP script-src 'self'). */
#define TS_SAML_RESUBMIT_JS "/saml/static/resubmit.js"

/* What the SAML endpoints need of the running server; outlives it. */
struct ts_saml_config {
	/*
	 * The public origin given with serve --base-url (http/url.h). NULL when
	 * none was given: the IdP needs absolute URLs that the Host header must
	 * not choose (docs/http.md), so every SAML endpoint then refuses.
	 */
	const char *base_url;
	/* opens the SP private keys and keys the CSRF tokens of the role chooser */
	const unsigned char *master_key;
	int64_t skew_ms; /* clock skew on time conditions; 0: TS_SAML_SKEW_DEFAULT_MS */
	/* anonymous sign-in steps per client address (login.h, ts_login_admit); NULL: no limit */
	struct ts_throttle *throttle;
};

/* The SAML module for the server (http/http.h): /saml/...; cfg may be NULL (no SAML). */
struct ts_http_module ts_saml_module(struct ts_saml_config *cfg);

#endif
