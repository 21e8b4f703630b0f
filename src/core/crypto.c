/* Crypto helpers over libsodium. */
#include "core/crypto.h"

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"

ts_err ts_crypto_init(void)
{
	return sodium_init() < 0 ? TS_ERR_INTERNAL : TS_ERR_OK;
}

/*
 * Small requests (request and event ids, tokens) are served from a per-thread
 * buffer of the system CSPRNG's output, refilled 512 bytes at a time: one
 * getrandom call instead of one per id. Each byte is handed out once.
 */
#define RANDOM_POOL 512
#define B64_QUANTUM 4 /* RFC 4648 §4 */
#define B64_PAD_MAX 2
/* larger requests skip the pool: they would drain it for one caller */
#define RANDOM_POOL_DIRECT (RANDOM_POOL / 4)
static _Thread_local unsigned char pool[RANDOM_POOL];
static _Thread_local size_t pool_left;

void ts_random_bytes(void *buf, size_t n)
{
	if (n > RANDOM_POOL_DIRECT) {
		randombytes_buf(buf, n);
		return;
	}
	if (pool_left < n) {
		randombytes_buf(pool, sizeof pool);
		pool_left = sizeof pool;
	}
	unsigned char *from = pool + (sizeof pool - pool_left);
	memcpy(buf, from, n);
	sodium_memzero(from, n);
	pool_left -= n;
}

void ts_hex_encode(const unsigned char *in, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, in, n);
}

int ts_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t ts_hex_value(const char *s, size_t n)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = ts_hex_digit((unsigned char)s[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * OpenSSL's SHA-256 uses the CPU's SHA extensions where it has them; libsodium's
 * does not. The algorithm is fetched from OpenSSL's provider once, not per hash.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void ts_sha256_hex_parts(int n, const void *const *parts, const size_t *lens,
                         char out[TS_SHA256_HEX_LEN + 1])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	pthread_once(&sha256_once, sha256_fetch);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || sha256_md == NULL)
		abort(); /* out of memory, as everywhere else */
	EVP_DigestInit_ex2(ctx, sha256_md, NULL);
	for (int i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, parts[i], lens[i]);
	EVP_DigestFinal_ex(ctx, h, &hl);
	EVP_MD_CTX_free(ctx);
	ts_hex_encode(h, TS_SHA256_LEN, out);
}

void ts_sha256_init(struct ts_sha256 *h)
{
	pthread_once(&sha256_once, sha256_fetch);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || sha256_md == NULL)
		abort(); /* out of memory, as everywhere else */
	EVP_DigestInit_ex2(ctx, sha256_md, NULL);
	h->ctx = ctx;
}

void ts_sha256_update(struct ts_sha256 *h, const void *data, size_t n)
{
	EVP_DigestUpdate(h->ctx, data, n);
}

void ts_sha256_final(struct ts_sha256 *h, unsigned char out[TS_SHA256_LEN])
{
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, out, &len);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* RFC 2104 §2: H(K ^ opad, H(K ^ ipad, text)), K zero-padded to the block size */
#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c

void ts_hmac_sha256_init(struct ts_hmac_sha256 *m, const unsigned char *key, size_t keylen)
{
	unsigned char ipad[TS_HMAC_SHA256_KEY_MAX] = {0};
	if (keylen > sizeof ipad)
		abort(); /* the callers' keys are fixed-size derived keys */
	memset(m->opad, 0, sizeof m->opad);
	memcpy(ipad, key, keylen);
	memcpy(m->opad, key, keylen);
	for (size_t i = 0; i < sizeof ipad; i++) {
		ipad[i] ^= HMAC_IPAD;
		m->opad[i] ^= HMAC_OPAD;
	}
	ts_sha256_init(&m->inner);
	ts_sha256_update(&m->inner, ipad, sizeof ipad);
	sodium_memzero(ipad, sizeof ipad);
}

void ts_hmac_sha256_update(struct ts_hmac_sha256 *m, const void *data, size_t n)
{
	ts_sha256_update(&m->inner, data, n);
}

void ts_hmac_sha256_final(struct ts_hmac_sha256 *m, unsigned char out[TS_SHA256_LEN])
{
	unsigned char inner[TS_SHA256_LEN];
	struct ts_sha256 outer;
	ts_sha256_final(&m->inner, inner);
	ts_sha256_init(&outer);
	ts_sha256_update(&outer, m->opad, sizeof m->opad);
	ts_sha256_update(&outer, inner, sizeof inner);
	ts_sha256_final(&outer, out);
	sodium_memzero(m->opad, sizeof m->opad);
}

void ts_sha256_hex(const void *data, size_t n, char out[TS_SHA256_HEX_LEN + 1])
{
	ts_sha256_hex_parts(1, &data, &n, out);
}

bool ts_secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return false;
	return sodium_memcmp(a, b, la) == 0;
}

/*
 * RFC 9562: a UUID is 16 bytes; the version is the high nibble of byte 6
 * (§4.2), the variant the two high bits of byte 8 (§4.1, 0b10).
 */
#define UUID_BYTES 16
#define UUID_VERSION_BYTE 6
#define UUID_VARIANT_BYTE 8
#define UUID_VERSION_4 0x40
#define UUID_VERSION_7 0x70
#define UUID_LOW_NIBBLE 0x0f
#define UUID_VARIANT_RFC 0x80
#define UUID_VARIANT_MASK 0x3f
/* UUIDv7 (§5.7): 48 bits of unix_ts_ms, then 12 bits of rand_a (a counter: §6.2 method 1) */
#define UUID_V7_TS_BYTES 6
#define UUID_V7_RAND_A_BITS 12
#define UUID_V7_RAND_A_START_MAX 0x7ff /* a new millisecond's counter starts below 2048 */

/* The 8-4-4-4-12 text form of 16 bytes (RFC 9562 §4). */
static void uuid_text(const unsigned char b[UUID_BYTES], char out[TS_UUID_LEN + 1])
{
	static const int group_len[] = {8, 4, 4, 4, 12};
	char hex[2 * UUID_BYTES + 1];
	ts_hex_encode(b, UUID_BYTES, hex);
	const char *h = hex;
	char *o = out;
	for (size_t g = 0; g < sizeof group_len / sizeof group_len[0]; g++) {
		if (g > 0)
			*o++ = '-';
		memcpy(o, h, (size_t)group_len[g]);
		o += group_len[g];
		h += group_len[g];
	}
	*o = '\0';
}

void ts_uuid_v4(char out[TS_UUID_LEN + 1])
{
	unsigned char b[UUID_BYTES];
	ts_random_bytes(b, sizeof b);
	b[UUID_VERSION_BYTE] =
	        (unsigned char)((b[UUID_VERSION_BYTE] & UUID_LOW_NIBBLE) | UUID_VERSION_4);
	b[UUID_VARIANT_BYTE] =
	        (unsigned char)((b[UUID_VARIANT_BYTE] & UUID_VARIANT_MASK) | UUID_VARIANT_RFC);
	uuid_text(b, out);
}

/*
 * unix_ts_ms << 12 | rand_a of the last id this process made. RFC 9562
 * §6.2 method 1: rand_a is a counter, started at a random value below 2048
 * in each new millisecond and counted up within it, so that the ids of one
 * process sort in the order they were made (a listing by creation time and
 * id then keeps creation order). Past 4095 it carries into the time field:
 * the id borrows the next millisecond, as §6.2 allows.
 */
static _Atomic uint64_t v7_last;

void ts_uuid_v7(char out[TS_UUID_LEN + 1])
{
	unsigned char b[UUID_BYTES];
	ts_random_bytes(b, sizeof b);
	uint64_t fresh = (uint64_t)ts_now_ms() << UUID_V7_RAND_A_BITS |
	                 (((uint64_t)b[6] << CHAR_BIT | b[7]) & UUID_V7_RAND_A_START_MAX);
	uint64_t last = atomic_load(&v7_last), next;
	do
		next = fresh > last ? fresh : last + 1;
	while (!atomic_compare_exchange_weak(&v7_last, &last, next));
	uint64_t ms = next >> UUID_V7_RAND_A_BITS;
	for (int i = 0; i < UUID_V7_TS_BYTES; i++) /* big-endian */
		b[i] = (unsigned char)(ms >> (CHAR_BIT * (UUID_V7_TS_BYTES - 1 - i)));
	b[UUID_VERSION_BYTE] =
	        (unsigned char)(UUID_VERSION_7 | ((next >> CHAR_BIT) & UUID_LOW_NIBBLE));
	b[UUID_VERSION_BYTE + 1] = (unsigned char)(next & UCHAR_MAX);
	b[UUID_VARIANT_BYTE] =
	        (unsigned char)((b[UUID_VARIANT_BYTE] & UUID_VARIANT_MASK) | UUID_VARIANT_RFC);
	uuid_text(b, out);
}

/*
 * One character per random byte below the largest multiple of 62 that fits
 * in a byte (248), by rejection: uniform over the alphabet, like
 * randombytes_uniform, but from the pool (ts_random_bytes) instead of one
 * getrandom call per character, which was 2 % of a SAML sign-in.
 */
#define TOKEN_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define TOKEN_RADIX (sizeof TOKEN_ALPHABET - 1)
#define TOKEN_BYTE_LIMIT (256 / TOKEN_RADIX * TOKEN_RADIX)
#define TOKEN_DRAW 32 /* bytes drawn at a time; about 3 % of them are rejected */

void ts_random_token(char *out, size_t n)
{
	unsigned char r[TOKEN_DRAW];
	size_t i = 0;
	while (i < n) {
		size_t want = n - i < TOKEN_DRAW ? n - i : TOKEN_DRAW;
		ts_random_bytes(r, want);
		for (size_t k = 0; k < want; k++)
			if (r[k] < TOKEN_BYTE_LIMIT)
				out[i++] = TOKEN_ALPHABET[r[k] % TOKEN_RADIX];
	}
	sodium_memzero(r, sizeof r);
	out[n] = '\0';
}

char *ts_b64url_encode(ts_arena_t *a, const unsigned char *in, size_t n)
{
	size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = ts_arena_alloc(a, len);
	sodium_bin2base64(out, len, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

unsigned char *ts_b64url_decode(ts_arena_t *a, const char *in, size_t *outlen)
{
	/* RFC 4648 §5: only the URL-safe alphabet, then at most two '=' of padding */
	size_t inlen = 0;
	while ((in[inlen] >= 'A' && in[inlen] <= 'Z') || (in[inlen] >= 'a' && in[inlen] <= 'z') ||
	       (in[inlen] >= '0' && in[inlen] <= '9') || in[inlen] == '-' || in[inlen] == '_')
		inlen++;
	size_t pad = 0;
	while (in[inlen + pad] == '=')
		pad++;
	/* a quantum of 4 characters holds 3 bytes (§4): a last one of 1 character is no quantum */
	if (in[inlen + pad] != '\0' || pad > B64_PAD_MAX ||
	    (pad > 0 && (inlen + pad) % B64_QUANTUM != 0) || inlen % B64_QUANTUM == 1)
		return NULL;
	unsigned char *out = ts_arena_alloc(a, inlen + 1);
	size_t n = 0;
	const char *end = NULL;
	if (sodium_base642bin(out, inlen + 1, in, inlen, NULL, &n, &end,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != in + inlen)
		return NULL;
	*outlen = n;
	return out;
}

char *ts_secret_seal(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN],
                     const char *plaintext)
{
	return ts_secret_seal_bound(a, key, plaintext, NULL);
}

ts_err ts_secret_open(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN], const char *sealed,
                      char **plaintext, struct ts_error *e)
{
	return ts_secret_open_bound(a, key, sealed, NULL, plaintext, e);
}

char *ts_secret_seal_bound(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN],
                           const char *plaintext, const char *bound)
{
	size_t m = strlen(plaintext);
	size_t n = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + m +
	           crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned char *buf = ts_arena_alloc(a, n);
	ts_random_bytes(buf, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	        buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen,
	        (const unsigned char *)plaintext, m, (const unsigned char *)bound,
	        bound ? strlen(bound) : 0, NULL, buf, key);
	return ts_b64url_encode(a, buf, n);
}

ts_err ts_secret_open_bound(ts_arena_t *a, const unsigned char key[TS_MASTER_KEY_LEN],
                            const char *sealed, const char *bound, char **plaintext,
                            struct ts_error *e)
{
	size_t n = 0;
	unsigned char *buf = ts_b64url_decode(a, sealed, &n);
	size_t over = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
	              crypto_aead_xchacha20poly1305_ietf_ABYTES;
	if (buf == NULL || n < over)
		return TS_FAIL(e, TS_ERR_INTERNAL, "sealed secret is malformed");
	char *out = ts_arena_alloc(a, n - over + 1);
	unsigned long long mlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	            (unsigned char *)out, &mlen, NULL,
	            buf + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	            n - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, (const unsigned char *)bound,
	            bound ? strlen(bound) : 0, buf, key) != 0)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "sealed secret does not open with the master key");
	out[mlen] = '\0';
	*plaintext = out;
	return TS_ERR_OK;
}

void ts_secret_subkey(const unsigned char master[TS_MASTER_KEY_LEN], const char *purpose,
                      unsigned char out[TS_MASTER_KEY_LEN])
{
	/* libsodium's KDF: BLAKE2b keyed with the master key, personalised by purpose */
	_Static_assert(TS_SUBKEY_PURPOSE_LEN == crypto_kdf_CONTEXTBYTES, "KDF context size");
	_Static_assert(TS_MASTER_KEY_LEN == crypto_kdf_KEYBYTES, "KDF key size");
	crypto_kdf_derive_from_key(out, TS_MASTER_KEY_LEN, 1, purpose, master);
}

/* ---- secrets at rest (docs/secrets.md) ---- */

#define KDF_CONTEXT_CHECK "tskeychk" /* also the audit trail's check value (docs/audit.md) */
#define KDF_ID_CHECK 1
#define KDF_CONTEXT_SEAL "tsseal01"
#define KDF_ID_SEAL 1
#define SEAL_PREFIX "ts1."
#define SEAL_PREFIX_LEN (sizeof SEAL_PREFIX - 1)
#define SEAL_AD_TAG "tessera-secret-v1"
#define SEAL_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

void ts_secret_key_check(const unsigned char master[TS_MASTER_KEY_LEN],
                         char out[TS_KEY_CHECK_HEX_LEN + 1])
{
	unsigned char check[TS_SHA256_LEN];
	crypto_kdf_derive_from_key(check, sizeof check, KDF_ID_CHECK, KDF_CONTEXT_CHECK, master);
	ts_hex_encode(check, sizeof check, out);
	sodium_memzero(check, sizeof check);
}

void ts_secret_key_derive(const unsigned char master[TS_MASTER_KEY_LEN], struct ts_secret_key *out)
{
	char check[TS_KEY_CHECK_HEX_LEN + 1];
	crypto_kdf_derive_from_key(out->key, sizeof out->key, KDF_ID_SEAL, KDF_CONTEXT_SEAL,
	                           master);
	ts_secret_key_check(master, check);
	memcpy(out->id, check, TS_SECRET_KEY_ID_LEN);
	out->id[TS_SECRET_KEY_ID_LEN] = '\0';
}

void ts_secret_key_wipe(struct ts_secret_key *k)
{
	if (k != NULL)
		sodium_memzero(k, sizeof *k);
}

/* u64be(len) || bytes: no two different sets of fields encode alike. */
static size_t put_text(unsigned char *out, const char *s)
{
	size_t n = strlen(s);
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	memcpy(out + 8, s, n);
	return 8 + n;
}

/* The associated data of a sealed secret, in arena memory. */
static unsigned char *seal_ad(ts_arena_t *a, const char *key_id, const struct ts_secret_place *at,
                              size_t *len)
{
	const char *parts[] = {SEAL_AD_TAG, key_id, at->kind ? at->kind : "",
	                       at->owner ? at->owner : "", at->name ? at->name : ""};
	size_t total = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		total += 8 + strlen(parts[i]);
	unsigned char *ad = ts_arena_alloc(a, total);
	size_t at_byte = 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		at_byte += put_text(ad + at_byte, parts[i]);
	*len = total;
	return ad;
}

char *ts_secret_seal_at(ts_arena_t *a, const struct ts_secret_key *k,
                        const struct ts_secret_place *at, const unsigned char *plain, size_t n)
{
	size_t adlen = 0;
	unsigned char *ad = seal_ad(a, k->id, at, &adlen);
	size_t blen = SEAL_NONCE + n + SEAL_TAG;
	unsigned char *buf = ts_arena_alloc(a, blen);
	ts_random_bytes(buf, SEAL_NONCE);
	unsigned long long clen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + SEAL_NONCE, &clen, plain, n, ad, adlen,
	                                           NULL, buf, k->key);
	return ts_arena_printf(a, SEAL_PREFIX "%s.%s", k->id, ts_b64url_encode(a, buf, blen));
}

bool ts_secret_sealed_key_id(const char *sealed, char out[TS_SECRET_KEY_ID_LEN + 1])
{
	if (sealed == NULL || strncmp(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN) != 0)
		return false;
	const char *id = sealed + SEAL_PREFIX_LEN;
	for (int i = 0; i < TS_SECRET_KEY_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	if (id[TS_SECRET_KEY_ID_LEN] != '.')
		return false;
	memcpy(out, id, TS_SECRET_KEY_ID_LEN);
	out[TS_SECRET_KEY_ID_LEN] = '\0';
	return true;
}

/* An opened plaintext in an arena: wiped when the arena is freed. */
struct opened {
	size_t n;
	unsigned char data[];
};

static void wipe_opened(void *p)
{
	struct opened *o = p;
	sodium_memzero(o->data, o->n + 1);
}

ts_err ts_secret_open_at(ts_arena_t *a, const struct ts_secret_key *k,
                         const struct ts_secret_place *at, const char *sealed,
                         unsigned char **plain, size_t *n, struct ts_error *e)
{
	*plain = NULL;
	*n = 0;
	char id[TS_SECRET_KEY_ID_LEN + 1];
	if (!ts_secret_sealed_key_id(sealed, id))
		return TS_FAIL(e, TS_ERR_INTERNAL, "sealed secret is malformed");
	if (strcmp(id, k->id) != 0)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "sealed secret was sealed under master key %s, not this one (%s)",
		               id, k->id);
	size_t blen = 0;
	unsigned char *buf =
	        ts_b64url_decode(a, sealed + SEAL_PREFIX_LEN + TS_SECRET_KEY_ID_LEN + 1, &blen);
	if (buf == NULL || blen < SEAL_NONCE + SEAL_TAG)
		return TS_FAIL(e, TS_ERR_INTERNAL, "sealed secret is malformed");
	size_t adlen = 0;
	unsigned char *ad = seal_ad(a, k->id, at, &adlen);
	struct opened *o = ts_arena_alloc(a, sizeof *o + (blen - SEAL_NONCE - SEAL_TAG) + 1);
	o->n = blen - SEAL_NONCE - SEAL_TAG;
	ts_arena_defer(a, wipe_opened, o);
	unsigned long long mlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(o->data, &mlen, NULL, buf + SEAL_NONCE,
	                                               blen - SEAL_NONCE, ad, adlen, buf,
	                                               k->key) != 0)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "sealed secret does not open under master key %s: it belongs to "
		               "another place (kind, owner, name) or was altered",
		               k->id);
	o->data[mlen] = '\0';
	*plain = o->data;
	*n = (size_t)mlen;
	return TS_ERR_OK;
}
