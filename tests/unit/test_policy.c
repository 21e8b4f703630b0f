/*
 * Unit tests of the admin policy engine (src/admin/policy.c): the managed
 * policies against the Chime guide's table, evaluation (Deny over Allow, wildcards,
 * case, account scoping, NotAction/NotResource), validation of every
 * malformed shape, and the caps. The expected managed sets below are written
 * out from the Amazon Chime administration guide ("Amazon Chime Actions") independently of the
 * implementation's table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/policy.h"
#include "core/alloc.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ARN(id) "arn:tessera:::account/" id
#define DOC(stmts) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"
#define ST(effect, action, resource) \
	"{\"Effect\":\"" effect "\",\"Action\":" action ",\"Resource\":" resource "}"

/* ---- the Chime guide's table, column by column ---- */

/* Every row of "Amazon Chime Actions", with chime: renamed tessera:. */
static const char *const table_all[] = {
        /* Accounts */
        "tessera:CreateAccount", "tessera:RenameAccount", "tessera:GetAccountSettings",
        "tessera:UpdateAccountSettings", "tessera:ListAccounts", "tessera:GetAccount",
        "tessera:DeleteAccount",
        /* Users */
        "tessera:ListUsers", "tessera:GetUser", "tessera:GetUserByEmail", "tessera:InviteUsers",
        "tessera:SuspendUsers", "tessera:ActivateUsers", "tessera:UpdateUserLicenses",
        "tessera:ResetPersonalPin", "tessera:LogoutUser",
        /* Reports */
        "tessera:ListAccountUsageReportData", "tessera:GetUserActivityReportData",
        "tessera:GetMeetingDetail", "tessera:ListMeetingEvents", "tessera:ListMeetingReportData",
        /* Domains */
        "tessera:ListDomains", "tessera:AddDomain", "tessera:GetDomain", "tessera:DeleteDomain",
        /* Active Directory */
        "tessera:AuthorizeDirectory", "tessera:UnauthorizeDirectory", "tessera:ListDirectories",
        "tessera:ConnectDirectory", "tessera:DisconnectDirectory",
        /* Okta */
        "tessera:ListApiKeys", "tessera:CreateApiKey", "tessera:DeleteApiKey",
        "tessera:GetAccountWithOpenIdConfig", "tessera:UpdateAccountOpenIdConfig",
        "tessera:DeleteAccountOpenIdConfig",
        /* Directory groups */
        "tessera:ListGroups", "tessera:AddOrUpdateGroups", "tessera:DeleteGroups",
        /* Support */
        "tessera:SubmitSupportRequest",
        /* Delegation */
        "tessera:AcceptDelegate", "tessera:ValidateDelegate", "tessera:ListDelegates",
        "tessera:DeleteDelegate",
        /* SAML identity source (docs/saml.md) */
        "tessera:PutSamlConfig", "tessera:GetSamlConfig", "tessera:DeleteSamlConfig",
        "tessera:RotateSamlSpKey",
        /* access after sign-in (SPEC §8, docs/access.md) */
        "tessera:CreateTarget", "tessera:ListTargets", "tessera:GetTarget", "tessera:UpdateTarget",
        "tessera:DeleteTarget", "tessera:CreatePermissionSet", "tessera:ListPermissionSets",
        "tessera:GetPermissionSet", "tessera:UpdatePermissionSet", "tessera:DeletePermissionSet",
        "tessera:CreateAssignment", "tessera:ListAssignments", "tessera:GetAssignment",
        "tessera:UpdateAssignment", "tessera:DeleteAssignment"};

/* The rows whose "Managed Policy" column names UM. */
static const char *const table_um[] = {
        "tessera:GetAccountSettings",
        "tessera:UpdateAccountSettings",
        "tessera:ListAccounts",
        "tessera:GetAccount",
        "tessera:ListUsers",
        "tessera:GetUser",
        "tessera:GetUserByEmail",
        "tessera:InviteUsers",
        "tessera:SuspendUsers",
        "tessera:ActivateUsers",
        "tessera:UpdateUserLicenses",
        "tessera:ResetPersonalPin",
        "tessera:LogoutUser",
        "tessera:ListAccountUsageReportData",
        "tessera:GetUserActivityReportData",
        "tessera:GetMeetingDetail",
        "tessera:ListMeetingEvents",
        "tessera:ListMeetingReportData",
        "tessera:ListDomains",
        "tessera:GetDomain",
        "tessera:ListDirectories",
        "tessera:ListGroups",
        "tessera:SubmitSupportRequest",
        "tessera:ListDelegates",
        "tessera:GetSamlConfig",
        "tessera:ListTargets",
        "tessera:GetTarget",
        "tessera:ListPermissionSets",
        "tessera:GetPermissionSet",
        "tessera:ListAssignments",
        "tessera:GetAssignment",
};

/* The rows whose column names RO. */
static const char *const table_ro[] = {
        "tessera:GetAccountSettings",
        "tessera:ListAccounts",
        "tessera:GetAccount",
        "tessera:ListUsers",
        "tessera:GetUser",
        "tessera:GetUserByEmail",
        "tessera:ListAccountUsageReportData",
        "tessera:GetUserActivityReportData",
        "tessera:ListDomains",
        "tessera:GetDomain",
        "tessera:ListDirectories",
        "tessera:ListGroups",
        "tessera:ListDelegates",
        "tessera:GetSamlConfig",
        "tessera:ListTargets",
        "tessera:GetTarget",
        "tessera:ListPermissionSets",
        "tessera:GetPermissionSet",
        "tessera:ListAssignments",
        "tessera:GetAssignment",
};

/* Tessera's own actions outside the table: in no managed policy. */
static const char *const extras[] = {
        "tessera:CreateAdminKey", "tessera:ListAdminKeys", "tessera:DeleteAdminKey",
        "tessera:LookupEvents",   "tessera:DeleteUser",
};

/* Names that are not Tessera actions at all. */
static const char *const strangers[] = {
        "tessera:UpdateAccount", "tessera:GetAccountResource", "chime:GetUser", "tessera:", "",
};

static bool in(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], s) == 0)
			return true;
	}
	return false;
}

static ts_policy_set_t *parse_ok(const char *text)
{
	ts_policy_set_t *p = NULL;
	struct ts_error e = {0};
	ts_err rc = ts_admin_policy_parse_text(text, &p, &e);
	if (rc != TS_ERR_OK)
		fail_msg("unexpected parse failure: %s\n  for: %.300s", e.message, text);
	assert_non_null(p);
	return p;
}

/* ---- managed policies ---- */

static void test_table_shape(void **state)
{
	(void)state;
	/* the guide's 44, the SAML rows and the 15 of access after sign-in */
	assert_int_equal(ARRAY_LEN(table_all), 63);
	assert_int_equal(ARRAY_LEN(table_um), 31);
	assert_int_equal(ARRAY_LEN(table_ro), 20);
	/* RO within UM within FA, as the guide describes them */
	for (size_t i = 0; i < ARRAY_LEN(table_ro); i++)
		assert_true(in(table_um, ARRAY_LEN(table_um), table_ro[i]));
	for (size_t i = 0; i < ARRAY_LEN(table_um); i++)
		assert_true(in(table_all, ARRAY_LEN(table_all), table_um[i]));
}

static void test_known_actions(void **state)
{
	(void)state;
	size_t n = 0;
	for (; ts_admin_actions[n] != NULL; n++) {
		bool ours = in(table_all, ARRAY_LEN(table_all), ts_admin_actions[n]) ||
		            in(extras, ARRAY_LEN(extras), ts_admin_actions[n]);
		if (!ours)
			fail_msg("unexpected action %s in ts_admin_actions", ts_admin_actions[n]);
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(ts_admin_actions[j], ts_admin_actions[n]);
	}
	assert_int_equal(n, ARRAY_LEN(table_all) + ARRAY_LEN(extras));
	for (size_t i = 0; i < ARRAY_LEN(table_all); i++)
		assert_true(ts_admin_action_known(table_all[i]));
	for (size_t i = 0; i < ARRAY_LEN(extras); i++)
		assert_true(ts_admin_action_known(extras[i]));
	for (size_t i = 0; i < ARRAY_LEN(strangers); i++)
		assert_false(ts_admin_action_known(strangers[i]));
	assert_true(ts_admin_action_known("TESSERA:getaccount"));
	assert_false(ts_admin_action_known(NULL));
}

struct managed_case {
	const char *name;
	const char *const *grants;
	size_t n;
};

static void check_managed(const char *spec, const struct managed_case *mc)
{
	ts_policy_set_t *p = parse_ok(spec);
	const char *resources[] = {NULL, "*", ARN("123"), ARN("other")};
	for (size_t r = 0; r < ARRAY_LEN(resources); r++) {
		for (size_t i = 0; i < ARRAY_LEN(table_all); i++) {
			enum ts_policy_decision want = in(mc->grants, mc->n, table_all[i])
			                                       ? TS_POLICY_ALLOW
			                                       : TS_POLICY_IMPLICIT_DENY;
			enum ts_policy_decision got =
			        ts_admin_policy_evaluate(p, table_all[i], resources[r]);
			if (got != want)
				fail_msg("%s: %s on %s: got %d, want %d", mc->name, table_all[i],
				         resources[r] ? resources[r] : "(none)", got, want);
		}
		for (size_t i = 0; i < ARRAY_LEN(extras); i++)
			assert_int_equal(ts_admin_policy_evaluate(p, extras[i], resources[r]),
			                 TS_POLICY_IMPLICIT_DENY);
		for (size_t i = 0; i < ARRAY_LEN(strangers); i++)
			assert_int_equal(ts_admin_policy_evaluate(p, strangers[i], resources[r]),
			                 TS_POLICY_IMPLICIT_DENY);
	}
	ts_admin_policy_free(&p);
	assert_null(p);
}

static const struct managed_case managed_cases[] = {
        {"FullAccess", table_all, ARRAY_LEN(table_all)},
        {"UserManagement", table_um, ARRAY_LEN(table_um)},
        {"ReadOnly", table_ro, ARRAY_LEN(table_ro)},
};

static void test_managed_by_name(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(managed_cases); m++) {
		char spec[64];
		snprintf(spec, sizeof spec, "[\"%s\"]", managed_cases[m].name);
		check_managed(spec, &managed_cases[m]);
	}
}

static void test_managed_documents(void **state)
{
	(void)state;
	for (size_t m = 0; m < ARRAY_LEN(managed_cases); m++) {
		const char *doc = ts_admin_policy_managed(managed_cases[m].name);
		assert_non_null(doc);
		/* the static text is itself a valid policy document */
		check_managed(doc, &managed_cases[m]);
		/* and names no action outside the table */
		for (size_t i = 0; i < ARRAY_LEN(extras); i++) {
			char quoted[64];
			snprintf(quoted, sizeof quoted, "\"%s\"", extras[i]);
			assert_null(strstr(doc, quoted));
		}
		assert_null(strstr(doc, "tessera:*"));
	}
	assert_null(ts_admin_policy_managed("fullaccess"));
	assert_null(ts_admin_policy_managed("AmazonChimeFullAccess"));
	assert_null(ts_admin_policy_managed(""));
	assert_null(ts_admin_policy_managed(NULL));
}

static void test_managed_union_lacks_extras(void **state)
{
	(void)state;
	ts_policy_set_t *p = parse_ok("[\"ReadOnly\",\"UserManagement\",\"FullAccess\"]");
	for (size_t i = 0; i < ARRAY_LEN(table_all); i++)
		assert_int_equal(ts_admin_policy_evaluate(p, table_all[i], NULL), TS_POLICY_ALLOW);
	for (size_t i = 0; i < ARRAY_LEN(extras); i++) {
		assert_int_equal(ts_admin_policy_evaluate(p, extras[i], NULL),
		                 TS_POLICY_IMPLICIT_DENY);
		assert_false(ts_admin_policy_allows_some(p, extras[i]));
	}
	ts_admin_policy_free(&p);

	/* only a wildcard policy grants them */
	p = parse_ok(DOC(ST("Allow", "\"tessera:*\"", "\"*\"")));
	for (size_t i = 0; i < ARRAY_LEN(extras); i++)
		assert_int_equal(ts_admin_policy_evaluate(p, extras[i], NULL), TS_POLICY_ALLOW);
	ts_admin_policy_free(&p);
}

/* ---- evaluation ---- */

#define A TS_POLICY_ALLOW
#define I TS_POLICY_IMPLICIT_DENY
#define D TS_POLICY_EXPLICIT_DENY

struct eval_case {
	const char *policy;
	const char *action;
	const char *resource;
	enum ts_policy_decision want;
};

#define P_LISTUSERS DOC(ST("Allow", "[\"tessera:ListUsers\"]", "\"*\""))
#define P_GETSTAR DOC(ST("Allow", "[\"tessera:ListUsers\",\"tessera:Get*\"]", "\"*\""))
#define P_LISTSTAR DOC(ST("Allow", "\"tessera:List*\"", "\"*\""))
#define P_STAR DOC(ST("Allow", "\"*\"", "\"*\""))
#define P_QUEST DOC(ST("Allow", "[\"tessera:Get?ser\",\"tessera:??leteDomain\"]", "\"*\""))
#define P_UPPER DOC(ST("Allow", "[\"TESSERA:listusers\",\"Tessera:GET*\"]", "\"*\""))
#define P_CHIME DOC(ST("Allow", "[\"chime:GetUser\",\"chime:*\"]", "\"*\""))
#define P_DENY_ONE \
	DOC(ST("Allow", "\"*\"", "\"*\"") "," ST("Deny", "\"tessera:DeleteAccount\"", "\"*\""))
#define P_DENY_FIRST \
	DOC(ST("Deny", "\"tessera:delete*\"", "\"*\"") "," ST("Allow", "\"tessera:*\"", "\"*\""))
#define P_DENY_ACROSS "[\"FullAccess\"," DOC(ST("Deny", "\"tessera:Delete*\"", "\"*\"")) "]"
#define P_DENY_ONLY DOC(ST("Deny", "\"tessera:DeleteAccount\"", "\"*\""))
#define P_ACCOUNT_A DOC(ST("Allow", "\"tessera:GetAccount\"", "\"" ARN("A") "\""))
#define P_ACCOUNT_ANY DOC(ST("Allow", "\"tessera:Get*\"", "\"" ARN("*") "\""))
#define P_ACCOUNT_Q DOC(ST("Allow", "\"*\"", "[\"" ARN("a?") "\",\"" ARN("c") "\"]"))
#define P_DENY_B DOC(ST("Allow", "\"*\"", "\"*\"") "," ST("Deny", "\"*\"", "\"" ARN("B") "\""))
#define P_NOTACTION \
	DOC("{\"Effect\":\"Allow\",\"NotAction\":\"tessera:Delete*\",\"Resource\":\"*\"}")
#define P_DENY_NOTACTION                                                          \
	DOC(ST("Allow", "\"*\"",                                                  \
	       "\"*\"") ",{\"Effect\":\"Deny\",\"NotAction\":[\"tessera:Get*\"]," \
	                "\"Resource\":\"*\"}")
#define P_NOTRESOURCE \
	DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"NotResource\":\"" ARN("B") "\"}")
#define P_SINGLE_STMT                                                                      \
	"{\"Version\":\"2008-10-17\",\"Statement\":{\"Sid\":\"One\",\"Effect\":\"Allow\"," \
	"\"Action\":\"tessera:GetUser\",\"Resource\":\"*\"}}"
#define P_MULTISTAR DOC(ST("Allow", "[\"tessera:*User*\"]", "\"*\""))
#define P_ENDANCHOR DOC(ST("Allow", "[\"tessera:*User\"]", "\"*\""))
#define P_STARSTAR DOC(ST("Allow", "\"tessera:ListAccounts\"", "\"**\""))

static const struct eval_case eval_cases[] = {
        /* exact action */
        {P_LISTUSERS, "tessera:ListUsers", NULL, A},
        {P_LISTUSERS, "tessera:ListUsers", ARN("A"), A},
        {P_LISTUSERS, "tessera:GetUser", NULL, I},
        {P_LISTUSERS, "tessera:ListUsersX", NULL, I},
        {P_LISTUSERS, "tessera:ListUser", NULL, I},
        /* trailing-star wildcard */
        {P_GETSTAR, "tessera:GetUser", NULL, A},
        {P_GETSTAR, "tessera:GetAccountSettings", NULL, A},
        {P_GETSTAR, "tessera:ListUsers", NULL, A},
        {P_GETSTAR, "tessera:ListAccounts", NULL, I},
        {P_GETSTAR, "tessera:Ge", NULL, I},
        {P_LISTSTAR, "tessera:ListAccounts", NULL, A},
        {P_LISTSTAR, "tessera:ListDelegates", ARN("A"), A},
        {P_LISTSTAR, "tessera:DeleteAccount", NULL, I},
        {P_LISTSTAR, "tessera:GetAccount", NULL, I},
        /* "*" matches every action, Tessera's own included */
        {P_STAR, "tessera:CreateAdminKey", NULL, A},
        {P_STAR, "tessera:DeleteAccount", ARN("A"), A},
        {P_STAR, "tessera:LookupEvents", "*", A},
        /* '?' is exactly one character */
        {P_QUEST, "tessera:GetUser", NULL, A},
        {P_QUEST, "tessera:GetUserByEmail", NULL, I},
        {P_QUEST, "tessera:DeleteDomain", NULL, A},
        {P_QUEST, "tessera:eleteDomain", NULL, I},
        /* actions are case-insensitive, both sides */
        {P_UPPER, "tessera:ListUsers", NULL, A},
        {P_UPPER, "tessera:GetDomain", NULL, A},
        {P_LISTUSERS, "TESSERA:LISTUSERS", NULL, A},
        {P_LISTUSERS, "tessera:listusers", NULL, A},
        {P_LISTSTAR, "Tessera:listaccounts", NULL, A},
        /* another service's actions never match ours */
        {P_CHIME, "tessera:GetUser", NULL, I},
        {P_CHIME, "chime:GetUser", NULL, A},
        /* explicit Deny wins, wherever it stands */
        {P_DENY_ONE, "tessera:DeleteAccount", NULL, D},
        {P_DENY_ONE, "tessera:DeleteAccount", ARN("A"), D},
        {P_DENY_ONE, "tessera:GetAccount", NULL, A},
        {P_DENY_FIRST, "tessera:DeleteDomain", NULL, D},
        {P_DENY_FIRST, "tessera:AddDomain", NULL, A},
        {P_DENY_ACROSS, "tessera:DeleteDomain", ARN("A"), D},
        {P_DENY_ACROSS, "tessera:AddDomain", ARN("A"), A},
        {P_DENY_ACROSS, "tessera:CreateAdminKey", NULL, I},
        {P_DENY_ONLY, "tessera:DeleteAccount", NULL, D},
        {P_DENY_ONLY, "tessera:GetAccount", NULL, I},
        /* account scoping */
        {P_ACCOUNT_A, "tessera:GetAccount", ARN("A"), A},
        {P_ACCOUNT_A, "tessera:GetAccount", ARN("B"), I},
        {P_ACCOUNT_A, "tessera:GetAccount", ARN("AB"), I},
        {P_ACCOUNT_A, "tessera:GetAccount", ARN("a"), I}, /* resources are case-sensitive */
        {P_ACCOUNT_A, "tessera:GetAccount", NULL, I},
        {P_ACCOUNT_A, "tessera:GetAccount", "*", I},
        {P_ACCOUNT_A, "tessera:DeleteAccount", ARN("A"), I},
        {P_ACCOUNT_ANY, "tessera:GetAccount", ARN("A"), A},
        {P_ACCOUNT_ANY, "tessera:GetUser", ARN("B"), A},
        {P_ACCOUNT_ANY, "tessera:GetAccount", NULL, I},
        {P_ACCOUNT_ANY, "tessera:GetAccount", "arn:tessera:::other/A", I},
        {P_ACCOUNT_Q, "tessera:GetAccount", ARN("a1"), A},
        {P_ACCOUNT_Q, "tessera:GetAccount", ARN("a12"), I},
        {P_ACCOUNT_Q, "tessera:GetAccount", ARN("a"), I},
        {P_ACCOUNT_Q, "tessera:GetAccount", ARN("c"), A},
        {P_DENY_B, "tessera:GetAccount", ARN("A"), A},
        {P_DENY_B, "tessera:GetAccount", ARN("B"), D},
        {P_DENY_B, "tessera:CreateAccount", NULL, A},
        /* NotAction, NotResource */
        {P_NOTACTION, "tessera:DeleteAccount", NULL, I},
        {P_NOTACTION, "tessera:GetAccount", NULL, A},
        {P_NOTACTION, "tessera:CreateAdminKey", NULL, A},
        {P_DENY_NOTACTION, "tessera:ListUsers", NULL, D},
        {P_DENY_NOTACTION, "tessera:GetUser", NULL, A},
        {P_NOTRESOURCE, "tessera:GetAccount", ARN("A"), A},
        {P_NOTRESOURCE, "tessera:GetAccount", ARN("B"), I},
        {P_NOTRESOURCE, "tessera:CreateAccount", NULL, A},
        /* single statement object, older version string */
        {P_SINGLE_STMT, "tessera:GetUser", NULL, A},
        {P_SINGLE_STMT, "tessera:GetAccount", NULL, I},
        /* stars in the middle and anchoring */
        {P_MULTISTAR, "tessera:GetUserByEmail", NULL, A},
        {P_MULTISTAR, "tessera:InviteUsers", NULL, A},
        {P_MULTISTAR, "tessera:ListAccounts", NULL, I},
        {P_ENDANCHOR, "tessera:GetUser", NULL, A},
        {P_ENDANCHOR, "tessera:GetUserByEmail", NULL, I},
        {P_STARSTAR, "tessera:ListAccounts", NULL, A},
        /* nonsense subjects */
        {P_STAR, NULL, NULL, I},
        {P_LISTSTAR, "", NULL, I},
};

static void test_evaluate_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(eval_cases); i++) {
		const struct eval_case *c = &eval_cases[i];
		ts_policy_set_t *p = parse_ok(c->policy);
		enum ts_policy_decision got = ts_admin_policy_evaluate(p, c->action, c->resource);
		if (got != c->want)
			fail_msg("eval case %zu: %s on %s: got %d, want %d\n  policy %s", i,
			         c->action ? c->action : "(null)",
			         c->resource ? c->resource : "(null)", got, c->want, c->policy);
		ts_admin_policy_free(&p);
	}
	assert_int_equal(ts_admin_policy_evaluate(NULL, "tessera:GetUser", NULL), I);
}

struct some_case {
	const char *policy;
	const char *action;
	bool want;
};

static const struct some_case some_cases[] = {
        {P_ACCOUNT_A, "tessera:GetAccount", true},
        {P_ACCOUNT_A, "tessera:ListAccounts", false},
        {P_ACCOUNT_ANY, "tessera:GetAccount", true},
        {"[" P_ACCOUNT_A "," DOC(ST("Deny", "\"tessera:GetAccount\"", "\"*\"")) "]",
         "tessera:GetAccount", false},
        {"[" P_ACCOUNT_A "," DOC(ST("Deny", "\"tessera:GetAccount\"", "\"" ARN("B") "\"")) "]",
         "tessera:GetAccount", true},
        {"[" P_ACCOUNT_A "," DOC(ST("Deny", "\"tessera:GetAccount\"", "\"" ARN("*") "\"")) "]",
         "tessera:GetAccount", true}, /* every account, but not "*": evaluate filters */
        {P_DENY_B, "tessera:ListAccounts", true},
        {P_DENY_ONE, "tessera:DeleteAccount", false},
        {P_DENY_ONLY, "tessera:GetAccount", false},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"NotResource\":\"*\"}"), "tessera:GetAccount",
         false},
        {P_NOTRESOURCE, "tessera:ListAccounts", true},
        /* a Deny whose NotResource excludes everything denies nothing */
        {DOC(ST("Allow", "\"*\"", "\"*\"") ",{\"Effect\":\"Deny\",\"Action\":\"*\","
                                           "\"NotResource\":\"*\"}"),
         "tessera:ListAccounts", true},
        {"[\"ReadOnly\"]", "tessera:ListAccounts", true},
        {"[\"ReadOnly\"]", "tessera:DeleteAccount", false},
        {P_STAR, NULL, false},
};

static void test_allows_some(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(some_cases); i++) {
		ts_policy_set_t *p = parse_ok(some_cases[i].policy);
		bool got = ts_admin_policy_allows_some(p, some_cases[i].action);
		if (got != some_cases[i].want)
			fail_msg("allows_some case %zu: got %d", i, got);
		ts_admin_policy_free(&p);
	}
	assert_false(ts_admin_policy_allows_some(NULL, "tessera:GetUser"));
}

/* ---- validation ---- */

struct bad_case {
	const char *text;
	ts_err code;
	const char *message; /* a substring of the expected message */
};

#define BR TS_ERR_BAD_REQUEST
#define V "\"Version\":\"2012-10-17\""
#define GOOD_ST ST("Allow", "\"*\"", "\"*\"")

static const struct bad_case bad_cases[] = {
        {"{", BR, "malformed JSON"},
        {"{\"Version\":\"2012-10-17\",\"Version\":\"2012-10-17\",\"Statement\":[" GOOD_ST "]}", BR,
         "malformed JSON"},
        {"42", BR, "malformed JSON"}, /* ts_json_parse takes objects and arrays only */
        {"\"ReadOnly\"", BR, "malformed JSON"},
        {"[]", BR, "Policies must not be empty"},
        {"[\"Bogus\"]", BR, "Policies[0] \"Bogus\" is not a managed policy"},
        {"[\"readonly\"]", BR, "is not a managed policy"},
        {"[42]", BR, "Policies[0] must be a managed policy name or a policy document"},
        {"[[]]", BR, "Policies[0] must be a managed policy name"},
        {"{\"Statement\":[" GOOD_ST "]}", BR, "Policy is missing Version"},
        {"{\"Version\":\"2013-01-01\",\"Statement\":[" GOOD_ST "]}", BR,
         "Policy.Version must be \"2012-10-17\" or \"2008-10-17\""},
        {"{\"Version\":20121017,\"Statement\":[" GOOD_ST "]}", BR, "Policy.Version must be"},
        {"{" V ",\"Statement\":[" GOOD_ST "],\"Foo\":1}", BR,
         "Policy has an unknown member \"Foo\""},
        {"{" V ",\"Id\":7,\"Statement\":[" GOOD_ST "]}", BR, "Policy.Id must be a string"},
        {"{" V "}", BR, "Policy is missing Statement"},
        {"{" V ",\"Statement\":\"Allow\"}", BR, "Policy.Statement must be an array"},
        {"{" V ",\"Statement\":[]}", BR, "Policy.Statement must not be empty"},
        {"{" V ",\"Statement\":[42]}", BR, "Policy.Statement[0] must be an object"},
        {DOC(GOOD_ST ",{\"Action\":\"*\",\"Resource\":\"*\"}"), BR,
         "Policy.Statement[1] is missing Effect"},
        {DOC(ST("allow", "\"*\"", "\"*\"")), BR,
         "Policy.Statement[0].Effect must be \"Allow\" or \"Deny\""},
        {DOC("{\"Effect\":true,\"Action\":\"*\",\"Resource\":\"*\"}"), BR,
         "Statement[0].Effect must be"},
        {DOC("{\"Effect\":\"Allow\",\"Resource\":\"*\"}"), BR,
         "Policy.Statement[0] is missing Action"},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"*\"}"), BR,
         "Policy.Statement[0] is missing Resource"},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"NotAction\":\"*\",\"Resource\":\"*\"}"), BR,
         "has both Action and NotAction"},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"NotResource\":\"*\"}"),
         BR, "has both Resource and NotResource"},
        {DOC(ST("Allow", "42", "\"*\"")), BR,
         "Policy.Statement[0].Action must be a string or an array of strings"},
        {DOC(ST("Allow", "{}", "\"*\"")), BR, "Action must be a string or an array"},
        {DOC(ST("Allow", "\"*\"", "null")), BR, "Resource must be a string or an array"},
        {DOC(ST("Allow", "[]", "\"*\"")), BR,
         "Policy.Statement[0].Action must not be an empty array"},
        {DOC(ST("Allow", "\"*\"", "[]")), BR, "Resource must not be an empty array"},
        {DOC(ST("Allow", "[\"tessera:GetUser\",42]", "\"*\"")), BR,
         "Policy.Statement[0].Action[1] must be a string"},
        {DOC(ST("Allow", "[\"\"]", "\"*\"")), BR, "Action[0] must not be empty"},
        {DOC(ST("Allow", "\"\"", "\"*\"")), BR, "Policy.Statement[0].Action must not be empty"},
        {DOC(ST("Allow", "\"*\"", "[\"*\",\"\"]")), BR, "Resource[1] must not be empty"},
        {DOC(ST("Allow", "\"ListUsers\"", "\"*\"")), BR, "must be \"*\" or \"<service>:<action>\""},
        {DOC(ST("Allow", "\":ListUsers\"", "\"*\"")), BR,
         "must be \"*\" or \"<service>:<action>\""},
        {DOC(ST("Allow", "\"tessera:\"", "\"*\"")), BR, "must be \"*\" or \"<service>:<action>\""},
        {DOC(ST("Allow", "\"*:GetUser\"", "\"*\"")), BR, "has an invalid service prefix"},
        {DOC(ST("Allow", "\"*User\"", "\"*\"")), BR, "must be \"*\" or \"<service>:<action>\""},
        {DOC(ST("Allow", "\"tes sera:GetUser\"", "\"*\"")), BR, "has an invalid service prefix"},
        {DOC(ST("Allow", "\"tessera:Get User\"", "\"*\"")), BR, "has an invalid character"},
        {DOC(ST("Allow", "\"tessera:Get:User\"", "\"*\"")), BR, "has an invalid character"},
        {DOC(ST("Allow", "\"*\"", "\"account/A\"")), BR,
         "Policy.Statement[0].Resource[0] \"account/A\" must be \"*\" or an ARN"},
        {DOC(ST("Allow", "\"*\"", "\"arn:tessera:::account/ A\"")), BR,
         "contains a space or control character"},
        {DOC(ST("Allow", "\"*\"", "\"arn:tessera:::account/\\u0001\"")), BR,
         "contains a space or control character"},
        {DOC(ST("Allow", "\"*\"", "\"arn:tessera:::account/\\u0000\"")), BR, "malformed JSON"},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{}}"), BR,
         "Policy.Statement[0].Condition is not supported"},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Principal\":\"*\"}"), BR,
         "Policy.Statement[0].Principal is not allowed"},
        {DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\",\"Actions\":\"*\"}"), BR,
         "Policy.Statement[0] has an unknown member \"Actions\""},
        {DOC("{\"Sid\":7,\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}"), BR,
         "Policy.Statement[0].Sid must be a string"},
        {DOC("{\"Sid\":\"S\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},"
             "{\"Sid\":\"S\",\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}"),
         BR, "Policy.Statement[1].Sid \"S\" is used by Statement[0] too"},
        /* the path names the policy within the array */
        {"[\"ReadOnly\"," DOC(ST("Alow", "\"*\"", "\"*\"")) "]", BR,
         "Policies[1].Statement[0].Effect must be \"Allow\" or \"Deny\""},
        {"[" DOC(GOOD_ST) ",{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\"}}]", BR,
         "Policies[1].Statement is missing Action"},
};

static void check_bad(size_t i, const char *text, ts_err code, const char *message)
{
	ts_policy_set_t *p = NULL;
	struct ts_error e = {0};
	ts_err rc = ts_admin_policy_parse_text(text, &p, &e);
	if (rc != code || p != NULL || e.code != code || strstr(e.message, message) == NULL)
		fail_msg("bad case %zu: rc %d (want %d), message \"%s\" (want \"%s\")\n  for: "
		         "%.200s",
		         i, rc, code, e.message, message, text);
}

static void test_validation_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++)
		check_bad(i, bad_cases[i].text, bad_cases[i].code, bad_cases[i].message);
	ts_policy_set_t *p = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_admin_policy_parse_text(NULL, &p, &e), BR);
	assert_null(p);
}

static void test_parse_json_value(void **state)
{
	(void)state;
	ts_policy_set_t *p = NULL;
	struct ts_error e = {0};
	json_t *j = json_pack("[s, {s:s, s:[{s:s, s:s, s:s}]}]", "ReadOnly", "Version",
	                      "2012-10-17", "Statement", "Effect", "Deny", "Action",
	                      "tessera:ListUsers", "Resource", ARN("B"));
	assert_non_null(j);
	assert_int_equal(ts_admin_policy_parse(j, &p, &e), TS_ERR_OK);
	json_decref(j); /* the set keeps nothing of the JSON */
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:ListUsers", ARN("A")), A);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:ListUsers", ARN("B")), D);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:InviteUsers", ARN("A")), I);
	ts_admin_policy_free(&p);
	ts_admin_policy_free(&p);
	ts_admin_policy_free(NULL);

	/* a bare managed name, as a JSON value */
	j = json_string("UserManagement");
	assert_int_equal(ts_admin_policy_parse(j, &p, &e), TS_ERR_OK);
	json_decref(j);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:InviteUsers", ARN("A")), A);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:AddDomain", ARN("A")), I);
	ts_admin_policy_free(&p);

	j = json_integer(1);
	assert_int_equal(ts_admin_policy_parse(j, &p, &e), BR);
	assert_null(p);
	assert_non_null(strstr(e.message, "Policies must be an array"));
	json_decref(j);
	j = json_null();
	assert_int_equal(ts_admin_policy_parse(j, &p, &e), BR);
	assert_null(p);
	json_decref(j);
	assert_int_equal(ts_admin_policy_parse(NULL, &p, &e), BR);
	assert_null(p);

	/* an embedded NUL can only come in as a JSON value; it would cut a pattern short */
	j = json_pack("{s:s, s:{s:s, s:s, s:s%}}", "Version", "2012-10-17", "Statement", "Effect",
	              "Allow", "Action", "*", "Resource", ARN("A") "\0B", strlen(ARN("A")) + 2);
	assert_non_null(j);
	assert_int_equal(ts_admin_policy_parse(j, &p, &e), BR);
	assert_null(p);
	assert_non_null(strstr(e.message, "Policy.Statement.Resource contains a NUL character"));
	json_decref(j);
}

/* ---- caps ---- */

/* A growable buffer for generated documents. */
struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char tmp[1024];
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof tmp);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = ts_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, tmp, (size_t)n + 1);
	b->len += (size_t)n;
}

/* n_policies documents of n_stmts statements of n_items actions and
 * n_items resources each. */
static char *gen(size_t n_policies, size_t n_stmts, size_t n_items)
{
	struct buf b = {NULL, 0, 0};
	put(&b, "[");
	for (size_t p = 0; p < n_policies; p++) {
		put(&b, "%s{\"Version\":\"2012-10-17\",\"Statement\":[", p ? "," : "");
		for (size_t s = 0; s < n_stmts; s++) {
			put(&b, "%s{\"Effect\":\"Allow\",\"Action\":[", s ? "," : "");
			for (size_t i = 0; i < n_items; i++)
				put(&b, "%s\"tessera:Action%zu\"", i ? "," : "", i);
			put(&b, "],\"Resource\":[");
			for (size_t i = 0; i < n_items; i++)
				put(&b, "%s\"" ARN("%zu-%zu-%zu") "\"", i ? "," : "", p, s, i);
			put(&b, "]}");
		}
		put(&b, "]}");
	}
	put(&b, "]");
	return b.s;
}

static char *gen_string(size_t len, bool in_action)
{
	struct buf b = {NULL, 0, 0};
	char name[TS_ADMIN_POLICY_MAX_STRING * 2];
	const char *prefix = in_action ? "tessera:" : ARN("");
	size_t pn = strlen(prefix);
	assert_true(len >= pn && len < sizeof name);
	memcpy(name, prefix, pn);
	memset(name + pn, 'x', len - pn);
	name[len] = '\0';
	if (in_action)
		put(&b, DOC("{\"Effect\":\"Allow\",\"Action\":\"%s\",\"Resource\":\"*\"}"), name);
	else
		put(&b, DOC("{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"%s\"}"), name);
	return b.s;
}

static void test_caps(void **state)
{
	(void)state;
	char *t;

	/* at the caps: accepted, and the last pattern of the last statement works */
	t = gen(TS_ADMIN_POLICY_MAX_POLICIES, 3, 2);
	ts_policy_set_t *p = parse_ok(t);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:action1", ARN("9-2-1")), A);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:action1", ARN("9-2-2")), I);
	ts_admin_policy_free(&p);
	ts_free(t);
	t = gen(1, TS_ADMIN_POLICY_MAX_STATEMENTS, 2);
	p = parse_ok(t);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:Action0", ARN("0-99-0")), A);
	ts_admin_policy_free(&p);
	ts_free(t);
	t = gen(1, 1, TS_ADMIN_POLICY_MAX_ITEMS);
	p = parse_ok(t);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:Action99", ARN("0-0-99")), A);
	ts_admin_policy_free(&p);
	ts_free(t);
	t = gen_string(TS_ADMIN_POLICY_MAX_STRING, true);
	ts_admin_policy_free((p = parse_ok(t), &p));
	ts_free(t);
	t = gen_string(TS_ADMIN_POLICY_MAX_STRING, false);
	ts_admin_policy_free((p = parse_ok(t), &p));
	ts_free(t);

	/* one over: refused */
	t = gen(TS_ADMIN_POLICY_MAX_POLICIES + 1, 1, 1);
	check_bad(1000, t, BR, "Policies has more than 10 policies");
	ts_free(t);
	t = gen(1, TS_ADMIN_POLICY_MAX_STATEMENTS + 1, 1);
	check_bad(1001, t, BR, "Policies[0].Statement has more than 100 statements");
	ts_free(t);
	t = gen(1, 1, TS_ADMIN_POLICY_MAX_ITEMS + 1);
	check_bad(1002, t, BR, "Policies[0].Statement[0].Action has more than 100 items");
	ts_free(t);
	t = gen_string(TS_ADMIN_POLICY_MAX_STRING + 1, true);
	check_bad(1003, t, BR, "Policy.Statement[0].Action is longer than 256 bytes");
	ts_free(t);
	t = gen_string(TS_ADMIN_POLICY_MAX_STRING + 1, false);
	check_bad(1004, t, BR, "Policy.Statement[0].Resource is longer than 256 bytes");
	ts_free(t);
	/* resources over the cap, actions within it */
	struct buf b = {NULL, 0, 0};
	put(&b, "{" V ",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":[");
	for (size_t i = 0; i <= TS_ADMIN_POLICY_MAX_ITEMS; i++)
		put(&b, "%s\"" ARN("%zu") "\"", i ? "," : "", i);
	put(&b, "]}]}");
	check_bad(1005, b.s, BR, "Policy.Statement[0].Resource has more than 100 items");
	ts_free(b.s);

	/* the text cap */
	size_t big = TS_ADMIN_POLICY_MAX_TEXT + 1;
	char *huge = ts_malloc(big + 1);
	memset(huge, ' ', big);
	huge[0] = '[';
	huge[big - 1] = ']';
	huge[big] = '\0';
	check_bad(1006, huge, TS_ERR_TOO_LARGE, "larger than");
	ts_free(huge);
}

/* ---- ARNs ---- */

static void test_account_arn(void **state)
{
	(void)state;
	char out[TS_ADMIN_ARN_MAX];
	ts_admin_account_arn("0123456789", out, sizeof out);
	assert_string_equal(out, "arn:tessera:::account/0123456789");
	char small[12];
	ts_admin_account_arn("0123456789", small, sizeof small);
	assert_string_equal(small, "arn:tessera");
	char untouched[4] = "abc";
	ts_admin_account_arn("x", untouched, 0);
	assert_string_equal(untouched, "abc");

	/* what the lead wires: an account-scoped policy, an ARN built here */
	ts_policy_set_t *p = parse_ok(P_ACCOUNT_A);
	ts_admin_account_arn("A", out, sizeof out);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:GetAccount", out), A);
	ts_admin_account_arn("B", out, sizeof out);
	assert_int_equal(ts_admin_policy_evaluate(p, "tessera:GetAccount", out), I);
	ts_admin_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table_shape),
	        cmocka_unit_test(test_known_actions),
	        cmocka_unit_test(test_managed_by_name),
	        cmocka_unit_test(test_managed_documents),
	        cmocka_unit_test(test_managed_union_lacks_extras),
	        cmocka_unit_test(test_evaluate_table),
	        cmocka_unit_test(test_allows_some),
	        cmocka_unit_test(test_validation_table),
	        cmocka_unit_test(test_parse_json_value),
	        cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_account_arn),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
