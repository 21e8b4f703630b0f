/*
 * libFuzzer target for the form-body parser (src/http/form.c). The first
 * byte picks the limits (default or tiny, single-line or multiline); the
 * rest is the body. Every accepted form must hold only what form.h
 * promises (non-empty names, UTF-8 without controls, every cap kept), and
 * must survive a round trip: its fields percent-encoded again and parsed
 * give the same fields. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/utf8.h"
#include "http/form.h"

#define FUZZ_MAX_INPUT (TS_HTTP_FORM_MAX_BODY + 1024)
#define TINY_BODY 256
#define TINY_FIELDS 4
#define TINY_NAME 8
#define TINY_VALUE 16
#define FLAG_TINY 1
#define FLAG_MULTILINE 2

static void check_text(const char *s, size_t n, bool multiline)
{
	if (strlen(s) != n || !ts_utf8_valid(s, n))
		abort();
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp = 0;
		size_t k = ts_utf8_decode(p, &cp);
		if (k == 0)
			abort();
		if (ts_utf8_is_control(cp) &&
		    !(multiline && (cp == '\t' || cp == '\n' || cp == '\r')))
			abort();
		p += k;
	}
}

/* Percent-encodes every byte that is not unreserved (RFC 3986 §2.3). */
static void encode(char **o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			*(*o)++ = (char)*p;
		} else {
			*(*o)++ = '%';
			*(*o)++ = hex[*p >> 4];
			*(*o)++ = hex[*p & 15];
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_MAX_INPUT)
		return 0;
	struct ts_http_form_limits lim = TS_HTTP_FORM_LIMITS_DEFAULT;
	if (data[0] & FLAG_TINY)
		lim = (struct ts_http_form_limits){.max_body = TINY_BODY,
		                                   .max_fields = TINY_FIELDS,
		                                   .max_name = TINY_NAME,
		                                   .max_value = TINY_VALUE};
	lim.multiline = (data[0] & FLAG_MULTILINE) != 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_form f;
	struct ts_error e = {0};
	ts_err rc = ts_http_form_parse(a, body, len, &lim, &f, &e);
	if (rc != TS_ERR_OK) {
		if ((rc != TS_ERR_BAD_REQUEST && rc != TS_ERR_TOO_LARGE) || f.n != 0 ||
		    !ts_utf8_valid(e.message, strlen(e.message)))
			abort();
		goto out;
	}
	if (f.n > lim.max_fields || len > lim.max_body)
		abort();
	size_t total = 0;
	for (int i = 0; i < f.n; i++) {
		const struct ts_http_form_field *fd = &f.fields[i];
		size_t nl = strlen(fd->name);
		if (nl == 0 || nl > lim.max_name || fd->value_len > lim.max_value)
			abort();
		check_text(fd->name, nl, false);
		check_text(fd->value, fd->value_len, lim.multiline);
		total += 3 * (nl + fd->value_len) + 2;
	}
	/* the round trip */
	char *again = ts_arena_alloc(a, total + 1);
	char *o = again;
	for (int i = 0; i < f.n; i++) {
		if (i > 0)
			*o++ = '&';
		encode(&o, f.fields[i].name);
		*o++ = '=';
		encode(&o, f.fields[i].value);
	}
	struct ts_http_form g;
	lim.max_body = (size_t)(o - again);
	if (ts_http_form_parse(a, again, (size_t)(o - again), &lim, &g, &e) != TS_ERR_OK ||
	    g.n != f.n)
		abort();
	for (int i = 0; i < f.n; i++)
		if (strcmp(f.fields[i].name, g.fields[i].name) != 0 ||
		    strcmp(f.fields[i].value, g.fields[i].value) != 0)
			abort();
	/* lookups agree with the field list */
	for (int i = 0; i < f.n; i++) {
		const char *v = NULL;
		int count = ts_http_form_all(&f, f.fields[i].name, NULL, 0);
		ts_err one = ts_http_form_one(&f, f.fields[i].name, &v, &e);
		if ((count == 1) != (one == TS_ERR_OK) || (count == 1 && v != f.fields[i].value))
			abort();
	}
out:
	ts_arena_free(&a);
	return 0;
}
