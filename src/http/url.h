/*
 * The server's public base URL (serve --base-url) and the origins a browser
 * flow may name. A browser flow needs to know, from configuration and never
 * from a request's Host header, whether it is reached over https (cookies
 * get Secure and the __Host- prefix, http/cookie.h) and which origin is its
 * own (redirects and the CSRF Origin check, http/redirect.h, http/csrf.h).
 *
 * An origin here is the text RFC 6454 §6.2 serializes: a lowercase scheme
 * (http or https), "://", a lowercase host (name, IPv4 or [IPv6]) and
 * ":port" only when the port is not the scheme's default. Two origins are
 * the same when their texts are equal.
 */
#ifndef TS_HTTP_URL_H
#define TS_HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

/* Longest base URL or origin accepted (a host name is at most 253 octets, RFC 1035 §2.3.4). */
#define TS_HTTP_ORIGIN_MAX 300
#define TS_HTTP_PORT_MAX 65535
#define TS_HTTP_DEFAULT_PORT_HTTP 80
#define TS_HTTP_DEFAULT_PORT_HTTPS 443

struct ts_http_base_url {
	const char *origin; /* "https://id.example.com" or "http://127.0.0.1:8080": no '/' */
	const char *host;   /* "id.example.com", "127.0.0.1", "[::1]" */
	int port;           /* explicit or the scheme's default */
	bool secure;        /* https: cookies get Secure and __Host- */
};

/*
 * Parses and checks a base URL as serve --base-url takes it: an absolute
 * http or https URL (scheme in lowercase), a lowercase host (a name of
 * letters, digits, '-' and '.', an IPv4 address, or an IPv6 address in
 * brackets), an optional port 1..65535, no userinfo, no path but "/", no
 * query, no fragment, ASCII only. A default port (":443" for https, ":80"
 * for http) is dropped from the origin. Strings live in arena a.
 * TS_ERR_BAD_REQUEST with a message that says what is wrong.
 */
TS_MUST_USE ts_err ts_http_base_url_parse(ts_arena_t *a, const char *text,
                                          struct ts_http_base_url *out, struct ts_error *e);

/*
 * Parses s[0..n) as "scheme://authority" (no path) with the rules of
 * ts_http_base_url_parse, but accepting an uppercase host, which it
 * lowercases: the origin text as this file defines it, in arena a, or NULL
 * when it is not an http(s) origin. For an Origin header (RFC 6454 §7) or
 * the start of an absolute redirect target.
 */
const char *ts_http_origin_normalize(ts_arena_t *a, const char *s, size_t n);

#endif
