/*
 * libFuzzer target for the Cookie header parser and the Set-Cookie builder
 * (src/http/cookie.c). The input's lines are Cookie header values (HTTP/2
 * may send several). Every parsed cookie must have a token name and a
 * cookie-octet value (RFC 6265 §4.1.1), within the caps; lookups must agree
 * with the list. Then the first two lines are offered to the builder as a
 * name and a value: an accepted Set-Cookie must read back, through the
 * parser, as exactly that name and value, with no byte a header could be
 * split or extended with. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/cookie.h"

#define FUZZ_MAX_INPUT (TS_HTTP_COOKIE_MAX_BYTES + 1024)
#define FUZZ_MAX_LINES 8
#define EXAMPLE_NOW 1700000000
#define EXAMPLE_AGE 3600

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
	       (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

static void check_cookie(const struct ts_http_cookie *c)
{
	if (c->name[0] == '\0')
		abort();
	for (const unsigned char *p = (const unsigned char *)c->name; *p; p++)
		if (!tchar(*p))
			abort();
	for (const unsigned char *p = (const unsigned char *)c->value; *p; p++)
		if (!octet(*p))
			abort();
}

static void builder(ts_arena_t *a, const char *name, const char *value, bool secure)
{
	struct ts_http_base_url base;
	if (ts_http_base_url_parse(a, secure ? "https://id.example.com" : "http://127.0.0.1:8080",
	                           &base, NULL) != TS_ERR_OK)
		abort();
	struct ts_http_cookie_opts o = {.max_age_s = EXAMPLE_AGE};
	const char *h = NULL;
	if (ts_http_cookie_header(a, &base, name, value, &o, EXAMPLE_NOW, &h, NULL) != TS_ERR_OK) {
		if (h != NULL)
			abort();
		return;
	}
	for (const unsigned char *p = (const unsigned char *)h; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	/* the pair before the first ';' is the cookie, as a browser will send it back */
	const char *semi = strchr(h, ';');
	if (semi == NULL)
		abort();
	const char *pair = ts_arena_strndup(a, h, (size_t)(semi - h));
	struct ts_http_cookies c;
	if (ts_http_cookies_parse(a, &pair, 1, &c, NULL) != TS_ERR_OK || c.n != 1 || c.skipped)
		abort();
	if (strcmp(c.items[0].name, ts_http_cookie_name(a, &base, name)) != 0 ||
	    strcmp(c.items[0].value, value) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	ts_arena_t *a = ts_arena_new();
	const char *lines[FUZZ_MAX_LINES];
	int n = 0;
	const char *p = (const char *)data, *end = p + size;
	while (p <= end && n < FUZZ_MAX_LINES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		lines[n++] = ts_arena_strndup(a, p, (size_t)(stop - p)); /* stops at a NUL too */
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	struct ts_http_cookies c;
	struct ts_error e = {0};
	ts_err rc = ts_http_cookies_parse(a, lines, n, &c, &e);
	if (rc != TS_ERR_OK) {
		if (rc != TS_ERR_TOO_LARGE)
			abort();
	} else {
		if (c.n + c.skipped > TS_HTTP_COOKIE_MAX_PAIRS)
			abort();
		for (int i = 0; i < c.n; i++) {
			check_cookie(&c.items[i]);
			const char *v = NULL;
			int same = 0;
			for (int k = 0; k < c.n; k++)
				same += strcmp(c.items[k].name, c.items[i].name) == 0;
			ts_err g = ts_http_cookie_get(&c, c.items[i].name, &v, &e);
			if ((same == 1) != (g == TS_ERR_OK) || (same == 1 && v != c.items[i].value))
				abort();
		}
	}
	if (n >= 2) {
		builder(a, lines[0], lines[1], true);
		builder(a, lines[0], lines[1], false);
	}
	ts_arena_free(&a);
	return 0;
}
