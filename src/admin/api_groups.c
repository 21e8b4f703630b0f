/*
 * Admin API: directory groups mapped to licence tiers (docs/product.md §2, §4 rule
 * 5; the Amazon Chime guide's Okta chapter, "Configure directory groups").
 */
#include <string.h>

#include "admin/internal.h"
#include "admin/render.h"
#include "core/json.h"
#include "directory/groups.h"

static ts_err answer_list(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_license_group *list = NULL;
	int n = 0;
	ts_err rc = ts_directory_groups_list(call->conn, call->a, call->account_id, &list, &n, e);
	if (rc == TS_ERR_OK)
		call->response =
		        json_pack("{s:o}", "Groups", ts_admin_license_groups_json(list, n));
	return rc;
}

/*
 * Reads the body's Groups array ([{"GroupName", "LicenseType"}]) into
 * mappings; license_needed for AddOrUpdateGroups. Every entry is checked
 * before any is used, the first bad one named.
 */
static ts_err read_groups(struct ts__admin_call *call, bool license_needed,
                          struct ts_license_mapping **out, size_t *n, struct ts_error *e)
{
	const json_t *groups = json_object_get(call->body, "Groups");
	*out = NULL;
	*n = 0;
	if (!json_is_array(groups) || json_array_size(groups) == 0 ||
	    json_array_size(groups) > TS_GROUPS_PER_CALL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Groups must be an array of 1 to %d entries",
		               TS_GROUPS_PER_CALL);
	struct ts_license_mapping *list =
	        ts_arena_alloc(call->a, sizeof *list * json_array_size(groups));
	size_t i;
	json_t *g;
	json_array_foreach(groups, i, g)
	{
		const char *name = ts_json_str(g, "GroupName");
		enum ts_license lic = ts_directory_license_parse(ts_json_str(g, "LicenseType"));
		if (name == NULL || name[0] == '\0' || strlen(name) > TS_GROUP_NAME_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "Groups[%zu].GroupName must be a string of 1 to %d bytes", i,
			               TS_GROUP_NAME_MAX);
		if (license_needed && lic == TS_LICENSE_NONE)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "Groups[%zu].LicenseType must be Pro or Basic", i);
		list[i] = (struct ts_license_mapping){.group_name = name, .license = lic};
	}
	*out = list;
	*n = json_array_size(groups);
	return TS_ERR_OK;
}

static ts_err list_groups(struct ts__admin_call *call, struct ts_error *e)
{
	return answer_list(call, e);
}

static ts_err put_groups(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_license_mapping *groups = NULL;
	size_t n = 0;
	ts_err rc = read_groups(call, true, &groups, &n, e);
	if (rc == TS_ERR_OK)
		rc = ts_directory_groups_put(call->conn, call->a, call->account_id, groups, n, e);
	return rc == TS_ERR_OK ? answer_list(call, e) : rc;
}

static ts_err delete_groups(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_license_mapping *groups = NULL;
	size_t n = 0;
	ts_err rc = read_groups(call, false, &groups, &n, e);
	if (rc == TS_ERR_OK)
		rc = ts_directory_groups_delete(call->conn, call->a, call->account_id, groups, n,
		                                e);
	return rc == TS_ERR_OK ? answer_list(call, e) : rc;
}

const struct ts__admin_op ts__admin_list_groups = {
        "tessera:ListGroups", "ListGroups", TS__RES_ACCOUNT, true, false, list_groups};
const struct ts__admin_op ts__admin_put_groups = {
        "tessera:AddOrUpdateGroups", "AddOrUpdateGroups", TS__RES_ACCOUNT, false, true, put_groups};
const struct ts__admin_op ts__admin_delete_groups = {
        "tessera:DeleteGroups", "DeleteGroups", TS__RES_ACCOUNT, false, true, delete_groups};
