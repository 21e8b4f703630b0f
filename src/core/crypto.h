/*
 * Randomness, hashing, encodings and secret handling, all on libsodium.
 * Tokens are random and high-entropy, so they are stored as SHA-256 hashes
 * and compared in constant time; secrets at rest are sealed with the master
 * key (XChaCha20-Poly1305).
 */
#ifndef TS_CORE_CRYPTO_H
#define TS_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_SHA256_LEN 32
#define TS_SHA256_HEX_LEN 64
#define TS_MASTER_KEY_LEN 32
#define TS_UUID_LEN 36

/* Must run once before any thread starts. Returns TS_ERR_INTERNAL if libsodium cannot start. */
TS_MUST_USE ts_err ts_crypto_init(void);
void ts_random_bytes(void *buf, size_t n);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ts_hex_encode(const unsigned char *in, size_t n, char *out);
/* The value of hex digit c (either case), or -1 when c is not one. */
int ts_hex_digit(int c);
/*
 * The value of the n hex digits at s (1 <= n <= 8, either case: a JSON \u
 * escape, RFC 8259 §7), or -1 when one of them is not a hex digit.
 */
int64_t ts_hex_value(const char *s, size_t n);
/* SHA-256 of data as 64 hex characters plus NUL into out. */
void ts_sha256_hex(const void *data, size_t n, char out[TS_SHA256_HEX_LEN + 1]);
/* SHA-256 over the concatenation of n parts, as 64 hex characters plus NUL. */
void ts_sha256_hex_parts(int n, const void *const *parts, const size_t *lens,
                         char out[TS_SHA256_HEX_LEN + 1]);
/*
 * SHA-256 in steps, on OpenSSL (the CPU's SHA extensions where it has them,
 * several times faster than libsodium's portable code): for hashing data
 * that comes in pieces without copying it together. final frees the state.
 */
struct ts_sha256 {
	void *ctx;
};
void ts_sha256_init(struct ts_sha256 *h);
void ts_sha256_update(struct ts_sha256 *h, const void *data, size_t n);
void ts_sha256_final(struct ts_sha256 *h, unsigned char out[TS_SHA256_LEN]);

/* HMAC-SHA-256 (RFC 2104) in steps over ts_sha256; the key is at most one block (64 bytes). */
#define TS_HMAC_SHA256_KEY_MAX 64
struct ts_hmac_sha256 {
	struct ts_sha256 inner;
	unsigned char opad[TS_HMAC_SHA256_KEY_MAX];
};
void ts_hmac_sha256_init(struct ts_hmac_sha256 *m, const unsigned char *key, size_t keylen);
void ts_hmac_sha256_update(struct ts_hmac_sha256 *m, const void *data, size_t n);
void ts_hmac_sha256_final(struct ts_hmac_sha256 *m, unsigned char out[TS_SHA256_LEN]);

/* Constant-time equality of two strings of any length (length leaks, content not). */
bool ts_secret_equal(const char *a, const char *b);
/* A random RFC 4122 version 4 UUID, lowercase, into out (37 bytes). */
void ts_uuid_v4(char out[TS_UUID_LEN + 1]);
/*
 * A time-ordered RFC 9562 version 7 UUID: 48 bits of Unix milliseconds, then
 * 74 random bits. For ids that are index keys (users, groups): new rows land
 * next to each other in the index instead of on a random page each. The time
 * it shows is the resource's meta.created, which is public anyway.
 */
void ts_uuid_v7(char out[TS_UUID_LEN + 1]);
/* n random characters from the URL-safe alphabet A-Za-z0-9 into out (n+1 bytes). */
void ts_random_token(char *out, size_t n);
/* Base64url without padding, in arena memory. */
char *ts_b64url_encode(ts_arena_t *a, const unsigned char *in, size_t n);
/* Decodes base64url (with or without padding); NULL when malformed. */
unsigned char *ts_b64url_decode(ts_arena_t *a, const char *in, size_t *outlen);

/* Seals plaintext with the 32-byte master key; result is base64url text in arena memory. */
char *ts_secret_seal(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN],
                     const char *plaintext);
/* Opens a sealed secret; TS_ERR_INTERNAL when it was not sealed with this key. */
TS_MUST_USE ts_err ts_secret_open(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN],
                                  const char *sealed, char **plaintext, struct ts_error *e);

/*
 * As ts_secret_seal / ts_secret_open, with associated data `bound` (may be
 * NULL): the text opens only with the same key and the same `bound`
 * (RFC 8439 §2.8, AEAD additional data), so a sealed value handed to a
 * client is valid only in the context it was issued for. Open returns
 * TS_ERR_INTERNAL when it does not open.
 */
char *ts_secret_seal_bound(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN],
                           const char *plaintext, const char *bound);
TS_MUST_USE ts_err ts_secret_open_bound(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN],
                                        const char *sealed, const char *bound, char **plaintext,
                                        struct ts_error *e);

/* The length of a purpose name for ts_secret_subkey (libsodium's KDF context). */
#define TS_SUBKEY_PURPOSE_LEN 8
/*
 * A key for one purpose derived from the master key (BLAKE2b KDF), so that
 * no two uses of the master key share a key. purpose is exactly
 * TS_SUBKEY_PURPOSE_LEN characters ("adminpg1"). Wipe out after use.
 */
void ts_secret_subkey(const unsigned char master[TS_MASTER_KEY_LEN], const char *purpose,
                      unsigned char out[TS_MASTER_KEY_LEN]);

/* ---- secrets at rest, sealed with the master key (docs/secrets.md) ---- */

/* The key check value: hex of a key derived from the master key (context "tskeychk"). */
#define TS_KEY_CHECK_HEX_LEN TS_SHA256_HEX_LEN
/* A key id: the first 16 hex digits of its check value (not secret). */
#define TS_SECRET_KEY_ID_LEN 16

/*
 * The master key's check value (stored in the store's store_meta as
 * master_key_check, so that a node given another key refuses to start). It
 * is derived with libsodium's KDF and gives back nothing of the key.
 */
void ts_secret_key_check(const unsigned char master[TS_MASTER_KEY_LEN],
                         char out[TS_KEY_CHECK_HEX_LEN + 1]);

/*
 * What sealing needs of one master key: the sealing key (derived, context
 * "tsseal01", so that it is used for nothing else) and the key's id, which
 * every sealed blob carries so that a blob sealed under another key is named
 * as such rather than reported as corrupt. Wipe with ts_secret_key_wipe.
 */
struct ts_secret_key {
	unsigned char key[TS_MASTER_KEY_LEN];
	char id[TS_SECRET_KEY_ID_LEN + 1];
};
void ts_secret_key_derive(const unsigned char master[TS_MASTER_KEY_LEN], struct ts_secret_key *out);
void ts_secret_key_wipe(struct ts_secret_key *k);

/*
 * Where a sealed secret lives: the kind of its owner ("oidc_client"), the
 * owner's id and the secret's name within it ("client_secret"). All three
 * enter the associated data (RFC 8439 §2.8), so that a blob copied to another
 * row or another name does not open.
 */
struct ts_secret_place {
	const char *kind;
	const char *owner;
	const char *name;
};

/*
 * Seals n bytes of plain for place at with k: XChaCha20-Poly1305 with a
 * random 192-bit nonce, as "ts1.<key id>.<base64url(nonce || ciphertext ||
 * tag)>" in arena memory. The associated data is a length-prefixed encoding
 * of a version tag, the key id, kind, owner and name. plain is not modified;
 * wiping it is the caller's.
 */
char *ts_secret_seal_at(ts_arena_t *a, const struct ts_secret_key *k,
                        const struct ts_secret_place *at, const unsigned char *plain, size_t n);
/*
 * Opens what ts_secret_seal_at sealed: *plain (NUL-terminated after *n
 * bytes, in arena memory, wiped with sodium_memzero when a is freed).
 * TS_ERR_INTERNAL with a message naming the key id when the blob was sealed
 * under another master key, or saying that it does not open here (another
 * place, tampered) or is malformed.
 */
TS_MUST_USE ts_err ts_secret_open_at(ts_arena_t *a, const struct ts_secret_key *k,
                                     const struct ts_secret_place *at, const char *sealed,
                                     unsigned char **plain, size_t *n, struct ts_error *e);
/* The key id a sealed blob names into out; false when it is not a sealed blob. */
bool ts_secret_sealed_key_id(const char *sealed, char out[TS_SECRET_KEY_ID_LEN + 1]);

#endif
