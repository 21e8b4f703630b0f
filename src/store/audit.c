/*
 * The audit chain. Each event stores the hash of the one before it and its
 * own hash over (previous hash, body); the head row names the last event so
 * that removing events at the end is as visible as changing one in the
 * middle. The head row is locked for the length of the writer's transaction,
 * which orders appends across nodes sharing one PostgreSQL.
 */
#include <string.h>

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

ts_err ts_store_audit_append(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                             struct ts_error *e)
{
	if (!c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "audit append outside a transaction");
	int64_t seq = 0;
	const char *prev = NULL;
	ts_err rc = head(c, TS__Q_AUDIT_HEAD_LOCK, arena, &seq, &prev, e);
	if (rc != TS_ERR_OK)
		return rc;
	char *hash = ts_arena_alloc(arena, TS_SHA256_HEX_LEN + 1);
	ts_store_audit_hash(prev, r->body, hash);
	r->seq = seq + 1;
	r->prev_hash = prev;
	r->hash = hash;
	struct ts__param p[] = {
	        TS__INT(r->seq),         TS__TEXT(r->event_id),   TS__INT(r->event_time_ms),
	        TS__TEXT(r->event_name), TS__TEXT(r->account_id), TS__TEXT(r->body),
	        TS__TEXT(prev),          TS__TEXT(hash)};
	rc = ts__store_write(c, TS__Q_AUDIT_INSERT, p, 8, NULL, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts__param h[] = {TS__INT(r->seq), TS__TEXT(hash)};
	return ts__store_write(c, TS__Q_AUDIT_HEAD_MOVE, h, 2, NULL, e);
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

/* ---- group commit ------------------------------------------------------ */

#define GROUP_MAX 256 /* events in one commit at most */

struct ts__audit_waiter {
	struct ts__audit_waiter *next;
	struct ts_audit_record *r;
	ts_arena_t *arena;
	ts_err rc;
	struct ts_error err;
	bool done;
};

/* The leader's work: one transaction for every waiter in the batch. */
static void commit_group(ts_store_conn_t *c, struct ts__audit_waiter *batch)
{
	struct ts_error e = {0};
	ts_err rc = ts_store_begin(c, true, &e);
	for (struct ts__audit_waiter *w = batch; rc == TS_ERR_OK && w; w = w->next)
		rc = ts_store_audit_append(c, w->arena, w->r, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, &e);
	else
		ts_store_rollback(c);
	for (struct ts__audit_waiter *w = batch; w; w = w->next) {
		w->rc = rc;
		w->err = e;
	}
}

ts_err ts_store_audit_append_now(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                                 struct ts_error *e)
{
	ts_store_t *s = c->store;
	if (c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "grouped audit append inside a transaction");
	struct ts__audit_waiter me = {.r = r, .arena = arena};
	pthread_mutex_lock(&s->group_mu);
	if (s->group_tail)
		s->group_tail->next = &me;
	else
		s->group_head = &me;
	s->group_tail = &me;
	while (!me.done) {
		if (s->group_leader) {
			pthread_cond_wait(&s->group_cv, &s->group_mu);
			continue;
		}
		/* lead: take up to GROUP_MAX waiters from the front, commit them together */
		s->group_leader = true;
		struct ts__audit_waiter *batch = s->group_head, *last = batch;
		for (int n = 1; n < GROUP_MAX && last->next; n++)
			last = last->next;
		s->group_head = last->next;
		if (s->group_head == NULL)
			s->group_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->group_mu);
		commit_group(c, batch);
		pthread_mutex_lock(&s->group_mu);
		for (struct ts__audit_waiter *w = batch; w; w = w->next)
			w->done = true;
		s->group_leader = false;
		pthread_cond_broadcast(&s->group_cv);
	}
	pthread_mutex_unlock(&s->group_mu);
	if (me.rc != TS_ERR_OK && e != NULL)
		*e = me.err;
	return me.rc;
}
