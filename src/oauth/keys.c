/*
 * The ES256 key ring (docs/oauth.md "Signing keys"): P-256 pairs made with
 * OpenSSL's EVP, the private half as PKCS#8 PEM sealed with the master key in
 * the secrets table (docs/secrets.md: owner kind "oauth_signing", owner the
 * kid, name "private_key"), the public half as a JWK in oauth_signing_keys.
 * The kid is the key's RFC 7638 thumbprint. A new key is published
 * TS__OAUTH_KEY_LEAD_MS before it signs (verifiers cache the JWK Set); when
 * it takes over, the key before it retires but stays published for
 * TS__OAUTH_KEY_OVERLAP_MS, longer than any token it signed lives. Keys
 * have generations (one each, unique), so that two nodes making the same
 * key at once make one. Signatures are RFC 7518 §3.4's: SHA-256, then R and
 * S as two 32-byte big-endian integers (not the DER OpenSSL gives).
 */
#include "oauth/internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "core/json.h"

#define OAUTH_SECRET_KIND "oauth_signing" /* store/queries_oauth.h, docs/secrets.md */
#define OAUTH_SECRET_NAME "private_key"
#define P256_COORD 32
#define P256_POINT (1 + 2 * P256_COORD) /* SEC 1 §2.3.3: 0x04, X, Y */

static void pkey_free(void *p)
{
	EVP_PKEY_free(p);
}

static ts_err ossl_fail(struct ts_error *e, const char *what)
{
	return TS_FAIL(e, TS_ERR_INTERNAL, "OpenSSL could not %s", what);
}

/* The public JWK of pkey and its RFC 7638 thumbprint (the kid), both in arena a. */
static ts_err public_jwk(ts_arena_t *a, EVP_PKEY *pkey, const char **jwk, const char **kid,
                         struct ts_error *e)
{
	unsigned char pt[P256_POINT];
	size_t len = 0;
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &len) !=
	            1 ||
	    len != P256_POINT || pt[0] != 0x04)
		return ossl_fail(e, "read the P-256 public point");
	const char *x = ts_b64url_encode(a, pt + 1, P256_COORD);
	const char *y = ts_b64url_encode(a, pt + 1 + P256_COORD, P256_COORD);
	/* RFC 7638 §3.2: the required members only, in lexicographic order, no spaces */
	const char *canon = ts_arena_printf(
	        a, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	unsigned char th[TS_SHA256_LEN];
	struct ts_sha256 h;
	ts_sha256_init(&h);
	ts_sha256_update(&h, canon, strlen(canon));
	ts_sha256_final(&h, th);
	*kid = ts_b64url_encode(a, th, sizeof th);
	*jwk = ts_arena_printf(a,
	                       "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\","
	                       "\"kid\":\"%s\",\"use\":\"sig\",\"alg\":\"ES256\"}",
	                       x, y, *kid);
	return TS_ERR_OK;
}

struct key_new {
	ts_arena_t *a;
	const unsigned char *master;
	int64_t now_ms, generation;
	const char **kid;
};

static ts_err key_new(ts_store_conn_t *c, void *ctx, struct ts_error *e)
{
	struct key_new *t = ctx;
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pkey == NULL)
		return ossl_fail(e, "make a P-256 key");
	ts_arena_defer(t->a, pkey_free, pkey);
	const char *jwk = NULL, *kid = NULL;
	ts_err rc = public_jwk(t->a, pkey, &jwk, &kid, e);
	if (rc != TS_ERR_OK)
		return rc;
	BIO *bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return ossl_fail(e, "write the private key");
	}
	char *pem = NULL;
	long n = BIO_get_mem_data(bio, &pem);
	/* the row first: when the generation exists, nothing is sealed either */
	struct ts_store_oauth_key row = {.kid = kid,
	                                 .public_jwk = jwk,
	                                 .created_ms = t->now_ms,
	                                 .generation = t->generation};
	bool inserted = false;
	rc = ts_store_oauth_key_insert(c, &row, &inserted, e);
	struct ts_secret_key sk;
	ts_secret_key_derive(t->master, &sk);
	if (rc == TS_ERR_OK && inserted)
		rc = ts_store_secret_seal_put(c, t->a, &sk, OAUTH_SECRET_KIND, kid,
		                              OAUTH_SECRET_NAME, (const unsigned char *)pem,
		                              (size_t)n, t->now_ms, e);
	ts_secret_key_wipe(&sk);
	BIO_free(bio); /* a secure-heap BIO: its memory is wiped when freed */
	if (rc == TS_ERR_OK && inserted && t->kid != NULL)
		*t->kid = kid;
	return rc;
}

ts_err ts__oauth_key_new(ts_store_conn_t *c, ts_arena_t *a,
                         const unsigned char master[TS_MASTER_KEY_LEN], int64_t now_ms,
                         int64_t generation, const char **kid, struct ts_error *e)
{
	if (kid != NULL)
		*kid = NULL;
	if (master == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no master key to seal a signing key with");
	struct key_new t = {a, master, now_ms, generation, kid};
	if (ts_store_in_tx(c))
		return key_new(c, &t, e);
	int attempt = 0;
	ts_err rc;
	do {
		rc = ts_store_begin(c, true, e);
		if (rc == TS_ERR_OK)
			rc = key_new(c, &t, e);
		if (rc == TS_ERR_OK)
			rc = ts_store_commit(c, e);
		if (rc != TS_ERR_OK)
			ts_store_rollback(c);
	} while (rc != TS_ERR_OK && ts_store_tx_retry(c, rc, &attempt));
	return rc;
}

/*
 * The ring's signing key at now_ms (docs/oauth.md "Signing keys"), the ring
 * kept: a first key made when there is none, the predecessors of the
 * signing key retired, its successor made when due. *signer NULL when a key
 * had to be made (read the ring again).
 */
static ts_err ring_step(ts_store_conn_t *c, ts_arena_t *a, const unsigned char *master,
                        int64_t now_ms, const struct ts_store_oauth_key **signer,
                        struct ts_error *e)
{
	*signer = NULL;
	struct ts_store_oauth_key *keys = NULL;
	int n = 0, live = 0;
	ts_err rc = ts_store_oauth_keys_live(c, a, now_ms, TS__OAUTH_KEYS_MAX, &keys, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	int64_t top = 0;
	for (int i = 0; i < n; i++) {
		top = keys[i].generation > top ? keys[i].generation : top;
		live += keys[i].retired_ms == 0; /* the live keys come first, newest first */
	}
	if (live == 0)
		return ts__oauth_key_new(c, a, master, now_ms, top + 1, NULL, e);
	/* the newest published long enough signs; else the oldest (a store's first key) */
	const struct ts_store_oauth_key *s = &keys[live - 1];
	for (int i = 0; i < live; i++) {
		if (now_ms - keys[i].created_ms >= TS__OAUTH_KEY_LEAD_MS) {
			s = &keys[i];
			break;
		}
	}
	if (s != &keys[live - 1])
		rc = ts_store_oauth_keys_retire(c, s->generation, now_ms + TS__OAUTH_KEY_OVERLAP_MS,
		                                e);
	/* due to rotate and no successor yet: publish it now, it signs after the lead */
	if (rc == TS_ERR_OK && s == &keys[0] &&
	    now_ms - s->created_ms >= TS__OAUTH_KEY_ROTATE_MS - TS__OAUTH_KEY_LEAD_MS)
		rc = ts__oauth_key_new(c, a, master, now_ms, s->generation + 1, NULL, e);
	if (rc == TS_ERR_OK)
		*signer = s;
	return rc;
}

/* The current key's kid and private key (arena-owned), the ring kept (ring_step). */
static ts_err current(ts_store_conn_t *c, ts_arena_t *a, const unsigned char *master,
                      int64_t now_ms, const char **kid, EVP_PKEY **pkey, struct ts_error *e)
{
	*pkey = NULL;
	const struct ts_store_oauth_key *signer = NULL;
	ts_err rc = ring_step(c, a, master, now_ms, &signer, e);
	if (rc == TS_ERR_OK && signer == NULL) /* a first key was made, here or elsewhere */
		rc = ring_step(c, a, master, now_ms, &signer, e);
	if (rc == TS_ERR_OK && signer == NULL)
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "no signing key could be made");
	if (rc != TS_ERR_OK)
		return rc;
	*kid = signer->kid;
	struct ts_secret_key sk;
	ts_secret_key_derive(master, &sk);
	unsigned char *pem = NULL;
	size_t len = 0;
	bool found = false;
	rc = ts_store_secret_open_get(c, a, &sk, OAUTH_SECRET_KIND, *kid, OAUTH_SECRET_NAME, &pem,
	                              &len, &found, e);
	ts_secret_key_wipe(&sk);
	if (rc != TS_ERR_OK)
		return rc;
	if (!found)
		return TS_FAIL(e, TS_ERR_INTERNAL, "signing key %s has no sealed private key",
		               *kid);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	*pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (*pkey == NULL || EVP_PKEY_get_base_id(*pkey) != EVP_PKEY_EC ||
	    EVP_PKEY_get_bits(*pkey) != 256) {
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
		return TS_FAIL(e, TS_ERR_INTERNAL, "signing key %s is not a P-256 key", *kid);
	}
	ts_arena_defer(a, pkey_free, *pkey);
	return TS_ERR_OK;
}

/* RFC 7518 §3.4: the DER ECDSA-Sig-Value OpenSSL gives, as R || S of 32 bytes each. */
static ts_err es256(EVP_PKEY *pkey, const char *input, size_t n,
                    unsigned char out[TS__OAUTH_ES256_SIG_LEN], struct ts_error *e)
{
	unsigned char der[128];
	size_t der_len = sizeof der;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	         EVP_DigestSign(md, der, &der_len, (const unsigned char *)input, n) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return ossl_fail(e, "sign with ES256");
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r = NULL, *s = NULL;
	if (sig != NULL)
		ECDSA_SIG_get0(sig, &r, &s);
	ok = sig != NULL && BN_bn2binpad(r, out, P256_COORD) == P256_COORD &&
	     BN_bn2binpad(s, out + P256_COORD, P256_COORD) == P256_COORD;
	ECDSA_SIG_free(sig);
	return ok ? TS_ERR_OK : ossl_fail(e, "read the ECDSA signature");
}

ts_err ts__oauth_jwt_sign(ts_store_conn_t *c, ts_arena_t *a,
                          const unsigned char master[TS_MASTER_KEY_LEN], int64_t now_ms,
                          const json_t *claims, const char **jwt, struct ts_error *e)
{
	*jwt = NULL;
	if (master == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "no master key to open the signing key with");
	size_t clen = 0;
	const char *body = ts_json_dump(a, claims, &clen);
	if (body == NULL || clen > TS__OAUTH_JWT_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the claims are not JSON of at most %d bytes",
		               TS__OAUTH_JWT_MAX);
	const char *kid = NULL;
	EVP_PKEY *pkey = NULL;
	ts_err rc = current(c, a, master, now_ms, &kid, &pkey, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* RFC 7515 §7.1: BASE64URL(header) '.' BASE64URL(payload), then the signature's */
	const char *header =
	        ts_arena_printf(a, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", kid);
	const char *input = ts_arena_printf(
	        a, "%s.%s", ts_b64url_encode(a, (const unsigned char *)header, strlen(header)),
	        ts_b64url_encode(a, (const unsigned char *)body, clen));
	unsigned char sig[TS__OAUTH_ES256_SIG_LEN];
	rc = es256(pkey, input, strlen(input), sig, e);
	if (rc != TS_ERR_OK)
		return rc;
	*jwt = ts_arena_printf(a, "%s.%s", input, ts_b64url_encode(a, sig, sizeof sig));
	return TS_ERR_OK;
}

ts_err ts__oauth_jwks(ts_store_conn_t *c, ts_arena_t *a, int64_t now_ms, const char **jwks,
                      struct ts_error *e)
{
	*jwks = NULL;
	struct ts_store_oauth_key *keys = NULL;
	int n = 0;
	ts_err rc = ts_store_oauth_keys_live(c, a, now_ms, TS__OAUTH_KEYS_MAX, &keys, &n, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* the rows hold JWK objects this file wrote: pasted as they are */
	const char *out = "{\"keys\":[";
	for (int i = 0; i < n; i++)
		out = ts_arena_printf(a, "%s%s%s", out, i > 0 ? "," : "", keys[i].public_jwk);
	*jwks = ts_arena_printf(a, "%s]}", out);
	return TS_ERR_OK;
}
