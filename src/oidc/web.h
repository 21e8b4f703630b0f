/*
 * Shared by the OIDC module's own files (module.c, trust.c, flow.c and one
 * file per endpoint): the request context, the account's trust as each
 * worker caches it, the protocol's part of a decision's record (the rest,
 * with the decision and the pages, is login/login.h's), and the pure pieces
 * the unit tests and the fuzzer hold (PKCE, the authorization URL, the two
 * queries).
 */
#ifndef TS_OIDC_WEB_H
#define TS_OIDC_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/url.h"
#include "login/login.h"
#include "oidc/jose.h"
#include "oidc/oidc.h"
#include "store/store.h"

/* Accounts whose trust a worker keeps parsed (a direct-mapped table). */
#define TS__OIDC_CACHE_SLOTS 64
/* An entry is used while the config version is unchanged, and re-read at least this often. */
#define TS__OIDC_TRUST_TTL_MS 60000
/*
 * A JWKS fetched because an ID token named an unknown kid: at most once per
 * callback; and a fetch that did not bring the kid blocks the account's next
 * fetch in this process for this long (a flood of unknown kids must not
 * become a flood of fetches). Another node's newer JWKS in the store is
 * taken without fetching.
 */
#define TS__OIDC_JWKS_REFRESH_MIN_MS 10000
/* Accounts whose last refresh the process remembers (direct-mapped, shared by workers). */
#define TS__OIDC_REFRESH_SLOTS 256
/* Random bytes of a state value; its base64url text (RFC 4648 §5, no padding). */
#define TS__OIDC_RANDOM_BYTES 32
#define TS__OIDC_STATE_LEN 43
/* RFC 7636 §4.1: a verifier of 43 to 128 unreserved characters; ours is an HMAC's base64url. */
#define TS__OIDC_PKCE_VERIFIER_LEN 43
/* RFC 7636 §4.2: BASE64URL(SHA256(verifier)), 43 characters. */
#define TS__OIDC_PKCE_CHALLENGE_LEN 43
/* Purposes of the keys derived from the master key (ts_secret_subkey: 8 characters). */
#define TS__OIDC_KEY_PKCE "oidcpkce"
#define TS__OIDC_KEY_NONCE "oidcnonc"
/* Caps on what the browser brings (bytes, decoded). */
#define TS__OIDC_QUERY_MAX 8192
#define TS__OIDC_QUERY_FIELDS_MAX 32
#define TS__OIDC_CODE_MAX 4096
#define TS__OIDC_ISS_MAX 1024
#define TS__OIDC_ERROR_MAX 64
#define TS__OIDC_ERROR_DESCRIPTION_MAX 256
#define TS__OIDC_LOGIN_HINT_MAX 256
/* Bytes of the token endpoint's and userinfo's answers read (docs/oidc.md). */
#define TS__OIDC_TOKEN_RESPONSE_MAX (64 * 1024)
#define TS__OIDC_USERINFO_MAX (64 * 1024)
/* The target origins of an account's allow-list read (plus the server's own). */
#define TS__OIDC_RELAY_ALLOW_MAX 32
/* The signing algorithms an ID token may use (jose.h's, without none). */
#define TS__OIDC_ALGS_MAX 12

/* One account's OIDC trust, parsed once per worker (memory of the cache entry). */
struct ts__oidc_trust {
	const char *account_id;
	int64_t version; /* ts_store_oidc_config_version when loaded */
	int64_t loaded_ms;
	const char *issuer;
	const char *client_id;
	const char *client_secret; /* opened; wiped with the entry's arena */
	size_t client_secret_len;
	const char *claim;  /* the identity claim (default "email") */
	const char *scopes; /* space-separated (default "openid email") */
	/* from the discovery document (OpenID Connect Discovery §3) */
	const char *authorization_endpoint;
	const char *token_endpoint;
	const char *userinfo_endpoint; /* may be NULL */
	const char *jwks_uri;
	bool secret_post;        /* token_endpoint_auth_methods_supported lists only _post */
	bool iss_param_required; /* authorization_response_iss_parameter_supported (RFC 9207 §3) */
	enum ts_oidc_alg algs[TS__OIDC_ALGS_MAX]; /* pinned: discovery ∩ what we verify */
	size_t n_algs;
	bool allow_hs256;
	/* the JWKS, replaced on a refresh (owned by the entry, not its arena) */
	struct ts_oidc_jwks *jwks;
	int64_t jwks_fetched_ms;
	/* where a signed-in person may be sent: this server's origin, then the allow-list */
	const char *const *relay_allow;
	int n_relay_allow;
	const char *redirect_uri; /* {base}/auth/oidc/callback */
};

/* The module's worker slot (trust.c): its address finds the cache and the config. */
extern const struct ts_http_slot ts__oidc_slot;

/* An OIDC request's context (ts__oidc_begin). */
struct ts__oidc_ctx {
	/* request, base URL, store connection, time; the account from the path (start) or
	 * the state's row (callback) */
	struct ts_login_ctx login;
	const struct ts_oidc_config *cfg;
};

/*
 * Fills ctx for req: the module's config (a base URL and the master key are
 * required), the worker's store connection, the account from the path when
 * the route has one. On failure the answer is written and false returned.
 */
bool ts__oidc_begin(struct ts_http_req *req, struct ts_http_res *res, struct ts__oidc_ctx *ctx);

/*
 * The account's trust (ctx->login.account_id), from the worker's cache or loaded
 * (config, discovery, JWKS, the opened client secret), outside any
 * transaction. *t NULL when the account has no OIDC config. Valid until the
 * handler returns.
 */
TS_MUST_USE ts_err ts__oidc_trust(struct ts__oidc_ctx *ctx, struct ts__oidc_trust **t,
                                  struct ts_error *e);
/*
 * After an ID token named a kid the JWKS does not hold: takes a newer JWKS
 * another node stored, else fetches jwks_uri (unless a fetch of this
 * account that did not serve was less than TS__OIDC_JWKS_REFRESH_MIN_MS ago) and stores it
 * (ts_store_oidc_jwks_put). *changed says whether t->jwks is new. Outside
 * any transaction. Errors: the fetch's, or a JWKS that does not parse.
 */
TS_MUST_USE ts_err ts__oidc_jwks_refresh(struct ts__oidc_ctx *ctx, struct ts__oidc_trust *t,
                                         bool *changed, struct ts_error *e);

/*
 * The refreshed JWKS held the kid that made the callback ask (a real
 * rotation): the account's next unknown kid may fetch again at once.
 */
void ts__oidc_jwks_served(const struct ts__oidc_trust *t);

/* What one sign-in decision records of OIDC (the audit event's parameters, docs/oidc.md). */
struct ts__oidc_outcome {
	const char *check;  /* NULL: allowed; else the check's name (docs/oidc.md) */
	const char *reason; /* for the audit event's errorMessage; never a code or a token */
	const char *issuer;
	const char *subject;
	const char *identity;       /* the configured claim's value, claimed or verified */
	const char *provider_error; /* RFC 6749 §4.1.2.1 error code, for ProviderError */
	const char *user_id;        /* the user signed in or refused, when known */
};

/*
 * The shared record of o (login/login.h): Issuer, Subject, Identity and
 * ProviderError as the event's parameters, the claimed values capped.
 */
struct ts_login_outcome ts__oidc_login_outcome(struct ts__oidc_ctx *ctx,
                                               const struct ts__oidc_outcome *o);
/* A refusal decided before any store change: recorded, then the one refusal page. */
void ts__oidc_refuse(struct ts__oidc_ctx *ctx, const struct ts__oidc_outcome *o);

/* ---- the pure pieces (flow.c) ------------------------------------------ */

/*
 * A value derived from the state for one purpose: base64url of
 * HMAC-SHA256(ts_secret_subkey(master, purpose), state), 43 characters of
 * the unreserved set into out. With TS__OIDC_KEY_PKCE it is the PKCE
 * code_verifier (RFC 7636 §4.1), with TS__OIDC_KEY_NONCE the nonce: neither
 * is stored, the callback derives them again from the state it is given.
 */
void ts__oidc_derive(const unsigned char master[TS_MASTER_KEY_LEN], const char *purpose,
                     const char *state, char out[TS__OIDC_PKCE_VERIFIER_LEN + 1]);
/* RFC 7636 §4.2 S256: BASE64URL(SHA256(ASCII(verifier))) into out. */
void ts__oidc_pkce_challenge(const char *verifier, char out[TS__OIDC_PKCE_CHALLENGE_LEN + 1]);

/*
 * "name=value&..." of the n pairs whose value is not NULL, both
 * form-urlencoded (ts_http_client_form_encode): a query, or a token
 * request's body (RFC 6749 Appendix B).
 */
const char *ts__oidc_query(ts_arena_t *a, const char *const *names, const char *const *values,
                           size_t n);

/* The authorization request's parameters (OpenID Connect Core §3.1.2.1). */
struct ts__oidc_authz {
	const char *client_id;
	const char *redirect_uri;
	const char *scope;
	const char *state;
	const char *nonce;
	const char *code_challenge;
	const char *login_hint; /* may be NULL */
};
/*
 * The URL the browser is sent to: endpoint with the parameters appended
 * (ts__oidc_query), after the
 * endpoint's own query when it has one (RFC 6749 §3.1: it is kept).
 * TS_ERR_BAD_REQUEST for an endpoint with a fragment (RFC 6749 §3.1) or one
 * that is not an http(s) URL.
 */
TS_MUST_USE ts_err ts__oidc_authorize_url(ts_arena_t *a, const char *endpoint,
                                          const struct ts__oidc_authz *p, const char **out,
                                          struct ts_error *e);

/* What the redirection endpoint was given (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207 §2). */
struct ts__oidc_callback {
	const char *code;
	const char *state;
	const char *iss;
	const char *error;             /* the error code, when the provider sent one */
	const char *error_description; /* capped at TS__OIDC_ERROR_DESCRIPTION_MAX bytes */
};
/*
 * Parses a raw query string (not NUL-terminated, len bytes): every value
 * percent-decoded, UTF-8 without controls, each parameter at most once
 * (RFC 6749 §3.1), unknown ones ignored (§4.1.2), the caps above (a longer
 * error_description is cut, not refused). TS_ERR_BAD_REQUEST or
 * TS_ERR_TOO_LARGE with a message that quotes no value; out is then zero.
 */
TS_MUST_USE ts_err ts__oidc_callback_parse(ts_arena_t *a, const char *query, size_t len,
                                           struct ts__oidc_callback *out, struct ts_error *e);

/* What the start endpoint was given (OpenID Connect Core §4). */
struct ts__oidc_start {
	const char *iss;             /* present: third-party-initiated */
	const char *login_hint;      /* dropped when longer than TS__OIDC_LOGIN_HINT_MAX */
	const char *target_link_uri; /* unchecked here: ts_login_target decides */
};
/* As ts__oidc_callback_parse, for the start endpoint's query. */
TS_MUST_USE ts_err ts__oidc_start_parse(ts_arena_t *a, const char *query, size_t len,
                                        struct ts__oidc_start *out, struct ts_error *e);

/* Whether s is an error code of RFC 6749 §4.1.2.1 or OpenID Connect Core §3.1.2.6. */
bool ts__oidc_error_known(const char *s);

/* The endpoints. */
void ts__oidc_start_handle(struct ts_http_req *req, struct ts_http_res *res);
void ts__oidc_callback_handle(struct ts_http_req *req, struct ts_http_res *res);

#endif
