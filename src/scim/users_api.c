/* SCIM /Users endpoints (RFC 7644 §3.3 - §3.6). */
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/timeutil.h"
#include "directory/session.h"
#include "scim/internal.h"
#include "scim/patch.h"

/* RFC 7643 §4.1.1 / RFC 7644 §3.3: userName is unique, case-insensitively (items 7, 80). */
static ts_err name_free(struct ts__scim_call *call, const char *name, const char *self,
                        struct ts_error *e)
{
	struct ts_user_row *rows = NULL;
	int n = 0;
	ts_err rc = ts_store_user_find(call->conn, call->a, call->account_id, TS_STORE_USER_BY_NAME,
	                               name, 0, 0, 2, &rows, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	for (int i = 0; i < n; i++)
		if (self == NULL || strcmp(rows[i].user_id, self) != 0)
			return ts__scim_err(call, e, TS_ERR_CONFLICT, "uniqueness",
			                    "userName %s is already taken", name);
	return TS_ERR_OK;
}

static ts_err answer_user(struct ts__scim_call *call, int status, const struct ts_user_row *row,
                          bool is_new, struct ts_error *e)
{
	struct ts_group_member *g = NULL;
	int ng = -1;
	if (is_new && ts__scim_attrs_want(call, "groups", true)) {
		ng = 0; /* a user just created is in no group: no query */
	} else if (ts__scim_attrs_want(call, "groups", true)) {
		ts_err rc = ts_store_user_groups(call->conn, call->a, row->user_id, &g, &ng, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	call->resource_id = row->user_id;
	/* no attribute selection: written as text, the same bytes as the jansson path */
	if (!call->strict && call->attrs.nincl == 0 && call->attrs.nexcl == 0) {
		struct ts_jsonw w;
		ts_jsonw_init(&w, call->a, 1024);
		if (ts__scim_user_write(call, &w, row, g, ng)) {
			call->response_text = ts_jsonw_finish(&w, &call->response_len);
			call->status = status;
			call->etag = ts__scim_etag(call, row->version);
			if (status == 201)
				call->location = ts_arena_concat(call->a, call->base, "/Users/",
				                                 row->user_id, NULL);
			return TS_ERR_OK;
		}
	}
	ts__scim_answer_resource(call, status, ts__scim_user_render(call, row, g, ng), row->version,
	                         TS_SCIM_SCHEMA_USER);
	return TS_ERR_OK;
}

/* After the commit: a user just created is in no group, so no query is needed. */
static void answer_created(struct ts__scim_call *call)
{
	struct ts_error unused = {0};
	(void)answer_user(call, 201, call->after_arg, true, &unused);
}

/* A new user as the body describes it, before the writer lock. */
struct new_user {
	struct ts_user_row row;
	struct ts_user_email *emails;
	int nemails;
};

static ts_err prepare_user(struct ts__scim_call *call, struct ts_error *e)
{
	struct new_user *n = ts_arena_alloc(call->a, sizeof *n);
	ts_err rc = ts__scim_user_from_doc(call, call->body, &n->row, &n->emails, &n->nemails, e);
	if (rc != TS_ERR_OK)
		return rc;
	char id[TS_UUID_LEN + 1];
	/* RFC 7643 §3.1: the server assigns a stable id, never reused (item 23) */
	ts_uuid_v7(id);
	n->row.user_id = ts_arena_strdup(call->a, id);
	n->row.version = 1;
	n->row.created_ms = n->row.modified_ms = ts_now_ms();
	call->prepared = n;
	return TS_ERR_OK;
}

static ts_err create_user(struct ts__scim_call *call, struct ts_error *e)
{
	struct new_user *n = call->prepared;
	/* the unique index on (account, lowercased userName) refuses a taken name (items 7, 80) */
	ts_err rc = ts_store_user_insert(call->conn, &n->row, n->emails, n->nemails, e);
	if (rc == TS_ERR_CONFLICT)
		return ts__scim_err(call, e, TS_ERR_CONFLICT, "uniqueness",
		                    "userName %s is already taken", n->row.user_name);
	if (rc != TS_ERR_OK)
		return rc;
	call->resource_id = n->row.user_id;
	call->after = answer_created;
	call->after_arg = &n->row;
	return TS_ERR_OK;
}

static ts_err get_user(struct ts__scim_call *call, struct ts_error *e)
{
	struct ts_user_row row;
	ts_err rc = ts_store_user_get(call->conn, call->a, call->account_id, call->req->params[0],
	                              &row, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* RFC 7644 §3.14: If-None-Match with the current version -> 304 */
	const char *inm = ts_http_header(call->req, "if-none-match");
	const char *etag = ts__scim_etag(call, row.version);
	if (inm != NULL && (strcmp(inm, "*") == 0 || strstr(inm, etag + 2) != NULL)) {
		call->status = 304;
		call->etag = etag;
		return TS_ERR_OK;
	}
	return answer_user(call, 200, &row, false, e);
}

static ts_err list_users(struct ts__scim_call *call, struct ts_error *e)
{
	return ts__scim_search(call, true, ts_http_query(call->req, "filter"),
	                       ts_http_query(call->req, "startIndex"),
	                       ts_http_query(call->req, "count"), e);
}

static const char *num_text(struct ts__scim_call *call, const json_t *v)
{
	if (json_is_integer(v))
		return ts_arena_printf(call->a, "%lld", (long long)json_integer_value(v));
	return json_string_value(v);
}

/* POST /.search with a SearchRequest body (RFC 7644 §3.4.3, item 77). */
static ts_err search(struct ts__scim_call *call, bool users, struct ts_error *e)
{
	json_t *b = call->body;
	json_t *attrs = ts_scim_json_get(b, "attributes", NULL);
	json_t *excl = ts_scim_json_get(b, "excludedAttributes", NULL);
	const char *incl_text = NULL, *excl_text = NULL;
	json_t *lists[2] = {attrs, excl};
	const char **texts[2] = {&incl_text, &excl_text};
	for (int k = 0; k < 2; k++) {
		if (lists[k] == NULL)
			continue;
		if (json_is_string(lists[k])) {
			*texts[k] = json_string_value(lists[k]);
			continue;
		}
		if (!json_is_array(lists[k]))
			return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
			                    "attributes must be a list");
		const char *t = "";
		size_t i;
		json_t *v;
		json_array_foreach(lists[k], i, v)
		{
			if (json_is_string(v))
				t = ts_arena_printf(call->a, "%s%s%s", t, *t ? "," : "",
				                    json_string_value(v));
		}
		*texts[k] = t;
	}
	ts__scim_attrs_parse(call, incl_text, excl_text);
	json_t *f = ts_scim_json_get(b, "filter", NULL);
	if (f != NULL && !json_is_string(f))
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidValue",
		                    "filter must be a string");
	return ts__scim_search(call, users, json_string_value(f),
	                       num_text(call, ts_scim_json_get(b, "startIndex", NULL)),
	                       num_text(call, ts_scim_json_get(b, "count", NULL)), e);
}

static ts_err search_users(struct ts__scim_call *call, struct ts_error *e)
{
	if (call->strict)
		return ts__scim_err(call, e, TS_ERR_NOT_FOUND, NULL,
		                    "/.search is not supported by this profile");
	return search(call, true, e);
}

/*
 * docs/product.md §4: deactivation suspends sign-in, so the user's browser sessions and
 * CLI tokens end at once, in the transaction that deactivates them.
 */
static ts_err signed_out(struct ts__scim_call *call, const char *user_id, struct ts_error *e)
{
	return ts_directory_session_revoke_all(call->conn, user_id, NULL, e);
}

/*
 * The end of PUT and PATCH: the row becomes the next version of old, and a
 * deactivation signs the user out (docs/product.md §4); answers the stored resource.
 */
static ts_err store_new_version(struct ts__scim_call *call, const struct ts_user_row *old,
                                struct ts_user_row *row, struct ts_user_email *emails, int ne,
                                struct ts_error *e)
{
	row->user_id = old->user_id;
	row->created_ms = old->created_ms;
	row->version = old->version + 1;
	row->modified_ms = ts_now_ms();
	ts_err rc = ts_store_user_update(call->conn, row, emails, ne, e);
	if (rc == TS_ERR_OK && old->active && !row->active)
		rc = signed_out(call, old->user_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	return answer_user(call, 200, row, false, e);
}

/* A PUT's resource, made from the body before the writer lock (it needs no store). */
struct put_user {
	const char *sent_id; /* the body's id, if any */
	struct ts_user_row row;
	struct ts_user_email *emails;
	int ne;
};

static ts_err prepare_replace_user(struct ts__scim_call *call, struct ts_error *e)
{
	struct put_user *p = ts_arena_alloc(call->a, sizeof *p);
	memset(p, 0, sizeof *p);
	const char *sent_id = json_string_value(ts_scim_json_get(call->body, "id", NULL));
	p->sent_id = sent_id != NULL ? ts_arena_strdup(call->a, sent_id) : NULL;
	ts_err rc = ts__scim_user_from_doc(call, call->body, &p->row, &p->emails, &p->ne, e);
	if (rc == TS_ERR_OK)
		call->prepared = p;
	return rc;
}

/* PUT replaces the resource and never creates one (RFC 7644 §3.5.1, item 81). */
static ts_err replace_user(struct ts__scim_call *call, struct ts_error *e)
{
	struct put_user *p = call->prepared;
	struct ts_user_row old;
	ts_err rc = ts_store_user_get_for_update(call->conn, call->a, call->account_id,
	                                         call->req->params[0], &old, e);
	if (rc == TS_ERR_OK)
		rc = ts__scim_check_if_match(call, old.version, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (p->sent_id != NULL && strcmp(p->sent_id, old.user_id) != 0)
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "mutability",
		                    "id is immutable: %s is not %s", p->sent_id, old.user_id);
	rc = name_free(call, p->row.user_name, old.user_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	return store_new_version(call, &old, &p->row, p->emails, p->ne, e);
}

/* A PATCH computed on the version it read: the row read and the row it makes. */
struct patched_user {
	struct ts_user_row old;
	struct ts_user_row row;
	struct ts_user_email *emails;
	int ne;
};

/* The body applied to p->old: the next row in p (no store access). */
static ts_err patched(struct ts__scim_call *call, struct patched_user *p, struct ts_error *e)
{
	json_t *doc = ts_json_own(call->a, ts__scim_resource_doc(p->old.resource));
	/* the columns are the truth for what other parts of Tessera may change */
	json_object_set_new(doc, "userName", json_string(p->old.user_name));
	json_object_set_new(doc, "active", json_boolean(p->old.active));
	struct ts_scim_patch_target t = {
	        .group = false, .strict = call->strict, .rules = ts_scim_attr_rules_user()};
	const char *st = NULL;
	ts_err rc = ts_scim_patch_apply(call->a, doc, call->body, &t, NULL, &st, e);
	if (rc != TS_ERR_OK) {
		call->scim_type = st;
		return rc;
	}
	bool was_strict = call->strict;
	call->strict = false; /* create-time constraints do not apply to a PATCH result */
	rc = ts__scim_user_from_doc(call, doc, &p->row, &p->emails, &p->ne, e);
	call->strict = was_strict;
	return rc;
}

/*
 * A PATCH's work (the engine, the resource rules) runs here, before
 * the writer lock, on the version read now; run re-reads the version under
 * the lock and writes only if it has not moved. The last attempt leaves the
 * work to run.
 */
static ts_err prepare_patch_user(struct ts__scim_call *call, struct ts_error *e)
{
	if (call->attempt >= TS__SCIM_WRITE_ATTEMPTS)
		return TS_ERR_OK;
	struct patched_user *p = ts_arena_alloc(call->a, sizeof *p);
	memset(p, 0, sizeof *p);
	bool own = !ts_store_in_tx(call->conn); /* a cached key: no read transaction yet */
	ts_err rc = own ? ts_store_begin(call->conn, false, e) : TS_ERR_OK;
	if (rc == TS_ERR_OK)
		rc = ts_store_user_get(call->conn, call->a, call->account_id, call->req->params[0],
		                       &p->old, e);
	if (own)
		ts_store_rollback(call->conn);
	if (rc == TS_ERR_OK)
		rc = ts__scim_check_if_match(call, p->old.version, e);
	if (rc == TS_ERR_OK)
		rc = patched(call, p, e);
	if (rc == TS_ERR_OK)
		call->prepared = p;
	return rc;
}

static ts_err patch_user(struct ts__scim_call *call, struct ts_error *e)
{
	struct patched_user *p = call->prepared, now;
	struct ts_user_row cur;
	/* under the writer lock (PostgreSQL: the row's), so the version cannot move again */
	ts_err rc = ts_store_user_get_for_update(call->conn, call->a, call->account_id,
	                                         call->req->params[0], &cur, e);
	if (rc == TS_ERR_OK)
		rc = ts__scim_check_if_match(call, cur.version, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (p == NULL || p->old.version != cur.version) {
		if (p != NULL && call->attempt < TS__SCIM_WRITE_ATTEMPTS) {
			call->retry = true; /* moved since prepare: start over */
			return TS_ERR_CONFLICT;
		}
		now = (struct patched_user){.old = cur};
		p = &now;
		rc = patched(call, p, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	if (strcasecmp(p->row.user_name, cur.user_name) != 0)
		rc = name_free(call, p->row.user_name, cur.user_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* Entra's validator expects the resource after a user PATCH (item 46) */
	return store_new_version(call, &cur, &p->row, p->emails, p->ne, e);
}

/* Hard delete: memberships and addresses go with the row (item 37, 88). */
static ts_err delete_user(struct ts__scim_call *call, struct ts_error *e)
{
	struct ts_user_row old;
	/* If-Match holds for the version deleted: no write may move it meanwhile (docs/store.md) */
	ts_err rc = ts_store_user_get_for_update(call->conn, call->a, call->account_id,
	                                         call->req->params[0], &old, e);
	if (rc == TS_ERR_OK)
		rc = ts__scim_check_if_match(call, old.version, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_user_delete(call->conn, call->account_id, old.user_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->resource_id = old.user_id;
	call->status = 204;
	return TS_ERR_OK;
}

static ts_err search_groups_run(struct ts__scim_call *call, struct ts_error *e)
{
	if (call->strict)
		return ts__scim_err(call, e, TS_ERR_NOT_FOUND, NULL,
		                    "/.search is not supported by this profile");
	return search(call, false, e);
}

const struct ts__scim_op ts__scim_create_user = {"CreateUser", true, true, create_user,
                                                 prepare_user};
const struct ts__scim_op ts__scim_get_user = {"GetUser", false, false, get_user, NULL};
const struct ts__scim_op ts__scim_list_users = {"ListUsers", false, false, list_users, NULL};
const struct ts__scim_op ts__scim_search_users = {"SearchUsers", false, true, search_users, NULL};
const struct ts__scim_op ts__scim_replace_user = {"PutUser", true, true, replace_user,
                                                  prepare_replace_user};
const struct ts__scim_op ts__scim_patch_user = {"PatchUser", true, true, patch_user,
                                                prepare_patch_user};
const struct ts__scim_op ts__scim_delete_user = {"DeleteUser", true, false, delete_user, NULL};
const struct ts__scim_op ts__scim_search_groups = {"SearchGroups", false, true, search_groups_run,
                                                   NULL};
