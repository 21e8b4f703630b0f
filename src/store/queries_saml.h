/*
 * Queries of SAML sign-in (store/saml.h): an account's identity source and
 * its version counter, the SP key pairs, the AuthnRequests issued and the
 * replay cache. X(ID, sql, postgres variant or NULL). The single-use and
 * replay rules hold across connections and nodes on both backends: the
 * replay cache is one statement (INSERT ... ON CONFLICT, SQLite 3.35+,
 * PostgreSQL 9.5+); taking a request is one on PostgreSQL (DELETE ...
 * RETURNING) and a read and a delete in SQLite's write transaction, which
 * holds the database's one write lock (BEGIN IMMEDIATE).
 */
#ifndef TS_STORE_QUERIES_SAML_H
#define TS_STORE_QUERIES_SAML_H

#define TS__SAML_CONFIG_COLS                                                           \
	"account_id, idp_entity_id, metadata_xml, metadata_url, metadata_fetched_ms, " \
	"allow_idp_initiated, allow_sha1, relay_allow, version, created_ms, modified_ms"
#define TS__SAML_KEY_COLS "key_id, account_id, cert_pem, created_ms, not_after_ms, retired_ms"
#define TS__SAML_REQUEST_COLS \
	"request_id, account_id, browser_hash, relay_state, created_ms, expires_ms"

#define TS__STORE_QUERIES_SAML(X)                                                                  \
	/* ---- identity sources ---- */                                                           \
	/* the counter outlives a deleted config: a version is never reused (migrations.c v9) */   \
	X(SAML_CONFIG_VERSION_NEXT,                                                                \
	  "INSERT INTO saml_config_versions (account_id, version) VALUES ($1, 1) "                 \
	  "ON CONFLICT (account_id) DO UPDATE SET version = saml_config_versions.version + 1 "     \
	  "RETURNING version",                                                                     \
	  NULL)                                                                                    \
	X(SAML_CONFIG_PUT,                                                                         \
	  "INSERT INTO saml_configs (" TS__SAML_CONFIG_COLS ") "                                   \
	  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "                                 \
	  "ON CONFLICT (account_id) DO UPDATE SET idp_entity_id = excluded.idp_entity_id, "        \
	  "metadata_xml = excluded.metadata_xml, metadata_url = excluded.metadata_url, "           \
	  "metadata_fetched_ms = excluded.metadata_fetched_ms, "                                   \
	  "allow_idp_initiated = excluded.allow_idp_initiated, allow_sha1 = excluded.allow_sha1, " \
	  "relay_allow = excluded.relay_allow, version = excluded.version, "                       \
	  "modified_ms = excluded.modified_ms",                                                    \
	  NULL)                                                                                    \
	X(SAML_CONFIG_GET,                                                                         \
	  "SELECT " TS__SAML_CONFIG_COLS " FROM saml_configs WHERE account_id = $1", NULL)         \
	X(SAML_CONFIG_VERSION, "SELECT version FROM saml_configs WHERE account_id = $1", NULL)     \
	X(SAML_CONFIG_DELETE, "DELETE FROM saml_configs WHERE account_id = $1", NULL)              \
	X(SAML_CONFIG_ANY, "SELECT account_id FROM saml_configs ORDER BY account_id LIMIT 1",      \
	  NULL)                                                                                    \
	X(SAML_CONFIG_DUE,                                                                         \
	  "SELECT " TS__SAML_CONFIG_COLS " FROM saml_configs WHERE metadata_url IS NOT NULL "      \
	  "AND metadata_fetched_ms < $1 ORDER BY metadata_fetched_ms, account_id LIMIT $2",        \
	  NULL)                                                                                    \
	/* ---- SP key pairs ---- */                                                               \
	X(SAML_KEY_INSERT,                                                                         \
	  "INSERT INTO saml_sp_keys (" TS__SAML_KEY_COLS ") VALUES ($1, $2, $3, $4, $5, $6)",      \
	  NULL)                                                                                    \
	X(SAML_KEYS,                                                                               \
	  "SELECT " TS__SAML_KEY_COLS " FROM saml_sp_keys WHERE account_id = $1 "                  \
	  "AND (retired_ms = 0 OR retired_ms >= $2) ORDER BY created_ms DESC, key_id DESC "        \
	  "LIMIT $3",                                                                              \
	  "SELECT " TS__SAML_KEY_COLS " FROM saml_sp_keys WHERE account_id = $1 "                  \
	  "AND (retired_ms = 0 OR retired_ms >= $2) "                                              \
	  "ORDER BY created_ms DESC, key_id COLLATE \"C\" DESC LIMIT $3")                          \
	X(SAML_KEYS_RETIRE,                                                                        \
	  "UPDATE saml_sp_keys SET retired_ms = $2 WHERE account_id = $1 AND retired_ms = 0",      \
	  NULL)                                                                                    \
	X(SAML_KEYS_PURGE,                                                                         \
	  "DELETE FROM saml_sp_keys WHERE retired_ms > 0 AND retired_ms < $1 RETURNING key_id",    \
	  NULL)                                                                                    \
	/* an account's deletion takes its keys (ON DELETE CASCADE) and, first, their secrets */   \
	X(SAML_KEY_SECRETS_DELETE_ACCOUNT,                                                         \
	  "DELETE FROM secrets WHERE owner_kind = 'saml_sp' AND owner_id IN "                      \
	  "(SELECT key_id FROM saml_sp_keys WHERE account_id = $1)",                               \
	  NULL)                                                                                    \
	/* ---- AuthnRequests ---- */                                                              \
	X(SAML_REQUEST_INSERT,                                                                     \
	  "INSERT INTO saml_requests (" TS__SAML_REQUEST_COLS ") VALUES ($1, $2, $3, $4, $5, $6)", \
	  NULL)                                                                                    \
	/* PostgreSQL, one statement: of two nodes taking the same request, one gets the row.      \
	 * SQLite, whose writer holds the database: SAML_REQUEST_GET, then SAML_REQUEST_DELETE (a  \
	 * RETURNING's temporary table cost more than the read; store/saml.c) */                   \
	X(SAML_REQUEST_TAKE,                                                                       \
	  "DELETE FROM saml_requests WHERE account_id = $1 AND request_id = $2 "                   \
	  "AND expires_ms > $3 RETURNING " TS__SAML_REQUEST_COLS,                                  \
	  NULL)                                                                                    \
	X(SAML_REQUEST_GET,                                                                        \
	  "SELECT " TS__SAML_REQUEST_COLS " FROM saml_requests WHERE account_id = $1 "             \
	  "AND request_id = $2 AND expires_ms > $3",                                               \
	  NULL)                                                                                    \
	X(SAML_REQUEST_DELETE,                                                                     \
	  "DELETE FROM saml_requests WHERE account_id = $1 AND request_id = $2", NULL)             \
	X(SAML_REQUESTS_DELETE_ACCOUNT, "DELETE FROM saml_requests WHERE account_id = $1", NULL)   \
	/* ---- the replay cache ---- */                                                           \
	/* one row changed: fresh (inserted, or an expired entry replaced); none: a replay */      \
	X(SAML_REPLAY_RECORD,                                                                      \
	  "INSERT INTO saml_replay (account_id, assertion_id, expires_ms) VALUES ($1, $2, $3) "    \
	  "ON CONFLICT (account_id, assertion_id) DO UPDATE SET expires_ms = excluded.expires_ms " \
	  "WHERE saml_replay.expires_ms <= $4",                                                    \
	  NULL)                                                                                    \
	/*                                                                                         \
	 * The outer expiry test is checked again on a row changed meanwhile (PostgreSQL           \
	 * re-reads it), so an entry that another node just replaced is not purged.                \
	 */                                                                                        \
	X(SAML_PURGE_REQUESTS,                                                                     \
	  "DELETE FROM saml_requests WHERE expires_ms <= $1 AND (account_id, request_id) IN "      \
	  "(SELECT account_id, request_id FROM saml_requests WHERE expires_ms <= $1 "              \
	  "ORDER BY expires_ms LIMIT $2)",                                                         \
	  NULL)                                                                                    \
	X(SAML_PURGE_REPLAY,                                                                       \
	  "DELETE FROM saml_replay WHERE expires_ms <= $1 AND (account_id, assertion_id) IN "      \
	  "(SELECT account_id, assertion_id FROM saml_replay WHERE expires_ms <= $1 "              \
	  "ORDER BY expires_ms LIMIT $2)",                                                         \
	  NULL)

#endif
