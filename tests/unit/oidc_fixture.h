/*
 * What the OIDC unit tests (test_oidc_jose.c, test_oidc_idtoken.c) share: an
 * OpenID provider's side made with OpenSSL alone, independently of
 * src/oidc/jose.c: keys generated per run, their JWKs (RFC 7517, RFC 7518
 * §6) and compact JWS tokens signed with them (RFC 7515 §7.1; ES* as R || S,
 * RFC 7518 §3.4, converted from OpenSSL's DER here).
 */
#ifndef TS_TEST_OIDC_FIXTURE_H
#define TS_TEST_OIDC_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/json.h"
#include "oidc/jose.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define FX_EC_POINT_MAX 133 /* 0x04 || X || Y on P-521 */

/* How the fixture signs for each alg name. */
struct fx_alg {
	const char *name;
	const char *md;
	enum { FX_RSA, FX_PSS, FX_EC, FX_HMAC } kind;
	size_t ec_bytes;
};

static const struct fx_alg fx_algs[] = {
        {"RS256", "SHA256", FX_RSA, 0},  {"RS384", "SHA384", FX_RSA, 0},
        {"RS512", "SHA512", FX_RSA, 0},  {"PS256", "SHA256", FX_PSS, 0},
        {"PS384", "SHA384", FX_PSS, 0},  {"PS512", "SHA512", FX_PSS, 0},
        {"ES256", "SHA256", FX_EC, 32},  {"ES384", "SHA384", FX_EC, 48},
        {"ES512", "SHA512", FX_EC, 66},  {"HS256", "SHA256", FX_HMAC, 0},
        {"HS384", "SHA384", FX_HMAC, 0}, {"HS512", "SHA512", FX_HMAC, 0},
};

static const struct fx_alg *fx_alg(const char *name)
{
	for (size_t i = 0; i < N_ITEMS(fx_algs); i++)
		if (strcmp(fx_algs[i].name, name) == 0)
			return &fx_algs[i];
	fail_msg("no fixture algorithm %s", name);
	return NULL;
}

static char *fx_b64(ts_arena_t *a, const void *p, size_t n)
{
	return ts_b64url_encode(a, p, n);
}

static char *fx_b64_bn(ts_arena_t *a, const BIGNUM *bn)
{
	unsigned char buf[1024];
	int n = BN_bn2bin(bn, buf);
	assert_true(n > 0 && n <= (int)sizeof buf);
	return fx_b64(a, buf, (size_t)n);
}

/* A JWK (a new jansson object) for the public half of k; kid may be NULL. */
static json_t *fx_jwk(ts_arena_t *a, EVP_PKEY *k, const char *kid)
{
	json_t *o = json_object();
	if (kid != NULL)
		json_object_set_new(o, "kid", json_string(kid));
	if (EVP_PKEY_is_a(k, "RSA")) {
		BIGNUM *n = NULL, *e = NULL;
		assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), 1);
		assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e), 1);
		json_object_set_new(o, "kty", json_string("RSA"));
		json_object_set_new(o, "n", json_string(fx_b64_bn(a, n)));
		json_object_set_new(o, "e", json_string(fx_b64_bn(a, e)));
		BN_free(n);
		BN_free(e);
		return o;
	}
	char group[64];
	size_t glen = 0;
	assert_int_equal(EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
	                                                sizeof group, &glen),
	                 1);
	const char *crv = strcmp(group, "prime256v1") == 0  ? "P-256"
	                  : strcmp(group, "secp384r1") == 0 ? "P-384"
	                                                    : "P-521";
	unsigned char pt[FX_EC_POINT_MAX];
	size_t len = 0;
	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
	                                                 sizeof pt, &len),
	                 1);
	assert_int_equal(pt[0], 0x04);
	size_t c = (len - 1) / 2;
	json_object_set_new(o, "kty", json_string("EC"));
	json_object_set_new(o, "crv", json_string(crv));
	json_object_set_new(o, "x", json_string(fx_b64(a, pt + 1, c)));
	json_object_set_new(o, "y", json_string(fx_b64(a, pt + 1 + c, c)));
	return o;
}

/* {"keys": [jwks...]} as text in arena memory; takes the references. */
static char *fx_jwks_text(ts_arena_t *a, json_t **keys, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, keys[i]);
	json_t *doc = json_object();
	json_object_set_new(doc, "keys", arr);
	char *out = ts_json_dump(a, doc, NULL);
	json_decref(doc);
	return out;
}

/* The signature of the bytes in[0..n) with alg (key for RSA/EC, secret for HMAC). */
static char *fx_sig(ts_arena_t *a, const char *alg_name, EVP_PKEY *key, const char *secret,
                    const char *in, size_t n)
{
	const struct fx_alg *al = fx_alg(alg_name);
	const EVP_MD *md = EVP_get_digestbyname(al->md);
	unsigned char out[1024];
	size_t out_len = sizeof out;
	if (al->kind == FX_HMAC) {
		unsigned int ml = 0;
		if (secret == NULL) {
			fail_msg("%s needs a secret", alg_name);
			return NULL;
		}
		assert_non_null(HMAC(md, secret, (int)strlen(secret), (const unsigned char *)in, n,
		                     out, &ml));
		return fx_b64(a, out, ml);
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	assert_int_equal(EVP_DigestSignInit(ctx, &pctx, md, NULL, key), 1);
	if (al->kind == FX_PSS) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestSign(ctx, out, &out_len, (const unsigned char *)in, n), 1);
	EVP_MD_CTX_free(ctx);
	if (al->kind != FX_EC)
		return fx_b64(a, out, out_len);
	const unsigned char *p = out;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)out_len);
	assert_non_null(s);
	unsigned char raw[2 * 66];
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, (int)al->ec_bytes),
	                 (int)al->ec_bytes);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + al->ec_bytes, (int)al->ec_bytes),
	                 (int)al->ec_bytes);
	ECDSA_SIG_free(s);
	return fx_b64(a, raw, 2 * al->ec_bytes);
}

/*
 * A compact JWS: header and payload JSON texts as given (so that a test can
 * write what no encoder would), signed with alg_name (which may differ from
 * the header's "alg").
 */
static char *fx_token(ts_arena_t *a, const char *header, const char *payload, const char *alg_name,
                      EVP_PKEY *key, const char *secret)
{
	char *in = ts_arena_concat(a, fx_b64(a, header, strlen(header)), ".",
	                           fx_b64(a, payload, strlen(payload)), NULL);
	return ts_arena_concat(a, in, ".", fx_sig(a, alg_name, key, secret, in, strlen(in)), NULL);
}

/* The header {"alg":alg,"kid":kid} (no kid when NULL). */
static char *fx_header(ts_arena_t *a, const char *alg, const char *kid)
{
	return kid ? ts_arena_printf(a, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid)
	           : ts_arena_printf(a, "{\"alg\":\"%s\"}", alg);
}

#endif
