/*
 * Unit tests of src/http/client.c against real servers on loopback: a small
 * HTTP/1.1 server in this test, a thread per connection with keep-alive,
 * that counts the connections it accepts (statuses, bodies over the cap with
 * and without Content-Length, a slow answer, redirects to the same scheme,
 * to https, to file: and to a host outside loopback, an echo of the request
 * for POST bodies, headers and Basic credentials), and `openssl s_server`
 * with a self-signed certificate, refused without its CA and accepted with
 * it, which shows that verification is on. Connection reuse is counted on
 * the server side, the concurrency limit timed against a slow answer, the
 * SSRF guard shown on names that libcurl resolves to loopback while the
 * test server listens there. The URL check and the address classifier are
 * table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http/client.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

extern char **environ;

static void test_url_check(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		bool ok;
	} cases[] = {
	        {"https://idp.example.com/metadata", true},
	        {"https://idp.example.com:8443/app/exk1/sso/saml/metadata", true},
	        {"HTTPS://IDP.EXAMPLE.COM/x", true},
	        {"http://127.0.0.1:8000/metadata.xml", true},
	        {"http://127.9.9.9/", true},
	        {"http://localhost:9/", true},
	        {"http://LOCALHOST/", true},
	        {"http://[::1]:8000/m", true},
	        {"http://idp.example.com/metadata", false},
	        {"http://128.0.0.1/", false},
	        {"http://10.0.0.1/", false},
	        {"http://[::2]/", false},
	        {"http://[::ffff:127.0.0.1]/", false},
	        {"http://localhost.evil.example/", false},
	        {"http://127.0.0.1.nip.io/", false},
	        {"ftp://idp.example.com/m", false},
	        {"file:///etc/passwd", false},
	        {"gopher://127.0.0.1/", false},
	        {"idp.example.com/metadata", false},
	        {"/metadata", false},
	        {"https://user:pw@idp.example.com/", false},
	        {"https://user@idp.example.com/", false},
	        {"", false},
	        {"https://", false},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct ts_error e = {0};
		ts_err rc = ts_http_client_url_check(cases[i].url, &e);
		if ((rc == TS_ERR_OK) != cases[i].ok)
			fail_msg("%s: %s (%s)", cases[i].url, cases[i].ok ? "refused" : "accepted",
			         e.message);
		if (!cases[i].ok)
			assert_int_equal(rc, TS_ERR_BAD_REQUEST);
	}
	char *long_url = calloc(1, TS_HTTP_CLIENT_URL_MAX + 64);
	memcpy(long_url, "https://a.example/", 18);
	memset(long_url + 18, 'a', TS_HTTP_CLIENT_URL_MAX);
	assert_int_equal(ts_http_client_url_check(long_url, NULL), TS_ERR_BAD_REQUEST);
	free(long_url);
}

/* ---- a loopback HTTP server: a thread per connection, keep-alive ---- */

#define MAX_CONNS 64
#define REQ_MAX (128 * 1024) /* a request: head and body */
#define LAST_MAX (16 * 1024) /* what /echo answers */

struct server {
	int fd;
	int port;
	pthread_t tid;
	pthread_mutex_t mu;
	int conn_fd[MAX_CONNS];
	pthread_t conn_tid[MAX_CONNS];
	int nconns;          /* connections accepted */
	int eofs;            /* connections the client closed between requests */
	char last[LAST_MAX]; /* the last request, head and body */
	int slow_ms;         /* how long /slow waits */
};

struct conn {
	struct server *s;
	int slot;
};

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Answers path; false when the answer closes the connection. */
static bool answer(struct server *s, int fd, const char *path)
{
	char head[512];
	if (strcmp(path, "/ok") == 0) {
		const char *r = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
		                "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
		send_all(fd, r, strlen(r));
	} else if (strcmp(path, "/ka") == 0) {
		const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
		send_all(fd, r, strlen(r));
		return true;
	} else if (strcmp(path, "/echo") == 0) {
		/* the request as received, for the test to read */
		pthread_mutex_lock(&s->mu);
		int n = snprintf(head, sizeof head,
		                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		                 "Content-Length: %zu\r\n\r\n",
		                 strlen(s->last));
		send_all(fd, head, (size_t)n);
		send_all(fd, s->last, strlen(s->last));
		pthread_mutex_unlock(&s->mu);
		return true;
	} else if (strcmp(path, "/missing") == 0) {
		const char *r = "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n"
		                "Connection: close\r\n\r\ngone";
		send_all(fd, r, strlen(r));
	} else if (strcmp(path, "/big-length") == 0 || strcmp(path, "/big-close") == 0) {
		/* 4000 bytes: announced, or only seen as they come (no Content-Length) */
		bool announced = strcmp(path, "/big-length") == 0;
		int n = snprintf(head, sizeof head,
		                 "HTTP/1.1 200 OK\r\n%sConnection: close\r\n\r\n",
		                 announced ? "Content-Length: 4000\r\n" : "");
		send_all(fd, head, (size_t)n);
		char body[4000];
		memset(body, 'x', sizeof body);
		send_all(fd, body, sizeof body);
	} else if (strcmp(path, "/slow") == 0) {
		sleep_ms(s->slow_ms);
		const char *r =
		        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
		send_all(fd, r, strlen(r));
	} else {
		const char *to = strcmp(path, "/to-ok") == 0      ? "/ok"
		                 : strcmp(path, "/to-https") == 0 ? "https://127.0.0.1:%d/ok"
		                 : strcmp(path, "/to-file") == 0  ? "file:///etc/passwd"
		                 : strcmp(path, "/to-outside") == 0
		                         ? "http://idp.example.com/ok"
		                         : "/loop"; /* /loop and anything else */
		char loc[128];
		snprintf(loc, sizeof loc, to, s->port);
		int n = snprintf(head, sizeof head,
		                 "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n"
		                 "Connection: close\r\n\r\n",
		                 loc);
		send_all(fd, head, (size_t)n);
	}
	return false;
}

/* One request's head and body (Content-Length) into req; false at the end of the connection. */
static bool read_request(int fd, char *req, size_t cap, bool *eof)
{
	size_t len = 0;
	char *end = NULL;
	*eof = false;
	while (end == NULL) {
		if (len == cap - 1)
			return false;
		ssize_t r = recv(fd, req + len, cap - 1 - len, 0);
		if (r <= 0) {
			*eof = r == 0 && len == 0;
			return false;
		}
		len += (size_t)r;
		req[len] = '\0';
		end = strstr(req, "\r\n\r\n");
	}
	size_t body = 0;
	const char *cl = strcasestr(req, "\r\nContent-Length:");
	if (cl != NULL && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	size_t want = (size_t)(end + 4 - req) + body;
	if (want >= cap)
		return false;
	while (len < want) {
		ssize_t r = recv(fd, req + len, want - len, 0);
		if (r <= 0)
			return false;
		len += (size_t)r;
	}
	req[len] = '\0';
	return true;
}

static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	struct server *s = c->s;
	int fd = s->conn_fd[c->slot];
	char *req = calloc(1, REQ_MAX);
	bool eof = false;
	for (;;) {
		if (!read_request(fd, req, REQ_MAX, &eof))
			break;
		pthread_mutex_lock(&s->mu);
		snprintf(s->last, sizeof s->last, "%s", req);
		pthread_mutex_unlock(&s->mu);
		char path[256] = "";
		const char *sp = strchr(req, ' ');
		const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
		if (sp && sp2 && (size_t)(sp2 - sp - 1) < sizeof path) {
			memcpy(path, sp + 1, (size_t)(sp2 - sp - 1));
			path[sp2 - sp - 1] = '\0';
		}
		if (!answer(s, fd, path))
			break;
	}
	pthread_mutex_lock(&s->mu);
	if (eof)
		s->eofs++;
	pthread_mutex_unlock(&s->mu);
	shutdown(fd, SHUT_RDWR); /* closed by teardown, after the join */
	free(req);
	free(c);
	return NULL;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			return NULL; /* listening socket shut down: test over */
		pthread_mutex_lock(&s->mu);
		if (s->nconns == MAX_CONNS) {
			pthread_mutex_unlock(&s->mu);
			close(fd);
			continue;
		}
		struct conn *c = calloc(1, sizeof *c);
		c->s = s;
		c->slot = s->nconns++;
		s->conn_fd[c->slot] = fd;
		pthread_create(&s->conn_tid[c->slot], NULL, serve_conn, c);
		pthread_mutex_unlock(&s->mu);
	}
}

static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static int setup(void **state)
{
	struct server *s = calloc(1, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	s->slow_ms = 2000;
	s->fd = listen_loopback(&s->port);
	if (s->fd < 0 || pthread_create(&s->tid, NULL, serve, s) != 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct server *s = *state;
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->tid, NULL);
	close(s->fd);
	/* connections the client keeps in its cache: ended here */
	pthread_mutex_lock(&s->mu);
	int n = s->nconns;
	for (int i = 0; i < n; i++)
		shutdown(s->conn_fd[i], SHUT_RDWR);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < n; i++) {
		pthread_join(s->conn_tid[i], NULL);
		close(s->conn_fd[i]);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
	return 0;
}

static int accepted(struct server *s)
{
	pthread_mutex_lock(&s->mu);
	int n = s->nconns;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static const char *url(ts_arena_t *a, struct server *s, const char *path)
{
	return ts_arena_printf(a, "http://127.0.0.1:%d%s", s->port, path);
}

static void test_get(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_error e = {0};
	assert_int_equal(ts_http_client_get(a, url(a, s, "/ok"), NULL, &r, &e), TS_ERR_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 5);
	assert_string_equal(r.body, "hello");
	assert_string_equal(r.content_type, "application/xml");
	/* any status comes back: the caller decides */
	assert_int_equal(ts_http_client_get(a, url(a, s, "/missing"), NULL, &r, &e), TS_ERR_OK);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "gone");
	/* localhost is loopback too */
	const char *lh = ts_arena_printf(a, "http://localhost:%d/ok", s->port);
	assert_int_equal(ts_http_client_get(a, lh, NULL, &r, &e), TS_ERR_OK);
	assert_string_equal(r.body, "hello");
	/* the check runs before any connection */
	assert_int_equal(ts_http_client_get(a, "http://idp.example.com/m", NULL, &r, &e),
	                 TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

static void test_cap_and_timeout(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_error e = {0};
	struct ts_http_client_opts small = {.max_bytes = 3999};
	assert_int_equal(ts_http_client_get(a, url(a, s, "/big-length"), &small, &r, &e),
	                 TS_ERR_TOO_LARGE);
	assert_int_equal(ts_http_client_get(a, url(a, s, "/big-close"), &small, &r, &e),
	                 TS_ERR_TOO_LARGE);
	assert_null(r.body);
	struct ts_http_client_opts exact = {.max_bytes = 4000};
	assert_int_equal(ts_http_client_get(a, url(a, s, "/big-close"), &exact, &r, &e), TS_ERR_OK);
	assert_int_equal(r.len, 4000);
	struct ts_http_client_opts quick = {.timeout_ms = 300};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ts_http_client_get(a, url(a, s, "/slow"), &quick, &r, &e),
	                 TS_ERR_UNAVAILABLE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < 1500);
	ts_arena_free(&a);
}

static void test_redirects(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_error e = {0};
	assert_int_equal(ts_http_client_get(a, url(a, s, "/to-ok"), NULL, &r, &e), TS_ERR_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello");
	assert_string_equal(r.url, url(a, s, "/ok"));
	static const char *const refused[] = {"/to-https", "/to-file", "/to-outside"};
	for (size_t i = 0; i < N_ITEMS(refused); i++) {
		e = (struct ts_error){0};
		if (ts_http_client_get(a, url(a, s, refused[i]), NULL, &r, &e) !=
		    TS_ERR_BAD_REQUEST)
			fail_msg("%s was followed", refused[i]);
		assert_non_null(strstr(e.message, "redirect"));
	}
	/* a loop ends after the last hop with its 302 */
	assert_int_equal(ts_http_client_get(a, url(a, s, "/loop"), NULL, &r, &e), TS_ERR_OK);
	assert_int_equal(r.status, 302);
	ts_arena_free(&a);
}

/* ---- ts_http_client_do: POST, headers, credentials ---- */

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_post(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_error e = {0};
	/* client_secret_basic: both parts form-urlencoded, then base64 (RFC 6749 §2.3.1) */
	static const char body[] = "grant_type=authorization_code&code=abc";
	struct ts_http_client_request q = {.method = "POST",
	                                   .url = url(a, s, "/echo"),
	                                   .body = body,
	                                   .body_len = sizeof body - 1,
	                                   .basic_user = "client id:1",
	                                   .basic_password = "s3cr:et/+\xc3\xa9"};
	struct ts_http_client_opts o = {.accept = "application/json"};
	ts_err rc = ts_http_client_do(a, &q, &o, &r, &e);
	if (rc != TS_ERR_OK)
		fail_msg("%s", e.message);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "POST /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(r.body, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
	assert_non_null(strstr(r.body, "\r\nAccept: application/json\r\n"));
	assert_non_null(strstr(r.body, "\r\nAuthorization: Basic "
	                               "Y2xpZW50K2lkJTNBMTpzM2NyJTNBZXQlMkYlMkIlQzMlQTk=\r\n"));
	assert_non_null(strstr(r.body, "\r\nContent-Length: 38\r\n"));
	assert_null(strcasestr(r.body, "\r\nExpect:"));
	assert_true(r.len > sizeof body - 1);
	assert_string_equal(r.body + r.len - (sizeof body - 1), body);
	/* another type, an empty body */
	struct ts_http_client_request empty = {
	        .method = "POST", .url = url(a, s, "/echo"), .content_type = "application/json"};
	assert_int_equal(ts_http_client_do(a, &empty, NULL, &r, &e), TS_ERR_OK);
	assert_non_null(strstr(r.body, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r.body, "\r\nContent-Length: 0\r\n"));
	/* a GET with a bearer token (userinfo) */
	const char *const hdrs[] = {"Authorization: Bearer tok.en-1", "X-Extra:  v", NULL};
	struct ts_http_client_request g = {.url = url(a, s, "/echo"), .headers = hdrs};
	assert_int_equal(ts_http_client_do(a, &g, NULL, &r, &e), TS_ERR_OK);
	assert_non_null(strstr(r.body, "GET /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(r.body, "\r\nAuthorization: Bearer tok.en-1\r\n"));
	assert_non_null(strstr(r.body, "\r\nX-Extra:  v\r\n"));
	assert_null(strcasestr(r.body, "Content-Type"));
	/* the encoder on its own */
	assert_string_equal(ts_http_client_form_encode(a, "a b+c/d=e&f~*-._\xc3\xa9", 18),
	                    "a+b%2Bc%2Fd%3De%26f%7E*-._%C3%A9");
	ts_arena_free(&a);
}

static void test_request_refused(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	const char *u = url(a, s, "/echo");
	char *big = calloc(1, TS_HTTP_CLIENT_BODY_MAX + 1);
	char *long_header = calloc(1, TS_HTTP_CLIENT_HEADER_MAX + 8);
	memcpy(long_header, "X-Long: ", 8);
	memset(long_header + 8, 'a', TS_HTTP_CLIENT_HEADER_MAX - 1);
	const char *const crlf[] = {"X-A: 1\r\nHost: evil", NULL};
	const char *const lf[] = {"X-A: 1\nX-B: 2", NULL};
	const char *const noname[] = {": v", NULL};
	const char *const nocolon[] = {"X-A 1", NULL};
	const char *const space[] = {"X A: 1", NULL};
	const char *const host[] = {"Host: other.example", NULL};
	const char *const length[] = {"content-length: 5", NULL};
	const char *const te[] = {"Transfer-Encoding: chunked", NULL};
	const char *const auth[] = {"Authorization: Bearer x", NULL};
	const char *const toolong[] = {long_header, NULL};
	const char *const many[] = {"A: 1", "B: 1", "C: 1", "D: 1", "E: 1",
	                            "F: 1", "G: 1", "H: 1", "I: 1", NULL};
	const struct ts_http_client_request cases[] = {
	        {.method = "PUT", .url = u},
	        {.method = "get", .url = u},
	        {.method = "GET", .url = u, .body = "x", .body_len = 1},
	        {.method = "GET", .url = u, .content_type = "text/plain"},
	        {.method = "POST", .url = u, .body_len = 3},
	        {.method = "POST", .url = u, .body = big, .body_len = TS_HTTP_CLIENT_BODY_MAX + 1},
	        {.method = "POST", .url = u, .content_type = "text/plain\r\nX-A: 1"},
	        {.method = "POST", .url = u, .headers = crlf},
	        {.method = "POST", .url = u, .headers = lf},
	        {.method = "POST", .url = u, .headers = noname},
	        {.method = "POST", .url = u, .headers = nocolon},
	        {.method = "POST", .url = u, .headers = space},
	        {.method = "POST", .url = u, .headers = host},
	        {.method = "POST", .url = u, .headers = length},
	        {.method = "POST", .url = u, .headers = te},
	        {.method = "POST", .url = u, .headers = toolong},
	        {.method = "POST", .url = u, .headers = many},
	        {.method = "POST", .url = u, .headers = auth, .basic_user = "c"},
	        {.method = "POST", .url = u, .basic_password = "p"},
	        {.method = "POST", .url = "http://idp.example.com/token"},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct ts_error e = {0};
		if (ts_http_client_do(a, &cases[i], NULL, &r, &e) != TS_ERR_BAD_REQUEST)
			fail_msg("case %zu was sent", i);
		assert_null(r.body);
	}
	/* refused before any connection */
	assert_int_equal(accepted(s), 0);
	/* the same shapes within the limits are sent */
	const char *const eight[] = {"A: 1", "B: 1", "C: 1", "D: 1", "E: 1",
	                             "F: 1", "G: 1", "H: 1", NULL};
	struct ts_http_client_request fine = {.method = "POST",
	                                      .url = u,
	                                      .body = big,
	                                      .body_len = TS_HTTP_CLIENT_BODY_MAX - 4096,
	                                      .headers = eight};
	memset(big, 'b', TS_HTTP_CLIENT_BODY_MAX);
	struct ts_error e = {0};
	if (ts_http_client_do(a, &fine, NULL, &r, &e) != TS_ERR_OK)
		fail_msg("%s", e.message);
	assert_int_equal(r.status, 200);
	free(big);
	free(long_header);
	ts_arena_free(&a);
}

static void test_post_limits(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_error e = {0};
	struct ts_http_client_request q = {.method = "POST", .body = "a=b", .body_len = 3};
	struct ts_http_client_opts small = {.max_bytes = 3999};
	q.url = url(a, s, "/big-close");
	assert_int_equal(ts_http_client_do(a, &q, &small, &r, &e), TS_ERR_TOO_LARGE);
	q.url = url(a, s, "/big-length");
	assert_int_equal(ts_http_client_do(a, &q, &small, &r, &e), TS_ERR_TOO_LARGE);
	struct ts_http_client_opts quick = {.timeout_ms = 300};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	q.url = url(a, s, "/slow");
	assert_int_equal(ts_http_client_do(a, &q, &quick, &r, &e), TS_ERR_UNAVAILABLE);
	assert_true(elapsed_ms(&t0) < 1500);
	/* a POST is sent once: a redirect is refused, not followed */
	q.url = url(a, s, "/to-ok");
	e = (struct ts_error){0};
	assert_int_equal(ts_http_client_do(a, &q, NULL, &r, &e), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "redirect"));
	assert_null(r.body);
	/* so is a GET that carries a token; without one it follows */
	const char *const bearer[] = {"Authorization: Bearer t", NULL};
	struct ts_http_client_request g = {.url = url(a, s, "/to-ok"), .headers = bearer};
	assert_int_equal(ts_http_client_do(a, &g, NULL, &r, &e), TS_ERR_BAD_REQUEST);
	struct ts_http_client_request basic = {.url = url(a, s, "/to-ok"), .basic_user = "u"};
	assert_int_equal(ts_http_client_do(a, &basic, NULL, &r, &e), TS_ERR_BAD_REQUEST);
	g.headers = NULL;
	assert_int_equal(ts_http_client_do(a, &g, NULL, &r, &e), TS_ERR_OK);
	assert_string_equal(r.body, "hello");
	ts_arena_free(&a);
}

/* ---- connection reuse ---- */

static int eofs(struct server *s)
{
	pthread_mutex_lock(&s->mu);
	int n = s->eofs;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void *one_post(void *arg)
{
	struct server *s = arg;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_http_client_request q = {.method = "POST", .url = url(a, s, "/ka")};
	ts_err rc = ts_http_client_do(a, &q, NULL, &r, NULL);
	ts_arena_free(&a);
	return rc == TS_ERR_OK ? s : NULL;
}

static void test_reuse(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_error e = {0};
	struct ts_http_client_stats before, after;
	ts_http_client_stats(&before);
	struct ts_http_client_request q = {
	        .method = "POST", .url = url(a, s, "/ka"), .body = "x=1", .body_len = 3};
	for (int i = 0; i < 50; i++) {
		if (ts_http_client_do(a, &q, NULL, &r, &e) != TS_ERR_OK)
			fail_msg("%d: %s", i, e.message);
		assert_string_equal(r.body, "ok");
		/* GETs share the connection too */
		struct ts_http_client_request g = {.url = q.url};
		assert_int_equal(ts_http_client_do(a, &g, NULL, &r, &e), TS_ERR_OK);
	}
	assert_int_equal(accepted(s), 1);
	ts_http_client_stats(&after);
	assert_int_equal(after.connects - before.connects, 1);
	assert_int_equal(after.calls - before.calls, 100);
	/* an answer that closes its connection: the first goes on the kept one, then a new
	 * one each time */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ts_http_client_get(a, url(a, s, "/ok"), NULL, &r, &e), TS_ERR_OK);
	assert_int_equal(accepted(s), 3);
	/* another thread has its own handle, freed (its connection closed) when it ends */
	assert_int_equal(eofs(s), 0);
	pthread_t t;
	void *ok = NULL;
	pthread_create(&t, NULL, one_post, s);
	pthread_join(t, &ok);
	assert_ptr_equal(ok, s);
	assert_int_equal(accepted(s), 4);
	for (int i = 0; i < 100 && eofs(s) == 0; i++)
		sleep_ms(10);
	assert_int_equal(eofs(s), 1);
	/* allow_private: a connection of its own, never kept */
	struct ts_http_client_opts priv = {.allow_private = true};
	assert_int_equal(ts_http_client_do(a, &q, &priv, &r, &e), TS_ERR_OK);
	assert_int_equal(ts_http_client_do(a, &q, &priv, &r, &e), TS_ERR_OK);
	assert_int_equal(accepted(s), 6);
	ts_arena_free(&a);
}

/* ---- bounded concurrency ---- */

struct slow_call {
	struct server *s;
	ts_err rc;
};

static void *slow_get(void *arg)
{
	struct slow_call *c = arg;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	c->rc = ts_http_client_get(a, url(a, c->s, "/slow"), NULL, &r, NULL);
	ts_arena_free(&a);
	return NULL;
}

static void wait_in_flight(int64_t n)
{
	struct ts_http_client_stats st;
	for (int i = 0; i < 200; i++) {
		ts_http_client_stats(&st);
		if (st.in_flight == n)
			return;
		sleep_ms(5);
	}
	fail_msg("never %lld calls in flight", (long long)n);
}

static void test_concurrency(void **state)
{
	struct server *s = *state;
	s->slow_ms = 1000;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_http_client_request q = {.method = "POST", .url = url(a, s, "/ka")};
	for (int limit = 1; limit <= 2; limit++) {
		ts_http_client_set_concurrency(limit);
		struct ts_http_client_stats before, after;
		ts_http_client_stats(&before);
		assert_int_equal(before.limit, limit);
		struct slow_call c = {.s = s, .rc = TS_ERR_INTERNAL};
		pthread_t t;
		pthread_create(&t, NULL, slow_get, &c);
		wait_in_flight(1);
		struct ts_error e = {0};
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ts_err rc = ts_http_client_do(a, &q, NULL, &r, &e);
		long ms = elapsed_ms(&t0);
		ts_http_client_stats(&after);
		if (limit == 1) {
			/* the slot is taken: refused after the queue wait, not after the slow call
			 */
			assert_int_equal(rc, TS_ERR_UNAVAILABLE);
			assert_string_equal(e.message, "outbound calls are all busy");
			assert_true(ms >= TS_HTTP_CLIENT_QUEUE_MS - 10);
			assert_true(ms < 800);
			assert_int_equal(after.busy - before.busy, 1);
		} else {
			if (rc != TS_ERR_OK)
				fail_msg("limit 2: %s", e.message);
			assert_true(ms < 800);
			assert_int_equal(after.busy, before.busy);
		}
		pthread_join(t, NULL);
		assert_int_equal(c.rc, TS_ERR_OK);
	}
	/* a slot freed within the wait is taken */
	ts_http_client_set_concurrency(1);
	s->slow_ms = 100;
	struct slow_call c = {.s = s, .rc = TS_ERR_INTERNAL};
	pthread_t t;
	pthread_create(&t, NULL, slow_get, &c);
	wait_in_flight(1);
	struct ts_error e = {0};
	if (ts_http_client_do(a, &q, NULL, &r, &e) != TS_ERR_OK)
		fail_msg("after the wait: %s", e.message);
	pthread_join(t, NULL);
	assert_int_equal(c.rc, TS_ERR_OK);
	ts_http_client_set_concurrency(0);
	ts_arena_free(&a);
}

/* ---- the SSRF guard ---- */

static void test_addr_kind(void **state)
{
	(void)state;
	static const struct {
		const char *addr;
		enum ts_http_addr_kind kind;
	} cases[] = {
	        {"93.184.216.34", TS_HTTP_ADDR_PUBLIC},
	        {"8.8.8.8", TS_HTTP_ADDR_PUBLIC},
	        {"1.1.1.1", TS_HTTP_ADDR_PUBLIC},
	        {"100.63.255.255", TS_HTTP_ADDR_PUBLIC},
	        {"100.128.0.0", TS_HTTP_ADDR_PUBLIC},
	        {"172.15.255.255", TS_HTTP_ADDR_PUBLIC},
	        {"172.32.0.0", TS_HTTP_ADDR_PUBLIC},
	        {"192.167.255.255", TS_HTTP_ADDR_PUBLIC},
	        {"192.169.0.0", TS_HTTP_ADDR_PUBLIC},
	        {"223.255.255.255", TS_HTTP_ADDR_PUBLIC},
	        {"127.0.0.1", TS_HTTP_ADDR_LOOPBACK},
	        {"127.255.255.254", TS_HTTP_ADDR_LOOPBACK},
	        {"10.0.0.1", TS_HTTP_ADDR_PRIVATE},
	        {"10.255.255.255", TS_HTTP_ADDR_PRIVATE},
	        {"172.16.0.1", TS_HTTP_ADDR_PRIVATE},
	        {"172.31.255.255", TS_HTTP_ADDR_PRIVATE},
	        {"192.168.1.1", TS_HTTP_ADDR_PRIVATE},
	        {"100.64.0.1", TS_HTTP_ADDR_PRIVATE},
	        {"100.127.255.255", TS_HTTP_ADDR_PRIVATE},
	        {"169.254.169.254", TS_HTTP_ADDR_LINK_LOCAL},
	        {"169.254.0.1", TS_HTTP_ADDR_LINK_LOCAL},
	        {"0.0.0.0", TS_HTTP_ADDR_OTHER},
	        {"0.1.2.3", TS_HTTP_ADDR_OTHER},
	        {"192.0.0.8", TS_HTTP_ADDR_OTHER},
	        {"192.0.2.1", TS_HTTP_ADDR_OTHER},
	        {"198.18.0.1", TS_HTTP_ADDR_OTHER},
	        {"198.19.255.255", TS_HTTP_ADDR_OTHER},
	        {"198.51.100.7", TS_HTTP_ADDR_OTHER},
	        {"203.0.113.9", TS_HTTP_ADDR_OTHER},
	        {"224.0.0.1", TS_HTTP_ADDR_OTHER},
	        {"239.255.255.250", TS_HTTP_ADDR_OTHER},
	        {"240.0.0.1", TS_HTTP_ADDR_OTHER},
	        {"255.255.255.255", TS_HTTP_ADDR_OTHER},
	        {"2606:4700:4700::1111", TS_HTTP_ADDR_PUBLIC},
	        {"2a00:1450:4001::200e", TS_HTTP_ADDR_PUBLIC},
	        {"2001:4860:4860::8888", TS_HTTP_ADDR_PUBLIC},
	        {"::1", TS_HTTP_ADDR_LOOPBACK},
	        {"::", TS_HTTP_ADDR_OTHER},
	        {"::2", TS_HTTP_ADDR_OTHER},
	        {"::127.0.0.1", TS_HTTP_ADDR_OTHER},
	        {"::ffff:127.0.0.1", TS_HTTP_ADDR_LOOPBACK},
	        {"::ffff:10.1.2.3", TS_HTTP_ADDR_PRIVATE},
	        {"::ffff:169.254.169.254", TS_HTTP_ADDR_LINK_LOCAL},
	        {"::ffff:8.8.8.8", TS_HTTP_ADDR_PUBLIC},
	        {"64:ff9b::a9fe:a9fe", TS_HTTP_ADDR_LINK_LOCAL},
	        {"64:ff9b::808:808", TS_HTTP_ADDR_PUBLIC},
	        {"64:ff9b:1::1", TS_HTTP_ADDR_PRIVATE},
	        {"2002:7f00:1::1", TS_HTTP_ADDR_LOOPBACK},
	        {"2002:c0a8:101::1", TS_HTTP_ADDR_PRIVATE},
	        {"2002:808:808::1", TS_HTTP_ADDR_PUBLIC},
	        {"fc00::1", TS_HTTP_ADDR_PRIVATE},
	        {"fd12:3456:789a::1", TS_HTTP_ADDR_PRIVATE},
	        {"fec0::1", TS_HTTP_ADDR_PRIVATE},
	        {"fe80::1", TS_HTTP_ADDR_LINK_LOCAL},
	        {"febf:ffff::1", TS_HTTP_ADDR_LINK_LOCAL},
	        {"ff02::1", TS_HTTP_ADDR_OTHER},
	        {"ff05::1:3", TS_HTTP_ADDR_OTHER},
	        {"100::1", TS_HTTP_ADDR_OTHER},
	        {"2001::1", TS_HTTP_ADDR_OTHER},
	        {"2001:1ff::1", TS_HTTP_ADDR_OTHER},
	        {"2001:200::1", TS_HTTP_ADDR_PUBLIC},
	        {"2001:db8::1", TS_HTTP_ADDR_OTHER},
	        {"3fff::1", TS_HTTP_ADDR_OTHER},
	        {"3ffe::1", TS_HTTP_ADDR_PUBLIC},
	        {"4000::1", TS_HTTP_ADDR_OTHER},
	        {"1fff::1", TS_HTTP_ADDR_OTHER},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct sockaddr_storage ss = {0};
		if (strchr(cases[i].addr, ':') != NULL) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, cases[i].addr, &in6->sin6_addr), 1);
		} else {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			assert_int_equal(inet_pton(AF_INET, cases[i].addr, &in->sin_addr), 1);
		}
		enum ts_http_addr_kind k = ts_http_client_addr_kind((struct sockaddr *)&ss);
		if (k != cases[i].kind)
			fail_msg("%s: kind %d, not %d", cases[i].addr, (int)k, (int)cases[i].kind);
		assert_int_equal(ts_http_client_addr_public((struct sockaddr *)&ss),
		                 cases[i].kind == TS_HTTP_ADDR_PUBLIC);
	}
	struct sockaddr_storage unix_sa = {.ss_family = AF_UNIX};
	assert_int_equal(ts_http_client_addr_kind((struct sockaddr *)&unix_sa), TS_HTTP_ADDR_OTHER);
	assert_int_equal(ts_http_client_addr_kind(NULL), TS_HTTP_ADDR_OTHER);
}

static void test_ssrf(void **state)
{
	struct server *s = *state;
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_http_client_stats before, after;
	ts_http_client_stats(&before);
	/*
	 * A name that is not literally loopback but resolves there (DNS rebinding's
	 * end point): libcurl resolves *.localhost to 127.0.0.1 and ::1 itself
	 * (RFC 6761 §6.3), offline. The test server listens on that port: without
	 * the guard the connection would be made (and fail TLS).
	 */
	static const char *const names[] = {"rebind.localhost", "metadata.localhost"};
	for (size_t i = 0; i < N_ITEMS(names); i++) {
		const char *u = ts_arena_printf(a, "https://%s:%d/ka", names[i], s->port);
		for (int priv = 0; priv <= 1; priv++) {
			struct ts_http_client_opts o = {.allow_private = priv};
			struct ts_error e = {0};
			struct ts_http_client_request q = {.method = priv ? "POST" : "GET",
			                                   .url = u};
			assert_int_equal(ts_http_client_do(a, &q, &o, &r, &e), TS_ERR_BAD_REQUEST);
			assert_string_equal(e.message, "the address is not public");
		}
	}
	assert_int_equal(accepted(s), 0);
	ts_http_client_stats(&after);
	assert_true(after.refused - before.refused >= 4);
	assert_int_equal(after.connects, before.connects);
	/* loopback named as such stays allowed (tests, sidecars) */
	struct ts_error e = {0};
	assert_int_equal(ts_http_client_get(a, url(a, s, "/ka"), NULL, &r, &e), TS_ERR_OK);
	assert_int_equal(accepted(s), 1);
	ts_arena_free(&a);
}

/* ---- TLS: openssl s_server with a self-signed certificate ---- */

static int run(char *const argv[])
{
	pid_t pid;
	int status = -1;
	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	waitpid(pid, &status, 0);
	return status;
}

static void test_tls_verification(void **state)
{
	(void)state;
	char dir[] = "/tmp/ts-http-client-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char key[128], cert[128];
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	char *gen[] = {"openssl",  "req",
	               "-x509",    "-newkey",
	               "rsa:2048", "-nodes",
	               "-subj",    "/CN=localhost",
	               "-addext",  "subjectAltName=DNS:localhost,IP:127.0.0.1",
	               "-days",    "1",
	               "-keyout",  key,
	               "-out",     cert,
	               NULL};
	assert_int_equal(run(gen), 0);
	int port = 0;
	int probe = listen_loopback(&port);
	assert_true(probe >= 0);
	close(probe);
	char accept_arg[64];
	snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%d", port);
	char *srv_argv[] = {"openssl", "s_server", "-quiet", "-www", "-accept", accept_arg,
	                    "-cert",   cert,       "-key",   key,    NULL};
	pid_t pid;
	assert_int_equal(posix_spawnp(&pid, "openssl", NULL, NULL, srv_argv, environ), 0);
	/* wait until it listens */
	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)port),
		                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
		if (ok == 0)
			break;
		struct timespec ts = {0, 50 * 1000000};
		nanosleep(&ts, NULL);
	}
	ts_arena_t *a = ts_arena_new();
	struct ts_http_client_response r;
	struct ts_error e = {0};
	const char *u = ts_arena_printf(a, "https://localhost:%d/", port);
	/* not signed by a CA the system trusts: refused */
	assert_int_equal(ts_http_client_get(a, u, NULL, &r, &e), TS_ERR_UNAVAILABLE);
	assert_non_null(strcasestr(e.message, "certificate"));
	/* the same server with its certificate trusted: answered */
	struct ts_http_client_opts trusted = {.ca_file = cert};
	e = (struct ts_error){0};
	ts_err rc = ts_http_client_get(a, u, &trusted, &r, &e);
	if (rc != TS_ERR_OK)
		fail_msg("trusted: %s", e.message);
	assert_int_equal(r.status, 200);
	ts_arena_free(&a);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(key);
	unlink(cert);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_url_check),
	        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cap_and_timeout, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_redirects, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_post, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_request_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_post_limits, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
	        cmocka_unit_test(test_addr_kind),
	        cmocka_unit_test_setup_teardown(test_ssrf, setup, teardown),
	        cmocka_unit_test(test_tls_verification),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
