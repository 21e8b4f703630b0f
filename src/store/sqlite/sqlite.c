/*
 * The SQLite backend: one connection per thread, WAL journal so that readers
 * never wait for the one writer, write transactions that take the writer
 * lock up front (BEGIN IMMEDIATE, no lock upgrades that could deadlock), a
 * busy timeout, foreign keys on, and each catalogue query prepared once per
 * connection.
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/blocking.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "store/internal.h"
#include "store/sqlite/mem.h"
#include "store/sqlite/pcache.h"
#include "store/sqlite/vfs.h"

/*
 * Page cache per connection. Every worker has a reader connection, so the
 * readers' caches add up (64 MiB each made 540 MB of RSS at 1M users with 8
 * workers); beyond their small hot set, reads come from the kernel's page
 * cache, which is shared and not the process's memory. The one writer keeps a
 * larger cache: its pages stay valid across its own commits.
 */
#define LITE_READER_CACHE_KIB 8192
#define LITE_WRITER_CACHE_KIB 32768
#define LITE_CKPT_MS 200
#define LITE_WAL_MAX_FRAMES 65536 /* 256 MiB of 4 KiB pages */
#define LITE_CATCH_UP_PASSES 6    /* passive passes before a RESTART, at most */
#define LITE_CATCH_UP_NS 3000000  /* a pass this short leaves little for the RESTART */

struct ts__rows {
	sqlite3_stmt *stmt;
	int rc;
};

/*
 * One writer at a time: threads of this process queue on a mutex instead of
 * meeting SQLite's busy handler, which sleeps for milliseconds between
 * retries. The busy timeout still covers other processes (the CLI).
 */
enum lite_tx {
	LITE_BEGIN,
	LITE_BEGIN_IMMEDIATE,
	LITE_COMMIT,
	LITE_ROLLBACK,
	LITE_SAVEPOINT,
	LITE_RELEASE,
	LITE_ROLLBACK_TO,
	LITE__TX_COUNT
};
static const char *const lite_tx_sql[LITE__TX_COUNT] = {
        "BEGIN",       "BEGIN IMMEDIATE", "COMMIT",       "ROLLBACK",
        "SAVEPOINT w", "RELEASE w",       "ROLLBACK TO w"};

struct lite_db {
	sqlite3 *db;
	/* transaction control, prepared once: sqlite3_exec would parse it on every request */
	sqlite3_stmt *tx[LITE__TX_COUNT];
	sqlite3_stmt *stmts[TS__Q__COUNT];
	struct ts__rows rows[TS__Q__COUNT];
};

#define LITE_GROUP_MAX 64 /* write transactions in one commit at most */
/* how long a member waits for the write it left the group open for */
#define LITE_GROUP_WAIT_NS (2 * 1000000L)

/* A write transaction waiting for the commit of the group it joined. */
struct lite_member {
	struct lite_member *next;
	bool done;
	ts_err rc;
	struct ts_error err;
};

/*
 * Write transactions of every thread run on one shared connection, held
 * under the writer mutex. SQLite drops a connection's page cache whenever
 * another connection has written; with a single writer connection its cache
 * stays warm, and readers on their own connections still never wait.
 *
 * Group commit: each write transaction is a savepoint inside the writer
 * connection's own transaction (the first of a group needs none: it is
 * alone in the transaction it began, whose rollback undoes it). When it ends
 * while another thread is already waiting for the writer, it releases its
 * savepoint and leaves the outer transaction open for that thread, then
 * waits for the one COMMIT that ends the group; the last of a group commits
 * for all. A rolled-back transaction returns to its savepoint and takes
 * nothing with it. So each transaction is still all or nothing, and nobody
 * is told "done" before its COMMIT, but pages that several of them touch
 * (index leaves, the audit head) go to the WAL once per group instead of
 * once per transaction.
 */
struct lite_store {
	pthread_mutex_t writer;
	struct lite_db *wdb;    /* opened at the first write, under the mutex */
	atomic_int want_writer; /* threads waiting for the writer mutex */
	/* under the writer mutex */
	bool group_open; /* wdb's transaction is open, holding released savepoints */
	struct lite_member *members;
	int nmembers;
	/* members' outcomes */
	pthread_mutex_t done_mu;
	pthread_cond_t done_cv;
	/* the checkpointer: commits never copy the WAL back themselves */
	pthread_t ckpt_thread;
	bool ckpt_running, ckpt_stop;
	pthread_mutex_t ckpt_mu;
	pthread_cond_t ckpt_cv;
	const ts_store_t *store;
};

static void db_close(struct lite_db *d);

struct lite_conn {
	const ts_store_t *store;
	struct lite_db own;
	struct lite_db *active; /* own, or the store's writer during a write transaction */
	bool holds_writer;
	/*
	 * This write began the group's transaction, so it is alone in it until
	 * it commits: the transaction itself is its undo, and it opens no
	 * savepoint (a savepoint copies every page it first touches aside).
	 */
	bool bare;
};

static ts_err lite_error(sqlite3 *db, int rc, const char *what, struct ts_error *e)
{
	int ext = db ? sqlite3_extended_errcode(db) : rc;
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
		return TS_FAIL(e, TS_ERR_CONFLICT, "%s: %s", what, msg);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return TS_FAIL(e, TS_ERR_UNAVAILABLE, "%s: store busy: %s", what, msg);
	return TS_FAIL(e, TS_ERR_STORE, "%s: %s", what, msg);
}

static void lite_close(ts_store_t *s)
{
	struct lite_store *ls = s->impl;
	if (ls != NULL) {
		if (ls->ckpt_running) {
			pthread_mutex_lock(&ls->ckpt_mu);
			ls->ckpt_stop = true;
			pthread_cond_signal(&ls->ckpt_cv);
			pthread_mutex_unlock(&ls->ckpt_mu);
			pthread_join(ls->ckpt_thread, NULL);
		}
		pthread_mutex_destroy(&ls->ckpt_mu);
		pthread_cond_destroy(&ls->ckpt_cv);
		if (ls->wdb != NULL) {
			db_close(ls->wdb);
			ts_free(ls->wdb);
		}
		pthread_mutex_destroy(&ls->writer);
		pthread_mutex_destroy(&ls->done_mu);
		pthread_cond_destroy(&ls->done_cv);
		ts_free(ls);
	}
	s->impl = NULL;
}

/*
 * Before SQLite's first use: no allocation statistics (they take a global
 * mutex around every sqlite3_malloc, which all connections would share), the
 * allocator with per-thread caches (store/sqlite/mem.c) and the page cache
 * without its walk after a split (store/sqlite/pcache.c), unless the first
 * store opened has its tuning off. Connections open through the VFS that
 * writes a commit's WAL frames at once (vfs.c), unless their store's tuning
 * is off.
 */
static void lite_configure(bool tuned)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static bool configured;
	pthread_mutex_lock(&mu);
	if (!configured) {
		configured = true;
		(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		if (tuned) { /* else SQLite's own allocator and page cache (docs/store.md) */
			ts__sqlite_mem_install();
			ts__sqlite_pcache_install();
		}
	}
	pthread_mutex_unlock(&mu);
}

static ts_err lite_open(ts_store_t *s, const char *url, bool create, struct ts_error *e)
{
	lite_configure(s->opt.sqlite_tuning != TS_SQLITE_TUNING_OFF);
	struct stat st;
	if (stat(url, &st) != 0) {
		if (!create)
			return TS_FAIL(e, TS_ERR_IO, "store %s does not exist (run tessera init)",
			               url);
	} else if (!S_ISREG(st.st_mode)) {
		return TS_FAIL(e, TS_ERR_IO, "store %s is not a regular file", url);
	} else if (access(url, R_OK | W_OK) != 0) {
		return TS_FAIL(e, TS_ERR_IO, "store %s is not readable and writable", url);
	}
	if (sqlite3_threadsafe() == 0)
		return TS_FAIL(e, TS_ERR_STORE, "this SQLite is built without thread support");
	struct lite_store *ls = ts_calloc(1, sizeof *ls);
	pthread_mutex_init(&ls->writer, NULL);
	pthread_mutex_init(&ls->done_mu, NULL);
	pthread_condattr_t mono; /* members' timed waits count on the monotonic clock */
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&ls->done_cv, &mono);
	pthread_condattr_destroy(&mono);
	pthread_mutex_init(&ls->ckpt_mu, NULL);
	pthread_cond_init(&ls->ckpt_cv, NULL);
	ls->store = s;
	s->impl = ls;
	/* a first connection proves the file is a database we can use */
	void *probe = NULL;
	ts_err rc = ts__store_sqlite.connect(s, &probe, e);
	if (rc != TS_ERR_OK) {
		lite_close(s);
		return rc;
	}
	ts__store_sqlite.disconnect(probe);
	return TS_ERR_OK;
}

static ts_err db_script(struct lite_db *d, const char *sql, struct ts_error *e)
{
	char *err = NULL;
	int rc = sqlite3_exec(d->db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		ts_err r = lite_error(d->db, rc, "script", e);
		sqlite3_free(err);
		return r;
	}
	return TS_ERR_OK;
}

static ts_err db_tx(struct lite_db *d, enum lite_tx t, struct ts_error *e)
{
	if (d->tx[t] == NULL) {
		int rc = sqlite3_prepare_v3(d->db, lite_tx_sql[t], -1, SQLITE_PREPARE_PERSISTENT,
		                            &d->tx[t], NULL);
		if (rc != SQLITE_OK)
			return lite_error(d->db, rc, lite_tx_sql[t], e);
	}
	int rc = sqlite3_step(d->tx[t]);
	sqlite3_reset(d->tx[t]);
	if (rc != SQLITE_DONE)
		return lite_error(d->db, rc, lite_tx_sql[t], e);
	return TS_ERR_OK;
}

static void db_rollback(struct lite_db *d)
{
	struct ts_error ignored = {0};
	if (!sqlite3_get_autocommit(d->db))
		(void)db_tx(d, LITE_ROLLBACK, &ignored);
}

static ts_err lite_script(void *conn, const char *sql, struct ts_error *e)
{
	return db_script(((struct lite_conn *)conn)->active, sql, e);
}

static void db_close(struct lite_db *d)
{
	for (int i = 0; i < TS__Q__COUNT; i++) {
		sqlite3_finalize(d->stmts[i]);
		d->stmts[i] = NULL;
	}
	for (int i = 0; i < LITE__TX_COUNT; i++) {
		sqlite3_finalize(d->tx[i]);
		d->tx[i] = NULL;
	}
	sqlite3_close_v2(d->db);
	d->db = NULL;
}

static void lite_disconnect(void *conn)
{
	struct lite_conn *c = conn;
	if (c == NULL)
		return;
	db_close(&c->own);
	ts_free(c);
}

static ts_err db_open(const ts_store_t *s, struct lite_db *d, int cache_kib, struct ts_error *e)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	/* NULL: SQLite's default VFS, when the tuning is off */
	const char *vfs = s->opt.sqlite_tuning == TS_SQLITE_TUNING_OFF ? NULL : ts__sqlite_vfs();
	if (vfs == NULL) /* the files are private without our VFS too */
		ts__sqlite_create_private(s->url);
	int rc = sqlite3_open_v2(s->url, &d->db, flags, vfs);
	ts_err r = TS_ERR_OK;
	if (rc != SQLITE_OK) {
		r = lite_error(d->db, rc, s->url, e);
		goto fail;
	}
	sqlite3_extended_result_codes(d->db, 1);
	sqlite3_busy_timeout(d->db, s->opt.busy_timeout_ms);
	/* docs/product.md §2a: WAL with synchronous=NORMAL survives kill -9; FULL survives power
	 * loss */
	char pragmas[256];
	snprintf(pragmas, sizeof pragmas,
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
	         "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-%d;",
	         s->opt.durability == TS_DURABILITY_FULL ? "FULL" : "NORMAL", cache_kib);
	r = db_script(d, pragmas, e);
	if (r != TS_ERR_OK)
		goto fail;
	/* reading the schema fails at once on a file that is not a database */
	r = db_script(d, "SELECT count(*) FROM sqlite_master", e);
	if (r != TS_ERR_OK)
		goto fail;
	return TS_ERR_OK;
fail:
	db_close(d);
	return r;
}

static ts_err lite_connect(ts_store_t *s, void **out, struct ts_error *e)
{
	struct lite_conn *c = ts_calloc(1, sizeof *c);
	c->store = s;
	c->active = &c->own;
	ts_err r = db_open(s, &c->own, LITE_READER_CACHE_KIB, e);
	if (r != TS_ERR_OK) {
		ts_free(c);
		return r;
	}
	*out = c;
	return TS_ERR_OK;
}

/* PostgreSQL's $N placeholders become SQLite's ?N. */
static char *translate(const char *sql)
{
	size_t n = strlen(sql);
	char *out = ts_malloc(n + 1);
	for (size_t i = 0; i <= n; i++)
		out[i] = (sql[i] == '$' && isdigit((unsigned char)sql[i + 1])) ? '?' : sql[i];
	return out;
}

static ts_err prepare(struct lite_db *c, enum ts__store_query q, sqlite3_stmt **out,
                      struct ts_error *e)
{
	if (c->stmts[q] == NULL) {
		char *sql = translate(ts__store_queries[q].sql);
		int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[q],
		                            NULL);
		ts_free(sql);
		if (rc != SQLITE_OK)
			return lite_error(c->db, rc, ts__store_queries[q].name, e);
	}
	*out = c->stmts[q];
	return TS_ERR_OK;
}

static ts_err lite_exec(void *conn, enum ts__store_query q, const struct ts__param *p, int np,
                        struct ts__rows **rows, int64_t *changed, struct ts_error *e)
{
	struct lite_db *c = ((struct lite_conn *)conn)->active;
	sqlite3_stmt *st = NULL;
	ts_err r = prepare(c, q, &st, e);
	if (r != TS_ERR_OK)
		return r;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (int i = 0; i < np; i++) {
		int rc = SQLITE_OK;
		switch (p[i].type) {
		case TS__P_NULL:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		case TS__P_TEXT:
			rc = sqlite3_bind_text(st, i + 1, p[i].text, -1, SQLITE_STATIC);
			break;
		case TS__P_INT:
			rc = sqlite3_bind_int64(st, i + 1, p[i].i);
			break;
		}
		if (rc != SQLITE_OK)
			return lite_error(c->db, rc, ts__store_queries[q].name, e);
	}
	if (rows != NULL) {
		c->rows[q].stmt = st;
		c->rows[q].rc = SQLITE_OK;
		*rows = &c->rows[q];
		return TS_ERR_OK;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		r = lite_error(c->db, rc, ts__store_queries[q].name, e);
		sqlite3_reset(st);
		return r;
	}
	if (changed != NULL)
		*changed = sqlite3_changes64(c->db);
	sqlite3_reset(st);
	return TS_ERR_OK;
}

static bool lite_next(struct ts__rows *r)
{
	r->rc = sqlite3_step(r->stmt);
	if (r->rc != SQLITE_ROW && r->rc != SQLITE_DONE) {
		/* a listing cut short must not pass unnoticed: readers in WAL mode
		 * see this only on I/O errors or corruption */
		ts_log(TS_LOG_ERROR, "sqlite step failed",
		       json_pack("{s:s}", "error", sqlite3_errstr(r->rc)));
		ts__store_count_error();
	}
	return r->rc == SQLITE_ROW;
}

static const char *lite_text(struct ts__rows *r, int col)
{
	return (const char *)sqlite3_column_text(r->stmt, col);
}

static int64_t lite_integer(struct ts__rows *r, int col)
{
	return sqlite3_column_int64(r->stmt, col);
}

static void lite_rows_close(struct ts__rows *r)
{
	sqlite3_reset(r->stmt);
}

static void writer_lock(struct lite_store *ls)
{
	atomic_fetch_add(&ls->want_writer, 1);
	if (pthread_mutex_trylock(&ls->writer) != 0) {
		ts_blocking_begin(); /* a worker pool may run another thread meanwhile */
		pthread_mutex_lock(&ls->writer);
		ts_blocking_end();
	}
	atomic_fetch_sub(&ls->want_writer, 1);
}

static void release_writer(struct lite_conn *c)
{
	c->active = &c->own;
	if (c->holds_writer) {
		c->holds_writer = false;
		pthread_mutex_unlock(&((struct lite_store *)c->store->impl)->writer);
	}
}

/*
 * Under the writer mutex: ends the group's transaction, COMMIT when members
 * wait for it (else ROLLBACK: nothing in it), and tells each member how it
 * went. A transaction SQLite rolled back by itself (an I/O error, a full
 * disk) fails every member.
 */
static ts_err group_end(struct lite_store *ls, struct ts_error *e)
{
	struct lite_db *w = ls->wdb;
	ts_err rc = TS_ERR_OK;
	if (ls->nmembers > 0 && sqlite3_get_autocommit(w->db))
		rc = TS_FAIL(e, TS_ERR_STORE, "the group's transaction was rolled back by SQLite");
	else if (ls->nmembers > 0)
		rc = db_tx(w, LITE_COMMIT, e);
	db_rollback(w); /* no-op after a COMMIT */
	ls->group_open = false;
	pthread_mutex_lock(&ls->done_mu);
	for (struct lite_member *m = ls->members; m; m = m->next) {
		m->rc = rc;
		if (rc != TS_ERR_OK)
			m->err = *e;
		m->done = true;
	}
	ls->members = NULL;
	ls->nmembers = 0;
	pthread_cond_broadcast(&ls->done_cv);
	pthread_mutex_unlock(&ls->done_mu);
	return rc;
}

/*
 * Under the writer mutex, at the end of a write transaction that does not
 * wait for the group (rolled back, or failed to start): leaves the group open
 * for a waiting thread, or ends it.
 */
static void group_pass(struct lite_store *ls)
{
	if (!ls->group_open || atomic_load(&ls->want_writer) > 0)
		return;
	/* members wait with a timeout: an announced write may still join them */
	if (ls->nmembers > 0 && ts__store_writes_soon(ls->store) > 0)
		return;
	struct ts_error ignored = {0};
	(void)group_end(ls, &ignored);
}

/*
 * Copies the WAL back into the database every LITE_CKPT_MS without blocking
 * writers (PASSIVE). Under steady writes a passive checkpoint never catches
 * up with the end of the WAL, so it could grow without end: past
 * LITE_WAL_MAX_FRAMES the checkpointer takes the writer lock and restarts it.
 */
/*
 * The RESTART checkpoint runs with the writer mutex held, so every write waits
 * for it. It has to wait for readers of the old WAL, whose transactions are
 * short: poll every few dozen microseconds instead of SQLite's busy handler,
 * which sleeps 1, 2, 5, 10... milliseconds between tries. Gives up after
 * about 5 s, as the busy timeout would.
 */
static int ckpt_busy(void *arg, int tries)
{
	(void)arg;
	if (tries > 25000)
		return 0;
	struct timespec pause = {0, tries < 500 ? 20000 : 200000};
	nanosleep(&pause, NULL);
	return 1;
}

static void *checkpointer(void *arg)
{
	struct lite_store *ls = arg;
	struct lite_db d = {0};
	struct ts_error e = {0};
	if (db_open(ls->store, &d, LITE_READER_CACHE_KIB, &e) != TS_ERR_OK)
		return NULL;
	sqlite3_busy_handler(d.db, ckpt_busy, NULL);
	/*
	 * A passive checkpoint that does not reach the end of the WAL (under steady
	 * writes, none does) leaves the pages it copied dirty in the kernel without
	 * syncing the database file; the next RESTART would then flush all of them
	 * while holding up every writer. Each pass is synced here instead, outside
	 * the writer lock.
	 */
	int dbfd = open(ls->store->url, O_RDONLY | O_CLOEXEC);
	pthread_mutex_lock(&ls->ckpt_mu);
	while (!ls->ckpt_stop) {
		struct timespec until = ts_deadline(CLOCK_REALTIME, LITE_CKPT_MS * 1000000L);
		pthread_cond_timedwait(&ls->ckpt_cv, &ls->ckpt_mu, &until);
		if (ls->ckpt_stop)
			break;
		pthread_mutex_unlock(&ls->ckpt_mu);
		int frames = 0, done = 0;
		sqlite3_wal_checkpoint_v2(d.db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done);
		if (dbfd >= 0)
			(void)fdatasync(dbfd);
		if (frames > LITE_WAL_MAX_FRAMES) {
			/* catch up while writers go on: each pass copies what came during the last
			 */
			for (int pass = 0; pass < LITE_CATCH_UP_PASSES; pass++) {
				int64_t t0 = ts_mono_ns();
				sqlite3_wal_checkpoint_v2(d.db, NULL, SQLITE_CHECKPOINT_PASSIVE,
				                          NULL, NULL);
				if (dbfd >= 0)
					(void)fdatasync(dbfd);
				if (ts_mono_ns() - t0 < LITE_CATCH_UP_NS)
					break;
			}
			writer_lock(ls);
			if (ls->group_open) {
				struct ts_error ignored = {0};
				(void)group_end(ls, &ignored);
			}
			sqlite3_wal_checkpoint_v2(d.db, NULL, SQLITE_CHECKPOINT_RESTART, &frames,
			                          &done);
			pthread_mutex_unlock(&ls->writer);
		}
		pthread_mutex_lock(&ls->ckpt_mu);
	}
	pthread_mutex_unlock(&ls->ckpt_mu);
	/* a last full pass so that a clean stop leaves a short WAL */
	sqlite3_wal_checkpoint_v2(d.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (dbfd >= 0)
		close(dbfd);
	db_close(&d);
	return NULL;
}

static ts_err lite_begin(void *conn, bool write, struct ts_error *e)
{
	struct lite_conn *c = conn;
	if (!write)
		return db_tx(c->active, LITE_BEGIN, e);
	struct lite_store *ls = c->store->impl;
	writer_lock(ls);
	c->holds_writer = true;
	ts_err rc = TS_ERR_OK;
	if (ls->wdb == NULL) {
		struct lite_db *w = ts_calloc(1, sizeof *w);
		rc = db_open(c->store, w, LITE_WRITER_CACHE_KIB, e);
		if (rc == TS_ERR_OK)
			rc = db_script(w, "PRAGMA wal_autocheckpoint=0", e);
		if (rc != TS_ERR_OK) {
			db_close(w);
			ts_free(w);
		} else {
			ls->wdb = w;
			ls->ckpt_running =
			        pthread_create(&ls->ckpt_thread, NULL, checkpointer, ls) == 0;
		}
	}
	if (rc == TS_ERR_OK && ls->group_open && sqlite3_get_autocommit(ls->wdb->db)) {
		struct ts_error lost = {0};
		(void)group_end(ls, &lost); /* SQLite ended it: its members failed */
	}
	c->bare = false;
	if (rc == TS_ERR_OK && !ls->group_open) {
		rc = db_tx(ls->wdb, LITE_BEGIN_IMMEDIATE, e);
		ls->group_open = c->bare = rc == TS_ERR_OK;
	}
	if (rc == TS_ERR_OK) {
		c->active = ls->wdb;
		if (!c->bare)
			rc = db_tx(c->active, LITE_SAVEPOINT, e);
	}
	if (rc != TS_ERR_OK) {
		if (ls->wdb != NULL)
			group_pass(ls);
		release_writer(c);
	}
	return rc;
}

/* Undoes the current write transaction's savepoint; false when SQLite lost the group's. */
static bool undo_savepoint(struct lite_db *w)
{
	struct ts_error ignored = {0};
	if (sqlite3_get_autocommit(w->db))
		return false;
	if (db_tx(w, LITE_ROLLBACK_TO, &ignored) != TS_ERR_OK ||
	    db_tx(w, LITE_RELEASE, &ignored) != TS_ERR_OK)
		return false;
	return !sqlite3_get_autocommit(w->db);
}

static void end_write(struct lite_conn *c)
{
	struct lite_store *ls = c->store->impl;
	struct ts_error lost = {0};
	if (c->bare || !undo_savepoint(ls->wdb))
		(void)group_end(ls, &lost); /* bare: a group of none but this, rolled back */
	else
		group_pass(ls);
	release_writer(c);
}

static ts_err lite_commit(void *conn, struct ts_error *e)
{
	struct lite_conn *c = conn;
	if (!c->holds_writer) { /* a read transaction */
		ts_err rc = db_tx(c->active, LITE_COMMIT, e);
		if (rc != TS_ERR_OK)
			db_rollback(c->active);
		return rc;
	}
	struct lite_store *ls = c->store->impl;
	ts_err rc = c->bare ? TS_ERR_OK : db_tx(ls->wdb, LITE_RELEASE, e);
	if (rc == TS_ERR_OK && sqlite3_get_autocommit(ls->wdb->db))
		rc = TS_FAIL(e, TS_ERR_STORE, "the transaction was rolled back by SQLite");
	if (rc != TS_ERR_OK) {
		end_write(c);
		return rc;
	}
	struct lite_member me = {0};
	me.next = ls->members;
	ls->members = &me;
	ls->nmembers++;
	bool others = atomic_load(&ls->want_writer) > 0 || ts__store_writes_soon(c->store) > 0;
	if (!others || ls->nmembers >= LITE_GROUP_MAX) {
		rc = group_end(ls, e); /* the last of the group commits for all */
		release_writer(c);
		return rc;
	}
	/*
	 * Another write is waiting for the writer, or announced: it carries the
	 * group on and ends it. Should none come within LITE_GROUP_WAIT_NS, this
	 * thread ends the group itself.
	 */
	release_writer(c);
	ts_blocking_begin();
	struct timespec until = ts_deadline(CLOCK_MONOTONIC, LITE_GROUP_WAIT_NS);
	pthread_mutex_lock(&ls->done_mu);
	while (!me.done && pthread_cond_timedwait(&ls->done_cv, &ls->done_mu, &until) == 0)
		;
	bool done = me.done;
	pthread_mutex_unlock(&ls->done_mu);
	if (!done) {
		writer_lock(ls);
		pthread_mutex_lock(&ls->done_mu);
		done = me.done;
		pthread_mutex_unlock(&ls->done_mu);
		struct ts_error ignored = {0};
		if (!done)
			(void)group_end(ls, &ignored); /* my group is still the open one */
		else
			group_pass(ls);
		pthread_mutex_unlock(&ls->writer);
	}
	ts_blocking_end();
	if (me.rc != TS_ERR_OK)
		*e = me.err;
	return me.rc;
}

static void lite_rollback(void *conn)
{
	struct lite_conn *c = conn;
	if (c->holds_writer)
		end_write(c);
	else
		db_rollback(c->active);
}

static ts_err lite_migrate_lock(void *conn, bool lock, struct ts_error *e)
{
	/* each migration runs in BEGIN IMMEDIATE, which already excludes other writers */
	(void)conn;
	(void)lock;
	(void)e;
	return TS_ERR_OK;
}

const struct ts__store_driver ts__store_sqlite = {
        .name = "sqlite",
        .open = lite_open,
        .close = lite_close,
        .connect = lite_connect,
        .disconnect = lite_disconnect,
        .exec = lite_exec,
        .script = lite_script,
        .next = lite_next,
        .text = lite_text,
        .integer = lite_integer,
        .rows_close = lite_rows_close,
        .begin = lite_begin,
        .commit = lite_commit,
        .rollback = lite_rollback,
        .migrate_lock = lite_migrate_lock,
};
