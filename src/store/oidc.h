/*
 * What OpenID Connect sign-in keeps in the store (docs/oidc.md), shared by
 * every node: an account's OpenID provider (issuer, client ID, the discovery
 * document and JWKS as last fetched, the settings) with a version that never
 * repeats, its client secret sealed with the master key in the secrets table
 * (docs/secrets.md: owner kind "oidc_client", owner the account ID, name
 * "client_secret"), and the states issued to browsers, single use on any
 * node. The store holds hashes of the state, the browser binding and the
 * nonce, never the values. Part of the store interface.
 */
#ifndef TS_STORE_OIDC_H
#define TS_STORE_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"
#include "store/conn.h"

/* The longest hash or value kept in a state row (hex SHA-256 is 64): longer is refused. */
#define TS_STORE_OIDC_HASH_MAX 128
/* The longest target (where the browser goes after) a state keeps. */
#define TS_STORE_OIDC_TARGET_MAX 2048

/* An account's OpenID provider. */
struct ts_store_oidc_config {
	const char *account_id;
	const char *issuer;
	const char *client_id;
	const char *claim;  /* the ID token / userinfo claim matched; NULL on put: "email" */
	const char *scopes; /* space-separated; NULL on put: "openid email" */
	const char *discovery_json; /* as fetched and checked at configuration */
	const char *jwks_json;      /* the last JWKS fetched (NULL: none yet), shared by nodes */
	int64_t jwks_fetched_ms;
	const char *relay_allow; /* JSON array text of allowed target origins; NULL: none */
	bool allow_hs256;        /* ID tokens MACed with the client secret accepted */
	int64_t version;         /* moved by each put: caches key on (account, version) */
	int64_t created_ms, modified_ms;
};

/*
 * Inserts or replaces the account's config (version = old + 1, never a
 * version used before for the account, created_ms kept). The client secret is
 * not part of it: ts_store_oidc_secret_put, in the same transaction.
 */
TS_MUST_USE ts_err ts_store_oidc_config_put(ts_store_conn_t *c,
                                            const struct ts_store_oidc_config *cfg,
                                            struct ts_error *e);
/* *found false when the account has none. */
TS_MUST_USE ts_err ts_store_oidc_config_get(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id,
                                            struct ts_store_oidc_config *out, bool *found,
                                            struct ts_error *e);
/* The version alone (0 when none): what a per-worker cache checks on each sign-in. */
TS_MUST_USE ts_err ts_store_oidc_config_version(ts_store_conn_t *c, const char *account_id,
                                                int64_t *version, struct ts_error *e);
/* An account that has an OpenID provider (the first by ID), or NULL when none has. */
TS_MUST_USE ts_err ts_store_oidc_config_any(ts_store_conn_t *c, ts_arena_t *a,
                                            const char **account_id, struct ts_error *e);
/* *deleted false when there was none. Also deletes the client secret and the account's states. */
TS_MUST_USE ts_err ts_store_oidc_config_delete(ts_store_conn_t *c, const char *account_id,
                                               bool *deleted, struct ts_error *e);
/*
 * A JWKS refresh: stores jwks_json fetched at fetched_ms unless the stored
 * one is newer; moves nothing else (not the version: a node that refreshed
 * keeps its cache, the others read the new keys when they miss a kid).
 */
TS_MUST_USE ts_err ts_store_oidc_jwks_put(ts_store_conn_t *c, const char *account_id,
                                          const char *jwks_json, int64_t fetched_ms,
                                          struct ts_error *e);

/*
 * Seals the client secret (n bytes of plain) with the master key and stores
 * it for the account, replacing the old one (store/secrets.h). In c's
 * transaction if one is open. plain is the caller's to wipe.
 */
TS_MUST_USE ts_err ts_store_oidc_secret_put(ts_store_conn_t *c, ts_arena_t *a,
                                            const unsigned char master[TS_MASTER_KEY_LEN],
                                            const char *account_id, const unsigned char *plain,
                                            size_t n, int64_t now_ms, struct ts_error *e);
/*
 * The account's client secret, opened with the master key: *secret (n bytes
 * and a NUL, arena memory wiped when the arena is freed); *found false when
 * the account has none. TS_ERR_INTERNAL when it does not open (another
 * master key). For the token request (client_secret_basic / _post) and HS256.
 */
TS_MUST_USE ts_err ts_store_oidc_secret_open(ts_store_conn_t *c, ts_arena_t *a,
                                             const unsigned char master[TS_MASTER_KEY_LEN],
                                             const char *account_id, const char **secret, size_t *n,
                                             bool *found, struct ts_error *e);

/* A state issued to a browser by GET /auth/{AccountId}/oidc. */
struct ts_store_oidc_state {
	const char *state_hash;   /* hex SHA-256 of the state value (the key) */
	const char *account_id;   /* the account the callback signs in to */
	const char *browser_hash; /* hex SHA-256 of the browser-binding cookie's value */
	const char *nonce_hash;   /* hex SHA-256 of the nonce sent */
	const char *target;       /* where the browser goes after; NULL: the default */
	int64_t created_ms;
	int64_t expires_ms;
};
/*
 * TS_ERR_BAD_REQUEST for an empty hash or one longer than
 * TS_STORE_OIDC_HASH_MAX, a target longer than TS_STORE_OIDC_TARGET_MAX;
 * TS_ERR_CONFLICT when the state hash exists.
 */
TS_MUST_USE ts_err ts_store_oidc_state_insert(ts_store_conn_t *c,
                                              const struct ts_store_oidc_state *st,
                                              struct ts_error *e);
/*
 * Takes a state once: deletes and returns it when it exists and has not
 * expired at now_ms (*found false otherwise, also when it was taken already,
 * on any node). The caller compares browser_hash and nonce_hash.
 */
TS_MUST_USE ts_err ts_store_oidc_state_take(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *state_hash, int64_t now_ms,
                                            struct ts_store_oidc_state *out, bool *found,
                                            struct ts_error *e);
/*
 * Reads a state without taking it: *found when it exists and has not expired
 * at now_ms. A callback reads it first, then takes it in the transaction
 * that records its outcome (one write, not two); the take decides which of
 * two callbacks with one state wins.
 */
TS_MUST_USE ts_err ts_store_oidc_state_get(ts_store_conn_t *c, ts_arena_t *a,
                                           const char *state_hash, int64_t now_ms,
                                           struct ts_store_oidc_state *out, bool *found,
                                           struct ts_error *e);
/* Deletes states expired at now_ms, at most limit of them; *n counts them. */
TS_MUST_USE ts_err ts_store_oidc_purge(ts_store_conn_t *c, int64_t now_ms, int limit, int64_t *n,
                                       struct ts_error *e);

#endif
