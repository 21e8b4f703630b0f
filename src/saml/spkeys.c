/*
 * The SP key pairs of saml/spkeys.h: certificates in the store's SAML key
 * table, private keys sealed in the secrets table (docs/secrets.md), both in
 * the caller's transaction so that a pair is stored whole or not at all.
 */
#include "saml/spkeys.h"

#include <string.h>

#include "saml/metadata.h"
#include "store/saml.h"
#include "store/secrets.h"

#define SP_OWNER_KIND "saml_sp"
#define SP_SECRET_NAME "private_key"

ts_err ts_saml_sp_keys_load(ts_store_conn_t *c, ts_arena_t *a,
                            const unsigned char master[TS_MASTER_KEY_LEN], const char *account_id,
                            int64_t now_ms, struct ts_saml_sp_keys *out, struct ts_error *e)
{
	struct ts_store_saml_key *rows = NULL;
	int n = 0;
	*out = (struct ts_saml_sp_keys){0};
	ts_err rc = ts_store_saml_keys(c, a, account_id, now_ms, &rows, &n, e);
	if (rc != TS_ERR_OK || n == 0)
		return rc;
	const char **ids = ts_arena_alloc(a, sizeof *ids * (size_t)n);
	const char **certs = ts_arena_alloc(a, sizeof *certs * (size_t)n);
	const char **keys = ts_arena_alloc(a, sizeof *keys * (size_t)n);
	int64_t *retired = ts_arena_alloc(a, sizeof *retired * (size_t)n);
	struct ts_secret_key sk;
	ts_secret_key_derive(master, &sk);
	for (int i = 0; i < n && rc == TS_ERR_OK; i++) {
		unsigned char *plain = NULL;
		size_t len = 0;
		bool found = false;
		rc = ts_store_secret_open_get(c, a, &sk, SP_OWNER_KIND, rows[i].key_id,
		                              SP_SECRET_NAME, &plain, &len, &found, e);
		if (rc == TS_ERR_OK && !found)
			rc = TS_FAIL(e, TS_ERR_INTERNAL, "SP key %s of %s has no private key",
			             rows[i].key_id, account_id);
		ids[i] = rows[i].key_id;
		certs[i] = rows[i].cert_pem;
		keys[i] = (const char *)plain;
		retired[i] = rows[i].retired_ms;
	}
	ts_secret_key_wipe(&sk);
	if (rc != TS_ERR_OK)
		return rc;
	*out = (struct ts_saml_sp_keys){.key_ids = ids,
	                                .certs_pem = certs,
	                                .keys_pem = keys,
	                                .retired_ms = retired,
	                                .n = (size_t)n};
	return TS_ERR_OK;
}

ts_err ts_saml_sp_key_create(ts_store_conn_t *c, ts_arena_t *a,
                             const unsigned char master[TS_MASTER_KEY_LEN], const char *account_id,
                             const char *common_name, int64_t now_ms, const char **key_id,
                             struct ts_error *e)
{
	const char *key_pem = NULL, *cert_pem = NULL;
	struct ts_saml_cert info;
	ts_err rc =
	        ts_saml_keypair_new(a, common_name, TS_SAML_SP_CERT_DAYS, &key_pem, &cert_pem, e);
	if (rc == TS_ERR_OK)
		rc = ts_saml_cert_read(a, cert_pem, &info, e);
	if (rc != TS_ERR_OK)
		return rc;
	char id[TS_UUID_LEN + 1];
	ts_uuid_v7(id);
	struct ts_store_saml_key row = {.key_id = ts_arena_strdup(a, id),
	                                .account_id = account_id,
	                                .cert_pem = cert_pem,
	                                .created_ms = now_ms,
	                                .not_after_ms = info.not_after_ms,
	                                .retired_ms = 0};
	rc = ts_store_saml_key_insert(c, &row, e);
	if (rc == TS_ERR_OK) {
		struct ts_secret_key sk;
		ts_secret_key_derive(master, &sk);
		rc = ts_store_secret_seal_put(c, a, &sk, SP_OWNER_KIND, row.key_id, SP_SECRET_NAME,
		                              (const unsigned char *)key_pem, strlen(key_pem),
		                              now_ms, e);
		ts_secret_key_wipe(&sk);
	}
	if (rc == TS_ERR_OK && key_id != NULL)
		*key_id = row.key_id;
	return rc;
}

ts_err ts_saml_sp_key_rotate(ts_store_conn_t *c, ts_arena_t *a,
                             const unsigned char master[TS_MASTER_KEY_LEN], const char *account_id,
                             const char *common_name, int64_t now_ms, const char **key_id,
                             struct ts_error *e)
{
	int64_t purged = 0;
	ts_err rc = ts_store_saml_keys_retire(c, account_id, now_ms + TS_SAML_SP_KEY_OVERLAP_MS, e);
	if (rc == TS_ERR_OK)
		rc = ts_saml_sp_key_create(c, a, master, account_id, common_name, now_ms, key_id,
		                           e);
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_keys_purge(c, now_ms, &purged, e);
	return rc;
}
