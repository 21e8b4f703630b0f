/*
 * Anti-CSRF tokens (see csrf.h): HMAC-SHA-256 (RFC 2104) of a fixed label
 * and the session identifier, under a key derived from the master key.
 */
#include "http/csrf.h"

#include <sodium.h>
#include <string.h>

/* Domain separation: the same key could one day MAC other things. */
#define CSRF_LABEL "tessera csrf v1"

static bool mac(const unsigned char key[TS_HTTP_CSRF_KEY_LEN], const char *session_id,
                unsigned char out[TS_SHA256_LEN])
{
	if (session_id == NULL)
		return false;
	size_t n = strlen(session_id);
	if (n == 0 || n > TS_HTTP_CSRF_SESSION_MAX)
		return false;
	struct ts_hmac_sha256 m;
	ts_hmac_sha256_init(&m, key, TS_HTTP_CSRF_KEY_LEN);
	ts_hmac_sha256_update(&m, CSRF_LABEL, sizeof CSRF_LABEL); /* with its NUL: a separator */
	ts_hmac_sha256_update(&m, session_id, n);
	ts_hmac_sha256_final(&m, out);
	sodium_memzero(&m, sizeof m);
	return true;
}

void ts_http_csrf_key(const unsigned char master[TS_MASTER_KEY_LEN],
                      unsigned char key[TS_HTTP_CSRF_KEY_LEN])
{
	ts_secret_subkey(master, TS_HTTP_CSRF_PURPOSE, key);
}

const char *ts_http_csrf_token(ts_arena_t *a, const unsigned char key[TS_HTTP_CSRF_KEY_LEN],
                               const char *session_id)
{
	unsigned char m[TS_SHA256_LEN];
	if (!mac(key, session_id, m))
		return NULL;
	const char *t = ts_b64url_encode(a, m, sizeof m);
	sodium_memzero(m, sizeof m);
	return t;
}

bool ts_http_csrf_verify(const unsigned char key[TS_HTTP_CSRF_KEY_LEN], const char *session_id,
                         const char *token)
{
	unsigned char want[TS_SHA256_LEN];
	if (token == NULL || strlen(token) != TS_HTTP_CSRF_TOKEN_LEN || !mac(key, session_id, want))
		return false;
	/* decode into a fixed buffer: the token's text is not trusted to be base64url */
	unsigned char got[TS_SHA256_LEN] = {0};
	size_t got_len = 0;
	bool ok = sodium_base642bin(got, sizeof got, token, TS_HTTP_CSRF_TOKEN_LEN, NULL, &got_len,
	                            NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	          got_len == sizeof got;
	/* constant-time: how much of a guessed token is right never shows in the timing */
	ok = sodium_memcmp(got, want, sizeof want) == 0 && ok;
	sodium_memzero(want, sizeof want);
	return ok;
}

ts_err ts_http_csrf_check(const struct ts_http_req *req, const struct ts_http_base_url *base,
                          const unsigned char key[TS_HTTP_CSRF_KEY_LEN], const char *session_id,
                          const char *token, struct ts_error *e)
{
	const char *origin = ts_http_header(req, "origin");
	if (origin != NULL) {
		/* RFC 6454 §7: the origin as the browser serializes it; compared after normalizing
		 */
		const char *o = ts_http_origin_normalize(req->arena, origin, strlen(origin));
		if (o == NULL || base == NULL || base->origin == NULL ||
		    strcmp(o, base->origin) != 0)
			return TS_FAIL(e, TS_ERR_FORBIDDEN,
			               "cross-origin form post refused (Origin)");
	}
	if (!ts_http_csrf_verify(key, session_id, token))
		return TS_FAIL(e, TS_ERR_FORBIDDEN, "the form's CSRF token does not verify");
	return TS_ERR_OK;
}
