/*
 * Unit tests of src/oidc/idtoken.c: ID tokens signed RS256 with a key made
 * in the test, verified by jose.c, then checked against what the relying
 * party expects (OpenID Connect Core §3.1.3.7) at a fixed clock. A table of
 * payloads, each the good one with one or two claims changed or removed,
 * names the check each must fail (or that it must pass: the skew's edges).
 */
#include "oidc_fixture.h"

#include <stdio.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "oidc/idtoken.h"

#define ISS "https://op.example.com"
#define CLIENT "0oa1client"
#define NONCE "n-0S6_WzA2Mj"
#define NOW_S INT64_C(1800000000)
#define DEL NULL /* a change that removes the claim */

static EVP_PKEY *rsa;
static struct ts_oidc_jwks *jwks;

/* The good payload's claims. */
static json_t *good_claims(void)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:b,s:s}", "iss", ISS, "sub", "00u1ada",
	                 "aud", CLIENT, "exp", (json_int_t)(NOW_S + 300), "iat",
	                 (json_int_t)(NOW_S - 10), "nonce", NONCE, "email", "ada@example.com",
	                 "email_verified", 1, "name", "Ada");
}

static const struct ts_oidc_idtoken_expect expect = {
        .issuer = ISS,
        .client_id = CLIENT,
        .nonce = NONCE,
        .now_ms = NOW_S * TS_MS_PER_S,
};

/* Signs claims (taking the reference), verifies with the test JWKS, and checks against x. */
static ts_err run(ts_arena_t *a, json_t *claims, const struct ts_oidc_idtoken_expect *x,
                  struct ts_oidc_claims *out, enum ts_oidc_check *failed)
{
	char *payload = ts_json_dump(a, claims, NULL);
	json_decref(claims);
	char *tok = fx_token(a, fx_header(a, "RS256", "k1"), payload, "RS256", rsa, NULL);
	struct ts_oidc_jws j;
	struct ts_error e = {0};
	assert_int_equal(ts_oidc_jws_parse(a, tok, strlen(tok), &j, &e), TS_ERR_OK);
	enum ts_oidc_alg rs = TS_OIDC_RS256;
	assert_int_equal(ts_oidc_jws_verify(&j, jwks, &rs, 1, NULL, 0, NULL, &e), TS_ERR_OK);
	return ts_oidc_idtoken_check(a, &j, x, out, failed, &e);
}

static void test_good(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_claims c;
	enum ts_oidc_check failed = TS_OIDC_CHECK_SUBJECT;
	assert_int_equal(run(a, good_claims(), &expect, &c, &failed), TS_ERR_OK);
	assert_int_equal(failed, TS_OIDC_CHECK_NONE);
	assert_string_equal(c.iss, ISS);
	assert_string_equal(c.sub, "00u1ada");
	assert_string_equal(c.aud_first, CLIENT);
	assert_null(c.azp);
	assert_string_equal(c.nonce, NONCE);
	assert_string_equal(c.email, "ada@example.com");
	assert_true(c.email_verified);
	assert_int_equal(c.exp_ms, (NOW_S + 300) * TS_MS_PER_S);
	assert_int_equal(c.iat_ms, (NOW_S - 10) * TS_MS_PER_S);
	assert_string_equal(ts_json_str(c.all, "name"), "Ada");

	/* no nonce sent: none needed, and one present is read but not compared */
	struct ts_oidc_idtoken_expect x = expect;
	x.nonce = NULL;
	json_t *claims = good_claims();
	json_object_del(claims, "nonce");
	json_object_del(claims, "email");
	json_object_del(claims, "email_verified");
	assert_int_equal(run(a, claims, &x, &c, &failed), TS_ERR_OK);
	assert_null(c.nonce);
	assert_null(c.email);
	assert_false(c.email_verified);
	assert_int_equal(run(a, good_claims(), &x, &c, &failed), TS_ERR_OK);

	/* a payload that is not an object never reaches the checks (jose refuses it first);
	 * a jws handed over without one is MALFORMED */
	struct ts_oidc_jws empty = {0};
	struct ts_error e = {0};
	assert_int_equal(ts_oidc_idtoken_check(a, &empty, &expect, &c, &failed, &e),
	                 TS_ERR_UNAUTHORIZED);
	assert_int_equal(failed, TS_OIDC_CHECK_MALFORMED);
	ts_arena_free(&a);
}

/* One row: up to two claims set to JSON text (DEL removes it), and the check expected. */
struct change {
	const char *key, *json;
};
struct row {
	const char *name;
	struct change c[2];
	enum ts_oidc_check want;
};

static void test_claims_table(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	char sub255[TS_OIDC_SUB_MAX + 1], sub256[TS_OIDC_SUB_MAX + 2];
	memset(sub255, 'a', TS_OIDC_SUB_MAX);
	sub255[TS_OIDC_SUB_MAX] = 0;
	memset(sub256, 'a', TS_OIDC_SUB_MAX + 1);
	sub256[TS_OIDC_SUB_MAX + 1] = 0;
	const char *s255 = ts_arena_printf(a, "\"%s\"", sub255);
	const char *s256 = ts_arena_printf(a, "\"%s\"", sub256);
	/* times around NOW_S = 1800000000 with the default skew (60 s) and max age (600 s) */
	const struct row rows[] = {
	        {"good", {{NULL, NULL}}, TS_OIDC_CHECK_NONE},
	        {"iss other", {{"iss", "\"https://evil.example.com\""}}, TS_OIDC_CHECK_ISSUER},
	        {"iss with a slash", {{"iss", "\"" ISS "/\""}}, TS_OIDC_CHECK_ISSUER},
	        {"iss other case", {{"iss", "\"https://OP.example.com\""}}, TS_OIDC_CHECK_ISSUER},
	        {"iss missing", {{"iss", DEL}}, TS_OIDC_CHECK_ISSUER},
	        {"iss an array", {{"iss", "[\"" ISS "\"]"}}, TS_OIDC_CHECK_ISSUER},
	        {"aud other", {{"aud", "\"0oa2other\""}}, TS_OIDC_CHECK_AUDIENCE},
	        {"aud missing", {{"aud", DEL}}, TS_OIDC_CHECK_AUDIENCE},
	        {"aud a prefix", {{"aud", "\"0oa1\""}}, TS_OIDC_CHECK_AUDIENCE},
	        {"aud empty array", {{"aud", "[]"}}, TS_OIDC_CHECK_AUDIENCE},
	        {"aud array without us", {{"aud", "[\"x\",\"y\"]"}}, TS_OIDC_CHECK_AUDIENCE},
	        {"aud array with a number",
	         {{"aud", "[\"" CLIENT "\",5]"}},
	         TS_OIDC_CHECK_AUDIENCE},
	        {"aud a number", {{"aud", "5"}}, TS_OIDC_CHECK_AUDIENCE},
	        {"aud array of one", {{"aud", "[\"" CLIENT "\"]"}}, TS_OIDC_CHECK_NONE},
	        {"aud several, no azp",
	         {{"aud", "[\"" CLIENT "\",\"other\"]"}},
	         TS_OIDC_CHECK_AUTHORIZED_PARTY},
	        {"aud several, azp us",
	         {{"aud", "[\"other\",\"" CLIENT "\"]"}, {"azp", "\"" CLIENT "\""}},
	         TS_OIDC_CHECK_NONE},
	        {"aud several, azp other",
	         {{"aud", "[\"" CLIENT "\",\"other\"]"}, {"azp", "\"other\""}},
	         TS_OIDC_CHECK_AUTHORIZED_PARTY},
	        {"azp other", {{"azp", "\"other\""}}, TS_OIDC_CHECK_AUTHORIZED_PARTY},
	        {"azp a number", {{"azp", "1"}}, TS_OIDC_CHECK_AUTHORIZED_PARTY},
	        {"azp us", {{"azp", "\"" CLIENT "\""}}, TS_OIDC_CHECK_NONE},
	        {"exp missing", {{"exp", DEL}}, TS_OIDC_CHECK_EXPIRED},
	        {"exp 2 min ago", {{"exp", "1799999880"}}, TS_OIDC_CHECK_EXPIRED},
	        {"exp 60 s ago (the skew's edge)", {{"exp", "1799999940"}}, TS_OIDC_CHECK_EXPIRED},
	        {"exp 59 s ago (within the skew)", {{"exp", "1799999941"}}, TS_OIDC_CHECK_NONE},
	        {"exp a string", {{"exp", "\"1800000300\""}}, TS_OIDC_CHECK_EXPIRED},
	        {"exp true", {{"exp", "true"}}, TS_OIDC_CHECK_EXPIRED},
	        {"exp negative", {{"exp", "-1"}}, TS_OIDC_CHECK_EXPIRED},
	        {"exp past year 9999", {{"exp", "1e20"}}, TS_OIDC_CHECK_EXPIRED},
	        {"exp a real", {{"exp", "1800000300.5"}}, TS_OIDC_CHECK_NONE},
	        {"nbf 5 min ahead", {{"nbf", "1800000300"}}, TS_OIDC_CHECK_NOT_BEFORE},
	        {"nbf 30 s ahead", {{"nbf", "1800000030"}}, TS_OIDC_CHECK_NONE},
	        {"nbf a string", {{"nbf", "\"0\""}}, TS_OIDC_CHECK_NOT_BEFORE},
	        {"iat missing", {{"iat", DEL}}, TS_OIDC_CHECK_ISSUED_AT},
	        {"iat 5 min ahead", {{"iat", "1800000300"}}, TS_OIDC_CHECK_ISSUED_AT},
	        {"iat 30 s ahead", {{"iat", "1800000030"}}, TS_OIDC_CHECK_NONE},
	        {"iat 20 min ago", {{"iat", "1799998800"}}, TS_OIDC_CHECK_ISSUED_AT},
	        {"iat 10 min ago", {{"iat", "1799999400"}}, TS_OIDC_CHECK_NONE},
	        {"iat a string", {{"iat", "\"1800000000\""}}, TS_OIDC_CHECK_ISSUED_AT},
	        {"iat null", {{"iat", "null"}}, TS_OIDC_CHECK_ISSUED_AT},
	        {"nonce other", {{"nonce", "\"n-0S6_WzA2Mk\""}}, TS_OIDC_CHECK_NONCE},
	        {"nonce a prefix", {{"nonce", "\"n-0S6\""}}, TS_OIDC_CHECK_NONCE},
	        {"nonce missing", {{"nonce", DEL}}, TS_OIDC_CHECK_NONCE},
	        {"nonce a number", {{"nonce", "5"}}, TS_OIDC_CHECK_NONCE},
	        {"sub missing", {{"sub", DEL}}, TS_OIDC_CHECK_SUBJECT},
	        {"sub empty", {{"sub", "\"\""}}, TS_OIDC_CHECK_SUBJECT},
	        {"sub a number", {{"sub", "123"}}, TS_OIDC_CHECK_SUBJECT},
	        {"sub 255 bytes", {{"sub", s255}}, TS_OIDC_CHECK_NONE},
	        {"sub 256 bytes", {{"sub", s256}}, TS_OIDC_CHECK_SUBJECT},
	        {"email a number", {{"email", "5"}}, TS_OIDC_CHECK_MALFORMED},
	        {"email_verified the string true",
	         {{"email_verified", "\"true\""}},
	         TS_OIDC_CHECK_NONE},
	        {"email_verified another string",
	         {{"email_verified", "\"yes\""}},
	         TS_OIDC_CHECK_MALFORMED},
	        {"email_verified a number", {{"email_verified", "1"}}, TS_OIDC_CHECK_MALFORMED},
	        {"email_verified false", {{"email_verified", "false"}}, TS_OIDC_CHECK_NONE},
	        /* the first failure in the order of idtoken.h is the one named */
	        {"iss and sub wrong", {{"sub", DEL}, {"iss", "\"x\""}}, TS_OIDC_CHECK_ISSUER},
	        {"exp and nonce wrong", {{"nonce", DEL}, {"exp", "1"}}, TS_OIDC_CHECK_EXPIRED},
	};
	for (size_t i = 0; i < N_ITEMS(rows); i++) {
		json_t *claims = good_claims();
		for (size_t k = 0; k < N_ITEMS(rows[i].c); k++) {
			const struct change *ch = &rows[i].c[k];
			if (ch->key == NULL)
				continue;
			if (ch->json == DEL) {
				json_object_del(claims, ch->key);
				continue;
			}
			json_t *v = json_loads(ch->json, JSON_DECODE_ANY, NULL);
			assert_non_null(v);
			json_object_set_new(claims, ch->key, v);
		}
		struct ts_oidc_claims c;
		enum ts_oidc_check failed = TS_OIDC_CHECK__COUNT;
		ts_err rc = run(a, claims, &expect, &c, &failed);
		if (failed != rows[i].want)
			fail_msg("%s: check %s, expected %s", rows[i].name,
			         ts_oidc_check_name(failed), ts_oidc_check_name(rows[i].want));
		assert_int_equal(rc, rows[i].want == TS_OIDC_CHECK_NONE ? TS_ERR_OK
		                                                        : TS_ERR_UNAUTHORIZED);
		if (rc != TS_ERR_OK)
			assert_null(c.sub);
	}
	ts_arena_free(&a);
}

/* The caller's skew and max age replace the defaults. */
static void test_skew_and_max_age(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_claims c;
	enum ts_oidc_check failed;
	struct ts_oidc_idtoken_expect x = expect;
	x.skew_ms = 5 * TS_MS_PER_S;
	json_t *claims = good_claims();
	json_object_set_new(claims, "exp", json_integer(NOW_S - 6));
	assert_int_equal(run(a, claims, &x, &c, &failed), TS_ERR_UNAUTHORIZED);
	assert_int_equal(failed, TS_OIDC_CHECK_EXPIRED);
	claims = good_claims();
	json_object_set_new(claims, "exp", json_integer(NOW_S - 4));
	assert_int_equal(run(a, claims, &x, &c, &failed), TS_ERR_OK);
	x.max_age_ms = 60 * TS_MS_PER_S;
	claims = good_claims();
	json_object_set_new(claims, "iat", json_integer(NOW_S - 70));
	assert_int_equal(run(a, claims, &x, &c, &failed), TS_ERR_UNAUTHORIZED);
	assert_int_equal(failed, TS_OIDC_CHECK_ISSUED_AT);
	claims = good_claims();
	json_object_set_new(claims, "iat", json_integer(NOW_S - 60));
	assert_int_equal(run(a, claims, &x, &c, &failed), TS_ERR_OK);
	/* a missing expectation refuses rather than matches anything */
	x = expect;
	x.issuer = NULL;
	assert_int_equal(run(a, good_claims(), &x, &c, &failed), TS_ERR_UNAUTHORIZED);
	assert_int_equal(failed, TS_OIDC_CHECK_ISSUER);
	x = expect;
	x.client_id = NULL;
	assert_int_equal(run(a, good_claims(), &x, &c, &failed), TS_ERR_UNAUTHORIZED);
	assert_int_equal(failed, TS_OIDC_CHECK_AUDIENCE);
	ts_arena_free(&a);
}

static void test_check_names(void **state)
{
	(void)state;
	assert_string_equal(ts_oidc_check_name(TS_OIDC_CHECK_NONE), "None");
	assert_string_equal(ts_oidc_check_name(TS_OIDC_CHECK_ISSUER), "Issuer");
	assert_string_equal(ts_oidc_check_name(TS_OIDC_CHECK_AUTHORIZED_PARTY), "AuthorizedParty");
	assert_string_equal(ts_oidc_check_name(TS_OIDC_CHECK_KEY_UNKNOWN), "KeyUnknown");
	assert_string_equal(ts_oidc_check_name(TS_OIDC_CHECK_SUBJECT), "Subject");
	assert_string_equal(ts_oidc_check_name(TS_OIDC_CHECK__COUNT), "None");
	/* names are distinct */
	for (int i = 0; i < TS_OIDC_CHECK__COUNT; i++)
		for (int k = 0; k < i; k++)
			assert_string_not_equal(ts_oidc_check_name((enum ts_oidc_check)i),
			                        ts_oidc_check_name((enum ts_oidc_check)k));
	/* jose's refusals mapped */
	assert_int_equal(ts_oidc_jose_check(TS_ERR_OK, false, false), TS_OIDC_CHECK_NONE);
	assert_int_equal(ts_oidc_jose_check(TS_ERR_BAD_REQUEST, true, false),
	                 TS_OIDC_CHECK_MALFORMED);
	assert_int_equal(ts_oidc_jose_check(TS_ERR_TOO_LARGE, true, false),
	                 TS_OIDC_CHECK_MALFORMED);
	assert_int_equal(ts_oidc_jose_check(TS_ERR_FORBIDDEN, false, false),
	                 TS_OIDC_CHECK_ALGORITHM);
	assert_int_equal(ts_oidc_jose_check(TS_ERR_UNAUTHORIZED, false, true),
	                 TS_OIDC_CHECK_KEY_UNKNOWN);
	assert_int_equal(ts_oidc_jose_check(TS_ERR_UNAUTHORIZED, false, false),
	                 TS_OIDC_CHECK_SIGNATURE);
	/* and on real refusals: alg none, an unknown kid, a bad signature */
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jws j;
	struct ts_error e = {0};
	const char *none = ts_arena_concat(a, fx_b64(a, "{\"alg\":\"none\"}", 14), ".",
	                                   fx_b64(a, "{}", 2), ".", NULL);
	assert_int_equal(ts_oidc_jws_parse(a, none, strlen(none), &j, &e), TS_ERR_OK);
	enum ts_oidc_alg rs = TS_OIDC_RS256;
	bool unknown = false;
	ts_err rc = ts_oidc_jws_verify(&j, jwks, &rs, 1, NULL, 0, &unknown, &e);
	assert_int_equal(ts_oidc_jose_check(rc, false, unknown), TS_OIDC_CHECK_ALGORITHM);
	const char *other = fx_token(a, fx_header(a, "RS256", "k2"), "{}", "RS256", rsa, NULL);
	assert_int_equal(ts_oidc_jws_parse(a, other, strlen(other), &j, &e), TS_ERR_OK);
	rc = ts_oidc_jws_verify(&j, jwks, &rs, 1, NULL, 0, &unknown, &e);
	assert_int_equal(ts_oidc_jose_check(rc, false, unknown), TS_OIDC_CHECK_KEY_UNKNOWN);
	const char *bad = fx_token(a, fx_header(a, "RS256", "k1"), "{}", "RS384", rsa, NULL);
	assert_int_equal(ts_oidc_jws_parse(a, bad, strlen(bad), &j, &e), TS_ERR_OK);
	rc = ts_oidc_jws_verify(&j, jwks, &rs, 1, NULL, 0, &unknown, &e);
	assert_int_equal(ts_oidc_jose_check(rc, false, unknown), TS_OIDC_CHECK_SIGNATURE);
	ts_arena_free(&a);
}

static int setup(void **state)
{
	(void)state;
	if (ts_crypto_init() != TS_ERR_OK || (rsa = EVP_RSA_gen(2048)) == NULL)
		return -1;
	ts_arena_t *a = ts_arena_new();
	json_t *k = fx_jwk(a, rsa, "k1");
	char *text = fx_jwks_text(a, &k, 1);
	struct ts_error e = {0};
	ts_err rc = ts_oidc_jwks_parse(text, strlen(text), &jwks, &e);
	ts_arena_free(&a);
	return rc == TS_ERR_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ts_oidc_jwks_free(jwks);
	EVP_PKEY_free(rsa);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good),
	        cmocka_unit_test(test_claims_table),
	        cmocka_unit_test(test_skew_and_max_age),
	        cmocka_unit_test(test_check_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
