/*
 * Audit events: building the CloudTrail-shaped record and appending it (the
 * sealed chain is chain.c and sealer.c, its verifier verify.c).
 */
#include "audit/event.h"

#include <string.h>

#include "core/crypto.h"
#include "core/jsonw.h"
#include "core/timeutil.h"

#define EVENT_CAP 1024 /* bytes: a read's whole event fits without growing */

/* The userIdentity object, or nothing when a part is not valid UTF-8 (as jansson did). */
static void who(struct ts_jsonw *w, const struct ts_audit_identity *id)
{
	if (id->type == NULL)
		return;
	size_t mark = w->len;
	ts_jsonw_key(w, "userIdentity");
	ts_jsonw_lit(w, "{");
	if (!ts_jsonw_member_str(w, "type", id->type) ||
	    !ts_jsonw_member_str(w, "principalId", id->principal_id ? id->principal_id : "")) {
		w->len = mark;
		return;
	}
	if (id->access_key_id)
		(void)ts_jsonw_member_str(w, "accessKeyId", id->access_key_id);
	ts_jsonw_lit(w, "}");
}

/*
 * Writes the event text directly, in the member order and form that the
 * jansson object of earlier versions dumped to (stored bodies are hashed, and
 * readers compare members): a member whose text is not valid UTF-8 is left
 * out, as json_string() refused it. Parameters and response are redacted
 * (ts_audit_redact_write): whoever fills an entry, no secret is appended.
 */
void ts_audit_record_build(ts_arena_t *a, const struct ts_audit_entry *en,
                           struct ts_audit_record *out)
{
	char when[32], event_id[TS_UUID_LEN + 1];
	int64_t now = ts_now_ms();
	ts_time_iso(now, when);
	ts_uuid_v4(event_id);
	struct ts_jsonw w;
	ts_jsonw_init(&w, a, EVENT_CAP);
	ts_jsonw_lit(&w, "{");
	(void)ts_jsonw_member_str(&w, "eventVersion", TS_AUDIT_EVENT_VERSION);
	who(&w, &en->who);
	(void)ts_jsonw_member_str(&w, "eventTime", when);
	if (en->event_source)
		(void)ts_jsonw_member_str(&w, "eventSource", en->event_source);
	if (en->event_name)
		(void)ts_jsonw_member_str(&w, "eventName", en->event_name);
	(void)ts_jsonw_member_str(&w, "sourceIPAddress", en->source_ip);
	(void)ts_jsonw_member_str(&w, "userAgent", en->user_agent);
	if (en->error_code) {
		(void)ts_jsonw_member_str(&w, "errorCode", en->error_code);
		(void)ts_jsonw_member_str(&w, "errorMessage", en->error_message);
	}
	ts_jsonw_key(&w, "requestParameters");
	if (en->request_parameters_json)
		ts_jsonw_raw(&w, en->request_parameters_json, strlen(en->request_parameters_json));
	else if (en->request_parameters)
		ts_audit_redact_write(&w, en->request_parameters);
	else
		ts_jsonw_lit(&w, "null");
	ts_jsonw_key(&w, "responseElements");
	if (en->response_elements)
		ts_audit_redact_write(&w, en->response_elements);
	else
		ts_jsonw_lit(&w, "null");
	(void)ts_jsonw_member_str(&w, "requestID", en->request_id);
	/* the client's id beside ours: a client cannot choose the id the trail is searched by */
	if (en->client_request_id)
		(void)ts_jsonw_member_str(&w, "clientRequestID", en->client_request_id);
	(void)ts_jsonw_member_str(&w, "eventID", event_id);
	ts_jsonw_key(&w, "readOnly");
	if (en->read_only)
		ts_jsonw_lit(&w, "true");
	else
		ts_jsonw_lit(&w, "false");
	ts_jsonw_lit(&w, ",\"eventType\":\"ApiCall\"");
	if (en->account_id)
		(void)ts_jsonw_member_str(&w, "recipientAccountId", en->account_id);
	ts_jsonw_lit(&w, "}");
	*out = (struct ts_audit_record){
	        .event_id = ts_arena_strdup(a, event_id),
	        .event_time_ms = now,
	        .event_name = en->event_name,
	        .account_id = en->account_id,
	        .body = ts_jsonw_finish(&w, NULL),
	};
}

ts_err ts_audit_append(ts_store_conn_t *c, ts_arena_t *a, const struct ts_audit_entry *en,
                       struct ts_error *e)
{
	struct ts_audit_record r;
	ts_audit_record_build(a, en, &r);
	return ts_store_audit_append(c, a, &r, e);
}
