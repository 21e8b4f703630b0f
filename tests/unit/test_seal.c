/*
 * Unit tests of the error table's protocol rows (src/core/error.h) and of
 * sealing secrets at rest with the master key (src/core/crypto.h,
 * docs/secrets.md): round trips, the key id, a blob refused in another
 * place or under another key, tampering, and the wipe of what was opened.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "audit/chain.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
	(void)state;
	return ts_crypto_init() == TS_ERR_OK ? 0 : -1;
}

/* ---- errors --------------------------------------------------------------------------------- */

static void test_error_oauth_rows(void **state)
{
	(void)state;
	static const struct {
		ts_err code;
		const char *oauth;
		int status;
	} cases[] = {
	        /* RFC 6749 §5.2 */
	        {TS_ERR_OAUTH_INVALID_REQUEST, "invalid_request", 400},
	        {TS_ERR_OAUTH_INVALID_CLIENT, "invalid_client", 401},
	        {TS_ERR_OAUTH_INVALID_GRANT, "invalid_grant", 400},
	        {TS_ERR_OAUTH_UNAUTHORIZED_CLIENT, "unauthorized_client", 400},
	        {TS_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE, "unsupported_grant_type", 400},
	        {TS_ERR_OAUTH_INVALID_SCOPE, "invalid_scope", 400},
	        /* RFC 8628 §3.5 */
	        {TS_ERR_OAUTH_AUTHORIZATION_PENDING, "authorization_pending", 400},
	        {TS_ERR_OAUTH_SLOW_DOWN, "slow_down", 400},
	        {TS_ERR_OAUTH_EXPIRED_TOKEN, "expired_token", 400},
	        {TS_ERR_OAUTH_ACCESS_DENIED, "access_denied", 400},
	        /* the generic codes have an OAuth name too */
	        {TS_ERR_BAD_REQUEST, "invalid_request", 400},
	        {TS_ERR_UNAUTHORIZED, "invalid_client", 401},
	        {TS_ERR_INTERNAL, "server_error", 500},
	        {TS_ERR_STORE, "server_error", 500},
	        {TS_ERR_UNAVAILABLE, "temporarily_unavailable", 503},
	        {TS_ERR_SIGNIN_REFUSED, "access_denied", 403},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		assert_string_equal(ts_err_oauth_name(cases[i].code), cases[i].oauth);
		assert_int_equal(ts_err_status(cases[i].code), cases[i].status);
	}
	/* out of range: the internal error's */
	assert_string_equal(ts_err_oauth_name((ts_err)TS_ERR__COUNT), "server_error");
	assert_string_equal(ts_err_oauth_name((ts_err)-1), "server_error");
}

/* Every OAuth name is one RFC 6749 §5.2, §4.1.2.1 or RFC 8628 §3.5 defines; every row has one. */
static void test_error_oauth_names_known(void **state)
{
	(void)state;
	static const char *const known[] = {
	        "invalid_request",
	        "invalid_client",
	        "invalid_grant",
	        "unauthorized_client",
	        "unsupported_grant_type",
	        "invalid_scope",
	        "access_denied",
	        "server_error",
	        "temporarily_unavailable",
	        "authorization_pending",
	        "slow_down",
	        "expired_token",
	};
	for (int c = 0; c < TS_ERR__COUNT; c++) {
		const char *name = ts_err_oauth_name((ts_err)c);
		bool found = false;
		for (size_t i = 0; i < N_ITEMS(known); i++)
			found = found || strcmp(name, known[i]) == 0;
		assert_true(found);
		/* the admin/SCIM wire name of a protocol row is still an admin code */
		assert_non_null(
		        strstr(ts_err_name((ts_err)c), c == TS_ERR_OK ? "OK" : "Exception"));
	}
}

/* The protocol rows, appended, leave the status lookup of the HTTP library's answers alone. */
static void test_error_for_status_stable(void **state)
{
	(void)state;
	assert_int_equal(ts_err_for_status(400), TS_ERR_BAD_REQUEST);
	assert_int_equal(ts_err_for_status(401), TS_ERR_UNAUTHORIZED);
	assert_int_equal(ts_err_for_status(403), TS_ERR_FORBIDDEN);
	assert_int_equal(ts_err_for_status(500), TS_ERR_INTERNAL);
}

/* The sign-in refusal says nothing of which check failed. */
static void test_error_signin_refusal_generic(void **state)
{
	(void)state;
	const char *m = ts_err_message(TS_ERR_SIGNIN_REFUSED);
	static const char *const leaks[] = {"licen", "domain", "suspend",
	                                    "group", "user",   "password"};
	for (size_t i = 0; i < N_ITEMS(leaks); i++)
		assert_null(strstr(m, leaks[i]));
	assert_int_equal(ts_err_status(TS_ERR_SIGNIN_REFUSED), 403);
}

/* ---- sealing -------------------------------------------------------------------------------- */

static void keys(struct ts_secret_key *k1, struct ts_secret_key *k2)
{
	unsigned char m1[TS_MASTER_KEY_LEN], m2[TS_MASTER_KEY_LEN];
	memset(m1, 0x11, sizeof m1);
	memset(m2, 0x22, sizeof m2);
	ts_secret_key_derive(m1, k1);
	ts_secret_key_derive(m2, k2);
}

static void test_seal_round_trip(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_secret_key k, other;
	keys(&k, &other);
	const struct ts_secret_place at = {"oidc_client", "c-1", "client_secret"};
	/* binary, empty, and a long PEM-sized text */
	static const unsigned char bin[] = {0, 1, 2, 0xff, 0, 0x80};
	char pem[4096];
	memset(pem, 'k', sizeof pem - 1);
	pem[sizeof pem - 1] = '\0';
	const struct {
		const unsigned char *p;
		size_t n;
	} cases[] = {{bin, sizeof bin},
	             {(const unsigned char *)"", 0},
	             {(const unsigned char *)pem, strlen(pem)}};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		char *s1 = ts_secret_seal_at(a, &k, &at, cases[i].p, cases[i].n);
		char *s2 = ts_secret_seal_at(a, &k, &at, cases[i].p, cases[i].n);
		assert_string_not_equal(s1, s2); /* random nonce */
		char id[TS_SECRET_KEY_ID_LEN + 1];
		assert_true(ts_secret_sealed_key_id(s1, id));
		assert_string_equal(id, k.id);
		unsigned char *plain = NULL;
		size_t n = 99;
		struct ts_error e = {0};
		assert_int_equal(ts_secret_open_at(a, &k, &at, s1, &plain, &n, &e), TS_ERR_OK);
		assert_int_equal(n, cases[i].n);
		assert_memory_equal(plain, cases[i].p, n);
		assert_int_equal(plain[n], '\0');
	}
	ts_arena_free(&a);
}

/* The key id is the first digits of the store's key check value (docs/audit.md). */
static void test_seal_key_id_is_check_value(void **state)
{
	(void)state;
	unsigned char m[TS_MASTER_KEY_LEN];
	memset(m, 0x5a, sizeof m);
	struct ts_secret_key k;
	struct ts_audit_keys ak;
	ts_secret_key_derive(m, &k);
	ts_audit_keys_derive(m, &ak);
	assert_int_equal(strlen(k.id), TS_SECRET_KEY_ID_LEN);
	assert_memory_equal(k.id, ak.check, TS_SECRET_KEY_ID_LEN);
	/* the sealing key is neither the master key nor the check value's key */
	assert_memory_not_equal(k.key, m, sizeof m);
	ts_secret_key_wipe(&k);
	static const unsigned char zero[sizeof k] = {0};
	assert_memory_equal(&k, zero, sizeof k);
	ts_audit_keys_wipe(&ak);
}

static void test_seal_moved_refused(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_secret_key k, other;
	keys(&k, &other);
	const struct ts_secret_place at = {"oidc_client", "c-1", "client_secret"};
	char *s = ts_secret_seal_at(a, &k, &at, (const unsigned char *)"s3cret", 6);
	/* every other place: another kind, owner or name, and fields that run into each other */
	const struct ts_secret_place moved[] = {
	        {"saml_sp", "c-1", "client_secret"},     {"oidc_client", "c-2", "client_secret"},
	        {"oidc_client", "c-1", "signing_key"},   {"oidc_clientc-1", "", "client_secret"},
	        {"oidc_client", "c-1client_secret", ""}, {"", "", ""},
	};
	for (size_t i = 0; i < N_ITEMS(moved); i++) {
		unsigned char *plain = NULL;
		size_t n = 0;
		struct ts_error e = {0};
		assert_int_equal(ts_secret_open_at(a, &k, &moved[i], s, &plain, &n, &e),
		                 TS_ERR_INTERNAL);
		assert_null(plain);
		assert_non_null(strstr(e.message, "another place"));
	}
	ts_arena_free(&a);
}

static void test_seal_other_key_named(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_secret_key k, other;
	keys(&k, &other);
	assert_string_not_equal(k.id, other.id);
	const struct ts_secret_place at = {"saml_sp", "sp-1", "private_key"};
	char *s = ts_secret_seal_at(a, &k, &at, (const unsigned char *)"pem", 3);
	unsigned char *plain = NULL;
	size_t n = 0;
	struct ts_error e = {0};
	assert_int_equal(ts_secret_open_at(a, &other, &at, s, &plain, &n, &e), TS_ERR_INTERNAL);
	assert_non_null(strstr(e.message, k.id));     /* names the key that sealed it */
	assert_non_null(strstr(e.message, other.id)); /* and the one given */
	/* a blob whose key id was rewritten to the other key's does not open either */
	char *forged = ts_arena_printf(a, "%s", s);
	memcpy(forged + 4, other.id, TS_SECRET_KEY_ID_LEN);
	assert_int_equal(ts_secret_open_at(a, &other, &at, forged, &plain, &n, &e),
	                 TS_ERR_INTERNAL);
	assert_non_null(strstr(e.message, "altered"));
	ts_arena_free(&a);
}

static void test_seal_tampered_and_malformed(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_secret_key k, other;
	keys(&k, &other);
	const struct ts_secret_place at = {"k", "o", "n"};
	char *s = ts_secret_seal_at(a, &k, &at, (const unsigned char *)"tamper-me", 9);
	size_t len = strlen(s);
	/* every character of the base64 body changed in turn: none opens */
	for (size_t i = 4 + TS_SECRET_KEY_ID_LEN + 1; i < len; i++) {
		char *t = ts_arena_printf(a, "%s", s);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		unsigned char *plain = NULL;
		size_t n = 0;
		if (ts_secret_open_at(a, &k, &at, t, &plain, &n, NULL) == TS_ERR_OK)
			assert_memory_equal(plain, "tamper-me",
			                    9); /* only padding bits may differ */
	}
	const char *garbage[] = {"",
	                         "ts1.",
	                         "ts1.0123456789abcdef.",
	                         "ts2.0123456789abcdef.AAAA",
	                         "ts1.0123456789ABCDEF.AAAA",
	                         "ts1.0123456789abcde.AAAA",
	                         "ts1.0123456789abcdef.!!!!"};
	for (size_t i = 0; i < N_ITEMS(garbage); i++) {
		unsigned char *plain = NULL;
		size_t n = 0;
		assert_int_equal(ts_secret_open_at(a, &k, &at, garbage[i], &plain, &n, NULL),
		                 TS_ERR_INTERNAL);
	}
	char *cut = ts_arena_printf(a, "%.*s", (int)(4 + TS_SECRET_KEY_ID_LEN + 1 + 20), s);
	unsigned char *plain = NULL;
	size_t n = 0;
	assert_int_equal(ts_secret_open_at(a, &k, &at, cut, &plain, &n, NULL), TS_ERR_INTERNAL);
	ts_arena_free(&a);
}

/* What was opened is wiped when its arena is freed (the deferred destructor ran). */
static unsigned char *seen;
static size_t seen_n;
static void spy(void *p)
{
	(void)p;
	/* runs after the wipe (destructors run last registered first) */
	for (size_t i = 0; i < seen_n; i++)
		assert_int_equal(seen[i], 0);
}

static void test_seal_open_wiped(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_secret_key k, other;
	keys(&k, &other);
	const struct ts_secret_place at = {"k", "o", "n"};
	/* the spy is registered first so that it runs after the wipe */
	ts_arena_defer(a, spy, NULL);
	char *s = ts_secret_seal_at(a, &k, &at, (const unsigned char *)"wipe-me", 7);
	unsigned char *plain = NULL;
	assert_int_equal(ts_secret_open_at(a, &k, &at, s, &plain, &seen_n, NULL), TS_ERR_OK);
	seen = plain;
	assert_memory_equal(plain, "wipe-me", 7);
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_error_oauth_rows),
	        cmocka_unit_test(test_error_oauth_names_known),
	        cmocka_unit_test(test_error_for_status_stable),
	        cmocka_unit_test(test_error_signin_refusal_generic),
	        cmocka_unit_test(test_seal_round_trip),
	        cmocka_unit_test(test_seal_key_id_is_check_value),
	        cmocka_unit_test(test_seal_moved_refused),
	        cmocka_unit_test(test_seal_other_key_named),
	        cmocka_unit_test(test_seal_tampered_and_malformed),
	        cmocka_unit_test(test_seal_open_wiped),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
