/*
 * Unit tests of sessions (src/directory/session.c) on a real SQLite store:
 * the token is shown once and only its hash is stored; validation refuses
 * revoked, expired, suspended, deactivated and deleted; the licence of a live
 * session is re-computed once it is older than TS_SESSION_LICENSE_RECHECK_MS,
 * and at once by ts_directory_session_recheck (in the caller's transaction);
 * a session carries its origin and the AWS roles offered, and a role is
 * chosen only among those offered.
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
#include "directory/session.h"
#include "directory/user.h"

struct env {
	char dir[64], path[96];
	ts_store_t *store;
	ts_store_conn_t *c;
	ts_arena_t *a;
};

static int setup(void **state)
{
	struct env *env = calloc(1, sizeof *env);
	snprintf(env->dir, sizeof env->dir, "/tmp/ts-session-XXXXXX");
	assert_non_null(mkdtemp(env->dir));
	snprintf(env->path, sizeof env->path, "%s/t.db", env->dir);
	struct ts_error e = {0};
	assert_int_equal(ts_store_open(env->path, true, NULL, &env->store, &e), TS_ERR_OK);
	assert_int_equal(ts_store_connect(env->store, &env->c, &e), TS_ERR_OK);
	assert_int_equal(ts_store_migrate(env->c, &e), TS_ERR_OK);
	env->a = ts_arena_new();
	struct ts_account acct = {"acct-1", "Acme", "Team", "Active", ts_now_ms(), "{}"};
	struct ts_user_row u = {.user_id = "user-1",
	                        .account_id = "acct-1",
	                        .user_name = "alice@example.com",
	                        .registration_status = "Registered",
	                        .license = "Pro",
	                        .created_ms = ts_now_ms()};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	assert_int_equal(ts_store_account_insert(env->c, &acct, &e), TS_ERR_OK);
	assert_int_equal(ts_store_dir_user_insert(env->c, &u, "alice@example.com", &e), TS_ERR_OK);
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
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

static const char *create(struct env *env, int64_t ttl, struct ts_session *s)
{
	const char *token = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	assert_int_equal(ts_directory_session_create(env->c, env->a, "acct-1", "user-1",
	                                             TS_SESSION_BROWSER, ttl, TS_LICENSE_PRO,
	                                             "test", &token, s, &e),
	                 TS_ERR_OK);
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	return token;
}

static ts_err validate(struct env *env, const char *token, int64_t at, struct ts_session_info *info)
{
	struct ts_error e = {0};
	return ts_directory_session_validate(env->c, env->a, token, at, info, &e);
}

static void in_tx(struct env *env, ts_err rc_of_write)
{
	(void)env;
	assert_int_equal(rc_of_write, TS_ERR_OK);
}

static void test_create_validate_revoke(void **state)
{
	struct env *env = *state;
	struct ts_session s;
	struct ts_session_info info;
	const char *token = create(env, 3600000, &s);
	assert_int_equal(strlen(token), TS_SESSION_TOKEN_LEN);
	assert_string_not_equal(s.token_hash, token); /* only the hash is stored */
	char hash[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex(token, strlen(token), hash);
	assert_string_equal(s.token_hash, hash);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_OK);
	assert_string_equal(info.user.user_id, "user-1");
	assert_string_equal(info.account.account_id, "acct-1");
	assert_int_equal(info.license, TS_LICENSE_PRO);
	/* a wrong token, a truncated one, nothing */
	char wrong[TS_SESSION_TOKEN_LEN + 1];
	memcpy(wrong, token, sizeof wrong);
	wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
	assert_int_equal(validate(env, wrong, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	assert_int_equal(validate(env, "tss_short", ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	assert_int_equal(validate(env, NULL, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	/* expired */
	assert_int_equal(validate(env, token, s.expires_ms, &info), TS_ERR_UNAUTHORIZED);
	/* revoke one: the other lives */
	struct ts_session s2;
	const char *token2 = create(env, 3600000, &s2);
	struct ts_error e = {0};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_directory_session_revoke(env->c, s.session_id, &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	assert_int_equal(validate(env, token2, ts_now_ms(), &info), TS_ERR_OK);
	/* revoke all */
	int64_t n = 0;
	const char *token3 = create(env, 3600000, NULL);
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_directory_session_revoke_all(env->c, "user-1", &n, &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(validate(env, token2, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	assert_int_equal(validate(env, token3, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
}

static void test_user_state_refuses(void **state)
{
	struct env *env = *state;
	struct ts_session_info info;
	struct ts_error e = {0};
	const char *token = create(env, 3600000, NULL);
	/* suspended: refused (suspension itself also revokes; here only the state changes) */
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env,
	      ts_store_dir_user_set_state(env->c, "user-1", true, "Suspended", ts_now_ms(), &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env,
	      ts_store_dir_user_set_state(env->c, "user-1", false, "Registered", ts_now_ms(), &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_OK);
	/* released */
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env,
	      ts_store_dir_user_set_state(env->c, "user-1", false, "Released", ts_now_ms(), &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	/* deleted: the session goes with the user */
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_store_dir_user_delete(env->c, "user-1", &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
}

static void test_license_lowered_within_a_minute(void **state)
{
	struct env *env = *state;
	struct ts_session s;
	struct ts_session_info info;
	struct ts_error e = {0};
	const char *token = create(env, 3600000, &s);
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_store_dir_user_set_license(env->c, "user-1", "Basic", ts_now_ms(), &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	/* before the re-check is due the session keeps what it was granted */
	assert_int_equal(validate(env, token, s.created_ms + 1000, &info), TS_ERR_OK);
	assert_int_equal(info.license, TS_LICENSE_PRO);
	/* a minute later it is lowered, and stored */
	int64_t later = s.created_ms + TS_SESSION_LICENSE_RECHECK_MS;
	assert_int_equal(validate(env, token, later, &info), TS_ERR_OK);
	assert_int_equal(info.license, TS_LICENSE_BASIC);
	assert_int_equal(info.session.license_checked_ms, later);
	assert_int_equal(validate(env, token, later + 1000, &info), TS_ERR_OK);
	assert_int_equal(info.license, TS_LICENSE_BASIC);
}

static ts_err recheck(struct env *env, const char *session_id, int64_t at,
                      struct ts_session_info *info)
{
	struct ts_error e = {0};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	ts_err rc = ts_directory_session_recheck(env->c, env->a, session_id, at, info, &e);
	/* committed either way: a refusal for the licence stores it, as validate does */
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	return rc;
}

static void test_recheck_follows_the_directory_at_once(void **state)
{
	struct env *env = *state;
	struct ts_session s;
	struct ts_session_info info;
	struct ts_error e = {0};
	const char *token = create(env, 3600000, &s);
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_store_dir_user_set_license(env->c, "user-1", "Basic", ts_now_ms(), &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	/* validate keeps the granted licence for a minute; the re-check does not wait */
	assert_int_equal(validate(env, token, s.created_ms + 1000, &info), TS_ERR_OK);
	assert_int_equal(info.license, TS_LICENSE_PRO);
	assert_int_equal(recheck(env, s.session_id, s.created_ms + 2000, &info), TS_ERR_OK);
	assert_int_equal(info.license, TS_LICENSE_BASIC);
	assert_string_equal(info.session.session_id, s.session_id);
	assert_string_equal(info.user.user_id, "user-1");
	assert_int_equal(info.session.expires_ms, s.expires_ms);
	/* and stored: validate sees it before its own re-check is due */
	assert_int_equal(validate(env, token, s.created_ms + 3000, &info), TS_ERR_OK);
	assert_int_equal(info.license, TS_LICENSE_BASIC);
	assert_int_equal(info.session.license_checked_ms, s.created_ms + 2000);
	/* a SCIM key makes the directory the IdP's: no group maps a tier, so no licence */
	struct ts_apikey k = {.api_key_id = "key-1",
	                      .account_id = "acct-1",
	                      .secret_hash = "00",
	                      .description = "okta",
	                      .created_ms = ts_now_ms()};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_store_apikey_insert(env->c, &k, &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(validate(env, token, s.created_ms + 4000, &info), TS_ERR_OK);
	assert_int_equal(recheck(env, s.session_id, s.created_ms + 5000, &info),
	                 TS_ERR_UNAUTHORIZED);
	assert_int_equal(info.license, TS_LICENSE_NONE);
	assert_int_equal(validate(env, token, s.created_ms + 6000, &info), TS_ERR_UNAUTHORIZED);
	/* unknown, expired and revoked sessions are refused as validate refuses them */
	assert_int_equal(recheck(env, "no-such-session", ts_now_ms(), &info), TS_ERR_UNAUTHORIZED);
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_store_apikey_delete(env->c, "acct-1", "key-1", &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	struct ts_session s2;
	(void)create(env, 3600000, &s2);
	assert_int_equal(recheck(env, s2.session_id, s2.created_ms + 1, &info), TS_ERR_OK);
	assert_int_equal(recheck(env, s2.session_id, s2.expires_ms, &info), TS_ERR_UNAUTHORIZED);
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_directory_session_revoke(env->c, s2.session_id, &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(recheck(env, s2.session_id, s2.created_ms + 1, &info),
	                 TS_ERR_UNAUTHORIZED);
}

#define DEV "arn:aws:iam::123456789012:role/Dev"
#define OPS "arn:aws:iam::123456789012:role/Ops"
#define IDP "arn:aws:iam::123456789012:saml-provider/Okta"
#define ROLES                                                                        \
	"[{\"RoleArn\":\"" DEV "\",\"ProviderArn\":\"" IDP "\"},{\"RoleArn\":\"" OPS \
	"\",\"ProviderArn\":\"" IDP "\"}]"

static ts_err create_from(struct env *env, const struct ts_session_origin *o, const char **token,
                          struct ts_session *s)
{
	struct ts_error e = {0};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	ts_err rc = ts_directory_session_create_from(env->c, env->a, "acct-1", "user-1",
	                                             TS_SESSION_BROWSER, 3600000, TS_LICENSE_PRO,
	                                             "test", o, token, s, &e);
	if (rc == TS_ERR_OK)
		assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	else
		ts_store_rollback(env->c);
	return rc;
}

static ts_err set_role(struct env *env, const char *session_id, const char *role,
                       const char *provider, int64_t now)
{
	struct ts_error e = {0};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	ts_err rc =
	        ts_directory_session_set_role(env->c, env->a, session_id, role, provider, now, &e);
	if (rc == TS_ERR_OK)
		assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	else
		ts_store_rollback(env->c);
	return rc;
}

static void test_origin_and_role(void **state)
{
	struct env *env = *state;
	const char *token = NULL;
	struct ts_session s;
	struct ts_session_info info;
	struct ts_session_origin o = {.origin = TS_SESSION_ORIGIN_SAML,
	                              .roles_json = ROLES,
	                              .role_session_name = "alice"};
	assert_int_equal(create_from(env, &o, &token, &s), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_OK);
	assert_string_equal(info.session.origin, "saml");
	assert_string_equal(info.session.roles_json, ROLES);
	assert_string_equal(info.session.role_session_name, "alice");
	assert_null(info.session.role_arn);
	assert_null(info.session.provider_arn);

	/* a pair not offered: refused, nothing chosen */
	assert_int_equal(set_role(env, s.session_id, DEV,
	                          "arn:aws:iam::999999999999:saml-provider/X", ts_now_ms()),
	                 TS_ERR_FORBIDDEN);
	assert_int_equal(
	        set_role(env, s.session_id, "arn:aws:iam::123456789012:role/dev", IDP, ts_now_ms()),
	        TS_ERR_FORBIDDEN); /* compared exactly */
	assert_int_equal(set_role(env, s.session_id, DEV, NULL, ts_now_ms()), TS_ERR_BAD_REQUEST);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_OK);
	assert_null(info.session.role_arn);
	/* one offered: chosen, and validation returns it */
	assert_int_equal(set_role(env, s.session_id, OPS, IDP, ts_now_ms()), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_OK);
	assert_string_equal(info.session.role_arn, OPS);
	assert_string_equal(info.session.provider_arn, IDP);
	/* an unknown, an expired, a revoked session */
	assert_int_equal(set_role(env, "no-such-session", OPS, IDP, ts_now_ms()), TS_ERR_NOT_FOUND);
	assert_int_equal(set_role(env, s.session_id, DEV, IDP, s.expires_ms), TS_ERR_NOT_FOUND);
	struct ts_error e = {0};
	assert_int_equal(ts_store_begin(env->c, true, &e), TS_ERR_OK);
	in_tx(env, ts_directory_session_revoke(env->c, s.session_id, &e));
	assert_int_equal(ts_store_commit(env->c, &e), TS_ERR_OK);
	assert_int_equal(set_role(env, s.session_id, DEV, IDP, ts_now_ms()), TS_ERR_NOT_FOUND);

	/* a session offered no role has none to choose */
	struct ts_session_origin oidc = {.origin = TS_SESSION_ORIGIN_OIDC};
	assert_int_equal(create_from(env, &oidc, &token, &s), TS_ERR_OK);
	assert_int_equal(set_role(env, s.session_id, DEV, IDP, ts_now_ms()), TS_ERR_FORBIDDEN);
	/* the old entry point: no origin */
	token = create(env, 3600000, &s);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_OK);
	assert_null(info.session.origin);
	assert_null(info.session.roles_json);

	/* chosen at creation (one role offered): it must be one of them */
	struct ts_session_origin one = {.origin = TS_SESSION_ORIGIN_SAML,
	                                .roles_json = ROLES,
	                                .role_arn = DEV,
	                                .provider_arn = IDP};
	assert_int_equal(create_from(env, &one, &token, &s), TS_ERR_OK);
	assert_int_equal(validate(env, token, ts_now_ms(), &info), TS_ERR_OK);
	assert_string_equal(info.session.role_arn, DEV);
	one.provider_arn = "arn:aws:iam::1:saml-provider/Other";
	assert_int_equal(create_from(env, &one, &token, &s), TS_ERR_BAD_REQUEST);
	assert_null(token);
}

static void test_origin_refused(void **state)
{
	struct env *env = *state;
	const char *token = NULL;
	struct ts_session s;
	static const char *const bad_roles[] = {
	        "{}",
	        "[1]",
	        "[{\"RoleArn\":\"" DEV "\"}]",
	        "[{\"RoleArn\":\"" DEV "\",\"ProviderArn\":7}]",
	        "[{\"RoleArn\":\"\",\"ProviderArn\":\"" IDP "\"}]",
	        "[{\"RoleArn\":\"" DEV "\",\"ProviderArn\":\"" IDP "\",\"x\":1}]",
	        "[{\"RoleArn\":\"" DEV "\",\"ProviderArn\":\"" IDP "\"}",
	};
	for (size_t i = 0; i < sizeof bad_roles / sizeof bad_roles[0]; i++) {
		struct ts_session_origin o = {.origin = "saml", .roles_json = bad_roles[i]};
		if (create_from(env, &o, &token, &s) != TS_ERR_BAD_REQUEST)
			fail_msg("roles %s were taken", bad_roles[i]);
	}
	struct ts_session_origin o = {.origin = "password"};
	assert_int_equal(create_from(env, &o, &token, &s), TS_ERR_BAD_REQUEST);
	o = (struct ts_session_origin){.origin = "saml", .role_arn = DEV};
	assert_int_equal(create_from(env, &o, &token, &s), TS_ERR_BAD_REQUEST);
	o = (struct ts_session_origin){.origin = "saml", .role_arn = DEV, .provider_arn = IDP};
	assert_int_equal(create_from(env, &o, &token, &s), TS_ERR_BAD_REQUEST); /* none offered */
	char name[TS_SESSION_ROLE_SESSION_NAME_MAX + 2];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	o = (struct ts_session_origin){.origin = "saml", .role_session_name = name};
	assert_int_equal(create_from(env, &o, &token, &s), TS_ERR_BAD_REQUEST);
	name[TS_SESSION_ROLE_SESSION_NAME_MAX] = '\0';
	assert_int_equal(create_from(env, &o, &token, &s), TS_ERR_OK);
	/* more roles than a session is offered */
	ts_arena_t *a = ts_arena_new();
	char *many = ts_arena_printf(a, "[");
	for (int i = 0; i <= TS_SESSION_ROLES_MAX; i++)
		many = ts_arena_printf(a, "%s%s{\"RoleArn\":\"%s%d\",\"ProviderArn\":\"%s\"}", many,
		                       i ? "," : "", DEV, i, IDP);
	many = ts_arena_printf(a, "%s]", many);
	o = (struct ts_session_origin){.origin = "saml", .roles_json = many};
	assert_int_equal(create_from(env, &o, &token, &s), TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

int main(void)
{
	if (ts_crypto_init() != TS_ERR_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_create_validate_revoke, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_user_state_refuses, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_license_lowered_within_a_minute, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_recheck_follows_the_directory_at_once, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_origin_and_role, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_origin_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
