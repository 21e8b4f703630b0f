/*
 * Unit tests of the domain rules (src/directory/domain.c): name checks, the
 * backoff schedule and the verdict of one DNS check, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "directory/domain.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_names(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
	        {"example.com", "example.com"},
	        {"Example.COM.", "example.com"},
	        {"a-b.example.co.uk", "a-b.example.co.uk"},
	        {"xn--bcher-kva.example", "xn--bcher-kva.example"},
	        {"1example.com", "1example.com"},
	        {"", NULL},
	        {".", NULL},
	        {"com", NULL},
	        {"localhost", NULL},
	        {"example..com", NULL},
	        {".example.com", NULL},
	        {"-a.com", NULL},
	        {"a-.com", NULL},
	        {"a_b.com", NULL},
	        {"a b.com", NULL},
	        {"ex%ample.com", NULL},
	        {"a@b.com", NULL},
	        {"192.0.2.1", NULL},
	        {"example.123", NULL},
	        {"\xc3\xbc.com", NULL},
	        {"example.com..", NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		char out[TS_DOMAIN_NAME_MAX + 1];
		struct ts_error e = {0};
		ts_err rc = ts_directory_domain_check(cases[i].in, out, &e);
		if (cases[i].out == NULL) {
			if (rc != TS_ERR_BAD_REQUEST)
				fail_msg("accepted %s", cases[i].in);
		} else {
			if (rc != TS_ERR_OK)
				fail_msg("refused %s: %s", cases[i].in, e.message);
			assert_string_equal(out, cases[i].out);
		}
	}
	/* lengths: a 63-character label is fine, 64 is not; 253 characters in all */
	char name[300];
	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	char out[TS_DOMAIN_NAME_MAX + 1];
	assert_int_equal(ts_directory_domain_check(name, out, NULL), TS_ERR_OK);
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	assert_int_equal(ts_directory_domain_check(name, out, NULL), TS_ERR_BAD_REQUEST);
	size_t n = 0;
	while (n + 50 < 260) {
		memset(name + n, 'b', 49);
		name[n + 49] = '.';
		n += 50;
	}
	strcpy(name + n, "com");
	assert_int_equal(strlen(name), TS_DOMAIN_NAME_MAX);
	assert_int_equal(ts_directory_domain_check(name, out, NULL), TS_ERR_OK);
	strcpy(name + n, "comm");
	assert_int_equal(ts_directory_domain_check(name, out, NULL), TS_ERR_BAD_REQUEST);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(ts_directory_domain_backoff_ms(1), 60000);
	assert_int_equal(ts_directory_domain_backoff_ms(2), 120000);
	assert_int_equal(ts_directory_domain_backoff_ms(3), 240000);
	assert_int_equal(ts_directory_domain_backoff_ms(6), 1920000);
	assert_int_equal(ts_directory_domain_backoff_ms(7), TS_DOMAIN_BACKOFF_MAX_MS);
	assert_int_equal(ts_directory_domain_backoff_ms(1000000), TS_DOMAIN_BACKOFF_MAX_MS);
}

static struct ts_domain pending(int64_t created, int64_t attempts)
{
	return (struct ts_domain){.account_id = "a",
	                          .domain_name = "example.com",
	                          .status = TS_DOMAIN_PENDING,
	                          .token = "tessera-verification=abc",
	                          .created_ms = created,
	                          .next_check_ms = created,
	                          .attempts = attempts};
}

static void test_judge(void **state)
{
	(void)state;
	const int64_t t0 = 1700000000000LL, hour = 3600000LL;
	static const char *const good[] = {"v=spf1 -all", "tessera-verification=abc"};
	static const char *const near[] = {"tessera-verification=abcd", "tessera-verification=ab",
	                                   " tessera-verification=abc", "TESSERA-VERIFICATION=abc"};
	static const struct {
		enum ts_domain_lookup lookup;
		const char *const *recs;
		size_t n;
		int64_t age_ms, attempts;
		const char *status;
		int64_t next_after_ms; /* from now; -1: not checked */
	} cases[] = {
	        {TS_DOMAIN_LOOKUP_FOUND, good, 2, 0, 0, TS_DOMAIN_VERIFIED, 0},
	        {TS_DOMAIN_LOOKUP_FOUND, good, 2, 30 * hour, 9, TS_DOMAIN_VERIFIED, 0},
	        {TS_DOMAIN_LOOKUP_FOUND, near, 4, 0, 0, TS_DOMAIN_PENDING, 60000},
	        {TS_DOMAIN_LOOKUP_ABSENT, NULL, 0, hour, 1, TS_DOMAIN_PENDING, 120000},
	        {TS_DOMAIN_LOOKUP_DNS_DOWN, NULL, 0, hour, 3, TS_DOMAIN_PENDING, 480000},
	        {TS_DOMAIN_LOOKUP_DNS_DOWN, NULL, 0, 23 * hour, 20, TS_DOMAIN_PENDING, hour},
	        {TS_DOMAIN_LOOKUP_ABSENT, NULL, 0, 24 * hour, 2, TS_DOMAIN_FAILED, -1},
	        {TS_DOMAIN_LOOKUP_DNS_DOWN, NULL, 0, 25 * hour, 2, TS_DOMAIN_FAILED, -1},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		int64_t now = t0 + cases[i].age_ms;
		struct ts_domain d = pending(t0, cases[i].attempts);
		ts_directory_domain_judge(&d, a, cases[i].lookup, cases[i].recs, cases[i].n, now);
		if (strcmp(d.status, cases[i].status) != 0)
			fail_msg("case %zu: %s, expected %s", i, d.status, cases[i].status);
		assert_int_equal(d.attempts, cases[i].attempts + 1);
		if (strcmp(d.status, TS_DOMAIN_VERIFIED) == 0) {
			assert_int_equal(d.verified_ms, now);
			assert_null(d.last_error);
		} else {
			assert_non_null(d.last_error);
			assert_int_equal(d.verified_ms, 0);
		}
		if (cases[i].next_after_ms >= 0)
			assert_int_equal(d.next_check_ms - now, cases[i].next_after_ms);
		ts_arena_free(&a);
	}
}

static void test_record_name(void **state)
{
	(void)state;
	char name[TS_DOMAIN_RECORD_NAME_MAX];
	ts_directory_domain_record_name("example.com", name);
	assert_string_equal(name, "_tessera-challenge.example.com");
	/* the longest domain still fits whole */
	char longest[TS_DOMAIN_NAME_MAX + 1];
	memset(longest, 'a', TS_DOMAIN_NAME_MAX);
	longest[TS_DOMAIN_NAME_MAX] = '\0';
	ts_directory_domain_record_name(longest, name);
	assert_int_equal(strlen(name), sizeof TS_DOMAIN_CHALLENGE_LABEL + TS_DOMAIN_NAME_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_backoff),
	        cmocka_unit_test(test_judge),
	        cmocka_unit_test(test_record_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
