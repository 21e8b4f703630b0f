/*
 * Audit events: one per admin call, SCIM write and sign-in decision, in the
 * CloudTrail event shape (docs/audit.md), built here, appended in the caller's
 * transaction and sealed into the chain later (chain.h, sealer.h). Every
 * writer (the admin API, SCIM, the CLI, the domain verifier, and the sign-in
 * protocols) fills a struct ts_audit_entry; no HTTP here: answering a
 * request once its event is committed is http/audit.h's.
 */
#ifndef TS_AUDIT_EVENT_H
#define TS_AUDIT_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "audit/redact.h"
#include "core/jsonw.h"
#include "store/store.h"

#define TS_AUDIT_EVENT_VERSION "1.05"
#define TS_AUDIT_SOURCE_ADMIN "admin.tessera"
#define TS_AUDIT_SOURCE_SCIM "scim.tessera"
/*
 * Sign-in decisions (docs/product.md §9: every one writes an event), whichever protocol
 * asked: SAML, OpenID Connect, the device flow. The protocol and the rule
 * results travel in the event's parameters, never which check failed to the
 * browser (STYLE.md, Errors).
 */
#define TS_AUDIT_SOURCE_SIGNIN "signin.tessera"
/* The eventName of a sign-in decision, allowed or refused (errorCode says which). */
#define TS_AUDIT_EVENT_SIGNIN "SignIn"
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

/*
 * Builds the event's record (its body redacted, ts_audit_redact_write) in
 * a, for a caller that appends it itself (ts_store_audit_submit).
 */
void ts_audit_record_build(ts_arena_t *a, const struct ts_audit_entry *entry,
                           struct ts_audit_record *out);

/* Builds the event and appends it (pending, sealed later); needs an open write transaction. */
TS_MUST_USE ts_err ts_audit_append(ts_store_conn_t *c, ts_arena_t *a,
                                   const struct ts_audit_entry *entry, struct ts_error *e);

#endif
