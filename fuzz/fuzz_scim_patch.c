/*
 * libFuzzer target: a PatchOp body (JSON, capped as the server caps it)
 * applied to a fixed user and a fixed group by the PATCH engine, in both
 * compatibility profiles. Any crash, leak or sanitizer report is a bug.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "scim/patch.h"

static const char user_doc[] =
        "{\"userName\":\"a@b\",\"name\":{\"givenName\":\"G\"},\"emails\":[{\"type\":\"work\","
        "\"value\":\"a@b\",\"primary\":true},{\"type\":\"home\",\"value\":\"h@b\"}],"
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"1\"}"
        "}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_arena_t *a = ts_arena_new();
	json_t *body = NULL;
	if (ts_json_parse((const char *)data, size, NULL, a, &body, NULL) == TS_ERR_OK) {
		for (int i = 0; i < 4; i++) {
			bool group = i & 1, strict = i & 2;
			json_t *doc = ts_json_own(
			        a,
			        json_loads(group ? "{\"displayName\":\"G\"}" : user_doc, 0, NULL));
			struct ts_scim_patch_target t = {.group = group,
			                                 .strict = strict,
			                                 .rules =
			                                         group ? ts_scim_attr_rules_group()
			                                               : ts_scim_attr_rules_user()};
			struct ts_scim_patch_members m;
			const char *st = NULL;
			struct ts_error e = {0};
			(void)ts_scim_patch_apply(a, doc, body, &t, group ? &m : NULL, &st, &e);
		}
	}
	ts_arena_free(&a);
	return 0;
}
