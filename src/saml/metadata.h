/*
 * SAML 2.0 metadata (SAML Metadata 2.0, OASIS saml-metadata-2.0-os): reading
 * an IdP's EntityDescriptor (what the administrator uploads: Okta's "Identity
 * Provider metadata") and writing the SP's own (`GET /saml/{AccountId}/metadata`),
 * and the SP's key pairs. Pure: no store, no HTTP.
 */
#ifndef TS_SAML_METADATA_H
#define TS_SAML_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_SAML_METADATA_MAX (512 * 1024) /* an IdP metadata document's cap */
#define TS_SAML_CERTS_MAX 8               /* signing certificates kept from one document */
#define TS_SAML_BINDING_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
#define TS_SAML_BINDING_POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

/* One X.509 certificate of a metadata document. */
struct ts_saml_cert {
	const char *pem;     /* "-----BEGIN CERTIFICATE-----\n...": what the verifier takes */
	const char *subject; /* RFC 4514 text */
	const char *sha256;  /* hex fingerprint of the DER, lowercase */
	int64_t not_before_ms;
	int64_t not_after_ms;
};

/* What Tessera keeps of an IdP's metadata (arena memory). */
struct ts_saml_idp_metadata {
	const char *entity_id;
	const char *sso_redirect_url; /* SingleSignOnService, HTTP-Redirect binding; may be NULL */
	const char *sso_post_url;     /* SingleSignOnService, HTTP-POST binding; may be NULL */
	struct ts_saml_cert certs[TS_SAML_CERTS_MAX]; /* KeyDescriptor use="signing" or no use */
	size_t n_certs;
	bool want_authn_requests_signed;
	/* the earliest validUntil of the EntityDescriptor and the EntitiesDescriptors around it
	 * (SAML Metadata §2.3.1, §2.3.2: not to be used after it); 0: none */
	int64_t valid_until_ms;
};

/*
 * Parses an IdP metadata document: an EntityDescriptor with an
 * IDPSSODescriptor (or an EntitiesDescriptor holding exactly one), hardened
 * as the response parser is (no DOCTYPE, no entities, no network). Needs an
 * entityID, at least one SingleSignOnService (Redirect or POST) with an
 * absolute https URL (http only to loopback hosts), and at least one
 * signing certificate that parses. A validUntil must be an xs:dateTime; the
 * caller decides what an expired document means. TS_ERR_TOO_LARGE past
 * TS_SAML_METADATA_MAX; TS_ERR_BAD_REQUEST with a message naming what is
 * missing or wrong. The metadata's own signature is not required.
 */
TS_MUST_USE ts_err ts_saml_metadata_parse(ts_arena_t *a, const char *xml, size_t len,
                                          struct ts_saml_idp_metadata *out, struct ts_error *e);

/* The SP's side, for its metadata document. */
struct ts_saml_sp {
	const char *entity_id; /* the Issuer URL: <base>/saml/<AccountId>/metadata */
	const char *acs_url;   /* <base>/saml/<AccountId>/acs */
	/* certificates (PEM) published for signing and for encryption: during a
	 * rotation both the new and the old ones */
	const char *const *certs_pem;
	size_t n_certs;
	int64_t valid_until_ms; /* the document's validUntil; 0: none */
};

/*
 * The SP's EntityDescriptor: SPSSODescriptor with AuthnRequestsSigned="true",
 * WantAssertionsSigned="true", each certificate as use="signing" and
 * use="encryption" KeyDescriptors, NameIDFormats (emailAddress, unspecified,
 * persistent), and one AssertionConsumerService (HTTP-POST, index 0).
 * NUL-terminated XML in arena memory; NULL when a certificate does not
 * parse as PEM X.509.
 */
char *ts_saml_sp_metadata(ts_arena_t *a, const struct ts_saml_sp *sp, size_t *len);

/*
 * A new SP key pair: an RSA-2048 private key (PKCS#8 PEM) and a self-signed
 * X.509 certificate for it (SHA-256, CN=common_name, valid from now for
 * days). Strings in arena memory; the private key is wiped when the arena
 * is freed.
 */
TS_MUST_USE ts_err ts_saml_keypair_new(ts_arena_t *a, const char *common_name, int days,
                                       const char **key_pem, const char **cert_pem,
                                       struct ts_error *e);

/* Reads a PEM certificate's details (as in ts_saml_cert); TS_ERR_BAD_REQUEST when it does not
 * parse. */
TS_MUST_USE ts_err ts_saml_cert_read(ts_arena_t *a, const char *pem, struct ts_saml_cert *out,
                                     struct ts_error *e);

#endif
