/*
 * saml_xmlsec: the limit of bench/saml_bench.sh, the rate at which bare
 * libxml2 + xmlsec1 verify the assertion signature of the same responses
 * the ACS is given, on the same cores, with nothing else around it.
 *
 *   saml_xmlsec CERT_PEM BODIES [THREADS]
 *
 * BODIES is saml_forge's output (one form body per line). Every body is
 * URL-decoded and base64-decoded before the clock starts; the timed part is,
 * per response: parse (no network), register the Assertion's ID, find its
 * ds:Signature, and verify it (XML-DSig core validation, xmldsig-core §3.2)
 * with the IdP certificate's key set by the caller, same-document
 * references only. THREADS (default 2) threads take the responses in turn.
 * Prints "RESULT rps=... n=... errors=... seconds=... cpu_ms=..." (cpu_ms: the
 * process's user + system time per response, which other load on the machine
 * changes much less than the rate); exits 1 when any signature did not verify.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include "core/alloc.h"

#define VERIFY_THREADS_MAX 16
#define VERIFY_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define VERIFY_NS_ASSERTION "urn:oasis:names:tc:SAML:2.0:assertion"

struct doc_bytes {
	unsigned char *xml;
	int len;
};

static struct doc_bytes *docs;
static long ndocs;
static atomic_long next_doc;
static atomic_long errors;
static const char *cert_path;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The SAMLResponse field of one form body, URL- and base64-decoded (0 on success). */
static int decode_body(const char *line, size_t n, struct doc_bytes *out)
{
	const char *p = memmem(line, n, "SAMLResponse=", 13);
	if (p == NULL)
		return -1;
	p += 13;
	const char *end = memchr(p, '&', (size_t)(line + n - p));
	if (end == NULL)
		end = line + n;
	unsigned char *b64 = ts_malloc((size_t)(end - p) + 1);
	size_t m = 0;
	for (const char *q = p; q < end; q++) {
		if (*q == '%' && q + 2 < end && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
			b64[m++] = (unsigned char)(hexval(q[1]) * 16 + hexval(q[2]));
			q += 2;
		} else {
			b64[m++] = (unsigned char)(*q == '+' ? ' ' : *q);
		}
	}
	out->xml = ts_malloc(m / 4 * 3 + 3);
	int len = EVP_DecodeBlock(out->xml, b64, (int)m);
	/* EVP_DecodeBlock counts the bytes that padding stands for */
	for (size_t k = m; len > 0 && k > 0 && b64[k - 1] == '='; k--)
		len--;
	ts_free(b64);
	out->len = len;
	return len > 0 ? 0 : -1;
}

static xmlNodePtr child(xmlNodePtr parent, const char *ns, const char *local)
{
	for (xmlNodePtr n = parent->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && n->ns != NULL &&
		    strcmp((const char *)n->ns->href, ns) == 0 &&
		    strcmp((const char *)n->name, local) == 0)
			return n;
	return NULL;
}

/* 1 when the Assertion's signature verifies with key. */
static int verify_one(const struct doc_bytes *d, xmlSecKeyPtr key)
{
	xmlDocPtr doc = xmlReadMemory((const char *)d->xml, d->len, NULL, NULL, XML_PARSE_NONET);
	if (doc == NULL)
		return 0;
	xmlNodePtr as = child(xmlDocGetRootElement(doc), VERIFY_NS_ASSERTION, "Assertion");
	xmlAttrPtr id = as == NULL ? NULL : xmlHasProp(as, BAD_CAST "ID");
	xmlNodePtr sig = as == NULL ? NULL : child(as, VERIFY_NS_DSIG, "Signature");
	xmlChar *idv = id == NULL ? NULL : xmlNodeListGetString(doc, id->children, 1);
	int ok = 0;
	if (sig != NULL && idv != NULL && xmlAddID(NULL, doc, idv, id) != NULL) {
		xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
		if (ctx != NULL) {
			ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
			ctx->signKey = key;
			ok = xmlSecDSigCtxVerify(ctx, sig) == 0 &&
			     ctx->status == xmlSecDSigStatusSucceeded;
			ctx->signKey = NULL; /* the thread's key, not the context's */
			xmlSecDSigCtxDestroy(ctx);
		}
	}
	xmlFree(idv);
	xmlFreeDoc(doc);
	return ok;
}

static void *verify_run(void *arg)
{
	(void)arg;
	xmlSecKeyPtr key =
	        xmlSecCryptoAppKeyLoad(cert_path, xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
	if (key == NULL) {
		fprintf(stderr, "saml_xmlsec: cannot load %s\n", cert_path);
		atomic_fetch_add(&errors, 1);
		return NULL;
	}
	for (;;) {
		long i = atomic_fetch_add(&next_doc, 1);
		if (i >= ndocs)
			break;
		if (!verify_one(&docs[i], key))
			atomic_fetch_add(&errors, 1);
	}
	xmlSecKeyDestroy(key);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: saml_xmlsec CERT_PEM BODIES [THREADS]\n");
		return 2;
	}
	cert_path = argv[1];
	long threads = argc > 3 ? strtol(argv[3], NULL, 10) : 2;
	if (threads <= 0 || threads > VERIFY_THREADS_MAX) {
		fprintf(stderr, "saml_xmlsec: THREADS must be 1 .. %d\n", VERIFY_THREADS_MAX);
		return 2;
	}
	FILE *in = fopen(argv[2], "r");
	if (in == NULL) {
		perror(argv[2]);
		return 1;
	}
	char *line = NULL;
	size_t lcap = 0, dcap = 0;
	ssize_t n;
	while ((n = getline(&line, &lcap, in)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		if (n == 0)
			continue;
		if ((size_t)ndocs == dcap) {
			dcap = dcap ? dcap * 2 : 1024;
			docs = ts_realloc(docs, dcap * sizeof *docs);
		}
		if (decode_body(line, (size_t)n, &docs[ndocs]) != 0) {
			fprintf(stderr, "saml_xmlsec: body %ld is not a SAMLResponse form\n",
			        ndocs + 1);
			return 1;
		}
		ndocs++;
	}
	ts_free(line); /* getline allocates with malloc, which ts_free releases */
	fclose(in);

	xmlInitParser();
	if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 ||
	    xmlSecCryptoInit() < 0) {
		fprintf(stderr, "saml_xmlsec: xmlsec initialisation failed\n");
		return 1;
	}
	struct timespec t0, t1;
	struct rusage r0, r1;
	pthread_t tid[VERIFY_THREADS_MAX];
	getrusage(RUSAGE_SELF, &r0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, verify_run, NULL) != 0)
			return 1;
	for (long t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &r1);
	double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
	                      r0.ru_stime.tv_sec) +
	             (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
	                      r0.ru_stime.tv_usec) /
	                     1e6;
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	long errs = atomic_load(&errors);
	printf("RESULT rps=%.0f n=%ld errors=%ld seconds=%.2f cpu_ms=%.3f\n", (double)ndocs / s,
	       ndocs, errs, s, 1000 * cpu / (double)ndocs);
	for (long i = 0; i < ndocs; i++)
		ts_free(docs[i].xml);
	ts_free(docs);
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
	xmlCleanupParser();
	return errs == 0 ? 0 : 1;
}
