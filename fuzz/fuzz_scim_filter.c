/*
 * libFuzzer target for the SCIM filter parser (src/scim/filter.c), which reads
 * the `filter` query parameter of every SCIM list request from outside.
 * Each input is parsed strictly and with unquoted values allowed; whatever
 * parses must print to a canonical form that parses back to an equal tree
 * (when the printed form is within the length cap), print identically a
 * second time, pass or fail the schema checker cleanly, and evaluate to the
 * same answer as its reparse against fixed Okta-style user and group
 * resources. Any mismatch aborts. All memory lives in one arena per input,
 * so LeakSanitizer sees a leak as soon as an object escapes it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "scim/filter.h"

static const char user_json[] =
        "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
        "\"id\":\"23a35c27\",\"externalId\":\"00u1dhhb\",\"userName\":\"test.user@okta.local\","
        "\"name\":{\"givenName\":\"Test\",\"familyName\":\"User\"},"
        "\"emails\":[{\"primary\":true,\"value\":\"test.user@okta.local\",\"type\":\"work\"},"
        "{\"value\":\"tu@home.example\",\"type\":\"home\"}],\"displayName\":\"Test User\","
        "\"active\":true,\"groups\":[],\"title\":\"\",\"nickName\":null,\"age\":42,\"score\":3.5,"
        "\"meta\":{\"resourceType\":\"User\",\"created\":\"2024-03-01T10:00:00Z\","
        "\"lastModified\":\"2024-03-05T12:30:00.250+02:00\"},"
        "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
        "{\"employeeNumber\":\"701984\",\"manager\":{\"value\":\"m1\"}}}";

static const char group_json[] = "{\"id\":\"g\",\"displayName\":\"G\","
                                 "\"members\":[{\"value\":\"U1\"},{\"value\":\"u2\"}]}";

static json_t *user, *grp;

static void check_one(ts_arena_t *a, const char *text, size_t len, unsigned flags)
{
	struct ts_scim_filter *f = NULL, *g = NULL;
	const char *type = NULL;
	struct ts_error e = {0};
	if (ts_scim_filter_parse(a, text, len, flags, &f, &type, &e) != TS_ERR_OK) {
		if (f != NULL || type == NULL || strcmp(type, TS_SCIM_INVALID_FILTER) != 0 ||
		    e.code != TS_ERR_BAD_REQUEST || e.message[0] == '\0')
			abort();
		return;
	}
	if (f == NULL || type != NULL)
		abort();
	char *canon = ts_scim_filter_format(a, f);
	/* the canonical form may be a few bytes longer ("not(" -> "not ("); past the cap skip */
	if (strlen(canon) <= TS_SCIM_FILTER_MAX_LEN) {
		if (ts_scim_filter_parse(a, canon, strlen(canon), 0, &g, &type, &e) != TS_ERR_OK)
			abort();
		if (!ts_scim_filter_equal(f, g))
			abort();
		if (strcmp(ts_scim_filter_format(a, g), canon) != 0)
			abort();
	}
	const struct ts_scim_attr_rules *rules[] = {ts_scim_attr_rules_user(),
	                                            ts_scim_attr_rules_group(), NULL};
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		struct ts_error ce = {0};
		ts_err rc = ts_scim_filter_check(f, rules[i], &ce);
		if (rc != TS_ERR_OK && (rc != TS_ERR_BAD_REQUEST || ce.message[0] == '\0'))
			abort();
		bool mu = ts_scim_filter_match(f, user, rules[i]);
		bool mg = ts_scim_filter_match(f, grp, rules[i]);
		if (g != NULL && (mu != ts_scim_filter_match(g, user, rules[i]) ||
		                  mg != ts_scim_filter_match(g, grp, rules[i])))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (user == NULL) {
		user = json_loads(user_json, 0, NULL);
		grp = json_loads(group_json, 0, NULL);
		if (user == NULL || grp == NULL)
			abort();
	}
	/* a NUL-terminated copy, exactly as long as the input */
	char *text = ts_malloc(size + 1);
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	ts_arena_t *a = ts_arena_new();
	check_one(a, text, size, 0);
	check_one(a, text, size, TS_SCIM_FILTER_BARE_VALUES);
	ts_arena_free(&a);
	ts_free(text);
	return 0;
}
