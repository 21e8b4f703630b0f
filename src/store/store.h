/*
 * The one way to Tessera's data. Two backends sit behind it, SQLite (the
 * embedded default) and PostgreSQL (shared by many stateless nodes); both
 * pass the same contract suite (tests/unit/test_store.c).
 *
 * A ts_store_t is the shared, thread-safe handle; each thread that talks to
 * the store opens its own ts_store_conn_t. Every write runs inside one
 * transaction (ts_store_begin ... ts_store_commit) together with its audit
 * event, so an acknowledged write and its record land together or not at all.
 * Strings handed back live in the arena the caller passes in.
 */
#ifndef TS_STORE_STORE_H
#define TS_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/nodes.h"

typedef struct ts_store ts_store_t;
typedef struct ts_store_conn ts_store_conn_t;

enum ts_store_durability {
	TS_DURABILITY_NORMAL, /* survives a crash of the process (SQLite synchronous=NORMAL) */
	TS_DURABILITY_FULL,   /* survives power loss as well (synchronous=FULL) */
};

/*
 * How long the store may keep a caller waiting (docs/store.md). Each has a
 * named default, used when the option is 0; serve --store-*-timeout sets them.
 */
#define TS_STORE_CONNECT_TIMEOUT_MS 5000    /* PostgreSQL: connect_timeout */
#define TS_STORE_STATEMENT_TIMEOUT_MS 30000 /* PostgreSQL: statement_timeout */
#define TS_STORE_LOCK_TIMEOUT_MS 10000      /* PostgreSQL: lock_timeout; SQLite: busy timeout */
/* PostgreSQL: idle_in_transaction_session_timeout (a transaction left open by a stuck node) */
#define TS_STORE_IDLE_TX_TIMEOUT_MS 60000

struct ts_store_options {
	enum ts_store_durability durability;
	int busy_timeout_ms; /* SQLite: wait for the writer lock; 0 = lock_timeout_ms */
	int connect_timeout_ms;
	int statement_timeout_ms;
	int lock_timeout_ms;
	int idle_tx_timeout_ms;
};

/*
 * Opens the store named by url: a file path (SQLite, created when missing
 * only if create is true) or a postgresql:// / postgres:// URI or libpq
 * "host=... dbname=..." string. Does not touch the schema.
 */
TS_MUST_USE ts_err ts_store_open(const char *url, bool create, const struct ts_store_options *opt,
                                 ts_store_t **out, struct ts_error *e);
void ts_store_free(ts_store_t **s);
/* "sqlite" or "postgres". */
const char *ts_store_backend(const ts_store_t *s);

/* A connection for the calling thread; use it from that thread only. */
TS_MUST_USE ts_err ts_store_connect(ts_store_t *s, ts_store_conn_t **out, struct ts_error *e);
void ts_store_disconnect(ts_store_conn_t **c);

/* The schema version this binary knows. */
int ts_store_schema_latest(void);
/* The version the store holds (0 when empty). */
TS_MUST_USE ts_err ts_store_schema_version(ts_store_conn_t *c, int *version, struct ts_error *e);
/*
 * Applies the missing migrations, each in its own transaction; refuses a
 * store newer than this binary with TS_ERR_UNAVAILABLE and a clear message.
 */
TS_MUST_USE ts_err ts_store_migrate(ts_store_conn_t *c, struct ts_error *e);
/* A trivial round trip, for /readyz. */
TS_MUST_USE ts_err ts_store_ping(ts_store_conn_t *c, struct ts_error *e);

/* Store operations that failed since the process started (for /metrics). */
uint64_t ts_store_errors(void);

/*
 * Announces that c will begin a write transaction shortly (soon = true), for
 * example once the request body is parsed, or takes that back. While writes
 * are announced, a write transaction that ends lets the next one join its
 * commit (SQLite group commit) rather than committing alone. Beginning a write
 * transaction and disconnecting take the announcement back.
 */
void ts_store_write_soon(ts_store_conn_t *c, bool soon);

/* Transactions. A write transaction takes the writer lock at once (SQLite BEGIN IMMEDIATE). */
TS_MUST_USE ts_err ts_store_begin(ts_store_conn_t *c, bool write, struct ts_error *e);
TS_MUST_USE ts_err ts_store_commit(ts_store_conn_t *c, struct ts_error *e);
/* Rolls back the open transaction, if any; never fails from the caller's view. */
void ts_store_rollback(ts_store_conn_t *c);
/* Whether c has a transaction open. */
bool ts_store_in_tx(const ts_store_conn_t *c);
/*
 * Declares that the rest of c's read transaction is at most one statement.
 * A statement sees one snapshot by itself, so a backend may run it without a
 * transaction around it (PostgreSQL: no BEGIN and no ROLLBACK, half the
 * server's work for a lookup; docs/store.md). A further statement in the same
 * transaction fails with TS_ERR_INTERNAL. Outside a read transaction, or once
 * a statement of it ran, nothing changes.
 */
void ts_store_read_one(ts_store_conn_t *c);

/*
 * Retrying a transaction. PostgreSQL may refuse a transaction because of
 * another one (serialization failure 40001, deadlock 40P01), and a connection
 * may drop before COMMIT is sent; in both cases nothing of the transaction is
 * stored, the store answers TS_ERR_RETRY, and the transaction can be run
 * again from its start (the connection re-establishes itself before the next
 * statement). A COMMIT whose answer was lost is TS_ERR_UNAVAILABLE and never
 * run again: its outcome is unknown. A store that is down, a lock or
 * statement timeout, SQLite's busy timeout: TS_ERR_UNAVAILABLE, not retried
 * (they have already waited).
 *
 * A caller runs its transaction in a loop:
 *     int attempt = 0;
 *   again:
 *     rc = ts_store_begin(...) ... ts_store_commit(...);
 *     if (rc != TS_ERR_OK && ts_store_tx_retry(c, rc, &attempt)) goto again;
 * ts_store_tx_retry rolls back, and answers true (after a short pause that
 * grows with each attempt) for TS_ERR_RETRY while fewer than
 * TS_STORE_TX_ATTEMPTS runs were made. When it answers false the caller
 * reports rc; ts_store_err_transient(rc) says it is a 503 with Retry-After
 * (TS_STORE_RETRY_AFTER_S).
 */
#define TS_STORE_TX_ATTEMPTS 4
#define TS_STORE_RETRY_AFTER_S 1
#define TS_STORE_RETRY_PAUSE_US 2000 /* before the second run; doubled for each further one */
TS_MUST_USE bool ts_store_tx_retry(ts_store_conn_t *c, ts_err rc, int *attempt);
/* Whether rc tells the caller to come back later (503 with Retry-After). */
bool ts_store_err_transient(ts_err rc);

/* Paging: an opaque position after which a listing goes on. */
#define TS_STORE_PAGE_MAX 1000

/* ---- accounts ---------------------------------------------------------- */

struct ts_account {
	const char *account_id;
	const char *name;
	const char *account_type; /* "Team" | "Enterprise" */
	const char *status;       /* "Active" | "Suspended" */
	int64_t created_ms;
	const char *settings; /* JSON object text */
};

TS_MUST_USE ts_err ts_store_account_insert(ts_store_conn_t *c, const struct ts_account *a,
                                           struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent. */
TS_MUST_USE ts_err ts_store_account_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                                        struct ts_account *out, struct ts_error *e);
/*
 * Up to limit accounts ordered by id, strictly after `after` (NULL: from the
 * start), optionally only those named exactly `name`. *n is set to the count.
 */
/*
 * The same read for a write that depends on it (read, merge, write back): in
 * a write transaction no other write changes the row until this one ends
 * (SQLite: the writer lock; PostgreSQL: SELECT ... FOR UPDATE).
 */
TS_MUST_USE ts_err ts_store_account_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                   const char *id, struct ts_account *out,
                                                   struct ts_error *e);
TS_MUST_USE ts_err ts_store_account_list(ts_store_conn_t *c, ts_arena_t *arena, const char *after,
                                         const char *name, int limit, struct ts_account **out,
                                         int *n, struct ts_error *e);
TS_MUST_USE ts_err ts_store_account_update(ts_store_conn_t *c, const struct ts_account *a,
                                           struct ts_error *e);
TS_MUST_USE ts_err ts_store_account_delete(ts_store_conn_t *c, const char *id, struct ts_error *e);

/* ---- admin keys -------------------------------------------------------- */

struct ts_adminkey {
	const char *access_key_id;
	const char *secret_hash; /* hex SHA-256 of the secret half of the token */
	const char *policies;    /* JSON array text */
	const char *description;
	int64_t created_ms;
};

TS_MUST_USE ts_err ts_store_adminkey_insert(ts_store_conn_t *c, const struct ts_adminkey *k,
                                            struct ts_error *e);
TS_MUST_USE ts_err ts_store_adminkey_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                                         struct ts_adminkey *out, struct ts_error *e);
TS_MUST_USE ts_err ts_store_adminkey_list(ts_store_conn_t *c, ts_arena_t *arena, const char *after,
                                          int limit, struct ts_adminkey **out, int *n,
                                          struct ts_error *e);
TS_MUST_USE ts_err ts_store_adminkey_delete(ts_store_conn_t *c, const char *id, struct ts_error *e);
/* Number of admin keys (init prints a first key only into an empty store). */
TS_MUST_USE ts_err ts_store_adminkey_count(ts_store_conn_t *c, int64_t *n, struct ts_error *e);

/* ---- audit ------------------------------------------------------------- */

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

/* ---- users, groups, SCIM API keys ---------------------------------------- */

/*
 * A directory user as SCIM writes it. resource is the SCIM JSON as the client
 * sent it (minus id, meta and groups), for faithful round trips; the other
 * columns are its indexed copies. user_name_key is user_name in lowercase
 * (RFC 7643 §4.1.1: userName is case-insensitive). version moves with every
 * change (the SCIM ETag).
 */
struct ts_user_row {
	const char *user_id;
	const char *account_id;
	const char *user_name;
	const char *external_id;  /* may be NULL */
	const char *display_name; /* may be NULL */
	bool active;
	const char *resource; /* JSON object text */
	int64_t version;
	int64_t created_ms, modified_ms;
};

/* An address of a user, duplicated into user_emails for sign-in and filters. */
struct ts_user_email {
	const char *value;
	const char *type; /* may be NULL */
	bool primary;
};

struct ts_group_row {
	const char *group_id;
	const char *account_id;
	const char *display_name;
	const char *external_id; /* may be NULL */
	const char *resource;    /* JSON object text, without members */
	int64_t version;
	int64_t created_ms, modified_ms;
};

struct ts_group_member {
	const char *user_id;
	const char *display; /* displayName, else userName */
};

/* Which index a candidate lookup uses (SCIM filters translated to SQL). */
enum ts_store_scim_key {
	TS_STORE_USER_BY_NAME,      /* value: userName (compared in lowercase) */
	TS_STORE_USER_BY_EXTERNAL,  /* value: externalId, exact */
	TS_STORE_USER_BY_ID,        /* value: id, exact */
	TS_STORE_USER_BY_EMAIL,     /* value: an address (compared in lowercase) */
	TS_STORE_USER_IN_GROUP,     /* value: a group id */
	TS_STORE_USER_MODIFIED,     /* lo_ms..hi_ms */
	TS_STORE_GROUP_BY_NAME,     /* value: displayName (compared in lowercase) */
	TS_STORE_GROUP_BY_EXTERNAL, /* value: externalId, exact */
	TS_STORE_GROUP_BY_ID,       /* value: id, exact */
	TS_STORE_GROUP_WITH_MEMBER, /* value: a user id */
	TS_STORE_GROUP_MODIFIED,    /* lo_ms..hi_ms */
};

/* Inserts a user and its addresses. TS_ERR_CONFLICT when the userName is taken. */
TS_MUST_USE ts_err ts_store_user_insert(ts_store_conn_t *c, const struct ts_user_row *u,
                                        const struct ts_user_email *emails, int nemails,
                                        struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent or in another account. */
TS_MUST_USE ts_err ts_store_user_get(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                     const char *user_id, struct ts_user_row *out,
                                     struct ts_error *e);
/*
 * The same read for a write that depends on it (read, check the version,
 * write): in a write transaction, no other write changes the row until it
 * ends (SQLite: the writer lock; PostgreSQL: SELECT ... FOR UPDATE).
 */
TS_MUST_USE ts_err ts_store_user_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                const char *account_id, const char *user_id,
                                                struct ts_user_row *out, struct ts_error *e);
/* Rewrites a user and its addresses (emails NULL with nemails < 0: addresses untouched). */
TS_MUST_USE ts_err ts_store_user_update(ts_store_conn_t *c, const struct ts_user_row *u,
                                        const struct ts_user_email *emails, int nemails,
                                        struct ts_error *e);
/* Deletes a user; addresses and memberships go with it. */
TS_MUST_USE ts_err ts_store_user_delete(ts_store_conn_t *c, const char *account_id,
                                        const char *user_id, struct ts_error *e);
/* Users of an account in creation order, from offset, at most limit. */
TS_MUST_USE ts_err ts_store_user_list(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      int64_t offset, int limit, struct ts_user_row **out, int *n,
                                      struct ts_error *e);
TS_MUST_USE ts_err ts_store_user_count(ts_store_conn_t *c, const char *account_id, int64_t *n,
                                       struct ts_error *e);
/* Candidates by one index, in creation order, at most limit. */
TS_MUST_USE ts_err ts_store_user_find(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      enum ts_store_scim_key key, const char *value, int64_t lo_ms,
                                      int64_t hi_ms, int limit, struct ts_user_row **out, int *n,
                                      struct ts_error *e);
/* The groups a user is in (group_id, display_name in *out as members). */
TS_MUST_USE ts_err ts_store_user_groups(ts_store_conn_t *c, ts_arena_t *arena, const char *user_id,
                                        struct ts_group_member **out, int *n, struct ts_error *e);
/* Of the ids in ids_json (a JSON array of strings), those that are users of the account. */
TS_MUST_USE ts_err ts_store_users_existing(ts_store_conn_t *c, ts_arena_t *arena,
                                           const char *account_id, const char *ids_json,
                                           const char ***out, int *n, struct ts_error *e);

TS_MUST_USE ts_err ts_store_group_insert(ts_store_conn_t *c, const struct ts_group_row *g,
                                         struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_get(ts_store_conn_t *c, ts_arena_t *arena, const char *account_id,
                                      const char *group_id, struct ts_group_row *out,
                                      struct ts_error *e);
/* As ts_store_user_get_for_update, for a group. */
TS_MUST_USE ts_err ts_store_group_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                 const char *account_id, const char *group_id,
                                                 struct ts_group_row *out, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_update(ts_store_conn_t *c, const struct ts_group_row *g,
                                         struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_delete(ts_store_conn_t *c, const char *account_id,
                                         const char *group_id, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_list(ts_store_conn_t *c, ts_arena_t *arena,
                                       const char *account_id, int64_t offset, int limit,
                                       struct ts_group_row **out, int *n, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_count(ts_store_conn_t *c, const char *account_id, int64_t *n,
                                        struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_find(ts_store_conn_t *c, ts_arena_t *arena,
                                       const char *account_id, enum ts_store_scim_key key,
                                       const char *value, int64_t lo_ms, int64_t hi_ms, int limit,
                                       struct ts_group_row **out, int *n, struct ts_error *e);
/* Members of a group, at most limit. */
TS_MUST_USE ts_err ts_store_group_members(ts_store_conn_t *c, ts_arena_t *arena,
                                          const char *group_id, int limit,
                                          struct ts_group_member **out, int *n, struct ts_error *e);
/* Adds (ignoring present ones) or removes the users in ids_json, in one statement each. */
TS_MUST_USE ts_err ts_store_group_members_add(ts_store_conn_t *c, const char *group_id,
                                              const char *ids_json, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_members_remove(ts_store_conn_t *c, const char *group_id,
                                                 const char *ids_json, struct ts_error *e);
TS_MUST_USE ts_err ts_store_group_members_clear(ts_store_conn_t *c, const char *group_id,
                                                struct ts_error *e);

struct ts_apikey {
	const char *api_key_id;
	const char *account_id;
	const char *secret_hash; /* hex SHA-256 of the secret half of the token */
	const char *description;
	int64_t created_ms;
	const char *account_settings; /* filled by ts_store_apikey_get only */
};

TS_MUST_USE ts_err ts_store_apikey_insert(ts_store_conn_t *c, const struct ts_apikey *k,
                                          struct ts_error *e);
/* The key and its account's settings; TS_ERR_NOT_FOUND when absent. */
TS_MUST_USE ts_err ts_store_apikey_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                                       struct ts_apikey *out, struct ts_error *e);
TS_MUST_USE ts_err ts_store_apikey_list(ts_store_conn_t *c, ts_arena_t *arena,
                                        const char *account_id, const char *after, int limit,
                                        struct ts_apikey **out, int *n, struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent or in another account. */
TS_MUST_USE ts_err ts_store_apikey_delete(ts_store_conn_t *c, const char *account_id,
                                          const char *id, struct ts_error *e);
/*
 * The credentials generation: it moves, in the same transaction, with every
 * deleted API key and every changed or deleted account (and so with whatever
 * ts_store_apikey_get would now answer differently for a key it found). A key
 * read in a transaction that saw generation g is still what the store holds
 * in any later transaction that sees g.
 */
TS_MUST_USE ts_err ts_store_auth_generation(ts_store_conn_t *c, int64_t *gen, struct ts_error *e);

/* ---- domains, sessions, licence groups, directory reads (issue 4) ----- */
/*
 * The directory's administration: claimed domains and their verification,
 * sign-in sessions, the mapping of directory groups to licence tiers, and
 * the reads of users, emails and memberships that the admin API and the
 * sign-in rules need (SCIM writes those rows; Team-account invitations and
 * the admin state of a user are written here).
 */

struct ts_domain {
	const char *account_id;
	const char *domain_name; /* lowercase, no final dot */
	const char *status;      /* "PendingVerification" | "Verified" | "Failed" */
	const char *token;       /* the TXT value to publish */
	int64_t created_ms;
	int64_t verified_ms; /* 0 when not verified */
	int64_t next_check_ms;
	int64_t attempts;
	const char *last_error; /* may be NULL */
};

/* TS_ERR_CONFLICT when the account already has the domain. */
TS_MUST_USE ts_err ts_store_domain_insert(ts_store_conn_t *c, const struct ts_domain *d,
                                          struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent. */
TS_MUST_USE ts_err ts_store_domain_get(ts_store_conn_t *c, ts_arena_t *arena,
                                       const char *account_id, const char *name,
                                       struct ts_domain *out, struct ts_error *e);
/* The same, locking the row for the rest of a write transaction (as
 * ts_store_account_get_for_update). */
TS_MUST_USE ts_err ts_store_domain_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                  const char *account_id, const char *name,
                                                  struct ts_domain *out, struct ts_error *e);
/* Up to limit domains of an account by name, strictly after `after` (NULL: from the start). */
TS_MUST_USE ts_err ts_store_domain_list(ts_store_conn_t *c, ts_arena_t *arena,
                                        const char *account_id, const char *after, int limit,
                                        struct ts_domain **out, int *n, struct ts_error *e);
/* The account that has verified name, or *owner NULL when none has. */
TS_MUST_USE ts_err ts_store_domain_verified_owner(ts_store_conn_t *c, ts_arena_t *arena,
                                                  const char *name, const char **owner,
                                                  struct ts_error *e);
/* The names of an account's Verified domains (at most TS_STORE_PAGE_MAX). */
TS_MUST_USE ts_err ts_store_domain_verified_names(ts_store_conn_t *c, ts_arena_t *arena,
                                                  const char *account_id, const char ***names,
                                                  int *n, struct ts_error *e);
/* PendingVerification domains whose next check is due at now_ms, soonest first. */
TS_MUST_USE ts_err ts_store_domain_due(ts_store_conn_t *c, ts_arena_t *arena, int64_t now_ms,
                                       int limit, struct ts_domain **out, int *n,
                                       struct ts_error *e);
/* The earliest next_check_ms of any PendingVerification domain; *found false when none. */
TS_MUST_USE ts_err ts_store_domain_next_due(ts_store_conn_t *c, int64_t *next_ms, bool *found,
                                            struct ts_error *e);
/*
 * Claims a due check for this node: moves next_check_ms from seen_next_ms to
 * lease_until_ms only if nobody else did first (*won tells), so that several
 * nodes sharing one store do not check the same domain at once.
 */
TS_MUST_USE ts_err ts_store_domain_claim(ts_store_conn_t *c, const char *account_id,
                                         const char *name, int64_t seen_next_ms,
                                         int64_t lease_until_ms, bool *won, struct ts_error *e);
/* Writes status, verified_ms, next_check_ms, attempts and last_error of d. TS_ERR_CONFLICT
 * when d becomes Verified while another account has the name verified. */
TS_MUST_USE ts_err ts_store_domain_update(ts_store_conn_t *c, const struct ts_domain *d,
                                          struct ts_error *e);
TS_MUST_USE ts_err ts_store_domain_delete(ts_store_conn_t *c, const char *account_id,
                                          const char *name, struct ts_error *e);

struct ts_session {
	const char *session_id;
	const char *token_hash; /* hex SHA-256 of the token; the token itself is never stored */
	const char *account_id;
	const char *user_id;
	const char *kind;    /* "browser" | "cli" */
	const char *license; /* "Pro" | "Basic" | NULL */
	int64_t created_ms;
	int64_t expires_ms;
	int64_t license_checked_ms;
	int64_t revoked_ms; /* 0 while live */
	const char *client; /* may be NULL */
};

/* Inserts s (license_checked_ms is set to created_ms). */
TS_MUST_USE ts_err ts_store_session_insert(ts_store_conn_t *c, const struct ts_session *s,
                                           struct ts_error *e);
/* TS_ERR_NOT_FOUND when no session has this token hash. */
TS_MUST_USE ts_err ts_store_session_by_hash(ts_store_conn_t *c, ts_arena_t *arena,
                                            const char *token_hash, struct ts_session *out,
                                            struct ts_error *e);
TS_MUST_USE ts_err ts_store_session_set_license(ts_store_conn_t *c, const char *session_id,
                                                const char *license, int64_t checked_ms,
                                                struct ts_error *e);
/* Revokes one live session; *changed 0 when it was already revoked or is unknown. */
TS_MUST_USE ts_err ts_store_session_revoke(ts_store_conn_t *c, const char *session_id,
                                           int64_t now_ms, int64_t *changed, struct ts_error *e);
/* Revokes every live session of a user; *changed counts them. */
TS_MUST_USE ts_err ts_store_session_revoke_user(ts_store_conn_t *c, const char *user_id,
                                                int64_t now_ms, int64_t *changed,
                                                struct ts_error *e);
/* Sessions of a user that are neither revoked nor expired at now_ms. */
TS_MUST_USE ts_err ts_store_session_live_count(ts_store_conn_t *c, const char *user_id,
                                               int64_t now_ms, int64_t *n, struct ts_error *e);

struct ts_license_group {
	const char *account_id;
	const char *group_name; /* exact displayName of a SCIM group */
	const char *license;    /* "Pro" | "Basic" */
	int64_t modified_ms;
};

TS_MUST_USE ts_err ts_store_license_group_upsert(ts_store_conn_t *c,
                                                 const struct ts_license_group *g,
                                                 struct ts_error *e);
/* TS_ERR_NOT_FOUND when the account has no mapping for the group. */
TS_MUST_USE ts_err ts_store_license_group_delete(ts_store_conn_t *c, const char *account_id,
                                                 const char *group_name, struct ts_error *e);
/* Every mapping of an account (at most TS_STORE_PAGE_MAX), by group name. */
TS_MUST_USE ts_err ts_store_license_group_list(ts_store_conn_t *c, ts_arena_t *arena,
                                               const char *account_id,
                                               struct ts_license_group **out, int *n,
                                               struct ts_error *e);
/* Whether the account has a SCIM group whose displayName is exactly name. */
TS_MUST_USE ts_err ts_store_dir_group_exists(ts_store_conn_t *c, const char *account_id,
                                             const char *name, bool *exists, struct ts_error *e);

struct ts_dir_user {
	const char *user_id;
	const char *account_id;
	const char *user_name;
	const char *external_id;  /* may be NULL */
	const char *display_name; /* may be NULL */
	bool active;              /* SCIM active */
	bool suspended;           /* admin SuspendUsers */
	const char
	        *registration_status; /* "Registered" | "Unregistered" | "Suspended" | "Released" */
	const char *license;          /* set by hand (Team accounts); may be NULL */
	const char *personal_pin;     /* may be NULL */
	int64_t invited_ms, joined_ms; /* 0 when not set */
	int64_t created_ms, modified_ms;
};

struct ts_dir_email {
	const char *value;
	const char *type; /* may be NULL */
	bool primary;
};

struct ts_dir_user_group {
	const char *group_id;
	const char *name;    /* displayName */
	const char *license; /* the tier it is mapped to, or NULL when unmapped */
};

/* TS_ERR_NOT_FOUND when the account has no such user. */
TS_MUST_USE ts_err ts_store_dir_user_get(ts_store_conn_t *c, ts_arena_t *arena,
                                         const char *account_id, const char *user_id,
                                         struct ts_dir_user *out, struct ts_error *e);
/* The same, locking the row for the rest of a write transaction (as
 * ts_store_account_get_for_update). */
TS_MUST_USE ts_err ts_store_dir_user_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                    const char *account_id, const char *user_id,
                                                    struct ts_dir_user *out, struct ts_error *e);
/*
 * Up to limit users of an account by user ID, strictly after `after` (NULL:
 * from the start); with email_key (lowercase) only those who have that
 * address, primary or proxy.
 */
TS_MUST_USE ts_err ts_store_dir_user_list(ts_store_conn_t *c, ts_arena_t *arena,
                                          const char *account_id, const char *email_key,
                                          const char *after, int limit, struct ts_dir_user **out,
                                          int *n, struct ts_error *e);
/* Users whose userName or any address equals key (lowercase), at most limit. */
TS_MUST_USE ts_err ts_store_dir_user_match(ts_store_conn_t *c, ts_arena_t *arena,
                                           const char *account_id, const char *key, int limit,
                                           struct ts_dir_user **out, int *n, struct ts_error *e);
/* A user's addresses, primary first. */
TS_MUST_USE ts_err ts_store_dir_user_emails(ts_store_conn_t *c, ts_arena_t *arena,
                                            const char *user_id, struct ts_dir_email **out, int *n,
                                            struct ts_error *e);
/* A user's directory groups with the tier each is mapped to (at most TS_STORE_PAGE_MAX). */
TS_MUST_USE ts_err ts_store_dir_user_groups(ts_store_conn_t *c, ts_arena_t *arena,
                                            const char *user_id, struct ts_dir_user_group **out,
                                            int *n, struct ts_error *e);
/* IDs and suspension of the users whose primary address is on domain (lowercase). */
TS_MUST_USE ts_err ts_store_dir_users_on_domain(ts_store_conn_t *c, ts_arena_t *arena,
                                                const char *account_id, const char *domain,
                                                const char ***user_ids, bool **suspended, int *n,
                                                struct ts_error *e);
/* Whether any user holds this personal PIN. */
TS_MUST_USE ts_err ts_store_dir_pin_taken(ts_store_conn_t *c, const char *pin, bool *taken,
                                          struct ts_error *e);
/* Whether a user of the account has key (lowercase) as userName or address. */
TS_MUST_USE ts_err ts_store_dir_address_taken(ts_store_conn_t *c, const char *account_id,
                                              const char *key, bool *taken, struct ts_error *e);
/* Number of SCIM API keys of the account (an account with one is managed by an IdP). */
TS_MUST_USE ts_err ts_store_dir_api_key_count(ts_store_conn_t *c, const char *account_id,
                                              int64_t *n, struct ts_error *e);
/* Inserts an invited user (active, not suspended) with its primary address. */
TS_MUST_USE ts_err ts_store_dir_user_insert(ts_store_conn_t *c, const struct ts_dir_user *u,
                                            const char *primary_email, struct ts_error *e);
/* The admin state of a user: suspension and registration status. */
TS_MUST_USE ts_err ts_store_dir_user_set_state(ts_store_conn_t *c, const char *user_id,
                                               bool suspended, const char *registration_status,
                                               int64_t now_ms, struct ts_error *e);
TS_MUST_USE ts_err ts_store_dir_user_set_license(ts_store_conn_t *c, const char *user_id,
                                                 const char *license, int64_t now_ms,
                                                 struct ts_error *e);
/* TS_ERR_CONFLICT when another user holds the PIN. */
TS_MUST_USE ts_err ts_store_dir_user_set_pin(ts_store_conn_t *c, const char *user_id,
                                             const char *pin, int64_t now_ms, struct ts_error *e);
/* Deletes a user with their addresses, memberships and sessions. */
TS_MUST_USE ts_err ts_store_dir_user_delete(ts_store_conn_t *c, const char *user_id,
                                            struct ts_error *e);

#endif
