/*
 * The PATCH engine: RFC 7644 §3.5.2 on a jansson document, with the forms
 * Okta and Entra ID send (scim-clients.md items 11-20, 29-46). Each
 * operation is resolved to a container object and an attribute in it, then
 * add / remove / replace runs on that attribute; value paths select the
 * elements of a multi-valued attribute with the filter evaluator.
 *
 * Cost (an incident: adding 40,000 emails took 40 s, removing 20,000 by a value
 * list 42 s, both under the writer lock): values are compared through a hash
 * set of their canonical text, never by a scan per value, so an operation
 * costs in proportion to the values it names plus the values already there;
 * and the values a request names per attribute are capped before any work.
 */
#include "scim/patch.h"

#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "scim/path.h"

/* The canonical text of a small value fits here; a larger one goes to the arena. */
#define CANON_STACK 512

enum op { OP_ADD, OP_REMOVE, OP_REPLACE };

struct ctx {
	ts_arena_t *a;
	const struct ts_scim_patch_target *t;
	struct ts_scim_patch_members *m;
	json_t *doc;
	json_t *state; /* member id -> true (in) / false (out), in request order */
	json_t *named; /* lowercased attribute name -> values the request named so far */
	const char **scim_type;
	struct ts_error *e;
	int username_ops, active_ops;
};

static ts_err fail(struct ctx *c, const char *type, const char *fmt, const char *arg)
{
	*c->scim_type = type;
	return ts_error_set(c->e, TS_ERR_BAD_REQUEST, "scim", fmt, arg ? arg : "");
}

json_t *ts_scim_json_get(const json_t *obj, const char *key, const char **real_key)
{
	const char *k;
	json_t *v;
	if (!json_is_object(obj) || key == NULL)
		return NULL;
	/* the usual case, the exact spelling, from jansson's hash; then any other */
	void *it = json_object_iter_at((json_t *)obj, key);
	if (it != NULL) {
		if (real_key != NULL)
			*real_key = json_object_iter_key(it);
		return json_object_iter_value(it);
	}
	unsigned char first = (unsigned char)key[0] | 0x20; /* equal for a letter in either case */
	json_object_foreach((json_t *)obj, k, v)
	{
		if (((unsigned char)k[0] | 0x20) == first && strcasecmp(k, key) == 0) {
			if (real_key != NULL)
				*real_key = k;
			return v;
		}
	}
	return NULL;
}

/* Sets obj[key], replacing a member spelt in another case. */
static void set_ci(json_t *obj, const char *key, json_t *v)
{
	const char *real = NULL;
	/* jansson replaces the value in place; real is only read for the lookup */
	if (ts_scim_json_get(obj, key, &real) != NULL)
		json_object_set_new(obj, real, v);
	else
		json_object_set_new(obj, key, v);
}

static void del_ci(json_t *obj, const char *key)
{
	const char *real = NULL;
	if (ts_scim_json_get(obj, key, &real) != NULL)
		json_object_del(obj, real);
}

static const struct {
	const char *attr;
	size_t max;
} caps[] = {
        {"emails", TS_SCIM_MAX_EMAILS},
        {"phoneNumbers", TS_SCIM_MAX_PHONE_NUMBERS},
        {"ims", TS_SCIM_MAX_IMS},
        {"photos", TS_SCIM_MAX_PHOTOS},
        {"addresses", TS_SCIM_MAX_ADDRESSES},
        {"entitlements", TS_SCIM_MAX_ENTITLEMENTS},
        {"roles", TS_SCIM_MAX_ROLES},
        {"x509Certificates", TS_SCIM_MAX_X509_CERTIFICATES},
        {"schemas", TS_SCIM_MAX_SCHEMAS},
};

size_t ts_scim_values_cap(const char *attr)
{
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (strcasecmp(caps[i].attr, attr) == 0)
			return caps[i].max;
	return TS_SCIM_MAX_OTHER_VALUES;
}

bool ts_scim_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/*
 * Counts n more values named for attr; past the cap the request is refused
 * before those values are looked at (RFC 7644 §3.12 invalidValue: the
 * attribute cannot hold that many).
 */
static ts_err charge(struct ctx *c, const char *attr, size_t n)
{
	char key[64];
	size_t len = strlen(attr);
	if (len >= sizeof key)
		len = sizeof key - 1;
	for (size_t i = 0; i < len; i++)
		key[i] = (char)((attr[i] >= 'A' && attr[i] <= 'Z') ? attr[i] | 0x20 : attr[i]);
	key[len] = '\0';
	size_t max = c->t->max_values ? c->t->max_values : ts_scim_values_cap(attr);
	size_t total = (size_t)json_integer_value(json_object_get(c->named, key)) + n;
	if (total > max) {
		*c->scim_type = "invalidValue";
		return ts_error_set(c->e, TS_ERR_BAD_REQUEST, "scim",
		                    "more than %zu values of %s (the limit of this service)", max,
		                    attr);
	}
	json_object_set_new(c->named, key, json_integer((json_int_t)total));
	return TS_ERR_OK;
}

/*
 * A text equal for values json_equal calls equal: compact, keys sorted. The
 * key of the hash sets below; in arena memory when it is long.
 */
static const char *canon(ts_arena_t *a, const json_t *v, char *buf, size_t n)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY;
	size_t need = json_dumpb(v, buf, n - 1, flags);
	if (need == 0) {
		buf[0] = '\0';
		return buf;
	}
	if (need >= n) {
		buf = ts_arena_alloc(a, need + 1);
		(void)json_dumpb(v, buf, need, flags);
	}
	buf[need] = '\0';
	return buf;
}

/*
 * Sets of canonical texts are jansson objects, used for their hash table.
 * set_add adds v's text; true when it was already there.
 */
static bool set_add(json_t *set, ts_arena_t *a, const json_t *v)
{
	char buf[CANON_STACK];
	const char *k = canon(a, v, buf, sizeof buf);
	if (json_object_get(set, k) != NULL)
		return true;
	json_object_set_new(set, k, json_true());
	return false;
}

static bool set_has(const json_t *set, ts_arena_t *a, const json_t *v)
{
	char buf[CANON_STACK];
	return json_object_get(set, canon(a, v, buf, sizeof buf)) != NULL;
}

/*
 * RFC 7643 §2.4: a complex attribute has the sub-attributes its schema
 * defines. A path naming another (emails[type eq "work"].bogusSub) or a
 * value object carrying one is refused with invalidPath, not stored.
 * Attributes the schema does not define are not policed here.
 */
static ts_err known_subs(struct ctx *c, const char *urn, const char *attr, const char *sub,
                         const json_t *value)
{
	const struct ts_scim_attr_rules *r = c->t->rules;
	struct ts_scim_attr_info info;
	if (r == NULL || r->lookup == NULL || !r->lookup(r, urn, attr, NULL, &info) ||
	    info.type != TS_SCIM_ATTR_COMPLEX || (c->t->group && strcasecmp(attr, "members") == 0))
		return TS_ERR_OK;
	if (sub != NULL) {
		if (!r->lookup(r, urn, attr, sub, &info))
			return fail(c, TS_SCIM_INVALID_PATH, "unknown sub-attribute %s",
			            ts_arena_printf(c->a, "%s.%s", attr, sub));
		return TS_ERR_OK;
	}
	size_t n = json_is_array(value) ? json_array_size(value) : 1;
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_is_array(value) ? json_array_get(value, i) : value;
		const char *k;
		json_t *v;
		if (!json_is_object(o))
			continue;
		json_object_foreach((json_t *)o, k, v)
		{
			if (!r->lookup(r, urn, attr, k, &info))
				return fail(c, TS_SCIM_INVALID_PATH, "unknown sub-attribute %s",
				            ts_arena_printf(c->a, "%s.%s", attr, k));
		}
	}
	return TS_ERR_OK;
}

static bool is_readonly(const struct ctx *c, const char *attr)
{
	return strcasecmp(attr, "id") == 0 || strcasecmp(attr, "meta") == 0 ||
	       (!c->t->group && strcasecmp(attr, "groups") == 0);
}

static bool is_required(const struct ctx *c, const char *attr)
{
	return strcasecmp(attr, c->t->group ? "displayName" : "userName") == 0;
}

/* AWS PATCH User / PATCH Group: the attributes that may change (items 61, 65). */
static bool strict_modifiable(const struct ctx *c, const char *urn, const char *attr)
{
	static const char *const user[] = {
	        "userName",   "active", "externalId", "displayName",       "nickName",
	        "profileUrl", "title",  "userType",   "preferredLanguage", "locale",
	        "timezone",   "name",   "emails",     "addresses",         "phoneNumbers",
	        NULL};
	static const char *const group[] = {"displayName", "members", "externalId", NULL};
	if (urn != NULL && strcasecmp(urn, TS_SCIM_SCHEMA_ENTERPRISE) == 0)
		return !c->t->group;
	for (const char *const *n = c->t->group ? group : user; *n; n++)
		if (strcasecmp(*n, attr) == 0)
			return true;
	return false;
}

/* ---- group memberships ------------------------------------------------- */

static ts_err member_delta(struct ctx *c, const char *id, bool in)
{
	if (c->m == NULL)
		return fail(c, TS_SCIM_INVALID_PATH, "members cannot be changed here%s", NULL);
	if (++c->m->changes > TS_SCIM_PATCH_MAX_MEMBERS) {
		*c->scim_type = "tooMany";
		return ts_error_set(c->e, TS_ERR_TOO_LARGE, "scim",
		                    "more than %d membership changes in one request",
		                    TS_SCIM_PATCH_MAX_MEMBERS);
	}
	/* aws-strict: AWS's limit, refused at the value past it rather than after all of them */
	if (c->t->strict && c->m->changes > TS_SCIM_STRICT_MAX_MEMBER_CHANGES)
		return fail(c, "invalidValue", "more than 100 membership changes in one request%s",
		            NULL);
	json_object_set_new(c->state, id, json_boolean(in));
	return TS_ERR_OK;
}

static ts_err member_clear(struct ctx *c)
{
	if (c->t->strict)
		return fail(c, TS_SCIM_INVALID_PATH,
		            "Replacing group memberships is not supported.%s", NULL);
	c->m->clear = true;
	json_object_clear(c->state);
	return TS_ERR_OK;
}

/* A member value: {"value": "id", "display": ..., "$ref": ... or null} or a bare id string. */
static ts_err member_values(struct ctx *c, const json_t *value, bool in)
{
	if (value == NULL || json_is_null(value))
		return TS_ERR_OK;
	if (!json_is_array(value)) {
		const json_t *one = value;
		if (!json_is_object(one) && !json_is_string(one))
			return fail(c, "invalidValue",
			            "members must be a list of {\"value\": id}%s", NULL);
		json_t *arr = json_array();
		json_array_append(arr, (json_t *)one);
		ts_err rc = member_values(c, arr, in);
		json_decref(arr);
		return rc;
	}
	size_t i;
	json_t *v;
	json_array_foreach(value, i, v)
	{
		const char *id = json_is_string(v)
		                         ? json_string_value(v)
		                         : json_string_value(ts_scim_json_get(v, "value", NULL));
		if (id == NULL || id[0] == '\0')
			return fail(c, "invalidValue", "a member needs a \"value\" (a user id)%s",
			            NULL);
		ts_err rc = member_delta(c, id, in);
		if (rc != TS_ERR_OK)
			return rc;
	}
	return TS_ERR_OK;
}

/* Ids named by `value eq "x"` leaves joined by `or` (members[value eq "a" or value eq "b"]). */
static ts_err filter_ids(struct ctx *c, const struct ts_scim_filter *f)
{
	if (f->kind == TS_SCIM_FILTER_OR) {
		ts_err rc = filter_ids(c, f->left);
		return rc != TS_ERR_OK ? rc : filter_ids(c, f->right);
	}
	if (f->kind == TS_SCIM_FILTER_COMPARE && f->op == TS_SCIM_OP_EQ &&
	    strcasecmp(f->path.attr, "value") == 0 && f->value.type == TS_SCIM_VALUE_STRING)
		return member_delta(c, f->value.str, false);
	return fail(c, TS_SCIM_INVALID_FILTER,
	            "a members filter must be value eq \"id\" (or several joined by or)%s", NULL);
}

static ts_err members_op(struct ctx *c, enum op op, const struct ts_scim_path *p,
                         const json_t *value)
{
	if (p != NULL && p->sub != NULL)
		return fail(c, TS_SCIM_INVALID_PATH, "members.%s cannot be patched", p->sub);
	if (p != NULL && p->filter != NULL) {
		if (op != OP_REMOVE)
			return fail(c, TS_SCIM_INVALID_PATH,
			            "a members value filter is only for remove%s", NULL);
		return filter_ids(c, p->filter);
	}
	switch (op) {
	case OP_ADD:
		return member_values(c, value, true);
	case OP_REPLACE: {
		ts_err rc = member_clear(c);
		return rc != TS_ERR_OK ? rc : member_values(c, value, true);
	}
	case OP_REMOVE:
		/* RFC 7644 §3.5.2.2: no filter removes every member; Entra's legacy form
		 * names the members to remove in value (item 43) */
		if (value == NULL || json_is_null(value))
			return member_clear(c);
		return member_values(c, value, false);
	}
	return TS_ERR_OK;
}

/* ---- one attribute ----------------------------------------------------- */

static void clear_other_primaries(json_t *arr, const json_t *keep)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		json_t *pr = ts_scim_json_get(v, "primary", NULL);
		if (v != keep && pr != NULL)
			set_ci(v, "primary", json_false());
	}
}

static bool is_true(const json_t *v)
{
	return json_is_true(v) ||
	       (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0);
}

/* After value went into arr: RFC 7644 §3.5.2, one primary value at most. */
static void primary_fix(json_t *arr)
{
	size_t i;
	json_t *v, *last = NULL;
	json_array_foreach(arr, i, v)
	{
		if (is_true(ts_scim_json_get(v, "primary", NULL)))
			last = v;
	}
	if (last != NULL)
		clear_other_primaries(arr, last);
}

static void merge(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)src, k, v)
	{
		if (json_is_null(v))
			del_ci(dst, k);
		else
			set_ci(dst, k, json_deep_copy(v));
	}
}

/* The canonical texts of arr's values, as a set (new reference). */
static json_t *set_of(ts_arena_t *a, const json_t *arr)
{
	json_t *set = json_object();
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
	{
		(void)set_add(set, a, x);
	}
	return set;
}

/*
 * Takes out of cur every value equal to one of list, or whose "value" equals
 * one of theirs (Entra names members to remove this way): one pass over each.
 */
static void remove_listed(struct ctx *c, json_t *cur, const json_t *list)
{
	json_t *gone = json_object(), *gone_values = json_object();
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		(void)set_add(gone, c->a, v);
		const char *vv = json_string_value(ts_scim_json_get(v, "value", NULL));
		if (vv != NULL)
			json_object_set_new(gone_values, vv, json_true());
	}
	json_t *kept = json_array();
	json_array_foreach(cur, i, v)
	{
		const char *xv = json_string_value(ts_scim_json_get(v, "value", NULL));
		if (!set_has(gone, c->a, v) &&
		    (xv == NULL || json_object_get(gone_values, xv) == NULL))
			json_array_append(kept, v);
	}
	/* cur stays the container's array: its members are swapped for the kept ones */
	json_array_clear(cur);
	json_array_extend(cur, kept);
	json_decref(kept);
	json_decref(gone);
	json_decref(gone_values);
}

/* Entra's manager forms: [{"value": "M", "$ref": ...}] or "M" for a single complex value. */
static json_t *manager_value(const json_t *value)
{
	if (json_is_array(value) && json_array_size(value) == 1)
		value = json_array_get(value, 0);
	if (json_is_string(value))
		return json_pack("{s:s}", "value", json_string_value(value));
	return json_deep_copy(value);
}

static ts_err whole_attr(struct ctx *c, enum op op, json_t *container, const char *attr,
                         const json_t *value)
{
	json_t *cur = ts_scim_json_get(container, attr, NULL);
	if (op == OP_REMOVE) {
		if (is_required(c, attr) && container == NULL)
			return fail(c, "mutability", "%s is required and cannot be removed", attr);
		if (cur == NULL)
			return TS_ERR_OK;
		/* a value list on remove names the values to take out (as Entra does for members)
		 */
		if (json_is_array(cur) && json_is_array(value)) {
			ts_err rc = charge(c, attr, json_array_size(value));
			if (rc == TS_ERR_OK)
				remove_listed(c, cur, value);
			return rc;
		}
		del_ci(container, attr);
		return TS_ERR_OK;
	}
	if (value == NULL)
		return fail(c, "invalidValue", "%s needs a value", attr);
	if (strcasecmp(attr, "manager") == 0) {
		set_ci(container, attr, manager_value(value));
		return TS_ERR_OK;
	}
	if (json_is_null(value)) {
		del_ci(container, attr);
		return TS_ERR_OK;
	}
	if (json_is_array(value) || json_is_array(cur)) {
		ts_err rc = charge(c, attr, json_is_array(value) ? json_array_size(value) : 1);
		if (rc != TS_ERR_OK)
			return rc;
	}
	if (op == OP_ADD && (json_is_array(cur) || (cur == NULL && json_is_array(value)))) {
		if (cur == NULL) {
			cur = json_array();
			set_ci(container, attr, cur);
		}
		if (!json_is_array(cur))
			return fail(c, "invalidValue", "%s is not multi-valued", attr);
		/* RFC 7644 §3.5.2.1: adding a value already there changes nothing */
		json_t *there = set_of(c->a, cur);
		size_t n = json_is_array(value) ? json_array_size(value) : 1;
		for (size_t i = 0; i < n; i++) {
			const json_t *v = json_is_array(value) ? json_array_get(value, i) : value;
			if (!set_add(there, c->a, v))
				json_array_append_new(cur, json_deep_copy(v));
		}
		json_decref(there);
		primary_fix(cur);
		return TS_ERR_OK;
	}
	if (json_is_object(value) && json_is_object(cur)) {
		/* RFC 7644 §3.5.2.3: sub-attributes not named stay as they are */
		merge(cur, value);
		return TS_ERR_OK;
	}
	set_ci(container, attr, json_deep_copy(value));
	cur = ts_scim_json_get(container, attr, NULL);
	if (json_is_array(cur))
		primary_fix(cur);
	return TS_ERR_OK;
}

static ts_err sub_attr(struct ctx *c, enum op op, json_t *container, const char *attr,
                       const char *sub, const json_t *value)
{
	json_t *cur = ts_scim_json_get(container, attr, NULL);
	if (op == OP_REMOVE) {
		if (json_is_object(cur))
			del_ci(cur, sub);
		else if (json_is_array(cur)) {
			size_t i;
			json_t *v;
			json_array_foreach(cur, i, v) del_ci(v, sub);
		}
		return TS_ERR_OK;
	}
	if (value == NULL)
		return fail(c, "invalidValue", "%s needs a value", attr);
	if (json_is_array(cur)) {
		size_t i;
		json_t *v;
		json_array_foreach(cur, i, v)
		{
			if (json_is_object(v))
				set_ci(v, sub, json_deep_copy(value));
		}
		primary_fix(cur);
		return TS_ERR_OK;
	}
	if (cur == NULL || json_is_null(cur)) {
		cur = json_object();
		set_ci(container, attr, cur);
	}
	if (!json_is_object(cur))
		return fail(c, TS_SCIM_INVALID_PATH, "%s has no sub-attributes", attr);
	if (json_is_null(value))
		del_ci(cur, sub);
	else
		set_ci(cur, sub, json_deep_copy(value));
	return TS_ERR_OK;
}

/* The `attr eq value` pairs of a filter made of eq and and only (to create a missing value). */
static bool eq_pairs(const struct ts_scim_filter *f, json_t *into)
{
	if (f->kind == TS_SCIM_FILTER_AND)
		return eq_pairs(f->left, into) && eq_pairs(f->right, into);
	if (f->kind != TS_SCIM_FILTER_COMPARE || f->op != TS_SCIM_OP_EQ || f->path.sub != NULL)
		return false;
	switch (f->value.type) {
	case TS_SCIM_VALUE_STRING:
		json_object_set_new(into, f->path.attr, json_string(f->value.str));
		return true;
	case TS_SCIM_VALUE_BOOL:
		json_object_set_new(into, f->path.attr, json_boolean(f->value.boolean));
		return true;
	default:
		return false;
	}
}

static bool strict_filter_ok(const struct ts_scim_filter *f)
{
	if (f->kind == TS_SCIM_FILTER_AND)
		return strict_filter_ok(f->left) && strict_filter_ok(f->right);
	return f->kind == TS_SCIM_FILTER_COMPARE && f->op == TS_SCIM_OP_EQ;
}

static ts_err value_path(struct ctx *c, enum op op, json_t *container, const struct ts_scim_path *p,
                         const json_t *value)
{
	if (c->t->strict && !strict_filter_ok(p->filter))
		return fail(c, TS_SCIM_INVALID_FILTER, "only eq filters are supported in paths%s",
		            NULL);
	json_t *cur = ts_scim_json_get(container, p->attr, NULL);
	if (cur != NULL && !json_is_array(cur))
		return fail(c, TS_SCIM_INVALID_PATH, "%s is not multi-valued", p->attr);
	size_t matched = 0;
	if (cur != NULL) {
		for (size_t j = json_array_size(cur); j-- > 0;) {
			json_t *x = json_array_get(cur, j);
			if (!json_is_object(x) || !ts_scim_filter_match(p->filter, x, NULL))
				continue;
			matched++;
			if (op == OP_REMOVE) {
				if (p->sub == NULL)
					json_array_remove(cur, j);
				else
					del_ci(x, p->sub);
				continue;
			}
			if (value == NULL)
				return fail(c, "invalidValue", "%s needs a value", p->attr);
			if (p->sub != NULL)
				set_ci(x, p->sub, json_deep_copy(value));
			else if (json_is_object(value))
				merge(x, value);
			else
				return fail(c, "invalidValue", "a value of %s must be an object",
				            p->attr);
		}
	}
	if (op == OP_REMOVE || matched > 0) {
		if (cur != NULL)
			primary_fix(cur);
		return TS_ERR_OK;
	}
	/*
	 * Nothing matched. Entra adds or replaces emails[type eq "work"].value on a
	 * user who has no work address and expects it created (items 31, 32);
	 * RFC 7644 §3.5.2.3 says noTarget for replace, which aws-strict answers.
	 */
	if (op == OP_REPLACE && c->t->strict)
		return fail(c, "noTarget", "no value of %s matches the filter", p->attr);
	json_t *fresh = json_object();
	if (!eq_pairs(p->filter, fresh)) {
		json_decref(fresh);
		return fail(c, "noTarget", "no value of %s matches the filter", p->attr);
	}
	if (value == NULL) {
		json_decref(fresh);
		return fail(c, "invalidValue", "%s needs a value", p->attr);
	}
	if (p->sub != NULL)
		json_object_set_new(fresh, p->sub, json_deep_copy(value));
	else if (json_is_object(value))
		merge(fresh, value);
	else {
		json_decref(fresh);
		return fail(c, "invalidValue", "a value of %s must be an object", p->attr);
	}
	ts_err rc = charge(c, p->attr, 1);
	if (rc != TS_ERR_OK) {
		json_decref(fresh);
		return rc;
	}
	if (cur == NULL) {
		cur = json_array();
		set_ci(container, p->attr, cur);
	}
	json_array_append_new(cur, fresh);
	primary_fix(cur);
	return TS_ERR_OK;
}

/* ---- one operation ----------------------------------------------------- */

static ts_err path_op(struct ctx *c, enum op op, const struct ts_scim_path *p, const json_t *value)
{
	const char *core = c->t->group ? TS_SCIM_SCHEMA_GROUP : TS_SCIM_SCHEMA_USER;
	json_t *container = c->doc;
	const char *attr = p->attr;
	struct ts_scim_attr_info info;
	if (p->urn == NULL && !c->t->group && c->t->rules != NULL &&
	    c->t->rules->lookup(c->t->rules, NULL, attr, NULL, &info) && info.extension) {
		/* an extension attribute named without its URN (Entra's "manager", item 35) */
		struct ts_scim_path *q = ts_arena_alloc(c->a, sizeof *q);
		*q = *p;
		q->urn = TS_SCIM_SCHEMA_ENTERPRISE;
		p = q;
	}
	if (p->urn != NULL) {
		char *whole = ts_arena_printf(c->a, "%s:%s", p->urn, p->attr);
		if (!c->t->group && strcasecmp(whole, TS_SCIM_SCHEMA_ENTERPRISE) == 0) {
			/* the whole extension: `path: "urn:...:enterprise:2.0:User"` */
			if (p->filter != NULL || p->sub != NULL)
				return fail(c, TS_SCIM_INVALID_PATH, "bad extension path %s",
				            whole);
			return whole_attr(c, op, c->doc, TS_SCIM_SCHEMA_ENTERPRISE, value);
		}
		if (!c->t->group && strcasecmp(p->urn, TS_SCIM_SCHEMA_ENTERPRISE) == 0) {
			container = ts_scim_json_get(c->doc, TS_SCIM_SCHEMA_ENTERPRISE, NULL);
			if (container == NULL) {
				if (op == OP_REMOVE)
					return TS_ERR_OK;
				container = json_object();
				json_object_set_new(c->doc, TS_SCIM_SCHEMA_ENTERPRISE, container);
			}
			if (!json_is_object(container))
				return fail(c, "invalidValue", "%s must be an object",
				            TS_SCIM_SCHEMA_ENTERPRISE);
		} else if (strcasecmp(p->urn, core) != 0) {
			return fail(c, TS_SCIM_INVALID_PATH, "unknown schema in path: %s", p->urn);
		}
	}
	if (c->t->strict && !strict_modifiable(c, p->urn, attr))
		return fail(c, TS_SCIM_INVALID_PATH, "%s cannot be modified", attr);
	if (container == c->doc && is_readonly(c, attr))
		return fail(c, "mutability", "%s is read-only", attr);
	if (container == c->doc && c->t->group && strcasecmp(attr, "members") == 0)
		return members_op(c, op, p, value);
	if (container == c->doc && !c->t->group) {
		bool un = strcasecmp(attr, "userName") == 0, ac = strcasecmp(attr, "active") == 0;
		if (c->t->strict && (un || ac) && op == OP_REMOVE)
			return fail(c, "mutability", "%s cannot be removed", attr);
		if (c->t->strict && ((un && ++c->username_ops > 1) || (ac && ++c->active_ops > 1)))
			return fail(c, "invalidValue", "more than one operation on %s", attr);
	}
	if (op == OP_REMOVE && p->filter == NULL && p->sub == NULL && container == c->doc &&
	    is_required(c, attr))
		return fail(c, "mutability", "%s is required and cannot be removed", attr);
	ts_err rc = known_subs(c, p->urn, attr, p->sub, op == OP_REMOVE ? NULL : value);
	if (rc != TS_ERR_OK)
		return rc;
	if (p->filter != NULL)
		return value_path(c, op, container, p, value);
	if (p->sub != NULL)
		return sub_attr(c, op, container, attr, p->sub, value);
	return whole_attr(c, op, container, attr, value);
}

/* A no-path add or replace: each key of value is an attribute, a dotted path or a URN path. */
static ts_err object_op(struct ctx *c, enum op op, const json_t *value)
{
	if (!json_is_object(value))
		return fail(c, "invalidValue", "an operation without path needs an object value%s",
		            NULL);
	const char *core = c->t->group ? TS_SCIM_SCHEMA_GROUP : TS_SCIM_SCHEMA_USER;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)value, k, v)
	{
		/* RFC 7644 §3.10: the core schema's members under its URN are the resource's own */
		if (strcasecmp(k, core) == 0 && json_is_object(v)) {
			ts_err rc = object_op(c, op, v);
			if (rc != TS_ERR_OK)
				return rc;
			continue;
		}
		/* Okta sends the group's id inside value (item 17); read-only values are ignored */
		if (strcasecmp(k, "id") == 0 || strcasecmp(k, "meta") == 0 ||
		    strcasecmp(k, "schemas") == 0 || (!c->t->group && strcasecmp(k, "groups") == 0))
			continue;
		if (!c->t->group && strcasecmp(k, TS_SCIM_SCHEMA_ENTERPRISE) == 0 &&
		    json_is_object(v)) {
			const char *sk;
			json_t *sv;
			json_object_foreach(v, sk, sv)
			{
				struct ts_scim_path p = {.urn = TS_SCIM_SCHEMA_ENTERPRISE,
				                         .attr = sk};
				ts_err rc = path_op(c, op, &p, sv);
				if (rc != TS_ERR_OK)
					return rc;
			}
			continue;
		}
		struct ts_scim_path plain = {.attr = k}, *p = &plain;
		if (strchr(k, ':') != NULL || strchr(k, '.') != NULL) {
			/* Entra's aadOptscim062020 form: "name.givenName", "urn:...:employeeNumber"
			 */
			const char *st = NULL;
			ts_err rc = ts_scim_path_parse(c->a, k, strlen(k), &p, &st, c->e);
			if (rc != TS_ERR_OK) {
				*c->scim_type = st ? st : TS_SCIM_INVALID_PATH;
				return rc;
			}
		}
		ts_err rc = path_op(c, op, p, v);
		if (rc != TS_ERR_OK)
			return rc;
	}
	return TS_ERR_OK;
}

static ts_err one(struct ctx *c, const json_t *o, size_t index)
{
	if (!json_is_object(o))
		return fail(c, "invalidSyntax", "each operation must be an object%s", NULL);
	const char *name = json_string_value(ts_scim_json_get(o, "op", NULL));
	enum op op;
	/* Entra capitalises ops ("Replace"): item 29 */
	if (name != NULL && strcasecmp(name, "add") == 0)
		op = OP_ADD;
	else if (name != NULL && strcasecmp(name, "remove") == 0)
		op = OP_REMOVE;
	else if (name != NULL && strcasecmp(name, "replace") == 0)
		op = OP_REPLACE;
	else
		return fail(c, "invalidSyntax", "op must be add, remove or replace, not \"%s\"",
		            name ? name : "(missing)");
	json_t *pathv = ts_scim_json_get(o, "path", NULL);
	json_t *value = ts_scim_json_get(o, "value", NULL);
	(void)index;
	if (pathv != NULL && !json_is_null(pathv) && !json_is_string(pathv))
		return fail(c, TS_SCIM_INVALID_PATH, "path must be a string%s", NULL);
	const char *path = json_string_value(pathv);
	if (c->t->strict && op != OP_REMOVE && value == NULL)
		return fail(c, "invalidValue", "add and replace need a value%s", NULL);
	if (path == NULL || path[0] == '\0') {
		/* RFC 7644 §3.5.2.2: remove needs a path */
		if (op == OP_REMOVE)
			return fail(c, "noTarget", "remove needs a path%s", NULL);
		if (c->t->group && json_is_object(value)) {
			json_t *mv = ts_scim_json_get(value, "members", NULL);
			if (mv != NULL) {
				/* item 20: a no-path replace with members sets the whole list */
				ts_err rc = members_op(c, op, NULL, mv);
				if (rc != TS_ERR_OK)
					return rc;
				json_t *rest = json_deep_copy(value);
				del_ci(rest, "members");
				rc = object_op(c, op, rest);
				json_decref(rest);
				return rc;
			}
		}
		return object_op(c, op, value);
	}
	struct ts_scim_path *p = NULL;
	const char *st = NULL;
	ts_err rc = ts_scim_path_parse(c->a, path, strlen(path), &p, &st, c->e);
	if (rc != TS_ERR_OK) {
		*c->scim_type = st ? st : TS_SCIM_INVALID_PATH;
		return rc;
	}
	return path_op(c, op, p, value);
}

ts_err ts_scim_patch_apply(ts_arena_t *a, json_t *doc, const json_t *body,
                           const struct ts_scim_patch_target *t, struct ts_scim_patch_members *m,
                           const char **scim_type, struct ts_error *e)
{
	const char *ignored = NULL;
	struct ctx c = {.a = a,
	                .t = t,
	                .m = m,
	                .doc = doc,
	                .e = e,
	                .scim_type = scim_type ? scim_type : &ignored};
	*c.scim_type = NULL;
	if (m != NULL)
		*m = (struct ts_scim_patch_members){0};
	if (!json_is_object(body))
		return fail(&c, "invalidSyntax", "the body must be a PatchOp object%s", NULL);
	json_t *ops = ts_scim_json_get(body, "Operations", NULL);
	if (!json_is_array(ops) || json_array_size(ops) == 0)
		return fail(&c, "invalidSyntax", "Operations must be a non-empty array%s", NULL);
	if (json_array_size(ops) > TS_SCIM_PATCH_MAX_OPS) {
		*c.scim_type = "tooMany";
		return ts_error_set(e, TS_ERR_TOO_LARGE, "scim", "more than %d operations",
		                    TS_SCIM_PATCH_MAX_OPS);
	}
	c.state = ts_json_own(a, json_object());
	c.named = ts_json_own(a, json_object());
	size_t i;
	json_t *o;
	json_array_foreach(ops, i, o)
	{
		ts_err rc = one(&c, o, i);
		if (rc != TS_ERR_OK)
			return rc;
	}
	if (m != NULL) {
		m->add = ts_json_own(a, json_array());
		m->remove = ts_json_own(a, json_array());
		const char *id;
		json_t *in;
		json_object_foreach(c.state, id, in)
		{
			json_array_append_new(json_is_true(in) ? m->add : m->remove,
			                      json_string(id));
		}
		if (t->strict && m->changes > TS_SCIM_STRICT_MAX_MEMBER_CHANGES)
			return fail(&c, "invalidValue",
			            "more than 100 membership changes in one request%s", NULL);
	}
	return TS_ERR_OK;
}
