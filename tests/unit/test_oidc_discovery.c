/*
 * Unit tests of src/oidc/discovery.c: an OpenID Provider Configuration in the
 * shape Okta publishes for an org issuer (OpenID Connect Discovery 1.0 §3),
 * then a table of documents that each change one member (accepted and
 * refused, with the member named in the refusal), the §4.3 issuer rule, the
 * caps, and the discovery URL of an issuer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "oidc/discovery.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define ISSUER "https://example.okta.com"

/* The members Okta's org authorization server publishes that Tessera reads, and some it does not.
 */
static const char okta_doc[] =
        "{\"issuer\":\"" ISSUER "\","
        "\"authorization_endpoint\":\"" ISSUER "/oauth2/v1/authorize\","
        "\"token_endpoint\":\"" ISSUER "/oauth2/v1/token\","
        "\"userinfo_endpoint\":\"" ISSUER "/oauth2/v1/userinfo\","
        "\"registration_endpoint\":\"" ISSUER "/oauth2/v1/clients\","
        "\"jwks_uri\":\"" ISSUER "/oauth2/v1/keys\","
        "\"response_types_supported\":[\"code\",\"id_token\",\"code id_token\"],"
        "\"response_modes_supported\":[\"query\",\"fragment\",\"form_post\"],"
        "\"grant_types_supported\":[\"authorization_code\",\"implicit\",\"refresh_token\"],"
        "\"subject_types_supported\":[\"public\"],"
        "\"id_token_signing_alg_values_supported\":[\"RS256\"],"
        "\"scopes_supported\":[\"openid\",\"email\",\"profile\"],"
        "\"token_endpoint_auth_methods_supported\":[\"client_secret_basic\","
        "\"client_secret_post\",\"client_secret_jwt\",\"private_key_jwt\",\"none\"],"
        "\"claims_supported\":[\"iss\",\"sub\",\"aud\",\"email\",\"email_verified\"],"
        "\"code_challenge_methods_supported\":[\"S256\"],"
        "\"request_parameter_supported\":true}";

static void test_okta_shape(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_discovery d;
	struct ts_error e = {0};
	assert_int_equal(ts_oidc_discovery_parse(a, okta_doc, strlen(okta_doc), ISSUER, &d, &e),
	                 TS_ERR_OK);
	assert_string_equal(d.issuer, ISSUER);
	assert_string_equal(d.authorization_endpoint, ISSUER "/oauth2/v1/authorize");
	assert_string_equal(d.token_endpoint, ISSUER "/oauth2/v1/token");
	assert_string_equal(d.jwks_uri, ISSUER "/oauth2/v1/keys");
	assert_string_equal(d.userinfo_endpoint, ISSUER "/oauth2/v1/userinfo");
	assert_true(d.auth_basic);
	assert_true(d.auth_post);
	assert_int_equal(d.n_signing_algs, 1);
	assert_string_equal(d.signing_algs[0], "RS256");
	assert_false(d.iss_parameter_supported);
	/* not compared when no issuer is expected */
	assert_int_equal(ts_oidc_discovery_parse(a, okta_doc, strlen(okta_doc), NULL, &d, &e),
	                 TS_ERR_OK);
	ts_arena_free(&a);
}

/* One change to the Okta document: member set to the JSON value (NULL: removed). */
struct change {
	const char *member;
	const char *value;
	const char *expected_issuer;
	bool ok;
	const char *message; /* a part of the refusal's message */
};

static const struct change table[] = {
        /* §4.3: the issuer it names must be the one asked, byte for byte */
        {"issuer", "\"https://example.okta.com/\"", ISSUER, false, "names issuer"},
        {"issuer", "\"https://EXAMPLE.okta.com\"", ISSUER, false, "names issuer"},
        {"issuer", "\"https://evil.example.com\"", ISSUER, false, "not https://example.okta.com"},
        {"issuer", NULL, ISSUER, false, "has no issuer"},
        {"issuer", "7", ISSUER, false, "issuer is not a string"},
        {"issuer", "\"ftp://example.okta.com\"", NULL, false, "issuer"},
        /* required members */
        {"authorization_endpoint", NULL, ISSUER, false, "has no authorization_endpoint"},
        {"token_endpoint", NULL, ISSUER, false, "has no token_endpoint"},
        {"jwks_uri", NULL, ISSUER, false, "has no jwks_uri"},
        {"jwks_uri", "null", ISSUER, false, "has no jwks_uri"},
        {"token_endpoint", "[\"" ISSUER "/t\"]", ISSUER, false, "token_endpoint is not a string"},
        {"userinfo_endpoint", NULL, ISSUER, true, NULL},
        /* every URL passes the outbound client's check */
        {"token_endpoint", "\"http://example.okta.com/token\"", ISSUER, false, "token_endpoint"},
        {"jwks_uri", "\"https://user:pw@example.okta.com/keys\"", ISSUER, false, "jwks_uri"},
        {"authorization_endpoint", "\"/oauth2/v1/authorize\"", ISSUER, false,
         "authorization_endpoint"},
        {"userinfo_endpoint", "\"gopher://example.okta.com/\"", ISSUER, false, "userinfo_endpoint"},
        /* an https issuer cannot send Tessera to plain http, even on loopback */
        {"token_endpoint", "\"http://127.0.0.1:8080/token\"", ISSUER, false,
         "token_endpoint is not https"},
        {"jwks_uri", "\"http://localhost/keys\"", ISSUER, false, "jwks_uri is not https"},
        /* lists */
        {"response_types_supported", "[\"id_token\"]", ISSUER, false, "authorization code"},
        {"response_types_supported", NULL, ISSUER, true, NULL},
        {"code_challenge_methods_supported", "[\"plain\"]", ISSUER, false, "PKCE S256"},
        {"code_challenge_methods_supported", NULL, ISSUER, true, NULL},
        {"token_endpoint_auth_methods_supported", "[\"private_key_jwt\"]", ISSUER, false,
         "neither client_secret_basic nor client_secret_post"},
        {"token_endpoint_auth_methods_supported", "[]", ISSUER, false, "neither"},
        {"token_endpoint_auth_methods_supported", "\"client_secret_basic\"", ISSUER, false,
         "not an array"},
        {"token_endpoint_auth_methods_supported", "[7]", ISSUER, false,
         "token_endpoint_auth_methods_supported[0]"},
        {"id_token_signing_alg_values_supported", "[\"RS256\", {}]", ISSUER, false,
         "id_token_signing_alg_values_supported[1]"},
        {"id_token_signing_alg_values_supported",
         "[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
         "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
         "\"a\",\"a\",\"a\",\"a\",\"a\"]",
         ISSUER, false, "at most 32"},
        /* RFC 9207 §3 */
        {"authorization_response_iss_parameter_supported", "\"yes\"", ISSUER, false,
         "not a boolean"},
        {"authorization_response_iss_parameter_supported", "false", ISSUER, true, NULL},
        /* members Tessera does not read are left alone */
        {"claims_supported", "{\"odd\": [1, 2]}", ISSUER, true, NULL},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ITEMS(table); i++) {
		const struct change *t = &table[i];
		ts_arena_t *a = ts_arena_new();
		json_t *doc = json_loads(okta_doc, 0, NULL);
		assert_non_null(doc);
		if (t->value == NULL) {
			json_object_del(doc, t->member);
		} else {
			json_t *v = json_loads(t->value, JSON_DECODE_ANY, NULL);
			assert_non_null(v);
			json_object_set_new(doc, t->member, v);
		}
		char *text = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
		struct ts_oidc_discovery d;
		struct ts_error e = {0};
		ts_err rc =
		        ts_oidc_discovery_parse(a, text, strlen(text), t->expected_issuer, &d, &e);
		if (t->ok != (rc == TS_ERR_OK))
			fail_msg("case %zu (%s = %s): %s: %s", i, t->member,
			         t->value ? t->value : "(removed)", ts_err_name(rc), e.message);
		if (!t->ok) {
			assert_int_equal(rc, TS_ERR_BAD_REQUEST);
			if (strstr(e.message, t->message) == NULL)
				fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.message,
				         t->message);
		}
		free(text);
		ts_arena_free(&a);
	}
}

/* Choices read from the lists: basic unless only post is offered; absent means basic (§3). */
static void test_choices(void **state)
{
	(void)state;
	static const struct {
		const char *methods; /* NULL: member absent */
		bool basic, post;
	} cases[] = {
	        {NULL, true, false},
	        {"[\"client_secret_post\"]", false, true},
	        {"[\"client_secret_basic\"]", true, false},
	        {"[\"private_key_jwt\",\"client_secret_post\",\"client_secret_basic\"]", true,
	         true},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		json_t *doc = json_loads(okta_doc, 0, NULL);
		json_object_del(doc, "token_endpoint_auth_methods_supported");
		if (cases[i].methods != NULL)
			json_object_set_new(doc, "token_endpoint_auth_methods_supported",
			                    json_loads(cases[i].methods, 0, NULL));
		json_object_set_new(doc, "authorization_response_iss_parameter_supported",
		                    json_true());
		json_object_del(doc, "id_token_signing_alg_values_supported");
		char *text = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
		struct ts_oidc_discovery d;
		struct ts_error e = {0};
		assert_int_equal(ts_oidc_discovery_parse(a, text, strlen(text), ISSUER, &d, &e),
		                 TS_ERR_OK);
		assert_int_equal(d.auth_basic, cases[i].basic);
		assert_int_equal(d.auth_post, cases[i].post);
		assert_true(d.iss_parameter_supported);
		assert_null(d.signing_algs);
		assert_int_equal(d.n_signing_algs, 0);
		free(text);
		ts_arena_free(&a);
	}
}

/* A loopback issuer over plain http (the tests' providers): its endpoints may be too. */
static void test_loopback(void **state)
{
	(void)state;
	static const char doc[] = "{\"issuer\":\"http://127.0.0.1:9000/op\","
	                          "\"authorization_endpoint\":\"http://127.0.0.1:9000/op/auth\","
	                          "\"token_endpoint\":\"http://localhost:9000/op/token\","
	                          "\"jwks_uri\":\"http://[::1]:9000/op/jwks\"}";
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_discovery d;
	struct ts_error e = {0};
	assert_int_equal(
	        ts_oidc_discovery_parse(a, doc, strlen(doc), "http://127.0.0.1:9000/op", &d, &e),
	        TS_ERR_OK);
	assert_null(d.userinfo_endpoint);
	assert_true(d.auth_basic);
	ts_arena_free(&a);
}

static void test_malformed_and_caps(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_discovery d;
	struct ts_error e = {0};
	static const char *const bad[] = {"",           "[]",
	                                  "\"issuer\"", "{\"issuer\":",
	                                  "null",       "{\"issuer\":\"" ISSUER "\"} trailing"};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		assert_int_equal(ts_oidc_discovery_parse(a, bad[i], strlen(bad[i]), ISSUER, &d, &e),
		                 TS_ERR_BAD_REQUEST);
		assert_null(d.issuer);
	}
	/* a document past the cap, whatever it holds */
	size_t n = TS_OIDC_DISCOVERY_MAX + 1;
	char *big = ts_arena_alloc(a, n + 1);
	memset(big, ' ', n);
	memcpy(big, okta_doc, strlen(okta_doc));
	big[n] = '\0';
	assert_int_equal(ts_oidc_discovery_parse(a, big, n, ISSUER, &d, &e), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "larger than"));
	/* the same document within the cap parses */
	assert_int_equal(ts_oidc_discovery_parse(a, big, n - 1, ISSUER, &d, &e), TS_ERR_OK);
	/* deeply nested members are refused, not walked */
	char deep[256] = "{\"issuer\":\"" ISSUER "\",\"x\":";
	size_t at = strlen(deep);
	for (int i = 0; i < 40; i++)
		deep[at++] = '[';
	for (int i = 0; i < 40; i++)
		deep[at++] = ']';
	deep[at++] = '}';
	deep[at] = '\0';
	assert_int_equal(ts_oidc_discovery_parse(a, deep, at, ISSUER, &d, &e), TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

static void test_url(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	assert_string_equal(ts_oidc_discovery_url(a, ISSUER),
	                    ISSUER "/.well-known/openid-configuration");
	/* §4: a terminating "/" is removed before the path is appended */
	assert_string_equal(ts_oidc_discovery_url(a, ISSUER "/"),
	                    ISSUER "/.well-known/openid-configuration");
	assert_string_equal(ts_oidc_discovery_url(a, ISSUER "/oauth2/default"),
	                    ISSUER "/oauth2/default/.well-known/openid-configuration");
	assert_string_equal(ts_oidc_discovery_url(a, ISSUER "/oauth2/default/"),
	                    ISSUER "/oauth2/default/.well-known/openid-configuration");
	ts_arena_free(&a);
}

/* The fetch refuses an issuer before any request: no query or fragment, the URL check. */
static void test_fetch_refuses_issuer(void **state)
{
	(void)state;
	static const char *const bad[] = {ISSUER "?x=1", ISSUER "#frag", "http://example.okta.com",
	                                  "https://user@example.okta.com", "example.okta.com"};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_oidc_discovery d;
		struct ts_error e = {0};
		const char *json = "x";
		size_t len = 9;
		assert_int_equal(ts_oidc_discovery_fetch(a, bad[i], &d, &json, &len, &e),
		                 TS_ERR_BAD_REQUEST);
		assert_string_equal(json, "x"); /* nothing fetched */
		ts_arena_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_okta_shape),
	        cmocka_unit_test(test_table),
	        cmocka_unit_test(test_choices),
	        cmocka_unit_test(test_loopback),
	        cmocka_unit_test(test_malformed_and_caps),
	        cmocka_unit_test(test_url),
	        cmocka_unit_test(test_fetch_refuses_issuer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
