/*
 * The sign-in decision with the store's data (docs/product.md §4 rules 2 to 5): what
 * the SAML and OIDC endpoints ask once the IdP's response is valid (rule 1),
 * and what the administrator's sign-in check shows. It loads the account's
 * setting, the candidate users, their groups and the verified domains, and
 * hands them to the pure rules of signin.h. No HTTP and no wire format: the
 * caller renders or audits the decision.
 */
#ifndef TS_DIRECTORY_SIGNIN_DECIDE_H
#define TS_DIRECTORY_SIGNIN_DECIDE_H

#include <stddef.h>

#include "directory/signin.h"
#include "store/store.h"

/* Users one asserted identity may match (two or more is an ambiguity: rule 2 fails). */
#define TS_SIGNIN_CANDIDATES_MAX 50

/* Where an identity comes from. */
enum ts_signin_via {
	TS_SIGNIN_VIA_CHECK, /* the administrator's sign-in check: no IdP involved */
	TS_SIGNIN_VIA_SAML,  /* a validated SAML assertion (docs/product.md §6) */
	TS_SIGNIN_VIA_OIDC,  /* a validated ID token or userinfo answer (docs/product.md §7) */
};

/* One AWS-style role pair of the https://aws.amazon.com/SAML/Attributes/Role attribute. */
struct ts_signin_aws_role {
	const char *role_arn;
	const char *provider_arn;
};

/* What a protocol brings to the decision. Only `identity` is matched (rule 2). */
struct ts_signin_assertion {
	enum ts_signin_via via;
	/* the asserted identity; NULL or empty fails rule 2, except in a check for one user,
	 * where it stands for that user's primary address */
	const char *identity;
	/* which attribute (SAML) or claim (OIDC) gave the identity; NULL: the NameID, or the
	 * check's ?email= */
	const char *identity_source;
	const char *issuer;  /* the IdP's entity ID (SAML) or iss (OIDC); may be NULL */
	const char *subject; /* the IdP's subject: NameID (SAML) or sub (OIDC); may be NULL */
	const struct ts_signin_aws_role *roles; /* AWS role pairs offered (docs/product.md §6) */
	size_t n_roles;
	const char *role_session_name; /* RoleSessionName; may be NULL */
};

struct ts_signin_decision {
	bool allowed;            /* every rule passed */
	enum ts_license license; /* Pro or Basic when allowed, TS_LICENSE_NONE otherwise */
	const char *identity;    /* the identity evaluated (the asserted one, or the default) */
	/* the user the identity signs in (arena memory), or NULL when rule 2 failed */
	const struct ts_user_row *user;
	struct ts_signin_rule_result rules[TS_SIGNIN__RULES]; /* indexed by enum ts_signin_rule */
	enum ts_signin_rule first_failure;                    /* TS_SIGNIN__RULES when allowed */
	const struct ts_signin_assertion *assertion;          /* the input, for the audit event */
};

/*
 * Decides whether in's identity signs in to account_id, in the caller's read
 * (or write) transaction; out is filled on TS_ERR_OK whatever the verdict.
 * for_user_id (may be NULL) asks the administrator's question "would this
 * identity sign in this user?": the user must exist (TS_ERR_NOT_FOUND
 * otherwise), an empty identity stands for the user's primary address (its
 * userName when it has none), and an identity that signs in someone else
 * fails rule 2 for this user. TS_ERR_NOT_FOUND without the account.
 */
TS_MUST_USE ts_err ts_directory_signin_decide(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *account_id,
                                              const struct ts_signin_assertion *in,
                                              const char *for_user_id,
                                              struct ts_signin_decision *out, struct ts_error *e);

#endif
