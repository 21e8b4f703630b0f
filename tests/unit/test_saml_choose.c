/*
 * Unit tests of the SAML module's pure choices (src/saml/choose.c) and of
 * the browser sign-in's pages and keys (src/login/login.c): where a signed-in person is sent
 * (RelayState: same-origin paths and allow-listed origins only, anything else to /portal), which
 * role a chooser form names, the one refusal page (403, generic, the request id, the page policy),
 * the resubmit script and its page policy. Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "http/html.h"
#include "saml/authn.h"
#include "saml/web.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *header(const struct ts_http_res *res, const char *name)
{
	for (int i = 0; i < res->nheaders; i++)
		if (strcmp(res->headers[i].name, name) == 0)
			return res->headers[i].value;
	return NULL;
}

static void test_relay_target(void **state)
{
	(void)state;
	static const char *const allowed[] = {"https://app.example.com", "http://127.0.0.1:9000"};
	static const struct {
		const char *relay;
		const char *want;
	} cases[] = {
	        {NULL, TS_LOGIN_LANDING},
	        {"", TS_LOGIN_LANDING},
	        {"/apps/42?tab=1", "/apps/42?tab=1"},
	        {"/", "/"},
	        {"https://app.example.com/deep/link", "https://app.example.com/deep/link"},
	        {"http://127.0.0.1:9000/x", "http://127.0.0.1:9000/x"},
	        /* refused targets fall back, they never redirect elsewhere */
	        {"https://evil.example/", TS_LOGIN_LANDING},
	        {"https://app.example.com.evil.example/", TS_LOGIN_LANDING},
	        {"https://app.example.com@evil.example/", TS_LOGIN_LANDING},
	        {"//evil.example/", TS_LOGIN_LANDING},
	        {"/\\evil.example", TS_LOGIN_LANDING},
	        {"/%2F%2Fevil.example", TS_LOGIN_LANDING},
	        {"javascript:alert(1)", TS_LOGIN_LANDING},
	        {"data:text/html,x", TS_LOGIN_LANDING},
	        {"http://app.example.com/", TS_LOGIN_LANDING}, /* scheme is part of the origin */
	        {"relative/path", TS_LOGIN_LANDING},
	        {"/a b", TS_LOGIN_LANDING},
	};
	ts_arena_t *a = ts_arena_new();
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		const char *got = ts__saml_relay_target(a, cases[i].relay, allowed, 2);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu (%s): got %s", i,
			         cases[i].relay ? cases[i].relay : "NULL", got);
	}
	/* without an allow-list, absolute URLs are never followed, not even same-looking ones */
	assert_string_equal(ts__saml_relay_target(a, "https://app.example.com/", NULL, 0),
	                    TS_LOGIN_LANDING);
	/* past the RelayState cap: the landing page */
	char longer[TS_SAML_RELAY_STATE_MAX + 2];
	memset(longer, 'a', sizeof longer - 1);
	longer[0] = '/';
	longer[sizeof longer - 1] = '\0';
	assert_string_equal(ts__saml_relay_target(a, longer, NULL, 0), TS_LOGIN_LANDING);
	ts_arena_free(&a);
}

static void test_role_index(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t n;
		bool ok;
		size_t want;
	} cases[] = {
	        {"0", 2, true, 0},
	        {"1", 2, true, 1},
	        {"2", 2, false, 0},
	        {"10", 11, true, 10},
	        {"10", 10, false, 0},
	        {"", 2, false, 0},
	        {NULL, 2, false, 0},
	        {"01", 5, false, 0},
	        {"-1", 5, false, 0},
	        {"+1", 5, false, 0},
	        {"1 ", 5, false, 0},
	        {" 1", 5, false, 0},
	        {"0x1", 5, false, 0},
	        {"0", 0, false, 0},
	        {"99999999999999999999999999", 5, false, 0},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		size_t got = 12345;
		bool ok = ts__saml_role_index(cases[i].s, cases[i].n, &got);
		if (ok != cases[i].ok || (ok && got != cases[i].want))
			fail_msg("case %zu (%s, %zu): ok %d got %zu", i,
			         cases[i].s ? cases[i].s : "NULL", cases[i].n, ok, got);
	}
}

static void test_utf8_prefix(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	assert_string_equal(ts_login_utf8_prefix(a, "abc", 3), "abc");
	assert_string_equal(ts_login_utf8_prefix(a, "abcd", 3), "abc");
	/* "\xc3\xa9" is one character: never cut in two */
	assert_string_equal(ts_login_utf8_prefix(a, "ab\xc3\xa9", 3), "ab");
	assert_string_equal(ts_login_utf8_prefix(a, "ab\xc3\xa9", 4), "ab\xc3\xa9");
	assert_string_equal(ts_login_utf8_prefix(a, "\xe2\x82\xac\xe2\x82\xac", 5), "\xe2\x82\xac");
	assert_string_equal(ts_login_utf8_prefix(a, "", 0), "");
	ts_arena_free(&a);
}

static void test_refusal_page(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = {.arena = a, .request_id = "req-4711"};
	struct ts_http_res res = {.arena = a};
	ts_login_page_refused(&req, &res);
	assert_int_equal(res.status, 403);
	assert_null(res.fault);
	assert_string_equal(res.content_type, TS_HTTP_HTML_TYPE);
	assert_string_equal(header(&res, "content-security-policy"), TS_HTTP_CSP);
	assert_null(header(&res, "location"));
	assert_null(header(&res, "set-cookie"));
	char *body = ts_arena_strndup(a, res.body, res.body_len);
	assert_non_null(strstr(body, "Sign-in failed"));
	assert_non_null(strstr(body, "req-4711"));
	/* it names no check */
	static const char *const checks[] = {"Signature",    "Audience",      "Replay",
	                                     "InResponseTo", "IdentityMatch", "Issuer"};
	for (size_t i = 0; i < N_ITEMS(checks); i++)
		assert_null(strstr(body, checks[i]));
	ts_arena_free(&a);
}

static void test_resubmit_script(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = {.arena = a, .request_id = "r"};
	struct ts_http_res res = {.arena = a};
	ts__saml_resubmit_js_handle(&req, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.content_type, "javascript"));
	assert_non_null(strstr(res.body, "getElementById(\"resubmit\").submit()"));
	/* the page that loads it: scripts from this origin only, nothing else loosened */
	struct ts_http_html h;
	ts_http_html_init(&h, a);
	ts_http_html_page_begin(&h, "Signing in");
	ts_http_html_page_end(&h);
	struct ts_http_res page = {.arena = a};
	ts_http_res_html_script(&req, &page, 200, &h, NULL, 0);
	const char *csp = header(&page, "content-security-policy");
	assert_non_null(csp);
	assert_non_null(strstr(csp, "script-src 'self';"));
	assert_non_null(strstr(csp, "default-src 'none'"));
	assert_non_null(strstr(csp, "form-action 'self';"));
	assert_null(strstr(csp, "unsafe-inline"));
	assert_string_equal(header(&page, "x-frame-options"), "DENY");
	/* allow-listed origins join form-action (the resubmitted form may be answered with a
	 * redirect there); anything that is not an origin is a 500, never a looser policy */
	static const char *const origins[] = {"https://app.example.com", "https://b.example"};
	struct ts_http_res with = {.arena = a};
	ts_http_res_html_script(&req, &with, 200, &h, origins, 2);
	csp = header(&with, "content-security-policy");
	assert_non_null(strstr(
	        csp,
	        "form-action 'self' https://app.example.com https://b.example; frame-ancestors"));
	assert_non_null(strstr(csp, "script-src 'self';"));
	static const char *const bad[] = {"https://app.example.com/path"};
	struct ts_http_res refused = {.arena = a};
	ts_http_res_html_script(&req, &refused, 200, &h, bad, 1);
	assert_int_equal(refused.status, 500);
	assert_non_null(refused.fault);
	ts_arena_free(&a);
}

static void test_client_key(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* IPv4 (mapped or not) and anything unparsed stay as they are; IPv6 is keyed by its /64 */
	static const struct {
		const char *peer, *key;
	} cases[] = {
	        {"192.0.2.7", "192.0.2.7"},
	        {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
	        {"2001:db8:1:2:ffff::1", "2001:db8:1:2::"},
	        {"::1", "::"},
	        {"::ffff:192.0.2.7", "192.0.2.7"},
	        {"not-an-address", "not-an-address"},
	        {"2001:db8::zz", "2001:db8::zz"},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++)
		assert_string_equal(ts_login_client_key(a, cases[i].peer), cases[i].key);
	assert_string_equal(ts_login_client_key(a, NULL), "");
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_relay_target),    cmocka_unit_test(test_role_index),
	        cmocka_unit_test(test_utf8_prefix),     cmocka_unit_test(test_refusal_page),
	        cmocka_unit_test(test_resubmit_script), cmocka_unit_test(test_client_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
