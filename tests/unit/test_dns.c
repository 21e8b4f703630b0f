/*
 * Unit tests of the DNS TXT lookup (src/net/dns.c) against a real dnsmasq on
 * a free loopback port, plus silent and misbehaving servers made here: a
 * bound UDP socket that never answers, a closed port, and a thread that
 * answers SERVFAIL. The parse wrapper is also fed hand-built DNS messages.
 * Tests that need dnsmasq skip only when /usr/sbin/dnsmasq is absent
 * (scripts/deps.sh installs dnsmasq-base), and never inside make check
 * (TESSERA_TEST_REQUIRE_PEERS=1), where they fail instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/timeutil.h"
#include "net/dns.h"

#define DNSMASQ "/usr/sbin/dnsmasq"
#define TOKEN_NAME "_tessera-challenge.example.test"
#define TOKEN "tessera-verification=abc123"
#define LONG_PART 200 /* three character-strings of 200: 600 bytes, over UDP's 512 */
#define SLACK_MS 300  /* scheduling slack on a shared 2-core machine */
#define START_TRIES 5
#define READY_POLLS 50

struct env {
	pid_t dnsmasq; /* 0: not running */
	struct ts_dns_server server;
	int silent_fd; /* bound UDP socket that never answers */
	struct ts_dns_server silent;
	struct ts_dns_server closed; /* a port nothing listens on */
	int servfail_fd;
	struct ts_dns_server servfail;
	pthread_t servfail_thread;
	bool servfail_running;
	char long_a[LONG_PART + 1], long_b[LONG_PART + 1], long_c[LONG_PART + 1];
};

static int64_t elapsed_ms(int64_t start_ns)
{
	return (ts_mono_ns() - start_ns) / 1000000;
}

/* A UDP socket bound to 127.0.0.1 on a free port (kernel's choice). */
static int bind_udp(struct ts_dns_server *out)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(out->host, sizeof out->host, "127.0.0.1");
	out->port = ntohs(a.sin_port);
	return fd;
}

/* ---- dnsmasq ----------------------------------------------------------------------------- */

static pid_t spawn_dnsmasq(struct env *env, int port)
{
	char a_port[32], a_long[3 * LONG_PART + 64];
	snprintf(a_port, sizeof a_port, "--port=%d", port);
	snprintf(a_long, sizeof a_long, "--txt-record=long.example.test,%s,%s,%s", env->long_a,
	         env->long_b, env->long_c);
	char *argv[] = {
	        DNSMASQ,
	        "--no-daemon",
	        "--no-resolv",
	        "--no-hosts",
	        "--conf-file=/dev/null",
	        a_port,
	        "--listen-address=127.0.0.1",
	        "--bind-interfaces",
	        /* answer NXDOMAIN for unknown names under example.test instead of REFUSED */
	        "--local=/example.test/",
	        "--host-record=nodata.example.test,192.0.2.1",
	        "--txt-record=" TOKEN_NAME "," TOKEN,
	        "--txt-record=multi.example.test,v=one",
	        "--txt-record=multi.example.test,v=two",
	        a_long,
	        /* as root dnsmasq drops to user "dnsmasq", which may not exist */
	        getuid() == 0 ? "--user=root" : NULL,
	        NULL,
	};
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* dies with the test process even if the test crashes before teardown */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			if (getenv("TS_TEST_VERBOSE") == NULL)
				dup2(devnull, STDERR_FILENO);
		}
		execv(DNSMASQ, argv);
		_exit(127);
	}
	return pid;
}

static void stop_dnsmasq(struct env *env)
{
	if (env->dnsmasq > 0) {
		kill(env->dnsmasq, SIGTERM);
		waitpid(env->dnsmasq, NULL, 0);
		env->dnsmasq = 0;
	}
}

/* Starts dnsmasq on a free port and waits until it answers; retries on a port race. */
static bool start_dnsmasq(struct env *env)
{
	for (int attempt = 0; attempt < START_TRIES; attempt++) {
		struct ts_dns_server s;
		int fd = bind_udp(&s);
		close(fd); /* dnsmasq binds it (and TCP on the same number) next */
		env->dnsmasq = spawn_dnsmasq(env, s.port);
		env->server = s;
		for (int i = 0; i < READY_POLLS; i++) {
			ts_arena_t *arena = ts_arena_new();
			char **rec = NULL;
			size_t n = 0;
			ts_err rc = ts_net_dns_txt(&env->server, 1, TOKEN_NAME, 200, 1, arena, &rec,
			                           &n, NULL);
			ts_arena_free(&arena);
			if (rc == TS_ERR_OK)
				return true;
			if (waitpid(env->dnsmasq, NULL, WNOHANG) == env->dnsmasq) {
				env->dnsmasq = 0; /* exited: port taken, try another */
				break;
			}
			usleep(100 * 1000);
		}
		stop_dnsmasq(env);
	}
	return false;
}

/* ---- a server answering SERVFAIL to everything -------------------------------------------- */

#define DNS_HEADER 12

static void *servfail_main(void *arg)
{
	struct env *env = arg;
	for (;;) {
		unsigned char buf[512];
		struct sockaddr_storage from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(env->servfail_fd, buf, sizeof buf, 0, (struct sockaddr *)&from,
		                     &flen);
		if (n <= 0)
			return NULL; /* socket shut down: test over */
		if (n < DNS_HEADER)
			continue;
		buf[2] = 0x80 | (buf[2] & 0x79); /* QR=1, keep opcode and RD */
		buf[3] = 0x80 | 2;               /* RA=1, RCODE=SERVFAIL (RFC 1035 §4.1.1) */
		sendto(env->servfail_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
	}
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static int setup(void **state)
{
	static struct env env;
	memset(&env, 0, sizeof env);
	env.silent_fd = -1;
	env.servfail_fd = -1;
	memset(env.long_a, 'a', LONG_PART);
	memset(env.long_b, 'b', LONG_PART);
	memset(env.long_c, 'c', LONG_PART);
	*state = &env;

	env.silent_fd = bind_udp(&env.silent);
	int fd = bind_udp(&env.closed);
	close(fd); /* nothing listens there any more: ICMP port unreachable */
	env.servfail_fd = bind_udp(&env.servfail);
	env.servfail_running = pthread_create(&env.servfail_thread, NULL, servfail_main, &env) == 0;

	if (access(DNSMASQ, X_OK) == 0 && !start_dnsmasq(&env)) {
		print_error("dnsmasq did not start (run with TS_TEST_VERBOSE=1 for its log)\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;
	stop_dnsmasq(env);
	if (env->servfail_running) {
		shutdown(env->servfail_fd, SHUT_RDWR);
		pthread_cancel(env->servfail_thread);
		pthread_join(env->servfail_thread, NULL);
	}
	if (env->servfail_fd >= 0)
		close(env->servfail_fd);
	if (env->silent_fd >= 0)
		close(env->silent_fd);
	return 0;
}

static void need_dnsmasq(const struct env *env)
{
	if (env->dnsmasq == 0) {
		/* make check sets TESSERA_TEST_REQUIRE_PEERS: there a missing peer is a failure */
		const char *required = getenv("TESSERA_TEST_REQUIRE_PEERS");
		if (required != NULL && strcmp(required, "1") == 0)
			fail_msg(DNSMASQ " is not installed, and make check requires it");
		print_message("skipped: " DNSMASQ " is not installed\n");
		skip();
	}
}

/* One lookup in a fresh arena; records copied out stay valid until *arena is freed. */
struct got {
	ts_arena_t *arena;
	ts_err rc;
	char **rec;
	size_t n;
	int64_t ms;
	struct ts_error e;
};

static void lookup(struct got *g, const struct ts_dns_server *servers, size_t n, const char *name,
                   int timeout_ms, int tries)
{
	memset(g, 0, sizeof *g);
	g->arena = ts_arena_new();
	int64_t start = ts_mono_ns();
	g->rc = ts_net_dns_txt(servers, n, name, timeout_ms, tries, g->arena, &g->rec, &g->n,
	                       &g->e);
	g->ms = elapsed_ms(start);
	if (g->rc != TS_ERR_OK) {
		assert_null(g->rec);
		assert_int_equal(g->n, 0);
	}
}

static void done(struct got *g)
{
	ts_arena_free(&g->arena);
}

/* ---- lookups against dnsmasq ------------------------------------------------------------- */

static void test_txt_found(void **state)
{
	struct env *env = *state;
	struct got g;
	need_dnsmasq(env);
	lookup(&g, &env->server, 1, TOKEN_NAME, 2000, 2);
	assert_int_equal(g.rc, TS_ERR_OK);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.rec[0], TOKEN);
	done(&g);
	/* a final dot names the same absolute name */
	lookup(&g, &env->server, 1, TOKEN_NAME ".", 2000, 2);
	assert_int_equal(g.rc, TS_ERR_OK);
	assert_string_equal(g.rec[0], TOKEN);
	done(&g);
}

static void test_two_records(void **state)
{
	struct env *env = *state;
	struct got g;
	need_dnsmasq(env);
	lookup(&g, &env->server, 1, "multi.example.test", 2000, 2);
	assert_int_equal(g.rc, TS_ERR_OK);
	assert_int_equal(g.n, 2);
	/* two records stay two strings, in any order */
	bool one = false, two = false;
	for (size_t i = 0; i < g.n; i++) {
		one = one || strcmp(g.rec[i], "v=one") == 0;
		two = two || strcmp(g.rec[i], "v=two") == 0;
	}
	assert_true(one && two);
	done(&g);
}

/* Three 200-byte strings in one record: concatenated (RFC 7208 §3.3), and the 600-byte
 * answer is truncated over UDP, so this also goes through c-ares' TCP fallback. */
static void test_long_txt_over_tcp(void **state)
{
	struct env *env = *state;
	struct got g;
	char want[3 * LONG_PART + 1];
	need_dnsmasq(env);
	snprintf(want, sizeof want, "%s%s%s", env->long_a, env->long_b, env->long_c);
	lookup(&g, &env->server, 1, "long.example.test", 2000, 2);
	assert_int_equal(g.rc, TS_ERR_OK);
	assert_int_equal(g.n, 1);
	assert_int_equal(strlen(g.rec[0]), 3 * LONG_PART);
	assert_string_equal(g.rec[0], want);
	done(&g);
}

static void test_not_found(void **state)
{
	struct env *env = *state;
	struct got g;
	need_dnsmasq(env);
	/* NXDOMAIN */
	lookup(&g, &env->server, 1, "nobody.example.test", 2000, 2);
	assert_int_equal(g.rc, TS_ERR_NOT_FOUND);
	assert_non_null(strstr(g.e.message, "NXDOMAIN"));
	done(&g);
	/* the name exists (an A record) but has no TXT: NODATA */
	lookup(&g, &env->server, 1, "nodata.example.test", 2000, 2);
	assert_int_equal(g.rc, TS_ERR_NOT_FOUND);
	assert_non_null(strstr(g.e.message, "NODATA"));
	done(&g);
	/* case does not matter to DNS (RFC 4343) */
	lookup(&g, &env->server, 1, "_TESSERA-challenge.Example.TEST", 2000, 2);
	assert_int_equal(g.rc, TS_ERR_OK);
	done(&g);
}

static void test_refused(void **state)
{
	struct env *env = *state;
	struct got g;
	need_dnsmasq(env);
	/* outside dnsmasq's local zone and without upstreams: REFUSED, a server problem */
	lookup(&g, &env->server, 1, "example.org", 2000, 1);
	assert_int_equal(g.rc, TS_ERR_UNAVAILABLE);
	done(&g);
}

/* The first server never answers: the lookup moves on to the second within the timeout. */
static void test_failover(void **state)
{
	struct env *env = *state;
	struct got g;
	need_dnsmasq(env);
	struct ts_dns_server both[] = {env->silent, env->server};
	lookup(&g, both, 2, TOKEN_NAME, 3000, 2);
	assert_int_equal(g.rc, TS_ERR_OK);
	assert_string_equal(g.rec[0], TOKEN);
	assert_true(g.ms < 3000);
	done(&g);
}

#define N_THREADS 4
#define PER_THREAD 10

static void *lookups_main(void *arg)
{
	const struct env *env = arg;
	intptr_t ok = 0;
	for (int i = 0; i < PER_THREAD; i++) {
		ts_arena_t *arena = ts_arena_new();
		char **rec = NULL;
		size_t n = 0;
		const char *name = (i % 2) ? TOKEN_NAME : "long.example.test";
		ts_err rc = ts_net_dns_txt(&env->server, 1, name, 3000, 2, arena, &rec, &n, NULL);
		if (rc == TS_ERR_OK && n == 1 &&
		    ((i % 2) ? strcmp(rec[0], TOKEN) == 0 : strlen(rec[0]) == 3 * LONG_PART))
			ok++;
		ts_arena_free(&arena);
	}
	return (void *)ok;
}

/* Lookups on several threads at once, each with its own channel. */
static void test_threads(void **state)
{
	struct env *env = *state;
	pthread_t t[N_THREADS];
	need_dnsmasq(env);
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, lookups_main, env), 0);
	for (int i = 0; i < N_THREADS; i++) {
		void *ok = NULL;
		assert_int_equal(pthread_join(t[i], &ok), 0);
		assert_int_equal((intptr_t)ok, PER_THREAD);
	}
}

/* ---- servers that do not help ------------------------------------------------------------ */

/* A server that never answers: UNAVAILABLE, after about the timeout and not much later. */
static void test_silent_server(void **state)
{
	struct env *env = *state;
	struct got g;
	const struct {
		int timeout_ms, tries;
	} cases[] = {{600, 2}, {400, 10}, {300, 1}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lookup(&g, &env->silent, 1, TOKEN_NAME, cases[i].timeout_ms, cases[i].tries);
		assert_int_equal(g.rc, TS_ERR_UNAVAILABLE);
		print_message("silent server, timeout %d ms, %d tries: %lld ms (%s)\n",
		              cases[i].timeout_ms, cases[i].tries, (long long)g.ms, g.e.message);
		assert_true(g.ms >= cases[i].timeout_ms / 2);
		assert_true(g.ms <= cases[i].timeout_ms + SLACK_MS);
		done(&g);
	}
}

static void test_closed_port(void **state)
{
	struct env *env = *state;
	struct got g;
	lookup(&g, &env->closed, 1, TOKEN_NAME, 1000, 2);
	assert_int_equal(g.rc, TS_ERR_UNAVAILABLE);
	assert_true(g.ms <= 1000 + SLACK_MS);
	done(&g);
}

static void test_servfail(void **state)
{
	struct env *env = *state;
	struct got g;
	assert_true(env->servfail_running);
	lookup(&g, &env->servfail, 1, TOKEN_NAME, 1000, 2);
	assert_int_equal(g.rc, TS_ERR_UNAVAILABLE);
	assert_true(g.ms <= 1000 + SLACK_MS);
	done(&g);
}

static void test_bad_arguments(void **state)
{
	struct env *env = *state;
	struct got g;
	char huge[300];
	memset(huge, 'a', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	struct ts_dns_server name_server = {"dns.example.com", 53};
	struct ts_dns_server bad_port = {"127.0.0.1", 0};
	struct ts_dns_server many[TS_NET_DNS_MAX_SERVERS + 1];
	for (size_t i = 0; i < TS_NET_DNS_MAX_SERVERS + 1; i++)
		many[i] = env->silent;

	lookup(&g, &env->silent, 1, NULL, 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &env->silent, 1, "", 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &env->silent, 1, huge, 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &env->silent, 1, "a b.example.test", 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &env->silent, 1, TOKEN_NAME, 0, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &env->silent, 1, TOKEN_NAME, 1000, 0);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &env->silent, 0, TOKEN_NAME, 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, many, TS_NET_DNS_MAX_SERVERS + 1, TOKEN_NAME, 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &name_server, 1, TOKEN_NAME, 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	done(&g);
	lookup(&g, &bad_port, 1, TOKEN_NAME, 1000, 1);
	assert_int_equal(g.rc, TS_ERR_BAD_REQUEST);
	assert_true(g.ms < 100); /* refused before any network */
	done(&g);
}

/* ---- server text ------------------------------------------------------------------------- */

static void test_nameserver_line(void **state)
{
	(void)state;
	char addr[16];
	assert_true(ts_net_dns_nameserver_line("nameserver 192.0.2.1\n", addr, sizeof addr));
	assert_string_equal(addr, "192.0.2.1");
	assert_true(ts_net_dns_nameserver_line(" \tnameserver\t::1 # x", addr, sizeof addr));
	assert_string_equal(addr, "::1");
	assert_false(ts_net_dns_nameserver_line("nameserver192.0.2.1", addr, sizeof addr));
	assert_false(ts_net_dns_nameserver_line("nameserver \n", addr, sizeof addr));
	assert_false(ts_net_dns_nameserver_line("# nameserver 192.0.2.1", addr, sizeof addr));
	assert_false(ts_net_dns_nameserver_line("search example.com", addr, sizeof addr));
	/* 16 bytes leave room for 15 characters and the NUL */
	assert_true(ts_net_dns_nameserver_line("nameserver 255.255.255.255", addr, sizeof addr));
	assert_false(
	        ts_net_dns_nameserver_line("nameserver 2001:db8::ffff:1234", addr, sizeof addr));
}

static void test_server_parse(void **state)
{
	const struct {
		const char *text;
		const char *host; /* NULL: must be refused */
		int port;
	} cases[] = {
	        {"127.0.0.1", "127.0.0.1", 53},
	        {"127.0.0.1:5353", "127.0.0.1", 5353},
	        {"192.0.2.1:65535", "192.0.2.1", 65535},
	        {"[::1]:5353", "::1", 5353},
	        {"[2001:db8::53]", "2001:db8::53", 53},
	        {"::1", "::1", 53},
	        {"2001:db8::1", "2001:db8::1", 53},
	        {"[127.0.0.1]:53", "127.0.0.1", 53},
	        {"", NULL, 0},
	        {":53", NULL, 0},
	        {"127.0.0.1:", NULL, 0},
	        {"127.0.0.1:0", NULL, 0},
	        {"127.0.0.1:65536", NULL, 0},
	        {"127.0.0.1:99999999999999999999", NULL, 0},
	        {"127.0.0.1:53x", NULL, 0},
	        {"127.0.0.1:-53", NULL, 0},
	        {"127.0.0.1: 53", NULL, 0},
	        {"999.0.0.1", NULL, 0},
	        {"dns.example.com", NULL, 0},
	        {"dns.example.com:53", NULL, 0},
	        {"[::1", NULL, 0},
	        {"[::1]x", NULL, 0},
	        {"[::1]:", NULL, 0},
	        {"[::1]:70000", NULL, 0},
	        {"[]:53", NULL, 0},
	        {"[dns.example.com]:53", NULL, 0},
	        {"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff", NULL,
	         0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ts_dns_server s = {"unchanged", -1};
		struct ts_error e = {0};
		ts_err rc = ts_net_dns_server_parse(cases[i].text, &s, &e);
		if (cases[i].host == NULL) {
			if (rc != TS_ERR_BAD_REQUEST)
				fail_msg("\"%s\" accepted", cases[i].text);
			assert_string_equal(s.host, "unchanged");
			assert_true(e.message[0] != '\0');
		} else {
			if (rc != TS_ERR_OK)
				fail_msg("\"%s\" refused: %s", cases[i].text, e.message);
			assert_string_equal(s.host, cases[i].host);
			assert_int_equal(s.port, cases[i].port);
		}
	}
	struct ts_dns_server s;
	assert_int_equal(ts_net_dns_server_parse(NULL, &s, NULL), TS_ERR_BAD_REQUEST);
}

/* ---- the parse wrapper on hand-built messages -------------------------------------------- */

struct msg {
	unsigned char b[4096];
	size_t len;
	size_t ancount_at;
};

static void put8(struct msg *m, unsigned v)
{
	assert_true(m->len < sizeof m->b);
	m->b[m->len++] = (unsigned char)v;
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xFF);
}

/* A NOERROR answer header and the question "t.example. IN TXT". */
static void msg_start(struct msg *m, unsigned ancount)
{
	static const unsigned char qname[] = "\1t\7example";
	m->len = 0;
	put16(m, 0x1234); /* ID */
	put16(m, 0x8180); /* QR RD RA, NOERROR */
	put16(m, 1);      /* QDCOUNT */
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	for (size_t i = 0; i < sizeof qname; i++) /* includes the root label's 0 */
		put8(m, qname[i]);
	put16(m, 16); /* TXT */
	put16(m, 1);  /* IN */
}

/* A TXT record at the question's name holding the given character-strings. */
static void msg_txt(struct msg *m, size_t n, const char *const *strs, const size_t *lens)
{
	size_t rdlen = 0;
	for (size_t i = 0; i < n; i++)
		rdlen += 1 + lens[i];
	put16(m, 0xC00C); /* pointer to the question name */
	put16(m, 16);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300); /* TTL */
	put16(m, (unsigned)rdlen);
	for (size_t i = 0; i < n; i++) {
		put8(m, (unsigned)lens[i]);
		for (size_t k = 0; k < lens[i]; k++)
			put8(m, (unsigned char)strs[i][k]);
	}
}

static ts_err parse(const struct msg *m, size_t len, ts_arena_t *arena, char ***rec, size_t *n)
{
	return ts_net_dns_txt_parse(m->b, len, arena, rec, n, NULL);
}

static void test_parse_messages(void **state)
{
	ts_arena_t *arena = ts_arena_new();
	struct msg m;
	char **rec = NULL;
	size_t n = 0;

	/* one record of three strings, one of an empty string, one with a NUL, one plain */
	const char *r1[] = {"tessera-", "verification=", "xyz"};
	const size_t l1[] = {8, 13, 3};
	const char *r2[] = {""};
	const size_t l2[] = {0};
	const char *r3[] = {"bad\0token"};
	const size_t l3[] = {9};
	const char *r4[] = {"v=spf1 -all"};
	const size_t l4[] = {11};
	msg_start(&m, 4);
	msg_txt(&m, 3, r1, l1);
	msg_txt(&m, 1, r2, l2);
	msg_txt(&m, 1, r3, l3);
	msg_txt(&m, 1, r4, l4);
	assert_int_equal(parse(&m, m.len, arena, &rec, &n), TS_ERR_OK);
	assert_int_equal(n, 3);
	assert_string_equal(rec[0], "tessera-verification=xyz");
	assert_string_equal(rec[1], "");
	assert_string_equal(rec[2], "v=spf1 -all");

	/* every cut of that message is refused or parsed, never read past */
	for (size_t cut = 0; cut < m.len; cut++) {
		ts_err rc = parse(&m, cut, arena, &rec, &n);
		assert_true(rc == TS_ERR_UNAVAILABLE || rc == TS_ERR_NOT_FOUND || rc == TS_ERR_OK);
	}
	assert_int_equal(parse(&m, 12, arena, &rec, &n), TS_ERR_UNAVAILABLE);
	assert_null(rec);

	/* no answer: NODATA */
	msg_start(&m, 0);
	assert_int_equal(parse(&m, m.len, arena, &rec, &n), TS_ERR_NOT_FOUND);
	assert_null(rec);
	assert_int_equal(n, 0);

	/* only a NUL-carrying record: nothing usable */
	msg_start(&m, 1);
	msg_txt(&m, 1, r3, l3);
	assert_int_equal(parse(&m, m.len, arena, &rec, &n), TS_ERR_NOT_FOUND);

	/* the record cap */
	msg_start(&m, TS_NET_DNS_MAX_RECORDS);
	for (int i = 0; i < TS_NET_DNS_MAX_RECORDS; i++)
		msg_txt(&m, 1, r4, l4);
	assert_int_equal(parse(&m, m.len, arena, &rec, &n), TS_ERR_OK);
	assert_int_equal(n, TS_NET_DNS_MAX_RECORDS);
	msg_start(&m, TS_NET_DNS_MAX_RECORDS + 1);
	for (int i = 0; i < TS_NET_DNS_MAX_RECORDS + 1; i++)
		msg_txt(&m, 1, r4, l4);
	assert_int_equal(parse(&m, m.len, arena, &rec, &n), TS_ERR_TOO_LARGE);
	assert_null(rec);

	assert_int_equal(ts_net_dns_txt_parse(NULL, 0, arena, &rec, &n, NULL), TS_ERR_UNAVAILABLE);
	ts_arena_free(&arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_server_parse),      cmocka_unit_test(test_nameserver_line),
	        cmocka_unit_test(test_parse_messages),    cmocka_unit_test(test_bad_arguments),
	        cmocka_unit_test(test_txt_found),         cmocka_unit_test(test_two_records),
	        cmocka_unit_test(test_long_txt_over_tcp), cmocka_unit_test(test_not_found),
	        cmocka_unit_test(test_refused),           cmocka_unit_test(test_failover),
	        cmocka_unit_test(test_threads),           cmocka_unit_test(test_silent_server),
	        cmocka_unit_test(test_closed_port),       cmocka_unit_test(test_servfail),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
