/*
 * JWS compact parsing, JWK Set import and signature verification on
 * OpenSSL 3 EVP (jose.h). Nothing here writes a signature algorithm by hand:
 * OpenSSL checks PKCS #1 v1.5 and PSS paddings and ECDSA, and HMAC is
 * OpenSSL's, compared with CRYPTO_memcmp. What is written here is the JOSE
 * framing around it, which is where JWT libraries have gone wrong:
 *
 * - the algorithm comes from the caller's allow-list, never from the token
 *   alone; "none" is refused whatever the list says (RFC 8725 §3.1, §3.2);
 * - a key is used only with an algorithm of its own type, and HS* only with
 *   the client secret, so an RSA public key can never be an HMAC key (the
 *   "RS256 to HS256" confusion, RFC 8725 §2.1);
 * - ES* signatures are the fixed-size R || S of RFC 7518 §3.4, checked for
 *   their exact length and turned into the DER that OpenSSL verifies;
 * - keys are read once per JWKS document into EVP_PKEYs, each with a
 *   verification context per algorithm it may serve, so a verification is
 *   a context copy, a digest and one public-key operation.
 */
#include "oidc/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

/* RFC 4648 §4: 4 characters carry 3 bytes */
#define B64_GROUP 4
#define B64_GROUP_BYTES 3
/* SEC 1 §2.3.3: an uncompressed point is 0x04 || X || Y */
#define EC_POINT_UNCOMPRESSED 0x04
/* "e" of an RSA key: odd, at least 3, at most 64 bits (65537 in practice) */
#define RSA_E_BYTES_MAX 8
/* JSON of a token's header and payload, and of a JWKS: an ID token's claims nest little */
#define JOSE_JSON_DEPTH 16
/* an alg name quoted in a message: the longest known name, with room */
#define ALG_QUOTE_MAX 16

enum kty { KTY_NONE = 0, KTY_RSA, KTY_EC, KTY_OCT };
enum curve { CURVE_NONE = 0, CURVE_P256, CURVE_P384, CURVE_P521, CURVE__COUNT };
enum digest { MD_SHA256 = 0, MD_SHA384, MD_SHA512, MD__COUNT };

/* RFC 7518 §6.2.1.1 curve names, OpenSSL's group names, and the field size in bytes */
static const struct curve_info {
	const char *crv;
	const char *group;
	size_t bytes;
} curves[CURVE__COUNT] = {
        [CURVE_P256] = {"P-256", "prime256v1", 32},
        [CURVE_P384] = {"P-384", "secp384r1", 48},
        [CURVE_P521] = {"P-521", "secp521r1", 66},
};

/* RFC 7518 §3.1: each "alg" this file verifies */
static const struct alg_info {
	const char *name;
	enum kty kty;
	enum digest md;
	bool pss;
	enum curve curve; /* ES*: the one curve of its key (§3.4) */
} algs[] = {
        [TS_OIDC_ALG_NONE_] = {"none", KTY_NONE, MD_SHA256, false, CURVE_NONE},
        [TS_OIDC_RS256] = {"RS256", KTY_RSA, MD_SHA256, false, CURVE_NONE},
        [TS_OIDC_RS384] = {"RS384", KTY_RSA, MD_SHA384, false, CURVE_NONE},
        [TS_OIDC_RS512] = {"RS512", KTY_RSA, MD_SHA512, false, CURVE_NONE},
        [TS_OIDC_PS256] = {"PS256", KTY_RSA, MD_SHA256, true, CURVE_NONE},
        [TS_OIDC_PS384] = {"PS384", KTY_RSA, MD_SHA384, true, CURVE_NONE},
        [TS_OIDC_PS512] = {"PS512", KTY_RSA, MD_SHA512, true, CURVE_NONE},
        [TS_OIDC_ES256] = {"ES256", KTY_EC, MD_SHA256, false, CURVE_P256},
        [TS_OIDC_ES384] = {"ES384", KTY_EC, MD_SHA384, false, CURVE_P384},
        [TS_OIDC_ES512] = {"ES512", KTY_EC, MD_SHA512, false, CURVE_P521},
        [TS_OIDC_HS256] = {"HS256", KTY_OCT, MD_SHA256, false, CURVE_NONE},
        [TS_OIDC_HS384] = {"HS384", KTY_OCT, MD_SHA384, false, CURVE_NONE},
        [TS_OIDC_HS512] = {"HS512", KTY_OCT, MD_SHA512, false, CURVE_NONE},
};
#define ALG_COUNT (sizeof algs / sizeof algs[0])

/* One usable key of a JWKS. */
struct jwk {
	EVP_PKEY *pkey;
	/*
	 * A verification context per algorithm the key may serve (its type and
	 * curve, its own "alg" when given; NULL for the others), initialised once
	 * when the JWKS is read: OpenSSL 3 fetches the signature algorithm from
	 * its provider store on every EVP_DigestVerifyInit, so a verification
	 * copies one of these instead. Only read after the JWKS is made.
	 */
	EVP_MD_CTX *verify[ALG_COUNT];
	char *kid; /* NULL when the key has none */
	enum kty kty;
	enum curve curve;
	enum ts_oidc_alg alg; /* the key's own "alg"; TS_OIDC_ALG_NONE_: any of its type */
};

struct ts_oidc_jwks {
	size_t n;
	struct jwk keys[TS_OIDC_JWKS_KEYS_MAX];
};

/*
 * Digests fetched once: OpenSSL 3 looks an implicit EVP_sha256() up in its
 * provider store on every use, a cost paid per verification otherwise.
 */
static EVP_MD *digests[MD__COUNT];
static pthread_once_t digests_once = PTHREAD_ONCE_INIT;

static void digests_fetch(void)
{
	static const char *const names[MD__COUNT] = {"SHA256", "SHA384", "SHA512"};
	for (size_t i = 0; i < MD__COUNT; i++)
		digests[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

static const EVP_MD *digest(enum digest d)
{
	pthread_once(&digests_once, digests_fetch);
	return digests[d];
}

enum ts_oidc_alg ts_oidc_alg_from_name(const char *name)
{
	if (name == NULL)
		return TS_OIDC_ALG_NONE_;
	for (size_t i = 1; i < ALG_COUNT; i++)
		if (strcmp(algs[i].name, name) == 0)
			return (enum ts_oidc_alg)i;
	return TS_OIDC_ALG_NONE_;
}

const char *ts_oidc_alg_name(enum ts_oidc_alg alg)
{
	return (size_t)alg < ALG_COUNT ? algs[alg].name : algs[TS_OIDC_ALG_NONE_].name;
}

/* name for a message when it is short and plain (a token's "alg" comes from outside) */
static const char *quotable(const char *name)
{
	if (name == NULL)
		return "(absent)";
	size_t n = strlen(name);
	if (n == 0 || n > ALG_QUOTE_MAX)
		return "(unreadable)";
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '+'))
			return "(unreadable)";
	}
	return name;
}

/* The value of one base64url character (RFC 4648 §5, Table 2); -1 outside the alphabet. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Base64url without padding, strictly (RFC 7515 §2, RFC 4648 §5): only the
 * URL-safe alphabet ('=' and white space refused), no lone last character,
 * and the unused low bits of the last character zero (RFC 4648 §3.5), so
 * that each byte string has one encoding. NULL when malformed. Written out
 * rather than libsodium's decoder, which is constant-time per character and
 * several times slower; nothing decoded here is secret (tokens, public keys).
 */
static unsigned char *b64url_strict(ts_arena_t *a, const char *s, size_t n, size_t *out_len)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t tail = n % B64_GROUP, full = n - tail;
	if (tail == 1)
		return NULL;
	unsigned char *out = ts_arena_alloc(a, n / B64_GROUP * B64_GROUP_BYTES + B64_GROUP_BYTES);
	size_t o = 0;
	for (size_t i = 0; i < full; i += B64_GROUP) {
		int v0 = b64url_value(in[i]), v1 = b64url_value(in[i + 1]);
		int v2 = b64url_value(in[i + 2]), v3 = b64url_value(in[i + 3]);
		if ((v0 | v1 | v2 | v3) < 0)
			return NULL;
		uint32_t g =
		        (uint32_t)v0 << 18 | (uint32_t)v1 << 12 | (uint32_t)v2 << 6 | (uint32_t)v3;
		out[o++] = (unsigned char)(g >> 16);
		out[o++] = (unsigned char)(g >> 8);
		out[o++] = (unsigned char)g;
	}
	/* 2 characters carry 12 bits for 1 byte, 3 carry 18 bits for 2 bytes */
	if (tail > 0) {
		int v0 = b64url_value(in[full]), v1 = b64url_value(in[full + 1]);
		int v2 = tail == 3 ? b64url_value(in[full + 2]) : 0;
		if ((v0 | v1 | v2) < 0)
			return NULL;
		uint32_t g = (uint32_t)v0 << 18 | (uint32_t)v1 << 12 | (uint32_t)v2 << 6;
		if ((g & (tail == 2 ? 0xffffu : 0xffu)) != 0)
			return NULL; /* unused bits set */
		out[o++] = (unsigned char)(g >> 16);
		if (tail == 3)
			out[o++] = (unsigned char)(g >> 8);
	}
	*out_len = o;
	return out;
}

/* ---- JWS compact serialization (RFC 7515 §7.1) ---- */

/* One part decoded and parsed as a JSON object. */
static ts_err part_object(ts_arena_t *a, const char *s, size_t n, const char *what, json_t **out,
                          struct ts_error *e)
{
	size_t len = 0;
	unsigned char *raw = n > 0 ? b64url_strict(a, s, n, &len) : NULL;
	if (raw == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the JWS %s is not base64url", what);
	struct ts_json_limits lim = {.max_bytes = TS_OIDC_JWT_MAX, .max_depth = JOSE_JSON_DEPTH};
	struct ts_error je = {0};
	json_t *j = NULL;
	if (ts_json_parse((const char *)raw, len, &lim, a, &j, &je) != TS_ERR_OK)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the JWS %s is not JSON: %s", what,
		               je.message);
	if (!json_is_object(j))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the JWS %s is not a JSON object", what);
	*out = j;
	return TS_ERR_OK;
}

ts_err ts_oidc_jws_parse(ts_arena_t *a, const char *compact, size_t len, struct ts_oidc_jws *out,
                         struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	if (len > TS_OIDC_JWT_MAX)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "the JWS is longer than %d bytes",
		               TS_OIDC_JWT_MAX);
	const char *end = compact + len;
	const char *d1 = memchr(compact, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
	/* RFC 7516 §9: five parts would be a JWE, which an ID token here never is */
	if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "not a JWS in compact form (three parts)");
	struct ts_oidc_jws j = {0};
	ts_err rc = part_object(a, compact, (size_t)(d1 - compact), "header", &j.header, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* RFC 7515 §4.1.1: "alg" MUST be present */
	const json_t *alg = json_object_get(j.header, "alg");
	if (!json_is_string(alg))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the JWS header has no \"alg\" string");
	j.alg_name = json_string_value(alg);
	j.alg = ts_oidc_alg_from_name(j.alg_name);
	const json_t *kid = json_object_get(j.header, "kid");
	if (kid != NULL) {
		if (!json_is_string(kid) || json_string_length(kid) > TS_OIDC_KID_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "the JWS \"kid\" is not a string of at most %d bytes",
			               TS_OIDC_KID_MAX);
		j.kid = json_string_value(kid);
	}
	/* RFC 7515 §4.1.11: an extension the recipient does not understand makes the JWS invalid */
	if (json_object_get(j.header, "crit") != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the JWS header names critical extensions");
	rc = part_object(a, d1 + 1, (size_t)(d2 - d1 - 1), "payload", &j.payload, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t sig_len = 0;
	const unsigned char *sig = b64url_strict(a, d2 + 1, (size_t)(end - d2 - 1), &sig_len);
	if (sig == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the JWS signature is not base64url");
	j.signing_input = compact;
	j.signing_input_len = (size_t)(d2 - compact);
	j.sig = sig;
	j.sig_len = sig_len;
	*out = j;
	return TS_ERR_OK;
}

/* ---- verification ---- */

/* RFC 7518 §3.4: R || S, each the field size, as the DER ECDSA-Sig-Value OpenSSL verifies. */
static unsigned char *ecdsa_der(const unsigned char *sig, size_t n, size_t *der_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)n, NULL), *sv = BN_bin2bn(sig + n, (int)n, NULL);
	unsigned char *der = NULL;
	if (s == NULL || r == NULL || sv == NULL || ECDSA_SIG_set0(s, r, sv) != 1) {
		BN_free(r);
		BN_free(sv);
		ECDSA_SIG_free(s);
		return NULL;
	}
	int len = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	if (len <= 0)
		return NULL;
	*der_len = (size_t)len;
	return der;
}

/*
 * A context ready to verify with pkey under ai (RFC 7518 §3.3 to §3.5), or
 * NULL. A PSS one has MGF1 with the same hash and a salt as long as the hash
 * (§3.5).
 */
static EVP_MD_CTX *verify_prepare(EVP_PKEY *pkey, const struct alg_info *ai)
{
	const EVP_MD *md = digest(ai->md);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	if (ctx == NULL || md == NULL || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1 ||
	    (ai->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	                 EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	ERR_clear_error();
	return ctx;
}

/*
 * Whether j's signature holds under k with the algorithm ai. The copy of the
 * prepared context is this call's own, so threads may share k; FINALISE
 * lets OpenSSL finish on the copy instead of duplicating it once more.
 */
static bool verify_with(const struct jwk *k, const struct alg_info *ai, const struct ts_oidc_jws *j)
{
	const unsigned char *sig = j->sig;
	size_t sig_len = j->sig_len;
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx = NULL;
	bool ok = false;
	if (k->verify[j->alg] == NULL)
		goto out;
	if (ai->kty == KTY_EC) {
		size_t n = curves[ai->curve].bytes;
		if (sig_len != 2 * n || (der = ecdsa_der(sig, n, &sig_len)) == NULL)
			goto out;
		sig = der;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_MD_CTX_copy_ex(ctx, k->verify[j->alg]) != 1)
		goto out;
	EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
	ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)j->signing_input,
	                      j->signing_input_len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok;
}

/* RFC 7518 §3.2: HMAC with the client secret, at least as long as the hash output. */
static ts_err verify_hmac(const struct ts_oidc_jws *j, const struct alg_info *ai,
                          const char *secret, size_t secret_len, struct ts_error *e)
{
	const EVP_MD *md = digest(ai->md);
	if (md == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "OpenSSL has no digest for %s", ai->name);
	size_t need = (size_t)EVP_MD_get_size(md);
	if (secret == NULL)
		return TS_FAIL(e, TS_ERR_FORBIDDEN,
		               "%s needs the client secret; no JWKS key is an HMAC key", ai->name);
	if (secret_len < need || secret_len > INT32_MAX)
		return TS_FAIL(e, TS_ERR_FORBIDDEN,
		               "the client secret is shorter than the %zu bytes %s needs", need,
		               ai->name);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	if (HMAC(md, secret, (int)secret_len, (const unsigned char *)j->signing_input,
	         j->signing_input_len, mac, &mac_len) == NULL) {
		ERR_clear_error();
		return TS_FAIL(e, TS_ERR_INTERNAL, "HMAC failed");
	}
	bool ok = j->sig_len == mac_len && CRYPTO_memcmp(mac, j->sig, mac_len) == 0;
	OPENSSL_cleanse(mac, sizeof mac);
	if (!ok)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "the %s MAC does not match", ai->name);
	return TS_ERR_OK;
}

ts_err ts_oidc_jws_verify(const struct ts_oidc_jws *j, const struct ts_oidc_jwks *jwks,
                          const enum ts_oidc_alg *allowed, size_t n_allowed, const char *hs_secret,
                          size_t hs_len, bool *unknown_kid, struct ts_error *e)
{
	if (unknown_kid != NULL)
		*unknown_kid = false;
	/* RFC 8725 §3.1: the algorithm is the caller's choice; "none" never is */
	if (j->alg == TS_OIDC_ALG_NONE_ || (size_t)j->alg >= ALG_COUNT)
		return TS_FAIL(e, TS_ERR_FORBIDDEN, "the algorithm %s is not accepted",
		               quotable(j->alg_name));
	bool listed = false;
	for (size_t i = 0; i < n_allowed && !listed; i++)
		listed = allowed[i] == j->alg;
	if (!listed)
		return TS_FAIL(e, TS_ERR_FORBIDDEN,
		               "the algorithm %s is not allowed for this issuer",
		               algs[j->alg].name);
	const struct alg_info *ai = &algs[j->alg];
	if (ai->kty == KTY_OCT)
		return verify_hmac(j, ai, hs_secret, hs_len, e);
	bool named = false;
	size_t tried = 0;
	for (size_t i = 0; jwks != NULL && i < jwks->n; i++) {
		const struct jwk *k = &jwks->keys[i];
		if (j->kid != NULL) {
			if (k->kid == NULL || strcmp(k->kid, j->kid) != 0)
				continue;
			named = true;
		}
		/* RFC 8725 §3.1: a key is used with algorithms of its own type only */
		if (k->kty != ai->kty || k->curve != ai->curve ||
		    (k->alg != TS_OIDC_ALG_NONE_ && k->alg != j->alg))
			continue;
		tried++;
		if (verify_with(k, ai, j))
			return TS_ERR_OK;
	}
	if (j->kid != NULL && !named) {
		if (unknown_kid != NULL)
			*unknown_kid = true;
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "no key of the JWKS has the token's kid");
	}
	if (tried == 0) {
		if (unknown_kid != NULL && j->kid == NULL)
			*unknown_kid = true;
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "no key of the JWKS is a %s key", ai->name);
	}
	return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "the %s signature does not verify", ai->name);
}

/* ---- JWK Set (RFC 7517 §5) ---- */

void ts_oidc_jwks_free(struct ts_oidc_jwks *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++) {
		for (size_t a = 0; a < ALG_COUNT; a++)
			EVP_MD_CTX_free(k->keys[i].verify[a]);
		EVP_PKEY_free(k->keys[i].pkey);
		ts_free(k->keys[i].kid);
	}
	ts_free(k);
}

size_t ts_oidc_jwks_count(const struct ts_oidc_jwks *k)
{
	return k != NULL ? k->n : 0;
}

/* A required base64url member of a JWK, decoded; NULL when absent or malformed. */
static unsigned char *member_bytes(ts_arena_t *a, const json_t *jwk, const char *name, size_t *len)
{
	const json_t *v = json_object_get(jwk, name);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	return b64url_strict(a, json_string_value(v), json_string_length(v), len);
}

static EVP_PKEY *from_params(const char *type, const OSSL_PARAM *params)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	if (pkey == NULL)
		return NULL;
	/* the public key's own consistency (an EC point on its curve, not at infinity) */
	EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	bool ok = check != NULL && EVP_PKEY_public_check(check) == 1;
	EVP_PKEY_CTX_free(check);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

/* RFC 7518 §6.3.1: "n" and "e". */
static ts_err import_rsa(ts_arena_t *a, const json_t *jwk, size_t idx, EVP_PKEY **out,
                         struct ts_error *e)
{
	size_t n_len = 0, e_len = 0;
	unsigned char *n = member_bytes(a, jwk, "n", &n_len);
	unsigned char *ex = member_bytes(a, jwk, "e", &e_len);
	if (n == NULL || ex == NULL || e_len > RSA_E_BYTES_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "JWKS key %zu: an RSA key needs base64url \"n\" and \"e\"", idx);
	ts_err rc = TS_ERR_OK;
	BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(ex, (int)e_len, NULL);
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	if (bn == NULL || be == NULL) {
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "OpenSSL could not hold an RSA key");
		goto out;
	}
	int bits = BN_num_bits(bn);
	if (bits < TS_OIDC_RSA_BITS_MIN || bits > TS_OIDC_RSA_BITS_MAX) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "JWKS key %zu: an RSA modulus of %d bits (%d to %d accepted)", idx,
		             bits, TS_OIDC_RSA_BITS_MIN, TS_OIDC_RSA_BITS_MAX);
		goto out;
	}
	if (!BN_is_odd(be) || BN_is_one(be)) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu: the RSA exponent is not valid",
		             idx);
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "OpenSSL could not hold an RSA key");
		goto out;
	}
	if ((*out = from_params("RSA", params)) == NULL)
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu: the RSA key is not valid", idx);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	ERR_clear_error();
	return rc;
}

/* RFC 7518 §6.2.1: "crv", "x" and "y", each coordinate the full size of the field. */
static ts_err import_ec(ts_arena_t *a, const json_t *jwk, size_t idx, enum curve *curve,
                        EVP_PKEY **out, struct ts_error *e)
{
	const char *crv = ts_json_str(jwk, "crv");
	if (crv == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu: an EC key needs \"crv\"", idx);
	*curve = CURVE_NONE;
	for (size_t c = CURVE_P256; c < CURVE__COUNT; c++)
		if (strcmp(curves[c].crv, crv) == 0)
			*curve = (enum curve)c;
	if (*curve == CURVE_NONE)
		return TS_ERR_OK; /* a curve no algorithm here uses: skipped (RFC 7517 §5) */
	size_t size = curves[*curve].bytes, x_len = 0, y_len = 0;
	unsigned char *x = member_bytes(a, jwk, "x", &x_len);
	unsigned char *y = member_bytes(a, jwk, "y", &y_len);
	if (x == NULL || y == NULL || x_len != size || y_len != size)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "JWKS key %zu: \"x\" and \"y\" must be base64url of %zu bytes each",
		               idx, size);
	unsigned char *pub = ts_arena_alloc(a, 1 + 2 * size);
	pub[0] = EC_POINT_UNCOMPRESSED;
	memcpy(pub + 1, x, size);
	memcpy(pub + 1 + size, y, size);
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	                                         (char *)curves[*curve].group, 0),
	        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * size),
	        OSSL_PARAM_construct_end(),
	};
	*out = from_params("EC", params);
	ERR_clear_error();
	if (*out == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu: the point is not on %s", idx,
		               curves[*curve].crv);
	return TS_ERR_OK;
}

/* Whether a JWK with "key_ops" (RFC 7517 §4.3) may verify; true when it has none. */
static ts_err may_verify(const json_t *jwk, size_t idx, bool *ok, struct ts_error *e)
{
	const json_t *ops = json_object_get(jwk, "key_ops");
	*ok = true;
	if (ops == NULL)
		return TS_ERR_OK;
	if (!json_is_array(ops))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu: \"key_ops\" is not an array",
		               idx);
	*ok = false;
	size_t i;
	const json_t *op;
	json_array_foreach(ops, i, op)
	{
		if (!json_is_string(op))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "JWKS key %zu: \"key_ops\" holds a non-string", idx);
		if (strcmp(json_string_value(op), "verify") == 0)
			*ok = true;
	}
	return TS_ERR_OK;
}

/* Reads keys[idx] into k when it is a usable signature key; skips others. */
static ts_err read_key(ts_arena_t *a, const json_t *jwk, size_t idx, struct ts_oidc_jwks *k,
                       struct ts_error *e)
{
	if (!json_is_object(jwk))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu is not an object", idx);
	const char *kty = ts_json_str(jwk, "kty");
	enum kty type = kty == NULL               ? KTY_NONE
	                : strcmp(kty, "RSA") == 0 ? KTY_RSA
	                : strcmp(kty, "EC") == 0  ? KTY_EC
	                                          : KTY_NONE;
	if (type == KTY_NONE)
		return TS_ERR_OK; /* RFC 7517 §5: a "kty" not understood is ignored */
	const json_t *use = json_object_get(jwk, "use");
	if (use != NULL && !json_is_string(use))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu: \"use\" is not a string", idx);
	/* RFC 7517 §4.2: "enc" keys are for encryption */
	if (use != NULL && strcmp(json_string_value(use), "sig") != 0)
		return TS_ERR_OK;
	bool verify = true;
	ts_err rc = may_verify(jwk, idx, &verify, e);
	if (rc != TS_ERR_OK || !verify)
		return rc;
	const json_t *alg = json_object_get(jwk, "alg");
	if (alg != NULL && !json_is_string(alg))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "JWKS key %zu: \"alg\" is not a string", idx);
	enum ts_oidc_alg key_alg = ts_oidc_alg_from_name(json_string_value(alg));
	if (alg != NULL && key_alg == TS_OIDC_ALG_NONE_)
		return TS_ERR_OK; /* an algorithm not verified here (RSA-OAEP, EdDSA, ...) */
	if (key_alg != TS_OIDC_ALG_NONE_ && algs[key_alg].kty != type)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "JWKS key %zu: \"alg\" %s does not fit \"kty\"", idx,
		               algs[key_alg].name);
	const json_t *kid = json_object_get(jwk, "kid");
	if (kid != NULL && (!json_is_string(kid) || json_string_length(kid) > TS_OIDC_KID_MAX))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "JWKS key %zu: \"kid\" is not a string of at most %d bytes", idx,
		               TS_OIDC_KID_MAX);
	EVP_PKEY *pkey = NULL;
	enum curve curve = CURVE_NONE;
	rc = type == KTY_RSA ? import_rsa(a, jwk, idx, &pkey, e)
	                     : import_ec(a, jwk, idx, &curve, &pkey, e);
	if (rc != TS_ERR_OK || pkey == NULL)
		return rc;
	if (key_alg != TS_OIDC_ALG_NONE_ && algs[key_alg].curve != curve) {
		EVP_PKEY_free(pkey);
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "JWKS key %zu: \"alg\" %s does not fit \"crv\"", idx,
		               algs[key_alg].name);
	}
	if (k->n == TS_OIDC_JWKS_KEYS_MAX) {
		EVP_PKEY_free(pkey);
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "the JWKS has more than %d signature keys",
		               TS_OIDC_JWKS_KEYS_MAX);
	}
	struct jwk *dst = &k->keys[k->n++];
	dst->pkey = pkey;
	dst->kid = kid != NULL ? ts_strdup(json_string_value(kid)) : NULL;
	dst->kty = type;
	dst->curve = curve;
	dst->alg = key_alg;
	/* the same fit as ts_oidc_jws_verify asks of a key (RFC 8725 §3.1) */
	for (size_t i = 1; i < ALG_COUNT; i++)
		if (algs[i].kty == type && algs[i].curve == curve &&
		    (key_alg == TS_OIDC_ALG_NONE_ || key_alg == (enum ts_oidc_alg)i))
			dst->verify[i] = verify_prepare(pkey, &algs[i]);
	return TS_ERR_OK;
}

ts_err ts_oidc_jwks_parse(const char *json, size_t len, struct ts_oidc_jwks **out,
                          struct ts_error *e)
{
	*out = NULL;
	if (len > TS_OIDC_JWKS_MAX)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "the JWKS is larger than %d bytes",
		               TS_OIDC_JWKS_MAX);
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jwks *k = ts_calloc(1, sizeof *k);
	struct ts_json_limits lim = {.max_bytes = TS_OIDC_JWKS_MAX, .max_depth = JOSE_JSON_DEPTH};
	json_t *doc = NULL;
	struct ts_error je = {0};
	ts_err rc = ts_json_parse(json, len, &lim, a, &doc, &je);
	if (rc != TS_ERR_OK) {
		rc = TS_FAIL(e, rc, "the JWKS is not JSON: %s", je.message);
		goto out;
	}
	const json_t *keys = json_is_object(doc) ? json_object_get(doc, "keys") : NULL;
	if (!json_is_array(keys)) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "the JWKS is not an object with a \"keys\" array");
		goto out;
	}
	size_t i;
	const json_t *jwk;
	json_array_foreach(keys, i, jwk)
	{
		if ((rc = read_key(a, jwk, i, k, e)) != TS_ERR_OK)
			goto out;
	}
	*out = k;
	k = NULL;
out:
	ts_oidc_jwks_free(k);
	ts_arena_free(&a);
	return rc;
}
