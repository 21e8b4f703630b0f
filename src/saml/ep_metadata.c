/*
 * GET /saml/{AccountId}/metadata: the SP's EntityDescriptor (SAML Metadata
 * 2.0 §2.4.4), what the administrator hands to the IdP: entityID (the
 * Issuer URL), the ACS URL with the HTTP-POST binding, and the SP's
 * certificates (during a key rotation both, so that the IdP can encrypt to
 * either and check either signature).
 */
#include "saml/web.h"
#include "saml/metadata.h"

/* SAML Metadata 2.0 §4.1.1: the media type of a metadata document. */
#define METADATA_TYPE "application/samlmetadata+xml"

void ts__saml_metadata_handle(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts__saml_ctx ctx;
	if (!ts__saml_begin(req, res, &ctx))
		return;
	struct ts_error e = {0};
	const struct ts__saml_trust *t = NULL;
	ts_err rc = ts__saml_trust(&ctx, &t, &e);
	if (rc != TS_ERR_OK) {
		ts_login_page_failed(req, res, rc, &e);
		return;
	}
	if (t == NULL) {
		ts_login_page(req, res, ts_err_status(TS_ERR_NOT_FOUND), "Not found",
		              "This account has no SAML sign-in.");
		return;
	}
	struct ts_saml_sp sp = {.entity_id = t->sp_entity_id,
	                        .acs_url = t->acs_url,
	                        .certs_pem = t->sp_certs,
	                        .n_certs = t->n_sp_certs};
	size_t len = 0;
	char *xml = ts_saml_sp_metadata(req->arena, &sp, &len);
	if (xml == NULL) {
		res->fault = "the SP metadata could not be written";
		return;
	}
	ts_http_res_set(res, 200, METADATA_TYPE, xml, len);
	ts_http_res_header(res, "x-content-type-options", "nosniff");
}
