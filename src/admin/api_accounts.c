/* Admin API: accounts and their settings (docs/product.md §2, the Chime account calls). */
#include <string.h>

#include "admin/internal.h"
#include "admin/render.h"
#include "core/jsonw.h"

static ts_err create_account(struct ts__admin_call *call, struct ts_error *e)
{
	const char *name = NULL, *type = NULL;
	ts_err rc = ts__admin_body_str(call, "Name", true, &name, e);
	if (rc == TS_ERR_OK)
		rc = ts__admin_body_str(call, "AccountType", false, &type, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_account acct;
	rc = ts_directory_account_create(call->conn, call->a, name, type, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->account_id = acct.account_id;
	call->response = json_pack("{s:o}", "Account", ts_admin_account_json(&acct));
	call->status = 201;
	return TS_ERR_OK;
}

static struct ts_account copy_account(ts_arena_t *a, const struct ts_account *from)
{
	struct ts_account to = *from;
	to.account_id = ts_arena_strdup(a, from->account_id);
	to.name = ts_arena_strdup(a, from->name);
	to.account_type = ts_arena_strdup(a, from->account_type);
	to.status = ts_arena_strdup(a, from->status);
	to.settings = from->settings ? ts_arena_strdup(a, from->settings) : NULL;
	return to;
}

static bool may_list(struct ts__admin_call *call, const struct ts_account *acct)
{
	char arn[TS_ADMIN_ARN_MAX];
	ts_admin_account_arn(acct->account_id, arn, sizeof arn);
	return ts_admin_policy_evaluate(call->policies, "tessera:ListAccounts", arn) ==
	       TS_POLICY_ALLOW;
}

/*
 * A key scoped to some accounts lists only those (IAM resource scoping), and
 * pages are cut from the accounts it may see: filtering a page after it was
 * read answered empty pages whose NextToken, and the name filter, told a
 * scoped key that other tenants exist (an incident). The store is read in
 * batches until the page and one more visible account are found, so a
 * NextToken is given only when another visible account follows.
 */
static ts_err list_accounts(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0;
	const char *after = NULL;
	ts_err rc = ts__admin_paging(call, TS__ADMIN_PAGE_DEFAULT, TS__ADMIN_PAGE_MAX, &limit,
	                             &after, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *name = ts_http_query(call->req, "name");
	struct ts_account *shown = ts_arena_alloc(call->a, sizeof *shown * (size_t)limit);
	int n = 0;
	bool more = false;
	/* for a key that sees every account, the first batch is the page and one more */
	int want = limit + 1;
	while (!more) {
		/* a batch lives in its own arena: a scoped key may skip every account */
		ts_arena_t *scratch = ts_arena_new();
		struct ts_account *batch = NULL;
		int got = 0;
		rc = ts_store_account_list(call->conn, scratch, after, name, want, &batch, &got, e);
		for (int i = 0; rc == TS_ERR_OK && i < got && !more; i++) {
			if (!may_list(call, &batch[i]))
				continue;
			if (n == limit) {
				more = true;
				break;
			}
			shown[n++] = copy_account(call->a, &batch[i]);
		}
		if (got > 0)
			after = ts_arena_strdup(call->a, batch[got - 1].account_id);
		ts_arena_free(&scratch);
		if (rc != TS_ERR_OK)
			return rc;
		if (got < want)
			break;
		want = TS_STORE_PAGE_MAX;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, ts_admin_account_json(&shown[i]));
	call->response = json_pack("{s:o}", "Accounts", arr);
	if (more)
		json_object_set_new(
		        call->response, "NextToken",
		        json_string(ts__admin_next_token(call, shown[n - 1].account_id)));
	return TS_ERR_OK;
}

static ts_err get_account(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc = ts_store_account_get(call->conn, call->a, call->account_id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the most frequent admin call: written straight out, no jansson objects */
	struct ts_jsonw w;
	ts_jsonw_init(&w, call->a, 512);
	ts_jsonw_lit(&w, "{\"Account\":");
	ts_admin_account_write(&w, &acct);
	ts_jsonw_lit(&w, "}");
	call->response_text = ts_jsonw_finish(&w, &call->response_len);
	return TS_ERR_OK;
}

static ts_err update_account(struct ts__admin_call *call, struct ts_error *e)
{
	const char *name = NULL;
	ts_err rc = ts__admin_body_str(call, "Name", true, &name, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_account acct;
	rc = ts_directory_account_rename(call->conn, call->a, call->account_id, name, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->response = json_pack("{s:o}", "Account", ts_admin_account_json(&acct));
	return TS_ERR_OK;
}

static ts_err delete_account(struct ts__admin_call *call, struct ts_error *e)
{
	call->status = 204;
	return ts_store_account_delete(call->conn, call->account_id, e);
}

static ts_err get_settings(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_account_settings settings;
	ts_err rc =
	        ts_directory_account_settings(call->conn, call->a, call->account_id, &settings, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->response =
	        json_pack("{s:o}", "AccountSettings", ts_admin_account_settings_json(&settings));
	return TS_ERR_OK;
}

static ts_err update_settings(struct ts__admin_call *call, struct ts_error *e)
{
	json_t *changes = json_object_get(call->body, "AccountSettings");
	if (changes == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "AccountSettings is required");
	struct ts_account_settings_change change;
	ts_err rc = ts_admin_account_settings_parse(changes, &change, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->status = 204;
	return ts_directory_account_settings_update(call->conn, call->a, call->account_id, &change,
	                                            e);
}

const struct ts__admin_op ts__admin_create_account = {
        "tessera:CreateAccount", "CreateAccount", TS__RES_NEW_ACCOUNT, false, true, create_account};
const struct ts__admin_op ts__admin_list_accounts = {
        "tessera:ListAccounts", "ListAccounts", TS__RES_LIST, true, false, list_accounts};
const struct ts__admin_op ts__admin_get_account = {
        "tessera:GetAccount", "GetAccount", TS__RES_ACCOUNT, true, false, get_account};
/* The Chime guide's table names the rename permission RenameAccount; the call is UpdateAccount. */
const struct ts__admin_op ts__admin_update_account = {
        "tessera:RenameAccount", "UpdateAccount", TS__RES_ACCOUNT, false, true, update_account};
const struct ts__admin_op ts__admin_delete_account = {
        "tessera:DeleteAccount", "DeleteAccount", TS__RES_ACCOUNT, false, false, delete_account};
const struct ts__admin_op ts__admin_get_account_settings = {"tessera:GetAccountSettings",
                                                            "GetAccountSettings",
                                                            TS__RES_ACCOUNT,
                                                            true,
                                                            false,
                                                            get_settings};
const struct ts__admin_op ts__admin_update_account_settings = {"tessera:UpdateAccountSettings",
                                                               "UpdateAccountSettings",
                                                               TS__RES_ACCOUNT,
                                                               false,
                                                               true,
                                                               update_settings};
