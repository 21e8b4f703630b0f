/*
 * Base URL and origin parsing (see url.h). Deliberately narrower than
 * RFC 3986: what a browser flow needs from a configured URL is its origin,
 * and every form a browser would normalize differently (userinfo, percent
 * escapes in the host, non-ASCII names, a trailing dot) is refused rather
 * than interpreted.
 */
#include "http/url.h"

#include <arpa/inet.h>
#include <string.h>

#define HOST_NAME_MAX_LEN 253 /* RFC 1035 §2.3.4 */
#define HOST_LABEL_MAX_LEN 63 /* RFC 1035 §2.3.4 */
#define PORT_DIGITS_MAX 5
#define DECIMAL 10

struct parsed {
	bool secure;
	char host[TS_HTTP_ORIGIN_MAX + 1];
	int port;
};

static bool lower_alpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A host name: labels of letters, digits and '-', separated by single dots. */
static bool host_name_ok(const char *h, size_t n)
{
	if (n == 0 || n > HOST_NAME_MAX_LEN)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0)
				return false; /* "..", a leading dot */
			label = 0;
			continue;
		}
		if (!lower_alpha(c) && !digit(c) && c != '-')
			return false;
		if (++label > HOST_LABEL_MAX_LEN)
			return false;
	}
	return label > 0; /* no trailing dot: "host." is another origin to a browser */
}

/*
 * Parses s[0..n) as scheme://authority; *rest points past the authority.
 * lower: lowercase an uppercase host instead of refusing it.
 */
static const char *parse_origin(const char *s, size_t n, bool lower, struct parsed *p,
                                size_t *consumed)
{
	static const char https[] = "https://", http[] = "http://";
	size_t i;
	if (n >= sizeof https - 1 && memcmp(s, https, sizeof https - 1) == 0) {
		p->secure = true;
		i = sizeof https - 1;
	} else if (n >= sizeof http - 1 && memcmp(s, http, sizeof http - 1) == 0) {
		p->secure = false;
		i = sizeof http - 1;
	} else {
		return "the scheme must be http:// or https:// (lowercase)";
	}
	size_t start = i;
	while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
		i++;
	*consumed = i;
	const char *auth = s + start;
	size_t alen = i - start;
	if (alen == 0)
		return "no host";
	if (alen > TS_HTTP_ORIGIN_MAX)
		return "too long";
	char buf[TS_HTTP_ORIGIN_MAX + 1];
	for (size_t k = 0; k < alen; k++) {
		char c = auth[k];
		if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e)
			return "only printable ASCII is allowed (spell an IDN as its A-label)";
		if (c == '@')
			return "userinfo (user@host) is not allowed";
		if (c == '%' || c == '\\')
			return "the host may not hold '%' or '\\'";
		if (c >= 'A' && c <= 'Z') {
			if (!lower)
				return "the host must be lowercase";
			c = (char)(c - 'A' + 'a');
		}
		buf[k] = c;
	}
	buf[alen] = '\0';
	const char *port = NULL;
	size_t hlen;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (close == NULL)
			return "an IPv6 address needs its closing ']'";
		hlen = (size_t)(close - buf) + 1;
		char addr[TS_HTTP_ORIGIN_MAX + 1];
		memcpy(addr, buf + 1, hlen - 2);
		addr[hlen - 2] = '\0';
		unsigned char bin[sizeof(struct in6_addr)];
		if (inet_pton(AF_INET6, addr, bin) != 1)
			return "not an IPv6 address";
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return "text after the IPv6 address";
	} else {
		char *colon = strchr(buf, ':');
		hlen = colon ? (size_t)(colon - buf) : alen;
		if (colon)
			port = colon + 1;
		if (!host_name_ok(buf, hlen))
			return "not a host name (letters, digits, '-' and single dots)";
	}
	p->port = p->secure ? TS_HTTP_DEFAULT_PORT_HTTPS : TS_HTTP_DEFAULT_PORT_HTTP;
	if (port != NULL) {
		size_t pl = strlen(port);
		long v = 0;
		if (pl == 0 || pl > PORT_DIGITS_MAX)
			return "bad port";
		for (size_t k = 0; k < pl; k++) {
			if (!digit(port[k]))
				return "bad port";
			v = v * DECIMAL + (port[k] - '0');
		}
		if (v < 1 || v > TS_HTTP_PORT_MAX)
			return "bad port";
		p->port = (int)v;
	}
	memcpy(p->host, buf, hlen);
	p->host[hlen] = '\0';
	return NULL;
}

static const char *origin_text(ts_arena_t *a, const struct parsed *p)
{
	int def = p->secure ? TS_HTTP_DEFAULT_PORT_HTTPS : TS_HTTP_DEFAULT_PORT_HTTP;
	const char *scheme = p->secure ? "https" : "http";
	if (p->port == def)
		return ts_arena_printf(a, "%s://%s", scheme, p->host);
	return ts_arena_printf(a, "%s://%s:%d", scheme, p->host, p->port);
}

ts_err ts_http_base_url_parse(ts_arena_t *a, const char *text, struct ts_http_base_url *out,
                              struct ts_error *e)
{
	*out = (struct ts_http_base_url){0};
	if (text == NULL || text[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "base URL: empty");
	size_t n = strlen(text);
	if (n > TS_HTTP_ORIGIN_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "base URL: longer than %d bytes",
		               TS_HTTP_ORIGIN_MAX);
	struct parsed p;
	size_t used = 0;
	const char *why = parse_origin(text, n, false, &p, &used);
	if (why != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "base URL: %s", why);
	const char *rest = text + used;
	if (rest[0] == '?' || rest[0] == '#')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "base URL: no query or fragment allowed");
	/* cookies are Path=/ (__Host-, RFC 6265bis §4.1.3.2): the server owns its origin */
	if (rest[0] != '\0' && strcmp(rest, "/") != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "base URL: no path allowed but \"/\"");
	out->origin = origin_text(a, &p);
	out->host = ts_arena_strdup(a, p.host);
	out->port = p.port;
	out->secure = p.secure;
	return TS_ERR_OK;
}

const char *ts_http_origin_normalize(ts_arena_t *a, const char *s, size_t n)
{
	if (s == NULL || n == 0 || n > TS_HTTP_ORIGIN_MAX)
		return NULL;
	struct parsed p;
	size_t used = 0;
	if (parse_origin(s, n, true, &p, &used) != NULL || used != n)
		return NULL;
	return origin_text(a, &p);
}
