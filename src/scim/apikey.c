/* SCIM API key creation and authentication (the admin keys' scheme, per account). */
#include "scim/apikey.h"

#include <sodium.h>
#include <string.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/token.h"

static const struct ts_token_shape shape = {TS_APIKEY_ID_PREFIX, TS_APIKEY_ID_RANDOM,
                                            TS_APIKEY_SECRET_LEN};

ts_err ts_scim_apikey_create(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
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

#define KEY_CACHE_SLOTS 64

struct cache_slot {
	char *id; /* NULL: free */
	char *secret_hash, *account_id, *description, *settings;
	int64_t created_ms;
	int64_t gen; /* the credentials generation it was read at */
};

struct ts_scim_key_cache {
	struct cache_slot slot[KEY_CACHE_SLOTS];
};

ts_scim_key_cache_t *ts_scim_key_cache_new(void)
{
	return ts_calloc(1, sizeof(ts_scim_key_cache_t));
}

static void slot_clear(struct cache_slot *s)
{
	TS_FREE(&s->id);
	TS_FREE(&s->secret_hash);
	TS_FREE(&s->account_id);
	TS_FREE(&s->description);
	TS_FREE(&s->settings);
}

void ts_scim_key_cache_free(ts_scim_key_cache_t **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	for (int i = 0; i < KEY_CACHE_SLOTS; i++)
		slot_clear(&(*cp)->slot[i]);
	TS_FREE(cp);
}

static struct cache_slot *slot_of(ts_scim_key_cache_t *c, const char *id)
{
	return &c->slot[ts_token_id_hash(id) % KEY_CACHE_SLOTS];
}

/* The entry of id when its secret is hash; copied into a. */
static bool cache_get(ts_scim_key_cache_t *c, ts_arena_t *a, const char *id, const char *hash,
                      struct ts_apikey *key, int64_t *gen)
{
	struct cache_slot *s = slot_of(c, id);
	if (s->id == NULL || strcmp(s->id, id) != 0 || !ts_secret_equal(hash, s->secret_hash))
		return false;
	*key = (struct ts_apikey){.api_key_id = ts_arena_strdup(a, s->id),
	                          .account_id = ts_arena_strdup(a, s->account_id),
	                          .secret_hash = ts_arena_strdup(a, s->secret_hash),
	                          .description = ts_arena_strdup(a, s->description),
	                          .created_ms = s->created_ms,
	                          .account_settings = ts_arena_strdup(a, s->settings)};
	*gen = s->gen;
	return true;
}

static void cache_put(ts_scim_key_cache_t *c, const struct ts_apikey *k, int64_t gen)
{
	struct cache_slot *s = slot_of(c, k->api_key_id);
	slot_clear(s);
	s->id = ts_strdup(k->api_key_id);
	s->secret_hash = ts_strdup(k->secret_hash);
	s->account_id = ts_strdup(k->account_id);
	s->description = ts_strdup(k->description ? k->description : "");
	s->settings = ts_strdup(k->account_settings ? k->account_settings : "{}");
	s->created_ms = k->created_ms;
	s->gen = gen;
}

bool ts_scim_apikey_cached(ts_scim_key_cache_t *cache, ts_arena_t *a, const char *token,
                           struct ts_apikey *key)
{
	const char *id = NULL;
	char hash[TS_SHA256_HEX_LEN + 1];
	int64_t gen = 0;
	return cache != NULL && token != NULL && ts_token_parse(a, &shape, token, &id, hash) &&
	       cache_get(cache, a, id, hash, key, &gen);
}

ts_err ts_scim_apikey_authenticate(ts_store_conn_t *c, ts_arena_t *a, ts_scim_key_cache_t *cache,
                                   const char *token, struct ts_apikey *key,
                                   const char **claimed_id, struct ts_error *e)
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

json_t *ts_scim_apikey_json(const struct ts_apikey *k)
{
	char created[32];
	ts_time_iso(k->created_ms, created);
	/* stored text through ts_json_text: a row that is not UTF-8 is escaped, never dropped */
	return json_pack("{s:o, s:o, s:o, s:s}", "ApiKeyId", ts_json_text(k->api_key_id),
	                 "AccountId", ts_json_text(k->account_id), "Description",
	                 ts_json_text(k->description ? k->description : ""), "CreatedTimestamp",
	                 created);
}
