/*
 * Accounts (tenants) as the directory sees them: naming rules, the two
 * types, and account settings with their defaults. No HTTP here; the admin
 * API and the CLI both call these inside a transaction they own.
 */
#ifndef TS_DIRECTORY_ACCOUNT_H
#define TS_DIRECTORY_ACCOUNT_H

#include "store/store.h"

#define TS_ACCOUNT_NAME_MAX 100

/* docs/product.md §5: the SCIM compatibility profile of an account. */
enum ts_scim_profile { TS_SCIM_PROFILE_PERMISSIVE, TS_SCIM_PROFILE_AWS_STRICT };

/* The account settings, one per member of struct ts_account_settings, in display order. */
enum ts_account_setting {
	TS_SETTING_DISABLE_REMOTE_CONTROL,
	TS_SETTING_ENABLE_DIAL_OUT,
	TS_SETTING_SCIM_COMPATIBILITY,
	TS_SETTING_CASE_INSENSITIVE_MATCH,
	TS_SETTING_ALLOW_IDP_INITIATED,
	TS_SETTING__COUNT
};

/* An account's settings, defaults filled in. */
struct ts_account_settings {
	bool disable_remote_control;
	bool enable_dial_out;
	enum ts_scim_profile scim_compatibility;
	/* docs/product.md §4 rule 2: exact match by default, case-insensitive when set */
	bool case_insensitive_identity_match;
	/* docs/product.md §6: IdP-initiated SAML sign-in is allowed per account */
	bool allow_idp_initiated_signin;
};

/* A partial change: the settings whose bit (1u << enum ts_account_setting) is in `set`
 * take their value from `to`; the others are left as they are. */
struct ts_account_settings_change {
	unsigned set;
	struct ts_account_settings to;
};

/* Validates and inserts a new Active account; type NULL means "Team". */
TS_MUST_USE ts_err ts_directory_account_create(ts_store_conn_t *c, ts_arena_t *a, const char *name,
                                               const char *type, struct ts_account *out,
                                               struct ts_error *e);
/* Renames an account. */
TS_MUST_USE ts_err ts_directory_account_rename(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                               const char *name, struct ts_account *out,
                                               struct ts_error *e);
/* The settings of account id, defaults filled in; TS_ERR_NOT_FOUND when there is no such account.
 */
TS_MUST_USE ts_err ts_directory_account_settings(ts_store_conn_t *c, ts_arena_t *a, const char *id,
                                                 struct ts_account_settings *out,
                                                 struct ts_error *e);
/*
 * Applies a partial change to the settings of account id in the caller's write
 * transaction (the row is locked from the read). A change with no bit set
 * still checks that the account exists.
 */
TS_MUST_USE ts_err ts_directory_account_settings_update(ts_store_conn_t *c, ts_arena_t *a,
                                                        const char *id,
                                                        const struct ts_account_settings_change *ch,
                                                        struct ts_error *e);
/*
 * The settings held in an account record, defaults filled in (pure). A
 * stored value of the wrong type, or text that does not parse, reads as the
 * default.
 */
void ts_directory_account_settings_of(const struct ts_account *acct,
                                      struct ts_account_settings *out);
/*
 * The member of s that holds setting k when it is a boolean, NULL when it is
 * not (the SCIM profile): lets a caller walk the settings in order.
 */
bool *ts_directory_account_setting_flag(struct ts_account_settings *s, enum ts_account_setting k);
/* "permissive", "aws-strict" (the profile's name in docs/product.md §5). */
const char *ts_directory_scim_profile_name(enum ts_scim_profile p);
/* The profile of a name; false when name is none of them. */
bool ts_directory_scim_profile_parse(const char *name, enum ts_scim_profile *out);
/* Checks a display name: 1..TS_ACCOUNT_NAME_MAX characters, no control characters. */
TS_MUST_USE ts_err ts_directory_account_name_check(const char *name, struct ts_error *e);

#endif
