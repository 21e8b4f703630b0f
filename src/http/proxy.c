/*
 * --trusted-proxy ranges and the choice of a request's client address (see
 * proxy.h). Pure functions on addresses and header text: no allocation, no
 * I/O, so the unit tests drive every case directly.
 */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BITS_V4 32
#define BITS_V6 128
#define BYTES_V4 4
#define BYTES_V6 16
#define MAPPED_PREFIX 12 /* ::ffff:a.b.c.d, RFC 4291 §2.5.5.2 */
#define ELEMENT_MAX 64   /* longest X-Forwarded-For element looked at ("[v6%zone]:port") */

static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

ts_err ts_http_cidr_parse(const char *text, struct ts_http_cidr *out, struct ts_error *e)
{
	char addr[ELEMENT_MAX];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	*out = (struct ts_http_cidr){0};
	if (n == 0 || n >= sizeof addr)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s: not an address or CIDR range", text);
	memcpy(addr, text, n);
	addr[n] = '\0';
	int max = 0;
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = BITS_V4;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = BITS_V6;
	} else {
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s: not an IPv4 or IPv6 address", text);
	}
	out->bits = max;
	if (slash != NULL) {
		char *end = NULL;
		long bits = strtol(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || bits < 0 || bits > max)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "%s: the prefix length must be 0 to %d", text, max);
		out->bits = (int)bits;
	}
	/* host bits set: "10.0.0.1/8" trusts far more than its writer probably meant */
	uint8_t host[BYTES_V6];
	memcpy(host, out->addr, sizeof host);
	for (int b = out->bits; b < max; b++)
		host[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
	if (memcmp(host, out->addr, sizeof host) != 0)
		return TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "%s: bits are set past the prefix length (write the network address)",
		        text);
	return TS_ERR_OK;
}

ts_err ts_http_trusted_add(struct ts_http_trusted *t, const char *list, struct ts_error *e)
{
	const char *p = list;
	while (*p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		size_t n = strcspn(p, ", \t");
		char one[ELEMENT_MAX + 8];
		if (n >= sizeof one)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "a --trusted-proxy range is too long");
		memcpy(one, p, n);
		one[n] = '\0';
		if (t->n == TS_HTTP_TRUSTED_PROXIES_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "at most %d --trusted-proxy ranges",
			               TS_HTTP_TRUSTED_PROXIES_MAX);
		ts_err rc = ts_http_cidr_parse(one, &t->range[t->n], e);
		if (rc != TS_ERR_OK)
			return rc;
		t->n++;
		p += n;
	}
	return TS_ERR_OK;
}

bool ts_http_trusted_has(const struct ts_http_trusted *t, const struct sockaddr *addr)
{
	if (t == NULL || addr == NULL)
		return false;
	uint8_t v4[BYTES_V4], v6[BYTES_V6];
	bool has4 = false, has6 = false;
	if (addr->sa_family == AF_INET) {
		memcpy(v4, &((const struct sockaddr_in *)addr)->sin_addr, BYTES_V4);
		has4 = true;
	} else if (addr->sa_family == AF_INET6) {
		memcpy(v6, &((const struct sockaddr_in6 *)addr)->sin6_addr, BYTES_V6);
		has6 = true;
		static const uint8_t mapped[MAPPED_PREFIX] = {0, 0, 0, 0, 0,    0,
		                                              0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(v6, mapped, MAPPED_PREFIX) == 0) {
			memcpy(v4, v6 + MAPPED_PREFIX, BYTES_V4);
			has4 = true;
		}
	}
	for (int i = 0; i < t->n; i++) {
		const struct ts_http_cidr *c = &t->range[i];
		if ((c->family == AF_INET && has4 && prefix_match(c->addr, v4, c->bits)) ||
		    (c->family == AF_INET6 && has6 && prefix_match(c->addr, v6, c->bits)))
			return true;
	}
	return false;
}

/*
 * One X-Forwarded-For element as an address: "192.0.2.1", "2001:db8::1",
 * and the forms with a port some proxies write ("192.0.2.1:5000",
 * "[2001:db8::1]:5000", "[2001:db8::1]").
 */
static bool element_addr(const char *s, size_t n, struct sockaddr_storage *out)
{
	char text[ELEMENT_MAX];
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof text)
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (close == NULL)
			return false;
		n = (size_t)(close - s - 1);
		s++;
	} else if (memchr(s, '.', n) != NULL && memchr(s, ':', n) != NULL) {
		n = (size_t)((const char *)memchr(s, ':', n) - s); /* a.b.c.d:port */
	}
	if (n == 0 || n >= sizeof text)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(out, 0, sizeof *out);
	struct sockaddr_in *in4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

static void addr_text(const struct sockaddr *a, char *out, size_t size)
{
	snprintf(out, size, "unknown");
	if (a == NULL)
		return;
	if (a->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, out,
		          (socklen_t)size);
	else if (a->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, out,
		          (socklen_t)size);
}

void ts_http_client_addr(const struct ts_http_trusted *t, const struct sockaddr *peer,
                         const char *const *xff, int nxff, char *out, size_t size)
{
	struct sockaddr_storage cur, next;
	const struct sockaddr *client = peer;
	int hops = 0;
	/* only a trusted peer's header is read at all */
	for (int h = nxff - 1; h >= 0 && ts_http_trusted_has(t, client); h--) {
		const char *v = xff[h];
		size_t end = strlen(v);
		/* the elements of this header value, right to left */
		while (ts_http_trusted_has(t, client)) {
			if (hops == TS_HTTP_FORWARDED_HOPS_MAX)
				goto out;
			size_t start = end;
			while (start > 0 && v[start - 1] != ',')
				start--;
			bool blank = true;
			for (size_t k = start; k < end; k++)
				blank = blank && (v[k] == ' ' || v[k] == '\t');
			if (!blank) {
				hops++;
				/* not an address: nobody we trust wrote it; keep the last vouched
				 * one */
				if (!element_addr(v + start, end - start, &next))
					goto out;
				cur = next;
				client = (const struct sockaddr *)&cur;
			}
			if (start == 0)
				break;
			end = start - 1;
		}
	}
out:
	addr_text(client, out, size);
}
