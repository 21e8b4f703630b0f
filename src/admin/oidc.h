/*
 * An account's OpenID provider as the administrator manages it (docs/oidc.md
 * "Configuration"; the Okta "OpenIdConfig" of SPEC §2): checking what is
 * given, fetching the issuer's discovery document and JWKS, storing the
 * config with its client secret sealed (store/oidc.h), and the GET view with
 * what the administrator pastes into Okta. Shared by the admin API
 * (api_oidc.c) and the CLI (`tessera oidc configure`).
 */
#ifndef TS_ADMIN_OIDC_H
#define TS_ADMIN_OIDC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"
#include "store/conn.h"

#define TS_OIDC_CLIENT_ID_MAX 256      /* bytes of a ClientId */
#define TS_OIDC_CLIENT_SECRET_MAX 1024 /* bytes of a ClientSecret (Okta's are 40 to 64) */
#define TS_OIDC_CLAIM_MAX 64           /* bytes of a Claim name */
#define TS_OIDC_SCOPES_MAX 256         /* bytes of Scopes */
#define TS_OIDC_RELAY_ALLOW_MAX 32     /* RelayStateAllowList entries */
#define TS_OIDC_CALLBACK_PATH "/auth/oidc/callback"

/* What a PUT (or the CLI) gives; settings left unset keep their values (or defaults). */
struct ts_admin_oidc_input {
	const char *issuer;
	const char *client_id;
	const unsigned char *client_secret; /* NULL: keep the stored one */
	size_t secret_len;
	const char *claim;       /* NULL: keep ("email" at first) */
	const char *scopes;      /* NULL: keep ("openid email" at first) */
	const char *relay_allow; /* JSON array text of origins; NULL: keep */
	int allow_hs256;         /* -1: keep; 0 or 1 */
	/* what ts_admin_oidc_fetch got */
	const char *discovery_json;
	const char *jwks_json;
	int64_t fetched_ms;
};

/*
 * Checks the members given (TS_ERR_BAD_REQUEST naming the member): ClientId
 * and ClientSecret are 1 to their cap of visible ASCII and spaces (RFC 6749
 * Appendix A.1, A.2), Claim a claim name of letters, digits, '_', '-', '.',
 * ':', Scopes scope tokens (RFC 6749 §3.3) separated by spaces, "openid"
 * among them (OpenID Connect Core 1.0 §3.1.2.1).
 */
TS_MUST_USE ts_err ts_admin_oidc_check(const struct ts_admin_oidc_input *in, struct ts_error *e);

/*
 * Fetches in->issuer's discovery document (oidc/discovery.h, §4.3 issuer
 * check) and then its JWKS into in. Blocks; run it outside any store
 * transaction. TS_ERR_BAD_REQUEST naming the URL and why.
 */
TS_MUST_USE ts_err ts_admin_oidc_fetch(ts_arena_t *a, struct ts_admin_oidc_input *in,
                                       struct ts_error *e);

/*
 * Stores in (fetched) as the account's OpenID provider in the caller's write
 * transaction: the account must exist (TS_ERR_NOT_FOUND); a first config
 * needs a client secret (TS_ERR_BAD_REQUEST); the secret, when given, is
 * sealed with master. The version moves.
 */
TS_MUST_USE ts_err ts_admin_oidc_configure(ts_store_conn_t *c, ts_arena_t *a,
                                           const unsigned char master[TS_MASTER_KEY_LEN],
                                           const char *account_id,
                                           const struct ts_admin_oidc_input *in, int64_t now_ms,
                                           struct ts_error *e);

/*
 * The GET body of the account's OpenID provider (a new reference): Issuer,
 * ClientId, Claim and the settings, never the secret, with LoginRedirectUri
 * and InitiateLoginUri under base_url (the server's origin).
 * TS_ERR_NOT_FOUND when the account has none.
 */
TS_MUST_USE ts_err ts_admin_oidc_config_load_json(ts_store_conn_t *c, ts_arena_t *a,
                                                  const char *base_url, const char *account_id,
                                                  json_t **out, struct ts_error *e);

#endif
