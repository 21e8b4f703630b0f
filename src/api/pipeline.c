/* The request pipeline of the API surfaces (api/api.h). */
#include "api/api.h"

#include "core/json.h"
#include "store/store.h"

/* The surface of the call being run: hooks reach it through ts_api_store_failed. */
struct pipeline {
	struct ts_api_call call;
	const struct ts_api_surface *s;
};

ts_err ts_api_store_failed(struct ts_api_call *call, ts_err rc, const struct ts_error *e)
{
	const struct ts_api_surface *s = ((struct pipeline *)call)->s;
	if (call->conn != NULL)
		ts_store_rollback(call->conn);
	s->discard(call);
	if (call->conn != NULL && ts_store_tx_retry(call->conn, rc, &call->store_attempt)) {
		call->flow = TS_API_AGAIN;
		return rc;
	}
	s->store_failure(call, rc, e);
	call->flow = TS_API_ANSWERED;
	return rc;
}

/*
 * The outcome is known: a change commits with its event; anything else rolls
 * back, is answered, and its event (when the surface audits it) is committed
 * by the audit writer before the answer goes out.
 */
static void finish(struct pipeline *p, ts_err outcome, const struct ts_error *oe)
{
	struct ts_api_call *call = &p->call;
	struct ts_http_req *req = call->req;
	bool change = outcome == TS_ERR_OK && call->write;
	if (!change)
		ts_store_rollback(call->conn);
	struct ts_audit_entry entry = {0};
	bool audited = p->s->audit(call, outcome, oe, &entry);
	if (audited) {
		/* what every surface's events say of the request (a read not audited pays nothing)
		 */
		entry.event_source = p->s->event_source;
		entry.source_ip = req->peer;
		entry.user_agent = ts_text_escape(req->arena, ts_http_header(req, "user-agent"));
		entry.request_id = req->request_id;
		entry.client_request_id = req->client_request_id;
	}
	if (change) {
		struct ts_error e = {0};
		ts_err rc =
		        audited ? ts_audit_append(call->conn, req->arena, &entry, &e) : TS_ERR_OK;
		if (rc == TS_ERR_OK)
			rc = ts_store_commit(call->conn, &e);
		if (rc != TS_ERR_OK) {
			(void)ts_api_store_failed(call, rc, &e);
			return;
		}
	}
	if (outcome != TS_ERR_OK)
		p->s->refuse(call, outcome, oe);
	else
		p->s->answer(call);
	if (!change && audited)
		ts_http_audit_then_answer(call->conn, req, call->res, &entry, p->s->audit_failed);
	call->flow = TS_API_ANSWERED;
}

/* One pass: sets p->call.flow. */
static void pass(struct pipeline *p)
{
	struct ts_api_call *call = &p->call;
	struct ts_error e = {0};
	ts_err rc = ts_http_conn(call->req, &call->conn, &e);
	if (rc != TS_ERR_OK) {
		(void)ts_api_store_failed(call, rc, &e);
		return;
	}
	p->s->start(call);
	rc = p->s->begin(call, &e);
	if (call->flow != TS_API_GO_ON)
		return;
	if (rc == TS_ERR_OK)
		rc = p->s->run(call, &e);
	if (rc == TS_ERR_RETRY && ts_store_tx_retry(call->conn, rc, &call->store_attempt)) {
		p->s->discard(call); /* the store refused it for another's sake: nothing done yet */
		call->flow = TS_API_AGAIN;
		return;
	}
	if (rc != TS_ERR_OK && p->s->again != NULL && p->s->again(call, rc)) {
		ts_store_rollback(call->conn);
		call->flow = TS_API_AGAIN;
		return;
	}
	finish(p, rc, &e);
}

void ts_api_handle(const struct ts_api_surface *surface, const void *op, void *own,
                   struct ts_http_req *req, struct ts_http_res *res)
{
	struct pipeline p = {.call = {.req = req, .res = res, .op = op, .own = own}, .s = surface};
	for (;;) {
		p.call.flow = TS_API_GO_ON;
		pass(&p);
		if (p.call.flow != TS_API_AGAIN)
			return;
		p.call.pass++;
	}
}
