/*
 * The outbound calls of http/client.h on libcurl's easy interface. libcurl
 * is given the URL already parsed and checked (CURLOPT_CURLU), never a
 * string it would parse again differently, and never follows a redirect
 * itself: a Location is read back, checked like the first URL and fetched
 * as a new hop, so a metadata URL cannot bounce the server to plain http, to
 * another scheme (file:, gopher:) or to an http service inside the network.
 *
 * Three things hold for the process as a whole. Each thread keeps one easy
 * handle (a pthread key, freed when the thread ends) and resets it after
 * each call: curl_easy_reset drops the options but keeps the handle's
 * connection and DNS caches, so the next call to the same provider skips
 * the TCP and TLS handshakes. A counting semaphore bounds the calls in
 * flight, so that a provider that answers slowly holds at most that many
 * worker threads (issue #13: SCIM and admin keep the rest). And every socket
 * is opened by open_socket below, which sees the address libcurl is about to
 * connect to, after DNS: a name that resolves (or rebinds) to a loopback,
 * private or link-local address is refused there, where no later lookup can
 * change the answer (issue #12: an admin's MetadataUrl reaching an internal
 * https host). Proxies named in the environment are not used: through a
 * proxy the address connected to is the proxy's, and the guard would see
 * nothing.
 */
#include "http/client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/timeutil.h"

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define FORM_MIME "application/x-www-form-urlencoded"
#define BASIC_PREFIX "Authorization: Basic "

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;

/* The slots of ts_http_client_set_concurrency. */
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slots_cv; /* on CLOCK_MONOTONIC, made in global_init */
static int slots_limit;         /* 0: none */
static int slots_used;

static atomic_uint_fast64_t n_calls, n_busy, n_refused, n_connects;

static void handle_free(void *c)
{
	curl_easy_cleanup(c);
}

/* curl_global_init is not safe to race with other threads' first calls (libcurl docs) */
static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_key_create(&handle_key, handle_free);
	pthread_condattr_t mono;
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&slots_cv, &mono);
	pthread_condattr_destroy(&mono);
}

/* ---- addresses ----------------------------------------------------------- */

static bool in4(uint32_t a, uint32_t net, int bits)
{
	return (a >> (32 - bits)) == (net >> (32 - bits));
}

/* RFC 6890 and the IANA IPv4 special-purpose registry; a host-order address. */
static enum ts_http_addr_kind kind4(uint32_t a)
{
	if (in4(a, 0x7f000000, 8))
		return TS_HTTP_ADDR_LOOPBACK; /* RFC 1122 §3.2.1.3 */
	if (in4(a, 0x0a000000, 8) || in4(a, 0xac100000, 12) || in4(a, 0xc0a80000, 16))
		return TS_HTTP_ADDR_PRIVATE; /* RFC 1918 */
	if (in4(a, 0x64400000, 10))
		return TS_HTTP_ADDR_PRIVATE; /* RFC 6598 shared (CGNAT) */
	if (in4(a, 0xa9fe0000, 16))
		return TS_HTTP_ADDR_LINK_LOCAL; /* RFC 3927 */
	if (in4(a, 0x00000000, 8) ||            /* "this network", 0.0.0.0 (RFC 1122) */
	    in4(a, 0xc0000000, 24) ||           /* IETF protocol assignments (RFC 6890) */
	    in4(a, 0xc0000200, 24) || in4(a, 0xc6336400, 24) ||
	    in4(a, 0xcb007100, 24) || /* documentation (RFC 5737) */
	    in4(a, 0xc0586300, 24) || /* 6to4 relay anycast (RFC 7526) */
	    in4(a, 0xc6120000, 15) || /* benchmarking (RFC 2544) */
	    in4(a, 0xe0000000, 4) ||  /* multicast (RFC 5771) */
	    in4(a, 0xf0000000, 4))    /* reserved (RFC 1112), broadcast */
		return TS_HTTP_ADDR_OTHER;
	return TS_HTTP_ADDR_PUBLIC;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* RFC 4291 and the IANA IPv6 special-purpose registry. */
static enum ts_http_addr_kind kind6(const unsigned char *b)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return kind4(be32(b + 12)); /* RFC 4291 §2.5.5.2, RFC 6052 §2.1 */
	if (zero(b, 15))
		return b[15] == 1 ? TS_HTTP_ADDR_LOOPBACK : TS_HTTP_ADDR_OTHER; /* ::1, :: */
	if (zero(b, 12))
		return TS_HTTP_ADDR_OTHER; /* IPv4-compatible, deprecated (RFC 4291 §2.5.5.1) */
	if (b[0] == 0x20 && b[1] == 0x02)
		return kind4(be32(b + 2)); /* 6to4 (RFC 3056 §2) */
	if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
		return TS_HTTP_ADDR_PRIVATE; /* local-use NAT64 64:ff9b:1::/48 (RFC 8215) */
	if ((b[0] & 0xfe) == 0xfc)
		return TS_HTTP_ADDR_PRIVATE; /* unique local fc00::/7 (RFC 4193) */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return TS_HTTP_ADDR_PRIVATE; /* site-local fec0::/10 (RFC 3879) */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return TS_HTTP_ADDR_LINK_LOCAL; /* fe80::/10 */
	/* only global unicast 2000::/3 is public; multicast ff00::/8, discard 100::/64 and
	 * the unassigned rest are not */
	if ((b[0] & 0xe0) != 0x20)
		return TS_HTTP_ADDR_OTHER;
	if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0)
		return TS_HTTP_ADDR_OTHER; /* IETF protocol assignments 2001::/23, Teredo among them
		                            */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return TS_HTTP_ADDR_OTHER; /* documentation 2001:db8::/32 (RFC 3849) */
	if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0)
		return TS_HTTP_ADDR_OTHER; /* documentation 3fff::/20 (RFC 9637) */
	return TS_HTTP_ADDR_PUBLIC;
}

enum ts_http_addr_kind ts_http_client_addr_kind(const struct sockaddr *sa)
{
	if (sa == NULL)
		return TS_HTTP_ADDR_OTHER;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof in);
		return kind4(ntohl(in.sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 in6;
		memcpy(&in6, sa, sizeof in6);
		return kind6(in6.sin6_addr.s6_addr);
	}
	return TS_HTTP_ADDR_OTHER;
}

bool ts_http_client_addr_public(const struct sockaddr *sa)
{
	return ts_http_client_addr_kind(sa) == TS_HTTP_ADDR_PUBLIC;
}

/* ---- URLs ---------------------------------------------------------------- */

/* 127.0.0.0/8, ::1 (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3) and the name localhost (RFC 6761 §6.3),
 * which libcurl resolves to loopback itself, never through DNS. */
static bool loopback_host(const char *host)
{
	unsigned char addr[16];
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, addr) == 1)
		return addr[0] == 127;
	size_t n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		char inner[INET6_ADDRSTRLEN + 1];
		if (n - 2 >= sizeof inner)
			return false;
		memcpy(inner, host + 1, n - 2);
		inner[n - 2] = '\0';
		struct in6_addr a6;
		return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return false;
}

/* Parses url into *u and checks it; *https says which scheme, *loopback whether the host is. */
static ts_err parse_checked(const char *url, CURLU **u, bool *https, bool *loopback,
                            struct ts_error *e)
{
	char *scheme = NULL, *host = NULL, *user = NULL;
	ts_err rc = TS_ERR_OK;
	*u = NULL;
	if (url == NULL || url[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the URL is empty");
	if (strlen(url) > TS_HTTP_CLIENT_URL_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the URL is longer than %d bytes",
		               TS_HTTP_CLIENT_URL_MAX);
	pthread_once(&global_once, global_init);
	*u = curl_url();
	if (*u == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "out of memory");
	/* no default or guessed scheme: "example.com/x" is not a URL here */
	if (curl_url_set(*u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the URL is not an absolute http(s) URL");
		goto out;
	}
	if (curl_url_get(*u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(*u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the URL has no scheme or host");
		goto out;
	}
	if (curl_url_get(*u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the URL must not carry a user name");
		goto out;
	}
	*https = strcasecmp(scheme, "https") == 0;
	*loopback = loopback_host(host);
	if (!*https && !(strcasecmp(scheme, "http") == 0 && *loopback))
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "the URL must be https (plain http only to a loopback host)");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	if (rc != TS_ERR_OK) {
		curl_url_cleanup(*u);
		*u = NULL;
	}
	return rc;
}

ts_err ts_http_client_url_check(const char *url, struct ts_error *e)
{
	CURLU *u = NULL;
	bool https = false, loopback = false;
	ts_err rc = parse_checked(url, &u, &https, &loopback, e);
	curl_url_cleanup(u);
	return rc;
}

/* ---- form encoding and credentials --------------------------------------- */

/* WHATWG URL §5.2 application/x-www-form-urlencoded byte serializer into out (3n + 1 bytes). */
static size_t form_encode_into(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '*' || c == '-' || c == '.' || c == '_') {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

char *ts_http_client_form_encode(ts_arena_t *a, const char *s, size_t n)
{
	char *out = ts_arena_alloc(a, 3 * n + 1);
	form_encode_into(out, s, n);
	return out;
}

/*
 * "Authorization: Basic base64(user ":" password)" (RFC 7617 §2), each part
 * form-urlencoded first (RFC 6749 §2.3.1), appended to *list. Every copy
 * made here is wiped; the list's own copy is wiped by wipe_headers.
 */
static void add_basic(struct curl_slist **list, const char *user, const char *password)
{
	size_t nu = strlen(user), np = strlen(password);
	size_t ncap = 3 * (nu + np) + 2;
	char *cred = ts_malloc(ncap);
	size_t n = form_encode_into(cred, user, nu);
	cred[n++] = ':';
	n += form_encode_into(cred + n, password, np);
	size_t bcap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	size_t hcap = sizeof BASIC_PREFIX - 1 + bcap;
	char *header = ts_malloc(hcap);
	memcpy(header, BASIC_PREFIX, sizeof BASIC_PREFIX - 1);
	sodium_bin2base64(header + sizeof BASIC_PREFIX - 1, bcap, (const unsigned char *)cred, n,
	                  sodium_base64_VARIANT_ORIGINAL);
	*list = curl_slist_append(*list, header);
	ts_free_secret(cred, ncap);
	ts_free_secret(header, hcap);
}

/* Bearer tokens and Basic credentials travel in the list: wiped before it is freed. */
static void wipe_headers(struct curl_slist *list)
{
	for (struct curl_slist *h = list; h != NULL; h = h->next)
		sodium_memzero(h->data, strlen(h->data));
	curl_slist_free_all(list);
}

/* RFC 9110 §5.6.2 tchar */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Headers that frame the message or that this code sets itself: not a caller's to give. */
static bool reserved_header(const char *h, size_t name_len)
{
	static const char *const names[] = {"Host",
	                                    "Content-Length",
	                                    "Transfer-Encoding",
	                                    "Connection",
	                                    "Upgrade",
	                                    "TE",
	                                    "Expect",
	                                    "Content-Type",
	                                    "Accept",
	                                    "Accept-Encoding",
	                                    "Proxy-Authorization"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == name_len && strncasecmp(h, names[i], name_len) == 0)
			return true;
	return false;
}

/* One "Name: value" (RFC 9110 §5.1, §5.5): a token, a colon, visible text, no CR or LF. */
static ts_err header_check(const char *h, bool basic, struct ts_error *e)
{
	size_t n = strnlen(h, TS_HTTP_CLIENT_HEADER_MAX + 1);
	if (n > TS_HTTP_CLIENT_HEADER_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a request header is longer than %d bytes",
		               TS_HTTP_CLIENT_HEADER_MAX);
	size_t name = 0;
	while (name < n && tchar((unsigned char)h[name]))
		name++;
	if (name == 0 || h[name] != ':')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a request header is not \"Name: value\"");
	for (size_t i = name + 1; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "a request header's value holds a control character");
	}
	if (reserved_header(h, name) ||
	    (basic && name == 13 && strncasecmp(h, "Authorization", 13) == 0))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the request header %.*s is set by the client", (int)name, h);
	return TS_ERR_OK;
}

/* The request's own limits, before any slot or connection. */
static ts_err request_check(const struct ts_http_client_request *r, bool *post, struct ts_error *e)
{
	if (r->method == NULL || strcmp(r->method, "GET") == 0)
		*post = false;
	else if (strcmp(r->method, "POST") == 0)
		*post = true;
	else
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the method must be GET or POST");
	if (!*post && r->body != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a GET carries no body");
	if (r->body == NULL && r->body_len != 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the body is missing");
	if (r->body_len > TS_HTTP_CLIENT_BODY_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the request body is longer than %d bytes",
		               TS_HTTP_CLIENT_BODY_MAX);
	if (r->content_type != NULL) {
		if (!*post)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a GET carries no Content-Type");
		size_t n = strnlen(r->content_type, TS_HTTP_CLIENT_HEADER_MAX + 1);
		if (n == 0 || n > TS_HTTP_CLIENT_HEADER_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "the Content-Type is empty or too long");
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)r->content_type[i] < 0x20 || r->content_type[i] == 0x7f)
				return TS_FAIL(e, TS_ERR_BAD_REQUEST,
				               "the Content-Type holds a control character");
	}
	bool basic = r->basic_user != NULL;
	if (basic &&
	    (strnlen(r->basic_user, TS_HTTP_CLIENT_HEADER_MAX + 1) > TS_HTTP_CLIENT_HEADER_MAX ||
	     (r->basic_password != NULL &&
	      strnlen(r->basic_password, TS_HTTP_CLIENT_HEADER_MAX + 1) >
	              TS_HTTP_CLIENT_HEADER_MAX)))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the credentials are longer than %d bytes",
		               TS_HTTP_CLIENT_HEADER_MAX);
	if (!basic && r->basic_password != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a password without a user name");
	int count = 0;
	for (const char *const *h = r->headers; h != NULL && *h != NULL; h++) {
		if (++count > TS_HTTP_CLIENT_HEADERS_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "more than %d request headers",
			               TS_HTTP_CLIENT_HEADERS_MAX);
		ts_err rc = header_check(*h, basic, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	return TS_ERR_OK;
}

/* ---- slots --------------------------------------------------------------- */

void ts_http_client_set_concurrency(int n)
{
	pthread_once(&global_once, global_init);
	pthread_mutex_lock(&slots_mu);
	slots_limit = n > 0 ? n : 0;
	pthread_cond_broadcast(&slots_cv); /* a higher limit lets waiters in */
	pthread_mutex_unlock(&slots_mu);
}

/* A slot within TS_HTTP_CLIENT_QUEUE_MS (and before deadline, monotonic ns), or busy. */
static ts_err slot_take(int64_t deadline, struct ts_error *e)
{
	int64_t until = ts_mono_ns() + TS_HTTP_CLIENT_QUEUE_MS * NS_PER_MS;
	if (until > deadline)
		until = deadline;
	struct timespec ts = {.tv_sec = (time_t)(until / NS_PER_S),
	                      .tv_nsec = (long)(until % NS_PER_S)};
	pthread_mutex_lock(&slots_mu);
	while (slots_limit > 0 && slots_used >= slots_limit)
		if (pthread_cond_timedwait(&slots_cv, &slots_mu, &ts) != 0 && slots_limit > 0 &&
		    slots_used >= slots_limit) {
			pthread_mutex_unlock(&slots_mu);
			atomic_fetch_add_explicit(&n_busy, 1, memory_order_relaxed);
			return TS_FAIL(e, TS_ERR_UNAVAILABLE, "outbound calls are all busy");
		}
	slots_used++;
	pthread_mutex_unlock(&slots_mu);
	atomic_fetch_add_explicit(&n_calls, 1, memory_order_relaxed);
	return TS_ERR_OK;
}

static void slot_give(void)
{
	pthread_mutex_lock(&slots_mu);
	slots_used--;
	pthread_cond_signal(&slots_cv);
	pthread_mutex_unlock(&slots_mu);
}

void ts_http_client_stats(struct ts_http_client_stats *out)
{
	pthread_mutex_lock(&slots_mu);
	out->limit = slots_limit;
	out->in_flight = slots_used;
	pthread_mutex_unlock(&slots_mu);
	out->calls = atomic_load_explicit(&n_calls, memory_order_relaxed);
	out->busy = atomic_load_explicit(&n_busy, memory_order_relaxed);
	out->refused = atomic_load_explicit(&n_refused, memory_order_relaxed);
	out->connects = atomic_load_explicit(&n_connects, memory_order_relaxed);
}

/* ---- one exchange -------------------------------------------------------- */

/* This thread's easy handle, made at its first call; reset after each (release). */
static CURL *handle_take(void)
{
	CURL *c = pthread_getspecific(handle_key);
	if (c == NULL) {
		c = curl_easy_init();
		if (c != NULL)
			pthread_setspecific(handle_key, c);
	}
	return c;
}

/* What open_socket lets through for one hop. */
struct guard {
	bool loopback_ok;   /* the URL named a loopback host, and so did the first URL */
	bool allow_private; /* ts_http_client_opts.allow_private */
	int refused, opened;
};

/*
 * Every connection's socket, made after DNS with the address it will
 * connect to: the one place where a rebinding name cannot slip a new answer
 * past the check. A refusal makes libcurl try the name's next address.
 */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct guard *g = arg;
	struct sockaddr_storage ss = {0};
	(void)purpose;
	memcpy(&ss, &addr->addr, addr->addrlen < sizeof ss ? addr->addrlen : sizeof ss);
	enum ts_http_addr_kind k = ts_http_client_addr_kind((struct sockaddr *)&ss);
	bool ok = g->loopback_ok ? k == TS_HTTP_ADDR_LOOPBACK
	                         : k == TS_HTTP_ADDR_PUBLIC ||
	                                   (g->allow_private && k == TS_HTTP_ADDR_PRIVATE);
	if (!ok) {
		g->refused++;
		atomic_fetch_add_explicit(&n_refused, 1, memory_order_relaxed);
		return CURL_SOCKET_BAD;
	}
	int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (fd < 0)
		return CURL_SOCKET_BAD;
	g->opened++;
	atomic_fetch_add_explicit(&n_connects, 1, memory_order_relaxed);
	return fd;
}

struct sink {
	char *buf;
	size_t len, cap, max;
	bool over;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;
	if (n > s->max - s->len) {
		s->over = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 16 * 1024;
		while (cap < s->len + n)
			cap *= 2;
		if (cap > s->max)
			cap = s->max;
		s->buf = ts_realloc(s->buf, cap);
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	return n;
}

static bool redirect_status(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* One exchange with the checked u within ms on c; the answer's status and body into out. */
static ts_err hop(CURL *c, ts_arena_t *a, CURLU *u, struct guard *g,
                  const struct ts_http_client_request *r, bool post,
                  const struct ts_http_client_opts *o, int64_t ms,
                  struct ts_http_client_response *out, char **location, struct ts_error *e)
{
	struct sink s = {.max = o->max_bytes};
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	ts_err rc = TS_ERR_OK;
	curl_easy_setopt(c, CURLOPT_CURLU, u);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* worker threads: no SIGALRM for DNS */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(ms < TS_HTTP_CLIENT_CONNECT_TIMEOUT_MS
	                                ? ms
	                                : TS_HTTP_CLIENT_CONNECT_TIMEOUT_MS));
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	/* a body announced longer than the cap is refused before it is read */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* caps apply to the decoded bytes */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tessera");
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* the guard must see the real peer */
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, g);
	if (o->allow_private) {
		/* a connection let through to a private address serves this call only: a
		 * later call without allow_private never finds it in the cache */
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	}
	if (o->accept != NULL)
		headers = curl_slist_append(
		        headers, ts_arena_concat(a, "Accept: ", o->accept, (char *)NULL));
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body != NULL ? r->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		/* libcurl sends FORM_MIME itself for a POST without a Content-Type header, at less
		 * cost than a header of the list, which it formats byte by byte */
		if (r->content_type != NULL && strcmp(r->content_type, FORM_MIME) != 0)
			headers = curl_slist_append(
			        headers, ts_arena_concat(a, "Content-Type: ", r->content_type,
			                                 (char *)NULL));
		/* the body goes with the headers: no 100-continue round trip (RFC 9110 §10.1.1) */
		headers = curl_slist_append(headers, "Expect:");
	}
	for (const char *const *h = r->headers; h != NULL && *h != NULL; h++)
		headers = curl_slist_append(headers, *h);
	if (r->basic_user != NULL)
		add_basic(&headers, r->basic_user, r->basic_password ? r->basic_password : "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	CURLcode cc = curl_easy_perform(c);
	if (s.over || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = TS_FAIL(e, TS_ERR_TOO_LARGE, "the document is larger than %zu bytes",
		             o->max_bytes);
		goto out;
	}
	if (cc != CURLE_OK && g->refused > 0 && g->opened == 0) {
		/* generic on purpose: which addresses a name has inside is not the caller's */
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the address is not public");
		goto out;
	}
	if (cc != CURLE_OK) {
		rc = TS_FAIL(e, TS_ERR_UNAVAILABLE, "%s",
		             errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	char *ct = NULL, *loc = NULL;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
	out->content_type = ct ? ts_arena_strdup(a, ct) : NULL;
	*location = redirect_status(out->status) && loc ? ts_arena_strdup(a, loc) : NULL;
	out->body = ts_arena_alloc(a, s.len + 1);
	if (s.len > 0)
		memcpy(out->body, s.buf, s.len);
	out->body[s.len] = '\0';
	out->len = s.len;
out:
	ts_free(s.buf);
	/* options point at this frame (errbuf, s, g) and the list: none may outlive the call;
	 * the reset keeps the connection and DNS caches */
	curl_easy_reset(c);
	wipe_headers(headers);
	return rc;
}

ts_err ts_http_client_do(ts_arena_t *a, const struct ts_http_client_request *r,
                         const struct ts_http_client_opts *opts,
                         struct ts_http_client_response *out, struct ts_error *e)
{
	struct ts_http_client_opts o = opts ? *opts : (struct ts_http_client_opts){0};
	if (o.max_bytes == 0)
		o.max_bytes = TS_HTTP_CLIENT_MAX_BYTES;
	if (o.timeout_ms <= 0)
		o.timeout_ms = TS_HTTP_CLIENT_TIMEOUT_MS;
	*out = (struct ts_http_client_response){0};
	int64_t deadline = ts_mono_ns() + (int64_t)o.timeout_ms * NS_PER_MS;
	bool post = false, https = false, first_loopback = false, slot = false;
	CURLU *u = NULL;
	ts_err rc = request_check(r, &post, e);
	if (rc == TS_ERR_OK)
		rc = parse_checked(r->url, &u, &https, &first_loopback, e);
	if (rc == TS_ERR_OK)
		rc = slot_take(deadline, e);
	slot = rc == TS_ERR_OK;
	CURL *c = rc == TS_ERR_OK ? handle_take() : NULL;
	if (rc == TS_ERR_OK && c == NULL)
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "out of memory");
	/* a token or a secret never follows a Location: only a bare GET is redirected */
	bool follow =
	        !post && r->basic_user == NULL && (r->headers == NULL || r->headers[0] == NULL);
	bool loopback = first_loopback;
	const char *current = r->url;
	for (int hops = 0; rc == TS_ERR_OK; hops++) {
		int64_t left = (deadline - ts_mono_ns()) / NS_PER_MS;
		if (left <= 0) {
			rc = TS_FAIL(e, TS_ERR_UNAVAILABLE, "timed out after %d ms", o.timeout_ms);
			break;
		}
		/*
		 * Loopback through a redirect only when the first URL was loopback too;
		 * refused here, before the handle's cache could offer a connection a
		 * legitimate loopback call left open (which open_socket would not see).
		 */
		if (loopback && !first_loopback) {
			rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the address is not public");
			break;
		}
		struct guard g = {.loopback_ok = loopback, .allow_private = o.allow_private};
		char *location = NULL;
		rc = hop(c, a, u, &g, r, post, &o, left, out, &location, e);
		out->url = current;
		if (rc != TS_ERR_OK)
			break;
		if (!follow && redirect_status(out->status)) {
			rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
			             "a redirect was refused: a POST or a request with credentials "
			             "is sent once");
			break;
		}
		if (location == NULL || hops == TS_HTTP_CLIENT_REDIRECTS_MAX)
			break;
		curl_url_cleanup(u);
		bool next_https = false;
		struct ts_error why = {0};
		rc = parse_checked(location, &u, &next_https, &loopback, &why);
		if (rc == TS_ERR_OK && next_https != https)
			rc = TS_FAIL(&why, TS_ERR_BAD_REQUEST, "it changes the scheme");
		if (rc != TS_ERR_OK)
			rc = TS_FAIL(e, rc, "a redirect was refused: %s", why.message);
		current = location;
	}
	if (slot)
		slot_give();
	curl_url_cleanup(u);
	if (rc != TS_ERR_OK)
		*out = (struct ts_http_client_response){0};
	return rc;
}

ts_err ts_http_client_get(ts_arena_t *a, const char *url, const struct ts_http_client_opts *opts,
                          struct ts_http_client_response *out, struct ts_error *e)
{
	struct ts_http_client_request r = {.method = "GET", .url = url};
	return ts_http_client_do(a, &r, opts, out, e);
}
