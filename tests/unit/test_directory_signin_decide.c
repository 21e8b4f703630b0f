/*
 * Unit tests of the sign-in decision with the store's data
 * (src/directory/signin_decide.c) on a real SQLite store: the pure rules
 * (test_signin.c) fed by the loaders, the account's case setting, the
 * administrator's check for one user, and the input fields the protocols
 * bring passed through to the decision.
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

#include "core/timeutil.h"
#include "directory/account.h"
#include "directory/groups.h"
#include "directory/signin_decide.h"

struct env {
	char dir[64], path[96];
	ts_store_t *store;
	ts_store_conn_t *c;
	ts_arena_t *a;
	struct ts_error e;
};

#define OK(expr) assert_int_equal((expr), TS_ERR_OK)

static void add_user(struct env *env, const char *id, const char *name)
{
	struct ts_user_row u = {.user_id = id,
	                        .account_id = "acct-1",
	                        .user_name = name,
	                        .registration_status = "Registered",
	                        .created_ms = ts_now_ms()};
	OK(ts_store_dir_user_insert(env->c, &u, name, &env->e));
}

static int setup(void **state)
{
	struct env *env = calloc(1, sizeof *env);
	snprintf(env->dir, sizeof env->dir, "/tmp/ts-decide-XXXXXX");
	assert_non_null(mkdtemp(env->dir));
	snprintf(env->path, sizeof env->path, "%s/t.db", env->dir);
	OK(ts_store_open(env->path, true, NULL, &env->store, &env->e));
	OK(ts_store_connect(env->store, &env->c, &env->e));
	OK(ts_store_migrate(env->c, &env->e));
	env->a = ts_arena_new();
	int64_t now = ts_now_ms();
	struct ts_account acct = {"acct-1", "Acme", "Enterprise", "Active", now, "{}"};
	struct ts_domain d = {.account_id = "acct-1",
	                      .domain_name = "example.com",
	                      .status = "Verified",
	                      .token = "tessera-verification=x",
	                      .created_ms = now,
	                      .verified_ms = now,
	                      .next_check_ms = now};
	struct ts_group_row g = {.group_id = "g-1",
	                         .account_id = "acct-1",
	                         .display_name = "eng",
	                         .resource = "{}",
	                         .version = 1,
	                         .created_ms = now,
	                         .modified_ms = now};
	const struct ts_license_mapping pro = {"eng", TS_LICENSE_PRO};
	OK(ts_store_begin(env->c, true, &env->e));
	OK(ts_store_account_insert(env->c, &acct, &env->e));
	OK(ts_store_domain_insert(env->c, &d, &env->e));
	add_user(env, "u-alice", "alice@example.com");
	add_user(env, "u-bob", "bob@example.com");
	OK(ts_store_group_insert(env->c, &g, &env->e));
	OK(ts_store_group_members_add(env->c, "g-1", "[\"u-alice\"]", &env->e));
	OK(ts_directory_groups_put(env->c, env->a, "acct-1", &pro, 1, &env->e));
	OK(ts_store_commit(env->c, &env->e));
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;
	ts_arena_free(&env->a);
	ts_store_disconnect(&env->c);
	ts_store_free(&env->store);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", env->dir);
	assert_int_equal(system(cmd), 0);
	free(env);
	return 0;
}

static ts_err decide(struct env *env, const struct ts_signin_assertion *in, const char *for_user,
                     struct ts_signin_decision *out)
{
	OK(ts_store_begin(env->c, false, &env->e));
	ts_err rc =
	        ts_directory_signin_decide(env->c, env->a, "acct-1", in, for_user, out, &env->e);
	ts_store_rollback(env->c);
	return rc;
}

static void test_saml_allowed(void **state)
{
	struct env *env = *state;
	const struct ts_signin_aws_role roles[] = {
	        {"arn:aws:iam::1:role/R", "arn:aws:iam::1:saml-provider/P"}};
	struct ts_signin_assertion in = {.via = TS_SIGNIN_VIA_SAML,
	                                 .identity = "alice@example.com",
	                                 .issuer = "https://idp.example.com",
	                                 .subject = "alice@example.com",
	                                 .roles = roles,
	                                 .n_roles = 1};
	struct ts_signin_decision d;
	OK(decide(env, &in, NULL, &d));
	assert_true(d.allowed);
	assert_int_equal(d.license, TS_LICENSE_PRO);
	assert_non_null(d.user);
	assert_string_equal(d.user->user_id, "u-alice");
	assert_string_equal(d.user->account_id, "acct-1");
	assert_string_equal(d.identity, "alice@example.com");
	assert_int_equal(d.first_failure, TS_SIGNIN__RULES);
	assert_ptr_equal(d.assertion, &in);
	for (int i = 0; i < TS_SIGNIN__RULES; i++) {
		assert_true(d.rules[i].passed);
		assert_string_equal(d.rules[i].name,
		                    ts_directory_signin_rule_name((enum ts_signin_rule)i));
	}
}

static void test_refusals(void **state)
{
	struct env *env = *state;
	struct ts_signin_decision d;
	/* bob is in no mapped group: rule 5 */
	struct ts_signin_assertion in = {.via = TS_SIGNIN_VIA_OIDC, .identity = "bob@example.com"};
	OK(decide(env, &in, NULL, &d));
	assert_false(d.allowed);
	assert_int_equal(d.license, TS_LICENSE_NONE);
	assert_string_equal(d.user->user_id, "u-bob");
	assert_int_equal(d.first_failure, TS_SIGNIN_LICENSED_GROUP);
	/* an empty identity outside the check: rule 2, nobody matched */
	in.identity = "";
	OK(decide(env, &in, NULL, &d));
	assert_false(d.allowed);
	assert_null(d.user);
	assert_int_equal(d.first_failure, TS_SIGNIN_IDENTITY_MATCH);
	assert_false(d.rules[TS_SIGNIN_ACTIVE].evaluated);
	/* no such account */
	OK(ts_store_begin(env->c, false, &env->e));
	assert_int_equal(
	        ts_directory_signin_decide(env->c, env->a, "acct-x", &in, NULL, &d, &env->e),
	        TS_ERR_NOT_FOUND);
	ts_store_rollback(env->c);
}

static void test_case_setting(void **state)
{
	struct env *env = *state;
	struct ts_signin_decision d;
	struct ts_signin_assertion in = {.via = TS_SIGNIN_VIA_SAML,
	                                 .identity = "Alice@Example.com"};
	OK(decide(env, &in, NULL, &d));
	assert_false(d.allowed);
	assert_int_equal(d.first_failure, TS_SIGNIN_IDENTITY_MATCH);
	struct ts_account_settings_change ch = {.set = 1u << TS_SETTING_CASE_INSENSITIVE_MATCH,
	                                        .to = {.case_insensitive_identity_match = true}};
	OK(ts_store_begin(env->c, true, &env->e));
	OK(ts_directory_account_settings_update(env->c, env->a, "acct-1", &ch, &env->e));
	OK(ts_store_commit(env->c, &env->e));
	OK(decide(env, &in, NULL, &d));
	assert_true(d.allowed);
	assert_string_equal(d.user->user_id, "u-alice");
}

static void test_check_for_one_user(void **state)
{
	struct env *env = *state;
	struct ts_signin_decision d;
	/* without an address: the user's primary one */
	struct ts_signin_assertion in = {.via = TS_SIGNIN_VIA_CHECK};
	OK(decide(env, &in, "u-alice", &d));
	assert_true(d.allowed);
	assert_string_equal(d.identity, "alice@example.com");
	/* alice's address asked about bob: it signs in someone else */
	in.identity = "alice@example.com";
	OK(decide(env, &in, "u-bob", &d));
	assert_false(d.allowed);
	assert_null(d.user);
	assert_int_equal(d.first_failure, TS_SIGNIN_IDENTITY_MATCH);
	assert_non_null(strstr(d.rules[TS_SIGNIN_IDENTITY_MATCH].reason, "another user (u-alice)"));
	assert_false(d.rules[TS_SIGNIN_LICENSED_GROUP].evaluated);
	/* an unknown user */
	assert_int_equal(decide(env, &in, "u-nobody", &d), TS_ERR_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_saml_allowed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_case_setting, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_check_for_one_user, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
