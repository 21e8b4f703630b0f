/*
 * Unit tests of the SAML Response verifier (src/saml/response.h). Keys and
 * certificates are made with OpenSSL at start (IdP, a second IdP key for
 * rollover, an attacker, two SP keys); every response is built from the
 * template below and signed (and encrypted) with the real xmlsec library,
 * then changed the way federation-security.md §1a/§1b describes. Each
 * hostile case asserts the exact check that refuses it; each defence has a
 * positive control that passes with the same fixture untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmltree.h>

#include "core/arena.h"
#include "core/timeutil.h"
#include "saml/response.h"
#include "saml/xml.h"

#define IDP "https://idp.example.test/exk1"
#define SP "https://sp.example.test/saml/123/metadata"
#define ACS "https://sp.example.test/saml/123/acs"
#define NOW INT64_C(1796000000000) /* 2026-11-30, fixed: every boundary is exact */
#define SKEW TS_SAML_SKEW_DEFAULT_MS
#define MIN_MS (60 * TS_MS_PER_S)
#define ROLE_OK "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/Okta"
#define OMIT "\x01" /* leave the attribute or element out */

enum signer { SIGNER_IDP, SIGNER_IDP2, SIGNER_ATTACKER };
enum enc { ENC_NONE, ENC_AES128_CBC, ENC_AES256_GCM, ENC_RSA1_5 };

struct pair {
	const char *key, *cert;
};

static struct pair idp, idp2, attacker, sp, sp2;
static ts_arena_t *keys_arena;

/* ---- keys ----------------------------------------------------------------------------------- */

static const char *bio_text(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	return ts_arena_strndup(keys_arena, p, (size_t)n);
}

static const char *make_cert(EVP_PKEY *k, const char *cn)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, k);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	BIO *cb = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_X509(cb, x));
	const char *pem = bio_text(cb);
	BIO_free(cb);
	X509_free(x);
	return pem;
}

static struct pair make_pair(const char *cn)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	assert_non_null(k);
	BIO *kb = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL));
	struct pair p = {bio_text(kb), make_cert(k, cn)};
	BIO_free(kb);
	EVP_PKEY_free(k);
	return p;
}

static int group_setup(void **state)
{
	(void)state;
	struct ts_error e = {0};
	if (ts_saml_init(&e) != TS_ERR_OK || ts_saml_init(&e) != TS_ERR_OK)
		return -1;
	keys_arena = ts_arena_new();
	idp = make_pair("idp.example.test");
	idp2 = make_pair("idp.example.test rollover");
	attacker = make_pair("attacker.example.test");
	sp = make_pair("sp.example.test");
	sp2 = make_pair("other-sp.example.test");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ts_arena_free(&keys_arena);
	ts_saml_shutdown();
	ts_saml_shutdown();
	return 0;
}

/* ---- the fixture ---------------------------------------------------------------------------- */

/* One response: every field defaults to the valid SP-initiated case. */
struct fx {
	const char *resp_id, *as_id, *as2_id;
	const char *resp_issuer, *as_issuer, *destination, *status, *resp_irt, *scd_irt;
	const char *name_id, *method, *recipient, *audiences, *role, *rsn;
	const char *nb, *noa, *scd_noa; /* time strings; NULL: from the offsets below */
	int64_t nb_off, noa_off, scd_noa_off;
	bool no_assertion, sign_resp, sign_as, sign_as2, sha1, no_keyinfo;
	enum signer signer;
	const char *x509_of; /* the certificate put in KeyInfo (default: the signer's) */
	const char *sig_id;  /* the Id of every ds:Signature (default: none) */
	bool c14n_incl;      /* an InclusiveNamespaces in the CanonicalizationMethod */
	enum enc enc;
	void (*mutate)(xmlDocPtr doc); /* after signing */
	const char *find, *repl;       /* then on the text */
};

static const char *iso(ts_arena_t *a, int64_t ms)
{
	char *s = ts_arena_alloc(a, TS_ISO8601_LEN + 1);
	ts_time_iso_ms(ms, s);
	return s;
}

static const char *attr(ts_arena_t *a, const char *name, const char *v)
{
	return v == NULL || strcmp(v, OMIT) == 0 ? "" : ts_arena_printf(a, " %s=\"%s\"", name, v);
}

static const char *dflt(const char *v, const char *d)
{
	return v ? v : d;
}

static const char *assertion_xml(ts_arena_t *a, const struct fx *f, const char *id)
{
	const char *issuer = dflt(f->as_issuer, IDP);
	const char *role = dflt(f->role, ROLE_OK);
	const char *rsn = dflt(f->rsn, "alice");
	return ts_arena_printf(
	        a,
	        "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"%s\" "
	        "Version=\"2.0\" IssueInstant=\"%s\">"
	        "<saml:Issuer>%s</saml:Issuer>"
	        "<saml:Subject><saml:NameID "
	        "Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">%s</saml:NameID>"
	        "<saml:SubjectConfirmation Method=\"%s\"><saml:SubjectConfirmationData%s%s%s/>"
	        "</saml:SubjectConfirmation></saml:Subject>"
	        "<saml:Conditions%s%s>%s</saml:Conditions>"
	        "<saml:AuthnStatement AuthnInstant=\"%s\" SessionIndex=\"_s1\"><saml:AuthnContext>"
	        "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:"
	        "PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>"
	        "</saml:AuthnStatement>"
	        "<saml:AttributeStatement>"
	        "<saml:Attribute Name=\"" TS_SAML_ATTR_ROLE "\">"
	        "<saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute>"
	        "%s</saml:AttributeStatement></saml:Assertion>",
	        id, iso(a, NOW), issuer, dflt(f->name_id, "alice@example.test"),
	        dflt(f->method, "urn:oasis:names:tc:SAML:2.0:cm:bearer"),
	        attr(a, "InResponseTo", dflt(f->scd_irt, "_req1")),
	        attr(a, "NotOnOrAfter",
	             dflt(f->scd_noa, iso(a, NOW + 5 * MIN_MS + f->scd_noa_off))),
	        attr(a, "Recipient", dflt(f->recipient, ACS)),
	        attr(a, "NotBefore", dflt(f->nb, iso(a, NOW - MIN_MS + f->nb_off))),
	        attr(a, "NotOnOrAfter", dflt(f->noa, iso(a, NOW + 5 * MIN_MS + f->noa_off))),
	        dflt(f->audiences, "<saml:AudienceRestriction><saml:Audience>" SP
	                           "</saml:Audience></saml:AudienceRestriction>"),
	        iso(a, NOW), role,
	        strcmp(rsn, OMIT) == 0
	                ? ""
	                : ts_arena_printf(a,
	                                  "<saml:Attribute Name=\"" TS_SAML_ATTR_ROLE_SESSION_NAME
	                                  "\"><saml:AttributeValue>%s</saml:AttributeValue>"
	                                  "</saml:Attribute>",
	                                  rsn));
}

static const char *response_xml(ts_arena_t *a, const struct fx *f)
{
	const char *ri = dflt(f->resp_issuer, IDP);
	return ts_arena_printf(
	        a,
	        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"%s\" "
	        "Version=\"2.0\" IssueInstant=\"%s\"%s%s>%s"
	        "<samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:%s\"/>"
	        "</samlp:Status>%s%s</samlp:Response>",
	        dflt(f->resp_id, "_r1"), iso(a, NOW),
	        attr(a, "Destination", dflt(f->destination, ACS)),
	        attr(a, "InResponseTo", dflt(f->resp_irt, "_req1")),
	        strcmp(ri, OMIT) == 0
	                ? ""
	                : ts_arena_printf(a,
	                                  "<saml:Issuer xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:"
	                                  "assertion\">%s</saml:Issuer>",
	                                  ri),
	        dflt(f->status, "Success"),
	        f->no_assertion ? "" : assertion_xml(a, f, dflt(f->as_id, "_a1")),
	        f->as2_id ? assertion_xml(a, f, f->as2_id) : "");
}

static xmlNodePtr child(const xmlNode *n, const char *ns, const char *name)
{
	return ts_saml_xml_child(n, ns, name);
}

static xmlNodePtr first_assertion(xmlDocPtr doc)
{
	return child(xmlDocGetRootElement(doc), TS_SAML_NS_ASSERTION, "Assertion");
}

static xmlNodePtr name_id_of(xmlNodePtr as)
{
	return child(child(as, TS_SAML_NS_ASSERTION, "Subject"), TS_SAML_NS_ASSERTION, "NameID");
}

static struct pair signer_pair(enum signer s)
{
	return s == SIGNER_IDP2 ? idp2 : s == SIGNER_ATTACKER ? attacker : idp;
}

/* Signs el (ID id) with an enveloped signature placed after its Issuer (SAML core §5.4.1). */
static void sign_el(const struct fx *f, xmlNodePtr el)
{
	xmlDocPtr doc = el->doc;
	xmlChar *id = xmlGetProp(el, (const xmlChar *)"ID");
	xmlAttrPtr at = xmlHasProp(el, (const xmlChar *)"ID");
	xmlAddID(NULL, doc, id, at);
	xmlNodePtr sig = xmlSecTmplSignatureCreateNsPref(
	        doc, xmlSecTransformExclC14NId,
	        f->sha1 ? xmlSecTransformRsaSha1Id : xmlSecTransformRsaSha256Id,
	        (const xmlChar *)f->sig_id, (const xmlChar *)"ds");
	if (f->c14n_incl)
		assert_int_equal(
		        xmlSecTmplTransformAddC14NInclNamespaces(
		                xmlSecTmplSignatureGetC14NMethodNode(sig), (const xmlChar *)"xs"),
		        0);
	assert_non_null(sig);
	xmlNodePtr issuer = child(el, TS_SAML_NS_ASSERTION, "Issuer");
	if (issuer)
		xmlAddNextSibling(issuer, sig);
	else if (el->children)
		xmlAddPrevSibling(el->children, sig);
	else
		xmlAddChild(el, sig);
	char uri[128];
	snprintf(uri, sizeof uri, "#%s", (const char *)id);
	xmlNodePtr ref = xmlSecTmplSignatureAddReference(
	        sig, f->sha1 ? xmlSecTransformSha1Id : xmlSecTransformSha256Id, NULL,
	        (const xmlChar *)uri, NULL);
	assert_non_null(xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId));
	assert_non_null(xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId));
	if (!f->no_keyinfo)
		assert_non_null(
		        xmlSecTmplKeyInfoAddX509Data(xmlSecTmplSignatureEnsureKeyInfo(sig, NULL)));
	struct pair p = signer_pair(f->signer);
	xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
	ctx->signKey = xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)p.key, strlen(p.key),
	                                            xmlSecKeyDataFormatPem, NULL, NULL, NULL);
	assert_non_null(ctx->signKey);
	const char *cert = dflt(f->x509_of, p.cert);
	assert_int_equal(xmlSecCryptoAppKeyCertLoadMemory(ctx->signKey, (const xmlSecByte *)cert,
	                                                  strlen(cert), xmlSecKeyDataFormatPem),
	                 0);
	assert_int_equal(xmlSecDSigCtxSign(ctx, sig), 0);
	xmlSecDSigCtxDestroy(ctx);
	xmlFree(id);
}

/* Replaces Assertion as with an EncryptedAssertion for the SP certificate (SAML core §2.3.4). */
static void encrypt_el(const struct fx *f, xmlNodePtr as)
{
	xmlDocPtr doc = as->doc;
	bool gcm = f->enc == ENC_AES256_GCM;
	xmlNodePtr ed = xmlSecTmplEncDataCreate(
	        doc, gcm ? xmlSecTransformAes256GcmId : xmlSecTransformAes128CbcId, NULL,
	        xmlSecTypeEncElement, NULL, NULL);
	assert_non_null(xmlSecTmplEncDataEnsureCipherValue(ed));
	xmlNodePtr ki = xmlSecTmplEncDataEnsureKeyInfo(ed, NULL);
	xmlNodePtr ek = xmlSecTmplKeyInfoAddEncryptedKey(
	        ki, f->enc == ENC_RSA1_5 ? xmlSecTransformRsaPkcs1Id : xmlSecTransformRsaOaepId,
	        NULL, NULL, NULL);
	assert_non_null(xmlSecTmplEncDataEnsureCipherValue(ek));
	xmlSecKeysMngrPtr mngr = xmlSecKeysMngrCreate();
	assert_int_equal(xmlSecCryptoAppDefaultKeysMngrInit(mngr), 0);
	xmlSecKeyPtr pub =
	        xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)sp.cert, strlen(sp.cert),
	                                     xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
	assert_non_null(pub);
	assert_int_equal(xmlSecCryptoAppDefaultKeysMngrAdoptKey(mngr, pub), 0);
	xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(mngr);
	ctx->encKey =
	        xmlSecKeyGenerate(xmlSecKeyDataAesId, gcm ? 256 : 128, xmlSecKeyDataTypeSession);
	assert_int_equal(xmlSecEncCtxXmlEncrypt(ctx, ed, as), 0);
	xmlSecEncCtxDestroy(ctx);
	xmlSecKeysMngrDestroy(mngr);
	/* ed replaced as: wrap it */
	xmlNsPtr ns =
	        xmlNewNs(NULL, (const xmlChar *)TS_SAML_NS_ASSERTION, (const xmlChar *)"saml");
	xmlNodePtr ea = xmlNewDocNode(doc, NULL, (const xmlChar *)"EncryptedAssertion", NULL);
	xmlReplaceNode(ed, ea);
	ea->nsDef = ns;
	xmlSetNs(ea, ns);
	xmlAddChild(ea, ed);
}

static const char *b64(ts_arena_t *a, const char *s, size_t n)
{
	char *out = ts_arena_alloc(a, (n + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* The base64 form value of fixture f. */
static const char *build(ts_arena_t *a, const struct fx *f)
{
	const char *x = response_xml(a, f);
	xmlDocPtr doc = xmlReadMemory(x, (int)strlen(x), NULL, NULL, 0);
	assert_non_null(doc);
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr as = first_assertion(doc);
	if (f->sign_as)
		sign_el(f, as);
	if (f->sign_as2)
		sign_el(f, xmlNextElementSibling(as));
	if (f->enc != ENC_NONE)
		encrypt_el(f, as);
	if (f->sign_resp)
		sign_el(f, root);
	if (f->mutate)
		f->mutate(doc);
	xmlChar *mem = NULL;
	int len = 0;
	xmlDocDumpMemory(doc, &mem, &len);
	const char *text = ts_arena_strndup(a, (const char *)mem, (size_t)len);
	xmlFree(mem);
	xmlFreeDoc(doc);
	if (f->find) {
		const char *at = strstr(text, f->find);
		assert_non_null(at);
		text = ts_arena_printf(a, "%.*s%s%s", (int)(at - text), text, f->repl,
		                       at + strlen(f->find));
	}
	return b64(a, text, strlen(text));
}

static struct ts_saml_verify_config config(void)
{
	static const char *certs[1];
	static const char *keys[1];
	certs[0] = idp.cert;
	keys[0] = sp.key;
	return (struct ts_saml_verify_config){.sp_entity_id = SP,
	                                      .acs_url = ACS,
	                                      .idp_entity_id = IDP,
	                                      .idp_certs_pem = certs,
	                                      .n_idp_certs = 1,
	                                      .sp_keys_pem = keys,
	                                      .n_sp_keys = 1,
	                                      .now_ms = NOW};
}

/* Verifies value with cfg; returns the check that failed (TS_SAML_CHECK_NONE on success). */
static enum ts_saml_check run_cfg(ts_arena_t *a, const char *value,
                                  const struct ts_saml_verify_config *cfg,
                                  struct ts_saml_assertion *out)
{
	enum ts_saml_check failed = TS_SAML__CHECKS;
	struct ts_error e = {0};
	ts_err rc = ts_saml_response_verify(a, value, strlen(value), cfg, out, &failed, &e);
	if (rc == TS_ERR_OK) {
		assert_int_equal(failed, TS_SAML_CHECK_NONE);
		assert_non_null(out->name_id);
	} else {
		assert_int_equal(rc, TS_ERR_UNAUTHORIZED);
		assert_int_not_equal(failed, TS_SAML_CHECK_NONE);
		assert_null(out->name_id);
		assert_true(e.message[0] != 0);
	}
	return failed;
}

/* The check name fixture f fails with under the default configuration. */
static const char *check_of(const struct fx *f)
{
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	const char *name = ts_saml_check_name(run_cfg(a, build(a, f), &cfg, &out));
	ts_arena_free(&a);
	return name;
}

#define EXPECT(check, ...)                                 \
	do {                                               \
		const struct fx f_ = {__VA_ARGS__};        \
		assert_string_equal(check_of(&f_), check); \
	} while (0)

/* ---- positive controls ---------------------------------------------------------------------- */

static void test_check_names(void **state)
{
	(void)state;
	assert_string_equal(ts_saml_check_name(TS_SAML_CHECK_SIGNATURE), "Signature");
	assert_string_equal(ts_saml_check_name(TS_SAML_CHECK_AUDIENCE), "Audience");
	for (int c = 0; c < TS_SAML__CHECKS; c++)
		assert_non_null(ts_saml_check_name((enum ts_saml_check)c));
	assert_string_equal(ts_saml_check_name(TS_SAML__CHECKS), "Unknown");
}

/* Okta's default: the Assertion signed, the Response not. Every field read back. */
static void test_valid_assertion_signed(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct fx f = {.sign_as = true};
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_string_equal(out.name_id, "alice@example.test");
	assert_string_equal(out.name_id_format,
	                    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
	assert_string_equal(out.response_id, "_r1");
	assert_string_equal(out.assertion_id, "_a1");
	assert_string_equal(out.issuer, IDP);
	assert_string_equal(out.in_response_to, "_req1");
	assert_string_equal(out.session_index, "_s1");
	assert_int_equal(out.not_on_or_after_ms, NOW + 5 * MIN_MS);
	assert_true(out.assertion_signed);
	assert_false(out.response_signed);
	assert_false(out.encrypted);
	assert_int_equal(out.n_roles, 1);
	assert_string_equal(out.roles[0].role_arn, "arn:aws:iam::123456789012:role/Admin");
	assert_string_equal(out.roles[0].provider_arn,
	                    "arn:aws:iam::123456789012:saml-provider/Okta");
	assert_string_equal(out.role_session_name, "alice");
	const struct ts_saml_attribute *r = ts_saml_attribute(&out, TS_SAML_ATTR_ROLE);
	assert_non_null(r);
	assert_int_equal(r->n_values, 1);
	assert_null(ts_saml_attribute(&out, "nope"));
	/* whitespace in the form value (line-wrapped base64) is allowed */
	const char *v = build(a, &f);
	size_t n = strlen(v);
	char *wrapped = ts_arena_alloc(a, n + n / 76 + 2);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		wrapped[k++] = v[i];
		if (i % 76 == 75)
			wrapped[k++] = '\n';
	}
	assert_int_equal(run_cfg(a, wrapped, &cfg, &out), TS_SAML_CHECK_NONE);
	ts_arena_free(&a);
}

static void test_valid_response_signed(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct fx f = {.sign_resp = true};
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_true(out.response_signed);
	assert_false(out.assertion_signed);
	ts_arena_free(&a);
}

static void test_valid_both_signed(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct fx f = {.sign_resp = true, .sign_as = true};
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_true(out.response_signed);
	assert_true(out.assertion_signed);
	ts_arena_free(&a);
}

static void test_valid_encrypted(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	/* signed assertion inside AES-128-CBC, unsigned Response */
	struct fx f = {.sign_as = true, .enc = ENC_AES128_CBC};
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_true(out.encrypted);
	assert_true(out.assertion_signed);
	assert_string_equal(out.name_id, "alice@example.test");
	/* unsigned assertion inside AES-256-GCM, the Response signature over the ciphertext */
	struct fx g = {.sign_resp = true, .enc = ENC_AES256_GCM};
	assert_int_equal(run_cfg(a, build(a, &g), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_true(out.encrypted);
	assert_false(out.assertion_signed);
	assert_true(out.response_signed);
	/* SP key rotation: the old key first, the new one opens */
	const char *keys[] = {sp2.key, sp.key};
	cfg.sp_keys_pem = keys;
	cfg.n_sp_keys = 2;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	ts_arena_free(&a);
}

/* Rollover: two metadata certificates, the second one signs; and KeyInfo absent. */
static void test_valid_rollover_and_no_keyinfo(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_verify_config cfg = config();
	const char *certs[] = {idp.cert, idp2.cert};
	cfg.idp_certs_pem = certs;
	cfg.n_idp_certs = 2;
	struct ts_saml_assertion out;
	struct fx f = {.sign_as = true, .signer = SIGNER_IDP2};
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	/* the control: with only the first certificate it is refused */
	cfg.n_idp_certs = 1;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_SIGNATURE);
	EXPECT("None", .sign_as = true, .no_keyinfo = true);
	EXPECT("None", .sign_resp = true, .no_keyinfo = true);
	ts_arena_free(&a);
}

static void test_valid_role_orders(void **state)
{
	(void)state;
	EXPECT("None", .sign_as = true,
	       .role = "arn:aws:iam::123456789012:saml-provider/Okta,"
	               "arn:aws:iam::123456789012:role/Admin");
	EXPECT("None", .sign_as = true, .rsn = OMIT);
	EXPECT("None", .sign_as = true, .resp_issuer = OMIT);
	/* IdP-initiated: no InResponseTo anywhere */
	ts_arena_t *a = ts_arena_new();
	struct fx f = {.sign_as = true, .resp_irt = OMIT, .scd_irt = OMIT};
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_null(out.in_response_to);
	ts_arena_free(&a);
}

/* ---- §1a: signature wrapping ---------------------------------------------------------------- */

static xmlNodePtr sig_of(xmlNodePtr n)
{
	return child(n, TS_SAML_NS_DSIG, "Signature");
}

static void set_id(xmlNodePtr n, const char *id)
{
	xmlSetProp(n, (const xmlChar *)"ID", (const xmlChar *)id);
}

static void make_evil(xmlNodePtr as)
{
	xmlNodeSetContent(name_id_of(as), (const xmlChar *)"admin@example.test");
}

static xmlNodePtr unsigned_copy(xmlNodePtr n)
{
	xmlNodePtr c = xmlDocCopyNode(n, n->doc, 1);
	xmlNodePtr s = sig_of(c);
	if (s) {
		xmlUnlinkNode(s);
		xmlFreeNode(s);
	}
	return c;
}

/* XSW1: the original Response copied into its own Signature; the outer one evil, new IDs. */
static void xsw1(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlAddChild(sig_of(root), unsigned_copy(root));
	set_id(root, "_evil");
	set_id(first_assertion(doc), "_evil_a");
	make_evil(first_assertion(doc));
}

/* XSW2: as XSW1, the copy a sibling just before the Signature. */
static void xsw2(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlAddPrevSibling(sig_of(root), unsigned_copy(root));
	set_id(root, "_evil");
	set_id(first_assertion(doc), "_evil_a");
	make_evil(first_assertion(doc));
}

/* XSW1 as SAMLRaider builds it: the assertion keeps its ID, so two elements share it. */
static void xsw1_same_ids(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlAddChild(sig_of(root), unsigned_copy(root));
	set_id(root, "_evil");
	make_evil(first_assertion(doc));
}

/* XSW3: an unsigned evil Assertion with a new ID before the signed one. */
static void xsw3(xmlDocPtr doc)
{
	xmlNodePtr as = first_assertion(doc);
	xmlNodePtr evil = unsigned_copy(as);
	set_id(evil, "_evil");
	make_evil(evil);
	xmlAddPrevSibling(as, evil);
}

/* XSW4: an evil Assertion appended, the signed one moved inside it. */
static void xsw4(xmlDocPtr doc)
{
	xmlNodePtr as = first_assertion(doc);
	xmlNodePtr evil = unsigned_copy(as);
	set_id(evil, "_evil");
	make_evil(evil);
	xmlAddChild(xmlDocGetRootElement(doc), evil);
	xmlUnlinkNode(as);
	xmlAddChild(evil, as);
}

/* XSW5: the first Assertion evil with a new ID, its Signature left; a clean copy appended. */
static void xsw5(xmlDocPtr doc)
{
	xmlNodePtr as = first_assertion(doc);
	xmlNodePtr clean = unsigned_copy(as);
	set_id(as, "_evil");
	make_evil(as);
	xmlAddChild(xmlDocGetRootElement(doc), clean);
}

/* XSW6: as XSW5, the clean copy inside the original Signature. */
static void xsw6(xmlDocPtr doc)
{
	xmlNodePtr as = first_assertion(doc);
	xmlNodePtr clean = unsigned_copy(as);
	set_id(as, "_evil");
	make_evil(as);
	xmlAddChild(sig_of(as), clean);
}

/* XSW7: Extensions before the Assertion, holding an unsigned evil copy with the same ID. */
static void xsw7(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr as = first_assertion(doc);
	xmlNodePtr ext = xmlNewDocNode(doc, root->ns, (const xmlChar *)"Extensions", NULL);
	xmlNodePtr evil = unsigned_copy(as);
	make_evil(evil);
	xmlAddChild(ext, evil);
	xmlAddPrevSibling(child(root, TS_SAML_NS_PROTOCOL, "Status"), ext);
}

/* XSW8: the first Assertion evil; a clean copy inside ds:Object in its Signature. */
static void xsw8(xmlDocPtr doc)
{
	xmlNodePtr as = first_assertion(doc);
	xmlNodePtr clean = unsigned_copy(as);
	make_evil(as);
	xmlNodePtr obj = xmlNewDocNode(doc, sig_of(as)->ns, (const xmlChar *)"Object", NULL);
	xmlAddChild(obj, clean);
	xmlAddChild(sig_of(as), obj);
}

/* XSW8 with the evil assertion under a new ID: the Reference no longer names its parent. */
static void xsw8_new_id(xmlDocPtr doc)
{
	xsw8(doc);
	set_id(first_assertion(doc), "_evil");
}

static void test_xsw(void **state)
{
	(void)state;
	EXPECT("Signature", .sign_resp = true, .mutate = xsw1);
	EXPECT("Signature", .sign_resp = true, .mutate = xsw2);
	EXPECT("DuplicateId", .sign_resp = true, .mutate = xsw1_same_ids);
	EXPECT("AssertionCount", .sign_as = true, .mutate = xsw3);
	EXPECT("Signature", .sign_as = true, .mutate = xsw4);
	EXPECT("AssertionCount", .sign_as = true, .mutate = xsw5);
	EXPECT("Signature", .sign_as = true, .mutate = xsw6);
	EXPECT("DuplicateId", .sign_as = true, .mutate = xsw7);
	EXPECT("DuplicateId", .sign_as = true, .mutate = xsw8);
	EXPECT("Signature", .sign_as = true, .mutate = xsw8_new_id);
	/* XSW10 (CVE-2021-28091): unsigned Response, two Assertions, only the first signed */
	EXPECT("AssertionCount", .sign_as = true, .as2_id = "_a2");
	/* the same with both signed, and with the Response signed too */
	EXPECT("AssertionCount", .sign_as = true, .sign_as2 = true, .as2_id = "_a2");
	EXPECT("AssertionCount", .sign_resp = true, .as2_id = "_a2");
}

/* A genuine signed error Response, a forged Assertion in a second Signature's ds:Object. */
static void forged_in_object(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	const char *x = "<r xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" "
	                "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:Signature><ds:Object>"
	                "<saml:Assertion ID=\"_forged\"><saml:Issuer>" IDP "</saml:Issuer>"
	                "</saml:Assertion></ds:Object></ds:Signature></r>";
	xmlDocPtr d = xmlReadMemory(x, (int)strlen(x), NULL, NULL, 0);
	xmlNodePtr s = xmlDocCopyNode(xmlDocGetRootElement(d)->children, doc, 1);
	xmlFreeDoc(d);
	xmlAddChild(root, s);
}

/* A Signature Id equal to the Response ID is a duplicate. */
static void signature_id_is_response_id(xmlDocPtr doc)
{
	xmlSetProp(sig_of(first_assertion(doc)), (const xmlChar *)"Id", (const xmlChar *)"_r1");
}

static void test_duplicate_ids(void **state)
{
	(void)state;
	EXPECT("DuplicateId", .sign_as = true, .resp_id = "_a1");
	/* pysaml2 names both Signatures "Signature1": xmldsig Id attributes alike are no SAML ID */
	EXPECT("None", .sign_resp = true, .sign_as = true, .sig_id = "Signature1");
	EXPECT("DuplicateId", .sign_resp = true, .sign_as = true,
	       .mutate = signature_id_is_response_id);
	/* an exc-c14n InclusiveNamespaces in the CanonicalizationMethod is allowed, nothing else */
	EXPECT("None", .sign_as = true, .c14n_incl = true);
	EXPECT("None", .sign_resp = true, .c14n_incl = true);
}

static void test_status_and_count(void **state)
{
	(void)state;
	EXPECT("Status", .sign_resp = true, .no_assertion = true, .status = "Requester",
	       .mutate = forged_in_object);
	/* the control: the same Response with Success and no assertion is a count failure */
	EXPECT("AssertionCount", .sign_resp = true, .no_assertion = true,
	       .mutate = forged_in_object);
	EXPECT("AssertionCount", .sign_resp = true, .no_assertion = true);
	EXPECT("Status", .sign_as = true, .status = "Responder");
}

/* ---- §1b ------------------------------------------------------------------------------------ */

static void test_comment_injection(void **state)
{
	(void)state;
	/* signed as admin@example.test.evil.test; exclusive c14n drops the comment */
	EXPECT("None", .sign_as = true, .name_id = "admin@example.test.evil.test");
	EXPECT("Subject", .sign_as = true, .name_id = "admin@example.test.evil.test",
	       .find = "admin@example.test.evil.test",
	       .repl = "admin@example.test<!---->.evil.test");
	EXPECT("Attribute", .sign_as = true, .find = "role/Admin,", .repl = "role/Admin<!---->,");
	EXPECT("Attribute", .sign_as = true, .rsn = "alice.evil", .find = "alice.evil",
	       .repl = "alice<!---->.evil");
	/* a child element instead of a comment */
	EXPECT("Subject", .sign_as = true, .name_id = "a<x/>b");
}

static void test_stripping_and_tampering(void **state)
{
	(void)state;
	/* no signature anywhere */
	EXPECT("Signature");
	/* unsigned Assertion in a signed Response: tampering breaks the digest */
	EXPECT("Signature", .sign_resp = true, .find = "alice@example.test<",
	       .repl = "admin@example.test<");
	/* the same untampered is the positive control (test_valid_response_signed) */
	/* signed Assertion, unsigned Response: its Destination and InResponseTo changed */
	EXPECT("Destination", .sign_as = true, .destination = "https://evil.example.test/acs");
	EXPECT("InResponseTo", .sign_as = true, .resp_irt = "_other");
	/* a signed Response without Destination when only it is signed */
	EXPECT("Destination", .sign_resp = true, .destination = OMIT);
	EXPECT("None", .sign_as = true, .destination = OMIT);
	/* an unauthenticated Response InResponseTo is not reported */
	ts_arena_t *a = ts_arena_new();
	struct fx f = {.sign_as = true, .scd_irt = OMIT, .resp_irt = "_req9"};
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_null(out.in_response_to);
	f.sign_resp = true;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	assert_string_equal(out.in_response_to, "_req9");
	ts_arena_free(&a);
}

static void test_raw_documents(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        /* XXE */
	        "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r\">"
	        "&x;</samlp:Response>",
	        /* billion laughs */
	        "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
	        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
	        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r\">"
	        "&d;</samlp:Response>",
	        /* not a Response */
	        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>",
	        /* the right name in the wrong namespace */
	        "<Response xmlns=\"urn:example\" ID=\"_r\"/>",
	        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"",
	};
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(run_cfg(a, b64(a, bad[i], strlen(bad[i])), &cfg, &out),
		                 TS_SAML_CHECK_XML);
	static const char *const enc[] = {"", "   ", "not*base64", "QUJD=", "QQ==QQ==", "QUJDRA"};
	for (size_t i = 0; i < sizeof enc / sizeof *enc; i++)
		assert_int_equal(run_cfg(a, enc[i], &cfg, &out), TS_SAML_CHECK_ENCODING);
	/* past the cap */
	size_t big = TS_SAML_RESPONSE_MAX + 3;
	char *raw = ts_arena_alloc(a, big);
	memset(raw, ' ', big);
	assert_int_equal(run_cfg(a, b64(a, raw, big), &cfg, &out), TS_SAML_CHECK_ENCODING);
	/* duplicate IDs: the Response and the Assertion share one */
	ts_arena_free(&a);
	EXPECT("DuplicateId", .sign_as = true, .resp_id = "_a1");
	/* IDs that are not NCNames: id() would split "_a1 _r1", a quote would end the XPointer
	 * (xmlsec will not sign them, so they are checked unsigned: the ID check comes first) */
	EXPECT("Xml", .resp_id = "_r1 _a1");
	EXPECT("Xml", .as_id = "_a1 _r1");
	EXPECT("Xml", .as_id = "_a1&apos;)");
}

static void test_clock(void **state)
{
	(void)state;
	/* Conditions NotBefore: now + skew is still fine, one more second is not */
	EXPECT("None", .sign_as = true, .nb_off = MIN_MS + SKEW);
	EXPECT("Time", .sign_as = true, .nb_off = MIN_MS + SKEW + TS_MS_PER_S);
	/* Conditions NotOnOrAfter: now - skew is over, one ms later is not */
	EXPECT("Time", .sign_as = true, .noa_off = -5 * MIN_MS - SKEW);
	EXPECT("None", .sign_as = true, .noa_off = -5 * MIN_MS - SKEW + 1);
	/* SubjectConfirmationData NotOnOrAfter, both sides */
	EXPECT("Time", .sign_as = true, .scd_noa_off = -5 * MIN_MS - SKEW);
	EXPECT("None", .sign_as = true, .scd_noa_off = -5 * MIN_MS - SKEW + 1);
	/* SubjectConfirmationData NotOnOrAfter is required (SAML profiles §4.1.4.2) */
	EXPECT("Time", .sign_as = true, .scd_noa = OMIT);
	/* strict xs:dateTime */
	EXPECT("Time", .sign_as = true, .noa = "2026-11-30T09:00:00");
	EXPECT("Time", .sign_as = true, .noa = "2026-11-30T09:00:00.000");
	EXPECT("Time", .sign_as = true, .noa = "2026-11-30T09:0x:00Z");
	EXPECT("Time", .sign_as = true, .noa = "2026-11-30 09:00:00Z");
	EXPECT("Time", .sign_as = true, .noa = "2026-11-30T09:00:00Zgarbage");
	EXPECT("Time", .sign_as = true, .noa = "2026-02-30T09:00:00Z");
	EXPECT("Time", .sign_as = true, .noa = "2026-11-30T09:00:00z");
	EXPECT("Time", .sign_as = true, .nb = "9999-12-31T23:59:59Z");
	/* a far NotOnOrAfter in an offset form is fine; the replay cache keeps the earliest */
	EXPECT("None", .sign_as = true, .noa = "2099-01-01T00:00:00.5+02:00");
}

static void test_audience(void **state)
{
	(void)state;
	EXPECT("Audience", .sign_as = true,
	       .audiences = "<saml:AudienceRestriction><saml:Audience>https://other.example.test"
	                    "</saml:Audience></saml:AudienceRestriction>");
	EXPECT("Audience", .sign_as = true, .audiences = "");
	EXPECT("Audience", .sign_as = true,
	       .audiences = "<saml:AudienceRestriction><saml:Audience>" SP
	                    "</saml:Audience></saml:AudienceRestriction>"
	                    "<saml:AudienceRestriction><saml:Audience>https://other.example.test"
	                    "</saml:Audience></saml:AudienceRestriction>");
	/* control: two restrictions that both name us; one restriction naming us among others */
	EXPECT("None", .sign_as = true,
	       .audiences = "<saml:AudienceRestriction><saml:Audience>" SP
	                    "</saml:Audience></saml:AudienceRestriction>"
	                    "<saml:AudienceRestriction><saml:Audience>https://other.example.test"
	                    "</saml:Audience><saml:Audience>" SP
	                    "</saml:Audience></saml:AudienceRestriction><saml:OneTimeUse/>");
}

static void test_destination_recipient_bearer_issuer(void **state)
{
	(void)state;
	EXPECT("Destination", .sign_resp = true, .destination = "https://evil.example.test/acs");
	EXPECT("Recipient", .sign_as = true, .recipient = "https://evil.example.test/acs");
	EXPECT("Recipient", .sign_as = true, .recipient = OMIT);
	EXPECT("Bearer", .sign_as = true, .method = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key");
	EXPECT("Issuer", .sign_as = true, .as_issuer = "https://evil.example.test");
	EXPECT("Issuer", .sign_as = true, .resp_issuer = "https://evil.example.test");
	EXPECT("Issuer", .sign_as = true, .as_issuer = IDP "<!---->");
	/* SAML profiles §4.1.4.2: an Issuer Format, when present, is the entity format */
	EXPECT("None", .sign_as = true, .find = "assertion\">" IDP "</saml:Issuer>",
	       .repl = "assertion\" "
	               "Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">" IDP
	               "</saml:Issuer>");
	EXPECT("Issuer", .sign_as = true, .find = "assertion\">" IDP "</saml:Issuer>",
	       .repl = "assertion\" "
	               "Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\">" IDP
	               "</saml:Issuer>");
	EXPECT("InResponseTo", .sign_resp = true, .scd_irt = "_other");
}

static void test_keys_and_algorithms(void **state)
{
	(void)state;
	/* an attacker's key, its certificate in KeyInfo */
	EXPECT("Signature", .sign_as = true, .signer = SIGNER_ATTACKER);
	EXPECT("Signature", .sign_resp = true, .signer = SIGNER_ATTACKER);
	/* an attacker's key, the metadata certificate in KeyInfo */
	EXPECT("Signature", .sign_as = true, .signer = SIGNER_ATTACKER, .x509_of = idp.cert);
	/* SHA-1: refused by default, accepted when the account opted in */
	EXPECT("Algorithm", .sign_as = true, .sha1 = true);
	EXPECT("Algorithm", .sign_resp = true, .sha1 = true);
	ts_arena_t *a = ts_arena_new();
	struct fx f = {.sign_as = true, .sha1 = true};
	struct ts_saml_verify_config cfg = config();
	cfg.allow_sha1 = true;
	struct ts_saml_assertion out;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_NONE);
	ts_arena_free(&a);
	/* a transform outside the allow-list (c14n with comments) */
	EXPECT("Algorithm", .sign_as = true,
	       .find = "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
	       .repl = "<ds:Transform "
	               "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#WithComments\"/>");
	/* HMAC with the public certificate as the secret */
	EXPECT("Algorithm", .sign_as = true,
	       .find = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	       .repl = "http://www.w3.org/2000/09/xmldsig#hmac-sha1");
	/* a Reference to another element's ID */
	EXPECT("Signature", .sign_as = true, .find = "URI=\"#_a1\"", .repl = "URI=\"#_r1\"");
	/* a second Reference */
	EXPECT("Signature", .sign_as = true, .find = "</ds:SignedInfo>",
	       .repl = "<ds:Reference URI=\"#_r1\"><ds:DigestMethod "
	               "Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
	               "<ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo>");
}

/* The EncryptedData's ciphertext changed (the last characters before its end). */
static void flip_cipher(xmlDocPtr doc)
{
	xmlNodePtr ea =
	        child(xmlDocGetRootElement(doc), TS_SAML_NS_ASSERTION, "EncryptedAssertion");
	xmlNodePtr ed = child(ea, TS_SAML_NS_XMLENC, "EncryptedData");
	xmlNodePtr cv =
	        child(child(ed, TS_SAML_NS_XMLENC, "CipherData"), TS_SAML_NS_XMLENC, "CipherValue");
	xmlChar *t = xmlNodeGetContent(cv);
	size_t n = strlen((const char *)t);
	assert_true(n > 30);
	t[n - 30] = t[n - 30] == 'A' ? 'B' : 'A';
	xmlNodeSetContent(cv, t);
	xmlFree(t);
}

static void cipher_reference(xmlDocPtr doc)
{
	xmlNodePtr ea =
	        child(xmlDocGetRootElement(doc), TS_SAML_NS_ASSERTION, "EncryptedAssertion");
	xmlNodePtr cd = child(child(ea, TS_SAML_NS_XMLENC, "EncryptedData"), TS_SAML_NS_XMLENC,
	                      "CipherData");
	xmlNodePtr cv = child(cd, TS_SAML_NS_XMLENC, "CipherValue");
	xmlNodePtr cr = xmlNewDocNode(doc, cv->ns, (const xmlChar *)"CipherReference", NULL);
	xmlSetProp(cr, (const xmlChar *)"URI", (const xmlChar *)"file:///etc/passwd");
	xmlReplaceNode(cv, cr);
	xmlFreeNode(cv);
}

static void test_encrypted_failures(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_verify_config cfg = config();
	struct ts_saml_assertion out;
	/* another SP's key */
	const char *other[] = {sp2.key};
	cfg.sp_keys_pem = other;
	struct fx f = {.sign_as = true, .enc = ENC_AES128_CBC};
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_DECRYPTION);
	/* no SP key at all */
	cfg.n_sp_keys = 0;
	assert_int_equal(run_cfg(a, build(a, &f), &cfg, &out), TS_SAML_CHECK_DECRYPTION);
	ts_arena_free(&a);
	/* a changed ciphertext: one error, whatever broke */
	EXPECT("Decryption", .sign_as = true, .enc = ENC_AES128_CBC, .mutate = flip_cipher);
	EXPECT("Decryption", .sign_as = true, .enc = ENC_AES256_GCM, .mutate = flip_cipher);
	/* in a signed Response, the signature catches it before decryption */
	EXPECT("Signature", .sign_resp = true, .enc = ENC_AES256_GCM, .mutate = flip_cipher);
	/* a CipherReference instead of the ciphertext: xmlsec would fetch the URI */
	EXPECT("Decryption", .sign_as = true, .enc = ENC_AES128_CBC, .mutate = cipher_reference);
	/* RSA1_5 key transport */
	EXPECT("Algorithm", .sign_as = true, .enc = ENC_RSA1_5);
	/* an unsigned assertion inside encryption, in an unsigned Response */
	EXPECT("Signature", .enc = ENC_AES128_CBC);
}

static void test_attributes(void **state)
{
	(void)state;
	EXPECT("Attribute", .sign_as = true, .role = "arn:aws:iam::123456789012:role/Admin");
	EXPECT("Attribute", .sign_as = true,
	       .role = "arn:aws:iam::123456789012:role/A,arn:aws:iam::123456789012:role/B");
	EXPECT("Attribute", .sign_as = true,
	       .role = "arn:aws:iam::1234:role/A,arn:aws:iam::123456789012:saml-provider/Okta");
	EXPECT("Attribute", .sign_as = true, .role = ROLE_OK ",x");
	EXPECT("Attribute", .sign_as = true, .rsn = "a");
	EXPECT("Attribute", .sign_as = true, .rsn = "alice smith");
	EXPECT("None", .sign_as = true, .rsn = "alice+ops=1,x.y@example-test_");
}

/* ---- concurrency and the certificate cache -------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 10
/* More certificates than the verifier caches, so that full-cache paths run. */
#define MANY_CERTS 300

struct job {
	const char *value;
	int ok;
};

static void *worker(void *p)
{
	struct job *j = p;
	for (int i = 0; i < PER_THREAD; i++) {
		ts_arena_t *a = ts_arena_new();
		struct ts_saml_verify_config cfg = config();
		struct ts_saml_assertion out;
		enum ts_saml_check failed;
		struct ts_error e = {0};
		j->ok += ts_saml_response_verify(a, j->value, strlen(j->value), &cfg, &out, &failed,
		                                 &e) == TS_ERR_OK;
		ts_arena_free(&a);
	}
	return NULL;
}

static void test_threads_and_key_cache(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct fx f = {.sign_as = true};
	struct job jobs[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		jobs[i] = (struct job){build(a, &f), 0};
		assert_int_equal(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(jobs[i].ok, PER_THREAD);
	}
	/* many certificates of another key, the IdP's last: every one is tried and held */
	EVP_PKEY *k = EVP_RSA_gen(2048);
	const char **certs = ts_arena_alloc(a, (MANY_CERTS + 1) * sizeof *certs);
	for (int i = 0; i < MANY_CERTS; i++)
		certs[i] = make_cert(k, "unrelated.example.test");
	EVP_PKEY_free(k);
	certs[MANY_CERTS] = idp.cert;
	struct ts_saml_verify_config cfg = config();
	cfg.idp_certs_pem = certs;
	cfg.n_idp_certs = MANY_CERTS + 1;
	struct ts_saml_assertion out;
	const char *v = build(a, &f);
	assert_int_equal(run_cfg(a, v, &cfg, &out), TS_SAML_CHECK_NONE);
	assert_int_equal(run_cfg(a, v, &cfg, &out), TS_SAML_CHECK_NONE);
	/* the cache evicted what it had to: the plain configuration still verifies */
	cfg = config();
	assert_int_equal(run_cfg(a, v, &cfg, &out), TS_SAML_CHECK_NONE);
	ts_arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_check_names),
	        cmocka_unit_test(test_valid_assertion_signed),
	        cmocka_unit_test(test_valid_response_signed),
	        cmocka_unit_test(test_valid_both_signed),
	        cmocka_unit_test(test_valid_encrypted),
	        cmocka_unit_test(test_valid_rollover_and_no_keyinfo),
	        cmocka_unit_test(test_valid_role_orders),
	        cmocka_unit_test(test_xsw),
	        cmocka_unit_test(test_status_and_count),
	        cmocka_unit_test(test_duplicate_ids),
	        cmocka_unit_test(test_comment_injection),
	        cmocka_unit_test(test_stripping_and_tampering),
	        cmocka_unit_test(test_raw_documents),
	        cmocka_unit_test(test_clock),
	        cmocka_unit_test(test_audience),
	        cmocka_unit_test(test_destination_recipient_bearer_issuer),
	        cmocka_unit_test(test_keys_and_algorithms),
	        cmocka_unit_test(test_encrypted_failures),
	        cmocka_unit_test(test_attributes),
	        cmocka_unit_test(test_threads_and_key_cache),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
