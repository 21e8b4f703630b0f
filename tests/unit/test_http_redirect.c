/*
 * Unit tests of src/http/redirect.c and src/http/url.c: base URLs as serve
 * --base-url takes them; origins normalized; redirect targets accepted
 * (same-origin paths, listed origins) and refused (other hosts spelled
 * every way a browser would still follow, schemes, userinfo, controls,
 * escapes that decode to any of those, bytes that are not UTF-8); the 303
 * answer with its headers. Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "http/redirect.h"
#include "http/url.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_base_url(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *origin; /* NULL: refused */
		int port;
		bool secure;
	} cases[] = {
	        {"https://id.example.com", "https://id.example.com", 443, true},
	        {"https://id.example.com/", "https://id.example.com", 443, true},
	        {"https://id.example.com:443", "https://id.example.com", 443, true},
	        {"https://id.example.com:8443/", "https://id.example.com:8443", 8443, true},
	        {"http://127.0.0.1:8080", "http://127.0.0.1:8080", 8080, false},
	        {"http://localhost", "http://localhost", 80, false},
	        {"http://localhost:80", "http://localhost", 80, false},
	        {"http://[::1]:9000", "http://[::1]:9000", 9000, false},
	        {"https://[2001:db8::1]", "https://[2001:db8::1]", 443, true},
	        {"https://xn--bcher-kva.example", "https://xn--bcher-kva.example", 443, true},
	        /* refused */
	        {"", NULL, 0, false},
	        {"id.example.com", NULL, 0, false},
	        {"ftp://id.example.com", NULL, 0, false},
	        {"HTTPS://id.example.com", NULL, 0, false},
	        {"https://ID.example.com", NULL, 0, false}, /* lowercase host required */
	        {"https://id.example.com/sso", NULL, 0, false},
	        {"https://id.example.com//", NULL, 0, false},
	        {"https://id.example.com?x=1", NULL, 0, false},
	        {"https://id.example.com/?x=1", NULL, 0, false},
	        {"https://id.example.com#f", NULL, 0, false},
	        {"https://user@id.example.com", NULL, 0, false},
	        {"https://user:pw@id.example.com", NULL, 0, false},
	        {"https://", NULL, 0, false},
	        {"https://:443", NULL, 0, false},
	        {"https://id.example.com:", NULL, 0, false},
	        {"https://id.example.com:0", NULL, 0, false},
	        {"https://id.example.com:65536", NULL, 0, false},
	        {"https://id.example.com:+80", NULL, 0, false},
	        {"https://id.example.com:123456", NULL, 0, false},
	        {"https://id..example.com", NULL, 0, false},
	        {"https://.example.com", NULL, 0, false},
	        {"https://example.com.", NULL, 0, false},
	        {"https://exa mple.com", NULL, 0, false},
	        {"https://ex%41mple.com", NULL, 0, false},
	        {"https://ex_ample.com", NULL, 0, false},
	        {"https://b\xC3\xBC"
	         "cher.example",
	         NULL, 0, false},
	        {"https://[::1", NULL, 0, false},
	        {"https://[::g]", NULL, 0, false},
	        {"https://[::1]x", NULL, 0, false},
	        {"https://evil.com\\@id.example.com", NULL, 0, false},
	        {"https://id.example.com\r\n", NULL, 0, false},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_base_url b;
		struct ts_error e = {0};
		ts_err rc = ts_http_base_url_parse(a, cases[i].text, &b, &e);
		if ((rc == TS_ERR_OK) != (cases[i].origin != NULL))
			fail_msg("case %zu (%s): rc %d %s", i, cases[i].text, rc, e.message);
		if (cases[i].origin != NULL) {
			assert_string_equal(b.origin, cases[i].origin);
			assert_int_equal(b.port, cases[i].port);
			assert_int_equal(b.secure, cases[i].secure);
		} else {
			assert_int_equal(rc, TS_ERR_BAD_REQUEST);
			assert_true(strncmp(e.message, "base URL: ", 10) == 0);
		}
		ts_arena_free(&a);
	}
	/* one past the length cap */
	ts_arena_t *a = ts_arena_new();
	char longer[TS_HTTP_ORIGIN_MAX + 16] = "https://";
	memset(longer + 8, 'a', sizeof longer - 9);
	longer[sizeof longer - 1] = '\0';
	struct ts_http_base_url b;
	assert_int_equal(ts_http_base_url_parse(a, longer, &b, NULL), TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

static void test_origin_normalize(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"https://A.Example.COM", "https://a.example.com"},
	        {"https://a.example.com:443", "https://a.example.com"},
	        {"http://a.example.com:443", "http://a.example.com:443"},
	        {"null", NULL},
	        {"https://a.example.com/", NULL}, /* an origin has no path */
	        {"https://u@a.example.com", NULL},
	        {"", NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		const char *o = ts_http_origin_normalize(a, cases[i].in, strlen(cases[i].in));
		if (cases[i].out == NULL)
			assert_null(o);
		else
			assert_string_equal(o, cases[i].out);
	}
	ts_arena_free(&a);
}

static const char *const allowed[] = {"https://app.example.com", "http://127.0.0.1:9000"};

static void test_accepted(void **state)
{
	(void)state;
	static const char *const ok[] = {
	        "/",
	        "/home",
	        "/a/b/c?x=1&y=2#frag",
	        "/a//b", /* a double slash after the first segment is a path */
	        "/search?q=100%25",
	        "/caf%C3%A9",
	        "/a?next=%2Fb", /* an encoded slash inside the path: still this origin */
	        "/a%2F%2Fb",    /* not at the start */
	        "/?q=http://evil.example.com",
	        "https://app.example.com",
	        "https://app.example.com/",
	        "https://app.example.com/cb?code=x#y",
	        "https://APP.example.com/cb", /* a browser lowercases the host too */
	        "https://app.example.com:443/cb",
	        "http://127.0.0.1:9000/cb",
	        "https://app.example.com?x",
	};
	for (size_t i = 0; i < N_ITEMS(ok); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_error e = {0};
		if (ts_http_redirect_check(a, ok[i], allowed, N_ITEMS(allowed), &e) != TS_ERR_OK)
			fail_msg("case %zu (%s) refused: %s", i, ok[i], e.message);
		ts_arena_free(&a);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "//evil.example.com",
	        "//evil.example.com/path",
	        "///evil.example.com",
	        "/\\evil.example.com",
	        "\\\\evil.example.com",
	        "\\/evil.example.com",
	        "/a\\b", /* a backslash anywhere */
	        "home",  /* relative paths: resolved against whatever the page was */
	        "./home",
	        "../home",
	        "?next=/x",
	        "#frag",
	        "javascript:alert(1)",
	        "JavaScript:alert(1)",
	        "java\tscript:alert(1)",
	        " javascript:alert(1)",
	        "data:text/html,<script>alert(1)</script>",
	        "vbscript:x",
	        "mailto:a@example.com",
	        "https:evil.example.com",
	        "https:/evil.example.com",
	        "https://evil.example.com",
	        "http://app.example.com", /* listed as https only */
	        "https://app.example.com:8443/",
	        "https://app.example.com.evil.com/",
	        "https://app.example.com@evil.com/",   /* userinfo */
	        "https://evil.com@app.example.com/",   /* userinfo, even to the right host */
	        "https://app.example.com%40evil.com/", /* an escape in the host */
	        "https://app.example.com%2F@evil.com/",
	        "HTTPS://app.example.com/",
	        "ftp://app.example.com/",
	        "/%2F%2Fevil.example.com", /* decodes to //evil */
	        "/%2fevil.example.com",    /* decodes to //evil */
	        "/%5Cevil.example.com",    /* decodes to /\evil */
	        "/%5cevil.example.com",
	        "/a%5Cb",
	        "/%252F%252Fevil.example.com", /* twice encoded */
	        "/%25252F%25252Fevil",         /* three times */
	        "/%2525252F",                  /* more layers than are looked through */
	        "/%0D%0ASet-Cookie:x=1",
	        "/%09/evil.example.com",
	        "/%00",
	        "/%7F",
	        "/%C2%85", /* C1 control */
	        "/%ff",    /* not UTF-8 */
	        "/%C0%AF", /* overlong '/' */
	        "/%ED%A0%80",
	        "/%",
	        "/%4",
	        "/%zz",
	        "/a b",
	        "/a\tb",
	        "/a\r\nLocation: //evil",
	        "/a\x7f",
	        "/caf\xC3\xA9", /* raw UTF-8: must be percent-encoded */
	        "/\xff",
	        "/\"onmouseover=x",
	        "/<script>",
	        "/`x`",
	        "https://app.example.com/\\evil",
	        "https://app.example.com/%5Cevil",
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_error e = {0};
		ts_err rc = ts_http_redirect_check(a, bad[i], allowed, N_ITEMS(allowed), &e);
		if (rc != TS_ERR_BAD_REQUEST)
			fail_msg("case %zu (%s) accepted", i, bad[i]);
		assert_true(strncmp(e.message, "redirect target: ", 17) == 0);
		ts_arena_free(&a);
	}
	/* no allow-list: only paths */
	ts_arena_t *a = ts_arena_new();
	assert_int_equal(ts_http_redirect_check(a, "https://app.example.com/", NULL, 0, NULL),
	                 TS_ERR_BAD_REQUEST);
	assert_int_equal(ts_http_redirect_check(a, "/ok", NULL, 0, NULL), TS_ERR_OK);
	assert_int_equal(ts_http_redirect_check(a, NULL, NULL, 0, NULL), TS_ERR_BAD_REQUEST);
	/* the length cap */
	char *longer = ts_arena_alloc(a, TS_HTTP_REDIRECT_MAX + 2);
	memset(longer, 'a', TS_HTTP_REDIRECT_MAX + 1);
	longer[0] = '/';
	assert_int_equal(ts_http_redirect_check(a, longer, NULL, 0, NULL), TS_ERR_BAD_REQUEST);
	longer[TS_HTTP_REDIRECT_MAX] = '\0';
	assert_int_equal(ts_http_redirect_check(a, longer, NULL, 0, NULL), TS_ERR_OK);
	ts_arena_free(&a);
}

static const char *header(const struct ts_http_res *res, const char *name)
{
	for (int i = 0; i < res->nheaders; i++)
		if (strcmp(res->headers[i].name, name) == 0)
			return res->headers[i].value;
	return NULL;
}

static void test_see_other(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = {.arena = a};
	struct ts_http_res res = {0};
	struct ts_error e = {0};
	assert_int_equal(ts_http_redirect(&req, &res, "/done?x=1", NULL, 0, &e), TS_ERR_OK);
	assert_int_equal(res.status, 303);
	assert_string_equal(header(&res, "location"), "/done?x=1");
	assert_string_equal(header(&res, "cache-control"), "no-store");
	assert_string_equal(header(&res, "referrer-policy"), "same-origin");
	assert_int_equal(res.body_len, 0);
	/* refused: nothing written */
	struct ts_http_res res2 = {0};
	assert_int_equal(ts_http_redirect(&req, &res2, "//evil", NULL, 0, &e), TS_ERR_BAD_REQUEST);
	assert_int_equal(res2.status, 0);
	assert_int_equal(res2.nheaders, 0);
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base_url),  cmocka_unit_test(test_origin_normalize),
	        cmocka_unit_test(test_accepted),  cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_see_other),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
