/*
 * The nodes serving from one store (docs/product.md §2a): each running
 * `tessera serve` keeps a row alive with a heartbeat every few seconds, so
 * that a node knows how many peers share the cluster-wide budgets (the SCIM
 * rate limit is split between the live nodes) without a store write per
 * request. A node that stops cleanly removes its row; one that dies stops
 * beating and is no longer counted once its row is older than the caller's
 * liveness window. Included by store.h.
 */
#ifndef TS_STORE_NODES_H
#define TS_STORE_NODES_H

#include <stdint.h>

#include "core/error.h"

/* rows not seen for this long are deleted by the next beat of any node */
#define TS_STORE_NODE_FORGET_MS (10 * 60 * 1000)

struct ts_store_conn;

/*
 * Records that node_id is alive at now_ms, forgets nodes silent for
 * TS_STORE_NODE_FORGET_MS, and sets *live to the number of nodes seen at or
 * after live_since_ms (this one included), in one write transaction of its
 * own (c must have none open).
 */
TS_MUST_USE ts_err ts_store_node_beat(struct ts_store_conn *c, const char *node_id, int64_t now_ms,
                                      int64_t live_since_ms, int64_t *live, struct ts_error *e);
/* Removes node_id's row (a clean stop), in a transaction of its own. */
TS_MUST_USE ts_err ts_store_node_leave(struct ts_store_conn *c, const char *node_id,
                                       struct ts_error *e);

#endif
