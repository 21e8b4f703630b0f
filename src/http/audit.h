/*
 * Answering a request once its audit event is committed: the HTTP side of
 * the audit trail (the events themselves are audit/event.h's, which knows
 * no HTTP). A read or a refused call changes nothing, so its event joins the
 * store's group commit, and the worker goes on to the next request while
 * the answer waits for that commit (ts_http_defer).
 */
#ifndef TS_HTTP_AUDIT_H
#define TS_HTTP_AUDIT_H

#include "audit/event.h"
#include "http/http.h"

/*
 * For a call that changed nothing (a read, or a refused call): builds the
 * event and hands it to the store's audit writer, to be committed with
 * whatever else is queued; the answer already in res goes out once the event
 * is committed, or, when the append fails, the answer on_fail writes into res
 * instead. The worker does not wait (ts_http_defer); where the request cannot
 * be deferred this thread waits for the commit. Call outside a transaction,
 * as the handler's last step: req and res are no longer the caller's after it.
 */
typedef void (*ts_http_audit_fail_fn)(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                                      const struct ts_error *e);
void ts_http_audit_then_answer(ts_store_conn_t *c, struct ts_http_req *req, struct ts_http_res *res,
                               const struct ts_audit_entry *entry, ts_http_audit_fail_fn on_fail);

#endif
