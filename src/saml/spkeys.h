/*
 * The SP's key pairs of an account (saml-contract "SP side"): an RSA key
 * that signs AuthnRequests and decrypts EncryptedAssertions, with the
 * self-signed certificate the SP metadata publishes. The certificate is a
 * row of the store (store/saml.h); the private key is sealed with the master
 * key in the secrets table (docs/secrets.md; owner kind "saml_sp", owner the
 * key ID, name "private_key"). A rotation makes a new pair current and keeps
 * the old ones published, and able to decrypt, for TS_SAML_SP_KEY_OVERLAP_MS,
 * so that an IdP that reloads the SP metadata late still encrypts to a key
 * Tessera holds.
 */
#ifndef TS_SAML_SPKEYS_H
#define TS_SAML_SPKEYS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"
#include "store/conn.h"

#define TS_SAML_SP_KEY_OVERLAP_MS (7LL * 24 * 3600 * 1000) /* old pair published after rotation */
#define TS_SAML_SP_CERT_DAYS 3650 /* SP certificates: SAML trusts the key, not the dates */

/* An account's SP key pairs in use at some instant, newest first: [0] is current and signs. */
struct ts_saml_sp_keys {
	const char *const *key_ids;
	const char *const *certs_pem;
	const char *const *keys_pem; /* PKCS#8 PEM; wiped when the arena is freed */
	const int64_t *retired_ms;   /* 0: current; else published until then */
	size_t n;                    /* 0 when the account has none */
};

/*
 * Loads the account's pairs not retired before now_ms (ts_store_saml_keys),
 * each private key opened with master (arena memory, wiped with the arena).
 * TS_ERR_INTERNAL when a key's sealed private key is missing or does not open
 * (another master key). In the caller's transaction.
 */
TS_MUST_USE ts_err ts_saml_sp_keys_load(ts_store_conn_t *c, ts_arena_t *a,
                                        const unsigned char master[TS_MASTER_KEY_LEN],
                                        const char *account_id, int64_t now_ms,
                                        struct ts_saml_sp_keys *out, struct ts_error *e);

/*
 * Makes a new current pair for the account (ts_saml_keypair_new, CN =
 * common_name): the certificate row and the sealed private key, in the
 * caller's write transaction. *key_id (may be NULL) gets its ID (arena).
 * Does not retire the others: ts_saml_sp_key_rotate does.
 */
TS_MUST_USE ts_err ts_saml_sp_key_create(ts_store_conn_t *c, ts_arena_t *a,
                                         const unsigned char master[TS_MASTER_KEY_LEN],
                                         const char *account_id, const char *common_name,
                                         int64_t now_ms, const char **key_id, struct ts_error *e);

/*
 * A rotation: the current pairs retire at now_ms + TS_SAML_SP_KEY_OVERLAP_MS,
 * then a new pair is created (as ts_saml_sp_key_create), and pairs retired
 * before now_ms are purged. In the caller's write transaction.
 */
TS_MUST_USE ts_err ts_saml_sp_key_rotate(ts_store_conn_t *c, ts_arena_t *a,
                                         const unsigned char master[TS_MASTER_KEY_LEN],
                                         const char *account_id, const char *common_name,
                                         int64_t now_ms, const char **key_id, struct ts_error *e);

#endif
