/*
 * Admin API: users of an account (docs/product.md §2, the Chime user calls;
 * the Amazon Chime administration guide, "Manage Users"). Team accounts invite and remove users;
 * Enterprise accounts get theirs from the IdP and suspend or activate them.
 */
#include <string.h>

#include "admin/internal.h"
#include "admin/render.h"
#include "admin/saml.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "directory/signin_decide.h"
#include "directory/session.h"
#include "directory/user.h"

/*
 * The account named in the path, and whether an IdP manages its directory.
 * A change locks the account's row first (PostgreSQL: FOR UPDATE), so that
 * what it decides from the account (its type, whether it is managed) cannot
 * change under it: admin changes to one account's users run one at a time
 * (docs/store.md).
 */
static ts_err load_account(struct ts__admin_call *call, struct ts_account *acct, bool *managed,
                           struct ts_error *e)
{
	ts_err rc = call->write
	                    ? ts_store_account_get_for_update(call->conn, call->a, call->account_id,
	                                                      acct, e)
	                    : ts_store_account_get(call->conn, call->a, call->account_id, acct, e);
	if (rc == TS_ERR_OK && managed != NULL)
		rc = ts_directory_account_managed(call->conn, call->account_id, managed, e);
	return rc;
}

static const char *user_param(struct ts__admin_call *call)
{
	return call->req->params[1];
}

/* The user named in the path; a change locks its row (as load_account). */
static ts_err load_user(struct ts__admin_call *call, struct ts_user_row *u, struct ts_error *e)
{
	if (call->write)
		return ts_store_user_get_for_update(call->conn, call->a, call->account_id,
		                                    user_param(call), u, e);
	return ts_store_user_get(call->conn, call->a, call->account_id, user_param(call), u, e);
}

/* {"User": view} of a user as it is now. */
static ts_err answer_user(struct ts__admin_call *call, const struct ts_account *acct, bool managed,
                          const char *user_id, struct ts_error *e)
{
	struct ts_user_row u;
	json_t *view = NULL;
	ts_err rc = ts_store_user_get(call->conn, call->a, call->account_id, user_id, &u, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_user_load_json(call->conn, call->a, acct, &u, managed, &view, e);
	if (rc == TS_ERR_OK)
		call->response = json_pack("{s:o}", "User", view);
	return rc;
}

static ts_err list_users(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0;
	const char *after = NULL;
	struct ts_account acct;
	bool managed = false;
	ts_err rc = ts__admin_paging(call, TS__ADMIN_PAGE_DEFAULT, TS__ADMIN_PAGE_MAX, &limit,
	                             &after, e);
	if (rc == TS_ERR_OK)
		rc = load_account(call, &acct, &managed, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* Chime's ListUsers: user-email finds a user by primary or proxy address */
	const char *email = ts_http_query(call->req, "user-email");
	const char *key =
	        email != NULL && email[0] != '\0' ? ts_directory_key(call->a, email) : NULL;
	struct ts_user_row *list = NULL;
	int n = 0;
	rc = ts_store_dir_user_list(call->conn, call->a, call->account_id, key, after, limit, &list,
	                            &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = ts_json_own(call->a, json_array());
	for (int i = 0; i < n; i++) {
		json_t *view = NULL;
		rc = ts_admin_user_load_json(call->conn, call->a, &acct, &list[i], managed, &view,
		                             e);
		if (rc != TS_ERR_OK)
			return rc;
		json_array_append_new(arr, view);
	}
	call->response = json_pack("{s:O}", "Users", arr);
	if (n == limit)
		json_object_set_new(call->response, "NextToken",
		                    json_string(ts__admin_next_token(call, list[n - 1].user_id)));
	return TS_ERR_OK;
}

static ts_err get_user(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	bool managed = false;
	ts_err rc = load_account(call, &acct, &managed, e);
	if (rc != TS_ERR_OK)
		return rc;
	return answer_user(call, &acct, managed, user_param(call), e);
}

/* A body member that must be an array of 1..max strings. */
static ts_err string_list(struct ts__admin_call *call, const char *key, int max, const char ***out,
                          int *n, struct ts_error *e)
{
	json_t *arr = json_object_get(call->body, key);
	*out = NULL;
	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > (size_t)max)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be an array of 1 to %d strings", key,
		               max);
	const char **list = ts_arena_alloc(call->a, sizeof *list * json_array_size(arr));
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s[%zu] must be a string", key, i);
		list[i] = json_string_value(v);
	}
	*out = list;
	*n = (int)json_array_size(arr);
	return TS_ERR_OK;
}

static ts_err invite_users(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	const char **addresses = NULL;
	int n = 0;
	ts_err rc = string_list(call, "UserEmailList", TS_USER_INVITE_MAX, &addresses, &n, e);
	if (rc == TS_ERR_OK)
		rc = load_account(call, &acct, NULL, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_user_invite *made = NULL;
	rc = ts_directory_users_invite(call->conn, call->a, &acct, addresses, n, &made, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *invites = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(invites, ts_admin_invite_json(&made[i]));
	call->response = json_pack("{s:o}", "Invites", invites);
	call->status = 201;
	return TS_ERR_OK;
}

/* SuspendUsers and ActivateUsers: per-user problems are answered in UserErrors. */
static ts_err set_suspended(struct ts__admin_call *call, bool suspend, struct ts_error *e)
{
	struct ts_account acct;
	const char **ids = NULL;
	int n = 0;
	ts_err rc = string_list(call, "UserIdList", TS_USER_BATCH_MAX, &ids, &n, e);
	if (rc == TS_ERR_OK)
		rc = load_account(call, &acct, NULL, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* docs/product.md §4: Team accounts' users "can be removed but not suspended" */
	if (strcmp(acct.account_type, "Enterprise") != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%s works on Enterprise accounts only; users of a Team account are "
		               "removed instead (DELETE .../users/{UserId})",
		               suspend ? "SuspendUsers" : "ActivateUsers");
	json_t *errors = ts_json_own(call->a, json_array());
	for (int i = 0; i < n; i++) {
		struct ts_error one = {0};
		rc = ts_directory_user_suspend(call->conn, call->a, call->account_id, ids[i],
		                               suspend, &one);
		if (rc == TS_ERR_NOT_FOUND || rc == TS_ERR_BAD_REQUEST) {
			json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "UserId", ids[i],
			                                        "ErrorCode", ts_err_name(rc),
			                                        "ErrorMessage", one.message));
			continue;
		}
		if (rc != TS_ERR_OK) {
			*e = one;
			return rc;
		}
	}
	call->response = json_pack("{s:O}", "UserErrors", errors);
	return TS_ERR_OK;
}

static ts_err suspend_users(struct ts__admin_call *call, struct ts_error *e)
{
	return set_suspended(call, true, e);
}

static ts_err activate_users(struct ts__admin_call *call, struct ts_error *e)
{
	return set_suspended(call, false, e);
}

static ts_err update_license(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	struct ts_user_row u;
	bool managed = false;
	const char *lic = NULL;
	ts_err rc = ts__admin_body_str(call, "LicenseType", true, &lic, e);
	if (rc == TS_ERR_OK && ts_directory_license_parse(lic) == TS_LICENSE_NONE)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "LicenseType must be Pro or Basic");
	if (rc == TS_ERR_OK)
		rc = load_account(call, &acct, &managed, e);
	if (rc == TS_ERR_OK)
		rc = load_user(call, &u, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* docs/product.md §4: once an IdP manages the directory, licences come from its groups */
	if (managed)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "licences of this account come from directory groups "
		               "(AddOrUpdateGroups) and cannot be set by hand");
	rc = ts_store_dir_user_set_license(call->conn, u.user_id, lic, ts_now_ms(), e);
	if (rc == TS_ERR_OK)
		rc = answer_user(call, &acct, managed, u.user_id, e);
	return rc;
}

static ts_err logout_user(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	struct ts_user_row u;
	int64_t n = 0;
	ts_err rc = load_account(call, &acct, NULL, e);
	if (rc == TS_ERR_OK)
		rc = load_user(call, &u, e);
	if (rc == TS_ERR_OK)
		rc = ts_directory_session_revoke_all(call->conn, u.user_id, &n, e);
	if (rc == TS_ERR_OK)
		call->audit_response =
		        ts_json_own(call->a, json_pack("{s:I}", "SessionsRevoked", (json_int_t)n));
	call->status = 204;
	return rc;
}

static ts_err reset_pin(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	struct ts_user_row u;
	bool managed = false;
	char pin[TS_USER_PIN_DIGITS + 1];
	ts_err rc = load_account(call, &acct, &managed, e);
	if (rc == TS_ERR_OK)
		rc = load_user(call, &u, e);
	if (rc == TS_ERR_OK)
		rc = ts_directory_pin_new(call->conn, pin, e);
	/* the old PIN dies with the overwrite: it no longer starts this user's meetings */
	if (rc == TS_ERR_OK)
		rc = ts_store_dir_user_set_pin(call->conn, u.user_id, pin, ts_now_ms(), e);
	/*
	 * Another call took the same PIN between our check and our write (the
	 * unique index says so): the transaction is lost on PostgreSQL, so the
	 * call runs again and draws another PIN (ts_store_tx_retry).
	 */
	if (rc == TS_ERR_CONFLICT)
		rc = TS_FAIL(e, TS_ERR_RETRY, "the new PIN was taken meanwhile: %s", e->message);
	if (rc == TS_ERR_OK)
		rc = answer_user(call, &acct, managed, u.user_id, e);
	return rc;
}

static ts_err delete_user(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	struct ts_user_row u;
	ts_err rc = load_account(call, &acct, NULL, e);
	if (rc == TS_ERR_OK)
		rc = load_user(call, &u, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (strcmp(acct.account_type, "Team") != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "users of an Enterprise account are removed by their identity "
		               "provider or with their domain, not one by one");
	/* the user's sessions go with the row (ON DELETE CASCADE): signed out everywhere */
	call->status = 204;
	return ts_store_dir_user_delete(call->conn, u.user_id, e);
}

static ts_err signin_check(struct ts__admin_call *call, struct ts_error *e)
{
	/* the administrator's question: would this address sign this user in (docs/product.md §2)?
	 */
	struct ts_signin_assertion in = {
	        .via = TS_SIGNIN_VIA_CHECK,
	        .identity = ts_http_query(call->req, "email"),
	};
	struct ts_signin_decision d;
	struct ts_signin_attempt *tried = NULL;
	int n = 0;
	json_t *warnings = NULL;
	ts_err rc = ts_directory_signin_decide(call->conn, call->a, call->account_id, &in,
	                                       user_param(call), &d, e);
	/* why a real attempt failed, and what will make the next ones fail (saml-contract) */
	if (rc == TS_ERR_OK)
		rc = ts_store_signin_attempts(call->conn, call->a, call->account_id,
		                              user_param(call), in.identity,
		                              TS__ADMIN_SIGNIN_ATTEMPTS, &tried, &n, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_saml_cert_warnings(call->conn, call->a, call->account_id, ts_now_ms(),
		                                 &warnings, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->response = ts_admin_signin_check_json(&d);
	json_t *view = json_object_get(call->response, "SignInCheck");
	json_object_set_new(view, "LastSignInAttempts", ts_admin_signin_attempts_json(tried, n));
	json_object_set_new(view, "Warnings", warnings);
	return TS_ERR_OK;
}

const struct ts__admin_op ts__admin_list_users = {
        "tessera:ListUsers", "ListUsers", TS__RES_ACCOUNT, true, false, list_users};
const struct ts__admin_op ts__admin_get_user = {
        "tessera:GetUser", "GetUser", TS__RES_ACCOUNT, true, false, get_user};
const struct ts__admin_op ts__admin_invite_users = {
        "tessera:InviteUsers", "InviteUsers", TS__RES_ACCOUNT, false, true, invite_users};
const struct ts__admin_op ts__admin_suspend_users = {
        "tessera:SuspendUsers", "SuspendUsers", TS__RES_ACCOUNT, false, true, suspend_users};
const struct ts__admin_op ts__admin_activate_users = {
        "tessera:ActivateUsers", "ActivateUsers", TS__RES_ACCOUNT, false, true, activate_users};
const struct ts__admin_op ts__admin_update_user_license = {"tessera:UpdateUserLicenses",
                                                           "UpdateUserLicenses",
                                                           TS__RES_ACCOUNT,
                                                           false,
                                                           true,
                                                           update_license};
const struct ts__admin_op ts__admin_logout_user = {
        "tessera:LogoutUser", "LogoutUser", TS__RES_ACCOUNT, false, false, logout_user};
const struct ts__admin_op ts__admin_reset_pin = {
        "tessera:ResetPersonalPin", "ResetPersonalPin", TS__RES_ACCOUNT, false, false, reset_pin};
const struct ts__admin_op ts__admin_delete_user = {
        "tessera:DeleteUser", "DeleteUser", TS__RES_ACCOUNT, false, false, delete_user};
/* the sign-in check reads a user: the guide's GetUser permission covers it */
const struct ts__admin_op ts__admin_signin_check = {
        "tessera:GetUser", "GetSignInCheck", TS__RES_ACCOUNT, true, false, signin_check};

const struct ts__admin_choice ts__admin_users_post[] = {
        {"add", &ts__admin_invite_users},
        {"suspend", &ts__admin_suspend_users},
        {"unsuspend", &ts__admin_activate_users},
        {NULL, NULL},
};
const struct ts__admin_choice ts__admin_user_post[] = {
        {NULL, &ts__admin_update_user_license},
        {"logout", &ts__admin_logout_user},
        {"reset-personal-pin", &ts__admin_reset_pin},
        {NULL, NULL},
};
