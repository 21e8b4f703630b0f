/*
 * What the contract files of access and sign-in (test_store_access.c,
 * test_store_oidc.c, test_store_saml.c) share on top of the fixture
 * (store_fixture.h): accounts and users made through the store, row counts
 * read behind its back, and races: threads released together by a barrier,
 * each on its own connection, each running one step (in a write transaction
 * retried as ts_store_tx_retry says, when asked).
 */
#ifndef TS_TEST_STORE_HELPERS_H
#define TS_TEST_STORE_HELPERS_H

#include "store_fixture.h"

#define FX_RACERS_MAX 16

/* An account named as its id. */
__attribute__((unused)) static void need_account(struct fx *f, const char *id)
{
	struct ts_account a = mkacct(id, id);
	OK(ts_store_account_insert(f->c, &a, &f->e));
}

/* An active SCIM user of acct, made at now_ms. */
__attribute__((unused)) static void need_user(struct fx *f, const char *acct, const char *id,
                                              const char *user_name, int64_t now_ms)
{
	struct ts_user_row u = {.user_id = id,
	                        .account_id = acct,
	                        .user_name = user_name,
	                        .active = true,
	                        .resource = "{}",
	                        .version = 1,
	                        .created_ms = now_ms,
	                        .modified_ms = now_ms};
	OK(ts_store_user_insert(f->c, &u, NULL, 0, &f->e));
}

/* A count(*) query's answer, read behind the store's back. */
__attribute__((unused)) static int64_t count_rows(struct fx *f, const char *sql)
{
	if (f->b->pg) {
		PGconn *conn = PQconnectdb(f->b->url);
		PGresult *res = PQexec(conn, sql);
		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		int64_t n = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
		PQfinish(conn);
		return n;
	}
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_open_v2(f->b->url, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* One racer's step on its connection: *hit when it found or made what it looked for. */
typedef ts_err (*fx_step_fn)(ts_store_conn_t *c, ts_arena_t *a, void *arg, bool *hit,
                             struct ts_error *e);

struct fx_racer {
	fx_step_fn step;
	void *arg;
	bool write; /* in a write transaction, retried as ts_store_tx_retry says */
	/* the answer */
	ts_err rc;
	bool hit;
	struct ts_error e;
	/* set by fx_race */
	ts_store_t *s;
	pthread_barrier_t *go;
};

static void *fx_racer_run(void *arg)
{
	struct fx_racer *r = arg;
	ts_store_conn_t *c = NULL;
	ts_arena_t *a = ts_arena_new();
	ts_err rc = ts_store_connect(r->s, &c, &r->e);
	pthread_barrier_wait(r->go);
	int attempt = 0;
	while (rc == TS_ERR_OK) {
		if (r->write)
			rc = ts_store_begin(c, true, &r->e);
		if (rc == TS_ERR_OK)
			rc = r->step(c, a, r->arg, &r->hit, &r->e);
		if (rc == TS_ERR_OK && r->write)
			rc = ts_store_commit(c, &r->e);
		if (rc == TS_ERR_OK || !r->write || !ts_store_tx_retry(c, rc, &attempt))
			break;
		rc = TS_ERR_OK;
	}
	if (r->write)
		ts_store_rollback(c);
	r->rc = rc;
	ts_store_disconnect(&c);
	ts_arena_free(&a);
	return NULL;
}

/* Runs n racers (at most FX_RACERS_MAX) at once on f's store; their answers are in r[]. */
__attribute__((unused)) static void fx_race(struct fx *f, struct fx_racer *r, int n)
{
	assert_true(n > 0 && n <= FX_RACERS_MAX);
	pthread_barrier_t go;
	pthread_t th[FX_RACERS_MAX];
	pthread_barrier_init(&go, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		r[i].s = f->s;
		r[i].go = &go;
		assert_int_equal(pthread_create(&th[i], NULL, fx_racer_run, &r[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
}

/* How many of n racers answered rc, and (hit_only) found or made what they looked for. */
__attribute__((unused)) static int fx_race_count(const struct fx_racer *r, int n, ts_err rc,
                                                 bool hit_only)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += r[i].rc == rc && (!hit_only || r[i].hit);
	return k;
}

/* Fails the test when a racer answered other than TS_ERR_OK or also, naming the first. */
__attribute__((unused)) static void fx_race_check(struct fx *f, const struct fx_racer *r, int n,
                                                  ts_err also)
{
	for (int i = 0; i < n; i++)
		if (r[i].rc != TS_ERR_OK && r[i].rc != also)
			fail_msg("%s: racer %d: %s: %s", f->b->name, i, ts_err_name(r[i].rc),
			         r[i].e.message);
}

#endif
