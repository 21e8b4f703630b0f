/*
 * Redirects a browser may be sent on: after a sign-in, a form post, a
 * logout. The target often comes from the outside (a "return to" query
 * parameter, a SAML RelayState, an OAuth redirect_uri), so it is checked
 * before it is ever put in a Location header or an href: an open redirect
 * turns this server into a phishing launcher (OAuth 2.0 Security BCP,
 * RFC 9700 §4.11).
 *
 * Accepted: a same-origin path, starting with exactly one '/'; or an
 * absolute http(s) URL whose origin (http/url.h) is on the caller's
 * allow-list. Refused: "//host" and "/\host" (a browser reads both as
 * another host), a backslash anywhere, every other scheme (javascript:,
 * data:, an http: origin not on the list), userinfo ("https://good@evil"),
 * controls, spaces and bytes above 0x7E (a URL is sent percent-encoded,
 * RFC 3986 §2.1; that also refuses text that is not UTF-8), a '%' not
 * followed by two hex digits, and escapes that decode, once or again, to
 * any of those ("/%2F%2Fevil", "/%5Cevil", "/%252F%252Fevil").
 */
#ifndef TS_HTTP_REDIRECT_H
#define TS_HTTP_REDIRECT_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "http/http.h"

#define TS_HTTP_REDIRECT_MAX 2048
/* How many layers of percent-escapes are looked through. */
#define TS_HTTP_REDIRECT_DECODE_ROUNDS 3
#define TS_HTTP_STATUS_SEE_OTHER 303

/*
 * Whether target may be redirected to (see above). allowed: origins as
 * ts_http_base_url_parse / ts_http_origin_normalize give them (the server's
 * own base URL origin is not implied: pass it when absolute URLs to it are
 * fine); may be NULL with n 0. TS_ERR_BAD_REQUEST with a message that does
 * not quote the target.
 */
TS_MUST_USE ts_err ts_http_redirect_check(ts_arena_t *a, const char *target,
                                          const char *const *allowed, int n, struct ts_error *e);

/*
 * Answers 303 See Other (RFC 9110 §15.4.4: the browser follows with a GET,
 * whatever the method was) to target, after ts_http_redirect_check; with
 * the page security headers (http/html.h) and an empty body. On a refused
 * target nothing is written to res and the error is returned: answer it
 * with an error page, never a redirect to a fallback the attacker chose.
 */
TS_MUST_USE ts_err ts_http_redirect(struct ts_http_req *req, struct ts_http_res *res,
                                    const char *target, const char *const *allowed, int n,
                                    struct ts_error *e);

#endif
