/*
 * Who may sign in: the rules of docs/product.md §4 (2 to 5) as one pure function.
 *
 * The caller (ts_directory_signin_decide in signin_decide.h, for SAML, OIDC
 * and the admin sign-in check) loads the account's candidate users, verified
 * domains and the directory groups of each candidate with their mapped
 * licence tier, then asks this module for a verdict. No HTTP, no SQL, no
 * I/O, no allocation: the result points into the input and carries
 * fixed-size reasons.
 *
 * Every rule is evaluated and reported so that an administrator sees every
 * problem at once; `allowed` and `first_failure` follow the order of §4.
 * Reasons are for administrators and audit events only: a sign-in refusal
 * never tells the browser which rule failed (docs/contributing.md, errors).
 */
#ifndef TS_DIRECTORY_SIGNIN_H
#define TS_DIRECTORY_SIGNIN_H

#include <stdbool.h>
#include <stddef.h>

/* Rules in the order of docs/product.md §4; rule 1 (IdP response valid) is saml/'s and oidc/'s. */
enum ts_signin_rule {
	TS_SIGNIN_IDENTITY_MATCH,  /* "IdentityMatch" (§4 rule 2) */
	TS_SIGNIN_ACTIVE,          /* "Active" (§4 rule 3) */
	TS_SIGNIN_VERIFIED_DOMAIN, /* "VerifiedDomain" (§4 rule 4) */
	TS_SIGNIN_LICENSED_GROUP,  /* "LicensedGroup" (§4 rule 5) */
	TS_SIGNIN__RULES
};

enum ts_license { TS_LICENSE_NONE, TS_LICENSE_BASIC, TS_LICENSE_PRO };

/* Size of each rule's reason, terminating NUL included. */
#define TS_SIGNIN_REASON_MAX 200

/* registration_status values that keep a user from signing in (rule 3). */
#define TS_SIGNIN_STATUS_SUSPENDED "Suspended"
#define TS_SIGNIN_STATUS_RELEASED "Released"

/* A provisioned user that may match the asserted identity. */
struct ts_signin_user {
	const char *user_id;
	const char *user_name;
	const char *const *emails; /* primary first; entries may be NULL (skipped) */
	size_t n_emails;
	bool active;                     /* SCIM active */
	bool suspended;                  /* admin SuspendUsers */
	const char *registration_status; /* may be NULL; "Suspended" or "Released" fail rule 3 */
};

/* One directory group a candidate belongs to, with the tier it is mapped to. */
struct ts_signin_group {
	const char *name;
	enum ts_license license; /* TS_LICENSE_NONE: the group is not mapped */
};

/* The directory groups of one candidate. */
struct ts_signin_groups {
	const struct ts_signin_group *items;
	size_t n;
};

struct ts_signin_input {
	/* identity from the IdP (NameID / email claim) or the ?email= of the sign-in check; may be
	 * NULL (rule 2 then fails) */
	const char *asserted;
	bool case_insensitive; /* account setting; exact match (case included) by default */
	const struct ts_signin_user *candidates;
	size_t n_candidates;
	const char *const *verified_domains; /* the account's Verified domains only */
	size_t n_verified_domains;
	/* groups[i] are the directory groups of candidates[i] (n_candidates entries); NULL when no
	 * candidate is in any group */
	const struct ts_signin_groups *groups;
};

struct ts_signin_rule_result {
	enum ts_signin_rule rule;
	const char *name; /* ts_directory_signin_rule_name(rule) */
	bool passed;
	bool evaluated; /* false when rule 2 found no single user, so there is nobody to check */
	char reason[TS_SIGNIN_REASON_MAX]; /* for administrators: valid UTF-8, never empty */
};

struct ts_signin_result {
	bool allowed; /* every rule passed */
	/* the tier granted: Pro or Basic when allowed, TS_LICENSE_NONE when not allowed (the
	 * LicensedGroup reason still names the tier the groups would give) */
	enum ts_license license;
	const struct ts_signin_user *user; /* the one matched candidate (points into the input), or
	                                      NULL when rule 2 failed */
	struct ts_signin_rule_result rules[TS_SIGNIN__RULES]; /* indexed by enum ts_signin_rule */
	enum ts_signin_rule first_failure;                    /* TS_SIGNIN__RULES when allowed */
};

/*
 * Evaluates rules 2 to 5 of docs/product.md §4 for in and fills out (every field).
 * Rule 2 matches in->asserted against each candidate's userName and emails
 * (exact, or ASCII case-insensitive when the account says so); two or more
 * matching users are ambiguous and fail. Rule 4 checks the domain of the
 * address used: the asserted identity, or the primary email when the identity
 * matched a userName that is not an address. Verified domains match exactly
 * (ASCII case-insensitive), never their subdomains.
 */
void ts_directory_signin_evaluate(const struct ts_signin_input *in, struct ts_signin_result *out);

/* Name of a rule ("IdentityMatch", ...), as reports show it; NULL for an out-of-range value. */
const char *ts_directory_signin_rule_name(enum ts_signin_rule r);

/* Name of a tier: "Pro", "Basic"; NULL for TS_LICENSE_NONE (no licence). */
const char *ts_directory_license_name(enum ts_license l);

#endif
