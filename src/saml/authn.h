/*
 * The SP-initiated AuthnRequest (SAML Core §3.4.1) over the HTTP-Redirect
 * binding (SAML Bindings §3.4): DEFLATE, base64, URL-encoded, with the
 * query signed by the SP key (RSA-SHA256, Bindings §3.4.4.1). Pure: the
 * caller stores the request ID (bound to the browser, single use).
 */
#ifndef TS_SAML_AUTHN_H
#define TS_SAML_AUTHN_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

/* bytes of RelayState carried (SAML Bindings §3.4.3 asks IdPs to take 80 at least) */
#define TS_SAML_RELAY_STATE_MAX 1024
#define TS_SAML_REQUEST_ID_LEN 33 /* "_" and 32 hex digits: 128 random bits */

struct ts_saml_authn_request {
	const char *request_id;   /* from ts_saml_request_id */
	const char *sp_entity_id; /* Issuer */
	const char *acs_url;      /* AssertionConsumerServiceURL, ProtocolBinding HTTP-POST */
	const char *sso_url;      /* the IdP's HTTP-Redirect SingleSignOnService: Destination */
	const char *relay_state;  /* may be NULL; at most TS_SAML_RELAY_STATE_MAX bytes */
	const char *sp_key_pem;   /* signs the query; NULL: unsigned */
	int64_t now_ms;           /* IssueInstant */
};

/* A new request ID (TS_SAML_REQUEST_ID_LEN characters, arena memory). */
const char *ts_saml_request_id(ts_arena_t *a);

/*
 * The URL to send the browser to: sso_url with SAMLRequest, RelayState,
 * SigAlg and Signature appended (after '&' when sso_url already has a query).
 * TS_ERR_BAD_REQUEST when relay_state is too long; TS_ERR_INTERNAL when
 * signing fails.
 */
TS_MUST_USE ts_err ts_saml_authn_redirect(ts_arena_t *a, const struct ts_saml_authn_request *r,
                                          const char **url, struct ts_error *e);

#endif
