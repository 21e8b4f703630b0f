/*
 * libFuzzer target for IdP metadata import (ts_saml_metadata_parse), the
 * parser of what an administrator uploads or a MetadataUrl serves. Besides
 * crashes, leaks and sanitizer reports, it aborts when an accepted document
 * breaks what metadata.h promises: an entityID, at least one SSO URL and
 * every SSO URL https (or http to a loopback host), 1 to TS_SAML_CERTS_MAX
 * certificates with distinct fingerprints, each PEM reading back through
 * ts_saml_cert_read as the same certificate; and when a refusal is anything
 * but BAD_REQUEST or TOO_LARGE, or leaves *out filled. Accepted documents
 * also go through the SP metadata writer with their certificates, whose
 * output must parse again with the hardened parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/utf8.h"
#include "saml/metadata.h"
#include "saml/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool url_ok(const char *u)
{
	if (!u)
		return true;
	if (strncmp(u, "https://", strlen("https://")) == 0)
		return true;
	static const char *const loopback[] = {"http://127.", "http://localhost", "http://[::1]"};
	for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
		if (strncmp(u, loopback[i], strlen(loopback[i])) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_arena_t *a = ts_arena_new();
	struct ts_saml_idp_metadata md;
	struct ts_error e = {0};
	ts_err rc = ts_saml_metadata_parse(a, (const char *)data, size, &md, &e);
	if (rc != TS_ERR_OK) {
		if ((rc != TS_ERR_BAD_REQUEST && rc != TS_ERR_TOO_LARGE) || md.entity_id ||
		    md.n_certs != 0 || !ts_utf8_valid(e.message, strlen(e.message)))
			abort();
		goto out;
	}
	if (!md.entity_id || !*md.entity_id || (!md.sso_redirect_url && !md.sso_post_url) ||
	    !url_ok(md.sso_redirect_url) || !url_ok(md.sso_post_url) || md.n_certs == 0 ||
	    md.n_certs > TS_SAML_CERTS_MAX)
		abort();
	const char *pems[TS_SAML_CERTS_MAX];
	for (size_t i = 0; i < md.n_certs; i++) {
		const struct ts_saml_cert *c = &md.certs[i];
		struct ts_saml_cert again;
		if (strlen(c->sha256) != TS_SHA256_HEX_LEN ||
		    ts_saml_cert_read(a, c->pem, &again, &e) != TS_ERR_OK ||
		    strcmp(again.sha256, c->sha256) != 0 || strcmp(again.subject, c->subject) != 0)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(md.certs[j].sha256, c->sha256) == 0)
				abort();
		pems[i] = c->pem;
	}
	/* what was read can be published again (the SP writer with these certificates) */
	struct ts_saml_sp sp = {.entity_id = md.entity_id,
	                        .acs_url = md.sso_post_url ? md.sso_post_url : md.sso_redirect_url,
	                        .certs_pem = pems,
	                        .n_certs = md.n_certs};
	size_t len = 0;
	char *xml = ts_saml_sp_metadata(a, &sp, &len);
	xmlDocPtr doc = NULL;
	if (!xml || ts_saml_xml_parse(a, xml, len, 4 * TS_SAML_METADATA_MAX, &doc, &e) != TS_ERR_OK)
		abort();
out:
	ts_arena_free(&a);
	return 0;
}
