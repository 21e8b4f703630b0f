/*
 * The redirect-target check and the 303 answer (see redirect.h). The check
 * works on the raw text and then on every layer of percent-decoding, since
 * what one component decodes once another may decode again.
 */
#include "http/redirect.h"

#include <string.h>

#include "core/utf8.h"
#include "http/html.h"
#include "http/url.h"

#define HEX_BASE 16
#define C0_END 0x20
#define ASCII_DEL 0x7f
#define ASCII_LAST_PRINTABLE 0x7e

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

/* The raw target: printable ASCII, no space, quote, angle bracket, backtick, backslash. */
static const char *raw_fault(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= ASCII_DEL)
			return c > ASCII_LAST_PRINTABLE && c != ASCII_DEL
			               ? "bytes above 0x7E must be percent-encoded (RFC 3986 §2.1)"
			               : "a space or a control character";
		if (c == '\\')
			return "a backslash";
		if (c == '"' || c == '<' || c == '>' || c == '`')
			return "a character a URL never holds unencoded (RFC 3986 §2)";
		if (c == '%' && (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0))
			return "a '%' not followed by two hex digits";
	}
	return NULL;
}

/* Whether s[0..n) holds a %XX escape. */
static bool has_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '%' && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0)
			return true;
	return false;
}

/* Percent-decodes s once into arena memory (may hold a NUL: the caller checks). */
static char *decode_once(ts_arena_t *a, const char *s, size_t n, size_t *out_len)
{
	char *d = ts_arena_alloc(a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && n - i >= 3 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			d[o++] = (char)(hexval(s[i + 1]) * HEX_BASE + hexval(s[i + 2]));
			i += 2;
		} else {
			/* a '%' left over by an earlier layer ("%25zz" -> "%zz") is kept as text */
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	*out_len = o;
	return d;
}

/* A decoded layer: UTF-8, no controls, no backslash, no second leading slash. */
static const char *layer_fault(const char *d, size_t n, size_t path_at)
{
	if (!ts_utf8_valid(d, n))
		return "an escape decodes to a NUL or to bytes that are not UTF-8";
	const unsigned char *p = (const unsigned char *)d;
	while (*p) {
		uint32_t cp = 0;
		size_t k = ts_utf8_decode(p, &cp);
		if (ts_utf8_is_control(cp))
			return "an escape decodes to a control character";
		if (cp == '\\')
			return "an escape decodes to a backslash";
		p += k;
	}
	/* "/%2F/evil" decodes to "//evil", a host to whoever decodes it */
	if (path_at < n && d[path_at] == '/' && path_at + 1 < n &&
	    (d[path_at + 1] == '/' || d[path_at + 1] == '\\'))
		return "an escape decodes to \"//\" at the start of the path";
	return NULL;
}

ts_err ts_http_redirect_check(ts_arena_t *a, const char *target, const char *const *allowed, int n,
                              struct ts_error *e)
{
	if (target == NULL || target[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "redirect target: empty");
	size_t len = strlen(target);
	if (len > TS_HTTP_REDIRECT_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "redirect target: longer than %d bytes",
		               TS_HTTP_REDIRECT_MAX);
	const char *why = raw_fault(target, len);
	if (why != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "redirect target: %s", why);
	size_t path_at = 0;
	if (target[0] == '/') {
		/* "//host" is a network-path reference (RFC 3986 §4.2) */
		if (target[1] == '/')
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "redirect target: \"//\" names another host");
	} else {
		static const char sep[] = "://";
		const char *s = strstr(target, sep);
		if (s == NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "redirect target: neither a path starting with '/' nor an "
			               "http(s) URL");
		size_t at = (size_t)(s - target) + sizeof sep - 1;
		while (at < len && target[at] != '/' && target[at] != '?' && target[at] != '#')
			at++;
		const char *origin = ts_http_origin_normalize(a, target, at);
		if (origin == NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "redirect target: not an http(s) origin (or has userinfo)");
		bool listed = false;
		for (int i = 0; i < n && !listed; i++)
			listed = allowed[i] != NULL && strcmp(allowed[i], origin) == 0;
		if (!listed)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "redirect target: the origin is not on the allow-list");
		path_at = at;
	}
	const char *layer = target;
	size_t llen = len;
	for (int round = 0; has_escape(layer, llen); round++) {
		if (round == TS_HTTP_REDIRECT_DECODE_ROUNDS)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "redirect target: more than %d layers of percent-escapes",
			               TS_HTTP_REDIRECT_DECODE_ROUNDS);
		layer = decode_once(a, layer, llen, &llen);
		why = layer_fault(layer, llen, path_at);
		if (why != NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "redirect target: %s", why);
	}
	return TS_ERR_OK;
}

ts_err ts_http_redirect(struct ts_http_req *req, struct ts_http_res *res, const char *target,
                        const char *const *allowed, int n, struct ts_error *e)
{
	ts_err rc = ts_http_redirect_check(req->arena, target, allowed, n, e);
	if (rc != TS_ERR_OK)
		return rc;
	ts_http_res_set(res, TS_HTTP_STATUS_SEE_OTHER, NULL, "", 0);
	ts_http_res_header(res, "location", ts_arena_strdup(req->arena, target));
	ts_http_page_headers(req->arena, res, NULL);
	return TS_ERR_OK;
}
