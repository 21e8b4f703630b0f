/*
 * The audit chain. Each event stores the hash of the one before it and its
 * own hash over (previous hash, body); the head row names the last event so
 * that removing events at the end is as visible as changing one in the
 * middle. The head row is locked for the length of the writer's transaction,
 * which orders appends across nodes sharing one PostgreSQL.
 */
#include <pthread.h>
#include <string.h>

#include "core/blocking.h"
#include "core/crypto.h"
#include "store/internal.h"

void ts_store_audit_hash(const char *prev_hash, const char *body, char out[65])
{
	const void *parts[] = {prev_hash, "\n", body};
	const size_t lens[] = {strlen(prev_hash), 1, strlen(body)};
	ts_sha256_hex_parts(3, parts, lens, out);
}

static ts_err head(ts_store_conn_t *c, enum ts__store_query q, ts_arena_t *arena, int64_t *seq,
                   const char **hash, struct ts_error *e)
{
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, NULL, 0, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r)) {
		*seq = ts__rows_int(c, r, 0);
		*hash = ts__rows_str(c, r, 1, arena);
	} else {
		rc = TS_FAIL(e, TS_ERR_STORE, "the audit head row is missing");
	}
	ts__rows_close(c, &r);
	return rc;
}

ts_err ts_store_audit_head(ts_store_conn_t *c, ts_arena_t *arena, int64_t *seq, const char **hash,
                           struct ts_error *e)
{
	return head(c, TS__Q_AUDIT_HEAD, arena, seq, hash, e);
}

/* Links r after (*seq, *prev), stores it, and makes it the new (*seq, *prev). */
static ts_err link_insert(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                          int64_t *seq, const char **prev, struct ts_error *e)
{
	char *hash = ts_arena_alloc(arena, TS_SHA256_HEX_LEN + 1);
	ts_store_audit_hash(*prev, r->body, hash);
	r->seq = *seq + 1;
	r->prev_hash = *prev;
	r->hash = hash;
	struct ts__param p[] = {TS__INT(r->seq),           TS__TEXT(r->event_id),
	                        TS__INT(r->event_time_ms), TS__TEXT(r->event_name),
	                        TS__TEXT(r->account_id),   TS__TEXT(r->body),
	                        TS__TEXT(*prev),           TS__TEXT(hash)};
	ts_err rc = ts__store_write(c, TS__Q_AUDIT_INSERT, p, 8, NULL, e);
	if (rc == TS_ERR_OK) {
		*seq = r->seq;
		*prev = hash;
	}
	return rc;
}

static ts_err head_move(ts_store_conn_t *c, int64_t seq, const char *hash, struct ts_error *e)
{
	struct ts__param h[] = {TS__INT(seq), TS__TEXT(hash)};
	return ts__store_write(c, TS__Q_AUDIT_HEAD_MOVE, h, 2, NULL, e);
}

ts_err ts_store_audit_append(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                             struct ts_error *e)
{
	if (!c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "audit append outside a transaction");
	int64_t seq = 0;
	const char *prev = NULL;
	ts_err rc = head(c, TS__Q_AUDIT_HEAD_LOCK, arena, &seq, &prev, e);
	if (rc == TS_ERR_OK)
		rc = link_insert(c, arena, r, &seq, &prev, e);
	if (rc == TS_ERR_OK)
		rc = head_move(c, seq, prev, e);
	return rc;
}

static void read_event(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a,
                       struct ts_audit_record *ev)
{
	ev->seq = ts__rows_int(c, r, 0);
	ev->event_id = ts__rows_str(c, r, 1, a);
	ev->event_time_ms = ts__rows_int(c, r, 2);
	ev->event_name = ts__rows_str(c, r, 3, a);
	ev->account_id = ts__rows_str(c, r, 4, a);
	ev->body = ts__rows_str(c, r, 5, a);
	ev->prev_hash = ts__rows_str(c, r, 6, a);
	ev->hash = ts__rows_str(c, r, 7, a);
}

static ts_err collect(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p, int np,
                      int limit, ts_arena_t *arena, struct ts_audit_record **out, int *n,
                      struct ts_error *e)
{
	*out = NULL;
	*n = 0;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_audit_record *list = ts_arena_alloc(arena, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r))
		read_event(c, r, arena, &list[count++]);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

ts_err ts_store_audit_list(ts_store_conn_t *c, ts_arena_t *arena, const struct ts_audit_filter *f,
                           struct ts_audit_record **out, int *n, struct ts_error *e)
{
	int limit = (f->limit <= 0 || f->limit > TS_STORE_PAGE_MAX) ? TS_STORE_PAGE_MAX : f->limit;
	struct ts__param p[] = {TS__INT(f->before_seq > 0 ? f->before_seq : INT64_MAX),
	                        TS__TEXT(f->event_name ? f->event_name : ""),
	                        TS__INT(f->start_ms > 0 ? f->start_ms : 0),
	                        TS__INT(f->end_ms > 0 ? f->end_ms : INT64_MAX), TS__INT(limit)};
	return collect(c, TS__Q_AUDIT_LIST, p, 5, limit, arena, out, n, e);
}

ts_err ts_store_audit_walk(ts_store_conn_t *c, ts_arena_t *arena, int64_t after_seq, int limit,
                           struct ts_audit_record **out, int *n, struct ts_error *e)
{
	if (limit <= 0 || limit > TS_STORE_PAGE_MAX)
		limit = TS_STORE_PAGE_MAX;
	struct ts__param p[] = {TS__INT(after_seq), TS__INT(limit)};
	return collect(c, TS__Q_AUDIT_WALK, p, 2, limit, arena, out, n, e);
}

/* ---- the audit writer ---------------------------------------------------- */

#define BATCH_MAX 512 /* events in one commit at most */

/*
 * One transaction for a batch of events: the chain head is read once and
 * moved once, and each page the batch touches is written to the WAL once,
 * whatever the batch's size.
 */
static ts_err commit_batch(ts_store_conn_t *c, struct ts_store_audit_job *batch, struct ts_error *e)
{
	int64_t seq = 0;
	const char *prev = NULL;
	ts_err rc = ts_store_begin(c, true, e);
	if (rc == TS_ERR_OK)
		rc = head(c, TS__Q_AUDIT_HEAD_LOCK, batch->arena, &seq, &prev, e);
	for (struct ts_store_audit_job *j = batch; rc == TS_ERR_OK && j; j = j->next)
		rc = link_insert(c, j->arena, j->record, &seq, &prev, e);
	if (rc == TS_ERR_OK)
		rc = head_move(c, seq, prev, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	else if (c->in_tx)
		ts_store_rollback(c);
	return rc;
}

/*
 * The writer thread takes whatever has queued up while it committed the
 * previous batch: under load a batch holds about as many events as there are
 * requests in flight, and nobody waits on a timer for it to fill.
 */
static void *audit_writer(void *arg)
{
	ts_store_t *s = arg;
	ts_store_conn_t *c = NULL;
	pthread_mutex_lock(&s->audit_mu);
	for (;;) {
		while (s->audit_head == NULL && !s->audit_stop)
			pthread_cond_wait(&s->audit_cv, &s->audit_mu);
		struct ts_store_audit_job *batch = s->audit_head, *last = batch;
		if (batch == NULL)
			break; /* stopping, and nothing is left */
		for (int n = 1; n < BATCH_MAX && last->next; n++)
			last = last->next;
		s->audit_head = last->next;
		if (s->audit_head == NULL)
			s->audit_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->audit_mu);

		struct ts_error e = {0};
		ts_err rc = c != NULL ? TS_ERR_OK : ts_store_connect(s, &c, &e);
		if (rc == TS_ERR_OK)
			rc = commit_batch(c, batch, &e);
		if (rc == TS_ERR_UNAVAILABLE)
			ts_store_disconnect(&c); /* the next batch connects afresh */
		for (struct ts_store_audit_job *j = batch, *next; j; j = next) {
			next = j->next; /* done() may free j */
			j->done(j->ctx, rc, &e);
		}
		pthread_mutex_lock(&s->audit_mu);
	}
	pthread_mutex_unlock(&s->audit_mu);
	ts_store_disconnect(&c);
	return NULL;
}

void ts_store_audit_submit(ts_store_conn_t *c, struct ts_store_audit_job *job)
{
	ts_store_t *s = c->store;
	job->next = NULL;
	pthread_mutex_lock(&s->audit_mu);
	if (!s->audit_running && !s->audit_stop)
		s->audit_running = pthread_create(&s->audit_tid, NULL, audit_writer, s) == 0;
	if (!s->audit_running || s->audit_stop) { /* nobody would commit it */
		const char *why = s->audit_stop ? "the store is closing"
		                                : "the audit writer thread could not start";
		pthread_mutex_unlock(&s->audit_mu);
		struct ts_error e = {0};
		job->done(job->ctx, TS_FAIL(&e, TS_ERR_UNAVAILABLE, "%s", why), &e);
		return;
	}
	if (s->audit_tail)
		s->audit_tail->next = job;
	else
		s->audit_head = job;
	s->audit_tail = job;
	pthread_cond_signal(&s->audit_cv);
	pthread_mutex_unlock(&s->audit_mu);
}

void ts__store_audit_writer_stop(ts_store_t *s)
{
	pthread_mutex_lock(&s->audit_mu);
	bool running = s->audit_running;
	s->audit_stop = true;
	pthread_cond_signal(&s->audit_cv);
	pthread_mutex_unlock(&s->audit_mu);
	if (running)
		pthread_join(s->audit_tid, NULL); /* it commits what is queued first */
}

struct sync_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	ts_err rc;
	struct ts_error err;
};

static void sync_done(void *ctx, ts_err rc, const struct ts_error *e)
{
	struct sync_wait *w = ctx;
	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	if (rc != TS_ERR_OK)
		w->err = *e;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

ts_err ts_store_audit_append_now(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                                 struct ts_error *e)
{
	if (c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "grouped audit append inside a transaction");
	struct sync_wait w = {.rc = TS_ERR_OK};
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	struct ts_store_audit_job job = {.record = r, .arena = arena, .done = sync_done, .ctx = &w};
	ts_store_audit_submit(c, &job);
	ts_blocking_begin();
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	ts_blocking_end();
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	if (w.rc != TS_ERR_OK && e != NULL)
		*e = w.err;
	return w.rc;
}
