/*
 * Unit tests of the HTTP module's pure parts (src/http/router.c and
 * request.c): route matching with captured, percent-decoded parameters and
 * 405 detection; percent-decoding; query and header lookup. Requests are
 * built by hand around an arena; no server runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "http/http.h"
#include "http/internal.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void h_dummy(struct ts_http_req *req, struct ts_http_res *res)
{
	(void)req;
	(void)res;
}

enum {
	R_LIST,
	R_CREATE,
	R_GET,
	R_DELETE,
	R_USER,
	R_ROOT,
	R_SPECIAL,
	R_ANY,
	R_FOUR,
	R_FIVE,
	R_POST_ONLY,
	R_DUP_FIRST,
	R_DUP_SECOND,
	R_COUNT
};

static const struct ts_http_route routes[R_COUNT] = {
        [R_LIST] = {"GET", "/api/v1/accounts", h_dummy, 0, NULL, NULL},
        [R_CREATE] = {"POST", "/api/v1/accounts", h_dummy, 0, NULL, NULL},
        [R_GET] = {"GET", "/api/v1/accounts/{}", h_dummy, 0, NULL, NULL},
        [R_DELETE] = {"DELETE", "/api/v1/accounts/{}", h_dummy, 0, NULL, NULL},
        [R_USER] = {"GET", "/api/v1/accounts/{}/users/{}", h_dummy, 0, NULL, NULL},
        [R_ROOT] = {"GET", "/", h_dummy, 0, NULL, NULL},
        [R_SPECIAL] = {"GET", "/x/special", h_dummy, 0, NULL, NULL},
        [R_ANY] = {"GET", "/x/{}", h_dummy, 0, NULL, NULL},
        [R_FOUR] = {"PUT", "/p/{}/{}/{}/{}", h_dummy, 0, NULL, NULL},
        [R_FIVE] = {"GET", "/five/{}/{}/{}/{}/{}", h_dummy, 0, NULL, NULL},
        [R_POST_ONLY] = {"POST", "/submit", h_dummy, 0, NULL, NULL},
        [R_DUP_FIRST] = {"GET", "/dup/{}", h_dummy, 0, NULL, NULL},
        [R_DUP_SECOND] = {"GET", "/dup/{}", h_dummy, 0, NULL, NULL},
};

struct route_case {
	const char *method, *path;
	enum ts_http_match want;
	int route; /* for OK */
	int nparams;
	const char *p[TS_HTTP_MAX_PARAMS];
};

#define OK(m, path, r, n, ...)                   \
	{                                        \
		m, path, TS_HTTP_MATCH_OK, r, n, \
		{                                \
			__VA_ARGS__              \
		}                                \
	}
#define NONE(m, path)                               \
	{                                           \
		m, path, TS_HTTP_MATCH_NONE, -1, 0, \
		{                                   \
			NULL                        \
		}                                   \
	}
#define BAD(m, path)                                     \
	{                                                \
		m, path, TS_HTTP_MATCH_BAD_PARAM, -1, 0, \
		{                                        \
			NULL                             \
		}                                        \
	}
#define METHOD(m, path)                                    \
	{                                                  \
		m, path, TS_HTTP_MATCH_METHOD_ONLY, -1, 0, \
		{                                          \
			NULL                               \
		}                                          \
	}

static const struct route_case route_cases[] = {
        OK("GET", "/api/v1/accounts", R_LIST, 0, NULL),
        OK("POST", "/api/v1/accounts", R_CREATE, 0, NULL),
        METHOD("PUT", "/api/v1/accounts"),
        METHOD("get", "/api/v1/accounts"), /* RFC 9110 §9.1: methods are case-sensitive */
        NONE("GET", "/api/v1/accounts/"),  /* trailing slash is another path */
        NONE("GET", "/api/v1/accounts//"),
        NONE("GET", "/api/v1"),
        NONE("GET", "/api/v1/accountsX"),
        NONE("GET", "/api/v1/account"),
        NONE("GET", "/API/v1/accounts"),
        NONE("GET", "api/v1/accounts"),
        NONE("GET", "//api/v1/accounts"),
        NONE("GET", ""),
        OK("GET", "/api/v1/accounts/abc", R_GET, 1, "abc"),
        OK("DELETE", "/api/v1/accounts/abc", R_DELETE, 1, "abc"), /* a later route still wins */
        METHOD("PATCH", "/api/v1/accounts/abc"),
        OK("GET", "/api/v1/accounts/a%20b%2Fc", R_GET, 1, "a b/c"),
        OK("GET", "/api/v1/accounts/a+b", R_GET, 1, "a+b"), /* '+' is not a space in paths */
        OK("GET", "/api/v1/accounts/%E2%82%AC", R_GET, 1, "\xe2\x82\xac"),
        OK("GET", "/api/v1/accounts/%7b%7D", R_GET, 1, "{}"),
        NONE("GET", "/api/v1/accounts/abc/"),
        NONE("GET", "/api/v1/accounts/abc/extra"),
        NONE("GET", "/api/v1/accounts/abc/users"),
        NONE("GET", "/api/v1/accounts/abc/users/"),
        NONE("GET", "/api/v1/accounts//users/u"), /* {} needs a non-empty segment */
        OK("GET", "/api/v1/accounts/abc/users/u%401", R_USER, 2, "abc", "u@1"),
        NONE("GET", "/api/v1/accounts/abc/users/u/x"),
        OK("HEAD", "/api/v1/accounts/abc", R_GET, 1, "abc"), /* RFC 9110 §9.3.2 */
        OK("HEAD", "/api/v1/accounts", R_LIST, 0, NULL),
        METHOD("HEAD", "/submit"), /* no GET there */
        OK("POST", "/submit", R_POST_ONLY, 0, NULL),
        METHOD("GET", "/submit"),
        OK("GET", "/", R_ROOT, 0, NULL),
        METHOD("POST", "/"),
        OK("GET", "/x/special", R_SPECIAL, 0, NULL), /* first match wins */
        OK("GET", "/x/other", R_ANY, 1, "other"),
        OK("GET", "/dup/1", R_DUP_FIRST, 1, "1"),
        OK("PUT", "/p/1/2/3/4", R_FOUR, 4, "1", "2", "3", "4"),
        NONE("PUT", "/p/1/2/3"),
        NONE("PUT", "/p/1/2/3/4/5"),
        /* more than TS_HTTP_MAX_PARAMS captures never match */
        NONE("GET", "/five/1/2/3/4/5"),
        /* a segment that does not decode, decodes to NUL or is not UTF-8: 400 */
        BAD("GET", "/api/v1/accounts/a%00b"),
        BAD("GET", "/api/v1/accounts/%00"),
        BAD("GET", "/api/v1/accounts/%zz"),
        BAD("GET", "/api/v1/accounts/%4"),
        BAD("GET", "/api/v1/accounts/abc%"),
        BAD("GET", "/api/v1/accounts/abc/users/%00"),
        BAD("HEAD", "/api/v1/accounts/a%00b"),
        /* an incident: %ff crashed the server (json_pack on the message quoting it) */
        BAD("GET", "/api/v1/accounts/%ff"),
        BAD("GET", "/api/v1/accounts/%FF"),
        BAD("GET", "/api/v1/accounts/abc/users/%ff"),
        BAD("DELETE", "/api/v1/accounts/%c3%28"),    /* a bad continuation byte */
        BAD("GET", "/api/v1/accounts/%c0%af"),       /* overlong '/' */
        BAD("GET", "/api/v1/accounts/%ed%a0%80"),    /* a surrogate */
        BAD("GET", "/api/v1/accounts/%f4%90%80%80"), /* past U+10FFFF */
        BAD("GET", "/api/v1/accounts/%e2%82"),       /* cut short */
        BAD("GET", "/api/v1/accounts/\xff"),         /* raw, not escaped */
        OK("GET", "/api/v1/accounts/%f0%9f%98%80", R_GET, 1, "\xf0\x9f\x98\x80"),
        METHOD("PATCH", "/api/v1/accounts/%ff"), /* the method is checked first */
        NONE("GET", "/api/v1/nope/%ff"),
};

static void test_route_find(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < N_ITEMS(route_cases); i++) {
		const struct route_case *c = &route_cases[i];
		ts_arena_t *a = ts_arena_new();
		const struct ts_http_route *route = NULL;
		const char *params[TS_HTTP_MAX_PARAMS] = {NULL};
		int nparams = -1;
		enum ts_http_match m = ts_http_route_find(routes, R_COUNT, c->method, c->path, a,
		                                          &route, params, &nparams);
		bool bad = m != c->want;
		if (!bad && m == TS_HTTP_MATCH_OK) {
			bad = route != &routes[c->route] || nparams != c->nparams;
			for (int k = 0; !bad && k < c->nparams; k++)
				bad = params[k] == NULL || strcmp(params[k], c->p[k]) != 0;
		}
		if (bad) {
			print_error("case %zu: %s %s: got match %d route %d nparams %d p0 %s; "
			            "want match %d route %d nparams %d\n",
			            i, c->method, c->path, m, route ? (int)(route - routes) : -1,
			            nparams, params[0] ? params[0] : "(null)", c->want, c->route,
			            c->nparams);
			failures++;
		}
		ts_arena_free(&a);
	}
	assert_int_equal(failures, 0);
}

/* A parameter that does not decode: the route and the raw segments, escaped, for the audit. */
static void test_route_bad_param(void **state)
{
	(void)state;
	static const struct {
		const char *method, *path;
		int route, n;
		const char *p0, *p1;
	} cases[] = {
	        {"GET", "/api/v1/accounts/%ff", R_GET, 1, "%ff", NULL},
	        {"DELETE", "/api/v1/accounts/a%00b", R_DELETE, 1, "a%00b", NULL},
	        {"GET", "/api/v1/accounts/abc/users/%c3%28", R_USER, 2, "abc", "%c3%28"},
	        {"GET", "/api/v1/accounts/\xff/users/u", R_USER, 2, "\\xFF", "u"},
	        {"HEAD", "/api/v1/accounts/%zz", R_GET, 1, "%zz", NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		const struct ts_http_route *route = NULL;
		const char *params[TS_HTTP_MAX_PARAMS] = {NULL};
		int n = -1;
		assert_int_equal(ts_http_route_find(routes, R_COUNT, cases[i].method, cases[i].path,
		                                    a, &route, params, &n),
		                 TS_HTTP_MATCH_BAD_PARAM);
		assert_ptr_equal(route, &routes[cases[i].route]);
		assert_int_equal(n, cases[i].n);
		assert_string_equal(params[0], cases[i].p0);
		if (cases[i].p1 != NULL)
			assert_string_equal(params[1], cases[i].p1);
		ts_arena_free(&a);
	}
}

static void test_route_empty_table(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	const struct ts_http_route *route = NULL;
	const char *params[TS_HTTP_MAX_PARAMS];
	int n = 0;
	assert_int_equal(ts_http_route_find(routes, 0, "GET", "/", a, &route, params, &n),
	                 TS_HTTP_MATCH_NONE);
	assert_null(route);
	ts_arena_free(&a);
}

static void test_decode(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool plus;
		const char *out; /* NULL: malformed */
	} cases[] = {
	        {"", false, ""},
	        {"abc", false, "abc"},
	        {"a%20b", false, "a b"},
	        {"%41%62%63", false, "Abc"},
	        {"%e2%82%ac", false, "\xe2\x82\xac"},
	        {"%E2%82%AC", false, "\xe2\x82\xac"},
	        {"a+b", false, "a+b"},
	        {"a+b", true, "a b"},
	        {"++", true, "  "},
	        {"%2B", true, "+"},
	        {"%2b+%2B", true, "+ +"},
	        {"%25", false, "%"},
	        {"%2525", false, "%25"},
	        {"100%", false, NULL},
	        {"%", false, NULL},
	        {"%4", false, NULL},
	        {"a%4", true, NULL},
	        {"%zz", false, NULL},
	        {"%g0", false, NULL},
	        {"%0g", false, NULL},
	        {"% 1", false, NULL},
	        {"%%41", false, NULL},
	        {"%00", false, NULL},
	        {"a%00b", true, NULL},
	        /* RFC 3629: decoded text must be UTF-8 (an incident: %ff crashed the server) */
	        {"%ff", false, NULL},
	        {"%FF", true, NULL},
	        {"a%80", false, NULL},
	        {"%c3%28", false, NULL},
	        {"%c0%af", false, NULL},
	        {"%ed%a0%80", false, NULL},
	        {"%f4%90%80%80", false, NULL},
	        {"%e2%82", false, NULL},
	        {"\xff", false, NULL},
	        {"%c3%a9", false, "\xc3\xa9"},
	        {"\xc3\xa9", true, "\xc3\xa9"},
	        {"%f4%8f%bf%bf", false, "\xf4\x8f\xbf\xbf"},
	};
	ts_arena_t *a = ts_arena_new();
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		char *got = ts_http_decode(a, cases[i].in, strlen(cases[i].in), cases[i].plus);
		if (cases[i].out == NULL) {
			if (got != NULL)
				fail_msg("case %zu \"%s\": accepted as \"%s\"", i, cases[i].in,
				         got);
		} else {
			if (got == NULL)
				fail_msg("case %zu \"%s\": refused", i, cases[i].in);
			assert_string_equal(got, cases[i].out);
		}
	}
	/* only n bytes are read: an escape cut by n is truncated, the rest is ignored */
	assert_null(ts_http_decode(a, "%41", 2, false));
	assert_null(ts_http_decode(a, "%41", 1, false));
	assert_string_equal(ts_http_decode(a, "a%20bXYZ", 5, false), "a b");
	assert_string_equal(ts_http_decode(a, "xyz", 0, false), "");
	ts_arena_free(&a);
}

/* The decoder's word-at-a-time runs: every escape and odd byte at every place of a long run. */
static void test_decode_runs(void **state)
{
	(void)state;
	static const struct {
		const char *piece;
		size_t len;
		bool plus;
		const char *out; /* NULL: the whole text is refused */
	} pieces[] = {
	        {"%41", 3, false, "A"},
	        {"+", 1, true, " "},
	        {"+", 1, false, "+"},
	        {"%2B", 3, true, "+"},
	        {"%c3%a9", 6, false, "\xc3\xa9"},
	        {"\xc3\xa9", 2, false, "\xc3\xa9"},
	        {"\x01", 1, false, "\x01"},
	        {"\x7f", 1, false, "\x7f"},
	        {"%00", 3, false, NULL},
	        {"\0", 1, false, NULL},
	        {"\xff", 1, false, NULL},
	        {"%ff", 3, false, NULL},
	        {"\xc3", 1, false, NULL},
	        {"%zz", 3, false, NULL},
	};
	ts_arena_t *a = ts_arena_new();
	char in[64], want[64];
	for (size_t k = 0; k < N_ITEMS(pieces); k++) {
		for (size_t before = 0; before < 20; before++) {
			for (size_t after = 0; after < 20; after += 3) {
				size_t n = 0;
				memset(in, 'x', before);
				n += before;
				memcpy(in + n, pieces[k].piece, pieces[k].len);
				n += pieces[k].len;
				memset(in + n, 'y', after);
				n += after;
				char *got = ts_http_decode(a, in, n, pieces[k].plus);
				if (pieces[k].out == NULL) {
					assert_null(got);
					continue;
				}
				snprintf(want, sizeof want, "%.*s%s%.*s", (int)before,
				         "xxxxxxxxxxxxxxxxxxxx", pieces[k].out, (int)after,
				         "yyyyyyyyyyyyyyyyyyyy");
				assert_non_null(got);
				assert_string_equal(got, want);
			}
		}
	}
	ts_arena_free(&a);
}

static struct ts_http_req make_req(ts_arena_t *a, const char *query)
{
	struct ts_http_req req;
	memset(&req, 0, sizeof req);
	req.arena = a;
	req.method = "GET";
	req.path = "/";
	req.query = query;
	return req;
}

static void test_query(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = make_req(
	        a, "a=1&b=2&a=3&empty=&flag&enc=x%20y+z&plus=%2B&eq=k=v&bad=%zz&&last=end&nul=%00");
	assert_string_equal(ts_http_query(&req, "a"), "1"); /* the first occurrence */
	assert_string_equal(ts_http_query(&req, "b"), "2");
	assert_null(ts_http_query(&req, "missing"));
	assert_string_equal(ts_http_query(&req, "empty"), "");
	assert_string_equal(ts_http_query(&req, "flag"), ""); /* no '=': present, empty */
	assert_string_equal(ts_http_query(&req, "enc"), "x y z");
	assert_string_equal(ts_http_query(&req, "plus"), "+");
	assert_string_equal(ts_http_query(&req, "eq"), "k=v");
	assert_string_equal(ts_http_query(&req, "last"), "end");
	assert_null(ts_http_query(&req, "bad")); /* malformed: not a value */
	assert_null(ts_http_query(&req, "nul"));
	struct ts_http_req utf = make_req(a, "ok=%c3%a9&bad=%ff");
	assert_string_equal(ts_http_query(&utf, "ok"), "\xc3\xa9");
	assert_null(ts_http_query(&utf, "bad"));
	/* names match whole keys only */
	assert_null(ts_http_query(&req, "fla"));
	assert_null(ts_http_query(&req, "flags"));
	assert_null(ts_http_query(&req, "A"));
	assert_null(ts_http_query(&req, "1"));

	struct ts_http_req none = make_req(a, "");
	assert_null(ts_http_query(&none, "a"));
	struct ts_http_req null_q = make_req(a, NULL);
	assert_null(ts_http_query(&null_q, "a"));
	struct ts_http_req only_flag = make_req(a, "x");
	assert_string_equal(ts_http_query(&only_flag, "x"), "");
	struct ts_http_req amp = make_req(a, "&&x=1&");
	assert_string_equal(ts_http_query(&amp, "x"), "1");
	ts_arena_free(&a);
}

static void test_header(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	static const struct ts_http_header hs[] = {
	        {"content-type", "application/json"}, {"x-dup", "first"}, {"x-dup", "second"},
	        {"authorization", "Bearer t"},        {"x-empty", ""},
	};
	struct ts_http_req req = make_req(a, "");
	req.headers = hs;
	req.nheaders = (int)N_ITEMS(hs);
	assert_string_equal(ts_http_header(&req, "content-type"), "application/json");
	assert_string_equal(ts_http_header(&req, "x-dup"), "first");
	assert_string_equal(ts_http_header(&req, "authorization"), "Bearer t");
	assert_string_equal(ts_http_header(&req, "x-empty"), "");
	assert_null(ts_http_header(&req, "content"));
	assert_null(ts_http_header(&req, "content-type-x"));
	assert_null(ts_http_header(&req, "accept"));
	/* only the first nheaders count */
	req.nheaders = 1;
	assert_null(ts_http_header(&req, "x-dup"));
	req.nheaders = 0;
	assert_null(ts_http_header(&req, "content-type"));
	ts_arena_free(&a);
}

static void test_bearer(void **state)
{
	(void)state;
	static const struct {
		const char *authorization; /* NULL: no header */
		const char *want;          /* NULL: no credentials */
	} cases[] = {
	        {NULL, NULL},
	        {"Bearer abc.def", "abc.def"},
	        {"bearer abc", "abc"},   /* the scheme is case-insensitive */
	        {"BEARER   abc", "abc"}, /* extra spaces before the token */
	        {"Bearer ", NULL},       /* no token */
	        {"Bearer    ", NULL},
	        {"Basic YWJjOmRlZg==", NULL},
	        {"Bearerabc", NULL},
	        {"", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ts_http_header h = {"authorization", cases[i].authorization};
		struct ts_http_req req = {0};
		req.headers = &h;
		req.nheaders = cases[i].authorization ? 1 : 0;
		const char *got = ts_http_bearer(&req);
		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
	}
}

static void test_response_helpers(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = make_req(a, "");
	struct ts_http_res res;
	memset(&res, 0, sizeof res);
	ts_http_res_json(&req, &res, 201, NULL, json_pack("{s:s}", "k", "v"));
	assert_int_equal(res.status, 201);
	assert_string_equal(res.content_type, "application/json");
	assert_int_equal(res.body_len, strlen("{\"k\":\"v\"}"));
	assert_memory_equal(res.body, "{\"k\":\"v\"}", res.body_len);
	assert_null(res.fault);
	for (int i = 0; i < TS_HTTP_MAX_RES_HEADERS + 3; i++)
		ts_http_res_header(&res, i == TS_HTTP_MAX_RES_HEADERS ? "x-first-dropped" : "x-h",
		                   "v");
	assert_int_equal(res.nheaders, TS_HTTP_MAX_RES_HEADERS);
	ts_http_res_set(&res, 204, "text/plain", "", 0);
	assert_int_equal(res.status, 204);
	assert_int_equal(res.body_len, 0);
	/* A header past the cap was dropped silently; now the answer is a fault */
	assert_non_null(res.fault);
	assert_string_equal(res.overflow, "x-first-dropped");
	ts_arena_free(&a);
}

/* The sign-in pages send many headers: at least 16 fit (the old cap was 8). */
static void test_response_headers_room(void **state)
{
	(void)state;
	struct ts_http_res res;
	memset(&res, 0, sizeof res);
	for (int i = 0; i < 16; i++)
		ts_http_res_header(&res, "set-cookie", "v");
	assert_int_equal(res.nheaders, 16);
	assert_null(res.fault);
}

/* A body that could not be built (json_pack NULL) is a fault, not a crash. */
static void test_response_json_null(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = make_req(a, "");
	struct ts_http_res res;
	memset(&res, 0, sizeof res);
	/* json_pack answers NULL for text that is not UTF-8 */
	ts_http_res_json(&req, &res, 200, NULL, json_pack("{s:s}", "k", "\xff"));
	assert_non_null(res.fault);
	assert_int_equal(res.status, 500);
	ts_arena_free(&a);
}

static void render_mark(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                        const char *message)
{
	(void)code;
	(void)message;
	static const char body[] = "marked";
	ts_http_res_set(res, status, "text/x-mark", body, sizeof body - 1);
	(void)req;
}

static const struct ts_http_surface surfaces[] = {{"/scim/v2", render_mark, NULL}};

static void test_error_surfaces(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		bool marked;
	} cases[] = {
	        {"/scim/v2", true},  {"/scim/v2/Users/x", true},
	        {"/scim/v2/", true}, {"/scim/v2x", false},
	        {"/scim/v", false},  {"/api/v1/accounts", false},
	        {"/", false},        {"", false},
	        {"/\xff", false},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_req req = make_req(a, "");
		req.path = cases[i].path;
		struct ts_http_res res;
		memset(&res, 0, sizeof res);
		ts_http_error(surfaces, 1, &req, &res, TS_ERR_NOT_FOUND, 404, "no \xff such path");
		assert_int_equal(res.status, 404);
		if (cases[i].marked) {
			assert_string_equal(res.content_type, "text/x-mark");
		} else {
			/* the default shape, with the message's bad byte escaped */
			assert_string_equal(res.content_type, "application/json");
			assert_string_equal(res.body, "{\"Code\":\"NotFoundException\","
			                              "\"Message\":\"no \\\\xFF such path\"}");
			assert_string_equal(res.error_code, "NotFoundException");
		}
		ts_arena_free(&a);
	}
}

/* A module's surfaces are its first and those chained after it (next), in order. */
static void test_module_surfaces(void **state)
{
	(void)state;
	static const struct ts_http_surface third = {"/c", render_mark, NULL};
	static const struct ts_http_surface second = {"/b", render_mark, &third};
	static const struct ts_http_surface first = {"/a", render_mark, &second};
	static const struct ts_http_surface other = {"/d", render_mark, NULL};
	const struct ts_http_module modules[] = {{.name = "none"},
	                                         {.name = "three", .surface = &first},
	                                         {.name = "one", .surface = &other}};
	int n = 0;
	struct ts_http_surface *list = ts_http_modules_surfaces(modules, 3, &n);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].prefix, "/a");
	assert_string_equal(list[1].prefix, "/b");
	assert_string_equal(list[2].prefix, "/c");
	assert_string_equal(list[3].prefix, "/d");
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = make_req(a, "");
	req.path = "/c/x";
	struct ts_http_res res;
	memset(&res, 0, sizeof res);
	ts_http_error(list, n, &req, &res, TS_ERR_NOT_FOUND, 404, "none");
	assert_string_equal(res.content_type, "text/x-mark");
	ts_arena_free(&a);
	ts_free(list);
}

/* A fault becomes a 500 in the surface's shape, the handler's headers gone. */
static void test_settle(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = make_req(a, "");
	req.path = "/scim/v2/Users";
	struct ts_http_res res;
	memset(&res, 0, sizeof res);
	ts_http_res_set(&res, 200, "application/scim+json", "{}", 2);
	ts_http_res_settle(surfaces, 1, &req, &res); /* no fault: unchanged */
	assert_int_equal(res.status, 200);
	for (int i = 0; i <= TS_HTTP_MAX_RES_HEADERS; i++)
		ts_http_res_header(&res, "x-h", "v");
	ts_http_res_settle(surfaces, 1, &req, &res);
	assert_int_equal(res.status, 500);
	assert_string_equal(res.content_type, "text/x-mark");
	assert_int_equal(res.nheaders, 0);
	assert_null(res.fault);
	req.path = "/api/v1/accounts";
	memset(&res, 0, sizeof res);
	ts_http_res_json(&req, &res, 200, NULL, NULL);
	ts_http_res_settle(surfaces, 1, &req, &res);
	assert_int_equal(res.status, 500);
	assert_string_equal(
	        res.body, "{\"Code\":\"ServiceFailureException\",\"Message\":\"internal error\"}");
	ts_arena_free(&a);
}

/* Path, query and headers are checked as UTF-8 before any handler runs. */
static void test_request_check(void **state)
{
	(void)state;
	static const struct {
		const char *path, *query, *header; /* header: value of x-h, or NULL */
		bool ok;
		const char *says; /* part of the message, when refused */
	} cases[] = {
	        {"/a", "", NULL, true, NULL},
	        {"/a/%ff", "", NULL, true, NULL}, /* escapes in the path: the router's job */
	        {"/\xc3\xa9", "", NULL, true, NULL},
	        {"/a\xff", "", NULL, false, "path"},
	        {"/a\xc3", "", NULL, false, "path"},
	        {"/a", "filter=userName%20eq%20%22%c3%a9%22&count=1", NULL, true, NULL},
	        {"/a", "x=%ff", NULL, false, "query parameter x is"},
	        {"/a", "a=1&filter=%c0%af", NULL, false, "query parameter filter"},
	        {"/a", "x=\xff", NULL, false, "query parameter x"},
	        {"/a", "x=%zz", NULL, false, "query parameter x"},
	        {"/a", "x=%00", NULL, false, "query parameter x"},
	        {"/a", "%ff=1", NULL, false, "name"},
	        {"/a", "\xff=1", NULL, false, "name"},
	        {"/a", "\xff", NULL, false, "name"},
	        {"/a", "%ff%fe=%ff", NULL, false, "name"},
	        {"/a", "a%20b=%ff", NULL, false, "parameter a%20b is"}, /* raw, as sent */
	        {"/a", "n123456789012345678901234567890123456789012345678901234567890123456789=%ff",
	         NULL, false, "a query parameter is"}, /* too long to quote */
	        {"/a", "&&flag&x=", NULL, true, NULL},
	        {"/a", "", "caf\xc3\xa9", true, NULL},
	        {"/a", "", "\xff", false, "header x-h"},
	        {"/a", "", "Mozilla \xe9t\xe9", false, "header x-h"},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_req req = make_req(a, cases[i].query);
		req.path = cases[i].path;
		struct ts_http_header hs[] = {{"host", "x"}, {"x-h", cases[i].header}};
		req.headers = hs;
		req.nheaders = cases[i].header ? 2 : 1;
		struct ts_error e = {0};
		ts_err rc = ts_http_request_check(&req, &e);
		if (cases[i].ok && rc != TS_ERR_OK)
			fail_msg("case %zu: refused: %s", i, e.message);
		if (!cases[i].ok) {
			if (rc != TS_ERR_BAD_REQUEST)
				fail_msg("case %zu: accepted", i);
			if (strstr(e.message, cases[i].says) == NULL)
				fail_msg("case %zu: message \"%s\" does not say \"%s\"", i,
				         e.message, cases[i].says);
			/* the message never quotes the bad bytes */
			for (const char *p = e.message; *p; p++)
				if ((unsigned char)*p == 0xff)
					fail_msg("case %zu: message quotes the input", i);
		}
		ts_arena_free(&a);
	}
}

/*
 * The access-log line keeps every field whatever the client sent (an incident:
 * json_pack failed on a path that was not UTF-8 and the line lost method,
 * path, status and peer); the bad bytes are written as \xHH.
 */
static void test_access_fields(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = make_req(a, "");
	req.method = "G\xffT";
	req.path = "/api/v1/accounts/\xff\xfe";
	req.request_id = "rid";
	req.client_request_id = "client-1";
	req.peer = "127.0.0.1";
	struct ts_http_res res;
	memset(&res, 0, sizeof res);
	res.status = 400;
	res.error_code = "BadRequestException";
	json_t *f = ts__http_access_fields(&req, &res, 2.5);
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "method")), "G\\xFFT");
	assert_string_equal(json_string_value(json_object_get(f, "path")),
	                    "/api/v1/accounts/\\xFF\\xFE");
	assert_int_equal(json_integer_value(json_object_get(f, "status")), 400);
	assert_string_equal(json_string_value(json_object_get(f, "peer")), "127.0.0.1");
	assert_string_equal(json_string_value(json_object_get(f, "request_id")), "rid");
	assert_string_equal(json_string_value(json_object_get(f, "client_request_id")), "client-1");
	assert_string_equal(json_string_value(json_object_get(f, "error")), "BadRequestException");
	char *text = json_dumps(f, JSON_COMPACT);
	assert_non_null(text);
	free(text); /* jansson's own allocation */
	json_decref(f);
	ts_arena_free(&a);
}

static void test_status_has_body(void **state)
{
	(void)state;
	assert_true(ts_http_status_has_body(200));
	assert_true(ts_http_status_has_body(201));
	assert_true(ts_http_status_has_body(202));
	assert_true(ts_http_status_has_body(404));
	assert_false(ts_http_status_has_body(204));
	assert_false(ts_http_status_has_body(304));
	assert_false(ts_http_status_has_body(100));
}

/*
 * Modules: their routes in one table in module order, their surfaces in
 * the same order (a module without one adds none), and without a server the
 * request context gives nothing (no worker, no store, no config).
 */
static void test_modules(void **state)
{
	(void)state;
	static const struct ts_http_route r1[] = {{"GET", "/a", h_dummy, 0, NULL, "a"},
	                                          {"GET", "/a/{}", h_dummy, 0, NULL, "a1"}};
	static const struct ts_http_route r2[] = {
	        {"POST", "/scim/v2/Users", h_dummy, 0, NULL, "u"}};
	static const struct ts_http_slot slot = {NULL, NULL};
	int config = 7;
	const struct ts_http_module modules[] = {
	        {.name = "one", .routes = r1, .nroutes = 2},
	        {.name = "two",
	         .routes = r2,
	         .nroutes = 1,
	         .surface = &surfaces[0],
	         .slot = &slot,
	         .config = &config},
	};
	int nroutes = 0, nsurfaces = 0;
	struct ts_http_route *table = ts_http_modules_routes(modules, 2, &nroutes);
	struct ts_http_surface *list = ts_http_modules_surfaces(modules, 2, &nsurfaces);
	assert_int_equal(nroutes, 3);
	assert_string_equal(table[0].name, "a");
	assert_string_equal(table[1].name, "a1");
	assert_string_equal(table[2].name, "u");
	assert_int_equal(nsurfaces, 1);
	assert_string_equal(list[0].prefix, "/scim/v2");
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = make_req(a, "");
	ts_store_conn_t *conn = (ts_store_conn_t *)&config;
	struct ts_error e = {0};
	assert_int_equal(ts_http_conn(&req, &conn, &e), TS_ERR_INTERNAL);
	assert_null(conn);
	assert_null(ts_http_state(&req, &slot));
	assert_null(ts_http_config(&req, &slot));
	ts_arena_free(&a);
	ts_free(table);
	ts_free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_modules),
	        cmocka_unit_test(test_route_find),
	        cmocka_unit_test(test_route_empty_table),
	        cmocka_unit_test(test_decode),
	        cmocka_unit_test(test_decode_runs),
	        cmocka_unit_test(test_query),
	        cmocka_unit_test(test_header),
	        cmocka_unit_test(test_response_helpers),
	        cmocka_unit_test(test_bearer),
	        cmocka_unit_test(test_response_headers_room),
	        cmocka_unit_test(test_response_json_null),
	        cmocka_unit_test(test_error_surfaces),
	        cmocka_unit_test(test_module_surfaces),
	        cmocka_unit_test(test_settle),
	        cmocka_unit_test(test_request_check),
	        cmocka_unit_test(test_access_fields),
	        cmocka_unit_test(test_status_has_body),
	        cmocka_unit_test(test_route_bad_param),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
