/*
 * Cookie parsing and Set-Cookie building (see cookie.h for the defaults
 * and what happens over plain http).
 */
#include "http/cookie.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define IMF_DATE_BUF 64 /* "Sun, 06 Nov 1994 08:49:37 GMT" (29), RFC 9110 §5.6.7 */

/* RFC 9110 §5.6.2 tchar */
static bool tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 6265 §4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static bool cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
	       (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

static bool token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tchar((unsigned char)s[i]))
			return false;
	return n > 0;
}

static bool octets(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!cookie_octet((unsigned char)s[i]))
			return false;
	return true;
}

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* One "name=value" pair, trimmed; false when it is not one. */
static bool pair(ts_arena_t *a, const char *s, size_t n, struct ts_http_cookie *out)
{
	while (n > 0 && ows(s[0]))
		s++, n--;
	while (n > 0 && ows(s[n - 1]))
		n--;
	const char *eq = memchr(s, '=', n);
	if (eq == NULL)
		return false;
	size_t nlen = (size_t)(eq - s);
	const char *v = eq + 1;
	size_t vlen = n - nlen - 1;
	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') /* cookie-value may be quoted */
		v++, vlen -= 2;
	if (!token(s, nlen) || !octets(v, vlen))
		return false;
	out->name = ts_arena_strndup(a, s, nlen);
	out->value = ts_arena_strndup(a, v, vlen);
	return true;
}

ts_err ts_http_cookies_parse(ts_arena_t *a, const char *const *headers, int nheaders,
                             struct ts_http_cookies *out, struct ts_error *e)
{
	*out = (struct ts_http_cookies){0};
	size_t total = 0;
	for (int h = 0; h < nheaders; h++) {
		total += strlen(headers[h]);
		if (total > TS_HTTP_COOKIE_MAX_BYTES)
			return TS_FAIL(e, TS_ERR_TOO_LARGE, "Cookie headers longer than %d bytes",
			               TS_HTTP_COOKIE_MAX_BYTES);
	}
	struct ts_http_cookie *items = NULL;
	int n = 0, pieces = 0;
	for (int h = 0; h < nheaders; h++) {
		const char *s = headers[h];
		size_t len = strlen(s);
		for (size_t i = 0; i < len;) {
			const char *semi = memchr(s + i, ';', len - i);
			size_t end = semi ? (size_t)(semi - s) : len;
			size_t k = i;
			while (k < end && ows(s[k]))
				k++;
			if (k < end) { /* not an empty piece ("a=1;" or "a=1; ; b=2") */
				if (++pieces > TS_HTTP_COOKIE_MAX_PAIRS)
					return TS_FAIL(e, TS_ERR_TOO_LARGE, "more than %d cookies",
					               TS_HTTP_COOKIE_MAX_PAIRS);
				if (items == NULL)
					items = ts_arena_alloc(a, sizeof *items *
					                                  TS_HTTP_COOKIE_MAX_PAIRS);
				if (pair(a, s + i, end - i, &items[n]))
					n++;
				else
					out->skipped++;
			}
			i = end + 1;
		}
	}
	out->items = items;
	out->n = n;
	return TS_ERR_OK;
}

ts_err ts_http_cookies_from_req(const struct ts_http_req *req, struct ts_http_cookies *out,
                                struct ts_error *e)
{
	const char **values =
	        ts_arena_alloc(req->arena, sizeof *values * (size_t)(req->nheaders + 1));
	int n = 0;
	for (int i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, "cookie") == 0)
			values[n++] = req->headers[i].value;
	return ts_http_cookies_parse(req->arena, values, n, out, e);
}

ts_err ts_http_cookie_get(const struct ts_http_cookies *c, const char *name, const char **value,
                          struct ts_error *e)
{
	*value = NULL;
	const char *found = NULL;
	for (int i = 0; i < c->n; i++) {
		if (strcmp(c->items[i].name, name) != 0)
			continue;
		if (found != NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "cookie %s sent more than once",
			               name);
		found = c->items[i].value;
	}
	*value = found;
	return TS_ERR_OK;
}

const char *ts_http_cookie_name(ts_arena_t *a, const struct ts_http_base_url *base,
                                const char *name)
{
	if (base != NULL && base->secure)
		return ts_arena_concat(a, TS_HTTP_COOKIE_HOST_PREFIX, name, NULL);
	return ts_arena_strdup(a, name);
}

/* IMF-fixdate (RFC 9110 §5.6.7), spelled out: strftime's names follow the locale. */
static void imf_date(int64_t t, char out[IMF_DATE_BUF])
{
	static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, IMF_DATE_BUF, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
	         tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	         tm.tm_sec);
}

static const char *samesite_text(enum ts_http_samesite s)
{
	switch (s) {
	case TS_HTTP_SAMESITE_STRICT:
		return "Strict";
	case TS_HTTP_SAMESITE_NONE:
		return "None";
	default:
		return "Lax";
	}
}

ts_err ts_http_cookie_header(ts_arena_t *a, const struct ts_http_base_url *base, const char *name,
                             const char *value, const struct ts_http_cookie_opts *opts,
                             int64_t now_s, const char **out, struct ts_error *e)
{
	*out = NULL;
	bool secure = base != NULL && base->secure;
	size_t nlen = name ? strlen(name) : 0;
	if (!token(name ? name : "", nlen) || nlen > TS_HTTP_COOKIE_MAX_NAME)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "a cookie name must be a token of at most %d "
		               "bytes (RFC 6265 §4.1.1)",
		               TS_HTTP_COOKIE_MAX_NAME);
	if (strncmp(name, "__", 2) == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "cookie %s: the __Host- prefix is added here, not by the caller",
		               name);
	size_t vlen = value ? strlen(value) : 0;
	if (value == NULL || !octets(value, vlen) || vlen > TS_HTTP_COOKIE_MAX_VALUE)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "cookie %s: the value must be at most %d cookie-octets "
		               "(RFC 6265 §4.1.1)",
		               name, TS_HTTP_COOKIE_MAX_VALUE);
	if (opts == NULL || opts->max_age_s < 0 || opts->max_age_s > TS_HTTP_COOKIE_MAX_AGE_S)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "cookie %s: a lifetime of 0..%ld seconds is required", name,
		               TS_HTTP_COOKIE_MAX_AGE_S);
	if (opts->samesite == TS_HTTP_SAMESITE_NONE && !secure)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "cookie %s: SameSite=None needs an https base URL", name);
	char expires[IMF_DATE_BUF];
	imf_date(opts->max_age_s == 0 ? 0 : now_s + opts->max_age_s, expires);
	*out = ts_arena_printf(
	        a, "%s%s=%s; Path=/%s; HttpOnly; SameSite=%s; Max-Age=%lld; Expires=%s",
	        secure ? TS_HTTP_COOKIE_HOST_PREFIX : "", name, value, secure ? "; Secure" : "",
	        samesite_text(opts->samesite), (long long)opts->max_age_s, expires);
	return TS_ERR_OK;
}

ts_err ts_http_cookie_set(struct ts_http_res *res, ts_arena_t *a,
                          const struct ts_http_base_url *base, const char *name, const char *value,
                          const struct ts_http_cookie_opts *opts, struct ts_error *e)
{
	const char *h = NULL;
	ts_err rc = ts_http_cookie_header(a, base, name, value, opts, (int64_t)time(NULL), &h, e);
	if (rc == TS_ERR_OK)
		ts_http_res_header(res, "set-cookie", h);
	return rc;
}

ts_err ts_http_cookie_clear(struct ts_http_res *res, ts_arena_t *a,
                            const struct ts_http_base_url *base, const char *name,
                            struct ts_error *e)
{
	struct ts_http_cookie_opts o = {.max_age_s = 0};
	return ts_http_cookie_set(res, a, base, name, "", &o, e);
}
