/*
 * Unit tests of the user rules (src/directory/user.c): the licence a user's
 * directory groups give (docs/product.md §4 rule 5, table-driven), personal PINs, and
 * the address check of invitations, and registration at the first sign-in
 * (docs/product.md §4) on a real SQLite store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/timeutil.h"
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

struct env {
	char dir[64], path[96];
	ts_store_t *store;
	ts_store_conn_t *c;
	ts_arena_t *a;
	struct ts_error e;
};

static int store_setup(void **state)
{
	struct env *env = calloc(1, sizeof *env);
	snprintf(env->dir, sizeof env->dir, "/tmp/ts-user-XXXXXX");
	assert_non_null(mkdtemp(env->dir));
	snprintf(env->path, sizeof env->path, "%s/t.db", env->dir);
	assert_int_equal(ts_store_open(env->path, true, NULL, &env->store, &env->e), TS_ERR_OK);
	assert_int_equal(ts_store_connect(env->store, &env->c, &env->e), TS_ERR_OK);
	assert_int_equal(ts_store_migrate(env->c, &env->e), TS_ERR_OK);
	env->a = ts_arena_new();
	struct ts_account acct = {"acct-1", "Acme", "Enterprise", "Active", 1000, "{}"};
	assert_int_equal(ts_store_account_insert(env->c, &acct, &env->e), TS_ERR_OK);
	*state = env;
	return 0;
}

static int store_teardown(void **state)
{
	struct env *env = *state;
	ts_arena_free(&env->a);
	ts_store_disconnect(&env->c);
	ts_store_free(&env->store);
	char path[128];
	snprintf(path, sizeof path, "%s/t.db", env->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/t.db-wal", env->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/t.db-shm", env->dir);
	unlink(path);
	rmdir(env->dir);
	free(env);
	return 0;
}

static struct ts_user_row get(struct env *env, const char *id)
{
	struct ts_user_row u;
	assert_int_equal(ts_store_user_get(env->c, env->a, "acct-1", id, &u, &env->e), TS_ERR_OK);
	return u;
}

/* ts_directory_user_register in a write transaction of its own; answers *registered. */
static bool do_register(struct env *env, const char *id, int64_t now)
{
	bool registered = false;
	assert_int_equal(ts_store_begin(env->c, true, &env->e), TS_ERR_OK);
	assert_int_equal(ts_directory_user_register(env->c, env->a, id, now, &registered, &env->e),
	                 TS_ERR_OK);
	assert_int_equal(ts_store_commit(env->c, &env->e), TS_ERR_OK);
	return registered;
}

static void suspend(struct env *env, const char *id, bool on)
{
	assert_int_equal(ts_store_begin(env->c, true, &env->e), TS_ERR_OK);
	assert_int_equal(ts_directory_user_suspend(env->c, env->a, "acct-1", id, on, &env->e),
	                 TS_ERR_OK);
	assert_int_equal(ts_store_commit(env->c, &env->e), TS_ERR_OK);
}

static void test_register_first_signin(void **state)
{
	struct env *env = *state;
	/* provisioned over SCIM: Unregistered, without RegisteredOn or PIN */
	struct ts_user_row scim = {.user_id = "u1",
	                           .account_id = "acct-1",
	                           .user_name = "alice@example.com",
	                           .active = true,
	                           .resource = "{}",
	                           .version = 1,
	                           .created_ms = 1000,
	                           .modified_ms = 1000};
	assert_int_equal(ts_store_user_insert(env->c, &scim, NULL, 0, &env->e), TS_ERR_OK);
	struct ts_user_row u = get(env, "u1");
	assert_string_equal(u.registration_status, TS_USER_UNREGISTERED);
	assert_int_equal(u.joined_ms, 0);
	assert_null(u.personal_pin);

	/* suspended and activated before ever signing in: still Unregistered */
	suspend(env, "u1", true);
	assert_string_equal(get(env, "u1").registration_status, TS_USER_SUSPENDED);
	assert_false(do_register(env, "u1", 1500)); /* a suspended user is not registered */
	suspend(env, "u1", false);
	assert_string_equal(get(env, "u1").registration_status, TS_USER_UNREGISTERED);

	/* the first sign-in: Registered, RegisteredOn, a personal PIN */
	assert_true(do_register(env, "u1", 2000));
	u = get(env, "u1");
	assert_string_equal(u.registration_status, TS_USER_REGISTERED);
	assert_int_equal(u.joined_ms, 2000);
	assert_non_null(u.personal_pin);
	assert_int_equal(strlen(u.personal_pin), TS_USER_PIN_DIGITS);
	for (int i = 0; i < TS_USER_PIN_DIGITS; i++)
		assert_true(u.personal_pin[i] >= '0' && u.personal_pin[i] <= '9');
	char pin[TS_USER_PIN_DIGITS + 1];
	memcpy(pin, u.personal_pin, sizeof pin);

	/* later sign-ins change nothing */
	assert_false(do_register(env, "u1", 3000));
	u = get(env, "u1");
	assert_int_equal(u.joined_ms, 2000);
	assert_string_equal(u.personal_pin, pin);

	/* suspended and activated once registered: Registered again */
	suspend(env, "u1", true);
	suspend(env, "u1", false);
	assert_string_equal(get(env, "u1").registration_status, TS_USER_REGISTERED);

	/* an invited user keeps the PIN the invitation gave */
	struct ts_user_row inv = {.user_id = "u2",
	                          .account_id = "acct-1",
	                          .user_name = "bob@example.com",
	                          .registration_status = TS_USER_UNREGISTERED,
	                          .license = "Pro",
	                          .personal_pin = "0000000001",
	                          .invited_ms = 1000,
	                          .created_ms = 1000};
	assert_int_equal(ts_store_dir_user_insert(env->c, &inv, "bob@example.com", &env->e),
	                 TS_ERR_OK);
	assert_true(do_register(env, "u2", 4000));
	u = get(env, "u2");
	assert_string_equal(u.personal_pin, "0000000001");
	assert_int_equal(u.joined_ms, 4000);
	assert_string_equal(u.registration_status, TS_USER_REGISTERED);

	/* an unknown user: nothing registered */
	assert_false(do_register(env, "nobody", 5000));
}

static void test_managed_by_identity_source(void **state)
{
	struct env *env = *state;
	bool managed = true;
	assert_int_equal(ts_directory_account_managed(env->c, "acct-1", &managed, &env->e),
	                 TS_ERR_OK);
	assert_false(managed);
	/* docs/product.md §4: an identity source makes the IdP the directory's source */
	struct ts_store_saml_config cfg = {.account_id = "acct-1",
	                                   .idp_entity_id = "urn:idp",
	                                   .metadata_xml = "<EntityDescriptor/>",
	                                   .created_ms = 1000,
	                                   .modified_ms = 1000};
	assert_int_equal(ts_store_saml_config_put(env->c, &cfg, &env->e), TS_ERR_OK);
	assert_int_equal(ts_directory_account_managed(env->c, "acct-1", &managed, &env->e),
	                 TS_ERR_OK);
	assert_true(managed);
	bool deleted = false;
	assert_int_equal(ts_store_saml_config_delete(env->c, "acct-1", &deleted, &env->e),
	                 TS_ERR_OK);
	assert_int_equal(ts_directory_account_managed(env->c, "acct-1", &managed, &env->e),
	                 TS_ERR_OK);
	assert_false(managed);
}

int main(void)
{
	if (ts_crypto_init() != TS_ERR_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_license_of_groups),
	        cmocka_unit_test(test_pin),
	        cmocka_unit_test(test_email_check),
	        cmocka_unit_test_setup_teardown(test_register_first_signin, store_setup,
	                                        store_teardown),
	        cmocka_unit_test_setup_teardown(test_managed_by_identity_source, store_setup,
	                                        store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
