/*
 * Inside the authorization server (oauth.h): the ES256 key ring and JWT
 * signing (keys.c), user codes (usercode.c), the token grants (token.c) and
 * the /device page (device.c), shared by the module's files and its tests.
 */
#ifndef TS_OAUTH_INTERNAL_H
#define TS_OAUTH_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/error.h"
#include "http/form.h"
#include "http/http.h"
#include "oauth/oauth.h"
#include "store/store.h"

/* ---- the key ring (docs/oauth.md "Signing keys") ---- */

/* A current key signs for this long; then its successor takes over. */
#define TS__OAUTH_KEY_ROTATE_MS (30LL * 24 * 3600 * 1000)
/* /oauth/jwks is cacheable this long (Cache-Control max-age). */
#define TS__OAUTH_JWKS_MAX_AGE_S 300
/*
 * A new key is published this long before it signs: three cache lifetimes
 * of /oauth/jwks, so that a verifier with a cached set knows it first.
 */
#define TS__OAUTH_KEY_LEAD_MS (3LL * TS__OAUTH_JWKS_MAX_AGE_S * 1000)
/*
 * A retired key stays published this long: longer than anything it signed
 * lives (credentials at most TS__OAUTH_CREDENTIALS_MAX_MS), so a verifier
 * that loaded /oauth/jwks before a rotation still finds the kid.
 */
#define TS__OAUTH_KEY_OVERLAP_MS (24LL * 3600 * 1000)
#define TS__OAUTH_CREDENTIALS_MAX_MS (12LL * 3600 * 1000)
/* Keys published at once (a rotation every day for a month would be 30). */
#define TS__OAUTH_KEYS_MAX 16
/* ES256 (RFC 7518 §3.4): a P-256 signature is R and S, 32 bytes each. */
#define TS__OAUTH_ES256_SIG_LEN 64
/* The largest JWT signed: claims and policies past this are refused. */
#define TS__OAUTH_JWT_MAX (64 * 1024)

/*
 * Makes the key of generation (1 for a store's first): P-256 pair, the
 * public JWK (kid: its RFC 7638 thumbprint) in the ring, the private half
 * sealed with master in the secrets table. Nothing when that generation
 * exists already (another node made it at the same time): *kid NULL. In c's
 * write transaction, or one of its own. *kid (may be NULL) in arena a.
 */
TS_MUST_USE ts_err ts__oauth_key_new(ts_store_conn_t *c, ts_arena_t *a,
                                     const unsigned char master[TS_MASTER_KEY_LEN], int64_t now_ms,
                                     int64_t generation, const char **kid, struct ts_error *e);
/*
 * Signs a compact JWS (RFC 7515 §7.1) of claims with the ring's current key:
 * header {"alg":"ES256","typ":"JWT","kid"}. The current key is the newest
 * published for TS__OAUTH_KEY_LEAD_MS (a store's first key signs at once);
 * its predecessors retire when it takes over. A current key older than
 * TS__OAUTH_KEY_ROTATE_MS - TS__OAUTH_KEY_LEAD_MS has its successor made
 * and published, signing later. *jwt in arena a.
 */
TS_MUST_USE ts_err ts__oauth_jwt_sign(ts_store_conn_t *c, ts_arena_t *a,
                                      const unsigned char master[TS_MASTER_KEY_LEN], int64_t now_ms,
                                      const json_t *claims, const char **jwt, struct ts_error *e);
/* The JWK Set text of the keys published at now_ms (RFC 7517 §5), in arena a. */
TS_MUST_USE ts_err ts__oauth_jwks(ts_store_conn_t *c, ts_arena_t *a, int64_t now_ms,
                                  const char **jwks, struct ts_error *e);

/* ---- user codes (RFC 8628 §6.1) ---- */

/* The 20 consonants of RFC 8628 §6.1: no vowels, no look-alikes. */
#define TS__OAUTH_USER_CODE_ALPHABET "BCDFGHJKLMNPQRSTVWXZ"
#define TS__OAUTH_USER_CODE_LEN 8 /* shown XXXX-XXXX: about 34.5 bits */
/* The longest entry looked at (the code with spaces and dashes around it). */
#define TS__OAUTH_USER_CODE_INPUT_MAX 64

/* A fresh code, uniformly drawn (no modulo bias), normalised: 8 letters and a NUL. */
void ts__oauth_user_code_new(char out[TS__OAUTH_USER_CODE_LEN + 1]);
/*
 * What a person typed, normalised: letters uppercased, '-' and spaces
 * dropped (RFC 8628 §6.1: case and punctuation ignored). false when the
 * result is not 8 letters of the alphabet.
 */
bool ts__oauth_user_code_normalise(const char *in, char out[TS__OAUTH_USER_CODE_LEN + 1]);
/* The code as shown, XXXX-XXXX, in arena a. */
const char *ts__oauth_user_code_display(ts_arena_t *a, const char *code);

/* ---- the requests' forms (application/x-www-form-urlencoded, RFC 6749 §3.2, §4.1.3) ---- */

/* A token or device request is a handful of short fields. */
#define TS__OAUTH_FORM_MAX_BODY 8192
#define TS__OAUTH_FORM_MAX_VALUE 2048
#define TS__OAUTH_FORM_LIMITS                                                \
	((struct ts_http_form_limits){.max_body = TS__OAUTH_FORM_MAX_BODY,   \
	                              .max_fields = 16,                      \
	                              .max_name = 64,                        \
	                              .max_value = TS__OAUTH_FORM_MAX_VALUE, \
	                              .multiline = false})
#define TS__OAUTH_GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"
#define TS__OAUTH_GRANT_REFRESH "refresh_token"

/* A token request (RFC 8628 §3.4, RFC 6749 §6). */
struct ts__oauth_token_req {
	bool device;        /* the device-code grant; else refresh_token */
	const char *secret; /* the device code or the refresh token: never logged */
};
/*
 * Reads a token request's fields: TS_ERR_OK, or the OAuth error to answer
 * (OAUTH_INVALID_REQUEST for a field missing or repeated,
 * OAUTH_UNSUPPORTED_GRANT_TYPE, OAUTH_INVALID_CLIENT for a client other
 * than tessera-cli) with a description in e that quotes no value.
 */
TS_MUST_USE ts_err ts__oauth_token_request(const struct ts_http_form *f,
                                           struct ts__oauth_token_req *out, struct ts_error *e);
/* A device authorization request (RFC 8628 §3.1, SPEC §8). */
struct ts__oauth_device_req {
	const char *account_id; /* of start_url {base}/start/{AccountId} */
	const char *scope;      /* may be NULL */
};
/* Reads one against the base URL; errors as ts__oauth_token_request's. */
TS_MUST_USE ts_err ts__oauth_device_request(ts_arena_t *a, const char *base,
                                            const struct ts_http_form *f,
                                            struct ts__oauth_device_req *out, struct ts_error *e);
/* The /device form (SPEC §8). */
struct ts__oauth_decision {
	char code[TS__OAUTH_USER_CODE_LEN + 1]; /* normalised; "" when not a user code */
	bool approve;
	const char *csrf; /* may be NULL */
};
/* TS_ERR_BAD_REQUEST unless user_code and decision (approve|deny) come once, csrf at most once. */
TS_MUST_USE ts_err ts__oauth_decision_request(const struct ts_http_form *f,
                                              struct ts__oauth_decision *out, struct ts_error *e);

/* ---- the module's pieces ---- */

/* The module's config of a request (NULL without a server). */
const struct ts_oauth_config *ts__oauth_config(const struct ts_http_req *req);
/* The setting ts_oauth_module installed (NULL before): what the credentials sign with. */
const struct ts_oauth_config *ts__oauth_installed(void);
/* The configured device-code life and interval, defaults applied. */
int64_t ts__oauth_device_ttl_s(const struct ts_oauth_config *cfg);
int64_t ts__oauth_interval_s(const struct ts_oauth_config *cfg);
/* The configured absolute life of a CLI sign-in's refresh tokens, default applied. */
int64_t ts__oauth_refresh_ttl_s(const struct ts_oauth_config *cfg);
/* An RFC 6749 §5.2 error: {"error", "error_description"}, no-store. */
void ts__oauth_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code,
                     const char *description);
/* POST /oauth/device_authorization (RFC 8628 §3.1, §3.2). */
void ts__oauth_device_authorization(struct ts_http_req *req, struct ts_http_res *res);
/* POST /oauth/token: the device-code grant (RFC 8628 §3.4, §3.5) and refresh (RFC 6749 §6). */
void ts__oauth_token(struct ts_http_req *req, struct ts_http_res *res);
/* GET and POST /device: the person's side (RFC 8628 §3.3, SPEC §8). */
void ts__oauth_device_page(struct ts_http_req *req, struct ts_http_res *res);
void ts__oauth_device_post(struct ts_http_req *req, struct ts_http_res *res);

#endif
