/*
 * Unit tests of src/http/form.c: WHATWG form decoding ('+', escapes, empty
 * pieces), what it refuses (broken escapes, text that is not UTF-8, NUL and
 * other controls, empty names), every cap at its limit and one past it,
 * duplicates for single-valued lookups, and the Content-Type check.
 * Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http/form.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_decode(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int n;
		const char *name0, *value0, *name1, *value1;
	} cases[] = {
	        {"", 0, NULL, NULL, NULL, NULL},
	        {"a=1", 1, "a", "1", NULL, NULL},
	        {"a=1&b=2", 2, "a", "1", "b", "2"},
	        {"a=x+y", 1, "a", "x y", NULL, NULL},
	        {"a=x%2By", 1, "a", "x+y", NULL, NULL},
	        {"a=%C3%A9t%C3%A9", 1, "a", "\xC3\xA9t\xC3\xA9", NULL, NULL},
	        {"a=\xC3\xA9", 1, "a", "\xC3\xA9", NULL, NULL}, /* raw UTF-8 is UTF-8 */
	        {"a", 1, "a", "", NULL, NULL},
	        {"a=", 1, "a", "", NULL, NULL},
	        {"&&a=1&&", 1, "a", "1", NULL, NULL},
	        {"a=b=c", 1, "a", "b=c", NULL, NULL},
	        {"first+name=J%26J", 1, "first name", "J&J", NULL, NULL},
	        {"a=%3d&b=%26", 2, "a", "=", "b", "&"},
	        {"a=%7e%7E", 1, "a", "~~", NULL, NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_form f;
		struct ts_error e = {0};
		ts_err rc =
		        ts_http_form_parse(a, cases[i].body, strlen(cases[i].body), NULL, &f, &e);
		if (rc != TS_ERR_OK)
			fail_msg("case %zu (%s): %s", i, cases[i].body, e.message);
		assert_int_equal(f.n, cases[i].n);
		if (cases[i].n >= 1) {
			assert_string_equal(f.fields[0].name, cases[i].name0);
			assert_string_equal(f.fields[0].value, cases[i].value0);
			assert_int_equal(f.fields[0].value_len, strlen(cases[i].value0));
		}
		if (cases[i].n >= 2) {
			assert_string_equal(f.fields[1].name, cases[i].name1);
			assert_string_equal(f.fields[1].value, cases[i].value1);
		}
		ts_arena_free(&a);
	}
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		size_t len; /* 0: strlen */
		ts_err code;
	} cases[] = {
	        {"a=%", 0, TS_ERR_BAD_REQUEST},            /* broken escape at the end */
	        {"a=%4", 0, TS_ERR_BAD_REQUEST},           /* half an escape */
	        {"a=%zz", 0, TS_ERR_BAD_REQUEST},          /* not hex */
	        {"a%=1", 0, TS_ERR_BAD_REQUEST},           /* in the name */
	        {"a=%00", 0, TS_ERR_BAD_REQUEST},          /* encoded NUL */
	        {"a=x\0y", 5, TS_ERR_BAD_REQUEST},         /* raw NUL */
	        {"a=%ff", 0, TS_ERR_BAD_REQUEST},          /* not UTF-8 */
	        {"a=\xff", 0, TS_ERR_BAD_REQUEST},         /* raw, not UTF-8 */
	        {"a=%C0%AF", 0, TS_ERR_BAD_REQUEST},       /* overlong '/' */
	        {"a=%ED%A0%80", 0, TS_ERR_BAD_REQUEST},    /* a surrogate */
	        {"a=%F4%90%80%80", 0, TS_ERR_BAD_REQUEST}, /* past U+10FFFF */
	        {"a=%C3", 0, TS_ERR_BAD_REQUEST},          /* truncated sequence */
	        {"a=%0A", 0, TS_ERR_BAD_REQUEST},          /* LF in a single-line value */
	        {"a=%0D%0ASet-Cookie:x", 0, TS_ERR_BAD_REQUEST},
	        {"a=\t", 0, TS_ERR_BAD_REQUEST},       /* raw TAB */
	        {"a=%7F", 0, TS_ERR_BAD_REQUEST},      /* DEL */
	        {"a=%C2%85", 0, TS_ERR_BAD_REQUEST},   /* C1 NEL */
	        {"a=%1B[31m", 0, TS_ERR_BAD_REQUEST},  /* ESC: terminal injection into logs */
	        {"=x", 0, TS_ERR_BAD_REQUEST},         /* empty name */
	        {"=", 0, TS_ERR_BAD_REQUEST},          /* empty name */
	        {"a%0A=1", 0, TS_ERR_BAD_REQUEST},     /* control in a name */
	        {"ok=1&b=%ff", 0, TS_ERR_BAD_REQUEST}, /* the second field */
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_form f;
		struct ts_error e = {0};
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].body);
		ts_err rc = ts_http_form_parse(a, cases[i].body, len, NULL, &f, &e);
		if (rc != cases[i].code)
			fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].code);
		assert_true(e.message[0] != '\0');
		assert_int_equal(f.n, 0);
		ts_arena_free(&a);
	}
}

/* A message may name the field, never quote its value. */
static void test_message_does_not_quote_value(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_form f;
	struct ts_error e = {0};
	const char body[] = "password=secret%ff";
	assert_int_equal(ts_http_form_parse(a, body, strlen(body), NULL, &f, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "password"));
	assert_null(strstr(e.message, "secret"));
	ts_arena_free(&a);
}

static void test_multiline(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_form f;
	struct ts_error e = {0};
	struct ts_http_form_limits lim = TS_HTTP_FORM_LIMITS_DEFAULT;
	lim.multiline = true;
	const char body[] = "pem=line1%0D%0Aline2%09x";
	assert_int_equal(ts_http_form_parse(a, body, strlen(body), &lim, &f, &e), TS_ERR_OK);
	assert_string_equal(f.fields[0].value, "line1\r\nline2\tx");
	/* names never; other controls never */
	const char *refused[] = {"p%0Aem=1", "pem=%00", "pem=%1B", "pem=%7F", "pem=%C2%9B"};
	for (size_t i = 0; i < N_ITEMS(refused); i++)
		assert_int_equal(
		        ts_http_form_parse(a, refused[i], strlen(refused[i]), &lim, &f, &e),
		        TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

/* Each cap: at the limit accepted, one past it refused with TS_ERR_TOO_LARGE. */
static void test_caps(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_form f;
	struct ts_error e = {0};
	struct ts_http_form_limits lim = {
	        .max_body = 64, .max_fields = 3, .max_name = 4, .max_value = 6};
	const struct {
		const char *body;
		ts_err code;
	} cases[] = {
	        {"a=1&b=2&c=3", TS_ERR_OK},
	        {"a=1&b=2&c=3&d=4", TS_ERR_TOO_LARGE},
	        {"a=1&&&b=2&&c=3&&", TS_ERR_OK}, /* empty pieces are not fields */
	        {"abcd=1", TS_ERR_OK},
	        {"abcde=1", TS_ERR_TOO_LARGE},
	        {"ab%63d=1", TS_ERR_OK}, /* decoded length counts */
	        {"a=123456", TS_ERR_OK},
	        {"a=1234567", TS_ERR_TOO_LARGE},
	        {"a=%31%32%33%34%35%36", TS_ERR_OK},
	        {"a=%31%32%33%34%35%36%37", TS_ERR_TOO_LARGE},
	        {"a=1&a=2&a=3", TS_ERR_OK},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_err rc =
		        ts_http_form_parse(a, cases[i].body, strlen(cases[i].body), &lim, &f, &e);
		if (rc != cases[i].code)
			fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].body, rc,
			         cases[i].code);
	}
	/* the body cap, before any parsing */
	char big[80];
	memset(big, 'a', sizeof big);
	assert_int_equal(ts_http_form_parse(a, big, 64, &lim, &f, &e), TS_ERR_TOO_LARGE); /* name */
	assert_int_equal(ts_http_form_parse(a, big, 65, &lim, &f, &e), TS_ERR_TOO_LARGE);
	assert_non_null(strstr(e.message, "body"));
	ts_arena_free(&a);
}

/* The default caps with maximal input: a body of the largest size, many fields. */
static void test_default_caps(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_form f;
	struct ts_error e = {0};
	size_t n = TS_HTTP_FORM_MAX_BODY + 1;
	char *body = ts_arena_alloc(a, n + 1);
	memset(body, 'x', n);
	assert_int_equal(ts_http_form_parse(a, body, n, NULL, &f, &e), TS_ERR_TOO_LARGE);
	/* one value just at the cap */
	body[0] = 'v';
	body[1] = '=';
	assert_int_equal(ts_http_form_parse(a, body, TS_HTTP_FORM_MAX_VALUE + 2, NULL, &f, &e),
	                 TS_ERR_OK);
	assert_int_equal(f.fields[0].value_len, TS_HTTP_FORM_MAX_VALUE);
	assert_int_equal(ts_http_form_parse(a, body, TS_HTTP_FORM_MAX_VALUE + 3, NULL, &f, &e),
	                 TS_ERR_TOO_LARGE);
	/* "a&a&a...": one past the field cap */
	size_t k = 0;
	for (int i = 0; i <= TS_HTTP_FORM_MAX_FIELDS; i++) {
		body[k++] = 'a';
		body[k++] = '&';
	}
	assert_int_equal(ts_http_form_parse(a, body, k - 3, NULL, &f, &e), TS_ERR_OK);
	assert_int_equal(f.n, TS_HTTP_FORM_MAX_FIELDS);
	assert_int_equal(ts_http_form_parse(a, body, k, NULL, &f, &e), TS_ERR_TOO_LARGE);
	ts_arena_free(&a);
}

static void test_lookups(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_form f;
	struct ts_error e = {0};
	const char body[] = "user=alice&role=a&role=b&next=%2Fhome&user2=";
	assert_int_equal(ts_http_form_parse(a, body, strlen(body), NULL, &f, &e), TS_ERR_OK);
	const char *v = NULL;
	assert_int_equal(ts_http_form_one(&f, "user", &v, &e), TS_ERR_OK);
	assert_string_equal(v, "alice");
	assert_int_equal(ts_http_form_one(&f, "user2", &v, &e), TS_ERR_OK);
	assert_string_equal(v, "");
	/* duplicates: refused for single-valued lookups, listed by ts_http_form_all */
	assert_int_equal(ts_http_form_one(&f, "role", &v, &e), TS_ERR_BAD_REQUEST);
	assert_null(v);
	assert_int_equal(ts_http_form_opt(&f, "role", &v, &e), TS_ERR_BAD_REQUEST);
	const char *roles[4];
	assert_int_equal(ts_http_form_all(&f, "role", roles, 4), 2);
	assert_string_equal(roles[0], "a");
	assert_string_equal(roles[1], "b");
	assert_int_equal(ts_http_form_all(&f, "role", roles, 1), 2); /* count beyond max */
	/* absent */
	assert_int_equal(ts_http_form_one(&f, "missing", &v, &e), TS_ERR_BAD_REQUEST);
	assert_int_equal(ts_http_form_opt(&f, "missing", &v, &e), TS_ERR_OK);
	assert_null(v);
	/* names are exact: no prefix match, case-sensitive */
	assert_int_equal(ts_http_form_opt(&f, "use", &v, &e), TS_ERR_OK);
	assert_null(v);
	assert_int_equal(ts_http_form_opt(&f, "USER", &v, &e), TS_ERR_OK);
	assert_null(v);
	ts_arena_free(&a);
}

static void test_from_req(void **state)
{
	(void)state;
	static const struct {
		const char *ct;
		ts_err code;
	} cases[] = {
	        {"application/x-www-form-urlencoded", TS_ERR_OK},
	        {"Application/X-WWW-Form-Urlencoded", TS_ERR_OK},
	        {"application/x-www-form-urlencoded; charset=UTF-8", TS_ERR_OK},
	        {"application/x-www-form-urlencoded;charset=\"utf-8\"", TS_ERR_OK},
	        {"application/x-www-form-urlencoded; charset=iso-8859-1", TS_ERR_UNSUPPORTED_MEDIA},
	        {"application/x-www-form-urlencoded; charset=utf-8x", TS_ERR_UNSUPPORTED_MEDIA},
	        {"application/x-www-form-urlencodedx", TS_ERR_UNSUPPORTED_MEDIA},
	        {"multipart/form-data; boundary=x", TS_ERR_UNSUPPORTED_MEDIA},
	        {"application/json", TS_ERR_UNSUPPORTED_MEDIA},
	        {"text/plain", TS_ERR_UNSUPPORTED_MEDIA},
	        {NULL, TS_ERR_UNSUPPORTED_MEDIA},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_header h[] = {{"content-type", cases[i].ct}};
		struct ts_http_req req = {.arena = a,
		                          .headers = h,
		                          .nheaders = cases[i].ct ? 1 : 0,
		                          .body = "a=1",
		                          .body_len = 3};
		struct ts_http_form f;
		struct ts_error e = {0};
		ts_err rc = ts_http_form_from_req(&req, NULL, &f, &e);
		if (rc != cases[i].code)
			fail_msg("case %zu (%s): rc %d", i, cases[i].ct ? cases[i].ct : "-", rc);
		if (rc == TS_ERR_OK)
			assert_int_equal(f.n, 1);
		ts_arena_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_decode),
	        cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_message_does_not_quote_value),
	        cmocka_unit_test(test_multiline),
	        cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_default_caps),
	        cmocka_unit_test(test_lookups),
	        cmocka_unit_test(test_from_req),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
