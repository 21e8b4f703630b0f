/*
 * An account's SAML identity source as the administrator manages it
 * (saml-contract "Admin API"; docs/product.md §6): importing the IdP
 * metadata (uploaded, or fetched from its MetadataUrl), the settings, the
 * SP key pair made with the first import, and the GET view with what the
 * administrator copies into the IdP. Shared by the admin API
 * (api_saml.c), the CLI (`tessera saml configure`) and the metadata
 * refresher (app/).
 */
#ifndef TS_ADMIN_SAML_H
#define TS_ADMIN_SAML_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"
#include "saml/metadata.h"
#include "store/conn.h"

/* A MetadataUrl older than this is fetched again by the refresher. */
#define TS_SAML_METADATA_REFRESH_S 21600 /* 6 hours; serve --saml-metadata-refresh */
#define TS_SAML_METADATA_REFRESH_MS (TS_SAML_METADATA_REFRESH_S * 1000LL)
/* How long one fetch of a MetadataUrl may take (PUT and refresher). */
#define TS_SAML_METADATA_FETCH_TIMEOUT_MS 10000
/* The sign-in check and /metrics warn when an IdP signing certificate expires within this. */
#define TS_SAML_CERT_WARN_MS (30LL * 24 * 3600 * 1000)
#define TS_SAML_RELAY_ALLOW_MAX 32 /* RelayStateAllowList entries */

/* What a PUT (or the CLI) changes; settings left unset keep their current values. */
struct ts_admin_saml_input {
	const char *metadata_xml; /* the document (uploaded or fetched), NUL-terminated */
	size_t metadata_len;
	const char *metadata_url; /* NULL: uploaded */
	int64_t fetched_ms;       /* when metadata_url was fetched */
	int allow_idp_initiated;  /* -1: keep; 0 or 1 */
	int allow_sha1;           /* -1: keep; 0 or 1 */
	const char *relay_allow;  /* JSON array text of origins; NULL: keep */
};

/*
 * Fetches a MetadataUrl (http/client.h: https, or http to loopback; capped
 * at TS_SAML_METADATA_MAX, TS_SAML_METADATA_FETCH_TIMEOUT_MS). Anything
 * but a 200 with a body is TS_ERR_BAD_REQUEST naming why. Blocks.
 */
TS_MUST_USE ts_err ts_admin_saml_fetch(ts_arena_t *a, const char *url, const char **xml,
                                       size_t *len, struct ts_error *e);

/*
 * Imports in into the account's identity source in the caller's write
 * transaction: the account must exist (TS_ERR_NOT_FOUND), the metadata must
 * parse (TS_ERR_BAD_REQUEST naming why, ts_saml_metadata_parse); the
 * document is kept as given; the account gets its first SP key pair when it
 * has none (sealed with master). *md (may be NULL) gets the parsed metadata.
 */
TS_MUST_USE ts_err ts_admin_saml_configure(ts_store_conn_t *c, ts_arena_t *a,
                                           const unsigned char master[TS_MASTER_KEY_LEN],
                                           const char *account_id,
                                           const struct ts_admin_saml_input *in, int64_t now_ms,
                                           struct ts_saml_idp_metadata *md, struct ts_error *e);

/*
 * The GET body {"SamlConfig": {...}} of the account (a new reference), with
 * the ServiceProvider URLs under base_url (the server's origin).
 * TS_ERR_NOT_FOUND when the account has no identity source.
 */
TS_MUST_USE ts_err ts_admin_saml_config_load_json(ts_store_conn_t *c, ts_arena_t *a,
                                                  const char *base_url, const char *account_id,
                                                  int64_t now_ms, json_t **out, struct ts_error *e);

/*
 * The soonest NotAfter of the account's IdP signing certificates into
 * *not_after_ms (0 when the account has no identity source). For the sign-in
 * check's warning and the /metrics gauge.
 */
TS_MUST_USE ts_err ts_admin_saml_idp_expiry(ts_store_conn_t *c, ts_arena_t *a,
                                            const char *account_id, int64_t *not_after_ms,
                                            struct ts_error *e);

/*
 * ["IdP signing certificate <subject> expires in N days", ...] (a new
 * reference): the account's IdP signing certificates that expire within
 * TS_SAML_CERT_WARN_MS of now_ms, or have expired. An empty array when none
 * or when the account has no identity source.
 */
TS_MUST_USE ts_err ts_admin_saml_cert_warnings(ts_store_conn_t *c, ts_arena_t *a,
                                               const char *account_id, int64_t now_ms, json_t **out,
                                               struct ts_error *e);

#endif
