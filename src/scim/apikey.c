/* SCIM API key creation and authentication (the admin keys' scheme, per account). */
#include "scim/apikey.h"

#include <sodium.h>
#include <string.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/timeutil.h"

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
	static const char id_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char raw[TS_APIKEY_ID_RANDOM];
	ts_random_bytes(raw, sizeof raw);
	size_t plen = strlen(TS_APIKEY_ID_PREFIX);
	char *id = ts_arena_alloc(a, plen + TS_APIKEY_ID_RANDOM + 1);
	memcpy(id, TS_APIKEY_ID_PREFIX, plen);
	for (int i = 0; i < TS_APIKEY_ID_RANDOM; i++)
		id[plen + (size_t)i] = id_alphabet[raw[i] & 31];
	char secret[TS_APIKEY_SECRET_LEN + 1];
	ts_random_token(secret, TS_APIKEY_SECRET_LEN);
	char *hash = ts_arena_alloc(a, TS_SHA256_HEX_LEN + 1);
	ts_sha256_hex(secret, TS_APIKEY_SECRET_LEN, hash);
	out->api_key_id = id;
	out->token = ts_arena_printf(a, "%s.%s", id, secret);
	sodium_memzero(secret, sizeof secret);
	out->record = (struct ts_apikey){
	        .api_key_id = id,
	        .account_id = acct.account_id,
	        .secret_hash = hash,
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
	const char *dot = strchr(token, '.');
	size_t plen = strlen(TS_APIKEY_ID_PREFIX);
	size_t idlen = dot ? (size_t)(dot - token) : 0;
	if (dot == NULL || idlen != plen + TS_APIKEY_ID_RANDOM ||
	    strncmp(token, TS_APIKEY_ID_PREFIX, plen) != 0 ||
	    strlen(dot + 1) != TS_APIKEY_SECRET_LEN)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "malformed API key");
	const char *id = ts_arena_strndup(a, token, idlen);
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
	char hash[TS_SHA256_HEX_LEN + 1];
	ts_sha256_hex(dot + 1, TS_APIKEY_SECRET_LEN, hash);
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
