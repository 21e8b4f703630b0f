/*
 * Credentials kept by the store: admin API keys (global) and SCIM API keys
 * (one account each), stored as the hash of their secret half only, and the
 * credentials generation that lets a node cache what a key resolves to.
 * Part of the store interface (store/store.h).
 */
#ifndef TS_STORE_KEYS_H
#define TS_STORE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

/* ---- admin keys -------------------------------------------------------- */

struct ts_adminkey {
	const char *access_key_id;
	const char *secret_hash; /* hex SHA-256 of the secret half of the token */
	const char *policies;    /* JSON array text */
	const char *description;
	int64_t created_ms;
};

TS_MUST_USE ts_err ts_store_adminkey_insert(ts_store_conn_t *c, const struct ts_adminkey *k,
                                            struct ts_error *e);
TS_MUST_USE ts_err ts_store_adminkey_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                                         struct ts_adminkey *out, struct ts_error *e);
TS_MUST_USE ts_err ts_store_adminkey_list(ts_store_conn_t *c, ts_arena_t *arena, const char *after,
                                          int limit, struct ts_adminkey **out, int *n,
                                          struct ts_error *e);
TS_MUST_USE ts_err ts_store_adminkey_delete(ts_store_conn_t *c, const char *id, struct ts_error *e);
/* Number of admin keys (init prints a first key only into an empty store). */
TS_MUST_USE ts_err ts_store_adminkey_count(ts_store_conn_t *c, int64_t *n, struct ts_error *e);

/* ---- SCIM API keys ------------------------------------------------------ */

struct ts_apikey {
	const char *api_key_id;
	const char *account_id;
	const char *secret_hash; /* hex SHA-256 of the secret half of the token */
	const char *description;
	int64_t created_ms;
	const char *account_settings; /* filled by ts_store_apikey_get only */
};

TS_MUST_USE ts_err ts_store_apikey_insert(ts_store_conn_t *c, const struct ts_apikey *k,
                                          struct ts_error *e);
/* The key and its account's settings; TS_ERR_NOT_FOUND when absent. */
TS_MUST_USE ts_err ts_store_apikey_get(ts_store_conn_t *c, ts_arena_t *arena, const char *id,
                                       struct ts_apikey *out, struct ts_error *e);
TS_MUST_USE ts_err ts_store_apikey_list(ts_store_conn_t *c, ts_arena_t *arena,
                                        const char *account_id, const char *after, int limit,
                                        struct ts_apikey **out, int *n, struct ts_error *e);
/* TS_ERR_NOT_FOUND when absent or in another account. */
TS_MUST_USE ts_err ts_store_apikey_delete(ts_store_conn_t *c, const char *account_id,
                                          const char *id, struct ts_error *e);
/*
 * The credentials generation: it moves, in the same transaction, with every
 * deleted API key and every changed or deleted account (and so with whatever
 * ts_store_apikey_get would now answer differently for a key it found). A key
 * read in a transaction that saw generation g is still what the store holds
 * in any later transaction that sees g.
 */
TS_MUST_USE ts_err ts_store_auth_generation(ts_store_conn_t *c, int64_t *gen, struct ts_error *e);

#endif
