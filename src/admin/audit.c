/*
 * Audit events: building the CloudTrail-shaped record, and verifying the
 * chain. The verifier recomputes each hash from the stored previous hash and
 * body, checks that each event names its predecessor's hash and that the
 * positions have no gap, and finally that the head names the last event.
 */
#include "admin/audit.h"

#include <string.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"

#define VERIFY_PAGE 1000

static void build(ts_arena_t *a, const struct ts_audit_entry *en, struct ts_audit_record *out)
{
	char when[32], event_id[TS_UUID_LEN + 1];
	int64_t now = ts_now_ms();
	ts_time_iso(now, when);
	ts_uuid_v4(event_id);
	json_t *who = json_pack("{s:s, s:s}", "type", en->who.type, "principalId",
	                        en->who.principal_id ? en->who.principal_id : "");
	if (en->who.access_key_id)
		json_object_set_new(who, "accessKeyId", json_string(en->who.access_key_id));
	json_t *ev = ts_json_own(a, json_object());
	json_object_set_new(ev, "eventVersion", json_string(TS_AUDIT_EVENT_VERSION));
	json_object_set_new(ev, "userIdentity", who);
	json_object_set_new(ev, "eventTime", json_string(when));
	json_object_set_new(ev, "eventSource", json_string(en->event_source));
	json_object_set_new(ev, "eventName", json_string(en->event_name));
	ts_json_set_str(ev, "sourceIPAddress", en->source_ip);
	ts_json_set_str(ev, "userAgent", en->user_agent);
	if (en->error_code) {
		json_object_set_new(ev, "errorCode", json_string(en->error_code));
		ts_json_set_str(ev, "errorMessage", en->error_message);
	}
	json_object_set_new(ev, "requestParameters",
	                    en->request_parameters ? json_deep_copy(en->request_parameters)
	                                           : json_null());
	json_object_set_new(ev, "responseElements",
	                    en->response_elements ? json_deep_copy(en->response_elements)
	                                          : json_null());
	ts_json_set_str(ev, "requestID", en->request_id);
	json_object_set_new(ev, "eventID", json_string(event_id));
	json_object_set_new(ev, "readOnly", json_boolean(en->read_only));
	json_object_set_new(ev, "eventType", json_string("ApiCall"));
	if (en->account_id)
		json_object_set_new(ev, "recipientAccountId", json_string(en->account_id));
	*out = (struct ts_audit_record){
	        .event_id = ts_arena_strdup(a, event_id),
	        .event_time_ms = now,
	        .event_name = en->event_name,
	        .account_id = en->account_id,
	        .body = ts_json_dump(a, ev, NULL),
	};
}

ts_err ts_admin_audit_write(ts_store_conn_t *c, ts_arena_t *a, const struct ts_audit_entry *en,
                            struct ts_error *e)
{
	struct ts_audit_record r;
	build(a, en, &r);
	return ts_store_audit_append(c, a, &r, e);
}

ts_err ts_admin_audit_write_now(ts_store_conn_t *c, ts_arena_t *a, const struct ts_audit_entry *en,
                                struct ts_error *e)
{
	struct ts_audit_record r;
	build(a, en, &r);
	return ts_store_audit_append_now(c, a, &r, e);
}

ts_err ts_admin_audit_verify(ts_store_conn_t *c, ts_arena_t *a, struct ts_audit_verdict *out,
                             struct ts_error *e)
{
	*out = (struct ts_audit_verdict){.ok = true};
	const char *running = TS_AUDIT_GENESIS_HASH;
	int64_t expect = 1, after = 0;
	char hash[TS_SHA256_HEX_LEN + 1];
	for (;;) {
		ts_arena_t *page = ts_arena_new();
		struct ts_audit_record *evs = NULL;
		int n = 0;
		ts_err rc = ts_store_audit_walk(c, page, after, VERIFY_PAGE, &evs, &n, e);
		if (rc != TS_ERR_OK) {
			ts_arena_free(&page);
			return rc;
		}
		for (int i = 0; i < n && out->ok; i++) {
			const struct ts_audit_record *r = &evs[i];
			ts_store_audit_hash(r->prev_hash, r->body, hash);
			if (r->seq != expect) {
				out->ok = false;
				out->bad_seq = expect;
				out->bad_event = NULL;
				out->why = ts_arena_printf(
				        a, "event %lld is missing (the next stored one is %lld)",
				        (long long)expect, (long long)r->seq);
			} else if (strcmp(r->prev_hash, running) != 0) {
				out->ok = false;
				out->why = "it does not name the hash of the event before it";
			} else if (strcmp(hash, r->hash) != 0) {
				out->ok = false;
				out->why = "its content does not match its hash";
			} else {
				running = ts_arena_strdup(a, r->hash);
				expect++;
				out->events++;
				continue;
			}
			if (out->bad_seq == 0) {
				out->bad_seq = r->seq;
				out->bad_event = ts_arena_strdup(a, r->event_id);
			}
		}
		after = n > 0 ? evs[n - 1].seq : after;
		ts_arena_free(&page);
		if (!out->ok || n < VERIFY_PAGE)
			break;
	}
	if (!out->ok)
		return TS_ERR_OK;
	int64_t head_seq = 0;
	const char *head_hash = NULL;
	ts_err rc = ts_store_audit_head(c, a, &head_seq, &head_hash, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (head_seq != expect - 1 || strcmp(head_hash, running) != 0) {
		out->ok = false;
		out->bad_seq = head_seq > expect - 1 ? expect : head_seq;
		out->why = ts_arena_printf(a,
		                           "the chain head names event %lld but the last intact "
		                           "stored event is %lld: events were removed",
		                           (long long)head_seq, (long long)(expect - 1));
	}
	return TS_ERR_OK;
}
