/*
 * The request pipeline every API surface runs (the admin API, SCIM, and the
 * protocols that follow), so that none keeps its own copy of the steps:
 *
 *   connection -> begin (authenticate, parse, open the run's transaction)
 *   -> run -> audit: in the write transaction that makes the change, or,
 *   for a read or a refusal, after it (the answer waits for the event's
 *   commit, http/audit.h) -> commit -> answer or refuse.
 *
 * A transaction the store refused for another's sake, or that lost its
 * connection before COMMIT, runs again from the start, a few times at most
 * (ts_store_tx_retry); when the budget is spent the answer is the surface's
 * 503 with Retry-After. Nothing was stored and nothing answered before a
 * pass starts over.
 *
 * A surface gives its hooks (struct ts_api_surface: how it authenticates,
 * renders an answer and an error, which audit eventSource it writes) and
 * describes each endpoint by a descriptor in a table (its op), which its
 * run hook dispatches on; see src/admin/api.c and src/scim/api.c.
 */
#ifndef TS_API_API_H
#define TS_API_API_H

#include <stdbool.h>

#include "audit/event.h"
#include "core/error.h"
#include "http/audit.h"
#include "http/http.h"

/* What a hook decided beyond its outcome. */
enum ts_api_flow {
	TS_API_GO_ON,    /* the pipeline carries on with the outcome */
	TS_API_AGAIN,    /* start a new pass: nothing was stored nor answered */
	TS_API_ANSWERED, /* res holds the answer (or it is deferred): the call is over */
};

struct ts_api_call {
	struct ts_http_req *req;
	struct ts_http_res *res;
	ts_store_conn_t *conn;
	const void *op;    /* the surface's descriptor of the endpoint (route data) */
	void *own;         /* the surface's call state, reset by its start hook each pass */
	bool write;        /* a success commits a change: its event joins that transaction */
	int pass;          /* 0 first; counts the passes started over */
	int store_attempt; /* passes the store refused (ts_store_tx_retry) */
	enum ts_api_flow flow;
};

struct ts_api_surface {
	/* the audit eventSource of its events (audit/event.h TS_AUDIT_SOURCE_*) */
	const char *event_source;
	/* Resets call->own for a new pass and sets call->write; call->conn is open. */
	void (*start)(struct ts_api_call *call);
	/*
	 * Authenticates, reads the request and opens the transaction run needs.
	 * Returns the outcome so far (a refusal is audited and answered as
	 * run's would be), or sets call->flow (ts_api_store_failed does).
	 */
	ts_err (*begin)(struct ts_api_call *call, struct ts_error *e);
	/* The endpoint's work, in the open transaction. */
	ts_err (*run)(struct ts_api_call *call, struct ts_error *e);
	/* May be NULL. True when run failed only because it must start over. */
	bool (*again)(struct ts_api_call *call, ts_err rc);
	/*
	 * Fills the event of the outcome: who, what, parameters, response,
	 * error; the pipeline then sets its eventSource and the request's fields
	 * (address, user agent, request ids). False when this outcome is not
	 * audited.
	 */
	bool (*audit)(struct ts_api_call *call, ts_err outcome, const struct ts_error *e,
	              struct ts_audit_entry *entry);
	/* Writes a success's answer (after the commit). */
	void (*answer)(struct ts_api_call *call);
	/* Writes a refusal's answer in the surface's shape. */
	void (*refuse)(struct ts_api_call *call, ts_err outcome, const struct ts_error *e);
	/* Drops the answer a pass was building (before another pass or a failure). */
	void (*discard)(struct ts_api_call *call);
	/* Logs a store failure and answers it (503 with Retry-After, or 500). */
	void (*store_failure)(struct ts_api_call *call, ts_err rc, const struct ts_error *e);
	/* Answers when a refusal's or read's event could not be committed. */
	ts_http_audit_fail_fn audit_failed;
};

/*
 * Runs op for req on the surface. own is the surface's call state (on the
 * handler's stack), handed to its hooks as call->own. When the call ends,
 * res holds the answer, or the answer is deferred until its audit event is
 * committed (req and res are then no longer the caller's).
 */
void ts_api_handle(const struct ts_api_surface *surface, const void *op, void *own,
                   struct ts_http_req *req, struct ts_http_res *res);

/*
 * For a hook whose store operation failed with rc: rolls back, and either
 * asks for another pass (ts_store_tx_retry) or answers the failure; sets
 * call->flow and returns rc.
 */
ts_err ts_api_store_failed(struct ts_api_call *call, ts_err rc, const struct ts_error *e);

#endif
