/*
 * Unit tests of src/saml/authn.c: the redirect URL taken apart as an IdP
 * would (SAML Bindings §3.4.4.1): parameters in order, SAMLRequest
 * URL-decoded, base64-decoded, INFLATEd with zlib and parsed with the
 * hardened parser; the query signature verified with the SP certificate by
 * OpenSSL, and refused once any signed octet changes; RelayState at and
 * past its cap; an SSO URL that already has a query; request IDs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <string.h>
#include <zlib.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "saml/authn.h"
#include "saml/metadata.h"
#include "saml/xml.h"

#define SIGALG "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define INFLATE_MAX (64 * 1024)
#define NOW_MS INT64_C(1796558400123) /* 2026-12-07T12:00:00.123Z */
#define PARAMS_MAX 8

static const char *sp_key;
static const char *sp_cert;
static ts_arena_t *keys_arena;

struct param {
	const char *name;
	const char *raw;   /* as in the URL */
	const char *value; /* percent-decoded */
};

static int hexval(char c)
{
	int v = ts_hex_digit(c);
	assert_true(v >= 0);
	return v;
}

static const char *pct_decode(ts_arena_t *a, const char *s, size_t n)
{
	char *out = ts_arena_alloc(a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		/* Tessera encodes every reserved byte: a bare one would be a bug */
		assert_true(s[i] != '/' && s[i] != '=' && s[i] != ' ');
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			assert_true(i + 2 < n);
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return out;
}

static size_t split(ts_arena_t *a, const char *query, struct param *p)
{
	size_t n = 0;
	for (const char *s = query; *s;) {
		size_t k = strcspn(s, "&");
		const char *eq = memchr(s, '=', k);
		assert_non_null(eq);
		assert_true(n < PARAMS_MAX);
		p[n].name = ts_arena_strndup(a, s, (size_t)(eq - s));
		p[n].raw = ts_arena_strndup(a, eq + 1, k - (size_t)(eq - s) - 1);
		p[n].value = pct_decode(a, eq + 1, k - (size_t)(eq - s) - 1);
		n++;
		s += k + (s[k] == '&');
	}
	return n;
}

/* SAMLRequest's value back to the XML: base64, then raw INFLATE (RFC 1951). */
static char *inflate_request(ts_arena_t *a, const char *b64)
{
	size_t n = strlen(b64);
	unsigned char *z = ts_arena_alloc(a, n);
	size_t zlen = 0;
	assert_int_equal(
	        sodium_base642bin(z, n, b64, n, NULL, &zlen, NULL, sodium_base64_VARIANT_ORIGINAL),
	        0);
	char *xml = ts_arena_alloc(a, INFLATE_MAX + 1);
	z_stream s;
	memset(&s, 0, sizeof s);
	assert_int_equal(inflateInit2(&s, -15), Z_OK);
	s.next_in = z;
	s.avail_in = (uInt)zlen;
	s.next_out = (Bytef *)xml;
	s.avail_out = INFLATE_MAX;
	assert_int_equal(inflate(&s, Z_FINISH), Z_STREAM_END);
	xml[s.total_out] = 0;
	inflateEnd(&s);
	return xml;
}

/* Whether sig (base64) is the SP certificate's RSA-SHA256 signature of data. */
static bool verify_with(ts_arena_t *a, const char *cert, const char *data, size_t n,
                        const char *sig_b64)
{
	size_t sl = strlen(sig_b64);
	unsigned char *sig = ts_arena_alloc(a, sl);
	size_t slen = 0;
	if (sodium_base642bin(sig, sl, sig_b64, sl, NULL, &slen, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	BIO *b = BIO_new_mem_buf(cert, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_non_null(x);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)) == 1 &&
	          EVP_DigestVerify(ctx, sig, slen, (const unsigned char *)data, n) == 1;
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	BIO_free(b);
	return ok;
}

static bool verify(ts_arena_t *a, const char *data, size_t n, const char *sig_b64)
{
	return verify_with(a, sp_cert, data, n, sig_b64);
}

static void check_request(ts_arena_t *a, const char *xml, const struct ts_saml_authn_request *r)
{
	xmlDocPtr doc = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_xml_parse(a, xml, strlen(xml), INFLATE_MAX, &doc, &e), TS_ERR_OK);
	xmlNodePtr req = xmlDocGetRootElement(doc);
	assert_true(ts_saml_xml_is(req, TS_SAML_NS_PROTOCOL, "AuthnRequest"));
	assert_string_equal(ts_saml_xml_attr(a, req, "ID"), r->request_id);
	assert_string_equal(ts_saml_xml_attr(a, req, "Version"), "2.0");
	char t[TS_ISO8601_LEN + 1];
	ts_time_iso(r->now_ms, t);
	assert_string_equal(ts_saml_xml_attr(a, req, "IssueInstant"), t);
	assert_string_equal(ts_saml_xml_attr(a, req, "Destination"), r->sso_url);
	assert_string_equal(ts_saml_xml_attr(a, req, "AssertionConsumerServiceURL"), r->acs_url);
	assert_string_equal(ts_saml_xml_attr(a, req, "ProtocolBinding"), TS_SAML_BINDING_POST);
	assert_int_equal(ts_saml_xml_count(req, TS_SAML_NS_ASSERTION, "Issuer"), 1);
	assert_string_equal(
	        ts_saml_xml_text(a, ts_saml_xml_child(req, TS_SAML_NS_ASSERTION, "Issuer")),
	        r->sp_entity_id);
	xmlNodePtr pol = ts_saml_xml_child(req, TS_SAML_NS_PROTOCOL, "NameIDPolicy");
	assert_non_null(pol);
	assert_string_equal(ts_saml_xml_attr(a, pol, "Format"),
	                    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified");
	assert_string_equal(ts_saml_xml_attr(a, pol, "AllowCreate"), "true");
	/* SAML Core §3.2.1: Issuer comes first among the children */
	assert_ptr_equal(xmlFirstElementChild(req),
	                 ts_saml_xml_child(req, TS_SAML_NS_ASSERTION, "Issuer"));
	/* the query carries no signature inside the XML (Bindings §3.4.4.1) */
	assert_null(ts_saml_xml_child(req, TS_SAML_NS_DSIG, "Signature"));
}

static void test_signed_redirect(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_authn_request r = {
	        .request_id = ts_saml_request_id(a),
	        .sp_entity_id = "https://sp.example.test/saml/123456789012/metadata?a=1&b=<\">",
	        .acs_url = "https://sp.example.test/saml/123456789012/acs",
	        .sso_url = "https://idp.example.test/sso",
	        .relay_state = "/portal/apps?x=1&y=\xC3\xA4 +%2F#frag",
	        .sp_key_pem = sp_key,
	        .now_ms = NOW_MS,
	};
	const char *url = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_OK);
	const char *prefix = "https://idp.example.test/sso?";
	assert_true(strncmp(url, prefix, strlen(prefix)) == 0);
	const char *query = url + strlen(prefix);
	struct param p[PARAMS_MAX];
	/* Bindings §3.4.4.1: SAMLRequest, RelayState, SigAlg, then Signature */
	assert_int_equal(split(a, query, p), 4);
	assert_string_equal(p[0].name, "SAMLRequest");
	assert_string_equal(p[1].name, "RelayState");
	assert_string_equal(p[2].name, "SigAlg");
	assert_string_equal(p[3].name, "Signature");
	assert_string_equal(p[1].value, r.relay_state);
	assert_string_equal(p[2].value, SIGALG);
	check_request(a, inflate_request(a, p[0].value), &r);
	/* the signed octets: everything before "&Signature=", as sent */
	const char *sig_at = strstr(query, "&Signature=");
	size_t signed_len = (size_t)(sig_at - query);
	assert_true(verify(a, query, signed_len, p[3].value));
	/* any signed octet changed: refused */
	char *tampered = ts_arena_strndup(a, query, signed_len);
	for (size_t i = 0; i < signed_len; i += signed_len / 7 + 1) {
		tampered[i] ^= 1;
		assert_false(verify(a, tampered, signed_len, p[3].value));
		tampered[i] ^= 1;
	}
	assert_true(verify(a, tampered, signed_len, p[3].value));
	ts_arena_free(&a);
}

static void test_no_relay_state_unsigned(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_authn_request r = {
	        .request_id = ts_saml_request_id(a),
	        .sp_entity_id = "https://sp.example.test/saml/1/metadata",
	        .acs_url = "https://sp.example.test/saml/1/acs",
	        .sso_url = "http://127.0.0.1:9000/sso",
	        .now_ms = NOW_MS,
	};
	const char *url = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_OK);
	struct param p[PARAMS_MAX];
	assert_int_equal(split(a, url + strlen("http://127.0.0.1:9000/sso?"), p), 1);
	assert_string_equal(p[0].name, "SAMLRequest");
	check_request(a, inflate_request(a, p[0].value), &r);
	/* signed without RelayState: SAMLRequest then SigAlg */
	r.sp_key_pem = sp_key;
	assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_OK);
	const char *query = url + strlen("http://127.0.0.1:9000/sso?");
	assert_int_equal(split(a, query, p), 3);
	assert_string_equal(p[1].name, "SigAlg");
	assert_string_equal(p[2].name, "Signature");
	assert_true(verify(a, query, (size_t)(strstr(query, "&Signature=") - query), p[2].value));
	ts_arena_free(&a);
}

static void test_sso_url_with_query(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	static const struct {
		const char *sso;
		const char *prefix;
	} cases[] = {
	        {"https://idp.example.test/sso?app=tessera&x=1",
	         "https://idp.example.test/sso?app=tessera&x=1&"},
	        {"https://idp.example.test/sso?", "https://idp.example.test/sso?"},
	        {"https://idp.example.test/sso?app=1&", "https://idp.example.test/sso?app=1&"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ts_saml_authn_request r = {
		        .request_id = ts_saml_request_id(a),
		        .sp_entity_id = "https://sp.example.test/saml/1/metadata",
		        .acs_url = "https://sp.example.test/saml/1/acs",
		        .sso_url = cases[i].sso,
		        .relay_state = "",
		        .sp_key_pem = sp_key,
		        .now_ms = NOW_MS,
		};
		const char *url = NULL;
		struct ts_error e = {0};
		assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_OK);
		size_t pl = strlen(cases[i].prefix);
		assert_true(strncmp(url, cases[i].prefix, pl) == 0);
		const char *query = url + pl;
		struct param p[PARAMS_MAX];
		assert_int_equal(split(a, query, p), 4);
		assert_string_equal(p[0].name, "SAMLRequest");
		assert_string_equal(p[1].value, "");
		/* the IdP's own parameters are not among the signed octets */
		assert_true(verify(a, query, (size_t)(strstr(query, "&Signature=") - query),
		                   p[3].value));
		check_request(a, inflate_request(a, p[0].value), &r);
	}
	ts_arena_free(&a);
}

static void test_refusals(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	char *rs = ts_arena_alloc(a, TS_SAML_RELAY_STATE_MAX + 2);
	memset(rs, '/', TS_SAML_RELAY_STATE_MAX);
	struct ts_saml_authn_request r = {
	        .request_id = ts_saml_request_id(a),
	        .sp_entity_id = "https://sp.example.test/saml/1/metadata",
	        .acs_url = "https://sp.example.test/saml/1/acs",
	        .sso_url = "https://idp.example.test/sso",
	        .relay_state = rs,
	        .sp_key_pem = sp_key,
	        .now_ms = NOW_MS,
	};
	const char *url = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_OK); /* at the cap */
	assert_non_null(url);
	rs[TS_SAML_RELAY_STATE_MAX] = '/';
	assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_BAD_REQUEST);
	assert_null(url);
	assert_non_null(strstr(e.message, "RelayState"));
	r.relay_state = NULL;
	r.sp_key_pem = "-----BEGIN PRIVATE KEY-----\nSGVsbG8=\n-----END PRIVATE KEY-----\n";
	assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_INTERNAL);
	assert_null(url);
	r.sp_key_pem = sp_key;
	r.sso_url = "https://idp.example.test/sso#x";
	assert_int_equal(ts_saml_authn_redirect(a, &r, &url, &e), TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

static void test_request_id(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	const char *ids[64];
	for (size_t i = 0; i < 64; i++) {
		ids[i] = ts_saml_request_id(a);
		assert_int_equal(strlen(ids[i]), TS_SAML_REQUEST_ID_LEN);
		assert_int_equal(ids[i][0], '_'); /* an NCName */
		for (size_t k = 1; k < TS_SAML_REQUEST_ID_LEN; k++)
			assert_true(ts_hex_digit(ids[i][k]) >= 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	ts_arena_free(&a);
}

/*
 * Parsed keys are cached by their PEM: keys used in turn (accounts, a
 * rotation) each sign with themselves, past the cache's size too.
 */
#define TURN_KEYS 18 /* more than the cache holds (16) */
#define TURNS (2 * TURN_KEYS)
static void test_keys_in_turn(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	const char *keys[TURN_KEYS];
	const char *certs[TURN_KEYS];
	for (size_t i = 0; i < TURN_KEYS; i++)
		assert_int_equal(
		        ts_saml_keypair_new(a, "turn.example.test", 1, &keys[i], &certs[i], NULL),
		        TS_ERR_OK);
	for (size_t t = 0; t < TURNS; t++) {
		size_t k = t % TURN_KEYS;
		/* the second round signs with copies: the cache goes by content, not address */
		struct ts_saml_authn_request r = {
		        .request_id = ts_saml_request_id(a),
		        .sp_entity_id = "https://sp.example.test/saml/1/metadata",
		        .acs_url = "https://sp.example.test/saml/1/acs",
		        .sso_url = "https://idp.example.test/sso",
		        .sp_key_pem = t < TURN_KEYS ? keys[k] : ts_arena_strdup(a, keys[k]),
		        .now_ms = NOW_MS,
		};
		const char *url = NULL;
		assert_int_equal(ts_saml_authn_redirect(a, &r, &url, NULL), TS_ERR_OK);
		const char *query = strchr(url, '?') + 1;
		struct param p[PARAMS_MAX];
		assert_int_equal(split(a, query, p), 3);
		size_t signed_len = (size_t)(strstr(query, "&Signature=") - query);
		assert_true(verify_with(a, certs[k], query, signed_len, p[2].value));
		assert_false(
		        verify_with(a, certs[(k + 1) % TURN_KEYS], query, signed_len, p[2].value));
	}
	ts_arena_free(&a);
}

static int setup(void **state)
{
	(void)state;
	if (ts_crypto_init() != TS_ERR_OK)
		return -1;
	keys_arena = ts_arena_new();
	return ts_saml_keypair_new(keys_arena, "sp.example.test", 30, &sp_key, &sp_cert, NULL) ==
	                       TS_ERR_OK
	               ? 0
	               : -1;
}

static int teardown(void **state)
{
	(void)state;
	ts_arena_free(&keys_arena);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_signed_redirect),
	        cmocka_unit_test(test_no_relay_state_unsigned),
	        cmocka_unit_test(test_sso_url_with_query),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_request_id),
	        cmocka_unit_test(test_keys_in_turn),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
