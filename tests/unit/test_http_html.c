/*
 * Unit tests of src/http/html.c: text and attribute values escaped (the
 * five characters, text that is not UTF-8, controls), URL attributes only
 * through the redirect check, the size cap, the shared layout without
 * inline script or style, and the security headers on pages. The macros'
 * literal-only rule is a compile-time property: see the comment at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/utf8.h"
#include "http/html.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *text_of(ts_arena_t *a, const char *s)
{
	struct ts_http_html h;
	ts_http_html_init(&h, a);
	ts_http_html_text(&h, s);
	assert_null(h.fault);
	return ts_http_html_finish(&h, NULL);
}

static void test_escape(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"", ""},
	        {"plain text 123", "plain text 123"},
	        {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
	        {"a & b", "a &amp; b"},
	        {"&amp;", "&amp;amp;"},
	        {"\" onmouseover=\"x", "&quot; onmouseover=&quot;x"},
	        {"' onfocus='x", "&#39; onfocus=&#39;x"},
	        {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
	         "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
	        {"a\tb\nc\rd", "a\tb\nc\rd"},
	        {"a\x01"
	         "b",
	         "a\xEF\xBF\xBD"
	         "b"},
	        {"a\x1b[31m", "a\xEF\xBF\xBD[31m"},
	        {"a\x7f", "a\xEF\xBF\xBD"},
	        {"a\xC2\x85", "a\xEF\xBF\xBD"}, /* C1 */
	        {"a\xff"
	         "b",
	         "a\xEF\xBF\xBD"
	         "b"},                                      /* not UTF-8 */
	        {"a\xC0\xBC", "a\xEF\xBF\xBD\xEF\xBF\xBD"}, /* overlong '<': never a '<' */
	        {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
	        {"a\xE2\x82", "a\xEF\xBF\xBD\xEF\xBF\xBD"}, /* truncated at the end */
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		const char *got = text_of(a, cases[i].in);
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("case %zu: got %s", i, got);
		assert_true(ts_utf8_valid(got, strlen(got)));
	}
	/* NULL writes nothing */
	assert_string_equal(text_of(a, NULL), "");
	ts_arena_free(&a);
}

static void test_attr_and_url(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_html h;
	ts_http_html_init(&h, a);
	ts_http_html_lit(&h, "<input");
	ts_http_html_attr(&h, "value", "\"><script>x</script>");
	ts_http_html_lit(&h, ">");
	ts_http_html_int(&h, -42);
	ts_http_html_lit(&h, "<a");
	ts_http_html_url_attr(&h, "href", "/next?a=1&b=2", NULL, 0);
	ts_http_html_lit(&h, ">");
	assert_null(h.fault);
	assert_string_equal(ts_http_html_finish(&h, NULL),
	                    "<input value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">-42"
	                    "<a href=\"/next?a=1&amp;b=2\">");
	/* a URL the redirect check refuses: nothing written, the page is not usable */
	static const char *const bad[] = {"javascript:alert(1)", "//evil.example.com", "/\\evil",
	                                  "data:text/html,x", "\" onclick=\"x"};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		ts_http_html_init(&h, a);
		ts_http_html_lit(&h, "<a");
		ts_http_html_url_attr(&h, "href", bad[i], NULL, 0);
		assert_non_null(h.fault);
		assert_string_equal(ts_http_html_finish(&h, NULL), "<a");
	}
	/* an allowed origin */
	static const char *const allowed[] = {"https://idp.example.com"};
	ts_http_html_init(&h, a);
	ts_http_html_url_attr(&h, "action", "https://idp.example.com/sso", allowed, 1);
	assert_null(h.fault);
	assert_string_equal(ts_http_html_finish(&h, NULL),
	                    " action=\"https://idp.example.com/sso\"");
	ts_arena_free(&a);
}

static void test_cap(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_html h;
	ts_http_html_init(&h, a);
	/* '<' quadruples: a quarter of the cap in, exactly the cap out */
	size_t n = TS_HTTP_HTML_MAX / 4;
	char *s = ts_arena_alloc(a, n + 2);
	memset(s, '<', n);
	ts_http_html_text(&h, s);
	assert_null(h.fault);
	size_t len = 0;
	ts_http_html_finish(&h, &len);
	assert_int_equal(len, TS_HTTP_HTML_MAX);
	ts_http_html_lit(&h, "x");
	assert_non_null(h.fault);
	ts_http_html_finish(&h, &len);
	assert_int_equal(len, TS_HTTP_HTML_MAX); /* nothing past the cap */
	/* a page at fault is never sent: the answer becomes a logged 500 */
	struct ts_http_req req = {.arena = a};
	struct ts_http_res res = {0};
	ts_http_res_html(&req, &res, 200, &h);
	assert_non_null(res.fault);
	assert_int_equal(res.status, 500);
	assert_null(res.body);
	ts_arena_free(&a);
}

static const char *header(const struct ts_http_res *res, const char *name)
{
	const char *v = NULL;
	for (int i = 0; i < res->nheaders; i++)
		if (strcmp(res->headers[i].name, name) == 0) {
			assert_null(v); /* each once */
			v = res->headers[i].value;
		}
	return v;
}

static void test_page(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_html h;
	ts_http_html_init(&h, a);
	ts_http_html_page_begin(&h, "Sign in to <Acme & Co>");
	ts_http_html_lit(&h, "<h1>");
	ts_http_html_text(&h, "Hello");
	ts_http_html_lit(&h, "</h1>");
	ts_http_html_page_end(&h);
	struct ts_http_req req = {.arena = a};
	struct ts_http_res res = {0};
	ts_http_res_html(&req, &res, 200, &h);
	assert_null(res.fault);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "text/html; charset=utf-8");
	const char *body = res.body;
	assert_int_equal(strlen(body), res.body_len);
	assert_true(strncmp(body, "<!DOCTYPE html>", 15) == 0);
	assert_non_null(strstr(body, "<title>Sign in to &lt;Acme &amp; Co&gt;</title>"));
	assert_non_null(strstr(body, "<link rel=\"stylesheet\" href=\"/static/tessera.css\">"));
	assert_non_null(strstr(body, "<main>\n<h1>Hello</h1>\n</main></body></html>"));
	/* no inline script or style anywhere in the layout */
	assert_null(strstr(body, "<script"));
	assert_null(strstr(body, "<style"));
	assert_null(strstr(body, "style="));
	/* the headers */
	assert_string_equal(header(&res, "content-security-policy"), TS_HTTP_CSP);
	assert_non_null(strstr(TS_HTTP_CSP, "default-src 'none'"));
	assert_non_null(strstr(TS_HTTP_CSP, "frame-ancestors 'none'"));
	assert_null(strstr(TS_HTTP_CSP, "unsafe-inline"));
	assert_null(strstr(TS_HTTP_CSP, "script-src"));
	assert_string_equal(header(&res, "x-frame-options"), "DENY");
	assert_string_equal(header(&res, "referrer-policy"), "same-origin");
	assert_string_equal(header(&res, "cache-control"), "no-store");
	assert_string_equal(header(&res, "x-content-type-options"), "nosniff");
	ts_arena_free(&a);
}

static void test_form_action(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_res res = {0};
	ts_http_page_headers(a, &res, "https://idp.example.com");
	assert_null(res.fault);
	assert_non_null(strstr(header(&res, "content-security-policy"),
	                       "form-action 'self' https://idp.example.com;"));
	/* anything but an origin would widen or break the policy: refused */
	static const char *const bad[] = {"*",
	                                  "https://idp.example.com; script-src *",
	                                  "https://IDP.example.com",
	                                  "https://idp.example.com/",
	                                  "'unsafe-inline'",
	                                  ""};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		struct ts_http_res r = {0};
		ts_http_page_headers(a, &r, bad[i]);
		assert_non_null(r.fault);
		assert_int_equal(r.nheaders, 0);
	}
	ts_arena_free(&a);
}

static void test_style_route(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = {.arena = a};
	struct ts_http_res res = {0};
	ts_http_html_style_route(&req, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "text/css; charset=utf-8");
	assert_true(res.body_len > 0);
	ts_arena_free(&a);
}

/*
 * Not compiled, and must not compile: markup from a variable.
 *   const char *s = "<b>";
 *   ts_http_html_lit(&h, s);          error: expected ')' before 's'
 *   ts_http_html_attr(&h, name, "v"); the same for an attribute name
 */

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_escape),      cmocka_unit_test(test_attr_and_url),
	        cmocka_unit_test(test_cap),         cmocka_unit_test(test_page),
	        cmocka_unit_test(test_form_action), cmocka_unit_test(test_style_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
