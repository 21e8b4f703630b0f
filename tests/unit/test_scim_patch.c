/* PATCH engine: table of (document, PatchOp, expected document or scimType). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "scim/patch.h"

/* Values named per timing run; big enough that a run is well above timer noise. */
#define TIMING_N 5000
#define TIMING_RUNS 3
#define TIMING_REPS 4 /* applications per measurement */
#define TIMING_TRIES 3
/* t(2n) / t(n): about 2 for a linear engine, 4 for the old nested scans */
#define TIMING_MAX_RATIO 3.0

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
        /* An unknown sub-attribute of a known complex attribute, by path or value */
        {"{\"userName\":\"a\",\"emails\":[{\"type\":\"work\",\"value\":\"w\"}]}",
         "{\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq "
         "\\\"work\\\"].bogusSub\",\"value\":\"x\"}]}",
         NULL, "invalidPath", false, false},
        {"{\"userName\":\"a\"}",
         "{\"Operations\":[{\"op\":\"add\",\"path\":\"emails[type eq "
         "\\\"work\\\"].bogusSub\",\"value\":\"x\"}]}",
         NULL, "invalidPath", false, false},
        {"{\"userName\":\"a\"}",
         "{\"Operations\":[{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"value\":"
         "\"w\",\"bogus\":1}]}]}",
         NULL, "invalidPath", false, false},
        {"{\"userName\":\"a\"}",
         "{\"Operations\":[{\"op\":\"replace\",\"path\":\"name.bogus\",\"value\":\"x\"}]}", NULL,
         "invalidPath", false, false},
        {"{\"userName\":\"a\"}",
         "{\"Operations\":[{\"op\":\"replace\",\"value\":{\"name\":{\"givenName\":\"g\","
         "\"nickname\":\"n\"}}}]}",
         NULL, "invalidPath", false, false},
        /* known sub-attributes, any case, still pass */
        {"{\"userName\":\"a\",\"emails\":[{\"type\":\"work\",\"value\":\"w\"}]}",
         "{\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq "
         "\\\"work\\\"].Display\",\"value\":\"x\"}]}",
         "{\"userName\":\"a\",\"emails\":[{\"type\":\"work\",\"value\":\"w\",\"Display\":"
         "\"x\"}]}",
         NULL, false, false},
        /* remove by value list: equal values and values with the same "value" go */
        {"{\"userName\":\"a\",\"emails\":[{\"value\":\"x\"},{\"value\":\"y\",\"type\":"
         "\"work\"},{\"value\":\"z\"}]}",
         "{\"Operations\":[{\"op\":\"remove\",\"path\":\"emails\",\"value\":[{\"value\":"
         "\"y\"},{\"value\":\"x\"},{\"value\":\"q\"}]}]}",
         "{\"userName\":\"a\",\"emails\":[{\"value\":\"z\"}]}", NULL, false, false},
        /* add: a value already there, or twice in the request, is added once */
        {"{\"userName\":\"a\",\"emails\":[{\"value\":\"x\",\"type\":\"work\"}]}",
         "{\"Operations\":[{\"op\":\"add\",\"path\":\"emails\",\"value\":[{\"type\":"
         "\"work\",\"value\":\"x\"},{\"value\":\"y\"},{\"value\":\"y\"}]}]}",
         "{\"userName\":\"a\",\"emails\":[{\"value\":\"x\",\"type\":\"work\"},{\"value\":"
         "\"y\"}]}",
         NULL, false, false},
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

/* {"Operations":[{"op":op,"path":attr,"value":[n values]}]} (new reference). */
static json_t *values_op(const char *op, const char *attr, int from, int n)
{
	json_t *vals = json_array();
	/* addresses have no "value" (RFC 7643 §4.1.2) */
	const char *key = strcasecmp(attr, "addresses") == 0 ? "formatted" : "value";
	for (int i = from; i < from + n; i++) {
		char v[64];
		snprintf(v, sizeof v, "u%d@example.com", i);
		json_array_append_new(vals, json_pack("{s:s, s:s}", key, v, "type", "work"));
	}
	return json_pack("{s:[{s:s, s:s, s:o}]}", "Operations", "op", op, "path", attr, "value",
	                 vals);
}

/* The caps refuse too many values before any work, with invalidValue. */
static void test_caps(void **state)
{
	(void)state;
	struct {
		const char *attr;
		size_t cap;
	} attrs[] = {{"emails", TS_SCIM_MAX_EMAILS},
	             {"phoneNumbers", TS_SCIM_MAX_PHONE_NUMBERS},
	             {"addresses", TS_SCIM_MAX_ADDRESSES},
	             {"roles", TS_SCIM_MAX_ROLES},
	             {"x509Certificates", TS_SCIM_MAX_X509_CERTIFICATES}};
	for (size_t k = 0; k < sizeof attrs / sizeof attrs[0]; k++) {
		assert_int_equal(ts_scim_values_cap(attrs[k].attr), attrs[k].cap);
		for (int over = 0; over < 2; over++) {
			ts_arena_t *a = ts_arena_new();
			json_t *doc = ts_json_own(a, json_pack("{s:s}", "userName", "a"));
			json_t *body = ts_json_own(
			        a, values_op("add", attrs[k].attr, 0, (int)attrs[k].cap + over));
			struct ts_scim_patch_target t = {.rules = ts_scim_attr_rules_user()};
			const char *st = NULL;
			ts_err rc = ts_scim_patch_apply(a, doc, body, &t, NULL, &st, NULL);
			if (over) {
				assert_int_equal(rc, TS_ERR_BAD_REQUEST);
				assert_string_equal(st, "invalidValue");
			} else {
				assert_int_equal(rc, TS_ERR_OK);
			}
			ts_arena_free(&a);
		}
	}
	/* the values named by all operations of a request count together */
	ts_arena_t *a = ts_arena_new();
	json_t *doc = ts_json_own(a, json_pack("{s:s}", "userName", "a"));
	json_t *body = ts_json_own(a, values_op("add", "emails", 0, TS_SCIM_MAX_EMAILS / 2 + 1));
	json_t *more = ts_json_own(a, values_op("add", "EMAILS", 1000, TS_SCIM_MAX_EMAILS / 2 + 1));
	json_array_extend(json_object_get(body, "Operations"), json_object_get(more, "Operations"));
	struct ts_scim_patch_target t = {.rules = ts_scim_attr_rules_user()};
	const char *st = NULL;
	assert_int_equal(ts_scim_patch_apply(a, doc, body, &t, NULL, &st, NULL),
	                 TS_ERR_BAD_REQUEST);
	assert_string_equal(st, "invalidValue");
	/* aws-strict: the 101st membership change is refused at once */
	json_t *gdoc = ts_json_own(a, json_pack("{s:s}", "displayName", "g"));
	json_t *gbody = ts_json_own(a, values_op("add", "members", 0, 101));
	struct ts_scim_patch_target gt = {
	        .group = true, .strict = true, .rules = ts_scim_attr_rules_group()};
	struct ts_scim_patch_members m;
	assert_int_equal(ts_scim_patch_apply(a, gdoc, gbody, &gt, &m, &st, NULL),
	                 TS_ERR_BAD_REQUEST);
	assert_string_equal(st, "invalidValue");
	assert_int_equal(m.changes, 101); /* stopped at the first value past the limit */
	ts_arena_free(&a);
}

static void test_has_control(void **state)
{
	(void)state;
	assert_false(ts_scim_has_control("ann@example.com", 15));
	assert_false(ts_scim_has_control("\xc3\xa9t\xc3\xa9", 5)); /* UTF-8 is fine */
	assert_true(ts_scim_has_control("a\nb", 3));
	assert_true(ts_scim_has_control("a\x1b[2Jb", 6));
	assert_true(ts_scim_has_control("a\x7f", 2));
	assert_true(ts_scim_has_control("a\0b", 3));
}

/* A user holding have emails (new reference). */
static json_t *user_with(int have)
{
	json_t *doc = json_pack("{s:s}", "userName", "a");
	if (have > 0) {
		json_t *init = values_op("add", "emails", 0, have);
		json_object_set(
		        doc, "emails",
		        json_object_get(json_array_get(json_object_get(init, "Operations"), 0),
		                        "value"));
		json_decref(init);
	}
	return doc;
}

/*
 * Seconds TIMING_REPS applications of one PATCH take, each to its own copy
 * of the resource (made before the clock starts): kind "add" puts n emails
 * on a user with none, "remove" takes n out of 2n by a value list, "members"
 * adds n members to a group (a no-path add, as Okta sends). The caps are
 * lifted (max_values) to time the engine itself.
 */
static double timed(const char *kind, int n)
{
	ts_arena_t *a = ts_arena_new();
	bool group = strcmp(kind, "members") == 0, remove = strcmp(kind, "remove") == 0;
	json_t *docs[TIMING_REPS];
	for (int r = 0; r < TIMING_REPS; r++)
		docs[r] = ts_json_own(a, group ? json_pack("{s:s}", "displayName", "g")
		                               : user_with(remove ? 2 * n : 0));
	json_t *body = ts_json_own(
	        a, values_op(remove ? "remove" : "add", group ? "members" : "emails", 0, n));
	if (group) {
		/* {"op": "add", "value": {"members": [...]}} */
		json_t *op = json_array_get(json_object_get(body, "Operations"), 0);
		json_t *vals = json_incref(json_object_get(op, "value"));
		json_object_del(op, "path");
		json_object_set_new(op, "value", json_pack("{s:o}", "members", vals));
	}
	struct ts_scim_patch_target t = {.group = group,
	                                 .rules = group ? ts_scim_attr_rules_group()
	                                                : ts_scim_attr_rules_user(),
	                                 .max_values = (size_t)1 << 30};
	struct ts_scim_patch_members m;
	const char *st = NULL;
	int64_t t0 = ts_mono_ns();
	for (int r = 0; r < TIMING_REPS; r++)
		assert_int_equal(
		        ts_scim_patch_apply(a, docs[r], body, &t, group ? &m : NULL, &st, NULL),
		        TS_ERR_OK);
	double sec = (double)(ts_mono_ns() - t0) / 1e9;
	if (group)
		assert_int_equal(json_array_size(m.add), (size_t)n);
	else
		assert_int_equal(json_array_size(json_object_get(docs[0], "emails")), (size_t)n);
	ts_arena_free(&a);
	return sec;
}

/*
 * t(2n) / t(n), the best of TIMING_RUNS each, interleaved so that a busy
 * moment hits both; a busy moment on a shared box can still spoil a whole
 * measurement, so up to TIMING_TRIES of them.
 */
static bool linear(const char *kind, int n)
{
	for (int tries = 0; tries < TIMING_TRIES; tries++) {
		double t1 = 1e9, t2 = 1e9;
		for (int r = 0; r < TIMING_RUNS; r++) {
			double x = timed(kind, n), y = timed(kind, 2 * n);
			t1 = x < t1 ? x : t1;
			t2 = y < t2 ? y : t2;
		}
		print_message("%s %d: %.4f s, %d: %.4f s (x%.2f)\n", kind, n, t1, 2 * n, t2,
		              t2 / t1);
		if (t2 / t1 < TIMING_MAX_RATIO)
			return true;
	}
	return false;
}

/*
 * Adding n values, removing n by a value list, and naming n
 * members cost in proportion to n. The old engine's nested scans measured
 * x4.5 for add at these sizes; its members were already linear.
 */
static void test_linear(void **state)
{
	(void)state;
	assert_true(linear("add", TIMING_N));
	assert_true(linear("remove", TIMING_N));
	/* the most members a request may name: TS_SCIM_PATCH_MAX_MEMBERS */
	assert_true(linear("members", TS_SCIM_PATCH_MAX_MEMBERS / 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),  cmocka_unit_test(test_member_deltas),
	        cmocka_unit_test(test_caps),   cmocka_unit_test(test_has_control),
	        cmocka_unit_test(test_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
