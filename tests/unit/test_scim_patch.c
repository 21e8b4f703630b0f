/* PATCH engine: table of (document, PatchOp, expected document or scimType). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/json.h"
#include "scim/patch.h"

struct patch_case {
	const char *doc, *body, *want, *scim_type;
	bool group, strict;
};

static const struct patch_case cases[] = {
        {"{\"userName\":\"a\",\"active\":true}",
         "{\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":false}}]}",
         "{\"userName\":\"a\",\"active\":false}", NULL, false, false},
        {"{\"userName\":\"a\"}",
         "{\"Operations\":[{\"op\":\"Replace\",\"path\":\"emails[type eq "
         "\\\"work\\\"].value\",\"value\":\"w\"}]}",
         "{\"userName\":\"a\",\"emails\":[{\"type\":\"work\",\"value\":\"w\"}]}", NULL, false,
         false},
        {"{\"userName\":\"a\"}",
         "{\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq "
         "\\\"work\\\"].value\",\"value\":\"w\"}]}",
         NULL, "noTarget", false, true},
        {"{\"userName\":\"a\"}", "{\"Operations\":[{\"op\":\"remove\",\"path\":\"userName\"}]}",
         NULL, "mutability", false, false},
        {"{\"userName\":\"a\"}", "{\"Operations\":[{\"op\":\"remove\"}]}", NULL, "noTarget", false,
         false},
        {"{\"userName\":\"a\"}", "{\"Operations\":[{\"op\":\"move\",\"path\":\"x\"}]}", NULL,
         "invalidSyntax", false, false},
        {"{\"userName\":\"a\",\"name\":{\"givenName\":\"g\",\"familyName\":\"f\"}}",
         "{\"Operations\":[{\"op\":\"replace\",\"value\":{\"name.givenName\":\"G\",\"urn:ietf:"
         "params:scim:schemas:extension:enterprise:2.0:User:employeeNumber\":\"7\"}}]}",
         "{\"userName\":\"a\",\"name\":{\"givenName\":\"G\",\"familyName\":\"f\"},\"urn:ietf:"
         "params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"7\"}}",
         NULL, false, false},
        {"{\"displayName\":\"g\"}",
         "{\"Operations\":[{\"op\":\"replace\",\"path\":\"members\",\"value\":[]}]}", NULL,
         "invalidPath", true, true},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct patch_case *c = &cases[i];
		ts_arena_t *a = ts_arena_new();
		json_t *doc = ts_json_own(a, json_loads(c->doc, 0, NULL));
		json_t *body = ts_json_own(a, json_loads(c->body, 0, NULL));
		assert_non_null(doc);
		assert_non_null(body);
		struct ts_scim_patch_target t = {.group = c->group,
		                                 .strict = c->strict,
		                                 .rules = c->group ? ts_scim_attr_rules_group()
		                                                   : ts_scim_attr_rules_user()};
		struct ts_scim_patch_members m;
		const char *st = NULL;
		struct ts_error e = {0};
		ts_err rc = ts_scim_patch_apply(a, doc, body, &t, c->group ? &m : NULL, &st, &e);
		if (c->want != NULL) {
			assert_int_equal(rc, TS_ERR_OK);
			json_t *want = ts_json_own(a, json_loads(c->want, 0, NULL));
			if (!json_equal(doc, want))
				fail_msg("case %zu: got %s", i, ts_json_dump(a, doc, NULL));
		} else {
			assert_int_equal(rc, TS_ERR_BAD_REQUEST);
			assert_non_null(st);
			assert_string_equal(st, c->scim_type);
		}
		ts_arena_free(&a);
	}
}

static void test_member_deltas(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *doc = ts_json_own(a, json_loads("{\"displayName\":\"g\"}", 0, NULL));
	json_t *body = ts_json_own(
	        a,
	        json_loads(
	                "{\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{"
	                "\"value\":\"u1\"},{\"value\":\"u2\",\"$ref\":null}]},"
	                "{\"op\":\"remove\",\"path\":\"members[value eq \\\"u1\\\"]\"},"
	                "{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"u3\"}]}]}",
	                0, NULL));
	struct ts_scim_patch_target t = {.group = true, .rules = ts_scim_attr_rules_group()};
	struct ts_scim_patch_members m;
	const char *st = NULL;
	assert_int_equal(ts_scim_patch_apply(a, doc, body, &t, &m, &st, NULL), TS_ERR_OK);
	assert_false(m.clear);
	assert_string_equal(ts_json_dump(a, m.add, NULL), "[\"u2\"]");
	assert_string_equal(ts_json_dump(a, m.remove, NULL), "[\"u1\",\"u3\"]");
	assert_int_equal(m.changes, 4);
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases),
	                                   cmocka_unit_test(test_member_deltas)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
