/*
 * JOSE for the OpenID Connect relying party: a JWS in compact serialization
 * (RFC 7515 §7.1) split, decoded and parsed; a JWK Set (RFC 7517 §5) read
 * into OpenSSL public keys once, so that each verification is one EVP call;
 * and the signature checked with the algorithms of RFC 7518 §3 (RS*, PS*,
 * ES*, HS*) against an allow-list the caller pins. Pure: no store, no HTTP.
 *
 * Keys come only from the issuer's JWKS (or, for HS*, the client secret):
 * the token's own "jwk", "jku", "x5u" and "x5c" header parameters are never
 * read, "none" is always refused, and an HS* token is never checked with a
 * JWKS key, so a public key cannot be used as an HMAC secret.
 */
#ifndef TS_OIDC_JOSE_H
#define TS_OIDC_JOSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

#define TS_OIDC_JWT_MAX (16 * 1024)  /* bytes of a compact JWS accepted */
#define TS_OIDC_JWKS_MAX (64 * 1024) /* bytes of a JWKS document */
#define TS_OIDC_JWKS_KEYS_MAX 16     /* usable keys kept from one JWKS */
#define TS_OIDC_KID_MAX 256          /* bytes of a "kid" */
#define TS_OIDC_RSA_BITS_MIN 2048    /* RFC 7518 §3.3: 2048 bits or larger MUST be used */
#define TS_OIDC_RSA_BITS_MAX 8192    /* larger moduli only cost verification time */

/* JWS "alg" values of RFC 7518 §3.1 that Tessera verifies; 0 is "none" or an unknown name. */
enum ts_oidc_alg {
	TS_OIDC_ALG_NONE_ = 0,
	TS_OIDC_RS256,
	TS_OIDC_RS384,
	TS_OIDC_RS512,
	TS_OIDC_PS256,
	TS_OIDC_PS384,
	TS_OIDC_PS512,
	TS_OIDC_ES256,
	TS_OIDC_ES384,
	TS_OIDC_ES512,
	TS_OIDC_HS256,
	TS_OIDC_HS384,
	TS_OIDC_HS512,
};

/* The alg of an "alg" name ("RS256"); TS_OIDC_ALG_NONE_ for "none", NULL or any other name. */
enum ts_oidc_alg ts_oidc_alg_from_name(const char *name);
/* The "alg" name of alg ("RS256"); "none" for TS_OIDC_ALG_NONE_ or a value out of range. */
const char *ts_oidc_alg_name(enum ts_oidc_alg alg);

/* Parsed public keys (OpenSSL EVP_PKEY, imported once); immutable, so threads may share one. */
struct ts_oidc_jwks;

/*
 * Reads a JWK Set (RFC 7517 §5): an object whose "keys" is an array. Keeps
 * the RSA keys (RFC 7518 §6.3.1: "n", "e") and the EC keys on P-256, P-384
 * and P-521 (§6.2.1: "crv", "x", "y" each the full size of the field) whose
 * "use" is "sig" or absent, whose "key_ops" (when present) has "verify" and
 * whose "alg" (when present) is one this file verifies; other keys (other
 * "kty", "use" "enc", other curves) are skipped without error, as §5 asks.
 * A key that claims to be usable but is malformed, an RSA modulus under
 * TS_OIDC_RSA_BITS_MIN or over TS_OIDC_RSA_BITS_MAX bits, or an EC point not
 * on its curve refuses the whole document (TS_ERR_BAD_REQUEST, message
 * naming the key); TS_ERR_TOO_LARGE past TS_OIDC_JWKS_MAX bytes or
 * TS_OIDC_JWKS_KEYS_MAX usable keys. A set with no usable key is accepted
 * (ts_oidc_jwks_count says 0). *out is the caller's: ts_oidc_jwks_free.
 */
TS_MUST_USE ts_err ts_oidc_jwks_parse(const char *json, size_t len, struct ts_oidc_jwks **out,
                                      struct ts_error *e);
/* Frees k (NULL is fine). */
void ts_oidc_jwks_free(struct ts_oidc_jwks *k);
/* Usable keys held; 0 for NULL. */
size_t ts_oidc_jwks_count(const struct ts_oidc_jwks *k);

/* A JWS in compact form, split and decoded; header and payload are JSON objects (arena-owned). */
struct ts_oidc_jws {
	const char *alg_name; /* the header's "alg" as given */
	enum ts_oidc_alg alg; /* TS_OIDC_ALG_NONE_ for "none" or an unknown name */
	const char *kid;      /* the header's "kid"; NULL when absent */
	json_t *header;
	json_t *payload;
	/* private: for ts_oidc_jws_verify */
	const char *signing_input; /* RFC 7515 §5.2: ASCII(header '.' payload), not terminated */
	size_t signing_input_len;
	const unsigned char *sig;
	size_t sig_len;
};

/*
 * Splits compact[0..len) into its three parts (exactly two '.'), decodes
 * each as base64url without padding (RFC 7515 §2: no '=', no white space,
 * the unused bits of the last character zero), parses header and payload as
 * JSON objects (no member name twice, RFC 7515 §5.2 step 4) and reads "alg"
 * (required, a string) and "kid" (a string when present). A header with
 * "crit" is refused: Tessera understands no extension (RFC 7515 §4.1.11).
 * TS_ERR_TOO_LARGE past TS_OIDC_JWT_MAX; TS_ERR_BAD_REQUEST with a message
 * for anything malformed. Nothing is verified here.
 */
TS_MUST_USE ts_err ts_oidc_jws_parse(ts_arena_t *a, const char *compact, size_t len,
                                     struct ts_oidc_jws *out, struct ts_error *e);

/*
 * Verifies j's signature. The algorithm must be in allowed[0..n_allowed)
 * ("none" never is). RS*, PS* and ES* use keys of jwks only, of the type the
 * algorithm needs (RSA; EC on the curve of RFC 7518 §3.4) and whose own
 * "alg", when given, is j's: the key named by j's "kid", or when j has no
 * "kid" every such key in turn (the RP certification cases
 * rp-id_token-kid-absent-*). HS* uses hs_secret[0..hs_len) (the client
 * secret) and never a JWKS key; it is refused when hs_secret is NULL or
 * shorter than the hash (RFC 7518 §3.2). The MAC is compared in constant time.
 *
 * Answers TS_ERR_OK when the signature holds. Refusals, each with a message:
 *   TS_ERR_FORBIDDEN     the algorithm is "none", unknown or not allowed, or
 *                        HS* without a usable secret (audit check "Algorithm");
 *   TS_ERR_UNAUTHORIZED  no key fits or the signature does not hold ("Signature",
 *                        or "KeyUnknown" when *unknown_kid was set).
 * *unknown_kid (may be NULL) is set true when j's "kid" names no key of jwks,
 * or j has none and jwks holds no key of the algorithm's type: the caller may
 * fetch the JWKS again once (rate-limited) and retry.
 */
TS_MUST_USE ts_err ts_oidc_jws_verify(const struct ts_oidc_jws *j, const struct ts_oidc_jwks *jwks,
                                      const enum ts_oidc_alg *allowed, size_t n_allowed,
                                      const char *hs_secret, size_t hs_len, bool *unknown_kid,
                                      struct ts_error *e);

#endif
