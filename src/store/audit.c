/*
 * The audit chain. Each event stores the hash of the one before it and its
 * own hash over (previous hash, body); the head row names the last event so
 * that removing events at the end is as visible as changing one in the
 * middle. The head row is locked for the length of the writer's transaction,
 * which orders appends across nodes sharing one PostgreSQL.
 */
#include <string.h>
#include <time.h>

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

/* ---- group commit ------------------------------------------------------ */

#define GROUP_MAX 256     /* events in one commit at most */
#define GROUP_WAIT_US 300 /* how long a leader waits for announced events */

struct ts__audit_waiter {
	struct ts__audit_waiter *next;
	struct ts_audit_record *r;
	ts_arena_t *arena;
	ts_err rc;
	struct ts_error err;
	bool done;
};

/*
 * The leader's work: one transaction for every waiter in the batch, reading
 * the chain head once and moving it once, whatever the batch's size.
 */
static void commit_group(ts_store_conn_t *c, struct ts__audit_waiter *batch)
{
	struct ts_error e = {0};
	int64_t seq = 0;
	const char *prev = NULL;
	ts_err rc = ts_store_begin(c, true, &e);
	if (rc == TS_ERR_OK)
		rc = head(c, TS__Q_AUDIT_HEAD_LOCK, batch->arena, &seq, &prev, &e);
	for (struct ts__audit_waiter *w = batch; rc == TS_ERR_OK && w; w = w->next)
		rc = link_insert(c, w->arena, w->r, &seq, &prev, &e);
	if (rc == TS_ERR_OK)
		rc = head_move(c, seq, prev, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, &e);
	else
		ts_store_rollback(c);
	for (struct ts__audit_waiter *w = batch; w; w = w->next) {
		w->rc = rc;
		w->err = e;
	}
}

/* Withdraws c's announced event, if any. Called with group_mu held. */
static void unexpect(ts_store_t *s, ts_store_conn_t *c)
{
	if (!c->audit_expected)
		return;
	c->audit_expected = false;
	s->group_expected--;
	if (s->group_gathering)
		pthread_cond_signal(&s->group_lead_cv);
}

void ts_store_audit_expect(ts_store_conn_t *c)
{
	ts_store_t *s = c->store;
	pthread_mutex_lock(&s->group_mu);
	if (!c->audit_expected) {
		c->audit_expected = true;
		s->group_expected++;
	}
	pthread_mutex_unlock(&s->group_mu);
}

void ts_store_audit_withdraw(ts_store_conn_t *c)
{
	if (c == NULL || !c->audit_expected)
		return;
	pthread_mutex_lock(&c->store->group_mu);
	unexpect(c->store, c);
	pthread_mutex_unlock(&c->store->group_mu);
}

/*
 * The leader, before taking its batch, waits at most GROUP_WAIT_US for more
 * events: while other threads have announced one that is not queued yet, and,
 * when this thread itself had to queue behind a committing batch (so that
 * appends overlap: the load is concurrent), until a second event is queued.
 * Without the second rule two workers settle into taking turns, each
 * committing its own event while the other reads. A batch of n costs one
 * BEGIN, head read, head move and COMMIT, and each touched page once in the
 * WAL, instead of n of each.
 */
static void gather(ts_store_t *s, bool queued_behind)
{
	if (s->group_expected == 0 && !(queued_behind && s->group_queued < 2))
		return;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += GROUP_WAIT_US * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	s->group_gathering = true;
	while (s->group_expected > 0 || (queued_behind && s->group_queued < 2)) {
		if (pthread_cond_timedwait(&s->group_lead_cv, &s->group_mu, &until) != 0)
			break;
	}
	s->group_gathering = false;
}

ts_err ts_store_audit_append_now(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                                 struct ts_error *e)
{
	ts_store_t *s = c->store;
	if (c->in_tx) {
		ts_store_audit_withdraw(c);
		return TS_FAIL(e, TS_ERR_INTERNAL, "grouped audit append inside a transaction");
	}
	struct ts__audit_waiter me = {.r = r, .arena = arena};
	pthread_mutex_lock(&s->group_mu);
	unexpect(s, c);
	if (s->group_tail)
		s->group_tail->next = &me;
	else
		s->group_head = &me;
	s->group_tail = &me;
	s->group_queued++;
	if (s->group_gathering)
		pthread_cond_signal(&s->group_lead_cv);
	bool queued_behind = false;
	while (!me.done) {
		if (s->group_leader) {
			queued_behind = true;
			pthread_cond_wait(&s->group_cv, &s->group_mu);
			continue;
		}
		/* lead: let announced events join, then commit up to GROUP_MAX together */
		s->group_leader = true;
		gather(s, queued_behind);
		struct ts__audit_waiter *batch = s->group_head, *last = batch;
		int n = 1;
		for (; n < GROUP_MAX && last->next; n++)
			last = last->next;
		s->group_queued -= n;
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
