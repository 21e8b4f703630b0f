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
#define V1_COMMON(SEQ_TYPE)                                                           \
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"                     \
	"INSERT INTO schema_version (version) VALUES (0);"                            \
	"CREATE TABLE accounts ("                                                     \
	" account_id TEXT PRIMARY KEY,"                                               \
	" name TEXT NOT NULL,"                                                        \
	" account_type TEXT NOT NULL CHECK (account_type IN ('Team', 'Enterprise'))," \
	" status TEXT NOT NULL,"                                                      \
	" created_ms BIGINT NOT NULL,"                                                \
	" settings TEXT NOT NULL DEFAULT '{}');"                                      \
	"CREATE INDEX accounts_by_name ON accounts (name);"                           \
	"CREATE TABLE admin_keys ("                                                   \
	" access_key_id TEXT PRIMARY KEY,"                                            \
	" secret_hash TEXT NOT NULL,"                                                 \
	" policies TEXT NOT NULL,"                                                    \
	" description TEXT NOT NULL DEFAULT '',"                                      \
	" created_ms BIGINT NOT NULL);"                                               \
	"CREATE TABLE audit_events ("                                                 \
	" seq " SEQ_TYPE " PRIMARY KEY,"                                              \
	" event_id TEXT NOT NULL,"                                                    \
	" event_time_ms BIGINT NOT NULL,"                                             \
	" event_name TEXT NOT NULL,"                                                  \
	" account_id TEXT,"                                                           \
	" body TEXT NOT NULL,"                                                        \
	" prev_hash TEXT NOT NULL,"                                                   \
	" hash TEXT NOT NULL);"                                                       \
	"CREATE INDEX audit_by_name ON audit_events (event_name, seq);"               \
	"CREATE INDEX audit_by_time ON audit_events (event_time_ms);"                 \
	"CREATE TABLE audit_head ("                                                   \
	" id INTEGER PRIMARY KEY CHECK (id = 1),"                                     \
	" seq BIGINT NOT NULL,"                                                       \
	" hash TEXT NOT NULL);"                                                       \
	"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, " GENESIS ");"

/*
 * Version 2: the directory. Users and groups are the rows SCIM writes and the
 * admin API and sign-in read; emails and memberships are rows of their own so
 * that a lookup by address or a membership change touches one row. Every row
 * belongs to an account and goes with it. A verified domain belongs to one
 * account only (the partial unique index).
 */
#define V2_COMMON                                                                                \
	"CREATE TABLE users ("                                                                   \
	" user_id TEXT PRIMARY KEY,"                                                             \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"          \
	" user_name TEXT NOT NULL,"                                                              \
	" user_name_key TEXT NOT NULL,"                                                          \
	" external_id TEXT,"                                                                     \
	" display_name TEXT,"                                                                    \
	" active INTEGER NOT NULL DEFAULT 1,"                                                    \
	" suspended INTEGER NOT NULL DEFAULT 0,"                                                 \
	" registration_status TEXT NOT NULL DEFAULT 'Registered',"                               \
	" license TEXT,"                                                                         \
	" personal_pin TEXT,"                                                                    \
	" invited_ms BIGINT,"                                                                    \
	" joined_ms BIGINT,"                                                                     \
	" resource TEXT NOT NULL DEFAULT '{}',"                                                  \
	" version BIGINT NOT NULL DEFAULT 1,"                                                    \
	" created_ms BIGINT NOT NULL,"                                                           \
	" modified_ms BIGINT NOT NULL);"                                                         \
	"CREATE UNIQUE INDEX users_by_name ON users (account_id, user_name_key);"                \
	"CREATE INDEX users_by_external_id ON users (account_id, external_id);"                  \
	"CREATE UNIQUE INDEX users_by_pin ON users (personal_pin);"                              \
	"CREATE TABLE user_emails ("                                                             \
	" user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,"                   \
	" account_id TEXT NOT NULL,"                                                             \
	" value TEXT NOT NULL,"                                                                  \
	" value_key TEXT NOT NULL,"                                                              \
	" type TEXT,"                                                                            \
	" is_primary INTEGER NOT NULL DEFAULT 0,"                                                \
	" PRIMARY KEY (user_id, value_key));"                                                    \
	"CREATE INDEX user_emails_by_value ON user_emails (account_id, value_key);"              \
	"CREATE TABLE groups ("                                                                  \
	" group_id TEXT PRIMARY KEY,"                                                            \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"          \
	" display_name TEXT NOT NULL,"                                                           \
	" display_key TEXT NOT NULL,"                                                            \
	" external_id TEXT,"                                                                     \
	" resource TEXT NOT NULL DEFAULT '{}',"                                                  \
	" version BIGINT NOT NULL DEFAULT 1,"                                                    \
	" created_ms BIGINT NOT NULL,"                                                           \
	" modified_ms BIGINT NOT NULL);"                                                         \
	"CREATE UNIQUE INDEX groups_by_name ON groups (account_id, display_key);"                \
	"CREATE INDEX groups_by_external_id ON groups (account_id, external_id);"                \
	"CREATE TABLE group_members ("                                                           \
	" group_id TEXT NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,"                \
	" user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,"                   \
	" PRIMARY KEY (group_id, user_id));"                                                     \
	"CREATE INDEX group_members_by_user ON group_members (user_id);"                         \
	"CREATE TABLE api_keys ("                                                                \
	" api_key_id TEXT PRIMARY KEY,"                                                          \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"          \
	" secret_hash TEXT NOT NULL,"                                                            \
	" description TEXT NOT NULL DEFAULT '',"                                                 \
	" created_ms BIGINT NOT NULL);"                                                          \
	"CREATE INDEX api_keys_by_account ON api_keys (account_id);"                             \
	"CREATE TABLE license_groups ("                                                          \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"          \
	" group_name TEXT NOT NULL,"                                                             \
	" license TEXT NOT NULL CHECK (license IN ('Pro', 'Basic')),"                            \
	" modified_ms BIGINT NOT NULL,"                                                          \
	" PRIMARY KEY (account_id, group_name));"                                                \
	"CREATE TABLE domains ("                                                                 \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"          \
	" domain_name TEXT NOT NULL,"                                                            \
	" status TEXT NOT NULL CHECK (status IN ('PendingVerification', 'Verified', 'Failed'))," \
	" token TEXT NOT NULL,"                                                                  \
	" created_ms BIGINT NOT NULL,"                                                           \
	" verified_ms BIGINT,"                                                                   \
	" next_check_ms BIGINT NOT NULL,"                                                        \
	" attempts INTEGER NOT NULL DEFAULT 0,"                                                  \
	" last_error TEXT,"                                                                      \
	" PRIMARY KEY (account_id, domain_name));"                                               \
	"CREATE UNIQUE INDEX domains_verified_once ON domains (domain_name) "                    \
	"WHERE status = 'Verified';"                                                             \
	"CREATE INDEX domains_due ON domains (status, next_check_ms);"                           \
	"CREATE TABLE sessions ("                                                                \
	" session_id TEXT PRIMARY KEY,"                                                          \
	" token_hash TEXT NOT NULL UNIQUE,"                                                      \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"          \
	" user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,"                   \
	" kind TEXT NOT NULL CHECK (kind IN ('browser', 'cli')),"                                \
	" license TEXT,"                                                                         \
	" created_ms BIGINT NOT NULL,"                                                           \
	" expires_ms BIGINT NOT NULL,"                                                           \
	" license_checked_ms BIGINT NOT NULL,"                                                   \
	" revoked_ms BIGINT,"                                                                    \
	" client TEXT);"                                                                         \
	"CREATE INDEX sessions_by_user ON sessions (user_id);"

/*
 * Version 3: the orders SCIM reads in. Listings page by (created_ms, id)
 * within an account, and `meta.lastModified` filters range over modified_ms.
 */
#define V3_COMMON                                                                      \
	"CREATE INDEX users_by_created ON users (account_id, created_ms, user_id);"    \
	"CREATE INDEX users_by_modified ON users (account_id, modified_ms);"           \
	"CREATE INDEX groups_by_created ON groups (account_id, created_ms, group_id);" \
	"CREATE INDEX groups_by_modified ON groups (account_id, modified_ms);"

/*
 * Version 4: the credentials generation, a counter that every change to what
 * authenticates an API key (the key row, its account) moves in the same
 * transaction, so that a node may keep keys it has checked and trust them
 * only while the counter stands still. The PIN and externalId indexes leave
 * out the users without one (no PIN is the rule; some clients send no
 * externalId): a new user has nothing to insert there, and every lookup by
 * either compares with a value, never with NULL.
 */
#define V4_COMMON                                                               \
	"CREATE TABLE auth_generation ("                                        \
	" id INTEGER PRIMARY KEY CHECK (id = 1),"                               \
	" gen BIGINT NOT NULL);"                                                \
	"INSERT INTO auth_generation (id, gen) VALUES (1, 0);"                  \
	"DROP INDEX users_by_pin;"                                              \
	"CREATE UNIQUE INDEX users_by_pin ON users (personal_pin) "             \
	"WHERE personal_pin IS NOT NULL;"                                       \
	"DROP INDEX users_by_external_id;"                                      \
	"CREATE INDEX users_by_external_id ON users (account_id, external_id) " \
	"WHERE external_id IS NOT NULL;"

/*
 * Version 5 (SQLite only): user_emails keyed by its primary key itself
 * (WITHOUT ROWID), one b-tree instead of a rowid table plus the key's index,
 * so that a new address is one insert less and one page less per commit.
 * PostgreSQL's tables have no rowid b-tree to fold: nothing to do there.
 */
#define V5_SQLITE                                                                               \
	"CREATE TABLE user_emails_v5 ("                                                         \
	" user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,"                  \
	" account_id TEXT NOT NULL,"                                                            \
	" value TEXT NOT NULL,"                                                                 \
	" value_key TEXT NOT NULL,"                                                             \
	" type TEXT,"                                                                           \
	" is_primary INTEGER NOT NULL DEFAULT 0,"                                               \
	" PRIMARY KEY (user_id, value_key)) WITHOUT ROWID;"                                     \
	"INSERT INTO user_emails_v5 (user_id, account_id, value, value_key, type, is_primary) " \
	"SELECT user_id, account_id, value, value_key, type, is_primary FROM user_emails;"      \
	"DROP TABLE user_emails;"                                                               \
	"ALTER TABLE user_emails_v5 RENAME TO user_emails;"                                     \
	"CREATE INDEX user_emails_by_value ON user_emails (account_id, value_key);"
#define V5_POSTGRES "SELECT 1;"

/*
 * Version 6: the sealed audit trail (docs/audit.md). Appends no longer take
 * the audit_head row that serialised every writer of a cluster: an event is
 * stored with a MAC over its columns and a row in audit_pending, both in the
 * writer's transaction; the sealer later moves it into audit_chain (its
 * place and link) and writes a keyed checkpoint per batch. PostgreSQL numbers
 * events from a sequence; SQLite keeps insertion order under its writer lock
 * (and its INTEGER PRIMARY KEY is the rowid: one b-tree per table).
 * The events of an older store become pending, without a MAC: the first
 * start with the master key gives them one (store_meta then records the
 * key's check value), and the sealer chains them under the new scheme.
 */
#define V6_COMMON(KEY)                                                  \
	"DROP TABLE audit_head;"                                        \
	"CREATE TABLE audit_pending ("                                  \
	" seq " KEY " PRIMARY KEY,"                                     \
	" refused INTEGER NOT NULL DEFAULT 0);"                         \
	"INSERT INTO audit_pending (seq) SELECT seq FROM audit_events;" \
	"CREATE TABLE audit_chain ("                                    \
	" chain_seq " KEY " PRIMARY KEY,"                               \
	" seq BIGINT NOT NULL UNIQUE,"                                  \
	" hash TEXT NOT NULL);"                                         \
	"CREATE TABLE audit_checkpoints ("                              \
	" chain_seq " KEY " PRIMARY KEY,"                               \
	" hash TEXT NOT NULL,"                                          \
	" time_ms BIGINT NOT NULL,"                                     \
	" mac TEXT NOT NULL);"                                          \
	"CREATE TABLE store_meta ("                                     \
	" name TEXT PRIMARY KEY,"                                       \
	" value TEXT NOT NULL);"

#define V6_SQLITE                                                                             \
	"CREATE TABLE audit_events_v6 ("                                                      \
	" seq INTEGER PRIMARY KEY,"                                                           \
	" event_id TEXT NOT NULL,"                                                            \
	" event_time_ms BIGINT NOT NULL,"                                                     \
	" event_name TEXT NOT NULL,"                                                          \
	" account_id TEXT,"                                                                   \
	" body TEXT NOT NULL,"                                                                \
	" mac TEXT);"                                                                         \
	"INSERT INTO audit_events_v6 (seq, event_id, event_time_ms, event_name, account_id, " \
	"body) SELECT seq, event_id, event_time_ms, event_name, account_id, body "            \
	"FROM audit_events;"                                                                  \
	"DROP TABLE audit_events;"                                                            \
	"ALTER TABLE audit_events_v6 RENAME TO audit_events;"                                 \
	"CREATE INDEX audit_by_name ON audit_events (event_name, seq);"                       \
	"CREATE INDEX audit_by_time ON audit_events (event_time_ms);" V6_COMMON("INTEGER")

#define V6_POSTGRES                                                                              \
	"ALTER TABLE audit_events DROP COLUMN prev_hash, DROP COLUMN hash, ADD COLUMN mac TEXT;" \
	"CREATE SEQUENCE audit_events_seq OWNED BY audit_events.seq;"                            \
	"SELECT setval('audit_events_seq', (SELECT coalesce(max(seq), 0) + 1 FROM "              \
	"audit_events), false);"                                                                 \
	"ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT "                                 \
	"nextval('audit_events_seq');" V6_COMMON("BIGINT")

/*
 * Version 7: the nodes serving from this store (store/nodes.h), one row each,
 * kept alive by a heartbeat, so that cluster-wide budgets (the SCIM rate
 * limit) are split between the live nodes without a write per request.
 */
#define V7_COMMON                       \
	"CREATE TABLE nodes ("          \
	" node_id TEXT PRIMARY KEY,"    \
	" seen_ms BIGINT NOT NULL,"     \
	" started_ms BIGINT NOT NULL);" \
	"CREATE INDEX nodes_by_seen ON nodes (seen_ms);"

/*
 * Version 8: secrets sealed with the master key (store/secrets.h,
 * docs/secrets.md), one table for every kind of owner (OIDC clients, SAML
 * service providers, signing keys), so that rotating the master key re-seals
 * them all in one pass. key_id names the key that sealed the row (also inside
 * the blob); the blob's associated data binds it to (owner_kind, owner_id,
 * name). PostgreSQL compares the key's columns bytewise (COLLATE "C"), as
 * SQLite does, so that both page through them in one order.
 */
#define V8_COMMON(COLLATE)                      \
	"CREATE TABLE secrets ("                \
	" owner_kind TEXT" COLLATE " NOT NULL," \
	" owner_id TEXT" COLLATE " NOT NULL,"   \
	" name TEXT" COLLATE " NOT NULL,"       \
	" key_id TEXT NOT NULL,"                \
	" sealed TEXT NOT NULL,"                \
	" created_ms BIGINT NOT NULL,"          \
	" updated_ms BIGINT NOT NULL,"          \
	" PRIMARY KEY (owner_kind, owner_id, name));"

/*
 * Version 9: SAML sign-in (store/saml.h, store/signins.h, docs/store.md).
 * An account's identity source (saml_configs) with a version counter kept
 * apart (saml_config_versions), so that a config deleted and put again never
 * reuses a version a node may still have cached; the SP key pairs (private
 * keys sealed in secrets); the AuthnRequests issued, taken once with DELETE
 * ... RETURNING; the replay cache, whose primary key makes a second record of
 * an assertion lose on every node. Sessions say where they came from and
 * which AWS role was offered and chosen. Sign-in attempts, the newest 20 per
 * user (or per identity that matched nobody), for the sign-in check. Every
 * row goes with its account. Users provisioned over SCIM before this version
 * and never signed in (no joined_ms) were shown Registered: they are
 * Unregistered (docs/product.md §4).
 */
#define V9_COMMON(SEQ)                                                                         \
	"CREATE TABLE saml_configs ("                                                          \
	" account_id TEXT PRIMARY KEY REFERENCES accounts (account_id) ON DELETE CASCADE,"     \
	" idp_entity_id TEXT NOT NULL,"                                                        \
	" metadata_xml TEXT NOT NULL,"                                                         \
	" metadata_url TEXT,"                                                                  \
	" metadata_fetched_ms BIGINT NOT NULL DEFAULT 0,"                                      \
	" allow_idp_initiated INTEGER NOT NULL DEFAULT 0,"                                     \
	" allow_sha1 INTEGER NOT NULL DEFAULT 0,"                                              \
	" relay_allow TEXT,"                                                                   \
	" version BIGINT NOT NULL,"                                                            \
	" created_ms BIGINT NOT NULL,"                                                         \
	" modified_ms BIGINT NOT NULL);"                                                       \
	"CREATE INDEX saml_configs_due ON saml_configs (metadata_fetched_ms) "                 \
	"WHERE metadata_url IS NOT NULL;"                                                      \
	"CREATE TABLE saml_config_versions ("                                                  \
	" account_id TEXT PRIMARY KEY REFERENCES accounts (account_id) ON DELETE CASCADE,"     \
	" version BIGINT NOT NULL);"                                                           \
	"CREATE TABLE saml_sp_keys ("                                                          \
	" key_id TEXT PRIMARY KEY,"                                                            \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"        \
	" cert_pem TEXT NOT NULL,"                                                             \
	" created_ms BIGINT NOT NULL,"                                                         \
	" not_after_ms BIGINT NOT NULL,"                                                       \
	" retired_ms BIGINT NOT NULL DEFAULT 0);"                                              \
	"CREATE INDEX saml_sp_keys_by_account ON saml_sp_keys (account_id, created_ms);"       \
	"CREATE INDEX saml_sp_keys_retired ON saml_sp_keys (retired_ms) WHERE retired_ms > 0;" \
	"CREATE TABLE saml_requests ("                                                         \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"        \
	" request_id TEXT NOT NULL,"                                                           \
	" browser_hash TEXT NOT NULL,"                                                         \
	" relay_state TEXT,"                                                                   \
	" created_ms BIGINT NOT NULL,"                                                         \
	" expires_ms BIGINT NOT NULL,"                                                         \
	" PRIMARY KEY (account_id, request_id));"                                              \
	"CREATE INDEX saml_requests_by_expiry ON saml_requests (expires_ms);"                  \
	"CREATE TABLE saml_replay ("                                                           \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"        \
	" assertion_id TEXT NOT NULL,"                                                         \
	" expires_ms BIGINT NOT NULL,"                                                         \
	" PRIMARY KEY (account_id, assertion_id));"                                            \
	"CREATE INDEX saml_replay_by_expiry ON saml_replay (expires_ms);"                      \
	"ALTER TABLE sessions ADD COLUMN origin TEXT;"                                         \
	"ALTER TABLE sessions ADD COLUMN roles_json TEXT;"                                     \
	"ALTER TABLE sessions ADD COLUMN role_arn TEXT;"                                       \
	"ALTER TABLE sessions ADD COLUMN provider_arn TEXT;"                                   \
	"ALTER TABLE sessions ADD COLUMN role_session_name TEXT;"                              \
	"CREATE TABLE signin_attempts ("                                                       \
	" attempt_seq " SEQ " PRIMARY KEY,"                                                    \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"        \
	" user_id TEXT REFERENCES users (user_id) ON DELETE CASCADE,"                          \
	" identity TEXT NOT NULL,"                                                             \
	" time_ms BIGINT NOT NULL,"                                                            \
	" outcome TEXT NOT NULL CHECK (outcome IN ('Allowed', 'Refused')),"                    \
	" check_name TEXT,"                                                                    \
	" source TEXT NOT NULL);"                                                              \
	"CREATE INDEX signin_attempts_by_user ON signin_attempts (account_id, user_id, "       \
	"time_ms) WHERE user_id IS NOT NULL;"                                                  \
	"CREATE INDEX signin_attempts_by_identity ON signin_attempts (account_id, identity, "  \
	"time_ms);"                                                                            \
	"UPDATE users SET registration_status = 'Unregistered' "                               \
	"WHERE registration_status = 'Registered' AND joined_ms IS NULL;"

/*
 * Version 10: OpenID Connect sign-in (store/oidc.h, docs/oidc.md). An
 * account's OpenID provider (oidc_configs: issuer, client ID, the discovery
 * document and JWKS as last fetched, settings; the client secret is sealed in
 * secrets, owner kind "oidc_client", owner the account), with a version
 * counter kept apart (oidc_config_versions) as SAML's is, so that a config
 * deleted and put again never reuses a version a node may have cached; and
 * the states issued to browsers, taken once with DELETE ... RETURNING, kept
 * as hashes only (state, browser binding, nonce). Every row goes with its
 * account.
 */
#define V10_COMMON                                                                         \
	"CREATE TABLE oidc_configs ("                                                      \
	" account_id TEXT PRIMARY KEY REFERENCES accounts (account_id) ON DELETE CASCADE," \
	" issuer TEXT NOT NULL,"                                                           \
	" client_id TEXT NOT NULL,"                                                        \
	" claim TEXT NOT NULL DEFAULT 'email',"                                            \
	" scopes TEXT NOT NULL DEFAULT 'openid email',"                                    \
	" discovery_json TEXT NOT NULL,"                                                   \
	" jwks_json TEXT,"                                                                 \
	" jwks_fetched_ms BIGINT NOT NULL DEFAULT 0,"                                      \
	" relay_allow TEXT,"                                                               \
	" allow_hs256 INTEGER NOT NULL DEFAULT 0,"                                         \
	" version BIGINT NOT NULL,"                                                        \
	" created_ms BIGINT NOT NULL,"                                                     \
	" modified_ms BIGINT NOT NULL);"                                                   \
	"CREATE TABLE oidc_config_versions ("                                              \
	" account_id TEXT PRIMARY KEY REFERENCES accounts (account_id) ON DELETE CASCADE," \
	" version BIGINT NOT NULL);"                                                       \
	"CREATE TABLE oidc_states ("                                                       \
	" state_hash TEXT PRIMARY KEY,"                                                    \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"    \
	" browser_hash TEXT NOT NULL,"                                                     \
	" nonce_hash TEXT NOT NULL,"                                                       \
	" target TEXT,"                                                                    \
	" created_ms BIGINT NOT NULL,"                                                     \
	" expires_ms BIGINT NOT NULL);"                                                    \
	"CREATE INDEX oidc_states_by_account ON oidc_states (account_id);"                 \
	"CREATE INDEX oidc_states_by_expiry ON oidc_states (expires_ms);"

/*
 * Version 11 (PostgreSQL only): a user row no longer has a foreign key to its
 * account. The key's check locked the account row FOR KEY SHARE in every
 * user insert, and an account's SCIM creates all lock that one row: with
 * many in flight PostgreSQL builds a MultiXact per insert and writes the row
 * anew (about 140 us of a SCIM POST's 410 us, and 194 bytes of WAL, measured
 * in bench/RESULTS.md). account_ref($2) takes its place in the inserts: an
 * advisory lock held shared to the end of the transaction, then, in a
 * statement of its own and so (at READ COMMITTED) with a snapshot taken after
 * the lock, the account's existence; a missing account raises what the key
 * raised (23503). An account delete takes the same lock exclusively
 * (ACCOUNT_HOLD) before deleting the account's users itself, where the key's
 * cascade did: no user it cannot see is left behind. The lock lives in
 * memory, writes no WAL and touches no row. SQLite, one writer at a time,
 * keeps its key. The rows that refer to users keep theirs.
 */
#define V11_POSTGRES                                                                               \
	"CREATE FUNCTION account_ref(acct text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$ "     \
	"BEGIN "                                                                                   \
	"PERFORM pg_advisory_xact_lock_shared(" TS__STORE_ACCOUNT_LOCK_CLASS ", hashtext(acct)); " \
	"IF NOT EXISTS (SELECT 1 FROM accounts WHERE account_id = acct) THEN "                     \
	"RAISE foreign_key_violation USING MESSAGE = 'account ' || acct || ' does not exist'; "    \
	"END IF; "                                                                                 \
	"RETURN acct; "                                                                            \
	"END $$;"                                                                                  \
	"ALTER TABLE users DROP CONSTRAINT users_account_id_fkey;"
#define V11_SQLITE "SELECT 1;"

/*
 * Version 12: access after sign-in (store/access.h, docs/access.md): an
 * account's targets and permission sets (names unique in the account), and
 * the assignments of a user or a directory group to a (target, permission
 * set) pair. An assignment names its principal twice: principal_id, and
 * user_id or group_id, the one its type says, each a foreign key with ON
 * DELETE CASCADE, so that removing a user or a group (SCIM, an account's
 * deletion on either backend: v11 deletes a PostgreSQL account's users
 * itself) removes their assignments; deleting a target or a permission set
 * removes its assignments the same way. Ids and names compare bytewise on
 * both backends (COLLATE "C" on PostgreSQL), for pages and orders.
 */
#define V12_COMMON(COLLATE)                                                                       \
	"CREATE TABLE targets ("                                                                  \
	" target_id TEXT" COLLATE " PRIMARY KEY,"                                                 \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"           \
	" name TEXT" COLLATE " NOT NULL,"                                                         \
	" kind TEXT NOT NULL,"                                                                    \
	" url TEXT NOT NULL,"                                                                     \
	" created_ms BIGINT NOT NULL,"                                                            \
	" modified_ms BIGINT NOT NULL);"                                                          \
	"CREATE UNIQUE INDEX targets_by_name ON targets (account_id, name);"                      \
	"CREATE INDEX targets_by_account ON targets (account_id, target_id);"                     \
	"CREATE TABLE permission_sets ("                                                          \
	" permission_set_id TEXT" COLLATE " PRIMARY KEY,"                                         \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"           \
	" name TEXT" COLLATE " NOT NULL,"                                                         \
	" policies TEXT NOT NULL,"                                                                \
	" session_duration_s BIGINT NOT NULL CHECK (session_duration_s > 0),"                     \
	" created_ms BIGINT NOT NULL,"                                                            \
	" modified_ms BIGINT NOT NULL);"                                                          \
	"CREATE UNIQUE INDEX permission_sets_by_name ON permission_sets (account_id, name);"      \
	"CREATE INDEX permission_sets_by_account ON permission_sets (account_id, "                \
	"permission_set_id);"                                                                     \
	"CREATE TABLE assignments ("                                                              \
	" assignment_id TEXT" COLLATE " PRIMARY KEY,"                                             \
	" account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,"           \
	" principal_type TEXT NOT NULL CHECK (principal_type IN ('USER', 'GROUP')),"              \
	" principal_id TEXT NOT NULL,"                                                            \
	" user_id TEXT REFERENCES users (user_id) ON DELETE CASCADE,"                             \
	" group_id TEXT REFERENCES groups (group_id) ON DELETE CASCADE,"                          \
	" target_id TEXT" COLLATE " NOT NULL"                                                     \
	" REFERENCES targets (target_id) ON DELETE CASCADE,"                                      \
	" permission_set_id TEXT" COLLATE " NOT NULL"                                             \
	" REFERENCES permission_sets (permission_set_id) ON DELETE CASCADE,"                      \
	" created_ms BIGINT NOT NULL,"                                                            \
	" CHECK ((principal_type = 'USER' AND user_id = principal_id AND group_id IS NULL) OR"    \
	" (principal_type = 'GROUP' AND group_id = principal_id AND user_id IS NULL)),"           \
	" UNIQUE (principal_type, principal_id, target_id, permission_set_id));"                  \
	"CREATE INDEX assignments_by_account ON assignments (account_id, assignment_id);"         \
	"CREATE INDEX assignments_by_user ON assignments (user_id) WHERE user_id IS NOT NULL;"    \
	"CREATE INDEX assignments_by_group ON assignments (group_id) WHERE group_id IS NOT NULL;" \
	"CREATE INDEX assignments_by_target ON assignments (target_id);"                          \
	"CREATE INDEX assignments_by_permission_set ON assignments (permission_set_id);"

/*
 * Version 13: Tessera's authorization server for the CLI (store/oauth.h,
 * docs/oauth.md). Device flows of RFC 8628 (oauth_device_codes: the device
 * code kept as its SHA-256 only, the user code normalised, the interval
 * raised by slow_down, the wrong entries against the code, the decision
 * and who made it); refresh tokens (oauth_refresh_tokens: hashes only, a
 * family per device sign-in, spent at rotation); the per-address counters
 * of wrong user codes (oauth_entry_failures); the ES256 signing keys'
 * public halves (oauth_signing_keys; the private keys are sealed rows of
 * secrets, owner kind "oauth_signing", owner the kid). The flow rows name
 * their account without a foreign key: every device flow of an account
 * would otherwise lock the account row on PostgreSQL (see version 11);
 * they die by expiry, and a refresh checks its account exists.
 */
#define V13_COMMON                                                                          \
	"CREATE TABLE oauth_device_codes ("                                                 \
	" device_hash TEXT PRIMARY KEY,"                                                    \
	" user_code TEXT NOT NULL UNIQUE,"                                                  \
	" account_id TEXT NOT NULL,"                                                        \
	" client_id TEXT NOT NULL,"                                                         \
	" scope TEXT,"                                                                      \
	" client_info TEXT,"                                                                \
	" created_ms BIGINT NOT NULL,"                                                      \
	" expires_ms BIGINT NOT NULL,"                                                      \
	" interval_s BIGINT NOT NULL,"                                                      \
	" last_poll_ms BIGINT NOT NULL DEFAULT 0,"                                          \
	" poll_slow INTEGER NOT NULL DEFAULT 0,"                                            \
	" wrong_entries BIGINT NOT NULL DEFAULT 0,"                                         \
	" status TEXT NOT NULL CHECK (status IN "                                           \
	"('pending', 'approved', 'denied', 'consumed')),"                                   \
	" user_id TEXT,"                                                                    \
	" session_id TEXT,"                                                                 \
	" decided_ms BIGINT NOT NULL DEFAULT 0);"                                           \
	"CREATE INDEX oauth_device_codes_by_expiry ON oauth_device_codes (expires_ms);"     \
	"CREATE TABLE oauth_refresh_tokens ("                                               \
	" token_hash TEXT PRIMARY KEY,"                                                     \
	" family_id TEXT NOT NULL,"                                                         \
	" account_id TEXT NOT NULL,"                                                        \
	" user_id TEXT NOT NULL,"                                                           \
	" client_id TEXT NOT NULL,"                                                         \
	" session_id TEXT NOT NULL,"                                                        \
	" created_ms BIGINT NOT NULL,"                                                      \
	" expires_ms BIGINT NOT NULL,"                                                      \
	" used_ms BIGINT NOT NULL DEFAULT 0,"                                               \
	" revoked_ms BIGINT NOT NULL DEFAULT 0);"                                           \
	"CREATE INDEX oauth_refresh_tokens_by_family ON oauth_refresh_tokens (family_id);"  \
	"CREATE INDEX oauth_refresh_tokens_by_expiry ON oauth_refresh_tokens (expires_ms);" \
	"CREATE TABLE oauth_entry_failures ("                                               \
	" client_key TEXT PRIMARY KEY,"                                                     \
	" window_start_ms BIGINT NOT NULL,"                                                 \
	" failures BIGINT NOT NULL,"                                                        \
	" locked_until_ms BIGINT NOT NULL DEFAULT 0,"                                       \
	" expires_ms BIGINT NOT NULL);"                                                     \
	"CREATE INDEX oauth_entry_failures_by_expiry ON oauth_entry_failures (expires_ms);" \
	"CREATE TABLE oauth_signing_keys ("                                                 \
	" kid TEXT PRIMARY KEY,"                                                            \
	" public_jwk TEXT NOT NULL,"                                                        \
	" created_ms BIGINT NOT NULL,"                                                      \
	" retired_ms BIGINT NOT NULL DEFAULT 0,"                                            \
	" generation BIGINT NOT NULL UNIQUE);"

const struct ts__migration ts__store_migrations[] = {
        {1, V1_COMMON("INTEGER"), V1_COMMON("BIGINT")},
        {2, V2_COMMON, V2_COMMON},
        {3, V3_COMMON, V3_COMMON},
        {4, V4_COMMON, V4_COMMON},
        {5, V5_SQLITE, V5_POSTGRES},
        {6, V6_SQLITE, V6_POSTGRES},
        {7, V7_COMMON, V7_COMMON},
        {8, V8_COMMON(""), V8_COMMON(" COLLATE \"C\"")},
        {9, V9_COMMON("INTEGER"), V9_COMMON("BIGINT GENERATED BY DEFAULT AS IDENTITY")},
        {10, V10_COMMON, V10_COMMON},
        {11, V11_SQLITE, V11_POSTGRES},
        {12, V12_COMMON(""), V12_COMMON(" COLLATE \"C\"")},
        {13, V13_COMMON, V13_COMMON},
};
const int ts__store_migration_count =
        (int)(sizeof ts__store_migrations / sizeof ts__store_migrations[0]);
