/*
 * The authorization server's key ring and signatures (oauth/keys.c,
 * credentials.c) and its user codes (usercode.c), on SQLite and PostgreSQL:
 * every JWT is verified here with OpenSSL alone, from the JWK the ring
 * publishes (the point rebuilt from x and y, R || S turned back into DER),
 * and fails once a byte of it changes; a rotation signs with a new kid and
 * keeps the old one published; the private half is sealed (not in the clear
 * in the store, not opened by another master key); the user code alphabet,
 * its uniformity and the normalisation of what people type.
 */
#include "store_fixture.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "oauth/internal.h"
#include "oauth/oauth.h"

/* The JWK of kid in the ring's JWK Set now (a new reference), or NULL. */
static json_t *jwk_of(struct fx *f, const char *kid)
{
	const char *jwks = NULL;
	OK(ts__oauth_jwks(f->c, f->a, ts_now_ms(), &jwks, &f->e));
	json_t *set = json_loads(jwks, 0, NULL);
	assert_non_null(set);
	size_t i;
	json_t *k, *found = NULL;
	json_array_foreach(json_object_get(set, "keys"), i, k)
	{
		if (strcmp(ts_json_str(k, "kid"), kid) == 0)
			found = json_incref(k);
	}
	json_decref(set);
	return found;
}

/* A P-256 public key from a JWK's x and y, with OpenSSL's own parameter builder. */
static EVP_PKEY *pkey_from_jwk(ts_arena_t *a, const json_t *jwk)
{
	assert_string_equal(ts_json_str(jwk, "kty"), "EC");
	assert_string_equal(ts_json_str(jwk, "crv"), "P-256");
	assert_string_equal(ts_json_str(jwk, "alg"), "ES256");
	size_t xn = 0, yn = 0;
	unsigned char *x = ts_b64url_decode(a, ts_json_str(jwk, "x"), &xn);
	unsigned char *y = ts_b64url_decode(a, ts_json_str(jwk, "y"), &yn);
	assert_int_equal(xn, 32);
	assert_int_equal(yn, 32);
	unsigned char pt[65] = {0x04};
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* Whether the compact JWS verifies under pkey (RFC 7515 §5.2, RFC 7518 §3.4). */
static bool verifies(ts_arena_t *a, EVP_PKEY *pkey, const char *jwt)
{
	const char *dot = strrchr(jwt, '.');
	size_t sn = 0;
	unsigned char *sig = ts_b64url_decode(a, dot + 1, &sn);
	if (sig == NULL || sn != 64)
		return false;
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	unsigned char *der = NULL;
	int dn = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	          EVP_DigestVerify(md, der, (size_t)dn, (const unsigned char *)jwt,
	                           (size_t)(dot - jwt)) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return ok;
}

/* Segment i (0 header, 1 claims) decoded as JSON (a new reference). */
static json_t *segment(ts_arena_t *a, const char *jwt, int i)
{
	const char *start = jwt;
	for (int k = 0; k < i; k++)
		start = strchr(start, '.') + 1;
	const char *end = strchr(start, '.');
	size_t n = 0;
	unsigned char *raw =
	        ts_b64url_decode(a, ts_arena_strndup(a, start, (size_t)(end - start)), &n);
	assert_non_null(raw);
	json_t *j = json_loadb((const char *)raw, n, 0, NULL);
	assert_non_null(j);
	return j;
}

static void test_sign_and_verify(void **state)
{
	struct fx *f = *state;
	json_t *claims = json_pack("{s:s, s:I}", "sub", "user-1", "exp", (json_int_t)4102444800);
	const char *jwt = NULL;
	OK(ts__oauth_jwt_sign(f->c, f->a, test_master, ts_now_ms(), claims, &jwt, &f->e));
	json_decref(claims);
	json_t *header = segment(f->a, jwt, 0);
	assert_string_equal(ts_json_str(header, "alg"), "ES256");
	assert_string_equal(ts_json_str(header, "typ"), "JWT");
	json_t *jwk = jwk_of(f, ts_json_str(header, "kid"));
	assert_non_null(jwk);
	EVP_PKEY *pkey = pkey_from_jwk(f->a, jwk);
	assert_true(verifies(f->a, pkey, jwt));
	/* a changed byte of the claims, or of the signature, does not verify */
	char *bad = ts_arena_strdup(f->a, jwt);
	char *claims_at = strchr(bad, '.') + 1;
	claims_at[3] = claims_at[3] == 'A' ? 'B' : 'A';
	assert_false(verifies(f->a, pkey, bad));
	bad = ts_arena_strdup(f->a, jwt);
	char *sig_at = strrchr(bad, '.') + 5;
	*sig_at = *sig_at == 'A' ? 'B' : 'A';
	assert_false(verifies(f->a, pkey, bad));
	/* the same key signs again: one key, one kid */
	const char *again = NULL;
	OK(ts__oauth_jwt_sign(f->c, f->a, test_master, ts_now_ms(), header, &again, &f->e));
	json_t *h2 = segment(f->a, again, 0);
	assert_string_equal(ts_json_str(h2, "kid"), ts_json_str(header, "kid"));
	assert_true(verifies(f->a, pkey, again));
	json_decref(h2);
	EVP_PKEY_free(pkey);
	json_decref(jwk);
	json_decref(header);
}

/* The kids of the keys published at now_ms, in arena memory; their number. */
static int published(struct fx *f, int64_t now_ms, const char **kids)
{
	struct ts_store_oauth_key *keys = NULL;
	int n = 0;
	OK(ts_store_oauth_keys_live(f->c, f->a, now_ms, 16, &keys, &n, &f->e));
	for (int i = 0; i < n; i++)
		kids[i] = keys[i].kid;
	return n;
}

static const char *kid_of(struct fx *f, const char *jwt)
{
	json_t *h = segment(f->a, jwt, 0);
	const char *kid = ts_arena_strdup(f->a, ts_json_str(h, "kid"));
	json_decref(h);
	return kid;
}

static void test_rotation(void **state)
{
	struct fx *f = *state;
	int64_t now = ts_now_ms();
	const char *k1 = NULL, *kids[16];
	OK(ts__oauth_key_new(f->c, f->a, test_master, now, 1, &k1, &f->e));
	json_t *claims = json_pack("{s:s}", "sub", "u");
	const char *old = NULL, *jwt = NULL;
	OK(ts__oauth_jwt_sign(f->c, f->a, test_master, now, claims, &old, &f->e));
	assert_string_equal(kid_of(f, old), k1);
	/* due: the successor is made and published, but k1 still signs */
	int64_t due = now + TS__OAUTH_KEY_ROTATE_MS - TS__OAUTH_KEY_LEAD_MS;
	OK(ts__oauth_jwt_sign(f->c, f->a, test_master, due, claims, &jwt, &f->e));
	assert_string_equal(kid_of(f, jwt), k1);
	assert_int_equal(published(f, due, kids), 2);
	const char *k2 = kids[0];
	assert_string_not_equal(k1, k2);
	/* a JWK Set cached just before the lead ends knows k2 before anything is signed with it */
	OK(ts__oauth_jwt_sign(f->c, f->a, test_master, due + TS__OAUTH_KEY_LEAD_MS - 1, claims,
	                      &jwt, &f->e));
	assert_string_equal(kid_of(f, jwt), k1);
	/* published a lead's time: k2 signs, k1 retires but stays published */
	int64_t over = due + TS__OAUTH_KEY_LEAD_MS;
	const char *fresh = NULL;
	OK(ts__oauth_jwt_sign(f->c, f->a, test_master, over, claims, &fresh, &f->e));
	assert_string_equal(kid_of(f, fresh), k2);
	assert_int_equal(published(f, over, kids), 2);
	assert_string_equal(kids[0], k2);
	json_t *j1 = jwk_of(f, k1), *j2 = jwk_of(f, k2);
	assert_non_null(j1);
	assert_non_null(j2);
	EVP_PKEY *p1 = pkey_from_jwk(f->a, j1), *p2 = pkey_from_jwk(f->a, j2);
	assert_true(verifies(f->a, p1, old));
	assert_true(verifies(f->a, p2, fresh));
	assert_false(verifies(f->a, p2, old));
	/* past the overlap the old key is no longer published */
	assert_int_equal(published(f, over + TS__OAUTH_KEY_OVERLAP_MS, kids), 1);
	assert_string_equal(kids[0], k2);
	/* a key of a generation made already (another node, at once) is not made again */
	const char *twin = NULL;
	OK(ts__oauth_key_new(f->c, f->a, test_master, over, 2, &twin, &f->e));
	assert_null(twin);
	assert_int_equal(published(f, over, kids), 2);
	EVP_PKEY_free(p1);
	EVP_PKEY_free(p2);
	json_decref(j1);
	json_decref(j2);
	json_decref(claims);
}

static void test_private_half_sealed(void **state)
{
	struct fx *f = *state;
	const char *kid = NULL;
	OK(ts__oauth_key_new(f->c, f->a, test_master, ts_now_ms(), 1, &kid, &f->e));
	struct ts_store_secret row;
	bool found = false;
	OK(ts_store_secret_get(f->c, f->a, "oauth_signing", kid, "private_key", &row, &found,
	                       &f->e));
	assert_true(found);
	assert_null(strstr(row.sealed, "PRIVATE KEY")); /* sealed, not PEM in the clear */
	/* another master key opens nothing and signs nothing */
	json_t *claims = json_pack("{s:s}", "sub", "u");
	const char *jwt = NULL;
	EXPECT(TS_ERR_INTERNAL,
	       ts__oauth_jwt_sign(f->c, f->a, other_master, ts_now_ms(), claims, &jwt, &f->e));
	assert_null(jwt);
	json_decref(claims);
}

static void test_credentials(void **state)
{
	struct fx *f = *state;
	static struct ts_oauth_config cfg = {.base_url = "https://id.example.com",
	                                     .master_key = test_master};
	(void)ts_oauth_module(&cfg);
	int64_t exp = ts_now_ms() + 3600 * 1000;
	struct ts_oauth_credentials cr = {.account_id = "acct-1",
	                                  .user_id = "user-1",
	                                  .target_id = "tgt-1",
	                                  .permission_set_id = "ps-1",
	                                  .policies_json = "[{\"Version\":\"2012-10-17\"}]",
	                                  .session_id = "sess-1",
	                                  .expires_ms = exp};
	const char *jwt = NULL;
	OK(ts_oauth_credentials_sign(f->c, f->a, &cr, &jwt, &f->e));
	json_t *h = segment(f->a, jwt, 0), *c = segment(f->a, jwt, 1);
	json_t *jwk = jwk_of(f, ts_json_str(h, "kid"));
	EVP_PKEY *pkey = pkey_from_jwk(f->a, jwk);
	assert_true(verifies(f->a, pkey, jwt));
	assert_string_equal(ts_json_str(c, "iss"), "https://id.example.com");
	assert_string_equal(ts_json_str(c, "sub"), "user-1");
	assert_string_equal(ts_json_str(c, "aud"), "tessera");
	assert_string_equal(ts_json_str(c, "account_id"), "acct-1");
	assert_string_equal(ts_json_str(c, "target_id"), "tgt-1");
	assert_string_equal(ts_json_str(c, "permission_set_id"), "ps-1");
	assert_string_equal(ts_json_str(c, "sid"), "sess-1");
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), exp / 1000);
	assert_true(json_is_array(json_object_get(c, "policies")));
	assert_non_null(ts_json_str(c, "jti"));
	/* refused: policies not an array, an expiry past or beyond the cap, a missing field */
	cr.policies_json = "{\"Version\":\"2012-10-17\"}";
	EXPECT(TS_ERR_BAD_REQUEST, ts_oauth_credentials_sign(f->c, f->a, &cr, &jwt, &f->e));
	cr.policies_json = "[]";
	cr.expires_ms = ts_now_ms() - 1;
	EXPECT(TS_ERR_BAD_REQUEST, ts_oauth_credentials_sign(f->c, f->a, &cr, &jwt, &f->e));
	cr.expires_ms = ts_now_ms() + TS__OAUTH_CREDENTIALS_MAX_MS + 60000;
	EXPECT(TS_ERR_BAD_REQUEST, ts_oauth_credentials_sign(f->c, f->a, &cr, &jwt, &f->e));
	cr.expires_ms = exp;
	cr.target_id = NULL;
	EXPECT(TS_ERR_BAD_REQUEST, ts_oauth_credentials_sign(f->c, f->a, &cr, &jwt, &f->e));
	EVP_PKEY_free(pkey);
	json_decref(jwk);
	json_decref(h);
	json_decref(c);
}

/* ---- user codes (no store) ---- */

static void test_user_code_normalise(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want; /* want NULL: refused */
	} cases[] = {
	        {"BCDF-GHJK", "BCDFGHJK"},
	        {"bcdf-ghjk", "BCDFGHJK"},
	        {"BCDFGHJK", "BCDFGHJK"},
	        {" bcdf ghjk ", "BCDFGHJK"},
	        {"B-C-D-F-G-H-J-K", "BCDFGHJK"},
	        {"BCDF-GHJ", NULL},
	        {"BCDF-GHJKL", NULL},
	        {"ABCD-EFGH", NULL}, /* vowels are not in it */
	        {"BCDF-GHJ1", NULL},
	        {"BCDF_GHJK", NULL},
	        {"", NULL},
	        {"BCDF\xc3\xa9GHJ", NULL},
	        {"BCDF-GHJK-----------------------------------------------------------", NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		char out[TS__OAUTH_USER_CODE_LEN + 1];
		bool ok = ts__oauth_user_code_normalise(cases[i].in, out);
		if (cases[i].want == NULL) {
			assert_false(ok);
			assert_string_equal(out, "");
		} else {
			assert_true(ok);
			assert_string_equal(out, cases[i].want);
		}
	}
	char out[TS__OAUTH_USER_CODE_LEN + 1];
	assert_false(ts__oauth_user_code_normalise(NULL, out));
}

static void test_user_code_new(void **state)
{
	(void)state;
	enum { DRAWS = 20000 };
	int counts[20] = {0};
	for (int i = 0; i < DRAWS; i++) {
		char code[TS__OAUTH_USER_CODE_LEN + 1], again[TS__OAUTH_USER_CODE_LEN + 1];
		ts__oauth_user_code_new(code);
		assert_int_equal(strlen(code), TS__OAUTH_USER_CODE_LEN);
		assert_true(ts__oauth_user_code_normalise(code, again));
		assert_string_equal(code, again);
		for (int k = 0; k < TS__OAUTH_USER_CODE_LEN; k++)
			counts[strchr(TS__OAUTH_USER_CODE_ALPHABET, code[k]) -
			       TS__OAUTH_USER_CODE_ALPHABET]++;
	}
	/* 160,000 letters: each of the 20 near 8,000; a modulo bias or a missing letter is far */
	for (int k = 0; k < 20; k++) {
		assert_true(counts[k] > 7400);
		assert_true(counts[k] < 8600);
	}
	ts_arena_t *a = ts_arena_new();
	assert_string_equal(ts__oauth_user_code_display(a, "BCDFGHJK"), "BCDF-GHJK");
	ts_arena_free(&a);
}

#define T(fn, b) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, b)
#define CONTRACT(b)                                                                      \
	T(test_sign_and_verify, b), T(test_rotation, b), T(test_private_half_sealed, b), \
	        T(test_credentials, b)

int main(void)
{
	const struct CMUnitTest lite_tests[] = {CONTRACT(&lite),
	                                        cmocka_unit_test(test_user_code_normalise),
	                                        cmocka_unit_test(test_user_code_new)};
	const struct CMUnitTest pg_tests[] = {CONTRACT(&pg)};
	return fixture_run("OAuth keys and user codes", lite_tests, N_ITEMS(lite_tests), pg_tests,
	                   N_ITEMS(pg_tests));
}
