/* Admin API: admin keys. Tokens are answered once and never logged or audited. */
#include "admin/internal.h"
#include "core/json.h"
#include "admin/keys.h"

static ts_err create_key(struct ts__admin_call *call, struct ts_error *e)
{
	const char *description = NULL;
	ts_err rc = ts__admin_body_str(call, "Description", false, &description, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_adminkey_created k;
	rc = ts_admin_key_create(call->conn, call->a, json_object_get(call->body, "Policies"),
	                         description, &k, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *shown = ts_admin_key_json(&k.record);
	call->audit_response =
	        ts_json_own(call->a, json_pack("{s:o}", "AdminKey", json_deep_copy(shown)));
	json_object_set_new(shown, "Token", json_string(k.token));
	call->response = json_pack("{s:o}", "AdminKey", shown);
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
	struct ts_adminkey *keys = NULL;
	int n = 0;
	rc = ts_store_adminkey_list(call->conn, call->a, after, limit, &keys, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, ts_admin_key_json(&keys[i]));
	call->response = json_pack("{s:o}", "AdminKeys", arr);
	if (n == limit)
		json_object_set_new(
		        call->response, "NextToken",
		        json_string(ts__admin_next_token(call, keys[n - 1].access_key_id)));
	return TS_ERR_OK;
}

static ts_err delete_key(struct ts__admin_call *call, struct ts_error *e)
{
	call->status = 204;
	return ts_store_adminkey_delete(call->conn, call->req->params[0], e);
}

const struct ts__admin_op ts__admin_create_admin_key = {
        "tessera:CreateAdminKey", "CreateAdminKey", TS__RES_ANY, false, true, create_key};
const struct ts__admin_op ts__admin_list_admin_keys = {
        "tessera:ListAdminKeys", "ListAdminKeys", TS__RES_ANY, true, false, list_keys};
const struct ts__admin_op ts__admin_delete_admin_key = {
        "tessera:DeleteAdminKey", "DeleteAdminKey", TS__RES_ANY, false, false, delete_key};
