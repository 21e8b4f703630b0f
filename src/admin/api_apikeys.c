/*
 * Admin API: SCIM API keys of an account (CreateApiKey, ListApiKeys,
 * DeleteApiKey). The token is answered once and never logged or audited.
 */
#include "admin/internal.h"
#include "core/json.h"
#include "credential/apikey.h"

static ts_err create_key(struct ts__admin_call *call, struct ts_error *e)
{
	const char *description = NULL;
	ts_err rc = TS_ERR_OK;
	/* the body is optional: {"Description": "..."} */
	if (call->req->body_len > 0)
		rc = ts_json_parse(call->req->body, call->req->body_len, NULL, call->a, &call->body,
		                   e);
	if (rc == TS_ERR_OK && call->body != NULL && !json_is_object(call->body))
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the body must be a JSON object");
	if (rc == TS_ERR_OK && call->body != NULL)
		rc = ts__admin_body_str(call, "Description", false, &description, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_apikey_created k;
	rc = ts_credential_apikey_create(call->conn, call->a, call->account_id, description, &k, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *shown = ts_credential_apikey_json(&k.record);
	call->audit_response =
	        ts_json_own(call->a, json_pack("{s:o}", "ApiKey", json_deep_copy(shown)));
	json_object_set_new(shown, "Token", json_string(k.token));
	call->response = json_pack("{s:o}", "ApiKey", shown);
	call->status = 201;
	return TS_ERR_OK;
}

static ts_err list_keys(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0;
	const char *after = NULL;
	ts_err rc = ts__admin_paging(call, TS__ADMIN_PAGE_DEFAULT, TS__ADMIN_PAGE_MAX, &limit,
	                             &after, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_account acct;
	rc = ts_store_account_get(call->conn, call->a, call->account_id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_apikey *keys = NULL;
	int n = 0;
	rc = ts_store_apikey_list(call->conn, call->a, call->account_id, after, limit, &keys, &n,
	                          e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, ts_credential_apikey_json(&keys[i]));
	call->response = json_pack("{s:o}", "ApiKeys", arr);
	if (n == limit)
		json_object_set_new(
		        call->response, "NextToken",
		        json_string(ts__admin_next_token(call, keys[n - 1].api_key_id)));
	return TS_ERR_OK;
}

static ts_err delete_key(struct ts__admin_call *call, struct ts_error *e)
{
	call->status = 204;
	return ts_store_apikey_delete(call->conn, call->account_id, call->req->params[1], e);
}

const struct ts__admin_op ts__admin_create_api_key = {
        "tessera:CreateApiKey", "CreateApiKey", TS__RES_ACCOUNT, false, false, create_key};
const struct ts__admin_op ts__admin_list_api_keys = {
        "tessera:ListApiKeys", "ListApiKeys", TS__RES_ACCOUNT, true, false, list_keys};
const struct ts__admin_op ts__admin_delete_api_key = {
        "tessera:DeleteApiKey", "DeleteApiKey", TS__RES_ACCOUNT, false, false, delete_key};
