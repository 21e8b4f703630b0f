/*
 * The SCIM 2.0 server (RFC 7643, RFC 7644) under /scim/v2: Users, Groups and
 * the discovery endpoints, authenticated with an account's API keys.
 */
#ifndef TS_SCIM_SCIM_H
#define TS_SCIM_SCIM_H

#include "http/http.h"

/* The routes of /scim/v2 (static table). */
const struct ts_http_route *ts_scim_routes(int *n);

#endif
