/* Unit tests for core/token: bearer tokens of admin keys and SCIM API keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/token.h"

static const struct ts_token_shape shape = {"TSXX", 16, 40};

static void round_trip(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_token t;
	ts_token_new(a, &shape, &t);
	assert_int_equal(strlen(t.id), 20);
	assert_memory_equal(t.id, "TSXX", 4);
	for (const char *p = t.id + 4; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p));
	assert_int_equal(strlen(t.token), 20 + 1 + 40);
	const char *id = NULL;
	char hash[TS_SHA256_HEX_LEN + 1];
	assert_true(ts_token_parse(a, &shape, t.token, &id, hash));
	assert_string_equal(id, t.id);
	assert_string_equal(hash, t.secret_hash);
	/* the stored hash is the secret's, not the whole token's */
	char whole[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex(t.token, strlen(t.token), whole);
	assert_string_not_equal(whole, t.secret_hash);
	/* two tokens never share id or secret */
	struct ts_token u;
	ts_token_new(a, &shape, &u);
	assert_string_not_equal(t.id, u.id);
	assert_string_not_equal(t.secret_hash, u.secret_hash);
	ts_arena_free(&a);
}

static void malformed(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_token t;
	ts_token_new(a, &shape, &t);
	const char *secret = strchr(t.token, '.') + 1;
	const char *bad[] = {
	        NULL,
	        "",
	        "TSXX",
	        ts_arena_printf(a, "%s", t.id),                    /* no secret */
	        ts_arena_printf(a, "%s.", t.id),                   /* empty secret */
	        ts_arena_printf(a, "%s.%sx", t.id, secret),        /* secret too long */
	        ts_arena_printf(a, "%s.%.39s", t.id, secret),      /* secret too short */
	        ts_arena_printf(a, "TSYY%s.%s", t.id + 4, secret), /* other prefix */
	        ts_arena_printf(a, "%.19s.%s", t.id, secret),      /* id too short */
	        ts_arena_printf(a, "%sA.%s", t.id, secret),        /* id too long */
	        ts_arena_printf(a, "%s%s", t.id, secret),          /* no dot */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *id = "unchanged";
		char hash[TS_SHA256_HEX_LEN + 1];
		assert_false(ts_token_parse(a, &shape, bad[i], &id, hash));
		assert_null(id);
	}
	ts_arena_free(&a);
}

/* FNV-1a 64 as published (the empty text is the offset basis). */
static void test_token_id_hash(void **state)
{
	(void)state;
	assert_true(ts_token_id_hash("") == 0xcbf29ce484222325ull);
	assert_true(ts_token_id_hash("a") == 0xaf63dc4c8601ec8cull);
	assert_true(ts_token_id_hash("foobar") == 0x85944171f73967e8ull);
}

int main(void)
{
	if (ts_crypto_init() != TS_ERR_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(round_trip),
	        cmocka_unit_test(malformed),
	        cmocka_unit_test(test_token_id_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
