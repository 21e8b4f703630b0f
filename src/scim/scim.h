/*
 * The SCIM 2.0 server (RFC 7643, RFC 7644) under /scim/v2: Users, Groups and
 * the discovery endpoints, authenticated with an account's API keys.
 */
#ifndef TS_SCIM_SCIM_H
#define TS_SCIM_SCIM_H

#include "http/http.h"

struct ts_throttle;

/* What SCIM needs of the running server; outlives it. */
struct ts_scim_config {
	const char *base_url; /* the public base URL (serve --base-url); NULL: from Host */
	/* requests per second per API key (serve --scim-rate-limit); NULL: no limit */
	struct ts_throttle *throttle;
};

/*
 * The SCIM error shape (RFC 7644 §3.12) for errors the HTTP layer answers
 * under /scim/v2: no route (404), wrong method (405), too large (413, 414,
 * 431), not UTF-8 (400, scimType invalidValue). A ts_http_error_fn.
 */
void ts_scim_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                   const char *message);

/* The SCIM module for the server (http/http.h): /scim/v2, its error shape; cfg may be NULL. */
struct ts_http_module ts_scim_module(struct ts_scim_config *cfg);

#endif
