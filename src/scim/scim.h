/*
 * The SCIM 2.0 server (RFC 7643, RFC 7644) under /scim/v2: Users, Groups and
 * the discovery endpoints, authenticated with an account's API keys.
 */
#ifndef TS_SCIM_SCIM_H
#define TS_SCIM_SCIM_H

#include "http/http.h"

/*
 * The SCIM error shape (RFC 7644 §3.12) for errors the HTTP layer answers
 * under /scim/v2: no route (404), wrong method (405), too large (413, 414,
 * 431), not UTF-8 (400, scimType invalidValue). A ts_http_error_fn.
 */
void ts_scim_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                   const char *message);

/* The routes of /scim/v2 (static table). */
const struct ts_http_route *ts_scim_routes(int *n);

#endif
