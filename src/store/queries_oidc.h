/*
 * Queries of OpenID Connect sign-in (store/oidc.h): an account's OpenID
 * provider and its version counter, its sealed client secret's row, and the
 * states issued to browsers. X(ID, sql, postgres variant or NULL). Taking a
 * state holds across connections and nodes: on PostgreSQL it is one statement
 * (DELETE ... RETURNING, 9.5+); on SQLite a read and a delete in the write
 * transaction, which holds the database's one write lock (BEGIN IMMEDIATE).
 */
#ifndef TS_STORE_QUERIES_OIDC_H
#define TS_STORE_QUERIES_OIDC_H

#define TS__OIDC_CONFIG_COLS                                                        \
	"account_id, issuer, client_id, claim, scopes, discovery_json, jwks_json, " \
	"jwks_fetched_ms, relay_allow, allow_hs256, version, created_ms, modified_ms"
#define TS__OIDC_STATE_COLS \
	"state_hash, account_id, browser_hash, nonce_hash, target, created_ms, expires_ms"
/* docs/secrets.md: the client secret's place in the secrets table */
#define TS__OIDC_SECRET_KIND "oidc_client"
#define TS__OIDC_SECRET_NAME "client_secret"

#define TS__STORE_QUERIES_OIDC(X)                                                                  \
	/* the counter outlives a deleted config: a version is never reused (migrations.c v10) */  \
	X(OIDC_CONFIG_VERSION_NEXT,                                                                \
	  "INSERT INTO oidc_config_versions (account_id, version) VALUES ($1, 1) "                 \
	  "ON CONFLICT (account_id) DO UPDATE SET version = oidc_config_versions.version + 1 "     \
	  "RETURNING version",                                                                     \
	  NULL)                                                                                    \
	X(OIDC_CONFIG_PUT,                                                                         \
	  "INSERT INTO oidc_configs (" TS__OIDC_CONFIG_COLS ") "                                   \
	  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "                       \
	  "ON CONFLICT (account_id) DO UPDATE SET issuer = excluded.issuer, "                      \
	  "client_id = excluded.client_id, claim = excluded.claim, scopes = excluded.scopes, "     \
	  "discovery_json = excluded.discovery_json, jwks_json = excluded.jwks_json, "             \
	  "jwks_fetched_ms = excluded.jwks_fetched_ms, relay_allow = excluded.relay_allow, "       \
	  "allow_hs256 = excluded.allow_hs256, version = excluded.version, "                       \
	  "modified_ms = excluded.modified_ms",                                                    \
	  NULL)                                                                                    \
	X(OIDC_CONFIG_GET,                                                                         \
	  "SELECT " TS__OIDC_CONFIG_COLS " FROM oidc_configs WHERE account_id = $1", NULL)         \
	X(OIDC_CONFIG_VERSION, "SELECT version FROM oidc_configs WHERE account_id = $1", NULL)     \
	X(OIDC_CONFIG_DELETE, "DELETE FROM oidc_configs WHERE account_id = $1", NULL)              \
	X(OIDC_CONFIG_ANY, "SELECT account_id FROM oidc_configs ORDER BY account_id LIMIT 1",      \
	  NULL)                                                                                    \
	/* a refresh older than the stored keys does not replace them */                           \
	X(OIDC_JWKS_PUT,                                                                           \
	  "UPDATE oidc_configs SET jwks_json = $2, jwks_fetched_ms = $3 "                          \
	  "WHERE account_id = $1 AND jwks_fetched_ms <= $3",                                       \
	  NULL)                                                                                    \
	/* an account's deletion takes its config and states (ON DELETE CASCADE), and this */      \
	X(OIDC_SECRET_DELETE_ACCOUNT,                                                              \
	  "DELETE FROM secrets WHERE owner_kind = '" TS__OIDC_SECRET_KIND "' AND owner_id = $1",   \
	  NULL)                                                                                    \
	X(OIDC_STATE_INSERT,                                                                       \
	  "INSERT INTO oidc_states (" TS__OIDC_STATE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)", \
	  NULL)                                                                                    \
	/* PostgreSQL, one statement: of two nodes taking the same state, one gets the row.        \
	 * SQLite, whose writer holds the database: OIDC_STATE_GET, then OIDC_STATE_DELETE (a      \
	 * RETURNING's temporary table cost more than the read; store/oidc.c) */                   \
	X(OIDC_STATE_TAKE,                                                                         \
	  "DELETE FROM oidc_states WHERE state_hash = $1 AND expires_ms > $2 "                     \
	  "RETURNING " TS__OIDC_STATE_COLS,                                                        \
	  NULL)                                                                                    \
	X(OIDC_STATE_DELETE, "DELETE FROM oidc_states WHERE state_hash = $1", NULL)                \
	X(OIDC_STATE_GET,                                                                          \
	  "SELECT " TS__OIDC_STATE_COLS                                                            \
	  " FROM oidc_states WHERE state_hash = $1 AND expires_ms > $2",                           \
	  NULL)                                                                                    \
	X(OIDC_STATES_DELETE_ACCOUNT, "DELETE FROM oidc_states WHERE account_id = $1", NULL)       \
	X(OIDC_PURGE_STATES,                                                                       \
	  "DELETE FROM oidc_states WHERE expires_ms <= $1 AND state_hash IN "                      \
	  "(SELECT state_hash FROM oidc_states WHERE expires_ms <= $1 "                            \
	  "ORDER BY expires_ms LIMIT $2)",                                                         \
	  NULL)

#endif
