/*
 * libFuzzer target for the forms the authorization server reads from
 * anyone (src/oauth/token.c, device.c): the body as a form
 * (ts_http_form_parse with the module's limits), then as a token request
 * (RFC 8628 §3.4, RFC 6749 §6), a device authorization request (RFC 8628
 * §3.1) and a /device decision, and every user_code through the RFC 8628
 * §6.1 normalisation. A refusal must be one of the OAuth codes the endpoint
 * answers with a UTF-8 message; an accepted request must give what its
 * caller relies on (a non-empty secret, an account ID that is one path
 * segment of at most the store's cap, a normalised code of 8 letters of
 * the alphabet that normalises to itself, also from its XXXX-XXXX form).
 * Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/utf8.h"
#include "oauth/internal.h"

#define FUZZ_BASE "https://id.example.com"

static void check_message(const struct ts_error *e)
{
	if (!ts_utf8_valid(e->message, strlen(e->message)))
		abort();
}

static void check_code(ts_arena_t *a, const char *code)
{
	if (code[0] == '\0')
		return;
	if (strlen(code) != TS__OAUTH_USER_CODE_LEN ||
	    strspn(code, TS__OAUTH_USER_CODE_ALPHABET) != TS__OAUTH_USER_CODE_LEN)
		abort();
	char again[TS__OAUTH_USER_CODE_LEN + 1], shown[TS__OAUTH_USER_CODE_LEN + 1];
	if (!ts__oauth_user_code_normalise(code, again) || strcmp(code, again) != 0 ||
	    !ts__oauth_user_code_normalise(ts__oauth_user_code_display(a, code), shown) ||
	    strcmp(code, shown) != 0)
		abort();
}

static void token(const struct ts_http_form *f)
{
	struct ts__oauth_token_req t;
	struct ts_error e = {0};
	ts_err rc = ts__oauth_token_request(f, &t, &e);
	if (rc == TS_ERR_OK) {
		if (t.secret == NULL || t.secret[0] == '\0' ||
		    strlen(t.secret) > TS__OAUTH_FORM_MAX_VALUE)
			abort();
		return;
	}
	check_message(&e);
	if ((rc != TS_ERR_OAUTH_INVALID_REQUEST && rc != TS_ERR_OAUTH_INVALID_CLIENT &&
	     rc != TS_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE) ||
	    t.secret != NULL)
		abort();
}

static void device(ts_arena_t *a, const struct ts_http_form *f)
{
	struct ts__oauth_device_req d;
	struct ts_error e = {0};
	ts_err rc = ts__oauth_device_request(a, FUZZ_BASE, f, &d, &e);
	if (rc == TS_ERR_OK) {
		size_t n = strlen(d.account_id);
		if (n == 0 || n > TS_STORE_OAUTH_FIELD_MAX ||
		    strpbrk(d.account_id, "/?#%") != NULL ||
		    (d.scope != NULL && strlen(d.scope) > TS_STORE_OAUTH_TEXT_MAX))
			abort();
		return;
	}
	check_message(&e);
	if (rc != TS_ERR_OAUTH_INVALID_REQUEST && rc != TS_ERR_OAUTH_INVALID_CLIENT)
		abort();
}

static void decision(ts_arena_t *a, const struct ts_http_form *f)
{
	struct ts__oauth_decision d;
	struct ts_error e = {0};
	ts_err rc = ts__oauth_decision_request(f, &d, &e);
	if (rc != TS_ERR_OK) {
		check_message(&e);
		if (rc != TS_ERR_BAD_REQUEST)
			abort();
		return;
	}
	check_code(a, d.code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > TS__OAUTH_FORM_MAX_BODY + 1024)
		return 0;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_form f;
	struct ts_error e = {0};
	struct ts_http_form_limits lim = TS__OAUTH_FORM_LIMITS;
	if (ts_http_form_parse(a, (const char *)data, size, &lim, &f, &e) == TS_ERR_OK) {
		token(&f);
		device(a, &f);
		decision(a, &f);
		for (int i = 0; i < f.n; i++) {
			char code[TS__OAUTH_USER_CODE_LEN + 1];
			bool ok = ts__oauth_user_code_normalise(f.fields[i].value, code);
			if (ok != (code[0] != '\0'))
				abort();
			check_code(a, code);
		}
	}
	ts_arena_free(&a);
	return 0;
}
