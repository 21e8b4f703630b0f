/*
 * Licence groups and the administrator's sign-in check: the store's data
 * turned into the input of the pure sign-in rules (signin.c).
 */
#include "directory/groups.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "directory/account.h"
#include "directory/signin.h"
#include "directory/user.h"

/* users one asserted identity may match (two or more is an ambiguity: rule 2 fails) */
#define CHECK_CANDIDATES_MAX 50

ts_err ts_directory_groups_list(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                json_t **out, struct ts_error *e)
{
	*out = NULL;
	struct ts_account acct;
	struct ts_license_group *list = NULL;
	int n = 0;
	ts_err rc = ts_store_account_get(c, a, account_id, &acct, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_license_group_list(c, a, account_id, &list, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "GroupName", list[i].group_name,
		                                     "LicenseType", list[i].license));
	*out = arr;
	return TS_ERR_OK;
}

/* Checks the shape of a Groups array; license_needed for AddOrUpdateGroups. */
static ts_err check_entries(const json_t *groups, bool license_needed, struct ts_error *e)
{
	if (!json_is_array(groups) || json_array_size(groups) == 0 ||
	    json_array_size(groups) > TS_GROUPS_PER_CALL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Groups must be an array of 1 to %d entries",
		               TS_GROUPS_PER_CALL);
	size_t i;
	json_t *g;
	json_array_foreach(groups, i, g)
	{
		const char *name = ts_json_str(g, "GroupName");
		const char *lic = ts_json_str(g, "LicenseType");
		if (name == NULL || name[0] == '\0' || strlen(name) > TS_GROUP_NAME_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "Groups[%zu].GroupName must be a string of 1 to %d bytes", i,
			               TS_GROUP_NAME_MAX);
		if (license_needed && ts_directory_license_parse(lic) == TS_LICENSE_NONE)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "Groups[%zu].LicenseType must be Pro or Basic", i);
	}
	return TS_ERR_OK;
}

ts_err ts_directory_groups_put(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                               const json_t *groups, struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = check_entries(groups, true, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t i;
	json_t *g;
	json_array_foreach(groups, i, g)
	{
		bool exists = false;
		const char *name = ts_json_str(g, "GroupName");
		rc = ts_store_dir_group_exists(c, account_id, name, &exists, e);
		if (rc != TS_ERR_OK)
			return rc;
		/* Chime guide (Okta chapter): the name must match a pushed group exactly */
		if (!exists)
			return TS_FAIL(e, TS_ERR_NOT_FOUND, "%s: %.200s", TS_GROUP_NOT_PUSHED,
			               name);
	}
	int64_t now = ts_now_ms();
	json_array_foreach(groups, i, g)
	{
		struct ts_license_group lg = {
		        .account_id = account_id,
		        .group_name = ts_json_str(g, "GroupName"),
		        .license = ts_directory_license_name(
		                ts_directory_license_parse(ts_json_str(g, "LicenseType"))),
		        .modified_ms = now,
		};
		rc = ts_store_license_group_upsert(c, &lg, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	return TS_ERR_OK;
}

ts_err ts_directory_groups_delete(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                  const json_t *groups, struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = check_entries(groups, false, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	size_t i;
	json_t *g;
	json_array_foreach(groups, i, g)
	{
		if (rc != TS_ERR_OK)
			break;
		rc = ts_store_license_group_delete(c, account_id, ts_json_str(g, "GroupName"), e);
	}
	return rc;
}

/* ---- the sign-in check ---------------------------------------------------------------- */

/* Loads one candidate's addresses and groups into the rules' input shapes. */
static ts_err load_candidate(ts_store_conn_t *c, ts_arena_t *a, const struct ts_dir_user *u,
                             struct ts_signin_user *su, struct ts_signin_groups *sg,
                             struct ts_error *e)
{
	struct ts_dir_email *emails = NULL;
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

ts_err ts_directory_signin_check(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                 const char *user_id, const char *email, json_t **out,
                                 struct ts_error *e)
{
	*out = NULL;
	struct ts_account acct;
	struct ts_dir_user user;
	ts_err rc = ts_store_account_get(c, a, account_id, &acct, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_dir_user_get(c, a, account_id, user_id, &user, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *asserted = email;
	if (asserted == NULL || asserted[0] == '\0') {
		/* without ?email=: a sign-in with the user's primary address */
		struct ts_dir_email *emails = NULL;
		int ne = 0;
		rc = ts_store_dir_user_emails(c, a, user_id, &emails, &ne, e);
		if (rc != TS_ERR_OK)
			return rc;
		asserted = ne > 0 ? emails[0].value : user.user_name;
	}

	/* candidates: everyone the identity matches ignoring case (the rules decide the case),
	 * and the user asked about */
	struct ts_dir_user *matched = NULL;
	int nm = 0;
	rc = ts_store_dir_user_match(c, a, account_id, ts_directory_key(a, asserted),
	                             CHECK_CANDIDATES_MAX, &matched, &nm, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_signin_user *cands = ts_arena_alloc(a, sizeof *cands * (size_t)(nm + 1));
	struct ts_signin_groups *groups = ts_arena_alloc(a, sizeof *groups * (size_t)(nm + 1));
	int nc = 0;
	bool has_user = false;
	for (int i = 0; i < nm && rc == TS_ERR_OK; i++) {
		has_user = has_user || strcmp(matched[i].user_id, user_id) == 0;
		rc = load_candidate(c, a, &matched[i], &cands[nc], &groups[nc], e);
		nc++;
	}
	if (rc == TS_ERR_OK && !has_user) {
		rc = load_candidate(c, a, &user, &cands[nc], &groups[nc], e);
		nc++;
	}
	const char **domains = NULL;
	int nd = 0;
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_verified_names(c, a, account_id, &domains, &nd, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *settings = ts_json_own(a, ts_directory_account_settings_of(&acct));
	struct ts_signin_input in = {
	        .asserted = asserted,
	        .case_insensitive =
	                json_is_true(json_object_get(settings, "CaseInsensitiveIdentityMatch")),
	        .candidates = cands,
	        .n_candidates = (size_t)nc,
	        .verified_domains = domains,
	        .n_verified_domains = (size_t)nd,
	        .groups = groups,
	};
	struct ts_signin_result res;
	ts_directory_signin_evaluate(&in, &res);
	if (res.user != NULL && strcmp(res.user->user_id, user_id) != 0) {
		/* the identity signs in someone else: for this user, rule 2 fails */
		struct ts_signin_rule_result *r = &res.rules[TS_SIGNIN_IDENTITY_MATCH];
		r->passed = false;
		snprintf(r->reason, sizeof r->reason,
		         "the identity signs in another user (%.64s), not this one",
		         res.user->user_id);
		for (int i = TS_SIGNIN_ACTIVE; i < TS_SIGNIN__RULES; i++) {
			res.rules[i].passed = false;
			res.rules[i].evaluated = false;
			snprintf(res.rules[i].reason, sizeof res.rules[i].reason,
			         "not evaluated: the identity does not sign in this user");
		}
		res.allowed = false;
		res.license = TS_LICENSE_NONE;
		res.first_failure = TS_SIGNIN_IDENTITY_MATCH;
	}
	json_t *rules = json_array();
	for (int i = 0; i < TS_SIGNIN__RULES; i++)
		json_array_append_new(rules,
		                      json_pack("{s:s, s:b, s:o}", "Rule",
		                                ts_directory_signin_rule_name(res.rules[i].rule),
		                                "Passed", res.rules[i].passed, "Reason",
		                                ts_json_text(res.rules[i].reason)));
	const char *lic = ts_directory_license_name(res.license);
	*out = json_pack("{s:{s:b, s:o, s:s, s:o, s:o}}", "SignInCheck", "Allowed", res.allowed,
	                 "LicenseType", lic ? json_string(lic) : json_null(), "Identity", asserted,
	                 "FirstFailure",
	                 res.allowed
	                         ? json_null()
	                         : json_string(ts_directory_signin_rule_name(res.first_failure)),
	                 "Rules", rules);
	return TS_ERR_OK;
}
