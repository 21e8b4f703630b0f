/*
 * What Tessera's authorization server keeps in the store (docs/oauth.md),
 * shared by every node so that any node answers any poll: RFC 8628 device
 * flows (the device code as its SHA-256 only), refresh tokens (hashes only,
 * in families that rotation extends and reuse revokes), the per-address
 * counters of wrong user codes, and the public halves of the ES256 signing
 * keys (the private halves are sealed rows of the secrets table, owner kind
 * "oauth_signing", owner the kid: docs/secrets.md). Part of the store
 * interface (store/store.h); every call runs in c's transaction when one is
 * open.
 */
#ifndef TS_STORE_OAUTH_H
#define TS_STORE_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/conn.h"
#include "store/directory.h"

/* The longest hash, code, client or kid a row keeps; longer is refused. */
#define TS_STORE_OAUTH_FIELD_MAX 128
/* The longest scope or client description kept. */
#define TS_STORE_OAUTH_TEXT_MAX 512
/* The longest public JWK kept. */
#define TS_STORE_OAUTH_JWK_MAX 1024

#define TS_STORE_OAUTH_PENDING "pending"
#define TS_STORE_OAUTH_APPROVED "approved"
#define TS_STORE_OAUTH_DENIED "denied"
#define TS_STORE_OAUTH_CONSUMED "consumed"

/* One device flow (RFC 8628 §3.1, §3.2). */
struct ts_store_oauth_device {
	const char *device_hash; /* hex SHA-256 of the device code (the key) */
	const char *user_code;   /* normalised: 8 letters, uppercase, no dash */
	const char *account_id;  /* the account of the start URL */
	const char *client_id;
	const char *scope; /* may be NULL */
	const char *
	        client_info; /* who asked (User-Agent, address) for the /device page; may be NULL */
	int64_t created_ms, expires_ms;
	int64_t interval_s;   /* raised by each slow_down */
	int64_t last_poll_ms; /* 0 until the first poll */
	bool poll_slow;       /* the last poll came faster than the interval (slow_down) */
	int64_t wrong_entries;
	const char *status;     /* TS_STORE_OAUTH_PENDING ... */
	const char *user_id;    /* who decided; NULL while pending */
	const char *session_id; /* the browser session that decided; NULL while pending */
	int64_t decided_ms;
};

/* Inserts a pending flow; TS_ERR_CONFLICT when the user code (or hash) is taken. */
TS_MUST_USE ts_err ts_store_oauth_device_insert(ts_store_conn_t *c,
                                                const struct ts_store_oauth_device *d,
                                                struct ts_error *e);
/*
 * A poll at now_ms in one statement: records it and, when the flow is pending
 * and the poll came before last poll + interval, raises the interval by
 * raise_s and sets poll_slow. *out is the row after; *found false when no
 * flow has this hash. Outside a transaction it is committed on its own, with
 * the row read after the commit, and relaxed (ts_store_tx_relaxed: it only
 * paces, so a database crash may lose it); PostgreSQL then answers it in one
 * round trip. A caller that acts on the row (an approved code consumed) does
 * so in a transaction of its own, with conditional writes. TS_ERR_UNAVAILABLE
 * when its answer was lost: it may have been recorded, and running it again
 * records a second poll (which can only make it slow_down).
 */
TS_MUST_USE ts_err ts_store_oauth_device_poll(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *device_hash, int64_t now_ms,
                                              int64_t raise_s, struct ts_store_oauth_device *out,
                                              bool *found, struct ts_error *e);
/* The flow of a normalised user code, locked for the write transaction (PostgreSQL). */
TS_MUST_USE ts_err ts_store_oauth_device_by_code(ts_store_conn_t *c, ts_arena_t *a,
                                                 const char *user_code,
                                                 struct ts_store_oauth_device *out, bool *found,
                                                 struct ts_error *e);
/*
 * Decides a pending flow that has not expired at now_ms (status approved or
 * denied, by user_id through session_id). *changed 0 when it was not pending
 * any more (decided once only) or has expired.
 */
TS_MUST_USE ts_err ts_store_oauth_device_decide(ts_store_conn_t *c, const char *user_code,
                                                const char *status, const char *user_id,
                                                const char *session_id, int64_t now_ms,
                                                int64_t *changed, struct ts_error *e);
/*
 * Counts a wrong entry against a code; the kill_at-th kills a pending code
 * (denied). *wrong: its count after (0 when no such code).
 */
TS_MUST_USE ts_err ts_store_oauth_device_wrong(ts_store_conn_t *c, const char *user_code,
                                               int64_t kill_at, int64_t *wrong, struct ts_error *e);
/* Approved to consumed; *changed 0 when it was not approved (consumed on another node). */
TS_MUST_USE ts_err ts_store_oauth_device_consume(ts_store_conn_t *c, const char *device_hash,
                                                 int64_t *changed, struct ts_error *e);

/* One refresh token. */
struct ts_store_oauth_refresh {
	const char *token_hash; /* hex SHA-256 of the token (the key) */
	const char *family_id;  /* one per device sign-in; rotation keeps it */
	const char *account_id, *user_id, *client_id;
	const char *session_id; /* the access token (session) issued with it */
	int64_t created_ms, expires_ms;
	int64_t used_ms;    /* 0 until spent by a rotation */
	int64_t revoked_ms; /* 0 unless its family was revoked */
};

TS_MUST_USE ts_err ts_store_oauth_refresh_insert(ts_store_conn_t *c,
                                                 const struct ts_store_oauth_refresh *r,
                                                 struct ts_error *e);
/* The token of this hash, locked for the write transaction (PostgreSQL); *found. */
TS_MUST_USE ts_err ts_store_oauth_refresh_get(ts_store_conn_t *c, ts_arena_t *a,
                                              const char *token_hash,
                                              struct ts_store_oauth_refresh *out, bool *found,
                                              struct ts_error *e);
/* Spends a live token; *changed 0 when it was spent or revoked already. */
TS_MUST_USE ts_err ts_store_oauth_refresh_spend(ts_store_conn_t *c, const char *token_hash,
                                                int64_t now_ms, int64_t *changed,
                                                struct ts_error *e);
/*
 * *spent: how many tokens of the family created at or after since_ms (the
 * successors of a token spent then) have been spent themselves.
 */
TS_MUST_USE ts_err ts_store_oauth_refresh_spent_since(ts_store_conn_t *c, const char *family_id,
                                                      int64_t since_ms, int64_t *spent,
                                                      struct ts_error *e);
/*
 * Revokes a family: every token of it, and every session (access token) any
 * of them was issued with. *sessions (may be NULL) counts the sessions.
 */
TS_MUST_USE ts_err ts_store_oauth_refresh_revoke_family(ts_store_conn_t *c, const char *family_id,
                                                        int64_t now_ms, int64_t *sessions,
                                                        struct ts_error *e);

/* An address's wrong user codes (SPEC §8 lockout). */
struct ts_store_oauth_failures {
	int64_t failures; /* in the window that started at window_start_ms */
	int64_t window_start_ms;
	int64_t locked_until_ms; /* entries refused before this */
};
/* The counters of client_key (zeros when none). */
TS_MUST_USE ts_err ts_store_oauth_failures_get(ts_store_conn_t *c, const char *client_key,
                                               struct ts_store_oauth_failures *out,
                                               struct ts_error *e);
/*
 * Counts a wrong code from client_key at now_ms in one statement: a window
 * of window_ms restarts once past; the lock_at-th failure of a window locks
 * the address for lock_ms. *out: the counters after.
 */
TS_MUST_USE ts_err ts_store_oauth_failures_add(ts_store_conn_t *c, const char *client_key,
                                               int64_t now_ms, int64_t lock_at, int64_t window_ms,
                                               int64_t lock_ms, struct ts_store_oauth_failures *out,
                                               struct ts_error *e);

/* What a grant checks of its user (oauth/token.c), read in one statement. */
struct ts_store_oauth_standing {
	struct ts_user_row user;
	const char *account_status;
	int64_t api_keys;     /* the account's SCIM API keys */
	int64_t saml_sources; /* its SAML identity sources (0 or 1) */
};
/* The user of account_id; *found false when the account or the user is gone. */
TS_MUST_USE ts_err ts_store_oauth_user_standing(ts_store_conn_t *c, ts_arena_t *a,
                                                const char *account_id, const char *user_id,
                                                struct ts_store_oauth_standing *out, bool *found,
                                                struct ts_error *e);

/* A signing key's public half. */
struct ts_store_oauth_key {
	const char *kid;
	const char *public_jwk; /* RFC 7517 JSON object text */
	int64_t created_ms;
	int64_t retired_ms; /* 0: current; else published until then */
	int64_t generation; /* 1 for a store's first key, then one more per key: unique */
};
/* Inserts k; *inserted false (nothing written) when its generation exists already. */
TS_MUST_USE ts_err ts_store_oauth_key_insert(ts_store_conn_t *c, const struct ts_store_oauth_key *k,
                                             bool *inserted, struct ts_error *e);
/* The keys published at now_ms, live first, newest generation first; at most max; *out arena. */
TS_MUST_USE ts_err ts_store_oauth_keys_live(ts_store_conn_t *c, ts_arena_t *a, int64_t now_ms,
                                            int max, struct ts_store_oauth_key **out, int *n,
                                            struct ts_error *e);
/* Retires the current keys of a generation below below: published until until_ms. */
TS_MUST_USE ts_err ts_store_oauth_keys_retire(ts_store_conn_t *c, int64_t below, int64_t until_ms,
                                              struct ts_error *e);

/*
 * Removes what expired at now_ms: at most limit device flows, refresh tokens
 * and address counters each, and the keys retired by then with their sealed
 * private halves. *n (may be NULL) counts the rows.
 */
TS_MUST_USE ts_err ts_store_oauth_purge(ts_store_conn_t *c, int64_t now_ms, int limit, int64_t *n,
                                        struct ts_error *e);

#endif
