/*
 * Queries of the sign-in attempts kept for the sign-in check (store/signins.h):
 * X(ID, sql, postgres variant or NULL). An insert trims its group (a user's
 * attempts, or those of an identity that matched no user) to the newest
 * TS_STORE_SIGNIN_KEEP in the same transaction.
 */
#ifndef TS_STORE_QUERIES_SIGNINS_H
#define TS_STORE_QUERIES_SIGNINS_H

#define TS__SIGNIN_COLS "account_id, user_id, identity, time_ms, outcome, check_name, source"

/*
 * The trim. On SQLite the group's rows older than its $3-th newest (in the
 * order time_ms, attempt_seq) go: the subquery walks the group's index from
 * its newest entry to that row, the delete the index range below it; a group
 * of $3 or fewer has no such row, and the comparison with NULL deletes
 * nothing. The earlier forms, IN the rows "LIMIT -1 OFFSET $3" or NOT IN the
 * newest $3, built a temporary table on every sign-in (the IN form cost three
 * times this one under callgrind). PostgreSQL keeps the NOT IN form.
 */
#define TS__SIGNIN_TRIM_LITE(group)                                                         \
	"DELETE FROM signin_attempts WHERE " group " AND (time_ms, attempt_seq) < (SELECT " \
	"time_ms, attempt_seq FROM signin_attempts WHERE " group " ORDER BY time_ms DESC, " \
	"attempt_seq DESC LIMIT 1 OFFSET $3 - 1)"
#define TS__SIGNIN_TRIM_PG(group)                                                     \
	"DELETE FROM signin_attempts WHERE " group " AND attempt_seq NOT IN (SELECT " \
	"attempt_seq FROM signin_attempts WHERE " group " ORDER BY time_ms DESC, "    \
	"attempt_seq DESC LIMIT $3)"

#define TS__STORE_QUERIES_SIGNINS(X)                                                               \
	X(SIGNIN_INSERT,                                                                           \
	  "INSERT INTO signin_attempts (" TS__SIGNIN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)", \
	  NULL)                                                                                    \
	X(SIGNIN_TRIM_USER, TS__SIGNIN_TRIM_LITE("account_id = $1 AND user_id = $2"),              \
	  TS__SIGNIN_TRIM_PG("account_id = $1 AND user_id = $2"))                                  \
	X(SIGNIN_TRIM_IDENTITY,                                                                    \
	  TS__SIGNIN_TRIM_LITE("account_id = $1 AND user_id IS NULL AND identity = $2"),           \
	  TS__SIGNIN_TRIM_PG("account_id = $1 AND user_id IS NULL AND identity = $2"))             \
	X(SIGNIN_LIST,                                                                             \
	  "SELECT " TS__SIGNIN_COLS " FROM signin_attempts WHERE account_id = $1 "                 \
	  "AND (user_id = $2 OR identity = $3) ORDER BY time_ms DESC, attempt_seq DESC LIMIT $4",  \
	  "SELECT " TS__SIGNIN_COLS " FROM signin_attempts WHERE account_id = $1 "                 \
	  "AND (user_id = $2::text OR identity = $3::text) "                                       \
	  "ORDER BY time_ms DESC, attempt_seq DESC LIMIT $4")

#endif
