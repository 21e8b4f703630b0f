/*
 * The store's front: picks the backend from the URL, hands out per-thread
 * connections, runs transactions and migrations through the driver.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/blocking.h"
#include "core/crypto.h"
#include "core/timeutil.h"
#include "store/internal.h"

const struct ts__store_query_text ts__store_queries[TS__Q__COUNT] = {
/* "UPDATE schema_version SET version = " and any int, with room to spare */
#define VERSION_SQL_MAX 96

#define TS__Q_ROW(id, s, p) [TS__Q_##id] = {#id, s, p},
        TS__STORE_ALL_QUERIES(TS__Q_ROW)
#undef TS__Q_ROW
};

static atomic_uint_fast64_t errors;

void ts__store_count_error(void)
{
	atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
}

uint64_t ts_store_errors(void)
{
	return atomic_load_explicit(&errors, memory_order_relaxed);
}

/* Constraint violations and missing rows are answers, not failures of the store. */
static ts_err counted(ts_err rc)
{
	if (rc == TS_ERR_STORE || rc == TS_ERR_UNAVAILABLE || rc == TS_ERR_IO ||
	    rc == TS_ERR_INTERNAL || rc == TS_ERR_RETRY)
		ts__store_count_error();
	return rc;
}

static bool is_postgres_url(const char *url)
{
	static const char long_scheme[] = "postgresql://", short_scheme[] = "postgres://";
	return strncmp(url, long_scheme, sizeof long_scheme - 1) == 0 ||
	       strncmp(url, short_scheme, sizeof short_scheme - 1) == 0 ||
	       strstr(url, "dbname=") != NULL || strstr(url, "host=") != NULL;
}

bool ts_store_sqlite_tuning_parse(const char *s, enum ts_store_sqlite_tuning *out)
{
	if (s != NULL && strcmp(s, "on") == 0)
		*out = TS_SQLITE_TUNING_ON;
	else if (s != NULL && strcmp(s, "off") == 0)
		*out = TS_SQLITE_TUNING_OFF;
	else
		return false;
	return true;
}

ts_err ts_store_open(const char *url, bool create, const struct ts_store_options *opt,
                     ts_store_t **out, struct ts_error *e)
{
	*out = NULL;
	if (url == NULL || url[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "no store given (--db)");
	enum ts_store_sqlite_tuning tuning =
	        opt != NULL ? opt->sqlite_tuning : TS_SQLITE_TUNING_DEFAULT;
	if (tuning == TS_SQLITE_TUNING_DEFAULT) {
		/* every command and the tests follow the one variable (docs/store.md) */
		const char *env = getenv(TS_SQLITE_TUNING_ENV);
		tuning = TS_SQLITE_TUNING_ON;
		if (env != NULL && env[0] != '\0' && !ts_store_sqlite_tuning_parse(env, &tuning))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s must be on or off",
			               TS_SQLITE_TUNING_ENV);
	}
	ts_store_t *s = ts_calloc(1, sizeof *s);
	s->drv = is_postgres_url(url) ? &ts__store_postgres : &ts__store_sqlite;
	if (opt != NULL)
		s->opt = *opt;
	s->opt.sqlite_tuning = tuning;
	if (s->opt.connect_timeout_ms <= 0)
		s->opt.connect_timeout_ms = TS_STORE_CONNECT_TIMEOUT_MS;
	if (s->opt.statement_timeout_ms <= 0)
		s->opt.statement_timeout_ms = TS_STORE_STATEMENT_TIMEOUT_MS;
	if (s->opt.lock_timeout_ms <= 0)
		s->opt.lock_timeout_ms = TS_STORE_LOCK_TIMEOUT_MS;
	if (s->opt.idle_tx_timeout_ms <= 0)
		s->opt.idle_tx_timeout_ms = TS_STORE_IDLE_TX_TIMEOUT_MS;
	if (s->opt.busy_timeout_ms <= 0)
		s->opt.busy_timeout_ms = s->opt.lock_timeout_ms;
	s->url = ts_strdup(url);
	pthread_mutex_init(&s->audit_mu, NULL);
	pthread_cond_init(&s->audit_cv, NULL);
	ts_err rc = s->drv->open(s, url, create, e);
	if (rc != TS_ERR_OK) {
		ts_store_free(&s);
		return rc;
	}
	*out = s;
	return TS_ERR_OK;
}

void ts_store_free(ts_store_t **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	ts_store_t *s = *sp;
	ts__store_audit_writer_stop(s);
	if (s->impl != NULL)
		s->drv->close(s);
	pthread_mutex_destroy(&s->audit_mu);
	pthread_cond_destroy(&s->audit_cv);
	ts_audit_keys_wipe(&s->audit_keys);
	ts_free(s->url);
	ts_free(s);
	*sp = NULL;
}

const char *ts_store_backend(const ts_store_t *s)
{
	return s->drv->name;
}

ts_err ts_store_connect(ts_store_t *s, ts_store_conn_t **out, struct ts_error *e)
{
	*out = NULL;
	void *impl = NULL;
	ts_err rc = s->drv->connect(s, &impl, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_store_conn_t *c = ts_calloc(1, sizeof *c);
	c->one_left = -1;
	c->store = s;
	c->impl = impl;
	*out = c;
	return TS_ERR_OK;
}

void ts_store_disconnect(ts_store_conn_t **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	ts_store_conn_t *c = *cp;
	ts_store_write_soon(c, false);
	if (c->in_tx)
		c->store->drv->rollback(c->impl);
	c->store->drv->disconnect(c->impl);
	ts_free(c);
	*cp = NULL;
}

void ts_store_write_soon(ts_store_conn_t *c, bool soon)
{
	if (c->write_soon == soon)
		return;
	c->write_soon = soon;
	atomic_fetch_add(&c->store->writes_soon, soon ? 1 : -1);
}

int ts__store_writes_soon(const ts_store_t *s)
{
	return atomic_load(&s->writes_soon);
}

ts_err ts__store_get_one(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p,
                         int np, ts__row_read_fn read, ts_arena_t *arena, void *out, bool *found,
                         struct ts_error *e)
{
	*found = false;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r)) {
		read(c, r, arena, out);
		*found = true;
	}
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts__store_get_int(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p,
                         int np, int64_t *out, struct ts_error *e)
{
	*out = 0;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*out = ts__rows_int(c, r, 0);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts__store_get_str(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p,
                         int np, ts_arena_t *arena, const char **out, struct ts_error *e)
{
	*out = NULL;
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, q, p, np, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*out = ts__rows_str(c, r, 0, arena);
	ts__rows_close(c, &r);
	return TS_ERR_OK;
}

ts_err ts__store_in_write(ts_store_conn_t *c, ts__tx_fn fn, void *ctx, struct ts_error *e)
{
	if (c->in_tx)
		return fn(c, ctx, e);
	ts_err rc = ts_store_begin(c, true, e);
	if (rc == TS_ERR_OK)
		rc = fn(c, ctx, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}

ts_err ts__store_get_one_alone(ts_store_conn_t *c, enum ts__store_query q,
                               const struct ts__param *p, int np, ts__row_read_fn read,
                               ts_arena_t *arena, void *out, bool *found, bool relaxed,
                               struct ts_error *e)
{
	*found = false;
	if (c->in_tx)
		return ts__store_get_one(c, q, p, np, read, arena, out, found, e);
	ts_err rc = ts_store_begin(c, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (relaxed)
		ts_store_tx_relaxed(c);
	c->one_left = 1; /* a second statement would follow the COMMIT */
	if (c->store->drv->write_alone != NULL)
		c->store->drv->write_alone(c->impl);
	rc = ts__store_get_one(c, q, p, np, read, arena, out, found, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	if (rc != TS_ERR_OK) {
		ts_store_rollback(c);
		*found = false;
	}
	return rc;
}

struct one_write {
	enum ts__store_query q;
	const struct ts__param *p;
	int np;
	int64_t *changed;
};

static ts_err one_write_fn(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct one_write *o = ctx;
	return ts__store_write(c, o->q, o->p, o->np, o->changed, e);
}

ts_err ts__store_write_one(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p,
                           int np, int64_t *changed, struct ts_error *e)
{
	struct one_write o = {q, p, np, changed};
	return ts__store_in_write(c, one_write_fn, &o, e);
}

ts_err ts_store_begin(ts_store_conn_t *c, bool write, struct ts_error *e)
{
	if (write)
		ts_store_write_soon(c, false); /* it is here */
	if (c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "transaction already open");
	c->commit_unknown = false;
	ts_err rc = counted(c->store->drv->begin(c->impl, write, e));
	if (rc == TS_ERR_OK) {
		c->in_tx = true;
		c->tx_write = write;
		c->one_left = -1;
	}
	return rc;
}

ts_err ts_store_commit(ts_store_conn_t *c, struct ts_error *e)
{
	if (!c->in_tx)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no transaction to commit");
	ts_err rc = counted(c->store->drv->commit(c->impl, e));
	if (rc != TS_ERR_OK)
		c->store->drv->rollback(c->impl);
	/* COMMIT was sent but its answer lost: it may have been applied */
	c->commit_unknown = rc == TS_ERR_UNAVAILABLE;
	c->in_tx = false;
	c->one_left = -1;
	return rc;
}

bool ts_store_err_transient(ts_err rc)
{
	return rc == TS_ERR_RETRY || rc == TS_ERR_UNAVAILABLE;
}

bool ts_store_tx_retry(ts_store_conn_t *c, ts_err rc, int *attempt)
{
	ts_store_rollback(c);
	if (rc != TS_ERR_RETRY || c == NULL || c->commit_unknown)
		return false;
	if (++*attempt >= TS_STORE_TX_ATTEMPTS)
		return false;
	/*
	 * Two transactions that collided would collide again if both ran again at
	 * once: wait a little, longer with each attempt, and not the same for both.
	 */
	uint32_t jitter = 0;
	ts_random_bytes(&jitter, sizeof jitter);
	long us = (long)TS_STORE_RETRY_PAUSE_US << (*attempt - 1);
	us += (long)(jitter % (uint32_t)us);
	struct timespec pause = {us / TS_US_PER_S, (us % TS_US_PER_S) * TS_NS_PER_US};
	ts_blocking_begin();
	nanosleep(&pause, NULL);
	ts_blocking_end();
	return true;
}

bool ts_store_in_tx(const ts_store_conn_t *c)
{
	return c != NULL && c->in_tx;
}

void ts_store_tx_relaxed(ts_store_conn_t *c)
{
	if (c == NULL || !c->in_tx || !c->tx_write)
		return;
	if (c->store->drv->relaxed != NULL)
		c->store->drv->relaxed(c->impl);
}

void ts_store_read_one(ts_store_conn_t *c)
{
	if (c == NULL || !c->in_tx || c->tx_write || c->one_left >= 0)
		return;
	c->one_left = 1;
	if (c->store->drv->read_one != NULL)
		c->store->drv->read_one(c->impl);
}

/* The statement budget of a read declared one statement long (ts_store_read_one). */
static ts_err one_more(ts_store_conn_t *c, struct ts_error *e)
{
	if (c->one_left < 0)
		return TS_ERR_OK;
	if (c->one_left == 0)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "a second statement in a one-statement transaction");
	c->one_left--;
	return TS_ERR_OK;
}

void ts_store_rollback(ts_store_conn_t *c)
{
	if (c == NULL || !c->in_tx)
		return;
	c->store->drv->rollback(c->impl);
	c->in_tx = false;
	c->one_left = -1;
}

ts_err ts__store_exec(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p, int np,
                      struct ts__rows **rows, struct ts_error *e)
{
	ts_err rc = one_more(c, e);
	if (rc != TS_ERR_OK)
		return counted(rc);
	return counted(c->store->drv->exec(c->impl, q, p, np, rows, NULL, e));
}

ts_err ts__store_write(ts_store_conn_t *c, enum ts__store_query q, const struct ts__param *p,
                       int np, int64_t *changed, struct ts_error *e)
{
	int64_t n = 0;
	ts_err rc = one_more(c, e);
	if (rc != TS_ERR_OK)
		return counted(rc);
	rc = counted(c->store->drv->exec(c->impl, q, p, np, NULL, &n, e));
	if (changed != NULL)
		*changed = n;
	return rc;
}

bool ts__rows_next(ts_store_conn_t *c, struct ts__rows *r)
{
	return c->store->drv->next(r);
}

const char *ts__rows_str(ts_store_conn_t *c, struct ts__rows *r, int col, ts_arena_t *arena)
{
	const char *t = c->store->drv->text(r, col);
	return t == NULL ? NULL : ts_arena_strdup(arena, t);
}

int64_t ts__rows_int(ts_store_conn_t *c, struct ts__rows *r, int col)
{
	return c->store->drv->integer(r, col);
}

void ts__rows_close(ts_store_conn_t *c, struct ts__rows **r)
{
	if (r == NULL || *r == NULL)
		return;
	c->store->drv->rows_close(*r);
	*r = NULL;
}

ts_err ts_store_ping(ts_store_conn_t *c, struct ts_error *e)
{
	struct ts__rows *r = NULL;
	ts_err rc = ts__store_exec(c, TS__Q_PING, NULL, 0, &r, e);
	if (rc == TS_ERR_OK && !ts__rows_next(c, r))
		rc = TS_FAIL(e, TS_ERR_STORE, "ping returned no row");
	ts__rows_close(c, &r);
	return rc;
}

/* ---- migrations -------------------------------------------------------- */

int ts_store_schema_latest(void)
{
	return ts__store_migrations[ts__store_migration_count - 1].version;
}

ts_err ts_store_schema_version(ts_store_conn_t *c, int *version, struct ts_error *e)
{
	*version = 0;
	struct ts__rows *r = NULL;
	/*
	 * Only a store without the schema_version table is empty (version 0); it
	 * is asked of the catalogue, so that any other failure (a lost connection,
	 * a permission) is an error, never "empty, migrate from scratch".
	 */
	ts_err rc = ts__store_exec(c, TS__Q_SCHEMA_TABLE, NULL, 0, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	bool exists = ts__rows_next(c, r) && ts__rows_int(c, r, 0) > 0;
	ts__rows_close(c, &r);
	if (!exists)
		return TS_ERR_OK;
	rc = ts__store_exec(c, TS__Q_SCHEMA_VERSION, NULL, 0, &r, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (ts__rows_next(c, r))
		*version = (int)ts__rows_int(c, r, 0);
	else
		rc = TS_FAIL(e, TS_ERR_STORE, "the schema_version table is empty");
	ts__rows_close(c, &r);
	return rc;
}

ts_err ts_store_migrate(ts_store_conn_t *c, struct ts_error *e)
{
	const struct ts__store_driver *d = c->store->drv;
	ts_err rc = d->migrate_lock(c->impl, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	int have = 0;
	rc = ts_store_schema_version(c, &have, e);
	if (rc != TS_ERR_OK)
		goto out;
	if (have > ts_store_schema_latest()) {
		rc = TS_FAIL(
		        e, TS_ERR_UNAVAILABLE,
		        "the store has schema version %d but this tessera knows only up to %d: "
		        "upgrade tessera",
		        have, ts_store_schema_latest());
		goto out;
	}
	for (int i = 0; i < ts__store_migration_count; i++) {
		const struct ts__migration *m = &ts__store_migrations[i];
		if (m->version <= have)
			continue;
		rc = d->begin(c->impl, true, e);
		if (rc != TS_ERR_OK)
			goto out;
		rc = d->script(c->impl, d == &ts__store_postgres ? m->postgres : m->sqlite, e);
		if (rc == TS_ERR_OK) {
			char sql[VERSION_SQL_MAX];
			snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d",
			         m->version);
			rc = d->script(c->impl, sql, e);
		}
		if (rc == TS_ERR_OK)
			rc = d->commit(c->impl, e);
		if (rc != TS_ERR_OK) {
			d->rollback(c->impl);
			goto out;
		}
	}
out:;
	struct ts_error ignored = {0};
	if (d->migrate_lock(c->impl, false, &ignored) != TS_ERR_OK && rc == TS_ERR_OK)
		rc = TS_FAIL(e, TS_ERR_STORE, "could not release the migration lock: %s",
		             ignored.message);
	return rc;
}
