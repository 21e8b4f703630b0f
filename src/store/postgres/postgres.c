/*
 * The PostgreSQL backend: one libpq connection per thread, catalogue
 * queries prepared once per connection, parameters sent as text.
 *
 * Transactions (docs/store.md): a read runs at REPEATABLE READ READ ONLY, so
 * every statement of it sees one snapshot (a SCIM list's totalResults and its
 * page agree); a write runs at READ COMMITTED and reads what it will change
 * with SELECT ... FOR UPDATE (the *_get_for_update reads) or changes it in a
 * single statement, so concurrent writers queue on the rows they share and
 * never write back a stale copy. A serialization failure or deadlock is
 * TS_ERR_RETRY and a lost connection TS_ERR_UNAVAILABLE: the caller runs the
 * transaction again (ts_store_tx_retry), and the connection is re-established
 * before the next statement outside a transaction.
 *
 * Round trips are what a request pays for on this backend, so a transaction
 * costs as few as its statements allow: BEGIN is not sent on its own but in
 * one pipeline (libpq pipeline mode, PostgreSQL protocol 3.0 section 55.2.4)
 * with the transaction's first statement, and a read's COMMIT or ROLLBACK is
 * sent without waiting for its answer, which the next use of the connection
 * collects (a read-only transaction has nothing to lose at its end). A write
 * waits for its COMMIT, but the statements before it whose answer nobody
 * reads (deferrable(): a user's emails, the audit event, the sealer's links,
 * a new session or refresh token, a sign-in attempt)
 * are sent without waiting and answered in COMMIT's round trip. Every write appends
 * an audit event, whose seq comes from a sequence: on a connection whose
 * last write took one, the next write's is fetched in the same pipeline as
 * its BEGIN (one that goes unused leaves a gap, as a rolled-back nextval
 * does; the chain's own numbering, not seq, is what shows a deletion).
 *
 * A write of one statement (ts__store_get_one_alone) sends BEGIN, the
 * statement and COMMIT in one pipeline: one round trip, with the row read
 * after the commit. When it is relaxed, SET LOCAL synchronous_commit TO off
 * goes before COMMIT in the same pipeline.
 *
 * Two kinds of statement need no transaction at all. The credential checks
 * (fresh_query) read what is committed now, which is what a transaction's
 * snapshot taken a moment later would show too, so they run before BEGIN is
 * sent. And a read that declares its one remaining statement
 * (ts_store_read_one) runs it alone: one statement is one snapshot.
 *
 * The credentials generation, read at the start of every SCIM request, is
 * not waited for either: inside a transaction that has sent nothing yet,
 * the value this connection read less than PG_GEN_FRESH_NS ago is handed
 * out (gen_check), and the generation is read again in the pipeline of the
 * transaction's first round trip, ahead of its statements; at COMMIT when
 * it sent none. When it moved, that round trip or COMMIT fails with
 * TS_ERR_RETRY and the caller runs the whole transaction again, checking
 * the credentials afresh. So nothing is read, written or committed on a
 * stale check; only a refusal decided without the store (a rollback before
 * any statement) may rest on a generation that old. A SCIM filter lookup
 * thus waits on the server once, and a SCIM create twice (BEGIN, the
 * generation, the seq and the insert; the emails, the event and COMMIT).
 *
 * Every round trip to the server (connect, reset, statements, COMMIT,
 * ROLLBACK) is wrapped in ts_blocking_begin/end, so the worker pool can run
 * another thread meanwhile; each is bounded by the store's timeouts.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blocking.h"
#include "core/timeutil.h"
#include "store/internal.h"

/* Any fixed number: the advisory lock that serializes migrations between nodes. */
#define PG_MIGRATION_LOCK_KEY 7365001
#define PG_MAX_PARAMS 16
#define PG_SETUP_MAX 256
#define PG_NAME_MAX 16 /* a prepared statement's name: "q" and the query's number */
/*
 * How old a generation read on this connection may be and still be handed
 * out unread (file comment): only a refusal decided without any statement
 * (a body or a filter refused) can rest on it unchecked.
 */
#define PG_GEN_FRESH_NS (100 * 1000 * 1000LL)
#define PG_GEN_MOVED "the credentials generation moved since it was handed out: run again"

/* PostgreSQL Appendix A (error codes): what each class means to a caller. */
#define PG_UNIQUE_VIOLATION "23505"
#define PG_FOREIGN_KEY_VIOLATION "23503"
#define PG_SERIALIZATION_FAILURE "40001"
#define PG_DEADLOCK_DETECTED "40P01"
#define PG_LOCK_NOT_AVAILABLE "55P03" /* lock_timeout */
#define PG_QUERY_CANCELED "57014"     /* statement_timeout */
#define PG_CLASS_CONNECTION "08"
#define PG_CLASS_RESOURCES "53"              /* too many connections, out of memory or disk */
#define PG_CLASS_OPERATOR_INTERVENTION "57P" /* shutting down, cannot connect now */

struct ts__rows {
	PGresult *res;
	int row, nrows;
};

/* How a transaction stands on its connection (file comment). */
enum pg_tx {
	PG_TX_NONE,      /* outside a transaction */
	PG_TX_PENDING,   /* begun, BEGIN not sent yet: it goes with the first statement */
	PG_TX_OPEN,      /* BEGIN sent and answered */
	PG_TX_ONE,       /* a read whose one statement runs alone (ts_store_read_one) */
	PG_TX_ONE_RAN,   /* that statement ran (store.c refuses another) */
	PG_TX_ALONE,     /* a write whose one statement goes with BEGIN and COMMIT (write_alone) */
	PG_TX_ALONE_RAN, /* that pipeline ran: its COMMIT's answer is in alone_commit */
};

struct pg_conn {
	PGconn *pg;
	const ts_store_t *store;
	bool prepared[TS__Q__COUNT];
	enum pg_tx tx;
	bool tx_write;
	bool relaxed; /* ts_store_tx_relaxed: the write's COMMIT does not wait for the WAL */
	PGresult *alone_commit; /* PG_TX_ALONE_RAN: COMMIT's answer (NULL: none came) */
	bool unread;            /* a read's COMMIT or ROLLBACK was sent and its answer not read */
	PGresult *next_seq;     /* a write's audit seq, fetched with its BEGIN (file comment) */
	bool seq_taken;         /* this write took an audit seq */
	bool audits;            /* the last write on this connection did: the next likely will */
	bool was_alone; /* the last write was a write alone, which says nothing of the next */
	int deferred;   /* statements sent in the open pipeline, their answers not read */
	/* the credentials generation as last read on this connection, and when (file comment) */
	int64_t gen, gen_ns;
	bool gen_known;
	bool gen_check; /* gen was handed out unread: the next round trip reads it again */
	struct ts__rows rows[TS__Q__COUNT];
};

static const char PG_BEGIN_WRITE[] = "BEGIN";
static const char PG_BEGIN_READ[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
/* ts_store_tx_relaxed, before a write's COMMIT (the WAL is written, not waited for) */
#define PG_RELAXED "SET LOCAL synchronous_commit TO off"

static ts_err pg_fail(PGconn *pg, PGresult *res, const char *what, struct ts_error *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(pg);
	size_t len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	ts_err code = TS_ERR_STORE;
	if (state == NULL)
		state = "";
	if (strcmp(state, PG_UNIQUE_VIOLATION) == 0)
		code = TS_ERR_CONFLICT;
	else if (strcmp(state, PG_SERIALIZATION_FAILURE) == 0 ||
	         strcmp(state, PG_DEADLOCK_DETECTED) == 0)
		code = TS_ERR_RETRY; /* this transaction lost to another: run it again */
	else if (strcmp(state, PG_FOREIGN_KEY_VIOLATION) == 0)
		/*
		 * A row it refers to (a member's user, a session's user) was deleted by
		 * another transaction after this one read it: run it again, reading
		 * afresh (every reference written is one the transaction read first).
		 */
		code = TS_ERR_RETRY;
	else if (strncmp(state, PG_CLASS_CONNECTION, 2) == 0 ||
	         strncmp(state, PG_CLASS_RESOURCES, 2) == 0 ||
	         strncmp(state, PG_CLASS_OPERATOR_INTERVENTION, 3) == 0 ||
	         strcmp(state, PG_LOCK_NOT_AVAILABLE) == 0 || strcmp(state, PG_QUERY_CANCELED) == 0)
		code = TS_ERR_UNAVAILABLE; /* the store is down, busy or too slow: later */
	else if (PQstatus(pg) != CONNECTION_OK)
		code = TS_ERR_UNAVAILABLE;
	return ts_error_set(e, code, "postgres", "%s: %.*s", what, (int)len, msg);
}

/*
 * A statement other than COMMIT that failed because the connection went
 * (the server restarted, a node's network blinked): its transaction is gone
 * and nothing of it was committed, so it may run again (TS_ERR_RETRY); the
 * next statement reconnects. COMMIT's own failure stays TS_ERR_UNAVAILABLE:
 * whether it was applied is unknown.
 */
static ts_err stmt_fail(struct pg_conn *c, PGresult *res, const char *what, struct ts_error *e)
{
	ts_err rc = pg_fail(c->pg, res, what, e);
	if (rc == TS_ERR_UNAVAILABLE && PQstatus(c->pg) != CONNECTION_OK) {
		rc = TS_ERR_RETRY;
		if (e != NULL)
			e->code = rc;
	}
	return rc;
}

/* The session's timeouts (docs/store.md); set again after every reconnect. */
static ts_err pg_setup(struct pg_conn *c, struct ts_error *e)
{
	const struct ts_store_options *o = &c->store->opt;
	char sql[PG_SETUP_MAX];
	snprintf(sql, sizeof sql,
	         "SET client_min_messages = warning; SET statement_timeout = %d; "
	         "SET lock_timeout = %d; SET idle_in_transaction_session_timeout = %d",
	         o->statement_timeout_ms, o->lock_timeout_ms, o->idle_tx_timeout_ms);
	ts_blocking_begin();
	PGresult *res = PQexec(c->pg, sql);
	ts_blocking_end();
	ts_err rc = TS_ERR_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(c->pg, res, "session setup", e);
	PQclear(res);
	return rc;
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
	PQclear(c->next_seq);
	PQclear(c->alone_commit);
	PQfinish(c->pg);
	ts_free(c);
}

static ts_err pg_connect(ts_store_t *s, void **out, struct ts_error *e)
{
	struct pg_conn *c = ts_calloc(1, sizeof *c);
	c->store = s;
	/*
	 * connect_timeout is in whole seconds (libpq); given first, so that one
	 * set in the URL itself wins over the default.
	 */
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", (s->opt.connect_timeout_ms + 999) / 1000);
	const char *const keys[] = {"connect_timeout", "dbname", NULL};
	const char *const values[] = {timeout, s->url, NULL};
	ts_blocking_begin();
	c->pg = PQconnectdbParams(keys, values, 1);
	ts_blocking_end();
	ts_err rc = TS_ERR_OK;
	if (PQstatus(c->pg) != CONNECTION_OK)
		rc = ts_error_set(e, TS_ERR_UNAVAILABLE, "postgres", "connect: %s",
		                  PQerrorMessage(c->pg));
	if (rc == TS_ERR_OK)
		rc = pg_setup(c, e);
	if (rc != TS_ERR_OK) {
		pg_disconnect(c);
		return rc;
	}
	*out = c;
	return TS_ERR_OK;
}

/*
 * Outside a transaction a dropped connection is re-established once; inside
 * one the transaction is lost with it (TS_ERR_UNAVAILABLE), and the caller's
 * retry begins it again on a connection that this re-establishes.
 */
static ts_err reconnect(struct pg_conn *c, struct ts_error *e);
static ts_err flush_deferred(struct pg_conn *c, struct ts_error *e);
static ts_err check_gen_now(struct pg_conn *c, struct ts_error *e);

static ts_err ensure(struct pg_conn *c, struct ts_error *e)
{
	if (c->unread) { /* the answer to a read's end: it came while the worker was elsewhere */
		c->unread = false;
		ts_blocking_begin();
		PGresult *res;
		while ((res = PQgetResult(c->pg)) != NULL)
			PQclear(res);
		ts_blocking_end();
	}
	if (PQstatus(c->pg) == CONNECTION_OK)
		return TS_ERR_OK;
	if (c->tx == PG_TX_OPEN) /* nothing of it was committed: run it again */
		return ts_error_set(e, TS_ERR_RETRY, "postgres",
		                    "connection lost inside a transaction");
	return reconnect(c, e);
}

/* A new session on c: its statements prepared afresh, its timeouts set again. */
static ts_err reconnect(struct pg_conn *c, struct ts_error *e)
{
	ts_blocking_begin();
	PQreset(c->pg);
	ts_blocking_end();
	memset(c->prepared, 0, sizeof c->prepared);
	c->deferred = 0;
	if (PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF) /* a pipeline the lost connection cut */
		(void)PQexitPipelineMode(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK)
		return ts_error_set(e, TS_ERR_UNAVAILABLE, "postgres", "reconnect: %s",
		                    PQerrorMessage(c->pg));
	return pg_setup(c, e);
}

static ts_err run_script(struct pg_conn *c, const char *sql, struct ts_error *e)
{
	ts_blocking_begin();
	PGresult *res = PQexec(c->pg, sql);
	ts_blocking_end();
	ts_err rc = TS_ERR_OK;
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = stmt_fail(c, res, "script", e);
	PQclear(res);
	return rc;
}

/* Sends a pending BEGIN on its own, for statements that cannot share its pipeline. */
static ts_err open_tx(struct pg_conn *c, struct ts_error *e)
{
	if (c->tx != PG_TX_PENDING)
		return TS_ERR_OK;
	ts_err rc = run_script(c, c->tx_write ? PG_BEGIN_WRITE : PG_BEGIN_READ, e);
	if (rc == TS_ERR_OK)
		c->tx = PG_TX_OPEN;
	return rc;
}

static ts_err pg_script(void *conn, const char *sql, struct ts_error *e)
{
	struct pg_conn *c = conn;
	ts_err rc = ensure(c, e);
	if (rc == TS_ERR_OK)
		rc = flush_deferred(c, e);
	if (rc == TS_ERR_OK)
		rc = check_gen_now(c, e);
	if (rc == TS_ERR_OK)
		rc = open_tx(c, e);
	return rc == TS_ERR_OK ? run_script(c, sql, e) : rc;
}

/*
 * The end of a pipeline: a sync point sent if one is missing (a send that
 * failed on this side), what is left of its answers read, pipeline mode
 * left. *out keeps the first answer not yet kept. A pipeline cut short on
 * this side has no sync point, and the server answers nothing before one.
 */
static void pipe_end(struct pg_conn *c, bool synced, PGresult **out)
{
	if (!synced && PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF &&
	    PQstatus(c->pg) == CONNECTION_OK && !PQpipelineSync(c->pg))
		(void)reconnect(c, NULL); /* the statement fails either way; the next may run */
	while (PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF && !PQexitPipelineMode(c->pg) &&
	       PQstatus(c->pg) == CONNECTION_OK) {
		PGresult *res = PQgetResult(c->pg);
		if (res != NULL && *out == NULL && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
			*out = res;
		else
			PQclear(res);
	}
}

static bool answer_failed(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_PIPELINE_ABORTED;
}

/* What goes ahead of a statement in its pipeline (exec_pipelined). */
struct pg_ahead {
	bool begin;           /* the pending BEGIN */
	const char *gen_name; /* the credentials generation to check (gen_check), prepared */
	const char *seq_name; /* the next audit seq to fetch, prepared */
	bool commit;          /* COMMIT after the statement (PG_TX_ALONE), relaxed or not */
};

/*
 * The statement and what goes ahead of it in one pipeline: one round trip.
 * Results come in order: BEGIN's, the generation's, the seq's, the
 * statement's, then the sync point; after a failure the rest are
 * PGRES_PIPELINE_ABORTED. *moved tells that the generation was not the one
 * handed out (gen_check).
 */
static PGresult *exec_pipelined(struct pg_conn *c, const struct pg_ahead *ah, const char *name,
                                int np, const char *const *values, bool *moved)
{
	PGresult *out = NULL;
	*moved = false;
	bool sent =
	        PQenterPipelineMode(c->pg) &&
	        (!ah->begin ||
	         PQsendQueryParams(c->pg, c->tx_write ? PG_BEGIN_WRITE : PG_BEGIN_READ, 0, NULL,
	                           NULL, NULL, NULL, 0)) &&
	        (ah->gen_name == NULL ||
	         PQsendQueryPrepared(c->pg, ah->gen_name, 0, NULL, NULL, NULL, 0)) &&
	        (ah->seq_name == NULL ||
	         PQsendQueryPrepared(c->pg, ah->seq_name, 0, NULL, NULL, NULL, 0)) &&
	        PQsendQueryPrepared(c->pg, name, np, values, NULL, NULL, 0) &&
	        (!ah->commit || !c->relaxed ||
	         PQsendQueryParams(c->pg, PG_RELAXED, 0, NULL, NULL, NULL, NULL, 0)) &&
	        (!ah->commit || PQsendQueryParams(c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)) &&
	        PQpipelineSync(c->pg);
	/*
	 * Once sent, BEGIN counts as open: should the connection go before its
	 * answer, the transaction is lost, not unsent (ensure() then refuses to
	 * reconnect under it).
	 */
	if (sent && ah->begin)
		c->tx = PG_TX_OPEN;
	int steps = 0;
	int begin_step = ah->begin ? steps++ : -1;
	int gen_step = ah->gen_name != NULL ? steps++ : -1;
	int seq_step = ah->seq_name != NULL ? steps++ : -1;
	steps++; /* the statement's */
	int relaxed_step = ah->commit && c->relaxed ? steps++ : -1;
	int commit_step = ah->commit ? steps++ : -1;
	for (int step = 0; sent && step < steps;) {
		PGresult *res = PQgetResult(c->pg);
		if (res == NULL) { /* the end of one statement's results */
			if (PQstatus(c->pg) != CONNECTION_OK)
				break;
			continue;
		}
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		bool one_row = st == PGRES_TUPLES_OK && PQntuples(res) == 1;
		if (step == begin_step && st == PGRES_COMMAND_OK) {
			PQclear(res);
		} else if (step == gen_step && one_row) {
			int64_t gen = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			*moved = gen != c->gen;
			c->gen = gen;
			c->gen_ns = ts_mono_ns();
			PQclear(res);
		} else if (step == seq_step && one_row) {
			PQclear(c->next_seq);
			c->next_seq = res;
		} else if (step == relaxed_step && st == PGRES_COMMAND_OK) {
			PQclear(res);
		} else if (step == commit_step && out != NULL && !answer_failed(out)) {
			c->alone_commit =
			        res; /* the statement's answer is out: pg_commit reads this */
		} else if (out == NULL && st != PGRES_PIPELINE_ABORTED) {
			out = res; /* the statement's answer, or the first error */
		} else {
			PQclear(res);
		}
		step++;
	}
	pipe_end(c, sent, &out);
	return out;
}

/*
 * The deferred statements' answers (deferrable()), then that of the last
 * statement sent after them (when last), then the sync point: the first
 * failure among them, else the last statement's answer (NULL when there is
 * none, or the connection went before it came).
 */
static PGresult *collect_deferred(struct pg_conn *c, bool last, bool synced)
{
	PGresult *out = NULL;
	int steps = c->deferred + (last ? 1 : 0), step = 0;
	while (synced && step < steps) {
		PGresult *res = PQgetResult(c->pg);
		if (res == NULL) { /* the end of one statement's results */
			if (PQstatus(c->pg) != CONNECTION_OK)
				break;
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (out == NULL && (answer_failed(res) || (last && step == steps - 1)))
			out = res;
		else
			PQclear(res);
		step++;
	}
	c->deferred = 0;
	pipe_end(c, synced, &out);
	return out;
}

/*
 * Statement sql (NULL: none) sent after the deferred ones with the sync
 * point, one round trip for all of them; prepared under name when name is
 * not NULL.
 */
static PGresult *run_after_deferred(struct pg_conn *c, const char *name, const char *sql, int np,
                                    const char *const *values)
{
	bool sent = name != NULL  ? PQsendQueryPrepared(c->pg, name, np, values, NULL, NULL, 0)
	            : sql != NULL ? PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0)
	                          : true;
	sent = sent && PQpipelineSync(c->pg);
	return collect_deferred(c, name != NULL || sql != NULL, sent);
}

/*
 * What a transaction writes and nothing in it reads back, and whose callers
 * use neither rows nor count (they only pass a failure on): such a statement
 * inside an open write transaction is sent without waiting for its answer,
 * which comes with the next statement's or COMMIT's, in one round trip
 * (docs/store.md). Its failure is then reported by that later call; the
 * transaction fails either way, and nothing of it is committed.
 */
static bool deferrable(enum ts__store_query q)
{
	return q == TS__Q_SCIM_USER_EMAIL_INSERT || q == TS__Q_AUDIT_INSERT ||
	       q == TS__Q_AUDIT_CHAIN_INSERT || q == TS__Q_AUDIT_PENDING_REFUSE ||
	       q == TS__Q_AUDIT_CHECKPOINT_INSERT || q == TS__Q_DIR_SESSION_INSERT ||
	       q == TS__Q_OAUTH_REFRESH_INSERT || q == TS__Q_SIGNIN_INSERT ||
	       q == TS__Q_SIGNIN_TRIM_USER || q == TS__Q_SIGNIN_TRIM_IDENTITY;
}

/* Reads the deferred statements' answers on their own (before a statement that cannot join them).
 */
static ts_err flush_deferred(struct pg_conn *c, struct ts_error *e)
{
	if (c->deferred == 0)
		return TS_ERR_OK;
	ts_blocking_begin();
	PGresult *res = run_after_deferred(c, NULL, NULL, 0, NULL);
	ts_blocking_end();
	ts_err rc = TS_ERR_OK;
	if (res != NULL && answer_failed(res))
		rc = stmt_fail(c, res, "a deferred statement", e);
	else if (res == NULL && PQstatus(c->pg) != CONNECTION_OK)
		rc = stmt_fail(c, NULL, "a deferred statement", e);
	PQclear(res);
	return rc;
}

/*
 * The audit trail's own statements (the sealer's, a rotation's, the append
 * itself): a write that starts with one of them appends no further event,
 * so no seq is fetched ahead for it.
 */
static bool audit_bookkeeping(enum ts__store_query q)
{
	static const char prefix[] = "AUDIT_";
	return strncmp(ts__store_queries[q].name, prefix, sizeof prefix - 1) == 0;
}

/* Catalogue query q prepared on c's session under its name (written to name). */
static ts_err prepare(struct pg_conn *c, enum ts__store_query q, char name[PG_NAME_MAX],
                      struct ts_error *e)
{
	snprintf(name, PG_NAME_MAX, "q%d", (int)q);
	if (c->prepared[q])
		return TS_ERR_OK;
	const char *sql =
	        ts__store_queries[q].pg ? ts__store_queries[q].pg : ts__store_queries[q].sql;
	PGresult *res = PQprepare(c->pg, name, sql, 0, NULL);
	ts_err rc = TS_ERR_OK;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = stmt_fail(c, res, ts__store_queries[q].name, e);
	else
		c->prepared[q] = true;
	PQclear(res);
	return rc;
}

/* A statement's successful result, to the caller as rows or a count of changed rows. */
static ts_err hand_over(struct pg_conn *c, enum ts__store_query q, PGresult *res,
                        struct ts__rows **rows, int64_t *changed)
{
	if (res == c->next_seq)
		c->next_seq = NULL;
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

/*
 * The credential checks every request makes before its work: they read the
 * latest committed state, in or out of a transaction alike.
 */
static bool fresh_query(enum ts__store_query q)
{
	return q == TS__Q_AUTH_GENERATION || q == TS__Q_SCIM_APIKEY_AUTH || q == TS__Q_ADMINKEY_GET;
}

/*
 * Whether the generation last read on c may be handed out unread: in a
 * transaction that has sent nothing yet (its first round trip will carry the
 * check), and read recently.
 */
static bool gen_may_hand_out(const struct pg_conn *c)
{
	return c->gen_known && c->tx == PG_TX_PENDING && c->deferred == 0 &&
	       ts_mono_ns() - c->gen_ns < PG_GEN_FRESH_NS;
}

/* A one-row, one-column result holding gen, as the generation's query answers. */
static PGresult *gen_result(int64_t gen)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc att = {.name = "gen", .typid = 0, .typlen = -1, .atttypmod = -1};
	char text[24];
	int len = snprintf(text, sizeof text, "%lld", (long long)gen);
	if (res != NULL && PQsetResultAttrs(res, 1, &att) && PQsetvalue(res, 0, 0, text, len))
		return res;
	PQclear(res);
	return NULL;
}

/* The generation handed out unread, checked on its own (a transaction that sent nothing). */
static ts_err check_gen_now(struct pg_conn *c, struct ts_error *e)
{
	if (!c->gen_check)
		return TS_ERR_OK;
	c->gen_check = false;
	char name[PG_NAME_MAX];
	ts_err rc = ensure(c, e);
	if (rc == TS_ERR_OK)
		rc = prepare(c, TS__Q_AUTH_GENERATION, name, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_blocking_begin();
	PGresult *res = PQexecPrepared(c->pg, name, 0, NULL, NULL, NULL, 0);
	ts_blocking_end();
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = stmt_fail(c, res, ts__store_queries[TS__Q_AUTH_GENERATION].name, e);
		PQclear(res);
		return rc;
	}
	int64_t gen = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	bool moved = gen != c->gen;
	c->gen = gen;
	c->gen_ns = ts_mono_ns();
	return moved ? ts_error_set(e, TS_ERR_RETRY, "postgres", PG_GEN_MOVED) : TS_ERR_OK;
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
	if (q == TS__Q_AUTH_GENERATION && gen_may_hand_out(c)) {
		PGresult *made = gen_result(c->gen);
		if (made != NULL) {
			c->gen_check = true;
			return hand_over(c, q, made, rows, changed);
		}
	}
	/* (a write alone sends its statement right after its begin: no generation handed out) */
	bool alone = c->tx == PG_TX_ALONE && !fresh_query(q);
	bool with_begin = (c->tx == PG_TX_PENDING && !fresh_query(q)) || alone;
	bool with_gen = c->gen_check;
	if (c->tx == PG_TX_ONE)
		c->tx = PG_TX_ONE_RAN;
	if (q == TS__Q_AUDIT_NEXT_SEQ)
		c->seq_taken = true;
	if (q == TS__Q_AUDIT_NEXT_SEQ && c->next_seq != NULL) /* fetched with BEGIN */
		return hand_over(c, q, c->next_seq, rows, changed);
	if (c->deferred > 0 && !c->prepared[q])
		rc = flush_deferred(c, e); /* PQprepare waits for its answer: not in a pipeline */
	char name[PG_NAME_MAX], seq_name[PG_NAME_MAX], gen_name[PG_NAME_MAX];
	if (rc == TS_ERR_OK)
		rc = prepare(c, q, name, e);
	if (rc == TS_ERR_OK && with_gen)
		rc = prepare(c, TS__Q_AUTH_GENERATION, gen_name, e);
	bool with_seq = with_begin && !alone && c->tx_write && c->audits && !audit_bookkeeping(q);
	if (rc == TS_ERR_OK && with_seq)
		rc = prepare(c, TS__Q_AUDIT_NEXT_SEQ, seq_name, e);
	if (rc != TS_ERR_OK)
		return rc;
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
	if (deferrable(q) && c->tx == PG_TX_OPEN && c->tx_write) {
		/* sent, not waited for: the next statement or COMMIT reads its answer */
		if ((c->deferred > 0 || PQenterPipelineMode(c->pg)) &&
		    PQsendQueryPrepared(c->pg, name, np, values, NULL, NULL, 0)) {
			c->deferred++;
			if (changed != NULL)
				*changed = 0; /* unknown yet; deferrable() callers do not ask */
			return TS_ERR_OK;
		}
		PQclear(collect_deferred(c, false, false));
		return stmt_fail(c, NULL, ts__store_queries[q].name, e);
	}
	struct pg_ahead ah = {.begin = with_begin,
	                      .gen_name = with_gen ? gen_name : NULL,
	                      .seq_name = with_seq ? seq_name : NULL,
	                      .commit = alone};
	bool moved = false;
	c->gen_check = false;
	ts_blocking_begin(); /* a round trip to the server: a worker pool may run another thread */
	PGresult *res = with_begin || with_gen ? exec_pipelined(c, &ah, name, np, values, &moved)
	                : c->deferred > 0      ? run_after_deferred(c, name, NULL, np, values)
	                                  : PQexecPrepared(c->pg, name, np, values, NULL, NULL, 0);
	ts_blocking_end();
	if (moved) { /* what this transaction authenticated by has changed: all of it again */
		PQclear(res);
		return ts_error_set(e, TS_ERR_RETRY, "postgres", PG_GEN_MOVED);
	}
	ExecStatusType st = PQresultStatus(res);
	if (alone && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
		c->tx = PG_TX_ALONE_RAN; /* COMMIT was sent: pg_commit reports its answer */
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		PQclear(c->alone_commit);
		c->alone_commit = NULL;
		rc = stmt_fail(c, res, ts__store_queries[q].name, e);
		if (alone && rc == TS_ERR_RETRY && PQstatus(c->pg) != CONNECTION_OK)
			rc = ts_error_set(e, TS_ERR_UNAVAILABLE, "postgres",
			                  "the connection was lost after a commit was sent");
		PQclear(res);
		return rc;
	}
	if (q == TS__Q_AUTH_GENERATION && PQntuples(res) == 1) {
		c->gen = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		c->gen_ns = ts_mono_ns();
		c->gen_known = true;
	}
	return hand_over(c, q, res, rows, changed);
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

/*
 * A read sees one snapshot; a write locks what it reads to change (file
 * comment). Nothing is sent yet: BEGIN goes with the first statement.
 */
static ts_err pg_begin(void *conn, bool write, struct ts_error *e)
{
	struct pg_conn *c = conn;
	ts_err rc = ensure(c, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (c->tx_write && !c->was_alone) /* how the last write went */
		c->audits = c->seq_taken;
	c->was_alone = false;
	c->seq_taken = false;
	c->gen_check = false;
	c->tx = PG_TX_PENDING;
	c->tx_write = write;
	c->relaxed = false;
	PQclear(c->alone_commit);
	c->alone_commit = NULL;
	PQclear(c->next_seq); /* one transaction's seq is not another's */
	c->next_seq = NULL;
	return TS_ERR_OK;
}

/*
 * The end of a read: sent, not waited for (ensure() reads the answer before
 * the connection's next use). Nothing it read depends on the answer.
 */
static void end_read(struct pg_conn *c, const char *sql)
{
	c->tx = PG_TX_NONE;
	if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) == PQTRANS_IDLE)
		return;
	ts_blocking_begin();
	if (PQsendQuery(c->pg, sql)) {
		c->unread = true;
	} else { /* not sent: end it the slow way, or the snapshot would outlive it */
		PGresult *res = PQexec(c->pg, sql);
		PQclear(res);
	}
	ts_blocking_end();
}

/* The COMMIT a write alone sent with its statement (file comment): how it went. */
static ts_err alone_committed(struct pg_conn *c, struct ts_error *e)
{
	PGresult *res = c->alone_commit;
	c->alone_commit = NULL;
	c->tx = PG_TX_NONE;
	ts_err rc = TS_ERR_OK;
	if (res == NULL) /* sent, and the connection went before its answer: unknown */
		rc = ts_error_set(e, TS_ERR_UNAVAILABLE, "postgres",
		                  "the connection was lost before the commit's answer");
	else if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(c->pg, res, "commit", e);
	else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		rc = TS_FAIL(e, TS_ERR_STORE, "commit rolled back: the transaction had failed");
	PQclear(res);
	return rc;
}

static ts_err pg_commit(void *conn, struct ts_error *e)
{
	struct pg_conn *c = conn;
	if (c->tx == PG_TX_ALONE_RAN)
		return alone_committed(c, e);
	if (c->tx == PG_TX_PENDING || c->tx == PG_TX_ALONE ||
	    c->tx == PG_TX_ONE) { /* nothing was sent: nothing to commit */
		ts_err rc = check_gen_now(c, e);
		c->tx = PG_TX_NONE;
		return rc;
	}
	if (!c->tx_write) {
		/* a read-only transaction's COMMIT cannot fail at REPEATABLE READ */
		if (PQtransactionStatus(c->pg) == PQTRANS_INERROR) {
			end_read(c, "ROLLBACK");
			return TS_FAIL(e, TS_ERR_STORE,
			               "commit rolled back: the transaction had failed");
		}
		end_read(c, "COMMIT");
		return TS_ERR_OK;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) { /* COMMIT cannot be sent: nothing was committed */
		c->tx = PG_TX_NONE;
		return ts_error_set(e, TS_ERR_RETRY, "postgres",
		                    "connection lost before the transaction's commit");
	}
	/* COMMIT goes with the deferred statements, in their pipeline; a relaxed one sets
	 * synchronous_commit for the transaction in the same round trip (simple query) */
	ts_err rc = TS_ERR_OK;
	if (c->relaxed && c->deferred > 0)
		rc = flush_deferred(c, e);
	PGresult *res = NULL;
	ts_blocking_begin();
	if (rc != TS_ERR_OK)
		res = NULL;
	else if (c->relaxed) /* simple query: both statements, one round trip */
		res = PQexec(c->pg, PG_RELAXED "; COMMIT");
	else
		res = c->deferred > 0 ? run_after_deferred(c, NULL, "COMMIT", 0, NULL)
		                      : PQexec(c->pg, "COMMIT");
	ts_blocking_end();
	/* (rc already set: a deferred statement failed; rolled back below) */
	if (rc == TS_ERR_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(c->pg, res, "commit", e);
	else if (rc == TS_ERR_OK && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		rc = TS_FAIL(e, TS_ERR_STORE, "commit rolled back: the transaction had failed");
	PQclear(res);
	c->tx = PG_TX_NONE;
	/* a deferred statement failed: COMMIT was skipped, the transaction stays open */
	if (rc != TS_ERR_OK && PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		ts_blocking_begin();
		PQclear(PQexec(c->pg, "ROLLBACK"));
		ts_blocking_end();
	}
	return rc;
}

static void pg_relaxed(void *conn)
{
	((struct pg_conn *)conn)->relaxed = true;
}

static void pg_write_alone(void *conn)
{
	struct pg_conn *c = conn;
	if (c->tx == PG_TX_PENDING && c->tx_write && c->deferred == 0) {
		c->tx = PG_TX_ALONE;
		c->was_alone =
		        true; /* a poll before its grant: the grant still fetches its seq ahead */
	}
}

static void pg_read_one(void *conn)
{
	struct pg_conn *c = conn;
	if (c->tx == PG_TX_PENDING && !c->tx_write)
		c->tx = PG_TX_ONE;
}

static void pg_rollback(void *conn)
{
	struct pg_conn *c = conn;
	c->gen_check = false;
	if (c->deferred > 0) { /* ROLLBACK goes with them; after a failed one, again below */
		ts_blocking_begin();
		PQclear(run_after_deferred(c, NULL, "ROLLBACK", 0, NULL));
		ts_blocking_end();
	}
	if (c->tx != PG_TX_NONE && !(c->tx == PG_TX_OPEN && c->tx_write)) {
		end_read(c, "ROLLBACK");
		return;
	}
	c->tx = PG_TX_NONE;
	if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		ts_blocking_begin();
		PGresult *res = PQexec(c->pg, "ROLLBACK");
		ts_blocking_end();
		PQclear(res);
	}
}

/*
 * Migrations wait for each other and may run long: no lock or statement
 * timeout while the migration lock is held.
 */
static ts_err pg_migrate_lock(void *conn, bool lock, struct ts_error *e)
{
	struct pg_conn *c = conn;
	char sql[PG_SETUP_MAX];
	if (lock)
		snprintf(sql, sizeof sql,
		         "SET lock_timeout = 0; SET statement_timeout = 0; "
		         "SELECT pg_advisory_lock(%d)",
		         PG_MIGRATION_LOCK_KEY);
	else
		snprintf(sql, sizeof sql,
		         "SELECT pg_advisory_unlock(%d); SET lock_timeout = %d; "
		         "SET statement_timeout = %d",
		         PG_MIGRATION_LOCK_KEY, c->store->opt.lock_timeout_ms,
		         c->store->opt.statement_timeout_ms);
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
        .read_one = pg_read_one,
        .relaxed = pg_relaxed,
        .write_alone = pg_write_alone,
        .migrate_lock = pg_migrate_lock,
};
