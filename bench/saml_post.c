/*
 * saml_post: the load generator of bench/saml_bench.sh. POSTs each form body
 * of a file (saml_forge's output, one per line) exactly once, over CONNS
 * keep-alive HTTP/1.1 connections, each served by its own thread, as fast
 * as the server answers (a closed loop). A SAML response can be consumed
 * only once (a replay is refused), so, unlike wrk, this sends a fixed
 * number of requests and takes the time they need.
 *
 *   saml_post HOST PORT PATH BODIES CONNS [FIRST [COUNT [EXPECT]]]
 *
 * Sends lines FIRST .. FIRST+COUNT-1 (0-based; COUNT 0 or absent: to the
 * end) to http://HOST:PORT/PATH as application/x-www-form-urlencoded.
 * PATH "-" GETs instead: each line is "TARGET COOKIE" (an OpenID Connect
 * callback of bench/oidc_bench.sh with its browser-binding cookie).
 * EXPECT (default 303) is the status of a consumed response: any other
 * status, or a failed connection, counts as an error.
 * Prints "RESULT rps=... p50_ms=... p99_ms=... n=... ok=... errors=...
 * seconds=..." and "STATUS code=count" lines; exits 1 when any request
 * failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"

#define POST_CONNS_MAX 512
#define POST_HEAD_MAX 8192
#define POST_STATUS_MAX 600

struct body {
	const char *p;
	size_t n;
};

static struct body *bodies;
static long nbodies, first_body;
static atomic_long next_body;
static atomic_long status_count[POST_STATUS_MAX];
static atomic_long failures; /* connection errors, unparsable answers */
static double *latency_ms;   /* one per request, indexed by body */
static const char *host, *path;
static int port, expect;
static bool get; /* PATH "-": GET "TARGET COOKIE" lines */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_server(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Case-insensitive search of a header's value in the head; NULL when absent. */
static const char *header(const char *head, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l != NULL; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':') {
			const char *v = l + 3 + n;
			while (*v == ' ')
				v++;
			return v;
		}
	}
	return NULL;
}

/*
 * Reads one answer: the head, then a Content-Length or chunked body (read and
 * dropped). Returns the status, or -1; *close_after when the server closes.
 */
static int read_answer(int fd, char *buf, size_t cap, int *close_after)
{
	size_t have = 0;
	char *end = NULL;
	while (end == NULL) {
		if (have + 1 >= cap)
			return -1;
		ssize_t r = recv(fd, buf + have, cap - 1 - have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	int status = 0;
	if (strncmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	status = (int)strtol(buf + 9, NULL, 10);
	*end = '\0';
	const char *conn = header(buf, "Connection");
	*close_after = conn != NULL && strncasecmp(conn, "close", 5) == 0;
	const char *cl = header(buf, "Content-Length");
	const char *te = header(buf, "Transfer-Encoding");
	size_t body_have = have - (size_t)(end + 4 - buf);
	if (te != NULL && strncasecmp(te, "chunked", 7) == 0) {
		/* keep reading until the last chunk "0\r\n\r\n" has arrived */
		memmove(buf, end + 4, body_have);
		buf[body_have] = '\0';
		while (strncmp(buf, "0\r\n\r\n", 5) != 0 && strstr(buf, "\r\n0\r\n\r\n") == NULL) {
			if (body_have + 1 >= cap) { /* keep the tail only */
				memmove(buf, buf + body_have - 8, 8);
				body_have = 8;
			}
			ssize_t r = recv(fd, buf + body_have, cap - 1 - body_have, 0);
			if (r <= 0)
				return -1;
			body_have += (size_t)r;
			buf[body_have] = '\0';
		}
		return status;
	}
	if (cl == NULL) {
		*close_after = 1; /* a body up to the close: drop it */
		while (recv(fd, buf, cap, 0) > 0)
			;
		return status;
	}
	long want = strtol(cl, NULL, 10);
	while ((long)body_have < want) {
		ssize_t r = recv(fd, buf, cap, 0);
		if (r <= 0)
			return -1;
		body_have += (size_t)r;
	}
	return status;
}

static void *post_run(void *arg)
{
	(void)arg;
	char *buf = ts_malloc(POST_HEAD_MAX * 8);
	char head[4096];
	int fd = -1;
	for (;;) {
		long i = atomic_fetch_add(&next_body, 1);
		if (i >= nbodies)
			break;
		const struct body *b = &bodies[i];
		const char *sp = get ? memchr(b->p, ' ', b->n) : NULL;
		int hn = get && sp != NULL
		                 ? snprintf(head, sizeof head,
		                            "GET %.*s HTTP/1.1\r\nHost: %s:%d\r\nCookie: "
		                            "%.*s\r\n\r\n",
		                            (int)(sp - b->p), b->p, host, port,
		                            (int)(b->n - (size_t)(sp - b->p) - 1), sp + 1)
		                 : snprintf(head, sizeof head,
		                            "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
		                            "Content-Type: application/x-www-form-urlencoded\r\n"
		                            "Content-Length: %zu\r\n\r\n",
		                            path, host, port, b->n);
		if (hn <= 0 || (size_t)hn >= sizeof head) {
			atomic_fetch_add(&failures, 1);
			continue;
		}
		size_t body_n = get ? 0 : b->n;
		double t0 = now_s();
		int status = -1, close_after = 0;
		for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
			/* a kept-alive connection the server closed meanwhile: one reconnect */
			if (fd < 0)
				fd = connect_server();
			if (fd >= 0 && send_all(fd, head, (size_t)hn) == 0 &&
			    send_all(fd, b->p, body_n) == 0)
				status = read_answer(fd, buf, POST_HEAD_MAX * 8, &close_after);
			if (status < 0 && fd >= 0) {
				close(fd);
				fd = -1;
			}
		}
		latency_ms[i] = (now_s() - t0) * 1000;
		if (status >= 100 && status < POST_STATUS_MAX)
			atomic_fetch_add(&status_count[status], 1);
		else
			atomic_fetch_add(&failures, 1);
		if (close_after && fd >= 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	ts_free(buf);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: saml_post HOST PORT PATH BODIES CONNS [FIRST [COUNT "
		                "[EXPECT]]]\n");
		return 2;
	}
	host = argv[1];
	port = (int)strtol(argv[2], NULL, 10);
	path = argv[3];
	get = strcmp(path, "-") == 0;
	long conns = strtol(argv[5], NULL, 10);
	first_body = argc > 6 ? strtol(argv[6], NULL, 10) : 0;
	long count = argc > 7 ? strtol(argv[7], NULL, 10) : 0;
	expect = argc > 8 ? (int)strtol(argv[8], NULL, 10) : 303;
	if (conns <= 0 || conns > POST_CONNS_MAX || first_body < 0 || count < 0 || port <= 0) {
		fprintf(stderr, "saml_post: bad arguments\n");
		return 2;
	}
	FILE *in = fopen(argv[4], "r");
	if (in == NULL) {
		perror(argv[4]);
		return 1;
	}
	char *line = NULL;
	size_t lcap = 0, bcap = 0;
	ssize_t n;
	long lineno = 0;
	while ((n = getline(&line, &lcap, in)) > 0) {
		if (lineno++ < first_body)
			continue;
		if (count > 0 && nbodies == count)
			break;
		if (line[n - 1] == '\n')
			n--;
		if ((size_t)nbodies == bcap) {
			bcap = bcap ? bcap * 2 : 1024;
			bodies = ts_realloc(bodies, bcap * sizeof *bodies);
		}
		bodies[nbodies].p = ts_strndup(line, (size_t)n);
		bodies[nbodies].n = (size_t)n;
		nbodies++;
	}
	ts_free(line); /* getline allocates with malloc, which ts_free releases */
	fclose(in);
	if (nbodies == 0 || (count > 0 && nbodies < count)) {
		fprintf(stderr, "saml_post: %s has %ld bodies from line %ld, not %ld\n", argv[4],
		        nbodies, first_body, count);
		return 1;
	}
	latency_ms = ts_calloc((size_t)nbodies, sizeof *latency_ms);
	pthread_t tid[POST_CONNS_MAX];
	double t0 = now_s();
	for (long t = 0; t < conns; t++)
		if (pthread_create(&tid[t], NULL, post_run, NULL) != 0)
			return 1;
	for (long t = 0; t < conns; t++)
		pthread_join(tid[t], NULL);
	double secs = now_s() - t0;
	qsort(latency_ms, (size_t)nbodies, sizeof *latency_ms, cmp_double);
	long ok = atomic_load(&status_count[expect]);
	long errs = nbodies - ok;
	printf("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f n=%ld ok=%ld errors=%ld seconds=%.2f\n",
	       (double)ok / secs, latency_ms[nbodies / 2], latency_ms[nbodies * 99 / 100], nbodies,
	       ok, errs, secs);
	for (int s = 0; s < POST_STATUS_MAX; s++)
		if (atomic_load(&status_count[s]) > 0)
			printf("STATUS %d=%ld\n", s, atomic_load(&status_count[s]));
	if (atomic_load(&failures) > 0)
		printf("STATUS failed=%ld\n", atomic_load(&failures));
	for (long i = 0; i < nbodies; i++)
		ts_free((void *)bodies[i].p);
	ts_free(bodies);
	ts_free(latency_ms);
	return errs == 0 ? 0 : 1;
}
