/*
 * libFuzzer target for the redirect-target check and the base URL parser
 * (src/http/redirect.c, src/http/url.c). An accepted target is held to
 * what redirect.h promises, checked here independently: printable ASCII
 * without a backslash; a path with a single leading '/' or an allowed
 * origin followed by a path, query or fragment; and, decoded as many times
 * as any escape remains (up to the rounds the check looks through), no
 * control, no backslash, no "//" opening the path. The HTML writer must
 * accept exactly the targets the check accepts. An accepted base URL's
 * origin must normalize to itself. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/html.h"
#include "http/redirect.h"
#include "http/url.h"

#define FUZZ_MAX_INPUT (TS_HTTP_REDIRECT_MAX + 64)

static const char *const allowed[] = {"https://app.example.com", "http://127.0.0.1:9000"};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Where the path starts: after "/" for a relative target, after the origin otherwise. */
static size_t path_start(ts_arena_t *a, const char *t)
{
	if (t[0] == '/') {
		if (t[1] == '/' || t[1] == '\\')
			abort();
		return 0;
	}
	const char *s = strstr(t, "://");
	if (s == NULL)
		abort();
	size_t at = (size_t)(s - t) + 3;
	while (t[at] && t[at] != '/' && t[at] != '?' && t[at] != '#')
		at++;
	const char *o = ts_http_origin_normalize(a, t, at);
	if (o == NULL || (strcmp(o, allowed[0]) != 0 && strcmp(o, allowed[1]) != 0))
		abort();
	for (size_t i = 0; i < at; i++)
		if (t[i] == '@' || t[i] == '%')
			abort();
	return at;
}

static void check_accepted(ts_arena_t *a, const char *t)
{
	size_t n = strlen(t);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			abort();
	}
	size_t at = path_start(a, t);
	char *cur = ts_arena_strdup(a, t);
	for (int round = 0; round <= TS_HTTP_REDIRECT_DECODE_ROUNDS; round++) {
		bool escaped = false;
		char *d = ts_arena_alloc(a, strlen(cur) + 1), *o = d;
		for (size_t i = 0; cur[i]; i++) {
			if (cur[i] == '%' && cur[i + 1] && cur[i + 2] && hexval(cur[i + 1]) >= 0 &&
			    hexval(cur[i + 2]) >= 0) {
				int v = hexval(cur[i + 1]) * 16 + hexval(cur[i + 2]);
				if (v == 0)
					abort(); /* an encoded NUL */
				*o++ = (char)v;
				i += 2;
				escaped = true;
			} else {
				*o++ = cur[i];
			}
		}
		*o = '\0';
		if (!escaped)
			break;
		if (round == TS_HTTP_REDIRECT_DECODE_ROUNDS)
			abort(); /* escapes left past the rounds looked through */
		for (const unsigned char *p = (const unsigned char *)d; *p; p++)
			if (*p < 0x20 || *p == 0x7f || *p == '\\')
				abort();
		if (strlen(d) > at + 1 && d[at] == '/' && (d[at + 1] == '/' || d[at + 1] == '\\'))
			abort();
		cur = d;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	ts_arena_t *a = ts_arena_new();
	const char *t = ts_arena_strndup(a, (const char *)data, size);
	struct ts_error e = {0};
	ts_err rc = ts_http_redirect_check(a, t, allowed, 2, &e);
	if (rc == TS_ERR_OK)
		check_accepted(a, t);
	else if (rc != TS_ERR_BAD_REQUEST)
		abort();
	struct ts_http_html h;
	ts_http_html_init(&h, a);
	ts_http_html_url_attr(&h, "href", t, allowed, 2);
	if ((h.fault == NULL) != (rc == TS_ERR_OK))
		abort();
	struct ts_http_base_url b;
	if (ts_http_base_url_parse(a, t, &b, &e) == TS_ERR_OK) {
		const char *again = ts_http_origin_normalize(a, b.origin, strlen(b.origin));
		if (again == NULL || strcmp(again, b.origin) != 0 || strchr(b.origin, '@'))
			abort();
		/* the origin is a redirect target to itself when listed */
		const char *self[] = {b.origin};
		if (ts_http_redirect_check(a, b.origin, self, 1, &e) != TS_ERR_OK)
			abort();
	}
	ts_arena_free(&a);
	return 0;
}
