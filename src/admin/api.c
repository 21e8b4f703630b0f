/*
 * The admin API's dispatcher: its hooks of the request pipeline (api/api.h),
 * each endpoint a descriptor (struct ts__admin_op) in the route table. Every
 * call, allowed or refused, leaves one audit event. A change runs in a write
 * transaction that ends with its event, so the change and its record commit
 * together. A read, or a refused or failed call, changes nothing: its event
 * goes to the store's audit writer, and the answer goes out once the event is
 * committed. Errors are {"Code","Message"}.
 */
#include "admin/api.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "admin/internal.h"
#include "admin/keys.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "http/url.h"

/* Each worker's cache of parsed admin key policies (admin/keys.h). */
static void *slot_init(void *config)
{
	(void)config;
	return ts_admin_key_cache_new();
}

static void slot_free(void *state)
{
	ts_admin_key_cache_t *cache = state;
	ts_credential_cache_free(&cache);
}

static const struct ts_http_slot admin_slot = {slot_init, slot_free};

const struct ts_admin_config *ts__admin_config(const struct ts__admin_call *call)
{
	return ts_http_config(call->req, &admin_slot);
}

static ts_err authorize(const struct ts__admin_op *op, struct ts__admin_call *call,
                        struct ts_error *e)
{
	char arn[TS_ADMIN_ARN_MAX];
	const char *resource = "*";
	switch (op->resource) {
	case TS__RES_ANY:
		break;
	case TS__RES_ACCOUNT:
		ts_admin_account_arn(call->account_id, arn, sizeof arn);
		resource = arn;
		break;
	case TS__RES_NEW_ACCOUNT:
		resource = "arn:tessera:::account/*";
		break;
	case TS__RES_LIST:
		if (ts_admin_policy_allows_some(call->policies, op->action))
			return TS_ERR_OK;
		return TS_FAIL(e, TS_ERR_FORBIDDEN, "%s is not authorized to perform %s",
		               call->principal, op->action);
	}
	if (ts_admin_policy_evaluate(call->policies, op->action, resource) == TS_POLICY_ALLOW)
		return TS_ERR_OK;
	return TS_FAIL(e, TS_ERR_FORBIDDEN, "%s is not authorized to perform %s on resource %s",
	               call->principal, op->action, resource);
}

/* requestParameters: path parameters and query of the call, and the body. */
static void fill_params(const struct ts__admin_op *op, struct ts__admin_call *call)
{
	/* path parameters and query were checked as UTF-8 (ts_http_request_check); the
	 * escaping text is for any other caller: a member is never silently left out */
	call->params = ts_json_own(call->a, json_object());
	if (call->account_id)
		json_object_set_new(call->params, "AccountId", ts_json_text(call->account_id));
	int first = call->account_id ? 1 : 0;
	if (call->req->nparams > first)
		json_object_set_new(call->params, "ResourceId",
		                    ts_json_text(call->req->params[call->req->nparams - 1]));
	if (call->req->query[0])
		json_object_set_new(call->params, "Query", ts_json_text(call->req->query));
	if (call->req->refused != TS_ERR_OK) /* the path as sent: its parameters did not decode */
		json_object_set_new(call->params, "Path", ts_json_text(call->req->path));
	(void)op;
}

static ts_err parse_body(struct ts__admin_call *call, struct ts_error *e)
{
	struct ts_http_req *req = call->req;
	if (req->body_len == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a JSON body is required");
	ts_err rc = ts_json_parse(req->body, req->body_len, NULL, call->a, &call->body, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (!json_is_object(call->body))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the body must be a JSON object");
	return TS_ERR_OK;
}

/* {"Code","Message"}; the message may quote input, which ts_http_error_plain escapes. */
static void answer_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code,
                         const char *message)
{
	ts_http_error_plain(req, res, code, ts_err_status(code), message);
	/* RFC 9110 §15.6.4, §10.2.3: a 503 says when to come back */
	if (ts_store_err_transient(code))
		ts_http_res_header(res, "retry-after",
		                   ts_arena_printf(req->arena, "%d", TS_STORE_RETRY_AFTER_S));
}

/* What the caller is told: detail for their own mistakes, nothing internal. */
static const char *public_message(ts_err code, const struct ts_error *e)
{
	switch (code) {
	case TS_ERR_UNAUTHORIZED:
		return ts_err_message(code);
	case TS_ERR_INTERNAL:
	case TS_ERR_STORE:
	case TS_ERR_IO:
		return ts_err_message(code);
	case TS_ERR_UNAVAILABLE:
	case TS_ERR_RETRY:
		return "the store is busy or unavailable, try again";
	default:
		return ts_error_text(e, code);
	}
}

static void store_failure(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                          const struct ts_error *e, const char *event)
{
	json_t *f = json_object();
	json_object_set_new(f, "request_id", ts_json_text(req->request_id));
	json_object_set_new(f, "event", ts_json_text(event));
	json_object_set_new(f, "error", ts_json_text(e->message));
	ts_log(TS_LOG_ERROR, "admin call failed in the store", f);
	answer_error(req, res, ts_store_err_transient(rc) ? TS_ERR_UNAVAILABLE : TS_ERR_INTERNAL,
	             public_message(rc, e));
}

/* The audit event of a read or refusal could not be committed: no answer but this. */
static void audit_failed(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                         const struct ts_error *e)
{
	store_failure(req, res, rc, e, req->route->name ? req->route->name : req->path);
}

/* ---- the dispatcher: the admin API's hooks of the request pipeline (api/api.h) ---- */

static void admin_start(struct ts_api_call *c)
{
	const struct ts__admin_op *op = c->op;
	struct ts__admin_call *call = c->own;
	struct ts_http_req *req = c->req;
	*call = (struct ts__admin_call){.req = req,
	                                .a = req->arena,
	                                .conn = c->conn,
	                                .status = 200,
	                                .write = !op->read_only};
	/* a refused request acts on no account: its parameter may not even decode */
	if (op->resource == TS__RES_ACCOUNT && req->nparams > 0 && req->refused == TS_ERR_OK)
		call->account_id = req->params[0];
	c->write = !op->read_only;
}

/*
 * A change runs in a write transaction that ends with its audit event. A
 * read runs in a read transaction (readers never wait for the writer) and
 * its event joins the group commit afterwards, as do the events of refused
 * calls, so that many of them share one commit.
 */
static ts_err admin_begin(struct ts_api_call *c, struct ts_error *e)
{
	const struct ts__admin_op *op = c->op;
	struct ts__admin_call *call = c->own;
	struct ts_http_req *req = c->req;
	ts_err rc = ts_store_begin(call->conn, !op->read_only, e);
	if (rc != TS_ERR_OK)
		return ts_api_store_failed(c, rc, e);
	fill_params(op, call);
	struct ts_adminkey key = {0};
	struct ts_error auth = {0};
	rc = ts_admin_key_authenticate(call->conn, call->a, ts_http_state(req, &admin_slot),
	                               ts_http_bearer(req), &key, &call->policies, &call->claimed,
	                               &auth);
	if (rc == TS_ERR_OK) {
		call->principal = key.access_key_id;
		/*
		 * A request the HTTP layer refused (a path parameter, query value or
		 * header that is not UTF-8): audited under the key that sent it, and
		 * refused before it is authorized for any resource.
		 */
		if (req->refused != TS_ERR_OK)
			rc = TS_FAIL(e, req->refused, "%s", req->refusal);
		else
			rc = authorize(op, call, e);
	} else {
		*e = auth;
		if (rc != TS_ERR_UNAUTHORIZED)
			return ts_api_store_failed(c, rc, e);
	}
	if (rc == TS_ERR_OK && op->needs_body)
		rc = parse_body(call, e);
	if (rc == TS_ERR_OK && op->needs_body)
		json_object_set(call->params, "Body", call->body);
	return rc;
}

static ts_err admin_run(struct ts_api_call *c, struct ts_error *e)
{
	const struct ts__admin_op *op = c->op;
	return op->run(c->own, e);
}

/* Every call, allowed or refused, leaves one event. */
static bool admin_audit(struct ts_api_call *c, ts_err outcome, const struct ts_error *e,
                        struct ts_audit_entry *entry)
{
	const struct ts__admin_op *op = c->op;
	struct ts__admin_call *call = c->own;
	const char *claimed = call->claimed;
	entry->who = (struct ts_audit_identity){
	        .type = call->principal ? "AdminKey" : "Anonymous",
	        .principal_id = call->principal ? call->principal : (claimed ? claimed : ""),
	        .access_key_id = call->principal ? call->principal : claimed};
	entry->event_name = op->event;
	entry->account_id = call->account_id;
	entry->request_parameters = call->params;
	entry->response_elements =
	        outcome == TS_ERR_OK && !op->read_only
	                ? (call->audit_response ? call->audit_response : call->response)
	                : NULL;
	entry->error_code = outcome != TS_ERR_OK ? ts_err_name(outcome) : NULL;
	/* the audit log says what the caller is not told */
	entry->error_message = outcome != TS_ERR_OK ? ts_error_text(e, outcome) : NULL;
	entry->read_only = op->read_only;
	return true;
}

static void admin_answer(struct ts_api_call *c)
{
	struct ts__admin_call *call = c->own;
	struct ts_http_res *res = c->res;
	if (call->response_text != NULL) {
		ts_http_res_set(res, call->status, "application/json", call->response_text,
		                call->response_len);
	} else if (call->response != NULL) {
		ts_http_res_json(c->req, res, call->status, NULL, call->response);
		call->response = NULL; /* the answer's now */
	} else {
		ts_http_res_set(res, call->status, NULL, NULL, 0);
		/* no answer where one was due: an operation's json_pack failed; a 500, not a
		 * quiet empty 200 (ts_http_res_settle) */
		if (ts_http_status_has_body(call->status))
			res->fault = "the operation's JSON answer could not be built";
	}
}

static void admin_discard(struct ts_api_call *c)
{
	struct ts__admin_call *call = c->own;
	json_decref(call->response);
	call->response = NULL;
}

static void admin_refuse(struct ts_api_call *c, ts_err outcome, const struct ts_error *e)
{
	admin_discard(c);
	answer_error(c->req, c->res, outcome, public_message(outcome, e));
}

static void admin_store_failure(struct ts_api_call *c, ts_err rc, const struct ts_error *e)
{
	const struct ts__admin_op *op = c->op;
	store_failure(c->req, c->res, rc, e, op->event);
}

static const struct ts_api_surface surface_hooks = {
        .event_source = TS_AUDIT_SOURCE_ADMIN,
        .start = admin_start,
        .begin = admin_begin,
        .run = admin_run,
        .audit = admin_audit,
        .answer = admin_answer,
        .refuse = admin_refuse,
        .discard = admin_discard,
        .store_failure = admin_store_failure,
        .audit_failed = audit_failed,
};

/* One call in one transaction, run by the pipeline (api/api.h). */
static void run_op(const struct ts__admin_op *op, struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts__admin_call call = {0};
	ts_api_handle(&surface_hooks, op, &call, req, res);
}

static void admin_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	run_op(req->route->data, req, res);
}

/* Picks the operation named by ?operation= (see struct ts__admin_choice). */
static void admin_select(struct ts_http_req *req, struct ts_http_res *res)
{
	const char *want = ts_http_query(req, "operation");
	if (want != NULL && want[0] == '\0')
		want = NULL;
	for (const struct ts__admin_choice *c = req->route->data; c->op != NULL; c++) {
		if (want == NULL ? c->operation == NULL
		                 : c->operation != NULL && strcmp(c->operation, want) == 0) {
			run_op(c->op, req, res);
			return;
		}
	}
	/* like an unknown path: no operation, so no action to authorize or audit */
	answer_error(req, res, TS_ERR_BAD_REQUEST,
	             req->refused != TS_ERR_OK ? req->refusal
	             : want                    ? "unknown operation for this path"
	                                       : "this path needs ?operation=");
}

/*
 * Paging tokens. A NextToken is the position of the page's last item sealed
 * (XChaCha20-Poly1305) with a key derived from the master key, bound as
 * associated data to the listing that issued it: the operation, the account
 * in the path, the calling key and the query without its paging parameters.
 * So a token shows nothing (not an id, not a count), cannot be forged or
 * edited, and is refused by any other listing, filter or key (an
 * incident: tokens were base64 of another tenant's account id). One helper for
 * every listing of the admin API.
 */
static const char page_purpose[TS_SUBKEY_PURPOSE_LEN + 1] = "adminpg1";

static bool paging_param(const char *q, size_t len)
{
	static const char *const names[] = {"next-token", "max-results"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i]);
		if (len >= n && memcmp(q, names[i], n) == 0 && (len == n || q[n] == '='))
			return true;
	}
	return false;
}

/* The associated data of the call's paging tokens: what makes a listing this one. */
static const char *page_binding(struct ts__admin_call *call)
{
	const struct ts_http_req *req = call->req;
	const char *event = req->route != NULL && req->route->name ? req->route->name : req->path;
	char *b = ts_arena_printf(call->a, "%s\n%s\n%s\n", event,
	                          call->account_id ? call->account_id : "",
	                          call->principal ? call->principal : "");
	for (const char *q = req->query; q != NULL && *q != '\0';) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		if (len > 0 && !paging_param(q, len))
			b = ts_arena_printf(call->a, "%s%.*s&", b, (int)len, q);
		q = amp ? amp + 1 : NULL;
	}
	return b;
}

static bool page_key(struct ts__admin_call *call, unsigned char key[TS_MASTER_KEY_LEN])
{
	const struct ts_admin_config *cfg = ts__admin_config(call);
	if (cfg == NULL || cfg->master_key == NULL)
		return false;
	ts_secret_subkey(cfg->master_key, page_purpose, key);
	return true;
}

ts_err ts__admin_paging(struct ts__admin_call *call, int def, int max, int *limit,
                        const char **after, struct ts_error *e)
{
	*limit = def;
	*after = NULL;
	const char *mr = ts_http_query(call->req, "max-results");
	if (mr != NULL) {
		char *end = NULL;
		long v = strtol(mr, &end, 10);
		if (mr[0] == '\0' || *end != '\0' || v < 1 || v > max)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "max-results must be 1 to %d", max);
		*limit = (int)v;
	}
	const char *nt = ts_http_query(call->req, "next-token");
	if (nt == NULL || nt[0] == '\0')
		return TS_ERR_OK;
	unsigned char key[TS_MASTER_KEY_LEN];
	char *position = NULL;
	ts_err rc = TS_ERR_INTERNAL;
	if (page_key(call, key)) {
		rc = ts_secret_open_bound(call->a, key, nt, page_binding(call), &position, NULL);
		sodium_memzero(key, sizeof key);
	}
	if (rc != TS_ERR_OK || position[0] == '\0')
		return TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "next-token is not valid for this listing: pass the NextToken of the "
		        "previous page unchanged, with the same key, path and filters");
	*after = position;
	return TS_ERR_OK;
}

const char *ts__admin_next_token(struct ts__admin_call *call, const char *position)
{
	unsigned char key[TS_MASTER_KEY_LEN];
	if (!page_key(call, key))
		return NULL; /* no master key (no server): no further pages offered */
	const char *token = ts_secret_seal_bound(call->a, key, position, page_binding(call));
	sodium_memzero(key, sizeof key);
	return token;
}

ts_err ts__admin_body_str(struct ts__admin_call *call, const char *key, bool required,
                          const char **out, struct ts_error *e)
{
	json_t *v = json_object_get(call->body, key);
	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is required", key);
		return TS_ERR_OK;
	}
	if (!json_is_string(v))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be a string", key);
	*out = json_string_value(v);
	return TS_ERR_OK;
}

ts_err ts__admin_body_bool(struct ts__admin_call *call, const char *key, int *out,
                           struct ts_error *e)
{
	json_t *v = json_object_get(call->body, key);
	*out = -1;
	if (v == NULL || json_is_null(v))
		return TS_ERR_OK;
	if (!json_is_boolean(v))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be true or false", key);
	*out = json_is_true(v) ? 1 : 0;
	return TS_ERR_OK;
}

ts_err ts__admin_body_origins(struct ts__admin_call *call, int max, const char **out,
                              struct ts_error *e)
{
	json_t *v = json_object_get(call->body, "RelayStateAllowList");
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return TS_ERR_OK;
	if (!json_is_array(v) || json_array_size(v) > (size_t)max)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "RelayStateAllowList must be an array of at most %d origins", max);
	json_t *norm = ts_json_own(call->a, json_array());
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item)
	{
		const char *s = json_string_value(item);
		const char *o = s ? ts_http_origin_normalize(call->a, s, strlen(s)) : NULL;
		if (o == NULL)
			return TS_FAIL(
			        e, TS_ERR_BAD_REQUEST,
			        "RelayStateAllowList[%zu] is not an origin (https://host[:port])",
			        i);
		json_array_append_new(norm, json_string(o));
	}
	*out = ts_json_dump(call->a, norm, NULL);
	return TS_ERR_OK;
}

/* TS_HTTP_REFUSALS: a request refused for its encoding is still authenticated and audited */
#define ROUTE(m, p, op)                                              \
	{                                                            \
		m, p, admin_handle, TS_HTTP_REFUSALS, &op, op##_name \
	}
#define SELECT(m, p, table, name)                                 \
	{                                                         \
		m, p, admin_select, TS_HTTP_REFUSALS, table, name \
	}
static const char ts__admin_create_account_name[] = "CreateAccount",
                  ts__admin_list_accounts_name[] = "ListAccounts",
                  ts__admin_get_account_name[] = "GetAccount",
                  ts__admin_update_account_name[] = "UpdateAccount",
                  ts__admin_delete_account_name[] = "DeleteAccount",
                  ts__admin_get_account_settings_name[] = "GetAccountSettings",
                  ts__admin_update_account_settings_name[] = "UpdateAccountSettings",
                  ts__admin_create_admin_key_name[] = "CreateAdminKey",
                  ts__admin_list_admin_keys_name[] = "ListAdminKeys",
                  ts__admin_delete_admin_key_name[] = "DeleteAdminKey",
                  ts__admin_lookup_events_name[] = "LookupEvents",
                  ts__admin_create_api_key_name[] = "CreateApiKey",
                  ts__admin_list_api_keys_name[] = "ListApiKeys",
                  ts__admin_delete_api_key_name[] = "DeleteApiKey",
                  ts__admin_list_users_name[] = "ListUsers", ts__admin_get_user_name[] = "GetUser",
                  ts__admin_delete_user_name[] = "DeleteUser",
                  ts__admin_signin_check_name[] = "GetSignInCheck",
                  ts__admin_list_domains_name[] = "ListDomains",
                  ts__admin_add_domain_name[] = "AddDomain",
                  ts__admin_get_domain_name[] = "GetDomain",
                  ts__admin_delete_domain_name[] = "DeleteDomain",
                  ts__admin_list_groups_name[] = "ListGroups",
                  ts__admin_put_groups_name[] = "AddOrUpdateGroups",
                  ts__admin_delete_groups_name[] = "DeleteGroups",
                  ts__admin_put_saml_config_name[] = "PutSamlConfig",
                  ts__admin_get_saml_config_name[] = "GetSamlConfig",
                  ts__admin_delete_saml_config_name[] = "DeleteSamlConfig",
                  ts__admin_update_openid_config_name[] = "UpdateAccountOpenIdConfig",
                  ts__admin_get_openid_config_name[] = "GetAccountWithOpenIdConfig",
                  ts__admin_delete_openid_config_name[] = "DeleteAccountOpenIdConfig",
                  ts__admin_create_target_name[] = "CreateTarget",
                  ts__admin_list_targets_name[] = "ListTargets",
                  ts__admin_get_target_name[] = "GetTarget",
                  ts__admin_update_target_name[] = "UpdateTarget",
                  ts__admin_delete_target_name[] = "DeleteTarget",
                  ts__admin_create_permission_set_name[] = "CreatePermissionSet",
                  ts__admin_list_permission_sets_name[] = "ListPermissionSets",
                  ts__admin_get_permission_set_name[] = "GetPermissionSet",
                  ts__admin_update_permission_set_name[] = "UpdatePermissionSet",
                  ts__admin_delete_permission_set_name[] = "DeletePermissionSet",
                  ts__admin_create_assignment_name[] = "CreateAssignment",
                  ts__admin_list_assignments_name[] = "ListAssignments",
                  ts__admin_get_assignment_name[] = "GetAssignment",
                  ts__admin_update_assignment_name[] = "UpdateAssignment",
                  ts__admin_delete_assignment_name[] = "DeleteAssignment";

/* Access after sign-in (api_access.c; SPEC §8, docs/access.md). */
extern const struct ts__admin_op ts__admin_create_target, ts__admin_list_targets,
        ts__admin_get_target, ts__admin_update_target, ts__admin_delete_target,
        ts__admin_create_permission_set, ts__admin_list_permission_sets,
        ts__admin_get_permission_set, ts__admin_update_permission_set,
        ts__admin_delete_permission_set, ts__admin_create_assignment, ts__admin_list_assignments,
        ts__admin_get_assignment, ts__admin_update_assignment, ts__admin_delete_assignment;

static const struct ts_http_route routes[] = {
        ROUTE("POST", "/api/v1/accounts", ts__admin_create_account),
        ROUTE("GET", "/api/v1/accounts", ts__admin_list_accounts),
        ROUTE("GET", "/api/v1/accounts/{}", ts__admin_get_account),
        ROUTE("POST", "/api/v1/accounts/{}", ts__admin_update_account),
        ROUTE("DELETE", "/api/v1/accounts/{}", ts__admin_delete_account),
        ROUTE("GET", "/api/v1/accounts/{}/settings", ts__admin_get_account_settings),
        ROUTE("PUT", "/api/v1/accounts/{}/settings", ts__admin_update_account_settings),
        ROUTE("POST", "/api/v1/admin-keys", ts__admin_create_admin_key),
        ROUTE("GET", "/api/v1/admin-keys", ts__admin_list_admin_keys),
        ROUTE("DELETE", "/api/v1/admin-keys/{}", ts__admin_delete_admin_key),
        ROUTE("GET", "/api/v1/audit-events", ts__admin_lookup_events),
        ROUTE("POST", "/api/v1/accounts/{}/api-keys", ts__admin_create_api_key),
        ROUTE("GET", "/api/v1/accounts/{}/api-keys", ts__admin_list_api_keys),
        ROUTE("DELETE", "/api/v1/accounts/{}/api-keys/{}", ts__admin_delete_api_key),
        /* directory administration (docs/product.md §2, §4) */
        ROUTE("GET", "/api/v1/accounts/{}/users", ts__admin_list_users),
        SELECT("POST", "/api/v1/accounts/{}/users", ts__admin_users_post, "UsersOperation"),
        ROUTE("GET", "/api/v1/accounts/{}/users/{}", ts__admin_get_user),
        SELECT("POST", "/api/v1/accounts/{}/users/{}", ts__admin_user_post, "UserOperation"),
        ROUTE("DELETE", "/api/v1/accounts/{}/users/{}", ts__admin_delete_user),
        ROUTE("GET", "/api/v1/accounts/{}/users/{}/sign-in-check", ts__admin_signin_check),
        ROUTE("GET", "/api/v1/accounts/{}/domains", ts__admin_list_domains),
        ROUTE("POST", "/api/v1/accounts/{}/domains", ts__admin_add_domain),
        ROUTE("GET", "/api/v1/accounts/{}/domains/{}", ts__admin_get_domain),
        SELECT("POST", "/api/v1/accounts/{}/domains/{}", ts__admin_domain_post, "DomainOperation"),
        ROUTE("DELETE", "/api/v1/accounts/{}/domains/{}", ts__admin_delete_domain),
        ROUTE("GET", "/api/v1/accounts/{}/groups", ts__admin_list_groups),
        ROUTE("PUT", "/api/v1/accounts/{}/groups", ts__admin_put_groups),
        ROUTE("DELETE", "/api/v1/accounts/{}/groups", ts__admin_delete_groups),
        /* the SAML identity source (docs/saml.md "The admin API") */
        ROUTE("PUT", "/api/v1/accounts/{}/saml-config", ts__admin_put_saml_config),
        ROUTE("GET", "/api/v1/accounts/{}/saml-config", ts__admin_get_saml_config),
        ROUTE("DELETE", "/api/v1/accounts/{}/saml-config", ts__admin_delete_saml_config),
        SELECT("POST", "/api/v1/accounts/{}/saml-config", ts__admin_saml_config_post,
               "SamlConfigOperation"),
        /* the OpenID provider (docs/oidc.md "Configuration") */
        ROUTE("PUT", "/api/v1/accounts/{}/openid-config", ts__admin_update_openid_config),
        ROUTE("GET", "/api/v1/accounts/{}/openid-config", ts__admin_get_openid_config),
        ROUTE("DELETE", "/api/v1/accounts/{}/openid-config", ts__admin_delete_openid_config),
        /* access after sign-in (docs/access.md) */
        ROUTE("POST", "/api/v1/accounts/{}/targets", ts__admin_create_target),
        ROUTE("GET", "/api/v1/accounts/{}/targets", ts__admin_list_targets),
        ROUTE("GET", "/api/v1/accounts/{}/targets/{}", ts__admin_get_target),
        ROUTE("POST", "/api/v1/accounts/{}/targets/{}", ts__admin_update_target),
        ROUTE("DELETE", "/api/v1/accounts/{}/targets/{}", ts__admin_delete_target),
        ROUTE("POST", "/api/v1/accounts/{}/permission-sets", ts__admin_create_permission_set),
        ROUTE("GET", "/api/v1/accounts/{}/permission-sets", ts__admin_list_permission_sets),
        ROUTE("GET", "/api/v1/accounts/{}/permission-sets/{}", ts__admin_get_permission_set),
        ROUTE("POST", "/api/v1/accounts/{}/permission-sets/{}", ts__admin_update_permission_set),
        ROUTE("DELETE", "/api/v1/accounts/{}/permission-sets/{}", ts__admin_delete_permission_set),
        ROUTE("POST", "/api/v1/accounts/{}/assignments", ts__admin_create_assignment),
        ROUTE("GET", "/api/v1/accounts/{}/assignments", ts__admin_list_assignments),
        ROUTE("GET", "/api/v1/accounts/{}/assignments/{}", ts__admin_get_assignment),
        ROUTE("POST", "/api/v1/accounts/{}/assignments/{}", ts__admin_update_assignment),
        ROUTE("DELETE", "/api/v1/accounts/{}/assignments/{}", ts__admin_delete_assignment),
};

struct ts_http_module ts_admin_module(struct ts_admin_config *cfg)
{
	return (struct ts_http_module){.name = "admin",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .slot = &admin_slot,
	                               .config = cfg};
}
