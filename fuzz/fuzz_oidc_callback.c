/*
 * libFuzzer target for the query strings a browser brings to the OIDC
 * endpoints (src/oidc/flow.c): ts__oidc_callback_parse (the redirection
 * endpoint, RFC 6749 §4.1.2) and ts__oidc_start_parse (OpenID Connect Core
 * §4). The input is the raw query. A refusal must be one of the two codes
 * with nothing filled and a UTF-8 message; an accepted query must give
 * values that are UTF-8 without controls within their caps, and must
 * survive a round trip: the values encoded again (ts__oidc_query, the
 * encoder of the authorization URL and the token request) and parsed give
 * the same values. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/utf8.h"
#include "oidc/web.h"

#define FUZZ_MAX_INPUT (TS__OIDC_QUERY_MAX + 1024)
#define N_FIELDS(a) (sizeof(a) / sizeof((a)[0]))

static void check_text(const char *s, size_t max)
{
	if (s == NULL)
		return;
	size_t n = strlen(s);
	if (n > max || !ts_utf8_valid(s, n))
		abort();
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp = 0;
		size_t k = ts_utf8_decode(p, &cp);
		if (k == 0 || ts_utf8_is_control(cp))
			abort();
		p += k;
	}
}

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_refusal(ts_err rc, const struct ts_error *e)
{
	if ((rc != TS_ERR_BAD_REQUEST && rc != TS_ERR_TOO_LARGE) ||
	    !ts_utf8_valid(e->message, strlen(e->message)))
		abort();
}

static void callback(ts_arena_t *a, const char *q, size_t len)
{
	struct ts__oidc_callback c;
	struct ts_error e = {0};
	ts_err rc = ts__oidc_callback_parse(a, q, len, &c, &e);
	if (rc != TS_ERR_OK) {
		check_refusal(rc, &e);
		if (c.code || c.state || c.iss || c.error || c.error_description)
			abort();
		return;
	}
	check_text(c.code, TS__OIDC_CODE_MAX);
	check_text(c.state, TS__OIDC_STATE_LEN);
	check_text(c.iss, TS__OIDC_ISS_MAX);
	check_text(c.error, TS__OIDC_ERROR_MAX);
	check_text(c.error_description, TS__OIDC_ERROR_DESCRIPTION_MAX);
	(void)ts__oidc_error_known(c.error);
	static const char *const names[] = {"code", "state", "iss", "error", "error_description"};
	const char *const values[] = {c.code, c.state, c.iss, c.error, c.error_description};
	const char *again = ts__oidc_query(a, names, values, N_FIELDS(names));
	struct ts__oidc_callback d;
	if (ts__oidc_callback_parse(a, again, strlen(again), &d, &e) != TS_ERR_OK ||
	    !same(c.code, d.code) || !same(c.state, d.state) || !same(c.iss, d.iss) ||
	    !same(c.error, d.error) || !same(c.error_description, d.error_description))
		abort();
}

static void start(ts_arena_t *a, const char *q, size_t len)
{
	struct ts__oidc_start s;
	struct ts_error e = {0};
	ts_err rc = ts__oidc_start_parse(a, q, len, &s, &e);
	if (rc != TS_ERR_OK) {
		check_refusal(rc, &e);
		if (s.iss || s.login_hint || s.target_link_uri)
			abort();
		return;
	}
	check_text(s.iss, TS__OIDC_ISS_MAX);
	check_text(s.login_hint, TS__OIDC_LOGIN_HINT_MAX);
	check_text(s.target_link_uri, TS__OIDC_QUERY_MAX);
	if (s.login_hint != NULL && s.login_hint[0] == '\0')
		abort();
	static const char *const names[] = {"iss", "login_hint", "target_link_uri"};
	const char *const values[] = {s.iss, s.login_hint, s.target_link_uri};
	const char *again = ts__oidc_query(a, names, values, N_FIELDS(names));
	struct ts__oidc_start t;
	if (ts__oidc_start_parse(a, again, strlen(again), &t, &e) != TS_ERR_OK ||
	    !same(s.iss, t.iss) || !same(s.login_hint, t.login_hint) ||
	    !same(s.target_link_uri, t.target_link_uri))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	ts_arena_t *a = ts_arena_new();
	/* the query need not be NUL-terminated: the parsers take a length */
	callback(a, (const char *)data, size);
	start(a, (const char *)data, size);
	ts_arena_free(&a);
	return 0;
}
