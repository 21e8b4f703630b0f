/*
 * Unit tests of the sign-in rules (src/directory/signin.c, docs/product.md §4 rules 2-5).
 * One table of cases over one directory of users, including both of the
 * Amazon Chime guide's shirley.rodriguez configuration examples (a person signs
 * in with any address on a domain the account verified, and with no other).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "directory/signin.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the directory ------------------------------------------------------------------------ */

static const char *const shirley_mail[] = {"shirley.rodriguez@example.com",
                                           "shirley.rodriguez@example2.com",
                                           "srodriguez@anotherdomain.com"};
static const char *const alice_mail[] = {"alice@example.com", "Alice.Smith@Example.com"};
static const char *const bob_mail[] = {"bob@unverified.org"};
static const char *const carol_mail[] = {"carol@example.com"};
static const char *const dave_mail[] = {"dave@example.com"};
static const char *const erin_mail[] = {"erin@example.com"};
static const char *const frank_mail[] = {"frank@example.com"};
static const char *const twin1_mail[] = {"twin1@example.com", "shared@example.com"};
static const char *const twin2_mail[] = {"twin2@example.com", "shared@example.com"};
static const char *const hank_mail[] = {"hank@example.com"};
static const char *const sub_mail[] = {"sub@mail.example.com"};
static const char *const kim2_mail[] = {"kim@example.com"};
static const char *const zed_mail[] = {"zed@unverified.org"};
static const char *const evil_mail[] = {"x@evilexample.com"};

#define MAIL(a) a, N_ITEMS(a)
#define NO_MAIL NULL, 0

/* user_id, user_name, emails, active, suspended, registration_status */
static const struct ts_signin_user users[] = {
        {"u-shirley", "shirley.rodriguez", MAIL(shirley_mail), true, false, "Registered"},
        {"u-alice", "alice@example.com", MAIL(alice_mail), true, false, NULL},
        {"u-bob", "bob@unverified.org", MAIL(bob_mail), false, false, NULL},
        {"u-carol", "carol@example.com", MAIL(carol_mail), true, true, "Suspended"},
        {"u-dave", "dave@example.com", MAIL(dave_mail), true, false, NULL},
        {"u-erin", "erin@example.com", MAIL(erin_mail), true, false, NULL},
        {"u-frank", "frank@example.com", MAIL(frank_mail), true, false, NULL},
        {"u-twin1", "twin1", MAIL(twin1_mail), true, false, NULL},
        {"u-twin2", "twin2", MAIL(twin2_mail), true, false, NULL},
        {"u-gina", "gina", NO_MAIL, true, false, NULL},
        {"u-hank", "hank@example.com", MAIL(hank_mail), true, false, "Released"},
        {"u-ivy", "Ivy.Chen@EXAMPLE.COM", NO_MAIL, true, false, NULL},
        {"u-sub", "sub@mail.example.com", MAIL(sub_mail), true, false, NULL},
        {"u-kim1", "Kim@example.com", NO_MAIL, true, false, NULL},
        {"u-kim2", "kim2", MAIL(kim2_mail), true, false, NULL},
        {"u-zed", "zed@unverified.org", MAIL(zed_mail), false, true, NULL},
        {"u-dup", "dup@example.com", NO_MAIL, true, false, NULL},
        {"u-dup", "dup@example.com", NO_MAIL, true, false, NULL}, /* listed twice: one user */
        {"u-evil", "x@evilexample.com", MAIL(evil_mail), true, false, NULL},
        {"u-hank2", "hank2@example.com", NO_MAIL, false, false, NULL},
};

static const struct ts_signin_group g_pro[] = {{"chime-pro", TS_LICENSE_PRO}};
static const struct ts_signin_group g_basic[] = {{"staff", TS_LICENSE_BASIC},
                                                 {"everyone", TS_LICENSE_NONE}};
static const struct ts_signin_group g_unmapped[] = {{"everyone", TS_LICENSE_NONE},
                                                    {"contractors", TS_LICENSE_NONE}};
static const struct ts_signin_group g_both[] = {
        {"staff", TS_LICENSE_BASIC}, {"everyone", TS_LICENSE_NONE}, {"chime-pro", TS_LICENSE_PRO}};

#define GROUPS(a)             \
	{                     \
		a, N_ITEMS(a) \
	}
#define NO_GROUPS       \
	{               \
		NULL, 0 \
	}

/* parallel to users[] */
static const struct ts_signin_groups groups[] = {
        GROUPS(g_pro),      /* shirley */
        GROUPS(g_basic),    /* alice */
        GROUPS(g_pro),      /* bob */
        GROUPS(g_pro),      /* carol */
        NO_GROUPS,          /* dave */
        GROUPS(g_unmapped), /* erin */
        GROUPS(g_both),     /* frank */
        GROUPS(g_pro),      /* twin1 */
        GROUPS(g_pro),      /* twin2 */
        GROUPS(g_pro),      /* gina */
        GROUPS(g_pro),      /* hank */
        GROUPS(g_basic),    /* ivy */
        GROUPS(g_pro),      /* sub */
        GROUPS(g_pro),      /* kim1 */
        GROUPS(g_pro),      /* kim2 */
        NO_GROUPS,          /* zed */
        GROUPS(g_pro),      /* dup */
        GROUPS(g_pro),      /* dup again */
        GROUPS(g_pro),      /* evil */
        GROUPS(g_basic),    /* hank2 */
};

_Static_assert(N_ITEMS(users) == N_ITEMS(groups), "groups[] is parallel to users[]");

/* Domain sets: the Chime guide's "Incorrect" (two claimed) and "Correct" (three claimed) examples.
 */
enum domains { D_TWO, D_THREE, D_NONE };
static const char *const two_domains[] = {"example.com", "anotherdomain.com"};
static const char *const three_domains[] = {"Example.com", "example2.com", "anotherdomain.com"};

/* ---- the table ---------------------------------------------------------------------------- */

#define R_ID TS_SIGNIN_IDENTITY_MATCH
#define R_ACTIVE TS_SIGNIN_ACTIVE
#define R_DOMAIN TS_SIGNIN_VERIFIED_DOMAIN
#define R_GROUP TS_SIGNIN_LICENSED_GROUP
#define R_NONE TS_SIGNIN__RULES

struct scase {
	const char *name;
	const char *asserted;
	bool nocase;
	enum domains domains;
	const char *user_id; /* expected match, NULL: none */
	bool allowed;
	enum ts_license license;
	enum ts_signin_rule first; /* first failure, R_NONE when allowed */
	const char *rules;         /* per rule: 'P' passed, 'F' failed, '-' not evaluated */
	const char *reason_has[TS_SIGNIN__RULES]; /* substrings; NULL: not checked */
};

static const struct scase cases[] = {
        /* Chime guide, Incorrect Configuration Example: example.com and anotherdomain.com claimed
         */
        {"shirley primary, two domains",
         "shirley.rodriguez@example.com",
         false,
         D_TWO,
         "u-shirley",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {"primary email", NULL, "verified domain \"example.com\"", "Pro"}},
        {"shirley proxy anotherdomain, two domains",
         "srodriguez@anotherdomain.com",
         false,
         D_TWO,
         "u-shirley",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {"email 3", NULL, "anotherdomain.com", NULL}},
        {"shirley userName, two domains",
         "shirley.rodriguez",
         false,
         D_TWO,
         "u-shirley",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {"userName", NULL, "primary email; the identity matched the userName", NULL}},
        {"shirley proxy example2, two domains: refused",
         "shirley.rodriguez@example2.com",
         false,
         D_TWO,
         "u-shirley",
         false,
         TS_LICENSE_NONE,
         R_DOMAIN,
         "PPFP",
         {"email 2", NULL, "domain \"example2.com\"", NULL}},
        /* Chime guide, Correct Configuration Example: the three domains claimed */
        {"shirley primary, three domains",
         "shirley.rodriguez@example.com",
         false,
         D_THREE,
         "u-shirley",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {NULL}},
        {"shirley proxy example2, three domains",
         "shirley.rodriguez@example2.com",
         false,
         D_THREE,
         "u-shirley",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {NULL, NULL, "example2.com", NULL}},
        {"shirley proxy anotherdomain, three domains",
         "srodriguez@anotherdomain.com",
         false,
         D_THREE,
         "u-shirley",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {NULL}},
        {"shirley userName, three domains",
         "shirley.rodriguez",
         false,
         D_THREE,
         "u-shirley",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {NULL}},
        {"shirley address she does not have",
         "shirley.rodriguez@anotherdomain.com",
         false,
         D_THREE,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"no provisioned user", "not evaluated", "not evaluated", "not evaluated"}},

        /* rule 2 */
        {"unknown identity",
         "nobody@example.com",
         false,
         D_TWO,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"\"nobody@example.com\"", "not evaluated", "not evaluated", "not evaluated"}},
        {"NULL identity",
         NULL,
         false,
         D_TWO,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"no identity was asserted", "not evaluated", NULL, NULL}},
        {"empty identity",
         "",
         true,
         D_TWO,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"no identity was asserted", NULL, NULL, NULL}},
        {"case differs, exact matching",
         "ALICE@example.com",
         false,
         D_TWO,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"matches it ignoring case", NULL, NULL, NULL}},
        {"case differs, case-insensitive account",
         "ALICE@example.com",
         true,
         D_TWO,
         "u-alice",
         true,
         TS_LICENSE_BASIC,
         R_NONE,
         "PPPP",
         {"userName", NULL, NULL, "Basic"}},
        {"second email, exact case",
         "Alice.Smith@Example.com",
         false,
         D_TWO,
         "u-alice",
         true,
         TS_LICENSE_BASIC,
         R_NONE,
         "PPPP",
         {"email 2", NULL, NULL, NULL}},
        {"second email, case differs, exact matching",
         "alice.smith@example.com",
         false,
         D_TWO,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"matches it ignoring case", NULL, NULL, NULL}},
        {"second email, case differs, case-insensitive",
         "alice.smith@example.com",
         true,
         D_TWO,
         "u-alice",
         true,
         TS_LICENSE_BASIC,
         R_NONE,
         "PPPP",
         {NULL}},
        {"ambiguous email",
         "shared@example.com",
         false,
         D_TWO,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"ambiguous: it matches 2 users (\"twin1\", \"twin2\")", NULL, NULL, NULL}},
        {"one user exactly, two ignoring case",
         "Kim@example.com",
         false,
         D_TWO,
         "u-kim1",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {NULL}},
        {"ambiguous only ignoring case",
         "Kim@example.com",
         true,
         D_TWO,
         NULL,
         false,
         TS_LICENSE_NONE,
         R_ID,
         "F---",
         {"ambiguous", NULL, NULL, NULL}},
        {"same user listed twice is not ambiguous",
         "dup@example.com",
         false,
         D_TWO,
         "u-dup",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {NULL}},

        /* rule 3, and the order of failures */
        {"inactive and unverified domain: Active first",
         "bob@unverified.org",
         false,
         D_TWO,
         "u-bob",
         false,
         TS_LICENSE_NONE,
         R_ACTIVE,
         "PFFP",
         {NULL, "SCIM active=false", "\"unverified.org\"", "Pro"}},
        {"suspended with Pro group",
         "carol@example.com",
         false,
         D_TWO,
         "u-carol",
         false,
         TS_LICENSE_NONE,
         R_ACTIVE,
         "PFPP",
         {NULL, "suspended by an administrator", NULL, "Pro"}},
        {"released",
         "hank@example.com",
         false,
         D_TWO,
         "u-hank",
         false,
         TS_LICENSE_NONE,
         R_ACTIVE,
         "PFPP",
         {NULL, "\"Released\"", NULL, NULL}},
        {"deactivated only",
         "hank2@example.com",
         false,
         D_TWO,
         "u-hank2",
         false,
         TS_LICENSE_NONE,
         R_ACTIVE,
         "PFPP",
         {NULL, "deactivated by the directory", NULL, NULL}},
        {"everything after rule 2 fails",
         "zed@unverified.org",
         false,
         D_TWO,
         "u-zed",
         false,
         TS_LICENSE_NONE,
         R_ACTIVE,
         "PFFF",
         {NULL, "suspended by an administrator and deactivated", "unverified.org",
          "in no directory group"}},

        /* rule 4 */
        {"subdomain of a verified domain",
         "sub@mail.example.com",
         false,
         D_TWO,
         "u-sub",
         false,
         TS_LICENSE_NONE,
         R_DOMAIN,
         "PPFP",
         {NULL, NULL, "subdomains are not covered", NULL}},
        {"suffix is not a subdomain",
         "x@evilexample.com",
         false,
         D_THREE,
         "u-evil",
         false,
         TS_LICENSE_NONE,
         R_DOMAIN,
         "PPFP",
         {NULL, NULL, "not one of the account's verified domains", NULL}},
        {"domain compared ignoring case",
         "Ivy.Chen@EXAMPLE.COM",
         false,
         D_TWO,
         "u-ivy",
         true,
         TS_LICENSE_BASIC,
         R_NONE,
         "PPPP",
         {NULL, NULL, "\"example.com\"", NULL}},
        {"userName without any email",
         "gina",
         false,
         D_TWO,
         "u-gina",
         false,
         TS_LICENSE_NONE,
         R_DOMAIN,
         "PPFP",
         {NULL, NULL, "has no primary email", NULL}},
        {"account without verified domain",
         "alice@example.com",
         false,
         D_NONE,
         "u-alice",
         false,
         TS_LICENSE_NONE,
         R_DOMAIN,
         "PPFP",
         {NULL, NULL, "no verified domain", NULL}},

        /* rule 5 */
        {"Pro and Basic groups: Pro",
         "frank@example.com",
         false,
         D_TWO,
         "u-frank",
         true,
         TS_LICENSE_PRO,
         R_NONE,
         "PPPP",
         {NULL, NULL, NULL, "\"chime-pro\""}},
        {"Basic only: Basic",
         "alice@example.com",
         false,
         D_TWO,
         "u-alice",
         true,
         TS_LICENSE_BASIC,
         R_NONE,
         "PPPP",
         {NULL, NULL, NULL, "Basic through directory group \"staff\""}},
        {"unmapped groups only",
         "erin@example.com",
         false,
         D_TWO,
         "u-erin",
         false,
         TS_LICENSE_NONE,
         R_GROUP,
         "PPPF",
         {NULL, NULL, NULL,
          "Users without Pro or Basic permissions can't sign in: none of the 2 directory groups"}},
        {"no group at all",
         "dave@example.com",
         false,
         D_TWO,
         "u-dave",
         false,
         TS_LICENSE_NONE,
         R_GROUP,
         "PPPF",
         {NULL, NULL, NULL, "Users without Pro or Basic permissions can't sign in"}},
};

static void evaluate(const char *asserted, bool nocase, enum domains d,
                     struct ts_signin_result *out)
{
	struct ts_signin_input in = {
	        .asserted = asserted,
	        .case_insensitive = nocase,
	        .candidates = users,
	        .n_candidates = N_ITEMS(users),
	        .verified_domains = d == D_TWO     ? two_domains
	                            : d == D_THREE ? three_domains
	                                           : NULL,
	        .n_verified_domains = d == D_TWO     ? N_ITEMS(two_domains)
	                              : d == D_THREE ? N_ITEMS(three_domains)
	                                             : 0,
	        .groups = groups,
	};
	/* garbage first: the function must set every field */
	memset(out, 0xA5, sizeof *out);
	ts_directory_signin_evaluate(&in, out);
}

/* A reason must be usable as a JSON string (valid UTF-8), printable, non-empty and capped. */
static void check_reason(const char *r)
{
	size_t n = strnlen(r, TS_SIGNIN_REASON_MAX);
	assert_true(n > 0 && n < TS_SIGNIN_REASON_MAX);
	for (size_t i = 0; i < n; i++)
		assert_false((unsigned char)r[i] < 0x20 || r[i] == 0x7F);
	json_t *j = json_string(r); /* NULL on invalid UTF-8 */
	assert_non_null(j);
	json_decref(j);
}

static void test_table(void **state)
{
	int failures = 0;
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		const struct scase *c = &cases[i];
		struct ts_signin_result out;
		char got[TS_SIGNIN__RULES + 1] = {0};
		bool ok = true;

		evaluate(c->asserted, c->nocase, c->domains, &out);
		for (int r = 0; r < TS_SIGNIN__RULES; r++) {
			assert_int_equal(out.rules[r].rule, r);
			got[r] = !out.rules[r].evaluated ? '-' : out.rules[r].passed ? 'P' : 'F';
			assert_false(!out.rules[r].evaluated && out.rules[r].passed);
			check_reason(out.rules[r].reason);
			if (c->reason_has[r] != NULL &&
			    strstr(out.rules[r].reason, c->reason_has[r]) == NULL) {
				print_error("  %s: rule %s reason \"%s\" lacks \"%s\"\n", c->name,
				            ts_directory_signin_rule_name(r), out.rules[r].reason,
				            c->reason_has[r]);
				ok = false;
			}
		}
		ok = ok && strcmp(got, c->rules) == 0 && out.allowed == c->allowed &&
		     out.license == c->license && out.first_failure == c->first;
		if (c->user_id == NULL)
			ok = ok && out.user == NULL;
		else
			ok = ok && out.user != NULL && strcmp(out.user->user_id, c->user_id) == 0;
		if (!ok) {
			print_error(
			        "case \"%s\": rules %s (want %s) allowed %d (want %d) license %d "
			        "(want %d) first %d (want %d) user %s (want %s)\n",
			        c->name, got, c->rules, out.allowed, c->allowed, out.license,
			        c->license, out.first_failure, c->first,
			        out.user ? out.user->user_id : "-", c->user_id ? c->user_id : "-");
			for (int r = 0; r < TS_SIGNIN__RULES; r++)
				print_error("    %s: %s\n", ts_directory_signin_rule_name(r),
				            out.rules[r].reason);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* The Chime guide's two examples stated as the person sees them: every address of hers on a
 * claimed domain signs her in, no other does. */
static void test_shirley_any_claimed_address(void **state)
{
	const struct {
		enum domains d;
		const char *claimed[3];
	} configs[] = {
	        {D_TWO, {"example.com", "anotherdomain.com", NULL}},
	        {D_THREE, {"example.com", "example2.com", "anotherdomain.com"}},
	};
	for (size_t k = 0; k < N_ITEMS(configs); k++) {
		for (size_t i = 0; i < N_ITEMS(shirley_mail); i++) {
			struct ts_signin_result out;
			const char *domain = strchr(shirley_mail[i], '@') + 1;
			bool claimed = false;
			for (size_t j = 0; j < 3; j++)
				claimed = claimed || (configs[k].claimed[j] != NULL &&
				                      !strcmp(configs[k].claimed[j], domain));
			evaluate(shirley_mail[i], false, configs[k].d, &out);
			assert_int_equal(out.allowed, claimed);
			assert_int_equal(out.first_failure,
			                 claimed ? TS_SIGNIN__RULES : TS_SIGNIN_VERIFIED_DOMAIN);
			assert_string_equal(out.user->user_id, "u-shirley");
		}
	}
}

static void test_names(void **state)
{
	assert_string_equal(ts_directory_signin_rule_name(TS_SIGNIN_IDENTITY_MATCH),
	                    "IdentityMatch");
	assert_string_equal(ts_directory_signin_rule_name(TS_SIGNIN_ACTIVE), "Active");
	assert_string_equal(ts_directory_signin_rule_name(TS_SIGNIN_VERIFIED_DOMAIN),
	                    "VerifiedDomain");
	assert_string_equal(ts_directory_signin_rule_name(TS_SIGNIN_LICENSED_GROUP),
	                    "LicensedGroup");
	assert_null(ts_directory_signin_rule_name(TS_SIGNIN__RULES));
	assert_null(ts_directory_signin_rule_name((enum ts_signin_rule) - 1));
	assert_string_equal(ts_directory_license_name(TS_LICENSE_PRO), "Pro");
	assert_string_equal(ts_directory_license_name(TS_LICENSE_BASIC), "Basic");
	assert_null(ts_directory_license_name(TS_LICENSE_NONE));
}

/* No candidates, no groups array, NULL entries: refusals, not crashes. */
static void test_empty_inputs(void **state)
{
	struct ts_signin_input in = {.asserted = "a@example.com"};
	struct ts_signin_result out;
	ts_directory_signin_evaluate(&in, &out);
	assert_false(out.allowed);
	assert_int_equal(out.first_failure, TS_SIGNIN_IDENTITY_MATCH);
	assert_null(out.user);

	static const char *const mails[] = {NULL, "a@example.com"};
	static const char *const doms[] = {NULL, "example.com"};
	const struct ts_signin_user u = {"u-a", NULL, mails, 2, true, false, NULL};
	in.candidates = &u;
	in.n_candidates = 1;
	in.verified_domains = doms;
	in.n_verified_domains = 2;
	ts_directory_signin_evaluate(&in, &out);
	assert_ptr_equal(out.user, &u);
	assert_true(out.rules[TS_SIGNIN_VERIFIED_DOMAIN].passed);
	/* groups == NULL: nobody is in any group */
	assert_int_equal(out.first_failure, TS_SIGNIN_LICENSED_GROUP);
	assert_false(out.allowed);
	assert_int_equal(out.license, TS_LICENSE_NONE);
	assert_non_null(strstr(out.rules[TS_SIGNIN_ACTIVE].reason, "u-a")); /* named by ID */
}

/* Hostile identities: huge, control characters, malformed and multi-byte UTF-8. The reason
 * stays capped, printable and valid UTF-8, and ends in "..." when cut. */
static void test_hostile_identity(void **state)
{
	char big[4096];
	struct ts_signin_result out;
	const char *pieces[] = {"\xC3\xA9",
	                        "\xE2\x82\xAC",
	                        "\xF0\x9F\x98\x80",
	                        "\x01",
	                        "\xFF",
	                        "\xC0\xAF",
	                        "\xED\xA0\x80",
	                        "\"",
	                        "\\",
	                        "a",
	                        "\x7F",
	                        "\xC2\x85"};
	for (size_t p = 0; p < N_ITEMS(pieces); p++) {
		size_t n = 0, l = strlen(pieces[p]);
		while (n + l < sizeof big) {
			memcpy(big + n, pieces[p], l);
			n += l;
		}
		big[n] = '\0';
		evaluate(big, p % 2 == 0, D_TWO, &out);
		assert_int_equal(out.first_failure, TS_SIGNIN_IDENTITY_MATCH);
		for (int r = 0; r < TS_SIGNIN__RULES; r++)
			check_reason(out.rules[r].reason);
		assert_non_null(strstr(out.rules[TS_SIGNIN_IDENTITY_MATCH].reason, "..."));
		/* a cut value never ends in half a character: every offset of a cut is tried by
		 * the prefix loop below */
	}
	for (size_t cut = 1; cut < 300; cut++) {
		char s[512];
		size_t n = 0;
		while (n + 4 < cut && n + 4 < sizeof s) {
			memcpy(s + n, "\xF0\x9F\x98\x80", 4);
			n += 4;
		}
		memcpy(s + n, "@x", 3);
		evaluate(s, false, D_TWO, &out);
		check_reason(out.rules[TS_SIGNIN_IDENTITY_MATCH].reason);
	}
	/* one long value is cut on its own, so the rest of the reason still fits */
	char longid[120];
	memset(longid, 'a', 100);
	memcpy(longid + 100, "@example.com", 13);
	evaluate(longid, false, D_TWO, &out);
	assert_non_null(strstr(out.rules[TS_SIGNIN_IDENTITY_MATCH].reason, "aaa...\""));
	/* control characters are shown as '?', the value stays recognisable */
	evaluate("eve\n@example.com", false, D_TWO, &out);
	assert_non_null(strstr(out.rules[TS_SIGNIN_IDENTITY_MATCH].reason, "\"eve?@example.com\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_table),
	        cmocka_unit_test(test_shirley_any_claimed_address),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_empty_inputs),
	        cmocka_unit_test(test_hostile_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
