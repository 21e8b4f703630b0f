/*
 * The claims of an OpenID Connect ID token, checked as OpenID Connect Core
 * 1.0 §3.1.3.7 asks (and as mod_auth_openidc does): iss, aud, azp, exp, iat,
 * nbf, nonce, sub, each of its JSON type. The signature is jose.h's; this
 * file only reads a payload that ts_oidc_jws_verify has already accepted.
 * Pure: no clock (the caller gives now), no store, no HTTP.
 */
#ifndef TS_OIDC_IDTOKEN_H
#define TS_OIDC_IDTOKEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "oidc/jose.h"

#define TS_OIDC_SKEW_DEFAULT_MS INT64_C(60000)     /* clock skew allowed on exp, iat, nbf */
#define TS_OIDC_MAX_AGE_DEFAULT_MS INT64_C(600000) /* iat no older than this (10 min) */
#define TS_OIDC_SUB_MAX 255                        /* OpenID Connect Core §2: sub's length */
#define TS_OIDC_TIME_MAX_S INT64_C(253402300799)   /* 9999-12-31T23:59:59Z: NumericDate cap */

/* What the relying party expects of one ID token. */
struct ts_oidc_idtoken_expect {
	const char *issuer;    /* exact "iss" (Core §3.1.3.7 step 2) */
	const char *client_id; /* must be in "aud"; "azp" when present */
	const char *nonce;     /* the nonce sent; NULL: none was sent */
	int64_t now_ms;
	int64_t skew_ms;    /* 0: TS_OIDC_SKEW_DEFAULT_MS */
	int64_t max_age_ms; /* oldest iat: now - max_age - skew; 0: TS_OIDC_MAX_AGE_DEFAULT_MS */
};

/* The claims read (strings point into all, which the arena owns). */
struct ts_oidc_claims {
	const char *iss, *sub, *aud_first, *azp, *nonce, *email; /* azp, nonce, email may be NULL */
	bool email_verified;                                     /* false when absent */
	int64_t exp_ms, iat_ms;
	json_t *all; /* the whole payload, for the configured claim */
};

/*
 * The check that refused a token, for the SignIn audit event's Check (the
 * browser is never told). X(ENUM, audit name).
 */
#define TS_OIDC_CHECK_TABLE(X)                                                                  \
	X(NONE, "None")                                                                         \
	X(MALFORMED, "Malformed")              /* not a JWS, or a claim of another type */      \
	X(ALGORITHM, "Algorithm")              /* "none", not allowed, HS* without secret */    \
	X(KEY_UNKNOWN, "KeyUnknown")           /* the kid names no key, even after a refresh */ \
	X(SIGNATURE, "Signature")              /* no key verifies the signature */              \
	X(ISSUER, "Issuer")                    /* iss */                                        \
	X(AUDIENCE, "Audience")                /* aud */                                        \
	X(AUTHORIZED_PARTY, "AuthorizedParty") /* azp */                                        \
	X(EXPIRED, "Expired")                  /* exp */                                        \
	X(NOT_BEFORE, "NotBefore")             /* nbf */                                        \
	X(ISSUED_AT, "IssuedAt")               /* iat */                                        \
	X(NONCE, "Nonce")                      /* nonce */                                      \
	X(SUBJECT, "Subject")                  /* sub */

enum ts_oidc_check {
#define TS_OIDC_CHECK_ENUM(e, name) TS_OIDC_CHECK_##e,
	TS_OIDC_CHECK_TABLE(TS_OIDC_CHECK_ENUM)
#undef TS_OIDC_CHECK_ENUM
	        TS_OIDC_CHECK__COUNT
};

/* The audit name of c ("Issuer"); "None" for a value out of range. */
const char *ts_oidc_check_name(enum ts_oidc_check c);

/*
 * The check of a jose.h refusal: ts_oidc_jws_parse's errors are MALFORMED;
 * ts_oidc_jws_verify's TS_ERR_FORBIDDEN is ALGORITHM, its
 * TS_ERR_UNAUTHORIZED KEY_UNKNOWN when unknown_kid was set, else SIGNATURE.
 * NONE for TS_ERR_OK.
 */
enum ts_oidc_check ts_oidc_jose_check(ts_err rc, bool parsing, bool unknown_kid);

/*
 * Checks the claims of j's payload against x (Core §3.1.3.7 steps 2-4 and
 * 9-11, Core §2), in this order, reporting the first failure:
 *   iss       a string equal to x->issuer;
 *   aud       a string or a non-empty array of strings holding x->client_id;
 *             with more than one audience, azp must be present (step 4);
 *   azp       when present, a string equal to x->client_id;
 *   exp       a number, and now < exp + skew (step 9);
 *   nbf       when present, a number, and nbf <= now + skew (RFC 7519 §4.1.5);
 *   iat       a number, not after now + skew, not before now - max_age - skew (step 10);
 *   nonce     when x->nonce: a string equal to it, compared in constant time (step 11);
 *   sub       a non-empty string of at most TS_OIDC_SUB_MAX bytes (Core §2);
 *   email     when present a string, email_verified when present a boolean
 *             (Core §5.1), else MALFORMED.
 * Numbers are NumericDates (RFC 7519 §2): integers or reals, 0 to
 * TS_OIDC_TIME_MAX_S. On success fills *out and *failed = NONE; on refusal
 * answers TS_ERR_UNAUTHORIZED with a message for the log, *failed names the
 * check and *out is zeroed. The signature must have been verified before.
 */
TS_MUST_USE ts_err ts_oidc_idtoken_check(ts_arena_t *a, const struct ts_oidc_jws *j,
                                         const struct ts_oidc_idtoken_expect *x,
                                         struct ts_oidc_claims *out, enum ts_oidc_check *failed,
                                         struct ts_error *e);

#endif
