/*
 * The audit trail: one event per admin call, SCIM write and sign-in
 * decision, in the CloudTrail event shape (docs/audit.md), appended in the
 * caller's transaction and sealed into the chain later (src/audit/).
 */
#ifndef TS_ADMIN_AUDIT_H
#define TS_ADMIN_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/jsonw.h"
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
	const char *request_id; /* the server's own id for the request */
	/* the client's X-Request-Id (charset checked, capped); may be NULL */
	const char *client_request_id;
	const json_t *request_parameters; /* borrowed; may be NULL; redacted when written */
	/*
	 * or the same already written as compact JSON text (then request_parameters
	 * is unused): written with ts_audit_redact_write, as it is not swept again
	 */
	const char *request_parameters_json;
	const json_t *response_elements; /* borrowed; may be NULL; redacted when written */
	const char *error_code;          /* NULL on success */
	const char *error_message;
	bool read_only;
};

/* ---- redaction (audit_redact.c): what no audit event or log line may hold ---- */

/* What an audited or logged secret's value becomes. */
#define TS_AUDIT_REDACTED "[redacted]"
/* Characters a Tessera token's secret part has at least (the keys' have 40). */
#define TS_AUDIT_TOKEN_SECRET_MIN 16

/*
 * Whether a member named name[0..len) holds a secret: any word of the name
 * (runs of letters, digits, '_', '-') ends, without case or '_' / '-', in
 * password, secret, token, privatekey, pin, credential(s), authorization,
 * cookie, ... So "password", "PASSWORD", "urn:...:core:2.0:User:password",
 * "name.password", "client_secret", "ClientSecret", "Token" all do;
 * "NextToken" (a paging cursor) and "AccessKeyId" do not.
 */
bool ts_audit_secret_name(const char *name, size_t len);
/* Whether text reads as a credential whatever its name: "Bearer ...", "Basic ...", a token. */
bool ts_audit_secret_text(const char *s, size_t len);
/*
 * query ("a=1&access_token=x") with the value of every secret pair (a
 * secret name, or a credential as the value) written as [redacted]: query
 * itself when there is none (nothing allocated), else a copy in a.
 */
const char *ts_audit_redact_query(ts_arena_t *a, const char *query);
/*
 * Appends j to w as compact JSON with every secret's value (a secret member,
 * the `value` of an object whose `path` names a secret, a credential-shaped
 * string, the secret pairs of a "Query" member) written as "[redacted]".
 * When nothing is secret the text is byte for byte ts_jsonw_value's. One
 * pass; allocates nothing but w's growth unless a query has a secret.
 * Every audit event's parameters and response go through it.
 */
void ts_audit_redact_write(struct ts_jsonw *w, const json_t *j);
/*
 * The same in place, for a value that is not written with jsonw (log fields):
 * secrets' values become "[redacted]". A bare string j is not changed (its
 * holder must replace it). True when anything was redacted.
 */
bool ts_audit_redact(json_t *j);

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
