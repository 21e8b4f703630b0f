/*
 * libFuzzer target: a POST / PUT body of /Users and /Groups, taken the way
 * the dispatcher takes it (ts_json_parse with the server's caps, a JSON
 * object only), mapped by ts__scim_user_from_doc / ts__scim_group_from_doc in
 * both compatibility profiles, rendered, and cut by attributes /
 * excludedAttributes (fixed lists, and lists made of the body's own keys).
 *
 * Besides crashes, leaks and sanitizer reports, three properties abort:
 * the stored resource text reads back as the document that was mapped (else
 * a later GET would lose data); a rendered resource is accepted again (GET
 * then PUT); and mapping and rendering it again gives the same resource.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "scim/internal.h"
#include "scim/patch.h"

#define BASE "https://fuzz.example/scim/v2"
#define CREATED_MS 1714557600123LL

static const char *const attr_lists[][2] = {
        {NULL, NULL},
        {"userName,emails.value,emails.type,name.givenName,displayName", NULL},
        {TS_SCIM_SCHEMA_ENTERPRISE ":manager.value," TS_SCIM_SCHEMA_ENTERPRISE, "id"},
        {NULL, "emails,meta,members.display,name.familyName," TS_SCIM_SCHEMA_ENTERPRISE},
};

static struct ts__scim_call new_call(ts_arena_t *a, bool strict)
{
	return (struct ts__scim_call){
	        .a = a, .account_id = "acct", .strict = strict, .base = BASE, .status = 200};
}

/* The body's keys, and each with a sub-attribute of its own value's keys, comma-joined. */
static const char *own_keys(ts_arena_t *a, const json_t *body)
{
	const char *list = "";
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)body, k, v)
	{
		list = ts_arena_printf(a, "%s%s,", list, k);
		if (json_is_object(v)) {
			const char *sk;
			json_t *sv;
			json_object_foreach(v, sk, sv)
			{
				list = ts_arena_printf(a, "%s%s.%s,", list, k, sk);
			}
		}
	}
	return list;
}

static void cut(ts_arena_t *a, const json_t *res, const char *core, const char *own)
{
	size_t n = sizeof attr_lists / sizeof attr_lists[0];
	for (size_t i = 0; i < n + 2; i++) {
		struct ts__scim_call call = new_call(a, false);
		const char *incl = i < n ? attr_lists[i][0] : (i == n ? own : NULL);
		const char *excl = i < n ? attr_lists[i][1] : (i == n ? NULL : own);
		ts__scim_attrs_parse(&call, incl, excl);
		json_t *copy = ts_json_own(a, json_deep_copy(res));
		ts__scim_attrs_apply(&call, copy, core);
		(void)ts__scim_attrs_want(&call, "groups", true);
		(void)ts_json_dump(a, copy, NULL);
	}
}

/* The stored text must read back as the document it was made from. */
static void check_stored(const char *resource, const json_t *doc)
{
	json_t *back = json_loads(resource, 0, NULL);
	if (!json_is_object(back) || !json_equal(back, doc))
		abort();
	json_decref(back);
}

static json_t *user_once(ts_arena_t *a, bool strict, const json_t *body)
{
	struct ts__scim_call call = new_call(a, strict);
	json_t *doc = ts_json_own(a, json_deep_copy(body));
	struct ts_user_row row;
	struct ts_user_email *emails = NULL;
	int ne = 0;
	struct ts_error e = {0};
	if (ts__scim_user_from_doc(&call, doc, &row, &emails, &ne, &e) != TS_ERR_OK)
		return NULL;
	check_stored(row.resource, doc);
	for (int i = 0; i < ne; i++)
		if (emails[i].value == NULL)
			abort();
	row.user_id = "0190a1b2-aaaa-7000-8000-000000000001";
	row.version = 2;
	row.created_ms = row.modified_ms = CREATED_MS;
	const struct ts_group_member g[] = {{"g-1", "G"}, {"g-2", NULL}};
	json_decref(ts__scim_user_render(&call, &row, g, 2));
	return ts_json_own(a, ts__scim_user_render(&call, &row, NULL, -1));
}

static json_t *group_once(ts_arena_t *a, bool strict, const json_t *body)
{
	struct ts__scim_call call = new_call(a, strict);
	json_t *doc = ts_json_own(a, json_deep_copy(body));
	struct ts_group_row row;
	json_t *ids = NULL;
	struct ts_error e = {0};
	if (ts__scim_group_from_doc(&call, doc, &row, &ids, &e) != TS_ERR_OK)
		return NULL;
	check_stored(row.resource, doc);
	size_t n = json_array_size(ids);
	struct ts_group_member *m = ts_arena_alloc(a, sizeof *m * (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		m[i].user_id = json_string_value(json_array_get(ids, i));
		m[i].display = i % 2 ? "Ann" : NULL;
		if (m[i].user_id == NULL)
			abort();
	}
	row.group_id = "0190a1b2-bbbb-7000-8000-000000000002";
	row.version = 3;
	row.created_ms = row.modified_ms = CREATED_MS;
	return ts_json_own(a, ts__scim_group_render(&call, &row, m, (int)n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_arena_t *a = ts_arena_new();
	json_t *body = NULL;
	/* the dispatcher: the server's caps, then a JSON object or 400 invalidSyntax */
	if (ts_json_parse((const char *)data, size, NULL, a, &body, NULL) != TS_ERR_OK ||
	    !json_is_object(body))
		goto out;
	const char *own = own_keys(a, body);
	for (int strict = 0; strict < 2; strict++) {
		json_t *user = user_once(a, strict, body);
		if (user != NULL) {
			cut(a, user, TS_SCIM_SCHEMA_USER, own);
			/* GET then PUT (permissive; aws-strict refuses groups and more by design)
			 */
			json_t *again = user_once(a, false, user);
			if (again == NULL || !json_equal(again, user))
				abort();
		}
		json_t *group = group_once(a, strict, body);
		if (group != NULL) {
			cut(a, group, TS_SCIM_SCHEMA_GROUP, own);
			json_t *again = group_once(a, false, group);
			if (again == NULL || !json_equal(again, group))
				abort();
		}
	}
out:
	ts_arena_free(&a);
	return 0;
}
