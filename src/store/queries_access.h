/*
 * Queries of access after sign-in (store/access.h): targets, permission
 * sets, assignments and the entitlements read through a user's own and
 * group assignments. X(ID, sql, postgres variant or NULL). The id and name
 * columns compare bytewise on both backends (COLLATE "C" in PostgreSQL's
 * schema, migrations.c v12), so that pages and orders agree without dialect
 * variants.
 */
#ifndef TS_STORE_QUERIES_ACCESS_H
#define TS_STORE_QUERIES_ACCESS_H

#define TS__TARGET_COLS "target_id, account_id, name, kind, url, created_ms, modified_ms"
#define TS__PSET_COLS                                                                     \
	"permission_set_id, account_id, name, policies, session_duration_s, created_ms, " \
	"modified_ms"
#define TS__ASSIGNMENT_COLS                                                                       \
	"assignment_id, account_id, principal_type, principal_id, target_id, permission_set_id, " \
	"created_ms"
/* an entitlement: a target's columns, then its permission set's */
#define TS__ENTITLEMENT_COLS                                                              \
	"t.target_id, t.account_id, t.name, t.kind, t.url, t.created_ms, t.modified_ms, " \
	"p.permission_set_id, p.account_id, p.name, p.policies, p.session_duration_s, "   \
	"p.created_ms, p.modified_ms"
/* the assignments that reach user $2 of account $1: their own, and their groups' */
#define TS__ENTITLEMENT_FROM                                                   \
	" FROM assignments a JOIN targets t ON t.target_id = a.target_id "     \
	"JOIN permission_sets p ON p.permission_set_id = a.permission_set_id " \
	"WHERE a.account_id = $1 AND (a.user_id = $2 OR a.group_id IN "        \
	"(SELECT m.group_id FROM group_members m WHERE m.user_id = $2))"

#define TS__STORE_QUERIES_ACCESS(X)                                                                \
	X(TARGET_INSERT,                                                                           \
	  "INSERT INTO targets (" TS__TARGET_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)", NULL)   \
	X(TARGET_GET,                                                                              \
	  "SELECT " TS__TARGET_COLS " FROM targets WHERE account_id = $1 AND target_id = $2",      \
	  NULL)                                                                                    \
	X(TARGET_UPDATE,                                                                           \
	  "UPDATE targets SET name = $3, kind = $4, url = $5, modified_ms = $6 "                   \
	  "WHERE account_id = $1 AND target_id = $2",                                              \
	  NULL)                                                                                    \
	X(TARGET_ASSIGNMENTS_DELETE,                                                               \
	  "DELETE FROM assignments WHERE account_id = $1 AND target_id = $2", NULL)                \
	X(TARGET_DELETE, "DELETE FROM targets WHERE account_id = $1 AND target_id = $2", NULL)     \
	X(TARGET_LIST,                                                                             \
	  "SELECT " TS__TARGET_COLS " FROM targets WHERE account_id = $1 AND target_id > $2 "      \
	  "ORDER BY target_id LIMIT $3",                                                           \
	  NULL)                                                                                    \
	X(PSET_INSERT,                                                                             \
	  "INSERT INTO permission_sets (" TS__PSET_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)",   \
	  NULL)                                                                                    \
	X(PSET_GET,                                                                                \
	  "SELECT " TS__PSET_COLS " FROM permission_sets "                                         \
	  "WHERE account_id = $1 AND permission_set_id = $2",                                      \
	  NULL)                                                                                    \
	X(PSET_UPDATE,                                                                             \
	  "UPDATE permission_sets SET name = $3, policies = $4, session_duration_s = $5, "         \
	  "modified_ms = $6 WHERE account_id = $1 AND permission_set_id = $2",                     \
	  NULL)                                                                                    \
	X(PSET_ASSIGNMENTS_DELETE,                                                                 \
	  "DELETE FROM assignments WHERE account_id = $1 AND permission_set_id = $2", NULL)        \
	X(PSET_DELETE,                                                                             \
	  "DELETE FROM permission_sets WHERE account_id = $1 AND permission_set_id = $2", NULL)    \
	X(PSET_LIST,                                                                               \
	  "SELECT " TS__PSET_COLS " FROM permission_sets WHERE account_id = $1 "                   \
	  "AND permission_set_id > $2 ORDER BY permission_set_id LIMIT $3",                        \
	  NULL)                                                                                    \
	/* an assignment's principal is the account's: a user, or a directory group */             \
	X(ACCESS_USER_EXISTS, "SELECT count(*) FROM users WHERE account_id = $1 AND user_id = $2", \
	  NULL)                                                                                    \
	X(ACCESS_GROUP_EXISTS,                                                                     \
	  "SELECT count(*) FROM groups WHERE account_id = $1 AND group_id = $2", NULL)             \
	X(ACCESS_TARGET_EXISTS,                                                                    \
	  "SELECT count(*) FROM targets WHERE account_id = $1 AND target_id = $2", NULL)           \
	X(ACCESS_PSET_EXISTS,                                                                      \
	  "SELECT count(*) FROM permission_sets WHERE account_id = $1 AND permission_set_id = $2", \
	  NULL)                                                                                    \
	/* user_id or group_id repeats principal_id: each is a foreign key (v12) */                \
	X(ASSIGNMENT_INSERT,                                                                       \
	  "INSERT INTO assignments (" TS__ASSIGNMENT_COLS ", user_id, group_id) "                  \
	  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",                                           \
	  NULL)                                                                                    \
	X(ASSIGNMENT_UPDATE,                                                                       \
	  "UPDATE assignments SET principal_type = $3, principal_id = $4, target_id = $5, "        \
	  "permission_set_id = $6, user_id = $7, group_id = $8 "                                   \
	  "WHERE account_id = $1 AND assignment_id = $2",                                          \
	  NULL)                                                                                    \
	X(ASSIGNMENT_GET,                                                                          \
	  "SELECT " TS__ASSIGNMENT_COLS " FROM assignments "                                       \
	  "WHERE account_id = $1 AND assignment_id = $2",                                          \
	  NULL)                                                                                    \
	X(ASSIGNMENT_DELETE,                                                                       \
	  "DELETE FROM assignments WHERE account_id = $1 AND assignment_id = $2", NULL)            \
	X(ASSIGNMENT_LIST,                                                                         \
	  "SELECT " TS__ASSIGNMENT_COLS " FROM assignments WHERE account_id = $1 "                 \
	  "AND assignment_id > $2 AND ($3 = '' OR target_id = $3) "                                \
	  "AND ($4 = '' OR principal_id = $4) ORDER BY assignment_id LIMIT $5",                    \
	  "SELECT " TS__ASSIGNMENT_COLS " FROM assignments WHERE account_id = $1 "                 \
	  "AND assignment_id > $2 AND ($3::text = '' OR target_id = $3::text) "                    \
	  "AND ($4::text = '' OR principal_id = $4::text) ORDER BY assignment_id LIMIT $5")        \
	/* a pair held twice (as a user and through a group) is one entitlement */                 \
	X(ACCESS_ENTITLEMENTS,                                                                     \
	  "SELECT DISTINCT " TS__ENTITLEMENT_COLS TS__ENTITLEMENT_FROM                             \
	  " ORDER BY t.name, p.name, t.target_id, p.permission_set_id",                            \
	  NULL)                                                                                    \
	X(ACCESS_ENTITLED,                                                                         \
	  "SELECT " TS__ENTITLEMENT_COLS TS__ENTITLEMENT_FROM                                      \
	  " AND a.target_id = $3 AND a.permission_set_id = $4 LIMIT 1",                            \
	  NULL)

#endif
