/*
 * Unit tests of the admin API's wire shapes (src/admin/render_*.c): the
 * directory's structs rendered as the Chime JSON of docs/product.md §2, and the
 * AccountSettings body read back into a change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/render.h"
#include "directory/domain.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static struct ts_domain pending(void)
{
	return (struct ts_domain){.account_id = "a",
	                          .domain_name = "example.com",
	                          .status = TS_DOMAIN_PENDING,
	                          .token = "tessera-verification=abc",
	                          .created_ms = 1700000000000LL,
	                          .next_check_ms = 1700000000000LL};
}

/* Compact dump, members in insertion order: what the admin API answers. */
static void assert_dump(json_t *j, const char *want)
{
	char *got = json_dumps(j, JSON_COMPACT);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(j);
}

static void test_domain(void **state)
{
	(void)state;
	struct ts_domain d = pending();
	assert_dump(ts_admin_domain_json(&d),
	            "{\"DomainName\":\"example.com\",\"DomainStatus\":\"PendingVerification\","
	            "\"VerificationRecord\":{\"Type\":\"TXT\",\"Name\":\"_tessera-challenge."
	            "example.com\",\"Value\":\"tessera-verification=abc\"}}");
	d.status = TS_DOMAIN_VERIFIED;
	d.verified_ms = 1700000000000LL;
	d.last_error = "ignored once verified";
	json_t *j = ts_admin_domain_json(&d);
	assert_non_null(json_object_get(j, "VerifiedTimestamp"));
	assert_null(json_object_get(j, "LastCheckError"));
	json_decref(j);
}

/*
 * LastCheckError quotes what a DNS server answered, which need not be UTF-8:
 * the member is kept with the bad bytes escaped (json_string gave NULL and
 * the member was silently left out).
 */
static void test_domain_last_error_not_utf8(void **state)
{
	(void)state;
	struct ts_domain d = pending();
	d.last_error = "TXT record \"tessera-verification=\xff\xfe\" does not match";
	json_t *j = ts_admin_domain_json(&d);
	assert_string_equal(json_string_value(json_object_get(j, "LastCheckError")),
	                    "TXT record \"tessera-verification=\\xFF\\xFE\" does not match");
	json_decref(j);
}

static void test_settings_json(void **state)
{
	(void)state;
	struct ts_account_settings s = {0};
	assert_dump(ts_admin_account_settings_json(&s),
	            "{\"DisableRemoteControl\":false,\"EnableDialOut\":false,"
	            "\"ScimCompatibility\":\"permissive\",\"CaseInsensitiveIdentityMatch\":false,"
	            "\"AllowIdpInitiatedSignIn\":false}");
	s.enable_dial_out = true;
	s.scim_compatibility = TS_SCIM_PROFILE_AWS_STRICT;
	s.allow_idp_initiated_signin = true;
	assert_dump(ts_admin_account_settings_json(&s),
	            "{\"DisableRemoteControl\":false,\"EnableDialOut\":true,"
	            "\"ScimCompatibility\":\"aws-strict\",\"CaseInsensitiveIdentityMatch\":false,"
	            "\"AllowIdpInitiatedSignIn\":true}");
}

static void test_settings_parse(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		ts_err rc;
		const char *message; /* NULL: success */
		unsigned set;
	} cases[] = {
	        {"{}", TS_ERR_OK, NULL, 0},
	        {"{\"EnableDialOut\": true, \"ScimCompatibility\": \"aws-strict\"}", TS_ERR_OK,
	         NULL, (1u << TS_SETTING_ENABLE_DIAL_OUT) | (1u << TS_SETTING_SCIM_COMPATIBILITY)},
	        {"[]", TS_ERR_BAD_REQUEST, "AccountSettings must be an object", 0},
	        {"{\"EnableDialOut\": 1}", TS_ERR_BAD_REQUEST,
	         "EnableDialOut must be true or false", 0},
	        {"{\"ScimCompatibility\": \"strict\"}", TS_ERR_BAD_REQUEST,
	         "ScimCompatibility has an unsupported value", 0},
	        {"{\"ScimCompatibility\": true}", TS_ERR_BAD_REQUEST,
	         "ScimCompatibility has an unsupported value", 0},
	        {"{\"Bogus\": true}", TS_ERR_BAD_REQUEST, "unknown account setting Bogus", 0},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		json_t *body = json_loads(cases[i].body, 0, NULL);
		struct ts_account_settings_change ch;
		struct ts_error e = {0};
		assert_int_equal(ts_admin_account_settings_parse(body, &ch, &e), cases[i].rc);
		if (cases[i].message != NULL)
			assert_string_equal(e.message, cases[i].message);
		else
			assert_int_equal(ch.set, cases[i].set);
		json_decref(body);
	}
}

static void test_settings_of_stored_text(void **state)
{
	(void)state;
	struct ts_account acct = {
	        .settings = "{\"ScimCompatibility\":\"aws-strict\",\"EnableDialOut\":\"yes\","
	                    "\"CaseInsensitiveIdentityMatch\":true,\"Unknown\":1}"};
	struct ts_account_settings s;
	ts_directory_account_settings_of(&acct, &s);
	assert_int_equal(s.scim_compatibility, TS_SCIM_PROFILE_AWS_STRICT);
	assert_true(s.case_insensitive_identity_match);
	assert_false(s.enable_dial_out); /* a value of the wrong type reads as the default */
	acct.settings = "not json";
	ts_directory_account_settings_of(&acct, &s);
	assert_int_equal(s.scim_compatibility, TS_SCIM_PROFILE_PERMISSIVE);
	acct.settings = NULL;
	ts_directory_account_settings_of(&acct, &s);
	assert_false(s.case_insensitive_identity_match);
}

static void test_signin_check(void **state)
{
	(void)state;
	struct ts_signin_decision d = {
	        .allowed = false,
	        .license = TS_LICENSE_NONE,
	        .identity = "bob@example.com",
	        .first_failure = TS_SIGNIN_ACTIVE,
	};
	for (int i = 0; i < TS_SIGNIN__RULES; i++) {
		d.rules[i].rule = (enum ts_signin_rule)i;
		d.rules[i].name = ts_directory_signin_rule_name((enum ts_signin_rule)i);
		d.rules[i].passed = i == TS_SIGNIN_IDENTITY_MATCH;
		snprintf(d.rules[i].reason, sizeof d.rules[i].reason, "%s", i == 0 ? "ok" : "no");
	}
	assert_dump(ts_admin_signin_check_json(&d),
	            "{\"SignInCheck\":{\"Allowed\":false,\"LicenseType\":null,\"Identity\":"
	            "\"bob@example.com\",\"FirstFailure\":\"Active\",\"Rules\":["
	            "{\"Rule\":\"IdentityMatch\",\"Passed\":true,\"Reason\":\"ok\"},"
	            "{\"Rule\":\"Active\",\"Passed\":false,\"Reason\":\"no\"},"
	            "{\"Rule\":\"VerifiedDomain\",\"Passed\":false,\"Reason\":\"no\"},"
	            "{\"Rule\":\"LicensedGroup\",\"Passed\":false,\"Reason\":\"no\"}]}}");
}

static void test_invite_and_groups(void **state)
{
	(void)state;
	struct ts_user_invite inv = {.user_id = "u-1", .email = "a@example.com"};
	assert_dump(ts_admin_invite_json(&inv),
	            "{\"InviteId\":\"u-1\",\"UserId\":\"u-1\",\"Status\":\"Pending\","
	            "\"EmailAddress\":\"a@example.com\",\"EmailStatus\":\"NotSent\"}");
	struct ts_license_group g[] = {{.group_name = "eng", .license = "Pro"},
	                               {.group_name = "ops", .license = "Basic"}};
	assert_dump(ts_admin_license_groups_json(g, 2),
	            "[{\"GroupName\":\"eng\",\"LicenseType\":\"Pro\"},"
	            "{\"GroupName\":\"ops\",\"LicenseType\":\"Basic\"}]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_domain),
	        cmocka_unit_test(test_domain_last_error_not_utf8),
	        cmocka_unit_test(test_settings_json),
	        cmocka_unit_test(test_settings_parse),
	        cmocka_unit_test(test_settings_of_stored_text),
	        cmocka_unit_test(test_signin_check),
	        cmocka_unit_test(test_invite_and_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
