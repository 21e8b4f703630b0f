/*
 * Accounts: the Chime account model (Team or Enterprise, Active) with
 * Tessera's settings. Settings are stored as the changes over the defaults,
 * so a default that improves in a later release reaches old accounts.
 */
#include "directory/account.h"

#include <string.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/utf8.h"

enum setting_kind { SETTING_BOOL, SETTING_ENUM };

static const struct setting {
	const char *name;
	enum setting_kind kind;
	const char *default_text; /* for enums */
	bool default_bool;
	const char *const *choices;
} settings[] = {
        {"DisableRemoteControl", SETTING_BOOL, NULL, false, NULL},
        {"EnableDialOut", SETTING_BOOL, NULL, false, NULL},
        /* docs/product.md §5: the SCIM compatibility profile */
        {"ScimCompatibility", SETTING_ENUM, "permissive", false,
         (const char *const[]){"permissive", "aws-strict", NULL}},
        /* docs/product.md §4 rule 2: exact match by default, case-insensitive when set */
        {"CaseInsensitiveIdentityMatch", SETTING_BOOL, NULL, false, NULL},
        /* docs/product.md §6: IdP-initiated SAML sign-in is allowed per account */
        {"AllowIdpInitiatedSignIn", SETTING_BOOL, NULL, false, NULL},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

ts_err ts_directory_account_name_check(const char *name, struct ts_error *e)
{
	if (name == NULL || name[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Name is required");
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p;) {
		uint32_t cp = 0;
		size_t len = ts_utf8_decode(p, &cp);
		if (len == 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Name is not valid UTF-8");
		if (ts_utf8_is_control(cp))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Name contains a control character");
		p += len;
		chars++;
	}
	if (chars > TS_ACCOUNT_NAME_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Name is longer than %d characters",
		               TS_ACCOUNT_NAME_MAX);
	return TS_ERR_OK;
}

ts_err ts_directory_account_create(ts_store_conn_t *c, ts_arena_t *a, const char *name,
                                   const char *type, struct ts_account *out, struct ts_error *e)
{
	ts_err rc = ts_directory_account_name_check(name, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (type == NULL)
		type = "Team";
	if (strcmp(type, "Team") != 0 && strcmp(type, "Enterprise") != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "AccountType must be Team or Enterprise");
	char *id = ts_arena_alloc(a, TS_UUID_LEN + 1);
	ts_uuid_v4(id);
	*out = (struct ts_account){
	        .account_id = id,
	        .name = ts_arena_strdup(a, name),
	        .account_type = strcmp(type, "Team") == 0 ? "Team" : "Enterprise",
	        .status = "Active",
	        .created_ms = ts_now_ms(),
	        .settings = "{}",
	};
	return ts_store_account_insert(c, out, e);
}

ts_err ts_directory_account_rename(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                   const char *name, struct ts_account *out, struct ts_error *e)
{
	ts_err rc = ts_directory_account_name_check(name, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the row is written back whole: locked from this read (docs/store.md) */
	rc = ts_store_account_get_for_update(c, a, id, out, e);
	if (rc != TS_ERR_OK)
		return rc;
	out->name = ts_arena_strdup(a, name);
	return ts_store_account_update(c, out, e);
}

json_t *ts_directory_account_settings_of(const struct ts_account *acct)
{
	json_t *stored = json_loads(acct->settings ? acct->settings : "{}", 0, NULL);
	json_t *out = json_object();
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		json_t *v = json_object_get(stored, s->name);
		if (v != NULL)
			json_object_set(out, s->name, v);
		else if (s->kind == SETTING_BOOL)
			json_object_set_new(out, s->name, json_boolean(s->default_bool));
		else
			json_object_set_new(out, s->name, json_string(s->default_text));
	}
	json_decref(stored);
	return out;
}

ts_err ts_directory_account_settings(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                     json_t **out, struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = ts_store_account_get(c, a, id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	*out = ts_json_own(a, ts_directory_account_settings_of(&acct));
	return TS_ERR_OK;
}

static ts_err check_setting(const char *key, const json_t *v, struct ts_error *e)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		if (strcmp(s->name, key) != 0)
			continue;
		if (s->kind == SETTING_BOOL) {
			if (!json_is_boolean(v))
				return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be true or false",
				               key);
			return TS_ERR_OK;
		}
		if (json_is_string(v))
			for (const char *const *ch = s->choices; *ch; ch++)
				if (strcmp(*ch, json_string_value(v)) == 0)
					return TS_ERR_OK;
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s has an unsupported value", key);
	}
	return TS_FAIL(e, TS_ERR_BAD_REQUEST, "unknown account setting %.64s", key);
}

ts_err ts_directory_account_settings_update(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                            const json_t *changes, struct ts_error *e)
{
	if (!json_is_object(changes))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "AccountSettings must be an object");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)changes, key, v)
	{
		ts_err rc = check_setting(key, v, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	/* merged into what is stored: no other write may move it meanwhile (docs/store.md) */
	struct ts_account acct;
	ts_err rc = ts_store_account_get_for_update(c, a, id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *stored = ts_json_own(a, json_loads(acct.settings ? acct.settings : "{}", 0, NULL));
	if (!json_is_object(stored))
		stored = ts_json_own(a, json_object());
	json_object_update(stored, (json_t *)changes);
	acct.settings = ts_json_dump(a, stored, NULL);
	return ts_store_account_update(c, &acct, e);
}

void ts_directory_account_write(struct ts_jsonw *w, const struct ts_account *acct)
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

json_t *ts_directory_account_json(const struct ts_account *acct)
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
