/*
 * Unit tests of src/http/proxy.c: --trusted-proxy ranges (IPv4, IPv6,
 * bare addresses, refusals) and the choice of the client address from the
 * TCP peer and X-Forwarded-For (an incident: a header from an untrusted peer is
 * ignored; from a trusted one, the right-most address that is not itself a
 * trusted proxy is the client). Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "http/proxy.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define XFF_MAX 4

static void test_cidr_parse(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool ok;
		int family, bits;
	} cases[] = {
	        {"127.0.0.1/32", true, AF_INET, 32},
	        {"10.0.0.0/8", true, AF_INET, 8},
	        {"0.0.0.0/0", true, AF_INET, 0},
	        {"192.0.2.7", true, AF_INET, 32},
	        {"::1", true, AF_INET6, 128},
	        {"2001:db8::/32", true, AF_INET6, 32},
	        {"fd00::/8", true, AF_INET6, 8},
	        {"10.0.0.1/8", false, 0, 0},  /* host bits set */
	        {"10.0.0.0/33", false, 0, 0}, /* too long for IPv4 */
	        {"::/129", false, 0, 0},      /* too long for IPv6 */
	        {"10.0.0.0/", false, 0, 0},   /* no length */
	        {"10.0.0.0/8x", false, 0, 0}, /* text after it */
	        {"10.0.0.0/-1", false, 0, 0}, /* negative */
	        {"localhost", false, 0, 0},   /* names are not resolved */
	        {"", false, 0, 0},            /* empty */
	        {"/8", false, 0, 0},          /* no address */
	        {"300.0.0.0/8", false, 0, 0}, /* not an address */
	        {"10.0.0.0/ 8", false, 0, 0}, /* a space */
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct ts_http_cidr c;
		struct ts_error e = {0};
		ts_err rc = ts_http_cidr_parse(cases[i].text, &c, &e);
		if ((rc == TS_ERR_OK) != cases[i].ok)
			fail_msg("case %zu (%s): rc %d", i, cases[i].text, rc);
		if (cases[i].ok) {
			assert_int_equal(c.family, cases[i].family);
			assert_int_equal(c.bits, cases[i].bits);
		} else {
			assert_int_equal(rc, TS_ERR_BAD_REQUEST);
			assert_non_null(strstr(e.message, cases[i].text));
		}
	}
}

static void test_trusted_add(void **state)
{
	(void)state;
	struct ts_http_trusted t = {0};
	struct ts_error e = {0};
	assert_int_equal(ts_http_trusted_add(&t, "127.0.0.1/32, ::1,10.0.0.0/8", &e), TS_ERR_OK);
	assert_int_equal(t.n, 3);
	assert_int_equal(ts_http_trusted_add(&t, "", &e), TS_ERR_OK);
	assert_int_equal(t.n, 3);
	assert_int_equal(ts_http_trusted_add(&t, "10.0.0.0/8,bogus", &e), TS_ERR_BAD_REQUEST);
	/* the cap */
	struct ts_http_trusted full = {0};
	for (int i = 0; i < TS_HTTP_TRUSTED_PROXIES_MAX; i++)
		assert_int_equal(ts_http_trusted_add(&full, "192.0.2.0/24", &e), TS_ERR_OK);
	assert_int_equal(ts_http_trusted_add(&full, "192.0.2.0/24", &e), TS_ERR_BAD_REQUEST);
}

static void sockaddr_of(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	in6->sin6_family = AF_INET6;
}

static void test_trusted_has(void **state)
{
	(void)state;
	struct ts_http_trusted t = {0};
	struct ts_error e = {0};
	assert_int_equal(ts_http_trusted_add(&t, "10.1.0.0/16,2001:db8:1::/48,127.0.0.1", &e),
	                 TS_ERR_OK);
	static const struct {
		const char *addr;
		bool in;
	} cases[] = {
	        {"10.1.0.0", true},         {"10.1.255.255", true},   {"10.2.0.0", false},
	        {"10.0.255.255", false},    {"127.0.0.1", true},      {"127.0.0.2", false},
	        {"2001:db8:1::5", true},    {"2001:db8:2::5", false}, {"::1", false},
	        {"::ffff:10.1.2.3", true}, /* an IPv4 peer on a dual-stack socket */
	        {"::ffff:10.2.2.3", false},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct sockaddr_storage ss;
		sockaddr_of(cases[i].addr, &ss);
		if (ts_http_trusted_has(&t, (struct sockaddr *)&ss) != cases[i].in)
			fail_msg("case %zu: %s", i, cases[i].addr);
	}
	struct sockaddr_storage ss;
	sockaddr_of("10.1.0.1", &ss);
	assert_false(ts_http_trusted_has(NULL, (struct sockaddr *)&ss));
	/* /0 trusts everyone of its family only */
	struct ts_http_trusted all4 = {0};
	assert_int_equal(ts_http_trusted_add(&all4, "0.0.0.0/0", &e), TS_ERR_OK);
	assert_true(ts_http_trusted_has(&all4, (struct sockaddr *)&ss));
	sockaddr_of("2001:db8::1", &ss);
	assert_false(ts_http_trusted_has(&all4, (struct sockaddr *)&ss));
}

static void test_client_addr(void **state)
{
	(void)state;
	struct ts_http_trusted t = {0};
	struct ts_error e = {0};
	assert_int_equal(ts_http_trusted_add(&t, "127.0.0.1/32,10.0.0.0/8,fd00::/8", &e),
	                 TS_ERR_OK);
	static const struct {
		const char *peer;
		const char *xff[XFF_MAX];
		const char *want;
	} cases[] = {
	        /* no header */
	        {"127.0.0.1", {NULL}, "127.0.0.1"},
	        /* an untrusted peer's header is ignored, whatever it says */
	        {"192.0.2.9", {"203.0.113.5"}, "192.0.2.9"},
	        {"192.0.2.9", {"127.0.0.1"}, "192.0.2.9"},
	        {"2001:db8::9", {"203.0.113.5"}, "2001:db8::9"},
	        /* a trusted proxy: the address it appended */
	        {"127.0.0.1", {"203.0.113.5"}, "203.0.113.5"},
	        {"fd00::1", {"2001:db8::77"}, "2001:db8::77"},
	        /* the client's own spoofed entries left of it are not believed */
	        {"127.0.0.1", {"1.2.3.4, 203.0.113.5"}, "203.0.113.5"},
	        {"127.0.0.1", {"1.2.3.4", "203.0.113.5"}, "203.0.113.5"},
	        /* a chain of trusted proxies is walked through */
	        {"127.0.0.1", {"1.2.3.4, 203.0.113.5, 10.0.0.7"}, "203.0.113.5"},
	        {"127.0.0.1", {"1.2.3.4, 203.0.113.5", "10.0.0.7, 10.9.9.9"}, "203.0.113.5"},
	        /* everybody trusted: the left-most */
	        {"127.0.0.1", {"10.0.0.8, 10.0.0.7"}, "10.0.0.8"},
	        /* garbage where an address should be: the last vouched-for address */
	        {"127.0.0.1", {"203.0.113.5, not-an-ip"}, "127.0.0.1"},
	        {"127.0.0.1", {"not-an-ip, 10.0.0.7"}, "10.0.0.7"},
	        {"127.0.0.1", {"unknown"}, "127.0.0.1"},
	        /* forms with ports and brackets; canonical output */
	        {"127.0.0.1", {"203.0.113.5:4711"}, "203.0.113.5"},
	        {"127.0.0.1", {"[2001:DB8::1]:4711"}, "2001:db8::1"},
	        {"127.0.0.1", {"[2001:db8::1]"}, "2001:db8::1"},
	        {"127.0.0.1", {"2001:db8:0:0::1"}, "2001:db8::1"},
	        /* blanks and empty elements are skipped */
	        {"127.0.0.1", {" 203.0.113.5 ,, "}, "203.0.113.5"},
	        {"127.0.0.1", {""}, "127.0.0.1"},
	        /* an IPv4 peer seen as IPv4-mapped IPv6 */
	        {"::ffff:127.0.0.1", {"203.0.113.5"}, "203.0.113.5"},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		struct sockaddr_storage ss;
		sockaddr_of(cases[i].peer, &ss);
		int n = 0;
		while (n < XFF_MAX && cases[i].xff[n] != NULL)
			n++;
		char out[TS_HTTP_ADDR_TEXT_MAX];
		ts_http_client_addr(&t, (struct sockaddr *)&ss, cases[i].xff, n, out, sizeof out);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, out, cases[i].want);
	}
	/* no trusted ranges at all: always the peer */
	struct sockaddr_storage ss;
	sockaddr_of("127.0.0.1", &ss);
	const char *xff[] = {"203.0.113.5"};
	char out[TS_HTTP_ADDR_TEXT_MAX];
	ts_http_client_addr(NULL, (struct sockaddr *)&ss, xff, 1, out, sizeof out);
	assert_string_equal(out, "127.0.0.1");
	ts_http_client_addr(&t, NULL, xff, 1, out, sizeof out);
	assert_string_equal(out, "unknown");
}

/* A long chain of trusted hops is read only TS_HTTP_FORWARDED_HOPS_MAX deep. */
static void test_client_addr_hops_cap(void **state)
{
	(void)state;
	struct ts_http_trusted t = {0};
	struct ts_error e = {0};
	assert_int_equal(ts_http_trusted_add(&t, "10.0.0.0/8", &e), TS_ERR_OK);
	char chain[1024] = "203.0.113.5";
	for (int i = 0; i < TS_HTTP_FORWARDED_HOPS_MAX + 4; i++) {
		size_t n = strlen(chain);
		snprintf(chain + n, sizeof chain - n, ", 10.0.0.%d", i + 1);
	}
	struct sockaddr_storage ss;
	sockaddr_of("10.0.0.200", &ss);
	const char *xff[] = {chain};
	char out[TS_HTTP_ADDR_TEXT_MAX];
	ts_http_client_addr(&t, (struct sockaddr *)&ss, xff, 1, out, sizeof out);
	/* stopped at a trusted hop, never at the client's claim */
	assert_int_equal(strncmp(out, "10.0.0.", strlen("10.0.0.")), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cidr_parse),           cmocka_unit_test(test_trusted_add),
	        cmocka_unit_test(test_trusted_has),          cmocka_unit_test(test_client_addr),
	        cmocka_unit_test(test_client_addr_hops_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
