/*
 * Unit tests for the SQLite driver's own parts under SQLite: the VFS that
 * writes a commit's WAL frames at once (store/sqlite/vfs.c) and the page
 * cache wrapper (store/sqlite/pcache.c), and the allocator's per-thread
 * caches (store/sqlite/mem.c), under AddressSanitizer as well.
 *
 * A commit is proven durable the way a crash would test it: the database and
 * its WAL are copied without the shared-memory index, and SQLite's recovery
 * rebuilds the index from the WAL, checking every frame's checksum and
 * stopping at the first frame that is missing or wrong. Whatever a commit
 * held back and did not write would be lost there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#if !TS_ALLOC_RECYCLE /* built with AddressSanitizer (core/alloc.h) */
#include <sanitizer/asan_interface.h>
#endif

#include "core/alloc.h"
#include "store/sqlite/mem.h"
#include "store/sqlite/pcache.h"
#include "store/queries_signins.h"
#include "store/signins.h"
#include "store/sqlite/vfs.h"

struct dir {
	char path[64];
	char db[96];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof *d);
	snprintf(d->path, sizeof d->path, "/tmp/ts-vfs-XXXXXX");
	if (mkdtemp(d->path) == NULL)
		return -1;
	snprintf(d->db, sizeof d->db, "%s/t.db", d->path);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", d->path);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static int64_t one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A connection through the store's VFS (vfs NULL: SQLite's default), never checkpointing. */
static sqlite3 *open_db(const char *path, const char *vfs, const char *sync, int cache_pages)
{
	sqlite3 *db = NULL;
	assert_int_equal(
	        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
	        SQLITE_OK);
	char sql[256];
	snprintf(sql, sizeof sql,
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=%d;"
	         "PRAGMA wal_autocheckpoint=0;",
	         sync, cache_pages);
	exec(db, sql);
	return db;
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb");
	assert_non_null(in);
	FILE *out = fopen(to, "wb");
	assert_non_null(out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* The database as a crash would leave it: the file and the WAL, no index; opened by plain SQLite.
 */
static sqlite3 *after_crash(const struct dir *d, const char *name)
{
	char db[128], wal[140], from_wal[140];
	snprintf(db, sizeof db, "%s/%s", d->path, name);
	snprintf(wal, sizeof wal, "%s-wal", db);
	snprintf(from_wal, sizeof from_wal, "%s-wal", d->db);
	copy_file(d->db, db);
	copy_file(from_wal, wal);
	sqlite3 *c = NULL;
	assert_int_equal(sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return c;
}

static void assert_intact(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

static const char *const schema =
        "CREATE TABLE t(k INTEGER PRIMARY KEY, name TEXT NOT NULL, v BLOB);"
        "CREATE INDEX t_name ON t(name);"
        "CREATE TABLE e(name TEXT PRIMARY KEY, k INTEGER) WITHOUT ROWID;";

/* n rows from k = first, names in an order that splits index pages out of order */
static void insert_rows(sqlite3 *db, int first, int n, int blob)
{
	char sql[256];
	snprintf(sql, sizeof sql,
	         "WITH RECURSIVE s(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM s WHERE i < %d)"
	         " INSERT INTO t SELECT i, printf('%%08x', (i * 2654435761) %% 4294967296),"
	         " randomblob(%d) FROM s",
	         first, first + n - 1, blob);
	exec(db, sql);
	snprintf(sql, sizeof sql, "INSERT INTO e SELECT name, k FROM t WHERE k >= %d AND k < %d",
	         first, first + n);
	exec(db, sql);
}

/*
 * Commits big (more than the VFS holds at once) and small are seen at once
 * by another connection, and survive a crash whole.
 */
static void commits_visible_and_durable(void **state)
{
	struct dir *d = *state;
	sqlite3 *w = open_db(d->db, ts__sqlite_vfs(), "NORMAL", 2000);
	sqlite3 *r = open_db(d->db, NULL, "NORMAL", 2000);
	exec(w, schema);
	exec(w, "BEGIN");
	insert_rows(w, 1, 400, 1000); /* about 500 KiB of frames */
	exec(w, "COMMIT");
	assert_int_equal(one(r, "SELECT count(*) FROM t"), 400);
	assert_int_equal(one(r, "SELECT count(*) FROM e"), 400);
	for (int i = 0; i < 60; i++) {
		insert_rows(w, 401 + i, 1, 100);
		assert_int_equal(one(r, "SELECT count(*) FROM t"), 401 + i);
	}
	int64_t bytes = one(w, "SELECT sum(length(v)) FROM t");
	sqlite3 *c = after_crash(d, "crash.db");
	assert_int_equal(one(c, "SELECT count(*) FROM t"), 460);
	assert_int_equal(one(c, "SELECT count(*) FROM e"), 460);
	assert_int_equal(one(c, "SELECT sum(length(v)) FROM t"), bytes);
	assert_intact(c);
	sqlite3_close(c);
	sqlite3_close(r);
	sqlite3_close(w);
}

/*
 * A transaction larger than the page cache writes frames before its commit
 * (a spill) and rewrites some of them in place, then fixes their checksums
 * after the commit frame; a rolled-back spill leaves frames past the end that
 * the next transaction writes over. Both reach the file as SQLite means them.
 */
static void spills_rewrites_and_rollbacks(void **state)
{
	struct dir *d = *state;
	sqlite3 *w = open_db(d->db, ts__sqlite_vfs(), "NORMAL", 10);
	sqlite3 *r = open_db(d->db, NULL, "NORMAL", 2000);
	exec(w, schema);
	exec(w, "BEGIN");
	insert_rows(w, 1, 300, 2000);
	exec(w, "UPDATE t SET v = randomblob(1500), name = name || 'x'");
	exec(w, "UPDATE e SET k = -k");
	exec(w, "COMMIT");
	/* at once: the checksums rewritten after the commit frame are on disk */
	sqlite3 *c = after_crash(d, "commit.db");
	assert_int_equal(one(c, "SELECT count(*) FROM t WHERE name LIKE '%x'"), 300);
	assert_int_equal(one(c, "SELECT count(*) FROM e WHERE k < 0"), 300);
	assert_intact(c);
	sqlite3_close(c);
	exec(w, "BEGIN");
	insert_rows(w, 1001, 300, 2000);
	exec(w, "ROLLBACK");
	insert_rows(w, 2001, 5, 10);
	exec(w, "BEGIN");
	insert_rows(w, 3001, 200, 3000);
	exec(w, "DELETE FROM t WHERE k % 3 = 0");
	exec(w, "COMMIT");
	int64_t rows = one(w, "SELECT count(*) FROM t");
	int64_t bytes = one(w, "SELECT sum(length(v)) FROM t");
	int64_t names = one(w, "SELECT count(*) FROM t WHERE name LIKE '%x'");
	assert_int_equal(one(r, "SELECT count(*) FROM t"), rows);
	assert_int_equal(one(r, "SELECT sum(length(v)) FROM t"), bytes);
	assert_int_equal(one(r, "SELECT count(*) FROM e WHERE k < 0"), 300);
	c = after_crash(d, "crash.db");
	assert_int_equal(one(c, "SELECT count(*) FROM t"), rows);
	assert_int_equal(one(c, "SELECT sum(length(v)) FROM t"), bytes);
	assert_int_equal(one(c, "SELECT count(*) FROM t WHERE name LIKE '%x'"), names);
	assert_int_equal(one(c, "SELECT count(*) FROM t WHERE k BETWEEN 1001 AND 1300"), 0);
	assert_intact(c);
	sqlite3_close(c);
	sqlite3_close(r);
	sqlite3_close(w);
}

/* synchronous=FULL syncs each commit, padding frames included; a RESTART starts the WAL over. */
static void full_sync_and_restart(void **state)
{
	struct dir *d = *state;
	sqlite3 *w = open_db(d->db, ts__sqlite_vfs(), "FULL", 2000);
	exec(w, schema);
	for (int i = 0; i < 20; i++)
		insert_rows(w, 1 + 10 * i, 10, 500);
	assert_int_equal(sqlite3_wal_checkpoint_v2(w, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL),
	                 SQLITE_OK);
	for (int i = 20; i < 40; i++)
		insert_rows(w, 1 + 10 * i, 10, 500);
	sqlite3 *c = after_crash(d, "crash.db");
	assert_int_equal(one(c, "SELECT count(*) FROM t"), 400);
	assert_int_equal(one(c, "SELECT count(*) FROM e"), 400);
	assert_intact(c);
	sqlite3_close(c);
	sqlite3_close(w);
}

/*
 * A WAL write that fails (here: past the file size limit) fails the COMMIT
 * that holds it, and leaves nothing half done: the data before it is whole,
 * and the next commit works.
 */
static void failed_write_fails_the_commit(void **state)
{
	struct dir *d = *state;
	sqlite3 *w = open_db(d->db, ts__sqlite_vfs(), "NORMAL", 2000);
	exec(w, schema);
	insert_rows(w, 1, 50, 100);
	char wal[128];
	snprintf(wal, sizeof wal, "%s-wal", d->db);
	struct stat st;
	assert_int_equal(stat(wal, &st), 0);
	struct rlimit old;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	struct rlimit low = {(rlim_t)st.st_size + 16 * 1024, old.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	exec(w, "BEGIN");
	insert_rows(w, 1001, 20, 3000); /* some 80 KiB, held until the commit: past the limit */
	char *err = NULL;
	int rc = sqlite3_exec(w, "COMMIT", NULL, NULL, &err);
	sqlite3_free(err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);
	assert_int_not_equal(rc, SQLITE_OK);
	if (!sqlite3_get_autocommit(w))
		exec(w, "ROLLBACK");
	assert_int_equal(one(w, "SELECT count(*) FROM t"), 50);
	insert_rows(w, 2001, 10, 100);
	assert_int_equal(one(w, "SELECT count(*) FROM t"), 60);
	sqlite3 *c = after_crash(d, "crash.db");
	assert_int_equal(one(c, "SELECT count(*) FROM t"), 60);
	assert_int_equal(one(c, "SELECT count(*) FROM t WHERE k > 1000 AND k < 2000"), 0);
	assert_intact(c);
	sqlite3_close(c);
	sqlite3_close(w);
}

/* the page cache methods installed (read before SQLite starts: it refuses after) */
static sqlite3_pcache_methods2 installed;

/*
 * A spy between the wrapper and pcache1: the page numbers pcache1 is given.
 * Installed before the wrapper, which takes it for SQLite's own cache.
 */
static sqlite3_pcache_methods2 pcache1;
static unsigned spy_max_key, spy_rekeys;

static sqlite3_pcache_page *spy_fetch(sqlite3_pcache *p, unsigned key, int create)
{
	if (create && key > spy_max_key)
		spy_max_key = key;
	return pcache1.xFetch(p, key, create);
}

static void spy_rekey(sqlite3_pcache *p, sqlite3_pcache_page *page, unsigned from, unsigned to)
{
	spy_rekeys++;
	if (to > spy_max_key)
		spy_max_key = to;
	pcache1.xRekey(p, page, from, to);
}

/*
 * The page cache hands pcache1 page 0 for SQLite's spare page number (the
 * page after the lock byte's, which a b-tree split moves pages through):
 * fetching, moving to and from it, and truncating behave as with any other
 * number. A database under splits and savepoints stays whole.
 */
static void page_cache_spare_number(void **state)
{
	(void)state;
	const sqlite3_pcache_methods2 *m = &installed;
	const unsigned spare = 0x40000000u / 4096 + 1; /* 262145 */
	sqlite3_pcache *pc = m->xCreate(4096, 64, 1);
	assert_non_null(pc);
	m->xCachesize(pc, 100);
	sqlite3_pcache_page *p = m->xFetch(pc, 5, 2);
	assert_non_null(p);
	memset(p->pBuf, 0xab, 4096);
	assert_int_equal(m->xPagecount(pc), 1);
	m->xRekey(pc, p, 5, spare);
	assert_ptr_equal(m->xFetch(pc, spare, 0), p);
	assert_null(m->xFetch(pc, 5, 0));
	m->xRekey(pc, p, spare, 7);
	assert_ptr_equal(m->xFetch(pc, 7, 0), p);
	assert_null(m->xFetch(pc, spare, 0));
	assert_int_equal(((unsigned char *)p->pBuf)[4095], 0xab);
	m->xUnpin(pc, p, 0);
	m->xTruncate(pc, 8); /* keeps page 7 */
	assert_ptr_equal(m->xFetch(pc, 7, 0), p);
	m->xUnpin(pc, p, 0);
	m->xTruncate(pc, 7);
	assert_null(m->xFetch(pc, 7, 0));
	assert_int_equal(m->xPagecount(pc), 0);
	m->xDestroy(pc);
}

static void page_cache_under_splits(void **state)
{
	struct dir *d = *state;
	sqlite3 *w = open_db(d->db, ts__sqlite_vfs(), "NORMAL", 200);
	exec(w, schema);
	for (int i = 0; i < 40; i++) {
		exec(w, "BEGIN");
		insert_rows(w, 1 + 100 * i, 100, 50);
		exec(w, "SAVEPOINT s");
		insert_rows(w, 100001 + 100 * i, 50, 50);
		exec(w, i % 2 ? "ROLLBACK TO s" : "RELEASE s");
		exec(w, "COMMIT");
	}
	assert_int_equal(one(w, "SELECT count(*) FROM t"), 4000 + 20 * 50);
	assert_int_equal(one(w, "SELECT count(*) FROM e"), 4000 + 20 * 50);
	assert_intact(w);
	/* splits moved pages through the spare number, which pcache1 never saw */
	assert_true(spy_rekeys > 0);
	assert_true(spy_max_key < 0x40000000u / 4096 + 1);
	sqlite3_close(w);
}

/*
 * A small block SQLite frees waits in the thread's cache and is the next one
 * of its class handed out; under AddressSanitizer it is poisoned while it
 * waits (mem.c), so the sanitizer builds run the recycling and still see a
 * use of a freed block.
 */
static void allocator_recycles(void **state)
{
	(void)state;
	char *p = sqlite3_malloc(100);
	assert_non_null(p);
	assert_int_equal(sqlite3_msize(p), 128); /* its class */
	memset(p, 0x5a, 100);
	sqlite3_free(p);
#if !TS_ALLOC_RECYCLE
	assert_true(__asan_address_is_poisoned(p));
	assert_true(__asan_address_is_poisoned(p + 99));
#endif
	char *q = sqlite3_malloc(120);
	assert_ptr_equal(q, p);
#if !TS_ALLOC_RECYCLE
	assert_false(__asan_address_is_poisoned(q));
	assert_false(__asan_address_is_poisoned(q + 127));
#endif
	char *r = sqlite3_realloc(q, 1000); /* moves to the 1 KiB class */
	assert_non_null(r);
	assert_int_equal(sqlite3_msize(r), 1024);
	assert_int_equal((unsigned char)r[99], 0x5a);
	sqlite3_free(r);
	void *big = sqlite3_malloc(5000); /* above the classes: not rounded, not cached */
	assert_int_equal(sqlite3_msize(big), 5000);
	sqlite3_free(big);
}

/* Concatenated attempt_seq of the rows a query returns, in its order. */
static void seqs(sqlite3 *db, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	size_t n = 0;
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "%lld,",
		                      (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
}

/*
 * The sign-in attempts' trim (store/queries_signins.h) on SQLite keeps a
 * group's newest TS_STORE_SIGNIN_KEEP in the order (time_ms, attempt_seq),
 * ties in time included, and touches no other group; a group within the
 * limit loses nothing.
 */
static void signin_trim_keeps_newest(void **state)
{
	(void)state;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	exec(db, "CREATE TABLE signin_attempts (attempt_seq INTEGER PRIMARY KEY, account_id TEXT "
	         "NOT NULL, user_id TEXT, identity TEXT NOT NULL, time_ms BIGINT NOT NULL);"
	         "CREATE INDEX by_user ON signin_attempts (account_id, user_id, time_ms) "
	         "WHERE user_id IS NOT NULL;"
	         "CREATE INDEX by_identity ON signin_attempts (account_id, identity, time_ms);");
	/* times that go back and repeat, so that neither order alone is the answer */
	char sql[256];
	for (int i = 0; i < 3 * TS_STORE_SIGNIN_KEEP; i++) {
		snprintf(sql, sizeof sql,
		         "INSERT INTO signin_attempts (account_id, user_id, identity, time_ms) "
		         "VALUES ('a', 'u1', 'x', %d), ('a', NULL, 'x', %d), ('b', 'u1', 'x', %d)",
		         (i * 7) % 11, (i * 5) % 3, i);
		exec(db, sql);
	}
	exec(db, "INSERT INTO signin_attempts (account_id, user_id, identity, time_ms) "
	         "VALUES ('a', 'u2', 'y', 1)");
	static const char *const group[] = {
	        "account_id = 'a' AND user_id = 'u1'",
	        "account_id = 'a' AND user_id IS NULL AND identity = 'x'",
	        "account_id = 'b'",
	        "account_id = 'a' AND user_id = 'u2'",
	};
	char want[4][1024], got[1024];
	for (int g = 0; g < 4; g++) {
		snprintf(sql, sizeof sql,
		         "SELECT attempt_seq FROM signin_attempts WHERE %s "
		         "ORDER BY time_ms DESC, attempt_seq DESC LIMIT %d",
		         group[g], TS_STORE_SIGNIN_KEEP);
		seqs(db, sql, want[g], sizeof want[g]);
	}
	static const char *const trims[] = {
	        TS__SIGNIN_TRIM_LITE("account_id = $1 AND user_id = $2"),
	        TS__SIGNIN_TRIM_LITE("account_id = $1 AND user_id IS NULL AND identity = $2"),
	};
	static const char *const keys[][2] = {{"a", "u1"}, {"a", "x"}, {"a", "u2"}};
	for (int t = 0; t < 3; t++) {
		sqlite3_stmt *st = NULL;
		assert_int_equal(sqlite3_prepare_v2(db, trims[t == 1], -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_text(st, 1, keys[t][0], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, keys[t][1], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, TS_STORE_SIGNIN_KEEP);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	for (int g = 0; g < 4; g++) {
		snprintf(sql, sizeof sql,
		         "SELECT attempt_seq FROM signin_attempts WHERE %s "
		         "ORDER BY time_ms DESC, attempt_seq DESC",
		         group[g]);
		seqs(db, sql, got, sizeof got);
		if (g == 2) /* not trimmed: all of it is still there */
			assert_int_equal(one(db, "SELECT count(*) FROM signin_attempts "
			                         "WHERE account_id = 'b'"),
			                 3 * TS_STORE_SIGNIN_KEEP);
		else
			assert_string_equal(got, want[g]);
	}
	sqlite3_close(db);
}

int main(void)
{
	/* the store's allocator, as the store installs it before SQLite's first use */
	ts__sqlite_mem_install();
	/* before SQLite's first use, as the store does; the spy under the wrapper */
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &pcache1) != SQLITE_OK)
		return 1;
	sqlite3_pcache_methods2 spy = pcache1;
	spy.xFetch = spy_fetch;
	spy.xRekey = spy_rekey;
	if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &spy) != SQLITE_OK)
		return 1;
	ts__sqlite_pcache_install();
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &installed) != SQLITE_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(commits_visible_and_durable, setup, teardown),
	        cmocka_unit_test_setup_teardown(spills_rewrites_and_rollbacks, setup, teardown),
	        cmocka_unit_test_setup_teardown(full_sync_and_restart, setup, teardown),
	        cmocka_unit_test_setup_teardown(failed_write_fails_the_commit, setup, teardown),
	        cmocka_unit_test(page_cache_spare_number),
	        cmocka_unit_test_setup_teardown(page_cache_under_splits, setup, teardown),
	        cmocka_unit_test(allocator_recycles),
	        cmocka_unit_test(signin_trim_keeps_newest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
