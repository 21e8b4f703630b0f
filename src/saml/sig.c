/*
 * The xmlsec1 (OpenSSL) side of reading a SAML Response (internal.h):
 * process set-up, XML Signature verification and XML Encryption decryption,
 * each with every restriction set here rather than left to xmlsec's
 * defaults (federation-security.md §1c "xmlsec-related"). The hardening
 * follows what Lasso does in lasso_verify_signature() and
 * lasso_saml_constrain_dsigctxt(), written anew:
 *
 * - keys come from the metadata only: each context gets the key explicitly
 *   (dsigCtx->signKey / encCtx->encKey) and no keys manager, so xmlsec never
 *   reads a key from KeyInfo; the enabled key data list holds KeyName only,
 *   which names a key and never carries one;
 * - same-document references only; exactly one Reference, whose URI is "#"
 *   + the ID of the element that holds the Signature (checked before and
 *   again on dsigCtx->signedInfoReferences after);
 * - allow-lists of algorithms, checked on the Signature node itself (so a
 *   refusal is named ALGORITHM) and given to xmlsec as its enabled
 *   transforms: exclusive c14n without comments, enveloped-signature,
 *   SHA-256/384/512 digests, RSA and ECDSA with SHA-256/384/512 (SHA-1 and
 *   rsa-sha1 only when the account opted in); no HMAC, so no
 *   HMACOutputLength truncation (CVE-2009-0217) and no key confusion;
 * - Manifests are ignored.
 *
 * EncryptedAssertion (SAML core §2.3.4, xmlenc-core §4): key transport
 * RSA-OAEP (rsa-oaep-mgf1p) only; RSA1_5 is refused (Bleichenbacher's
 * padding oracle, the reason xmlenc 1.1 §5.4.1 deprecates it). Data:
 * AES-128/192/256-GCM, AES-128/192/256-CBC, and TripleDES-CBC, because that
 * is pysaml2's default (sigver.pre_encryption_part) and Okta's default is
 * AES-256-CBC. CBC is malleable, so every decryption failure after the
 * algorithm checks gives one message and one check (Jager and Somorovsky,
 * "How to Break XML Encryption", 2011), and a signed Response is verified
 * before its ciphertext is touched (response.c).
 */
#include <libxml/parser.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keyinfo.h>
#include <xmlsec/parser.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "core/alloc.h"
#include "saml/internal.h"
#include "saml/xml.h"

/* The largest session key a data algorithm takes (AES-256, 3DES: 32 and 24 bytes). */
#define SESSION_KEY_MAX 32
/* EncryptedKey elements tried for one EncryptedData (one per recipient at most). */
#define ENCRYPTED_KEYS_MAX 4

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static bool inited;

static void key_cache_clear(void);

ts_err ts_saml_init(struct ts_error *e)
{
	ts_err rc = TS_ERR_OK;
	pthread_mutex_lock(&init_mu);
	if (inited)
		goto out;
	xmlInitParser();
	if (xmlSecInit() < 0) {
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "xmlSecInit failed");
		goto out;
	}
	if (xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0) {
		xmlSecShutdown();
		rc = TS_FAIL(e, TS_ERR_INTERNAL, "the xmlsec1 OpenSSL engine did not start");
		goto out;
	}
	/* xmlsec's errors go to stderr by default: a hostile response must not fill the log */
	xmlSecErrorsDefaultCallbackEnableOutput(0);
	/* the parse of decrypted content (xmlSecReplaceNodeBuffer): no entities, no network,
	 * and silent (libxml2 would print a hostile plaintext to stderr) */
	xmlSecParserSetDefaultOptions(XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
	                              XML_PARSE_NOWARNING);
	inited = true;
out:
	pthread_mutex_unlock(&init_mu);
	return rc;
}

void ts_saml_shutdown(void)
{
	pthread_mutex_lock(&init_mu);
	if (inited) {
		key_cache_clear();
		xmlSecCryptoShutdown();
		xmlSecCryptoAppShutdown();
		xmlSecShutdown();
		inited = false;
	}
	pthread_mutex_unlock(&init_mu);
}

/* ---- keys ----------------------------------------------------------------------------------- */

/*
 * Metadata certificates are parsed once per process, not once per sign-in:
 * xmlSecCryptoAppKeyLoadMemory of one PEM certificate costs about as much
 * as the whole rest of a verification (OpenSSL 3's decoders), and the same
 * few certificates sign every response of an account. A cached key is
 * shared read-only between threads (xmlsec takes its own reference on the
 * EVP_PKEY, an atomic count); an entry is counted while an arena uses it
 * and only an unused one is evicted, least recently used first. SP private
 * keys are not cached: they stay sealed at rest and live only for the call.
 */
#define KEY_CACHE_MAX 256

struct cached_key {
	char *pem;
	size_t len;
	uint64_t hash, used;
	xmlSecKeyPtr key;
	unsigned refs;
};

static struct cached_key key_cache[KEY_CACHE_MAX];
static size_t key_cache_n;
static uint64_t key_cache_tick;
static pthread_mutex_t key_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static void key_free(void *p)
{
	xmlSecKeyDestroy(p);
}

static void key_release(void *p)
{
	struct cached_key *c = p;
	pthread_mutex_lock(&key_cache_mu);
	c->refs--;
	pthread_mutex_unlock(&key_cache_mu);
}

/* FNV-1a: a bucket check before the full comparison, not a security boundary. */
static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
	return h;
}

/* The cached entry for pem, counted for the caller; NULL when absent. Under key_cache_mu. */
static struct cached_key *cache_find(const char *pem, size_t len, uint64_t h)
{
	for (size_t i = 0; i < key_cache_n; i++) {
		struct cached_key *c = &key_cache[i];
		if (c->key && c->hash == h && c->len == len && memcmp(c->pem, pem, len) == 0) {
			c->refs++;
			c->used = ++key_cache_tick;
			return c;
		}
	}
	return NULL;
}

/* Keeps k for pem when there is room; the entry, counted for the caller, or NULL. */
static struct cached_key *cache_put(const char *pem, size_t len, uint64_t h, xmlSecKeyPtr k)
{
	struct cached_key *slot = NULL;
	if (key_cache_n < KEY_CACHE_MAX) {
		slot = &key_cache[key_cache_n++];
	} else {
		for (size_t i = 0; i < key_cache_n; i++)
			if (key_cache[i].refs == 0 && (!slot || key_cache[i].used < slot->used))
				slot = &key_cache[i];
		if (!slot)
			return NULL;
		xmlSecKeyDestroy(slot->key);
		ts_free(slot->pem);
	}
	*slot = (struct cached_key){.pem = ts_strndup(pem, len),
	                            .len = len,
	                            .hash = h,
	                            .used = ++key_cache_tick,
	                            .key = k,
	                            .refs = 1};
	return slot;
}

static xmlSecKeyPtr load(const char *pem, size_t len, bool cert)
{
	return xmlSecCryptoAppKeyLoadMemory(
	        (const xmlSecByte *)pem, (xmlSecSize)len,
	        cert ? xmlSecKeyDataFormatCertPem : xmlSecKeyDataFormatPem, NULL, NULL, NULL);
}

/* A certificate's key from the cache (loaded on a miss), held until the arena is freed. */
static xmlSecKeyPtr cert_key(ts_arena_t *a, const char *pem, size_t len)
{
	uint64_t h = fnv1a(pem, len);
	pthread_mutex_lock(&key_cache_mu);
	struct cached_key *c = cache_find(pem, len, h);
	pthread_mutex_unlock(&key_cache_mu);
	if (c) {
		ts_arena_defer(a, key_release, c);
		return c->key;
	}
	xmlSecKeyPtr k = load(pem, len, true); /* outside the lock: the slow part */
	if (!k)
		return NULL;
	pthread_mutex_lock(&key_cache_mu);
	c = cache_find(pem, len, h); /* another thread may have loaded it meanwhile */
	if (!c)
		c = cache_put(pem, len, h, k);
	pthread_mutex_unlock(&key_cache_mu);
	if (c && c->key == k) {
		ts_arena_defer(a, key_release, c);
		return k;
	}
	if (c) {
		xmlSecKeyDestroy(k);
		ts_arena_defer(a, key_release, c);
		return c->key;
	}
	ts_arena_defer(a, key_free, k); /* a full cache of keys in use: this call's own */
	return k;
}

static void key_cache_clear(void)
{
	pthread_mutex_lock(&key_cache_mu);
	for (size_t i = 0; i < key_cache_n; i++) {
		xmlSecKeyDestroy(key_cache[i].key);
		ts_free(key_cache[i].pem);
		key_cache[i] = (struct cached_key){0};
	}
	key_cache_n = 0;
	pthread_mutex_unlock(&key_cache_mu);
}

void ts__saml_keys_load(ts_arena_t *a, const char *const *pem, size_t n_pem, bool certs,
                        xmlSecKeyPtr **keys, const char ***pems, size_t *n)
{
	*keys = ts_arena_alloc(a, (n_pem ? n_pem : 1) * sizeof **keys);
	if (pems)
		*pems = ts_arena_alloc(a, (n_pem ? n_pem : 1) * sizeof **pems);
	*n = 0;
	for (size_t i = 0; i < n_pem; i++) {
		size_t len = pem[i] ? strlen(pem[i]) : 0;
		if (len == 0 || len > UINT32_MAX)
			continue;
		xmlSecKeyPtr k = NULL;
		if (certs) {
			k = cert_key(a, pem[i], len);
		} else if ((k = load(pem[i], len, false)) != NULL) {
			ts_arena_defer(a, key_free, k);
		}
		if (!k)
			continue;
		if (pems)
			(*pems)[*n] = pem[i];
		(*keys)[(*n)++] = k;
	}
}

/* ---- algorithm allow-lists ---------------------------------------------------------------- */

struct alg {
	const xmlChar *href;
	xmlSecTransformId (*klass)(void);
	bool sha1; /* allowed only with allow_sha1 */
};

static const struct alg sig_algs[] = {
        {xmlSecHrefRsaSha256, xmlSecOpenSSLTransformRsaSha256GetKlass, false},
        {xmlSecHrefRsaSha384, xmlSecOpenSSLTransformRsaSha384GetKlass, false},
        {xmlSecHrefRsaSha512, xmlSecOpenSSLTransformRsaSha512GetKlass, false},
        {xmlSecHrefEcdsaSha256, xmlSecOpenSSLTransformEcdsaSha256GetKlass, false},
        {xmlSecHrefEcdsaSha384, xmlSecOpenSSLTransformEcdsaSha384GetKlass, false},
        {xmlSecHrefEcdsaSha512, xmlSecOpenSSLTransformEcdsaSha512GetKlass, false},
        {xmlSecHrefRsaSha1, xmlSecOpenSSLTransformRsaSha1GetKlass, true},
};

static const struct alg digest_algs[] = {
        {xmlSecHrefSha256, xmlSecOpenSSLTransformSha256GetKlass, false},
        {xmlSecHrefSha384, xmlSecOpenSSLTransformSha384GetKlass, false},
        {xmlSecHrefSha512, xmlSecOpenSSLTransformSha512GetKlass, false},
        {xmlSecHrefSha1, xmlSecOpenSSLTransformSha1GetKlass, true},
};

/* SAML core §5.4.3 and §5.4.4: enveloped-signature and exclusive c14n, nothing else. */
static const struct alg ref_transforms[] = {
        {xmlSecHrefEnveloped, xmlSecTransformEnvelopedGetKlass, false},
        {xmlSecHrefExcC14N, xmlSecTransformExclC14NGetKlass, false},
};

#define N_ITEMS(x) (sizeof(x) / sizeof((x)[0]))

/* The Algorithm attribute's text as it is in the tree (no copy), or NULL. */
static const char *algorithm_of(const xmlNode *n)
{
	return ts_saml_xml_attr_raw(n, "Algorithm");
}

static bool alg_allowed(const struct alg *list, size_t n, const char *href, bool allow_sha1)
{
	for (size_t i = 0; href && i < n; i++)
		if (strcmp((const char *)list[i].href, href) == 0)
			return !list[i].sha1 || allow_sha1;
	return false;
}

static int enable(xmlSecDSigCtxPtr ctx, bool reference, const struct alg *list, size_t n,
                  bool allow_sha1)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].sha1 && !allow_sha1)
			continue;
		int rc = reference ? xmlSecDSigCtxEnableReferenceTransform(ctx, list[i].klass())
		                   : xmlSecDSigCtxEnableSignatureTransform(ctx, list[i].klass());
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The first element child of n, or the next element sibling of n. */
static xmlNodePtr first_el(const xmlNode *n)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

static xmlNodePtr next_el(const xmlNode *n)
{
	for (xmlNodePtr c = n ? n->next : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

/* ---- XML Signature ------------------------------------------------------------------------ */

/*
 * An InclusiveNamespaces PrefixList is compared with every namespace in scope
 * of every signed element, before the SignatureValue is checked: 4,000
 * prefixes over 4,000 elements cost a second. IdPs send a word or two
 * (Okta "xs"); this leaves room for dozens.
 */
#define PREFIX_LIST_MAX 256

/* exc-c14n §3: a c14n method or transform holds at most one short InclusiveNamespaces. */
static bool inclusive_ok(const xmlNode *method)
{
	xmlNodePtr incl = first_el(method);
	if (!incl)
		return true;
	const char *pl = xmlHasNsProp(incl, (const xmlChar *)"PrefixList", NULL)
	                         ? ts_saml_xml_attr_raw(incl, "PrefixList")
	                         : "";
	return ts_saml_xml_is(incl, (const char *)xmlSecNsExcC14N, "InclusiveNamespaces") &&
	       !next_el(incl) && pl && strlen(pl) <= PREFIX_LIST_MAX;
}

static ts_err refuse(enum ts_saml_check *failed, enum ts_saml_check c, struct ts_error *e,
                     const char *where, const char *msg)
{
	*failed = c;
	return ts_error_set(e, TS_ERR_UNAUTHORIZED, where, "%s", msg);
}

/*
 * The Signature's shape and algorithms read from the node itself (xmldsig-core
 * §4.3): SignedInfo = CanonicalizationMethod, SignatureMethod, one Reference
 * to "#" + id with allowed Transforms and DigestMethod.
 */
static ts_err signature_shape(xmlNodePtr sig, const char *id, bool allow_sha1,
                              enum ts_saml_check *failed, struct ts_error *e)
{
	static const char *const w = "ts__saml_signature_verify";
	xmlNodePtr si = first_el(sig);
	if (!ts_saml_xml_is(si, TS_SAML_NS_DSIG, "SignedInfo"))
		return refuse(failed, TS_SAML_CHECK_SIGNATURE, e, w,
		              "the Signature has no SignedInfo");
	xmlNodePtr cm = first_el(si);
	xmlNodePtr sm = next_el(cm);
	if (!ts_saml_xml_is(cm, TS_SAML_NS_DSIG, "CanonicalizationMethod") ||
	    !ts_saml_xml_is(sm, TS_SAML_NS_DSIG, "SignatureMethod"))
		return refuse(failed, TS_SAML_CHECK_SIGNATURE, e, w,
		              "the SignedInfo lacks its methods");
	const char *c14n = algorithm_of(cm);
	if (!c14n || strcmp(c14n, (const char *)xmlSecHrefExcC14N) != 0 || !inclusive_ok(cm))
		return refuse(failed, TS_SAML_CHECK_ALGORITHM, e, w,
		              "the canonicalization method is not exclusive c14n");
	/* no child at all: HMACOutputLength (CVE-2009-0217) has no place here */
	if (!alg_allowed(sig_algs, N_ITEMS(sig_algs), algorithm_of(sm), allow_sha1) || first_el(sm))
		return refuse(failed, TS_SAML_CHECK_ALGORITHM, e, w,
		              "the signature method is not allowed");
	xmlNodePtr ref = next_el(sm);
	if (!ts_saml_xml_is(ref, TS_SAML_NS_DSIG, "Reference") || next_el(ref))
		return refuse(failed, TS_SAML_CHECK_SIGNATURE, e, w,
		              "the SignedInfo must hold exactly one Reference");
	const char *u = ts_saml_xml_attr_raw(ref, "URI");
	if (!u || u[0] != '#' || strcmp(u + 1, id) != 0)
		return refuse(failed, TS_SAML_CHECK_SIGNATURE, e, w,
		              "the Reference does not point at the signed element");
	xmlNodePtr c = first_el(ref);
	if (ts_saml_xml_is(c, TS_SAML_NS_DSIG, "Transforms")) {
		/* SAML core §5.4.4: enveloped-signature and exclusive c14n, each at most once;
		 * every repeat would be one more xmlsec pass over the signed nodes, paid before
		 * the SignatureValue is checked */
		bool seen[N_ITEMS(ref_transforms)] = {false};
		for (xmlNodePtr t = first_el(c); t; t = next_el(t)) {
			size_t k = 0;
			const char *href = algorithm_of(t);
			while (k < N_ITEMS(ref_transforms) && href &&
			       strcmp((const char *)ref_transforms[k].href, href) != 0)
				k++;
			if (!ts_saml_xml_is(t, TS_SAML_NS_DSIG, "Transform") ||
			    k == N_ITEMS(ref_transforms) || seen[k] || !inclusive_ok(t))
				return refuse(failed, TS_SAML_CHECK_ALGORITHM, e, w,
				              "a Reference transform is not allowed, or repeated");
			seen[k] = true;
		}
		c = next_el(c);
	}
	if (!ts_saml_xml_is(c, TS_SAML_NS_DSIG, "DigestMethod") ||
	    !alg_allowed(digest_algs, N_ITEMS(digest_algs), algorithm_of(c), allow_sha1))
		return refuse(failed, TS_SAML_CHECK_ALGORITHM, e, w,
		              "the digest method is not allowed");
	return TS_ERR_OK;
}

static int constrain(xmlSecDSigCtxPtr ctx, bool allow_sha1)
{
	ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (void *)xmlSecKeyDataNameId) < 0)
		return -1;
	if (xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
	    enable(ctx, false, sig_algs, N_ITEMS(sig_algs), allow_sha1) < 0 ||
	    enable(ctx, true, ref_transforms, N_ITEMS(ref_transforms), false) < 0 ||
	    enable(ctx, true, digest_algs, N_ITEMS(digest_algs), allow_sha1) < 0)
		return -1;
	return 0;
}

/* What xmlsec dereferenced: exactly one SignedInfo Reference, to "#" + id. */
static bool one_reference(xmlSecDSigCtxPtr ctx, const char *id)
{
	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1)
		return false;
	xmlSecDSigReferenceCtxPtr r = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
	return r && r->status == xmlSecDSigStatusSucceeded && r->uri && r->uri[0] == '#' &&
	       strcmp((const char *)r->uri + 1, id) == 0;
}

static bool b64_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether base64 text b (KeyInfo) and the body of PEM certificate pem are the same, spaces aside.
 */
static bool same_cert(const char *b, const char *pem)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *p = pem ? strstr(pem, begin) : NULL;
	if (!p)
		return false;
	for (p += sizeof begin - 1;; p++, b++) {
		while (b64_space(*p))
			p++;
		while (b64_space(*b))
			b++;
		if (*p == '-' || *p == '\0')
			return *b == '\0';
		if (*p != *b)
			return false;
	}
}

/*
 * The index of the key whose certificate KeyInfo carries, else 0. Okta and
 * pysaml2 send the signing certificate: during a rollover the right key is
 * tried first instead of after a failed verification.
 */
static size_t hinted(xmlNodePtr sig, const char *const *pems, size_t n_keys)
{
	xmlNodePtr x = ts_saml_xml_child(
	        ts_saml_xml_child(ts_saml_xml_child(sig, TS_SAML_NS_DSIG, "KeyInfo"),
	                          TS_SAML_NS_DSIG, "X509Data"),
	        TS_SAML_NS_DSIG, "X509Certificate");
	if (!pems || !x || !x->children || x->children->next || x->children->type != XML_TEXT_NODE)
		return 0;
	for (size_t i = 0; i < n_keys; i++)
		if (same_cert((const char *)x->children->content, pems[i]))
			return i;
	return 0;
}

ts_err ts__saml_signature_verify(xmlNodePtr signed_el, xmlNodePtr sig, const char *id,
                                 xmlSecKeyPtr const *keys, const char *const *pems, size_t n_keys,
                                 bool allow_sha1, enum ts_saml_check *failed, struct ts_error *e)
{
	static const char *const w = "ts__saml_signature_verify";
	if (sig->parent != signed_el || !id || !*id)
		return refuse(failed, TS_SAML_CHECK_SIGNATURE, e, w,
		              "the Signature is not a child of an element with an ID");
	ts_err rc = signature_shape(sig, id, allow_sha1, failed, e);
	if (rc != TS_ERR_OK)
		return rc;
	size_t first = hinted(sig, pems, n_keys);
	for (size_t t = 0; t < n_keys; t++) {
		/* first, then the others in their order */
		size_t i = t == 0 ? first : t <= first ? t - 1 : t;
		xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
		if (!ctx)
			return TS_FAIL(e, TS_ERR_INTERNAL, "xmlSecDSigCtxCreate failed");
		if (constrain(ctx, allow_sha1) < 0) {
			xmlSecDSigCtxDestroy(ctx);
			return TS_FAIL(e, TS_ERR_INTERNAL,
			               "the xmlsec allow-lists could not be set");
		}
		ctx->signKey = keys[i];
		bool ok = xmlSecDSigCtxVerify(ctx, sig) == 0 &&
		          ctx->status == xmlSecDSigStatusSucceeded && one_reference(ctx, id);
		ctx->signKey = NULL; /* the caller's key, freed with its arena */
		xmlSecDSigCtxDestroy(ctx);
		if (ok)
			return TS_ERR_OK;
	}
	return refuse(failed, TS_SAML_CHECK_SIGNATURE, e, w,
	              n_keys ? "no metadata certificate verifies the signature"
	                     : "no metadata certificate could be loaded");
}

/* ---- XML Encryption ----------------------------------------------------------------------- */

struct data_alg {
	const xmlChar *href;
	xmlSecTransformId (*klass)(void);
	xmlSecKeyDataId (*key)(void);
	size_t key_len;
};

static const struct data_alg data_algs[] = {
        {xmlSecHrefAes128Gcm, xmlSecOpenSSLTransformAes128GcmGetKlass,
         xmlSecOpenSSLKeyDataAesGetKlass, 16},
        {xmlSecHrefAes192Gcm, xmlSecOpenSSLTransformAes192GcmGetKlass,
         xmlSecOpenSSLKeyDataAesGetKlass, 24},
        {xmlSecHrefAes256Gcm, xmlSecOpenSSLTransformAes256GcmGetKlass,
         xmlSecOpenSSLKeyDataAesGetKlass, 32},
        {xmlSecHrefAes128Cbc, xmlSecOpenSSLTransformAes128CbcGetKlass,
         xmlSecOpenSSLKeyDataAesGetKlass, 16},
        {xmlSecHrefAes192Cbc, xmlSecOpenSSLTransformAes192CbcGetKlass,
         xmlSecOpenSSLKeyDataAesGetKlass, 24},
        {xmlSecHrefAes256Cbc, xmlSecOpenSSLTransformAes256CbcGetKlass,
         xmlSecOpenSSLKeyDataAesGetKlass, 32},
        {xmlSecHrefDes3Cbc, xmlSecOpenSSLTransformDes3CbcGetKlass, xmlSecOpenSSLKeyDataDesGetKlass,
         24},
};

static const char undecryptable[] = "the EncryptedAssertion does not open with any SP key";

/*
 * xmlenc-core §3.3: CipherData holds the ciphertext itself (CipherValue), not
 * a CipherReference, which would make xmlsec fetch a URI.
 */
static bool inline_cipher(const xmlNode *n)
{
	xmlNodePtr cd = ts_saml_xml_child(n, TS_SAML_NS_XMLENC, "CipherData");
	xmlNodePtr cv = first_el(cd);
	return ts_saml_xml_is(cv, TS_SAML_NS_XMLENC, "CipherValue") && !next_el(cv);
}

/* The session key inside EncryptedKey ek, opened with the SP key k; false when it does not. */
static bool open_session_key(xmlNodePtr ek, xmlSecKeyPtr k, size_t want,
                             unsigned char out[SESSION_KEY_MAX])
{
	xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(NULL);
	if (!ctx)
		return false;
	bool ok = false;
	ctx->mode = xmlEncCtxModeEncryptedKey;
	ctx->encKey = k;
	ctx->transformCtx.enabledUris = xmlSecTransformUriTypeNone; /* no CipherReference */
	if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (void *)xmlSecKeyDataNameId) <
	            0 ||
	    xmlSecPtrListAdd(&ctx->transformCtx.enabledTransforms,
	                     (void *)xmlSecOpenSSLTransformRsaOaepGetKlass()) < 0)
		goto out;
	xmlSecBufferPtr b = xmlSecEncCtxDecryptToBuffer(ctx, ek);
	if (b && xmlSecBufferGetSize(b) == want) {
		memcpy(out, xmlSecBufferGetData(b), want);
		ok = true;
	}
	if (b)
		OPENSSL_cleanse(xmlSecBufferGetData(b), xmlSecBufferGetSize(b));
out:
	ctx->encKey = NULL; /* the caller's key */
	xmlSecEncCtxDestroy(ctx);
	return ok;
}

/* Decrypts EncryptedData ed in place (Type Element) with the session key; false when it fails. */
static bool open_data(xmlNodePtr ed, const struct data_alg *alg, const unsigned char *key)
{
	xmlSecKeyPtr k = xmlSecKeyReadMemory(alg->key(), key, (xmlSecSize)alg->key_len);
	if (!k)
		return false;
	xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(NULL);
	if (!ctx) {
		xmlSecKeyDestroy(k);
		return false;
	}
	ctx->encKey = k;                                            /* owned by ctx from here */
	ctx->transformCtx.enabledUris = xmlSecTransformUriTypeNone; /* no CipherReference */
	bool ok =
	        xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData,
	                         (void *)xmlSecKeyDataNameId) >= 0 &&
	        xmlSecPtrListAdd(&ctx->transformCtx.enabledTransforms, (void *)alg->klass()) >= 0 &&
	        xmlSecEncCtxDecrypt(ctx, ed) == 0 && ctx->resultReplaced;
	xmlSecEncCtxDestroy(ctx);
	return ok;
}

ts_err ts__saml_decrypt(xmlNodePtr ea, xmlSecKeyPtr const *keys, size_t n_keys,
                        xmlNodePtr *assertion, enum ts_saml_check *failed, struct ts_error *e)
{
	static const char *const w = "ts__saml_decrypt";
	*assertion = NULL;
	/* SAML core §2.3.4: one EncryptedData, then EncryptedKey elements */
	xmlNodePtr ed = ts_saml_xml_child(ea, TS_SAML_NS_XMLENC, "EncryptedData");
	if (!ed || ts_saml_xml_next(ed, TS_SAML_NS_XMLENC, "EncryptedData"))
		return refuse(failed, TS_SAML_CHECK_DECRYPTION, e, w, undecryptable);
	const struct data_alg *alg = NULL;
	const char *href =
	        algorithm_of(ts_saml_xml_child(ed, TS_SAML_NS_XMLENC, "EncryptionMethod"));
	for (size_t i = 0; href && i < N_ITEMS(data_algs); i++)
		if (strcmp((const char *)data_algs[i].href, href) == 0)
			alg = &data_algs[i];
	if (!alg)
		return refuse(failed, TS_SAML_CHECK_ALGORITHM, e, w,
		              "the EncryptedData algorithm is not allowed");
	xmlNodePtr eks[ENCRYPTED_KEYS_MAX];
	size_t n_eks = 0;
	xmlNodePtr ki = ts_saml_xml_child(ed, TS_SAML_NS_DSIG, "KeyInfo");
	const xmlNode *parents[] = {ki, ea};
	for (size_t p = 0; p < N_ITEMS(parents); p++)
		for (xmlNodePtr k =
		             ts_saml_xml_child(parents[p], TS_SAML_NS_XMLENC, "EncryptedKey");
		     k; k = ts_saml_xml_next(k, TS_SAML_NS_XMLENC, "EncryptedKey")) {
			if (n_eks == ENCRYPTED_KEYS_MAX)
				return refuse(failed, TS_SAML_CHECK_DECRYPTION, e, w,
				              undecryptable);
			const char *kt = algorithm_of(
			        ts_saml_xml_child(k, TS_SAML_NS_XMLENC, "EncryptionMethod"));
			if (!kt || strcmp(kt, (const char *)xmlSecHrefRsaOaep) != 0)
				return refuse(failed, TS_SAML_CHECK_ALGORITHM, e, w,
				              "the key transport is not RSA-OAEP");
			if (!inline_cipher(k))
				return refuse(failed, TS_SAML_CHECK_DECRYPTION, e, w,
				              undecryptable);
			eks[n_eks++] = k;
		}
	const char *type = ts_saml_xml_attr_raw(ed, "Type");
	if (!type || strcmp(type, (const char *)xmlSecTypeEncElement) != 0 || !inline_cipher(ed))
		return refuse(failed, TS_SAML_CHECK_DECRYPTION, e, w, undecryptable);
	bool opened = false;
	unsigned char sk[SESSION_KEY_MAX];
	for (size_t i = 0; i < n_eks && !opened; i++)
		for (size_t j = 0; j < n_keys && !opened; j++)
			if (open_session_key(eks[i], keys[j], alg->key_len, sk)) {
				opened = open_data(ed, alg, sk);
				OPENSSL_cleanse(sk, sizeof sk);
			}
	if (!opened)
		return refuse(failed, TS_SAML_CHECK_DECRYPTION, e, w, undecryptable);
	/* what the plaintext held: exactly one Assertion beside the EncryptedKeys */
	xmlNodePtr found = NULL;
	for (xmlNodePtr c = first_el(ea); c; c = next_el(c)) {
		if (ts_saml_xml_is(c, TS_SAML_NS_XMLENC, "EncryptedKey"))
			continue;
		if (found || !ts_saml_xml_is(c, TS_SAML_NS_ASSERTION, "Assertion"))
			return refuse(failed, TS_SAML_CHECK_DECRYPTION, e, w, undecryptable);
		found = c;
	}
	if (!found)
		return refuse(failed, TS_SAML_CHECK_DECRYPTION, e, w, undecryptable);
	*assertion = found;
	return TS_ERR_OK;
}
