/*
 * Outbound HTTP: the one way Tessera calls another server (an IdP's SAML
 * metadata from its MetadataUrl; an OpenID provider's discovery document,
 * JWKS, token and userinfo endpoints). GET and POST on libcurl with every
 * limit set here rather than by each caller: a byte cap, a total and a
 * connect timeout, https only (plain http only to a loopback host, for tests
 * and sidecars), certificate and host name verification always on (RFC 9110
 * §4.3.4), redirects followed by this code, not by libcurl (a GET only), so
 * that each target passes the same URL check and keeps the first URL's
 * scheme; and two guards for the server as a whole: at most a set number of
 * calls in flight (a slow IdP ties up that many workers, not all of them),
 * and no connection to a loopback, private or link-local address unless the
 * URL names a loopback host itself (SSRF through an admin-given URL or DNS
 * rebinding). Each thread keeps one libcurl handle, and with it its open
 * connections, between calls. docs/http.md "Outbound requests".
 */
#ifndef TS_HTTP_CLIENT_H
#define TS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_HTTP_CLIENT_URL_MAX 2048
#define TS_HTTP_CLIENT_TIMEOUT_MS 10000        /* default total time of one GET */
#define TS_HTTP_CLIENT_MAX_BYTES (1024 * 1024) /* default body cap */
#define TS_HTTP_CLIENT_REDIRECTS_MAX 3         /* hops followed (same scheme only) */
#define TS_HTTP_CLIENT_CONNECT_TIMEOUT_MS 5000 /* part of the total */
#define TS_HTTP_CLIENT_QUEUE_MS 250            /* longest wait for a slot (part of the total) */
#define TS_HTTP_CLIENT_BODY_MAX (64 * 1024)    /* bytes of a request body */
#define TS_HTTP_CLIENT_HEADERS_MAX 8           /* extra request headers */
#define TS_HTTP_CLIENT_HEADER_MAX 8192         /* bytes of one extra header or credential */

struct ts_http_client_opts {
	size_t max_bytes;    /* refuse a body longer than this; 0: TS_HTTP_CLIENT_MAX_BYTES */
	int timeout_ms;      /* the whole call, redirects included; 0: TS_HTTP_CLIENT_TIMEOUT_MS */
	const char *accept;  /* the Accept header; NULL: none sent */
	const char *ca_file; /* PEM bundle trusted instead of the system's; NULL: the system's */
	/*
	 * Connect to private addresses too (RFC 1918, CGNAT 100.64.0.0/10, IPv6
	 * unique-local and site-local): for an operator whose IdP lives on a
	 * private network. Loopback (through a name), link-local (cloud metadata
	 * at 169.254.169.254), multicast and reserved addresses stay refused.
	 * Default false.
	 */
	bool allow_private;
};

/* One request. ts_http_client_get is ts_http_client_do with method "GET" and the URL only. */
struct ts_http_client_request {
	const char *method; /* "GET" or "POST"; NULL: "GET" */
	const char *url;
	const char *body; /* a POST's body (at most TS_HTTP_CLIENT_BODY_MAX); NULL: empty */
	size_t body_len;
	/* a POST's Content-Type; NULL: application/x-www-form-urlencoded (RFC 6749 §4.1.3) */
	const char *content_type;
	/* "Name: value" each, NULL-terminated (at most TS_HTTP_CLIENT_HEADERS_MAX); NULL: none */
	const char *const *headers;
	/* HTTP Basic (RFC 7617) with both form-urlencoded first (RFC 6749 §2.3.1); NULL: none */
	const char *basic_user, *basic_password;
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

/*
 * Sends r and returns the status and body whatever the status, with the
 * limits of ts_http_client_get. A GET without credentials or extra headers
 * follows redirects as ts_http_client_get does; a POST, or a request that
 * carries basic_user or headers, is sent once and never redirected: a 3xx is
 * refused (TS_ERR_BAD_REQUEST, "a redirect was refused"), as a token or a
 * secret must not follow a Location elsewhere. Errors as for
 * ts_http_client_get, and: TS_ERR_BAD_REQUEST for a request outside the
 * limits above (method, body, header syntax or count) and, with the generic
 * message "the address is not public", when every address the host resolved
 * to was refused by the address check (ts_http_client_addr_kind);
 * TS_ERR_UNAVAILABLE "outbound calls are all busy" when no slot came free
 * within TS_HTTP_CLIENT_QUEUE_MS (ts_http_client_set_concurrency). opts may
 * be NULL. Blocks the calling thread for up to the timeout.
 */
TS_MUST_USE ts_err ts_http_client_do(ts_arena_t *a, const struct ts_http_client_request *r,
                                     const struct ts_http_client_opts *opts,
                                     struct ts_http_client_response *out, struct ts_error *e);

/*
 * s (n bytes) as application/x-www-form-urlencoded (WHATWG URL §5.2): ASCII
 * letters, digits and "*-._" kept, space as "+", every other byte as %XX.
 * In arena memory. For request bodies and for RFC 6749 §2.3.1 credentials.
 */
char *ts_http_client_form_encode(ts_arena_t *a, const char *s, size_t n);

/*
 * At most n calls in flight in the process, every thread counted; n <= 0: no
 * limit (the default, for the CLI and tests). The server sets half its
 * worker threads, at least 1, at start-up. A call past the limit waits up to
 * TS_HTTP_CLIENT_QUEUE_MS for a slot. Thread-safe; a lower n lets calls in
 * flight finish.
 */
void ts_http_client_set_concurrency(int n);

/* The counters behind /metrics (tessera_http_client_*). */
struct ts_http_client_stats {
	int64_t limit;     /* ts_http_client_set_concurrency; 0: none */
	int64_t in_flight; /* calls holding a slot now */
	uint64_t calls;    /* calls that got a slot */
	uint64_t busy;     /* calls refused with "outbound calls are all busy" */
	uint64_t refused;  /* connections refused by the address check */
	uint64_t connects; /* connections opened (the rest were reused) */
};
void ts_http_client_stats(struct ts_http_client_stats *out);

/*
 * What an address is for the SSRF check, IPv4-mapped, IPv4-compatible,
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms judged by the IPv4
 * address they carry. Sources: the IANA special-purpose address registries
 * (RFC 6890), RFC 1918, RFC 6598, RFC 4193, RFC 4291.
 */
enum ts_http_addr_kind {
	TS_HTTP_ADDR_PUBLIC,
	TS_HTTP_ADDR_LOOPBACK,   /* 127.0.0.0/8, ::1 */
	TS_HTTP_ADDR_PRIVATE,    /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10 */
	TS_HTTP_ADDR_LINK_LOCAL, /* 169.254/16, fe80::/10 */
	/* unspecified, "this network" 0/8, multicast, broadcast, reserved 240/4,
	 * documentation, benchmarking, IETF protocol assignments, discard, Teredo,
	 * not AF_INET/AF_INET6 */
	TS_HTTP_ADDR_OTHER,
};
enum ts_http_addr_kind ts_http_client_addr_kind(const struct sockaddr *sa);
/* ts_http_client_addr_kind(sa) == TS_HTTP_ADDR_PUBLIC. */
bool ts_http_client_addr_public(const struct sockaddr *sa);

#endif
