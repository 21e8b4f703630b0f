/*
 * The admin API's wire shapes of the directory's domain types (the Chime
 * PascalCase JSON of docs/product.md §2): the directory hands out structs, the admin
 * API and the CLI's --json output render them here. Each function returns a
 * new reference unless it says otherwise.
 */
#ifndef TS_ADMIN_RENDER_H
#define TS_ADMIN_RENDER_H

#include <jansson.h>

#include "core/jsonw.h"
#include "directory/account.h"
#include "directory/groups.h"
#include "directory/signin_decide.h"
#include "directory/user.h"
#include "store/store.h"

/* {"AccountId", "Name", "AccountType", "AccountStatus", "CreatedTimestamp", ...}. */
json_t *ts_admin_account_json(const struct ts_account *acct);
/* The same object, written to w (the hot GetAccount path builds no jansson objects). */
void ts_admin_account_write(struct ts_jsonw *w, const struct ts_account *acct);
/* {"DisableRemoteControl": false, ...}: every setting, in the order of enum ts_account_setting. */
json_t *ts_admin_account_settings_json(const struct ts_account_settings *s);
/*
 * Reads an AccountSettings object into a change: every key must be a known
 * setting with a value of the right type and range (TS_ERR_BAD_REQUEST
 * naming the first that is not).
 */
TS_MUST_USE ts_err ts_admin_account_settings_parse(const json_t *obj,
                                                   struct ts_account_settings_change *out,
                                                   struct ts_error *e);

/* {"DomainName", "DomainStatus", "VerificationRecord": {...}, ...}. */
json_t *ts_admin_domain_json(const struct ts_domain *d);
/*
 * The domain verifier's on_verdict hook (directory/verifier.h): the
 * UpdateDomainStatus audit event of a status the verifier decided, written in
 * the verdict's transaction.
 */
TS_MUST_USE ts_err ts_admin_domain_verdict_audit(ts_store_conn_t *c, ts_arena_t *a,
                                                 const struct ts_domain *d, struct ts_error *e);

/* {"UserId", "AccountId", "UserName", "PrimaryEmail", "LicenseType", ...}. */
json_t *ts_admin_user_json(const struct ts_user_view *v);
/* Loads the view of u (ts_directory_user_view) and renders it into *out (new reference). */
TS_MUST_USE ts_err ts_admin_user_load_json(ts_store_conn_t *c, ts_arena_t *a,
                                           const struct ts_account *acct,
                                           const struct ts_user_row *u, bool managed, json_t **out,
                                           struct ts_error *e);
/* Chime's Invite: {"InviteId", "UserId", "Status", "EmailAddress", "EmailStatus"}. */
json_t *ts_admin_invite_json(const struct ts_user_invite *inv);

/* [{"GroupName", "LicenseType"}] of n mappings. */
json_t *ts_admin_license_groups_json(const struct ts_license_group *list, int n);

/* {"SignInCheck": {"Allowed", "LicenseType", "Identity", "FirstFailure", "Rules": [...]}}. */
json_t *ts_admin_signin_check_json(const struct ts_signin_decision *d);
/* [{"Time", "Outcome", "Check", "Source"}] of n attempts (store/signins.h), in their order. */
json_t *ts_admin_signin_attempts_json(const struct ts_signin_attempt *list, int n);

#endif
