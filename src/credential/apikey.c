/* Account API key creation and authentication (the admin keys' scheme, per account). */
#include "credential/apikey.h"

#include <sodium.h>
#include <string.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/token.h"

static const struct ts_token_shape shape = {TS_APIKEY_ID_PREFIX, TS_APIKEY_ID_RANDOM,
                                            TS_APIKEY_SECRET_LEN};

ts_err ts_credential_apikey_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                   const char *description, struct ts_apikey_created *out,
                                   struct ts_error *e)
{
	if (description != NULL && strlen(description) > TS_APIKEY_DESCRIPTION_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Description is longer than %d bytes",
		               TS_APIKEY_DESCRIPTION_MAX);
	/* the account becomes managed by an IdP: serialized with the admin changes that
	 * decide on that (docs/store.md) */
	struct ts_account acct;
	ts_err rc = ts_store_account_get_for_update(c, a, account_id, &acct, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct ts_token t;
	ts_token_new(a, &shape, &t);
	out->api_key_id = t.id;
	out->token = t.token;
	out->record = (struct ts_apikey){
	        .api_key_id = t.id,
	        .account_id = acct.account_id,
	        .secret_hash = t.secret_hash,
	        .description = description ? ts_arena_strdup(a, description) : "",
	        .created_ms = ts_now_ms(),
	};
	return ts_store_apikey_insert(c, &out->record, e);
}

/* ---- the per-thread cache of checked keys ------------------------------- */

/* What a cache entry keeps of a key besides its id and secret hash (the entry's stamp). */
struct entry {
	char *account_id, *description, *settings;
	int64_t created_ms;
};

static void entry_free(void *p)
{
	struct entry *en = p;
	TS_FREE(&en->account_id);
	TS_FREE(&en->description);
	TS_FREE(&en->settings);
	ts_free(en);
}

ts_credential_cache_t *ts_credential_apikey_cache_new(void)
{
	return ts_credential_cache_new(entry_free);
}

/* The entry of id when its secret is hash; copied into a. */
static bool cache_get(ts_credential_cache_t *c, ts_arena_t *a, const char *id, const char *hash,
                      struct ts_apikey *key, int64_t *gen)
{
	const struct entry *en = ts_credential_cache_get(c, id, hash, gen);
	if (en == NULL)
		return false;
	*key = (struct ts_apikey){.api_key_id = id,
	                          .account_id = ts_arena_strdup(a, en->account_id),
	                          .secret_hash = ts_arena_strdup(a, hash),
	                          .description = ts_arena_strdup(a, en->description),
	                          .created_ms = en->created_ms,
	                          .account_settings = ts_arena_strdup(a, en->settings)};
	return true;
}

static void cache_put(ts_credential_cache_t *c, const struct ts_apikey *k, int64_t gen)
{
	struct entry *en = ts_calloc(1, sizeof *en);
	en->account_id = ts_strdup(k->account_id);
	en->description = ts_strdup(k->description ? k->description : "");
	en->settings = ts_strdup(k->account_settings ? k->account_settings : "{}");
	en->created_ms = k->created_ms;
	ts_credential_cache_put(c, k->api_key_id, k->secret_hash, gen, en);
}

bool ts_credential_apikey_cached(ts_credential_cache_t *cache, ts_arena_t *a, const char *token,
                                 struct ts_apikey *key)
{
	const char *id = NULL;
	char hash[TS_SHA256_HEX_LEN + 1];
	int64_t gen = 0;
	return cache != NULL && token != NULL && ts_token_parse(a, &shape, token, &id, hash) &&
	       cache_get(cache, a, id, hash, key, &gen);
}

ts_err ts_credential_apikey_authenticate(ts_store_conn_t *c, ts_arena_t *a,
                                         ts_credential_cache_t *cache, const char *token,
                                         struct ts_apikey *key, const char **claimed_id,
                                         struct ts_error *e)
{
	*claimed_id = NULL;
	if (token == NULL)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "no API key given");
	const char *id = NULL;
	char hash[TS_SHA256_HEX_LEN + 1];
	if (!ts_token_parse(a, &shape, token, &id, hash))
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "malformed API key");
	*claimed_id = id;
	struct ts_error lookup = {0};
	int64_t now_gen = 0, then_gen = 0;
	ts_err rc = TS_ERR_OK;
	if (cache != NULL) {
		rc = ts_store_auth_generation(c, &now_gen, &lookup);
		if (rc == TS_ERR_OK && cache_get(cache, a, id, hash, key, &then_gen) &&
		    then_gen == now_gen)
			return TS_ERR_OK; /* nothing that authenticates a key changed since */
	}
	if (rc == TS_ERR_OK)
		rc = ts_store_apikey_get(c, a, id, key, &lookup);
	if (rc == TS_ERR_NOT_FOUND)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "unknown API key %s", id);
	if (rc != TS_ERR_OK) {
		if (e != NULL)
			*e = lookup;
		return rc;
	}
	if (!ts_secret_equal(hash, key->secret_hash))
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "wrong secret for API key %s", id);
	if (cache != NULL)
		cache_put(cache, key, now_gen);
	return TS_ERR_OK;
}

json_t *ts_credential_apikey_json(const struct ts_apikey *k)
{
	char created[32];
	ts_time_iso(k->created_ms, created);
	/* stored text through ts_json_text: a row that is not UTF-8 is escaped, never dropped */
	return json_pack("{s:o, s:o, s:o, s:s}", "ApiKeyId", ts_json_text(k->api_key_id),
	                 "AccountId", ts_json_text(k->account_id), "Description",
	                 ts_json_text(k->description ? k->description : ""), "CreatedTimestamp",
	                 created);
}
