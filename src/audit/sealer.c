/*
 * The sealer thread. It wakes every TS_AUDIT_SEAL_INTERVAL_MS: events are
 * "not sealed yet" for about that long under normal load, and a round costs
 * one write transaction whatever the number of events in it. Failures are
 * logged once until the next success, so that a store that is down does not
 * fill the log four times a second.
 */
#include "audit/sealer.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "store/secrets.h"

#define NS_PER_MS 1000000L
#define NS_PER_S 1000000000L

struct ts_audit_sealer {
	ts_store_t *store;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void log_round(const struct ts_audit_seal_result *r)
{
	if (r->refused > 0)
		ts_log(TS_LOG_ERROR,
		       "audit events refused by the sealer: their MAC is wrong (forged or edited) "
		       "or the event is gone",
		       json_pack("{s:I, s:i}", "seq", (json_int_t)r->first_refused, "count",
		                 r->refused));
	if (r->sealed > 0)
		ts_log(TS_LOG_INFO, "audit checkpoint",
		       json_pack("{s:I, s:s, s:I, s:I, s:i}", "seq", (json_int_t)r->point.chain_seq,
		                 "hash", r->point.hash, "time_ms", (json_int_t)r->point.time_ms,
		                 "event_seq", (json_int_t)r->last_event_seq, "events", r->sealed));
}

ts_err ts_audit_seal_pending(ts_store_conn_t *c, bool log, int64_t *sealed, struct ts_error *e)
{
	ts_err rc = TS_ERR_OK;
	if (sealed != NULL)
		*sealed = 0;
	for (;;) {
		ts_arena_t *a = ts_arena_new();
		struct ts_audit_seal_result r;
		rc = ts_store_audit_seal(c, a, TS_AUDIT_SEAL_BATCH, ts_now_ms(), &r, e);
		if (rc == TS_ERR_OK && log)
			log_round(&r);
		if (rc == TS_ERR_OK && sealed != NULL)
			*sealed += r.sealed;
		ts_arena_free(&a);
		/* a full batch: more may be waiting */
		if (rc != TS_ERR_OK || r.skipped || r.sealed + r.refused < TS_AUDIT_SEAL_BATCH)
			return rc;
	}
}

static void deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += ms * NS_PER_MS;
	ts->tv_sec += ts->tv_nsec / NS_PER_S;
	ts->tv_nsec %= NS_PER_S;
}

static void *run(void *arg)
{
	ts_audit_sealer_t *s = arg;
	ts_store_conn_t *c = NULL;
	bool failing = false;
	bool last = false;
	while (!last) {
		pthread_mutex_lock(&s->mu);
		struct timespec until;
		deadline(&until, TS_AUDIT_SEAL_INTERVAL_MS);
		while (!s->stop) {
			if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
				break;
		}
		last = s->stop; /* one more round after the stop: seal what is left */
		pthread_mutex_unlock(&s->mu);
		if (ts_store_audit_key_stale(s->store))
			continue; /* the master key was rotated: logged once, nothing to do */
		struct ts_error e = {0};
		ts_err rc = c != NULL ? TS_ERR_OK : ts_store_connect(s->store, &c, &e);
		if (rc == TS_ERR_OK)
			rc = ts_audit_seal_pending(c, true, NULL, &e);
		if (rc != TS_ERR_OK && !failing)
			ts_log(TS_LOG_ERROR, "audit sealing failed",
			       json_pack("{s:s}", "error", e.message));
		failing = rc != TS_ERR_OK;
		if (rc == TS_ERR_UNAVAILABLE || rc == TS_ERR_STORE)
			ts_store_disconnect(&c); /* the next round connects afresh */
	}
	ts_store_disconnect(&c);
	return NULL;
}

ts_err ts_audit_sealer_start(ts_store_t *store, ts_audit_sealer_t **out, struct ts_error *e)
{
	ts_audit_sealer_t *s = ts_calloc(1, sizeof *s);
	s->store = store;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&s->tid, NULL, run, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		ts_free(s);
		*out = NULL;
		return TS_FAIL(e, TS_ERR_INTERNAL, "cannot start the audit sealer thread");
	}
	*out = s;
	return TS_ERR_OK;
}

void ts_audit_sealer_stop(ts_audit_sealer_t **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	ts_audit_sealer_t *s = *sp;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->tid, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	ts_free(s);
	*sp = NULL;
}
