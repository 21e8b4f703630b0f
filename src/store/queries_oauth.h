/*
 * Queries of Tessera's authorization server (store/oauth.h, docs/oauth.md):
 * device flows, refresh tokens, the per-address counters of wrong user
 * codes and the signing keys' public halves. X(ID, sql, postgres variant or
 * NULL). A poll is one statement (UPDATE ... RETURNING) that also decides
 * slow_down from the row as it was (every SET of an UPDATE reads the old
 * row, on both backends), so that two nodes polled at once agree. Numbers
 * that PostgreSQL cannot type from their place are CAST.
 */
#ifndef TS_STORE_QUERIES_OAUTH_H
#define TS_STORE_QUERIES_OAUTH_H

#define TS__OAUTH_DEVICE_COLS                                                               \
	"device_hash, user_code, account_id, client_id, scope, client_info, created_ms, "   \
	"expires_ms, interval_s, last_poll_ms, poll_slow, wrong_entries, status, user_id, " \
	"session_id, decided_ms"
#define TS__OAUTH_REFRESH_COLS                                                            \
	"token_hash, family_id, account_id, user_id, client_id, session_id, created_ms, " \
	"expires_ms, used_ms, revoked_ms"
/* docs/secrets.md: a signing key's private half in the secrets table (owner: its kid) */
#define TS__OAUTH_SECRET_KIND "oauth_signing"
#define TS__OAUTH_SECRET_NAME "private_key"
/* a poll faster than the flow's interval (RFC 8628 §3.5 slow_down): $1 hash, $2 now */
#define TS__OAUTH_TOO_FAST "(status = 'pending' AND $2 - last_poll_ms < interval_s * 1000)"

#define TS__STORE_QUERIES_OAUTH(X)                                                                 \
	/* a grant's user: the row, the account's status, its SCIM keys and SAML source */         \
	X(OAUTH_USER_STANDING,                                                                     \
	  "SELECT " TS__USER_COLS ", a.status, "                                                   \
	  "(SELECT count(*) FROM api_keys k WHERE k.account_id = a.account_id), "                  \
	  "(SELECT count(*) FROM saml_configs s WHERE s.account_id = a.account_id) "               \
	  "FROM accounts a JOIN users u ON u.account_id = a.account_id AND u.user_id = $2 "        \
	  "WHERE a.account_id = $1",                                                               \
	  NULL)                                                                                    \
	X(OAUTH_DEVICE_INSERT,                                                                     \
	  "INSERT INTO oauth_device_codes (device_hash, user_code, account_id, client_id, scope, " \
	  "client_info, created_ms, expires_ms, interval_s, last_poll_ms, status) "                \
	  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",                           \
	  NULL)                                                                                    \
	/* RFC 8628 §3.5: too fast raises the interval by $3 s for the rest of the flow */        \
	X(OAUTH_DEVICE_POLL,                                                                       \
	  "UPDATE oauth_device_codes SET "                                                         \
	  "poll_slow = CASE WHEN " TS__OAUTH_TOO_FAST " THEN 1 ELSE 0 END, "                       \
	  "interval_s = CASE WHEN " TS__OAUTH_TOO_FAST " THEN interval_s + CAST($3 AS BIGINT) "    \
	  "ELSE interval_s END, last_poll_ms = $2 WHERE device_hash = $1 "                         \
	  "RETURNING " TS__OAUTH_DEVICE_COLS,                                                      \
	  NULL)                                                                                    \
	X(OAUTH_DEVICE_BY_CODE,                                                                    \
	  "SELECT " TS__OAUTH_DEVICE_COLS " FROM oauth_device_codes WHERE user_code = $1",         \
	  "SELECT " TS__OAUTH_DEVICE_COLS " FROM oauth_device_codes WHERE user_code = $1 "         \
	  "FOR UPDATE")                                                                            \
	/* a code is decided once: approved or denied from pending only, before it expires */      \
	X(OAUTH_DEVICE_DECIDE,                                                                     \
	  "UPDATE oauth_device_codes SET status = $2, user_id = $3, session_id = $4, "             \
	  "decided_ms = $5 WHERE user_code = $1 AND status = 'pending' AND expires_ms > $5",       \
	  NULL)                                                                                    \
	/* the $2-th wrong entry kills a pending code (denied) */                                  \
	X(OAUTH_DEVICE_WRONG,                                                                      \
	  "UPDATE oauth_device_codes SET wrong_entries = wrong_entries + 1, "                      \
	  "status = CASE WHEN status = 'pending' AND wrong_entries + 1 >= CAST($2 AS BIGINT) "     \
	  "THEN 'denied' ELSE status END WHERE user_code = $1 RETURNING wrong_entries",            \
	  NULL)                                                                                    \
	/* a code yields tokens once: of two nodes consuming it, one changes the row */            \
	X(OAUTH_DEVICE_CONSUME,                                                                    \
	  "UPDATE oauth_device_codes SET status = 'consumed' "                                     \
	  "WHERE device_hash = $1 AND status = 'approved'",                                        \
	  NULL)                                                                                    \
	X(OAUTH_DEVICE_PURGE,                                                                      \
	  "DELETE FROM oauth_device_codes WHERE device_hash IN (SELECT device_hash FROM "          \
	  "oauth_device_codes WHERE expires_ms <= $1 ORDER BY expires_ms LIMIT $2)",               \
	  NULL)                                                                                    \
	X(OAUTH_REFRESH_INSERT,                                                                    \
	  "INSERT INTO oauth_refresh_tokens (" TS__OAUTH_REFRESH_COLS ") "                         \
	  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0)",                                         \
	  NULL)                                                                                    \
	X(OAUTH_REFRESH_GET,                                                                       \
	  "SELECT " TS__OAUTH_REFRESH_COLS " FROM oauth_refresh_tokens WHERE token_hash = $1",     \
	  "SELECT " TS__OAUTH_REFRESH_COLS " FROM oauth_refresh_tokens WHERE token_hash = $1 "     \
	  "FOR UPDATE")                                                                            \
	X(OAUTH_REFRESH_SPEND,                                                                     \
	  "UPDATE oauth_refresh_tokens SET used_ms = $2 "                                          \
	  "WHERE token_hash = $1 AND used_ms = 0 AND revoked_ms = 0",                              \
	  NULL)                                                                                    \
	/* tokens of the family made at or after $2 (a spend's successors) and spent since */      \
	X(OAUTH_REFRESH_SPENT_SINCE,                                                               \
	  "SELECT COUNT(*) FROM oauth_refresh_tokens WHERE family_id = $1 AND created_ms >= $2 "   \
	  "AND used_ms <> 0",                                                                      \
	  NULL)                                                                                    \
	X(OAUTH_REFRESH_REVOKE_FAMILY,                                                             \
	  "UPDATE oauth_refresh_tokens SET revoked_ms = $2 WHERE family_id = $1 AND revoked_ms = " \
	  "0",                                                                                     \
	  NULL)                                                                                    \
	/* every access token the family gave dies with it */                                      \
	X(OAUTH_REFRESH_REVOKE_SESSIONS,                                                           \
	  "UPDATE sessions SET revoked_ms = $2 WHERE revoked_ms IS NULL AND session_id IN "        \
	  "(SELECT session_id FROM oauth_refresh_tokens WHERE family_id = $1)",                    \
	  NULL)                                                                                    \
	X(OAUTH_REFRESH_PURGE,                                                                     \
	  "DELETE FROM oauth_refresh_tokens WHERE token_hash IN (SELECT token_hash FROM "          \
	  "oauth_refresh_tokens WHERE expires_ms <= $1 ORDER BY expires_ms LIMIT $2)",             \
	  NULL)                                                                                    \
	X(OAUTH_FAIL_GET,                                                                          \
	  "SELECT failures, window_start_ms, locked_until_ms FROM oauth_entry_failures "           \
	  "WHERE client_key = $1",                                                                 \
	  NULL)                                                                                    \
	/* $2 now, $3 failures that lock, $4 the window, $5 the lock (ms); a window past restarts  \
	 */                                                                                        \
	X(OAUTH_FAIL_ADD,                                                                          \
	  "INSERT INTO oauth_entry_failures (client_key, window_start_ms, failures, "              \
	  "locked_until_ms, expires_ms) VALUES ($1, $2, 1, CASE WHEN CAST($3 AS BIGINT) <= 1 "     \
	  "THEN $2 + CAST($5 AS BIGINT) ELSE 0 END, $2 + CAST($4 AS BIGINT) + CAST($5 AS "         \
	  "BIGINT)) "                                                                              \
	  "ON CONFLICT (client_key) DO UPDATE SET "                                                \
	  "failures = CASE WHEN oauth_entry_failures.window_start_ms + CAST($4 AS BIGINT) <= $2 "  \
	  "THEN 1 ELSE oauth_entry_failures.failures + 1 END, "                                    \
	  "window_start_ms = CASE WHEN oauth_entry_failures.window_start_ms + CAST($4 AS BIGINT) " \
	  "<= $2 THEN $2 ELSE oauth_entry_failures.window_start_ms END, "                          \
	  "locked_until_ms = CASE WHEN (CASE WHEN oauth_entry_failures.window_start_ms + "         \
	  "CAST($4 AS BIGINT) <= $2 THEN 1 ELSE oauth_entry_failures.failures + 1 END) >= "        \
	  "CAST($3 AS BIGINT) THEN $2 + CAST($5 AS BIGINT) "                                       \
	  "ELSE oauth_entry_failures.locked_until_ms END, "                                        \
	  "expires_ms = $2 + CAST($4 AS BIGINT) + CAST($5 AS BIGINT) "                             \
	  "RETURNING failures, locked_until_ms",                                                   \
	  NULL)                                                                                    \
	X(OAUTH_FAIL_PURGE,                                                                        \
	  "DELETE FROM oauth_entry_failures WHERE client_key IN (SELECT client_key FROM "          \
	  "oauth_entry_failures WHERE expires_ms <= $1 ORDER BY expires_ms LIMIT $2)",             \
	  NULL)                                                                                    \
	/* one key per generation: of two nodes making the same key at once, one inserts */        \
	X(OAUTH_KEY_INSERT,                                                                        \
	  "INSERT INTO oauth_signing_keys (kid, public_jwk, created_ms, retired_ms, generation) "  \
	  "VALUES ($1, $2, $3, 0, $4) ON CONFLICT (generation) DO NOTHING",                        \
	  NULL)                                                                                    \
	/* the live keys first, newest (highest generation) first */                               \
	X(OAUTH_KEYS_LIVE,                                                                         \
	  "SELECT kid, public_jwk, created_ms, retired_ms, generation FROM oauth_signing_keys "    \
	  "WHERE retired_ms = 0 OR retired_ms > $1 ORDER BY retired_ms = 0 DESC, generation "      \
	  "DESC LIMIT $2",                                                                         \
	  NULL)                                                                                    \
	X(OAUTH_KEYS_RETIRE,                                                                       \
	  "UPDATE oauth_signing_keys SET retired_ms = $1 WHERE retired_ms = 0 AND generation < "   \
	  "$2",                                                                                    \
	  NULL)                                                                                    \
	X(OAUTH_KEYS_SECRETS_PURGE,                                                                \
	  "DELETE FROM secrets WHERE owner_kind = '" TS__OAUTH_SECRET_KIND "' AND owner_id IN "    \
	  "(SELECT kid FROM oauth_signing_keys WHERE retired_ms > 0 AND retired_ms <= $1)",        \
	  NULL)                                                                                    \
	X(OAUTH_KEYS_PURGE,                                                                        \
	  "DELETE FROM oauth_signing_keys WHERE retired_ms > 0 AND retired_ms <= $1", NULL)

#endif
