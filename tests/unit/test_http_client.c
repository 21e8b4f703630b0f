/*
 * Unit tests of src/http/client.c against real servers on loopback: a small
 * HTTP/1.1 server on a thread of this test (statuses, bodies over the cap
 * with and without Content-Length, a slow answer, redirects to the same
 * scheme, to https, to file: and to a host outside loopback), and `openssl
 * s_server` with a self-signed certificate, refused without its CA and
 * accepted with it, which shows that verification is on. The URL check is
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

/* ---- a loopback HTTP server on a thread ---- */

struct server {
	int fd;
	int port;
	pthread_t tid;
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

static void answer(int fd, int port, const char *path)
{
	char head[512];
	if (strcmp(path, "/ok") == 0) {
		const char *r = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
		                "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
		send_all(fd, r, strlen(r));
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
		struct timespec ts = {2, 0};
		nanosleep(&ts, NULL);
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
		snprintf(loc, sizeof loc, to, port);
		int n = snprintf(head, sizeof head,
		                 "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n"
		                 "Connection: close\r\n\r\n",
		                 loc);
		send_all(fd, head, (size_t)n);
	}
}

static void *serve(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			return NULL; /* listening socket shut down: test over */
		char req[4096];
		size_t len = 0;
		while (len < sizeof req - 1) {
			ssize_t r = recv(c, req + len, sizeof req - 1 - len, 0);
			if (r <= 0)
				break;
			len += (size_t)r;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[len] = '\0';
		char path[256] = "";
		const char *sp = strchr(req, ' ');
		const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
		if (sp && sp2 && (size_t)(sp2 - sp - 1) < sizeof path) {
			memcpy(path, sp + 1, (size_t)(sp2 - sp - 1));
			path[sp2 - sp - 1] = '\0';
		}
		answer(c, s->port, path);
		close(c);
	}
}

static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static int setup(void **state)
{
	struct server *s = calloc(1, sizeof *s);
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
	free(s);
	return 0;
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
	        cmocka_unit_test(test_tls_verification),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
