/*
 * The outbound GET of http/client.h on libcurl's easy interface. libcurl is
 * given the URL already parsed and checked (CURLOPT_CURLU), never a string
 * it would parse again differently, and never follows a redirect itself: a
 * Location is read back, checked like the first URL and fetched as a new
 * hop, so a metadata URL cannot bounce the server to plain http, to another
 * scheme (file:, gopher:) or to an http service inside the network.
 */
#include "http/client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/timeutil.h"

#define NS_PER_MS 1000000LL

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not safe to race with other threads' first calls (libcurl docs) */
static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

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

/* Parses url into *u and checks it; *https says which scheme. */
static ts_err parse_checked(const char *url, CURLU **u, bool *https, struct ts_error *e)
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
	if (!*https && !(strcasecmp(scheme, "http") == 0 && loopback_host(host)))
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
	bool https = false;
	ts_err rc = parse_checked(url, &u, &https, e);
	curl_url_cleanup(u);
	return rc;
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

/* One GET of the checked u within ms; the answer's status and body into out. */
static ts_err hop(ts_arena_t *a, CURLU *u, bool https, const struct ts_http_client_opts *o,
                  int64_t ms, struct ts_http_client_response *out, char **location,
                  struct ts_error *e)
{
	struct sink s = {.max = o->max_bytes};
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	ts_err rc = TS_ERR_OK;
	CURL *c = curl_easy_init();
	if (c == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "out of memory");
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
	if (!https) /* loopback: never through a proxy named in the environment */
		curl_easy_setopt(c, CURLOPT_PROXY, "");
	if (o->accept != NULL) {
		headers = curl_slist_append(NULL, ts_arena_printf(a, "Accept: %s", o->accept));
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	}
	CURLcode cc = curl_easy_perform(c);
	if (s.over || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = TS_FAIL(e, TS_ERR_TOO_LARGE, "the document is larger than %zu bytes",
		             o->max_bytes);
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
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	return rc;
}

ts_err ts_http_client_get(ts_arena_t *a, const char *url, const struct ts_http_client_opts *opts,
                          struct ts_http_client_response *out, struct ts_error *e)
{
	struct ts_http_client_opts o = opts ? *opts : (struct ts_http_client_opts){0};
	if (o.max_bytes == 0)
		o.max_bytes = TS_HTTP_CLIENT_MAX_BYTES;
	if (o.timeout_ms <= 0)
		o.timeout_ms = TS_HTTP_CLIENT_TIMEOUT_MS;
	*out = (struct ts_http_client_response){0};
	int64_t deadline = ts_mono_ns() + (int64_t)o.timeout_ms * NS_PER_MS;
	bool https = false;
	CURLU *u = NULL;
	ts_err rc = parse_checked(url, &u, &https, e);
	const char *current = url;
	for (int hops = 0; rc == TS_ERR_OK; hops++) {
		int64_t left = (deadline - ts_mono_ns()) / NS_PER_MS;
		if (left <= 0) {
			rc = TS_FAIL(e, TS_ERR_UNAVAILABLE, "timed out after %d ms", o.timeout_ms);
			break;
		}
		char *location = NULL;
		rc = hop(a, u, https, &o, left, out, &location, e);
		out->url = current;
		if (rc != TS_ERR_OK || location == NULL || hops == TS_HTTP_CLIENT_REDIRECTS_MAX)
			break;
		curl_url_cleanup(u);
		bool next_https = false;
		struct ts_error why = {0};
		rc = parse_checked(location, &u, &next_https, &why);
		if (rc == TS_ERR_OK && next_https != https)
			rc = TS_FAIL(&why, TS_ERR_BAD_REQUEST, "it changes the scheme");
		if (rc != TS_ERR_OK)
			rc = TS_FAIL(e, rc, "a redirect was refused: %s", why.message);
		current = location;
	}
	curl_url_cleanup(u);
	if (rc != TS_ERR_OK)
		*out = (struct ts_http_client_response){0};
	return rc;
}
