/*
 * Unit tests of the SCIM PATCH path parser (src/scim/path.c, RFC 7644
 * §3.5.2): the forms Okta and Entra send (scim-clients.md items 18, 31-35,
 * 44), each error with its scimType (invalidPath outside the brackets,
 * invalidFilter inside), the length cap, and the printer's round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "scim/path.h"

#define ENT "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define CORE_USER "urn:ietf:params:scim:schemas:core:2.0:User"

struct path_case {
	const char *text;
	const char *urn; /* NULL: none */
	const char *attr;
	const char *filter; /* canonical text of the value filter, NULL: none */
	const char *sub;    /* NULL: none */
	const char *canonical;
};

static const struct path_case path_cases[] = {
        {"active", NULL, "active", NULL, NULL, "active"},
        {"userName", NULL, "userName", NULL, NULL, "userName"},
        {"name.givenName", NULL, "name", NULL, "givenName", "name.givenName"},
        {"members", NULL, "members", NULL, NULL, "members"},
        {"members.$ref", NULL, "members", NULL, "$ref", "members.$ref"},
        /* item 18/44: remove one member */
        {"members[value eq \"2819c223\"]", NULL, "members", "value eq \"2819c223\"", NULL,
         "members[value eq \"2819c223\"]"},
        {"members[value eq \"U1\" or value eq \"U2\"]", NULL, "members",
         "value eq \"U1\" or value eq \"U2\"", NULL, "members[value eq \"U1\" or value eq \"U2\"]"},
        {"members[ value  eq \"x\" ]", NULL, "members", "value eq \"x\"", NULL,
         "members[value eq \"x\"]"},
        /* item 31/32: Entra's emails[type eq "work"].value */
        {"emails[type eq \"work\"].value", NULL, "emails", "type eq \"work\"", "value",
         "emails[type eq \"work\"].value"},
        {"EMAILS[TYPE EQ \"work\"].VALUE", NULL, "EMAILS", "TYPE eq \"work\"", "VALUE",
         "EMAILS[TYPE eq \"work\"].VALUE"},
        {"addresses[type eq \"work\" and primary eq true].streetAddress", NULL, "addresses",
         "type eq \"work\" and primary eq true", "streetAddress",
         "addresses[type eq \"work\" and primary eq true].streetAddress"},
        {"emails[not (type eq \"work\")]", NULL, "emails", "not (type eq \"work\")", NULL,
         "emails[not (type eq \"work\")]"},
        /* item 34/35: enterprise extension attributes */
        {ENT ":employeeNumber", ENT, "employeeNumber", NULL, NULL, ENT ":employeeNumber"},
        {ENT ":manager.value", ENT, "manager", NULL, "value", ENT ":manager.value"},
        {ENT ":manager", ENT, "manager", NULL, NULL, ENT ":manager"},
        /* a whole extension: the engine joins urn ":" attr to recognise it */
        {ENT, "urn:ietf:params:scim:schemas:extension:enterprise:2.0", "User", NULL, NULL, ENT},
        {CORE_USER ":emails[type eq \"work\"].value", CORE_USER, "emails", "type eq \"work\"",
         "value", CORE_USER ":emails[type eq \"work\"].value"},
        {CORE_USER ":name.familyName", CORE_USER, "name", NULL, "familyName",
         CORE_USER ":name.familyName"},
};

static void expect_str(const char *what, const char *text, const char *got, const char *want)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(got, want) != 0)
		fail_msg("[%s] %s: got [%s], want [%s]", text, what, got ? got : "(null)",
		         want ? want : "(null)");
}

static struct ts_scim_path *path_ok(ts_arena_t *a, const char *text)
{
	struct ts_scim_path *p = NULL;
	const char *type = "unset";
	struct ts_error e = {0};
	if (ts_scim_path_parse(a, text, strlen(text), &p, &type, &e) != TS_ERR_OK)
		fail_msg("[%s] refused: %s", text, e.message);
	assert_null(type);
	assert_non_null(p);
	return p;
}

static void test_path_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof path_cases / sizeof path_cases[0]; i++) {
		const struct path_case *c = &path_cases[i];
		ts_arena_t *a = ts_arena_new();
		struct ts_scim_path *p = path_ok(a, c->text);
		expect_str("urn", c->text, p->urn, c->urn);
		expect_str("attr", c->text, p->attr, c->attr);
		expect_str("sub", c->text, p->sub, c->sub);
		expect_str("filter", c->text,
		           p->filter ? ts_scim_filter_format(a, p->filter) : NULL, c->filter);
		char *canon = ts_scim_path_format(a, p);
		expect_str("canonical", c->text, canon, c->canonical);
		/* round trip */
		struct ts_scim_path *q = path_ok(a, canon);
		expect_str("urn again", canon, q->urn, p->urn);
		expect_str("attr again", canon, q->attr, p->attr);
		expect_str("sub again", canon, q->sub, p->sub);
		assert_true(ts_scim_filter_equal(p->filter, q->filter));
		ts_arena_free(&a);
	}
}

/* The bracket filter is a real filter: it evaluates against one value. */
static void test_path_filter_evaluates(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_scim_path *p = path_ok(a, "emails[type eq \"WORK\" and primary eq true].value");
	json_t *work = json_pack("{s:s,s:s,s:b}", "type", "work", "value", "a@b", "primary", 1);
	json_t *home = json_pack("{s:s,s:s}", "type", "home", "value", "c@d");
	assert_true(ts_scim_filter_match(p->filter, work, NULL));
	assert_false(ts_scim_filter_match(p->filter, home, NULL));
	json_decref(work);
	json_decref(home);
	ts_arena_free(&a);
}

struct path_error {
	const char *text;
	const char *scim_type;
	const char *message;
};

static const struct path_error path_errors[] = {
        {"", TS_SCIM_INVALID_PATH, "empty"},
        {" active", TS_SCIM_INVALID_PATH, "attribute name"},
        {"active ", TS_SCIM_INVALID_PATH, "unexpected ' '"},
        {"a b", TS_SCIM_INVALID_PATH, "unexpected"},
        {"name.givenName.x", TS_SCIM_INVALID_PATH, "sub-attribute name"},
        {"name.", TS_SCIM_INVALID_PATH, "sub-attribute name"},
        {".name", TS_SCIM_INVALID_PATH, "attribute name"},
        {"1abc", TS_SCIM_INVALID_PATH, "attribute name"},
        {"$ref", TS_SCIM_INVALID_PATH, "attribute name"},
        {"urn:x", TS_SCIM_INVALID_PATH, "schema URN"},
        {"urn:x::y", TS_SCIM_INVALID_PATH, "schema URN"},
        {"foo:bar", TS_SCIM_INVALID_PATH, "not an attribute path"},
        {"emails]", TS_SCIM_INVALID_PATH, "unbalanced ']'"},
        {"emails[type eq \"work\"]]", TS_SCIM_INVALID_PATH, "unbalanced ']'"},
        {"emails[type eq \"work\"]x", TS_SCIM_INVALID_PATH, "unexpected 'x'"},
        {"emails[type eq \"work\"].", TS_SCIM_INVALID_PATH, "sub-attribute name"},
        {"emails[type eq \"work\"].value.display", TS_SCIM_INVALID_PATH, "sub-attribute name"},
        {"emails[type eq \"work\"].value eq \"x\"", TS_SCIM_INVALID_PATH, "unexpected ' '"},
        {"name.givenName[x pr]", TS_SCIM_INVALID_PATH, "not to sub-attribute"},
        {"emails(type eq \"work\")", TS_SCIM_INVALID_PATH, "unexpected '('"},
        {"emails\x01", TS_SCIM_INVALID_PATH, "byte 0x01"},
        /* inside the brackets: invalidFilter (RFC 7644 §3.12) */
        {"emails[type eq \"work\"", TS_SCIM_INVALID_FILTER, "expected ']'"},
        {"emails[type eq]", TS_SCIM_INVALID_FILTER, "expected a value"},
        {"emails[]", TS_SCIM_INVALID_FILTER, "attribute name"},
        {"emails[type zz \"w\"]", TS_SCIM_INVALID_FILTER, "unknown operator 'zz'"},
        {"emails[type[value pr] pr]", TS_SCIM_INVALID_FILTER, "cannot be nested"},
        {"emails[type eq \"work\" and]", TS_SCIM_INVALID_FILTER, "attribute name"},
        {"emails[(type eq \"work\"]", TS_SCIM_INVALID_FILTER, "expected ')'"},
        {"members[value eq x]", TS_SCIM_INVALID_FILTER, "double quotes"},
        {"emails[name.x eq \"w\"]", TS_SCIM_INVALID_FILTER, "sub-attributes only"},
        {"emails[type eq \"\\x\"]", TS_SCIM_INVALID_FILTER, "invalid escape"},
};

static void test_path_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof path_errors / sizeof path_errors[0]; i++) {
		const struct path_error *c = &path_errors[i];
		ts_arena_t *a = ts_arena_new();
		struct ts_scim_path *p = (struct ts_scim_path *)1;
		const char *type = NULL;
		struct ts_error e = {0};
		ts_err rc = ts_scim_path_parse(a, c->text, strlen(c->text), &p, &type, &e);
		if (rc == TS_ERR_OK)
			fail_msg("[%s] parsed but must fail", c->text);
		assert_int_equal(rc, TS_ERR_BAD_REQUEST);
		assert_int_equal(e.code, TS_ERR_BAD_REQUEST);
		assert_null(p);
		if (type == NULL || strcmp(type, c->scim_type) != 0)
			fail_msg("[%s]: scimType %s, want %s", c->text, type ? type : "(null)",
			         c->scim_type);
		if (strstr(e.message, c->message) == NULL)
			fail_msg("[%s]: message [%s] lacks [%s]", c->text, e.message, c->message);
		assert_non_null(strstr(e.message, "invalid path"));
		ts_arena_free(&a);
	}
}

static void test_path_caps(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_scim_path *p = NULL;
	const char *type = NULL;
	struct ts_error e = {0};

	/* 1024 bytes fine, 1025 not */
	char *s = ts_malloc(TS_SCIM_PATH_MAX_LEN + 2);
	const char *head = "members[value eq \"";
	memcpy(s, head, strlen(head));
	memset(s + strlen(head), 'u', TS_SCIM_PATH_MAX_LEN - strlen(head) - 2);
	memcpy(s + TS_SCIM_PATH_MAX_LEN - 2, "\"]", 3);
	assert_int_equal(strlen(s), TS_SCIM_PATH_MAX_LEN);
	assert_int_equal(ts_scim_path_parse(a, s, strlen(s), &p, &type, &e), TS_ERR_OK);
	s[TS_SCIM_PATH_MAX_LEN] = ' ';
	s[TS_SCIM_PATH_MAX_LEN + 1] = '\0';
	assert_int_equal(ts_scim_path_parse(a, s, strlen(s), &p, &type, &e), TS_ERR_BAD_REQUEST);
	assert_string_equal(type, TS_SCIM_INVALID_PATH);
	assert_non_null(strstr(e.message, "longer than 1024 bytes"));
	ts_free(s);

	/* embedded NUL */
	static const char nul[] = "active\0x";
	assert_int_equal(ts_scim_path_parse(a, nul, sizeof nul - 1, &p, &type, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_string_equal(type, TS_SCIM_INVALID_PATH);
	assert_non_null(strstr(e.message, "NUL"));

	/* filter caps apply inside the brackets */
	const char *deep = ts_arena_printf(a, "emails[%.*stype pr%.*s]", TS_SCIM_FILTER_MAX_DEPTH,
	                                   "((((((((((((((((((((((((((((((((((((((((",
	                                   TS_SCIM_FILTER_MAX_DEPTH,
	                                   "))))))))))))))))))))))))))))))))))))))))");
	assert_int_equal(ts_scim_path_parse(a, deep, strlen(deep), &p, &type, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_string_equal(type, TS_SCIM_INVALID_FILTER);
	assert_non_null(strstr(e.message, "nested deeper"));

	/* NULL scimType and error pointers are allowed; the length bounds the read */
	assert_int_equal(ts_scim_path_parse(a, "[", 1, &p, NULL, NULL), TS_ERR_BAD_REQUEST);
	assert_int_equal(ts_scim_path_parse(a, "activeXYZ", 6, &p, NULL, NULL), TS_ERR_OK);
	assert_string_equal(p->attr, "active");
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_path_table),
	        cmocka_unit_test(test_path_filter_evaluates),
	        cmocka_unit_test(test_path_errors),
	        cmocka_unit_test(test_path_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
