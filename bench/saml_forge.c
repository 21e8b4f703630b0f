/*
 * saml_forge: writes N unique, signed, Okta-shaped SAML 2.0 Responses for
 * bench/saml_bench.sh, one HTML form body per line
 * ("SAMLResponse=<url-encoded base64>&RelayState=<url-encoded>"), ready to be
 * POSTed once each to an HTTP-POST ACS (SAML Bindings §3.5).
 *
 *   saml_forge KEY_PEM CERT_PEM IDP_ENTITY_ID SP_ENTITY_ID ACS_URL USERS N OUT
 *              [VALID_S [RELAY_STATE [THREADS]]]
 *
 * The shape is what Okta's AWS application sends (an unsigned Response around
 * one Assertion signed with RSA-SHA256 and SHA-256 digests, exclusive c14n
 * with InclusiveNamespaces PrefixList="xs", the certificate in KeyInfo, an
 * emailAddress NameID, a bearer SubjectConfirmation, one AudienceRestriction,
 * an AuthnStatement, and the AWS Role and RoleSessionName attributes as
 * xs:string values). No InResponseTo: the responses are unsolicited
 * (IdP-initiated, SAML Profiles §4.1.5). Response i names user (i % USERS)
 * as user%07d@bench.example, the addresses bench/scim_load.c provisions.
 * Destination, Recipient and Audience are ACS_URL and SP_ENTITY_ID; the
 * conditions hold from 60 s before now to VALID_S (default 3600) after it.
 * Signing runs on THREADS threads (default 2); lines are written in order.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "core/alloc.h"

#define FORGE_THREADS_MAX 16
#define FORGE_XML_MAX 16384
#define FORGE_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define FORGE_NS_ASSERTION "urn:oasis:names:tc:SAML:2.0:assertion"

struct forge_job {
	const char *key_pem, *cert_pem, *idp, *sp, *acs, *relay_enc;
	long users, first, count;
	time_t now;
	long valid_s;
	const char *run_id; /* 16 hex digits: IDs stay unique across runs */
	/* out */
	char *out;
	size_t out_len, out_cap;
	int failed;
};

static void iso(char *buf, size_t n, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void out_reserve(struct forge_job *j, size_t more)
{
	if (j->out_len + more + 1 <= j->out_cap)
		return;
	size_t cap = j->out_cap ? j->out_cap : 1 << 20;
	while (cap < j->out_len + more + 1)
		cap *= 2;
	j->out = ts_realloc(j->out, cap);
	j->out_cap = cap;
}

/* Appends s[0..n) with application/x-www-form-urlencoded escaping (base64's + / =). */
static void out_urlenc(struct forge_job *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	out_reserve(j, 3 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.') {
			j->out[j->out_len++] = (char)c;
		} else {
			j->out[j->out_len++] = '%';
			j->out[j->out_len++] = hex[c >> 4];
			j->out[j->out_len++] = hex[c & 15];
		}
	}
}

static void out_str(struct forge_job *j, const char *s)
{
	size_t n = strlen(s);
	out_reserve(j, n);
	memcpy(j->out + j->out_len, s, n);
	j->out_len += n;
}

/* The unsigned response i: the Signature template has empty DigestValue/SignatureValue. */
static int response_xml(const struct forge_job *j, long i, char *xml, size_t cap)
{
	char t_issue[32], t_before[32], t_after[32];
	iso(t_issue, sizeof t_issue, j->now);
	iso(t_before, sizeof t_before, j->now - 60);
	iso(t_after, sizeof t_after, j->now + j->valid_s);
	long u = i % j->users;
	int n = snprintf(
	        xml, cap,
	        "<saml2p:Response xmlns:saml2p=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
	        "Destination=\"%s\" ID=\"id%sr%ld\" IssueInstant=\"%s\" Version=\"2.0\">"
	        "<saml2:Issuer xmlns:saml2=\"" FORGE_NS_ASSERTION "\" "
	        "Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">%s</saml2:Issuer>"
	        "<saml2p:Status><saml2p:StatusCode "
	        "Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></saml2p:Status>"
	        "<saml2:Assertion xmlns:saml2=\"" FORGE_NS_ASSERTION "\" "
	        "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
	        "ID=\"id%sa%ld\" IssueInstant=\"%s\" Version=\"2.0\">"
	        "<saml2:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">%s"
	        "</saml2:Issuer>"
	        "<ds:Signature xmlns:ds=\"" FORGE_NS_DSIG "\"><ds:SignedInfo>"
	        "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
	        "<ds:SignatureMethod "
	        "Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>"
	        "<ds:Reference URI=\"#id%sa%ld\"><ds:Transforms>"
	        "<ds:Transform Algorithm=\"" FORGE_NS_DSIG "enveloped-signature\"/>"
	        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">"
	        "<ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" "
	        "PrefixList=\"xs\"/></ds:Transform></ds:Transforms>"
	        "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
	        "<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>"
	        "<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data>"
	        "<ds:X509Certificate></ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
	        "</ds:Signature>"
	        "<saml2:Subject><saml2:NameID "
	        "Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">"
	        "user%07ld@bench.example</saml2:NameID>"
	        "<saml2:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">"
	        "<saml2:SubjectConfirmationData NotOnOrAfter=\"%s\" Recipient=\"%s\"/>"
	        "</saml2:SubjectConfirmation></saml2:Subject>"
	        "<saml2:Conditions NotBefore=\"%s\" NotOnOrAfter=\"%s\"><saml2:AudienceRestriction>"
	        "<saml2:Audience>%s</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>"
	        "<saml2:AuthnStatement AuthnInstant=\"%s\" SessionIndex=\"id%sa%ld\">"
	        "<saml2:AuthnContext><saml2:AuthnContextClassRef>"
	        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	        "</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>"
	        "<saml2:AttributeStatement>"
	        "<saml2:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/Role\" "
	        "NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">"
	        "<saml2:AttributeValue xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	        "xsi:type=\"xs:string\">arn:aws:iam::123456789012:role/BenchRole,"
	        "arn:aws:iam::123456789012:saml-provider/Okta</saml2:AttributeValue>"
	        "</saml2:Attribute>"
	        "<saml2:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/RoleSessionName\" "
	        "NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\">"
	        "<saml2:AttributeValue xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	        "xsi:type=\"xs:string\">user%07ld@bench.example</saml2:AttributeValue>"
	        "</saml2:Attribute></saml2:AttributeStatement></saml2:Assertion></saml2p:Response>",
	        j->acs, j->run_id, i, t_issue, j->idp, j->run_id, i, t_issue, j->idp, j->run_id, i,
	        u, t_after, j->acs, t_before, t_after, j->sp, t_issue, j->run_id, i, u);
	return n > 0 && (size_t)n < cap ? n : -1;
}

static xmlNodePtr find_element(xmlNodePtr n, const char *ns, const char *local)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (n->ns != NULL && strcmp((const char *)n->ns->href, ns) == 0 &&
		    strcmp((const char *)n->name, local) == 0)
			return n;
		xmlNodePtr f = find_element(n->children, ns, local);
		if (f != NULL)
			return f;
	}
	return NULL;
}

static void *forge_run(void *arg)
{
	struct forge_job *j = arg;
	char *xml = ts_malloc(FORGE_XML_MAX);
	xmlSecKeyPtr key =
	        xmlSecCryptoAppKeyLoad(j->key_pem, xmlSecKeyDataFormatPem, NULL, NULL, NULL);
	if (key == NULL ||
	    xmlSecCryptoAppKeyCertLoad(key, j->cert_pem, xmlSecKeyDataFormatPem) < 0) {
		fprintf(stderr, "saml_forge: cannot load %s / %s\n", j->key_pem, j->cert_pem);
		j->failed = 1;
		goto done;
	}
	for (long i = j->first; i < j->first + j->count; i++) {
		int n = response_xml(j, i, xml, FORGE_XML_MAX);
		xmlDocPtr doc = n < 0 ? NULL : xmlReadMemory(xml, n, NULL, NULL, XML_PARSE_NONET);
		xmlNodePtr as = doc == NULL ? NULL
		                            : find_element(xmlDocGetRootElement(doc),
		                                           FORGE_NS_ASSERTION, "Assertion");
		xmlAttrPtr id = as == NULL ? NULL : xmlHasProp(as, BAD_CAST "ID");
		xmlNodePtr sig = as == NULL ? NULL : find_element(as, FORGE_NS_DSIG, "Signature");
		xmlChar *idv = id == NULL ? NULL : xmlNodeListGetString(doc, id->children, 1);
		xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
		int ok = 0;
		if (sig != NULL && idv != NULL && ctx != NULL &&
		    xmlAddID(NULL, doc, idv, id) != NULL) {
			ctx->signKey = key;
			ok = xmlSecDSigCtxSign(ctx, sig) == 0;
			ctx->signKey = NULL; /* owned by this thread, not by the context */
		}
		if (ctx != NULL)
			xmlSecDSigCtxDestroy(ctx);
		xmlFree(idv);
		xmlChar *signed_xml = NULL;
		int signed_len = 0;
		if (ok)
			xmlDocDumpMemoryEnc(doc, &signed_xml, &signed_len, "UTF-8");
		xmlFreeDoc(doc);
		if (signed_xml == NULL) {
			fprintf(stderr, "saml_forge: signing response %ld failed\n", i);
			j->failed = 1;
			goto done;
		}
		size_t b64_cap = 4 * ((size_t)signed_len / 3 + 1) + 1;
		unsigned char *b64 = ts_malloc(b64_cap);
		int b64_len = EVP_EncodeBlock(b64, signed_xml, signed_len);
		xmlFree(signed_xml);
		out_str(j, "SAMLResponse=");
		out_urlenc(j, (const char *)b64, (size_t)b64_len);
		ts_free(b64);
		if (j->relay_enc[0] != '\0') {
			out_str(j, "&RelayState=");
			out_str(j, j->relay_enc);
		}
		out_str(j, "\n");
	}
done:
	if (key != NULL)
		xmlSecKeyDestroy(key);
	ts_free(xml);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 9) {
		fprintf(stderr, "usage: saml_forge KEY_PEM CERT_PEM IDP_ENTITY_ID SP_ENTITY_ID "
		                "ACS_URL USERS N OUT [VALID_S [RELAY_STATE [THREADS]]]\n");
		return 2;
	}
	long users = strtol(argv[6], NULL, 10), total = strtol(argv[7], NULL, 10);
	long valid_s = argc > 9 ? strtol(argv[9], NULL, 10) : 3600;
	const char *relay = argc > 10 ? argv[10] : "";
	long threads = argc > 11 ? strtol(argv[11], NULL, 10) : 2;
	if (users <= 0 || total <= 0 || total > 10000000 || valid_s <= 0 || threads <= 0 ||
	    threads > FORGE_THREADS_MAX) {
		fprintf(stderr, "saml_forge: USERS, N, VALID_S, THREADS out of range\n");
		return 2;
	}
	xmlInitParser();
	if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 ||
	    xmlSecCryptoInit() < 0) {
		fprintf(stderr, "saml_forge: xmlsec initialisation failed\n");
		return 1;
	}
	unsigned char rnd[8];
	char run_id[17];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return 1;
	for (int k = 0; k < 8; k++)
		snprintf(run_id + 2 * k, 3, "%02x", rnd[k]);

	struct forge_job proto = {.key_pem = argv[1],
	                          .cert_pem = argv[2],
	                          .idp = argv[3],
	                          .sp = argv[4],
	                          .acs = argv[5],
	                          .users = users,
	                          .now = time(NULL),
	                          .valid_s = valid_s,
	                          .run_id = run_id};
	struct forge_job relay_job = {0};
	out_urlenc(&relay_job, relay, strlen(relay));
	out_str(&relay_job, "");
	relay_job.out[relay_job.out_len] = '\0';
	proto.relay_enc = relay_job.out;

	struct forge_job jobs[FORGE_THREADS_MAX];
	pthread_t tid[FORGE_THREADS_MAX];
	long per = (total + threads - 1) / threads;
	for (long t = 0; t < threads; t++) {
		jobs[t] = proto;
		jobs[t].first = t * per;
		jobs[t].count =
		        t * per >= total ? 0 : (total - t * per < per ? total - t * per : per);
		if (pthread_create(&tid[t], NULL, forge_run, &jobs[t]) != 0) {
			fprintf(stderr, "saml_forge: pthread_create failed\n");
			return 1;
		}
	}
	FILE *out = fopen(argv[8], "w");
	int status = out == NULL ? 1 : 0;
	for (long t = 0; t < threads; t++) {
		pthread_join(tid[t], NULL);
		if (jobs[t].failed)
			status = 1;
		if (out != NULL && jobs[t].out_len > 0 &&
		    fwrite(jobs[t].out, 1, jobs[t].out_len, out) != jobs[t].out_len)
			status = 1;
		ts_free(jobs[t].out);
	}
	if (out == NULL || fclose(out) != 0) {
		perror(argv[8]);
		status = 1;
	}
	ts_free(relay_job.out);
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
	xmlCleanupParser();
	return status;
}
