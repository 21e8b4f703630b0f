/*
 * Names shared by the SAML module's own files only (STYLE.md: ts__saml_*):
 * the xmlsec1 side of response verification (sig.c) as response.c uses it.
 * Nothing here is for other modules.
 */
#ifndef TS_SAML_INTERNAL_H
#define TS_SAML_INTERNAL_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <xmlsec/keys.h>

#include "core/arena.h"
#include "core/error.h"
#include "saml/response.h"

/*
 * Loads each PEM (certificates when certs, else private keys) into an
 * xmlsec key freed with the arena; the ones that do not load are skipped.
 * *keys gets an arena array of *n keys (possibly 0) and, when pems is not
 * NULL, *pems the PEM each key came from, index for index.
 */
void ts__saml_keys_load(ts_arena_t *a, const char *const *pem, size_t n_pem, bool certs,
                        xmlSecKeyPtr **keys, const char ***pems, size_t *n);

/*
 * Verifies ds:Signature sig, a direct child of signed_el whose ID (already
 * registered with xmlAddID, the only IDs the document resolves) is id, with
 * each key in turn (pems[i] is the certificate of keys[i]: the one that
 * KeyInfo names is tried first, an order and never a key source).
 * TS_ERR_OK when one key verifies
 * it; TS_ERR_UNAUTHORIZED with *failed TS_SAML_CHECK_SIGNATURE or
 * TS_SAML_CHECK_ALGORITHM otherwise; TS_ERR_INTERNAL when xmlsec fails.
 */
TS_MUST_USE ts_err ts__saml_signature_verify(xmlNodePtr signed_el, xmlNodePtr sig, const char *id,
                                             xmlSecKeyPtr const *keys, const char *const *pems,
                                             size_t n_keys, bool allow_sha1,
                                             enum ts_saml_check *failed, struct ts_error *e);

/*
 * Decrypts saml:EncryptedAssertion ea in place with the SP keys: its
 * xenc:EncryptedData is replaced by the plaintext, and *assertion is the one
 * saml:Assertion it held. Every failure after the algorithm checks is the
 * same TS_SAML_CHECK_DECRYPTION with the same message (no padding or
 * structure oracle); refused algorithms are TS_SAML_CHECK_ALGORITHM.
 */
TS_MUST_USE ts_err ts__saml_decrypt(xmlNodePtr ea, xmlSecKeyPtr const *keys, size_t n_keys,
                                    xmlNodePtr *assertion, enum ts_saml_check *failed,
                                    struct ts_error *e);

#endif
