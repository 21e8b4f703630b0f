/*
 * Secrets sealed with the master key (docs/secrets.md): one table for every
 * kind of owner (an OIDC client's secret, a SAML service provider's private
 * key, an OAuth signing key), each row sealed by core/crypto.h's
 * ts_secret_seal_at with associated data naming its place (owner kind, owner
 * id, name) and carrying the id of the key that sealed it. And what rotating
 * the master key rewrites in one transaction: every secret, the audit trail's
 * MACs, links and checkpoints, and the key check value.
 */
#ifndef TS_STORE_SECRETS_H
#define TS_STORE_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/chain.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"

struct ts_store_conn;

/* Caps, so that a row stays a row: a PEM private key fits easily. */
#define TS_STORE_SECRET_NAME_MAX 128
#define TS_STORE_SECRET_PLAIN_MAX (64 * 1024)

/* One row of the secrets table. */
struct ts_store_secret {
	const char *owner_kind; /* "oidc_client", "saml_sp", "oauth_signing_key" */
	const char *owner_id;
	const char *name;   /* "client_secret", "private_key" */
	const char *key_id; /* the master key that sealed it (TS_SECRET_KEY_ID_LEN hex) */
	const char *sealed; /* ts_secret_seal_at's text */
	int64_t created_ms;
	int64_t updated_ms;
};

/*
 * Seals n bytes of plain under k for (kind, owner, name) and stores it,
 * replacing what was there (created_ms is kept). In c's transaction if one is
 * open, else in one of its own. TS_ERR_BAD_REQUEST when a name is empty or
 * longer than TS_STORE_SECRET_NAME_MAX, or plain exceeds
 * TS_STORE_SECRET_PLAIN_MAX. plain is not wiped: it is the caller's.
 */
TS_MUST_USE ts_err ts_store_secret_seal_put(struct ts_store_conn *c, ts_arena_t *arena,
                                            const struct ts_secret_key *k, const char *kind,
                                            const char *owner, const char *name,
                                            const unsigned char *plain, size_t n, int64_t now_ms,
                                            struct ts_error *e);
/*
 * Reads and opens the secret of (kind, owner, name): *plain (n bytes and a
 * NUL, in arena memory, wiped when the arena is freed). *found false when
 * there is none. TS_ERR_INTERNAL when it does not open: sealed under another
 * master key (the message names both key ids), or moved from another row.
 */
TS_MUST_USE ts_err ts_store_secret_open_get(struct ts_store_conn *c, ts_arena_t *arena,
                                            const struct ts_secret_key *k, const char *kind,
                                            const char *owner, const char *name,
                                            unsigned char **plain, size_t *n, bool *found,
                                            struct ts_error *e);
/* Stores a row as it is (sealed elsewhere); created_ms is kept when the row exists. */
TS_MUST_USE ts_err ts_store_secret_put(struct ts_store_conn *c, const struct ts_store_secret *s,
                                       struct ts_error *e);
/* The row of (kind, owner, name), strings in arena; *found false when there is none. */
TS_MUST_USE ts_err ts_store_secret_get(struct ts_store_conn *c, ts_arena_t *arena, const char *kind,
                                       const char *owner, const char *name,
                                       struct ts_store_secret *out, bool *found,
                                       struct ts_error *e);
/* Deletes one secret; *deleted (may be NULL) says whether there was one. */
TS_MUST_USE ts_err ts_store_secret_delete(struct ts_store_conn *c, const char *kind,
                                          const char *owner, const char *name, bool *deleted,
                                          struct ts_error *e);
/* Deletes every secret of an owner (the owner is being deleted), in c's transaction. */
TS_MUST_USE ts_err ts_store_secret_delete_owner(struct ts_store_conn *c, const char *kind,
                                                const char *owner, struct ts_error *e);
/*
 * Up to limit rows (at most TS_STORE_PAGE_MAX) after `after` (NULL: from the
 * first) in (owner_kind, owner_id, name) order, bytewise on both backends:
 * pass the last row of a page to get the next. For rotation and listings.
 */
TS_MUST_USE ts_err ts_store_secret_list(struct ts_store_conn *c, ts_arena_t *arena,
                                        const struct ts_store_secret *after, int limit,
                                        struct ts_store_secret **out, int *n, struct ts_error *e);
/* How many secrets are sealed under a key other than key_id (0 after a rotation). */
TS_MUST_USE ts_err ts_store_secret_count_not_under(struct ts_store_conn *c, const char *key_id,
                                                   int64_t *count, struct ts_error *e);

/* ---- rotating the master key (docs/secrets.md, "Rotation") ---- */

/*
 * Re-seals every secret from old to new in c's open write transaction; a row
 * that does not open under old (another key, moved, altered) fails it all
 * with its place named. *count: the rows re-sealed.
 */
TS_MUST_USE ts_err ts_store_secret_reseal_all(struct ts_store_conn *c,
                                              const struct ts_secret_key *old_key,
                                              const struct ts_secret_key *new_key, int64_t now_ms,
                                              int64_t *count, struct ts_error *e);

struct ts_store_rekey_result {
	int64_t events;      /* sealed events re-MACed */
	int64_t pending;     /* pending events re-MACed */
	int64_t checkpoints; /* checkpoints re-MACed, the genesis one included */
	/* the newest checkpoint before and after (its chain place stays, its hash changes) */
	int64_t last_chain_seq;
	char last_old_hash[TS_SHA256_HEX_LEN + 1];
	char last_new_hash[TS_SHA256_HEX_LEN + 1];
};

/*
 * Moves the audit trail from the old keys to the new ones in c's open write
 * transaction: each sealed event's MAC, link and each checkpoint's MAC is
 * first checked under old (so that a rotation cannot launder a tampered
 * trail: the first problem fails it all, TS_ERR_CONFLICT, naming the place),
 * then recomputed under new; pending events are re-MACed the same way; and
 * the store's key check value becomes new's. The caller holds the sealing
 * lock (ts_store_audit_seal_lock) and sets the store's keys to new before it
 * appends the rotation's own event.
 */
TS_MUST_USE ts_err ts_store_audit_rekey(struct ts_store_conn *c, ts_arena_t *arena,
                                        const struct ts_audit_keys *old_keys,
                                        const struct ts_audit_keys *new_keys,
                                        struct ts_store_rekey_result *out, struct ts_error *e);
/*
 * Takes the lock that lets one sealer at a time work on the trail
 * (PostgreSQL: a session advisory lock, taken outside any transaction;
 * SQLite: the write transaction's writer lock is enough, *got is always
 * true). *got false: a server's sealer holds it now.
 */
TS_MUST_USE ts_err ts_store_audit_seal_lock(struct ts_store_conn *c, bool *got, struct ts_error *e);
/* Releases it (a connection that failed has lost it with its session). */
void ts_store_audit_seal_unlock(struct ts_store_conn *c);
/* How many nodes beat at or after since_ms (store/nodes.h): rotation wants none. */
TS_MUST_USE ts_err ts_store_rotation_live_nodes(struct ts_store_conn *c, int64_t since_ms,
                                                int64_t *live, struct ts_error *e);
struct ts_store;
/*
 * Whether this process found the store's key check value moved away from its
 * master key (a rotation done while it ran): it then neither seals nor
 * appends audit events until given the new key (docs/secrets.md).
 */
bool ts_store_audit_key_stale(struct ts_store *s);
/* The key check value the store holds (hex, in arena); *found false before the first key. */
TS_MUST_USE ts_err ts_store_key_check_get(struct ts_store_conn *c, ts_arena_t *arena,
                                          const char **check, bool *found, struct ts_error *e);

#endif
