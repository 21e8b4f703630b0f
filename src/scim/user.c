/*
 * SCIM Users (RFC 7643 §4.1, enterprise extension §4.3) <-> directory rows.
 * The stored resource is what the client sent, minus what the server owns
 * (id, meta, groups) and minus password (Tessera keeps no passwords: sign-in
 * is the IdP's); the row's columns are its indexed copies.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/jsonw.h"
#include "core/timeutil.h"
#include "scim/internal.h"
#include "scim/patch.h"

/* Entra sends this typo of the enterprise URN (item 28). */
#define ENTERPRISE_TYPO "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"

json_t *ts__scim_resource_doc(const char *resource)
{
	/* our own text (a document that passed the caps, as jsonw wrote it): no caps here */
	static const struct ts_json_limits stored = {.max_depth = 512, .max_string = SIZE_MAX / 2};
	json_t *doc = NULL;
	struct ts_error e = {0};
	if (resource != NULL &&
	    ts_json_parse(resource, strlen(resource), &stored, NULL, &doc, &e) != TS_ERR_OK)
		doc = NULL;
	if (!json_is_object(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	return doc;
}

static void drop(json_t *doc, const char *key)
{
	const char *real = NULL;
	while (ts_scim_json_get(doc, key, &real) != NULL)
		json_object_del(doc, real);
}

static int key_order(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Attribute names are case-insensitive (RFC 7643 §2.1): an object naming
 * one attribute twice ("displayName" and "DISPLAYNAME") says two things of
 * it, and only one could be checked and kept. Such a name, or NULL. The keys
 * are sorted without case, so that a body of many names costs n log n, not n².
 */
static const char *twice_named(ts_arena_t *a, const json_t *obj)
{
	size_t n = json_object_size(obj);
	if (n < 2)
		return NULL;
	const char **keys = ts_arena_alloc(a, n * sizeof *keys);
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		keys[i++] = k;
	}
	qsort(keys, n, sizeof *keys, key_order);
	for (i = 1; i < n; i++)
		if (strcasecmp(keys[i - 1], keys[i]) == 0)
			return keys[i];
	return NULL;
}

/* 400 invalidValue when obj (or an object member of it) names an attribute twice. */
static ts_err check_twice_named(struct ts__scim_call *call, const json_t *obj, struct ts_error *e)
{
	const char *k = twice_named(call->a, obj);
	const char *in = NULL;
	json_t *v;
	json_object_foreach((json_t *)obj, in, v)
	{
		if (k == NULL && json_is_object(v) && (k = twice_named(call->a, v)) != NULL)
			break;
	}
	if (k == NULL)
		return TS_ERR_OK;
	return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
	                    "attribute %s is given twice (attribute names are case-insensitive)",
	                    k);
}

const char *ts__scim_core_name(const char *key, const char *core)
{
	size_t n = strlen(core);
	if (strncasecmp(key, core, n) == 0 && key[n] == ':' && key[n + 1] != '\0')
		return key + n + 1;
	return key;
}

/* Sets name (an attribute, or "attr.sub") of doc to v; false when it is there already. */
static bool place(json_t *doc, const char *name, json_t *v)
{
	const char *dot = strchr(name, '.');
	if (dot == NULL) {
		if (ts_scim_json_get(doc, name, NULL) != NULL)
			return false;
		json_object_set(doc, name, v);
		return true;
	}
	char attr[TS__SCIM_NAME_MAX];
	size_t n = (size_t)(dot - name);
	if (n == 0 || n >= sizeof attr || dot[1] == '\0')
		return false;
	memcpy(attr, name, n);
	attr[n] = '\0';
	json_t *parent = ts_scim_json_get(doc, attr, NULL);
	if (parent == NULL) {
		parent = json_object();
		json_object_set_new(doc, attr, parent);
	}
	if (!json_is_object(parent) || ts_scim_json_get(parent, dot + 1, NULL) != NULL)
		return false;
	json_object_set(parent, dot + 1, v);
	return true;
}

const char *ts__scim_canonicalise(ts_arena_t *a, json_t *doc, const char *core)
{
	/* the common case, every key plain: one look at each, nothing allocated */
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v)
	{
		if ((k[0] | 0x20) == 'u' && strncasecmp(k, "urn:", 4) == 0 &&
		    (ts__scim_core_name(k, core) != k || strcasecmp(k, core) == 0))
			n++;
	}
	if (n == 0)
		return NULL;
	struct moved {
		const char *key;
		json_t *value;
	} *moved = ts_arena_alloc(a, n * sizeof *moved);
	size_t i = 0;
	json_object_foreach(doc, k, v)
	{
		if ((k[0] | 0x20) == 'u' && strncasecmp(k, "urn:", 4) == 0 &&
		    (ts__scim_core_name(k, core) != k || strcasecmp(k, core) == 0))
			moved[i++] = (struct moved){ts_arena_strdup(a, k), json_incref(v)};
	}
	for (i = 0; i < n; i++)
		json_object_del(doc, moved[i].key);
	const char *twice = NULL;
	for (i = 0; i < n; i++) {
		if (twice == NULL && strcasecmp(moved[i].key, core) == 0) {
			/* {"urn:...:core:2.0:User": {...}}: the core schema's members, qualified */
			if (!json_is_object(moved[i].value))
				twice = moved[i].key;
			json_object_foreach(moved[i].value, k, v)
			{
				if (twice == NULL && !place(doc, ts__scim_core_name(k, core), v))
					twice = ts_arena_strdup(a, k);
			}
		} else if (twice == NULL &&
		           !place(doc, ts__scim_core_name(moved[i].key, core), moved[i].value)) {
			twice = moved[i].key;
		}
		json_decref(moved[i].value);
	}
	return twice;
}

/*
 * RFC 7643 §4.1.1, password: returned "never", and Tessera keeps none (sign-in
 * is the identity provider's). True for a member name that is one in any
 * spelling: "password", "PASSWORD", "urn:...:User:password", "password.value".
 */
static bool never_kept(const char *k, size_t n)
{
	static const char *const never[] = {"password"};
	static const size_t shortest = sizeof "password" - 1;
	if (n < shortest) /* most names: read on every write and every render */
		return false;
	const char *colon = memrchr(k, ':', n);
	if (colon != NULL) {
		n -= (size_t)(colon + 1 - k);
		k = colon + 1;
	}
	while (n > 0) {
		const char *dot = memchr(k, '.', n);
		size_t seg = dot ? (size_t)(dot - k) : n;
		for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
			if (strlen(never[i]) == seg && strncasecmp(k, never[i], seg) == 0)
				return true;
		n -= dot ? seg + 1 : seg;
		k += dot ? seg + 1 : seg;
	}
	return false;
}

/* Removes every never-kept member, at any depth (an extension object, a sub-attribute). */
static void drop_never(json_t *j)
{
	const char *k;
	json_t *v;
	void *tmp;
	size_t i;
	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, k, v)
		{
			if (never_kept(k, strlen(k)))
				json_object_del(j, k);
			else if (json_is_object(v) || json_is_array(v))
				drop_never(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if (json_is_object(v) || json_is_array(v))
				drop_never(v);
		}
	}
}

/* Removes null members (item 28: "addresses": null, "manager": null mean absent). */
static void drop_nulls(json_t *obj)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(obj, tmp, k, v)
	{
		if (json_is_null(v))
			json_object_del(obj, k);
	}
}

/* "True"/"False" strings as Entra sends them without its flag (item 30). */
static ts_err coerce_bool(struct ts__scim_call *call, json_t *obj, const char *key, bool *out,
                          struct ts_error *e)
{
	const char *real = NULL;
	json_t *v = ts_scim_json_get(obj, key, &real);
	if (v == NULL)
		return TS_ERR_OK;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcasecmp(s, "true") == 0)
			json_object_set_new(obj, real, json_true());
		else if (strcasecmp(s, "false") == 0)
			json_object_set_new(obj, real, json_false());
		v = json_object_get(obj, real);
	}
	if (!json_is_boolean(v))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "%s must be a boolean", key);
	if (out != NULL)
		*out = json_is_true(v);
	return TS_ERR_OK;
}

static ts_err opt_string(struct ts__scim_call *call, json_t *doc, const char *key, const char **out,
                         struct ts_error *e)
{
	json_t *v = ts_scim_json_get(doc, key, NULL);
	*out = NULL;
	if (v == NULL)
		return TS_ERR_OK;
	if (!json_is_string(v))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "%s must be a string", key);
	*out = ts_arena_strdup(call->a, json_string_value(v));
	return TS_ERR_OK;
}

static size_t count_of(json_t *doc, const char *key)
{
	json_t *v = ts_scim_json_get(doc, key, NULL);
	return json_is_array(v) ? json_array_size(v) : (v != NULL ? 1 : 0);
}

/* AWS IAM Identity Center CreateUser / PutUser constraints (items 55, 56, 60). */
static ts_err strict_user(struct ts__scim_call *call, json_t *doc, struct ts_error *e)
{
	static const char *const refused[] = {
	        "password", "ims", "photos", "x509Certificates", "entitlements", "groups", NULL};
	for (const char *const *k = refused; *k; k++)
		if (ts_scim_json_get(doc, *k, NULL) != NULL)
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			                    "%s is not supported", *k);
	json_t *name = ts_scim_json_get(doc, "name", NULL);
	if (!json_is_string(ts_scim_json_get(name, "givenName", NULL)) ||
	    !json_is_string(ts_scim_json_get(name, "familyName", NULL)) ||
	    !json_is_string(ts_scim_json_get(doc, "displayName", NULL)))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "name.givenName, name.familyName and displayName are required");
	static const char *const single[] = {"emails", "addresses", "phoneNumbers", "roles", NULL};
	for (const char *const *k = single; *k; k++)
		if (count_of(doc, *k) > 1)
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			                    "at most one value of %s is supported", *k);
	json_t *emails = ts_scim_json_get(doc, "emails", NULL);
	if (json_array_size(emails) == 1 &&
	    !json_is_true(ts_scim_json_get(json_array_get(emails, 0), "primary", NULL)))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "the email must be primary");
	return TS_ERR_OK;
}

/* 400 invalidValue when an array attribute of doc holds more values than its cap. */
static ts_err values_capped(struct ts__scim_call *call, const json_t *doc, struct ts_error *e)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)doc, k, v)
	{
		/* most arrays are short: the cap is looked up only past the smallest one */
		size_t n = json_array_size(v);
		size_t max = n > TS_SCIM_MIN_VALUES_CAP ? ts_scim_values_cap(k) : SIZE_MAX;
		if (n > max)
			return ts__scim_err(
			        call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			        "more than %zu values of %s (the limit of this service)", max, k);
	}
	return TS_ERR_OK;
}

/*
 * The strings people read, in logs, terminals and consoles: no C0 control
 * character or DEL in them. A User's userName, displayName,
 * nickName, title, externalId, the parts of name and emails[].value; a
 * Group's displayName and externalId.
 */
static ts_err printable(struct ts__scim_call *call, const json_t *obj, const char *key,
                        const char *what, struct ts_error *e)
{
	json_t *v = ts_scim_json_get(obj, key, NULL);
	if (!json_is_string(v) || !ts_scim_has_control(json_string_value(v), json_string_length(v)))
		return TS_ERR_OK;
	return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
	                    "%s must not hold control characters", what ? what : key);
}

static bool named(const char *k, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp(k, *names) == 0)
			return true;
	return false;
}

/* The first member of obj named in names whose string value holds a control character. */
static const char *unprintable_member(const json_t *obj, const char *const *names)
{
	const char *k;
	json_t *v;
	/* the text is scanned first: names are compared only for the rare string that fails */
	json_object_foreach((json_t *)obj, k, v)
	{
		if (json_is_string(v) &&
		    ts_scim_has_control(json_string_value(v), json_string_length(v)) &&
		    named(k, names))
			return k;
	}
	return NULL;
}

static ts_err user_printable(struct ts__scim_call *call, json_t *doc, struct ts_error *e)
{
	static const char *const top[] = {"userName", "displayName", "nickName",
	                                  "title",    "externalId",  NULL};
	static const char *const parts[] = {"formatted",  "familyName",      "givenName",
	                                    "middleName", "honorificPrefix", "honorificSuffix",
	                                    NULL};
	static const char *const value[] = {"value", NULL};
	const char *bad = unprintable_member(doc, top);
	json_t *name = ts_scim_json_get(doc, "name", NULL);
	if (bad == NULL && json_is_object(name) && (bad = unprintable_member(name, parts)) != NULL)
		bad = ts_arena_printf(call->a, "name.%s", bad);
	json_t *emails = ts_scim_json_get(doc, "emails", NULL);
	size_t i;
	json_t *v;
	json_array_foreach(emails, i, v)
	{
		if (bad == NULL && json_is_object(v) && unprintable_member(v, value) != NULL)
			bad = "emails[].value";
	}
	if (bad == NULL)
		return TS_ERR_OK;
	return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
	                    "%s must not hold control characters", bad);
}

/* Empty, or nothing but white space. */
static bool blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

ts_err ts__scim_user_from_doc(struct ts__scim_call *call, json_t *doc, struct ts_user_row *row,
                              struct ts_user_email **emails_out, int *nemails, struct ts_error *e)
{
	/* RFC 7644 §3.10: "urn:...:core:2.0:User:userName" is userName, before anything looks */
	const char *twice = ts__scim_canonicalise(call->a, doc, TS_SCIM_SCHEMA_USER);
	if (twice != NULL)
		return ts__scim_err(
		        call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		        "%s names an attribute given in another spelling too (RFC 7644 §3.10)",
		        twice);
	/* RFC 7643 §3.1: id and meta are the server's; groups is read-only (§4.1.2) */
	drop(doc, "id");
	drop(doc, "meta");
	ts_err capped = values_capped(call, doc, e);
	if (capped != TS_ERR_OK)
		return capped;
	if (call->strict) {
		ts_err rc = strict_user(call, doc, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	drop(doc, "groups");
	/* accepted and dropped: Okta sends one with every user (item 6), and it is never kept */
	drop_never(doc);
	drop_nulls(doc);
	ts_err twice_rc = check_twice_named(call, doc, e); /* of what is left: any spelling went */
	if (twice_rc != TS_ERR_OK)
		return twice_rc;
	const char *typo = NULL;
	json_t *ext = ts_scim_json_get(doc, ENTERPRISE_TYPO, &typo);
	if (ext != NULL) {
		json_incref(ext);
		json_object_del(doc, typo);
		if (ts_scim_json_get(doc, TS_SCIM_SCHEMA_ENTERPRISE, NULL) == NULL)
			json_object_set(doc, TS_SCIM_SCHEMA_ENTERPRISE, ext);
		json_decref(ext);
	}
	ext = ts_scim_json_get(doc, TS_SCIM_SCHEMA_ENTERPRISE, NULL);
	if (ext != NULL && !json_is_object(ext))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "the enterprise extension must be an object");
	if (ext != NULL)
		drop_nulls(ext);
	json_t *schemas = ts_scim_json_get(doc, "schemas", NULL);
	if (schemas != NULL && !json_is_array(schemas))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "schemas must be an array");
	json_t *un = ts_scim_json_get(doc, "userName", NULL);
	/* RFC 7643 §4.1.1: userName is required, unique, a non-empty string (not only blanks) */
	if (!json_is_string(un) || blank(json_string_value(un)))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "userName is required and must be a non-empty string");
	*row = (struct ts_user_row){.account_id = call->account_id,
	                            .user_name = ts_arena_strdup(call->a, json_string_value(un)),
	                            .active = true};
	ts_err rc = coerce_bool(call, doc, "active", &row->active, e);
	if (rc == TS_ERR_OK)
		rc = user_printable(call, doc, e);
	if (rc == TS_ERR_OK)
		rc = opt_string(call, doc, "externalId", &row->external_id, e);
	if (rc == TS_ERR_OK)
		rc = opt_string(call, doc, "displayName", &row->display_name, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *name = ts_scim_json_get(doc, "name", NULL);
	if (name != NULL && !json_is_object(name))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "name must be an object");
	static const char *const multi[] = {"emails", "phoneNumbers",     "addresses",
	                                    "roles",  "entitlements",     "ims",
	                                    "photos", "x509Certificates", NULL};
	for (const char *const *k = multi; *k; k++) {
		json_t *arr = ts_scim_json_get(doc, *k, NULL);
		if (arr == NULL)
			continue;
		if (!json_is_array(arr))
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			                    "%s must be an array", *k);
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
		{
			if (!json_is_object(v))
				return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
				                    "each value of %s must be an object", *k);
			rc = coerce_bool(call, v, "primary", NULL, e);
			if (rc != TS_ERR_OK)
				return rc;
		}
	}
	json_t *emails = ts_scim_json_get(doc, "emails", NULL);
	size_t ne = json_array_size(emails);
	struct ts_user_email *list = ts_arena_alloc(call->a, sizeof *list * (ne ? ne : 1));
	int n = 0;
	for (size_t i = 0; i < ne; i++) {
		json_t *v = json_array_get(emails, i);
		json_t *val = ts_scim_json_get(v, "value", NULL);
		json_t *type = ts_scim_json_get(v, "type", NULL);
		if (val == NULL)
			continue;
		if (!json_is_string(val) || (type != NULL && !json_is_string(type)))
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			                    "emails[].value and type must be strings");
		list[n++] = (struct ts_user_email){
		        .value = ts_arena_strdup(call->a, json_string_value(val)),
		        .type = type ? ts_arena_strdup(call->a, json_string_value(type)) : NULL,
		        .primary = json_is_true(ts_scim_json_get(v, "primary", NULL))};
	}
	*emails_out = list;
	*nemails = n;
	row->resource = ts_json_dump(call->a, doc, NULL);
	return TS_ERR_OK;
}

static json_t *meta(struct ts__scim_call *call, const char *type, const char *path, const char *id,
                    int64_t created, int64_t modified, int64_t version)
{
	char c[32], m[32];
	ts_time_iso_ms(created, c);
	ts_time_iso_ms(modified, m);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "resourceType", type, "created", c,
	                 "lastModified", m, "location",
	                 ts_arena_concat(call->a, call->base, "/", path, "/", id, NULL), "version",
	                 ts__scim_etag(call, version));
}

json_t *ts__scim_user_render(struct ts__scim_call *call, const struct ts_user_row *row,
                             const struct ts_group_member *groups, int ngroups)
{
	json_t *res = ts__scim_resource_doc(row->resource);
	drop_never(res); /* stored before it was dropped on the way in */
	json_t *schemas = json_pack("[s]", TS_SCIM_SCHEMA_USER);
	if (ts_scim_json_get(res, TS_SCIM_SCHEMA_ENTERPRISE, NULL) != NULL)
		json_array_append_new(schemas, json_string(TS_SCIM_SCHEMA_ENTERPRISE));
	drop(res, "schemas");
	json_object_set_new(res, "schemas", schemas);
	json_object_set_new(res, "id", json_string(row->user_id));
	drop(res, "userName");
	json_object_set_new(res, "userName", json_string(row->user_name));
	drop(res, "active");
	json_object_set_new(res, "active", json_boolean(row->active));
	if (row->external_id != NULL) {
		drop(res, "externalId");
		json_object_set_new(res, "externalId", json_string(row->external_id));
	}
	if (ngroups >= 0) {
		json_t *arr = json_array();
		for (int i = 0; i < ngroups; i++)
			json_array_append_new(
			        arr, json_pack("{s:s, s:s, s:s, s:s}", "value", groups[i].user_id,
			                       "display",
			                       groups[i].display ? groups[i].display : "", "$ref",
			                       ts_arena_concat(call->a, call->base, "/Groups/",
			                                       groups[i].user_id, NULL),
			                       "type", "direct"));
		json_object_set_new(res, "groups", arr);
	}
	json_object_set_new(res, "meta",
	                    meta(call, "User", "Users", row->user_id, row->created_ms,
	                         row->modified_ms, row->version));
	return res;
}

/* ---- users, written without jansson ------------------------------------- */

/* Past the JSON string whose opening quote is at p; NULL when it does not end. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (*++p == '\0')
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* Past the compact JSON value at p (as ts_json_dump writes them); NULL when malformed. */
static const char *skip_value(const char *p)
{
	if (*p == '"')
		return skip_string(p);
	if (*p != '{' && *p != '[') {
		while (*p && *p != ',' && *p != '}' && *p != ']')
			p++;
		return *p ? p : NULL;
	}
	int depth = 0;
	while (*p) {
		if (*p == '"') {
			p = skip_string(p);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

static bool key_is(const char *k, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(k, name, n) == 0;
}

/* Whether text[0..n) contains word (lower case), without case. */
static bool mentions(const char *text, size_t n, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i + w <= n; i++)
		if ((text[i] | 0x20) == word[0] && strncasecmp(text + i, word, w) == 0)
			return true;
	return false;
}

/*
 * The stored resource's members, minus those the row overrides, copied as
 * text; *enterprise tells whether the extension is among them. False when
 * the text is not a compact JSON object (the caller then renders with jansson).
 */
static bool copy_members(struct ts_jsonw *w, const char *text, bool drop_external, bool groups,
                         bool *enterprise)
{
	/* dropped and written again, as the render does */
	static const char *const owned[] = {"schemas", "userName", "active"};
	*enterprise = false;
	const char *p = text;
	if (p == NULL || *p++ != '{')
		return false;
	bool first = true;
	while (*p != '}') {
		const char *member = p;
		if (*p != '"')
			return false;
		const char *kend = skip_string(p);
		if (kend == NULL || *kend != ':')
			return false;
		const char *k = p + 1;
		size_t kn = (size_t)(kend - 1 - k);
		const char *vend = skip_value(kend + 1);
		if (vend == NULL || (*vend != ',' && *vend != '}'))
			return false;
		/* the render replaces these in place; the write paths never store them */
		if (key_is(k, kn, "id") || key_is(k, kn, "meta") ||
		    (groups && kn == 6 && memcmp(k, "groups", 6) == 0))
			return false;
		/* never_kept: a resource stored before passwords were dropped in any spelling */
		bool keep = !(drop_external && key_is(k, kn, "externalId")) && !never_kept(k, kn);
		if (keep && kend[1] == '{' &&
		    mentions(kend + 1, (size_t)(vend - kend - 1), "password"))
			return false; /* perhaps one inside: the jansson render drops it */
		for (size_t i = 0; keep && i < sizeof owned / sizeof owned[0]; i++)
			keep = !key_is(k, kn, owned[i]);
		if (key_is(k, kn, TS_SCIM_SCHEMA_ENTERPRISE))
			*enterprise = true;
		if (keep) {
			if (!first)
				ts_jsonw_lit(w, ",");
			ts_jsonw_raw(w, member, (size_t)(vend - member));
			first = false;
		}
		if (*vend == ',' && vend[1] != '"')
			return false;
		p = *vend == ',' ? vend + 1 : vend;
	}
	return p[1] == '\0';
}

bool ts__scim_user_write(struct ts__scim_call *call, struct ts_jsonw *w,
                         const struct ts_user_row *row, const struct ts_group_member *groups,
                         int ngroups)
{
	size_t mark = w->len;
	bool enterprise = false;
	ts_jsonw_lit(w, "{");
	if (!copy_members(w, row->resource, row->external_id != NULL, ngroups >= 0, &enterprise)) {
		w->len = mark;
		return false;
	}
	bool empty = w->len == mark + 1;
	/* the members ts__scim_user_render sets, in its order */
	if (!empty)
		ts_jsonw_lit(w, ",");
	ts_jsonw_lit(w, "\"schemas\":[\"" TS_SCIM_SCHEMA_USER "\"");
	if (enterprise)
		ts_jsonw_lit(w, ",\"" TS_SCIM_SCHEMA_ENTERPRISE "\"");
	ts_jsonw_lit(w, "]");
	bool ok = ts_jsonw_member_str(w, "id", row->user_id) &&
	          ts_jsonw_member_str(w, "userName", row->user_name);
	ts_jsonw_key(w, "active");
	ts_jsonw_raw(w, row->active ? "true" : "false", row->active ? 4 : 5);
	if (row->external_id != NULL)
		ok = ok && ts_jsonw_member_str(w, "externalId", row->external_id);
	if (ngroups >= 0) {
		ts_jsonw_key(w, "groups");
		ts_jsonw_lit(w, "[");
		for (int i = 0; i < ngroups; i++) {
			if (i > 0)
				ts_jsonw_lit(w, ",");
			ts_jsonw_lit(w, "{");
			ok = ok && ts_jsonw_member_str(w, "value", groups[i].user_id) &&
			     ts_jsonw_member_str(w, "display",
			                         groups[i].display ? groups[i].display : "") &&
			     ts_jsonw_member_str(w, "$ref",
			                         ts_arena_concat(call->a, call->base, "/Groups/",
			                                         groups[i].user_id, NULL)) &&
			     ts_jsonw_member_str(w, "type", "direct");
			ts_jsonw_lit(w, "}");
		}
		ts_jsonw_lit(w, "]");
	}
	char c[32], m[32];
	ts_time_iso_ms(row->created_ms, c);
	ts_time_iso_ms(row->modified_ms, m);
	ts_jsonw_key(w, "meta");
	ts_jsonw_lit(w, "{\"resourceType\":\"User\"");
	ts_jsonw_member_str(w, "created", c);
	ts_jsonw_member_str(w, "lastModified", m);
	ok = ok && ts_jsonw_member_str(
	                   w, "location",
	                   ts_arena_concat(call->a, call->base, "/Users/", row->user_id, NULL));
	ts_jsonw_member_str(w, "version", ts__scim_etag(call, row->version));
	ts_jsonw_lit(w, "}}");
	if (!ok) /* text jansson would refuse: let the jansson path decide */
		w->len = mark;
	return ok;
}

/* ---- groups ---------------------------------------------------------------- */

ts_err ts__scim_group_from_doc(struct ts__scim_call *call, json_t *doc, struct ts_group_row *row,
                               json_t **members, struct ts_error *e)
{
	const char *twice = ts__scim_canonicalise(call->a, doc, TS_SCIM_SCHEMA_GROUP);
	if (twice != NULL)
		return ts__scim_err(
		        call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		        "%s names an attribute given in another spelling too (RFC 7644 §3.10)",
		        twice);
	drop(doc, "id");
	drop(doc, "meta");
	drop_never(doc);
	drop_nulls(doc);
	ts_err twice_rc = check_twice_named(call, doc, e);
	if (twice_rc != TS_ERR_OK)
		return twice_rc;
	json_t *dn = ts_scim_json_get(doc, "displayName", NULL);
	/* RFC 7643 §4.2: displayName is required; AWS CreateGroup too (item 63) */
	if (!json_is_string(dn) || blank(json_string_value(dn)))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "displayName is required and must be a non-empty string");
	*row = (struct ts_group_row){.account_id = call->account_id,
	                             .display_name =
	                                     ts_arena_strdup(call->a, json_string_value(dn))};
	ts_err rc = printable(call, doc, "displayName", NULL, e);
	if (rc == TS_ERR_OK)
		rc = printable(call, doc, "externalId", NULL, e);
	if (rc == TS_ERR_OK)
		rc = opt_string(call, doc, "externalId", &row->external_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *mv = ts_scim_json_get(doc, "members", NULL);
	json_t *ids = ts_json_own(call->a, json_array());
	if (mv != NULL) {
		if (!json_is_array(mv))
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			                    "members must be an array");
		if (json_array_size(mv) > (call->strict ? TS_SCIM_STRICT_MAX_MEMBER_CHANGES
		                                        : TS__SCIM_GROUP_CREATE_MAX_MEMBERS))
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			                    "too many members in one request");
		size_t i;
		json_t *v;
		json_array_foreach(mv, i, v)
		{
			const char *id = json_string_value(ts_scim_json_get(v, "value", NULL));
			if (id == NULL)
				return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
				                    "a member needs a \"value\" (a user id)");
			json_array_append_new(ids, json_string(id));
		}
		drop(doc, "members");
	}
	*members = ids;
	row->resource = ts_json_dump(call->a, doc, NULL);
	return TS_ERR_OK;
}

json_t *ts__scim_group_render(struct ts__scim_call *call, const struct ts_group_row *row,
                              const struct ts_group_member *members, int nmembers)
{
	json_t *res = ts__scim_resource_doc(row->resource);
	drop(res, "schemas");
	json_object_set_new(res, "schemas", json_pack("[s]", TS_SCIM_SCHEMA_GROUP));
	json_object_set_new(res, "id", json_string(row->group_id));
	drop(res, "displayName");
	json_object_set_new(res, "displayName", json_string(row->display_name));
	if (row->external_id != NULL) {
		drop(res, "externalId");
		json_object_set_new(res, "externalId", json_string(row->external_id));
	}
	if (nmembers >= 0) {
		json_t *arr = json_array();
		for (int i = 0; i < nmembers; i++)
			json_array_append_new(
			        arr, json_pack("{s:s, s:s, s:s, s:s}", "value", members[i].user_id,
			                       "display",
			                       members[i].display ? members[i].display : "", "$ref",
			                       ts_arena_concat(call->a, call->base, "/Users/",
			                                       members[i].user_id, NULL),
			                       "type", "User"));
		json_object_set_new(res, "members", arr);
	}
	json_object_set_new(res, "meta",
	                    meta(call, "Group", "Groups", row->group_id, row->created_ms,
	                         row->modified_ms, row->version));
	return res;
}

ts_err ts__scim_members_check(struct ts__scim_call *call, const json_t *ids, struct ts_error *e)
{
	if (json_array_size(ids) == 0)
		return TS_ERR_OK;
	const char **found = NULL;
	int n = 0;
	/* one batched lookup, whatever the number of ids */
	ts_err rc = ts_store_users_existing(call->conn, call->a, call->account_id,
	                                    ts_json_dump(call->a, ids, NULL), &found, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *set = json_object();
	for (int i = 0; i < n; i++)
		json_object_set_new(set, found[i], json_true());
	size_t i;
	json_t *v;
	const char *missing = NULL;
	json_array_foreach(ids, i, v)
	{
		if (json_object_get(set, json_string_value(v)) == NULL) {
			missing = ts_arena_strdup(call->a, json_string_value(v));
			break;
		}
	}
	json_decref(set);
	if (missing != NULL)
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "member %s is not a user of this account", missing);
	return TS_ERR_OK;
}
