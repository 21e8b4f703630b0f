/*
 * Unit tests of src/saml/metadata.c and src/saml/keys.c: IdP metadata in
 * the shapes real IdPs publish (Okta, pysaml2, Entra ID: fixtures written by
 * tests/unit/fixtures/saml_metadata/make.py, with OpenSSL's command line as
 * the second reader of each certificate), then a table of documents that
 * each change one thing (accepted and refused); the SP's EntityDescriptor
 * read back with the hardened parser; SP key pairs checked with OpenSSL.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "saml/metadata.h"
#include "saml/xml.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURES "tests/unit/fixtures/saml_metadata/"
#define FILE_MAX (1024 * 1024)
#define LINE_MAX_LEN 256
#define SP_DAYS 365
#define DAY_MS (INT64_C(86400) * TS_MS_PER_S)

static char *read_file(ts_arena_t *a, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = ts_arena_alloc(a, FILE_MAX + 1);
	*len = fread(buf, 1, FILE_MAX, f);
	fclose(f);
	buf[*len] = 0;
	return buf;
}

/* The base64 body of a PEM certificate file, on one line. */
static char *cert_body(ts_arena_t *a, const char *name)
{
	size_t n = 0;
	char *pem = read_file(a, ts_arena_printf(a, FIXTURES "%s.crt", name), &n);
	char *out = ts_arena_alloc(a, n + 1);
	char *o = out;
	const char *p = strchr(pem, '\n') + 1;
	const char *end = strstr(pem, "-----END");
	for (; p < end; p++)
		if (*p != '\n')
			*o++ = *p;
	return out;
}

/* What expected.txt (OpenSSL's command line) says of the certificates of doc, in order. */
static size_t expected(ts_arena_t *a, const char *doc, char fps[][TS_SHA256_HEX_LEN + 1],
                       int64_t *not_after_s)
{
	size_t n = 0;
	char *text = read_file(a, FIXTURES "expected.txt", &n);
	size_t k = 0;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		*nl = 0;
		char *sp1 = strchr(line, ' ');
		char *sp2 = strchr(sp1 + 1, ' ');
		*sp1 = *sp2 = 0;
		if (strcmp(line, doc) == 0) {
			assert_int_equal(strlen(sp1 + 1), TS_SHA256_HEX_LEN);
			memcpy(fps[k], sp1 + 1, TS_SHA256_HEX_LEN + 1);
			not_after_s[k++] = strtoll(sp2 + 1, NULL, 10);
		}
		line = nl + 1;
	}
	return k;
}

static void check_certs_match_openssl(ts_arena_t *a, const char *doc,
                                      const struct ts_saml_idp_metadata *md)
{
	char fps[TS_SAML_CERTS_MAX][TS_SHA256_HEX_LEN + 1];
	int64_t not_after[TS_SAML_CERTS_MAX];
	size_t n = expected(a, doc, fps, not_after);
	assert_true(n > 0);
	assert_int_equal(md->n_certs, n);
	for (size_t i = 0; i < n; i++) {
		const struct ts_saml_cert *c = &md->certs[i];
		assert_string_equal(c->sha256, fps[i]);
		assert_int_equal(c->not_after_ms, not_after[i] * TS_MS_PER_S);
		assert_true(c->not_before_ms < c->not_after_ms);
		assert_true(strncmp(c->pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
		/* the PEM is what the verifier takes: it reads back as the same certificate */
		struct ts_saml_cert again;
		struct ts_error e = {0};
		assert_int_equal(ts_saml_cert_read(a, c->pem, &again, &e), TS_ERR_OK);
		assert_string_equal(again.sha256, c->sha256);
		assert_string_equal(again.subject, c->subject);
		assert_int_equal(again.not_before_ms, c->not_before_ms);
	}
}

static void parse_fixture(ts_arena_t *a, const char *doc, struct ts_saml_idp_metadata *md)
{
	size_t n = 0;
	char *xml = read_file(a, ts_arena_printf(a, FIXTURES "%s", doc), &n);
	struct ts_error e = {0};
	ts_err rc = ts_saml_metadata_parse(a, xml, n, md, &e);
	if (rc != TS_ERR_OK)
		fail_msg("%s: %s", doc, e.message);
	check_certs_match_openssl(a, doc, md);
}

static void test_okta_shape(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_idp_metadata md;
	parse_fixture(a, "okta.xml", &md);
	assert_string_equal(md.entity_id, "http://www.okta.com/exk1a2b3c4d5e6f7g8h9");
	const char *sso = "https://dev-1234567.okta.com/app/dev-1234567_tessera_1/"
	                  "exk1a2b3c4d5e6f7g8h9/sso/saml";
	assert_string_equal(md.sso_redirect_url, sso);
	assert_string_equal(md.sso_post_url, sso);
	assert_false(md.want_authn_requests_signed);
	assert_non_null(strstr(md.certs[0].subject, "CN=dev-1234567"));
	assert_non_null(strstr(md.certs[0].subject, "O=Okta"));
	ts_arena_free(&a);
}

static void test_pysaml2_shape(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_idp_metadata md;
	parse_fixture(a, "pysaml2.xml", &md);
	assert_string_equal(md.entity_id, "https://idp.example.test/idp.xml");
	assert_string_equal(md.sso_redirect_url, "https://idp.example.test/sso/redirect");
	assert_string_equal(md.sso_post_url, "https://idp.example.test/sso/post");
	assert_false(md.want_authn_requests_signed);
	assert_string_equal(md.certs[0].subject, "CN=idp.example.test");
	ts_arena_free(&a);
}

static void test_entra_shape(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_idp_metadata md;
	/* the RoleDescriptor and Signature certificates are not the IdP's: two, not six */
	parse_fixture(a, "entra.xml", &md);
	assert_string_equal(md.entity_id,
	                    "https://sts.windows.net/9b2c4a1e-5f7d-4e3a-8c6b-1d2e3f4a5b6c/");
	assert_string_equal(
	        md.sso_redirect_url,
	        "https://login.microsoftonline.com/9b2c4a1e-5f7d-4e3a-8c6b-1d2e3f4a5b6c/saml2");
	assert_string_equal(md.certs[1].subject, "CN=Microsoft Azure Federated SSO Certificate");
	ts_arena_free(&a);
}

/* ---- one change at a time ---- */

#define MD_NS "urn:oasis:names:tc:SAML:2.0:metadata"
#define DS_NS "http://www.w3.org/2000/09/xmldsig#"
#define ED_OPEN                                                         \
	"<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS \
	"\" entityID=\"https://idp.example.test/e\">"
#define ED_CLOSE "</md:EntityDescriptor>"
#define IDP_OPEN                \
	"<md:IDPSSODescriptor " \
	"protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
#define IDP_CLOSE "</md:IDPSSODescriptor>"
#define SSO(binding, url)                                                                 \
	"<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:" binding \
	"\" Location=\"" url "\"/>"
#define REDIRECT(url) SSO("HTTP-Redirect", url)
#define S REDIRECT("https://idp.example.test/sso")
/* $K and $P stand for KeyDescriptors use="signing" of two certificates, $B for a bare certificate
 */
#define IDP(body) ED_OPEN IDP_OPEN body IDP_CLOSE ED_CLOSE
#define OK_DOC IDP("$K" S)

static const char *expand(ts_arena_t *a, const char *tpl, const char *k, const char *p)
{
	const char *out = "";
	for (const char *s = tpl; *s;) {
		const char *d = strchr(s, '$');
		if (!d)
			return ts_arena_concat(a, out, s, NULL);
		out = ts_arena_concat(a, out, ts_arena_strndup(a, s, (size_t)(d - s)), NULL);
		const char *with = d[1] == 'K' ? k : d[1] == 'P' ? p : d[1] == 'B' ? k : NULL;
		assert_non_null(with);
		if (d[1] == 'B')
			with = ts_arena_strndup(a, strstr(k, "Certificate>") + 12,
			                        (size_t)(strstr(k, "</ds:X509Certificate") -
			                                 (strstr(k, "Certificate>") + 12)));
		out = ts_arena_concat(a, out, with, NULL);
		s = d + 2;
	}
	return out;
}

static const char *kd(ts_arena_t *a, const char *use, const char *body)
{
	return ts_arena_printf(
	        a,
	        "<md:KeyDescriptor%s><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
	        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
	        use, body);
}

static void test_table(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		ts_err rc;
		const char *msg; /* a part of the message (refused), or of the redirect URL */
		size_t n_certs;
	} cases[] = {
	        {OK_DOC, TS_ERR_OK, "https://idp.example.test/sso", 1},
	        /* KeyDescriptor without use: both signing and encryption (Metadata §2.4.1.1) */
	        {IDP("<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>$B"
	             "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>" S),
	         TS_ERR_OK, "", 1},
	        {IDP("<md:KeyDescriptor use=\"encryption\"><ds:KeyInfo><ds:X509Data><ds:"
	             "X509Certificate>$B</ds:X509Certificate></ds:X509Data></ds:KeyInfo></"
	             "md:KeyDescriptor>" S),
	         TS_ERR_BAD_REQUEST, "no signing certificate", 0},
	        {IDP("<md:KeyDescriptor use=\"encryption\"><ds:KeyInfo><ds:X509Data><ds:"
	             "X509Certificate>$B</ds:X509Certificate></ds:X509Data></ds:KeyInfo></"
	             "md:KeyDescriptor>$P" S),
	         TS_ERR_OK, "", 1},
	        {IDP("$K$K" S), TS_ERR_OK, "", 1}, /* the same key twice: kept once */
	        {IDP("$K$P" S), TS_ERR_OK, "", 2}, /* rollover: both */
	        {IDP("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:"
	             "X509Certificate>$B</ds:X509Certificate><ds:X509Certificate>$B</"
	             "ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>" S),
	         TS_ERR_OK, "", 1},
	        {ED_OPEN
	         "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:"
	         "1.1:protocol  urn:oasis:names:tc:SAML:2.0:protocol\">$K" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_OK, "", 1},
	        {ED_OPEN
	         "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:"
	         "1.1:protocol\">$K" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "no IDPSSODescriptor", 0},
	        {ED_OPEN
	         "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:"
	         "2.0:protocolX\">$K" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "no IDPSSODescriptor", 0},
	        {ED_OPEN "<md:IDPSSODescriptor>$K" S IDP_CLOSE ED_CLOSE, TS_ERR_BAD_REQUEST,
	         "no IDPSSODescriptor", 0},
	        {ED_OPEN
	         "<md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:"
	         "protocol\">$K</md:SPSSODescriptor>" ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "no IDPSSODescriptor", 0},
	        {ED_OPEN IDP_OPEN "$K" S IDP_CLOSE IDP_OPEN "$P" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "more than one SAML 2.0 IDPSSODescriptor", 0},
	        {"<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS "\">" IDP_OPEN
	         "$K" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "no entityID", 0},
	        {"<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS
	         "\" entityID=\"\">" IDP_OPEN "$K" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "no entityID", 0},
	        {"<EntityDescriptor xmlns=\"urn:oasis:names:tc:SAML:1.0:metadata\" "
	         "entityID=\"x\"/>",
	         TS_ERR_BAD_REQUEST, "root", 0},
	        {"<md:Response xmlns:md=\"" MD_NS "\"/>", TS_ERR_BAD_REQUEST, "root", 0},
	        {"<!DOCTYPE md:EntityDescriptor>" OK_DOC, TS_ERR_BAD_REQUEST, "DOCTYPE", 0},
	        {"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
	         "<md:EntityDescriptor xmlns:md=\"" MD_NS "\" entityID=\"&e;\"/>",
	         TS_ERR_BAD_REQUEST, "", 0},
	        {ED_OPEN IDP_OPEN "$K" S, TS_ERR_BAD_REQUEST, "well-formed", 0},
	        /* SingleSignOnService URLs */
	        {IDP("$K" REDIRECT("http://127.0.0.1:8080/sso")), TS_ERR_OK,
	         "http://127.0.0.1:8080/sso", 1},
	        {IDP("$K" REDIRECT("http://127.255.3.4/sso")), TS_ERR_OK, "http://127.255.3.4/sso",
	         1},
	        {IDP("$K" REDIRECT("http://localhost/sso?x=1")), TS_ERR_OK,
	         "http://localhost/sso?x=1", 1},
	        {IDP("$K" REDIRECT("http://[::1]:9000/sso")), TS_ERR_OK, "http://[::1]:9000/sso",
	         1},
	        {IDP("$K" REDIRECT("https://idp.example.test:8443")), TS_ERR_OK,
	         "https://idp.example.test:8443", 1},
	        {IDP("$K" REDIRECT("http://idp.example.test/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("http://127.0.0.1.evil.example/sso")), TS_ERR_BAD_REQUEST,
	         "https", 0},
	        {IDP("$K" REDIRECT("http://localhost.evil.example/sso")), TS_ERR_BAD_REQUEST,
	         "https", 0},
	        {IDP("$K" REDIRECT("http://128.0.0.1/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("http://127.0.0.256/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("http://0127.0.0.1/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("http://127.1/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("http://[::2]/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("https://user@idp.example.test/sso")), TS_ERR_BAD_REQUEST,
	         "https", 0},
	        {IDP("$K" REDIRECT("http://evil.example@127.0.0.1/sso")), TS_ERR_BAD_REQUEST,
	         "https", 0},
	        {IDP("$K" REDIRECT("https:///sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("https://:443/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("https://idp.example.test:/sso")), TS_ERR_BAD_REQUEST, "https",
	         0},
	        {IDP("$K" REDIRECT("https://idp.example.test:44a3/sso")), TS_ERR_BAD_REQUEST,
	         "https", 0},
	        {IDP("$K" REDIRECT("/sso")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("javascript:alert(1)")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K" REDIRECT("https://idp.example.test/sso#f")), TS_ERR_BAD_REQUEST, "https",
	         0},
	        {IDP("$K" REDIRECT("https://idp.example.test/s so")), TS_ERR_BAD_REQUEST, "https",
	         0},
	        {IDP("$K" REDIRECT("https://idp.example.test/sso&#10;")), TS_ERR_BAD_REQUEST,
	         "https", 0},
	        {IDP("$K" REDIRECT("HTTPS://idp.example.test/sso")), TS_ERR_BAD_REQUEST, "https",
	         0},
	        {IDP("$K" REDIRECT("")), TS_ERR_BAD_REQUEST, "https", 0},
	        {IDP("$K<md:SingleSignOnService "
	             "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-"
	             "Redirect\"/>"),
	         TS_ERR_BAD_REQUEST, "https", 0},
	        /* the first endpoint of a binding is the one used; a second is not read */
	        {IDP("$K" S REDIRECT("https://second.example.test/sso")), TS_ERR_OK,
	         "https://idp.example.test/sso", 1},
	        {IDP("$K" SSO("SOAP", "https://idp.example.test/soap")), TS_ERR_BAD_REQUEST,
	         "no SingleSignOnService", 0},
	        {IDP("$K"), TS_ERR_BAD_REQUEST, "no SingleSignOnService", 0},
	        {IDP("$K" SSO("HTTP-POST", "https://idp.example.test/post")), TS_ERR_OK,
	         "(post only)", 1},
	        /* EntitiesDescriptor */
	        {"<md:EntitiesDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS "\">"
	         "<md:EntityDescriptor entityID=\"https://sp.example.test\"><md:SPSSODescriptor "
	         "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"/></"
	         "md:EntityDescriptor>"
	         "<md:EntityDescriptor entityID=\"https://idp.example.test/e\">" IDP_OPEN
	         "$K" S IDP_CLOSE "</md:EntityDescriptor></md:EntitiesDescriptor>",
	         TS_ERR_OK, "", 1},
	        {"<md:EntitiesDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS "\">"
	         "<md:EntitiesDescriptor><md:EntityDescriptor "
	         "entityID=\"https://idp.example.test/e\">" IDP_OPEN "$K" S IDP_CLOSE
	         "</md:EntityDescriptor></md:EntitiesDescriptor></md:EntitiesDescriptor>",
	         TS_ERR_OK, "", 1},
	        {"<md:EntitiesDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS "\">"
	         "<md:EntityDescriptor entityID=\"https://idp.example.test/e\">" IDP_OPEN
	         "$K" S IDP_CLOSE "</md:EntityDescriptor><md:EntityDescriptor "
	         "entityID=\"https://idp2.example.test/e\">" IDP_OPEN "$P" S IDP_CLOSE
	         "</md:EntityDescriptor></md:EntitiesDescriptor>",
	         TS_ERR_BAD_REQUEST, "2 identity providers", 0},
	        {"<md:EntitiesDescriptor xmlns:md=\"" MD_NS "\"/>", TS_ERR_BAD_REQUEST,
	         "no IDPSSODescriptor", 0},
	        /* WantAuthnRequestsSigned */
	        {ED_OPEN "<md:IDPSSODescriptor WantAuthnRequestsSigned=\"yes\" "
	                 "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">$K" S
	                         IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "WantAuthnRequestsSigned is not a boolean", 0},
	        /* certificates */
	        {IDP("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:"
	             "X509Certificate>MII<!-- x "
	             "-->$B</ds:X509Certificate></ds:X509Data></ds:KeyInfo></"
	             "md:KeyDescriptor>" S),
	         TS_ERR_BAD_REQUEST, "other than text", 0},
	        {IDP("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:"
	             "X509Certificate>not*base64</ds:X509Certificate></ds:X509Data></ds:KeyInfo></"
	             "md:KeyDescriptor>" S),
	         TS_ERR_BAD_REQUEST, "not base64", 0},
	        {IDP("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:"
	             "X509Certificate></ds:X509Certificate></ds:X509Data></ds:KeyInfo></"
	             "md:KeyDescriptor>" S),
	         TS_ERR_BAD_REQUEST, "not base64", 0},
	        {IDP("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:"
	             "X509Certificate>SGVsbG8sIHdvcmxkIQ==</ds:X509Certificate></ds:X509Data></"
	             "ds:KeyInfo></md:KeyDescriptor>" S),
	         TS_ERR_BAD_REQUEST, "not one DER", 0},
	        {IDP("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:KeyName>idp</ds:KeyName></"
	             "ds:KeyInfo></md:KeyDescriptor>" S),
	         TS_ERR_BAD_REQUEST, "no signing certificate", 0},
	        {IDP("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><md:"
	             "X509Certificate>$B</md:X509Certificate></ds:X509Data></ds:KeyInfo></"
	             "md:KeyDescriptor>" S),
	         TS_ERR_BAD_REQUEST, "no signing certificate", 0},
	        /* keys elsewhere in the document are not the IdP's signing keys */
	        {ED_OPEN "<md:RoleDescriptor>$K</md:RoleDescriptor>" IDP_OPEN S IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, "no signing certificate", 0},
	};
	ts_arena_t *fa = ts_arena_new();
	const char *k = kd(fa, " use=\"signing\"", cert_body(fa, "okta"));
	const char *p = kd(fa, " use=\"signing\"", cert_body(fa, "pysaml2"));
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		ts_arena_t *a = ts_arena_new();
		const char *doc = expand(a, cases[i].doc, k, p);
		struct ts_saml_idp_metadata md;
		struct ts_error e = {0};
		ts_err rc = ts_saml_metadata_parse(a, doc, strlen(doc), &md, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s), want %d", i, rc, e.message, cases[i].rc);
		if (rc == TS_ERR_OK) {
			assert_int_equal(md.n_certs, cases[i].n_certs);
			assert_string_equal(md.entity_id, "https://idp.example.test/e");
			if (strcmp(cases[i].msg, "(post only)") == 0) {
				assert_null(md.sso_redirect_url);
				assert_string_equal(md.sso_post_url,
				                    "https://idp.example.test/post");
			} else if (*cases[i].msg) {
				assert_string_equal(md.sso_redirect_url, cases[i].msg);
			}
		} else {
			assert_null(md.entity_id);
			assert_int_equal(md.n_certs, 0);
			if (!strstr(e.message, cases[i].msg))
				fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.message,
				         cases[i].msg);
		}
		ts_arena_free(&a);
	}
	ts_arena_free(&fa);
}

/* SAML Metadata §2.3.1, §2.3.2: the earliest validUntil around the IdP, read as xs:dateTime. */
static void test_valid_until(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		ts_err rc;
		int64_t until_ms;
	} cases[] = {
	        {OK_DOC, TS_ERR_OK, 0},
	        {"<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS
	         "\" entityID=\"https://idp.example.test/e\" "
	         "validUntil=\"2030-01-01T00:00:00Z\">" IDP_OPEN "$K" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_OK, 1893456000000},
	        /* the outer EntitiesDescriptor ends earlier: it wins */
	        {"<md:EntitiesDescriptor xmlns:md=\"" MD_NS
	         "\" validUntil=\"2029-01-01T00:00:00Z\">"
	         "<md:EntityDescriptor xmlns:ds=\"" DS_NS
	         "\" entityID=\"https://idp.example.test/e\" "
	         "validUntil=\"2030-01-01T00:00:00Z\">" IDP_OPEN "$K" S IDP_CLOSE ED_CLOSE
	         "</md:EntitiesDescriptor>",
	         TS_ERR_OK, 1861920000000},
	        {"<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS
	         "\" entityID=\"https://idp.example.test/e\" validUntil=\"next tuesday\">" IDP_OPEN
	         "$K" S IDP_CLOSE ED_CLOSE,
	         TS_ERR_BAD_REQUEST, 0},
	};
	ts_arena_t *fa = ts_arena_new();
	const char *k = kd(fa, " use=\"signing\"", cert_body(fa, "okta"));
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		const char *doc = expand(fa, cases[i].doc, k, k);
		struct ts_saml_idp_metadata md;
		struct ts_error e = {0};
		ts_err rc = ts_saml_metadata_parse(fa, doc, strlen(doc), &md, &e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s)", i, rc, e.message);
		if (rc == TS_ERR_OK)
			assert_int_equal(md.valid_until_ms, cases[i].until_ms);
		else
			assert_non_null(strstr(e.message, "validUntil"));
	}
	ts_arena_free(&fa);
}

/* DER with one byte after the certificate: not one certificate. */
static void test_trailing_der(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	const char *b64 = cert_body(a, "okta");
	size_t n = strlen(b64);
	unsigned char *der = ts_arena_alloc(a, n + 1);
	size_t dlen = 0;
	assert_int_equal(sodium_base642bin(der, n, b64, n, NULL, &dlen, NULL,
	                                   sodium_base64_VARIANT_ORIGINAL),
	                 0);
	der[dlen++] = 0;
	char *more = ts_arena_alloc(a, n + 8);
	sodium_bin2base64(more, n + 8, der, dlen, sodium_base64_VARIANT_ORIGINAL);
	const char *doc =
	        ts_arena_concat(a, ED_OPEN IDP_OPEN, kd(a, "", more), S IDP_CLOSE ED_CLOSE, NULL);
	struct ts_saml_idp_metadata md;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_metadata_parse(a, doc, strlen(doc), &md, &e), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "not one DER"));
	/* and the same without the byte loads: the refusal is the byte's */
	doc = ts_arena_concat(a, ED_OPEN IDP_OPEN, kd(a, "", b64), S IDP_CLOSE ED_CLOSE, NULL);
	assert_int_equal(ts_saml_metadata_parse(a, doc, strlen(doc), &md, &e), TS_ERR_OK);
	ts_arena_free(&a);
}

static void test_caps(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* TS_SAML_CERTS_MAX distinct keys load; one more is refused */
	const char *keys = "";
	for (int i = 0; i <= TS_SAML_CERTS_MAX; i++) {
		const char *key = NULL;
		const char *cert = NULL;
		assert_int_equal(
		        ts_saml_keypair_new(a, "rollover.example.test", 1, &key, &cert, NULL),
		        TS_ERR_OK);
		size_t cl = strlen(cert);
		char *body = ts_arena_alloc(a, cl);
		char *o = body;
		for (const char *c = strchr(cert, '\n') + 1; c < strstr(cert, "-----END"); c++)
			*o++ = *c; /* newlines kept: X509Certificate may hold whitespace */
		const char *doc =
		        ts_arena_concat(a, ED_OPEN IDP_OPEN, keys, S IDP_CLOSE ED_CLOSE, NULL);
		struct ts_saml_idp_metadata md;
		struct ts_error e = {0};
		ts_err rc = ts_saml_metadata_parse(a, doc, strlen(doc), &md, &e);
		if (i == 0) {
			assert_int_equal(rc, TS_ERR_BAD_REQUEST);
		} else {
			assert_int_equal(rc, TS_ERR_OK);
			assert_int_equal(md.n_certs, (size_t)i);
		}
		keys = ts_arena_concat(a, keys, kd(a, " use=\"signing\"", body), NULL);
	}
	const char *doc = ts_arena_concat(a, ED_OPEN IDP_OPEN, keys, S IDP_CLOSE ED_CLOSE, NULL);
	struct ts_saml_idp_metadata md;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_metadata_parse(a, doc, strlen(doc), &md, &e), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "more than 8 signing certificates"));

	/* the size cap, and the entityID's (SAML Metadata §2.3.2) */
	char *big = ts_arena_alloc(a, TS_SAML_METADATA_MAX + 2);
	memset(big, ' ', TS_SAML_METADATA_MAX + 1);
	assert_int_equal(ts_saml_metadata_parse(a, big, TS_SAML_METADATA_MAX + 1, &md, &e),
	                 TS_ERR_TOO_LARGE);
	char *long_id = ts_arena_alloc(a, 1026);
	memset(long_id, 'a', 1025);
	const char *k = kd(a, "", cert_body(a, "okta"));
	doc = ts_arena_concat(
	        a, "<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS "\" entityID=\"",
	        long_id, "\">" IDP_OPEN, k, S IDP_CLOSE ED_CLOSE, NULL);
	assert_int_equal(ts_saml_metadata_parse(a, doc, strlen(doc), &md, &e), TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "longer than 1024"));
	long_id[1024] = 0;
	doc = ts_arena_concat(
	        a, "<md:EntityDescriptor xmlns:md=\"" MD_NS "\" xmlns:ds=\"" DS_NS "\" entityID=\"",
	        long_id, "\">" IDP_OPEN, k, S IDP_CLOSE ED_CLOSE, NULL);
	assert_int_equal(ts_saml_metadata_parse(a, doc, strlen(doc), &md, &e), TS_ERR_OK);
	ts_arena_free(&a);
}

/* ---- certificates and key pairs ---- */

static void test_cert_read(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	size_t n = 0;
	const char *pem = read_file(a, FIXTURES "okta.crt", &n);
	struct ts_saml_cert c;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_cert_read(a, pem, &c, &e), TS_ERR_OK);
	assert_string_equal(c.pem, pem); /* OpenSSL's own PEM, as the CLI wrote it */
	assert_string_equal(c.subject, "emailAddress=info@okta.com,CN=dev-1234567,OU=SSOProvider,"
	                               "O=Okta,L=San Francisco,ST=California,C=US");
	static const char *bad[] = {
	        "",
	        "-----BEGIN CERTIFICATE-----\nSGVsbG8=\n-----END CERTIFICATE-----\n",
	        "not a certificate",
	        "-----BEGIN PRIVATE KEY-----\nSGVsbG8=\n-----END PRIVATE KEY-----\n",
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		assert_int_equal(ts_saml_cert_read(a, bad[i], &c, &e), TS_ERR_BAD_REQUEST);
		assert_null(c.pem);
	}
	ts_arena_free(&a);
}

struct wipe_probe {
	const char *key;
	size_t len;
	bool wiped;
};

/* Registered before the key pair, so it runs after the key's wipe and before the memory goes. */
static void probe(void *p)
{
	struct wipe_probe *w = p;
	w->wiped = true;
	for (size_t i = 0; i < w->len; i++)
		w->wiped = w->wiped && w->key[i] == 0;
}

static void test_keypair(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	struct wipe_probe w = {0};
	ts_arena_defer(a, probe, &w);
	const char *key = NULL;
	const char *cert = NULL;
	const char *key2 = NULL;
	const char *cert2 = NULL;
	struct ts_error e = {0};
	int64_t before = ts_now_ms();
	assert_int_equal(ts_saml_keypair_new(a, "tessera sp <acct&1>", SP_DAYS, &key, &cert, &e),
	                 TS_ERR_OK);
	assert_int_equal(ts_saml_keypair_new(a, "tessera sp", SP_DAYS, &key2, &cert2, &e),
	                 TS_ERR_OK);
	assert_true(strncmp(key, "-----BEGIN PRIVATE KEY-----\n", 28) == 0); /* PKCS#8 */
	BIO *kb = BIO_new_mem_buf(key, -1);
	BIO *cb = BIO_new_mem_buf(cert, -1);
	BIO *cb2 = BIO_new_mem_buf(cert2, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	X509 *x2 = PEM_read_bio_X509(cb2, NULL, NULL, NULL);
	assert_non_null(k);
	assert_non_null(x);
	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(k), 2048);
	assert_int_equal(X509_check_private_key(x, k), 1);
	assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
	assert_int_equal(X509_get_version(x), 2);
	EVP_PKEY *pub = X509_get0_pubkey(x);
	assert_int_equal(X509_verify(x, pub), 1); /* self-signed */
	assert_int_not_equal(
	        ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(x2)), 0);
	assert_int_equal(X509_check_private_key(x2, k), 0);
	struct ts_saml_cert c;
	assert_int_equal(ts_saml_cert_read(a, cert, &c, &e), TS_ERR_OK);
	assert_string_equal(c.subject, "CN=tessera sp \\<acct&1\\>"); /* RFC 4514 §2.4 */
	assert_true(c.not_before_ms >= before / TS_MS_PER_S * TS_MS_PER_S - TS_MS_PER_S);
	assert_true(c.not_before_ms <= ts_now_ms());
	assert_int_equal(c.not_after_ms - c.not_before_ms, SP_DAYS * DAY_MS);
	EVP_PKEY_free(k);
	X509_free(x);
	X509_free(x2);
	BIO_free(kb);
	BIO_free(cb);
	BIO_free(cb2);
	assert_int_equal(ts_saml_keypair_new(a, "", SP_DAYS, &key2, &cert2, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_null(key2);
	assert_int_equal(ts_saml_keypair_new(a, "x", 0, &key2, &cert2, &e), TS_ERR_BAD_REQUEST);
	w.key = key;
	w.len = strlen(key);
	ts_arena_free(&a);
	assert_true(w.wiped);
}

/* ---- the SP's EntityDescriptor ---- */

static void test_sp_metadata(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	size_t n = 0;
	const char *pems[] = {read_file(a, FIXTURES "okta.crt", &n),
	                      read_file(a, FIXTURES "pysaml2.crt", &n)};
	const char *bodies[] = {cert_body(a, "okta"), cert_body(a, "pysaml2")};
	/* values a careless writer would break out of */
	const char *eid = "https://sp.example.test/saml/123/metadata?a=1&b=\"<x>\"'\n";
	const char *acs = "https://sp.example.test/saml/123/acs?x=<&>";
	struct ts_saml_sp sp = {.entity_id = eid,
	                        .acs_url = acs,
	                        .certs_pem = pems,
	                        .n_certs = 2,
	                        .valid_until_ms = INT64_C(1893456000000)};
	size_t len = 0;
	char *xml = ts_saml_sp_metadata(a, &sp, &len);
	assert_non_null(xml);
	assert_int_equal(strlen(xml), len);
	xmlDocPtr doc = NULL;
	struct ts_error e = {0};
	assert_int_equal(ts_saml_xml_parse(a, xml, len, TS_SAML_METADATA_MAX, &doc, &e), TS_ERR_OK);
	xmlNodePtr ed = xmlDocGetRootElement(doc);
	assert_true(ts_saml_xml_is(ed, TS_SAML_NS_METADATA, "EntityDescriptor"));
	assert_string_equal(ts_saml_xml_attr(a, ed, "entityID"), eid);
	assert_string_equal(ts_saml_xml_attr(a, ed, "validUntil"), "2030-01-01T00:00:00Z");
	assert_int_equal(ts_saml_xml_count(ed, TS_SAML_NS_METADATA, "SPSSODescriptor"), 1);
	xmlNodePtr sso = ts_saml_xml_child(ed, TS_SAML_NS_METADATA, "SPSSODescriptor");
	assert_string_equal(ts_saml_xml_attr(a, sso, "AuthnRequestsSigned"), "true");
	assert_string_equal(ts_saml_xml_attr(a, sso, "WantAssertionsSigned"), "true");
	assert_string_equal(ts_saml_xml_attr(a, sso, "protocolSupportEnumeration"),
	                    TS_SAML_NS_PROTOCOL);
	static const char *uses[] = {"signing", "signing", "encryption", "encryption"};
	size_t i = 0;
	for (xmlNodePtr kd = ts_saml_xml_child(sso, TS_SAML_NS_METADATA, "KeyDescriptor"); kd;
	     kd = ts_saml_xml_next(kd, TS_SAML_NS_METADATA, "KeyDescriptor"), i++) {
		assert_true(i < N_ITEMS(uses));
		assert_string_equal(ts_saml_xml_attr(a, kd, "use"), uses[i]);
		xmlNodePtr c = ts_saml_xml_child(
		        ts_saml_xml_child(ts_saml_xml_child(kd, TS_SAML_NS_DSIG, "KeyInfo"),
		                          TS_SAML_NS_DSIG, "X509Data"),
		        TS_SAML_NS_DSIG, "X509Certificate");
		assert_non_null(c);
		assert_string_equal(ts_saml_xml_text(a, c), bodies[i % 2]);
	}
	assert_int_equal(i, 4);
	static const char *formats[] = {"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
	                                "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
	                                "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"};
	i = 0;
	for (xmlNodePtr f = ts_saml_xml_child(sso, TS_SAML_NS_METADATA, "NameIDFormat"); f;
	     f = ts_saml_xml_next(f, TS_SAML_NS_METADATA, "NameIDFormat"), i++)
		assert_string_equal(ts_saml_xml_text(a, f), formats[i]);
	assert_int_equal(i, 3);
	assert_int_equal(ts_saml_xml_count(sso, TS_SAML_NS_METADATA, "AssertionConsumerService"),
	                 1);
	xmlNodePtr acsn = ts_saml_xml_child(sso, TS_SAML_NS_METADATA, "AssertionConsumerService");
	/* SPSSODescriptorType: AssertionConsumerService comes last */
	assert_null(xmlNextElementSibling(acsn));
	assert_string_equal(ts_saml_xml_attr(a, acsn, "Binding"), TS_SAML_BINDING_POST);
	assert_string_equal(ts_saml_xml_attr(a, acsn, "Location"), acs);
	assert_string_equal(ts_saml_xml_attr(a, acsn, "index"), "0");
	/* an SP document is not an IdP's */
	struct ts_saml_idp_metadata md;
	assert_int_equal(ts_saml_metadata_parse(a, xml, len, &md, &e), TS_ERR_BAD_REQUEST);

	/* no validUntil when none is given; a certificate that does not parse gives NULL */
	sp.valid_until_ms = 0;
	sp.n_certs = 1;
	xml = ts_saml_sp_metadata(a, &sp, &len);
	assert_non_null(xml);
	assert_null(strstr(xml, "validUntil"));
	const char *bad[] = {"-----BEGIN CERTIFICATE-----\nSGVsbG8=\n-----END CERTIFICATE-----\n"};
	sp.certs_pem = bad;
	assert_null(ts_saml_sp_metadata(a, &sp, &len));
	ts_arena_free(&a);
}

static int setup(void **state)
{
	(void)state;
	return ts_crypto_init() == TS_ERR_OK ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_okta_shape),   cmocka_unit_test(test_pysaml2_shape),
	        cmocka_unit_test(test_entra_shape),  cmocka_unit_test(test_table),
	        cmocka_unit_test(test_trailing_der), cmocka_unit_test(test_caps),
	        cmocka_unit_test(test_cert_read),    cmocka_unit_test(test_keypair),
	        cmocka_unit_test(test_sp_metadata),  cmocka_unit_test(test_valid_until),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
