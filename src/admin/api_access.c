/*
 * Admin API: an account's targets, permission sets and assignments (SPEC §8,
 * docs/access.md), and the checks and creations it shares with the CLI
 * (admin/access.h).
 *
 * Every change locks the account's row first (PostgreSQL: FOR UPDATE), so
 * that changes to one account's access run one after the other and an
 * update's read of the row it rewrites cannot be overtaken. Ids in a path or
 * a body are looked up in the account of the path only: another tenant's id
 * is not found (404), never used.
 */
#include <assert.h>
#include <string.h>

#include "admin/access.h"
#include "admin/internal.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "http/url.h"

/* ---- the checks shared with the CLI ---- */

/* RFC 3986 §2.2, §2.3: unreserved, gen-delims, sub-delims, and '%' of pct-encoded */
#define URI_CHARS                                                                              \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=" \
	"%"

ts_err ts_admin_access_name_check(const char *member, const char *name, struct ts_error *e)
{
	size_t n = name ? strlen(name) : 0;
	bool ok = n > 0 && n <= TS_ACCESS_NAME_MAX && ts_utf8_valid(name, n);
	const unsigned char *p = (const unsigned char *)name;
	while (ok && *p != '\0') {
		uint32_t cp = 0;
		size_t len = ts_utf8_decode(p, &cp);
		ok = len > 0 && !ts_utf8_is_control(cp);
		p += len;
	}
	if (!ok)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%s must be 1 to %d bytes of UTF-8 text without control characters",
		               member, TS_ACCESS_NAME_MAX);
	return TS_ERR_OK;
}

ts_err ts_admin_access_kind_check(const char *kind, struct ts_error *e)
{
	size_t n = kind ? strlen(kind) : 0;
	if (n == 0 || n > TS_ACCESS_KIND_MAX ||
	    strspn(kind, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "Kind must be 1 to %d letters, digits, '-', '_' or '.'",
		               TS_ACCESS_KIND_MAX);
	return TS_ERR_OK;
}

ts_err ts_admin_access_url_check(ts_arena_t *a, const char *url, struct ts_error *e)
{
	size_t n = url ? strlen(url) : 0;
	bool ok = n > 0 && n <= TS_ACCESS_URL_MAX;
	/*
	 * RFC 3986 §2: a URI is unreserved and reserved characters and
	 * percent-encodings only; a backslash, quote, '<' or space, which
	 * browsers read their own ways, is never in one.
	 */
	ok = ok && strspn(url, URI_CHARS) == n;
	const char *sep = ok ? strstr(url, "://") : NULL;
	if (ok && sep != NULL) {
		/* RFC 3986 §3.2: the authority ends at the first '/', '?' or '#' */
		size_t end = (size_t)(sep + 3 - url) + strcspn(sep + 3, "/?#");
		ok = ts_http_origin_normalize(a, url, end) != NULL;
	}
	if (!ok || sep == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "Url must be an absolute http or https URL (a host, an optional "
		               "port, no user info) of at most %d characters allowed in a URI",
		               TS_ACCESS_URL_MAX);
	return TS_ERR_OK;
}

ts_err ts_admin_access_policies_check(ts_arena_t *a, const json_t *policies, const char **text,
                                      struct ts_error *e)
{
	*text = NULL;
	if (!json_is_array(policies) || json_array_size(policies) < 1 ||
	    json_array_size(policies) > TS_ACCESS_POLICIES_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "Policies must be an array of 1 to %d policy documents",
		               TS_ACCESS_POLICIES_MAX);
	size_t i;
	const json_t *doc;
	json_array_foreach(policies, i, doc)
	{
		/* documents only: a managed name is an admin key's, not a permission set's */
		if (!json_is_object(doc))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "Policies[%zu] must be a policy document (an object)", i);
	}
	ts_policy_set_t *set = NULL;
	ts_err rc = ts_admin_policy_parse(policies, &set, e);
	ts_admin_policy_free(&set);
	if (rc != TS_ERR_OK)
		return rc;
	size_t len = 0;
	char *dumped = ts_json_dump(a, policies, &len);
	if (dumped == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "the policies could not be serialized");
	if (len > TS_ACCESS_POLICIES_TEXT_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Policies are longer than %d bytes of JSON",
		               TS_ACCESS_POLICIES_TEXT_MAX);
	*text = dumped;
	return TS_ERR_OK;
}

ts_err ts_admin_access_duration_check(int64_t seconds, struct ts_error *e)
{
	if (seconds < TS_ACCESS_SESSION_MIN_S || seconds > TS_ACCESS_SESSION_MAX_S)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "SessionDuration must be %d to %d seconds",
		               TS_ACCESS_SESSION_MIN_S, TS_ACCESS_SESSION_MAX_S);
	return TS_ERR_OK;
}

/* An id named in a body or on the command line: capped, text without controls. */
static ts_err id_check(const char *member, const char *id, struct ts_error *e)
{
	size_t n = id ? strlen(id) : 0;
	bool ok = n > 0 && n <= TS_ACCESS_ID_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)id[i] > ' ' && (unsigned char)id[i] < TS_ASCII_DEL;
	if (!ok)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "%s must be 1 to %d characters of visible ASCII", member,
		               TS_ACCESS_ID_MAX);
	return TS_ERR_OK;
}

static const char *new_id(ts_arena_t *a)
{
	char *id = ts_arena_alloc(a, TS_UUID_LEN + 1);
	ts_uuid_v4(id);
	return id;
}

/* The account's row, locked for the change (TS_ERR_NOT_FOUND when there is none). */
static ts_err lock_account(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                           struct ts_error *e)
{
	struct ts_account acct;
	return ts_store_account_get_for_update(c, a, account_id, &acct, e);
}

ts_err ts_admin_target_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                              const char *name, const char *kind, const char *url, int64_t now_ms,
                              struct ts_target *out, struct ts_error *e)
{
	*out = (struct ts_target){0};
	if (kind == NULL)
		kind = TS_ACCESS_KIND_DEFAULT;
	ts_err rc = ts_admin_access_name_check("Name", name, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_access_kind_check(kind, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_access_url_check(a, url, e);
	if (rc == TS_ERR_OK)
		rc = lock_account(c, a, account_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_target t = {new_id(a), account_id, name, kind, url, now_ms, now_ms};
	rc = ts_store_target_insert(c, &t, e);
	if (rc == TS_ERR_OK)
		*out = t;
	return rc;
}

ts_err ts_admin_permission_set_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                      const char *name, const json_t *policies, int64_t duration_s,
                                      int64_t now_ms, struct ts_permission_set *out,
                                      struct ts_error *e)
{
	*out = (struct ts_permission_set){0};
	const char *text = NULL;
	if (duration_s == 0)
		duration_s = TS_ACCESS_SESSION_DEFAULT_S;
	ts_err rc = ts_admin_access_name_check("Name", name, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_access_policies_check(a, policies, &text, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_access_duration_check(duration_s, e);
	if (rc == TS_ERR_OK)
		rc = lock_account(c, a, account_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_permission_set p = {new_id(a),  account_id, name,  text,
	                              duration_s, now_ms,     now_ms};
	rc = ts_store_permission_set_insert(c, &p, e);
	if (rc == TS_ERR_OK)
		*out = p;
	return rc;
}

ts_err ts_admin_assignment_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                  const char *principal_type, const char *principal_id,
                                  const char *target_id, const char *permission_set_id,
                                  int64_t now_ms, struct ts_assignment *out, struct ts_error *e)
{
	*out = (struct ts_assignment){0};
	if (principal_type == NULL || (strcmp(principal_type, TS_ACCESS_PRINCIPAL_USER) != 0 &&
	                               strcmp(principal_type, TS_ACCESS_PRINCIPAL_GROUP) != 0))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "PrincipalType must be USER or GROUP");
	ts_err rc = id_check("PrincipalId", principal_id, e);
	if (rc == TS_ERR_OK)
		rc = id_check("TargetId", target_id, e);
	if (rc == TS_ERR_OK)
		rc = id_check("PermissionSetId", permission_set_id, e);
	if (rc == TS_ERR_OK)
		rc = lock_account(c, a, account_id, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_assignment as = {new_id(a), account_id,        principal_type, principal_id,
	                           target_id, permission_set_id, now_ms};
	rc = ts_store_assignment_insert(c, &as, e);
	if (rc == TS_ERR_OK)
		*out = as;
	return rc;
}

/* ---- bodies ---- */

/* How a body member is read. */
enum member_type {
	MEMBER_TEXT,     /* a string (ts__admin_body_str) */
	MEMBER_POLICIES, /* the policy documents, checked by ts_admin_access_policies_check */
	MEMBER_DURATION, /* SessionDuration, a whole number of seconds */
};

struct member {
	const char *name;
	enum member_type type;
	bool required; /* when creating */
};

/* A kind of resource: the members of its body, in the order they are read. */
struct kind {
	const struct member *members;
	size_t n;
	const char *names; /* the members, for "give at least one of ..." */
};

#define BODY_MEMBERS_MAX 4 /* the most members a kind has (an assignment's) */

/* What a body gave: text[i] is member i's string (NULL when absent or not text). */
struct body {
	const char *text[BODY_MEMBERS_MAX];
	const json_t *policies; /* NULL when absent */
	int64_t duration;       /* 0 when absent */
};

/* SessionDuration of the body: *out 0 when absent. */
static ts_err body_duration(struct ts__admin_call *call, int64_t *out, struct ts_error *e)
{
	json_t *v = json_object_get(call->body, "SessionDuration");
	*out = 0;
	if (v == NULL || json_is_null(v))
		return TS_ERR_OK;
	if (!json_is_integer(v))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "SessionDuration must be a whole number of "
		               "seconds");
	*out = json_integer_value(v);
	/* 0 is "the default" inside; on the wire it is out of range like any other */
	return ts_admin_access_duration_check(*out, e);
}

/* Refuses a member that is not one of the kind's, naming it. */
static ts_err members_known(struct ts__admin_call *call, const struct kind *k, struct ts_error *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(call->body, key, v)
	{
		bool ok = false;
		for (size_t i = 0; i < k->n && !ok; i++)
			ok = strcmp(key, k->members[i].name) == 0;
		if (!ok)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "unknown member %s",
			               ts_text_escape(call->a, key));
	}
	return TS_ERR_OK;
}

/*
 * Reads the body of a create (required members must be there) or an update
 * (at least one member must be there), refusing members the kind has not.
 */
static ts_err body_read(struct ts__admin_call *call, const struct kind *k, bool create,
                        struct body *b, struct ts_error *e)
{
	*b = (struct body){0};
	assert(k->n <= BODY_MEMBERS_MAX);
	bool given = false;
	ts_err rc = members_known(call, k, e);
	for (size_t i = 0; i < k->n && rc == TS_ERR_OK; i++) {
		const struct member *m = &k->members[i];
		if (m->type == MEMBER_TEXT) {
			rc = ts__admin_body_str(call, m->name, create && m->required, &b->text[i],
			                        e);
			given = given || b->text[i] != NULL;
		} else if (m->type == MEMBER_POLICIES) {
			b->policies = json_object_get(call->body, m->name);
			given = given || b->policies != NULL;
		} else {
			rc = body_duration(call, &b->duration, e);
			given = given || b->duration != 0;
		}
	}
	if (rc == TS_ERR_OK && !create && !given)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "give at least one of %s", k->names);
	return rc;
}

/* ---- answers ---- */

static const char *path_id(struct ts__admin_call *call)
{
	return call->req->params[1];
}

/* {"<member>": obj} with status. */
static void reply(struct ts__admin_call *call, const char *member, json_t *obj, int status)
{
	call->response = json_pack("{s:o}", member, obj);
	call->status = status;
}

/* A listing's page: its size and where it starts, in an account that exists. */
static ts_err page_open(struct ts__admin_call *call, int *limit, const char **after,
                        struct ts_error *e)
{
	struct ts_account acct;
	ts_err rc =
	        ts__admin_paging(call, TS__ADMIN_PAGE_DEFAULT, TS__ADMIN_PAGE_MAX, limit, after, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_account_get(call->conn, call->a, call->account_id, &acct, e);
	return rc;
}

/* {"<member>": arr}, and NextToken after last when the page is full. */
static void page_reply(struct ts__admin_call *call, const char *member, json_t *arr, int limit,
                       const char *last)
{
	int n = (int)json_array_size(arr);
	reply(call, member, arr, 200);
	if (n == limit && last != NULL)
		json_object_set_new(call->response, "NextToken",
		                    json_string(ts__admin_next_token(call, last)));
}

/*
 * A deletion: 204, and for a target or permission set the audit event says
 * how many assignments went with it (gone NULL: nothing else goes).
 */
static void deleted(struct ts__admin_call *call, const int64_t *gone)
{
	if (gone != NULL)
		call->audit_response = ts_json_own(
		        call->a, json_pack("{s:I}", "AssignmentsDeleted", (json_int_t)*gone));
	call->status = 204;
}

/* ---- targets ---- */

enum { T_NAME, T_KIND, T_URL };
static const struct member target_members[] = {
        [T_NAME] = {"Name", MEMBER_TEXT, true},
        [T_KIND] = {"Kind", MEMBER_TEXT, false},
        [T_URL] = {"Url", MEMBER_TEXT, true},
};
static const struct kind targets = {target_members, sizeof target_members / sizeof *target_members,
                                    "Name, Kind and Url"};

static ts_err create_target(struct ts__admin_call *call, struct ts_error *e)
{
	struct body b;
	struct ts_target t;
	ts_err rc = body_read(call, &targets, true, &b, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_target_create(call->conn, call->a, call->account_id, b.text[T_NAME],
		                            b.text[T_KIND], b.text[T_URL], ts_now_ms(), &t, e);
	if (rc == TS_ERR_OK)
		reply(call, "Target", ts_admin_target_json(&t), 201);
	return rc;
}

static ts_err list_targets(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0, n = 0;
	const char *after = NULL;
	struct ts_target *list = NULL;
	ts_err rc = page_open(call, &limit, &after, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_target_list(call->conn, call->a, call->account_id, after, limit,
		                          &list, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, ts_admin_target_json(&list[i]));
	page_reply(call, "Targets", arr, limit, n > 0 ? list[n - 1].target_id : NULL);
	return TS_ERR_OK;
}

static ts_err get_target(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_target t;
	ts_err rc =
	        ts_store_target_get(call->conn, call->a, call->account_id, path_id(call), &t, e);
	if (rc == TS_ERR_OK)
		reply(call, "Target", ts_admin_target_json(&t), 200);
	return rc;
}

static ts_err update_target(struct ts__admin_call *call, struct ts_error *e)
{
	struct body b;
	struct ts_target t;
	ts_err rc = body_read(call, &targets, false, &b, e);
	const char *name = b.text[T_NAME], *kind = b.text[T_KIND], *url = b.text[T_URL];
	if (rc == TS_ERR_OK && name != NULL)
		rc = ts_admin_access_name_check("Name", name, e);
	if (rc == TS_ERR_OK && kind != NULL)
		rc = ts_admin_access_kind_check(kind, e);
	if (rc == TS_ERR_OK && url != NULL)
		rc = ts_admin_access_url_check(call->a, url, e);
	if (rc == TS_ERR_OK)
		rc = lock_account(call->conn, call->a, call->account_id, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_target_get(call->conn, call->a, call->account_id, path_id(call), &t,
		                         e);
	if (rc != TS_ERR_OK)
		return rc;
	t.name = name ? name : t.name;
	t.kind = kind ? kind : t.kind;
	t.url = url ? url : t.url;
	t.modified_ms = ts_now_ms();
	rc = ts_store_target_update(call->conn, &t, e);
	if (rc == TS_ERR_OK)
		reply(call, "Target", ts_admin_target_json(&t), 200);
	return rc;
}

static ts_err delete_target(struct ts__admin_call *call, struct ts_error *e)
{
	int64_t gone = 0;
	ts_err rc = lock_account(call->conn, call->a, call->account_id, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_target_delete(call->conn, call->account_id, path_id(call), &gone, e);
	if (rc == TS_ERR_OK)
		deleted(call, &gone);
	return rc;
}

/* ---- permission sets ---- */

enum { P_NAME };
static const struct member pset_members[] = {
        [P_NAME] = {"Name", MEMBER_TEXT, true},
        {"Policies", MEMBER_POLICIES, false}, /* ts_admin_access_policies_check requires it */
        {"SessionDuration", MEMBER_DURATION, false},
};
static const struct kind psets = {pset_members, sizeof pset_members / sizeof *pset_members,
                                  "Name, Policies and SessionDuration"};

static ts_err create_pset(struct ts__admin_call *call, struct ts_error *e)
{
	struct body b;
	struct ts_permission_set p;
	ts_err rc = body_read(call, &psets, true, &b, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_permission_set_create(call->conn, call->a, call->account_id,
		                                    b.text[P_NAME], b.policies, b.duration,
		                                    ts_now_ms(), &p, e);
	if (rc == TS_ERR_OK)
		reply(call, "PermissionSet", ts_admin_permission_set_json(&p), 201);
	return rc;
}

static ts_err list_psets(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0, n = 0;
	const char *after = NULL;
	struct ts_permission_set *list = NULL;
	ts_err rc = page_open(call, &limit, &after, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_permission_set_list(call->conn, call->a, call->account_id, after,
		                                  limit, &list, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, ts_admin_permission_set_json(&list[i]));
	page_reply(call, "PermissionSets", arr, limit,
	           n > 0 ? list[n - 1].permission_set_id : NULL);
	return TS_ERR_OK;
}

static ts_err get_pset(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_permission_set p;
	ts_err rc = ts_store_permission_set_get(call->conn, call->a, call->account_id,
	                                        path_id(call), &p, e);
	if (rc == TS_ERR_OK)
		reply(call, "PermissionSet", ts_admin_permission_set_json(&p), 200);
	return rc;
}

static ts_err update_pset(struct ts__admin_call *call, struct ts_error *e)
{
	struct body b;
	const char *text = NULL;
	struct ts_permission_set p;
	ts_err rc = body_read(call, &psets, false, &b, e);
	const char *name = b.text[P_NAME];
	if (rc == TS_ERR_OK && name != NULL)
		rc = ts_admin_access_name_check("Name", name, e);
	if (rc == TS_ERR_OK && b.policies != NULL)
		rc = ts_admin_access_policies_check(call->a, b.policies, &text, e);
	if (rc == TS_ERR_OK)
		rc = lock_account(call->conn, call->a, call->account_id, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_permission_set_get(call->conn, call->a, call->account_id,
		                                 path_id(call), &p, e);
	if (rc != TS_ERR_OK)
		return rc;
	p.name = name ? name : p.name;
	p.policies_json = text ? text : p.policies_json;
	p.session_duration_s = b.duration ? b.duration : p.session_duration_s;
	p.modified_ms = ts_now_ms();
	rc = ts_store_permission_set_update(call->conn, &p, e);
	if (rc == TS_ERR_OK)
		reply(call, "PermissionSet", ts_admin_permission_set_json(&p), 200);
	return rc;
}

static ts_err delete_pset(struct ts__admin_call *call, struct ts_error *e)
{
	int64_t gone = 0;
	ts_err rc = lock_account(call->conn, call->a, call->account_id, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_permission_set_delete(call->conn, call->account_id, path_id(call),
		                                    &gone, e);
	if (rc == TS_ERR_OK)
		deleted(call, &gone);
	return rc;
}

/* ---- assignments ---- */

enum { A_TYPE, A_PRINCIPAL, A_TARGET, A_PSET };
static const struct member assignment_members[] = {
        [A_TYPE] = {"PrincipalType", MEMBER_TEXT, true},
        [A_PRINCIPAL] = {"PrincipalId", MEMBER_TEXT, true},
        [A_TARGET] = {"TargetId", MEMBER_TEXT, true},
        [A_PSET] = {"PermissionSetId", MEMBER_TEXT, true},
};
static const struct kind assignments = {assignment_members,
                                        sizeof assignment_members / sizeof *assignment_members,
                                        "PrincipalType, PrincipalId, TargetId and PermissionSetId"};

static ts_err create_assignment(struct ts__admin_call *call, struct ts_error *e)
{
	struct body b;
	struct ts_assignment as;
	ts_err rc = body_read(call, &assignments, true, &b, e);
	if (rc == TS_ERR_OK)
		rc = ts_admin_assignment_create(
		        call->conn, call->a, call->account_id, b.text[A_TYPE], b.text[A_PRINCIPAL],
		        b.text[A_TARGET], b.text[A_PSET], ts_now_ms(), &as, e);
	if (rc == TS_ERR_OK)
		reply(call, "Assignment", ts_admin_assignment_json(&as), 201);
	return rc;
}

static ts_err list_assignments(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0, n = 0;
	const char *after = NULL;
	struct ts_assignment *list = NULL;
	/* narrowed by ?target-id= and ?principal-id= (bound into the paging token) */
	const char *target = ts_http_query(call->req, "target-id");
	const char *principal = ts_http_query(call->req, "principal-id");
	ts_err rc = page_open(call, &limit, &after, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_assignment_list(call->conn, call->a, call->account_id, target,
		                              principal, after, limit, &list, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, ts_admin_assignment_json(&list[i]));
	page_reply(call, "Assignments", arr, limit, n > 0 ? list[n - 1].assignment_id : NULL);
	return TS_ERR_OK;
}

static ts_err get_assignment(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_assignment as;
	ts_err rc = ts_store_assignment_get(call->conn, call->a, call->account_id, path_id(call),
	                                    &as, e);
	if (rc == TS_ERR_OK)
		reply(call, "Assignment", ts_admin_assignment_json(&as), 200);
	return rc;
}

/* Moves an assignment to another principal, target or permission set; its id stays. */
static ts_err update_assignment(struct ts__admin_call *call, struct ts_error *e)
{
	struct body b;
	struct ts_assignment as;
	ts_err rc = body_read(call, &assignments, false, &b, e);
	const char *type = b.text[A_TYPE], *principal = b.text[A_PRINCIPAL];
	const char *target = b.text[A_TARGET], *pset = b.text[A_PSET];
	if (rc == TS_ERR_OK && (type == NULL) != (principal == NULL))
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "PrincipalType and PrincipalId are given together");
	if (rc == TS_ERR_OK && type != NULL && strcmp(type, TS_ACCESS_PRINCIPAL_USER) != 0 &&
	    strcmp(type, TS_ACCESS_PRINCIPAL_GROUP) != 0)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "PrincipalType must be USER or GROUP");
	if (rc == TS_ERR_OK && principal != NULL)
		rc = id_check("PrincipalId", principal, e);
	if (rc == TS_ERR_OK && target != NULL)
		rc = id_check("TargetId", target, e);
	if (rc == TS_ERR_OK && pset != NULL)
		rc = id_check("PermissionSetId", pset, e);
	if (rc == TS_ERR_OK)
		rc = lock_account(call->conn, call->a, call->account_id, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_assignment_get(call->conn, call->a, call->account_id, path_id(call),
		                             &as, e);
	if (rc != TS_ERR_OK)
		return rc;
	as.principal_type = type ? type : as.principal_type;
	as.principal_id = principal ? principal : as.principal_id;
	as.target_id = target ? target : as.target_id;
	as.permission_set_id = pset ? pset : as.permission_set_id;
	rc = ts_store_assignment_update(call->conn, &as, e);
	if (rc == TS_ERR_OK)
		reply(call, "Assignment", ts_admin_assignment_json(&as), 200);
	return rc;
}

static ts_err delete_assignment(struct ts__admin_call *call, struct ts_error *e)
{
	ts_err rc = lock_account(call->conn, call->a, call->account_id, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_assignment_delete(call->conn, call->account_id, path_id(call), e);
	if (rc == TS_ERR_OK)
		deleted(call, NULL);
	return rc;
}

#define OP(var, name, read_only, body, fn)                                       \
	const struct ts__admin_op var = {"tessera:" name, name, TS__RES_ACCOUNT, \
	                                 read_only,       body, fn}

OP(ts__admin_create_target, "CreateTarget", false, true, create_target);
OP(ts__admin_list_targets, "ListTargets", true, false, list_targets);
OP(ts__admin_get_target, "GetTarget", true, false, get_target);
OP(ts__admin_update_target, "UpdateTarget", false, true, update_target);
OP(ts__admin_delete_target, "DeleteTarget", false, false, delete_target);
OP(ts__admin_create_permission_set, "CreatePermissionSet", false, true, create_pset);
OP(ts__admin_list_permission_sets, "ListPermissionSets", true, false, list_psets);
OP(ts__admin_get_permission_set, "GetPermissionSet", true, false, get_pset);
OP(ts__admin_update_permission_set, "UpdatePermissionSet", false, true, update_pset);
OP(ts__admin_delete_permission_set, "DeletePermissionSet", false, false, delete_pset);
OP(ts__admin_create_assignment, "CreateAssignment", false, true, create_assignment);
OP(ts__admin_list_assignments, "ListAssignments", true, false, list_assignments);
OP(ts__admin_get_assignment, "GetAssignment", true, false, get_assignment);
OP(ts__admin_update_assignment, "UpdateAssignment", false, true, update_assignment);
OP(ts__admin_delete_assignment, "DeleteAssignment", false, false, delete_assignment);
