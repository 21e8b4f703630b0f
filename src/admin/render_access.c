/*
 * The admin API's shapes of targets, permission sets and assignments (SPEC
 * §8, docs/access.md): the store hands out structs, the admin API and the
 * CLI's --json output render them here. Stored text goes through
 * ts_json_text, so a row that is not UTF-8 is escaped, never dropped.
 */
#include <string.h>

#include "admin/access.h"
#include "core/json.h"
#include "core/timeutil.h"

static json_t *iso(int64_t ms)
{
	char buf[32];
	ts_time_iso(ms, buf);
	return json_string(buf);
}

json_t *ts_admin_target_json(const struct ts_target *t)
{
	json_t *j = json_object();
	json_object_set_new(j, "TargetId", ts_json_text(t->target_id));
	json_object_set_new(j, "AccountId", ts_json_text(t->account_id));
	json_object_set_new(j, "Name", ts_json_text(t->name));
	json_object_set_new(j, "Kind", ts_json_text(t->kind));
	json_object_set_new(j, "Url", ts_json_text(t->url));
	json_object_set_new(j, "CreatedTimestamp", iso(t->created_ms));
	json_object_set_new(j, "UpdatedTimestamp", iso(t->modified_ms));
	return j;
}

json_t *ts_admin_permission_set_json(const struct ts_permission_set *p)
{
	json_t *policies = NULL;
	/* checked when stored (ts_admin_access_policies_check); an unreadable row shows [] */
	if (p->policies_json == NULL ||
	    ts_json_parse(p->policies_json, strlen(p->policies_json), NULL, NULL, &policies,
	                  NULL) != TS_ERR_OK ||
	    !json_is_array(policies)) {
		json_decref(policies);
		policies = json_array();
	}
	json_t *j = json_object();
	json_object_set_new(j, "PermissionSetId", ts_json_text(p->permission_set_id));
	json_object_set_new(j, "AccountId", ts_json_text(p->account_id));
	json_object_set_new(j, "Name", ts_json_text(p->name));
	json_object_set_new(j, "Policies", policies);
	json_object_set_new(j, "SessionDuration", json_integer(p->session_duration_s));
	json_object_set_new(j, "CreatedTimestamp", iso(p->created_ms));
	json_object_set_new(j, "UpdatedTimestamp", iso(p->modified_ms));
	return j;
}

json_t *ts_admin_assignment_json(const struct ts_assignment *as)
{
	json_t *j = json_object();
	json_object_set_new(j, "AssignmentId", ts_json_text(as->assignment_id));
	json_object_set_new(j, "AccountId", ts_json_text(as->account_id));
	json_object_set_new(j, "PrincipalType", ts_json_text(as->principal_type));
	json_object_set_new(j, "PrincipalId", ts_json_text(as->principal_id));
	json_object_set_new(j, "TargetId", ts_json_text(as->target_id));
	json_object_set_new(j, "PermissionSetId", ts_json_text(as->permission_set_id));
	json_object_set_new(j, "CreatedTimestamp", iso(as->created_ms));
	return j;
}
