/*
 * This node's heartbeat in the store (store/nodes.h) and what it feeds: the
 * SCIM rate limit's share (core/throttle.h). A thread of its own beats every
 * TS_APP_NODE_BEAT_MS on its own store connection; a node that has not been
 * seen for TS_APP_NODE_LIVE_MS (three beats) is no longer counted, so when a
 * node dies the survivors take back its share within a few seconds. When the
 * store is unreachable the last share stands.
 */
#ifndef TS_APP_NODES_H
#define TS_APP_NODES_H

#include "app/app.h"

#define TS_APP_NODE_BEAT_MS 2000
#define TS_APP_NODE_LIVE_MS (3 * TS_APP_NODE_BEAT_MS)

typedef struct ts_app_nodes ts_app_nodes_t;

/* Starts the heartbeat of app's store for app's SCIM throttle; free with ts_app_nodes_stop. */
ts_app_nodes_t *ts_app_nodes_start(struct ts_app *app);
/* Stops the thread, removes this node's row (best effort) and frees *n; NULL is fine. */
void ts_app_nodes_stop(ts_app_nodes_t **n);
/* Live nodes at the last beat (1 before the first one or when n is NULL). */
int ts_app_nodes_live(const ts_app_nodes_t *n);

#endif
