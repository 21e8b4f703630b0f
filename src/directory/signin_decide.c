/*
 * The sign-in decision: the store's data turned into the input of the pure
 * sign-in rules (signin.c), and their result into a decision. See
 * signin_decide.h.
 */
#include "directory/signin_decide.h"

#include <stdio.h>
#include <string.h>

#include "directory/account.h"
#include "directory/user.h"

/* Loads one candidate's addresses and groups into the rules' input shapes. */
static ts_err load_candidate(ts_store_conn_t *c, ts_arena_t *a, const struct ts_user_row *u,
                             struct ts_signin_user *su, struct ts_signin_groups *sg,
                             struct ts_error *e)
{
	struct ts_user_email *emails = NULL;
	struct ts_dir_user_group *groups = NULL;
	int ne = 0, ng = 0;
	ts_err rc = ts_store_dir_user_emails(c, a, u->user_id, &emails, &ne, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_dir_user_groups(c, a, u->user_id, &groups, &ng, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char **addrs = ts_arena_alloc(a, sizeof *addrs * (size_t)(ne + 1));
	for (int i = 0; i < ne; i++)
		addrs[i] = emails[i].value;
	struct ts_signin_group *items = ts_arena_alloc(a, sizeof *items * (size_t)(ng + 1));
	for (int i = 0; i < ng; i++) {
		items[i].name = groups[i].name;
		items[i].license = ts_directory_license_parse(groups[i].license);
	}
	*su = (struct ts_signin_user){
	        .user_id = u->user_id,
	        .user_name = u->user_name,
	        .emails = addrs,
	        .n_emails = (size_t)ne,
	        .active = u->active,
	        .suspended = u->suspended,
	        .registration_status = u->registration_status,
	};
	*sg = (struct ts_signin_groups){.items = items, .n = (size_t)ng};
	return TS_ERR_OK;
}

/* The check for one user: an identity that signs in someone else fails rule 2 for this one. */
static void not_this_user(struct ts_signin_result *res)
{
	struct ts_signin_rule_result *r = &res->rules[TS_SIGNIN_IDENTITY_MATCH];
	r->passed = false;
	snprintf(r->reason, sizeof r->reason,
	         "the identity signs in another user (%.64s), not this one", res->user->user_id);
	for (int i = TS_SIGNIN_ACTIVE; i < TS_SIGNIN__RULES; i++) {
		res->rules[i].passed = false;
		res->rules[i].evaluated = false;
		snprintf(res->rules[i].reason, sizeof res->rules[i].reason,
		         "not evaluated: the identity does not sign in this user");
	}
	res->allowed = false;
	res->license = TS_LICENSE_NONE;
	res->first_failure = TS_SIGNIN_IDENTITY_MATCH;
	res->user = NULL;
}

ts_err ts_directory_signin_decide(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                  const struct ts_signin_assertion *in, const char *for_user_id,
                                  struct ts_signin_decision *out, struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	out->assertion = in;
	struct ts_account acct;
	struct ts_user_row *user = NULL;
	ts_err rc = ts_store_account_get(c, a, account_id, &acct, e);
	if (rc == TS_ERR_OK && for_user_id != NULL) {
		user = ts_arena_alloc(a, sizeof *user);
		rc = ts_store_user_get(c, a, account_id, for_user_id, user, e);
	}
	if (rc != TS_ERR_OK)
		return rc;
	const char *asserted = in->identity;
	if (user != NULL && (asserted == NULL || asserted[0] == '\0')) {
		/* the check without an address: a sign-in with the user's primary address */
		struct ts_user_email *emails = NULL;
		int ne = 0;
		rc = ts_store_dir_user_emails(c, a, user->user_id, &emails, &ne, e);
		if (rc != TS_ERR_OK)
			return rc;
		asserted = ne > 0 ? emails[0].value : user->user_name;
	}

	/* candidates: everyone the identity matches ignoring case (the rules decide the case),
	 * and the user asked about */
	struct ts_user_row *matched = NULL;
	int nm = 0;
	if (asserted != NULL && asserted[0] != '\0')
		rc = ts_store_dir_user_match(c, a, account_id, ts_directory_key(a, asserted),
		                             TS_SIGNIN_CANDIDATES_MAX, &matched, &nm, e);
	if (rc != TS_ERR_OK)
		return rc;
	const struct ts_user_row **rows = ts_arena_alloc(a, sizeof *rows * (size_t)(nm + 1));
	struct ts_signin_user *cands = ts_arena_alloc(a, sizeof *cands * (size_t)(nm + 1));
	struct ts_signin_groups *groups = ts_arena_alloc(a, sizeof *groups * (size_t)(nm + 1));
	int nc = 0;
	bool has_user = false;
	for (int i = 0; i < nm && rc == TS_ERR_OK; i++) {
		has_user = has_user ||
		           (user != NULL && strcmp(matched[i].user_id, user->user_id) == 0);
		rows[nc] = &matched[i];
		rc = load_candidate(c, a, &matched[i], &cands[nc], &groups[nc], e);
		nc++;
	}
	if (rc == TS_ERR_OK && user != NULL && !has_user) {
		rows[nc] = user;
		rc = load_candidate(c, a, user, &cands[nc], &groups[nc], e);
		nc++;
	}
	const char **domains = NULL;
	int nd = 0;
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_verified_names(c, a, account_id, &domains, &nd, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_account_settings settings;
	ts_directory_account_settings_of(&acct, &settings);
	struct ts_signin_input rules_in = {
	        .asserted = asserted,
	        .case_insensitive = settings.case_insensitive_identity_match,
	        .candidates = cands,
	        .n_candidates = (size_t)nc,
	        .verified_domains = domains,
	        .n_verified_domains = (size_t)nd,
	        .groups = groups,
	};
	struct ts_signin_result res;
	ts_directory_signin_evaluate(&rules_in, &res);
	if (user != NULL && res.user != NULL && strcmp(res.user->user_id, user->user_id) != 0)
		not_this_user(&res);
	out->allowed = res.allowed;
	out->license = res.license;
	out->identity = asserted;
	out->user = res.user != NULL ? rows[res.user - cands] : NULL;
	memcpy(out->rules, res.rules, sizeof out->rules);
	out->first_failure = res.first_failure;
	return TS_ERR_OK;
}
