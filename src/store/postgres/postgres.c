/*
 * The PostgreSQL backend: one libpq connection per thread, catalogue
 * queries prepared once per connection, parameters sent as text. A broken
 * connection is reset before the next statement outside a transaction;
 * inside one the transaction fails and the caller's request with it.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blocking.h"
#include "store/internal.h"

/* Any fixed number: the advisory lock that serializes migrations between nodes. */
#define PG_MIGRATION_LOCK_KEY 7365001
#define PG_MAX_PARAMS 16

struct ts__rows {
	PGresult *res;
	int row, nrows;
};

struct pg_conn {
	PGconn *pg;
	const ts_store_t *store;
	bool prepared[TS__Q__COUNT];
	bool in_tx;
	struct ts__rows rows[TS__Q__COUNT];
};

static ts_err pg_fail(PGconn *pg, PGresult *res, const char *what, struct ts_error *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(pg);
	size_t len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	ts_err code = TS_ERR_STORE;
	if (state != NULL && strcmp(state, "23505") == 0)
		code = TS_ERR_CONFLICT;
	else if (state != NULL && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	                           strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0))
		code = TS_ERR_UNAVAILABLE;
	else if (PQstatus(pg) != CONNECTION_OK)
		code = TS_ERR_UNAVAILABLE;
	return ts_error_set(e, code, "postgres", "%s: %.*s", what, (int)len, msg);
}

static ts_err pg_open(ts_store_t *s, const char *url, bool create, struct ts_error *e)
{
	(void)create;
	if (!PQisthreadsafe())
		return TS_FAIL(e, TS_ERR_STORE, "this libpq is not thread-safe");
	s->impl = s;
	void *probe = NULL;
	ts_err rc = ts__store_postgres.connect(s, &probe, e);
	if (rc != TS_ERR_OK) {
		s->impl = NULL;
		return rc;
	}
	ts__store_postgres.disconnect(probe);
	(void)url;
	return TS_ERR_OK;
}

static void pg_close(ts_store_t *s)
{
	s->impl = NULL;
}

static void pg_disconnect(void *conn)
{
	struct pg_conn *c = conn;
	if (c == NULL)
		return;
	for (int i = 0; i < TS__Q__COUNT; i++)
		PQclear(c->rows[i].res);
	PQfinish(c->pg);
	ts_free(c);
}

static ts_err pg_connect(ts_store_t *s, void **out, struct ts_error *e)
{
	struct pg_conn *c = ts_calloc(1, sizeof *c);
	c->store = s;
	c->pg = PQconnectdb(s->url);
	if (PQstatus(c->pg) != CONNECTION_OK) {
		ts_err rc = pg_fail(c->pg, NULL, "connect", e);
		pg_disconnect(c);
		return rc == TS_ERR_STORE ? TS_ERR_UNAVAILABLE : rc;
	}
	PGresult *res = PQexec(c->pg, "SET client_min_messages = warning");
	PQclear(res);
	*out = c;
	return TS_ERR_OK;
}

/* Outside a transaction a dropped connection is re-established once. */
static ts_err ensure(struct pg_conn *c, struct ts_error *e)
{
	if (PQstatus(c->pg) == CONNECTION_OK)
		return TS_ERR_OK;
	if (c->in_tx)
		return pg_fail(c->pg, NULL, "connection lost inside a transaction", e);
	PQreset(c->pg);
	memset(c->prepared, 0, sizeof c->prepared);
	if (PQstatus(c->pg) != CONNECTION_OK)
		return pg_fail(c->pg, NULL, "reconnect", e);
	return TS_ERR_OK;
}

static ts_err pg_script(void *conn, const char *sql, struct ts_error *e)
{
	struct pg_conn *c = conn;
	ts_err rc = ensure(c, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_blocking_begin();
	PGresult *res = PQexec(c->pg, sql);
	ts_blocking_end();
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_fail(c->pg, res, "script", e);
	PQclear(res);
	return rc;
}

static ts_err pg_exec(void *conn, enum ts__store_query q, const struct ts__param *p, int np,
                      struct ts__rows **rows, int64_t *changed, struct ts_error *e)
{
	struct pg_conn *c = conn;
	if (np > PG_MAX_PARAMS)
		return TS_FAIL(e, TS_ERR_INTERNAL, "too many parameters");
	ts_err rc = ensure(c, e);
	if (rc != TS_ERR_OK)
		return rc;
	char name[16];
	snprintf(name, sizeof name, "q%d", (int)q);
	if (!c->prepared[q]) {
		const char *sql = ts__store_queries[q].pg ? ts__store_queries[q].pg
		                                          : ts__store_queries[q].sql;
		PGresult *res = PQprepare(c->pg, name, sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pg_fail(c->pg, res, ts__store_queries[q].name, e);
			PQclear(res);
			return rc;
		}
		PQclear(res);
		c->prepared[q] = true;
	}
	const char *values[PG_MAX_PARAMS];
	char ints[PG_MAX_PARAMS][24];
	for (int i = 0; i < np; i++) {
		switch (p[i].type) {
		case TS__P_NULL:
			values[i] = NULL;
			break;
		case TS__P_TEXT:
			values[i] = p[i].text;
			break;
		case TS__P_INT:
			snprintf(ints[i], sizeof ints[i], "%lld", (long long)p[i].i);
			values[i] = ints[i];
			break;
		}
	}
	ts_blocking_begin(); /* a round trip to the server: a worker pool may run another thread */
	PGresult *res = PQexecPrepared(c->pg, name, np, values, NULL, NULL, 0);
	ts_blocking_end();
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = pg_fail(c->pg, res, ts__store_queries[q].name, e);
		PQclear(res);
		return rc;
	}
	if (changed != NULL) {
		const char *t = PQcmdTuples(res);
		*changed = (t && *t) ? strtoll(t, NULL, 10) : 0;
	}
	if (rows != NULL) {
		struct ts__rows *r = &c->rows[q];
		PQclear(r->res);
		r->res = res;
		r->row = -1;
		r->nrows = PQntuples(res);
		*rows = r;
	} else {
		PQclear(res);
	}
	return TS_ERR_OK;
}

static bool pg_next(struct ts__rows *r)
{
	return ++r->row < r->nrows;
}

static const char *pg_text(struct ts__rows *r, int col)
{
	return PQgetisnull(r->res, r->row, col) ? NULL : PQgetvalue(r->res, r->row, col);
}

static int64_t pg_integer(struct ts__rows *r, int col)
{
	const char *t = pg_text(r, col);
	return t ? strtoll(t, NULL, 10) : 0;
}

static void pg_rows_close(struct ts__rows *r)
{
	PQclear(r->res);
	r->res = NULL;
	r->nrows = 0;
}

static ts_err pg_begin(void *conn, bool write, struct ts_error *e)
{
	struct pg_conn *c = conn;
	(void)write;
	ts_err rc = pg_script(c, "BEGIN", e);
	if (rc == TS_ERR_OK)
		c->in_tx = true;
	return rc;
}

static ts_err pg_commit(void *conn, struct ts_error *e)
{
	struct pg_conn *c = conn;
	ts_blocking_begin();
	PGresult *res = PQexec(c->pg, "COMMIT");
	ts_blocking_end();
	ts_err rc = TS_ERR_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(c->pg, res, "commit", e);
	else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) /* the transaction had failed */
		rc = TS_FAIL(e, TS_ERR_STORE, "commit rolled back: the transaction had failed");
	PQclear(res);
	c->in_tx = false;
	return rc;
}

static void pg_rollback(void *conn)
{
	struct pg_conn *c = conn;
	if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		PGresult *res = PQexec(c->pg, "ROLLBACK");
		PQclear(res);
	}
	c->in_tx = false;
}

static ts_err pg_migrate_lock(void *conn, bool lock, struct ts_error *e)
{
	char sql[64];
	snprintf(sql, sizeof sql, "SELECT pg_advisory_%slock(%d)", lock ? "" : "un",
	         PG_MIGRATION_LOCK_KEY);
	return pg_script(conn, sql, e);
}

const struct ts__store_driver ts__store_postgres = {
        .name = "postgres",
        .open = pg_open,
        .close = pg_close,
        .connect = pg_connect,
        .disconnect = pg_disconnect,
        .exec = pg_exec,
        .script = pg_script,
        .next = pg_next,
        .text = pg_text,
        .integer = pg_integer,
        .rows_close = pg_rows_close,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .migrate_lock = pg_migrate_lock,
};
