/*
 * Answering once the audit event is committed (http/audit.h): the request is
 * deferred, its event goes to the store's audit writer, and the writer's
 * thread resumes the request when the commit is done.
 */
#include "http/audit.h"

struct deferred_answer {
	struct ts_store_audit_job job;
	struct ts_audit_record record;
	struct ts_http_req *req;
	struct ts_http_res *res;
	struct ts_http_deferred *later;
	ts_http_audit_fail_fn on_fail;
};

/* On the audit writer's thread: the request is this thread's until resumed. */
static void answer_when_committed(void *ctx, ts_err rc, const struct ts_error *e)
{
	struct deferred_answer *da = ctx;
	if (rc != TS_ERR_OK) {
		*da->res = (struct ts_http_res){0}; /* the prepared answer goes, headers too */
		da->on_fail(da->req, da->res, rc, e);
	}
	ts_http_resume(da->later);
}

void ts_http_audit_then_answer(ts_store_conn_t *c, struct ts_http_req *req, struct ts_http_res *res,
                               const struct ts_audit_entry *en, ts_http_audit_fail_fn on_fail)
{
	struct deferred_answer *da = ts_arena_alloc(req->arena, sizeof *da);
	*da = (struct deferred_answer){.req = req, .res = res, .on_fail = on_fail};
	ts_audit_record_build(req->arena, en, &da->record);
	da->later = ts_http_defer(req);
	if (da->later == NULL) {
		struct ts_error e = {0};
		ts_err rc = ts_store_audit_append_now(c, req->arena, &da->record, &e);
		if (rc != TS_ERR_OK) {
			*res = (struct ts_http_res){0};
			on_fail(req, res, rc, &e);
		}
		return;
	}
	da->job = (struct ts_store_audit_job){.record = &da->record,
	                                      .arena = req->arena,
	                                      .done = answer_when_committed,
	                                      .ctx = da};
	ts_store_audit_submit(c, &da->job);
}
