/*
 * Listing and filtering (RFC 7644 §3.4.2, §3.4.3). The filter is parsed and
 * checked against the schema (scim/filter.h); its indexed parts (userName,
 * externalId, id, emails.value, displayName, members / groups.value,
 * meta.lastModified ranges, and `and` / `or` of those) choose candidate rows
 * through the store's indexes; the evaluator then decides on each candidate,
 * so the SQL only has to find a superset. A filter with no indexed part is
 * evaluated over the whole account when it holds at most TS__SCIM_SCAN_MAX
 * resources, and refused with 400 tooMany beyond.
 *
 * Paging is by offset over (created_ms, id): startIndex is an OFFSET, so a
 * deep page costs the rows skipped in the index (documented cost; Okta pages
 * through with count=100).
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "scim/internal.h"
#include "scim/patch.h"

#define MAX_LOOKUPS 16

struct lookup {
	enum ts_store_scim_key key;
	const char *value;
	int64_t lo, hi;
};

struct plan {
	struct lookup l[MAX_LOOKUPS];
	int n;
};

static bool core_path(const struct ts_scim_attr_path *p, const char *core)
{
	return p->urn == NULL || strcasecmp(p->urn, core) == 0;
}

static bool named(const struct ts_scim_attr_path *p, const char *attr, const char *sub)
{
	if (strcasecmp(p->attr, attr) != 0)
		return false;
	if (sub == NULL)
		return p->sub == NULL;
	return p->sub == NULL || strcasecmp(p->sub, sub) == 0;
}

static bool add(struct plan *pl, enum ts_store_scim_key k, const char *v, int64_t lo, int64_t hi)
{
	if (pl->n == MAX_LOOKUPS)
		return false;
	pl->l[pl->n++] = (struct lookup){k, v, lo, hi};
	return true;
}

static bool leaf(const struct ts_scim_filter *f, bool users, struct plan *pl)
{
	const char *core = users ? TS_SCIM_SCHEMA_USER : TS_SCIM_SCHEMA_GROUP;
	if (f->kind == TS_SCIM_FILTER_VALUE_PATH) {
		/* emails[type eq "work" and value eq "x"]: the value conjunct is indexed */
		if (!users || !core_path(&f->path, core) || strcasecmp(f->path.attr, "emails") != 0)
			return false;
		const struct ts_scim_filter *in = f->inner;
		const struct ts_scim_filter *stack[TS_SCIM_FILTER_MAX_COMPARISONS];
		int sp = 0;
		stack[sp++] = in;
		while (sp > 0) {
			const struct ts_scim_filter *x = stack[--sp];
			if (x->kind == TS_SCIM_FILTER_AND &&
			    sp + 2 <= TS_SCIM_FILTER_MAX_COMPARISONS) {
				stack[sp++] = x->left;
				stack[sp++] = x->right;
			} else if (x->kind == TS_SCIM_FILTER_COMPARE && x->op == TS_SCIM_OP_EQ &&
			           x->value.type == TS_SCIM_VALUE_STRING &&
			           strcasecmp(x->path.attr, "value") == 0) {
				return add(pl, TS_STORE_USER_BY_EMAIL, x->value.str, 0, 0);
			}
		}
		return false;
	}
	if (f->kind != TS_SCIM_FILTER_COMPARE || !core_path(&f->path, core))
		return false;
	const struct ts_scim_attr_path *p = &f->path;
	if (f->op != TS_SCIM_OP_EQ) {
		int64_t t = 0;
		if (!named(p, "meta", "lastModified") || p->sub == NULL ||
		    f->value.type != TS_SCIM_VALUE_STRING || !ts_time_parse(f->value.str, &t))
			return false;
		/* a superset by a second either way: the evaluator compares exactly */
		int64_t lo = INT64_MIN / 2, hi = INT64_MAX / 2;
		if (f->op == TS_SCIM_OP_GT || f->op == TS_SCIM_OP_GE)
			lo = t - 1000;
		else if (f->op == TS_SCIM_OP_LT || f->op == TS_SCIM_OP_LE)
			hi = t + 1000;
		else
			return false;
		return add(pl, users ? TS_STORE_USER_MODIFIED : TS_STORE_GROUP_MODIFIED, NULL, lo,
		           hi);
	}
	if (f->value.type != TS_SCIM_VALUE_STRING)
		return false;
	const char *v = f->value.str;
	if (named(p, "id", NULL))
		return add(pl, users ? TS_STORE_USER_BY_ID : TS_STORE_GROUP_BY_ID, v, 0, 0);
	if (named(p, "externalId", NULL))
		return add(pl, users ? TS_STORE_USER_BY_EXTERNAL : TS_STORE_GROUP_BY_EXTERNAL, v, 0,
		           0);
	if (users && named(p, "userName", NULL))
		return add(pl, TS_STORE_USER_BY_NAME, v, 0, 0);
	if (users && named(p, "emails", "value"))
		return add(pl, TS_STORE_USER_BY_EMAIL, v, 0, 0);
	if (users && named(p, "groups", "value"))
		return add(pl, TS_STORE_USER_IN_GROUP, v, 0, 0);
	if (!users && named(p, "displayName", NULL))
		return add(pl, TS_STORE_GROUP_BY_NAME, v, 0, 0);
	if (!users && named(p, "members", "value"))
		return add(pl, TS_STORE_GROUP_WITH_MEMBER, v, 0, 0);
	return false;
}

/* Lookups whose union holds every match, or false when the filter needs a scan. */
static bool plan(const struct ts_scim_filter *f, bool users, struct plan *pl)
{
	switch (f->kind) {
	case TS_SCIM_FILTER_AND: {
		struct plan save = *pl;
		if (plan(f->left, users, pl))
			return true;
		*pl = save;
		return plan(f->right, users, pl);
	}
	case TS_SCIM_FILTER_OR:
		return plan(f->left, users, pl) && plan(f->right, users, pl);
	default:
		return leaf(f, users, pl);
	}
}

/* aws-strict (items 58, 64): `attr eq "value"` on the listed attributes, joined by and. */
static bool strict_ok(const struct ts_scim_filter *f, bool users)
{
	if (f->kind == TS_SCIM_FILTER_AND)
		return strict_ok(f->left, users) && strict_ok(f->right, users);
	if (f->kind != TS_SCIM_FILTER_COMPARE || f->op != TS_SCIM_OP_EQ)
		return false;
	const struct ts_scim_attr_path *p = &f->path;
	if (users && p->urn != NULL && strcasecmp(p->urn, TS_SCIM_SCHEMA_ENTERPRISE) == 0)
		return strcasecmp(p->attr, "manager") == 0;
	if (!core_path(p, users ? TS_SCIM_SCHEMA_USER : TS_SCIM_SCHEMA_GROUP))
		return false;
	if (named(p, "id", NULL) || named(p, "externalId", NULL))
		return true;
	if (users)
		return named(p, "userName", NULL) || named(p, "groups", "value");
	return named(p, "displayName", NULL) || named(p, "members", "value");
}

/* Whether the filter reads the membership attribute (groups / members). */
static bool mentions(const struct ts_scim_filter *f, const char *attr)
{
	if (f == NULL)
		return false;
	if (f->kind == TS_SCIM_FILTER_AND || f->kind == TS_SCIM_FILTER_OR)
		return mentions(f->left, attr) || mentions(f->right, attr);
	if (f->kind == TS_SCIM_FILTER_NOT)
		return mentions(f->left, attr);
	return strcasecmp(f->path.attr, attr) == 0;
}

struct item {
	const char *id;
	int64_t created;
	const void *row;
	json_t *doc; /* rendered while filtering, reused for the answer; or NULL */
};

static int by_position(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

static ts_err parse_int(struct ts__scim_call *call, const char *s, const char *name, int64_t def,
                        int64_t *out, struct ts_error *e)
{
	*out = def;
	if (s == NULL || s[0] == '\0')
		return TS_ERR_OK;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0')
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "%s must be an integer", name);
	*out = v;
	return TS_ERR_OK;
}

static json_t *render(struct ts__scim_call *call, bool users, const void *row, bool with_members,
                      ts_err *rc, struct ts_error *e)
{
	*rc = TS_ERR_OK;
	if (users) {
		const struct ts_user_row *u = row;
		struct ts_group_member *g = NULL;
		int ng = -1;
		if (with_members)
			*rc = ts_store_user_groups(call->conn, call->a, u->user_id, &g, &ng, e);
		return *rc == TS_ERR_OK ? ts__scim_user_render(call, u, g, ng) : NULL;
	}
	const struct ts_group_row *gr = row;
	struct ts_group_member *m = NULL;
	int nm = -1;
	if (with_members)
		*rc = ts_store_group_members(call->conn, call->a, gr->group_id,
		                             TS__SCIM_MEMBERS_RENDER_MAX, &m, &nm, e);
	return *rc == TS_ERR_OK ? ts__scim_group_render(call, gr, m, nm) : NULL;
}

/*
 * The question every IdP asks before it creates or links a user: `userName eq
 * "..."`, with no attribute selection. The unique index answers it exactly
 * (userName compares with ASCII case folding, like the index key), and the
 * answer is written as text, without building jansson values: the same bytes
 * as the general path, a third of the work.
 */
static bool userName_eq(const struct ts__scim_call *call, const struct ts_scim_filter *f)
{
	return !call->strict && call->attrs.nincl == 0 && call->attrs.nexcl == 0 &&
	       f->kind == TS_SCIM_FILTER_COMPARE && f->op == TS_SCIM_OP_EQ &&
	       f->value.type == TS_SCIM_VALUE_STRING && core_path(&f->path, TS_SCIM_SCHEMA_USER) &&
	       strcasecmp(f->path.attr, "userName") == 0 && f->path.sub == NULL;
}

static ts_err answer_userName_eq(struct ts__scim_call *call, const struct ts_scim_filter *f,
                                 int64_t start, int64_t count, struct ts_error *e)
{
	struct ts_user_row *rows = NULL;
	int got = 0;
	ts_store_read_one(call->conn); /* the answer is this one lookup (docs/store.md) */
	ts_err rc = ts_store_user_find(call->conn, call->a, call->account_id, TS_STORE_USER_BY_NAME,
	                               f->value.str, 0, 0, 2, &rows, &got, e);
	if (rc != TS_ERR_OK)
		return rc;
	const struct ts_user_row *match[2];
	int total = 0;
	for (int i = 0; i < got; i++)
		if (strlen(rows[i].user_name) == f->value.str_len &&
		    strncasecmp(rows[i].user_name, f->value.str, f->value.str_len) == 0)
			match[total++] = &rows[i];
	int from = start - 1 < total ? (int)start - 1 : total;
	int to = from + count < total ? from + (int)count : total;
	struct ts_jsonw w;
	ts_jsonw_init(&w, call->a, 1024);
	ts_jsonw_lit(&w, "{\"schemas\":[\"" TS__SCIM_LIST_SCHEMA "\"],\"totalResults\":");
	char num[64];
	int nl = snprintf(num, sizeof num, "%d,\"startIndex\":%lld,\"itemsPerPage\":%d", total,
	                  (long long)start, to - from);
	ts_jsonw_raw(&w, num, (size_t)nl);
	ts_jsonw_lit(&w, ",\"Resources\":[");
	for (int i = from; i < to; i++) {
		if (i > from)
			ts_jsonw_lit(&w, ",");
		if (!ts__scim_user_write(call, &w, match[i], NULL, -1)) {
			/* a stored document the text path does not take: the general path */
			json_t *doc = ts__scim_user_render(call, match[i], NULL, -1);
			ts_jsonw_value(&w, doc);
			json_decref(doc);
		}
	}
	ts_jsonw_lit(&w, "]}");
	call->response_text = ts_jsonw_finish(&w, &call->response_len);
	call->status = 200;
	return TS_ERR_OK;
}

ts_err ts__scim_search(struct ts__scim_call *call, bool users, const char *filter,
                       const char *start_text, const char *count_text, struct ts_error *e)
{
	int64_t start = 1, count = TS__SCIM_COUNT_DEFAULT;
	ts_err rc = parse_int(call, start_text, "startIndex", 1, &start, e);
	if (rc == TS_ERR_OK)
		rc = parse_int(call, count_text, "count", TS__SCIM_COUNT_DEFAULT, &count, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* RFC 7644 §3.4.2.4: startIndex < 1 means 1; a negative count means 0 */
	if (start < 1)
		start = 1;
	if (count < 0)
		count = 0;
	int64_t max = call->strict ? TS__SCIM_STRICT_COUNT_MAX : TS__SCIM_COUNT_MAX;
	if (count > max)
		count = max;
	const char *core = users ? TS_SCIM_SCHEMA_USER : TS_SCIM_SCHEMA_GROUP;
	const char *member_attr = users ? "groups" : "members";
	/* members / groups are listed only when asked for; aws-strict never lists members */
	bool want_members =
	        ts__scim_attrs_want(call, member_attr, !users) && !(call->strict && !users);
	if (call->attrs.nincl == 0 && users)
		want_members = false;

	struct item *items = NULL;
	int64_t total = 0;
	int nitems = 0;
	if (filter == NULL || filter[0] == '\0') {
		rc = users ? ts_store_user_count(call->conn, call->account_id, &total, e)
		           : ts_store_group_count(call->conn, call->account_id, &total, e);
		if (rc != TS_ERR_OK)
			return rc;
		int n = 0;
		if (users) {
			struct ts_user_row *rows = NULL;
			rc = ts_store_user_list(call->conn, call->a, call->account_id, start - 1,
			                        (int)count, &rows, &n, e);
			items = ts_arena_alloc(call->a, sizeof *items * (size_t)(n + 1));
			for (int i = 0; i < n; i++)
				items[i] = (struct item){rows[i].user_id, rows[i].created_ms,
				                         &rows[i], NULL};
		} else {
			struct ts_group_row *rows = NULL;
			rc = ts_store_group_list(call->conn, call->a, call->account_id, start - 1,
			                         (int)count, &rows, &n, e);
			items = ts_arena_alloc(call->a, sizeof *items * (size_t)(n + 1));
			for (int i = 0; i < n; i++)
				items[i] = (struct item){rows[i].group_id, rows[i].created_ms,
				                         &rows[i], NULL};
		}
		if (rc != TS_ERR_OK)
			return rc;
		nitems = n;
	} else {
		struct ts_scim_filter *f = NULL;
		const char *st = NULL;
		unsigned flags = call->strict ? 0 : TS_SCIM_FILTER_BARE_VALUES;
		rc = ts_scim_filter_parse(call->a, filter, strlen(filter), flags, &f, &st, e);
		const struct ts_scim_attr_rules *rules =
		        users ? ts_scim_attr_rules_user() : ts_scim_attr_rules_group();
		if (rc == TS_ERR_OK)
			rc = ts_scim_filter_check(f, rules, e);
		if (rc != TS_ERR_OK) {
			call->scim_type = TS_SCIM_INVALID_FILTER;
			return rc;
		}
		if (users && userName_eq(call, f))
			return answer_userName_eq(call, f, start, count, e);
		if (call->strict && !strict_ok(f, users))
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, TS_SCIM_INVALID_FILTER,
			                    "only attr eq \"value\" on the supported attributes, "
			                    "joined by and, is supported");
		struct plan pl = {0};
		json_t *seen = ts_json_own(call->a, json_object());
		size_t cap =
		        TS_ARENA_GROW_MIN; /* never NULL, also for qsort when nothing matched */
		int n = 0;
		struct item *cand = ts_arena_alloc(call->a, sizeof *cand * cap);
		if (plan(f, users, &pl)) {
			for (int i = 0; i < pl.n; i++) {
				const struct lookup *l = &pl.l[i];
				int got = 0;
				const void *rowsv = NULL;
				size_t rsize = users ? sizeof(struct ts_user_row)
				                     : sizeof(struct ts_group_row);
				if (users) {
					struct ts_user_row *rows = NULL;
					rc = ts_store_user_find(call->conn, call->a,
					                        call->account_id, l->key, l->value,
					                        l->lo, l->hi, TS__SCIM_SCAN_MAX + 1,
					                        &rows, &got, e);
					rowsv = rows;
				} else {
					struct ts_group_row *rows = NULL;
					rc = ts_store_group_find(
					        call->conn, call->a, call->account_id, l->key,
					        l->value, l->lo, l->hi, TS__SCIM_SCAN_MAX + 1,
					        &rows, &got, e);
					rowsv = rows;
				}
				if (rc != TS_ERR_OK)
					return rc;
				for (int j = 0; j < got; j++) {
					const void *r = (const char *)rowsv + rsize * (size_t)j;
					const char *id =
					        users ? ((const struct ts_user_row *)r)->user_id
					              : ((const struct ts_group_row *)r)->group_id;
					int64_t cr =
					        users ? ((const struct ts_user_row *)r)->created_ms
					              : ((const struct ts_group_row *)r)
					                        ->created_ms;
					if (json_object_get(seen, id) != NULL)
						continue;
					json_object_set_new(seen, id, json_true());
					if (n == TS__SCIM_SCAN_MAX)
						return ts__scim_err(call, e, TS_ERR_BAD_REQUEST,
						                    "tooMany",
						                    "the filter matches more than "
						                    "%d resources; "
						                    "narrow it",
						                    TS__SCIM_SCAN_MAX);
					/* cannot fail: n stays below TS__SCIM_SCAN_MAX (above) */
					ts_err grown = TS_ARENA_GROW(call->a, cand, n, &cap,
					                             TS__SCIM_SCAN_MAX);
					if (grown != TS_ERR_OK)
						return grown;
					cand[n++] = (struct item){id, cr, r, NULL};
				}
			}
		} else {
			int64_t all = 0;
			rc = users ? ts_store_user_count(call->conn, call->account_id, &all, e)
			           : ts_store_group_count(call->conn, call->account_id, &all, e);
			if (rc != TS_ERR_OK)
				return rc;
			if (all > TS__SCIM_SCAN_MAX)
				return ts__scim_err(
				        call, e, TS_ERR_BAD_REQUEST, "tooMany",
				        "this filter has no indexed part (userName, externalId, "
				        "id, "
				        "emails, displayName, members, meta.lastModified) and the "
				        "account holds more than %d resources",
				        TS__SCIM_SCAN_MAX);
			int got = 0;
			if (users) {
				struct ts_user_row *rows = NULL;
				rc = ts_store_user_list(call->conn, call->a, call->account_id, 0,
				                        (int)all, &rows, &got, e);
				cand = ts_arena_alloc(call->a, sizeof *cand * (size_t)(got + 1));
				for (int i = 0; i < got; i++)
					cand[i] = (struct item){rows[i].user_id, rows[i].created_ms,
					                        &rows[i], NULL};
			} else {
				struct ts_group_row *rows = NULL;
				rc = ts_store_group_list(call->conn, call->a, call->account_id, 0,
				                         (int)all, &rows, &got, e);
				cand = ts_arena_alloc(call->a, sizeof *cand * (size_t)(got + 1));
				for (int i = 0; i < got; i++)
					cand[i] = (struct item){rows[i].group_id,
					                        rows[i].created_ms, &rows[i], NULL};
			}
			if (rc != TS_ERR_OK)
				return rc;
			n = got;
		}
		bool need_members = mentions(f, member_attr);
		/* the document the filter saw is the answer's when both render members alike */
		bool reuse = need_members == want_members;
		qsort(cand, (size_t)n, sizeof *cand, by_position);
		items = ts_arena_alloc(call->a, sizeof *items * (size_t)(n + 1));
		for (int i = 0; i < n; i++) {
			json_t *doc = render(call, users, cand[i].row, need_members, &rc, e);
			if (rc != TS_ERR_OK)
				return rc;
			bool ok = ts_scim_filter_match(f, doc, rules);
			if (ok && reuse) {
				items[total] = cand[i];
				items[total++].doc = ts_json_own(call->a, doc);
			} else {
				json_decref(doc);
				if (ok)
					items[total++] = cand[i];
			}
		}
		/* the page of the matches */
		int64_t from = start - 1 < total ? start - 1 : total;
		int64_t to = from + count < total ? from + count : total;
		items += from;
		nitems = (int)(to - from);
	}
	json_t *resources = json_array();
	for (int i = 0; i < nitems; i++) {
		/* a reused document stays owned by the arena: the array takes its own reference */
		json_t *doc = items[i].doc != NULL
		                      ? json_incref(items[i].doc)
		                      : render(call, users, items[i].row, want_members, &rc, e);
		if (rc != TS_ERR_OK) {
			json_decref(resources);
			return rc;
		}
		ts__scim_attrs_apply(call, doc, core);
		json_array_append_new(resources, doc);
	}
	/* RFC 7644 §3.4.2: totalResults always, integers (item 5) */
	call->response =
	        json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas", TS__SCIM_LIST_SCHEMA,
	                  "totalResults", (json_int_t)total, "startIndex", (json_int_t)start,
	                  "itemsPerPage", (json_int_t)nitems, "Resources", resources);
	call->status = 200;
	return TS_ERR_OK;
}
