/*
 * SCIM /Groups endpoints. A group PATCH costs in proportion to the change:
 * the member list is never read; added ids are checked in one batched
 * lookup, then added and removed with one statement each. Reads leave
 * members out without loading them when excludedAttributes asks (item 41).
 */
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "scim/internal.h"
#include "scim/patch.h"

/* Group displayName is unique in an account (item 40), case-insensitively. */
static ts_err name_free(struct ts__scim_call *call, const char *name, const char *self,
                        struct ts_error *e)
{
	struct ts_group_row *rows = NULL;
	int n = 0;
	ts_err rc = ts_store_group_find(call->conn, call->a, call->account_id,
	                                TS_STORE_GROUP_BY_NAME, name, 0, 0, 2, &rows, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	for (int i = 0; i < n; i++)
		if (self == NULL || strcmp(rows[i].group_id, self) != 0)
			return ts__scim_err(call, e, TS_ERR_CONFLICT, "uniqueness",
			                    "a group named %s already exists", name);
	return TS_ERR_OK;
}

static bool want_members(struct ts__scim_call *call)
{
	/* aws-strict: members are never listed in group reads (item 64) */
	return !call->strict && ts__scim_attrs_want(call, "members", true);
}

static ts_err answer_group(struct ts__scim_call *call, int status, const struct ts_group_row *row,
                           struct ts_error *e)
{
	struct ts_group_member *m = NULL;
	int nm = -1;
	if (want_members(call)) {
		ts_err rc = ts_store_group_members(call->conn, call->a, row->group_id,
		                                   TS__SCIM_MEMBERS_RENDER_MAX, &m, &nm, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	call->resource_id = row->group_id;
	ts__scim_answer_resource(call, status, ts__scim_group_render(call, row, m, nm),
	                         row->version, TS_SCIM_SCHEMA_GROUP);
	return TS_ERR_OK;
}

static ts_err set_members(struct ts__scim_call *call, const char *group_id, json_t *ids, bool clear,
                          struct ts_error *e)
{
	ts_err rc = ts__scim_members_check(call, ids, e);
	if (rc == TS_ERR_OK && clear)
		rc = ts_store_group_members_clear(call->conn, group_id, e);
	if (rc == TS_ERR_OK && json_array_size(ids) > 0)
		rc = ts_store_group_members_add(call->conn, group_id,
		                                ts_json_dump(call->a, ids, NULL), e);
	return rc;
}

static ts_err create_group(struct ts__scim_call *call, struct ts_error *e)
{
	struct ts_group_row row;
	json_t *ids = NULL;
	ts_err rc = ts__scim_group_from_doc(call, call->body, &row, &ids, e);
	if (rc == TS_ERR_OK)
		rc = name_free(call, row.display_name, NULL, e);
	if (rc != TS_ERR_OK)
		return rc;
	char id[TS_UUID_LEN + 1];
	ts_uuid_v7(id);
	row.group_id = ts_arena_strdup(call->a, id);
	row.version = 1;
	row.created_ms = row.modified_ms = ts_now_ms();
	rc = ts_store_group_insert(call->conn, &row, e);
	if (rc == TS_ERR_CONFLICT)
		return ts__scim_err(call, e, TS_ERR_CONFLICT, "uniqueness",
		                    "a group named %s already exists", row.display_name);
	if (rc == TS_ERR_OK)
		rc = set_members(call, row.group_id, ids, false, e);
	if (rc != TS_ERR_OK)
		return rc;
	return answer_group(call, 201, &row, e);
}

static ts_err get_group(struct ts__scim_call *call, struct ts_error *e)
{
	struct ts_group_row row;
	ts_err rc = ts_store_group_get(call->conn, call->a, call->account_id, call->req->params[0],
	                               &row, e);
	if (rc != TS_ERR_OK)
		return rc;
	const char *inm = ts_http_header(call->req, "if-none-match");
	const char *etag = ts__scim_etag(call, row.version);
	if (inm != NULL && (strcmp(inm, "*") == 0 || strstr(inm, etag + 2) != NULL)) {
		call->status = 304;
		call->etag = etag;
		return TS_ERR_OK;
	}
	return answer_group(call, 200, &row, e);
}

static ts_err list_groups(struct ts__scim_call *call, struct ts_error *e)
{
	return ts__scim_search(call, false, ts_http_query(call->req, "filter"),
	                       ts_http_query(call->req, "startIndex"),
	                       ts_http_query(call->req, "count"), e);
}

/* A PUT's group, made from the body before the writer lock (it needs no store). */
struct put_group {
	const char *sent_id; /* the body's id, if any */
	bool has_members;
	struct ts_group_row row;
	json_t *ids;
};

static ts_err prepare_replace_group(struct ts__scim_call *call, struct ts_error *e)
{
	if (call->strict)
		return TS_ERR_OK; /* refused by run, whatever the body */
	struct put_group *p = ts_arena_alloc(call->a, sizeof *p);
	memset(p, 0, sizeof *p);
	const char *sent_id = json_string_value(ts_scim_json_get(call->body, "id", NULL));
	p->sent_id = sent_id != NULL ? ts_arena_strdup(call->a, sent_id) : NULL;
	p->has_members = ts_scim_json_get(call->body, "members", NULL) != NULL;
	ts_err rc = ts__scim_group_from_doc(call, call->body, &p->row, &p->ids, e);
	if (rc == TS_ERR_OK)
		call->prepared = p;
	return rc;
}

static ts_err replace_group(struct ts__scim_call *call, struct ts_error *e)
{
	/* AWS IAM Identity Center has no PUT Group (item 53) */
	if (call->strict)
		return ts__scim_err(call, e, TS_ERR_METHOD, NULL,
		                    "PUT is not supported on groups by this profile");
	struct put_group *p = call->prepared;
	struct ts_group_row old;
	ts_err rc = ts_store_group_get_for_update(call->conn, call->a, call->account_id,
	                                          call->req->params[0], &old, e);
	if (rc == TS_ERR_OK)
		rc = ts__scim_check_if_match(call, old.version, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (p->sent_id != NULL && strcmp(p->sent_id, old.group_id) != 0)
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "mutability",
		                    "id is immutable: %s is not %s", p->sent_id, old.group_id);
	struct ts_group_row row = p->row;
	rc = name_free(call, row.display_name, old.group_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	row.group_id = old.group_id;
	row.created_ms = old.created_ms;
	row.version = old.version + 1;
	row.modified_ms = ts_now_ms();
	rc = ts_store_group_update(call->conn, &row, e);
	/* PUT replaces members only when it names them (Okta App-Wizard sends the full group) */
	if (rc == TS_ERR_OK && p->has_members)
		rc = set_members(call, row.group_id, p->ids, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	return answer_group(call, 200, &row, e);
}

/* A PATCH computed on the version it read: the row read, the row and the membership deltas. */
struct patched_group {
	struct ts_group_row old;
	struct ts_group_row row;
	struct ts_scim_patch_members m;
};

/* The body applied to p->old (no store access). */
static ts_err patched(struct ts__scim_call *call, struct patched_group *p, struct ts_error *e)
{
	json_t *doc = ts_json_own(call->a, ts__scim_resource_doc(p->old.resource));
	json_object_set_new(doc, "displayName", json_string(p->old.display_name));
	if (p->old.external_id != NULL)
		json_object_set_new(doc, "externalId", json_string(p->old.external_id));
	struct ts_scim_patch_target t = {
	        .group = true, .strict = call->strict, .rules = ts_scim_attr_rules_group()};
	const char *st = NULL;
	ts_err rc = ts_scim_patch_apply(call->a, doc, call->body, &t, &p->m, &st, e);
	if (rc != TS_ERR_OK) {
		call->scim_type = st;
		return rc;
	}
	json_t *ignored = NULL;
	return ts__scim_group_from_doc(call, doc, &p->row, &ignored, e);
}

/* As for users (users_api.c prepare_patch_user): the engine runs before the writer lock. */
static ts_err prepare_patch_group(struct ts__scim_call *call, struct ts_error *e)
{
	if (call->attempt >= TS__SCIM_WRITE_ATTEMPTS)
		return TS_ERR_OK;
	struct patched_group *p = ts_arena_alloc(call->a, sizeof *p);
	memset(p, 0, sizeof *p);
	bool own = !ts_store_in_tx(call->conn); /* a cached key: no read transaction yet */
	ts_err rc = own ? ts_store_begin(call->conn, false, e) : TS_ERR_OK;
	if (rc == TS_ERR_OK)
		rc = ts_store_group_get(call->conn, call->a, call->account_id, call->req->params[0],
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

static ts_err patch_group(struct ts__scim_call *call, struct ts_error *e)
{
	struct patched_group *p = call->prepared, now;
	struct ts_group_row cur;
	/* under the writer lock (PostgreSQL: the row's), so the version cannot move again */
	ts_err rc = ts_store_group_get_for_update(call->conn, call->a, call->account_id,
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
		now = (struct patched_group){.old = cur};
		p = &now;
		rc = patched(call, p, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	struct ts_group_row row = p->row;
	struct ts_scim_patch_members m = p->m;
	if (strcasecmp(row.display_name, cur.display_name) != 0)
		rc = name_free(call, row.display_name, cur.group_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	/*
	 * Unknown ids among the members to add are refused (400 invalidValue naming
	 * the first): Okta and Entra only send ids this server gave them, so an
	 * unknown one means the client is out of step, and silently dropping it
	 * would hide that. Removing an unknown id changes nothing and succeeds.
	 */
	if (m.clear)
		rc = ts_store_group_members_clear(call->conn, cur.group_id, e);
	if (rc == TS_ERR_OK && json_array_size(m.add) > 0)
		rc = set_members(call, cur.group_id, m.add, false, e);
	if (rc == TS_ERR_OK && !m.clear && json_array_size(m.remove) > 0)
		rc = ts_store_group_members_remove(call->conn, cur.group_id,
		                                   ts_json_dump(call->a, m.remove, NULL), e);
	if (rc != TS_ERR_OK)
		return rc;
	row.group_id = cur.group_id;
	row.created_ms = cur.created_ms;
	row.version = cur.version + 1;
	row.modified_ms = ts_now_ms();
	rc = ts_store_group_update(call->conn, &row, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->resource_id = cur.group_id;
	call->etag = call->strict ? NULL : ts__scim_etag(call, row.version);
	/*
	 * 204 without a body, as Entra advises for groups (item 46); a client that
	 * asks for attributes gets the resource (RFC 7644 §3.5.2 allows both).
	 */
	if (call->attrs.nincl > 0 || call->attrs.nexcl > 0)
		return answer_group(call, 200, &row, e);
	call->status = 204;
	return TS_ERR_OK;
}

static ts_err delete_group(struct ts__scim_call *call, struct ts_error *e)
{
	struct ts_group_row old;
	/* If-Match holds for the version deleted: no write may move it meanwhile (docs/store.md) */
	ts_err rc = ts_store_group_get_for_update(call->conn, call->a, call->account_id,
	                                          call->req->params[0], &old, e);
	if (rc == TS_ERR_OK)
		rc = ts__scim_check_if_match(call, old.version, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_group_delete(call->conn, call->account_id, old.group_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	call->resource_id = old.group_id;
	call->status = 204;
	return TS_ERR_OK;
}

const struct ts__scim_op ts__scim_create_group = {"CreateGroup", true, true, create_group, NULL};
const struct ts__scim_op ts__scim_get_group = {"GetGroup", false, false, get_group, NULL};
const struct ts__scim_op ts__scim_list_groups = {"ListGroups", false, false, list_groups, NULL};
const struct ts__scim_op ts__scim_replace_group = {"PutGroup", true, true, replace_group,
                                                   prepare_replace_group};
const struct ts__scim_op ts__scim_patch_group = {"PatchGroup", true, true, patch_group,
                                                 prepare_patch_group};
const struct ts__scim_op ts__scim_delete_group = {"DeleteGroup", true, false, delete_group, NULL};
