/*
 * Cookies: the Cookie request header read (RFC 6265 §5.4 says what a user
 * agent sends, §4.2.1 its grammar) and Set-Cookie written with safe
 * defaults (RFC 6265 §4.1, with the prefixes and SameSite of RFC 6265bis).
 *
 * Every cookie this server sets has Path=/, HttpOnly, SameSite (Lax unless
 * asked otherwise), and an explicit lifetime (Max-Age and Expires: never a
 * cookie that lives "until the browser closes", which browsers that restore
 * sessions keep for ever). When the base URL (serve --base-url, http/url.h)
 * is https, the cookie is also Secure and its name gets the __Host- prefix
 * (RFC 6265bis §4.1.3.2): a browser then refuses the same name from plain
 * http, from a subdomain (Domain=) or with another path, so no sibling
 * application can plant or shadow it.
 *
 * Over plain http (the integration tests on loopback, or a TLS-terminating
 * proxy that forwards http to a server configured with an http base URL),
 * neither Secure nor __Host- can be used: browsers drop such cookies on an
 * http page. The cookie is then set without them and under its bare name;
 * HttpOnly, SameSite and the lifetime still apply. Run production behind an
 * https base URL.
 */
#ifndef TS_HTTP_COOKIE_H
#define TS_HTTP_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "http/http.h"
#include "http/url.h"

/* Bytes of Cookie header text read per request (all Cookie headers together). */
#define TS_HTTP_COOKIE_MAX_BYTES (16 * 1024)
/* Cookie pairs read per request. */
#define TS_HTTP_COOKIE_MAX_PAIRS 100
/* Our own cookies: name without prefix, and value; RFC 6265 §6.1 promises 4096 per cookie. */
#define TS_HTTP_COOKIE_MAX_NAME 64
#define TS_HTTP_COOKIE_MAX_VALUE 3072
/* RFC 6265bis (Max-Age, Expires): user agents cap a cookie's lifetime at 400 days. */
#define TS_HTTP_COOKIE_MAX_AGE_S (400L * 24 * 3600)
#define TS_HTTP_COOKIE_HOST_PREFIX "__Host-"

struct ts_http_cookie {
	const char *name;  /* a token (RFC 9110 §5.6.2) */
	const char *value; /* cookie-octets (RFC 6265 §4.1.1), enclosing quotes removed */
};

struct ts_http_cookies {
	const struct ts_http_cookie *items; /* in header order, duplicates kept */
	int n;
	/*
	 * Pairs that were not name=value with a token name and cookie-octets:
	 * skipped, not refused, since other applications on the same host (any
	 * port) may set such cookies and the browser sends them here too.
	 */
	int skipped;
};

/*
 * Parses the values of every Cookie header given (HTTP/2 may split one into
 * several, RFC 9113 §8.2.3) into out, in arena a. TS_ERR_TOO_LARGE past
 * TS_HTTP_COOKIE_MAX_BYTES or TS_HTTP_COOKIE_MAX_PAIRS; malformed pairs are
 * counted in out->skipped.
 */
TS_MUST_USE ts_err ts_http_cookies_parse(ts_arena_t *a, const char *const *headers, int nheaders,
                                         struct ts_http_cookies *out, struct ts_error *e);
/* ts_http_cookies_parse over the request's Cookie headers, in its arena. */
TS_MUST_USE ts_err ts_http_cookies_from_req(const struct ts_http_req *req,
                                            struct ts_http_cookies *out, struct ts_error *e);
/*
 * The value of the cookie named exactly name (ts_http_cookie_name gives the
 * prefixed name), *value NULL when absent. TS_ERR_BAD_REQUEST when the name
 * appears more than once: a planted duplicate is never silently chosen.
 */
TS_MUST_USE ts_err ts_http_cookie_get(const struct ts_http_cookies *c, const char *name,
                                      const char **value, struct ts_error *e);

enum ts_http_samesite {
	TS_HTTP_SAMESITE_LAX = 0, /* the default: sent on top-level GET navigations */
	TS_HTTP_SAMESITE_STRICT,
	/*
	 * Sent on cross-site POSTs too (the SAML POST binding back from an IdP);
	 * browsers require Secure with it, so only over https.
	 */
	TS_HTTP_SAMESITE_NONE,
};

struct ts_http_cookie_opts {
	/* seconds, 1..TS_HTTP_COOKIE_MAX_AGE_S; 0 deletes the cookie (ts_http_cookie_clear) */
	int64_t max_age_s;
	enum ts_http_samesite samesite;
};

/* The name a cookie goes by on the wire: "__Host-" name over https, name otherwise. */
const char *ts_http_cookie_name(ts_arena_t *a, const struct ts_http_base_url *base,
                                const char *name);

/*
 * The Set-Cookie value for name (unprefixed: a token of at most
 * TS_HTTP_COOKIE_MAX_NAME bytes, not starting with "__") and value
 * (cookie-octets, at most TS_HTTP_COOKIE_MAX_VALUE bytes, may be empty),
 * with the defaults above, Expires computed from now_s (Unix seconds).
 * TS_ERR_BAD_REQUEST for a name, value or lifetime outside those rules, or
 * SameSite=None over http; the message never quotes the value.
 */
TS_MUST_USE ts_err ts_http_cookie_header(ts_arena_t *a, const struct ts_http_base_url *base,
                                         const char *name, const char *value,
                                         const struct ts_http_cookie_opts *opts, int64_t now_s,
                                         const char **out, struct ts_error *e);
/* Adds Set-Cookie to res (ts_http_cookie_header at the current time). */
TS_MUST_USE ts_err ts_http_cookie_set(struct ts_http_res *res, ts_arena_t *a,
                                      const struct ts_http_base_url *base, const char *name,
                                      const char *value, const struct ts_http_cookie_opts *opts,
                                      struct ts_error *e);
/* Adds a Set-Cookie that deletes the cookie (empty value, Max-Age=0, Expires in 1970). */
TS_MUST_USE ts_err ts_http_cookie_clear(struct ts_http_res *res, ts_arena_t *a,
                                        const struct ts_http_base_url *base, const char *name,
                                        struct ts_error *e);

#endif
