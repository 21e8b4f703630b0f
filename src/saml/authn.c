/*
 * The SP-initiated AuthnRequest over HTTP-Redirect (authn.h). Runs once per
 * sign-in, so it is kept to string building, one DEFLATE and one RSA
 * signature (the parsed key is cached): the XML is written directly (every value escaped for an
 * attribute or for text) rather than through a DOM, since Tessera is the
 * only author of its contents.
 */
#include "saml/authn.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <zlib.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "saml/metadata.h"
#include "saml/xml.h"

#define REQUEST_ID_RANDOM 16     /* 128 bits: SAML Core §1.3.4 asks for at least 128 */
#define DEFLATE_RAW_WINDOW (-15) /* zlib: negative window bits, no zlib header (RFC 1951) */
#define DEFLATE_MEM_LEVEL 8
#define SIGALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define NAMEID_UNSPECIFIED "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
#define XML_ESCAPE_MAX 6 /* "&quot;" */
#define PCT_ENCODED 3    /* "%XX" */

const char *ts_saml_request_id(ts_arena_t *a)
{
	unsigned char r[REQUEST_ID_RANDOM];
	ts_random_bytes(r, sizeof r);
	char *id = ts_arena_alloc(a, TS_SAML_REQUEST_ID_LEN + 1);
	/* SAML Core §1.3.4: an xs:ID is an NCName, which cannot start with a digit */
	id[0] = '_';
	ts_hex_encode(r, sizeof r, id + 1);
	return id;
}

/* s escaped for an XML attribute value in double quotes or for text (XML 1.0 §2.4, §3.3.3). */
static char *xml_escape(ts_arena_t *a, const char *s)
{
	char *out = ts_arena_alloc(a, strlen(s) * XML_ESCAPE_MAX + 1);
	char *o = out;
	for (const char *p = s; *p; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		/* attribute-value normalization would turn these into spaces */
		case '\t':
			rep = "&#9;";
			break;
		case '\n':
			rep = "&#10;";
			break;
		case '\r':
			rep = "&#13;";
			break;
		default:
			break;
		}
		if (rep) {
			size_t k = strlen(rep);
			memcpy(o, rep, k);
			o += k;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	return out;
}

/*
 * n bytes form-encoded (HTML's application/x-www-form-urlencoded): RFC 3986
 * §2.3's unreserved characters as they are, space as '+', every other byte
 * percent-encoded. Bindings §3.4.4.1 asks the verifier to use the octets
 * received, but many re-encode the decoded values (pysaml2 with Python's
 * quote_plus, Java's URLEncoder): this is the encoding they produce.
 * Lasso verifies the octets received but decodes '+' as '+', so a
 * RelayState with a raw space comes back from a Lasso IdP with '+' there:
 * deep links should carry spaces as %20 (a URL does anyway).
 */
static char *form_encode(ts_arena_t *a, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = ts_arena_alloc(a, n * PCT_ENCODED + 1);
	char *o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ') {
			*o++ = '+';
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = 0;
	return out;
}

static char *base64(ts_arena_t *a, const unsigned char *in, size_t n)
{
	size_t blen = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = ts_arena_alloc(a, blen);
	sodium_bin2base64(out, blen, in, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* SAML Bindings §3.4.4.1: the message DEFLATEd (RFC 1951, no zlib header) into *out. */
static bool deflate_raw(ts_arena_t *a, const char *in, size_t n, unsigned char **out,
                        size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, DEFLATE_RAW_WINDOW,
	                 DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	uLong cap = deflateBound(&z, (uLong)n);
	*out = ts_arena_alloc(a, cap);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END;
}

/*
 * Parsed SP keys by SHA-256 of their PEM. OpenSSL 3 decodes a PEM private
 * key through its provider decoders at more than the cost of the RSA
 * signature itself, and the same few keys (one per account, two during a
 * rotation) sign every login. The slots are reused in turn; a key in use
 * is held by its own reference, so reuse never frees it under a signer.
 */
#define KEY_CACHE_SLOTS 16
static struct {
	unsigned char id[TS_SHA256_LEN];
	EVP_PKEY *key;
} key_cache[KEY_CACHE_SLOTS];
static size_t key_cache_next;
static pthread_mutex_t key_cache_mu = PTHREAD_MUTEX_INITIALIZER;

/* The private key of key_pem, with a reference for the caller; NULL when it does not parse. */
static EVP_PKEY *sp_key(const char *key_pem)
{
	size_t klen = strlen(key_pem);
	unsigned char id[TS_SHA256_LEN];
	struct ts_sha256 h;
	ts_sha256_init(&h);
	ts_sha256_update(&h, key_pem, klen);
	ts_sha256_final(&h, id);
	EVP_PKEY *key = NULL;
	pthread_mutex_lock(&key_cache_mu);
	for (size_t i = 0; i < KEY_CACHE_SLOTS && !key; i++)
		if (key_cache[i].key && memcmp(key_cache[i].id, id, sizeof id) == 0 &&
		    EVP_PKEY_up_ref(key_cache[i].key))
			key = key_cache[i].key;
	pthread_mutex_unlock(&key_cache_mu);
	if (key)
		return key;
	BIO *kb = klen <= INT_MAX ? BIO_new_mem_buf(key_pem, (int)klen) : NULL;
	key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	BIO_free(kb);
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || !EVP_PKEY_up_ref(key)) {
		EVP_PKEY_free(key);
		return NULL;
	}
	pthread_mutex_lock(&key_cache_mu);
	size_t slot = key_cache_next++ % KEY_CACHE_SLOTS;
	EVP_PKEY *old = key_cache[slot].key;
	memcpy(key_cache[slot].id, id, sizeof id);
	key_cache[slot].key = key; /* the cache's reference; the caller has the other */
	pthread_mutex_unlock(&key_cache_mu);
	EVP_PKEY_free(old);
	return key;
}

/* RSA-SHA256 (RFC 8017 §8.2, PKCS#1 v1.5) of data with the PEM key, base64; NULL on failure. */
static char *sign_rsa_sha256(ts_arena_t *a, const char *key_pem, const char *data, size_t n)
{
	EVP_PKEY *key = sp_key(key_pem);
	EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
	char *out = NULL;
	size_t slen = 0;
	if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(ctx, NULL, &slen, (const unsigned char *)data, n) == 1) {
		unsigned char *sig = ts_arena_alloc(a, slen);
		if (EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)data, n) == 1)
			out = base64(a, sig, slen);
	}
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return out;
}

ts_err ts_saml_authn_redirect(ts_arena_t *a, const struct ts_saml_authn_request *r,
                              const char **url, struct ts_error *e)
{
	*url = NULL;
	if (r->relay_state && strlen(r->relay_state) > TS_SAML_RELAY_STATE_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "RelayState is longer than %d bytes",
		               TS_SAML_RELAY_STATE_MAX);
	if (!r->request_id || !r->sp_entity_id || !r->acs_url || !r->sso_url)
		return TS_FAIL(e, TS_ERR_INTERNAL,
		               "an AuthnRequest needs an ID, Issuer, ACS and SSO URL");
	/* the query is appended to the URL: a fragment would swallow it */
	if (strchr(r->sso_url, '#'))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the IdP's SSO URL has a fragment");
	char instant[TS_ISO8601_LEN + 1];
	ts_time_iso(r->now_ms, instant);
	/* SAML Core §3.4.1 (AuthnRequest) and §3.2.1 (RequestAbstractType) */
	const char *xml = ts_arena_concat(
	        a,
	        "<samlp:AuthnRequest xmlns:samlp=\"" TS_SAML_NS_PROTOCOL
	        "\" xmlns:saml=\"" TS_SAML_NS_ASSERTION "\" ID=\"",
	        xml_escape(a, r->request_id), "\" Version=\"2.0\" IssueInstant=\"", instant,
	        "\" Destination=\"", xml_escape(a, r->sso_url), "\" AssertionConsumerServiceURL=\"",
	        xml_escape(a, r->acs_url), "\" ProtocolBinding=\"" TS_SAML_BINDING_POST "\">",
	        "<saml:Issuer>", xml_escape(a, r->sp_entity_id), "</saml:Issuer>",
	        "<samlp:NameIDPolicy Format=\"" NAMEID_UNSPECIFIED "\" AllowCreate=\"true\"/>",
	        "</samlp:AuthnRequest>", NULL);
	unsigned char *z = NULL;
	size_t zlen = 0;
	if (!deflate_raw(a, xml, strlen(xml), &z, &zlen))
		return TS_FAIL(e, TS_ERR_INTERNAL, "zlib could not DEFLATE the AuthnRequest");
	const char *req = base64(a, z, zlen);
	/* SAML Bindings §3.4.4.1: the signed octets are these parameters, URL-encoded, in order */
	const char *query =
	        ts_arena_concat(a, "SAMLRequest=", form_encode(a, req, strlen(req)), NULL);
	if (r->relay_state)
		query = ts_arena_concat(a, query, "&RelayState=",
		                        form_encode(a, r->relay_state, strlen(r->relay_state)),
		                        NULL);
	if (r->sp_key_pem) {
		query = ts_arena_concat(
		        a, query,
		        "&SigAlg=", form_encode(a, SIGALG_RSA_SHA256, strlen(SIGALG_RSA_SHA256)),
		        NULL);
		const char *sig = sign_rsa_sha256(a, r->sp_key_pem, query, strlen(query));
		if (!sig)
			return TS_FAIL(e, TS_ERR_INTERNAL,
			               "the SP key could not sign the AuthnRequest (RSA-SHA256)");
		query = ts_arena_concat(a, query, "&Signature=", form_encode(a, sig, strlen(sig)),
		                        NULL);
	}
	size_t ul = strlen(r->sso_url);
	const char *sep = !strchr(r->sso_url, '?')                                   ? "?"
	                  : (r->sso_url[ul - 1] == '?' || r->sso_url[ul - 1] == '&') ? ""
	                                                                             : "&";
	*url = ts_arena_concat(a, r->sso_url, sep, query, NULL);
	return TS_ERR_OK;
}
