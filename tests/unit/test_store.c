/*
 * The store contract suite: one set of test functions, run against SQLite
 * (a fresh file per test) and against PostgreSQL when TESSERA_TEST_PG_URL
 * names a server (a fresh database per run, its schema reset per test).
 * Everything goes through src/store/store.h, except where a test must put
 * the store into a state the interface cannot (a newer schema version): that
 * uses the backend's own client library on the same database.
 *
 * The directory's account rules (src/directory/account.c) need a store, so
 * their tests live here too and run on both backends.
 */
#include <sodium.h>

#include "store_fixture.h"

#include "admin/render.h"
#include "audit/sealer.h"
#include "audit/verify.h"
#include "store/internal.h" /* the old schema scripts (test_audit_migrates_old_store) */

/* ---- open, migrate, ping ------------------------------------------------------------------- */

static void test_open(void **state)
{
	struct fx *f = *state;
	assert_string_equal(ts_store_backend(f->s), f->b->pg ? "postgres" : "sqlite");
	ts_store_t *s = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_store_open("", true, NULL, &s, &e), TS_ERR_BAD_REQUEST);
	assert_null(s);
	if (f->b->pg) {
		/* nothing listens on port 1 */
		assert_int_equal(ts_store_open("postgresql://tessera:x@127.0.0.1:1/none", false,
		                               NULL, &s, &e),
		                 TS_ERR_UNAVAILABLE);
		assert_null(s);
	} else {
		char path[URL_MAX];
		snprintf(path, sizeof path, "%s/missing.db", f->b->dir);
		assert_int_equal(ts_store_open(path, false, NULL, &s, &e), TS_ERR_IO);
		assert_null(s);
		assert_int_equal(access(path, F_OK), -1); /* and it was not created */
		/* a file that is not a database */
		snprintf(path, sizeof path, "%s/not-a-db.db", f->b->dir);
		FILE *fp = fopen(path, "w");
		assert_non_null(fp);
		for (int i = 0; i < 200; i++)
			fputs("this is not an SQLite database\n", fp);
		fclose(fp);
		assert_int_not_equal(ts_store_open(path, false, NULL, &s, &e), TS_ERR_OK);
		assert_null(s);
		/* a directory */
		assert_int_not_equal(ts_store_open(f->b->dir, true, NULL, &s, &e), TS_ERR_OK);
	}
}

static void test_migrate_empty(void **state)
{
	struct fx *f = *state;
	int v = -1;
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, 0);
	OK(ts_store_ping(f->c, &f->e));
	assert_true(ts_store_schema_latest() >= 1);
	OK(ts_store_migrate(f->c, &f->e));
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest());
	/* the schema is usable at once */
	struct ts_account a = mkacct("m1", "Migrated");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	int64_t n = -1;
	OK(ts_store_adminkey_count(f->c, &n, &f->e));
	assert_int_equal(n, 0);
	int64_t max = -1;
	OK(ts_store_audit_chain_max(f->c, &max, &f->e));
	assert_int_equal(max, 0);
	/* no checkpoint until the master key's first use, then the genesis one */
	struct ts_audit_checkpoint cp;
	bool found = true;
	OK(ts_store_audit_checkpoint_last(f->c, f->a, &cp, &found, &f->e));
	assert_false(found);
	OK(ts_store_audit_keys_check(f->c, &f->e));
	OK(ts_store_audit_checkpoint_last(f->c, f->a, &cp, &found, &f->e));
	assert_true(found);
	assert_int_equal(cp.chain_seq, 0);
	assert_string_equal(cp.hash, TS_AUDIT_GENESIS_HASH);
}

static void test_migrate_twice(void **state)
{
	struct fx *f = *state;
	struct ts_account a = mkacct("keep", "Kept");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	OK(ts_store_migrate(f->c, &f->e));
	int v = 0;
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest());
	/* from another connection too */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_migrate(c2, &f->e));
	OK(ts_store_schema_version(c2, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest());
	ts_store_disconnect(&c2);
	assert_null(c2);
	struct ts_account got;
	OK(ts_store_account_get(f->c, f->a, "keep", &got, &f->e));
	assert_string_equal(got.name, "Kept");
}

static void test_schema_newer_refused(void **state)
{
	struct fx *f = *state;
	char sql[96];
	snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d",
	         ts_store_schema_latest() + 1);
	raw_exec(f->b, sql);
	int v = 0;
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest() + 1);
	EXPECT(TS_ERR_UNAVAILABLE, ts_store_migrate(f->c, &f->e));
	char want[16];
	snprintf(want, sizeof want, "%d", ts_store_schema_latest() + 1);
	assert_non_null(strstr(f->e.message, want));
	/* refusing did not change it */
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest() + 1);
	/* a new store handle is refused the same way */
	ts_store_t *s2 = NULL;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_open(f->b->url, false, NULL, &s2, &f->e));
	OK(ts_store_connect(s2, &c2, &f->e));
	EXPECT(TS_ERR_UNAVAILABLE, ts_store_migrate(c2, &f->e));
	ts_store_disconnect(&c2);
	ts_store_free(&s2);
	assert_null(s2);
}

static void test_ping(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 3; i++)
		OK(ts_store_ping(f->c, &f->e));
	ts_store_disconnect(NULL);
	ts_store_free(NULL);
	ts_store_rollback(NULL);
}

/* ---- accounts ------------------------------------------------------------------------------ */

static void test_account_crud(void **state)
{
	struct fx *f = *state;
	struct ts_account a = {.account_id = "acc-1",
	                       .name = "Ünïcødé Team ✓",
	                       .account_type = "Enterprise",
	                       .status = "Active",
	                       .created_ms = 1700000000123,
	                       .settings = "{\"EnableDialOut\":true}"};
	OK(ts_store_account_insert(f->c, &a, &f->e));
	struct ts_account got;
	memset(&got, 0, sizeof got);
	OK(ts_store_account_get(f->c, f->a, "acc-1", &got, &f->e));
	assert_string_equal(got.account_id, "acc-1");
	assert_string_equal(got.name, a.name);
	assert_string_equal(got.account_type, "Enterprise");
	assert_string_equal(got.status, "Active");
	assert_int_equal(got.created_ms, 1700000000123);
	assert_string_equal(got.settings, "{\"EnableDialOut\":true}");

	/* settings default to an empty object */
	struct ts_account b = mkacct("acc-2", "Two");
	b.settings = NULL;
	OK(ts_store_account_insert(f->c, &b, &f->e));
	OK(ts_store_account_get(f->c, f->a, "acc-2", &got, &f->e));
	assert_string_equal(got.settings, "{}");

	/* update changes name, type, status, settings; not the id or the creation time */
	struct ts_account u = {.account_id = "acc-1",
	                       .name = "Renamed",
	                       .account_type = "Team",
	                       .status = "Suspended",
	                       .created_ms = 42,
	                       .settings = "{\"EnableDialOut\":false}"};
	OK(ts_store_account_update(f->c, &u, &f->e));
	OK(ts_store_account_get(f->c, f->a, "acc-1", &got, &f->e));
	assert_string_equal(got.name, "Renamed");
	assert_string_equal(got.account_type, "Team");
	assert_string_equal(got.status, "Suspended");
	assert_string_equal(got.settings, "{\"EnableDialOut\":false}");
	assert_int_equal(got.created_ms, 1700000000123);
	/* the other account is untouched */
	OK(ts_store_account_get(f->c, f->a, "acc-2", &got, &f->e));
	assert_string_equal(got.name, "Two");

	OK(ts_store_account_delete(f->c, "acc-1", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, "acc-1", &got, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_delete(f->c, "acc-1", &f->e));
	OK(ts_store_account_get(f->c, f->a, "acc-2", &got, &f->e));
}

/* Every change to what authenticates an API key moves the generation; nothing else does. */
static void test_auth_generation(void **state)
{
	struct fx *f = *state;
	int64_t g0 = -1, g = -1;
	OK(ts_store_auth_generation(f->c, &g0, &f->e));
	struct ts_account a = mkacct("gen-1", "Gen");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	struct ts_apikey k = {.api_key_id = "AKgen1",
	                      .account_id = "gen-1",
	                      .secret_hash = "00",
	                      .created_ms = 1};
	OK(ts_store_apikey_insert(f->c, &k, &f->e));
	k.api_key_id = "AKgen2";
	OK(ts_store_apikey_insert(f->c, &k, &f->e));
	OK(ts_store_auth_generation(f->c, &g, &f->e));
	assert_int_equal(g, g0); /* a new key changes no key already read */

	OK(ts_store_apikey_delete(f->c, "gen-1", "AKgen1", &f->e));
	OK(ts_store_auth_generation(f->c, &g, &f->e));
	assert_int_equal(g, g0 + 1);
	/* a delete that finds nothing moves nothing */
	EXPECT(TS_ERR_NOT_FOUND, ts_store_apikey_delete(f->c, "gen-1", "AKgen1", &f->e));
	OK(ts_store_auth_generation(f->c, &g, &f->e));
	assert_int_equal(g, g0 + 1);

	a.settings = "{\"ScimCompatibility\":\"aws-strict\"}";
	OK(ts_store_account_update(f->c, &a, &f->e));
	OK(ts_store_auth_generation(f->c, &g, &f->e));
	assert_int_equal(g, g0 + 2);

	/* moved in the writer's transaction: a rollback takes it back */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_account_delete(f->c, "gen-1", &f->e));
	OK(ts_store_auth_generation(f->c, &g, &f->e));
	assert_int_equal(g, g0 + 3);
	ts_store_rollback(f->c);
	OK(ts_store_auth_generation(f->c, &g, &f->e));
	assert_int_equal(g, g0 + 2);

	OK(ts_store_account_delete(f->c, "gen-1", &f->e)); /* and its key with it */
	OK(ts_store_auth_generation(f->c, &g, &f->e));
	assert_int_equal(g, g0 + 3);
	struct ts_apikey got;
	EXPECT(TS_ERR_NOT_FOUND, ts_store_apikey_get(f->c, f->a, "AKgen2", &got, &f->e));
}

static void test_account_not_found(void **state)
{
	struct fx *f = *state;
	struct ts_account got;
	struct ts_account x = mkacct("exists", "E");
	OK(ts_store_account_insert(f->c, &x, &f->e));
	static const char *const missing[] = {"nope", "", "EXISTS", "exists ", "exist", "%"};
	for (size_t i = 0; i < N_ITEMS(missing); i++) {
		EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, missing[i], &got, &f->e));
		struct ts_account u = mkacct(missing[i], "U");
		EXPECT(TS_ERR_NOT_FOUND, ts_store_account_update(f->c, &u, &f->e));
		EXPECT(TS_ERR_NOT_FOUND, ts_store_account_delete(f->c, missing[i], &f->e));
	}
	OK(ts_store_account_get(f->c, f->a, "exists", &got, &f->e));
	assert_string_equal(got.name, "E");
}

static void test_account_conflict(void **state)
{
	struct fx *f = *state;
	struct ts_account a = mkacct("dup", "First");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	struct ts_account b = mkacct("dup", "Second");
	EXPECT(TS_ERR_CONFLICT, ts_store_account_insert(f->c, &b, &f->e));
	struct ts_account got;
	OK(ts_store_account_get(f->c, f->a, "dup", &got, &f->e));
	assert_string_equal(got.name, "First");
	/* inside a transaction: the conflict is reported, rollback leaves the connection usable */
	OK(ts_store_begin(f->c, true, &f->e));
	EXPECT(TS_ERR_CONFLICT, ts_store_account_insert(f->c, &b, &f->e));
	ts_store_rollback(f->c);
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account c = mkacct("other", "Other");
	OK(ts_store_account_insert(f->c, &c, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_account_get(f->c, f->a, "other", &got, &f->e));
	/* the schema refuses an unknown type */
	struct ts_account bad = mkacct("badtype", "Bad");
	bad.account_type = "Galaxy";
	EXPECT(TS_ERR_STORE, ts_store_account_insert(f->c, &bad, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, "badtype", &got, &f->e));
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void test_account_list(void **state)
{
	struct fx *f = *state;
	/* byte order (C collation) differs from most locales' for these */
	static const char *ids[] = {"b",  "a-b", "ab", "A",  "B",   "a",        "Z",
	                            "_x", "1",   "aB", "Ab", "a b", "\xc3\xa9", "z"};
	enum { N = N_ITEMS(ids) };
	for (size_t i = 0; i < N; i++) {
		struct ts_account a = mkacct(ids[i], (i % 3 == 0) ? "Shared" : ids[i]);
		OK(ts_store_account_insert(f->c, &a, &f->e));
	}
	const char *sorted[N];
	memcpy(sorted, ids, sizeof ids);
	qsort(sorted, N, sizeof sorted[0], cmp_str);

	struct ts_account *list = NULL;
	int n = -1;
	OK(ts_store_account_list(f->c, f->a, NULL, NULL, 0, &list, &n, &f->e));
	assert_int_equal(n, N);
	for (int i = 0; i < n; i++)
		if (strcmp(list[i].account_id, sorted[i]) != 0)
			fail_msg("%s: position %d: got \"%s\", want \"%s\"", f->b->name, i,
			         list[i].account_id, sorted[i]);

	/* paging: limit 3 from after, until empty */
	const char *after = NULL;
	int seen = 0, pages = 0;
	for (;;) {
		OK(ts_store_account_list(f->c, f->a, after, NULL, 3, &list, &n, &f->e));
		assert_in_range(n, 0, 3);
		if (n == 0)
			break;
		pages++;
		for (int i = 0; i < n; i++)
			assert_string_equal(list[i].account_id, sorted[seen + i]);
		seen += n;
		after = list[n - 1].account_id;
	}
	assert_int_equal(seen, N);
	assert_int_equal(pages, (N + 2) / 3);
	/* after an id that does not exist: from the next one */
	OK(ts_store_account_list(f->c, f->a, "aa", NULL, 2, &list, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].account_id, "ab");
	/* after the last: nothing */
	OK(ts_store_account_list(f->c, f->a, sorted[N - 1], NULL, 10, &list, &n, &f->e));
	assert_int_equal(n, 0);

	/* name filter: exact, ordered by id, pages too */
	const char *shared[N];
	int ns = 0;
	for (size_t i = 0; i < N; i += 3)
		shared[ns++] = ids[i];
	qsort(shared, (size_t)ns, sizeof shared[0], cmp_str);
	OK(ts_store_account_list(f->c, f->a, NULL, "Shared", 0, &list, &n, &f->e));
	assert_int_equal(n, ns);
	for (int i = 0; i < n; i++) {
		assert_string_equal(list[i].account_id, shared[i]);
		assert_string_equal(list[i].name, "Shared");
	}
	OK(ts_store_account_list(f->c, f->a, shared[0], "Shared", 2, &list, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].account_id, shared[1]);
	OK(ts_store_account_list(f->c, f->a, NULL, "shared", 0, &list, &n, &f->e));
	assert_int_equal(n, 0);
	OK(ts_store_account_list(f->c, f->a, NULL, "Share", 0, &list, &n, &f->e));
	assert_int_equal(n, 0);
	OK(ts_store_account_list(f->c, f->a, NULL, "%", 0, &list, &n, &f->e));
	assert_int_equal(n, 0);
	/* every field comes back in a listing */
	OK(ts_store_account_list(f->c, f->a, NULL, "ab", 0, &list, &n, &f->e));
	assert_int_equal(n, 1);
	assert_string_equal(list[0].account_type, "Team");
	assert_string_equal(list[0].status, "Active");
	assert_int_equal(list[0].created_ms, 1700000000123);
	assert_string_equal(list[0].settings, "{}");
}

static void test_account_list_page_max(void **state)
{
	struct fx *f = *state;
	/* more than one page's worth, in one transaction */
	enum { TOTAL = TS_STORE_PAGE_MAX + 5 };
	OK(ts_store_begin(f->c, true, &f->e));
	for (int i = 0; i < TOTAL; i++) {
		char id[16];
		snprintf(id, sizeof id, "p%05d", i);
		struct ts_account a = mkacct(id, "P");
		OK(ts_store_account_insert(f->c, &a, &f->e));
	}
	OK(ts_store_commit(f->c, &f->e));
	struct ts_account *list = NULL;
	int n = 0;
	OK(ts_store_account_list(f->c, f->a, NULL, NULL, 0, &list, &n, &f->e));
	assert_int_equal(n, TS_STORE_PAGE_MAX);
	OK(ts_store_account_list(f->c, f->a, NULL, NULL, TS_STORE_PAGE_MAX + 100, &list, &n,
	                         &f->e));
	assert_int_equal(n, TS_STORE_PAGE_MAX);
	OK(ts_store_account_list(f->c, f->a, list[n - 1].account_id, NULL, 0, &list, &n, &f->e));
	assert_int_equal(n, 5);
	assert_string_equal(list[4].account_id, "p01004");
}

/* ---- transactions -------------------------------------------------------------------------- */

static void test_tx_rollback_commit(void **state)
{
	struct fx *f = *state;
	struct ts_account got;
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account a = mkacct("rolled", "R");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	OK(ts_store_account_get(f->c, f->a, "rolled", &got, &f->e)); /* visible to itself */
	ts_store_rollback(f->c);
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, "rolled", &got, &f->e));

	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account b = mkacct("committed", "C");
	OK(ts_store_account_insert(f->c, &b, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_account_get(f->c, f->a, "committed", &got, &f->e));

	/* a rolled-back update and delete leave the row as it was */
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account u = mkacct("committed", "Changed");
	OK(ts_store_account_update(f->c, &u, &f->e));
	OK(ts_store_account_delete(f->c, "committed", &f->e));
	ts_store_rollback(f->c);
	OK(ts_store_account_get(f->c, f->a, "committed", &got, &f->e));
	assert_string_equal(got.name, "C");

	/* a read transaction */
	OK(ts_store_begin(f->c, false, &f->e));
	OK(ts_store_account_get(f->c, f->a, "committed", &got, &f->e));
	OK(ts_store_commit(f->c, &f->e));
}

static void test_tx_misuse(void **state)
{
	struct fx *f = *state;
	OK(ts_store_begin(f->c, true, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_begin(f->c, true, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_begin(f->c, false, &f->e));
	/* the first transaction is still open and works */
	struct ts_account a = mkacct("still", "S");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	struct ts_account got;
	OK(ts_store_account_get(f->c, f->a, "still", &got, &f->e));
	/* commit without a transaction fails; rollback without one is harmless */
	assert_int_not_equal(ts_store_commit(f->c, &f->e), TS_ERR_OK);
	ts_store_rollback(f->c);
	ts_store_rollback(f->c);
	OK(ts_store_ping(f->c, &f->e));
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_commit(f->c, &f->e));
}

static void test_tx_disconnect_rolls_back(void **state)
{
	struct fx *f = *state;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	OK(ts_store_begin(c2, true, &f->e));
	struct ts_account a = mkacct("orphan", "O");
	OK(ts_store_account_insert(c2, &a, &f->e));
	ts_store_disconnect(&c2);
	assert_null(c2);
	struct ts_account got;
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, "orphan", &got, &f->e));
	/* and the writer lock was released */
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_account_insert(f->c, &a, &f->e));
	OK(ts_store_commit(f->c, &f->e));
}

static void test_tx_isolation(void **state)
{
	struct fx *f = *state;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	struct ts_account pre = mkacct("pre", "Before");
	OK(ts_store_account_insert(f->c, &pre, &f->e));

	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account a = mkacct("hidden", "H");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	struct ts_account u = mkacct("pre", "After");
	OK(ts_store_account_update(f->c, &u, &f->e));
	struct ts_account got;
	/* the second connection sees neither the insert nor the update */
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(c2, f->a, "hidden", &got, &f->e));
	OK(ts_store_account_get(c2, f->a, "pre", &got, &f->e));
	assert_string_equal(got.name, "Before");
	struct ts_account *list = NULL;
	int n = 0;
	OK(ts_store_account_list(c2, f->a, NULL, NULL, 0, &list, &n, &f->e));
	assert_int_equal(n, 1);
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_account_get(c2, f->a, "hidden", &got, &f->e));
	OK(ts_store_account_get(c2, f->a, "pre", &got, &f->e));
	assert_string_equal(got.name, "After");
	ts_store_disconnect(&c2);
}

/*
 * A read declared one statement long (ts_store_read_one) answers that
 * statement and refuses a second, on both backends; a write or a read that
 * was not declared is unaffected, and the connection works afterwards.
 */
static void test_tx_read_one(void **state)
{
	struct fx *f = *state;
	struct ts_account a = mkacct("one", "One"), got;
	OK(ts_store_account_insert(f->c, &a, &f->e));
	for (int round = 0; round < 2; round++) {
		OK(ts_store_begin(f->c, false, &f->e));
		ts_store_read_one(f->c);
		OK(ts_store_account_get(f->c, f->a, "one", &got, &f->e));
		assert_string_equal(got.name, "One");
		EXPECT(TS_ERR_INTERNAL, ts_store_account_get(f->c, f->a, "one", &got, &f->e));
		if (round == 0)
			OK(ts_store_commit(f->c, &f->e));
		else
			ts_store_rollback(f->c);
	}
	/* declared after a statement ran: one more, then no more */
	OK(ts_store_begin(f->c, false, &f->e));
	OK(ts_store_account_get(f->c, f->a, "one", &got, &f->e));
	ts_store_read_one(f->c);
	OK(ts_store_account_get(f->c, f->a, "one", &got, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_account_get(f->c, f->a, "one", &got, &f->e));
	ts_store_rollback(f->c);
	/* a write ignores it */
	OK(ts_store_begin(f->c, true, &f->e));
	ts_store_read_one(f->c);
	OK(ts_store_account_get(f->c, f->a, "one", &got, &f->e));
	struct ts_account b = mkacct("two", "Two");
	OK(ts_store_account_insert(f->c, &b, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	/* a declared read whose statement never comes, then plain reads and a write */
	OK(ts_store_begin(f->c, false, &f->e));
	ts_store_read_one(f->c);
	OK(ts_store_commit(f->c, &f->e));
	OK(ts_store_account_get(f->c, f->a, "two", &got, &f->e));
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_account_delete(f->c, "two", &f->e));
	OK(ts_store_commit(f->c, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, "two", &got, &f->e));
}

/*
 * Transactions back to back on one connection, each ending as a read or a
 * write may (PostgreSQL sends a read's end without waiting for it, and BEGIN
 * with the first statement): each sees what the ones before it committed,
 * another connection sees it too, and a transaction with no statement at all
 * commits and rolls back cleanly.
 */
static void test_tx_back_to_back(void **state)
{
	struct fx *f = *state;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	struct ts_account got;
	for (int i = 0; i < 20; i++) {
		char id[32], name[32];
		snprintf(id, sizeof id, "b2b%02d", i);
		snprintf(name, sizeof name, "N%d", i);
		struct ts_account a = mkacct(id, name);
		OK(ts_store_begin(f->c, true, &f->e));
		OK(ts_store_account_insert(f->c, &a, &f->e));
		OK(ts_store_commit(f->c, &f->e));
		OK(ts_store_begin(f->c, false, &f->e));
		OK(ts_store_account_get(f->c, f->a, id, &got, &f->e));
		if (i % 2)
			OK(ts_store_commit(f->c, &f->e));
		else
			ts_store_rollback(f->c);
		OK(ts_store_begin(f->c, i % 3 == 0, &f->e)); /* empty */
		if (i % 2)
			OK(ts_store_commit(f->c, &f->e));
		else
			ts_store_rollback(f->c);
		OK(ts_store_account_get(c2, f->a, id, &got, &f->e));
		assert_string_equal(got.name, name);
	}
	/* a failing first statement (BEGIN travels with it) leaves the connection usable */
	struct ts_account dup = mkacct("b2b00", "again");
	OK(ts_store_begin(f->c, true, &f->e));
	EXPECT(TS_ERR_CONFLICT, ts_store_account_insert(f->c, &dup, &f->e));
	ts_store_rollback(f->c);
	OK(ts_store_begin(f->c, false, &f->e));
	OK(ts_store_account_get(f->c, f->a, "b2b00", &got, &f->e));
	assert_string_equal(got.name, "N0");
	OK(ts_store_commit(f->c, &f->e));
	ts_store_disconnect(&c2);
}

/* ---- nodes ----------------------------------------------------------------------------------- */

#define NODE_T0_MS 1700000000000LL
#define NODE_WINDOW_MS 6000

static int64_t node_beat(struct fx *f, ts_store_conn_t *c, const char *id, int64_t now)
{
	int64_t live = -1;
	OK(ts_store_node_beat(c, id, now, now - NODE_WINDOW_MS, &live, &f->e));
	assert_false(ts_store_in_tx(c));
	return live;
}

/*
 * Two nodes beating on two connections count each other; a clean leave and a
 * silent node drop out of the count; rows silent past TS_STORE_NODE_FORGET_MS
 * are deleted; beats in a transaction are refused.
 */
static void test_nodes(void **state)
{
	struct fx *f = *state;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	assert_int_equal(node_beat(f, f->c, "node-a", NODE_T0_MS), 1);
	assert_int_equal(node_beat(f, c2, "node-b", NODE_T0_MS + 100), 2);
	assert_int_equal(node_beat(f, f->c, "node-a", NODE_T0_MS + 2000), 2); /* one row each */
	/* b goes silent: once its row is older than the window it is not counted */
	assert_int_equal(node_beat(f, f->c, "node-a", NODE_T0_MS + NODE_WINDOW_MS + 200), 1);
	assert_int_equal(node_beat(f, c2, "node-b", NODE_T0_MS + NODE_WINDOW_MS + 300), 2);
	OK(ts_store_node_leave(c2, "node-b", &f->e));
	assert_int_equal(node_beat(f, f->c, "node-a", NODE_T0_MS + NODE_WINDOW_MS + 400), 1);
	/* a row left silent longer than TS_STORE_NODE_FORGET_MS is deleted */
	assert_int_equal(node_beat(f, c2, "node-c", NODE_T0_MS + NODE_WINDOW_MS + 500), 2);
	int64_t later = NODE_T0_MS + NODE_WINDOW_MS + 500 + TS_STORE_NODE_FORGET_MS + 1;
	int64_t live = -1;
	OK(ts_store_node_beat(f->c, "node-d", later, 0, &live, &f->e));
	assert_int_equal(live, 1); /* "since 0" counts every row still kept */
	OK(ts_store_begin(f->c, true, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_node_beat(f->c, "node-a", later, 0, &live, &f->e));
	ts_store_rollback(f->c);
	ts_store_disconnect(&c2);
}

/* ---- admin keys ---------------------------------------------------------------------------- */

static void test_adminkeys(void **state)
{
	struct fx *f = *state;
	int64_t count = -1;
	OK(ts_store_adminkey_count(f->c, &count, &f->e));
	assert_int_equal(count, 0);
	static const char *ids[] = {"AKIDb", "AKIDa", "AKID_", "AKIDA", "AKID-1"};
	for (size_t i = 0; i < N_ITEMS(ids); i++) {
		char hash[TS_SHA256_HEX_LEN + 1];
		ts_sha256_hex(ids[i], strlen(ids[i]), hash);
		struct ts_adminkey k = {.access_key_id = ids[i],
		                        .secret_hash = hash,
		                        .policies = "[\"AdministratorAccess\"]",
		                        .description = i == 0 ? NULL : "a key",
		                        .created_ms = 1700000000000 + (int64_t)i};
		OK(ts_store_adminkey_insert(f->c, &k, &f->e));
	}
	OK(ts_store_adminkey_count(f->c, &count, &f->e));
	assert_int_equal(count, (int64_t)N_ITEMS(ids));

	struct ts_adminkey k;
	OK(ts_store_adminkey_get(f->c, f->a, "AKIDa", &k, &f->e));
	char hash[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex("AKIDa", 5, hash);
	assert_string_equal(k.access_key_id, "AKIDa");
	assert_string_equal(k.secret_hash, hash);
	assert_string_equal(k.policies, "[\"AdministratorAccess\"]");
	assert_string_equal(k.description, "a key");
	assert_int_equal(k.created_ms, 1700000000001);
	OK(ts_store_adminkey_get(f->c, f->a, "AKIDb", &k, &f->e));
	assert_string_equal(k.description, ""); /* NULL description stored as empty */

	struct ts_adminkey dup = {
	        .access_key_id = "AKIDa", .secret_hash = "x", .policies = "[]", .created_ms = 1};
	EXPECT(TS_ERR_CONFLICT, ts_store_adminkey_insert(f->c, &dup, &f->e));
	OK(ts_store_adminkey_get(f->c, f->a, "AKIDa", &k, &f->e));
	assert_string_equal(k.secret_hash, hash);

	/* list: ordered by id in byte order, paged */
	const char *sorted[N_ITEMS(ids)];
	memcpy(sorted, ids, sizeof ids);
	qsort(sorted, N_ITEMS(ids), sizeof sorted[0], cmp_str);
	struct ts_adminkey *list = NULL;
	int n = 0;
	OK(ts_store_adminkey_list(f->c, f->a, NULL, 0, &list, &n, &f->e));
	assert_int_equal(n, (int)N_ITEMS(ids));
	for (int i = 0; i < n; i++)
		assert_string_equal(list[i].access_key_id, sorted[i]);
	OK(ts_store_adminkey_list(f->c, f->a, sorted[1], 2, &list, &n, &f->e));
	assert_int_equal(n, 2);
	assert_string_equal(list[0].access_key_id, sorted[2]);
	assert_string_equal(list[1].access_key_id, sorted[3]);

	OK(ts_store_adminkey_delete(f->c, "AKIDa", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_adminkey_delete(f->c, "AKIDa", &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_adminkey_get(f->c, f->a, "AKIDa", &k, &f->e));
	EXPECT(TS_ERR_NOT_FOUND, ts_store_adminkey_get(f->c, f->a, "akida", &k, &f->e));
	OK(ts_store_adminkey_count(f->c, &count, &f->e));
	assert_int_equal(count, (int64_t)N_ITEMS(ids) - 1);
}

/* ---- audit --------------------------------------------------------------------------------- */

static struct ts_audit_record event(ts_arena_t *a, const char *name, int64_t t, const char *account,
                                    const char *body)
{
	char *id = ts_arena_alloc(a, TS_UUID_LEN + 1);
	ts_uuid_v4(id);
	return (struct ts_audit_record){.event_id = id,
	                                .event_time_ms = t,
	                                .event_name = name,
	                                .account_id = account,
	                                .body = body};
}

static struct ts_audit_fields fields(const struct ts_audit_record *r)
{
	return (struct ts_audit_fields){.seq = r->seq,
	                                .event_id = r->event_id,
	                                .event_time_ms = r->event_time_ms,
	                                .event_name = r->event_name,
	                                .account_id = r->account_id,
	                                .body = r->body};
}

/* Appends one event in a transaction of its own. */
static void append1(struct fx *f, struct ts_audit_record *r)
{
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_audit_append(f->c, f->a, r, &f->e));
	OK(ts_store_commit(f->c, &f->e));
}

/* Seals everything pending on c; returns the number of events sealed. */
static int64_t seal(struct fx *f, ts_store_conn_t *c)
{
	int64_t n = -1;
	OK(ts_audit_seal_pending(c, false, &n, &f->e));
	return n;
}

/* Verifies the whole trail on c, expecting it intact; returns the report. */
static struct ts_audit_report verify_ok(struct fx *f, ts_store_conn_t *c)
{
	struct ts_audit_keys k = test_keys();
	struct ts_audit_report r;
	OK(ts_audit_verify(c, f->a, &k, NULL, &r, &f->e));
	if (!r.ok)
		fail_msg("%s: verify: event %lld place %lld: %s", f->b->name, (long long)r.bad_seq,
		         (long long)r.bad_chain_seq, r.why);
	return r;
}

static struct ts_audit_report verify_broken(struct fx *f, const struct ts_audit_expect *x)
{
	struct ts_audit_keys k = test_keys();
	struct ts_audit_report r;
	OK(ts_audit_verify(f->c, f->a, &k, x, &r, &f->e));
	if (r.ok)
		fail_msg("%s: verify found nothing wrong", f->b->name);
	return r;
}

/* Walks the chain by hand, recomputing every link from the genesis hash; returns its length. */
static int64_t walk_chain(struct fx *f, ts_store_conn_t *c)
{
	char link[TS_SHA256_HEX_LEN + 1] = TS_AUDIT_GENESIS_HASH;
	int64_t place = 0;
	struct ts_audit_keys k = test_keys();
	for (;;) {
		struct ts_audit_record *recs = NULL;
		int n = 0;
		OK(ts_store_audit_chain_walk(c, f->a, place, INT64_MAX, 97, &recs, &n, &f->e));
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			assert_int_equal(recs[i].chain_seq, place + 1);
			assert_non_null(recs[i].event_id);
			struct ts_audit_fields fl = fields(&recs[i]);
			assert_true(ts_audit_event_mac_ok(&k, &fl, recs[i].mac));
			ts_audit_link(link, recs[i].seq, recs[i].mac, link);
			assert_string_equal(recs[i].hash, link);
			place++;
		}
	}
	return place;
}

/* The MAC of one event, computed here over the encoding docs/audit.md gives. */
static void put_u64(crypto_generichash_state *st, uint64_t v)
{
	unsigned char b[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
	crypto_generichash_update(st, b, 8);
}

static void put_str(crypto_generichash_state *st, const char *s)
{
	put_u64(st, strlen(s));
	crypto_generichash_update(st, (const unsigned char *)s, strlen(s));
}

static void hm_u64(crypto_auth_hmacsha256_state *st, uint64_t v)
{
	unsigned char b[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)v;
	crypto_auth_hmacsha256_update(st, b, 8);
}

static void hm_str(crypto_auth_hmacsha256_state *st, const char *s)
{
	hm_u64(st, strlen(s));
	crypto_auth_hmacsha256_update(st, (const unsigned char *)s, strlen(s));
}

static void test_audit_encoding(void **state)
{
	(void)state;
	struct ts_audit_keys k = test_keys();
	struct ts_audit_keys other;
	ts_audit_keys_derive(other_master, &other);
	assert_memory_not_equal(k.event, k.checkpoint, TS_AUDIT_KEY_LEN);
	assert_string_not_equal(k.check, other.check);
	/* the check value is neither key */
	char hex[TS_SHA256_HEX_LEN + 1];
	ts_hex_encode(k.event, TS_AUDIT_KEY_LEN, hex);
	assert_string_not_equal(hex, k.check);

	struct ts_audit_fields ev = {.seq = 7,
	                             .event_id = "id-7",
	                             .event_time_ms = 1234,
	                             .event_name = "CreateAccount",
	                             .account_id = NULL,
	                             .body = "{}"};
	crypto_generichash_state st;
	unsigned char mac[TS_AUDIT_MAC_LEN];
	crypto_generichash_init(&st, k.event, TS_AUDIT_KEY_LEN, sizeof mac);
	put_str(&st, "tessera-audit-event-v1");
	put_u64(&st, 7);
	put_str(&st, "id-7");
	put_u64(&st, 1234);
	put_str(&st, "CreateAccount");
	put_u64(&st, UINT64_MAX); /* NULL account */
	put_str(&st, "{}");
	crypto_generichash_final(&st, mac, sizeof mac);
	char want[TS_AUDIT_MAC_HEX_LEN + 1], got[TS_AUDIT_MAC_HEX_LEN + 1];
	ts_hex_encode(mac, sizeof mac, want);
	ts_audit_event_mac(&k, &ev, got);
	assert_string_equal(got, want);
	assert_true(ts_audit_event_mac_ok(&k, &ev, want));
	assert_false(ts_audit_event_mac_ok(&other, &ev, want));
	assert_false(ts_audit_event_mac_ok(&k, &ev, NULL));

	/* every column counts, NULL is not "", and moving bytes between columns shows */
	struct ts_audit_fields changed[] = {ev, ev, ev, ev, ev, ev, ev};
	changed[0].seq = 8;
	changed[1].event_id = "id-8";
	changed[2].event_time_ms = 1235;
	changed[3].event_name = "DeleteAccount";
	changed[4].account_id = "";
	changed[5].body = "{ }";
	changed[6].event_id = "id-7C";
	changed[6].event_name = "reateAccount";
	for (size_t i = 0; i < N_ITEMS(changed); i++)
		assert_false(ts_audit_event_mac_ok(&k, &changed[i], want));
	/* the link: SHA-256 over tag, previous link, seq and MAC, computed here */
	crypto_hash_sha256_state hs;
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_init(&hs);
	const char *parts[] = {"tessera-audit-link-v1", TS_AUDIT_GENESIS_HASH};
	for (int i = 0; i < 2; i++) {
		unsigned char len[8] = {0};
		len[7] = (unsigned char)strlen(parts[i]);
		crypto_hash_sha256_update(&hs, len, 8);
		crypto_hash_sha256_update(&hs, (const unsigned char *)parts[i], strlen(parts[i]));
	}
	unsigned char seq7[8] = {0, 0, 0, 0, 0, 0, 0, 7}, len64[8] = {0, 0, 0, 0, 0, 0, 0, 64};
	crypto_hash_sha256_update(&hs, seq7, 8);
	crypto_hash_sha256_update(&hs, len64, 8);
	crypto_hash_sha256_update(&hs, (const unsigned char *)want, 64);
	crypto_hash_sha256_final(&hs, h);
	char link0[TS_SHA256_HEX_LEN + 1], link_want[TS_SHA256_HEX_LEN + 1];
	ts_hex_encode(h, sizeof h, link_want);
	ts_audit_link(TS_AUDIT_GENESIS_HASH, 7, want, link0);
	assert_string_equal(link0, link_want);
	char l2[TS_SHA256_HEX_LEN + 1];
	ts_audit_link(link0, 7, want, l2);
	assert_string_not_equal(l2, link0); /* the link depends on the one before */
	ts_audit_link(TS_AUDIT_GENESIS_HASH, 8, want, l2);
	assert_string_not_equal(l2, link0);
	ts_audit_link(TS_AUDIT_GENESIS_HASH, 7, got + 1, l2);
	assert_string_not_equal(l2, link0);

	/* checkpoints: every member counts, and the previous checkpoint's MAC */
	char cp[TS_AUDIT_MAC_HEX_LEN + 1];
	ts_audit_checkpoint_mac(&k, 5, link0, 99, "", cp);
	{ /* HMAC-SHA-256 over the documented encoding, by libsodium */
		crypto_auth_hmacsha256_state hm;
		unsigned char cm[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_init(&hm, k.checkpoint, TS_AUDIT_KEY_LEN);
		hm_str(&hm, "tessera-audit-checkpoint-v1");
		hm_u64(&hm, 5);
		hm_str(&hm, link0);
		hm_u64(&hm, 99);
		hm_str(&hm, "");
		crypto_auth_hmacsha256_final(&hm, cm);
		char cm_hex[TS_AUDIT_MAC_HEX_LEN + 1];
		ts_hex_encode(cm, sizeof cm, cm_hex);
		assert_string_equal(cp, cm_hex);
	}
	assert_true(ts_audit_checkpoint_mac_ok(&k, 5, link0, 99, "", cp));
	assert_false(ts_audit_checkpoint_mac_ok(&k, 4, link0, 99, "", cp));
	assert_false(ts_audit_checkpoint_mac_ok(&k, 5, l2, 99, "", cp));
	assert_false(ts_audit_checkpoint_mac_ok(&k, 5, link0, 98, "", cp));
	assert_false(ts_audit_checkpoint_mac_ok(&k, 5, link0, 99, want, cp));
	assert_false(ts_audit_checkpoint_mac_ok(&other, 5, link0, 99, "", cp));
	/* the event key does not make checkpoints */
	char ev_cp[TS_AUDIT_MAC_HEX_LEN + 1];
	struct ts_audit_keys swapped = k;
	memcpy(swapped.checkpoint, k.event, TS_AUDIT_KEY_LEN);
	ts_audit_checkpoint_mac(&swapped, 5, link0, 99, "", ev_cp);
	assert_string_not_equal(ev_cp, cp);

	struct ts_audit_expect x;
	ts_arena_t *a = ts_arena_new();
	assert_true(ts_audit_expect_parse("12:" TS_AUDIT_GENESIS_HASH, a, &x));
	assert_int_equal(x.chain_seq, 12);
	assert_false(ts_audit_expect_parse("12:abc", a, &x));
	assert_false(ts_audit_expect_parse(":" TS_AUDIT_GENESIS_HASH, a, &x));
	assert_false(ts_audit_expect_parse("-1:" TS_AUDIT_GENESIS_HASH, a, &x));
	assert_false(ts_audit_expect_parse("x:" TS_AUDIT_GENESIS_HASH, a, &x));
	ts_arena_free(&a);
}

static void test_audit_outside_tx(void **state)
{
	struct fx *f = *state;
	struct ts_audit_record r = event(f->a, "CreateAccount", 1000, NULL, "{}");
	EXPECT(TS_ERR_INTERNAL, ts_store_audit_append(f->c, f->a, &r, &f->e));
	struct ts_audit_record *recs = NULL;
	int n = -1;
	OK(ts_store_audit_walk(f->c, f->a, 0, 0, &recs, &n, &f->e));
	assert_int_equal(n, 0);
	assert_int_equal(seal(f, f->c), 0);
	struct ts_audit_report rep = verify_ok(f, f->c);
	assert_int_equal(rep.sealed, 0);
	assert_int_equal(rep.checkpoints, 1); /* the genesis checkpoint */
	assert_int_equal(rep.last.chain_seq, 0);
	assert_string_equal(rep.last.hash, TS_AUDIT_GENESIS_HASH);
}

static void test_audit_needs_keys(void **state)
{
	struct fx *f = *state;
	/* a second handle on the same store, without the keys */
	ts_store_t *s2 = NULL;
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_open(f->b->url, false, NULL, &s2, &f->e));
	OK(ts_store_connect(s2, &c2, &f->e));
	struct ts_audit_record r = event(f->a, "CreateAccount", 1000, NULL, "{}");
	OK(ts_store_begin(c2, true, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_audit_append(c2, f->a, &r, &f->e));
	assert_non_null(strstr(f->e.message, "master key"));
	ts_store_rollback(c2);
	struct ts_audit_seal_result sr;
	EXPECT(TS_ERR_INTERNAL, ts_store_audit_seal(c2, f->a, 10, 1, &sr, &f->e));
	EXPECT(TS_ERR_INTERNAL, ts_store_audit_keys_check(c2, &f->e));

	/* another master key: refused with a clear message, nothing written */
	struct ts_audit_keys other;
	ts_audit_keys_derive(other_master, &other);
	ts_store_audit_keys_set(s2, &other);
	EXPECT(TS_ERR_UNAVAILABLE, ts_store_audit_keys_check(c2, &f->e));
	assert_non_null(strstr(f->e.message, "master key does not match"));
	/* the right one passes, again and again */
	struct ts_audit_keys k = test_keys();
	ts_store_audit_keys_set(s2, &k);
	OK(ts_store_audit_keys_check(c2, &f->e));
	OK(ts_store_audit_keys_check(f->c, &f->e));
	assert_int_equal(verify_ok(f, f->c).checkpoints, 1);
	ts_store_disconnect(&c2);
	ts_store_free(&s2);
}

static void test_audit_append_seal(void **state)
{
	struct fx *f = *state;
	struct ts_audit_keys k = test_keys();
	struct ts_audit_record r1 = event(f->a, "CreateAccount", 1000, "acc-1", "{\"n\":1}");
	append1(f, &r1);
	assert_int_equal(r1.seq, 1);
	struct ts_audit_fields f1 = fields(&r1);
	assert_true(ts_audit_event_mac_ok(&k, &f1, r1.mac));
	assert_null(r1.hash);

	/* two appends in one transaction */
	struct ts_audit_record r2 = event(f->a, "UpdateAccount", 2000, NULL, "{\"n\":2}");
	struct ts_audit_record r3 = event(f->a, "DeleteAccount", 3000, "acc-1", "{\"n\":3}");
	OK(ts_store_begin(f->c, true, &f->e));
	OK(ts_store_audit_append(f->c, f->a, &r2, &f->e));
	OK(ts_store_audit_append(f->c, f->a, &r3, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	assert_int_equal(r2.seq, 2);
	assert_int_equal(r3.seq, 3);

	/* pending until sealed: verify counts them, the chain is empty */
	struct ts_audit_record *recs = NULL;
	int n = 0;
	OK(ts_store_audit_walk(f->c, f->a, 0, 0, &recs, &n, &f->e));
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(recs[i].pending, TS_AUDIT_PENDING);
		assert_int_equal(recs[i].chain_seq, 0);
		assert_null(recs[i].hash);
	}
	int64_t max = -1;
	OK(ts_store_audit_chain_max(f->c, &max, &f->e));
	assert_int_equal(max, 0);
	struct ts_audit_report rep = verify_ok(f, f->c);
	assert_int_equal(rep.unsealed, 3);
	assert_int_equal(rep.oldest_unsealed_ms, 1000);

	/* one round seals them, in seq order, and writes one checkpoint */
	struct ts_audit_seal_result sr;
	OK(ts_store_audit_seal(f->c, f->a, 100, 5000, &sr, &f->e));
	assert_false(sr.skipped);
	assert_int_equal(sr.sealed, 3);
	assert_int_equal(sr.refused, 0);
	assert_int_equal(sr.point.chain_seq, 3);
	assert_int_equal(sr.point.time_ms, 5000);
	assert_int_equal(sr.last_event_seq, 3);
	assert_int_equal(walk_chain(f, f->c), 3);
	struct ts_audit_checkpoint last;
	bool found = false;
	OK(ts_store_audit_checkpoint_last(f->c, f->a, &last, &found, &f->e));
	assert_true(found);
	assert_int_equal(last.chain_seq, 3);
	assert_string_equal(last.hash, sr.point.hash);
	assert_string_equal(last.mac, sr.point.mac);
	/* nothing left: the next round writes nothing */
	OK(ts_store_audit_seal(f->c, f->a, 100, 6000, &sr, &f->e));
	assert_int_equal(sr.sealed, 0);
	struct ts_audit_checkpoint *cps = NULL;
	OK(ts_store_audit_checkpoints(f->c, f->a, -1, 0, &cps, &n, &f->e));
	assert_int_equal(n, 2);
	assert_int_equal(cps[0].chain_seq, 0);
	assert_int_equal(cps[1].chain_seq, 3);

	OK(ts_store_audit_walk(f->c, f->a, 1, 1, &recs, &n, &f->e));
	assert_int_equal(n, 1);
	assert_int_equal(recs[0].seq, 2);
	assert_string_equal(recs[0].event_id, r2.event_id);
	assert_int_equal(recs[0].event_time_ms, 2000);
	assert_string_equal(recs[0].event_name, "UpdateAccount");
	assert_null(recs[0].account_id);
	assert_string_equal(recs[0].body, "{\"n\":2}");
	assert_string_equal(recs[0].mac, r2.mac);
	assert_int_equal(recs[0].chain_seq, 2);
	assert_int_equal(recs[0].pending, TS_AUDIT_NOT_PENDING);
	rep = verify_ok(f, f->c);
	assert_int_equal(rep.sealed, 3);
	assert_int_equal(rep.unsealed, 0);
	assert_int_equal(rep.checkpoints, 2);

	/* more events link after the checkpoint */
	struct ts_audit_record r4 = event(f->a, "CreateAccount", 7000, NULL, "{\"n\":4}");
	append1(f, &r4);
	assert_int_equal(seal(f, f->c), 1);
	assert_int_equal(walk_chain(f, f->c), 4);
	/* a second connection sees the same trail */
	ts_store_conn_t *c2 = NULL;
	OK(ts_store_connect(f->s, &c2, &f->e));
	assert_int_equal(verify_ok(f, c2).sealed, 4);
	/* an external checkpoint: the one the store holds, and a wrong one */
	struct ts_audit_keys kk = test_keys();
	struct ts_audit_expect x = {.chain_seq = 3, .hash = sr.point.hash};
	OK(ts_store_audit_checkpoint_last(f->c, f->a, &last, &found, &f->e));
	x = (struct ts_audit_expect){.chain_seq = 4, .hash = last.hash};
	OK(ts_audit_verify(c2, f->a, &kk, &x, &rep, &f->e));
	assert_true(rep.ok);
	x.chain_seq = 3;
	OK(ts_audit_verify(c2, f->a, &kk, &x, &rep, &f->e));
	assert_false(rep.ok);
	x.chain_seq = 5;
	OK(ts_audit_verify(c2, f->a, &kk, &x, &rep, &f->e));
	assert_false(rep.ok);
	assert_non_null(strstr(rep.why, "removed from its end"));
	ts_store_disconnect(&c2);
}

/* Five events: names C D C U C at times 1000..5000, seq 1..5. */
static void five_events(struct fx *f)
{
	static const char *const names[] = {"CreateAccount", "DeleteAccount", "CreateAccount",
	                                    "UpdateAccount", "CreateAccount"};
	for (int i = 0; i < 5; i++) {
		char *body = ts_arena_printf(f->a, "{\"i\":%d}", i + 1);
		struct ts_audit_record r =
		        event(f->a, names[i], 1000 * (i + 1), i % 2 ? NULL : "acc", body);
		append1(f, &r);
		assert_int_equal(r.seq, i + 1);
	}
}

static void expect_seqs(struct fx *f, const struct ts_audit_filter *flt, const int *want, int nwant)
{
	struct ts_audit_record *recs = NULL;
	int n = -1;
	OK(ts_store_audit_list(f->c, f->a, flt, &recs, &n, &f->e));
	bool bad = n != nwant;
	for (int i = 0; !bad && i < n; i++)
		bad = recs[i].seq != want[i];
	if (bad) {
		char got[128] = "";
		for (int i = 0; i < n && strlen(got) < 100; i++)
			snprintf(got + strlen(got), sizeof got - strlen(got), " %lld",
			         (long long)recs[i].seq);
		fail_msg("%s: audit_list(name %s, %lld..%lld, before %lld, limit %d): got%s",
		         f->b->name, flt->event_name ? flt->event_name : "-",
		         (long long)flt->start_ms, (long long)flt->end_ms,
		         (long long)flt->before_seq, flt->limit, got);
	}
}

#define SEQS(...) \
	((const int[]){__VA_ARGS__}), (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int))
#define NO_SEQS NULL, 0

static void test_audit_list(void **state)
{
	struct fx *f = *state;
	five_events(f);
	expect_seqs(f, &(struct ts_audit_filter){0}, SEQS(5, 4, 3, 2, 1));
	expect_seqs(f, &(struct ts_audit_filter){.limit = 2}, SEQS(5, 4));
	expect_seqs(f, &(struct ts_audit_filter){.event_name = "CreateAccount"}, SEQS(5, 3, 1));
	expect_seqs(f, &(struct ts_audit_filter){.event_name = "DeleteAccount"}, SEQS(2));
	expect_seqs(f, &(struct ts_audit_filter){.event_name = "createaccount"}, NO_SEQS);
	expect_seqs(f, &(struct ts_audit_filter){.event_name = "Create"}, NO_SEQS);
	/* the time window is inclusive at both ends */
	expect_seqs(f, &(struct ts_audit_filter){.start_ms = 2000, .end_ms = 4000}, SEQS(4, 3, 2));
	expect_seqs(f, &(struct ts_audit_filter){.start_ms = 2001, .end_ms = 3999}, SEQS(3));
	expect_seqs(f, &(struct ts_audit_filter){.start_ms = 2000}, SEQS(5, 4, 3, 2));
	expect_seqs(f, &(struct ts_audit_filter){.end_ms = 2000}, SEQS(2, 1));
	expect_seqs(f, &(struct ts_audit_filter){.start_ms = 6000}, NO_SEQS);
	/* paging backwards */
	expect_seqs(f, &(struct ts_audit_filter){.before_seq = 4}, SEQS(3, 2, 1));
	expect_seqs(f, &(struct ts_audit_filter){.before_seq = 4, .limit = 2}, SEQS(3, 2));
	expect_seqs(f, &(struct ts_audit_filter){.before_seq = 2, .limit = 2}, SEQS(1));
	expect_seqs(f, &(struct ts_audit_filter){.before_seq = 1}, NO_SEQS);
	/* all together */
	expect_seqs(f, &(struct ts_audit_filter){.event_name = "CreateAccount", .before_seq = 5},
	            SEQS(3, 1));
	expect_seqs(f,
	            &(struct ts_audit_filter){.event_name = "CreateAccount",
	                                      .start_ms = 2000,
	                                      .end_ms = 5000,
	                                      .limit = 1},
	            SEQS(5));
	expect_seqs(f,
	            &(struct ts_audit_filter){
	                    .event_name = "CreateAccount", .start_ms = 1500, .before_seq = 5},
	            SEQS(3));

	/* records are complete; sealed ones carry their link, pending ones none */
	struct ts_audit_record *recs = NULL;
	int n = 0;
	OK(ts_store_audit_list(f->c, f->a, &(struct ts_audit_filter){.limit = 5}, &recs, &n,
	                       &f->e));
	assert_int_equal(n, 5);
	assert_string_equal(recs[0].body, "{\"i\":5}");
	assert_string_equal(recs[0].account_id, "acc");
	assert_null(recs[1].account_id);
	assert_int_equal(recs[0].event_time_ms, 5000);
	assert_null(recs[0].hash);
	assert_int_equal(seal(f, f->c), 5);
	OK(ts_store_audit_list(f->c, f->a, &(struct ts_audit_filter){.limit = 5}, &recs, &n,
	                       &f->e));
	assert_int_equal(n, 5);
	assert_int_equal(recs[0].chain_seq, 5);
	assert_non_null(recs[0].hash);
	assert_int_equal(strlen(recs[0].hash), TS_SHA256_HEX_LEN);
	assert_string_not_equal(recs[0].hash, recs[1].hash);
	expect_seqs(f, &(struct ts_audit_filter){.event_name = "CreateAccount"}, SEQS(5, 3, 1));
}

static void test_audit_walk(void **state)
{
	struct fx *f = *state;
	five_events(f);
	struct ts_audit_record *recs = NULL;
	int n = 0;
	OK(ts_store_audit_walk(f->c, f->a, 0, 0, &recs, &n, &f->e));
	assert_int_equal(n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(recs[i].seq, i + 1);
	OK(ts_store_audit_walk(f->c, f->a, 2, 2, &recs, &n, &f->e));
	assert_int_equal(n, 2);
	assert_int_equal(recs[0].seq, 3);
	assert_int_equal(recs[1].seq, 4);
	OK(ts_store_audit_walk(f->c, f->a, 4, 10, &recs, &n, &f->e));
	assert_int_equal(n, 1);
	assert_int_equal(recs[0].seq, 5);
	OK(ts_store_audit_walk(f->c, f->a, 5, 10, &recs, &n, &f->e));
	assert_int_equal(n, 0);
	/* sealing in small rounds gives the same chain as one round */
	struct ts_audit_seal_result sr;
	OK(ts_store_audit_seal(f->c, f->a, 2, 1, &sr, &f->e));
	assert_int_equal(sr.sealed, 2);
	OK(ts_store_audit_seal(f->c, f->a, 2, 2, &sr, &f->e));
	assert_int_equal(sr.sealed, 2);
	OK(ts_store_audit_seal(f->c, f->a, 2, 3, &sr, &f->e));
	assert_int_equal(sr.sealed, 1);
	assert_int_equal(walk_chain(f, f->c), 5);
	OK(ts_store_audit_chain_walk(f->c, f->a, 1, 3, 0, &recs, &n, &f->e));
	assert_int_equal(n, 2);
	assert_int_equal(recs[0].chain_seq, 2);
	assert_int_equal(recs[1].chain_seq, 3);
	struct ts_audit_report rep = verify_ok(f, f->c);
	assert_int_equal(rep.checkpoints, 4);
	assert_int_equal(rep.sealed, 5);
}

static void test_audit_rollback(void **state)
{
	struct fx *f = *state;
	struct ts_audit_record r1 = event(f->a, "CreateAccount", 1000, NULL, "{\"k\":1}");
	append1(f, &r1);
	/* two appends and an account, rolled back */
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_audit_record x = event(f->a, "CreateAccount", 2000, NULL, "{\"k\":\"x\"}");
	struct ts_audit_record y = event(f->a, "CreateAccount", 3000, NULL, "{\"k\":\"y\"}");
	OK(ts_store_audit_append(f->c, f->a, &x, &f->e));
	OK(ts_store_audit_append(f->c, f->a, &y, &f->e));
	struct ts_account a = mkacct("with-audit", "W");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	ts_store_rollback(f->c);

	struct ts_audit_record *recs = NULL;
	int n = 0;
	OK(ts_store_audit_list(f->c, f->a, &(struct ts_audit_filter){0}, &recs, &n, &f->e));
	assert_int_equal(n, 1);
	struct ts_account got;
	EXPECT(TS_ERR_NOT_FOUND, ts_store_account_get(f->c, f->a, "with-audit", &got, &f->e));
	assert_int_equal(verify_ok(f, f->c).unsealed, 1);

	/* the next append may reuse the event ids; its seq is after r1's */
	struct ts_audit_record r2 = event(f->a, "CreateAccount", 4000, NULL, "{\"k\":2}");
	r2.event_id = x.event_id;
	append1(f, &r2);
	assert_true(r2.seq > r1.seq);
	assert_int_equal(seal(f, f->c), 2);

	/* appends, then a write the schema refuses: the caller rolls back, no trace */
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_audit_record z = event(f->a, "CreateAccount", 5000, NULL, "{\"k\":3}");
	OK(ts_store_audit_append(f->c, f->a, &z, &f->e));
	struct ts_account bad = mkacct("bad-type", "B");
	bad.account_type = "Galaxy";
	assert_int_not_equal(ts_store_account_insert(f->c, &bad, &f->e), TS_ERR_OK);
	ts_store_rollback(f->c);
	assert_int_equal(seal(f, f->c), 0);
	struct ts_audit_record r3 = event(f->a, "CreateAccount", 6000, NULL, "{\"k\":4}");
	append1(f, &r3);
	assert_int_equal(seal(f, f->c), 1);
	assert_int_equal(walk_chain(f, f->c), 3);
	struct ts_audit_report rep = verify_ok(f, f->c);
	assert_int_equal(rep.sealed, 3);
	assert_int_equal(rep.unsealed, 0);
}

static void test_audit_append_now(void **state)
{
	struct fx *f = *state;
	struct ts_audit_keys k = test_keys();
	for (int i = 1; i <= 3; i++) {
		char *body = ts_arena_printf(f->a, "{\"now\":%d}", i);
		struct ts_audit_record r = event(f->a, "ReadAccount", 1000 * i, NULL, body);
		OK(ts_store_audit_append_now(f->c, f->a, &r, &f->e));
		assert_int_equal(r.seq, i);
		struct ts_audit_fields fl = fields(&r);
		assert_true(ts_audit_event_mac_ok(&k, &fl, r.mac));
	}
	assert_int_equal(verify_ok(f, f->c).unsealed, 3);
	/* not inside the caller's transaction */
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_audit_record r = event(f->a, "ReadAccount", 9000, NULL, "{}");
	EXPECT(TS_ERR_INTERNAL, ts_store_audit_append_now(f->c, f->a, &r, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	assert_int_equal(seal(f, f->c), 3);
	assert_int_equal(verify_ok(f, f->c).sealed, 3);
}

/*
 * Writes that change a row and then append their event, back to back on one
 * connection (PostgreSQL fetches the event's seq with BEGIN once the
 * connection's writes audit): each event gets a seq above the last, its MAC
 * holds, a write rolled back or one without an event leaves at most a gap in
 * seq, and the trail seals and verifies whole.
 */
static void test_audit_after_change(void **state)
{
	struct fx *f = *state;
	struct ts_audit_keys k = test_keys();
	int64_t last = 0;
	int appended = 0;
	for (int i = 0; i < 12; i++) {
		char id[32];
		snprintf(id, sizeof id, "chg%02d", i);
		struct ts_account a = mkacct(id, id);
		OK(ts_store_begin(f->c, true, &f->e));
		OK(ts_store_account_insert(f->c, &a, &f->e));
		if (i % 4 == 3) { /* a write without an event */
			OK(ts_store_commit(f->c, &f->e));
			continue;
		}
		struct ts_audit_record r = event(f->a, "CreateAccount", 1000 + i, id, "{}");
		OK(ts_store_audit_append(f->c, f->a, &r, &f->e));
		if (i % 4 == 2) { /* rolled back: neither the row nor the event stays */
			ts_store_rollback(f->c);
			continue;
		}
		OK(ts_store_commit(f->c, &f->e));
		assert_true(r.seq > last);
		last = r.seq;
		appended++;
		struct ts_audit_fields fl = fields(&r);
		assert_true(ts_audit_event_mac_ok(&k, &fl, r.mac));
	}
	assert_int_equal(seal(f, f->c), appended);
	struct ts_audit_report rep = verify_ok(f, f->c);
	assert_int_equal(rep.sealed, appended);
	assert_int_equal(rep.unsealed, 0);
}

/* ts_store_audit_submit: jobs queued from several threads, each done once. */
struct submitted {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, failed;
};

static void submitted_done(void *ctx, ts_err rc, const struct ts_error *e)
{
	(void)e;
	struct submitted *s = ctx;
	pthread_mutex_lock(&s->mu);
	s->done++;
	s->failed += rc != TS_ERR_OK;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

#define SUBMIT_JOBS 40

/*
 * Events queued for the store's audit writer (reads and refused calls take
 * this path) are each appended once with their own seq and a valid MAC, the
 * caller's connection stays free for its own transactions meanwhile, and
 * the sealer chains them all.
 */
static void test_audit_submit(void **state)
{
	struct fx *f = *state;
	struct ts_audit_keys k = test_keys();
	struct submitted s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct ts_store_audit_job jobs[SUBMIT_JOBS];
	struct ts_audit_record recs[SUBMIT_JOBS];
	for (int i = 0; i < SUBMIT_JOBS; i++) {
		char *body = ts_arena_printf(f->a, "{\"queued\":%d}", i);
		recs[i] = event(f->a, "ListUsers", 1000 + i, "acct-q", body);
		jobs[i] = (struct ts_store_audit_job){
		        .record = &recs[i], .arena = f->a, .done = submitted_done, .ctx = &s};
	}
	/* the arena is shared by the writer's MAC strings: it stays untouched until all are done */
	for (int i = 0; i < SUBMIT_JOBS; i++) {
		ts_store_audit_submit(f->c, &jobs[i]);
		if (i == SUBMIT_JOBS / 2) { /* the connection is the caller's again at once */
			struct ts_account got;
			EXPECT(TS_ERR_NOT_FOUND,
			       ts_store_account_get(f->c, NULL, "none", &got, &f->e));
		}
	}
	pthread_mutex_lock(&s.mu);
	while (s.done < SUBMIT_JOBS)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	assert_int_equal(s.failed, 0);
	bool seen[SUBMIT_JOBS + 1] = {false};
	for (int i = 0; i < SUBMIT_JOBS; i++) {
		assert_true(recs[i].seq >= 1 && recs[i].seq <= SUBMIT_JOBS);
		assert_false(seen[recs[i].seq]);
		seen[recs[i].seq] = true;
		struct ts_audit_fields fl = fields(&recs[i]);
		assert_true(ts_audit_event_mac_ok(&k, &fl, recs[i].mac));
	}
	assert_int_equal(verify_ok(f, f->c).unsealed, SUBMIT_JOBS);
	assert_int_equal(seal(f, f->c), SUBMIT_JOBS);
	assert_int_equal(verify_ok(f, f->c).sealed, SUBMIT_JOBS);
}

/*
 * Tampering behind the store's back (the integration tests do each kind on a
 * served store; here the sealer's part): a pending event whose MAC is wrong
 * is never chained, the events after it are, and verify names it.
 */
static void test_audit_sealer_refuses_forged(void **state)
{
	struct fx *f = *state;
	five_events(f);
	assert_int_equal(seal(f, f->c), 5);
	struct ts_audit_record r6 = event(f->a, "CreateAccount", 6000, NULL, "{\"i\":6}");
	append1(f, &r6);
	/* a forged event with a pending row, and an edit of a pending event */
	raw_exec(f->b, "INSERT INTO audit_events (seq, event_id, event_time_ms, event_name, "
	               "account_id, body, mac) VALUES (1000, 'forged', 1, 'DeleteAccount', NULL, "
	               "'{}', '00'); INSERT INTO audit_pending (seq) VALUES (1000)");
	struct ts_audit_record r7 = event(f->a, "CreateAccount", 7000, NULL, "{\"i\":7}");
	append1(f, &r7);
	raw_exec(f->b,
	         ts_arena_printf(f->a,
	                         "UPDATE audit_events SET event_name = 'Hidden' WHERE seq = %lld",
	                         (long long)r7.seq));
	struct ts_audit_report rep = verify_broken(f, NULL);
	assert_int_equal(rep.bad_seq, r7.seq < 1000 ? r7.seq : 1000);
	struct ts_audit_seal_result sr;
	OK(ts_store_audit_seal(f->c, f->a, 100, 9000, &sr, &f->e));
	assert_int_equal(sr.sealed, 1); /* r6 only */
	assert_int_equal(sr.refused, 2);
	assert_int_equal(sr.first_refused, r7.seq < 1000 ? r7.seq : 1000);
	assert_int_equal(walk_chain(f, f->c), 6);
	/* refused rows stay pending, refused: not taken again */
	OK(ts_store_audit_seal(f->c, f->a, 100, 9001, &sr, &f->e));
	assert_int_equal(sr.sealed + sr.refused, 0);
	struct ts_audit_record *recs = NULL;
	int n = 0;
	OK(ts_store_audit_walk(f->c, f->a, 999, 1, &recs, &n, &f->e));
	assert_int_equal(n, 1);
	assert_int_equal(recs[0].pending, TS_AUDIT_PENDING_REFUSED);
	rep = verify_broken(f, NULL);
	assert_non_null(strstr(rep.why, "MAC"));

	/* a checkpoint deleted together with the trail's end: only --expect sees it */
	raw_exec(f->b, "DELETE FROM audit_events WHERE seq >= 6; DELETE FROM audit_pending; "
	               "DELETE FROM audit_chain WHERE chain_seq = 6; "
	               "DELETE FROM audit_checkpoints WHERE chain_seq = 6");
	verify_ok(f, f->c);
	struct ts_audit_expect x = {.chain_seq = 6, .hash = sr.point.hash};
	rep = verify_broken(f, &x);
	assert_int_equal(rep.bad_chain_seq, 6);

	/* everything deleted: no genesis checkpoint, and the sealer refuses to start over */
	raw_exec(f->b, "DELETE FROM audit_events; DELETE FROM audit_pending; "
	               "DELETE FROM audit_chain; DELETE FROM audit_checkpoints");
	rep = verify_broken(f, NULL);
	assert_non_null(strstr(rep.why, "genesis"));
	struct ts_audit_record r8 = event(f->a, "CreateAccount", 8000, NULL, "{\"i\":8}");
	append1(f, &r8);
	EXPECT(TS_ERR_STORE, ts_store_audit_seal(f->c, f->a, 100, 9002, &sr, &f->e));
	OK(ts_store_audit_keys_check(f->c, &f->e)); /* the key is known: no new genesis */
	verify_broken(f, NULL);
}

/* A pending event deleted before sealing, its pending row left: verify and the sealer see it. */
static void test_audit_pending_orphan(void **state)
{
	struct fx *f = *state;
	struct ts_audit_record r1 = event(f->a, "CreateAccount", 1000, NULL, "{\"o\":1}");
	struct ts_audit_record r2 = event(f->a, "DeleteAccount", 2000, NULL, "{\"o\":2}");
	append1(f, &r1);
	append1(f, &r2);
	int64_t orphan = -1;
	OK(ts_store_audit_pending_orphan(f->c, &orphan, &f->e));
	assert_int_equal(orphan, 0);
	raw_exec(f->b, ts_arena_printf(f->a, "DELETE FROM audit_events WHERE seq = %lld",
	                               (long long)r2.seq));
	OK(ts_store_audit_pending_orphan(f->c, &orphan, &f->e));
	assert_int_equal(orphan, r2.seq);
	struct ts_audit_report rep = verify_broken(f, NULL);
	assert_int_equal(rep.bad_seq, r2.seq);
	assert_non_null(strstr(rep.why, "before it was sealed"));
	struct ts_audit_seal_result sr;
	OK(ts_store_audit_seal(f->c, f->a, 10, 3000, &sr, &f->e));
	assert_int_equal(sr.sealed, 1);
	assert_int_equal(sr.refused, 1);
	assert_int_equal(sr.first_refused, r2.seq);
	assert_int_equal(walk_chain(f, f->c), 1);
	verify_broken(f, NULL);
}

/*
 * A store made before the sealed trail (schema 5, with its audit_head and
 * unkeyed hashes): migrating keeps its events, makes them pending, the first
 * use with the master key gives them a MAC, and they are sealed.
 */
static void test_audit_migrates_old_store(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < ts__store_migration_count && ts__store_migrations[i].version <= 5;
	     i++) {
		raw_exec(f->b, f->b->pg ? ts__store_migrations[i].postgres
		                        : ts__store_migrations[i].sqlite);
		raw_exec(f->b, ts_arena_printf(f->a, "UPDATE schema_version SET version = %d",
		                               ts__store_migrations[i].version));
	}
	for (int i = 1; i <= 3; i++)
		raw_exec(f->b, ts_arena_printf(
		                       f->a,
		                       "INSERT INTO audit_events (seq, event_id, event_time_ms, "
		                       "event_name, account_id, body, prev_hash, hash) VALUES "
		                       "(%d, 'old-%d', %d, 'CreateAccount', NULL, '{\"old\":%d}', "
		                       "'x', 'y')",
		                       i, i, 1000 * i, i));
	raw_exec(f->b, "UPDATE audit_head SET seq = 3, hash = 'y'");
	OK(ts_store_migrate(f->c, &f->e));
	int v = 0;
	OK(ts_store_schema_version(f->c, &v, &f->e));
	assert_int_equal(v, ts_store_schema_latest());
	struct ts_audit_keys k = test_keys();
	ts_store_audit_keys_set(f->s, &k);
	OK(ts_store_audit_keys_check(f->c, &f->e));
	struct ts_audit_report rep = verify_ok(f, f->c);
	assert_int_equal(rep.unsealed, 3);
	/* new events number after the old ones */
	struct ts_audit_record r = event(f->a, "CreateAccount", 4000, NULL, "{\"new\":1}");
	append1(f, &r);
	assert_int_equal(r.seq, 4);
	assert_int_equal(seal(f, f->c), 4);
	assert_int_equal(walk_chain(f, f->c), 4);
	struct ts_audit_record *recs = NULL;
	int n = 0;
	OK(ts_store_audit_walk(f->c, f->a, 0, 0, &recs, &n, &f->e));
	assert_int_equal(n, 4);
	assert_string_equal(recs[0].event_id, "old-1");
	assert_string_equal(recs[2].body, "{\"old\":3}");
	rep = verify_ok(f, f->c);
	assert_int_equal(rep.sealed, 4);
	assert_int_equal(rep.unsealed, 0);
	/* a MAC-less event now is a forgery, not an old event */
	raw_exec(f->b, "INSERT INTO audit_events (seq, event_id, event_time_ms, event_name, "
	               "account_id, body) VALUES (99, 'late', 1, 'X', NULL, '{}'); "
	               "INSERT INTO audit_pending (seq) VALUES (99)");
	OK(ts_store_audit_keys_check(f->c, &f->e));
	assert_int_equal(verify_broken(f, NULL).bad_seq, 99);
}

enum { THREAD_EVENTS = 200, THREADS = 2 };

struct worker {
	ts_store_t *s;
	int id;
	int events;
	bool grouped; /* ts_store_audit_append_now instead of a transaction of its own */
	int done;
	int errors;
	char first_error[TS_ERROR_MSG_MAX + 32];
};

static void *append_worker(void *p)
{
	struct worker *w = p;
	ts_store_conn_t *c = NULL;
	struct ts_error e = {0};
	if (ts_store_connect(w->s, &c, &e) != TS_ERR_OK) {
		w->errors++;
		snprintf(w->first_error, sizeof w->first_error, "connect: %s", e.message);
		return NULL;
	}
	for (int i = 0; i < w->events; i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_audit_record r =
		        event(a, "Concurrent", 1000 + i, NULL,
		              ts_arena_printf(a, "{\"t\":%d,\"i\":%d}", w->id, i));
		ts_err rc = TS_ERR_OK;
		if (w->grouped) {
			rc = ts_store_audit_append_now(c, a, &r, &e);
		} else {
			rc = ts_store_begin(c, true, &e);
			if (rc == TS_ERR_OK)
				rc = ts_store_audit_append(c, a, &r, &e);
			if (rc == TS_ERR_OK)
				rc = ts_store_commit(c, &e);
		}
		if (rc != TS_ERR_OK) {
			ts_store_rollback(c);
			if (w->errors++ == 0)
				snprintf(w->first_error, sizeof w->first_error, "event %d: %s", i,
				         e.message);
		} else {
			w->done++;
		}
		ts_arena_free(&a);
	}
	ts_store_disconnect(&c);
	return NULL;
}

/*
 * nthreads threads, each on its own connection, append `events` events each
 * while two sealers run, each on a store handle of its own (two nodes on one
 * database: on PostgreSQL the advisory lock lets one seal at a time).
 */
static void run_concurrent(struct fx *f, int nthreads, int events, bool grouped)
{
	struct worker w[8];
	pthread_t th[8];
	assert_true(nthreads <= 8);
	ts_store_t *node2 = NULL;
	OK(ts_store_open(f->b->url, false, NULL, &node2, &f->e));
	struct ts_audit_keys k = test_keys();
	ts_store_audit_keys_set(node2, &k);
	ts_audit_sealer_t *s1 = NULL, *s2 = NULL;
	OK(ts_audit_sealer_start(f->s, &s1, &f->e));
	OK(ts_audit_sealer_start(node2, &s2, &f->e));
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){
		        .s = i % 2 ? node2 : f->s, .id = i, .events = events, .grouped = grouped};
		assert_int_equal(pthread_create(&th[i], NULL, append_worker, &w[i]), 0);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	ts_audit_sealer_stop(&s1);
	ts_audit_sealer_stop(&s2);
	for (int i = 0; i < nthreads; i++) {
		if (w[i].errors != 0)
			fail_msg("%s: thread %d: %d failed appends, first: %s", f->b->name, i,
			         w[i].errors, w[i].first_error);
		assert_int_equal(w[i].done, events);
	}
	ts_store_free(&node2);
	(void)seal(f, f->c); /* a stopped sealer may have skipped its last round for the other */
	struct ts_audit_report rep = verify_ok(f, f->c);
	assert_int_equal(rep.sealed, nthreads * events);
	assert_int_equal(rep.unsealed, 0);
	assert_int_equal(walk_chain(f, f->c), nthreads * events);
	/* every thread's events are all there, each once */
	int per[8] = {0};
	int64_t after = 0;
	for (;;) {
		struct ts_audit_record *recs = NULL;
		int n = 0;
		OK(ts_store_audit_walk(f->c, f->a, after, 0, &recs, &n, &f->e));
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			int t = -1, kk = -1;
			assert_int_equal(sscanf(recs[i].body, "{\"t\":%d,\"i\":%d}", &t, &kk), 2);
			assert_in_range(t, 0, nthreads - 1);
			per[t]++;
		}
		after = recs[n - 1].seq;
	}
	for (int i = 0; i < nthreads; i++)
		assert_int_equal(per[i], events);
}

static void test_audit_concurrent(void **state)
{
	run_concurrent(*state, THREADS, THREAD_EVENTS, false);
}

static void test_audit_concurrent_grouped(void **state)
{
	run_concurrent(*state, 4, 100, true);
}

/*
 * Write transactions of many threads at once (SQLite commits them in groups):
 * each is all or nothing, whatever the others in its group do. Thread t's
 * transaction i inserts two accounts; every third one is rolled back, and
 * every fifth one first collides with an existing account and is rolled back
 * after the conflict.
 */
enum { TX_THREADS = 8, TX_PER_THREAD = 60 };

struct tx_worker {
	ts_store_t *s;
	int id;
	int committed, failed;
	char first_error[TS_ERROR_MSG_MAX + 32];
};

static void *tx_worker_main(void *p)
{
	struct tx_worker *w = p;
	ts_store_conn_t *c = NULL;
	struct ts_error e = {0};
	if (ts_store_connect(w->s, &c, &e) != TS_ERR_OK) {
		w->failed++;
		snprintf(w->first_error, sizeof w->first_error, "connect: %s", e.message);
		return NULL;
	}
	char id[2][32];
	for (int i = 0; i < TX_PER_THREAD; i++) {
		ts_err rc = ts_store_begin(c, true, &e);
		for (int k = 0; k < 2 && rc == TS_ERR_OK; k++) {
			snprintf(id[k], sizeof id[k], "tx-%d-%d-%d", w->id, i, k);
			struct ts_account a = mkacct(id[k], "Grouped");
			rc = ts_store_account_insert(c, &a, &e);
		}
		if (rc == TS_ERR_OK && i % 5 == 0) {
			struct ts_account dup = mkacct("tx-existing", "Dup");
			if (ts_store_account_insert(c, &dup, &e) != TS_ERR_CONFLICT)
				rc = TS_FAIL(&e, TS_ERR_INTERNAL, "no conflict on tx-existing");
			else
				rc = TS_ERR_CONFLICT;
		}
		bool undo = rc == TS_ERR_OK && i % 3 == 0;
		if (rc == TS_ERR_OK && !undo) {
			rc = ts_store_commit(c, &e);
			if (rc == TS_ERR_OK)
				w->committed++;
		} else {
			ts_store_rollback(c);
		}
		if (rc != TS_ERR_OK && rc != TS_ERR_CONFLICT && w->failed++ == 0)
			snprintf(w->first_error, sizeof w->first_error, "tx %d: %s", i, e.message);
	}
	ts_store_disconnect(&c);
	return NULL;
}

static void test_tx_concurrent_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct ts_account existing = mkacct("tx-existing", "Existing");
	OK(ts_store_account_insert(f->c, &existing, &f->e));
	struct tx_worker w[TX_THREADS];
	pthread_t th[TX_THREADS];
	for (int i = 0; i < TX_THREADS; i++) {
		w[i] = (struct tx_worker){.s = f->s, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, tx_worker_main, &w[i]), 0);
	}
	for (int i = 0; i < TX_THREADS; i++)
		pthread_join(th[i], NULL);
	int expect_committed = 0;
	for (int i = 0; i < TX_PER_THREAD; i++)
		expect_committed += i % 5 != 0 && i % 3 != 0;
	for (int t = 0; t < TX_THREADS; t++) {
		if (w[t].failed != 0)
			fail_msg("%s: thread %d: %d failures, first: %s", f->b->name, t,
			         w[t].failed, w[t].first_error);
		assert_int_equal(w[t].committed, expect_committed);
		for (int i = 0; i < TX_PER_THREAD; i++) {
			bool kept = i % 5 != 0 && i % 3 != 0;
			for (int k = 0; k < 2; k++) {
				char id[32];
				snprintf(id, sizeof id, "tx-%d-%d-%d", t, i, k);
				struct ts_account got;
				struct ts_error quiet = {0};
				ts_err rc = ts_store_account_get(f->c, f->a, id, &got, &quiet);
				if (rc != (kept ? TS_ERR_OK : TS_ERR_NOT_FOUND))
					fail_msg("%s: account %s: %s, expected it %s", f->b->name,
					         id, ts_err_name(rc), kept ? "stored" : "absent");
			}
		}
	}
	struct ts_account got;
	OK(ts_store_account_get(f->c, f->a, "tx-existing", &got, &f->e));
	assert_string_equal(got.name, "Existing");
}

/*
 * A write announced but never begun (a request refused while its body was
 * parsed) must not hold a commit up for long: the transaction that left its
 * group open for it ends the group itself after a short wait.
 */
static void test_tx_announced_write_never_comes(void **state)
{
	struct fx *f = *state;
	ts_store_conn_t *other = NULL;
	OK(ts_store_connect(f->s, &other, &f->e));
	ts_store_write_soon(other, true);
	int64_t t0 = ts_mono_ns();
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account a = mkacct("announced-1", "Announced");
	OK(ts_store_account_insert(f->c, &a, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	int64_t waited_ms = (ts_mono_ns() - t0) / 1000000;
	assert_in_range(waited_ms, 0, 1000);
	/* committed: another connection sees it */
	struct ts_account got;
	OK(ts_store_begin(other, false, &f->e));
	OK(ts_store_account_get(other, f->a, "announced-1", &got, &f->e));
	ts_store_rollback(other);
	/* the announcement is taken back by a write's begin, and by disconnecting */
	OK(ts_store_begin(other, true, &f->e));
	ts_store_rollback(other);
	ts_store_write_soon(other, true);
	ts_store_disconnect(&other);
	t0 = ts_mono_ns();
	OK(ts_store_begin(f->c, true, &f->e));
	struct ts_account b = mkacct("announced-2", "Announced");
	OK(ts_store_account_insert(f->c, &b, &f->e));
	OK(ts_store_commit(f->c, &f->e));
	assert_in_range((ts_mono_ns() - t0) / 1000000, 0, 1000);
	OK(ts_store_account_get(f->c, f->a, "announced-2", &got, &f->e));
}

/* ---- directory: accounts ------------------------------------------------------------------- */

static int count_accounts(struct fx *f)
{
	struct ts_account *list = NULL;
	int n = 0;
	OK(ts_store_account_list(f->c, f->a, NULL, NULL, 0, &list, &n, &f->e));
	return n;
}

static char *repeat(ts_arena_t *a, const char *unit, int times)
{
	size_t u = strlen(unit);
	char *s = ts_arena_alloc(a, u * (size_t)times + 1);
	for (int i = 0; i < times; i++)
		memcpy(s + u * (size_t)i, unit, u);
	return s;
}

static void test_dir_account_create(void **state)
{
	struct fx *f = *state;
	int64_t before = ts_now_ms();
	struct ts_account out;
	OK(ts_directory_account_create(f->c, f->a, "Example Corp", NULL, &out, &f->e));
	assert_string_equal(out.account_type, "Team");
	assert_string_equal(out.status, "Active");
	assert_string_equal(out.name, "Example Corp");
	assert_int_equal(strlen(out.account_id), TS_UUID_LEN);
	assert_int_equal(out.account_id[14], '4');
	assert_in_range(out.created_ms, before, ts_now_ms());
	struct ts_account got;
	OK(ts_store_account_get(f->c, f->a, out.account_id, &got, &f->e));
	assert_string_equal(got.name, "Example Corp");
	assert_string_equal(got.account_type, "Team");
	assert_string_equal(got.status, "Active");
	assert_int_equal(got.created_ms, out.created_ms);
	assert_string_equal(got.settings, "{}");

	struct ts_account ent;
	OK(ts_directory_account_create(f->c, f->a, "Big Corp", "Enterprise", &ent, &f->e));
	assert_string_equal(ent.account_type, "Enterprise");
	assert_string_not_equal(ent.account_id, out.account_id);
	OK(ts_store_account_get(f->c, f->a, ent.account_id, &got, &f->e));
	assert_string_equal(got.account_type, "Enterprise");
	struct ts_account team;
	OK(ts_directory_account_create(f->c, f->a, "Small", "Team", &team, &f->e));
	assert_string_equal(team.account_type, "Team");

	/* the API shape */
	json_t *j = ts_admin_account_json(&got);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "AccountId")), ent.account_id);
	assert_string_equal(json_string_value(json_object_get(j, "Name")), "Big Corp");
	assert_string_equal(json_string_value(json_object_get(j, "AccountType")), "Enterprise");
	assert_string_equal(json_string_value(json_object_get(j, "AccountStatus")), "Active");
	int64_t ms = 0;
	assert_true(ts_time_parse(json_string_value(json_object_get(j, "CreatedTimestamp")), &ms));
	assert_int_equal(ms, got.created_ms - got.created_ms % 1000);
	json_decref(j);

	static const char *const bad_types[] = {"team", "TEAM", "", "Enterprise ", "Free"};
	for (size_t i = 0; i < N_ITEMS(bad_types); i++) {
		struct ts_account x;
		EXPECT(TS_ERR_BAD_REQUEST,
		       ts_directory_account_create(f->c, f->a, "Typed", bad_types[i], &x, &f->e));
	}
	assert_int_equal(count_accounts(f), 3);
}

static void test_dir_account_names(void **state)
{
	struct fx *f = *state;
	ts_arena_t *a = f->a;
	const struct {
		const char *name;
		bool ok;
	} cases[] = {
	        {"", false},
	        {"A", true},
	        {repeat(a, "x", 100), true},
	        {repeat(a, "x", 101), false},
	        {repeat(a, "\xc3\xa9", 100), true},         /* é: 200 bytes, 100 characters */
	        {repeat(a, "\xc3\xa9", 101), false},        /* 101 characters */
	        {repeat(a, "\xe2\x82\xac", 100), true},     /* €: 3 bytes each */
	        {repeat(a, "\xf0\x9f\x98\x80", 100), true}, /* 😀: 4 bytes each */
	        {repeat(a, "\xf0\x9f\x98\x80", 101), false},
	        {"tab\there", false},
	        {"new\nline", false},
	        {"cr\r", false},
	        {"esc\x1b[0m", false},
	        {"del\x7f", false},
	        {"\x01", false},
	        {"spaces are fine", true},
	        {"Ünïcødé ✓ 名前", true},
	};
	int expected = 0;
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct ts_account out;
		memset(&f->e, 0, sizeof f->e);
		ts_err rc = ts_directory_account_create(f->c, a, cases[i].name, NULL, &out, &f->e);
		ts_err want = cases[i].ok ? TS_ERR_OK : TS_ERR_BAD_REQUEST;
		if (rc != want)
			fail_msg("%s: name case %zu (%zu bytes): got %s: %s", f->b->name, i,
			         strlen(cases[i].name), ts_err_name(rc), f->e.message);
		assert_int_equal(ts_directory_account_name_check(cases[i].name, NULL), want);
		if (cases[i].ok) {
			expected++;
			struct ts_account got;
			OK(ts_store_account_get(f->c, a, out.account_id, &got, &f->e));
			assert_string_equal(got.name, cases[i].name);
		}
	}
	struct ts_account out;
	EXPECT(TS_ERR_BAD_REQUEST, ts_directory_account_create(f->c, a, NULL, NULL, &out, &f->e));
	assert_int_equal(count_accounts(f), expected);
}

static void test_dir_account_names_unicode(void **state)
{
	struct fx *f = *state;
	/* C1 controls are control characters too (Unicode category Cc, U+0080..U+009F),
	 * and bytes that are not UTF-8 are not characters at all */
	static const char *const bad[] = {"next\xc2\x85line", "csi\xc2\x9b", "\xff\xfe",
	                                  "half\xc3",         "\xc0\xaf",    "lone\x80"};
	int accepted = 0;
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		struct ts_account out;
		memset(&f->e, 0, sizeof f->e);
		ts_err rc = ts_directory_account_create(f->c, f->a, bad[i], NULL, &out, &f->e);
		if (rc != TS_ERR_BAD_REQUEST) {
			print_error("%s: bad name case %zu: got %s (%s)\n", f->b->name, i,
			            ts_err_name(rc), f->e.message);
			accepted++;
		}
	}
	assert_int_equal(accepted, 0);
}

static void test_dir_account_rename(void **state)
{
	struct fx *f = *state;
	struct ts_account out, got;
	OK(ts_directory_account_create(f->c, f->a, "Old", "Enterprise", &out, &f->e));
	struct ts_account renamed;
	OK(ts_directory_account_rename(f->c, f->a, out.account_id, "New ✓", &renamed, &f->e));
	assert_string_equal(renamed.name, "New ✓");
	OK(ts_store_account_get(f->c, f->a, out.account_id, &got, &f->e));
	assert_string_equal(got.name, "New ✓");
	assert_string_equal(got.account_type, "Enterprise");
	assert_string_equal(got.status, "Active");
	assert_int_equal(got.created_ms, out.created_ms);
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_directory_account_rename(f->c, f->a, out.account_id, "", &renamed, &f->e));
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_directory_account_rename(f->c, f->a, out.account_id, repeat(f->a, "y", 101),
	                                   &renamed, &f->e));
	EXPECT(TS_ERR_BAD_REQUEST,
	       ts_directory_account_rename(f->c, f->a, out.account_id, "a\tb", &renamed, &f->e));
	OK(ts_store_account_get(f->c, f->a, out.account_id, &got, &f->e));
	assert_string_equal(got.name, "New ✓");
	EXPECT(TS_ERR_NOT_FOUND,
	       ts_directory_account_rename(f->c, f->a, "no-such-id", "X", &renamed, &f->e));
}

static void test_dir_settings_defaults(void **state)
{
	struct fx *f = *state;
	struct ts_account out;
	OK(ts_directory_account_create(f->c, f->a, "S", NULL, &out, &f->e));
	struct ts_account_settings s, none = {.scim_compatibility = TS_SCIM_PROFILE_PERMISSIVE};
	memset(&s, 0xff, sizeof s);
	OK(ts_directory_account_settings(f->c, f->a, out.account_id, &s, &f->e));
	assert_memory_equal(&s, &none, sizeof s);
	EXPECT(TS_ERR_NOT_FOUND, ts_directory_account_settings(f->c, f->a, "missing", &s, &f->e));
	/* a record without settings text gets the defaults */
	struct ts_account bare = out;
	bare.settings = NULL;
	memset(&s, 0xff, sizeof s);
	ts_directory_account_settings_of(&bare, &s);
	assert_memory_equal(&s, &none, sizeof s);
}

static json_t *own(struct fx *f, const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
	if (j == NULL)
		fail_msg("bad JSON in test: %s", text);
	return ts_json_own(f->a, j);
}

/* An AccountSettings body as the admin API applies it: read into a change, then stored. */
static ts_err settings_update(struct fx *f, const char *id, const char *body)
{
	struct ts_account_settings_change ch;
	ts_err rc = ts_admin_account_settings_parse(own(f, body), &ch, &f->e);
	if (rc != TS_ERR_OK)
		return rc;
	return ts_directory_account_settings_update(f->c, f->a, id, &ch, &f->e);
}

static void test_dir_settings_update(void **state)
{
	struct fx *f = *state;
	struct ts_account out, got;
	OK(ts_directory_account_create(f->c, f->a, "Merge", "Enterprise", &out, &f->e));
	OK(settings_update(f, out.account_id, "{\"EnableDialOut\":true}"));
	OK(settings_update(f, out.account_id, "{\"ScimCompatibility\":\"aws-strict\"}"));
	OK(settings_update(f, out.account_id,
	                   "{\"AllowIdpInitiatedSignIn\":true,\"EnableDialOut\":false}"));
	OK(settings_update(f, out.account_id, "{}"));
	struct ts_account_settings s;
	OK(ts_directory_account_settings(f->c, f->a, out.account_id, &s, &f->e));
	assert_false(s.enable_dial_out);
	assert_int_equal(s.scim_compatibility, TS_SCIM_PROFILE_AWS_STRICT);
	assert_true(s.allow_idp_initiated_signin);
	assert_false(s.disable_remote_control);
	assert_false(s.case_insensitive_identity_match);
	/* only the changes are stored, and the rest of the record is untouched */
	OK(ts_store_account_get(f->c, f->a, out.account_id, &got, &f->e));
	json_t *stored = own(f, got.settings);
	assert_int_equal(json_object_size(stored), 3);
	assert_null(json_object_get(stored, "DisableRemoteControl"));
	assert_string_equal(got.name, "Merge");
	assert_string_equal(got.account_type, "Enterprise");
	assert_string_equal(got.status, "Active");
	EXPECT(TS_ERR_NOT_FOUND, settings_update(f, "missing", "{\"EnableDialOut\":true}"));
}

static void test_dir_settings_rejects(void **state)
{
	struct fx *f = *state;
	struct ts_account out, got;
	OK(ts_directory_account_create(f->c, f->a, "Strict", NULL, &out, &f->e));
	OK(settings_update(f, out.account_id, "{\"EnableDialOut\":true}"));
	OK(ts_store_account_get(f->c, f->a, out.account_id, &got, &f->e));
	const char *before = got.settings;
	static const char *const bad[] = {
	        "{\"Nope\":true}",
	        "{\"enabledialout\":true}",
	        "{\"EnableDialOut\":\"true\"}",
	        "{\"EnableDialOut\":1}",
	        "{\"EnableDialOut\":null}",
	        "{\"EnableDialOut\":{}}",
	        "{\"ScimCompatibility\":\"strict\"}",
	        "{\"ScimCompatibility\":\"Permissive\"}",
	        "{\"ScimCompatibility\":\"\"}",
	        "{\"ScimCompatibility\":true}",
	        "{\"ScimCompatibility\":null}",
	        "{\"DisableRemoteControl\":false,\"Nope\":1}",
	        "{\"ScimCompatibility\":\"aws-strict\",\"DisableRemoteControl\":\"yes\"}",
	        "[]",
	        "\"EnableDialOut\"",
	        "null",
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		EXPECT(TS_ERR_BAD_REQUEST, settings_update(f, out.account_id, bad[i]));
		OK(ts_store_account_get(f->c, f->a, out.account_id, &got, &f->e));
		if (strcmp(got.settings, before) != 0)
			fail_msg("%s: case %zu changed the settings to %s", f->b->name, i,
			         got.settings);
	}
}

/* ---- the two groups ------------------------------------------------------------------------ */

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define T_EMPTY(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup_empty, teardown, b)
#define CONTRACT(b)                                                                              \
	T(test_open, b), T_EMPTY(test_migrate_empty, b), T(test_migrate_twice, b),               \
	        T(test_schema_newer_refused, b), T(test_ping, b), T(test_account_crud, b),       \
	        T(test_auth_generation, b), T(test_account_not_found, b),                        \
	        T(test_account_conflict, b), T(test_account_list, b),                            \
	        T(test_account_list_page_max, b), T(test_tx_rollback_commit, b),                 \
	        T(test_tx_misuse, b), T(test_tx_disconnect_rolls_back, b),                       \
	        T(test_tx_isolation, b), T(test_tx_read_one, b), T(test_tx_back_to_back, b),     \
	        T(test_nodes, b), T(test_adminkeys, b), T(test_audit_encoding, b),               \
	        T(test_audit_outside_tx, b), T(test_audit_needs_keys, b),                        \
	        T(test_audit_append_seal, b), T(test_audit_list, b), T(test_audit_walk, b),      \
	        T(test_audit_rollback, b), T(test_audit_append_now, b), T(test_audit_submit, b), \
	        T(test_audit_after_change, b), T(test_audit_sealer_refuses_forged, b),           \
	        T(test_audit_pending_orphan, b), T_EMPTY(test_audit_migrates_old_store, b),      \
	        T(test_tx_concurrent_all_or_nothing, b),                                         \
	        T(test_tx_announced_write_never_comes, b), T(test_audit_concurrent, b),          \
	        T(test_audit_concurrent_grouped, b), T(test_dir_account_create, b),              \
	        T(test_dir_account_names, b), T(test_dir_account_names_unicode, b),              \
	        T(test_dir_account_rename, b), T(test_dir_settings_defaults, b),                 \
	        T(test_dir_settings_update, b), T(test_dir_settings_rejects, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("store contract", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
