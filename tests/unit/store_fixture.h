/*
 * The store contract suite's fixture, shared by its files (test_store.c,
 * test_store_directory.c): the two backends, a fresh store per test (a new
 * SQLite file, or PostgreSQL's public schema dropped and made again), raw SQL
 * behind the interface's back, the EXPECT / OK checks, and the runner of the
 * two groups (PostgreSQL when TESSERA_TEST_PG_URL names a server; inside
 * make check, TESSERA_TEST_REQUIRE_PEERS=1, its absence is a failure).
 */
#ifndef TS_TEST_STORE_FIXTURE_H
#define TS_TEST_STORE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "audit/chain.h"
#include "directory/account.h"
#include "store/store.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define URL_MAX 1024

/* ---- backends and fixtures ----------------------------------------------------------------- */

struct backend {
	const char *name;
	bool pg;
	char url[URL_MAX];       /* the store under test (SQLite: this test's file) */
	char admin_url[URL_MAX]; /* PostgreSQL: TESSERA_TEST_PG_URL */
	char dbname[64];
	char dir[64]; /* SQLite: temporary directory of this run */
	int file_no;
};

static struct backend lite = {.name = "sqlite"};
static struct backend pg = {.name = "postgres", .pg = true};

struct fx {
	struct backend *b;
	ts_store_t *s;
	ts_store_conn_t *c;
	ts_arena_t *a;
	struct ts_error e;
};

/* Runs SQL on the store's database behind the interface's back. */
__attribute__((unused)) static void raw_exec(const struct backend *b, const char *sql)
{
	if (b->pg) {
		PGconn *conn = PQconnectdb(b->url);
		if (PQstatus(conn) != CONNECTION_OK)
			fail_msg("raw connect: %s", PQerrorMessage(conn));
		PGresult *res = PQexec(conn, sql);
		ExecStatusType st = PQresultStatus(res);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			fail_msg("raw %s: %s", sql, PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(conn);
	} else {
		sqlite3 *db = NULL;
		char *err = NULL;
		if (sqlite3_open_v2(b->url, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
			fail_msg("raw open %s: %s", b->url, sqlite3_errmsg(db));
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
			fail_msg("raw %s: %s", sql, err);
		sqlite3_close(db);
	}
}

/* A URL naming database db on the server of url (URI or keyword form). */
__attribute__((unused)) static void pg_url_with_db(const char *url, const char *db, char *out,
                                                   size_t n)
{
	const char *scheme = strstr(url, "://");
	if (scheme == NULL) {
		snprintf(out, n, "%s dbname=%s", url, db); /* the last keyword wins */
		return;
	}
	const char *auth = scheme + 3;
	const char *q = strchr(auth, '?');
	const char *slash = strchr(auth, '/');
	if (slash != NULL && q != NULL && slash > q)
		slash = NULL;
	size_t pre = slash ? (size_t)(slash - url) : q ? (size_t)(q - url) : strlen(url);
	snprintf(out, n, "%.*s/%s%s", (int)pre, url, db, q ? q : "");
}

__attribute__((unused)) static int pg_admin(const char *sql, bool quiet)
{
	PGconn *conn = PQconnectdb(pg.admin_url);
	int rc = -1;
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "test_store: cannot connect to %s: %s", pg.admin_url,
		        PQerrorMessage(conn));
	} else {
		PGresult *res = PQexec(conn, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			rc = 0;
		else if (!quiet)
			fprintf(stderr, "test_store: %s: %s", sql, PQresultErrorMessage(res));
		PQclear(res);
	}
	PQfinish(conn);
	return rc;
}

__attribute__((unused)) static int pg_group_setup(void **state)
{
	(void)state;
	unsigned char r[8];
	char hex[17];
	ts_random_bytes(r, sizeof r);
	ts_hex_encode(r, sizeof r, hex);
	snprintf(pg.dbname, sizeof pg.dbname, "t_%s", hex);
	char sql[256];
	/* a non-C collation, so that ordering by id must ask for C explicitly */
	snprintf(sql, sizeof sql,
	         "CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'",
	         pg.dbname);
	if (pg_admin(sql, true) != 0) {
		snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg.dbname);
		if (pg_admin(sql, false) != 0)
			return -1;
		fprintf(stderr,
		        "test_store: note: ICU collation unavailable, database %s uses "
		        "the server default\n",
		        pg.dbname);
	}
	pg_url_with_db(pg.admin_url, pg.dbname, pg.url, sizeof pg.url);
	return 0;
}

__attribute__((unused)) static int pg_group_teardown(void **state)
{
	(void)state;
	char sql[128];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg.dbname);
	return pg_admin(sql, false);
}

__attribute__((unused)) static int lite_group_setup(void **state)
{
	(void)state;
	snprintf(lite.dir, sizeof lite.dir, "/tmp/ts-unit-store-XXXXXX");
	return mkdtemp(lite.dir) == NULL ? -1 : 0;
}

__attribute__((unused)) static int lite_group_teardown(void **state)
{
	(void)state;
	DIR *d = opendir(lite.dir);
	if (d != NULL) {
		struct dirent *de;
		char path[URL_MAX];
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", lite.dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(lite.dir);
	return 0;
}

/* The test master key, and another one (a node given the wrong key). */
__attribute__((unused)) static const unsigned char test_master[TS_MASTER_KEY_LEN] =
        "tessera test master key 32 bytes";
__attribute__((unused)) static const unsigned char other_master[TS_MASTER_KEY_LEN] =
        "another master key, not the one.";

__attribute__((unused)) static struct ts_audit_keys test_keys(void)
{
	struct ts_audit_keys k;
	ts_audit_keys_derive(test_master, &k);
	return k;
}

/* A fresh, empty store for one test. */
__attribute__((unused)) static void reset_store(struct backend *b)
{
	if (b->pg)
		raw_exec(b,
		         "SET client_min_messages = warning; DROP SCHEMA IF EXISTS public CASCADE; "
		         "CREATE SCHEMA public");
	else
		snprintf(b->url, sizeof b->url, "%s/store-%d.db", b->dir, ++b->file_no);
}

__attribute__((unused)) static int setup_empty(void **state)
{
	struct backend *b = *state;
	reset_store(b);
	struct fx *f = calloc(1, sizeof *f);
	f->b = b;
	f->a = ts_arena_new();
	*state = f;
	if (ts_store_open(b->url, true, NULL, &f->s, &f->e) != TS_ERR_OK ||
	    ts_store_connect(f->s, &f->c, &f->e) != TS_ERR_OK) {
		fprintf(stderr, "test_store: open %s: %s\n", b->url, f->e.message);
		ts_store_free(&f->s);
		ts_arena_free(&f->a);
		free(f);
		*state = b;
		return -1;
	}
	struct ts_audit_keys k = test_keys();
	ts_store_audit_keys_set(f->s, &k);
	return 0;
}

static int teardown(void **state);

__attribute__((unused)) static int setup(void **state)
{
	if (setup_empty(state) != 0)
		return -1;
	struct fx *f = *state;
	struct ts_audit_keys k = test_keys();
	ts_store_audit_keys_set(f->s, &k);
	if (ts_store_migrate(f->c, &f->e) != TS_ERR_OK ||
	    ts_store_audit_keys_check(f->c, &f->e) != TS_ERR_OK) {
		fprintf(stderr, "test_store: migrate: %s\n", f->e.message);
		struct backend *b = f->b;
		(void)teardown(state);
		*state = b;
		return -1;
	}
	return 0;
}

__attribute__((unused)) static int teardown(void **state)
{
	struct fx *f = *state;
	if (f == NULL || (void *)f == (void *)&lite || (void *)f == (void *)&pg)
		return 0;
	ts_store_disconnect(&f->c);
	ts_store_free(&f->s);
	ts_arena_free(&f->a);
	free(f);
	return 0;
}

/* Expects rc == want, printing the detail when not. */
#define EXPECT(want, call)                                                         \
	do {                                                                       \
		memset(&f->e, 0, sizeof f->e);                                     \
		ts_err rc_ = (call);                                               \
		if (rc_ != (want))                                                 \
			fail_msg("%s: %s returned %s (%d): %s", f->b->name, #call, \
			         ts_err_name(rc_), (int)rc_, f->e.message);        \
	} while (0)
#define OK(call) EXPECT(TS_ERR_OK, call)

__attribute__((unused)) static struct ts_account mkacct(const char *id, const char *name)
{
	return (struct ts_account){.account_id = id,
	                           .name = name,
	                           .account_type = "Team",
	                           .status = "Active",
	                           .created_ms = 1700000000123,
	                           .settings = "{}"};
}

static void fixture_postgres_skipped(void **state)
{
	(void)state;
	skip();
}

/*
 * Runs the SQLite group, then the PostgreSQL group (or says loudly that it
 * was skipped); answers the number of failures.
 */
__attribute__((unused)) static int fixture_run(const char *suite,
                                               const struct CMUnitTest *lite_tests, size_t nlite,
                                               const struct CMUnitTest *pg_tests, size_t npg)
{
	if (ts_crypto_init() != TS_ERR_OK) {
		fprintf(stderr, "%s: libsodium did not start\n", suite);
		return 1;
	}
	char name[128];
	snprintf(name, sizeof name, "%s: sqlite", suite);
	int failed = _cmocka_run_group_tests(name, lite_tests, nlite, lite_group_setup,
	                                     lite_group_teardown);
	const char *url = getenv("TESSERA_TEST_PG_URL");
	const char *required = getenv("TESSERA_TEST_REQUIRE_PEERS");
	if ((url == NULL || url[0] == '\0') && required != NULL && strcmp(required, "1") == 0) {
		fprintf(stderr,
		        "%s: TESSERA_TEST_REQUIRE_PEERS=1 but TESSERA_TEST_PG_URL is not set: the "
		        "PostgreSQL store contract cannot run\n",
		        suite);
		return failed + 1;
	}
	if (url == NULL || url[0] == '\0') {
		fprintf(stderr,
		        "\n*** %s: TESSERA_TEST_PG_URL is not set: the PostgreSQL group is "
		        "SKIPPED, not passed ***\n\n",
		        suite);
		const struct CMUnitTest skipped[] = {cmocka_unit_test(fixture_postgres_skipped)};
		snprintf(name, sizeof name, "%s: postgres (SKIPPED)", suite);
		return failed + _cmocka_run_group_tests(name, skipped, 1, NULL, NULL);
	}
	snprintf(pg.admin_url, sizeof pg.admin_url, "%s", url);
	snprintf(name, sizeof name, "%s: postgres", suite);
	return failed +
	       _cmocka_run_group_tests(name, pg_tests, npg, pg_group_setup, pg_group_teardown);
}

#endif
