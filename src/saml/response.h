/*
 * Reading a SAML 2.0 Response at the ACS (docs/product.md §6): the one place
 * where outside XML meets libxml2 and xmlsec1. Pure: no store, no HTTP. The
 * caller gives the account's trust (IdP entity ID and signing certificates
 * from its metadata, the SP's keys for EncryptedAssertion) and the time; it
 * gets the one assertion the signature covers, or the check that failed.
 *
 * What is checked, in this order, each failure naming its check
 * (enum ts_saml_check; federation-security.md §1 is the catalogue):
 * the form value is base64 of at most TS_SAML_RESPONSE_MAX bytes; the XML is
 * well-formed, has no DOCTYPE, no entity, no XInclude, one namespace-correct
 * samlp:Response root, and no duplicate ID attribute anywhere; Status is
 * Success; exactly one Assertion or EncryptedAssertion, a direct child of the
 * Response (an EncryptedAssertion is decrypted with an SP key, then handled
 * as an Assertion: one error for every decryption failure); signatures are
 * verified with the metadata certificates only (KeyInfo is never a key
 * source), each ds:Signature a direct child of the element it signs, with
 * exactly one Reference whose URI is "#" + that element's ID, only the
 * enveloped and exclusive-c14n transforms, RSA-SHA256/384/512 or ECDSA
 * (SHA-1 only with allow_sha1); the Assertion is signed, or the Response is
 * and the Assertion is its child; the assertion read afterwards is the node
 * the verified Reference resolved; Issuer of the Response (when present) and
 * of the Assertion equal the IdP entity ID; Response Destination (when
 * present, and always when only the Response is signed) equals the ACS URL;
 * Conditions present with NotBefore/NotOnOrAfter within skew and every
 * AudienceRestriction holding the SP entity ID; a bearer SubjectConfirmation
 * whose Data has Recipient = ACS URL, NotOnOrAfter in the future (with
 * skew), and InResponseTo equal to the Response's when both are present;
 * NameID and every attribute value are text only (no comment, no child
 * element); AWS Role values are "role_arn,provider_arn" in either order.
 *
 * What the caller checks with the store: InResponseTo against the request it
 * issued to this browser (or IdP-initiated allowed), and the replay cache
 * (assertion ID until not_on_or_after_ms).
 */
#ifndef TS_SAML_RESPONSE_H
#define TS_SAML_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "directory/signin_decide.h"

/* The decoded Response's cap (the form field is about 4/3 of it). */
#define TS_SAML_RESPONSE_MAX (256 * 1024)
/* Clock skew allowed on every time condition (federation-security.md §1b "Clock"). */
#define TS_SAML_SKEW_DEFAULT_MS 60000
/* Attributes and values read from one assertion; more is refused as malformed. */
#define TS_SAML_ATTRIBUTES_MAX 64
#define TS_SAML_VALUES_MAX 64
/* The AWS attributes (docs/product.md §6). */
#define TS_SAML_ATTR_ROLE "https://aws.amazon.com/SAML/Attributes/Role"
#define TS_SAML_ATTR_ROLE_SESSION_NAME "https://aws.amazon.com/SAML/Attributes/RoleSessionName"

/* Which check refused a response: the audit event names it, the browser never sees it. */
enum ts_saml_check {
	TS_SAML_CHECK_NONE = 0,        /* every check passed */
	TS_SAML_CHECK_ENCODING,        /* not base64, empty, or past TS_SAML_RESPONSE_MAX */
	TS_SAML_CHECK_XML,             /* not well-formed, DOCTYPE/entities, not a samlp:Response */
	TS_SAML_CHECK_DUPLICATE_ID,    /* two elements with the same ID */
	TS_SAML_CHECK_STATUS,          /* Status is not Success */
	TS_SAML_CHECK_ASSERTION_COUNT, /* zero, or more than one Assertion/EncryptedAssertion */
	TS_SAML_CHECK_DECRYPTION,      /* an EncryptedAssertion that no SP key opens (one error) */
	TS_SAML_CHECK_SIGNATURE,       /* unsigned, wrong key, broken digest, wrong reference */
	TS_SAML_CHECK_ALGORITHM,       /* a weak or unknown signature, digest or transform */
	TS_SAML_CHECK_ISSUER,
	TS_SAML_CHECK_DESTINATION,
	TS_SAML_CHECK_AUDIENCE,
	TS_SAML_CHECK_RECIPIENT,
	TS_SAML_CHECK_BEARER,         /* no bearer SubjectConfirmation */
	TS_SAML_CHECK_TIME,           /* NotBefore / NotOnOrAfter outside skew, or unparsable */
	TS_SAML_CHECK_IN_RESPONSE_TO, /* Response and SubjectConfirmationData disagree */
	TS_SAML_CHECK_SUBJECT,        /* no NameID, or a NameID with comments or child elements */
	TS_SAML_CHECK_ATTRIBUTE, /* an attribute value with markup, too many, a malformed Role */
	TS_SAML__CHECKS
};

/* Stable name of a check ("Signature", "Audience", ...) for audit events and tests. */
const char *ts_saml_check_name(enum ts_saml_check c);

/* The account's trust and the moment of the check. */
struct ts_saml_verify_config {
	const char *sp_entity_id; /* the Audience */
	const char *acs_url;      /* Destination and Recipient */
	const char *idp_entity_id;
	const char *const
	        *idp_certs_pem; /* the metadata's signing certificates (rollover: several) */
	size_t n_idp_certs;
	const char *const *sp_keys_pem; /* PEM private keys for EncryptedAssertion (newest first) */
	size_t n_sp_keys;
	bool allow_sha1; /* the account opted in to SHA-1 signatures and digests */
	int64_t now_ms;
	int64_t skew_ms; /* 0: TS_SAML_SKEW_DEFAULT_MS */
};

struct ts_saml_attribute {
	const char *name;
	const char **values; /* text of each AttributeValue */
	size_t n_values;
};

/* What a valid response says (arena memory). */
struct ts_saml_assertion {
	const char *response_id;
	const char *assertion_id;
	const char *issuer;
	const char *in_response_to; /* NULL: unsolicited (IdP-initiated) */
	const char *name_id;
	const char *name_id_format; /* may be NULL */
	const char *session_index;  /* AuthnStatement SessionIndex; may be NULL */
	int64_t not_on_or_after_ms; /* the earliest NotOnOrAfter: the replay cache keeps it until
	                               then */
	const struct ts_saml_attribute *attributes;
	size_t n_attributes;
	const struct ts_signin_aws_role *roles; /* from TS_SAML_ATTR_ROLE */
	size_t n_roles;
	const char *role_session_name; /* may be NULL */
	bool response_signed, assertion_signed, encrypted;
};

/*
 * Verifies the base64 form value b64[0..len) (whitespace allowed) against
 * cfg. TS_ERR_OK with out filled and *failed TS_SAML_CHECK_NONE when it is
 * valid; TS_ERR_UNAUTHORIZED with *failed naming the check and e saying why
 * (for the log and the audit event, never for the browser) when it is not;
 * TS_ERR_INTERNAL when xmlsec or memory fails. Thread-safe once
 * ts_saml_init has run.
 */
TS_MUST_USE ts_err ts_saml_response_verify(ts_arena_t *a, const char *b64, size_t len,
                                           const struct ts_saml_verify_config *cfg,
                                           struct ts_saml_assertion *out,
                                           enum ts_saml_check *failed, struct ts_error *e);

/* The value of the first attribute named name, or NULL. */
const struct ts_saml_attribute *ts_saml_attribute(const struct ts_saml_assertion *as,
                                                  const char *name);

/*
 * Process-wide set-up of libxml2 and xmlsec1 (the OpenSSL crypto engine),
 * once, before any thread uses this module; ts_saml_shutdown at the end.
 * Safe to call more than once.
 */
TS_MUST_USE ts_err ts_saml_init(struct ts_error *e);
void ts_saml_shutdown(void);

#endif
