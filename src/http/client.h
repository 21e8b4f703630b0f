/*
 * Outbound HTTP: the one way Tessera fetches a document from another server
 * (an IdP's SAML metadata from its MetadataUrl now, an OpenID provider's
 * discovery document and JWKS next). A GET on libcurl with every limit set
 * here rather than by each caller: a byte cap, a total timeout, https only
 * (plain http only to a loopback host, for tests and sidecars), certificate
 * and host name verification always on (RFC 9110 §4.3.4), and redirects
 * followed by this code, not by libcurl, so that each target passes the same
 * URL check and keeps the first URL's scheme.
 */
#ifndef TS_HTTP_CLIENT_H
#define TS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_HTTP_CLIENT_URL_MAX 2048
#define TS_HTTP_CLIENT_TIMEOUT_MS 10000        /* default total time of one GET */
#define TS_HTTP_CLIENT_MAX_BYTES (1024 * 1024) /* default body cap */
#define TS_HTTP_CLIENT_REDIRECTS_MAX 3         /* hops followed (same scheme only) */
#define TS_HTTP_CLIENT_CONNECT_TIMEOUT_MS 5000 /* part of the total */

struct ts_http_client_opts {
	size_t max_bytes;    /* refuse a body longer than this; 0: TS_HTTP_CLIENT_MAX_BYTES */
	int timeout_ms;      /* the whole call, redirects included; 0: TS_HTTP_CLIENT_TIMEOUT_MS */
	const char *accept;  /* the Accept header; NULL: none sent */
	const char *ca_file; /* PEM bundle trusted instead of the system's; NULL: the system's */
};

struct ts_http_client_response {
	long status; /* the final answer's status (a 3xx only past the hop limit) */
	char *body;  /* NUL-terminated after len bytes, arena memory */
	size_t len;
	const char *content_type; /* NULL when absent */
	const char *url;          /* the URL that answered (after redirects) */
};

/*
 * Whether url may be fetched: an absolute https URL, or http to a loopback
 * host (127.0.0.0/8, [::1], localhost); no userinfo, at most
 * TS_HTTP_CLIENT_URL_MAX bytes. TS_ERR_BAD_REQUEST with a message saying why
 * not.
 */
TS_MUST_USE ts_err ts_http_client_url_check(const char *url, struct ts_error *e);

/*
 * GETs url (checked as ts_http_client_url_check does) and returns the
 * status and body whatever the status: the caller decides what it accepts.
 * A redirect (301, 302, 303, 307, 308) is followed when its target passes
 * the check and has the scheme of url, at most TS_HTTP_CLIENT_REDIRECTS_MAX
 * times. Errors, each with a message naming the cause: TS_ERR_BAD_REQUEST
 * (the URL, a redirect elsewhere), TS_ERR_TOO_LARGE (the body passed the cap),
 * TS_ERR_UNAVAILABLE (connection, TLS, certificate, timeout). opts may be
 * NULL. Blocks the calling thread for up to the timeout.
 */
TS_MUST_USE ts_err ts_http_client_get(ts_arena_t *a, const char *url,
                                      const struct ts_http_client_opts *opts,
                                      struct ts_http_client_response *out, struct ts_error *e);

#endif
