/*
 * The signed-in person's side (docs/product.md §2, §8, docs/portal.md): the
 * account's start URL GET /start/{AccountId}, which sends a browser to the
 * account's identity source; GET /api/v1/me (who the session is: account,
 * user, licence, AWS role, and the targets and permission sets the person
 * may use) and GET /portal (the same as a page), for a browser session
 * (cookie sid) or a CLI token (Authorization: Bearer tss_...); and
 * POST /api/v1/me/credentials, short-lived signed credentials for one
 * (target, permission set). The sign-in protocols (SAML, OIDC) open the
 * sessions; this module reads them (directory/session.h).
 */
#ifndef TS_PORTAL_PORTAL_H
#define TS_PORTAL_PORTAL_H

#include "core/arena.h"
#include "core/crypto.h"
#include "http/http.h"

/* The browser session's cookie (http/cookie.h adds __Host- over https). */
#define TS_PORTAL_SESSION_COOKIE "sid"
/* The longest deep link the start URL carries through a sign-in (docs/portal.md). */
#define TS_PORTAL_NEXT_MAX 1024
/* The audit event source and name of a credentials issue (docs/audit.md shape). */
#define TS_PORTAL_AUDIT_SOURCE "portal.tessera"
#define TS_PORTAL_AUDIT_CREDENTIALS "GetCredentials"
/*
 * The header a browser (cookie) call of POST /api/v1/me/credentials carries
 * the session's anti-CSRF token in (http/csrf.h); /portal's page has it in
 * <meta name="csrf-token">.
 */
#define TS_PORTAL_CSRF_HEADER "x-csrf-token"

/* What the portal needs of the running server; outlives it. */
struct ts_portal_config {
	const char *base_url; /* the public origin (http/url.h): the cookie's name and flags */
	/* the CSRF key of browser POSTs is derived from it (http/csrf.h); NULL: browser
	 * POSTs are refused, bearer tokens still work */
	const unsigned char *master_key;
};

/* The portal's module for the server (http/http.h); cfg may be NULL. */
struct ts_http_module ts_portal_module(struct ts_portal_config *cfg);

/*
 * The start URL's deep link: next when it is a same-origin path that
 * http/redirect.h accepts (exactly one leading '/', no "//", "/\",
 * controls or escapes of them) of at most TS_PORTAL_NEXT_MAX bytes, else
 * "/portal". Never NULL. For the start URL and for whoever builds one.
 */
const char *ts_portal_next(ts_arena_t *a, const char *next);

#endif
