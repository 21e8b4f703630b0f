/*
 * Account API keys: the bearer tokens of one account's provisioning client
 * (docs/product.md §1 "API key"). A token is "<ApiKeyId>.<secret>"; only SHA-256 of the
 * secret is stored and the comparison is constant-time. The key selects the
 * account: nothing of another account is reachable with it.
 *
 * They are the account's credentials, not SCIM's: the admin API creates,
 * lists and deletes them, SCIM authenticates with them today, and the
 * protocols that follow (the OAuth device flow's clients) may too; so they
 * live here, below every surface, beside the cache design every key kind
 * shares (credential/cache.h).
 */
#ifndef TS_CREDENTIAL_APIKEY_H
#define TS_CREDENTIAL_APIKEY_H

#include <jansson.h>

#include "credential/cache.h"
#include "store/store.h"

#define TS_APIKEY_ID_PREFIX "TSSK"
#define TS_APIKEY_ID_RANDOM 16
#define TS_APIKEY_SECRET_LEN 40
#define TS_APIKEY_DESCRIPTION_MAX 256

struct ts_apikey_created {
	const char *api_key_id;
	const char *token; /* shown once, never stored */
	struct ts_apikey record;
};

/* Creates a key for an existing account (TS_ERR_NOT_FOUND otherwise); needs a write transaction. */
TS_MUST_USE ts_err ts_credential_apikey_create(ts_store_conn_t *c, ts_arena_t *a,
                                               const char *account_id, const char *description,
                                               struct ts_apikey_created *out, struct ts_error *e);

/*
 * A cache (credential/cache.h) of keys a worker thread has checked, each
 * with the credentials generation (ts_store_auth_generation) of the
 * transaction it was read in. A check still reads the generation in its own
 * transaction, and only while that has not moved is the key's row not read
 * again. A deleted key, a deleted or changed account moves it, on every node
 * of a shared store, at once. Freed with ts_credential_cache_free.
 */
ts_credential_cache_t *ts_credential_apikey_cache_new(void);

/*
 * Checks a bearer token in c's open transaction. On success *key is the
 * stored key with its account's settings. TS_ERR_UNAUTHORIZED for a
 * missing, malformed, unknown, deleted or wrong token; *claimed_id is the key
 * id part of a well-formed token even then (for the audit trail). cache may
 * be NULL.
 */
TS_MUST_USE ts_err ts_credential_apikey_authenticate(ts_store_conn_t *c, ts_arena_t *a,
                                                     ts_credential_cache_t *cache,
                                                     const char *token, struct ts_apikey *key,
                                                     const char **claimed_id, struct ts_error *e);
/*
 * Without the store: true when cache holds token's key with this very
 * secret, and *key is then that entry. Not a check: it lets a write skip the
 * read transaction, and ts_credential_apikey_authenticate must still pass in the
 * write's own transaction before anything is answered.
 */
bool ts_credential_apikey_cached(ts_credential_cache_t *cache, ts_arena_t *a, const char *token,
                                 struct ts_apikey *key);

/* {"ApiKeyId", "AccountId", "Description", "CreatedTimestamp"}; new reference. */
json_t *ts_credential_apikey_json(const struct ts_apikey *k);

#endif
