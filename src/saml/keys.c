/*
 * The SP's key pairs and the reading of X.509 certificates (metadata.h), on
 * OpenSSL 3's EVP and X509 APIs. A key pair is what the SP signs its
 * AuthnRequests with and what an IdP encrypts assertions to; its
 * certificate is self-signed because SAML metadata, not a CA, is what makes
 * it trusted (SAML Metadata §2.4.1.1: KeyDescriptor carries the key itself).
 */
#include "saml/metadata.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/timeutil.h"

#define SP_KEY_BITS 2048
#define SERIAL_BYTES 16       /* RFC 5280 §4.1.2.2: at most 20 octets, positive */
#define SP_CERT_DAYS_MAX 7300 /* twenty years: anything longer is a typo */
#define S_PER_DAY INT64_C(86400)

static void wipe_string(void *p)
{
	OPENSSL_cleanse(p, strlen(p));
}

/* The contents of a memory BIO as a NUL-terminated copy in the arena. */
static char *bio_text(ts_arena_t *a, BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	if (n < 0 || !data)
		return NULL;
	return ts_arena_strndup(a, data, (size_t)n);
}

ts_err ts_saml_keypair_new(ts_arena_t *a, const char *common_name, int days, const char **key_pem,
                           const char **cert_pem, struct ts_error *e)
{
	*key_pem = NULL;
	*cert_pem = NULL;
	ts_err rc = TS_ERR_INTERNAL;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIGNUM *serial = NULL;
	BIO *kb = NULL;
	BIO *cb = NULL;
	if (!common_name || !*common_name || days <= 0 || days > SP_CERT_DAYS_MAX) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "a key pair needs a common name and 1 to %d days", SP_CERT_DAYS_MAX);
		goto out;
	}
	key = EVP_RSA_gen(SP_KEY_BITS);
	x = X509_new();
	serial = BN_new();
	if (!key || !x || !serial)
		goto fail;
	unsigned char sn[SERIAL_BYTES];
	ts_random_bytes(sn, sizeof sn);
	sn[0] &= 0x7f; /* positive */
	sn[0] |= 0x40; /* and of full length */
	X509_NAME *name = X509_get_subject_name(x);
	if (!BN_bin2bn(sn, sizeof sn, serial) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)(days * S_PER_DAY)) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	                                (const unsigned char *)common_name, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	/* secure-heap BIO: OpenSSL wipes the key's text when it is freed */
	kb = BIO_new(BIO_s_secmem());
	cb = BIO_new(BIO_s_mem());
	if (!kb || !cb || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x))
		goto fail;
	char *k = bio_text(a, kb);
	const char *c = bio_text(a, cb);
	if (!k || !c)
		goto fail;
	ts_arena_defer(a, wipe_string, k);
	*key_pem = k;
	*cert_pem = c;
	rc = TS_ERR_OK;
	goto out;
fail:
	rc = TS_FAIL(e, TS_ERR_INTERNAL, "OpenSSL could not make an RSA-%d key pair", SP_KEY_BITS);
out:
	BIO_free(kb);
	BIO_free(cb);
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* An ASN.1 time as ms since the epoch; false when it does not convert. */
static bool asn1_time_ms(const ASN1_TIME *t, int64_t *ms)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*ms = (int64_t)timegm(&tm) * TS_MS_PER_S;
	return true;
}

ts_err ts_saml_cert_read(ts_arena_t *a, const char *pem, struct ts_saml_cert *out,
                         struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	ts_err rc = TS_ERR_BAD_REQUEST;
	BIO *in = NULL;
	BIO *txt = NULL;
	BIO *norm = NULL;
	X509 *x = NULL;
	unsigned char *der = NULL;
	size_t len = pem ? strlen(pem) : 0;
	if (len == 0 || len > INT_MAX) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the certificate is empty");
		goto out;
	}
	in = BIO_new_mem_buf(pem, (int)len);
	if (!in || !(x = PEM_read_bio_X509(in, NULL, NULL, NULL))) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "the certificate is not a PEM X.509 certificate");
		goto out;
	}
	int n = i2d_X509(x, &der);
	txt = BIO_new(BIO_s_mem());
	norm = BIO_new(BIO_s_mem());
	if (n <= 0 || !txt || !norm ||
	    X509_NAME_print_ex(txt, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0 ||
	    !PEM_write_bio_X509(norm, x)) {
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "OpenSSL could not encode the certificate");
		goto out;
	}
	if (!asn1_time_ms(X509_get0_notBefore(x), &out->not_before_ms) ||
	    !asn1_time_ms(X509_get0_notAfter(x), &out->not_after_ms)) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST, "the certificate's validity does not parse");
		goto out;
	}
	char *fp = ts_arena_alloc(a, TS_SHA256_HEX_LEN + 1);
	ts_sha256_hex(der, (size_t)n, fp);
	out->sha256 = fp;
	out->subject = bio_text(a, txt);
	out->pem = bio_text(a, norm);
	rc = out->subject && out->pem
	             ? TS_ERR_OK
	             : TS_FAIL(e, TS_ERR_INTERNAL, "out of memory reading a certificate");
out:
	if (rc != TS_ERR_OK)
		memset(out, 0, sizeof *out);
	OPENSSL_free(der);
	BIO_free(norm);
	BIO_free(txt);
	BIO_free(in);
	X509_free(x);
	return rc;
}
