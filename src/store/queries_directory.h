/*
 * Queries of the directory's administration (docs/product.md §4): domains, sessions,
 * licence groups, and the reads (and Team-account writes) of users that the
 * admin API and the sign-in rules need. X(ID, sql, postgres variant or NULL).
 * SCIM keeps its own queries in queries_scim.h; both work on the same tables.
 */
#ifndef TS_STORE_QUERIES_DIRECTORY_H
#define TS_STORE_QUERIES_DIRECTORY_H

#define TS__DIR_DOMAIN_COLS                                                                \
	"account_id, domain_name, status, token, created_ms, verified_ms, next_check_ms, " \
	"attempts, last_error"
#define TS__DIR_SESSION_COLS                                                                   \
	"session_id, token_hash, account_id, user_id, kind, license, created_ms, expires_ms, " \
	"license_checked_ms, revoked_ms, client, origin, roles_json, role_arn, provider_arn, " \
	"role_session_name"

#define TS__STORE_QUERIES_DIRECTORY(X)                                                             \
	/* ---- users: reads ---- */                                                               \
	X(DIR_USER_LIST,                                                                           \
	  "SELECT " TS__USER_COLS " FROM users u WHERE account_id = $1 AND user_id > $2 "          \
	  "ORDER BY user_id LIMIT $3",                                                             \
	  "SELECT " TS__USER_COLS " FROM users u WHERE account_id = $1 "                           \
	  "AND user_id COLLATE \"C\" > $2 ORDER BY user_id COLLATE \"C\" LIMIT $3")                \
	X(DIR_USER_LIST_BY_EMAIL,                                                                  \
	  "SELECT " TS__USER_COLS " FROM users u WHERE account_id = $1 AND user_id > $2 "          \
	  "AND user_id IN (SELECT user_id FROM user_emails WHERE account_id = $1 "                 \
	  "AND value_key = $3) ORDER BY user_id LIMIT $4",                                         \
	  "SELECT " TS__USER_COLS " FROM users u WHERE account_id = $1 "                           \
	  "AND user_id COLLATE \"C\" > $2 AND user_id IN (SELECT user_id FROM user_emails "        \
	  "WHERE account_id = $1 AND value_key = $3) ORDER BY user_id COLLATE \"C\" LIMIT $4")     \
	/* two indexed lookups (users_by_name, user_emails_by_value): an OR of the two made both   \
	 * stores scan the account's users, a sign-in costing in proportion to the directory */    \
	X(DIR_USER_MATCH,                                                                          \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1 "                         \
	  "AND u.user_name_key = $2 UNION SELECT " TS__USER_COLS " FROM user_emails m "            \
	  "JOIN users u ON u.user_id = m.user_id WHERE m.account_id = $1 AND m.value_key = $2 "    \
	  "ORDER BY 1 LIMIT $3",                                                                   \
	  NULL)                                                                                    \
	X(DIR_USER_EMAILS,                                                                         \
	  "SELECT value, type, is_primary FROM user_emails WHERE user_id = $1 "                    \
	  "ORDER BY is_primary DESC, value_key",                                                   \
	  NULL)                                                                                    \
	X(DIR_USER_GROUPS,                                                                         \
	  "SELECT g.group_id, g.display_name, lg.license FROM group_members m "                    \
	  "JOIN groups g ON g.group_id = m.group_id "                                              \
	  "LEFT JOIN license_groups lg ON lg.account_id = g.account_id "                           \
	  "AND lg.group_name = g.display_name WHERE m.user_id = $1 ORDER BY g.display_name",       \
	  NULL)                                                                                    \
	X(DIR_USERS_BY_PRIMARY_DOMAIN,                                                             \
	  "SELECT u.user_id, u.suspended FROM users u JOIN user_emails e ON e.user_id = "          \
	  "u.user_id "                                                                             \
	  "WHERE u.account_id = $1 AND e.is_primary = 1 AND e.value_key LIKE $2 "                  \
	  "ORDER BY u.user_id",                                                                    \
	  NULL)                                                                                    \
	X(DIR_PIN_TAKEN, "SELECT 1 FROM users WHERE personal_pin = $1", NULL)                      \
	X(DIR_ADDRESS_TAKEN,                                                                       \
	  "SELECT 1 FROM users WHERE account_id = $1 AND user_name_key = $2 UNION ALL "            \
	  "SELECT 1 FROM user_emails WHERE account_id = $1 AND value_key = $2",                    \
	  NULL)                                                                                    \
	X(DIR_ACCOUNT_API_KEYS, "SELECT count(*) FROM api_keys WHERE account_id = $1", NULL)       \
	/* ---- users: Team-account writes and admin state ---- */                                 \
	/* PostgreSQL: account_ref, as SCIM_USER_INSERT (v11) */                                   \
	X(DIR_USER_INSERT,                                                                         \
	  "INSERT INTO users (user_id, account_id, user_name, user_name_key, display_name, "       \
	  "active, suspended, registration_status, license, personal_pin, invited_ms, "            \
	  "created_ms, modified_ms) VALUES ($1, $2, $3, $4, $5, 1, 0, $6, $7, $8, $9, $10, $10)",  \
	  "INSERT INTO users (user_id, account_id, user_name, user_name_key, display_name, "       \
	  "active, suspended, registration_status, license, personal_pin, invited_ms, "            \
	  "created_ms, modified_ms) "                                                              \
	  "VALUES ($1, account_ref($2), $3, $4, $5, 1, 0, $6, $7, $8, $9, $10, $10)")              \
	X(DIR_EMAIL_INSERT,                                                                        \
	  "INSERT INTO user_emails (user_id, account_id, value, value_key, type, is_primary) "     \
	  "VALUES ($1, $2, $3, $4, $5, $6)",                                                       \
	  NULL)                                                                                    \
	X(DIR_USER_SET_STATE,                                                                      \
	  "UPDATE users SET suspended = $2, registration_status = $3, version = version + 1, "     \
	  "modified_ms = $4 WHERE user_id = $1",                                                   \
	  NULL)                                                                                    \
	X(DIR_USER_SET_LICENSE,                                                                    \
	  "UPDATE users SET license = $2, version = version + 1, modified_ms = $3 "                \
	  "WHERE user_id = $1",                                                                    \
	  NULL)                                                                                    \
	X(DIR_USER_SET_PIN,                                                                        \
	  "UPDATE users SET personal_pin = $2, version = version + 1, modified_ms = $3 "           \
	  "WHERE user_id = $1",                                                                    \
	  NULL)                                                                                    \
	/* the first sign-in: Registered, RegisteredOn, a PIN when it has none (product.md §4) */ \
	X(DIR_USER_REGISTER,                                                                       \
	  "UPDATE users SET registration_status = 'Registered', joined_ms = $3, "                  \
	  "personal_pin = coalesce(personal_pin, $2), version = version + 1, modified_ms = $3 "    \
	  "WHERE user_id = $1 AND registration_status = 'Unregistered'",                           \
	  NULL)                                                                                    \
	X(DIR_USER_DELETE, "DELETE FROM users WHERE user_id = $1", NULL)                           \
	/* ---- domains ---- */                                                                    \
	X(DIR_DOMAIN_INSERT,                                                                       \
	  "INSERT INTO domains (" TS__DIR_DOMAIN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, " \
	  "$9)",                                                                                   \
	  NULL)                                                                                    \
	X(DIR_DOMAIN_GET,                                                                          \
	  "SELECT " TS__DIR_DOMAIN_COLS                                                            \
	  " FROM domains WHERE account_id = $1 AND domain_name = $2",                              \
	  NULL)                                                                                    \
	X(DIR_DOMAIN_GET_FOR_UPDATE,                                                               \
	  "SELECT " TS__DIR_DOMAIN_COLS                                                            \
	  " FROM domains WHERE account_id = $1 AND domain_name = $2",                              \
	  "SELECT " TS__DIR_DOMAIN_COLS                                                            \
	  " FROM domains WHERE account_id = $1 AND domain_name = $2 FOR UPDATE")                   \
	X(DIR_DOMAIN_LIST,                                                                         \
	  "SELECT " TS__DIR_DOMAIN_COLS                                                            \
	  " FROM domains WHERE account_id = $1 AND domain_name > $2 "                              \
	  "ORDER BY domain_name LIMIT $3",                                                         \
	  "SELECT " TS__DIR_DOMAIN_COLS " FROM domains WHERE account_id = $1 "                     \
	  "AND domain_name COLLATE \"C\" > $2 ORDER BY domain_name COLLATE \"C\" LIMIT $3")        \
	X(DIR_DOMAIN_VERIFIED_OWNER,                                                               \
	  "SELECT account_id FROM domains WHERE domain_name = $1 AND status = 'Verified'", NULL)   \
	X(DIR_DOMAIN_VERIFIED_NAMES,                                                               \
	  "SELECT domain_name FROM domains WHERE account_id = $1 AND status = 'Verified' "         \
	  "ORDER BY domain_name LIMIT $2",                                                         \
	  NULL)                                                                                    \
	X(DIR_DOMAIN_DUE,                                                                          \
	  "SELECT " TS__DIR_DOMAIN_COLS " FROM domains WHERE status = 'PendingVerification' "      \
	  "AND next_check_ms <= $1 ORDER BY next_check_ms LIMIT $2",                               \
	  NULL)                                                                                    \
	X(DIR_DOMAIN_NEXT_DUE,                                                                     \
	  "SELECT min(next_check_ms) FROM domains WHERE status = 'PendingVerification'", NULL)     \
	X(DIR_DOMAIN_CLAIM,                                                                        \
	  "UPDATE domains SET next_check_ms = $4 WHERE account_id = $1 AND domain_name = $2 "      \
	  "AND next_check_ms = $3 AND status = 'PendingVerification'",                             \
	  NULL)                                                                                    \
	X(DIR_DOMAIN_UPDATE,                                                                       \
	  "UPDATE domains SET status = $3, verified_ms = $4, next_check_ms = $5, attempts = $6, "  \
	  "last_error = $7 WHERE account_id = $1 AND domain_name = $2",                            \
	  NULL)                                                                                    \
	X(DIR_DOMAIN_DELETE, "DELETE FROM domains WHERE account_id = $1 AND domain_name = $2",     \
	  NULL)                                                                                    \
	/* ---- sessions ---- */                                                                   \
	X(DIR_SESSION_INSERT,                                                                      \
	  "INSERT INTO sessions (session_id, token_hash, account_id, user_id, kind, license, "     \
	  "created_ms, expires_ms, license_checked_ms, client, origin, roles_json, role_arn, "     \
	  "provider_arn, role_session_name) "                                                      \
	  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $9, $10, $11, $12, $13, $14)",              \
	  NULL)                                                                                    \
	X(DIR_SESSION_GET_FOR_UPDATE,                                                              \
	  "SELECT " TS__DIR_SESSION_COLS " FROM sessions WHERE session_id = $1",                   \
	  "SELECT " TS__DIR_SESSION_COLS " FROM sessions WHERE session_id = $1 FOR UPDATE")        \
	X(DIR_SESSION_SET_ROLE,                                                                    \
	  "UPDATE sessions SET role_arn = $2, provider_arn = $3 WHERE session_id = $1", NULL)      \
	X(DIR_SESSION_BY_HASH,                                                                     \
	  "SELECT " TS__DIR_SESSION_COLS " FROM sessions WHERE token_hash = $1", NULL)             \
	X(DIR_SESSION_SET_LICENSE,                                                                 \
	  "UPDATE sessions SET license = $2, license_checked_ms = $3 WHERE session_id = $1", NULL) \
	X(DIR_SESSION_REVOKE,                                                                      \
	  "UPDATE sessions SET revoked_ms = $2 WHERE session_id = $1 AND revoked_ms IS NULL",      \
	  NULL)                                                                                    \
	/* the user's row locked before their sessions are revoked (sessions.c) */                 \
	X(DIR_SESSION_USER_LOCK, "SELECT user_id FROM users WHERE user_id = $1",                   \
	  "SELECT user_id FROM users WHERE user_id = $1 FOR UPDATE")                               \
	X(DIR_SESSION_REVOKE_USER,                                                                 \
	  "UPDATE sessions SET revoked_ms = $2 WHERE user_id = $1 AND revoked_ms IS NULL", NULL)   \
	X(DIR_SESSION_LIVE_COUNT,                                                                  \
	  "SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_ms IS NULL "               \
	  "AND expires_ms > $2",                                                                   \
	  NULL)                                                                                    \
	/* ---- licence groups ---- */                                                             \
	X(DIR_LGROUP_UPSERT,                                                                       \
	  "INSERT INTO license_groups (account_id, group_name, license, modified_ms) "             \
	  "VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, group_name) DO UPDATE "                \
	  "SET license = excluded.license, modified_ms = excluded.modified_ms",                    \
	  NULL)                                                                                    \
	X(DIR_LGROUP_DELETE,                                                                       \
	  "DELETE FROM license_groups WHERE account_id = $1 AND group_name = $2", NULL)            \
	X(DIR_LGROUP_LIST,                                                                         \
	  "SELECT account_id, group_name, license, modified_ms FROM license_groups "               \
	  "WHERE account_id = $1 ORDER BY group_name LIMIT $2",                                    \
	  "SELECT account_id, group_name, license, modified_ms FROM license_groups "               \
	  "WHERE account_id = $1 ORDER BY group_name COLLATE \"C\" LIMIT $2")                      \
	X(DIR_GROUP_EXISTS, "SELECT 1 FROM groups WHERE account_id = $1 AND display_name = $2",    \
	  NULL)

#endif
