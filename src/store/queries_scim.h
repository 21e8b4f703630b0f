/*
 * Queries of users, groups, memberships and SCIM API keys: X(ID, sql, postgres
 * variant or NULL). Listings order by (created_ms, id), which the v3 indexes
 * serve, so that SCIM paging is stable. Batches of ids travel as one JSON
 * array parameter (json_each in SQLite, jsonb_array_elements_text in
 * PostgreSQL), so that a group PATCH costs one statement per kind of change.
 */
#ifndef TS_STORE_QUERIES_SCIM_H
#define TS_STORE_QUERIES_SCIM_H

/* A user's columns, as ts__store_user_read (users.c) reads them, for every read of users. */
#define TS__USER_COLS                                                                              \
	"u.user_id, u.account_id, u.user_name, u.external_id, u.display_name, u.active, "          \
	"u.resource, u.version, u.created_ms, u.modified_ms, u.suspended, u.registration_status, " \
	"u.license, u.personal_pin, u.invited_ms, u.joined_ms"
#define TS__SCIM_GROUP_COLS                                                                \
	"g.group_id, g.account_id, g.display_name, g.external_id, g.resource, g.version, " \
	"g.created_ms, g.modified_ms"
#define TS__SCIM_USER_ORDER " ORDER BY u.created_ms, u.user_id"
#define TS__SCIM_GROUP_ORDER " ORDER BY g.created_ms, g.group_id"
/*
 * The same order for a lookup whose own index finds its few rows (an
 * externalId, an address, a membership): the unary + keeps SQLite's planner
 * from walking the account's whole (created_ms, id) index instead, to save
 * sorting a handful of rows, which at a million users costs a million
 * index entries for a value nobody has. Without statistics the planner also
 * takes "account_id = ?" for as selective as the lookup itself, so joins
 * name their driving table first with CROSS JOIN (SQLite keeps that order;
 * PostgreSQL, which has statistics, gets a plain JOIN).
 */
#define TS__SCIM_USER_ORDER_FOUND " ORDER BY +u.created_ms, u.user_id"
#define TS__SCIM_GROUP_ORDER_FOUND " ORDER BY +g.created_ms, g.group_id"

#define TS__STORE_QUERIES_SCIM(X)                                                                  \
	/* PostgreSQL: no foreign key to accounts, account_ref checks and holds it (v11) */        \
	X(SCIM_USER_INSERT, /* provisioned, never signed in: Unregistered until the first sign-in  \
	                       (product.md §4) */                                                 \
	  "INSERT INTO users (user_id, account_id, user_name, user_name_key, external_id, "        \
	  "display_name, active, resource, version, created_ms, modified_ms, "                     \
	  "registration_status) "                                                                  \
	  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'Unregistered')",                 \
	  "INSERT INTO users (user_id, account_id, user_name, user_name_key, external_id, "        \
	  "display_name, active, resource, version, created_ms, modified_ms, "                     \
	  "registration_status) "                                                                  \
	  "VALUES ($1, account_ref($2), $3, $4, $5, $6, $7, $8, $9, $10, $11, 'Unregistered')")    \
	X(SCIM_USER_GET,                                                                           \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1 AND u.user_id = $2",      \
	  NULL)                                                                                    \
	/* a read for a write: SQLite's writer lock covers it, PostgreSQL locks the row */         \
	X(SCIM_USER_GET_FOR_UPDATE,                                                                \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1 AND u.user_id = $2",      \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1 AND u.user_id = $2 "      \
	  "FOR UPDATE")                                                                            \
	X(SCIM_USER_UPDATE,                                                                        \
	  "UPDATE users SET user_name = $3, user_name_key = $4, external_id = $5, "                \
	  "display_name = $6, active = $7, resource = $8, version = $9, modified_ms = $10 "        \
	  "WHERE account_id = $1 AND user_id = $2",                                                \
	  NULL)                                                                                    \
	X(SCIM_USER_DELETE, "DELETE FROM users WHERE account_id = $1 AND user_id = $2", NULL)      \
	X(SCIM_USER_BY_NAME_KEY,                                                                   \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1 "                         \
	  "AND u.user_name_key = $2 LIMIT $3",                                                     \
	  NULL)                                                                                    \
	X(SCIM_USER_BY_EXTERNAL_ID,                                                                \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1 "                         \
	  "AND u.external_id = $2" TS__SCIM_USER_ORDER_FOUND " LIMIT $3",                          \
	  NULL)                                                                                    \
	X(SCIM_USER_BY_EMAIL,                                                                      \
	  "SELECT " TS__USER_COLS " FROM user_emails e CROSS JOIN users u "                        \
	  "ON u.user_id = e.user_id WHERE e.account_id = $1 AND e.value_key = $2 "                 \
	  "AND u.account_id = $1" TS__SCIM_USER_ORDER_FOUND " LIMIT $3",                           \
	  "SELECT " TS__USER_COLS " FROM user_emails e JOIN users u "                              \
	  "ON u.user_id = e.user_id WHERE e.account_id = $1 AND e.value_key = $2 "                 \
	  "AND u.account_id = $1" TS__SCIM_USER_ORDER_FOUND " LIMIT $3")                           \
	X(SCIM_USER_IN_GROUP,                                                                      \
	  "SELECT " TS__USER_COLS " FROM users u JOIN group_members m ON m.user_id = "             \
	  "u.user_id WHERE u.account_id = $1 AND m.group_id = $2" TS__SCIM_USER_ORDER_FOUND        \
	  " LIMIT $3",                                                                             \
	  NULL)                                                                                    \
	X(SCIM_USER_MODIFIED,                                                                      \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1 "                         \
	  "AND u.modified_ms >= $2 AND u.modified_ms <= $3" TS__SCIM_USER_ORDER " LIMIT $4",       \
	  NULL)                                                                                    \
	X(SCIM_USER_LIST,                                                                          \
	  "SELECT " TS__USER_COLS " FROM users u WHERE u.account_id = $1" TS__SCIM_USER_ORDER      \
	  " LIMIT $2 OFFSET $3",                                                                   \
	  NULL)                                                                                    \
	X(SCIM_USER_COUNT, "SELECT count(*) FROM users WHERE account_id = $1", NULL)               \
	X(SCIM_USER_EMAILS_CLEAR, "DELETE FROM user_emails WHERE user_id = $1", NULL)              \
	X(SCIM_USER_EMAIL_INSERT,                                                                  \
	  "INSERT INTO user_emails (user_id, account_id, value, value_key, type, is_primary) "     \
	  "VALUES ($1, $2, $3, $4, $5, $6)",                                                       \
	  NULL)                                                                                    \
	X(SCIM_USER_GROUPS,                                                                        \
	  "SELECT g.group_id, g.display_name FROM group_members m JOIN groups g ON g.group_id = "  \
	  "m.group_id WHERE m.user_id = $1" TS__SCIM_GROUP_ORDER,                                  \
	  NULL)                                                                                    \
	X(SCIM_USERS_EXISTING,                                                                     \
	  "SELECT u.user_id FROM json_each($2) j CROSS JOIN users u "                              \
	  "ON u.user_id = j.value WHERE u.account_id = $1",                                        \
	  "SELECT u.user_id FROM jsonb_array_elements_text($2::jsonb) j (id) "                     \
	  "JOIN users u ON u.user_id = j.id WHERE u.account_id = $1")                              \
	X(SCIM_GROUP_INSERT,                                                                       \
	  "INSERT INTO groups (group_id, account_id, display_name, display_key, external_id, "     \
	  "resource, version, created_ms, modified_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "   \
	  "$9)",                                                                                   \
	  NULL)                                                                                    \
	X(SCIM_GROUP_GET,                                                                          \
	  "SELECT " TS__SCIM_GROUP_COLS                                                            \
	  " FROM groups g WHERE g.account_id = $1 AND g.group_id = $2",                            \
	  NULL)                                                                                    \
	X(SCIM_GROUP_GET_FOR_UPDATE,                                                               \
	  "SELECT " TS__SCIM_GROUP_COLS                                                            \
	  " FROM groups g WHERE g.account_id = $1 AND g.group_id = $2",                            \
	  "SELECT " TS__SCIM_GROUP_COLS                                                            \
	  " FROM groups g WHERE g.account_id = $1 AND g.group_id = $2 FOR UPDATE")                 \
	X(SCIM_GROUP_UPDATE,                                                                       \
	  "UPDATE groups SET display_name = $3, display_key = $4, external_id = $5, resource = "   \
	  "$6, "                                                                                   \
	  "version = $7, modified_ms = $8 WHERE account_id = $1 AND group_id = $2",                \
	  NULL)                                                                                    \
	X(SCIM_GROUP_DELETE, "DELETE FROM groups WHERE account_id = $1 AND group_id = $2", NULL)   \
	X(SCIM_GROUP_BY_DISPLAY_KEY,                                                               \
	  "SELECT " TS__SCIM_GROUP_COLS " FROM groups g WHERE g.account_id = $1 "                  \
	  "AND g.display_key = $2 LIMIT $3",                                                       \
	  NULL)                                                                                    \
	X(SCIM_GROUP_BY_EXTERNAL_ID,                                                               \
	  "SELECT " TS__SCIM_GROUP_COLS " FROM groups g WHERE g.account_id = $1 "                  \
	  "AND g.external_id = $2" TS__SCIM_GROUP_ORDER_FOUND " LIMIT $3",                         \
	  NULL)                                                                                    \
	X(SCIM_GROUP_WITH_MEMBER,                                                                  \
	  "SELECT " TS__SCIM_GROUP_COLS " FROM group_members m CROSS JOIN groups g ON g.group_id " \
	  "= m.group_id WHERE m.user_id = $2 AND g.account_id = $1" TS__SCIM_GROUP_ORDER_FOUND     \
	  " LIMIT $3",                                                                             \
	  "SELECT " TS__SCIM_GROUP_COLS " FROM group_members m JOIN groups g ON g.group_id "       \
	  "= m.group_id WHERE m.user_id = $2 AND g.account_id = $1" TS__SCIM_GROUP_ORDER_FOUND     \
	  " LIMIT $3")                                                                             \
	X(SCIM_GROUP_MODIFIED,                                                                     \
	  "SELECT " TS__SCIM_GROUP_COLS " FROM groups g WHERE g.account_id = $1 "                  \
	  "AND g.modified_ms >= $2 AND g.modified_ms <= $3" TS__SCIM_GROUP_ORDER " LIMIT $4",      \
	  NULL)                                                                                    \
	X(SCIM_GROUP_LIST,                                                                         \
	  "SELECT " TS__SCIM_GROUP_COLS                                                            \
	  " FROM groups g WHERE g.account_id = $1" TS__SCIM_GROUP_ORDER " LIMIT $2 OFFSET $3",     \
	  NULL)                                                                                    \
	X(SCIM_GROUP_COUNT, "SELECT count(*) FROM groups WHERE account_id = $1", NULL)             \
	X(SCIM_GROUP_MEMBERS,                                                                      \
	  "SELECT u.user_id, u.display_name, u.user_name FROM group_members m JOIN users u ON "    \
	  "u.user_id = m.user_id WHERE m.group_id = $1 ORDER BY m.user_id LIMIT $2",               \
	  NULL)                                                                                    \
	X(SCIM_GROUP_MEMBERS_ADD,                                                                  \
	  "INSERT INTO group_members (group_id, user_id) SELECT $1, value FROM json_each($2) "     \
	  "WHERE true ON CONFLICT DO NOTHING",                                                     \
	  "INSERT INTO group_members (group_id, user_id) SELECT $1, "                              \
	  "jsonb_array_elements_text($2::jsonb) ON CONFLICT DO NOTHING")                           \
	X(SCIM_GROUP_MEMBERS_REMOVE,                                                               \
	  "DELETE FROM group_members WHERE group_id = $1 AND user_id IN "                          \
	  "(SELECT value FROM json_each($2))",                                                     \
	  "DELETE FROM group_members WHERE group_id = $1 AND user_id = ANY "                       \
	  "(SELECT jsonb_array_elements_text($2::jsonb))")                                         \
	X(SCIM_GROUP_MEMBERS_CLEAR, "DELETE FROM group_members WHERE group_id = $1", NULL)         \
	X(SCIM_APIKEY_INSERT,                                                                      \
	  "INSERT INTO api_keys (api_key_id, account_id, secret_hash, description, created_ms) "   \
	  "VALUES ($1, $2, $3, $4, $5)",                                                           \
	  NULL)                                                                                    \
	X(SCIM_APIKEY_AUTH,                                                                        \
	  "SELECT k.api_key_id, k.account_id, k.secret_hash, k.description, k.created_ms, "        \
	  "a.settings FROM api_keys k JOIN accounts a ON a.account_id = k.account_id "             \
	  "WHERE k.api_key_id = $1",                                                               \
	  NULL)                                                                                    \
	X(SCIM_APIKEY_LIST,                                                                        \
	  "SELECT api_key_id, account_id, secret_hash, description, created_ms, '' FROM api_keys " \
	  "WHERE account_id = $1 AND api_key_id > $2 ORDER BY api_key_id LIMIT $3",                \
	  "SELECT api_key_id, account_id, secret_hash, description, created_ms, '' FROM api_keys " \
	  "WHERE account_id = $1 AND api_key_id COLLATE \"C\" > $2 "                               \
	  "ORDER BY api_key_id COLLATE \"C\" LIMIT $3")                                            \
	X(SCIM_APIKEY_DELETE, "DELETE FROM api_keys WHERE account_id = $1 AND api_key_id = $2",    \
	  NULL)                                                                                    \
	X(AUTH_GENERATION, "SELECT gen FROM auth_generation WHERE id = 1", NULL)                   \
	X(AUTH_GENERATION_BUMP, "UPDATE auth_generation SET gen = gen + 1 WHERE id = 1", NULL)

#endif
