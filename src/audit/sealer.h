/*
 * The audit sealer (docs/audit.md, "Sealing"): a background thread per
 * server process that, every TS_AUDIT_SEAL_INTERVAL_MS and once more when it
 * stops, links the pending audit events into the chain in batches and ends
 * each batch with a keyed checkpoint, logged as one structured line
 * ("audit checkpoint", with seq and hash) for shipping outside the store.
 * Only one sealer works at a time per store (ts_store_audit_seal).
 */
#ifndef TS_AUDIT_SEALER_H
#define TS_AUDIT_SEALER_H

#include <stdbool.h>

#include "store/store.h"

#define TS_AUDIT_SEAL_INTERVAL_MS 250
/*
 * Events per round, one write transaction each: the rounds of an interval
 * run back to back, and the writer lock is free between them, so appends
 * (SQLite) wait for at most one round's inserts (a few milliseconds).
 */
#define TS_AUDIT_SEAL_BATCH 256

typedef struct ts_audit_sealer ts_audit_sealer_t;

/* Starts the sealer of store s (whose audit keys are set). */
TS_MUST_USE ts_err ts_audit_sealer_start(ts_store_t *s, ts_audit_sealer_t **out,
                                         struct ts_error *e);
/* Seals what is pending, stops the thread and frees it; accepts NULL. */
void ts_audit_sealer_stop(ts_audit_sealer_t **sealer);

/*
 * Seals on c until nothing is pending (rounds of TS_AUDIT_SEAL_BATCH); logs
 * each checkpoint when log is true. *sealed (may be NULL) counts the events.
 * TS_ERR_OK also when another node holds the sealing lock.
 */
TS_MUST_USE ts_err ts_audit_seal_pending(ts_store_conn_t *c, bool log, int64_t *sealed,
                                         struct ts_error *e);

#endif
