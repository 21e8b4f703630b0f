/*
 * The schema, as numbered migrations per backend. A migration is never
 * edited once released: changes go in a new one. Version 1 creates the
 * schema_version table itself (with version 0) so that the runner can move it.
 */
#include "store/internal.h"

#define GENESIS "'" TS_AUDIT_GENESIS_HASH "'"

/*
 * Both dialects accept this text, but for the audit sequence column: in
 * SQLite only "INTEGER PRIMARY KEY" makes it the rowid (one b-tree, not a
 * table plus an index). The event id is random, so it has no index: an
 * index on it would dirty a random page with every event.
 */
#define V1_COMMON(SEQ_TYPE)                                                                                  \
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"                                  \
	"INSERT INTO schema_version (version) VALUES (0);"                                         \
	"CREATE TABLE accounts ("                                                                  \
	" account_id TEXT PRIMARY KEY,"                                                            \
	" name TEXT NOT NULL,"                                                                     \
	" account_type TEXT NOT NULL CHECK (account_type IN ('Team', 'Enterprise')),"             \
	" status TEXT NOT NULL,"                                                                   \
	" created_ms BIGINT NOT NULL,"                                                             \
	" settings TEXT NOT NULL DEFAULT '{}');"                                                    \
	"CREATE INDEX accounts_by_name ON accounts (name);"                                        \
	"CREATE TABLE admin_keys ("                                                                \
	" access_key_id TEXT PRIMARY KEY,"                                                         \
	" secret_hash TEXT NOT NULL,"                                                              \
	" policies TEXT NOT NULL,"                                                                 \
	" description TEXT NOT NULL DEFAULT '',"                                                   \
	" created_ms BIGINT NOT NULL);"                                                            \
	"CREATE TABLE audit_events ("                                                              \
	" seq " SEQ_TYPE " PRIMARY KEY,"                                                           \
	" event_id TEXT NOT NULL,"                                                          \
	" event_time_ms BIGINT NOT NULL,"                                                          \
	" event_name TEXT NOT NULL,"                                                               \
	" account_id TEXT,"                                                                        \
	" body TEXT NOT NULL,"                                                                     \
	" prev_hash TEXT NOT NULL,"                                                                \
	" hash TEXT NOT NULL);"                                                                    \
	"CREATE INDEX audit_by_name ON audit_events (event_name, seq);"                            \
	"CREATE INDEX audit_by_time ON audit_events (event_time_ms);"                              \
	"CREATE TABLE audit_head ("                                                                \
	" id INTEGER PRIMARY KEY CHECK (id = 1),"                                                  \
	" seq BIGINT NOT NULL,"                                                                    \
	" hash TEXT NOT NULL);"                                                                    \
	"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, " GENESIS ");"

const struct ts__migration ts__store_migrations[] = {
	{1, V1_COMMON("INTEGER"), V1_COMMON("BIGINT")},
};
const int ts__store_migration_count =
	(int)(sizeof ts__store_migrations / sizeof ts__store_migrations[0]);
