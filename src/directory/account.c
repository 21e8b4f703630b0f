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

/*
 * The settings are stored as a JSON object of the changes over the defaults
 * (the store's settings column): this file is the one place in directory/
 * that reads and writes that text, and it hands out and takes structs only.
 * The keys below are the stored ones; they happen to be the admin API's
 * names too, which the admin API keeps on its own side.
 */
enum setting_kind { SETTING_BOOL, SETTING_PROFILE };

static const struct setting {
	const char *key; /* in the stored text */
	enum setting_kind kind;
} settings[TS_SETTING__COUNT] = {
        [TS_SETTING_DISABLE_REMOTE_CONTROL] = {"DisableRemoteControl", SETTING_BOOL},
        [TS_SETTING_ENABLE_DIAL_OUT] = {"EnableDialOut", SETTING_BOOL},
        [TS_SETTING_SCIM_COMPATIBILITY] = {"ScimCompatibility", SETTING_PROFILE},
        [TS_SETTING_CASE_INSENSITIVE_MATCH] = {"CaseInsensitiveIdentityMatch", SETTING_BOOL},
        [TS_SETTING_ALLOW_IDP_INITIATED] = {"AllowIdpInitiatedSignIn", SETTING_BOOL},
};

static const char *const profile_names[] = {
        [TS_SCIM_PROFILE_PERMISSIVE] = "permissive",
        [TS_SCIM_PROFILE_AWS_STRICT] = "aws-strict",
};
#define NPROFILES (sizeof profile_names / sizeof profile_names[0])

const char *ts_directory_scim_profile_name(enum ts_scim_profile p)
{
	return (unsigned)p < NPROFILES ? profile_names[p] : profile_names[0];
}

bool ts_directory_scim_profile_parse(const char *name, enum ts_scim_profile *out)
{
	for (size_t i = 0; name != NULL && i < NPROFILES; i++) {
		if (strcmp(profile_names[i], name) == 0) {
			*out = (enum ts_scim_profile)i;
			return true;
		}
	}
	return false;
}

bool *ts_directory_account_setting_flag(struct ts_account_settings *s, enum ts_account_setting k)
{
	switch (k) {
	case TS_SETTING_DISABLE_REMOTE_CONTROL:
		return &s->disable_remote_control;
	case TS_SETTING_ENABLE_DIAL_OUT:
		return &s->enable_dial_out;
	case TS_SETTING_CASE_INSENSITIVE_MATCH:
		return &s->case_insensitive_identity_match;
	case TS_SETTING_ALLOW_IDP_INITIATED:
		return &s->allow_idp_initiated_signin;
	case TS_SETTING_SCIM_COMPATIBILITY:
	case TS_SETTING__COUNT:
		break;
	}
	return NULL;
}

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

void ts_directory_account_settings_of(const struct ts_account *acct,
                                      struct ts_account_settings *out)
{
	*out = (struct ts_account_settings){.scim_compatibility = TS_SCIM_PROFILE_PERMISSIVE};
	json_t *stored = json_loads(acct->settings ? acct->settings : "{}", 0, NULL);
	for (int k = 0; k < TS_SETTING__COUNT; k++) {
		json_t *v = json_object_get(stored, settings[k].key);
		bool *b = ts_directory_account_setting_flag(out, (enum ts_account_setting)k);
		if (b != NULL && json_is_boolean(v))
			*b = json_is_true(v);
		else if (b == NULL && json_is_string(v))
			(void)ts_directory_scim_profile_parse(json_string_value(v),
			                                      &out->scim_compatibility);
	}
	json_decref(stored);
}

ts_err ts_directory_account_settings(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                     struct ts_account_settings *out, struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = ts_store_account_get(c, a, id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_directory_account_settings_of(&acct, out);
	return TS_ERR_OK;
}

ts_err ts_directory_account_settings_update(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                            const struct ts_account_settings_change *ch,
                                            struct ts_error *e)
{
	/* merged into what is stored: no other write may move it meanwhile (docs/store.md) */
	struct ts_account acct;
	ts_err rc = ts_store_account_get_for_update(c, a, id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *stored = ts_json_own(a, json_loads(acct.settings ? acct.settings : "{}", 0, NULL));
	if (!json_is_object(stored))
		stored = ts_json_own(a, json_object());
	struct ts_account_settings to = ch->to;
	for (int k = 0; k < TS_SETTING__COUNT; k++) {
		if ((ch->set & (1u << k)) == 0)
			continue;
		const bool *b = ts_directory_account_setting_flag(&to, (enum ts_account_setting)k);
		json_object_set_new(stored, settings[k].key,
		                    b != NULL ? json_boolean(*b)
		                              : json_string(ts_directory_scim_profile_name(
		                                        to.scim_compatibility)));
	}
	acct.settings = ts_json_dump(a, stored, NULL);
	return ts_store_account_update(c, &acct, e);
}
