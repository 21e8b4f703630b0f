/*
 * Unit tests for credential/cache: the one cache design of checked keys
 * (admin key policies, account API keys). An entry answers only for the id
 * and stamp it was put with; a newer entry in its slot frees the older value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "credential/cache.h"

static int freed;

static void count_free(void *v)
{
	freed++;
	ts_free(v);
}

static void *value(int n)
{
	int *v = ts_calloc(1, sizeof *v);
	*v = n;
	return v;
}

static void hit_needs_id_and_stamp(void **state)
{
	(void)state;
	freed = 0;
	ts_credential_cache_t *c = ts_credential_cache_new(count_free);
	assert_null(ts_credential_cache_get(c, "TSSKA", "hash1", NULL));
	ts_credential_cache_put(c, "TSSKA", "hash1", 7, value(1));
	int64_t gen = 0;
	int *v = ts_credential_cache_get(c, "TSSKA", "hash1", &gen);
	assert_non_null(v);
	assert_int_equal(*v, 1);
	assert_int_equal(gen, 7);
	/* another secret, or a changed policy text: no hit */
	assert_null(ts_credential_cache_get(c, "TSSKA", "hash2", NULL));
	assert_null(ts_credential_cache_get(c, "TSSKA", "hash", NULL));
	assert_null(ts_credential_cache_get(c, "TSSKB", "hash1", NULL));
	assert_null(ts_credential_cache_get(c, "TSSKA", NULL, NULL));
	/* a put for the same id replaces the entry and frees its value */
	ts_credential_cache_put(c, "TSSKA", "hash2", 8, value(2));
	assert_int_equal(freed, 1);
	assert_null(ts_credential_cache_get(c, "TSSKA", "hash1", NULL));
	v = ts_credential_cache_get(c, "TSSKA", "hash2", &gen);
	assert_int_equal(*v, 2);
	assert_int_equal(gen, 8);
	ts_credential_cache_free(&c);
	assert_null(c);
	assert_int_equal(freed, 2);
	ts_credential_cache_free(&c); /* accepts NULL */
	assert_null(ts_credential_cache_get(NULL, "TSSKA", "hash2", NULL));
}

static void many_keys_stay_bounded(void **state)
{
	(void)state;
	freed = 0;
	ts_credential_cache_t *c = ts_credential_cache_new(count_free);
	int n = TS_CREDENTIAL_CACHE_SLOTS * 4;
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "TSAK%d", i);
		ts_credential_cache_put(c, id, "policies", 0, value(i));
		int *v = ts_credential_cache_get(c, id, "policies", NULL);
		assert_non_null(v);
		assert_int_equal(*v, i);
	}
	/* at most one value per slot is held: the others were freed as they were replaced */
	assert_true(freed >= n - TS_CREDENTIAL_CACHE_SLOTS);
	ts_credential_cache_free(&c);
	assert_int_equal(freed, n);
}

int main(void)
{
	if (ts_crypto_init() != TS_ERR_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(hit_needs_id_and_stamp),
	        cmocka_unit_test(many_keys_stay_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
