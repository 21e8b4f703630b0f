/*
 * Tessera's authorization server for the CLI and for downstream credentials
 * (SPEC §2, §8; docs/oauth.md): RFC 8414 metadata, the ES256 key ring
 * published at /oauth/jwks, the RFC 8628 device authorization grant with its
 * /device page, refresh tokens that rotate at every use, and the signed
 * credentials the portal hands out (ts_oauth_credentials_sign). Every piece
 * of flow state lives in the store, so any node answers any poll.
 */
#ifndef TS_OAUTH_OAUTH_H
#define TS_OAUTH_OAUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"
#include "http/http.h"
#include "store/conn.h"

/* SPEC §8: the CLI is the public client tessera-cli. */
#define TS_OAUTH_CLI_CLIENT "tessera-cli"
/* RFC 8628 §3.2: expires_in of a device code, and the polling interval, by default. */
#define TS_OAUTH_DEVICE_TTL_S 600
#define TS_OAUTH_DEVICE_TTL_MAX_S 3600
#define TS_OAUTH_INTERVAL_S 5
/*
 * A CLI sign-in's absolute life: every refresh token of a family expires when
 * its first one does (AWS IAM Identity Center's default session duration is
 * 8 hours; at most 90 days). docs/oauth.md "Tokens".
 */
#define TS_OAUTH_REFRESH_TTL_S 28800       /* 8 hours; a literal: serve prints it */
#define TS_OAUTH_REFRESH_TTL_MAX_S 7776000 /* 90 days */
#define TS_OAUTH_INTERVAL_MAX_S 60

/* What the authorization server needs of the running server; outlives it. */
struct ts_oauth_config {
	const char *base_url; /* the public origin (http/url.h): issuer and every URL */
	bool base_url_given;  /* serve --base-url: the /device page needs it (docs/http.md) */
	const unsigned char *master_key; /* seals the signing keys, keys the anti-CSRF field */
	int64_t device_ttl_s;            /* serve --device-code-ttl; 0: TS_OAUTH_DEVICE_TTL_S */
	int64_t interval_s;              /* serve --device-poll-interval; 0: TS_OAUTH_INTERVAL_S */
	int64_t refresh_ttl_s;           /* serve --refresh-token-ttl; 0: TS_OAUTH_REFRESH_TTL_S */
	/*
	 * Anonymous steps per client address (serve --signin-rate-limit): device
	 * authorizations and /device entries each take a token; NULL: no limit.
	 */
	struct ts_throttle *throttle;
};

/*
 * The module for the server (http/http.h); cfg may be NULL (routing without
 * a server). A non-NULL cfg is also installed as the process's setting that
 * ts_oauth_credentials_sign reads (master key and issuer).
 */
struct ts_http_module ts_oauth_module(struct ts_oauth_config *cfg);

/* What a credentials token names (issue 14, SPEC §8). */
struct ts_oauth_credentials {
	const char *account_id, *user_id, *target_id, *permission_set_id;
	const char *policies_json; /* JSON array of policy documents */
	/* the id (never the token) of the session that asked: claim sid (docs/oauth.md) */
	const char *session_id;
	int64_t expires_ms; /* the caller caps it at the session's expiry (docs/portal.md) */
};
/*
 * Signs an ES256 JWT with the current key of the ring (header kid): claims
 * iss (base URL), sub (user id), aud "tessera", iat, exp (expires_ms), jti,
 * sid (session_id), and account_id, user_id, target_id, permission_set_id
 * and policies (the array itself). *jwt is arena memory. Uses the setting ts_oauth_module
 * installed (TS_ERR_INTERNAL without one). Call it outside a transaction or
 * in a write transaction: the first signature of a store makes its key.
 * TS_ERR_BAD_REQUEST for a missing field, policies that are not a JSON
 * array, or an expiry not after now.
 */
TS_MUST_USE ts_err ts_oauth_credentials_sign(ts_store_conn_t *c, ts_arena_t *a,
                                             const struct ts_oauth_credentials *cr,
                                             const char **jwt, struct ts_error *e);

#endif
