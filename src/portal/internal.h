/*
 * What the portal's own files share (portal.h is what other modules see):
 * the module's configuration, the session a request names, and the
 * handlers the route table in module.c lists.
 */
#ifndef TS_PORTAL_INTERNAL_H
#define TS_PORTAL_INTERNAL_H

#include <stdbool.h>

#include "directory/session.h"
#include "http/http.h"
#include "portal/portal.h"

/* The portal's configuration for req (NULL when the module has none: tests, fuzzers). */
const struct ts_portal_config *ts__portal_config(const struct ts_http_req *req);

/*
 * The browser session cookie's value (http/cookie.h name for the base URL),
 * or NULL when the browser sent none or the portal has no base URL.
 */
const char *ts__portal_cookie(struct ts_http_req *req);

/*
 * The session's token: a bearer token when the request has one (then
 * *from_cookie is false), else the session cookie; NULL when neither.
 */
const char *ts__portal_token(struct ts_http_req *req, bool *from_cookie);

/* What a request's session gives (arena memory). */
struct ts__portal_me {
	struct ts_session_info info;
	const char *primary_email; /* may be NULL */
	bool from_cookie;          /* the session came in the cookie, not a bearer token */
};

/*
 * The live session the request names (ts_directory_session_validate) and
 * the user's primary address; TS_ERR_UNAUTHORIZED without one. Call outside
 * a transaction.
 */
TS_MUST_USE ts_err ts__portal_me(struct ts_http_req *req, struct ts__portal_me *m,
                                 struct ts_error *e);

/* GET /start/{AccountId} (start.c). */
void ts__portal_start_handle(struct ts_http_req *req, struct ts_http_res *res);
/* POST /api/v1/me/credentials (credentials.c). */
void ts__portal_credentials_handle(struct ts_http_req *req, struct ts_http_res *res);

#endif
