/*
 * The admin API's shape of a sign-in decision: the sign-in check of docs/product.md §2
 * ({"SignInCheck": {"Allowed", "LicenseType", "Identity", "FirstFailure",
 * "Rules"}}), every rule of §4 with its verdict and reason; and the
 * user's last real attempts (saml-contract "LastSignInAttempts").
 */
#include "admin/render.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "store/signins.h"

json_t *ts_admin_signin_check_json(const struct ts_signin_decision *d)
{
	json_t *rules = json_array();
	for (int i = 0; i < TS_SIGNIN__RULES; i++)
		json_array_append_new(rules, json_pack("{s:s, s:b, s:o}", "Rule", d->rules[i].name,
		                                       "Passed", d->rules[i].passed, "Reason",
		                                       ts_json_text(d->rules[i].reason)));
	const char *lic = ts_directory_license_name(d->license);
	return json_pack("{s:{s:b, s:o, s:s, s:o, s:o}}", "SignInCheck", "Allowed", d->allowed,
	                 "LicenseType", lic ? json_string(lic) : json_null(), "Identity",
	                 d->identity, "FirstFailure",
	                 d->allowed ? json_null()
	                            : json_string(ts_directory_signin_rule_name(d->first_failure)),
	                 "Rules", rules);
}

json_t *ts_admin_signin_attempts_json(const struct ts_signin_attempt *list, int n)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		char when[32];
		ts_time_iso(list[i].time_ms, when);
		json_array_append_new(
		        arr, json_pack("{s:s, s:o, s:o, s:o}", "Time", when, "Outcome",
		                       ts_json_text(list[i].outcome), "Check",
		                       list[i].check_name ? ts_json_text(list[i].check_name)
		                                          : json_null(),
		                       "Source", ts_json_text(list[i].source)));
	}
	return arr;
}
