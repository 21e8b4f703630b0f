/*
 * The node heartbeat thread (app/nodes.h). It writes one row every
 * TS_APP_NODE_BEAT_MS whatever the load: the cluster-wide rate limit costs
 * the store a write per node per beat, never one per request.
 */
#include "app/nodes.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/throttle.h"

#define NS_PER_MS 1000000LL

struct ts_app_nodes {
	struct ts_app *app;
	char node_id[TS_UUID_LEN + 1];
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	atomic_int live;
};

static void *beat_loop(void *arg)
{
	ts_app_nodes_t *n = arg;
	ts_store_conn_t *conn = NULL;
	bool failing = false;
	pthread_mutex_lock(&n->mu);
	while (!n->stop) {
		pthread_mutex_unlock(&n->mu);
		struct ts_error e = {0};
		int64_t now = ts_now_ms(), live = 0;
		ts_err rc = conn != NULL ? TS_ERR_OK : ts_store_connect(n->app->store, &conn, &e);
		if (rc == TS_ERR_OK)
			rc = ts_store_node_beat(conn, n->node_id, now, now - TS_APP_NODE_LIVE_MS,
			                        &live, &e);
		if (rc == TS_ERR_OK && live >= 1) {
			if (live != atomic_load(&n->live) || failing)
				ts_log(TS_LOG_INFO, "nodes",
				       json_pack("{s:s, s:I}", "node_id", n->node_id, "live",
				                 (json_int_t)live));
			atomic_store(&n->live, (int)live);
			ts_throttle_share(n->app->scim_throttle, (unsigned)live);
			ts_throttle_share(n->app->signin_throttle, (unsigned)live);
			failing = false;
		} else if (rc != TS_ERR_OK) {
			/* the last share stands; a new connection next time */
			if (!failing)
				ts_log(TS_LOG_WARN, "node heartbeat failed",
				       json_pack("{s:s, s:s}", "node_id", n->node_id, "error",
				                 e.message));
			failing = true;
			ts_store_disconnect(&conn);
		}
		pthread_mutex_lock(&n->mu);
		struct timespec until =
		        ts_deadline(CLOCK_MONOTONIC, TS_APP_NODE_BEAT_MS * NS_PER_MS);
		while (!n->stop && pthread_cond_timedwait(&n->cv, &n->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&n->mu);
	struct ts_error e = {0};
	if (conn != NULL && ts_store_node_leave(conn, n->node_id, &e) != TS_ERR_OK)
		ts_log(TS_LOG_WARN, "node leave failed", json_pack("{s:s}", "error", e.message));
	ts_store_disconnect(&conn);
	return NULL;
}

ts_app_nodes_t *ts_app_nodes_start(struct ts_app *app)
{
	ts_app_nodes_t *n = ts_calloc(1, sizeof *n);
	n->app = app;
	ts_uuid_v4(n->node_id);
	atomic_store(&n->live, 1);
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_create(&n->tid, NULL, beat_loop, n);
	return n;
}

void ts_app_nodes_stop(ts_app_nodes_t **np)
{
	if (np == NULL || *np == NULL)
		return;
	ts_app_nodes_t *n = *np;
	pthread_mutex_lock(&n->mu);
	n->stop = true;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->tid, NULL);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	TS_FREE(np);
}

int ts_app_nodes_live(const ts_app_nodes_t *n)
{
	return n != NULL ? atomic_load(&((ts_app_nodes_t *)n)->live) : 1;
}
