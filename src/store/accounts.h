/*
 * Accounts: the tenants of the directory (Team or Enterprise), each with its
 * settings as a JSON object. Part of the store interface (store/store.h).
 */
#ifndef TS_STORE_ACCOUNTS_H
#define TS_STORE_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

struct ts_account {
	const char *account_id;
	const char *name;
	const char *account_type; /* "Team" | "Enterprise" */
	const char *status;       /* "Active" | "Suspended" */
	int64_t created_ms;
	const char *settings; /* JSON object text */
};

TS_MUST_USE ts_err ts_store_account_insert(ts_store_conn_t *c, const struct ts_account *a,
                                           struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent. */
TS_MUST_USE ts_err ts_store_account_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                                        struct ts_account *out, struct ts_error *e);
/*
 * Up to limit accounts ordered by id, strictly after `after` (NULL: from the
 * start), optionally only those named exactly `name`. *n is set to the count.
 */
/*
 * The same read for a write that depends on it (read, merge, write back): in
 * a write transaction no other write changes the row until this one ends
 * (SQLite: the writer lock; PostgreSQL: SELECT ... FOR UPDATE).
 */
TS_MUST_USE ts_err ts_store_account_get_for_update(ts_store_conn_t *c, ts_arena_t *arena,
                                                   const char *id, struct ts_account *out,
                                                   struct ts_error *e);
TS_MUST_USE ts_err ts_store_account_list(ts_store_conn_t *c, ts_arena_t *arena, const char *after,
                                         const char *name, int limit, struct ts_account **out,
                                         int *n, struct ts_error *e);
TS_MUST_USE ts_err ts_store_account_update(ts_store_conn_t *c, const struct ts_account *a,
                                           struct ts_error *e);
TS_MUST_USE ts_err ts_store_account_delete(ts_store_conn_t *c, const char *id, struct ts_error *e);

#endif
