/*
 * Reaching the store: opening it (SQLite file or PostgreSQL URL), a
 * connection per thread, the schema version and migrations, transactions
 * and the retry of a transaction that the store refused (docs/store.md).
 * Every other store header builds on the handles declared here; callers
 * include the umbrella store/store.h.
 */
#ifndef TS_STORE_CONN_H
#define TS_STORE_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

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

/*
 * SQLite's tuning (docs/store.md, "SQLite tuning"): the VFS that writes a
 * commit's WAL frames at once (store/sqlite/vfs.c), the page cache without
 * its walk after a split (pcache.c) and the allocator's per-thread caches
 * (mem.c). On by default; off gives SQLite's own VFS, page cache and
 * allocator, so that the contract suite and the integration tests can show
 * that nothing depends on them. The VFS is each store's choice; the page
 * cache and the allocator are the process's, set by the first SQLite store
 * it opens (SQLite takes them before its first use only).
 */
enum ts_store_sqlite_tuning {
	TS_SQLITE_TUNING_DEFAULT = 0, /* TS_SQLITE_TUNING_ENV when set ("on" | "off"), else on */
	TS_SQLITE_TUNING_ON,
	TS_SQLITE_TUNING_OFF,
};
/* The environment variable read for TS_SQLITE_TUNING_DEFAULT (serve --sqlite-tuning reads it too).
 */
#define TS_SQLITE_TUNING_ENV "TESSERA_SQLITE_TUNING"

/* "on" or "off" into *out; false for anything else. */
TS_MUST_USE bool ts_store_sqlite_tuning_parse(const char *s, enum ts_store_sqlite_tuning *out);

struct ts_store_options {
	enum ts_store_durability durability;
	enum ts_store_sqlite_tuning sqlite_tuning; /* SQLite only; PostgreSQL ignores it */
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
/*
 * Declares that the open write transaction records only what a crash of the
 * database server may lose without harm: pacing state such as a device-code
 * poll's time (docs/oauth.md), never a change a person or client was told of.
 * PostgreSQL then commits it without waiting for its WAL to reach the disk
 * (synchronous_commit off for this transaction alone: still atomic, still
 * seen by every node once committed, lost only with the server's own crash,
 * never by the Tessera process's). SQLite: no change (its commit does not
 * wait for the disk at the default durability either). Outside a write
 * transaction nothing changes; a retry of the transaction declares it again.
 */
void ts_store_tx_relaxed(ts_store_conn_t *c);
/* Whether c has a transaction open. */
bool ts_store_in_tx(const ts_store_conn_t *c);
/*
 * Declares that the rest of c's read transaction is at most one statement.
 * A statement sees one snapshot by itself, so a backend may run it without a
 * transaction around it (PostgreSQL: no BEGIN and no ROLLBACK, half the
 * server's work for a lookup; docs/store.md). A further statement in the same
 * transaction fails with TS_ERR_INTERNAL. Outside a read transaction nothing
 * changes; declared after statements of it ran, the next statement is still
 * the last (PostgreSQL runs it in the transaction already open).
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

#endif
