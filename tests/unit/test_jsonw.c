/*
 * Unit tests of src/core/jsonw: string escaping (RFC 8259 §7), UTF-8
 * checking (RFC 3629 §3), member commas, and that serializing a jansson value
 * gives exactly json_dumpb(JSON_COMPACT)'s bytes, since stored audit bodies
 * and their hashes must not change form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/utf8.h"
#include "admin/render.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

struct str_case {
	const char *in;
	const char *out;
	bool valid;
};

static const struct str_case str_cases[] = {
        {"", "\"\"", true},
        {"plain", "\"plain\"", true},
        {"q\"b\\s/", "\"q\\\"b\\\\s/\"", true},
        {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"", true},
        {"\x01\x1f x\x7f", "\"\\u0001\\u001F x\x7f\"", true},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
         "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", true},
        {"\xe2\x80\xa8", "\"\xe2\x80\xa8\"", true}, /* U+2028 as is */
        {"a\xff"
         "b",
         "\"a\xef\xbf\xbd"
         "b\"",
         false},                                                             /* not a lead byte */
        {"\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"", false},                 /* overlong '/' */
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", false}, /* surrogate */
        {"\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
         false},                                               /* past U+10FFFF */
        {"x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\"", false}, /* truncated at the end */
};

static void test_jsonw_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ITEMS(str_cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_jsonw w;
		ts_jsonw_init(&w, a, 0);
		bool valid = ts_jsonw_str(&w, str_cases[i].in);
		size_t len = 0;
		const char *out = ts_jsonw_finish(&w, &len);
		if (strcmp(out, str_cases[i].out) != 0)
			fail_msg("case %zu: got [%s] want [%s]", i, out, str_cases[i].out);
		assert_int_equal(len, strlen(str_cases[i].out));
		assert_int_equal(valid, str_cases[i].valid);
		ts_arena_free(&a);
	}
}

/* every ASCII character, and a long string that makes the buffer grow */
static void test_jsonw_controls_and_growth(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	char in[0x80] = {0}; /* every ASCII character but NUL */
	for (int c = 1; c < 0x80; c++)
		in[c - 1] = (char)c;
	struct ts_jsonw w;
	ts_jsonw_init(&w, a, 0);
	assert_true(ts_jsonw_str(&w, in));
	const char *ours = ts_jsonw_finish(&w, NULL);
	json_t *j = json_string(in);
	char *theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_string_equal(ours, theirs);
	free(theirs);
	json_decref(j);

	char big[5000];
	memset(big, '"', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ts_jsonw_init(&w, a, 0);
	ts_jsonw_lit(&w, "[");
	assert_true(ts_jsonw_str(&w, big));
	ts_jsonw_lit(&w, "]");
	size_t len = 0;
	const char *out = ts_jsonw_finish(&w, &len);
	assert_int_equal(len, 2 + 2 + 2 * (sizeof big - 1));
	assert_int_equal(out[0], '[');
	assert_int_equal(out[len - 1], ']');
	assert_int_equal(out[len], '\0');
	ts_arena_free(&a);
}

static void test_jsonw_members(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_jsonw w;
	ts_jsonw_init(&w, a, 0);
	ts_jsonw_lit(&w, "{");
	assert_true(ts_jsonw_member_str(&w, "a", "1"));
	/* false: not UTF-8; kept, its bad byte written as the text \xFF */
	assert_false(ts_jsonw_member_str(&w, "bad", "a\xff"));
	assert_true(ts_jsonw_member_str(&w, "n", NULL));
	ts_jsonw_key(&w, "o");
	ts_jsonw_lit(&w, "{");
	ts_jsonw_key(&w, "k\n");
	ts_jsonw_lit(&w, "true}");
	ts_jsonw_lit(&w, "}");
	assert_string_equal(ts_jsonw_finish(&w, NULL),
	                    "{\"a\":\"1\",\"bad\":\"a\\\\xFF\",\"n\":null,\"o\":{\"k\\n\":true}}");
	ts_arena_free(&a);
}

/* documents whose compact form must match jansson's byte for byte */
static const char *const docs[] = {
        "{}",
        "[]",
        "null",
        "{\"AccountId\":\"acc-1\",\"Query\":\"a=b&c=%22\"}",
        ("{\"z\":1,\"a\":[1,-2,9223372036854775807,-9223372036854775808],\"m\":{\"t\":true,"
         "\"f\":false,\"n\":null}}"),
        "{\"r\":[0.5,1.0,-3.25e-10,1e300,0.1,123456789.125]}",
        "{\"s\":\"tab\\there \\u0001 \\\"q\\\" \\\\ / \\u00e9 \\ud83d\\ude00 \\u2028\"}",
        "[[[[{\"deep\":[{}]}]]],\"\",{\"\":\"\"}]",
        "{\"key\":\"v\\u0000al\"}",
};

static void test_jsonw_matches_jansson(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ITEMS(docs); i++) {
		json_error_t err;
		json_t *j = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (j == NULL)
			fail_msg("doc %zu: %s", i, err.text);
		char *theirs = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_non_null(theirs);
		ts_arena_t *a = ts_arena_new();
		size_t len = 0;
		const char *ours = ts_json_dump(a, j, &len);
		if (strcmp(ours, theirs) != 0)
			fail_msg("doc %zu: got [%s] want [%s]", i, ours, theirs);
		assert_int_equal(len, strlen(theirs));
		ts_arena_free(&a);
		free(theirs);
		json_decref(j);
	}
}

/* GetAccount writes the account with ts_jsonw; every other call builds it with jansson. */
static void test_account_writers_agree(void **state)
{
	(void)state;
	const struct ts_account accounts[] = {
	        {"acc-1", "Example Corp", "Team", "Active", 1700000000123, "{}"},
	        {"acc-2", "Ünïcode \"quoted\" \\ name\t", "Enterprise", "Suspended", 0, "{}"},
	};
	for (size_t i = 0; i < N_ITEMS(accounts); i++) {
		ts_arena_t *a = ts_arena_new();
		json_t *j = ts_admin_account_json(&accounts[i]);
		const char *theirs = ts_json_dump(a, j, NULL);
		struct ts_jsonw w;
		ts_jsonw_init(&w, a, 8);
		ts_admin_account_write(&w, &accounts[i]);
		assert_string_equal(ts_jsonw_finish(&w, NULL), theirs);
		json_decref(j);
		ts_arena_free(&a);
	}
}

/*
 * ts_json_text: text from outside is never a NULL json_t (an incident: json_pack
 * on a message quoting %ff returned NULL and the server crashed). Invalid
 * bytes are written as \xHH; valid text is kept as it is.
 */
static void test_json_text(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"", ""},
	        {"plain", "plain"},
	        {"caf\xc3\xa9", "caf\xc3\xa9"},
	        {"\xff", "\\xFF"},
	        {"/api/v1/accounts/\xff\xfe", "/api/v1/accounts/\\xFF\\xFE"},
	        {"a\xc3(b", "a\\xC3(b"},                           /* bad continuation */
	        {"\xc0\xaf", "\\xC0\\xAF"},                        /* overlong */
	        {"\xed\xa0\x80", "\\xED\\xA0\\x80"},               /* surrogate */
	        {"\xe2\x82", "\\xE2\\x82"},                        /* cut short */
	        {"ok \xe2\x82\xac \x80", "ok \xe2\x82\xac \\x80"}, /* valid kept, bad escaped */
	};
	ts_arena_t *a = ts_arena_new();
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		json_t *j = ts_json_text(cases[i].in);
		if (j == NULL)
			fail_msg("case %zu: NULL", i);
		assert_string_equal(json_string_value(j), cases[i].want);
		json_decref(j);
		assert_string_equal(ts_text_escape(a, cases[i].in), cases[i].want);
		bool valid = strcmp(cases[i].in, cases[i].want) == 0;
		assert_int_equal(ts_utf8_valid(cases[i].in, strlen(cases[i].in)), valid);
	}
	json_t *n = ts_json_text(NULL);
	assert_true(json_is_null(n));
	json_decref(n);
	assert_null(ts_text_escape(a, NULL));
	/* a length that cuts a sequence, and an embedded NUL, are not valid */
	assert_false(ts_utf8_valid("\xe2\x82\xac", 2));
	assert_true(ts_utf8_valid("\xe2\x82\xac", 3));
	assert_false(ts_utf8_valid("a\0b", 3));
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_jsonw_strings),
	        cmocka_unit_test(test_jsonw_controls_and_growth),
	        cmocka_unit_test(test_jsonw_members),
	        cmocka_unit_test(test_jsonw_matches_jansson),
	        cmocka_unit_test(test_account_writers_agree),
	        cmocka_unit_test(test_json_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
