/*
 * oidc_stub: the OpenID provider of bench/oidc_bench.sh, as small and fast as
 * a provider can be, so that the figure measured is Tessera's callback and
 * not the provider. It serves, over keep-alive HTTP/1.1 (a thread per
 * connection):
 *   GET  /.well-known/openid-configuration   (OpenID Connect Discovery 1.0 §3)
 *   GET  /jwks                                (its one RSA-2048 key, RFC 7517)
 *   POST /token                               (code "c<index>" -> that flow's tokens)
 * The ID tokens (RS256, OpenID Connect Core §2) are signed before the stub
 * says it is ready, one per line of NONCES ("<email> <nonce>"), since the
 * nonce of each flow is Tessera's choice; a code is answered at most once.
 * The token endpoint does not check the client's credentials: it is a stub.
 *
 *   oidc_stub PORT CLIENT_ID KEY NONCES
 *
 * KEY is the RSA private key (PEM) that signs: a second stub started on the
 * same port with the same key serves the same JWKS (the bench starts one
 * for the configuration's discovery, and one with the flows' nonces).
 * NONCES may be empty.
 * Prints "READY <issuer>" on stdout when it listens with every token signed.
 *
 *   oidc_stub --verify KEY SECONDS
 *
 * measures instead what one core does of the ID token work of a callback
 * (src/oidc/jose.h, idtoken.h: parse, RS256 verification with the JWKS key,
 * the claim checks) on one token of the shape served, for SECONDS, and prints
 * "RESULT verifies_per_s=...", to set beside `openssl speed rsa2048`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "oidc/idtoken.h"
#include "oidc/jose.h"

#define STUB_BUF 16384
#define STUB_SIGNERS 2
#define STUB_TOKEN_TTL_S 600

static char issuer[64];
static const char *client_id;
static char *discovery, *jwks;
static size_t discovery_len, jwks_len;
static char **tokens; /* one signed ID token per flow */
static atomic_bool *used;
static long ntokens;
static EVP_PKEY *key;

static char *b64url(const unsigned char *p, size_t n)
{
	static const char tab[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = ts_malloc(n * 4 / 3 + 4), *o = out;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		if (i + 1 < n)
			*o++ = tab[(v >> 6) & 63];
	}
	*o = '\0';
	return out;
}

static char *b64url_bn(const BIGNUM *bn)
{
	int n = BN_num_bytes(bn);
	unsigned char *buf = ts_malloc((size_t)n);
	BN_bn2bin(bn, buf);
	char *s = b64url(buf, (size_t)n);
	ts_free(buf);
	return s;
}

/* header.payload.signature with RS256 (RFC 7518 §3.3). */
static char *sign_token(const char *email, const char *nonce, long now)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"stub-1\"}";
	char payload[1024];
	int pn = snprintf(payload, sizeof payload,
	                  "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%ld,\"iat\":%ld,"
	                  "\"nonce\":\"%s\",\"email\":\"%s\",\"email_verified\":true}",
	                  issuer, email, client_id, now + STUB_TOKEN_TTL_S, now, nonce, email);
	char *h = b64url((const unsigned char *)header, strlen(header));
	char *p = b64url((const unsigned char *)payload, (size_t)pn);
	size_t in_len = strlen(h) + 1 + strlen(p);
	char *in = ts_malloc(in_len + 1);
	snprintf(in, in_len + 1, "%s.%s", h, p);
	unsigned char sig[512];
	size_t sig_len = sizeof sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)in, in_len) != 1) {
		fprintf(stderr, "oidc_stub: signing failed\n");
		exit(1);
	}
	EVP_MD_CTX_free(md);
	char *s = b64url(sig, sig_len);
	size_t out_len = in_len + 1 + strlen(s);
	char *out = ts_malloc(out_len + 1);
	snprintf(out, out_len + 1, "%s.%s", in, s);
	ts_free(h);
	ts_free(p);
	ts_free(in);
	ts_free(s);
	return out;
}

struct flow {
	char *email, *nonce;
};
static struct flow *flows;

static void *signer(void *arg)
{
	long part = (long)(intptr_t)arg, now = (long)time(NULL);
	for (long i = part; i < ntokens; i += STUB_SIGNERS)
		tokens[i] = sign_token(flows[i].email, flows[i].nonce, now);
	return NULL;
}

static void load_flows(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	long cap = 1024;
	flows = ts_malloc(sizeof *flows * (size_t)cap);
	char email[256], nonce[256];
	while (fscanf(f, "%255s %255s", email, nonce) == 2) {
		if (ntokens == cap) {
			cap *= 2;
			flows = ts_realloc(flows, sizeof *flows * (size_t)cap);
		}
		flows[ntokens].email = ts_strdup(email);
		flows[ntokens].nonce = ts_strdup(nonce);
		ntokens++;
	}
	fclose(f);
	tokens = ts_calloc((size_t)ntokens + 1, sizeof *tokens);
	used = ts_calloc((size_t)ntokens + 1, sizeof *used);
}

static void make_documents(int port, const char *key_path)
{
	snprintf(issuer, sizeof issuer, "http://127.0.0.1:%d", port);
	FILE *kf = fopen(key_path, "r");
	key = kf != NULL ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
	if (kf != NULL)
		fclose(kf);
	BIGNUM *n = NULL, *e = NULL;
	if (key == NULL || EVP_PKEY_get_bn_param(key, "n", &n) != 1 ||
	    EVP_PKEY_get_bn_param(key, "e", &e) != 1) {
		fprintf(stderr, "oidc_stub: no RSA key\n");
		exit(1);
	}
	char *ns = b64url_bn(n), *es = b64url_bn(e);
	size_t cap = strlen(ns) + 256;
	jwks = ts_malloc(cap);
	jwks_len = (size_t)snprintf(jwks, cap,
	                            "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\","
	                            "\"kid\":\"stub-1\",\"n\":\"%s\",\"e\":\"%s\"}]}",
	                            ns, es);
	discovery = ts_malloc(2048);
	discovery_len = (size_t)snprintf(
	        discovery, 2048,
	        "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/authorize\","
	        "\"token_endpoint\":\"%s/token\",\"jwks_uri\":\"%s/jwks\","
	        "\"response_types_supported\":[\"code\"],\"subject_types_supported\":[\"public\"],"
	        "\"id_token_signing_alg_values_supported\":[\"RS256\"],"
	        "\"token_endpoint_auth_methods_supported\":[\"client_secret_basic\"],"
	        "\"code_challenge_methods_supported\":[\"S256\"]}",
	        issuer, issuer, issuer, issuer);
	BN_free(n);
	BN_free(e);
	ts_free(ns);
	ts_free(es);
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

static int answer(int fd, int status, const char *body, size_t len)
{
	char head[256];
	int hn = snprintf(head, sizeof head,
	                  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	                  "Cache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
	                  status, status == 200 ? "OK" : "Bad Request", len);
	return send_all(fd, head, (size_t)hn) == 0 && send_all(fd, body, len) == 0 ? 0 : -1;
}

/* The token endpoint (RFC 6749 §5.1) for the code in body ("...code=c<index>..."). */
static int token(int fd, const char *body)
{
	const char *c = strstr(body, "code=c");
	long i = c != NULL ? strtol(c + 6, NULL, 10) : -1;
	bool was = true;
	if (i >= 0 && i < ntokens)
		was = atomic_exchange(&used[i], true);
	if (was) {
		static const char err[] = "{\"error\":\"invalid_grant\"}";
		return answer(fd, 400, err, sizeof err - 1);
	}
	size_t cap = strlen(tokens[i]) + 128;
	char *out = ts_malloc(cap);
	int n = snprintf(
	        out, cap,
	        "{\"access_token\":\"at-%ld\",\"token_type\":\"Bearer\",\"expires_in\":600,"
	        "\"id_token\":\"%s\"}",
	        i, tokens[i]);
	int rc = answer(fd, 200, out, (size_t)n);
	ts_free(out);
	return rc;
}

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = ts_malloc(STUB_BUF);
	size_t have = 0;
	for (;;) {
		char *end = NULL;
		while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
			ssize_t r = have + 1 < STUB_BUF
			                    ? recv(fd, buf + have, STUB_BUF - 1 - have, 0)
			                    : -1;
			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		*end = '\0';
		size_t head_len = (size_t)(end - buf) + 4;
		const char *cl = strcasestr(buf, "\r\ncontent-length:");
		size_t body_len = cl != NULL ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
		if (head_len + body_len >= STUB_BUF)
			goto out;
		while (have < head_len + body_len) {
			ssize_t r = recv(fd, buf + have, STUB_BUF - 1 - have, 0);
			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		char saved = buf[head_len + body_len];
		buf[head_len + body_len] = '\0';
		int rc;
		if (strncmp(buf, "POST /token ", 12) == 0)
			rc = token(fd, buf + head_len);
		else if (strncmp(buf, "GET /.well-known/openid-configuration ", 38) == 0)
			rc = answer(fd, 200, discovery, discovery_len);
		else if (strncmp(buf, "GET /jwks ", 10) == 0)
			rc = answer(fd, 200, jwks, jwks_len);
		else
			rc = answer(fd, 400, "{}", 2);
		buf[head_len + body_len] = saved;
		if (rc != 0)
			goto out;
		memmove(buf, buf + head_len + body_len, have - head_len - body_len);
		have -= head_len + body_len;
	}
out:
	ts_free(buf);
	close(fd);
	return NULL;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int verify_bench(const char *key_path, double seconds)
{
	client_id = "bench";
	make_documents(1, key_path);
	long now = (long)time(NULL);
	char *tok = sign_token("user0000000@bench.example", "n-0123456789abcdef", now);
	struct ts_oidc_jwks *k = NULL;
	struct ts_error e = {0};
	if (ts_oidc_jwks_parse(jwks, jwks_len, &k, &e) != TS_ERR_OK) {
		fprintf(stderr, "oidc_stub: %s\n", e.message);
		return 1;
	}
	static const enum ts_oidc_alg allowed[] = {TS_OIDC_RS256};
	struct ts_oidc_idtoken_expect x = {.issuer = issuer,
	                                   .client_id = client_id,
	                                   .nonce = "n-0123456789abcdef",
	                                   .now_ms = (int64_t)now * 1000};
	long n = 0;
	double t0 = now_s(), t = t0;
	while (t - t0 < seconds) {
		for (int i = 0; i < 100; i++, n++) {
			ts_arena_t *a = ts_arena_new();
			struct ts_oidc_jws j;
			struct ts_oidc_claims c;
			enum ts_oidc_check failed;
			if (ts_oidc_jws_parse(a, tok, strlen(tok), &j, &e) != TS_ERR_OK ||
			    ts_oidc_jws_verify(&j, k, allowed, 1, NULL, 0, NULL, &e) != TS_ERR_OK ||
			    ts_oidc_idtoken_check(a, &j, &x, &c, &failed, &e) != TS_ERR_OK) {
				fprintf(stderr, "oidc_stub: %s\n", e.message);
				return 1;
			}
			ts_arena_free(&a);
		}
		t = now_s();
	}
	printf("RESULT verifies_per_s=%.0f n=%ld seconds=%.2f\n", (double)n / (t - t0), n, t - t0);
	ts_oidc_jwks_free(k);
	ts_free(tok);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--verify") == 0)
		return verify_bench(argv[2], strtod(argv[3], NULL));
	if (argc != 5) {
		fprintf(stderr, "usage: oidc_stub PORT CLIENT_ID KEY NONCES\n");
		return 2;
	}
	int port = atoi(argv[1]);
	client_id = argv[2];
	make_documents(port, argv[3]);
	load_flows(argv[4]);
	pthread_t t[STUB_SIGNERS];
	for (long i = 0; i < STUB_SIGNERS; i++)
		pthread_create(&t[i], NULL, signer, (void *)(intptr_t)i);
	for (int i = 0; i < STUB_SIGNERS; i++)
		pthread_join(t[i], NULL);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 512) != 0) {
		perror("oidc_stub: listen");
		return 1;
	}
	printf("READY %s %ld\n", issuer, ntokens);
	fflush(stdout);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_t th;
		if (pthread_create(&th, NULL, serve_conn, (void *)(intptr_t)fd) == 0)
			pthread_detach(th);
		else
			close(fd);
	}
}
