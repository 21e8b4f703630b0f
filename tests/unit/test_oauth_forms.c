/*
 * The authorization server's request forms (oauth/token.c, device.c),
 * table-driven: a token request's grant, client and secret (RFC 8628 §3.4,
 * RFC 6749 §6, §5.2 error names), a device authorization's start URL
 * (SPEC §8: exactly {base}/start/{AccountId}, one path segment) and the
 * /device decision form. Each refusal is the OAuth error the endpoint
 * answers, and its message quotes no value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "oauth/internal.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define BASE "https://id.example.com"
#define GRANT "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"

static struct ts_http_form form(ts_arena_t *a, const char *body)
{
	struct ts_http_form f;
	struct ts_error e = {0};
	struct ts_http_form_limits lim = TS__OAUTH_FORM_LIMITS;
	assert_int_equal(ts_http_form_parse(a, body, strlen(body), &lim, &f, &e), TS_ERR_OK);
	return f;
}

static void test_token_request(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		ts_err want;
		bool device;
		const char *secret;
	} cases[] = {
	        {GRANT "&device_code=dc1&client_id=tessera-cli", TS_ERR_OK, true, "dc1"},
	        {"grant_type=refresh_token&refresh_token=tsr_x&client_id=tessera-cli", TS_ERR_OK,
	         false, "tsr_x"},
	        {"client_id=tessera-cli&device_code=dc1", TS_ERR_OAUTH_INVALID_REQUEST, false,
	         NULL},
	        {"grant_type=password&client_id=tessera-cli", TS_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE,
	         false, NULL},
	        {"grant_type=authorization_code&code=x&client_id=tessera-cli",
	         TS_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE, false, NULL},
	        {GRANT "&device_code=dc1", TS_ERR_OAUTH_INVALID_REQUEST, false, NULL},
	        {GRANT "&device_code=dc1&client_id=other", TS_ERR_OAUTH_INVALID_CLIENT, false,
	         NULL},
	        {GRANT "&device_code=dc1&client_id=tessera-cli&client_id=tessera-cli",
	         TS_ERR_OAUTH_INVALID_REQUEST, false, NULL},
	        {GRANT "&client_id=tessera-cli", TS_ERR_OAUTH_INVALID_REQUEST, false, NULL},
	        {GRANT "&device_code=&client_id=tessera-cli", TS_ERR_OAUTH_INVALID_REQUEST, false,
	         NULL},
	        /* a value smuggled in front of the real one is never picked */
	        {GRANT "&device_code=a&device_code=b&client_id=tessera-cli",
	         TS_ERR_OAUTH_INVALID_REQUEST, false, NULL},
	        {GRANT "&" GRANT "&device_code=a&client_id=tessera-cli",
	         TS_ERR_OAUTH_INVALID_REQUEST, false, NULL},
	        /* the refresh grant reads refresh_token, not device_code */
	        {"grant_type=refresh_token&device_code=x&client_id=tessera-cli",
	         TS_ERR_OAUTH_INVALID_REQUEST, false, NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_form f = form(a, cases[i].body);
		struct ts__oauth_token_req t;
		struct ts_error e = {0};
		ts_err rc = ts__oauth_token_request(&f, &t, &e);
		if (rc != cases[i].want)
			fail_msg("case %zu (%s): %s, want %s", i, cases[i].body,
			         ts_err_oauth_name(rc), ts_err_oauth_name(cases[i].want));
		if (rc == TS_ERR_OK) {
			assert_true(t.device == cases[i].device);
			assert_string_equal(t.secret, cases[i].secret);
		} else {
			assert_null(strstr(e.message, "dc1"));
		}
		ts_arena_free(&a);
	}
}

static void test_device_request(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		ts_err want;
		const char *account, *scope;
	} cases[] = {
	        {"client_id=tessera-cli&start_url=https%3A%2F%2Fid.example.com%2Fstart%2Facct-1",
	         TS_ERR_OK, "acct-1", NULL},
	        {"client_id=tessera-cli&scope=openid+profile&start_url=" BASE "/start/a2",
	         TS_ERR_OK, "a2", "openid profile"},
	        {"client_id=x&start_url=" BASE "/start/a", TS_ERR_OAUTH_INVALID_CLIENT, NULL, NULL},
	        {"start_url=" BASE "/start/a", TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli", TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/start/", TS_ERR_OAUTH_INVALID_REQUEST,
	         NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/start/a/b", TS_ERR_OAUTH_INVALID_REQUEST,
	         NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/start/a%3Fx",
	         TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/start/a%23x",
	         TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/start/a%2525",
	         TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli&start_url=https://id.example.com.evil/start/a",
	         TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli&start_url=http://id.example.com/start/a",
	         TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/portal", TS_ERR_OAUTH_INVALID_REQUEST,
	         NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/start/a&start_url=" BASE "/start/b",
	         TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	        {"client_id=tessera-cli&start_url=" BASE "/start/a&scope=x&scope=y",
	         TS_ERR_OAUTH_INVALID_REQUEST, NULL, NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_form f = form(a, cases[i].body);
		struct ts__oauth_device_req d;
		struct ts_error e = {0};
		ts_err rc = ts__oauth_device_request(a, BASE, &f, &d, &e);
		if (rc != cases[i].want)
			fail_msg("case %zu (%s): %s, want %s", i, cases[i].body,
			         ts_err_oauth_name(rc), ts_err_oauth_name(cases[i].want));
		if (rc == TS_ERR_OK) {
			assert_string_equal(d.account_id, cases[i].account);
			if (cases[i].scope == NULL)
				assert_null(d.scope);
			else
				assert_string_equal(d.scope, cases[i].scope);
		}
		ts_arena_free(&a);
	}
}

static void test_decision_request(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		ts_err want;
		const char *code;
		bool approve;
		const char *csrf;
	} cases[] = {
	        {"user_code=BCDF-GHJK&decision=approve&csrf=tok", TS_ERR_OK, "BCDFGHJK", true,
	         "tok"},
	        {"user_code=bcdfghjk&decision=deny", TS_ERR_OK, "BCDFGHJK", false, NULL},
	        /* not a code: read, and counted as a wrong entry by the caller */
	        {"user_code=AEIO-UAEI&decision=approve", TS_ERR_OK, "", true, NULL},
	        {"user_code=BCDF-GHJK&decision=maybe", TS_ERR_BAD_REQUEST, NULL, false, NULL},
	        {"user_code=BCDF-GHJK", TS_ERR_BAD_REQUEST, NULL, false, NULL},
	        {"decision=approve", TS_ERR_BAD_REQUEST, NULL, false, NULL},
	        {"user_code=BCDF-GHJK&decision=deny&decision=approve", TS_ERR_BAD_REQUEST, NULL,
	         false, NULL},
	        {"user_code=BCDF-GHJK&decision=approve&csrf=a&csrf=b", TS_ERR_BAD_REQUEST, NULL,
	         false, NULL},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_http_form f = form(a, cases[i].body);
		struct ts__oauth_decision d;
		struct ts_error e = {0};
		ts_err rc = ts__oauth_decision_request(&f, &d, &e);
		if (rc != cases[i].want)
			fail_msg("case %zu (%s): %s", i, cases[i].body, ts_err_name(rc));
		if (rc == TS_ERR_OK) {
			assert_string_equal(d.code, cases[i].code);
			assert_true(d.approve == cases[i].approve);
			if (cases[i].csrf == NULL)
				assert_null(d.csrf);
			else
				assert_string_equal(d.csrf, cases[i].csrf);
		}
		ts_arena_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_token_request),
	        cmocka_unit_test(test_device_request),
	        cmocka_unit_test(test_decision_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
