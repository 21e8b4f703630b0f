/*
 * HTML pages: a writer in which every dynamic value is escaped by default,
 * a small shared layout, and the security headers every page carries.
 *
 * There is no call that pastes a caller's string into the page as markup:
 * markup goes in only through ts_http_html_lit, a macro that compiles only
 * with a string literal ("" lit "" does not compile with a variable), so
 * every piece of markup is in the source, reviewed. Text and attribute
 * values go through the escaper, which writes '&', '<', '>', '"' and '\''
 * as character references: safe in element content and in quoted
 * attribute values alike. URLs go in only after the redirect
 * check (http/redirect.h), so no javascript: or //host link is ever
 * written. Pages have no inline script and no inline style: the Content
 * Security Policy below forbids both; the stylesheet is a route of its own.
 */
#ifndef TS_HTTP_HTML_H
#define TS_HTTP_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "http/http.h"

/* The largest page the writer builds; past it the page becomes a 500 (res->fault). */
#define TS_HTTP_HTML_MAX (1024 * 1024)
#define TS_HTTP_HTML_TYPE "text/html; charset=utf-8"
/* The stylesheet's path, and the route that serves it (ts_http_html_style_route). */
#define TS_HTTP_HTML_STYLE_PATH "/static/tessera.css"
/*
 * The page policy (CSP Level 3): nothing from anywhere unless listed, styles
 * and images from this origin only (no inline style, no inline script, no
 * script at all), forms post back to this origin, no framing (clickjacking),
 * no <base> rewriting of relative links.
 */
#define TS_HTTP_CSP                                                                  \
	"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"

/*
 * The same with scripts from this origin only (files served here, never
 * inline script): for the rare page that cannot work without one, such as
 * the SAML ACS's resubmit page (docs/saml.md).
 */
#define TS_HTTP_CSP_SCRIPT                                                                      \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action " \
	"'self'; frame-ancestors 'none'; base-uri 'none'"

struct ts_http_html {
	ts_arena_t *arena;
	char *data;
	size_t len, cap;
	/*
	 * Why the page is not usable (static text), or NULL: past
	 * TS_HTTP_HTML_MAX, or a URL the redirect check refused. ts_http_res_html
	 * then answers 500 (the server logs the fault).
	 */
	const char *fault;
};

/* Starts an empty page in arena memory. */
void ts_http_html_init(struct ts_http_html *h, ts_arena_t *arena);

/* Appends markup; lit must be a string literal (enforced by the "" lit "" concatenation). */
#define ts_http_html_lit(h, lit) ts__http_html_markup((h), "" lit "", sizeof("" lit "") - 1)
/* For ts_http_html_lit only: never call it with anything but a literal. */
void ts__http_html_markup(struct ts_http_html *h, const char *lit, size_t n);

/*
 * Appends s as text, escaped (safe in element content and in a quoted
 * attribute value). Bytes that are not UTF-8 and control characters other
 * than TAB, LF and CR are written as U+FFFD; NULL writes nothing.
 */
void ts_http_html_text(struct ts_http_html *h, const char *s);
/* Appends a decimal integer. */
void ts_http_html_int(struct ts_http_html *h, long long v);
/*
 * Appends ` name="value"`, value escaped; name must be a string literal and
 * must not be a URL attribute (href, src, action, formaction: use
 * ts_http_html_url_attr).
 */
#define ts_http_html_attr(h, name, value) ts__http_html_attr((h), " " name "=\"", (value))
void ts__http_html_attr(struct ts_http_html *h, const char *open_lit, const char *value);
/*
 * Appends ` name="url"` when url passes ts_http_redirect_check against the
 * allowed origins (a same-origin path, or a listed origin); otherwise
 * writes nothing and sets h->fault. name must be a string literal.
 */
#define ts_http_html_url_attr(h, name, url, allowed, n) \
	ts__http_html_url_attr((h), " " name "=\"", (url), (allowed), (n))
void ts__http_html_url_attr(struct ts_http_html *h, const char *open_lit, const char *url,
                            const char *const *allowed, int n);

/*
 * The shared layout: doctype, <html lang="en">, head with charset, viewport,
 * the title (escaped) and the stylesheet link, then <body><main>.
 * ts_http_html_page_end closes them.
 */
void ts_http_html_page_begin(struct ts_http_html *h, const char *title);
void ts_http_html_page_end(struct ts_http_html *h);

/* The page's text (NUL-terminated, arena memory) and its length. */
const char *ts_http_html_finish(struct ts_http_html *h, size_t *len);

/*
 * Adds the headers every HTML page and every browser redirect carries:
 * Content-Security-Policy (TS_HTTP_CSP), X-Frame-Options: DENY,
 * Referrer-Policy: same-origin, Cache-Control: no-store,
 * X-Content-Type-Options: nosniff. form_action NULL keeps form-action
 * 'self'; an origin (as http/url.h gives it) allows forms to post there too
 * (the SAML POST binding to an IdP); it must come from configuration, never
 * from a request. A form_action that is not an origin sets res->fault (a
 * logged 500) rather than weaken the policy. a holds the policy text.
 */
void ts_http_page_headers(ts_arena_t *a, struct ts_http_res *res, const char *form_action);

/*
 * Answers the page h with status, Content-Type text/html; charset=utf-8 and
 * ts_http_page_headers(req->arena, res, NULL). A page with h->fault set is not sent:
 * res->fault is set instead (a logged 500).
 */
void ts_http_res_html(struct ts_http_req *req, struct ts_http_res *res, int status,
                      struct ts_http_html *h);

/*
 * As ts_http_res_html, with TS_HTTP_CSP_SCRIPT as the page's policy, its
 * form-action also naming the n origins of form_action (from configuration,
 * never from a request): browsers apply form-action to the redirects that
 * answer a form too (CSP3 §6.3.1), so a form whose answer may redirect to an
 * allow-listed origin names it. An entry that is not an origin: a logged 500.
 */
void ts_http_res_html_script(struct ts_http_req *req, struct ts_http_res *res, int status,
                             struct ts_http_html *h, const char *const *form_action, int n);

/*
 * The stylesheet route's handler (GET TS_HTTP_HTML_STYLE_PATH, inline): a
 * few lines of CSS, cacheable for a day.
 */
void ts_http_html_style_route(struct ts_http_req *req, struct ts_http_res *res);

#endif
