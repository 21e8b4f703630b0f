/*
 * The HTML writer, the shared layout and the page headers (see html.h).
 * The buffer grows in the request's arena up to TS_HTTP_HTML_MAX.
 */
#include "http/html.h"

#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "http/redirect.h"
#include "http/url.h"

#define HTML_MIN_CAP 1024
#define HTML_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define HTML_INT_BUF 32
#define STYLE_MAX_AGE "max-age=86400"

void ts_http_html_init(struct ts_http_html *h, ts_arena_t *arena)
{
	*h = (struct ts_http_html){.arena = arena, .cap = HTML_MIN_CAP};
	h->data = ts_arena_alloc(arena, h->cap);
}

/* Room for n more bytes and a NUL; false (and h->fault) past the cap. */
static bool reserve(struct ts_http_html *h, size_t n)
{
	if (h->fault != NULL)
		return false;
	if (n > TS_HTTP_HTML_MAX || h->len + n > TS_HTTP_HTML_MAX) {
		h->fault = "the page is larger than TS_HTTP_HTML_MAX";
		return false;
	}
	/* cannot fail: the page's bound was checked above */
	return ts_arena_grow(h->arena, &h->data, 1, h->len, h->len + n + 1, &h->cap,
	                     TS_HTTP_HTML_MAX + 1) == TS_ERR_OK;
}

static void put(struct ts_http_html *h, const char *s, size_t n)
{
	if (!reserve(h, n))
		return;
	memcpy(h->data + h->len, s, n);
	h->len += n;
	h->data[h->len] = '\0';
}

void ts__http_html_markup(struct ts_http_html *h, const char *lit, size_t n)
{
	put(h, lit, n);
}

/* The character reference for a byte that needs one, or NULL. */
static const char *entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

static bool text_control_ok(uint32_t cp)
{
	return cp == '\t' || cp == '\n' || cp == '\r';
}

void ts_http_html_text(struct ts_http_html *h, const char *s)
{
	if (s == NULL)
		return;
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		/* copy the run of bytes that need nothing */
		const unsigned char *run = p;
		while (*p >= 0x20 && *p < 0x7f && entity(*p) == NULL)
			p++;
		if (p > run)
			put(h, (const char *)run, (size_t)(p - run));
		if (*p == '\0')
			break;
		const char *ent = entity(*p);
		if (ent != NULL) {
			put(h, ent, strlen(ent));
			p++;
			continue;
		}
		uint32_t cp = 0;
		size_t k = ts_utf8_decode(p, &cp);
		if (k == 0) { /* not UTF-8: one byte becomes U+FFFD */
			put(h, HTML_REPLACEMENT, sizeof HTML_REPLACEMENT - 1);
			p++;
		} else if (ts_utf8_is_control(cp) && !text_control_ok(cp)) {
			put(h, HTML_REPLACEMENT, sizeof HTML_REPLACEMENT - 1);
			p += k;
		} else {
			put(h, (const char *)p, k);
			p += k;
		}
	}
}

void ts_http_html_int(struct ts_http_html *h, long long v)
{
	char buf[HTML_INT_BUF];
	int n = snprintf(buf, sizeof buf, "%lld", v);
	put(h, buf, (size_t)n);
}

void ts__http_html_attr(struct ts_http_html *h, const char *open_lit, const char *value)
{
	put(h, open_lit, strlen(open_lit));
	ts_http_html_text(h, value);
	put(h, "\"", 1);
}

void ts__http_html_url_attr(struct ts_http_html *h, const char *open_lit, const char *url,
                            const char *const *allowed, int n)
{
	if (ts_http_redirect_check(h->arena, url, allowed, n, NULL) != TS_ERR_OK) {
		if (h->fault == NULL)
			h->fault = "a URL in the page did not pass the redirect check";
		return;
	}
	/* checked: printable ASCII; '&' (a query's separator) is still escaped */
	ts__http_html_attr(h, open_lit, url);
}

void ts_http_html_page_begin(struct ts_http_html *h, const char *title)
{
	ts_http_html_lit(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                    "<meta name=\"viewport\" content=\"width=device-width, "
	                    "initial-scale=1\"><title>");
	ts_http_html_text(h, title);
	ts_http_html_lit(h, "</title><link rel=\"stylesheet\" href=\"" TS_HTTP_HTML_STYLE_PATH
	                    "\"></head>\n<body><main>\n");
}

void ts_http_html_page_end(struct ts_http_html *h)
{
	ts_http_html_lit(h, "\n</main></body></html>\n");
}

const char *ts_http_html_finish(struct ts_http_html *h, size_t *len)
{
	if (len != NULL)
		*len = h->len;
	return h->data;
}

static void headers_with(struct ts_http_res *res, const char *csp)
{
	ts_http_res_header(res, "content-security-policy", csp);
	ts_http_res_header(res, "x-frame-options", "DENY");
	/* same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" even on
	 * a same-origin form POST (Fetch, "serializing a request origin"), which the CSRF check
	 * (csrf.h) refuses */
	ts_http_res_header(res, "referrer-policy", "same-origin");
	ts_http_res_header(res, "cache-control", "no-store");
	ts_http_res_header(res, "x-content-type-options", "nosniff");
}

/*
 * The page policy with scripts from this origin or none, and form-action
 * also naming each of the n origins; false (res->fault set) when one is not
 * an origin.
 */
static bool policy_with(ts_arena_t *a, struct ts_http_res *res, bool script,
                        const char *const *form_action, int n)
{
	if (n == 0) {
		headers_with(res, script ? TS_HTTP_CSP_SCRIPT : TS_HTTP_CSP);
		return true;
	}
	const char *extra = "";
	for (int i = 0; i < n; i++) {
		const char *o = ts_http_origin_normalize(a, form_action[i], strlen(form_action[i]));
		if (o == NULL || strcmp(o, form_action[i]) != 0) {
			if (res->fault == NULL)
				res->fault = "a form-action origin that is not an origin";
			return false;
		}
		extra = ts_arena_printf(a, "%s %s", extra, o);
	}
	headers_with(res, ts_arena_printf(a,
	                                  "default-src 'none';%s style-src 'self'; img-src 'self'; "
	                                  "form-action 'self'%s; frame-ancestors 'none'; "
	                                  "base-uri 'none'",
	                                  script ? " script-src 'self';" : "", extra));
	return true;
}

void ts_http_page_headers(ts_arena_t *a, struct ts_http_res *res, const char *form_action)
{
	(void)policy_with(a, res, false, &form_action, form_action != NULL ? 1 : 0);
}

void ts_http_res_html(struct ts_http_req *req, struct ts_http_res *res, int status,
                      struct ts_http_html *h)
{
	if (h->fault != NULL) {
		if (res->fault == NULL)
			res->fault = h->fault;
		ts_http_res_set(res, ts_err_status(TS_ERR_INTERNAL), NULL, NULL, 0);
		return;
	}
	size_t len = 0;
	const char *body = ts_http_html_finish(h, &len);
	ts_http_res_set(res, status, TS_HTTP_HTML_TYPE, body, len);
	ts_http_page_headers(req->arena, res, NULL);
}

void ts_http_res_html_script(struct ts_http_req *req, struct ts_http_res *res, int status,
                             struct ts_http_html *h, const char *const *form_action, int n)
{
	if (h->fault != NULL) {
		if (res->fault == NULL)
			res->fault = h->fault;
		ts_http_res_set(res, ts_err_status(TS_ERR_INTERNAL), NULL, NULL, 0);
		return;
	}
	size_t len = 0;
	const char *body = ts_http_html_finish(h, &len);
	if (policy_with(req->arena, res, true, form_action, n))
		ts_http_res_set(res, status, TS_HTTP_HTML_TYPE, body, len);
	else
		ts_http_res_set(res, ts_err_status(TS_ERR_INTERNAL), NULL, NULL, 0);
}

/* Plain, readable, and no inline style anywhere: the CSP allows only this file. */
static const char style[] =
        "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}\n"
        "main{max-width:32rem;margin:4rem auto;padding:2rem;background:#fff;"
        "border:1px solid #d8dde3;border-radius:6px}\n"
        "h1{font-size:1.4rem;margin-top:0}\n"
        "label{display:block;margin:1rem 0 .25rem}\n"
        "input,button{font:inherit;padding:.4rem .6rem;width:100%;box-sizing:border-box}\n"
        "button{margin-top:1.25rem;cursor:pointer}\n"
        ".error{color:#a4161a}\n";

void ts_http_html_style_route(struct ts_http_req *req, struct ts_http_res *res)
{
	(void)req;
	ts_http_res_set(res, 200, "text/css; charset=utf-8", style, sizeof style - 1);
	ts_http_res_header(res, "cache-control", "public, " STYLE_MAX_AGE);
	ts_http_res_header(res, "x-content-type-options", "nosniff");
}
