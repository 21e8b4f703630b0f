/*
 * What SAML sign-in keeps in the store (docs/product.md §6), shared by every
 * node: an account's identity source (the IdP metadata and its settings),
 * the SP's key pairs (private keys sealed in the secrets table, owner kind
 * "saml_sp", owner the key ID, name "private_key"), the AuthnRequests issued
 * (single use, bound to a browser) and the replay cache of consumed
 * assertions. Part of the store interface.
 */
#ifndef TS_STORE_SAML_H
#define TS_STORE_SAML_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"

/*
 * The longest AuthnRequest or assertion ID kept (xs:ID values; IdPs send 20 to
 * 60 characters): a longer one is refused rather than stored.
 */
#define TS_STORE_SAML_ID_MAX 256

/* An account's SAML identity source. */
struct ts_store_saml_config {
	const char *account_id;
	const char *idp_entity_id;
	const char *metadata_xml;    /* the document as uploaded or last fetched */
	const char *metadata_url;    /* NULL: uploaded */
	int64_t metadata_fetched_ms; /* 0 when uploaded */
	bool allow_idp_initiated;
	bool allow_sha1;
	const char *relay_allow; /* JSON array text of allowed RelayState origins; NULL: none */
	int64_t version;         /* bumped by each put: caches key on (account, version) */
	int64_t created_ms, modified_ms;
};

/* Inserts or replaces the account's config (version = old + 1, created_ms kept). */
TS_MUST_USE ts_err ts_store_saml_config_put(ts_store_conn_t *c,
                                            const struct ts_store_saml_config *cfg,
                                            struct ts_error *e);
/* *found false when the account has none. */
TS_MUST_USE ts_err ts_store_saml_config_get(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id,
                                            struct ts_store_saml_config *out, bool *found,
                                            struct ts_error *e);
/* The version alone (0 when none): what a per-worker cache checks on each sign-in. */
TS_MUST_USE ts_err ts_store_saml_config_version(ts_store_conn_t *c, const char *account_id,
                                                int64_t *version, struct ts_error *e);
/* *deleted false when there was none. Also deletes the account's requests. */
TS_MUST_USE ts_err ts_store_saml_config_delete(ts_store_conn_t *c, const char *account_id,
                                               bool *deleted, struct ts_error *e);
/* Configs with a metadata_url fetched before before_ms, up to limit (for the refresher). */
TS_MUST_USE ts_err ts_store_saml_config_due(ts_store_conn_t *c, ts_arena_t *a, int64_t before_ms,
                                            int limit, struct ts_store_saml_config **out, int *n,
                                            struct ts_error *e);

/* One SP key pair of an account (the private key is in the secrets table). */
struct ts_store_saml_key {
	const char *key_id;
	const char *account_id;
	const char *cert_pem;
	int64_t created_ms;
	int64_t not_after_ms;
	int64_t retired_ms; /* 0: current; else published until then, then deleted */
};
TS_MUST_USE ts_err ts_store_saml_key_insert(ts_store_conn_t *c, const struct ts_store_saml_key *k,
                                            struct ts_error *e);
/* The account's keys not retired before now_ms, newest first (at most 8). */
TS_MUST_USE ts_err ts_store_saml_keys(ts_store_conn_t *c, ts_arena_t *a, const char *account_id,
                                      int64_t now_ms, struct ts_store_saml_key **out, int *n,
                                      struct ts_error *e);
/* Marks every current key of the account retired at retire_ms (a rotation's overlap end). */
TS_MUST_USE ts_err ts_store_saml_keys_retire(ts_store_conn_t *c, const char *account_id,
                                             int64_t retire_ms, struct ts_error *e);
/* Deletes keys retired before now_ms (and their sealed private keys); *n counts them. */
TS_MUST_USE ts_err ts_store_saml_keys_purge(ts_store_conn_t *c, int64_t now_ms, int64_t *n,
                                            struct ts_error *e);

/* An AuthnRequest issued to a browser. */
struct ts_store_saml_request {
	const char *request_id;
	const char *account_id;
	const char *browser_hash; /* hex SHA-256 of the browser-binding cookie's value */
	const char *relay_state;  /* may be NULL */
	int64_t created_ms;
	int64_t expires_ms;
};
/* TS_ERR_BAD_REQUEST for an empty request ID or one longer than TS_STORE_SAML_ID_MAX. */
TS_MUST_USE ts_err ts_store_saml_request_insert(ts_store_conn_t *c,
                                                const struct ts_store_saml_request *r,
                                                struct ts_error *e);
/*
 * Takes a request once: deletes and returns it when it exists for this
 * account and has not expired at now_ms (*found false otherwise, also when it
 * was taken already, on any node). The caller compares browser_hash.
 */
TS_MUST_USE ts_err ts_store_saml_request_take(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *account_id, const char *request_id,
                                              int64_t now_ms, struct ts_store_saml_request *out,
                                              bool *found, struct ts_error *e);

/*
 * The replay cache: records (account, assertion ID) until expires_ms.
 * *fresh false when it was recorded already and has not expired (a replay,
 * on this node or another); an expired entry is replaced. TS_ERR_BAD_REQUEST
 * for an empty assertion ID, one longer than TS_STORE_SAML_ID_MAX, or
 * expires_ms not after now_ms.
 */
TS_MUST_USE ts_err ts_store_saml_replay_record(ts_store_conn_t *c, const char *account_id,
                                               const char *assertion_id, int64_t expires_ms,
                                               int64_t now_ms, bool *fresh, struct ts_error *e);
/* Deletes expired requests and replay entries (at most limit rows each). */
TS_MUST_USE ts_err ts_store_saml_purge(ts_store_conn_t *c, int64_t now_ms, int limit, int64_t *n,
                                       struct ts_error *e);

#endif
