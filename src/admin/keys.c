/* Admin key creation and authentication. */
#include "admin/keys.h"

#include <sodium.h>
#include <string.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"
#include "core/token.h"

static const struct ts_token_shape shape = {TS_ADMINKEY_ID_PREFIX, TS_ADMINKEY_ID_RANDOM,
                                            TS_ADMINKEY_SECRET_LEN};

static void policy_set_free(void *p)
{
	ts_policy_set_t *set = p;
	ts_admin_policy_free(&set);
}

ts_err ts_admin_key_create(ts_store_conn_t *c, ts_arena_t *a, const json_t *policies,
                           const char *description, struct ts_adminkey_created *out,
                           struct ts_error *e)
{
	if (!json_is_array(policies) || json_array_size(policies) == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "Policies must be a non-empty array of policy names or documents");
	if (description != NULL && strlen(description) > TS_ADMINKEY_DESCRIPTION_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "Description is longer than %d bytes",
		               TS_ADMINKEY_DESCRIPTION_MAX);
	ts_policy_set_t *set = NULL;
	ts_err rc = ts_admin_policy_parse(policies, &set, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_admin_policy_free(&set);

	struct ts_token t;
	ts_token_new(a, &shape, &t);
	out->access_key_id = t.id;
	out->token = t.token;
	out->record = (struct ts_adminkey){
	        .access_key_id = t.id,
	        .secret_hash = t.secret_hash,
	        .policies = ts_json_dump(a, policies, NULL),
	        .description = description ? ts_arena_strdup(a, description) : "",
	        .created_ms = ts_now_ms(),
	};
	return ts_store_adminkey_insert(c, &out->record, e);
}

ts_admin_key_cache_t *ts_admin_key_cache_new(void)
{
	return ts_credential_cache_new(policy_set_free);
}

/* The parsed policies of k: from the cache while its stored text is unchanged. */
static ts_err policies_of(ts_arena_t *a, ts_admin_key_cache_t *cache, const struct ts_adminkey *k,
                          const ts_policy_set_t **out, struct ts_error *e)
{
	ts_policy_set_t *set = ts_credential_cache_get(cache, k->access_key_id, k->policies, NULL);
	if (set != NULL) {
		*out = set;
		return TS_ERR_OK;
	}
	ts_err rc = ts_admin_policy_parse_text(k->policies, &set, e);
	if (rc != TS_ERR_OK)
		return rc;
	if (cache != NULL)
		ts_credential_cache_put(cache, k->access_key_id, k->policies, 0, set);
	else
		ts_arena_defer(a, policy_set_free, set);
	*out = set;
	return TS_ERR_OK;
}

ts_err ts_admin_key_authenticate(ts_store_conn_t *c, ts_arena_t *a, ts_admin_key_cache_t *cache,
                                 const char *token, struct ts_adminkey *key,
                                 const ts_policy_set_t **policies, const char **claimed_id,
                                 struct ts_error *e)
{
	*policies = NULL;
	*claimed_id = NULL;
	if (token == NULL)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "no admin key given");
	const char *id = NULL;
	char hash[TS_SHA256_HEX_LEN + 1];
	if (!ts_token_parse(a, &shape, token, &id, hash))
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "malformed admin key");
	*claimed_id = id;
	struct ts_error lookup = {0};
	ts_err rc = ts_store_adminkey_get(c, a, id, key, &lookup);
	if (rc == TS_ERR_NOT_FOUND)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "unknown admin key %s", id);
	if (rc != TS_ERR_OK) {
		if (e != NULL)
			*e = lookup;
		return rc;
	}
	if (!ts_secret_equal(hash, key->secret_hash))
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "wrong secret for admin key %s", id);
	if (policies_of(a, cache, key, policies, e) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_INTERNAL, "stored policies of %s do not parse", id);
	return TS_ERR_OK;
}

json_t *ts_admin_key_json(const struct ts_adminkey *k)
{
	char created[32];
	ts_time_iso(k->created_ms, created);
	json_t *pol = json_loads(k->policies, 0, NULL);
	/* stored text through ts_json_text: a row that is not UTF-8 is escaped, never dropped */
	return json_pack("{s:o, s:o, s:o, s:s}", "AccessKeyId", ts_json_text(k->access_key_id),
	                 "Policies", pol ? pol : json_array(), "Description",
	                 ts_json_text(k->description ? k->description : ""), "CreatedTimestamp",
	                 created);
}
