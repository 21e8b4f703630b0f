/*
 * Unit tests of src/oidc/jose.c with tokens and keys made by OpenSSL in the
 * test (oidc_fixture.h): every algorithm accepted with its own key, each
 * attack of RFC 8725 §2 refused ("none", HS256 keyed with the RSA public
 * key, a key of another type or curve, an algorithm off the allow-list),
 * the kid cases of the RP certification (absent with one key and with
 * several, unknown then found after a refresh), a table of malformed
 * compact tokens (strict base64url, three parts, JSON objects without
 * duplicate names, caps) and a table of JWK Sets.
 */
#include "oidc_fixture.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"
#include "oidc/idtoken.h"

#define CLIENT_SECRET "6GbgXkQFJZ1vR3c0kq5oA8wY2mT9sLpE4dUhNiCj" /* 40 chars, as Okta's */
#define PAYLOAD "{\"iss\":\"https://op.example\",\"sub\":\"u1\",\"aud\":\"c1\"}"
#define RSA_WEAK_BITS 1024
#define FIXTURES "tests/unit/fixtures/oidc/"
#define FIXTURE_MAX 8192

/* The SubjectPublicKeyInfo PEM of k, in arena memory. */
static char *fx_public_pem(ts_arena_t *a, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *out = ts_arena_strndup(a, data, (size_t)n);
	BIO_free(b);
	return out;
}

static EVP_PKEY *rsa1, *rsa2, *rsa3, *p256, *p384, *p521, *p256b, *rsa_weak;

static const enum ts_oidc_alg all_algs[] = {
        TS_OIDC_RS256, TS_OIDC_RS384, TS_OIDC_RS512,     TS_OIDC_PS256, TS_OIDC_PS384,
        TS_OIDC_PS512, TS_OIDC_ES256, TS_OIDC_ES384,     TS_OIDC_ES512, TS_OIDC_HS256,
        TS_OIDC_HS384, TS_OIDC_HS512, TS_OIDC_ALG_NONE_,
};

/* The JWKS every test starts from: rsa1 "r1", p256 "e1", p384 "e384", p521 "e521". */
static struct ts_oidc_jwks *base_jwks(ts_arena_t *a)
{
	json_t *keys[] = {fx_jwk(a, rsa1, "r1"), fx_jwk(a, p256, "e1"), fx_jwk(a, p384, "e384"),
	                  fx_jwk(a, p521, "e521")};
	char *text = fx_jwks_text(a, keys, N_ITEMS(keys));
	struct ts_oidc_jwks *k = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	assert_int_equal(ts_oidc_jwks_count(k), 4);
	return k;
}

/* parse + verify with every algorithm allowed; *unknown as verify leaves it */
static ts_err check(ts_arena_t *a, const char *tok, const struct ts_oidc_jwks *k,
                    const char *secret, bool *unknown)
{
	struct ts_oidc_jws j;
	struct ts_error e = {0};
	ts_err rc = ts_oidc_jws_parse(a, tok, strlen(tok), &j, &e);
	if (rc != TS_ERR_OK)
		return rc;
	bool u = false;
	rc = ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs), secret,
	                        secret ? strlen(secret) : 0, &u, &e);
	if (unknown)
		*unknown = u;
	return rc;
}

static void test_valid_every_alg(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jwks *k = base_jwks(a);
	static const struct {
		const char *alg, *kid;
		EVP_PKEY **key;
	} cases[] = {
	        {"RS256", "r1", &rsa1}, {"RS384", "r1", &rsa1},   {"RS512", "r1", &rsa1},
	        {"PS256", "r1", &rsa1}, {"PS384", "r1", &rsa1},   {"PS512", "r1", &rsa1},
	        {"ES256", "e1", &p256}, {"ES384", "e384", &p384}, {"ES512", "e521", &p521},
	        {"HS256", NULL, NULL},  {"HS384", NULL, NULL},    {"HS512", NULL, NULL},
	};
	/* HS512 needs a 64-byte secret (RFC 7518 §3.2) */
	const char *secret = CLIENT_SECRET CLIENT_SECRET;
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		const char *tok =
		        fx_token(a, fx_header(a, cases[i].alg, cases[i].kid), PAYLOAD, cases[i].alg,
		                 cases[i].key ? *cases[i].key : NULL, secret);
		struct ts_oidc_jws j;
		struct ts_error e = {0};
		assert_int_equal(ts_oidc_jws_parse(a, tok, strlen(tok), &j, &e), TS_ERR_OK);
		assert_string_equal(j.alg_name, cases[i].alg);
		assert_int_equal(j.alg, ts_oidc_alg_from_name(cases[i].alg));
		assert_string_equal(ts_oidc_alg_name(j.alg), cases[i].alg);
		if (cases[i].kid)
			assert_string_equal(j.kid, cases[i].kid);
		else
			assert_null(j.kid);
		assert_string_equal(ts_json_str(j.payload, "sub"), "u1");
		bool unknown = true;
		ts_err rc = ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs), secret,
		                               strlen(secret), &unknown, &e);
		if (rc != TS_ERR_OK)
			fail_msg("%s: %s", cases[i].alg, e.message);
		assert_false(unknown);
		/* only this algorithm allowed: still accepted; another one only: refused */
		enum ts_oidc_alg only = j.alg,
		                 other = j.alg == TS_OIDC_RS256 ? TS_OIDC_ES256 : TS_OIDC_RS256;
		assert_int_equal(
		        ts_oidc_jws_verify(&j, k, &only, 1, secret, strlen(secret), NULL, &e),
		        TS_ERR_OK);
		assert_int_equal(
		        ts_oidc_jws_verify(&j, k, &other, 1, secret, strlen(secret), NULL, &e),
		        TS_ERR_FORBIDDEN);
	}
	ts_oidc_jwks_free(k);
	ts_arena_free(&a);
}

/* One byte of the signature or of the signed text changed: refused, and not as an unknown kid. */
static void test_bad_signature(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jwks *k = base_jwks(a);
	static const struct {
		const char *alg, *kid;
		EVP_PKEY **key;
	} cases[] = {{"RS256", "r1", &rsa1},
	             {"PS256", "r1", &rsa1},
	             {"ES256", "e1", &p256},
	             {"ES512", "e521", &p521},
	             {"HS256", NULL, NULL}};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		char *tok =
		        fx_token(a, fx_header(a, cases[i].alg, cases[i].kid), PAYLOAD, cases[i].alg,
		                 cases[i].key ? *cases[i].key : NULL, CLIENT_SECRET);
		bool unknown = true;
		assert_int_equal(check(a, tok, k, CLIENT_SECRET, &unknown), TS_ERR_OK);
		/* the signature's first character: another value, same length, still canonical */
		char *sig = strrchr(tok, '.') + 1;
		char *bad = ts_arena_strdup(a, tok);
		bad[sig - tok] = sig[0] == 'A' ? 'B' : 'A';
		assert_int_equal(check(a, bad, k, CLIENT_SECRET, &unknown), TS_ERR_UNAUTHORIZED);
		assert_false(unknown);
		/* the payload of another token under this signature */
		char *other =
		        fx_token(a, fx_header(a, cases[i].alg, cases[i].kid),
		                 "{\"iss\":\"https://op.example\",\"sub\":\"admin\"}", cases[i].alg,
		                 cases[i].key ? *cases[i].key : NULL, CLIENT_SECRET);
		char *mixed = ts_arena_concat(
		        a, ts_arena_strndup(a, other, (size_t)(strrchr(other, '.') - other)), ".",
		        sig, NULL);
		assert_int_equal(check(a, mixed, k, CLIENT_SECRET, &unknown), TS_ERR_UNAUTHORIZED);
		/* the signature cut short by one byte */
		size_t siglen = strlen(sig);
		char *shorter = ts_arena_strndup(a, tok, strlen(tok) - (siglen % 4 == 2 ? 2 : 1));
		assert_int_not_equal(check(a, shorter, k, CLIENT_SECRET, NULL), TS_ERR_OK);
		/* RFC 7518 §3.4: R || S exactly; a byte more (or less) is not the same signature */
		size_t raw_len = 0;
		unsigned char *raw = ts_b64url_decode(a, sig, &raw_len);
		assert_non_null(raw);
		unsigned char *longer = ts_arena_alloc(a, raw_len + 1);
		memcpy(longer, raw, raw_len);
		char *extra = ts_arena_concat(a, ts_arena_strndup(a, tok, (size_t)(sig - tok)),
		                              fx_b64(a, longer, raw_len + 1), NULL);
		assert_int_equal(check(a, extra, k, CLIENT_SECRET, NULL), TS_ERR_UNAUTHORIZED);
	}
	/* ES256 signed by another P-256 key under the kid of the published one */
	char *tok = fx_token(a, fx_header(a, "ES256", "e1"), PAYLOAD, "ES256", p256b, NULL);
	assert_int_equal(check(a, tok, k, NULL, NULL), TS_ERR_UNAUTHORIZED);
	/* RS256 signed by rsa2 under rsa1's kid */
	tok = fx_token(a, fx_header(a, "RS256", "r1"), PAYLOAD, "RS256", rsa2, NULL);
	assert_int_equal(check(a, tok, k, NULL, NULL), TS_ERR_UNAUTHORIZED);
	ts_oidc_jwks_free(k);
	ts_arena_free(&a);
}

/* RFC 8725 §3.1: "none" is refused whatever the allow-list holds. */
static void test_alg_none(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jwks *k = base_jwks(a);
	static const char *const names[] = {"none", "None", "NONE", "nOnE", "", "RS1", "HS1"};
	for (size_t i = 0; i < N_ITEMS(names); i++) {
		const char *h = ts_arena_printf(a, "{\"alg\":\"%s\"}", names[i]);
		const char *tok = ts_arena_concat(a, fx_b64(a, h, strlen(h)), ".",
		                                  fx_b64(a, PAYLOAD, strlen(PAYLOAD)), ".", NULL);
		struct ts_oidc_jws j;
		struct ts_error e = {0};
		assert_int_equal(ts_oidc_jws_parse(a, tok, strlen(tok), &j, &e), TS_ERR_OK);
		assert_int_equal(j.alg, TS_OIDC_ALG_NONE_);
		assert_int_equal(ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs),
		                                    CLIENT_SECRET, strlen(CLIENT_SECRET), NULL, &e),
		                 TS_ERR_FORBIDDEN);
		/* with an RS256 signature attached it is no better */
		const char *signed_none = fx_token(a, h, PAYLOAD, "RS256", rsa1, NULL);
		assert_int_equal(check(a, signed_none, k, CLIENT_SECRET, NULL), TS_ERR_FORBIDDEN);
	}
	ts_arena_free(&a);
	ts_oidc_jwks_free(k);
}

/*
 * RFC 8725 §2.1: HS256 keyed with the issuer's public RSA key, as text. The
 * token is a correct HMAC under that text (the last verify proves it), and
 * is refused because no JWKS key is ever an HMAC key.
 */
static void test_hs256_public_key_as_secret(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jwks *k = base_jwks(a);
	char *pem = fx_public_pem(a, rsa1);
	json_t *jwk = fx_jwk(a, rsa1, "r1");
	char *jwk_text = ts_json_dump(a, jwk, NULL);
	json_decref(jwk);
	const char *secrets[] = {pem, jwk_text};
	for (size_t i = 0; i < N_ITEMS(secrets); i++) {
		char *tok = fx_token(a, fx_header(a, "HS256", "r1"), PAYLOAD, "HS256", NULL,
		                     secrets[i]);
		struct ts_oidc_jws j;
		struct ts_error e = {0};
		assert_int_equal(ts_oidc_jws_parse(a, tok, strlen(tok), &j, &e), TS_ERR_OK);
		/* the configured client secret is not the key: the MAC does not match */
		assert_int_equal(ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs),
		                                    CLIENT_SECRET, strlen(CLIENT_SECRET), NULL, &e),
		                 TS_ERR_UNAUTHORIZED);
		/* no client secret: HS256 is refused outright, the JWKS is not consulted */
		assert_int_equal(
		        ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs), NULL, 0, NULL, &e),
		        TS_ERR_FORBIDDEN);
		/* an issuer pinned to RS256 refuses HS256 */
		enum ts_oidc_alg rs = TS_OIDC_RS256;
		assert_int_equal(ts_oidc_jws_verify(&j, k, &rs, 1, CLIENT_SECRET,
		                                    strlen(CLIENT_SECRET), NULL, &e),
		                 TS_ERR_FORBIDDEN);
		/* the token is a valid MAC under the public key's text */
		assert_int_equal(ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs), secrets[i],
		                                    strlen(secrets[i]), NULL, &e),
		                 TS_ERR_OK);
	}
	/* RFC 7518 §3.2: a secret shorter than the hash is refused, even when the MAC matches */
	const char *short_secret = "0123456789abcdef";
	char *tok = fx_token(a, fx_header(a, "HS256", NULL), PAYLOAD, "HS256", NULL, short_secret);
	assert_int_equal(check(a, tok, k, short_secret, NULL), TS_ERR_FORBIDDEN);
	ts_oidc_jwks_free(k);
	ts_arena_free(&a);
}

/* RFC 8725 §3.1: a key is used with algorithms of its own type and curve only. */
static void test_key_type_must_match(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jwks *k = base_jwks(a);
	/* ES256 under the RSA key's kid; RS256 under the EC key's kid */
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "ES256", "r1"), PAYLOAD, "ES256", p256, NULL), k,
	              NULL, NULL),
	        TS_ERR_UNAUTHORIZED);
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "RS256", "e1"), PAYLOAD, "RS256", rsa1, NULL), k,
	              NULL, NULL),
	        TS_ERR_UNAUTHORIZED);
	/* ES384 (P-384 signature) under the P-256 key's kid; ES256 signed by P-384 named ES256 */
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "ES384", "e1"), PAYLOAD, "ES384", p384, NULL), k,
	              NULL, NULL),
	        TS_ERR_UNAUTHORIZED);
	/* a PKCS #1 v1.5 signature presented as PS256, and a PSS one as RS256 */
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "PS256", "r1"), PAYLOAD, "RS256", rsa1, NULL), k,
	              NULL, NULL),
	        TS_ERR_UNAUTHORIZED);
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "RS256", "r1"), PAYLOAD, "PS256", rsa1, NULL), k,
	              NULL, NULL),
	        TS_ERR_UNAUTHORIZED);
	/* RS384 digest presented as RS256 */
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "RS256", "r1"), PAYLOAD, "RS384", rsa1, NULL), k,
	              NULL, NULL),
	        TS_ERR_UNAUTHORIZED);
	ts_oidc_jwks_free(k);
	/* a key whose own "alg" is RS384 does not verify RS256 */
	json_t *jwk = fx_jwk(a, rsa1, "r1");
	json_object_set_new(jwk, "alg", json_string("RS384"));
	char *text = fx_jwks_text(a, &jwk, 1);
	struct ts_error e = {0};
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "RS256", "r1"), PAYLOAD, "RS256", rsa1, NULL), k,
	              NULL, NULL),
	        TS_ERR_UNAUTHORIZED);
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "RS384", "r1"), PAYLOAD, "RS384", rsa1, NULL), k,
	              NULL, NULL),
	        TS_ERR_OK);
	ts_oidc_jwks_free(k);
	ts_arena_free(&a);
}

/* RP certification rp-id_token-kid-absent-single-jwks / -multiple-jwks, rp-key-rotation-*. */
static void test_kid_cases(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	/* one key, no kid anywhere */
	json_t *one[] = {fx_jwk(a, rsa1, NULL)};
	char *text = fx_jwks_text(a, one, 1);
	struct ts_oidc_jwks *k = NULL;
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	char *tok = fx_token(a, fx_header(a, "RS256", NULL), PAYLOAD, "RS256", rsa1, NULL);
	bool unknown = true;
	assert_int_equal(check(a, tok, k, NULL, &unknown), TS_ERR_OK);
	assert_false(unknown);
	/* a kid in the token, none on the key: the kid names no key */
	char *named = fx_token(a, fx_header(a, "RS256", "r1"), PAYLOAD, "RS256", rsa1, NULL);
	assert_int_equal(check(a, named, k, NULL, &unknown), TS_ERR_UNAUTHORIZED);
	assert_true(unknown);
	ts_oidc_jwks_free(k);

	/* several keys with kids, the token without: every RSA key is tried */
	json_t *many[] = {fx_jwk(a, p256, "e1"), fx_jwk(a, rsa2, "r2"), fx_jwk(a, rsa3, "r3"),
	                  fx_jwk(a, rsa1, "r1")};
	text = fx_jwks_text(a, many, N_ITEMS(many));
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	assert_int_equal(check(a, tok, k, NULL, &unknown), TS_ERR_OK);
	char *es = fx_token(a, fx_header(a, "ES256", NULL), PAYLOAD, "ES256", p256, NULL);
	assert_int_equal(check(a, es, k, NULL, &unknown), TS_ERR_OK);
	/* none of them signed this one */
	char *stranger = fx_token(a, fx_header(a, "RS256", NULL), PAYLOAD, "RS256", rsa_weak, NULL);
	assert_int_equal(check(a, stranger, k, NULL, &unknown), TS_ERR_UNAUTHORIZED);
	assert_false(unknown);
	/* no key of the type at all: a refresh may bring one */
	char *es384 = fx_token(a, fx_header(a, "ES384", NULL), PAYLOAD, "ES384", p384, NULL);
	assert_int_equal(check(a, es384, k, NULL, &unknown), TS_ERR_UNAUTHORIZED);
	assert_true(unknown);
	ts_oidc_jwks_free(k);

	/* rotation: a token from the new key "r2" is unknown to the old set, known to the new */
	json_t *old_set[] = {fx_jwk(a, rsa1, "r1")};
	text = fx_jwks_text(a, old_set, 1);
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	char *rotated = fx_token(a, fx_header(a, "RS256", "r2"), PAYLOAD, "RS256", rsa2, NULL);
	assert_int_equal(check(a, rotated, k, NULL, &unknown), TS_ERR_UNAUTHORIZED);
	assert_true(unknown);
	ts_oidc_jwks_free(k);
	json_t *new_set[] = {fx_jwk(a, rsa2, "r2"), fx_jwk(a, rsa1, "r1")};
	text = fx_jwks_text(a, new_set, 2);
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	assert_int_equal(check(a, rotated, k, NULL, &unknown), TS_ERR_OK);
	assert_int_equal(check(a, named, k, NULL, &unknown), TS_ERR_OK);
	/* two keys share a kid (RFC 7517 §4.5 only SHOULDs distinct ones): both are tried */
	ts_oidc_jwks_free(k);
	json_t *shared[] = {fx_jwk(a, rsa2, "same"), fx_jwk(a, rsa1, "same")};
	text = fx_jwks_text(a, shared, 2);
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	assert_int_equal(
	        check(a, fx_token(a, fx_header(a, "RS256", "same"), PAYLOAD, "RS256", rsa1, NULL),
	              k, NULL, &unknown),
	        TS_ERR_OK);
	ts_oidc_jwks_free(k);
	/* no JWKS at all */
	assert_int_equal(check(a, tok, NULL, NULL, &unknown), TS_ERR_UNAUTHORIZED);
	assert_true(unknown);
	ts_arena_free(&a);
}

/* Flips the unused low bits of the last base64url character of s (len % 4 is 2 or 3). */
static char *noncanonical(ts_arena_t *a, const char *s)
{
	static const char alpha[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = ts_arena_strdup(a, s);
	size_t n = strlen(out);
	assert_true(n % 4 == 2 || n % 4 == 3);
	size_t v = (size_t)(strchr(alpha, out[n - 1]) - alpha);
	out[n - 1] = alpha[v | 1];
	assert_true(out[n - 1] != s[n - 1]);
	return out;
}

static void test_malformed(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	const char *h = "{\"alg\":\"RS256\",\"kid\":\"r1\"}"; /* 26 bytes: 35 characters */
	const char *hb = fx_b64(a, h, strlen(h));
	const char *pb = fx_b64(a, PAYLOAD, strlen(PAYLOAD));
	const char *good = fx_token(a, h, PAYLOAD, "RS256", rsa1, NULL);
	const char *sb = strrchr(good, '.') + 1;
#define B64(s) fx_b64(a, s, strlen(s))
#define JOIN3(x, y, z) ts_arena_concat(a, x, ".", y, ".", z, NULL)
	struct {
		const char *name;
		const char *tok;
		ts_err rc;
	} cases[] = {
	        {"the good one", good, TS_ERR_OK},
	        {"empty", "", TS_ERR_BAD_REQUEST},
	        {"one part", hb, TS_ERR_BAD_REQUEST},
	        {"two parts", ts_arena_concat(a, hb, ".", pb, NULL), TS_ERR_BAD_REQUEST},
	        {"four parts", ts_arena_concat(a, good, ".", sb, NULL), TS_ERR_BAD_REQUEST},
	        {"five parts (JWE)", ts_arena_concat(a, good, ".", sb, ".", sb, NULL),
	         TS_ERR_BAD_REQUEST},
	        {"empty header", JOIN3("", pb, sb), TS_ERR_BAD_REQUEST},
	        {"empty payload", JOIN3(hb, "", sb), TS_ERR_BAD_REQUEST},
	        {"padding on the header", JOIN3(ts_arena_concat(a, hb, "=", NULL), pb, sb),
	         TS_ERR_BAD_REQUEST},
	        {"padding on the signature", ts_arena_concat(a, good, "==", NULL),
	         TS_ERR_BAD_REQUEST},
	        {"a space", JOIN3(hb, ts_arena_concat(a, " ", pb, NULL), sb), TS_ERR_BAD_REQUEST},
	        {"a newline", ts_arena_concat(a, good, "\n", NULL), TS_ERR_BAD_REQUEST},
	        {"standard alphabet", JOIN3(hb, pb, "ab+/"), TS_ERR_BAD_REQUEST},
	        {"non-canonical last character", JOIN3(noncanonical(a, hb), pb, sb),
	         TS_ERR_BAD_REQUEST},
	        {"non-canonical signature (2 characters left)", JOIN3(hb, pb, noncanonical(a, sb)),
	         TS_ERR_BAD_REQUEST},
	        {"one character left over", JOIN3(hb, ts_arena_concat(a, pb, "A", NULL), sb),
	         TS_ERR_BAD_REQUEST},
	        {"header not JSON", JOIN3(B64("{alg:RS256}"), pb, sb), TS_ERR_BAD_REQUEST},
	        {"header an array", JOIN3(B64("[\"RS256\"]"), pb, sb), TS_ERR_BAD_REQUEST},
	        {"header a string", JOIN3(B64("\"RS256\""), pb, sb), TS_ERR_BAD_REQUEST},
	        {"header without alg", JOIN3(B64("{\"kid\":\"r1\"}"), pb, sb), TS_ERR_BAD_REQUEST},
	        {"alg a number", JOIN3(B64("{\"alg\":256}"), pb, sb), TS_ERR_BAD_REQUEST},
	        {"alg twice", JOIN3(B64("{\"alg\":\"none\",\"alg\":\"RS256\"}"), pb, sb),
	         TS_ERR_BAD_REQUEST},
	        {"kid a number", JOIN3(B64("{\"alg\":\"RS256\",\"kid\":1}"), pb, sb),
	         TS_ERR_BAD_REQUEST},
	        {"crit", JOIN3(B64("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}"), pb, sb),
	         TS_ERR_BAD_REQUEST},
	        {"header with a NUL", JOIN3(fx_b64(a, "{\"alg\":\"RS256\"}\0", 16), pb, sb),
	         TS_ERR_BAD_REQUEST},
	        {"payload twice sub", JOIN3(hb, B64("{\"sub\":\"a\",\"sub\":\"b\"}"), sb),
	         TS_ERR_BAD_REQUEST},
	        {"payload an array", JOIN3(hb, B64("[1]"), sb), TS_ERR_BAD_REQUEST},
	        {"payload a number", JOIN3(hb, B64("123"), sb), TS_ERR_BAD_REQUEST},
	        {"payload not UTF-8", JOIN3(hb, B64("{\"sub\":\"\xff\"}"), sb), TS_ERR_BAD_REQUEST},
	        {"payload with trailing text", JOIN3(hb, B64("{\"sub\":\"a\"} x"), sb),
	         TS_ERR_BAD_REQUEST},
	        {"signature with a dot", ts_arena_concat(a, good, ".", NULL), TS_ERR_BAD_REQUEST},
	};
#undef B64
#undef JOIN3
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct ts_oidc_jws j;
		struct ts_error e = {0};
		ts_err rc = ts_oidc_jws_parse(a, cases[i].tok, strlen(cases[i].tok), &j, &e);
		if (rc != cases[i].rc)
			fail_msg("%s: %d, expected %d (%s)", cases[i].name, rc, cases[i].rc,
			         e.message);
		if (rc != TS_ERR_OK)
			assert_null(j.header);
	}
	/* the length given counts, not the NUL: a token followed by other bytes */
	struct ts_oidc_jws j;
	struct ts_error e = {0};
	char *padded = ts_arena_concat(a, good, "AAAA", NULL);
	assert_int_equal(ts_oidc_jws_parse(a, padded, strlen(good), &j, &e), TS_ERR_OK);
	/* caps: TS_OIDC_JWT_MAX bytes at most, and the kid's length */
	size_t big = TS_OIDC_JWT_MAX;
	char *huge = ts_arena_alloc(a, 2 * big);
	memset(huge, 'A', 2 * big - 1);
	assert_int_equal(ts_oidc_jws_parse(a, huge, big + 1, &j, &e), TS_ERR_TOO_LARGE);
	char *longkid = ts_arena_alloc(a, TS_OIDC_KID_MAX + 2);
	memset(longkid, 'k', TS_OIDC_KID_MAX + 1);
	const char *hk = ts_arena_printf(a, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", longkid);
	const char *tk = fx_token(a, hk, PAYLOAD, "RS256", rsa1, NULL);
	assert_int_equal(ts_oidc_jws_parse(a, tk, strlen(tk), &j, &e), TS_ERR_BAD_REQUEST);
	longkid[TS_OIDC_KID_MAX] = 0;
	hk = ts_arena_printf(a, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", longkid);
	tk = fx_token(a, hk, PAYLOAD, "RS256", rsa1, NULL);
	assert_int_equal(ts_oidc_jws_parse(a, tk, strlen(tk), &j, &e), TS_ERR_OK);
	/* a token just under the cap parses; its signature still has to verify */
	size_t pad = TS_OIDC_JWT_MAX - 1024;
	char *filler = ts_arena_alloc(a, pad + 1);
	memset(filler, 'x', pad);
	const char *pl = ts_arena_printf(a, "{\"sub\":\"u1\",\"x\":\"%s\"}", filler);
	const char *tb = fx_token(a, h, pl, "RS256", rsa1, NULL);
	if (strlen(tb) <= TS_OIDC_JWT_MAX)
		fail_msg("the big token is only %zu bytes", strlen(tb));
	assert_int_equal(ts_oidc_jws_parse(a, tb, strlen(tb), &j, &e), TS_ERR_TOO_LARGE);
	ts_arena_free(&a);
}

/* The keys a JWKS document keeps, skips and refuses. */
static void test_jwks_parse(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	struct ts_oidc_jwks *k = NULL;

	/* what is skipped without error (RFC 7517 §5) */
	json_t *enc = fx_jwk(a, rsa2, "enc");
	json_object_set_new(enc, "use", json_string("enc"));
	json_t *oaep = fx_jwk(a, rsa2, "oaep");
	json_object_set_new(oaep, "alg", json_string("RSA-OAEP"));
	json_t *ops = fx_jwk(a, rsa3, "ops");
	json_object_set_new(ops, "key_ops", json_pack("[s]", "encrypt"));
	json_t *ops_ok = fx_jwk(a, rsa3, "ops-ok");
	json_object_set_new(ops_ok, "key_ops", json_pack("[ss]", "sign", "verify"));
	json_t *sig = fx_jwk(a, p256, "sig");
	json_object_set_new(sig, "use", json_string("sig"));
	json_t *keys[] = {
	        fx_jwk(a, rsa1, "r1"),
	        enc,
	        oaep,
	        ops,
	        ops_ok,
	        sig,
	        fx_jwk(a, p384, NULL),
	        fx_jwk(a, p521, "e521"),
	        json_pack("{s:s,s:s}", "kty", "oct", "k", "c2VjcmV0"),
	        json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
	                  "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
	        json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "secp256k1", "x", "AA", "y",
	                  "AA"),
	        json_pack("{s:s}", "n", "no kty"),
	};
	char *text = fx_jwks_text(a, keys, N_ITEMS(keys));
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	assert_int_equal(ts_oidc_jwks_count(k), 5);
	/* the skipped encryption key does not verify, even under its kid */
	char *tok = fx_token(a, fx_header(a, "RS256", "enc"), PAYLOAD, "RS256", rsa2, NULL);
	bool unknown = false;
	assert_int_equal(check(a, tok, k, NULL, &unknown), TS_ERR_UNAUTHORIZED);
	assert_true(unknown);
	tok = fx_token(a, fx_header(a, "RS256", "ops-ok"), PAYLOAD, "RS256", rsa3, NULL);
	assert_int_equal(check(a, tok, k, NULL, NULL), TS_ERR_OK);
	tok = fx_token(a, fx_header(a, "ES384", NULL), PAYLOAD, "ES384", p384, NULL);
	assert_int_equal(check(a, tok, k, NULL, NULL), TS_ERR_OK);
	ts_oidc_jwks_free(k);
	k = NULL;
	assert_int_equal(ts_oidc_jwks_count(NULL), 0);
	ts_oidc_jwks_free(NULL);

	/* an empty set is a set */
	assert_int_equal(ts_oidc_jwks_parse("{\"keys\":[]}", 11, &k, &e), TS_ERR_OK);
	assert_int_equal(ts_oidc_jwks_count(k), 0);
	ts_oidc_jwks_free(k);
	k = NULL;

	/* refusals, each a document changed in one place */
	json_t *rsa_doc = fx_jwk(a, rsa1, "r1");
	json_t *ec_doc = fx_jwk(a, p256, "e1");
	const char *n = json_string_value(json_object_get(rsa_doc, "n"));
	const char *ee = json_string_value(json_object_get(rsa_doc, "e"));
	const char *x = json_string_value(json_object_get(ec_doc, "x"));
	const char *y = json_string_value(json_object_get(ec_doc, "y"));
	/* y of another point: (x, y') off the curve */
	json_t *other = fx_jwk(a, p256b, NULL);
	const char *y2 = json_string_value(json_object_get(other, "y"));
	json_t *weak = fx_jwk(a, rsa_weak, "weak");
	const char *wn = json_string_value(json_object_get(weak, "n"));
	unsigned char xb[33];
	size_t xl = 0;
	unsigned char *xr = ts_b64url_decode(a, x, &xl);
	assert_int_equal(xl, 32);
	xb[0] = 0;
	memcpy(xb + 1, xr, 32);
	const char *x33 = fx_b64(a, xb, 33);
#define RSA_KEY(nn, e_) \
	ts_arena_printf(a, "{\"keys\":[{\"kty\":\"RSA\",\"n\":%s,\"e\":%s}]}", nn, e_)
#define EC_KEY(crv, xx, yy)                                                                       \
	ts_arena_printf(a,                                                                        \
	                "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}]}", \
	                crv, xx, yy)
#define Q(s) ts_arena_printf(a, "\"%s\"", s)
	struct {
		const char *name, *doc;
		ts_err rc;
	} cases[] = {
	        {"the RSA key", RSA_KEY(Q(n), Q(ee)), TS_ERR_OK},
	        {"the EC key", EC_KEY("P-256", x, y), TS_ERR_OK},
	        {"RSA 1024 bits", RSA_KEY(Q(wn), Q(ee)), TS_ERR_BAD_REQUEST},
	        {"RSA without e",
	         ts_arena_printf(a, "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\"}]}", n),
	         TS_ERR_BAD_REQUEST},
	        {"RSA n a number", RSA_KEY("5", Q(ee)), TS_ERR_BAD_REQUEST},
	        {"RSA n padded", RSA_KEY(Q(ts_arena_concat(a, n, "=", NULL)), Q(ee)),
	         TS_ERR_BAD_REQUEST},
	        {"RSA even e", RSA_KEY(Q(n), Q("AQAA")), TS_ERR_BAD_REQUEST},
	        {"RSA e of 1", RSA_KEY(Q(n), Q("AQ")), TS_ERR_BAD_REQUEST},
	        {"EC x of 33 bytes", EC_KEY("P-256", x33, y), TS_ERR_BAD_REQUEST},
	        {"EC x of 31 bytes", EC_KEY("P-256", fx_b64(a, xr + 1, 31), y), TS_ERR_BAD_REQUEST},
	        {"EC point off the curve", EC_KEY("P-256", x, y2), TS_ERR_BAD_REQUEST},
	        {"EC P-256 point named P-384", EC_KEY("P-384", x, y), TS_ERR_BAD_REQUEST},
	        {"EC without crv",
	         ts_arena_printf(a, "{\"keys\":[{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}]}", x,
	                         y),
	         TS_ERR_BAD_REQUEST},
	        {"not JSON", "{\"keys\":[", TS_ERR_BAD_REQUEST},
	        {"an array", "[]", TS_ERR_BAD_REQUEST},
	        {"no keys", "{}", TS_ERR_BAD_REQUEST},
	        {"keys an object", "{\"keys\":{}}", TS_ERR_BAD_REQUEST},
	        {"a key not an object", "{\"keys\":[\"RSA\"]}", TS_ERR_BAD_REQUEST},
	        {"kty twice",
	         ts_arena_printf(
	                 a,
	                 "{\"keys\":[{\"kty\":\"oct\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}]}",
	                 n, ee),
	         TS_ERR_BAD_REQUEST},
	        {"kid a number",
	         ts_arena_printf(
	                 a, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":7,\"n\":\"%s\",\"e\":\"%s\"}]}", n,
	                 ee),
	         TS_ERR_BAD_REQUEST},
	        {"use a number",
	         ts_arena_printf(
	                 a, "{\"keys\":[{\"kty\":\"RSA\",\"use\":1,\"n\":\"%s\",\"e\":\"%s\"}]}", n,
	                 ee),
	         TS_ERR_BAD_REQUEST},
	        {"alg of another type",
	         ts_arena_printf(a,
	                         "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"ES256\",\"n\":\"%s\",\"e\":"
	                         "\"%s\"}]}",
	                         n, ee),
	         TS_ERR_BAD_REQUEST},
	        {"alg of another curve",
	         ts_arena_printf(a,
	                         "{\"keys\":[{\"kty\":\"EC\",\"alg\":\"ES384\",\"crv\":\"P-256\","
	                         "\"x\":\"%s\",\"y\":\"%s\"}]}",
	                         x, y),
	         TS_ERR_BAD_REQUEST},
	        {"key_ops not an array",
	         ts_arena_printf(a,
	                         "{\"keys\":[{\"kty\":\"RSA\",\"key_ops\":\"verify\",\"n\":\"%s\","
	                         "\"e\":\"%s\"}]}",
	                         n, ee),
	         TS_ERR_BAD_REQUEST},
	};
#undef RSA_KEY
#undef EC_KEY
#undef Q
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_err rc = ts_oidc_jwks_parse(cases[i].doc, strlen(cases[i].doc), &k, &e);
		if (rc != cases[i].rc)
			fail_msg("%s: %d, expected %d (%s)", cases[i].name, rc, cases[i].rc,
			         e.message);
		if (rc == TS_ERR_OK)
			assert_int_equal(ts_oidc_jwks_count(k), 1);
		else
			assert_null(k);
		ts_oidc_jwks_free(k);
		k = NULL;
	}
	json_decref(rsa_doc);
	json_decref(ec_doc);
	json_decref(other);
	json_decref(weak);

	/* caps: TS_OIDC_JWKS_KEYS_MAX usable keys, TS_OIDC_JWKS_MAX bytes */
	json_t *jwk = fx_jwk(a, p256, "e");
	char *one = ts_json_dump(a, jwk, NULL);
	json_decref(jwk);
	char *list = one;
	for (int i = 1; i < TS_OIDC_JWKS_KEYS_MAX; i++)
		list = ts_arena_concat(a, list, ",", one, NULL);
	text = ts_arena_concat(a, "{\"keys\":[", list, "]}", NULL);
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_OK);
	assert_int_equal(ts_oidc_jwks_count(k), TS_OIDC_JWKS_KEYS_MAX);
	ts_oidc_jwks_free(k);
	k = NULL;
	text = ts_arena_concat(a, "{\"keys\":[", list, ",", one, "]}", NULL);
	assert_int_equal(ts_oidc_jwks_parse(text, strlen(text), &k, &e), TS_ERR_TOO_LARGE);
	assert_null(k);
	char *huge = ts_arena_alloc(a, TS_OIDC_JWKS_MAX + 64);
	memset(huge, ' ', TS_OIDC_JWKS_MAX + 1);
	memcpy(huge, "{\"keys\":[]}", 11);
	assert_int_equal(ts_oidc_jwks_parse(huge, TS_OIDC_JWKS_MAX, &k, &e), TS_ERR_OK);
	ts_oidc_jwks_free(k);
	k = NULL;
	assert_int_equal(ts_oidc_jwks_parse(huge, TS_OIDC_JWKS_MAX + 1, &k, &e), TS_ERR_TOO_LARGE);
	ts_arena_free(&a);
}

/* Reads fixture name of tests/unit/fixtures/oidc/ into arena memory (the length in *len). */
static char *fixture(ts_arena_t *a, const char *name, size_t *len)
{
	FILE *f = fopen(ts_arena_concat(a, FIXTURES, name, NULL), "rb");
	assert_non_null(f);
	char *buf = ts_arena_alloc(a, FIXTURE_MAX + 1);
	*len = fread(buf, 1, FIXTURE_MAX, f);
	fclose(f);
	return buf;
}

/*
 * Tokens of another implementation (PyJWT, tests/unit/fixtures/oidc/make.py)
 * verify here with its JWKS and secret, and stop verifying when one byte of
 * what they sign changes; their claims pass the ID token checks.
 */
static void test_interop_pyjwt(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	size_t len = 0, secret_len = 0;
	char *text = fixture(a, "jwks.json", &len);
	char *secret = fixture(a, "secret.txt", &secret_len);
	struct ts_oidc_jwks *k = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_oidc_jwks_parse(text, len, &k, &e), TS_ERR_OK);
	assert_int_equal(ts_oidc_jwks_count(k), 4);
	static const char *const names[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	                                    "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"};
	for (size_t i = 0; i < N_ITEMS(names); i++) {
		char *tok = fixture(a, ts_arena_concat(a, names[i], ".jwt", NULL), &len);
		struct ts_oidc_jws j;
		assert_int_equal(ts_oidc_jws_parse(a, tok, len, &j, &e), TS_ERR_OK);
		assert_string_equal(j.alg_name, names[i]);
		ts_err rc = ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs), secret,
		                               secret_len, NULL, &e);
		if (rc != TS_ERR_OK)
			fail_msg("%s: %s", names[i], e.message);
		const struct ts_oidc_idtoken_expect x = {.issuer = "https://op.example.com",
		                                         .client_id = "0oa1client",
		                                         .nonce = "n-0S6_WzA2Mj",
		                                         .now_ms = INT64_C(1800000000000)};
		struct ts_oidc_claims c;
		enum ts_oidc_check failed;
		assert_int_equal(ts_oidc_idtoken_check(a, &j, &x, &c, &failed, &e), TS_ERR_OK);
		assert_string_equal(c.email, "ada@example.com");
		/* the payload's last character, changed within the alphabet */
		char *dot = strrchr(tok, '.');
		dot[-1] = dot[-1] == 'A' ? 'Q' : 'A';
		rc = ts_oidc_jws_parse(a, tok, len, &j, &e);
		if (rc == TS_ERR_OK)
			rc = ts_oidc_jws_verify(&j, k, all_algs, N_ITEMS(all_algs), secret,
			                        secret_len, NULL, &e);
		assert_int_not_equal(rc, TS_ERR_OK);
	}
	ts_oidc_jwks_free(k);
	ts_arena_free(&a);
}

static void test_alg_names(void **state)
{
	(void)state;
	for (int i = TS_OIDC_RS256; i <= TS_OIDC_HS512; i++)
		assert_int_equal(ts_oidc_alg_from_name(ts_oidc_alg_name((enum ts_oidc_alg)i)), i);
	assert_int_equal(ts_oidc_alg_from_name("none"), TS_OIDC_ALG_NONE_);
	assert_int_equal(ts_oidc_alg_from_name("rs256"), TS_OIDC_ALG_NONE_);
	assert_int_equal(ts_oidc_alg_from_name(NULL), TS_OIDC_ALG_NONE_);
	assert_string_equal(ts_oidc_alg_name(TS_OIDC_ALG_NONE_), "none");
	assert_string_equal(ts_oidc_alg_name((enum ts_oidc_alg)99), "none");
}

static int setup(void **state)
{
	(void)state;
	if (ts_crypto_init() != TS_ERR_OK)
		return -1;
	rsa1 = EVP_RSA_gen(2048);
	rsa2 = EVP_RSA_gen(2048);
	rsa3 = EVP_RSA_gen(3072);
	rsa_weak = EVP_RSA_gen(RSA_WEAK_BITS);
	p256 = EVP_EC_gen("P-256");
	p256b = EVP_EC_gen("P-256");
	p384 = EVP_EC_gen("P-384");
	p521 = EVP_EC_gen("P-521");
	return rsa1 && rsa2 && rsa3 && rsa_weak && p256 && p256b && p384 && p521 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY *all[] = {rsa1, rsa2, rsa3, rsa_weak, p256, p256b, p384, p521};
	for (size_t i = 0; i < N_ITEMS(all); i++)
		EVP_PKEY_free(all[i]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_valid_every_alg),
	        cmocka_unit_test(test_bad_signature),
	        cmocka_unit_test(test_alg_none),
	        cmocka_unit_test(test_hs256_public_key_as_secret),
	        cmocka_unit_test(test_key_type_must_match),
	        cmocka_unit_test(test_kid_cases),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_jwks_parse),
	        cmocka_unit_test(test_interop_pyjwt),
	        cmocka_unit_test(test_alg_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
