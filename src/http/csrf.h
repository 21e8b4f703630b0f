/*
 * Anti-CSRF tokens for browser forms. A token is a MAC of the session
 * identifier under a key derived from the master key, so it needs no
 * storage, differs per session, and cannot be computed without the key
 * (the "HMAC-based token" pattern): a form carries it in a hidden field,
 * and the POST that comes back is refused unless it verifies against the
 * session the cookie names. A cross-site page can make the browser send the
 * cookie but cannot read the token.
 *
 * On top of the token, ts_http_csrf_check refuses a POST whose Origin
 * header (RFC 6454 §7, sent by browsers on every POST) names another
 * origin than the server's base URL.
 */
#ifndef TS_HTTP_CSRF_H
#define TS_HTTP_CSRF_H

#include <stdbool.h>

#include "core/crypto.h"
#include "core/error.h"
#include "http/http.h"
#include "http/url.h"

/* ts_secret_subkey purpose of the CSRF key (exactly TS_SUBKEY_PURPOSE_LEN characters). */
#define TS_HTTP_CSRF_PURPOSE "csrftok1"
#define TS_HTTP_CSRF_KEY_LEN TS_MASTER_KEY_LEN
/* A token: base64url of a 32-byte HMAC-SHA-256, no padding. */
#define TS_HTTP_CSRF_TOKEN_LEN 43
/* The form field forms carry it in. */
#define TS_HTTP_CSRF_FIELD "csrf"
/* Longest session identifier accepted. */
#define TS_HTTP_CSRF_SESSION_MAX 256

/* The CSRF key from the master key; wipe it (sodium_memzero) when done. */
void ts_http_csrf_key(const unsigned char master[TS_MASTER_KEY_LEN],
                      unsigned char key[TS_HTTP_CSRF_KEY_LEN]);

/*
 * The token of session_id (non-empty, at most TS_HTTP_CSRF_SESSION_MAX
 * bytes), TS_HTTP_CSRF_TOKEN_LEN characters in arena a, or NULL for a
 * session id outside those bounds. Use the session's identifier as the
 * store knows it (or its hash), not the cookie's secret if they differ.
 */
const char *ts_http_csrf_token(ts_arena_t *a, const unsigned char key[TS_HTTP_CSRF_KEY_LEN],
                               const char *session_id);

/* Whether token is session_id's; the comparison is constant-time (sodium_memcmp). */
bool ts_http_csrf_verify(const unsigned char key[TS_HTTP_CSRF_KEY_LEN], const char *session_id,
                         const char *token);

/*
 * The check a state-changing form handler runs: the Origin header, when
 * sent, is base's origin (a missing one is allowed: some browsers omit it
 * on same-origin requests; "null" is refused), and token verifies for
 * session_id. TS_ERR_FORBIDDEN otherwise, with a message for the log.
 */
TS_MUST_USE ts_err ts_http_csrf_check(const struct ts_http_req *req,
                                      const struct ts_http_base_url *base,
                                      const unsigned char key[TS_HTTP_CSRF_KEY_LEN],
                                      const char *session_id, const char *token,
                                      struct ts_error *e);

#endif
