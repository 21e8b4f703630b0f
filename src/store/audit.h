/*
 * The audit trail's rows: appends inside a write transaction or through the
 * store's audit writer (group commit), the sealer that links pending events
 * into the keyed chain, and the walks the verifier reads (docs/audit.md).
 * Part of the store interface (store/store.h).
 */
#ifndef TS_STORE_AUDIT_H
#define TS_STORE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

/*
 * The audit trail is sealed after commit (docs/audit.md): an append stores
 * the event with a MAC over every column and marks it pending, taking no
 * row or lock that other writers take; a sealer (ts_store_audit_seal, one at
 * a time per store) later links pending events into the chain and ends each
 * batch with a keyed checkpoint. The keys come from the master key
 * (src/audit/chain.h) and are handed to the store by ts_store_audit_keys_set.
 */
struct ts_audit_keys;

struct ts_audit_record {
	int64_t seq; /* assigned by append: insertion order (SQLite), a sequence (PostgreSQL) */
	const char *event_id;
	int64_t event_time_ms;
	const char *event_name;
	const char *account_id; /* may be NULL */
	const char *body;       /* the event, JSON object text */
	const char *mac;        /* filled by append: HMAC over every column */
	int64_t chain_seq;      /* its place in the sealed chain; 0 while pending */
	const char *hash;       /* its chain link once sealed, else NULL */
	int pending;            /* walks: TS_AUDIT_PENDING_* */
};

enum {
	TS_AUDIT_NOT_PENDING = 0,     /* sealed (or neither sealed nor pending: inserted) */
	TS_AUDIT_PENDING = 1,         /* waiting for the sealer */
	TS_AUDIT_PENDING_REFUSED = 2, /* the sealer found its MAC wrong and left it out */
};

/*
 * Gives the store the audit keys derived from the master key (copied; wiped
 * when the store is freed). Appends and seals fail without them.
 */
void ts_store_audit_keys_set(ts_store_t *s, const struct ts_audit_keys *k);
/* The columns of r that its MAC covers (audit/chain.h), as the MAC functions take them. */
struct ts_audit_fields;
void ts_store_audit_fields(const struct ts_audit_record *r, struct ts_audit_fields *out);

/*
 * Checks the store's master key check value against the keys' one, inside a
 * write transaction of its own. A store that has none yet (just created, or
 * made before there was one) gets it, its events without a MAC get one (they
 * are adopted: an old store's unkeyed hashes are not trusted) and it gets
 * the genesis checkpoint. TS_ERR_UNAVAILABLE with a clear message when the
 * store was set up with another master key. Needs ts_store_audit_keys_set.
 */
TS_MUST_USE ts_err ts_store_audit_keys_check(ts_store_conn_t *c, struct ts_error *e);

/*
 * Appends an event inside the caller's write transaction: gives it its seq
 * and MAC, stores it and marks it pending. seq and mac of r are filled (mac
 * in arena memory). Takes no row that other appends take.
 */
TS_MUST_USE ts_err ts_store_audit_append(ts_store_conn_t *c, ts_arena_t *arena,
                                         struct ts_audit_record *r, struct ts_error *e);

/*
 * An event for the store's audit writer, a thread that appends queued events
 * in transactions of their own, as many to a commit as have queued up meanwhile
 * (group commit). For events that change nothing else: reads and refused
 * calls. The job, record and arena are the caller's and must stay untouched
 * until done(ctx, rc, e) is called, once, on the writer thread (e is set when
 * rc is not TS_ERR_OK); done may free them.
 */
typedef void (*ts_store_audit_done_fn)(void *ctx, ts_err rc, const struct ts_error *e);
struct ts_store_audit_job {
	struct ts_audit_record *record; /* seq and mac filled in on success */
	ts_arena_t *arena;              /* the mac string goes here */
	ts_store_audit_done_fn done;
	void *ctx;
	struct ts_store_audit_job *next; /* the store's */
};
/* Queues job for the writer of c's store (c itself is not used and may be reused at once). */
void ts_store_audit_submit(ts_store_conn_t *c, struct ts_store_audit_job *job);

/*
 * ts_store_audit_submit, then waits for the commit. Returns once the event is
 * durable as any commit is. Must be called outside a transaction.
 */
TS_MUST_USE ts_err ts_store_audit_append_now(ts_store_conn_t *c, ts_arena_t *arena,
                                             struct ts_audit_record *r, struct ts_error *e);

struct ts_audit_filter {
	const char *event_name;   /* NULL: any */
	int64_t start_ms, end_ms; /* 0: unbounded */
	int64_t before_seq;       /* 0: from the newest */
	int limit;
};

/* Newest first (by seq); hash and chain_seq set for sealed events. */
TS_MUST_USE ts_err ts_store_audit_list(ts_store_conn_t *c, ts_arena_t *arena,
                                       const struct ts_audit_filter *f,
                                       struct ts_audit_record **out, int *n, struct ts_error *e);
/*
 * Oldest first, from seq > after_seq, at most limit events, each with its
 * chain place (if sealed) and whether it is pending (for verification).
 */
TS_MUST_USE ts_err ts_store_audit_walk(ts_store_conn_t *c, ts_arena_t *arena, int64_t after_seq,
                                       int limit, struct ts_audit_record **out, int *n,
                                       struct ts_error *e);
/*
 * The sealed chain in order: places after_chain_seq < chain_seq <= upto, at
 * most limit, each with the event it names (event_id NULL when that event
 * is missing from audit_events).
 */
TS_MUST_USE ts_err ts_store_audit_chain_walk(ts_store_conn_t *c, ts_arena_t *arena,
                                             int64_t after_chain_seq, int64_t upto, int limit,
                                             struct ts_audit_record **out, int *n,
                                             struct ts_error *e);
/* The highest chain place stored (0 when nothing is sealed). */
TS_MUST_USE ts_err ts_store_audit_chain_max(ts_store_conn_t *c, int64_t *max, struct ts_error *e);

struct ts_audit_checkpoint {
	int64_t chain_seq; /* events sealed up to it: the chain place of its last event */
	const char *hash;  /* the link of that event (the genesis hash for place 0) */
	int64_t time_ms;
	const char *mac; /* over the above and the previous checkpoint's MAC */
};
/* Checkpoints in order, chain_seq > after (-1: from the genesis checkpoint). */
TS_MUST_USE ts_err ts_store_audit_checkpoints(ts_store_conn_t *c, ts_arena_t *arena, int64_t after,
                                              int limit, struct ts_audit_checkpoint **out, int *n,
                                              struct ts_error *e);
/* The newest checkpoint; *found false when there is none. */
TS_MUST_USE ts_err ts_store_audit_checkpoint_last(ts_store_conn_t *c, ts_arena_t *arena,
                                                  struct ts_audit_checkpoint *out, bool *found,
                                                  struct ts_error *e);
/* The lowest seq of a pending row whose event is gone (0 when none). */
TS_MUST_USE ts_err ts_store_audit_pending_orphan(ts_store_conn_t *c, int64_t *seq,
                                                 struct ts_error *e);
/*
 * Opens a read transaction that sees one snapshot of every table (the
 * verifier reads the chain, the checkpoints and the events in several
 * queries). End it with ts_store_rollback.
 */
TS_MUST_USE ts_err ts_store_audit_snapshot_begin(ts_store_conn_t *c, struct ts_error *e);

struct ts_audit_seal_result {
	bool skipped;                     /* another sealer holds the lock (PostgreSQL) */
	int sealed;                       /* events linked in this round */
	int refused;                      /* pending events left out: MAC wrong or event gone */
	int64_t first_refused;            /* seq of the first of them */
	struct ts_audit_checkpoint point; /* the checkpoint written, when sealed > 0 */
	int64_t last_event_seq;           /* seq of its last event */
};
/*
 * One sealing round in a write transaction of its own: takes up to max
 * pending events in seq order (only one sealer at a time: PostgreSQL's
 * advisory lock, else SQLite's writer lock), checks each one's MAC, links
 * them after the newest checkpoint, writes their chain rows and a checkpoint,
 * and commits. Strings of out live in arena.
 */
TS_MUST_USE ts_err ts_store_audit_seal(ts_store_conn_t *c, ts_arena_t *arena, int max,
                                       int64_t now_ms, struct ts_audit_seal_result *out,
                                       struct ts_error *e);

#endif
