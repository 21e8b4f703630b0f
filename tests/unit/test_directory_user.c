/*
 * Unit tests of the user rules (src/directory/user.c): the licence a user's
 * directory groups give (docs/product.md §4 rule 5, table-driven), personal PINs, and
 * the address check of invitations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/crypto.h"
#include "directory/user.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_license_of_groups(void **state)
{
	(void)state;
	static const struct ts_dir_user_group none[] = {{"g0", "everyone", NULL}};
	static const struct ts_dir_user_group basic[] = {{"g1", "staff", "Basic"},
	                                                 {"g0", "everyone", NULL}};
	static const struct ts_dir_user_group both[] = {
	        {"g1", "staff", "Basic"}, {"g0", "everyone", NULL}, {"g2", "hosts", "Pro"}};
	static const struct ts_dir_user_group pro_first[] = {{"g2", "hosts", "Pro"},
	                                                     {"g1", "staff", "Basic"}};
	static const struct ts_dir_user_group odd[] = {{"g3", "x", "pro"}, {"g4", "y", "Gold"}};
	static const struct {
		const struct ts_dir_user_group *g;
		int n;
		enum ts_license want;
	} cases[] = {
	        {NULL, 0, TS_LICENSE_NONE},     {none, 1, TS_LICENSE_NONE},
	        {basic, 2, TS_LICENSE_BASIC},   {both, 3, TS_LICENSE_PRO},
	        {pro_first, 2, TS_LICENSE_PRO}, {odd, 2, TS_LICENSE_NONE},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++)
		assert_int_equal(ts_directory_license_of_groups(cases[i].g, cases[i].n),
		                 cases[i].want);
	assert_int_equal(ts_directory_license_parse("Pro"), TS_LICENSE_PRO);
	assert_int_equal(ts_directory_license_parse("Basic"), TS_LICENSE_BASIC);
	assert_int_equal(ts_directory_license_parse("basic"), TS_LICENSE_NONE);
	assert_int_equal(ts_directory_license_parse(NULL), TS_LICENSE_NONE);
}

static void test_pin(void **state)
{
	(void)state;
	int seen_digit[10] = {0};
	char first[TS_USER_PIN_DIGITS + 1];
	ts_directory_pin_random(first);
	bool differs = false;
	for (int i = 0; i < 200; i++) {
		char pin[TS_USER_PIN_DIGITS + 1];
		ts_directory_pin_random(pin);
		assert_int_equal(strlen(pin), TS_USER_PIN_DIGITS);
		for (int k = 0; k < TS_USER_PIN_DIGITS; k++) {
			assert_true(pin[k] >= '0' && pin[k] <= '9');
			seen_digit[pin[k] - '0']++;
		}
		differs = differs || strcmp(pin, first) != 0;
	}
	assert_true(differs);
	for (int d = 0; d < 10; d++)
		assert_true(seen_digit[d] > 100); /* 2000 digits: about 200 each */
}

static void test_email_check(void **state)
{
	(void)state;
	static const struct {
		const char *addr;
		const char *domain; /* NULL: refused */
	} cases[] = {
	        {"mary.major@example.com", "example.com"},
	        {"Mary+tag@Example.COM", "Example.COM"},
	        {"a@b.co", "b.co"},
	        {"", NULL},
	        {"nobody", NULL},
	        {"@example.com", NULL},
	        {"a@", NULL},
	        {"a b@example.com", NULL},
	        {"a\"b@example.com", NULL},
	        {"a<b>@example.com", NULL},
	        {"a@localhost", NULL},
	        {"a@exa_mple.com", NULL},
	        {"a@example.com.", NULL},
	        {"a@@example.com", NULL},
	        {"\xc3\xa9@example.com", NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		const char *domain = NULL;
		ts_err rc = ts_directory_email_check(cases[i].addr, &domain, NULL);
		if (cases[i].domain == NULL) {
			if (rc != TS_ERR_BAD_REQUEST)
				fail_msg("accepted %s", cases[i].addr);
		} else {
			if (rc != TS_ERR_OK)
				fail_msg("refused %s", cases[i].addr);
			assert_string_equal(domain, cases[i].domain);
		}
	}
	char longlocal[100];
	memset(longlocal, 'a', 65);
	strcpy(longlocal + 65, "@example.com");
	assert_int_equal(ts_directory_email_check(longlocal, &(const char *){NULL}, NULL),
	                 TS_ERR_BAD_REQUEST);
}

int main(void)
{
	if (ts_crypto_init() != TS_ERR_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_license_of_groups),
	        cmocka_unit_test(test_pin),
	        cmocka_unit_test(test_email_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
