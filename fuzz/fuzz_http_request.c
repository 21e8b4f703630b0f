/*
 * libFuzzer target for the request path before and around the handlers:
 * the request check (src/http/request.c ts_http_request_check, which runs
 * ts_http_decode over the path's query), the router with its percent-decoded
 * parameters (router.c), ts_http_query, and the error answers of every
 * surface (SCIM under /scim/v2; a page under /saml, /auth, /start, /portal and
 * /device; RFC 6749
 * §5.2 JSON under /oauth; {"Code","Message"} elsewhere), end to end
 * as src/http/server.c runs them, against the server's real route table.
 *
 * The input is a request as it comes off the wire, read loosely: a request
 * line "METHOD TARGET [VERSION]", header lines "name: value" up to an empty
 * line, then the body. Bytes are kept as they are (h2o passes bytes above
 * 0x7F in the target and in header values). A routed request then runs its
 * handler without a server or store (no request context): the SCIM and admin dispatchers
 * answer from their store-failure paths, with their own error renderers.
 *
 * An incident: GET /scim/v2/Users/%ff crashed the server (json_pack NULL on a
 * message quoting the decoded parameter); fuzz/corpus/http_request/ holds it.
 * Every answer must be a JSON document of the surface's shape whose status
 * matches the response's, and the access-log fields must dump; anything
 * else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/http.h"
#include "http/internal.h"
#include "scim/scim.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define FUZZ_MAX_LINES 80 /* more than TS_HTTP_MAX_HEADERS: the server refuses those */
#define SCIM_ERROR_URN "urn:ietf:params:scim:api:messages:2.0:Error"

/* Query names the handlers read. */
static const char *const query_names[] = {
        "filter",     "attributes", "excludedAttributes", "startIndex", "count", "max-results",
        "next-token", "name",       "operation",          "user-email", "email", "eventName",
        "start",      "end",
};

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The answer must be JSON of the surface's shape, its status the response's. */
static void check_error_answer(const struct ts_http_req *req, const struct ts_http_res *res)
{
	if (res->fault != NULL || res->status < 400 || res->body == NULL)
		abort();
	/* the sign-in surfaces answer browsers: a page, never JSON (docs/saml.md, docs/oidc.md,
	 * docs/portal.md) */
	if (under(req->path, "/saml") || under(req->path, "/auth") || under(req->path, "/start") ||
	    under(req->path, "/portal") || under(req->path, "/device")) {
		if (res->content_type == NULL || strncmp(res->content_type, "text/html", 9) != 0 ||
		    res->body_len == 0)
			abort();
		return;
	}
	json_error_t err;
	json_t *doc = json_loadb(res->body, res->body_len, 0, &err);
	if (!json_is_object(doc))
		abort();
	if (under(req->path, "/oauth")) {
		/* RFC 6749 §5.2: error (a string), error_description optional; never cached */
		const char *cc = NULL;
		for (int i = 0; i < res->nheaders; i++)
			if (strcmp(res->headers[i].name, "cache-control") == 0)
				cc = res->headers[i].value;
		if (ts_json_str(doc, "error") == NULL || cc == NULL || strcmp(cc, "no-store") != 0)
			abort();
	} else if (under(req->path, "/scim/v2")) {
		/* RFC 7644 §3.12 */
		json_t *schemas = json_object_get(doc, "schemas");
		const char *status = ts_json_str(doc, "status");
		if (!json_is_array(schemas) || json_array_size(schemas) != 1 ||
		    strcmp(json_string_value(json_array_get(schemas, 0)), SCIM_ERROR_URN) != 0)
			abort();
		if (status == NULL || strtol(status, NULL, 10) != res->status)
			abort();
		if (ts_json_str(doc, "detail") == NULL)
			abort();
	} else if (ts_json_str(doc, "Code") == NULL || ts_json_str(doc, "Message") == NULL) {
		abort();
	}
	json_decref(doc);
}

/* Reads one line (without its \r\n) from *p; NULL at the end. */
static char *line(ts_arena_t *a, const char **p, const char *end)
{
	if (*p >= end)
		return NULL;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	const char *e = stop > *p && stop[-1] == '\r' ? stop - 1 : stop;
	char *out = ts_arena_strndup(a, *p, (size_t)(e - *p));
	*p = nl ? nl + 1 : end;
	return out;
}

static void run(ts_arena_t *a, const char *data, size_t size)
{
	const char *p = data, *end = data + size;
	char *first = line(a, &p, end);
	if (first == NULL)
		return;
	/* "METHOD TARGET [VERSION]" */
	char *sp = strchr(first, ' ');
	if (sp == NULL)
		return;
	*sp = '\0';
	char *target = sp + 1;
	char *sp2 = strchr(target, ' ');
	if (sp2 != NULL)
		*sp2 = '\0';
	struct ts_http_req req = {.arena = a, .method = first, .request_id = "fuzz", .peer = "::1"};
	char *q = strchr(target, '?');
	req.query = q ? q + 1 : "";
	if (q)
		*q = '\0';
	req.path = target;
	struct ts_http_header *h = ts_arena_alloc(a, sizeof *h * FUZZ_MAX_LINES);
	int n = 0;
	char *l;
	while (n < FUZZ_MAX_LINES && (l = line(a, &p, end)) != NULL && l[0] != '\0') {
		char *colon = strchr(l, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		for (char *c = l; *c; c++) /* h2o lowercases names */
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		char *v = colon + 1;
		while (*v == ' ')
			v++;
		h[n].name = l;
		h[n].value = v;
		if (strcmp(l, "x-request-id") == 0 && req.client_request_id == NULL)
			req.client_request_id = v;
		n++;
	}
	req.headers = h;
	req.nheaders = n;
	req.body = p < end ? ts_arena_strndup(a, p, (size_t)(end - p)) : "";
	req.body_len = strlen(req.body);

	/* the server's real tables, built once (the modules without configuration) */
	static struct ts_http_route *routes;
	static struct ts_http_surface *surfaces;
	static int nroutes, nsurfaces;
	if (routes == NULL) {
		struct ts_http_module modules[TS_APP_MODULES_MAX];
		int nmodules = ts_app_modules(NULL, modules);
		routes = ts_http_modules_routes(modules, nmodules, &nroutes);
		surfaces = ts_http_modules_surfaces(modules, nmodules, &nsurfaces);
	}
	struct ts_http_res res = {0};

	/* what the server does, in its order (server.c on_req) */
	struct ts_error e = {0};
	ts_err checked = ts_http_request_check(&req, &e);
	if (checked != TS_ERR_OK &&
	    (checked != TS_ERR_BAD_REQUEST || !ts_utf8_valid(e.message, strlen(e.message))))
		abort();
	if (checked == TS_ERR_OK) {
		/* a checked request: every query value the handlers read decodes to UTF-8 */
		for (size_t i = 0; i < sizeof query_names / sizeof query_names[0]; i++) {
			const char *v = ts_http_query(&req, query_names[i]);
			if (v != NULL && !ts_utf8_valid(v, strlen(v)))
				abort();
		}
	}
	const struct ts_http_route *route = NULL;
	enum ts_http_match m = ts_http_route_find(routes, nroutes, req.method, req.path, a, &route,
	                                          req.params, &req.nparams);
	bool routed = m == TS_HTTP_MATCH_OK || m == TS_HTTP_MATCH_BAD_PARAM;
	/* decoded parameters are UTF-8; the raw ones of a refusal are escaped: UTF-8 too */
	for (int i = 0; routed && i < req.nparams; i++)
		if (req.params[i] == NULL || req.params[i][0] == '\0' ||
		    !ts_utf8_valid(req.params[i], strlen(req.params[i])))
			abort();
	if (checked == TS_ERR_OK && m == TS_HTTP_MATCH_BAD_PARAM)
		checked = TS_FAIL(&e, TS_ERR_BAD_REQUEST, "a path parameter is not UTF-8");
	bool run_handler = false;
	if (checked != TS_ERR_OK && routed && (route->flags & TS_HTTP_REFUSALS)) {
		req.refused = checked;
		req.refusal = e.message;
		run_handler = true;
	} else if (checked != TS_ERR_OK) {
		ts_http_error(surfaces, nsurfaces, &req, &res, checked, ts_err_status(checked),
		              e.message);
		check_error_answer(&req, &res);
	} else if (m != TS_HTTP_MATCH_OK) {
		ts_err code = m == TS_HTTP_MATCH_METHOD_ONLY ? TS_ERR_METHOD : TS_ERR_NOT_FOUND;
		ts_http_error(surfaces, nsurfaces, &req, &res, code, ts_err_status(code),
		              "no such path");
		check_error_answer(&req, &res);
	} else {
		run_handler = true;
	}
	/* /metrics reads the live server's counters: nothing here to render */
	if (run_handler && (route->name == NULL || strcmp(route->name, "metrics") != 0)) {
		req.route = route;
		route->fn(&req, &res);
		ts_http_res_settle(surfaces, nsurfaces, &req, &res);
		if (res.status >= 400)
			check_error_answer(&req, &res);
	}
	/* the renderers themselves, given a message that quotes raw input (the crash) */
	struct ts_http_res quoted = {0};
	/* as a handler quotes a decoded parameter ("account %s not found"): the last segment */
	const char *slash = strrchr(req.path, '/');
	const char *seg = slash ? slash + 1 : req.path;
	const char *decoded = ts_http_decode(a, seg, strlen(seg), false);
	const char *msg =
	        ts_arena_printf(a, "account %s not found (%s)", decoded ? decoded : "-", req.path);
	ts_scim_error(&req, &quoted, TS_ERR_NOT_FOUND, 404, msg);
	if (quoted.fault != NULL || quoted.body == NULL)
		abort();
	struct ts_http_res plain = {0};
	ts_http_error_plain(&req, &plain, TS_ERR_NOT_FOUND, 404, msg);
	if (plain.fault != NULL || plain.body == NULL)
		abort();
	/* the access log keeps every field */
	json_t *f = ts__http_access_fields(&req, &res, 1.5);
	char *text = json_dumps(f, JSON_COMPACT);
	if (text == NULL || json_object_get(f, "method") == NULL ||
	    json_object_get(f, "path") == NULL || json_object_get(f, "peer") == NULL ||
	    json_object_get(f, "status") == NULL)
		abort();
	ts_free(text);
	json_decref(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the store-failure paths log each input: quiet, the checks above still run */
	ts_log_set_level((enum ts_log_level)(TS_LOG_ERROR + 1));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	ts_arena_t *a = ts_arena_new();
	run(a, (const char *)data, size);
	ts_arena_free(&a);
	return 0;
}
