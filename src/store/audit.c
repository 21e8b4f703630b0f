/*
 * The audit trail in the store (docs/audit.md). An append stores the event
 * with its MAC and a pending row, in the writer's transaction, and touches
 * nothing another append touches: PostgreSQL numbers it from a sequence,
 * SQLite after the last event under its writer lock. The sealer
 * (ts_store_audit_seal, driven by src/audit/sealer.c) links pending events
 * into audit_chain after commit and ends each batch with a keyed checkpoint;
 * a pending row becomes visible exactly when its transaction commits, so the
 * sealer needs no guess about PostgreSQL's commits out of seq order.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/blocking.h"
#include "core/crypto.h"
#include "core/timeutil.h"
#include "store/internal.h"

#define META_KEY_CHECK "master_key_check"
#define ADOPT_PAGE 500 /* events given a MAC per query when an old store is adopted */

static bool is_pg(const ts_store_conn_t *c)
{
	return c->store->drv == &ts__store_postgres;
}

void ts_store_audit_keys_set(ts_store_t *s, const struct ts_audit_keys *k)
{
	s->audit_keys = *k;
	s->audit_keyed = true;
	atomic_store(&s->audit_stale, false);
}

void ts_store_audit_fields(const struct ts_audit_record *r, struct ts_audit_fields *out)
{
	*out = (struct ts_audit_fields){.seq = r->seq,
	                                .event_id = r->event_id,
	                                .event_time_ms = r->event_time_ms,
	                                .event_name = r->event_name,
	                                .account_id = r->account_id,
	                                .body = r->body};
}

static struct ts_audit_fields fields_of(const struct ts_audit_record *r)
{
	struct ts_audit_fields f;
	ts_store_audit_fields(r, &f);
	return f;
}

#define STALE_KEY                                                                           \
	"the master key was rotated (the store's key check value is no longer this node's " \
	"key): this node writes nothing more; restart it with the new master key file "     \
	"(docs/secrets.md)"

static ts_err need_keys(ts_store_conn_t *c, struct ts_error *e)
{
	if (!c->store->audit_keyed)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "the audit trail needs the master key, and none was given");
	if (atomic_load(&c->store->audit_stale))
		return TS_FAIL(e, TS_ERR_UNAVAILABLE, STALE_KEY);
	return TS_ERR_OK;
}

static ts_err one_int(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p, int np,
                      int64_t *out, struct ts_error *e)
{
	struct ts__rows *r = NULL;
	*out = 0;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*out = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

/* Gives r its seq and MAC and stores it as pending, in c's open transaction. */
static ts_err insert(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                     struct ts_error *e)
{
	ts_err rc = one_int(c, TS__Q_AUDIT_NEXT_SEQ, NULL, 0, &r->seq, e);
	if (rc != TS_ERR_OK)
		return rc;
	char *mac = ts_arena_alloc(arena, TS_AUDIT_MAC_HEX_LEN + 1);
	struct ts_audit_fields f = fields_of(r);
	ts_audit_event_mac(&c->store->audit_keys, &f, mac);
	r->mac = mac;
	r->chain_seq = 0;
	r->hash = NULL;
	/* the pending row takes the first parameter only, the seq */
	enum { PENDING_NPARAMS = 1 };
	struct ts__param p[] = {TS__INT(r->seq),
	                        TS__TEXT(r->event_id),
	                        TS__INT(r->event_time_ms),
	                        TS__TEXT(r->event_name),
	                        TS__TEXT(r->account_id),
	                        TS__TEXT(r->body),
	                        TS__TEXT(mac)};
	/* PostgreSQL's variant inserts the pending row in the same statement */
	rc = ts__store_write(c, TS__Q_AUDIT_INSERT, p, TS__NPARAMS(p), NULL, e);
	if (rc == TS_ERR_OK && !is_pg(c))
		rc = ts__store_write(c, TS__Q_AUDIT_PENDING_INSERT, p, PENDING_NPARAMS, NULL, e);
	return rc;
}

ts_err ts_store_audit_append(ts_store_conn_t *c, ts_arena_t *arena, struct ts_audit_record *r,
                             struct ts_error *e)
{
	if (!c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "audit append outside a transaction");
	ts_err rc = need_keys(c, e);
	if (rc == TS_ERR_OK)
		rc = insert(c, arena, r, e);
	return rc;
}

static void read_event(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a,
                       struct ts_audit_record *ev)
{
	*ev = (struct ts_audit_record){0};
	ev->seq = ts__rows_int(c, r, 0);
	ev->event_id = ts__rows_str(c, r, 1, a);
	ev->event_time_ms = ts__rows_int(c, r, 2);
	ev->event_name = ts__rows_str(c, r, 3, a);
	ev->account_id = ts__rows_str(c, r, 4, a);
	ev->body = ts__rows_str(c, r, 5, a);
	ev->mac = ts__rows_str(c, r, 6, a);
}

/* Reads the event columns, then the chain place and link, then (walks) the pending state. */
static void read_full(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a,
                      struct ts_audit_record *ev, bool with_pending)
{
	read_event(c, r, a, ev);
	ev->chain_seq = ts__rows_int(c, r, 7);
	ev->hash = ts__rows_str(c, r, 8, a);
	if (with_pending)
		ev->pending = (int)ts__rows_int(c, r, 9);
}

static ts_err collect(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p, int np,
                      int limit, bool with_pending, ts_arena_t *arena, struct ts_audit_record **out,
                      int *n, struct ts_error *e)
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
		read_full(c, r, arena, &list[count++], with_pending);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

static int page_limit(int limit)
{
	return (limit <= 0 || limit > TS_STORE_PAGE_MAX) ? TS_STORE_PAGE_MAX : limit;
}

ts_err ts_store_audit_list(ts_store_conn_t *c, ts_arena_t *arena, const struct ts_audit_filter *f,
                           struct ts_audit_record **out, int *n, struct ts_error *e)
{
	int limit = page_limit(f->limit);
	struct ts__param p[] = {TS__INT(f->before_seq > 0 ? f->before_seq : INT64_MAX),
	                        TS__TEXT(f->event_name ? f->event_name : ""),
	                        TS__INT(f->start_ms > 0 ? f->start_ms : 0),
	                        TS__INT(f->end_ms > 0 ? f->end_ms : INT64_MAX), TS__INT(limit)};
	return collect(c, TS__Q_AUDIT_LIST, p, TS__NPARAMS(p), limit, false, arena, out, n, e);
}

ts_err ts_store_audit_walk(ts_store_conn_t *c, ts_arena_t *arena, int64_t after_seq, int limit,
                           struct ts_audit_record **out, int *n, struct ts_error *e)
{
	limit = page_limit(limit);
	struct ts__param p[] = {TS__INT(after_seq), TS__INT(limit)};
	return collect(c, TS__Q_AUDIT_WALK, p, TS__NPARAMS(p), limit, true, arena, out, n, e);
}

ts_err ts_store_audit_chain_walk(ts_store_conn_t *c, ts_arena_t *arena, int64_t after_chain_seq,
                                 int64_t upto, int limit, struct ts_audit_record **out, int *n,
                                 struct ts_error *e)
{
	limit = page_limit(limit);
	struct ts__param p[] = {TS__INT(after_chain_seq), TS__INT(upto), TS__INT(limit)};
	return collect(c, TS__Q_AUDIT_CHAIN_WALK, p, TS__NPARAMS(p), limit, false, arena, out, n,
	               e);
}

ts_err ts_store_audit_chain_max(ts_store_conn_t *c, int64_t *max, struct ts_error *e)
{
	return one_int(c, TS__Q_AUDIT_CHAIN_MAX, NULL, 0, max, e);
}

static void read_checkpoint(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a,
                            struct ts_audit_checkpoint *out)
{
	out->chain_seq = ts__rows_int(c, r, 0);
	out->hash = ts__rows_str(c, r, 1, a);
	out->time_ms = ts__rows_int(c, r, 2);
	out->mac = ts__rows_str(c, r, 3, a);
}

ts_err ts_store_audit_checkpoints(ts_store_conn_t *c, ts_arena_t *arena, int64_t after, int limit,
                                  struct ts_audit_checkpoint **out, int *n, struct ts_error *e)
{
	limit = page_limit(limit);
	*out = NULL;
	*n = 0;
	struct ts__param p[] = {TS__INT(after), TS__INT(limit)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_AUDIT_CHECKPOINTS, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_audit_checkpoint *list = ts_arena_alloc(arena, sizeof *list * (size_t)limit);
	int count = 0;
	while (count < limit && ts__rows_next(c, r))
		read_checkpoint(c, r, arena, &list[count++]);
	ts__rows_close(c, &r);
	*out = list;
	*n = count;
	return TS_ERR_OK;
}

static void read_checkpoint_row(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	read_checkpoint(c, r, a, out);
}

ts_err ts_store_audit_checkpoint_last(ts_store_conn_t *c, ts_arena_t *arena,
                                      struct ts_audit_checkpoint *out, bool *found,
                                      struct ts_error *e)
{
	*out = (struct ts_audit_checkpoint){0};
	return ts__store_get_one(c, TS__Q_AUDIT_CHECKPOINT_LAST, NULL, 0, read_checkpoint_row,
	                         arena, out, found, e);
}

ts_err ts_store_audit_pending_orphan(ts_store_conn_t *c, int64_t *seq, struct ts_error *e)
{
	return one_int(c, TS__Q_AUDIT_PENDING_ORPHAN, NULL, 0, seq, e);
}

ts_err ts_store_audit_snapshot_begin(ts_store_conn_t *c, struct ts_error *e)
{
	ts_err rc = ts_store_begin(c, false, e);
	if (rc == TS_ERR_OK)
		rc = ts__store_write(c, TS__Q_AUDIT_SNAPSHOT, NULL, 0, NULL, e);
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}

/* ---- keys: the check value, adopting an old store, the genesis checkpoint ---- */

static ts_err write_checkpoint(ts_store_conn_t *c, struct ts_audit_checkpoint *cp,
                               const char *prev_mac, ts_arena_t *arena, struct ts_error *e)
{
	char *mac = ts_arena_alloc(arena, TS_AUDIT_MAC_HEX_LEN + 1);
	ts_audit_checkpoint_mac(&c->store->audit_keys, cp->chain_seq, cp->hash, cp->time_ms,
	                        prev_mac, mac);
	cp->mac = mac;
	struct ts__param p[] = {TS__INT(cp->chain_seq), TS__TEXT(cp->hash), TS__INT(cp->time_ms),
	                        TS__TEXT(mac)};
	return ts__store_write(c, TS__Q_AUDIT_CHECKPOINT_INSERT, p, TS__NPARAMS(p), NULL, e);
}

/* Gives every event without a MAC one: the events of a store made before version 6. */
static ts_err adopt(ts_store_conn_t *c, struct ts_error *e)
{
	int64_t after = 0;
	ts_err rc = TS_ERR_OK;
	for (;;) {
		ts_arena_t *page = ts_arena_new();
		struct ts__param p[] = {TS__INT(after), TS__INT(ADOPT_PAGE)};
		struct ts__rows *r = NULL;
		struct ts_audit_record *evs = ts_arena_alloc(page, sizeof *evs * ADOPT_PAGE);
		int n = 0;
		rc = ts__store_exec(c, TS__Q_AUDIT_UNKEYED, p, TS__NPARAMS(p), &r, e);
		if (rc == TS_ERR_OK) {
			while (n < ADOPT_PAGE && ts__rows_next(c, r)) {
				struct ts_audit_record *ev = &evs[n++];
				*ev = (struct ts_audit_record){0};
				ev->seq = ts__rows_int(c, r, 0);
				ev->event_id = ts__rows_str(c, r, 1, page);
				ev->event_time_ms = ts__rows_int(c, r, 2);
				ev->event_name = ts__rows_str(c, r, 3, page);
				ev->account_id = ts__rows_str(c, r, 4, page);
				ev->body = ts__rows_str(c, r, 5, page);
			}
			ts__rows_close(c, &r);
		}
		for (int i = 0; rc == TS_ERR_OK && i < n; i++) {
			char *mac = ts_arena_alloc(page, TS_AUDIT_MAC_HEX_LEN + 1);
			struct ts_audit_fields f = fields_of(&evs[i]);
			ts_audit_event_mac(&c->store->audit_keys, &f, mac);
			struct ts__param u[] = {TS__INT(evs[i].seq), TS__TEXT(mac)};
			rc = ts__store_write(c, TS__Q_AUDIT_SET_MAC, u, TS__NPARAMS(u), NULL, e);
			after = evs[i].seq;
		}
		ts_arena_free(&page);
		if (rc != TS_ERR_OK || n < ADOPT_PAGE)
			return rc;
	}
}

/* First use of the store with a master key: record its check value, adopt, genesis. */
static ts_err first_key(ts_store_conn_t *c, ts_arena_t *a, struct ts_error *e)
{
	struct ts__param p[] = {TS__TEXT(META_KEY_CHECK), TS__TEXT(c->store->audit_keys.check)};
	ts_err rc = ts__store_write(c, TS__Q_META_INSERT, p, TS__NPARAMS(p), NULL, e);
	if (rc == TS_ERR_OK)
		rc = adopt(c, e);
	struct ts_audit_checkpoint last;
	bool found = false;
	if (rc == TS_ERR_OK)
		rc = ts_store_audit_checkpoint_last(c, a, &last, &found, e);
	if (rc == TS_ERR_OK && !found) {
		struct ts_audit_checkpoint genesis = {
		        .chain_seq = 0, .hash = TS_AUDIT_GENESIS_HASH, .time_ms = ts_now_ms()};
		rc = write_checkpoint(c, &genesis, "", a, e);
	}
	return rc;
}

static void read_text(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *out)
{
	*(const char **)out = ts__rows_str(c, r, 0, a);
}

ts_err ts_store_audit_keys_check(ts_store_conn_t *c, struct ts_error *e)
{
	ts_err rc = need_keys(c, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_arena_t *a = ts_arena_new();
	/* two nodes starting at once on a new store: the second sees the first's value */
	for (int attempt = 0; attempt < 2; attempt++) {
		const char *stored = NULL;
		bool found = false;
		struct ts__param p[] = {TS__TEXT(META_KEY_CHECK)};
		rc = ts_store_begin(c, true, e);
		if (rc == TS_ERR_OK)
			rc = ts__store_get_one(c, TS__Q_META_GET, p, 1, read_text, a, &stored,
			                       &found, e);
		if (rc == TS_ERR_OK && found) {
			ts_store_rollback(c);
			if (!ts_secret_equal(stored, c->store->audit_keys.check))
				rc = TS_FAIL(
				        e, TS_ERR_UNAVAILABLE,
				        "the master key does not match this store's (it was set "
				        "up with another key): every node needs the same master "
				        "key file");
			break;
		}
		if (rc == TS_ERR_OK)
			rc = first_key(c, a, e);
		if (rc == TS_ERR_OK)
			rc = ts_store_commit(c, e);
		ts_store_rollback(c);
		if (rc != TS_ERR_CONFLICT)
			break;
	}
	ts_arena_free(&a);
	return rc;
}

/* ---- sealing --------------------------------------------------------------- */

/* Takes up to max pending events in seq order (event_id NULL: the event is gone). */
static ts_err take_pending(ts_store_conn_t *c, ts_arena_t *a, int max, struct ts_audit_record **out,
                           int *n, struct ts_error *e)
{
	*n = 0;
	struct ts__param p[] = {TS__INT(max)};
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_AUDIT_PENDING_TAKE, p, TS__NPARAMS(p), &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_audit_record *list = ts_arena_alloc(a, sizeof *list * (size_t)max);
	while (*n < max && ts__rows_next(c, r))
		read_event(c, r, a, &list[(*n)++]);
	ts__rows_close(c, &r);
	*out = list;
	return TS_ERR_OK;
}

static ts_err last_checkpoint(ts_store_conn_t *c, ts_arena_t *a, struct ts_audit_checkpoint *last,
                              struct ts_error *e)
{
	bool found = false;
	ts_err rc = ts_store_audit_checkpoint_last(c, a, last, &found, e);
	if (rc == TS_ERR_OK && !found)
		rc = TS_FAIL(e, TS_ERR_STORE,
		             "the audit trail has no checkpoint, not even the genesis one: it was "
		             "deleted (run tessera audit verify); nothing is sealed");
	return rc;
}

/* What a round will write: worked out before its write transaction. */
struct round {
	struct ts_audit_checkpoint base; /* the newest checkpoint it links after */
	struct ts_audit_record *evs;
	char (*links)[TS_SHA256_HEX_LEN + 1];
	bool *refused;
	int n;
};

/*
 * The costly part of a round, in a read transaction: the events' MACs are
 * checked and their links computed here, so that the write transaction
 * (SQLite's writer lock, which every append waits for) only inserts rows.
 */
static ts_err prepare(ts_store_conn_t *c, ts_arena_t *a, int max, struct round *r,
                      struct ts_audit_seal_result *out, struct ts_error *e)
{
	ts_err rc = ts_store_begin(c, false, e);
	if (rc == TS_ERR_OK)
		rc = last_checkpoint(c, a, &r->base, e);
	if (rc == TS_ERR_OK)
		rc = take_pending(c, a, max, &r->evs, &r->n, e);
	ts_store_rollback(c);
	if (rc != TS_ERR_OK)
		return rc;
	r->links = ts_arena_alloc(a, sizeof *r->links * (size_t)(r->n > 0 ? r->n : 1));
	r->refused = ts_arena_alloc(a, sizeof *r->refused * (size_t)(r->n > 0 ? r->n : 1));
	const char *prev = r->base.hash;
	for (int i = 0; i < r->n; i++) {
		const struct ts_audit_record *ev = &r->evs[i];
		struct ts_audit_fields f = fields_of(ev);
		/* not written by a holder of the key, or edited since: never chained */
		r->refused[i] = ev->event_id == NULL ||
		                !ts_audit_event_mac_ok(&c->store->audit_keys, &f, ev->mac);
		if (r->refused[i]) {
			if (out->refused++ == 0)
				out->first_refused = ev->seq;
			continue;
		}
		ts_audit_link(prev, ev->seq, ev->mac, r->links[i]);
		prev = r->links[i];
		out->sealed++;
		out->last_event_seq = ev->seq;
		out->point.chain_seq = r->base.chain_seq + out->sealed;
		out->point.hash = prev;
	}
	return TS_ERR_OK;
}

/* The write transaction of a round; false in *stale when another sealer went first. */
static ts_err commit_round(ts_store_conn_t *c, ts_arena_t *a, const struct round *r, int64_t now_ms,
                           struct ts_audit_seal_result *out, bool *stale, struct ts_error *e)
{
	struct ts_audit_checkpoint now;
	ts_err rc = last_checkpoint(c, a, &now, e);
	*stale = rc == TS_ERR_OK &&
	         (now.chain_seq != r->base.chain_seq || strcmp(now.mac, r->base.mac) != 0);
	if (rc != TS_ERR_OK || *stale)
		return rc;
	/*
	 * The links go in one statement, as a JSON array of [chain_seq, seq,
	 * hash] (the hashes are hex): one statement per round, not per event.
	 */
	enum { LINK_JSON_MAX = 2 * 21 + TS_SHA256_HEX_LEN + 8 };
	char *links = ts_arena_alloc(a, (size_t)LINK_JSON_MAX * (size_t)(r->n + 1));
	size_t len = 0;
	links[len++] = '[';
	int64_t place = r->base.chain_seq;
	for (int i = 0; rc == TS_ERR_OK && i < r->n; i++) {
		if (r->refused[i]) {
			struct ts__param p[] = {TS__INT(r->evs[i].seq)};
			rc = ts__store_write(c, TS__Q_AUDIT_PENDING_REFUSE, p, TS__NPARAMS(p), NULL,
			                     e);
			continue;
		}
		len += (size_t)snprintf(links + len, LINK_JSON_MAX, "%s[%lld,%lld,\"%s\"]",
		                        len > 1 ? "," : "", (long long)++place,
		                        (long long)r->evs[i].seq, r->links[i]);
	}
	if (rc != TS_ERR_OK || out->sealed == 0)
		return rc;
	links[len++] = ']';
	links[len] = '\0';
	struct ts__param chain[] = {TS__TEXT(links)};
	rc = ts__store_write(c, TS__Q_AUDIT_CHAIN_INSERT, chain, TS__NPARAMS(chain), NULL, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts__param from[] = {TS__INT(r->base.chain_seq)};
	rc = ts__store_write(c, TS__Q_AUDIT_PENDING_SEALED, from, TS__NPARAMS(from), NULL, e);
	out->point.time_ms = now_ms;
	if (rc == TS_ERR_OK)
		rc = write_checkpoint(c, &out->point, r->base.mac, a, e);
	return rc;
}

/* Whether the store's key check value is still this node's (one small read per sealing round). */
static ts_err key_still_ours(ts_store_conn_t *c, ts_arena_t *arena, struct ts_error *e)
{
	const char *stored = NULL;
	bool found = false;
	struct ts__param p[] = {TS__TEXT(META_KEY_CHECK)};
	ts_err rc =
	        ts__store_get_one(c, TS__Q_META_GET, p, 1, read_text, arena, &stored, &found, e);
	if (rc == TS_ERR_OK && found && !ts_secret_equal(stored, c->store->audit_keys.check)) {
		atomic_store(&c->store->audit_stale, true);
		rc = TS_FAIL(e, TS_ERR_UNAVAILABLE, STALE_KEY);
	}
	return rc;
}

ts_err ts_store_audit_seal(ts_store_conn_t *c, ts_arena_t *arena, int max, int64_t now_ms,
                           struct ts_audit_seal_result *out, struct ts_error *e)
{
	*out = (struct ts_audit_seal_result){0};
	ts_err rc = need_keys(c, e);
	if (rc != TS_ERR_OK)
		return rc;
	/*
	 * One sealer at a time. PostgreSQL: a session advisory lock, held from
	 * before the round reads until after it commits, so that its snapshots,
	 * whatever the isolation level, follow the previous sealer's commit (the
	 * primary keys of audit_chain and audit_checkpoints would refuse a stale
	 * round anyway). SQLite: the write transaction's writer lock, and the
	 * round gives up when the newest checkpoint moved since it read it.
	 */
	int64_t locked = 0;
	rc = one_int(c, TS__Q_AUDIT_SEAL_LOCK, NULL, 0, &locked, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (!locked) {
		out->skipped = true; /* another node seals this round */
		return TS_ERR_OK;
	}
	/*
	 * docs/secrets.md, "Nodes during a rotation": a node still running with
	 * the old key finds at its next round that the check value moved, and
	 * from then on refuses to seal and to append (need_keys).
	 */
	rc = key_still_ours(c, arena, e);
	struct round r = {0};
	bool stale = false;
	if (rc == TS_ERR_OK)
		rc = prepare(c, arena, max <= 0 ? TS_STORE_PAGE_MAX : max, &r, out, e);
	if (rc == TS_ERR_OK && r.n > 0) {
		rc = ts_store_begin(c, true, e);
		if (rc == TS_ERR_OK)
			rc = commit_round(c, arena, &r, now_ms, out, &stale, e);
		if (rc == TS_ERR_OK && !stale)
			rc = ts_store_commit(c, e);
		ts_store_rollback(c);
	}
	if (rc != TS_ERR_OK || stale)
		*out = (struct ts_audit_seal_result){.skipped = stale};
	int64_t ignored = 0;
	struct ts_error quiet = {0};
	/* a connection that failed has lost the lock with its session */
	(void)one_int(c, TS__Q_AUDIT_SEAL_UNLOCK, NULL, 0, &ignored, &quiet);
	return rc;
}

/* ---- the audit writer ---------------------------------------------------- */

#define BATCH_MAX 512 /* events in one commit at most */

/*
 * One transaction for a batch of events: each page the batch touches is
 * written to the WAL once, whatever the batch's size.
 */
static ts_err commit_batch(ts_store_conn_t *c, struct ts_store_audit_job *batch, struct ts_error *e)
{
	ts_err rc = need_keys(c, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_begin(c, true, e);
	for (struct ts_store_audit_job *j = batch; rc == TS_ERR_OK && j; j = j->next)
		rc = insert(c, j->arena, j->record, e);
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
		int attempt =
		        0; /* a batch refused for another's sake runs again (ts_store_tx_retry) */
		if (rc == TS_ERR_OK)
			do
				rc = commit_batch(c, batch, &e);
			while (rc != TS_ERR_OK && ts_store_tx_retry(c, rc, &attempt));
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
