/*
 * Unit tests of ts__scim_user_write (src/scim/user.c), the text path of the
 * `userName eq` lookup and of single-user answers: for every stored document
 * and group list it takes, it must give
 * exactly the bytes of the jansson path, ts_json_dump(ts__scim_user_render());
 * a document it cannot take it must refuse, writing nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "scim/internal.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static struct ts__scim_call new_call(ts_arena_t *a)
{
	return (struct ts__scim_call){.a = a, .base = "https://idp.example/scim/v2", .status = 200};
}

static struct ts_user_row row_with(const char *resource, const char *external_id, bool active)
{
	return (struct ts_user_row){.user_id = "0191e3c0-7a4b-7cde-8f01-23456789abcd",
	                            .account_id = "acc-1",
	                            .user_name = "Jane.Doe@example.com",
	                            .external_id = external_id,
	                            .active = active,
	                            .resource = resource,
	                            .version = 3,
	                            .created_ms = 1700000000123,
	                            .modified_ms = 1700000456789};
}

/* Documents as clients send them; the write paths store them parsed and dumped compactly. */
static const char *const stored[] = {
        "{}",
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
        "\"userName\":\"jane.doe@example.com\",\"name\":{\"givenName\":\"Jane\","
        "\"familyName\":\"Doe\"},\"emails\":[{\"value\":\"jane.doe@example.com\","
        "\"type\":\"work\",\"primary\":true}]}",
        /* the enterprise extension, an old userName and active in other cases */
        "{\"UserName\":\"old\",\"ACTIVE\":false,\"urn:ietf:params:scim:schemas:extension:"
        "enterprise:2.0:User\":{\"employeeNumber\":\"701984\",\"manager\":{\"value\":\"26118915"
        "-6090-4610-87e4-49d8ca9f808d\"}},\"displayName\":\"Jane\"}",
        /* strings with braces, brackets, commas, quotes and escapes; numbers; nesting */
        "{\"title\":\"a } b ] c , d \\\" e \\\\ f {\",\"nickName\":\"\\u0001\\n\\t\","
        "\"x\":[[1,2.5,-3e+20],{\"y\":[{}],\"z\":null}],\"locale\":\"\xc3\xa9\xe2\x82\xac\","
        "\"n\":-0.5,\"t\":true,\"f\":false}",
        /* externalId stored as well as in the row, in two cases */
        "{\"externalId\":\"00u1\",\"externalid\":\"dup-case\",\"groups\":[]}",
};

static const struct ts_group_member some_groups[] = {
        {"0191e3c0-0000-7000-8000-000000000001", "Engineering"},
        {"0191e3c0-0000-7000-8000-000000000002", NULL},
        {"0191e3c0-0000-7000-8000-000000000003", "Quote \" and \\ and \xc3\xa9"},
};

/* not listed (-1), listed and empty, listed */
static const struct {
	const struct ts_group_member *groups;
	int n;
} group_lists[] = {{NULL, -1}, {NULL, 0}, {some_groups, 3}};

static void test_user_write_matches_render(void **state)
{
	(void)state;
	const char *externals[] = {NULL, "00uExternal"};
	for (size_t i = 0; i < N_ITEMS(stored); i++) {
		for (size_t x = 0; x < N_ITEMS(externals); x++) {
			for (int active = 0; active < 2; active++) {
				ts_arena_t *a = ts_arena_new();
				struct ts__scim_call call = new_call(a);
				json_t *sent = json_loads(stored[i], 0, NULL);
				assert_non_null(sent);
				const char *text = ts_json_dump(a, sent, NULL);
				json_decref(sent);
				struct ts_user_row row = row_with(text, externals[x], active);
				for (size_t g = 0; g < N_ITEMS(group_lists); g++) {
					int ng = group_lists[g].n;
					json_t *doc = ts__scim_user_render(
					        &call, &row, group_lists[g].groups, ng);
					const char *want = ts_json_dump(a, doc, NULL);
					json_decref(doc);
					struct ts_jsonw w;
					ts_jsonw_init(&w, a, 16);
					bool took = ts__scim_user_write(&call, &w, &row,
					                                group_lists[g].groups, ng);
					/* a stored "groups" is left to the render when it lists
					 * them */
					if (!took && ng >= 0 && strstr(text, "\"groups\"") != NULL)
						continue;
					assert_true(took);
					const char *got = ts_jsonw_finish(&w, NULL);
					if (strcmp(got, want) != 0)
						fail_msg("document %zu, external %zu, active %d, "
						         "groups %zu:\n got  %s\n want %s",
						         i, x, active, g, got, want);
				}
				ts_arena_free(&a);
			}
		}
	}
}

static void test_user_write_refuses_what_it_cannot_copy(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "[]",
	        "{",
	        "{\"a\"}",
	        "{\"a\":1",
	        "{\"a\":\"open}",
	        "{\"a\":[1,2}",
	        "{}x",
	        "{\"a\":1,}",
	        /* the render replaces id and meta in place: left to it */
	        "{\"id\":\"x\"}",
	        "{\"a\":1,\"META\":{}}",
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts__scim_call call = new_call(a);
		struct ts_user_row row = row_with(bad[i], NULL, true);
		struct ts_jsonw w;
		ts_jsonw_init(&w, a, 16);
		ts_jsonw_lit(&w, "[");
		if (ts__scim_user_write(&call, &w, &row, NULL, -1))
			fail_msg("took stored text [%s]", bad[i]);
		assert_string_equal(ts_jsonw_finish(&w, NULL), "["); /* nothing written */
		ts_arena_free(&a);
	}
	/* no stored document at all */
	ts_arena_t *a = ts_arena_new();
	struct ts__scim_call call = new_call(a);
	struct ts_user_row row = row_with(NULL, NULL, true);
	struct ts_jsonw w;
	ts_jsonw_init(&w, a, 16);
	assert_false(ts__scim_user_write(&call, &w, &row, NULL, -1));
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_user_write_matches_render),
	        cmocka_unit_test(test_user_write_refuses_what_it_cannot_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
