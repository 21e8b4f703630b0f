/*
 * The SQLite backend: one connection per thread, WAL journal so that readers
 * never wait for the one writer, write transactions that take the writer
 * lock up front (BEGIN IMMEDIATE, no lock upgrades that could deadlock), a
 * busy timeout, foreign keys on, and each catalogue query prepared once per
 * connection.
 */
#include <ctype.h>
#include <stdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "store/internal.h"

struct ts__rows {
	sqlite3_stmt *stmt;
	int rc;
};

struct lite_conn {
	sqlite3 *db;
	const ts_store_t *store;
	sqlite3_stmt *stmts[TS__Q__COUNT];
	struct ts__rows rows[TS__Q__COUNT];
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

static ts_err lite_open(ts_store_t *s, const char *url, bool create, struct ts_error *e)
{
	struct stat st;
	if (stat(url, &st) != 0) {
		if (!create)
			return TS_FAIL(e, TS_ERR_IO, "store %s does not exist (run tessera init)", url);
	} else if (!S_ISREG(st.st_mode)) {
		return TS_FAIL(e, TS_ERR_IO, "store %s is not a regular file", url);
	} else if (access(url, R_OK | W_OK) != 0) {
		return TS_FAIL(e, TS_ERR_IO, "store %s is not readable and writable", url);
	}
	if (sqlite3_threadsafe() == 0)
		return TS_FAIL(e, TS_ERR_STORE, "this SQLite is built without thread support");
	s->impl = s; /* no shared state beyond the path */
	/* a first connection proves the file is a database we can use */
	void *probe = NULL;
	ts_err rc = ts__store_sqlite.connect(s, &probe, e);
	if (rc != TS_ERR_OK) {
		s->impl = NULL;
		return rc;
	}
	ts__store_sqlite.disconnect(probe);
	return TS_ERR_OK;
}

static void lite_close(ts_store_t *s)
{
	s->impl = NULL;
}

static ts_err lite_script(void *conn, const char *sql, struct ts_error *e)
{
	struct lite_conn *c = conn;
	char *err = NULL;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		ts_err r = lite_error(c->db, rc, "script", e);
		sqlite3_free(err);
		return r;
	}
	return TS_ERR_OK;
}

static void lite_disconnect(void *conn)
{
	struct lite_conn *c = conn;
	if (c == NULL)
		return;
	for (int i = 0; i < TS__Q__COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	sqlite3_close_v2(c->db);
	ts_free(c);
}

static ts_err lite_connect(ts_store_t *s, void **out, struct ts_error *e)
{
	struct lite_conn *c = ts_calloc(1, sizeof *c);
	c->store = s;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(s->url, &c->db, flags, NULL);
	ts_err r = TS_ERR_OK;
	if (rc != SQLITE_OK) {
		r = lite_error(c->db, rc, s->url, e);
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, s->opt.busy_timeout_ms);
	/* SPEC 2a: WAL with synchronous=NORMAL survives kill -9; FULL survives power loss */
	char pragmas[256];
	snprintf(pragmas, sizeof pragmas,
		 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
		 "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
		 s->opt.durability == TS_DURABILITY_FULL ? "FULL" : "NORMAL");
	r = lite_script(c, pragmas, e);
	if (r != TS_ERR_OK)
		goto fail;
	/* reading the schema fails at once on a file that is not a database */
	r = lite_script(c, "SELECT count(*) FROM sqlite_master", e);
	if (r != TS_ERR_OK)
		goto fail;
	*out = c;
	return TS_ERR_OK;
fail:
	lite_disconnect(c);
	return r;
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

static ts_err prepare(struct lite_conn *c, enum ts__store_query q, sqlite3_stmt **out,
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
	struct lite_conn *c = conn;
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

static ts_err lite_begin(void *conn, bool write, struct ts_error *e)
{
	return lite_script(conn, write ? "BEGIN IMMEDIATE" : "BEGIN", e);
}

static ts_err lite_commit(void *conn, struct ts_error *e)
{
	return lite_script(conn, "COMMIT", e);
}

static void lite_rollback(void *conn)
{
	struct lite_conn *c = conn;
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
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
