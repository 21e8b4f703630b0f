/*
 * Unit tests of src/http/cookie.c and src/http/csrf.c: the Cookie header
 * read leniently (pairs another application set are skipped, not refused)
 * but capped; duplicates refused on lookup; Set-Cookie with its defaults
 * over https (__Host-, Secure) and over plain http (neither); names, values
 * and lifetimes refused; CSRF tokens bound to their session and key, and
 * the Origin check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http/cookie.h"
#include "http/csrf.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_S (24 * 3600)
/* Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110 §5.6.7's example) */
#define RFC_EXAMPLE_TIME 784111777

static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *header;
		int n, skipped;
		const char *name0, *value0, *name1, *value1;
	} cases[] = {
	        {"", 0, 0, NULL, NULL, NULL, NULL},
	        {"a=1", 1, 0, "a", "1", NULL, NULL},
	        {"a=1; b=2", 2, 0, "a", "1", "b", "2"},
	        {"a=1;b=2", 2, 0, "a", "1", "b", "2"},
	        {"  a=1 ;\tb=2  ", 2, 0, "a", "1", "b", "2"},
	        {"a=", 1, 0, "a", "", NULL, NULL},
	        {"a=\"quoted\"", 1, 0, "a", "quoted", NULL, NULL},
	        {"__Host-sid=abc_-.~", 1, 0, "__Host-sid", "abc_-.~", NULL, NULL},
	        {"a=1; ; b=2;", 2, 0, "a", "1", "b", "2"},
	        /* skipped: no '=', a space or comma or backslash in the value, a bad name */
	        {"flag; a=1", 1, 1, "a", "1", NULL, NULL},
	        {"a=x y; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"a=x,y; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"a=x\\y; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"a=\xC3\xA9; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"a b=1; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"(a)=1; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"=1; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"a=\"x; b=2", 1, 1, "b", "2", NULL, NULL},
	        {"a=\x01; b=2", 1, 1, "b", "2", NULL, NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_cookies c;
		struct ts_error e = {0};
		const char *h[] = {cases[i].header};
		if (ts_http_cookies_parse(a, h, 1, &c, &e) != TS_ERR_OK)
			fail_msg("case %zu: %s", i, e.message);
		if (c.n != cases[i].n || c.skipped != cases[i].skipped)
			fail_msg("case %zu: n %d skipped %d", i, c.n, c.skipped);
		if (c.n >= 1) {
			assert_string_equal(c.items[0].name, cases[i].name0);
			assert_string_equal(c.items[0].value, cases[i].value0);
		}
		if (c.n >= 2) {
			assert_string_equal(c.items[1].name, cases[i].name1);
			assert_string_equal(c.items[1].value, cases[i].value1);
		}
		ts_arena_free(&a);
	}
}

static void test_parse_caps(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_cookies c;
	struct ts_error e = {0};
	/* exactly the pair cap, then one more (skipped pairs count too) */
	char *h = ts_arena_alloc(a, TS_HTTP_COOKIE_MAX_BYTES + 2);
	size_t k = 0;
	for (int i = 0; i < TS_HTTP_COOKIE_MAX_PAIRS; i++)
		k += (size_t)snprintf(h + k, TS_HTTP_COOKIE_MAX_BYTES - k, "c%d=%d; ", i, i);
	const char *hs[] = {h};
	assert_int_equal(ts_http_cookies_parse(a, hs, 1, &c, &e), TS_ERR_OK);
	assert_int_equal(c.n, TS_HTTP_COOKIE_MAX_PAIRS);
	snprintf(h + k, TS_HTTP_COOKIE_MAX_BYTES - k, "junk");
	assert_int_equal(ts_http_cookies_parse(a, hs, 1, &c, &e), TS_ERR_TOO_LARGE);
	/* bytes, over several headers together */
	char *big = ts_arena_alloc(a, TS_HTTP_COOKIE_MAX_BYTES / 2 + 2);
	memset(big, 'x', TS_HTTP_COOKIE_MAX_BYTES / 2);
	big[0] = 'a';
	big[1] = '=';
	const char *two[] = {big, big};
	assert_int_equal(ts_http_cookies_parse(a, two, 2, &c, &e), TS_ERR_OK);
	assert_int_equal(c.n, 2);
	const char *three[] = {big, big, "b=1"};
	assert_int_equal(ts_http_cookies_parse(a, three, 3, &c, &e), TS_ERR_TOO_LARGE);
	ts_arena_free(&a);
}

static void test_get_and_from_req(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* HTTP/2 may split the header; other headers are not read */
	struct ts_http_header h[] = {
	        {"cookie", "a=1; sid=one"}, {"x-cookie", "sid=evil"}, {"cookie", "b=2"}};
	struct ts_http_req req = {.arena = a, .headers = h, .nheaders = 3};
	struct ts_http_cookies c;
	struct ts_error e = {0};
	assert_int_equal(ts_http_cookies_from_req(&req, &c, &e), TS_ERR_OK);
	assert_int_equal(c.n, 3);
	const char *v = NULL;
	assert_int_equal(ts_http_cookie_get(&c, "sid", &v, &e), TS_ERR_OK);
	assert_string_equal(v, "one");
	assert_int_equal(ts_http_cookie_get(&c, "b", &v, &e), TS_ERR_OK);
	assert_string_equal(v, "2");
	assert_int_equal(ts_http_cookie_get(&c, "SID", &v, &e), TS_ERR_OK);
	assert_null(v);
	/* a planted duplicate is refused, not picked */
	struct ts_http_header dup[] = {{"cookie", "sid=planted; sid=real"}};
	req.headers = dup;
	req.nheaders = 1;
	assert_int_equal(ts_http_cookies_from_req(&req, &c, &e), TS_ERR_OK);
	assert_int_equal(ts_http_cookie_get(&c, "sid", &v, &e), TS_ERR_BAD_REQUEST);
	assert_null(v);
	/* no header at all */
	req.nheaders = 0;
	assert_int_equal(ts_http_cookies_from_req(&req, &c, &e), TS_ERR_OK);
	assert_int_equal(ts_http_cookie_get(&c, "sid", &v, &e), TS_ERR_OK);
	assert_null(v);
	ts_arena_free(&a);
}

static void test_set_cookie(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	struct ts_http_base_url https, http;
	assert_int_equal(ts_http_base_url_parse(a, "https://id.example.com", &https, &e),
	                 TS_ERR_OK);
	assert_int_equal(ts_http_base_url_parse(a, "http://127.0.0.1:8080", &http, &e), TS_ERR_OK);
	struct ts_http_cookie_opts o = {.max_age_s = DAY_S};
	const char *h = NULL;
	assert_int_equal(ts_http_cookie_header(a, &https, "sid", "abc", &o,
	                                       RFC_EXAMPLE_TIME - DAY_S, &h, &e),
	                 TS_ERR_OK);
	assert_string_equal(h, "__Host-sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax; "
	                       "Max-Age=86400; Expires=Sun, 06 Nov 1994 08:49:37 GMT");
	/* plain http (loopback tests): no Secure, no __Host-; the rest the same */
	assert_int_equal(
	        ts_http_cookie_header(a, &http, "sid", "abc", &o, RFC_EXAMPLE_TIME - DAY_S, &h, &e),
	        TS_ERR_OK);
	assert_string_equal(h, "sid=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400; "
	                       "Expires=Sun, 06 Nov 1994 08:49:37 GMT");
	assert_string_equal(ts_http_cookie_name(a, &https, "sid"), "__Host-sid");
	assert_string_equal(ts_http_cookie_name(a, &http, "sid"), "sid");
	/* SameSite variants */
	o.samesite = TS_HTTP_SAMESITE_STRICT;
	assert_int_equal(ts_http_cookie_header(a, &https, "s", "v", &o, 0, &h, &e), TS_ERR_OK);
	assert_non_null(strstr(h, "; SameSite=Strict;"));
	o.samesite = TS_HTTP_SAMESITE_NONE;
	assert_int_equal(ts_http_cookie_header(a, &https, "s", "v", &o, 0, &h, &e), TS_ERR_OK);
	assert_non_null(strstr(h, "; Secure; HttpOnly; SameSite=None;"));
	assert_int_equal(ts_http_cookie_header(a, &http, "s", "v", &o, 0, &h, &e),
	                 TS_ERR_BAD_REQUEST);
	/* on a response; clear deletes with the same name and path */
	struct ts_http_res res = {0};
	o.samesite = TS_HTTP_SAMESITE_LAX;
	assert_int_equal(ts_http_cookie_set(&res, a, &https, "sid", "v", &o, &e), TS_ERR_OK);
	assert_int_equal(ts_http_cookie_clear(&res, a, &https, "sid", &e), TS_ERR_OK);
	assert_int_equal(res.nheaders, 2);
	assert_string_equal(res.headers[0].name, "set-cookie");
	assert_string_equal(res.headers[1].value,
	                    "__Host-sid=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0; "
	                    "Expires=Thu, 01 Jan 1970 00:00:00 GMT");
	ts_arena_free(&a);
}

static void test_set_cookie_refused(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	struct ts_http_base_url base;
	assert_int_equal(ts_http_base_url_parse(a, "https://id.example.com/", &base, &e),
	                 TS_ERR_OK);
	struct ts_http_cookie_opts o = {.max_age_s = 60};
	char long_name[TS_HTTP_COOKIE_MAX_NAME + 2];
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	char long_value[TS_HTTP_COOKIE_MAX_VALUE + 2];
	memset(long_value, 'v', sizeof long_value - 1);
	long_value[sizeof long_value - 1] = '\0';
	static const struct {
		const char *name, *value;
	} bad[] = {
	        {"", "v"},       {"a b", "v"},      {"a=b", "v"},  {"a;b", "v"},
	        {"a\r\nb", "v"}, {"__Host-x", "v"}, {"__x", "v"},  {"\xC3\xA9", "v"},
	        {"s", "a b"},    {"s", "a;b"},      {"s", "a,b"},  {"s", "a\"b"},
	        {"s", "a\\b"},   {"s", "a\r\nSet"}, {"s", "\x7f"}, {"s", "\xC3\xA9"},
	        {"s", NULL},     {NULL, "v"},
	};
	const char *h = NULL;
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		if (ts_http_cookie_header(a, &base, bad[i].name, bad[i].value, &o, 0, &h, &e) !=
		    TS_ERR_BAD_REQUEST)
			fail_msg("case %zu accepted", i);
		assert_null(h);
	}
	/* limits: at the cap fine, one past refused */
	long_name[TS_HTTP_COOKIE_MAX_NAME] = '\0';
	assert_int_equal(ts_http_cookie_header(a, &base, long_name, "v", &o, 0, &h, &e), TS_ERR_OK);
	long_name[TS_HTTP_COOKIE_MAX_NAME] = 'n';
	assert_int_equal(ts_http_cookie_header(a, &base, long_name, "v", &o, 0, &h, &e),
	                 TS_ERR_BAD_REQUEST);
	long_value[TS_HTTP_COOKIE_MAX_VALUE] = '\0';
	assert_int_equal(ts_http_cookie_header(a, &base, "s", long_value, &o, 0, &h, &e),
	                 TS_ERR_OK);
	long_value[TS_HTTP_COOKIE_MAX_VALUE] = 'v';
	assert_int_equal(ts_http_cookie_header(a, &base, "s", long_value, &o, 0, &h, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_null(strstr(e.message, "vvvv")); /* never quoted */
	/* lifetimes: explicit, bounded */
	struct ts_http_cookie_opts life[] = {{.max_age_s = -1},
	                                     {.max_age_s = TS_HTTP_COOKIE_MAX_AGE_S + 1}};
	for (size_t i = 0; i < N_ITEMS(life); i++)
		assert_int_equal(ts_http_cookie_header(a, &base, "s", "v", &life[i], 0, &h, &e),
		                 TS_ERR_BAD_REQUEST);
	assert_int_equal(ts_http_cookie_header(a, &base, "s", "v", NULL, 0, &h, &e),
	                 TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

static void test_csrf(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	unsigned char master[TS_MASTER_KEY_LEN], other[TS_MASTER_KEY_LEN];
	unsigned char key[TS_HTTP_CSRF_KEY_LEN], key2[TS_HTTP_CSRF_KEY_LEN];
	memset(master, 7, sizeof master);
	memset(other, 8, sizeof other);
	ts_http_csrf_key(master, key);
	ts_http_csrf_key(other, key2);
	assert_memory_not_equal(key, master, sizeof key); /* derived, not the master key */
	const char *t = ts_http_csrf_token(a, key, "session-1");
	assert_non_null(t);
	assert_int_equal(strlen(t), TS_HTTP_CSRF_TOKEN_LEN);
	assert_string_equal(t, ts_http_csrf_token(a, key, "session-1")); /* stable */
	assert_true(ts_http_csrf_verify(key, "session-1", t));
	assert_false(ts_http_csrf_verify(key, "session-2", t));  /* another session */
	assert_false(ts_http_csrf_verify(key2, "session-1", t)); /* another master key */
	assert_false(ts_http_csrf_verify(key, "session-1", NULL));
	assert_false(ts_http_csrf_verify(key, "session-1", ""));
	assert_false(ts_http_csrf_verify(key, NULL, t));
	assert_false(ts_http_csrf_verify(key, "", t));
	/* a token one character off, one short, one long, not base64url */
	char *bad = ts_arena_strdup(a, t);
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	assert_false(ts_http_csrf_verify(key, "session-1", bad));
	assert_false(ts_http_csrf_verify(key, "session-1", ts_arena_strndup(a, t, strlen(t) - 1)));
	assert_false(ts_http_csrf_verify(key, "session-1", ts_arena_concat(a, t, "A", NULL)));
	char *junk = ts_arena_strdup(a, t);
	junk[5] = '+';
	assert_false(ts_http_csrf_verify(key, "session-1", junk));
	/* session id bounds */
	char longid[TS_HTTP_CSRF_SESSION_MAX + 2];
	memset(longid, 's', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	assert_null(ts_http_csrf_token(a, key, longid));
	assert_null(ts_http_csrf_token(a, key, ""));
	ts_arena_free(&a);
}

static void test_csrf_check(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	unsigned char master[TS_MASTER_KEY_LEN], key[TS_HTTP_CSRF_KEY_LEN];
	memset(master, 3, sizeof master);
	ts_http_csrf_key(master, key);
	struct ts_error e = {0};
	struct ts_http_base_url base;
	assert_int_equal(ts_http_base_url_parse(a, "https://id.example.com", &base, &e), TS_ERR_OK);
	const char *t = ts_http_csrf_token(a, key, "s1");
	static const struct {
		const char *origin; /* NULL: no header */
		bool ok;
	} cases[] = {
	        {NULL, true},
	        {"https://id.example.com", true},
	        {"https://ID.example.com", true}, /* hosts compare lowercased */
	        {"https://id.example.com:443", true},
	        {"https://evil.example.com", false},
	        {"http://id.example.com", false},
	        {"https://id.example.com:8443", false},
	        {"null", false},
	        {"https://id.example.com.evil.com", false},
	        {"", false},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct ts_http_header h[] = {{"origin", cases[i].origin}};
		struct ts_http_req req = {
		        .arena = a, .headers = h, .nheaders = cases[i].origin ? 1 : 0};
		ts_err rc = ts_http_csrf_check(&req, &base, key, "s1", t, &e);
		if ((rc == TS_ERR_OK) != cases[i].ok)
			fail_msg("case %zu: rc %d", i, rc);
		if (!cases[i].ok)
			assert_int_equal(rc, TS_ERR_FORBIDDEN);
		/* a wrong token is refused whatever the origin */
		assert_int_equal(ts_http_csrf_check(&req, &base, key, "s2", t, &e),
		                 TS_ERR_FORBIDDEN);
	}
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),
	        cmocka_unit_test(test_parse_caps),
	        cmocka_unit_test(test_get_and_from_req),
	        cmocka_unit_test(test_set_cookie),
	        cmocka_unit_test(test_set_cookie_refused),
	        cmocka_unit_test(test_csrf),
	        cmocka_unit_test(test_csrf_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
