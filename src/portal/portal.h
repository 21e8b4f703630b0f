/*
 * The signed-in person's side (docs/product.md §2, §8): GET /api/v1/me (who
 * the session is: account, user, licence, AWS role) and GET /portal, for a
 * browser session (cookie sid) or a CLI token (Authorization: Bearer tss_...).
 * The sign-in protocols (SAML, OIDC) open the sessions; this module reads
 * them (directory/session.h).
 */
#ifndef TS_PORTAL_PORTAL_H
#define TS_PORTAL_PORTAL_H

#include "core/crypto.h"
#include "http/http.h"

/* The browser session's cookie (http/cookie.h adds __Host- over https). */
#define TS_PORTAL_SESSION_COOKIE "sid"

/* What the portal needs of the running server; outlives it. */
struct ts_portal_config {
	const char *base_url; /* the public origin (http/url.h): the cookie's name and flags */
};

/* The portal's module for the server (http/http.h); cfg may be NULL. */
struct ts_http_module ts_portal_module(struct ts_portal_config *cfg);

#endif
