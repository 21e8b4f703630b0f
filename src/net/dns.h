/*
 * DNS TXT lookups on c-ares, for the domain verifier (docs/product.md §1: a domain goes
 * PendingVerification -> Verified when its _tessera-challenge TXT record holds
 * the account's token). The verifier runs on a background thread: a lookup
 * blocks only its calling thread, has an overall deadline, and survives DNS
 * servers that do not answer. Each call uses its own c-ares channel, so calls
 * on different threads share nothing.
 */
#ifndef TS_NET_DNS_H
#define TS_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_NET_DNS_PORT 53         /* RFC 1035 §4.2 */
#define TS_NET_DNS_MAX_SERVERS 8   /* servers one lookup may use */
#define TS_NET_DNS_MAX_RECORDS 64  /* TXT records kept from one answer */
#define TS_NET_DNS_MAX_TOTAL 65535 /* bytes of TXT data from one answer (a DNS message's size) */
#define TS_NET_DNS_MAX_TRIES 10    /* tries per server */
#define TS_NET_DNS_MAX_TIMEOUT_MS 120000 /* longest overall timeout accepted */
#define TS_NET_DNS_MIN_TRY_MS 50         /* shortest per-try timeout given to c-ares */
#define TS_NET_DNS_NAME_MAX 253          /* RFC 1035 §2.3.4, in text form without the final dot */

/* An IPv6 address literal in text with a zone and NUL (INET6_ADDRSTRLEN is 46). */
#define TS_NET_DNS_HOST_MAX 64

/* A DNS server: an IPv4 or IPv6 address literal (no brackets) and a port. */
struct ts_dns_server {
	char host[TS_NET_DNS_HOST_MAX];
	int port;
};

/*
 * Looks up the TXT records of name at the given servers, in order (UDP, then
 * TCP when an answer is truncated, as c-ares does), within timeout_ms overall
 * and with `tries` tries per server. On TS_ERR_OK, *records holds *n_records
 * (>= 1) NUL-terminated strings in arena memory, each one record's
 * character-strings concatenated (RFC 7208 §3.3 style); records containing a
 * NUL byte cannot be represented and are left out. Returns
 * TS_ERR_NOT_FOUND for NXDOMAIN or no TXT record (NODATA),
 * TS_ERR_UNAVAILABLE when no server answered in time, refused, failed or sent
 * a malformed answer, TS_ERR_TOO_LARGE beyond TS_NET_DNS_MAX_RECORDS or
 * TS_NET_DNS_MAX_TOTAL, TS_ERR_BAD_REQUEST for bad arguments. Thread-safe;
 * blocks only the calling thread, for at most about timeout_ms.
 */
TS_MUST_USE ts_err ts_net_dns_txt(const struct ts_dns_server *servers, size_t n_servers,
                                  const char *name, int timeout_ms, int tries, ts_arena_t *arena,
                                  char ***records, size_t *n_records, struct ts_error *e);

/*
 * Parses "HOST:PORT" into out: an IPv4 address ("192.0.2.1:5353"), an IPv6
 * address in brackets ("[2001:db8::1]:5353"), or either without a port
 * (port 53; a bare IPv6 address is accepted too). Host names are refused:
 * a resolver address must not itself need resolving. TS_ERR_BAD_REQUEST
 * when text is malformed.
 */
TS_MUST_USE ts_err ts_net_dns_server_parse(const char *text, struct ts_dns_server *out,
                                           struct ts_error *e);
/*
 * When line is a resolv.conf "nameserver ADDRESS" line (resolv.conf(5):
 * the keyword first, blanks around it), copies ADDRESS into addr (n bytes,
 * NUL-terminated) and returns true; false for any other line or an address
 * that does not fit.
 */
bool ts_net_dns_nameserver_line(const char *line, char *addr, size_t n);

/*
 * Extracts the TXT records of a raw DNS answer message (as received on the
 * wire) like ts_net_dns_txt does with its answer: same results, caps and
 * ownership. TS_ERR_NOT_FOUND when the message holds no TXT record,
 * TS_ERR_UNAVAILABLE when it is malformed. For ts_net_dns_txt, the tests and
 * the fuzzer.
 */
TS_MUST_USE ts_err ts_net_dns_txt_parse(const unsigned char *msg, size_t len, ts_arena_t *arena,
                                        char ***records, size_t *n_records, struct ts_error *e);

#endif
