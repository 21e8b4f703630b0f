/*
 * The SCIM dispatcher: SCIM's hooks of the request pipeline (api/api.h):
 * bearer API key -> account, one transaction per call, an audit event for
 * every write in the same transaction as the change, and the SCIM error
 * schema (RFC 7644 §3.12) with application/scim+json on every answer. Each
 * endpoint is a descriptor (struct ts__scim_op) in the route table. Shared
 * helpers: attributes / excludedAttributes, ETags.
 */
#include "scim/scim.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "directory/account.h"
#include "credential/apikey.h"
#include "scim/internal.h"
#include "scim/patch.h"
#include "core/throttle.h"

/* Each worker's cache of API keys checked recently (credential/apikey.h). */
static void *slot_init(void *config)
{
	(void)config;
	return ts_credential_apikey_cache_new();
}

static void slot_free(void *state)
{
	ts_credential_cache_t *cache = state;
	ts_credential_cache_free(&cache);
}

static const struct ts_http_slot scim_slot = {slot_init, slot_free};

static const struct ts_scim_config *config_of(const struct ts_http_req *req)
{
	return ts_http_config(req, &scim_slot);
}

ts_err ts__scim_err(struct ts__scim_call *call, struct ts_error *e, ts_err code,
                    const char *scim_type, const char *fmt, ...)
{
	call->scim_type = scim_type;
	if (e != NULL) {
		va_list ap;
		va_start(ap, fmt);
		e->code = code;
		e->where = "scim";
		vsnprintf(e->message, sizeof e->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *base_url(struct ts_http_req *req)
{
	const struct ts_scim_config *cfg = config_of(req);
	const char *b = cfg != NULL ? cfg->base_url : NULL;
	if (b == NULL) {
		const char *host = ts_http_header(req, "host");
		b = ts_arena_printf(req->arena, "http://%s", host ? host : "localhost");
	}
	size_t n = strlen(b);
	while (n > 0 && b[n - 1] == '/')
		n--;
	return ts_arena_printf(req->arena, "%.*s/scim/v2", (int)n, b);
}

/*
 * RFC 7644 §3.12: the error schema, status as a string, detail. detail may
 * quote what the client sent: it goes through ts_json_text, so text that is
 * not UTF-8 is escaped, never a NULL from json_pack.
 */
static void answer_error(struct ts_http_req *req, struct ts_http_res *res, int status,
                         const char *scim_type, const char *detail)
{
	char st[8];
	snprintf(st, sizeof st, "%d", status);
	json_t *o = json_object();
	json_t *schemas = json_array();
	json_array_append_new(schemas, json_string(TS__SCIM_ERROR_SCHEMA));
	json_object_set_new(o, "schemas", schemas);
	json_object_set_new(o, "status", json_string(st));
	json_object_set_new(o, "detail", ts_json_text(detail));
	if (scim_type != NULL)
		json_object_set_new(o, "scimType", json_string(scim_type));
	ts_http_res_json(req, res, status, TS__SCIM_CONTENT_TYPE, o);
	res->error_code = scim_type ? scim_type : "error";
	/* RFC 9110 §15.6.4, §10.2.3: a 503 (the store) says when to come back */
	if (status == ts_err_status(TS_ERR_UNAVAILABLE))
		ts_http_res_header(res, "retry-after",
		                   ts_arena_printf(req->arena, "%d", TS_STORE_RETRY_AFTER_S));
	if (status == 401)
		ts_http_res_header(res, "www-authenticate", "Bearer realm=\"scim\"");
}

void ts_scim_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                   const char *message)
{
	/* RFC 7644 §3.12: scimType only where the table defines one; for a 400 of the
	 * HTTP layer (a value that is not UTF-8) that is invalidValue */
	answer_error(req, res, status, status == 400 ? "invalidValue" : NULL, message);
	res->error_code = ts_err_name(code);
}

/* What the client is told: detail for its own mistakes, nothing internal (item 89). */
static const char *public_detail(ts_err code, const struct ts_error *e)
{
	switch (code) {
	case TS_ERR_UNAUTHORIZED:
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

static void refusal(struct ts__scim_call *call, struct ts_http_res *res, ts_err outcome,
                    const struct ts_error *e)
{
	json_decref(call->response);
	call->response = NULL;
	const char *st = call->scim_type;
	if (st == NULL && outcome == TS_ERR_CONFLICT)
		st = "uniqueness";
	answer_error(call->req, res, ts_err_status(outcome), st, public_detail(outcome, e));
}

static void store_failure(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                          const struct ts_error *e, const char *event)
{
	json_t *f = json_object();
	json_object_set_new(f, "request_id", ts_json_text(req->request_id));
	json_object_set_new(f, "event", ts_json_text(event));
	json_object_set_new(f, "error", ts_json_text(e->message));
	ts_log(TS_LOG_ERROR, "SCIM call failed in the store", f);
	bool later = ts_store_err_transient(rc);
	answer_error(req, res, ts_err_status(later ? TS_ERR_UNAVAILABLE : TS_ERR_INTERNAL), NULL,
	             public_detail(later ? rc : TS_ERR_INTERNAL, e));
}

/* A refusal's audit event could not be committed: no answer but this. */
static void audit_failed(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                         const struct ts_error *e)
{
	const struct ts__scim_op *op = req->route->data;
	store_failure(req, res, rc, e, op->event);
}

static bool json_body_type(const struct ts_http_req *req)
{
	/* RFC 7644 §3.8: application/scim+json, and application/json as clients send it */
	const char *ct = ts_http_header(req, "content-type");
	return ct == NULL || strcasestr(ct, "json") != NULL;
}

/*
 * The audit event's requestParameters as JSON text: {"Path", "Query",
 * "Body"}, the body as sent but redacted (ts_audit_redact_write: password in
 * any spelling, a PATCH operation whose path names it, any other secret).
 * Written before the operation changes the body, and outside the writer lock.
 */
static const char *audit_params(struct ts__scim_call *call)
{
	struct ts_jsonw w;
	ts_jsonw_init(&w, call->a, 256 + call->req->body_len);
	ts_jsonw_lit(&w, "{");
	/* as sent; escaped when a refused request's bytes are not UTF-8 (never left out) */
	(void)ts_jsonw_member_str(&w, "Path", ts_text_escape(call->a, call->req->path));
	if (call->req->query[0])
		(void)ts_jsonw_member_str(
		        &w, "Query",
		        ts_text_escape(call->a, ts_audit_redact_query(call->a, call->req->query)));
	if (json_is_object(call->body)) {
		ts_jsonw_key(&w, "Body");
		ts_audit_redact_write(&w, call->body);
	}
	ts_jsonw_lit(&w, "}");
	return ts_jsonw_finish(&w, NULL);
}

/*
 * Item 67: a key past its rate (serve --scim-rate-limit) gets 429 with
 * Retry-After. True when it did and the answer is set.
 */
static bool throttled(struct ts_http_req *req, struct ts_http_res *res, const char *api_key_id)
{
	const struct ts_scim_config *cfg = config_of(req);
	int64_t retry_s = 0;
	if (cfg == NULL || ts_throttle_take(cfg->throttle, api_key_id, ts_mono_ns(), &retry_s))
		return false;
	const char *detail = ts_arena_printf(req->arena, "%s for this API key: retry in %lld s",
	                                     ts_err_message(TS_ERR_THROTTLED), (long long)retry_s);
	answer_error(req, res, ts_err_status(TS_ERR_THROTTLED), NULL, detail);
	res->error_code = ts_err_name(TS_ERR_THROTTLED);
	/* RFC 6585 §4, RFC 9110 §10.2.3: delay-seconds */
	ts_http_res_header(res, "retry-after",
	                   ts_arena_printf(req->arena, "%lld", (long long)retry_s));
	return true;
}

/*
 * The account's SCIM compatibility profile: aws-strict or not. The settings
 * text of a thread's last call is remembered with its answer (every call of
 * an account's key brings the same text), so it is parsed once, not per call.
 */
static bool strict_profile(const char *settings)
{
	static _Thread_local char last[512];
	static _Thread_local bool last_strict;
	size_t n = settings ? strlen(settings) : 0;
	if (n > 0 && n < sizeof last && memcmp(last, settings, n + 1) == 0)
		return last_strict;
	struct ts_account acct = {.settings = settings};
	struct ts_account_settings all;
	ts_directory_account_settings_of(&acct, &all);
	bool strict = all.scim_compatibility == TS_SCIM_PROFILE_AWS_STRICT;
	if (n > 0 && n < sizeof last) {
		memcpy(last, settings, n + 1);
		last_strict = strict;
	}
	return strict;
}

/* ---- the dispatcher: SCIM's hooks of the request pipeline (api/api.h) ---- */

/* A pass of a call: what the operations see, and what the dispatcher keeps. */
struct scim_pass {
	struct ts__scim_call call;
	const char *token; /* the bearer token, or NULL */
	struct ts_apikey key;
	const char *claimed; /* the key id a token names, for a 401's event */
	bool authenticated;
	/* a write whose key this thread checked before: its check is in the write's transaction */
	bool unchecked;
	/* kept across passes: check the key before the body (the profile changed) */
	bool check_first;
	const char *audit_request; /* a write's requestParameters, built before the lock */
};

static void scim_start(struct ts_api_call *c)
{
	struct scim_pass *p = c->own;
	const struct ts__scim_op *op = c->op;
	int attempt = p->call.attempt;
	bool check_first = p->check_first;
	*p = (struct scim_pass){.call = {.req = c->req,
	                                 .a = c->req->arena,
	                                 .conn = c->conn,
	                                 .status = 200,
	                                 .attempt = attempt},
	                        .check_first = check_first};
	c->write = op->write;
}

/*
 * Checks the bearer token in the open transaction: TS_ERR_OK; or
 * TS_ERR_UNAUTHORIZED, rolled back, the outcome (audited as the admin API
 * audits its 401s: the key id the token names when it parses, never the
 * token); or a store failure, with c->flow set.
 */
static ts_err key_check(struct ts_api_call *c, struct ts_error *e)
{
	struct scim_pass *p = c->own;
	struct ts_error ke = {0};
	ts_err rc = ts_credential_apikey_authenticate(p->call.conn, p->call.a,
	                                              ts_http_state(c->req, &scim_slot), p->token,
	                                              &p->key, &p->claimed, &ke);
	p->authenticated = rc == TS_ERR_OK;
	if (rc == TS_ERR_OK)
		return rc;
	*e = ke;
	if (rc != TS_ERR_UNAUTHORIZED)
		return ts_api_store_failed(c, rc, e);
	ts_store_rollback(p->call.conn);
	return rc;
}

/* The same in a read transaction of its own; outcome is kept when the key passes. */
static ts_err key_check_alone(struct ts_api_call *c, ts_err outcome, struct ts_error *e)
{
	struct ts_error ke = {0};
	ts_err rc = ts_store_begin(c->conn, false, &ke);
	if (rc == TS_ERR_OK)
		rc = key_check(c, &ke);
	else
		rc = ts_api_store_failed(c, rc, &ke);
	/* ended by COMMIT, which confirms the key's check on PostgreSQL (docs/store.md) */
	if (rc == TS_ERR_OK && (rc = ts_store_commit(c->conn, &ke)) != TS_ERR_OK)
		rc = ts_api_store_failed(c, rc, &ke);
	if (rc != TS_ERR_OK) {
		*e = ke;
		return rc;
	}
	return outcome;
}

/* The refusals of the request itself: what the HTTP layer refused, the body. */
static ts_err read_request(struct ts__scim_call *call, const struct ts__scim_op *op,
                           struct ts_error *e)
{
	struct ts_http_req *req = call->req;
	/*
	 * A request the HTTP layer refused (a path parameter, query value or
	 * header that is not UTF-8): refused here, after the key check, so that
	 * a write's refusal is audited under its key. RFC 7644 §3.12 invalidValue.
	 */
	if (req->refused != TS_ERR_OK)
		return ts__scim_err(call, e, req->refused, "invalidValue", "%s", req->refusal);
	if (!op->needs_body)
		return TS_ERR_OK;
	if (!json_body_type(req))
		return ts__scim_err(call, e, TS_ERR_UNSUPPORTED_MEDIA, NULL,
		                    "send application/scim+json or application/json");
	if (req->body_len == 0)
		return ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidSyntax",
		                    "a JSON body is required");
	ts_err rc = ts_json_parse(req->body, req->body_len, NULL, call->a, &call->body, e);
	if (rc == TS_ERR_BAD_REQUEST)
		call->scim_type = "invalidSyntax";
	if (rc == TS_ERR_OK && !json_is_object(call->body))
		rc = ts__scim_err(call, e, TS_ERR_BAD_REQUEST, "invalidSyntax",
		                  "the body must be a JSON object");
	return rc;
}

/*
 * A write takes the one writer's lock only now, its body parsed and
 * prepared. A key not checked yet (a cached one) is checked in the write's
 * own transaction; a refused body checks it first on its own.
 */
static ts_err begin_write(struct ts_api_call *c, ts_err rc, struct ts_error *e)
{
	struct scim_pass *p = c->own;
	struct ts__scim_call *call = &p->call;
	if (!p->unchecked)
		ts_store_rollback(call->conn); /* the read transaction of the key check */
	if (rc != TS_ERR_OK) {
		ts_store_write_soon(call->conn, false); /* refused before it began */
		return p->unchecked ? key_check_alone(c, rc, e) : rc;
	}
	rc = ts_store_begin(call->conn, true, e);
	if (rc != TS_ERR_OK)
		return ts_api_store_failed(c, rc, e);
	if (!p->unchecked)
		return TS_ERR_OK;
	const char *settings = p->key.account_settings;
	rc = key_check(c, e);
	if (rc != TS_ERR_OK)
		return rc;
	/*
	 * The account's profile changed since the cached check: the body was
	 * prepared under the old one. Start over, checking the key first (the
	 * body is parsed again from the request).
	 */
	if (strcmp(settings, p->key.account_settings) != 0 &&
	    strict_profile(p->key.account_settings) != call->strict) {
		ts_store_rollback(call->conn);
		p->check_first = true;
		c->flow = TS_API_AGAIN;
	}
	return TS_ERR_OK;
}

/*
 * The key is checked in a read transaction. A read keeps it for the call
 * (one snapshot); a write ends it and takes the writer lock only once the
 * body is parsed, so that hashing and parsing run outside the one writer.
 * A write whose key this thread has checked before skips that read: its
 * key is checked in its own write transaction instead (begin_write). (Not
 * with throttling: a 429 may only go to a key just checked.)
 */
static ts_err scim_begin(struct ts_api_call *c, struct ts_error *e)
{
	struct scim_pass *p = c->own;
	struct ts__scim_call *call = &p->call;
	const struct ts__scim_op *op = c->op;
	struct ts_http_req *req = c->req;
	const struct ts_scim_config *cfg = config_of(req);
	p->token = ts_http_bearer(req);
	p->unchecked = !p->check_first && op->write && (cfg == NULL || cfg->throttle == NULL) &&
	               ts_credential_apikey_cached(ts_http_state(req, &scim_slot), call->a,
	                                           p->token, &p->key);
	if (!p->unchecked) {
		ts_err rc = ts_store_begin(call->conn, false, e);
		if (rc != TS_ERR_OK)
			return ts_api_store_failed(c, rc, e);
		rc = key_check(c, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	/* by the authenticated key only, and before any work: a throttled write is not audited */
	if (throttled(req, c->res, p->key.api_key_id)) {
		ts_store_rollback(call->conn);
		c->flow = TS_API_ANSWERED;
		return TS_ERR_THROTTLED;
	}
	call->account_id = p->key.account_id;
	call->api_key_id = p->key.api_key_id;
	/* a commit ending meanwhile leaves its group open for this write (group commit) */
	if (op->write)
		ts_store_write_soon(call->conn, true);
	call->strict = strict_profile(p->key.account_settings);
	call->base = base_url(req);
	ts__scim_attrs_parse(call, ts_http_query(req, "attributes"),
	                     ts_http_query(req, "excludedAttributes"));
	ts_err rc = read_request(call, op, e);
	/* the audit event's requestParameters: built before the writer lock is taken */
	p->audit_request = op->write ? audit_params(call) : NULL;
	if (rc == TS_ERR_OK && op->prepare != NULL)
		rc = op->prepare(call, e);
	return op->write ? begin_write(c, rc, e) : rc;
}

static ts_err scim_run(struct ts_api_call *c, struct ts_error *e)
{
	const struct ts__scim_op *op = c->op;
	return op->run(&((struct scim_pass *)c->own)->call, e);
}

/* Another write changed the resource since prepare read it: nothing done yet, start over. */
static bool scim_again(struct ts_api_call *c, ts_err rc)
{
	struct ts__scim_call *call = &((struct scim_pass *)c->own)->call;
	const struct ts__scim_op *op = c->op;
	(void)rc;
	if (!call->retry || call->attempt >= TS__SCIM_WRITE_ATTEMPTS)
		return false;
	ts_log(TS_LOG_DEBUG, "SCIM write started over: the resource changed meanwhile",
	       json_pack("{s:s, s:s, s:i}", "request_id", c->req->request_id, "event", op->event,
	                 "attempt", call->attempt + 1));
	json_decref(call->response);
	call->response = NULL;
	call->attempt++;
	return true;
}

/* Every SCIM write, done or refused, and every 401 leave an audit event (docs/product.md §9). */
static bool scim_audit(struct ts_api_call *c, ts_err outcome, const struct ts_error *e,
                       struct ts_audit_entry *entry)
{
	struct scim_pass *p = c->own;
	struct ts__scim_call *call = &p->call;
	const struct ts__scim_op *op = c->op;
	struct ts_http_req *req = c->req;
	if (!p->authenticated && outcome == TS_ERR_UNAUTHORIZED) {
		/* the path and query, no body */
		struct ts_jsonw w;
		ts_jsonw_init(&w, call->a, 256);
		ts_jsonw_lit(&w, "{");
		(void)ts_jsonw_member_str(&w, "Path", req->path);
		if (req->query[0])
			(void)ts_jsonw_member_str(&w, "Query", req->query);
		ts_jsonw_lit(&w, "}");
		entry->who =
		        (struct ts_audit_identity){.type = "Anonymous",
		                                   .principal_id = p->claimed ? p->claimed : "",
		                                   .access_key_id = p->claimed};
		entry->request_parameters_json = ts_jsonw_finish(&w, NULL);
		entry->read_only = !op->write;
	} else if (op->write) {
		entry->who = (struct ts_audit_identity){.type = "ApiKey",
		                                        .principal_id = call->api_key_id,
		                                        .access_key_id = call->api_key_id};
		entry->account_id = call->account_id;
		entry->request_parameters_json = p->audit_request;
		if (outcome == TS_ERR_OK && call->resource_id != NULL)
			entry->response_elements =
			        ts_json_own(call->a, json_pack("{s:s}", "id", call->resource_id));
	} else {
		return false;
	}
	entry->event_name = op->event;
	entry->error_code = outcome != TS_ERR_OK ? ts_err_name(outcome) : NULL;
	entry->error_message = outcome != TS_ERR_OK ? ts_error_text(e, outcome) : NULL;
	return true;
}

static void scim_answer(struct ts_api_call *c)
{
	struct ts__scim_call *call = &((struct scim_pass *)c->own)->call;
	struct ts_http_req *req = c->req;
	struct ts_http_res *res = c->res;
	if (call->after != NULL)
		call->after(call);
	if (call->response_text != NULL)
		ts_http_res_set(res, call->status, TS__SCIM_CONTENT_TYPE, call->response_text,
		                call->response_len);
	else if (call->response != NULL)
		ts_http_res_json(req, res, call->status, TS__SCIM_CONTENT_TYPE, call->response);
	else if (ts_http_status_has_body(call->status))
		/* no answer where one was due: a json_pack failed (a 500, ts_http_res_settle) */
		ts_http_res_json(req, res, call->status, TS__SCIM_CONTENT_TYPE, NULL);
	else
		ts_http_res_set(res, call->status, TS__SCIM_CONTENT_TYPE, NULL, 0);
	call->response = NULL; /* the answer's now */
	if (call->etag != NULL)
		ts_http_res_header(res, "etag", call->etag);
	if (call->location != NULL)
		ts_http_res_header(res, "location", call->location);
}

static void scim_refuse(struct ts_api_call *c, ts_err outcome, const struct ts_error *e)
{
	struct scim_pass *p = c->own;
	if (!p->authenticated && outcome == TS_ERR_UNAUTHORIZED)
		p->call.scim_type = NULL; /* RFC 6750 §3: a 401 with WWW-Authenticate only */
	refusal(&p->call, c->res, outcome, e);
}

static void scim_discard(struct ts_api_call *c)
{
	struct ts__scim_call *call = &((struct scim_pass *)c->own)->call;
	json_decref(call->response);
	call->response = NULL;
}

static void scim_store_failure(struct ts_api_call *c, ts_err rc, const struct ts_error *e)
{
	const struct ts__scim_op *op = c->op;
	store_failure(c->req, c->res, rc, e, op->event);
}

static const struct ts_api_surface surface_hooks = {
        .event_source = TS_AUDIT_SOURCE_SCIM,
        .start = scim_start,
        .begin = scim_begin,
        .run = scim_run,
        .again = scim_again,
        .audit = scim_audit,
        .answer = scim_answer,
        .refuse = scim_refuse,
        .discard = scim_discard,
        .store_failure = scim_store_failure,
        .audit_failed = audit_failed,
};

static void scim_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct scim_pass pass = {0};
	ts_api_handle(&surface_hooks, req->route->data, &pass, req, res);
}

/* /Bulk and /Me: not offered (ServiceProviderConfig says bulk.supported=false; item 54, 93). */
static void not_implemented(struct ts_http_req *req, struct ts_http_res *res)
{
	answer_error(req, res, 501, NULL, "not implemented by this service provider");
}

/* ---- attributes / excludedAttributes (RFC 7644 §3.4.2.5) --------------- */

static int split_list(ts_arena_t *a, const char *s, const char ***out)
{
	if (s == NULL || s[0] == '\0') {
		*out = NULL;
		return 0;
	}
	int n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	const char **list = ts_arena_alloc(a, sizeof *list * (size_t)n);
	int k = 0;
	char *copy = ts_arena_strdup(a, s), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		char *end = t + strlen(t);
		while (end > t && end[-1] == ' ')
			*--end = '\0';
		if (*t)
			list[k++] = t;
	}
	*out = list;
	return k;
}

void ts__scim_attrs_parse(struct ts__scim_call *call, const char *incl, const char *excl)
{
	call->attrs.nincl = split_list(call->a, incl, &call->attrs.incl);
	call->attrs.nexcl = split_list(call->a, excl, &call->attrs.excl);
}

/* Splits "urn:...:User:name.givenName" into schema, attr, sub (arena memory). */
static void attr_split(ts_arena_t *a, const char *path, const char **urn, const char **attr,
                       const char **sub)
{
	*urn = NULL;
	*sub = NULL;
	const char *p = path;
	const char *colon = strrchr(path, ':');
	if (colon != NULL) {
		if (strcasecmp(path, TS_SCIM_SCHEMA_ENTERPRISE) == 0) {
			*urn = TS_SCIM_SCHEMA_ENTERPRISE;
			*attr = NULL;
			return;
		}
		*urn = ts_arena_strndup(a, path, (size_t)(colon - path));
		p = colon + 1;
	}
	const char *dot = strchr(p, '.');
	if (dot != NULL) {
		*attr = ts_arena_strndup(a, p, (size_t)(dot - p));
		*sub = dot + 1;
	} else {
		*attr = p;
	}
}

bool ts__scim_attrs_want(const struct ts__scim_call *call, const char *attr, bool by_default)
{
	for (int i = 0; i < call->attrs.nexcl; i++) {
		const char *u, *at, *sb;
		attr_split(call->a, call->attrs.excl[i], &u, &at, &sb);
		if (at != NULL && sb == NULL && strcasecmp(at, attr) == 0)
			return false;
	}
	if (call->attrs.nincl == 0)
		return by_default;
	for (int i = 0; i < call->attrs.nincl; i++) {
		const char *u, *at, *sb;
		attr_split(call->a, call->attrs.incl[i], &u, &at, &sb);
		if (at != NULL && strcasecmp(at, attr) == 0)
			return true;
	}
	return false;
}

static bool always_returned(const char *k)
{
	return strcasecmp(k, "id") == 0 || strcasecmp(k, "schemas") == 0;
}

void ts__scim_attrs_apply(const struct ts__scim_call *call, json_t *res, const char *core)
{
	if (call->attrs.nincl > 0) {
		json_t *keep = json_object();
		/* array projections made below (held until their empty values are removed) */
		json_t **projections =
		        ts_arena_alloc(call->a, sizeof *projections * (size_t)call->attrs.nincl);
		int nproj = 0;
		for (int i = 0; i < call->attrs.nincl; i++) {
			const char *urn, *attr, *sub;
			attr_split(call->a, call->attrs.incl[i], &urn, &attr, &sub);
			json_t *from = res, *to = keep;
			const char *container_key = NULL;
			if (urn != NULL && strcasecmp(urn, core) != 0) {
				from = ts_scim_json_get(res, urn, &container_key);
				if (from == NULL)
					continue;
				if (attr == NULL) {
					json_object_set(keep, container_key, from);
					continue;
				}
				to = json_object_get(keep, container_key);
				if (to == NULL) {
					to = json_object();
					json_object_set_new(keep, container_key, to);
				}
			}
			const char *real = NULL;
			json_t *v = ts_scim_json_get(from, attr, &real);
			if (v == NULL)
				continue;
			if (sub == NULL || !(json_is_object(v) || json_is_array(v))) {
				json_object_set(to, real, v);
				continue;
			}
			if (json_is_object(v)) {
				json_t *dst = json_object_get(to, real);
				if (!json_is_object(dst)) {
					dst = json_object();
					json_object_set_new(to, real, dst);
				}
				const char *rs = NULL;
				json_t *sv = ts_scim_json_get(v, sub, &rs);
				if (sv != NULL)
					json_object_set(dst, rs, sv);
			} else {
				/*
				 * One object per value, in order, so that several sub-attributes
				 * (emails.value,emails.type) fill the same objects, and a
				 * projection never replaces the whole attribute asked for too.
				 */
				json_t *arr = json_object_get(to, real);
				if (arr == v)
					continue;
				if (!json_is_array(arr) ||
				    json_array_size(arr) != json_array_size(v)) {
					arr = json_array();
					for (size_t j = 0; j < json_array_size(v); j++)
						json_array_append_new(arr, json_object());
					json_object_set_new(to, real, arr);
					projections[nproj++] = json_incref(arr);
				}
				size_t j;
				json_t *x;
				json_array_foreach(v, j, x)
				{
					const char *rs = NULL;
					json_t *sv = ts_scim_json_get(x, sub, &rs);
					if (sv != NULL)
						json_object_set(json_array_get(arr, j), rs, sv);
				}
			}
		}
		/* values with none of the sub-attributes asked for are left out */
		for (int i = 0; i < nproj; i++) {
			for (size_t j = json_array_size(projections[i]); j-- > 0;)
				if (json_object_size(json_array_get(projections[i], j)) == 0)
					json_array_remove(projections[i], j);
			json_decref(projections[i]);
		}
		/* returned "always" (RFC 7643 §7): id, and the schemas that say what it is */
		const char *k;
		json_t *v;
		json_object_foreach(res, k, v)
		{
			if (always_returned(k))
				json_object_set(keep, k, v);
		}
		json_object_clear(res);
		json_object_update(res, keep);
		json_decref(keep);
	}
	for (int i = 0; i < call->attrs.nexcl; i++) {
		const char *urn, *attr, *sub;
		attr_split(call->a, call->attrs.excl[i], &urn, &attr, &sub);
		json_t *from = res;
		if (urn != NULL && strcasecmp(urn, core) != 0) {
			const char *ck = NULL;
			from = ts_scim_json_get(res, urn, &ck);
			if (from != NULL && attr == NULL) {
				json_object_del(res, ck);
				continue;
			}
		}
		if (from == NULL || attr == NULL || (from == res && always_returned(attr)))
			continue;
		const char *real = NULL;
		json_t *v = ts_scim_json_get(from, attr, &real);
		if (v == NULL)
			continue;
		if (sub == NULL) {
			json_object_del(from, real);
		} else if (json_is_object(v)) {
			const char *rs = NULL;
			if (ts_scim_json_get(v, sub, &rs) != NULL)
				json_object_del(v, rs);
		} else if (json_is_array(v)) {
			size_t j;
			json_t *x;
			json_array_foreach(v, j, x)
			{
				const char *rs = NULL;
				if (ts_scim_json_get(x, sub, &rs) != NULL)
					json_object_del(x, rs);
			}
		}
	}
}

/* ---- versions -------------------------------------------------------------- */

const char *ts__scim_etag(struct ts__scim_call *call, int64_t version)
{
	/* in every answer of a single resource, twice: no formatting engine */
	char digits[24], *p = digits + sizeof digits;
	*--p = '\0';
	uint64_t v = version < 0 ? 0 - (uint64_t)version : (uint64_t)version;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	if (version < 0)
		*--p = '-';
	return ts_arena_concat(call->a, "W/\"", p, "\"", NULL);
}

static bool etag_listed(const char *header, const char *etag)
{
	/* a list of entity tags, or "*" (RFC 7232 §3.1) */
	if (strcmp(header, "*") == 0)
		return true;
	const char *bare = etag + 2; /* without W/ */
	for (const char *p = header; (p = strstr(p, bare)) != NULL; p++) {
		bool start_ok = p == header || p[-1] == '/' || p[-1] == ' ' || p[-1] == ',';
		const char *end = p + strlen(bare);
		bool end_ok = *end == '\0' || *end == ',' || *end == ' ';
		if (start_ok && end_ok)
			return true;
	}
	return false;
}

ts_err ts__scim_check_if_match(struct ts__scim_call *call, int64_t version, struct ts_error *e)
{
	const char *h = ts_http_header(call->req, "if-match");
	if (h == NULL)
		return TS_ERR_OK;
	if (etag_listed(h, ts__scim_etag(call, version)))
		return TS_ERR_OK;
	return ts__scim_err(call, e, TS_ERR_PRECONDITION, NULL,
	                    "the resource has changed: its version is not %s", h);
}

void ts__scim_answer_resource(struct ts__scim_call *call, int status, json_t *res, int64_t version,
                              const char *core)
{
	json_t *meta = json_object_get(res, "meta");
	if (status == 201 && meta != NULL)
		call->location = ts_arena_strdup(call->a, ts_json_str(meta, "location"));
	if (!call->strict)
		call->etag = ts__scim_etag(call, version);
	ts__scim_attrs_apply(call, res, core);
	call->status = status;
	call->response = res;
}

/* ---- routes ---------------------------------------------------------------- */

#define P "/scim/v2"
/* TS_HTTP_REFUSALS: a write refused for its encoding is still authenticated and audited */
#define ROUTE(m, path, op)                                                 \
	{                                                                  \
		m, P path, scim_handle, TS_HTTP_REFUSALS, &op, "scim:" #op \
	}
static const struct ts_http_route routes[] = {
        ROUTE("GET", "/Users", ts__scim_list_users),
        ROUTE("POST", "/Users", ts__scim_create_user),
        ROUTE("POST", "/Users/.search", ts__scim_search_users),
        ROUTE("GET", "/Users/{}", ts__scim_get_user),
        ROUTE("PUT", "/Users/{}", ts__scim_replace_user),
        ROUTE("PATCH", "/Users/{}", ts__scim_patch_user),
        ROUTE("DELETE", "/Users/{}", ts__scim_delete_user),
        ROUTE("GET", "/Groups", ts__scim_list_groups),
        ROUTE("POST", "/Groups", ts__scim_create_group),
        ROUTE("POST", "/Groups/.search", ts__scim_search_groups),
        ROUTE("GET", "/Groups/{}", ts__scim_get_group),
        ROUTE("PUT", "/Groups/{}", ts__scim_replace_group),
        ROUTE("PATCH", "/Groups/{}", ts__scim_patch_group),
        ROUTE("DELETE", "/Groups/{}", ts__scim_delete_group),
        ROUTE("GET", "/ServiceProviderConfig", ts__scim_service_provider_config),
        ROUTE("GET", "/ResourceTypes", ts__scim_resource_types),
        ROUTE("GET", "/ResourceTypes/{}", ts__scim_resource_type),
        ROUTE("GET", "/Schemas", ts__scim_schemas),
        ROUTE("GET", "/Schemas/{}", ts__scim_schema),
        {"POST", P "/Bulk", not_implemented, TS_HTTP_INLINE, NULL, "scim:Bulk"},
        {"GET", P "/Me", not_implemented, TS_HTTP_INLINE, NULL, "scim:Me"},
        {"POST", P "/.search", not_implemented, TS_HTTP_INLINE, NULL, "scim:RootSearch"},
};

static const struct ts_http_surface surface = {P, ts_scim_error, NULL};

struct ts_http_module ts_scim_module(struct ts_scim_config *cfg)
{
	return (struct ts_http_module){.name = "scim",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0]),
	                               .surface = &surface,
	                               .slot = &scim_slot,
	                               .config = cfg};
}
