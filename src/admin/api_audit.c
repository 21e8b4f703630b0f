/* Admin API: reading the audit trail (CloudTrail's LookupEvents). */
#include <stdlib.h>
#include <string.h>

#include "admin/internal.h"
#include "core/json.h"
#include "core/timeutil.h"

/* start/end: RFC 3339 or seconds since the epoch. */
static ts_err time_arg(struct ts__admin_call *call, const char *name, int64_t *ms,
                       struct ts_error *e)
{
	const char *v = ts_http_query(call->req, name);
	*ms = 0;
	if (v == NULL || v[0] == '\0')
		return TS_ERR_OK;
	if (ts_time_parse(v, ms))
		return TS_ERR_OK;
	char *end = NULL;
	long long s = strtoll(v, &end, 10);
	if (*end == '\0' && s >= 0 && s < 100000000000LL) {
		*ms = (int64_t)s * 1000;
		return TS_ERR_OK;
	}
	return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be an RFC 3339 time or epoch seconds", name);
}

static ts_err lookup_events(struct ts__admin_call *call, struct ts_error *e)
{
	int limit = 0;
	const char *after = NULL;
	ts_err rc = ts__admin_paging(call, 50, TS__ADMIN_AUDIT_PAGE_MAX, &limit, &after, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_audit_filter f = {.limit = limit};
	f.event_name = ts_http_query(call->req, "eventName");
	if (f.event_name != NULL && f.event_name[0] == '\0')
		f.event_name = NULL;
	if ((rc = time_arg(call, "start", &f.start_ms, e)) != TS_ERR_OK ||
	    (rc = time_arg(call, "end", &f.end_ms, e)) != TS_ERR_OK)
		return rc;
	if (after != NULL) {
		char *end = NULL;
		f.before_seq = strtoll(after, &end, 10);
		if (*end != '\0' || f.before_seq <= 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "next-token is not valid");
	}
	struct ts_audit_record *evs = NULL;
	int n = 0;
	rc = ts_store_audit_list(call->conn, call->a, &f, &evs, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		json_t *ev = json_loads(evs[i].body, 0, NULL);
		if (ev == NULL)
			continue;
		json_object_set_new(ev, "eventHash", json_string(evs[i].hash));
		json_array_append_new(arr, ev);
	}
	call->response = json_pack("{s:o}", "Events", arr);
	if (n == limit) {
		const char *pos = ts_arena_printf(call->a, "%lld", (long long)evs[n - 1].seq);
		json_object_set_new(call->response, "NextToken",
		                    json_string(ts__admin_next_token(call, pos)));
	}
	return TS_ERR_OK;
}

const struct ts__admin_op ts__admin_lookup_events = {
        "tessera:LookupEvents", "LookupEvents", TS__RES_ANY, true, false, lookup_events};
