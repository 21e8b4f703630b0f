/* The admin API's shapes of an account and its settings (docs/product.md §2, the Chime account
 * calls). */
#include <string.h>

#include "admin/render.h"
#include "core/json.h"
#include "core/timeutil.h"

/* The admin API's names of the settings, indexed by enum ts_account_setting. */
static const char *const setting_names[TS_SETTING__COUNT] = {
        [TS_SETTING_DISABLE_REMOTE_CONTROL] = "DisableRemoteControl",
        [TS_SETTING_ENABLE_DIAL_OUT] = "EnableDialOut",
        [TS_SETTING_SCIM_COMPATIBILITY] = "ScimCompatibility",
        [TS_SETTING_CASE_INSENSITIVE_MATCH] = "CaseInsensitiveIdentityMatch",
        [TS_SETTING_ALLOW_IDP_INITIATED] = "AllowIdpInitiatedSignIn",
};

void ts_admin_account_write(struct ts_jsonw *w, const struct ts_account *acct)
{
	char created[32];
	ts_time_iso(acct->created_ms, created);
	ts_jsonw_lit(w, "{");
	ts_jsonw_member_str(w, "AccountId", acct->account_id);
	ts_jsonw_member_str(w, "Name", acct->name);
	ts_jsonw_member_str(w, "AccountType", acct->account_type);
	ts_jsonw_member_str(w, "AccountStatus", acct->status);
	ts_jsonw_member_str(w, "CreatedTimestamp", created);
	ts_jsonw_lit(w, ",\"DefaultLicense\":\"Pro\",\"SupportedLicenses\":[\"Basic\",\"Pro\"]}");
}

json_t *ts_admin_account_json(const struct ts_account *acct)
{
	char created[32];
	ts_time_iso(acct->created_ms, created);
	/* stored text through ts_json_text: a row that is not UTF-8 is escaped, never dropped */
	return json_pack("{s:o, s:o, s:o, s:o, s:s, s:s, s:[s,s]}", "AccountId",
	                 ts_json_text(acct->account_id), "Name", ts_json_text(acct->name),
	                 "AccountType", ts_json_text(acct->account_type), "AccountStatus",
	                 ts_json_text(acct->status), "CreatedTimestamp", created, "DefaultLicense",
	                 "Pro", "SupportedLicenses", "Basic", "Pro");
}

json_t *ts_admin_account_settings_json(const struct ts_account_settings *s)
{
	struct ts_account_settings copy = *s;
	json_t *out = json_object();
	for (int k = 0; k < TS_SETTING__COUNT; k++) {
		const bool *b =
		        ts_directory_account_setting_flag(&copy, (enum ts_account_setting)k);
		json_object_set_new(out, setting_names[k],
		                    b != NULL ? json_boolean(*b)
		                              : json_string(ts_directory_scim_profile_name(
		                                        s->scim_compatibility)));
	}
	return out;
}

/* Reads one member into out; TS_ERR_BAD_REQUEST when the key or the value is not valid. */
static ts_err parse_one(const char *key, const json_t *v, struct ts_account_settings_change *out,
                        struct ts_error *e)
{
	for (int k = 0; k < TS_SETTING__COUNT; k++) {
		if (strcmp(setting_names[k], key) != 0)
			continue;
		bool *b = ts_directory_account_setting_flag(&out->to, (enum ts_account_setting)k);
		if (b != NULL) {
			if (!json_is_boolean(v))
				return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be true or false",
				               key);
			*b = json_is_true(v);
		} else if (!json_is_string(v) ||
		           !ts_directory_scim_profile_parse(json_string_value(v),
		                                            &out->to.scim_compatibility)) {
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s has an unsupported value", key);
		}
		out->set |= 1u << k;
		return TS_ERR_OK;
	}
	return TS_FAIL(e, TS_ERR_BAD_REQUEST, "unknown account setting %.64s", key);
}

ts_err ts_admin_account_settings_parse(const json_t *obj, struct ts_account_settings_change *out,
                                       struct ts_error *e)
{
	*out = (struct ts_account_settings_change){0};
	if (!json_is_object(obj))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "AccountSettings must be an object");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		ts_err rc = parse_one(key, v, out, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	return TS_ERR_OK;
}
