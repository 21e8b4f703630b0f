/*
 * Inside the store: the backend driver interface and the query catalogue.
 * The domain files (accounts.c, adminkeys.c, audit.c) run catalogue queries
 * through the driver; the drivers (sqlite/, postgres/) know nothing of the
 * domain. Queries are written once with PostgreSQL's $1 placeholders; the
 * SQLite driver turns them into ?1. Where the dialects differ a query has a
 * PostgreSQL variant.
 */
#ifndef TS_STORE_INTERNAL_H
#define TS_STORE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "audit/chain.h"
#include "store/store.h"

/* Any fixed number: the advisory lock that lets one node at a time seal the audit chain. */
#define TS__STORE_SEAL_LOCK_KEY "7215309"
/*
 * Another: with an account id's hashtext, the PostgreSQL advisory lock a
 * user insert holds shared and an account delete exclusively (migration
 * v11, docs/store.md "Users and their account on PostgreSQL"). The same
 * number is in the v11 function account_ref; a collision between two
 * accounts only makes a delete wait for the other account's inserts.
 */
#define TS__STORE_ACCOUNT_LOCK_CLASS "7215310"

/* The most rows a list read gives back when its query has no LIMIT: counts are ints. */
#define TS__STORE_ROWS_MAX ((size_t)INT_MAX)

/* X(ID, sql, postgres variant or NULL) */
#define TS__STORE_QUERIES(X)                                                                       \
	X(PING, "SELECT 1", NULL)                                                                  \
	X(SCHEMA_VERSION, "SELECT version FROM schema_version", NULL)                              \
	X(SCHEMA_TABLE,                                                                            \
	  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",   \
	  "SELECT count(*) FROM pg_catalog.pg_class WHERE oid = to_regclass('schema_version')")    \
	X(ACCOUNT_INSERT,                                                                          \
	  "INSERT INTO accounts (account_id, name, account_type, status, created_ms, settings) "   \
	  "VALUES ($1, $2, $3, $4, $5, $6)",                                                       \
	  NULL)                                                                                    \
	X(ACCOUNT_GET,                                                                             \
	  "SELECT account_id, name, account_type, status, created_ms, settings FROM accounts "     \
	  "WHERE account_id = $1",                                                                 \
	  NULL)                                                                                    \
	X(ACCOUNT_GET_FOR_UPDATE,                                                                  \
	  "SELECT account_id, name, account_type, status, created_ms, settings FROM accounts "     \
	  "WHERE account_id = $1",                                                                 \
	  "SELECT account_id, name, account_type, status, created_ms, settings FROM accounts "     \
	  "WHERE account_id = $1 FOR UPDATE")                                                      \
	X(ACCOUNT_LIST,                                                                            \
	  "SELECT account_id, name, account_type, status, created_ms, settings FROM accounts "     \
	  "WHERE account_id > $1 AND ($2 = '' OR name = $2) ORDER BY account_id LIMIT $3",         \
	  "SELECT account_id, name, account_type, status, created_ms, settings FROM accounts "     \
	  "WHERE account_id COLLATE \"C\" > $1 AND ($2::text = '' OR name = $2::text) "            \
	  "ORDER BY account_id COLLATE \"C\" LIMIT $3")                                            \
	X(ACCOUNT_UPDATE,                                                                          \
	  "UPDATE accounts SET name = $2, account_type = $3, status = $4, settings = $5 "          \
	  "WHERE account_id = $1",                                                                 \
	  NULL)                                                                                    \
	/* on PostgreSQL, waits out the user inserts in flight for the account (v11) */            \
	X(ACCOUNT_HOLD, "SELECT $1",                                                               \
	  "SELECT pg_advisory_xact_lock(" TS__STORE_ACCOUNT_LOCK_CLASS ", hashtext($1))")          \
	X(ACCOUNT_USERS_DELETE, "DELETE FROM users WHERE account_id = $1", NULL)                   \
	X(ACCOUNT_DELETE, "DELETE FROM accounts WHERE account_id = $1", NULL)                      \
	X(ADMINKEY_INSERT,                                                                         \
	  "INSERT INTO admin_keys (access_key_id, secret_hash, policies, description, "            \
	  "created_ms) "                                                                           \
	  "VALUES ($1, $2, $3, $4, $5)",                                                           \
	  NULL)                                                                                    \
	X(ADMINKEY_GET,                                                                            \
	  "SELECT access_key_id, secret_hash, policies, description, created_ms FROM admin_keys "  \
	  "WHERE access_key_id = $1",                                                              \
	  NULL)                                                                                    \
	X(ADMINKEY_LIST,                                                                           \
	  "SELECT access_key_id, secret_hash, policies, description, created_ms FROM admin_keys "  \
	  "WHERE access_key_id > $1 ORDER BY access_key_id LIMIT $2",                              \
	  "SELECT access_key_id, secret_hash, policies, description, created_ms FROM admin_keys "  \
	  "WHERE access_key_id COLLATE \"C\" > $1 ORDER BY access_key_id COLLATE \"C\" LIMIT $2")  \
	X(ADMINKEY_DELETE, "DELETE FROM admin_keys WHERE access_key_id = $1", NULL)                \
	X(ADMINKEY_COUNT, "SELECT count(*) FROM admin_keys", NULL)                                 \
	X(AUDIT_NEXT_SEQ, "SELECT coalesce(max(seq), 0) + 1 FROM audit_events",                    \
	  "SELECT nextval('audit_events_seq')")                                                    \
	X(AUDIT_INSERT,                                                                            \
	  "INSERT INTO audit_events (seq, event_id, event_time_ms, event_name, account_id, body, " \
	  "mac) VALUES ($1, $2, $3, $4, $5, $6, $7)",                                              \
	  "WITH e AS (INSERT INTO audit_events (seq, event_id, event_time_ms, event_name, "        \
	  "account_id, body, mac) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq) "             \
	  "INSERT INTO audit_pending (seq) SELECT seq FROM e")                                     \
	X(AUDIT_PENDING_INSERT, "INSERT INTO audit_pending (seq) VALUES ($1)", NULL)               \
	X(AUDIT_LIST,                                                                              \
	  "SELECT e.seq, e.event_id, e.event_time_ms, e.event_name, e.account_id, e.body, e.mac, " \
	  "c.chain_seq, c.hash FROM audit_events e "                                               \
	  "LEFT JOIN audit_chain c ON c.seq = e.seq "                                              \
	  "WHERE e.seq < $1 AND ($2 = '' OR e.event_name = $2) "                                   \
	  "AND e.event_time_ms >= $3 AND e.event_time_ms <= $4 ORDER BY e.seq DESC LIMIT $5",      \
	  "SELECT e.seq, e.event_id, e.event_time_ms, e.event_name, e.account_id, e.body, e.mac, " \
	  "c.chain_seq, c.hash FROM audit_events e "                                               \
	  "LEFT JOIN audit_chain c ON c.seq = e.seq "                                              \
	  "WHERE e.seq < $1 AND ($2::text = '' OR e.event_name = $2::text) "                       \
	  "AND e.event_time_ms >= $3 AND e.event_time_ms <= $4 ORDER BY e.seq DESC LIMIT $5")      \
	X(AUDIT_WALK,                                                                              \
	  "SELECT e.seq, e.event_id, e.event_time_ms, e.event_name, e.account_id, e.body, e.mac, " \
	  "c.chain_seq, c.hash, coalesce(p.refused + 1, 0) FROM audit_events e "                   \
	  "LEFT JOIN audit_chain c ON c.seq = e.seq LEFT JOIN audit_pending p ON p.seq = e.seq "   \
	  "WHERE e.seq > $1 ORDER BY e.seq LIMIT $2",                                              \
	  NULL)                                                                                    \
	X(AUDIT_CHAIN_WALK,                                                                        \
	  "SELECT c.seq, e.event_id, e.event_time_ms, e.event_name, e.account_id, e.body, e.mac, " \
	  "c.chain_seq, c.hash FROM audit_chain c LEFT JOIN audit_events e ON e.seq = c.seq "      \
	  "WHERE c.chain_seq > $1 AND c.chain_seq <= $2 ORDER BY c.chain_seq LIMIT $3",            \
	  NULL)                                                                                    \
	X(AUDIT_CHAIN_MAX, "SELECT coalesce(max(chain_seq), 0) FROM audit_chain", NULL)            \
	/* a round's links in one statement: $1 is a JSON array of [chain_seq, seq, hash] */       \
	X(AUDIT_CHAIN_INSERT,                                                                      \
	  "INSERT INTO audit_chain (chain_seq, seq, hash) SELECT json_extract(value, '$[0]'), "    \
	  "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each($1)",           \
	  "INSERT INTO audit_chain (chain_seq, seq, hash) SELECT (x ->> 0)::bigint, "              \
	  "(x ->> 1)::bigint, x ->> 2 FROM jsonb_array_elements($1::jsonb) x")                     \
	X(AUDIT_CHECKPOINTS,                                                                       \
	  "SELECT chain_seq, hash, time_ms, mac FROM audit_checkpoints WHERE chain_seq > $1 "      \
	  "ORDER BY chain_seq LIMIT $2",                                                           \
	  NULL)                                                                                    \
	X(AUDIT_CHECKPOINT_LAST,                                                                   \
	  "SELECT chain_seq, hash, time_ms, mac FROM audit_checkpoints "                           \
	  "ORDER BY chain_seq DESC LIMIT 1",                                                       \
	  NULL)                                                                                    \
	X(AUDIT_CHECKPOINT_INSERT,                                                                 \
	  "INSERT INTO audit_checkpoints (chain_seq, hash, time_ms, mac) VALUES ($1, $2, $3, $4)", \
	  NULL)                                                                                    \
	X(AUDIT_PENDING_TAKE,                                                                      \
	  "SELECT p.seq, e.event_id, e.event_time_ms, e.event_name, e.account_id, e.body, e.mac "  \
	  "FROM audit_pending p LEFT JOIN audit_events e ON e.seq = p.seq "                        \
	  "WHERE p.refused = 0 ORDER BY p.seq LIMIT $1",                                           \
	  NULL)                                                                                    \
	X(AUDIT_PENDING_REFUSE, "UPDATE audit_pending SET refused = 1 WHERE seq = $1", NULL)       \
	X(AUDIT_PENDING_SEALED,                                                                    \
	  "DELETE FROM audit_pending WHERE seq IN "                                                \
	  "(SELECT seq FROM audit_chain WHERE chain_seq > $1)",                                    \
	  NULL)                                                                                    \
	X(AUDIT_PENDING_ORPHAN,                                                                    \
	  "SELECT p.seq FROM audit_pending p LEFT JOIN audit_events e ON e.seq = p.seq "           \
	  "WHERE e.seq IS NULL ORDER BY p.seq LIMIT 1",                                            \
	  NULL)                                                                                    \
	X(AUDIT_SEAL_LOCK, "SELECT 1",                                                             \
	  "SELECT CASE WHEN pg_try_advisory_lock(" TS__STORE_SEAL_LOCK_KEY ") THEN 1 ELSE 0 END")  \
	X(AUDIT_SEAL_UNLOCK, "SELECT 1", "SELECT pg_advisory_unlock(" TS__STORE_SEAL_LOCK_KEY ")") \
	X(AUDIT_SNAPSHOT, "SELECT 1",                                                              \
	  "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")                            \
	X(AUDIT_UNKEYED,                                                                           \
	  "SELECT seq, event_id, event_time_ms, event_name, account_id, body FROM audit_events "   \
	  "WHERE mac IS NULL AND seq > $1 ORDER BY seq LIMIT $2",                                  \
	  NULL)                                                                                    \
	X(AUDIT_SET_MAC, "UPDATE audit_events SET mac = $2 WHERE seq = $1", NULL)                  \
	X(META_GET, "SELECT value FROM store_meta WHERE name = $1", NULL)                          \
	X(META_INSERT, "INSERT INTO store_meta (name, value) VALUES ($1, $2)", NULL)

/*
 * Each area of the directory keeps its queries in a header of its own, so
 * that work on SCIM and on the directory's administration does not collide.
 */
#include "store/queries_directory.h"
#include "store/queries_scim.h"
#include "store/queries_nodes.h"
#include "store/queries_secrets.h"
#include "store/queries_saml.h"
#include "store/queries_oidc.h"
#include "store/queries_oauth.h"
#include "store/queries_signins.h"
#include "store/queries_access.h"

#define TS__STORE_ALL_QUERIES(X)       \
	TS__STORE_QUERIES(X)           \
	TS__STORE_QUERIES_SCIM(X)      \
	TS__STORE_QUERIES_DIRECTORY(X) \
	TS__STORE_QUERIES_NODES(X)     \
	TS__STORE_QUERIES_SECRETS(X)   \
	TS__STORE_QUERIES_SAML(X)      \
	TS__STORE_QUERIES_OIDC(X)      \
	TS__STORE_QUERIES_OAUTH(X)     \
	TS__STORE_QUERIES_SIGNINS(X)   \
	TS__STORE_QUERIES_ACCESS(X)

enum ts__store_query {
#define TS__Q_ENUM(id, sql, pg) TS__Q_##id,
	TS__STORE_ALL_QUERIES(TS__Q_ENUM)
#undef TS__Q_ENUM
	        TS__Q__COUNT
};

struct ts__store_query_text {
	const char *name;
	const char *sql;
	const char *pg; /* NULL: same as sql */
};
extern const struct ts__store_query_text ts__store_queries[TS__Q__COUNT];

enum ts__param_type { TS__P_NULL, TS__P_TEXT, TS__P_INT };
struct ts__param {
	enum ts__param_type type;
	const char *text;
	int64_t i;
};
#define TS__TEXT(s) ((struct ts__param){.type = (s) ? TS__P_TEXT : TS__P_NULL, .text = (s)})
/* The number of parameters in an array of them. */
#define TS__NPARAMS(p) ((int)(sizeof(p) / sizeof((p)[0])))
#define TS__INT(v) ((struct ts__param){.type = TS__P_INT, .i = (v)})

/* A result being read; the driver owns what is behind it until ts__rows_close. */
struct ts__rows;

/* One migration step, as SQL scripts per backend. */
struct ts__migration {
	int version;
	const char *sqlite;
	const char *postgres;
};
extern const struct ts__migration ts__store_migrations[];
extern const int ts__store_migration_count;

struct ts__store_driver {
	const char *name;
	ts_err (*open)(ts_store_t *s, const char *url, bool create, struct ts_error *e);
	void (*close)(ts_store_t *s);
	ts_err (*connect)(ts_store_t *s, void **conn, struct ts_error *e);
	void (*disconnect)(void *conn);
	/* Runs catalogue query q; *rows (when rows != NULL) is ready for next(). */
	ts_err (*exec)(void *conn, enum ts__store_query q, const struct ts__param *p, int np,
	               struct ts__rows **rows, int64_t *changed, struct ts_error *e);
	/* Runs a script of statements without parameters (migrations, BEGIN, COMMIT). */
	ts_err (*script)(void *conn, const char *sql, struct ts_error *e);
	bool (*next)(struct ts__rows *r);
	const char *(*text)(struct ts__rows *r, int col); /* NULL for SQL NULL */
	int64_t (*integer)(struct ts__rows *r, int col);
	void (*rows_close)(struct ts__rows *r);
	ts_err (*begin)(void *conn, bool write, struct ts_error *e);
	ts_err (*commit)(void *conn, struct ts_error *e);
	void (*rollback)(void *conn);
	/* Optional (ts_store_read_one): the read's one remaining statement may run alone. */
	void (*read_one)(void *conn);
	/* Optional (ts_store_tx_relaxed): the open write's commit need not wait for the disk. */
	void (*relaxed)(void *conn);
	/*
	 * Optional (ts__store_get_one_alone): the open write, nothing sent yet, is
	 * one statement long, so its COMMIT may be sent with it; commit() then
	 * reports how that COMMIT went.
	 */
	void (*write_alone)(void *conn);
	/* Serializes migrations between processes (advisory lock / writer lock). */
	ts_err (*migrate_lock)(void *conn, bool lock, struct ts_error *e);
};

extern const struct ts__store_driver ts__store_sqlite;
extern const struct ts__store_driver ts__store_postgres;

struct ts_store {
	const struct ts__store_driver *drv;
	struct ts_store_options opt;
	char *url;
	void *impl;             /* driver's own shared state */
	atomic_int writes_soon; /* connections that announced a write transaction */
	/* the audit writer thread (started by the first ts_store_audit_submit) */
	pthread_mutex_t audit_mu;
	pthread_cond_t audit_cv;
	struct ts_store_audit_job *audit_head, *audit_tail;
	pthread_t audit_tid;
	bool audit_running;
	bool audit_stop;
	/* the audit keys (ts_store_audit_keys_set) */
	struct ts_audit_keys audit_keys;
	bool audit_keyed;
	/* the store's key check value moved away from audit_keys: the master key was rotated */
	atomic_bool audit_stale;
};

struct ts_store_conn {
	ts_store_t *store;
	void *impl;
	bool in_tx;
	bool write_soon;     /* counted in store->writes_soon */
	bool commit_unknown; /* the last COMMIT's answer was lost (ts_store_tx_retry) */
	bool tx_write;
	int one_left; /* statements still allowed after ts_store_read_one, or in a write alone; else
	                 -1 */
};

/* How many connections announced a write transaction (ts_store_write_soon). */
int ts__store_writes_soon(const ts_store_t *s);

/* Commits what is queued for the audit writer and stops it. */
void ts__store_audit_writer_stop(ts_store_t *s);

/* Counts a failed store operation (drivers call it for failures callers cannot see). */
void ts__store_count_error(void);

/* Moves the credentials generation (ts_store_auth_generation) in c's transaction. */
TS_MUST_USE ts_err ts__store_auth_changed(ts_store_conn_t *c, struct ts_error *e);

/* Helpers for the domain files. */
TS_MUST_USE ts_err ts__store_exec(ts_store_conn_t *c, enum ts__store_query q,
                                  const struct ts__param *p, int np, struct ts__rows **rows,
                                  struct ts_error *e);
/* Runs a write and reports the number of rows it changed. */
TS_MUST_USE ts_err ts__store_write(ts_store_conn_t *c, enum ts__store_query q,
                                   const struct ts__param *p, int np, int64_t *changed,
                                   struct ts_error *e);
/* Copies the current row into row (the caller's struct), strings into the arena. */
typedef void (*ts__row_read_fn)(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row);
/*
 * Runs a query that finds at most one row and reads it into out with read;
 * *found says whether there was one (the caller words the NotFound).
 */
TS_MUST_USE ts_err ts__store_get_one(ts_store_conn_t *c, enum ts__store_query q,
                                     const struct ts__param *p, int np, ts__row_read_fn read,
                                     ts_arena_t *arena, void *out, bool *found, struct ts_error *e);
/* The first column of a query's first row as an integer (*out 0) or text (*out NULL) when none. */
TS_MUST_USE ts_err ts__store_get_int(ts_store_conn_t *c, enum ts__store_query q,
                                     const struct ts__param *p, int np, int64_t *out,
                                     struct ts_error *e);
TS_MUST_USE ts_err ts__store_get_str(ts_store_conn_t *c, enum ts__store_query q,
                                     const struct ts__param *p, int np, ts_arena_t *arena,
                                     const char **out, struct ts_error *e);
/* One step of a write: what runs inside the transaction. */
typedef ts_err (*ts__tx_fn)(ts_store_conn_t *c, void *ctx, struct ts_error *e);
/*
 * Runs fn in c's open transaction, or in a write transaction of its own
 * (committed, or rolled back on failure), so that a caller may join a
 * write to its own transaction or run it alone.
 */
TS_MUST_USE ts_err ts__store_in_write(ts_store_conn_t *c, ts__tx_fn fn, void *ctx,
                                      struct ts_error *e);
/*
 * A write transaction of one statement that finds at most one row, read as
 * ts__store_get_one reads it. Outside a transaction it is a transaction of
 * its own, whose COMMIT the backend may send with the statement (PostgreSQL:
 * one round trip), so the row is read after it is committed: nothing may
 * depend on deciding between commit and rollback. relaxed: only what a crash
 * may lose is written (ts_store_tx_relaxed). Inside c's open transaction it
 * is one more statement of that transaction, and relaxed is ignored.
 */
TS_MUST_USE ts_err ts__store_get_one_alone(ts_store_conn_t *c, enum ts__store_query q,
                                           const struct ts__param *p, int np, ts__row_read_fn read,
                                           ts_arena_t *arena, void *out, bool *found, bool relaxed,
                                           struct ts_error *e);
/* One statement, as ts__store_in_write runs fn; *changed (may be NULL) its rows. */
TS_MUST_USE ts_err ts__store_write_one(ts_store_conn_t *c, enum ts__store_query q,
                                       const struct ts__param *p, int np, int64_t *changed,
                                       struct ts_error *e);
bool ts__rows_next(ts_store_conn_t *c, struct ts__rows *r);
/* Column text copied into arena (NULL stays NULL). */
const char *ts__rows_str(ts_store_conn_t *c, struct ts__rows *r, int col, ts_arena_t *arena);
int64_t ts__rows_int(ts_store_conn_t *c, struct ts__rows *r, int col);
void ts__rows_close(ts_store_conn_t *c, struct ts__rows **r);

/* Reads a row of TS__USER_COLS into a struct ts_user_row (users.c; a ts__row_read_fn). */
#define TS__USER_NCOLS 16 /* the columns of TS__USER_COLS; a query's own come after them */
void ts__store_user_read(ts_store_conn_t *c, struct ts__rows *r, ts_arena_t *a, void *row);

#endif
