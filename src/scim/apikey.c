/* SCIM API key creation and authentication (the admin keys' scheme, per account). */
#include "scim/apikey.h"

#include <sodium.h>
#include <string.h>

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
	struct ts_account acct;
	ts_err rc = ts_store_account_get(c, a, account_id, &acct, e);
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

ts_err ts_scim_apikey_authenticate(ts_store_conn_t *c, ts_arena_t *a, const char *token,
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
	ts_err rc = ts_store_apikey_get(c, a, id, key, &lookup);
	if (rc == TS_ERR_NOT_FOUND)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "unknown API key %s", id);
	if (rc != TS_ERR_OK) {
		if (e != NULL)
			*e = lookup;
		return rc;
	}
	if (!ts_secret_equal(hash, key->secret_hash))
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "wrong secret for API key %s", id);
	return TS_ERR_OK;
}

json_t *ts_scim_apikey_json(const struct ts_apikey *k)
{
	char created[32];
	ts_time_iso(k->created_ms, created);
	return json_pack("{s:s, s:s, s:s, s:s}", "ApiKeyId", k->api_key_id, "AccountId",
	                 k->account_id, "Description", k->description ? k->description : "",
	                 "CreatedTimestamp", created);
}
