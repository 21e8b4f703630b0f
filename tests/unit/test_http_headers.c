/*
 * Unit tests of response headers (src/http/request.c ts_http_res_header):
 * past the fixed array they grow in the request's arena, in order; a header
 * that does not fit is never dropped silently (res->fault, res->overflow),
 * both without an arena and at the bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "http/http.h"

static void test_grow_in_arena(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_res res = {.arena = a};
	for (int i = 0; i < TS_HTTP_RES_HEADERS_BOUND; i++)
		ts_http_res_header(&res, "x-n", ts_arena_printf(a, "%d", i));
	assert_null(res.fault);
	assert_int_equal(res.nheaders, TS_HTTP_RES_HEADERS_BOUND);
	for (int i = 0; i < TS_HTTP_RES_HEADERS_BOUND; i++) /* every one kept, in order */
		assert_string_equal(res.headers[i].value, ts_arena_printf(a, "%d", i));
	/* the bound is loud */
	ts_http_res_header(&res, "x-one-too-many", "v");
	assert_int_equal(res.nheaders, TS_HTTP_RES_HEADERS_BOUND);
	assert_non_null(res.fault);
	assert_string_equal(res.overflow, "x-one-too-many");
	ts_arena_free(&a);
}

static void test_no_arena(void **state)
{
	(void)state;
	struct ts_http_res res = {0};
	for (int i = 0; i < TS_HTTP_MAX_RES_HEADERS; i++)
		ts_http_res_header(&res, "x-n", "v");
	assert_null(res.fault);
	ts_http_res_header(&res, "x-extra", "v");
	assert_int_equal(res.nheaders, TS_HTTP_MAX_RES_HEADERS);
	assert_non_null(res.fault);
	assert_string_equal(res.overflow, "x-extra");
	/* a response zeroed again (as ts_http_res_settle does) starts afresh */
	res = (struct ts_http_res){0};
	ts_http_res_header(&res, "retry-after", "1");
	assert_int_equal(res.nheaders, 1);
	assert_string_equal(res.headers[0].name, "retry-after");
	assert_null(res.fault);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_grow_in_arena),
	        cmocka_unit_test(test_no_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
