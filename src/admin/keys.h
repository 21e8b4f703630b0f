/*
 * Admin keys: bearer tokens for the admin API. A token is
 * "<AccessKeyId>.<secret>"; only SHA-256 of the secret is stored, and the
 * comparison is constant-time. Each key carries its policy documents.
 */
#ifndef TS_ADMIN_KEYS_H
#define TS_ADMIN_KEYS_H

#include <jansson.h>

#include "admin/policy.h"
#include "credential/cache.h"
#include "store/store.h"

#define TS_ADMINKEY_ID_PREFIX "TSAK"
#define TS_ADMINKEY_ID_RANDOM 16
#define TS_ADMINKEY_SECRET_LEN 40
#define TS_ADMINKEY_DESCRIPTION_MAX 256
/* The policy the first key made by `tessera init` carries: every action, every resource. */
#define TS_ADMIN_POLICY_ROOT                                                 \
	"[{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"," \
	"\"Action\":\"tessera:*\",\"Resource\":\"*\"}]}]"

/*
 * Parsed policy sets of recently seen keys, for one thread: a credential
 * cache (credential/cache.h) whose stamp is the stored policy text, so an
 * edited key is parsed afresh. Freed with ts_credential_cache_free.
 */
typedef ts_credential_cache_t ts_admin_key_cache_t;
ts_admin_key_cache_t *ts_admin_key_cache_new(void);

struct ts_adminkey_created {
	const char *access_key_id;
	const char *token; /* shown once */
	struct ts_adminkey record;
};

/*
 * Validates policies (a JSON array of managed policy names and documents)
 * and stores a new key. The token is returned once and never stored.
 */
TS_MUST_USE ts_err ts_admin_key_create(ts_store_conn_t *c, ts_arena_t *a, const json_t *policies,
                                       const char *description, struct ts_adminkey_created *out,
                                       struct ts_error *e);

/*
 * Checks a bearer token. On success *key is the stored key and *policies its
 * parsed policy set (owned by the arena, or by cache when one is given: then
 * valid until the next call on that cache). TS_ERR_UNAUTHORIZED for a missing,
 * malformed, unknown or deleted key. *claimed_id is set to the key id part
 * of a well-formed token even when it fails (for the audit trail).
 */
TS_MUST_USE ts_err ts_admin_key_authenticate(ts_store_conn_t *c, ts_arena_t *a,
                                             ts_admin_key_cache_t *cache, const char *token,
                                             struct ts_adminkey *key,
                                             const ts_policy_set_t **policies,
                                             const char **claimed_id, struct ts_error *e);

/* The API shape of a key, without any secret; new reference. */
json_t *ts_admin_key_json(const struct ts_adminkey *k);

#endif
