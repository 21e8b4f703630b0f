/*
 * GET /saml/static/resubmit.js: the one script of the SAML pages. The
 * ACS's resubmit page (acs.c) loads it under CSP script-src 'self' (no
 * inline script anywhere) to post its form again from this origin.
 */
#include "saml/web.h"

/* A day: the file changes only with a release. */
#define RESUBMIT_MAX_AGE "max-age=86400"

static const char script[] = "\"use strict\";\n"
                             "document.getElementById(\"resubmit\").submit();\n";

void ts__saml_resubmit_js_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	(void)req;
	ts_http_res_set(res, 200, "text/javascript; charset=utf-8", script, sizeof script - 1);
	ts_http_res_header(res, "cache-control", "public, " RESUBMIT_MAX_AGE);
	ts_http_res_header(res, "x-content-type-options", "nosniff");
}
