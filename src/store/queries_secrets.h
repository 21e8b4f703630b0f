/*
 * Queries of the sealed secrets (store/secrets.h) and of what rotating the
 * master key rewrites: the secrets, the audit trail's MACs, links and
 * checkpoints, and the key check value (docs/secrets.md).
 */
#ifndef TS_STORE_QUERIES_SECRETS_H
#define TS_STORE_QUERIES_SECRETS_H

/* X(ID, sql, postgres variant or NULL); ON CONFLICT ... DO UPDATE: SQLite 3.24+, PostgreSQL 9.5+ */
#define TS__STORE_QUERIES_SECRETS(X)                                                              \
	X(SECRET_PUT,                                                                             \
	  "INSERT INTO secrets (owner_kind, owner_id, name, key_id, sealed, created_ms, "         \
	  "updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $6) "                                      \
	  "ON CONFLICT (owner_kind, owner_id, name) DO UPDATE SET key_id = excluded.key_id, "     \
	  "sealed = excluded.sealed, updated_ms = excluded.updated_ms",                           \
	  NULL)                                                                                   \
	X(SECRET_GET,                                                                             \
	  "SELECT owner_kind, owner_id, name, key_id, sealed, created_ms, updated_ms "            \
	  "FROM secrets WHERE owner_kind = $1 AND owner_id = $2 AND name = $3",                   \
	  NULL)                                                                                   \
	X(SECRET_DELETE,                                                                          \
	  "DELETE FROM secrets WHERE owner_kind = $1 AND owner_id = $2 AND name = $3", NULL)      \
	X(SECRET_DELETE_OWNER, "DELETE FROM secrets WHERE owner_kind = $1 AND owner_id = $2",     \
	  NULL)                                                                                   \
	X(SECRET_LIST,                                                                            \
	  "SELECT owner_kind, owner_id, name, key_id, sealed, created_ms, updated_ms "            \
	  "FROM secrets WHERE owner_kind > $1 OR (owner_kind = $1 AND owner_id > $2) "            \
	  "OR (owner_kind = $1 AND owner_id = $2 AND name > $3) "                                 \
	  "ORDER BY owner_kind, owner_id, name LIMIT $4",                                         \
	  NULL)                                                                                   \
	X(SECRET_COUNT_NOT_KEY, "SELECT count(*) FROM secrets WHERE key_id <> $1", NULL)          \
	X(REKEY_CHAIN_SET, "UPDATE audit_chain SET hash = $2 WHERE chain_seq = $1", NULL)         \
	X(REKEY_CHECKPOINT_SET,                                                                   \
	  "UPDATE audit_checkpoints SET hash = $2, mac = $3 WHERE chain_seq = $1", NULL)          \
	X(REKEY_PENDING,                                                                          \
	  "SELECT p.seq, e.event_id, e.event_time_ms, e.event_name, e.account_id, e.body, e.mac " \
	  "FROM audit_pending p LEFT JOIN audit_events e ON e.seq = p.seq "                       \
	  "WHERE p.seq > $1 ORDER BY p.seq LIMIT $2",                                             \
	  NULL)                                                                                   \
	X(META_SET, "UPDATE store_meta SET value = $2 WHERE name = $1", NULL)

#endif
