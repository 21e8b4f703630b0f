/*
 * Unit tests of the OIDC module's pure pieces (src/oidc/flow.c): the PKCE
 * S256 transform against RFC 7636 Appendix B, the values derived from a
 * state (against libsodium's own HMAC-SHA-256), the authorization URL (its
 * encoding read back by the form parser, an endpoint's own query kept, a
 * fragment refused), the two query strings a browser brings (each
 * parameter once, caps, UTF-8) and the audit parameters of an outcome.
 * Table-driven where the cases are many.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "http/form.h"
#include "oidc/web.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_pkce_rfc7636_appendix_b(void **state)
{
	(void)state;
	/* RFC 7636 Appendix B: the verifier and the S256 challenge it gives */
	char challenge[TS__OIDC_PKCE_CHALLENGE_LEN + 1];
	ts__oidc_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge);
	assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_derive(void **state)
{
	(void)state;
	unsigned char master[TS_MASTER_KEY_LEN], other[TS_MASTER_KEY_LEN];
	for (size_t i = 0; i < sizeof master; i++) {
		master[i] = (unsigned char)i;
		other[i] = (unsigned char)(i + 1);
	}
	const char *st = "q2mK1tT4v3lXhM0bq3j1Z9r8d7YpL0sV4cQ6eW2nA5o";
	char v[TS__OIDC_PKCE_VERIFIER_LEN + 1], n[TS__OIDC_PKCE_VERIFIER_LEN + 1];
	char again[TS__OIDC_PKCE_VERIFIER_LEN + 1], w[TS__OIDC_PKCE_VERIFIER_LEN + 1];
	ts__oidc_derive(master, TS__OIDC_KEY_PKCE, st, v);
	ts__oidc_derive(master, TS__OIDC_KEY_NONCE, st, n);
	/* RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~" */
	assert_int_equal(strlen(v), TS__OIDC_PKCE_VERIFIER_LEN);
	assert_true(strlen(v) >= 43 && strlen(v) <= 128);
	assert_int_equal(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	                           "-._~"),
	                 strlen(v));
	/* the same HMAC computed by libsodium with the same derived key */
	unsigned char key[TS_MASTER_KEY_LEN], mac[crypto_auth_hmacsha256_BYTES];
	ts_secret_subkey(master, TS__OIDC_KEY_PKCE, key);
	crypto_auth_hmacsha256_state hs;
	crypto_auth_hmacsha256_init(&hs, key, sizeof key);
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)st, strlen(st));
	crypto_auth_hmacsha256_final(&hs, mac);
	char want[TS__OIDC_PKCE_VERIFIER_LEN + 1];
	sodium_bin2base64(want, sizeof want, mac, sizeof mac,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	assert_string_equal(v, want);
	/* the same state gives the same values (the callback derives them again); another
	 * purpose, state or master key gives others */
	ts__oidc_derive(master, TS__OIDC_KEY_PKCE, st, again);
	assert_string_equal(v, again);
	assert_string_not_equal(v, n);
	ts__oidc_derive(master, TS__OIDC_KEY_PKCE, "another-state", w);
	assert_string_not_equal(v, w);
	ts__oidc_derive(other, TS__OIDC_KEY_PKCE, st, w);
	assert_string_not_equal(v, w);
}

static const struct ts__oidc_authz authz = {
        .client_id = "client 1",
        .redirect_uri = "http://127.0.0.1:8080/auth/oidc/callback",
        .scope = "openid email",
        .state = "st-_AZ09",
        .nonce = "no/nce+=",
        .code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        .login_hint = "Zoë+1@example.com",
};

/* The query part of url after its prefix, read back by the form parser. */
static void check_params(ts_arena_t *a, const char *query, const struct ts__oidc_authz *p)
{
	struct ts_http_form f;
	struct ts_error e = {0};
	assert_int_equal(ts_http_form_parse(a, query, strlen(query), NULL, &f, &e), TS_ERR_OK);
	static const char *const names[] = {
	        "response_type", "client_id",      "redirect_uri",          "scope",     "state",
	        "nonce",         "code_challenge", "code_challenge_method", "login_hint"};
	const char *const want[] = {"code",       p->client_id, p->redirect_uri,   p->scope,
	                            p->state,     p->nonce,     p->code_challenge, "S256",
	                            p->login_hint};
	for (size_t i = 0; i < N_ITEMS(names); i++) {
		const char *v = NULL;
		assert_int_equal(ts_http_form_opt(&f, names[i], &v, &e), TS_ERR_OK);
		if (want[i] == NULL)
			assert_null(v);
		else
			assert_string_equal(v, want[i]);
	}
}

static void test_authorize_url(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	const char *url = NULL;
	assert_int_equal(
	        ts__oidc_authorize_url(a, "https://op.example/authorize", &authz, &url, &e),
	        TS_ERR_OK);
	/* application/x-www-form-urlencoded (RFC 6749 Appendix B): space as "+" */
	const char *prefix = "https://op.example/authorize?response_type=code&client_id=client+1&"
	                     "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Foidc%2Fcallback&"
	                     "scope=openid+email&state=st-_AZ09&nonce=no%2Fnce%2B%3D&";
	assert_memory_equal(url, prefix, strlen(prefix));
	assert_non_null(strstr(url, "&code_challenge_method=S256&"));
	assert_non_null(strstr(url, "&login_hint=Zo%C3%AB%2B1%40example.com"));
	check_params(a, strchr(url, '?') + 1, &authz);
	/* RFC 6749 §3.1: the endpoint's own query is kept */
	assert_int_equal(
	        ts__oidc_authorize_url(a, "https://op.example/auth?tenant=a%20b", &authz, &url, &e),
	        TS_ERR_OK);
	assert_memory_equal(url, "https://op.example/auth?tenant=a%20b&response_type=code&",
	                    strlen("https://op.example/auth?tenant=a%20b&response_type=code&"));
	check_params(a, strchr(url, '?') + 1, &authz);
	assert_int_equal(ts__oidc_authorize_url(a, "https://op.example/auth?", &authz, &url, &e),
	                 TS_ERR_OK);
	assert_memory_equal(url, "https://op.example/auth?response_type=code&",
	                    strlen("https://op.example/auth?response_type=code&"));
	/* no login_hint: none sent */
	struct ts__oidc_authz nohint = authz;
	nohint.login_hint = NULL;
	assert_int_equal(ts__oidc_authorize_url(a, "https://op.example/a", &nohint, &url, &e),
	                 TS_ERR_OK);
	assert_null(strstr(url, "login_hint"));
	check_params(a, strchr(url, '?') + 1, &nohint);
	/* RFC 6749 §3.1: no fragment; and only http(s) */
	assert_int_equal(ts__oidc_authorize_url(a, "https://op.example/a#x", &authz, &url, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_null(url);
	assert_int_equal(ts__oidc_authorize_url(a, "javascript:alert(1)", &authz, &url, &e),
	                 TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

static void test_callback_parse(void **state)
{
	(void)state;
	static const struct {
		const char *query;
		ts_err rc;
		const char *code, *state, *iss, *error, *desc;
	} cases[] = {
	        {"", TS_ERR_OK, NULL, NULL, NULL, NULL, NULL},
	        {"code=abc&state=xyz", TS_ERR_OK, "abc", "xyz", NULL, NULL, NULL},
	        {"state=xyz&code=a%2Bb+c&iss=https%3A%2F%2Fop.example&session_state=ignored",
	         TS_ERR_OK, "a+b c", "xyz", "https://op.example", NULL, NULL},
	        {"error=access_denied&error_description=User+said+no&state=s", TS_ERR_OK, NULL, "s",
	         NULL, "access_denied", "User said no"},
	        {"error=access_denied", TS_ERR_OK, NULL, NULL, NULL, "access_denied", NULL},
	        /* RFC 6749 §3.1: parameters MUST NOT be included more than once */
	        {"code=a&state=x&state=y", TS_ERR_BAD_REQUEST, NULL, NULL, NULL, NULL, NULL},
	        {"code=a&code=a&state=x", TS_ERR_BAD_REQUEST, NULL, NULL, NULL, NULL, NULL},
	        {"iss=a&iss=a", TS_ERR_BAD_REQUEST, NULL, NULL, NULL, NULL, NULL},
	        /* not UTF-8, controls, broken escapes */
	        {"code=%FF&state=x", TS_ERR_BAD_REQUEST, NULL, NULL, NULL, NULL, NULL},
	        {"code=a%00b&state=x", TS_ERR_BAD_REQUEST, NULL, NULL, NULL, NULL, NULL},
	        {"code=a&state=x%0A", TS_ERR_BAD_REQUEST, NULL, NULL, NULL, NULL, NULL},
	        {"code=%G1&state=x", TS_ERR_BAD_REQUEST, NULL, NULL, NULL, NULL, NULL},
	        /* caps: a state is 43 characters */
	        {"state=12345678901234567890123456789012345678901234", TS_ERR_TOO_LARGE, NULL, NULL,
	         NULL, NULL, NULL},
	        {"error="
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	         TS_ERR_TOO_LARGE, NULL, NULL, NULL, NULL, NULL},
	};
	ts_arena_t *a = ts_arena_new();
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct ts__oidc_callback c;
		struct ts_error e = {0};
		ts_err rc =
		        ts__oidc_callback_parse(a, cases[i].query, strlen(cases[i].query), &c, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i, cases[i].query, rc,
			         cases[i].rc);
		const char *got[] = {c.code, c.state, c.iss, c.error, c.error_description};
		const char *want[] = {cases[i].code, cases[i].state, cases[i].iss, cases[i].error,
		                      cases[i].desc};
		for (size_t k = 0; k < N_ITEMS(got); k++) {
			if (want[k] == NULL && got[k] != NULL)
				fail_msg("case %zu field %zu: %s, want none", i, k, got[k]);
			if (want[k] != NULL && (got[k] == NULL || strcmp(got[k], want[k]) != 0))
				fail_msg("case %zu field %zu: %s, want %s", i, k,
				         got[k] ? got[k] : "none", want[k]);
		}
	}
	/* a long description is cut on a character boundary, not refused */
	static const char head[] = "error=server_error&error_description=";
	char q[2048];
	memcpy(q, head, sizeof head - 1);
	size_t n = sizeof head - 1;
	for (int i = 0; i < 200; i++, n += 6)
		memcpy(q + n, "%C3%A9", 6); /* é, two bytes: 400 bytes decoded */
	q[n] = '\0';
	struct ts__oidc_callback c;
	struct ts_error e = {0};
	assert_int_equal(ts__oidc_callback_parse(a, q, strlen(q), &c, &e), TS_ERR_OK);
	assert_int_equal(strlen(c.error_description), TS__OIDC_ERROR_DESCRIPTION_MAX);
	assert_memory_equal(c.error_description + TS__OIDC_ERROR_DESCRIPTION_MAX - 2, "\xc3\xa9",
	                    2);
	/* the query need not be NUL-terminated */
	assert_int_equal(ts__oidc_callback_parse(a, "code=ab&state=xyzTRAILING", 17, &c, &e),
	                 TS_ERR_OK);
	assert_string_equal(c.state, "xyz");
	ts_arena_free(&a);
}

static void test_start_parse(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts__oidc_start s;
	struct ts_error e = {0};
	const char *q = "iss=https%3A%2F%2Fop.example&login_hint=ann%40example.com&"
	                "target_link_uri=https%3A%2F%2Fid.example%2Fportal";
	assert_int_equal(ts__oidc_start_parse(a, q, strlen(q), &s, &e), TS_ERR_OK);
	assert_string_equal(s.iss, "https://op.example");
	assert_string_equal(s.login_hint, "ann@example.com");
	assert_string_equal(s.target_link_uri, "https://id.example/portal");
	assert_int_equal(ts__oidc_start_parse(a, "", 0, &s, &e), TS_ERR_OK);
	assert_null(s.iss);
	assert_null(s.login_hint);
	assert_null(s.target_link_uri);
	/* an overlong hint or empty one is dropped, the sign-in goes on */
	char hint[TS__OIDC_LOGIN_HINT_MAX + 32] = "login_hint=";
	memset(hint + strlen(hint), 'h', TS__OIDC_LOGIN_HINT_MAX + 1);
	assert_int_equal(ts__oidc_start_parse(a, hint, strlen(hint), &s, &e), TS_ERR_OK);
	assert_null(s.login_hint);
	assert_int_equal(ts__oidc_start_parse(a, "login_hint=", 11, &s, &e), TS_ERR_OK);
	assert_null(s.login_hint);
	assert_int_equal(ts__oidc_start_parse(a, "iss=a&iss=b", 11, &s, &e), TS_ERR_BAD_REQUEST);
	assert_int_equal(ts__oidc_start_parse(a, "login_hint=%FF", 14, &s, &e), TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

static void test_login_outcome(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = {.arena = a};
	struct ts__oidc_ctx ctx = {.login = {.req = &req}};
	/* a claimed subject longer than an attempt keeps is cut on a character boundary */
	char sub[TS_STORE_SIGNIN_IDENTITY_MAX + 8];
	memset(sub, 'x', sizeof sub - 3);
	memcpy(sub + sizeof sub - 3, "\xc3\xa9", 3);
	struct ts__oidc_outcome o = {.check = "Signature",
	                             .reason = "why",
	                             .issuer = "https://op.example",
	                             .subject = sub,
	                             .identity = "ann@example.com"};
	struct ts_login_outcome lo = ts__oidc_login_outcome(&ctx, &o);
	assert_string_equal(lo.check, "Signature");
	assert_string_equal(lo.identity, "ann@example.com");
	assert_string_equal(json_string_value(json_object_get(lo.params, "Issuer")),
	                    "https://op.example");
	assert_int_equal(strlen(json_string_value(json_object_get(lo.params, "Subject"))),
	                 TS_STORE_SIGNIN_IDENTITY_MAX);
	assert_null(json_object_get(lo.params, "ProviderError"));
	/* exactly the documented parameters (docs/oidc.md): never a code or a token */
	assert_int_equal(json_object_size(lo.params), 3);
	o = (struct ts__oidc_outcome){.check = "ProviderError", .provider_error = "access_denied"};
	lo = ts__oidc_login_outcome(&ctx, &o);
	assert_string_equal(json_string_value(json_object_get(lo.params, "ProviderError")),
	                    "access_denied");
	assert_true(json_is_null(json_object_get(lo.params, "Subject")));
	ts_arena_free(&a);
}

static void test_error_known(void **state)
{
	(void)state;
	assert_true(ts__oidc_error_known("access_denied"));
	assert_true(ts__oidc_error_known("login_required"));
	assert_false(ts__oidc_error_known("access_denied "));
	assert_false(ts__oidc_error_known("<script>"));
	assert_false(ts__oidc_error_known(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_pkce_rfc7636_appendix_b),
	        cmocka_unit_test(test_derive),
	        cmocka_unit_test(test_authorize_url),
	        cmocka_unit_test(test_callback_parse),
	        cmocka_unit_test(test_start_parse),
	        cmocka_unit_test(test_login_outcome),
	        cmocka_unit_test(test_error_known),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
