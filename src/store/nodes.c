/* The node heartbeat rows (store/nodes.h). */
#include "store/internal.h"

ts_err ts_store_node_beat(ts_store_conn_t *c, const char *node_id, int64_t now_ms,
                          int64_t live_since_ms, int64_t *live, struct ts_error *e)
{
	struct ts__rows *r = NULL;
	*live = 0;
	ts_err rc = ts_store_begin(c, true, e);
	if (rc != TS_ERR_OK)
		goto out;
	struct ts__param beat[] = {TS__TEXT(node_id), TS__INT(now_ms)};
	struct ts__param forget[] = {TS__INT(now_ms - TS_STORE_NODE_FORGET_MS)};
	struct ts__param since[] = {TS__INT(live_since_ms)};
	rc = ts__store_write(c, TS__Q_NODE_BEAT, beat, TS__NPARAMS(beat), NULL, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_NODE_FORGET, forget, TS__NPARAMS(forget), NULL, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_exec(c, TS__Q_NODE_LIVE, since, TS__NPARAMS(since), &r, e);
	if (rc != TS_ERR_OK)
		goto out;
	if (ts__rows_next(c, r))
		*live = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	rc = ts_store_commit(c, e);
out:
	ts__rows_close(c, &r);
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}

ts_err ts_store_node_leave(ts_store_conn_t *c, const char *node_id, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(node_id)};
	ts_err rc = ts_store_begin(c, true, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_NODE_LEAVE, p, TS__NPARAMS(p), NULL, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}
