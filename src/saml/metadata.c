/*
 * SAML 2.0 metadata (metadata.h): the IdP's EntityDescriptor read with the
 * hardened parser of xml.h, and the SP's own written with libxml2's tree
 * API, so that every value is escaped by the serializer and none by hand.
 *
 * What is read is what an administrator uploads from Okta ("Identity
 * Provider metadata", seeds 002 and 004), Entra ID (a signed EntityDescriptor
 * whose RoleDescriptor entries are WS-Federation's and ignored here) or any
 * SAML IdP (pysaml2, Shibboleth). The metadata's own signature is not
 * checked: the administrator's upload is the trust decision.
 */
#include "saml/metadata.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <sodium.h>
#include <string.h>

#include "core/crypto.h"
#include "core/timeutil.h"
#include "saml/xml.h"

#define ENTITY_ID_MAX 1024 /* SAML Metadata §2.3.2 */
#define PEM_LINE 64        /* RFC 7468 §2: base64 lines of 64 characters */
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define PEM_END "-----END CERTIFICATE-----\n"
#define B64_WHITESPACE " \t\r\n"
#define LOOPBACK_V4_FIRST "127"
#define IPV4_OCTETS 4
#define IPV4_OCTET_MAX 255
#define IPV4_OCTET_DIGITS 3
#define NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#define NAMEID_UNSPECIFIED "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
#define NAMEID_PERSISTENT "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

/* ---- URLs of SingleSignOnService ---- */

/* Whether host[0..n) is four decimal octets, the first 127 (RFC 1122 §3.2.1.3: 127.0.0.0/8). */
static bool loopback_v4(const char *host, size_t n)
{
	size_t i = 0;
	for (int octet = 0; octet < IPV4_OCTETS; octet++) {
		if (octet > 0) {
			if (i >= n || host[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		int v = 0;
		while (i < n && host[i] >= '0' && host[i] <= '9' && i - start < IPV4_OCTET_DIGITS)
			v = v * 10 + (host[i++] - '0');
		if (i == start || v > IPV4_OCTET_MAX || (host[start] == '0' && i - start > 1))
			return false;
		if (octet == 0 && (i - start != strlen(LOOPBACK_V4_FIRST) ||
		                   memcmp(host + start, LOOPBACK_V4_FIRST, i - start) != 0))
			return false;
	}
	return i == n;
}

static bool loopback_host(const char *host, size_t n)
{
	return (n == strlen("localhost") && memcmp(host, "localhost", n) == 0) ||
	       (n == strlen("[::1]") && memcmp(host, "[::1]", n) == 0) || loopback_v4(host, n);
}

/*
 * Whether url is an absolute https URL (http only to a loopback host, for
 * tests): a scheme, a non-empty host without userinfo, an optional port, no
 * fragment, and no byte that a URL carries only percent-encoded (RFC 3986
 * §2: controls, space, non-ASCII, and the characters that are never legal).
 */
static bool sso_url_ok(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
		    *p == '^' || *p == '`' || *p == '{' || *p == '|' || *p == '}' || *p == '#')
			return false;
	bool https = strncmp(url, "https://", strlen("https://")) == 0;
	bool http = strncmp(url, "http://", strlen("http://")) == 0;
	if (!https && !http)
		return false;
	const char *host = url + (https ? strlen("https://") : strlen("http://"));
	size_t auth = strcspn(host, "/?");
	if (auth == 0 || memchr(host, '@', auth))
		return false;
	size_t hn = auth;
	if (host[0] == '[') {
		const char *close = memchr(host, ']', auth);
		if (!close)
			return false;
		hn = (size_t)(close - host) + 1;
	} else {
		const char *colon = memchr(host, ':', auth);
		if (colon)
			hn = (size_t)(colon - host);
	}
	if (hn == 0)
		return false;
	if (hn < auth) { /* RFC 3986 §3.2.3: ":" then 1 to 5 digits */
		if (host[hn] != ':' || auth - hn < 2 || auth - hn > 6)
			return false;
		for (size_t i = hn + 1; i < auth; i++)
			if (host[i] < '0' || host[i] > '9')
				return false;
	}
	return https || loopback_host(host, hn);
}

/* ---- certificates ---- */

/*
 * The X509Certificate text (base64 of DER, XML Signature §4.4.4, any
 * whitespace) as a certificate read by ts_saml_cert_read. The DER must be
 * one certificate and nothing after it.
 */
static ts_err read_x509_text(ts_arena_t *a, const char *b64, struct ts_saml_cert *out,
                             struct ts_error *e)
{
	size_t n = strlen(b64);
	unsigned char *der = ts_arena_alloc(a, n / 4 * 3 + 3);
	size_t dlen = 0;
	const char *end = NULL;
	if (n == 0 ||
	    sodium_base642bin(der, n / 4 * 3 + 3, b64, n, B64_WHITESPACE, &dlen, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + n)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "an X509Certificate is not base64");
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)dlen);
	bool whole = x && p == der + dlen;
	X509_free(x);
	if (!whole)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "an X509Certificate is not one DER X.509 certificate");
	size_t blen = sodium_base64_encoded_len(dlen, sodium_base64_VARIANT_ORIGINAL);
	char *flat = ts_arena_alloc(a, blen);
	sodium_bin2base64(flat, blen, der, dlen, sodium_base64_VARIANT_ORIGINAL);
	size_t flen = strlen(flat);
	char *pem = ts_arena_alloc(a, strlen(PEM_BEGIN) + flen + flen / PEM_LINE + 1 +
	                                      strlen(PEM_END) + 1);
	char *o = pem;
	memcpy(o, PEM_BEGIN, strlen(PEM_BEGIN));
	o += strlen(PEM_BEGIN);
	for (size_t i = 0; i < flen; i += PEM_LINE) {
		size_t k = flen - i < PEM_LINE ? flen - i : PEM_LINE;
		memcpy(o, flat + i, k);
		o += k;
		*o++ = '\n';
	}
	memcpy(o, PEM_END, strlen(PEM_END) + 1);
	return ts_saml_cert_read(a, pem, out, e);
}

/* Adds each ds:X509Certificate of a KeyDescriptor's ds:KeyInfo, once per fingerprint. */
static ts_err add_key_descriptor(ts_arena_t *a, const xmlNode *kd, struct ts_saml_idp_metadata *md,
                                 struct ts_error *e)
{
	xmlNodePtr ki = ts_saml_xml_child(kd, TS_SAML_NS_DSIG, "KeyInfo");
	for (xmlNodePtr xd = ts_saml_xml_child(ki, TS_SAML_NS_DSIG, "X509Data"); xd;
	     xd = ts_saml_xml_next(xd, TS_SAML_NS_DSIG, "X509Data")) {
		for (xmlNodePtr xc = ts_saml_xml_child(xd, TS_SAML_NS_DSIG, "X509Certificate"); xc;
		     xc = ts_saml_xml_next(xc, TS_SAML_NS_DSIG, "X509Certificate")) {
			const char *text = ts_saml_xml_text(a, xc);
			if (!text)
				return TS_FAIL(
				        e, TS_ERR_BAD_REQUEST,
				        "an X509Certificate holds something other than text");
			struct ts_saml_cert c;
			ts_err rc = read_x509_text(a, text, &c, e);
			if (rc != TS_ERR_OK)
				return rc;
			bool seen = false;
			for (size_t i = 0; i < md->n_certs && !seen; i++)
				seen = strcmp(md->certs[i].sha256, c.sha256) == 0;
			if (seen) /* the same key listed twice (Entra lists each key per role) */
				continue;
			if (md->n_certs == TS_SAML_CERTS_MAX)
				return TS_FAIL(e, TS_ERR_BAD_REQUEST,
				               "the IdP lists more than %d signing certificates",
				               TS_SAML_CERTS_MAX);
			md->certs[md->n_certs++] = c;
		}
	}
	return TS_ERR_OK;
}

/* ---- the IdP's EntityDescriptor ---- */

/* Whether the space-separated URI list holds the SAML 2.0 protocol (SAML Metadata §2.4.1). */
static bool supports_saml2(const char *list)
{
	size_t want = strlen(TS_SAML_NS_PROTOCOL);
	for (const char *p = list; p && *p;) {
		p += strspn(p, B64_WHITESPACE);
		size_t k = strcspn(p, B64_WHITESPACE);
		if (k == want && memcmp(p, TS_SAML_NS_PROTOCOL, k) == 0)
			return true;
		p += k;
	}
	return false;
}

/* The EntityDescriptor's one SAML 2.0 IDPSSODescriptor; NULL when none (and *several when many). */
static xmlNodePtr idp_descriptor(ts_arena_t *a, const xmlNode *ed, bool *several)
{
	xmlNodePtr found = NULL;
	*several = false;
	for (xmlNodePtr d = ts_saml_xml_child(ed, TS_SAML_NS_METADATA, "IDPSSODescriptor"); d;
	     d = ts_saml_xml_next(d, TS_SAML_NS_METADATA, "IDPSSODescriptor")) {
		if (!supports_saml2(ts_saml_xml_attr(a, d, "protocolSupportEnumeration")))
			continue;
		if (found)
			*several = true;
		found = d;
	}
	return found;
}

/*
 * The EntityDescriptor to read: the root itself, or the one child of an
 * EntitiesDescriptor (nested ones too, SAML Metadata §2.3.1) that has a
 * SAML 2.0 IDPSSODescriptor. *count gets how many such there are.
 */
static void find_idp(ts_arena_t *a, const xmlNode *n, xmlNodePtr *ed, size_t *count)
{
	if (ts_saml_xml_is(n, TS_SAML_NS_METADATA, "EntityDescriptor")) {
		bool several = false;
		if (idp_descriptor(a, n, &several)) {
			*ed = (xmlNodePtr)n;
			(*count)++;
		}
		return;
	}
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (ts_saml_xml_is(c, TS_SAML_NS_METADATA, "EntityDescriptor") ||
		    ts_saml_xml_is(c, TS_SAML_NS_METADATA, "EntitiesDescriptor"))
			find_idp(a, c, ed, count);
}

/* SAML Metadata §2.2.2: a boolean is "true", "false", "1" or "0" (XML Schema). */
static ts_err read_bool(ts_arena_t *a, const xmlNode *n, const char *name, bool *out,
                        struct ts_error *e)
{
	const char *v = ts_saml_xml_attr(a, n, name);
	*out = false;
	if (!v || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return TS_ERR_OK;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = true;
		return TS_ERR_OK;
	}
	return TS_FAIL(e, TS_ERR_BAD_REQUEST, "%s is not a boolean", name);
}

/* The earliest validUntil from ed up to the document's root (SAML Metadata §2.3.1, §2.3.2). */
static ts_err valid_until(ts_arena_t *a, const xmlNode *ed, int64_t *out, struct ts_error *e)
{
	*out = 0;
	for (const xmlNode *n = ed; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent) {
		const char *v = ts_saml_xml_attr(a, n, "validUntil");
		int64_t ms = 0;
		if (v == NULL)
			continue;
		if (!ts_time_parse(v, &ms))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "validUntil is not an xs:dateTime");
		if (*out == 0 || ms < *out)
			*out = ms;
	}
	return TS_ERR_OK;
}

ts_err ts_saml_metadata_parse(ts_arena_t *a, const char *xml, size_t len,
                              struct ts_saml_idp_metadata *out, struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	xmlDocPtr doc = NULL;
	ts_err rc = ts_saml_xml_parse(a, xml, len, TS_SAML_METADATA_MAX, &doc, e);
	if (rc != TS_ERR_OK)
		return rc;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!ts_saml_xml_is(root, TS_SAML_NS_METADATA, "EntityDescriptor") &&
	    !ts_saml_xml_is(root, TS_SAML_NS_METADATA, "EntitiesDescriptor"))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the metadata's root is not a SAML 2.0 EntityDescriptor or "
		               "EntitiesDescriptor");
	xmlNodePtr ed = NULL;
	size_t count = 0;
	find_idp(a, root, &ed, &count);
	if (count == 0)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the metadata has no IDPSSODescriptor for the SAML 2.0 protocol");
	if (count > 1)
		return TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "the metadata describes %zu identity providers; upload the one to use",
		        count);
	bool several = false;
	xmlNodePtr idp = idp_descriptor(a, ed, &several);
	if (several)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the EntityDescriptor has more than one SAML 2.0 IDPSSODescriptor");
	/* SAML Metadata §2.3.2: entityID is required, an anyURI of at most 1024 characters */
	const char *entity_id = ts_saml_xml_attr(a, ed, "entityID");
	if (!entity_id || !*entity_id)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the EntityDescriptor has no entityID");
	if (strlen(entity_id) > ENTITY_ID_MAX)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the entityID is longer than %d characters",
		               ENTITY_ID_MAX);
	out->entity_id = entity_id;
	rc = valid_until(a, ed, &out->valid_until_ms, e);
	if (rc != TS_ERR_OK)
		goto fail;
	rc = read_bool(a, idp, "WantAuthnRequestsSigned", &out->want_authn_requests_signed, e);
	if (rc != TS_ERR_OK)
		goto fail;
	/* SAML Metadata §2.4.3: SingleSignOnService, one per binding used (the first of each) */
	for (xmlNodePtr s = ts_saml_xml_child(idp, TS_SAML_NS_METADATA, "SingleSignOnService"); s;
	     s = ts_saml_xml_next(s, TS_SAML_NS_METADATA, "SingleSignOnService")) {
		const char *binding = ts_saml_xml_attr(a, s, "Binding");
		const char **slot = NULL;
		if (binding && strcmp(binding, TS_SAML_BINDING_REDIRECT) == 0)
			slot = &out->sso_redirect_url;
		else if (binding && strcmp(binding, TS_SAML_BINDING_POST) == 0)
			slot = &out->sso_post_url;
		if (!slot || *slot)
			continue;
		const char *loc = ts_saml_xml_attr(a, s, "Location");
		if (!loc || !sso_url_ok(loc)) {
			rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
			             "a SingleSignOnService Location is not an absolute https URL "
			             "(http only to a loopback host)");
			goto fail;
		}
		*slot = loc;
	}
	if (!out->sso_redirect_url && !out->sso_post_url) {
		rc = TS_FAIL(
		        e, TS_ERR_BAD_REQUEST,
		        "the IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect "
		        "or HTTP-POST binding");
		goto fail;
	}
	/* SAML Metadata §2.4.1.1: use is "signing" or "encryption"; absent means both */
	for (xmlNodePtr kd = ts_saml_xml_child(idp, TS_SAML_NS_METADATA, "KeyDescriptor"); kd;
	     kd = ts_saml_xml_next(kd, TS_SAML_NS_METADATA, "KeyDescriptor")) {
		const char *use = ts_saml_xml_attr(a, kd, "use");
		if (use && strcmp(use, "signing") != 0)
			continue;
		rc = add_key_descriptor(a, kd, out, e);
		if (rc != TS_ERR_OK)
			goto fail;
	}
	if (out->n_certs == 0) {
		rc = TS_FAIL(e, TS_ERR_BAD_REQUEST,
		             "the IDPSSODescriptor has no signing certificate (KeyDescriptor "
		             "use=\"signing\" with ds:X509Certificate)");
		goto fail;
	}
	return TS_ERR_OK;
fail:
	memset(out, 0, sizeof *out);
	return rc;
}

/* ---- the SP's EntityDescriptor ---- */

static void free_doc(void *p)
{
	xmlFreeDoc(p);
}

static xmlNodePtr add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	return xmlNewTextChild(parent, ns, (const xmlChar *)name, (const xmlChar *)text);
}

static void set(xmlNodePtr n, const char *name, const char *value)
{
	xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

/* The base64 of a PEM certificate's DER, checked by OpenSSL; NULL when it does not parse. */
static const char *cert_base64(ts_arena_t *a, const char *pem)
{
	size_t len = pem ? strlen(pem) : 0;
	BIO *in = len > 0 && len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	X509 *x = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	char *b64 = NULL;
	if (n > 0) {
		size_t blen = sodium_base64_encoded_len((size_t)n, sodium_base64_VARIANT_ORIGINAL);
		b64 = ts_arena_alloc(a, blen);
		sodium_bin2base64(b64, blen, der, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
	}
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(in);
	return b64;
}

static void add_key(xmlNodePtr sso, xmlNsPtr md, xmlNsPtr ds, const char *use, const char *b64)
{
	xmlNodePtr kd = add(sso, md, "KeyDescriptor", NULL);
	set(kd, "use", use);
	xmlNodePtr ki = add(kd, ds, "KeyInfo", NULL);
	xmlNodePtr xd = add(ki, ds, "X509Data", NULL);
	add(xd, ds, "X509Certificate", b64);
}

char *ts_saml_sp_metadata(ts_arena_t *a, const struct ts_saml_sp *sp, size_t *len)
{
	*len = 0;
	const char **b64 = ts_arena_alloc(a, (sp->n_certs + 1) * sizeof *b64);
	for (size_t i = 0; i < sp->n_certs; i++)
		if (!(b64[i] = cert_base64(a, sp->certs_pem[i])))
			return NULL;
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	ts_arena_defer(a, free_doc, doc);
	xmlNodePtr ed = xmlNewDocNode(doc, NULL, (const xmlChar *)"EntityDescriptor", NULL);
	xmlDocSetRootElement(doc, ed);
	xmlNsPtr md = xmlNewNs(ed, (const xmlChar *)TS_SAML_NS_METADATA, (const xmlChar *)"md");
	xmlNsPtr ds = xmlNewNs(ed, (const xmlChar *)TS_SAML_NS_DSIG, (const xmlChar *)"ds");
	xmlSetNs(ed, md);
	set(ed, "entityID", sp->entity_id);
	if (sp->valid_until_ms > 0) {
		char t[TS_ISO8601_LEN + 1];
		ts_time_iso(sp->valid_until_ms, t);
		set(ed, "validUntil", t);
	}
	/* SAML Metadata §2.4.4; children in the order of SPSSODescriptorType */
	xmlNodePtr sso = add(ed, md, "SPSSODescriptor", NULL);
	set(sso, "AuthnRequestsSigned", "true");
	set(sso, "WantAssertionsSigned", "true");
	set(sso, "protocolSupportEnumeration", TS_SAML_NS_PROTOCOL);
	for (size_t i = 0; i < sp->n_certs; i++)
		add_key(sso, md, ds, "signing", b64[i]);
	for (size_t i = 0; i < sp->n_certs; i++)
		add_key(sso, md, ds, "encryption", b64[i]);
	add(sso, md, "NameIDFormat", NAMEID_EMAIL);
	add(sso, md, "NameIDFormat", NAMEID_UNSPECIFIED);
	add(sso, md, "NameIDFormat", NAMEID_PERSISTENT);
	xmlNodePtr acs = add(sso, md, "AssertionConsumerService", NULL);
	set(acs, "Binding", TS_SAML_BINDING_POST);
	set(acs, "Location", sp->acs_url);
	set(acs, "index", "0");
	set(acs, "isDefault", "true");
	xmlChar *mem = NULL;
	int n = 0;
	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (!mem || n <= 0) {
		xmlFree(mem);
		return NULL;
	}
	char *out = ts_arena_strndup(a, (const char *)mem, (size_t)n);
	xmlFree(mem);
	*len = (size_t)n;
	return out;
}
