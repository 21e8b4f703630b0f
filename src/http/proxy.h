/*
 * Who the client is when Tessera runs behind a load balancer (docs/product.md
 * §2a). The TCP peer of a request is then the balancer, and the
 * client's address arrives in X-Forwarded-For, a header anybody can send.
 * It is believed only from peers inside the operator's --trusted-proxy
 * ranges; from any other peer it is ignored and the peer is the client.
 *
 * Every consumer of "the client address" (the audit sourceIPAddress, the
 * access log, rate limits, lockouts) reads req->peer, which the server fills
 * from ts_http_client_addr and nothing else.
 */
#ifndef TS_HTTP_PROXY_H
#define TS_HTTP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/error.h"

#define TS_HTTP_TRUSTED_PROXIES_MAX 64 /* --trusted-proxy ranges a server keeps */
/* X-Forwarded-For elements looked at, from the right: each is one hop of trusted proxies */
#define TS_HTTP_FORWARDED_HOPS_MAX 16
#define TS_HTTP_ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

/* One CIDR range, IPv4 or IPv6 (an IPv4 range also matches IPv4-mapped IPv6 peers). */
struct ts_http_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int bits;
};

struct ts_http_trusted {
	struct ts_http_cidr range[TS_HTTP_TRUSTED_PROXIES_MAX];
	int n;
};

/*
 * Parses "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128)
 * into out. TS_ERR_BAD_REQUEST with a message for anything else: a prefix
 * longer than the family allows, host bits set ("10.0.0.1/8" is a typo more
 * often than a range), text after the number.
 */
TS_MUST_USE ts_err ts_http_cidr_parse(const char *text, struct ts_http_cidr *out,
                                      struct ts_error *e);
/* Adds every comma-separated range of list to t (past TS_HTTP_TRUSTED_PROXIES_MAX: an error). */
TS_MUST_USE ts_err ts_http_trusted_add(struct ts_http_trusted *t, const char *list,
                                       struct ts_error *e);
/* Whether addr (a sockaddr_in or sockaddr_in6) lies in one of t's ranges; t NULL: false. */
bool ts_http_trusted_has(const struct ts_http_trusted *t, const struct sockaddr *addr);

/*
 * The client's address, as text in out (at least TS_HTTP_ADDR_TEXT_MAX bytes):
 * peer when it is not a trusted proxy or when no X-Forwarded-For came.
 * Otherwise the X-Forwarded-For values (xff[0..nxff), in the order the
 * headers came; each a comma-separated list, RFC 7239 §5.2's reasoning for
 * the older header) are read from the right, each proxy having appended the
 * address it saw: the first address that is not itself a trusted proxy is
 * the client. An element that is not an address (a client may have sent
 * anything left of what our proxies appended) stops the walk at the last
 * address that was vouched for. At most TS_HTTP_FORWARDED_HOPS_MAX elements
 * are read. Addresses come back in canonical form (inet_ntop).
 */
void ts_http_client_addr(const struct ts_http_trusted *t, const struct sockaddr *peer,
                         const char *const *xff, int nxff, char *out, size_t size);

#endif
