/*
 * DNS TXT lookups on c-ares (see dns.h). c-ares sends the query, retries,
 * switches servers, falls back to TCP on truncation (RFC 1035 §4.2.2, RFC 7766)
 * and parses the wire format; this file drives one private channel per call
 * with poll() under an overall deadline, and turns c-ares' TXT chunks into
 * one string per record with hard caps on count and size.
 */
#include "net/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include "core/timeutil.h"
#include "core/utf8.h"

#define NS_PER_MS TS_NS_PER_MS
#define US_PER_MS (TS_US_PER_S / TS_MS_PER_S)
#define MAX_PORT 65535
#define DNS_MSG_MAX 65535 /* RFC 1035 §4.2.2: TCP length prefix is 16 bits */

/* ---- library initialisation -------------------------------------------------------------- */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status = ARES_ENOTINITIALIZED;

static void lib_init(void)
{
	/* once per process and never cleaned up: ares_library_init is not thread-safe, and a
	 * cleanup racing a lookup on another thread would be worse than the few bytes kept */
	lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* ---- server text ------------------------------------------------------------------------- */

/* Parses a decimal port 1-65535 from the whole of s. */
static bool parse_port(const char *s, int *port)
{
	long v = 0;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > MAX_PORT)
			return false;
	}
	if (v == 0)
		return false;
	*port = (int)v;
	return true;
}

/* Address family of an address literal, 0 when it is not one. */
static int literal_family(const char *host, void *addr)
{
	struct in6_addr scratch;
	void *dst = addr != NULL ? addr : &scratch;
	if (inet_pton(AF_INET, host, dst) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, dst) == 1)
		return AF_INET6;
	return 0;
}

ts_err ts_net_dns_server_parse(const char *text, struct ts_dns_server *out, struct ts_error *e)
{
	char host[sizeof out->host];
	const char *port_text = NULL;
	size_t host_len = 0;
	int port = TS_NET_DNS_PORT;
	bool bracketed = false;

	if (text == NULL || text[0] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "empty DNS server");
	if (text[0] == '[') {
		/* RFC 3986 §3.2.2 style: [IPv6]:port */
		const char *close = strchr(text, ']');
		if (close == NULL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS server: missing ']'");
		host_len = (size_t)(close - text - 1);
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0')
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS server: junk after ']'");
		text++;
		bracketed = true;
	} else {
		const char *colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			host_len = (size_t)(colon - text);
			port_text = colon + 1;
		} else {
			/* no colon (IPv4 or name), or several (a bare IPv6 address, port 53) */
			host_len = strlen(text);
		}
	}
	if (host_len == 0 || host_len >= sizeof host)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS server: bad address length");
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (port_text != NULL && !parse_port(port_text, &port))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS server: bad port");
	int family = literal_family(host, NULL);
	if (family == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS server: not an IP address");
	if (family == AF_INET6 && !bracketed && port_text != NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS server: IPv6 with a port needs [...]");
	memcpy(out->host, host, host_len + 1);
	out->port = port;
	return TS_ERR_OK;
}

/* ---- answers ----------------------------------------------------------------------------- */

static void free_txt(void *p)
{
	ares_free_data(p);
}

ts_err ts_net_dns_txt_parse(const unsigned char *msg, size_t len, ts_arena_t *arena,
                            char ***records, size_t *n_records, struct ts_error *e)
{
	struct ares_txt_ext *head = NULL;
	size_t n = 0, total = 0, kept = 0;
	char **list = NULL;

	*records = NULL;
	*n_records = 0;
	if (msg == NULL || len == 0 || len > DNS_MSG_MAX)
		return TS_FAIL(e, TS_ERR_UNAVAILABLE, "DNS answer of %zu bytes", len);
	int st = ares_parse_txt_reply_ext(msg, (int)len, &head);
	if (st == ARES_ENODATA)
		return TS_FAIL(e, TS_ERR_NOT_FOUND, "no TXT record in the answer");
	if (st != ARES_SUCCESS)
		return TS_FAIL(e, st == ARES_ENOMEM ? TS_ERR_INTERNAL : TS_ERR_UNAVAILABLE,
		               "bad DNS answer: %s", ares_strerror(st));
	if (head == NULL)
		return TS_FAIL(e, TS_ERR_NOT_FOUND, "no TXT record in the answer");
	ts_arena_defer(arena, free_txt, head);

	/* RFC 1035 §3.3.14: a TXT record is one or more character-strings; c-ares hands them
	 * over as chunks, record_start marking the first chunk of each record */
	for (const struct ares_txt_ext *t = head; t != NULL; t = t->next) {
		if (t->record_start || t == head)
			n++;
		total += t->length;
	}
	if (n > TS_NET_DNS_MAX_RECORDS)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "%zu TXT records (cap %d)", n,
		               TS_NET_DNS_MAX_RECORDS);
	if (total > TS_NET_DNS_MAX_TOTAL)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "%zu bytes of TXT data (cap %d)", total,
		               TS_NET_DNS_MAX_TOTAL);
	if (n == 0)
		return TS_FAIL(e, TS_ERR_NOT_FOUND, "no TXT record in the answer");

	list = ts_arena_alloc(arena, n * sizeof *list);
	for (const struct ares_txt_ext *t = head; t != NULL;) {
		const struct ares_txt_ext *end = t->next;
		size_t rlen = t->length;
		bool has_nul = t->length > 0 && memchr(t->txt, '\0', t->length) != NULL;
		for (; end != NULL && !end->record_start; end = end->next) {
			rlen += end->length;
			has_nul =
			        has_nul || (end->length > 0 && memchr(end->txt, '\0', end->length));
		}
		if (!has_nul) {
			char *s = ts_arena_alloc(arena, rlen + 1);
			size_t off = 0;
			for (const struct ares_txt_ext *c = t; c != end; c = c->next) {
				if (c->length > 0)
					memcpy(s + off, c->txt, c->length);
				off += c->length;
			}
			s[off] = '\0';
			list[kept++] = s;
		}
		t = end;
	}
	if (kept == 0)
		return TS_FAIL(e, TS_ERR_NOT_FOUND, "only TXT records with NUL bytes");
	*records = list;
	*n_records = kept;
	return TS_ERR_OK;
}

/* ---- the lookup -------------------------------------------------------------------------- */

struct lookup {
	bool done;
	ts_err rc;
	const char *name;
	ts_arena_t *arena;
	char ***records;
	size_t *n_records;
	struct ts_error *e;
};

static ts_err from_ares(int st, const struct lookup *q)
{
	switch (st) {
	case ARES_ENODATA:
		return TS_FAIL(q->e, TS_ERR_NOT_FOUND, "%s: no TXT record (NODATA)", q->name);
	case ARES_ENOTFOUND:
		return TS_FAIL(q->e, TS_ERR_NOT_FOUND, "%s: no such name (NXDOMAIN)", q->name);
	case ARES_EBADNAME:
		return TS_FAIL(q->e, TS_ERR_BAD_REQUEST, "%s: bad name", q->name);
	case ARES_ENOMEM:
		return TS_FAIL(q->e, TS_ERR_INTERNAL, "%s: c-ares out of memory", q->name);
	default:
		/* ETIMEOUT, ESERVFAIL, EREFUSED, ECONNREFUSED, EBADRESP, EFORMERR, ENOTIMP...:
		 * no server gave a usable answer; the verifier tries again later */
		return TS_FAIL(q->e, TS_ERR_UNAVAILABLE, "%s: %s", q->name, ares_strerror(st));
	}
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct lookup *q = arg;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		return; /* our own deadline: the caller reports it */
	q->done = true;
	if (status != ARES_SUCCESS) {
		q->rc = from_ares(status, q);
		return;
	}
	q->rc = ts_net_dns_txt_parse(abuf, alen > 0 ? (size_t)alen : 0, q->arena, q->records,
	                             q->n_records, q->e);
}

/* Per-try timeout such that every try of every server fits in the overall timeout: c-ares
 * doubles the timeout after each round over the servers (ares__send_query), so the rounds
 * last t, 2t, 4t... per server. */
static int try_timeout_ms(int timeout_ms, int tries, size_t n_servers)
{
	int64_t rounds = (INT64_C(1) << tries) - 1;
	int64_t t = timeout_ms / (rounds * (int64_t)n_servers);
	return t < TS_NET_DNS_MIN_TRY_MS ? TS_NET_DNS_MIN_TRY_MS : (int)t;
}

static ts_err check_args(const struct ts_dns_server *servers, size_t n_servers, const char *name,
                         int timeout_ms, int tries, struct ts_error *e)
{
	if (servers == NULL || n_servers == 0 || n_servers > TS_NET_DNS_MAX_SERVERS)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%zu DNS servers (1 to %d)", n_servers,
		               TS_NET_DNS_MAX_SERVERS);
	if (timeout_ms <= 0 || timeout_ms > TS_NET_DNS_MAX_TIMEOUT_MS)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS timeout %d ms", timeout_ms);
	if (tries <= 0 || tries > TS_NET_DNS_MAX_TRIES)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS tries %d", tries);
	size_t len = name != NULL ? strnlen(name, TS_NET_DNS_NAME_MAX + 2) : 0;
	/* one final dot allowed beyond the RFC 1035 §2.3.4 limit of the dotless form */
	if (len == 0 || len > TS_NET_DNS_NAME_MAX + (name[len - 1] == '.'))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS name of bad length");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c == TS_ASCII_DEL)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS name with a control or space");
	}
	return TS_ERR_OK;
}

/* Hands the servers to the channel, in order. */
static ts_err set_servers(ares_channel ch, const struct ts_dns_server *servers, size_t n,
                          struct ts_error *e)
{
	struct ares_addr_port_node nodes[TS_NET_DNS_MAX_SERVERS];
	memset(nodes, 0, sizeof nodes);
	for (size_t i = 0; i < n; i++) {
		struct in6_addr a;
		int family = literal_family(servers[i].host, &a);
		if (family == 0 || servers[i].port <= 0 || servers[i].port > MAX_PORT)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "DNS server %zu is not IP:port", i);
		nodes[i].family = family;
		if (family == AF_INET)
			memcpy(&nodes[i].addr.addr4, &a, sizeof nodes[i].addr.addr4);
		else
			memcpy(&nodes[i].addr.addr6, &a, sizeof nodes[i].addr.addr6);
		nodes[i].udp_port = servers[i].port;
		nodes[i].tcp_port = servers[i].port;
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
	}
	int st = ares_set_servers_ports(ch, nodes); /* copies the list */
	if (st != ARES_SUCCESS)
		return TS_FAIL(e, TS_ERR_INTERNAL, "ares_set_servers_ports: %s", ares_strerror(st));
	return TS_ERR_OK;
}

/* Runs the channel until the query is answered or the deadline passes. */
static ts_err drive(ares_channel ch, struct lookup *q, int64_t deadline_ns, struct ts_error *e)
{
	while (!q->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		nfds_t n = 0;
		/* ares_getsock's bitmask read as unsigned: ARES_GETSOCK_WRITABLE shifts the int 1
		 * into the sign bit for the 16th socket, undefined behaviour (UBSan reports it) */
		unsigned mask = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (mask & (1u << i))
				ev |= POLLIN;
			if (mask & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev != 0)
				pfd[n++] = (struct pollfd){.fd = socks[i], .events = ev};
		}

		int64_t left_ns = deadline_ns - ts_mono_ns();
		if (left_ns <= 0)
			return TS_ERR_UNAVAILABLE;
		struct timeval max_tv = {.tv_sec = left_ns / TS_NS_PER_S,
		                         .tv_usec = (left_ns % TS_NS_PER_S) / TS_NS_PER_US};
		struct timeval tv;
		struct timeval *wait = ares_timeout(ch, &max_tv, &tv);
		/* rounded up: a wait of 0.5 ms must not become a busy poll */
		int64_t wait_ms = (int64_t)wait->tv_sec * TS_MS_PER_S +
		                  (wait->tv_usec + US_PER_MS - 1) / US_PER_MS;
		/* poll() and not select(): a server process may have descriptors >= FD_SETSIZE */
		int r = poll(pfd, n, (int)(wait_ms > INT_MAX ? INT_MAX : wait_ms));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return TS_FAIL(e, TS_ERR_IO, "poll: errno %d", errno);
		}
		if (r == 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
			continue;
		}
		for (nfds_t i = 0; i < n && !q->done; i++) {
			short re = pfd[i].revents;
			if (re == 0)
				continue;
			ares_process_fd(ch,
			                (re & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd
			                                                    : ARES_SOCKET_BAD,
			                (re & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
		}
	}
	return TS_ERR_OK;
}

ts_err ts_net_dns_txt(const struct ts_dns_server *servers, size_t n_servers, const char *name,
                      int timeout_ms, int tries, ts_arena_t *arena, char ***records,
                      size_t *n_records, struct ts_error *e)
{
	ares_channel ch = NULL;
	struct lookup q = {.done = false,
	                   .rc = TS_ERR_INTERNAL,
	                   .name = name,
	                   .arena = arena,
	                   .records = records,
	                   .n_records = n_records,
	                   .e = e};
	ts_err rc = TS_ERR_OK;
	int64_t start_ns = ts_mono_ns();

	*records = NULL;
	*n_records = 0;
	rc = check_args(servers, n_servers, name, timeout_ms, tries, e);
	if (rc != TS_ERR_OK)
		goto out;
	pthread_once(&lib_once, lib_init);
	if (lib_status != ARES_SUCCESS) {
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "ares_library_init: %s",
		             ares_strerror(lib_status));
		goto out;
	}

	struct ares_options opts;
	memset(&opts, 0, sizeof opts);
	/* ares_query (not ares_search) and NOSEARCH: the name is asked as given, never with
	 * resolv.conf's search domains appended */
	opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	opts.timeout = try_timeout_ms(timeout_ms, tries, n_servers);
	opts.tries = tries;
	int st = ares_init_options(&ch, &opts,
	                           ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	                                   ARES_OPT_NOROTATE);
	if (st != ARES_SUCCESS) {
		ch = NULL;
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "ares_init_options: %s", ares_strerror(st));
		goto out;
	}
	rc = set_servers(ch, servers, n_servers, e);
	if (rc != TS_ERR_OK)
		goto out;

	ares_query(ch, name, ns_c_in, ns_t_txt, on_answer, &q);
	rc = drive(ch, &q, start_ns + (int64_t)timeout_ms * NS_PER_MS, e);
	if (rc == TS_ERR_OK) {
		rc = q.rc;
	} else if (rc == TS_ERR_UNAVAILABLE) {
		rc = TS_FAIL(e, TS_ERR_UNAVAILABLE, "%s: no DNS answer within %d ms", name,
		             timeout_ms);
	}

out:
	if (ch != NULL)
		ares_destroy(ch); /* cancels a pending query: on_answer sees ARES_EDESTRUCTION */
	if (rc != TS_ERR_OK) {
		*records = NULL;
		*n_records = 0;
	}
	return rc;
}

bool ts_net_dns_nameserver_line(const char *line, char *addr, size_t n)
{
	static const char keyword[] = "nameserver";
	const char *p = line + strspn(line, " \t");
	if (strncmp(p, keyword, sizeof keyword - 1) != 0)
		return false;
	p += sizeof keyword - 1;
	size_t blank = strspn(p, " \t");
	if (blank == 0)
		return false;
	p += blank;
	size_t len = strcspn(p, " \t\r\n");
	if (len == 0 || len >= n)
		return false;
	memcpy(addr, p, len);
	addr[len] = '\0';
	return true;
}
