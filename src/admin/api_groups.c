/*
 * Admin API: directory groups mapped to licence tiers (docs/product.md §2, §4 rule
 * 5; the Amazon Chime guide's Okta chapter, "Configure directory groups").
 */
#include "admin/internal.h"
#include "directory/groups.h"

static ts_err answer_list(struct ts__admin_call *call, struct ts_error *e)
{
	json_t *groups = NULL;
	ts_err rc = ts_directory_groups_list(call->conn, call->a, call->account_id, &groups, e);
	if (rc == TS_ERR_OK)
		call->response = json_pack("{s:o}", "Groups", groups);
	return rc;
}

static ts_err list_groups(struct ts__admin_call *call, struct ts_error *e)
{
	return answer_list(call, e);
}

static ts_err put_groups(struct ts__admin_call *call, struct ts_error *e)
{
	ts_err rc = ts_directory_groups_put(call->conn, call->a, call->account_id,
	                                    json_object_get(call->body, "Groups"), e);
	return rc == TS_ERR_OK ? answer_list(call, e) : rc;
}

static ts_err delete_groups(struct ts__admin_call *call, struct ts_error *e)
{
	ts_err rc = ts_directory_groups_delete(call->conn, call->a, call->account_id,
	                                       json_object_get(call->body, "Groups"), e);
	return rc == TS_ERR_OK ? answer_list(call, e) : rc;
}

const struct ts__admin_op ts__admin_list_groups = {
        "tessera:ListGroups", "ListGroups", TS__RES_ACCOUNT, true, false, list_groups};
const struct ts__admin_op ts__admin_put_groups = {
        "tessera:AddOrUpdateGroups", "AddOrUpdateGroups", TS__RES_ACCOUNT, false, true, put_groups};
const struct ts__admin_op ts__admin_delete_groups = {
        "tessera:DeleteGroups", "DeleteGroups", TS__RES_ACCOUNT, false, true, delete_groups};
