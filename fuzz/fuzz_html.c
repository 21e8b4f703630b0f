/*
 * libFuzzer target for the HTML escaper (src/http/html.c). Whatever the
 * input, the output must be UTF-8 without a raw '<', '>', '"' or '\'', every
 * '&' must open one of the five references the escaper writes, and
 * unescaping the output must give back the input wherever the input was
 * UTF-8 without controls (else U+FFFD stands in). Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/utf8.h"
#include "http/html.h"

#define FUZZ_MAX_INPUT (64 * 1024)

static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
static const char plain[] = "&<>\"'";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	ts_arena_t *a = ts_arena_new();
	const char *in = ts_arena_strndup(a, (const char *)data, size);
	struct ts_http_html h;
	ts_http_html_init(&h, a);
	ts_http_html_text(&h, in);
	size_t len = 0;
	const char *out = ts_http_html_finish(&h, &len);
	if (h.fault != NULL || strlen(out) != len || !ts_utf8_valid(out, len))
		abort();
	/* unescape, checking every reference */
	char *back = ts_arena_alloc(a, len + 1), *o = back;
	for (size_t i = 0; i < len;) {
		char c = out[i];
		if (c == '<' || c == '>' || c == '"' || c == '\'')
			abort();
		if (c != '&') {
			*o++ = c;
			i++;
			continue;
		}
		size_t k = 0;
		while (k < sizeof refs / sizeof refs[0] &&
		       strncmp(out + i, refs[k], strlen(refs[k])) != 0)
			k++;
		if (k == sizeof refs / sizeof refs[0])
			abort();
		*o++ = plain[k];
		i += strlen(refs[k]);
	}
	*o = '\0';
	/* text that needed no replacement comes back as it was */
	bool clean = ts_utf8_valid(in, strlen(in));
	for (const unsigned char *p = (const unsigned char *)in; clean && *p;) {
		uint32_t cp = 0;
		size_t k = ts_utf8_decode(p, &cp);
		if (ts_utf8_is_control(cp) && cp != '\t' && cp != '\n' && cp != '\r')
			clean = false;
		p += k;
	}
	if (clean && strcmp(back, in) != 0)
		abort();
	if (!clean && strstr(out, "\xEF\xBF\xBD") == NULL)
		abort();
	ts_arena_free(&a);
	return 0;
}
