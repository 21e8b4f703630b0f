/*
 * The audit trail: one event per admin call, SCIM write and sign-in
 * decision, in the CloudTrail event shape of the seed, appended in the
 * caller's transaction and sealed into the chain later (src/audit/).
 */
#ifndef TS_ADMIN_AUDIT_H
#define TS_ADMIN_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "store/store.h"

#define TS_AUDIT_EVENT_VERSION "1.05"
#define TS_AUDIT_SOURCE_ADMIN "admin.tessera"
#define TS_AUDIT_SOURCE_SCIM "scim.tessera"
#define TS_AUDIT_SOURCE_SIGNIN "signin.tessera"
#define TS_AUDIT_SOURCE_CLI "cli.tessera"

struct ts_audit_identity {
	const char *type; /* "AdminKey", "ApiKey", "Anonymous", "LocalOperator", "User" */
	const char *principal_id;
	const char *access_key_id; /* may be NULL */
};

struct ts_audit_entry {
	struct ts_audit_identity who;
	const char *event_source;
	const char *event_name; /* the action without its prefix: "GetAccount" */
	const char *account_id; /* the account acted on; may be NULL */
	const char *source_ip;
	const char *user_agent;
	const char *request_id;
	const json_t *request_parameters; /* borrowed; may be NULL; secrets already removed */
	/* or the same already written as compact JSON text (then request_parameters is unused) */
	const char *request_parameters_json;
	const json_t *response_elements; /* borrowed; may be NULL; secrets already removed */
	const char *error_code;          /* NULL on success */
	const char *error_message;
	bool read_only;
};

/* Builds the event and appends it (pending, see src/audit/); needs an open write transaction. */
TS_MUST_USE ts_err ts_admin_audit_write(ts_store_conn_t *c, ts_arena_t *a,
                                        const struct ts_audit_entry *entry, struct ts_error *e);

/*
 * For a call that changed nothing (a read, or a refused call): builds the
 * event and hands it to the store's audit writer, to be committed with
 * whatever else is queued; the answer already in res goes out once the event
 * is committed, or, when the append fails, the answer on_fail writes into res
 * instead. The worker does not wait (ts_http_defer); where the request cannot
 * be deferred this thread waits for the commit. Call outside a transaction,
 * as the handler's last step: req and res are no longer the caller's after it.
 */
typedef void (*ts_admin_audit_fail_fn)(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                                       const struct ts_error *e);
void ts_admin_audit_then_answer(ts_store_conn_t *c, struct ts_http_req *req,
                                struct ts_http_res *res, const struct ts_audit_entry *entry,
                                ts_admin_audit_fail_fn on_fail);

#endif
