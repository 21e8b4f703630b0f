/*
 * The admin API's shapes of users, invitations and licence groups (docs/product.md §2;
 * the Amazon Chime guide, "View User Details", "Configure directory groups").
 */
#include "admin/render.h"
#include "core/json.h"
#include "core/timeutil.h"

static json_t *time_or_null(int64_t ms)
{
	if (ms == 0)
		return json_null();
	char buf[32];
	ts_time_iso(ms, buf);
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return ts_json_text(s); /* never NULL: a member is not left out quietly */
}

json_t *ts_admin_user_json(const struct ts_user_view *v)
{
	const struct ts_user_row *u = v->user;
	json_t *proxies = json_array();
	for (size_t i = 0; i < v->n_proxy_emails; i++)
		json_array_append_new(proxies, json_string(v->proxy_emails[i]));
	json_t *groups = json_array();
	for (size_t i = 0; i < v->n_groups; i++)
		json_array_append_new(groups,
		                      json_pack("{s:s, s:o}", "GroupName", v->groups[i].name,
		                                "LicenseType", str_or_null(v->groups[i].license)));
	return json_pack(
	        "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:I}",
	        "UserId", u->user_id, "AccountId", u->account_id, "UserName", u->user_name,
	        "PrimaryEmail", str_or_null(v->primary_email), "ProxyEmails", proxies,
	        "DisplayName", str_or_null(u->display_name), "LicenseType",
	        str_or_null(ts_directory_license_name(v->license)), "LicenseSource",
	        v->from_groups ? "DirectoryGroups" : "Account", "UserRegistrationStatus",
	        v->registration_status, "UserInvitationStatus",
	        v->invitation ? json_string(v->invitation) : json_null(), "Active", u->active,
	        "InvitedOn", time_or_null(u->invited_ms), "RegisteredOn",
	        time_or_null(u->joined_ms), "PersonalPIN", str_or_null(u->personal_pin),
	        "DirectoryGroups", groups, "ActiveSessions", (json_int_t)v->live_sessions);
}

ts_err ts_admin_user_load_json(ts_store_conn_t *c, ts_arena_t *a, const struct ts_account *acct,
                               const struct ts_user_row *u, bool managed, json_t **out,
                               struct ts_error *e)
{
	*out = NULL;
	struct ts_user_view view;
	ts_err rc = ts_directory_user_view(c, a, acct, u, managed, &view, e);
	if (rc == TS_ERR_OK)
		*out = ts_admin_user_json(&view);
	return rc;
}

json_t *ts_admin_invite_json(const struct ts_user_invite *inv)
{
	/* Chime's Invite shape; no email is sent (Tessera has no mailer) */
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "InviteId", inv->user_id, "UserId",
	                 inv->user_id, "Status", TS_USER_INVITE_PENDING, "EmailAddress", inv->email,
	                 "EmailStatus", "NotSent");
}

json_t *ts_admin_license_groups_json(const struct ts_license_group *list, int n)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "GroupName", list[i].group_name,
		                                     "LicenseType", list[i].license));
	return arr;
}
