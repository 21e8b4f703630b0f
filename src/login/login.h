/*
 * What the browser sign-in protocols share once a protocol has named an
 * identity (docs/product.md §4, §6, §7): the request context, the decision
 * (the directory's rules, registration at first sign-in, the session), its
 * record (one SignIn audit event and one sign-in attempt), the session
 * cookie and the landing redirect, and the pages a browser gets when
 * something goes wrong. SAML (src/saml/) and OpenID Connect (src/oidc/)
 * each verify their own messages and meet here and in the directory only.
 *
 * A refusal never tells the browser which check failed (STYLE.md, Errors):
 * every refusal answers the same page; the audit event names the check.
 */
#ifndef TS_LOGIN_LOGIN_H
#define TS_LOGIN_LOGIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/throttle.h"
#include "directory/session.h"
#include "directory/signin_decide.h"
#include "http/http.h"
#include "http/url.h"
#include "store/store.h"

/* A browser sign-in's session: a working day (the cookie and the stored session alike). */
#define TS_LOGIN_SESSION_TTL_MS (8LL * 3600 * 1000)
/* Where a signed-in person lands when the protocol gives nowhere acceptable. */
#define TS_LOGIN_LANDING "/portal"
/* Bytes of the User-Agent kept with a session (its "client"): enough to recognize a browser. */
#define TS_LOGIN_CLIENT_MAX 256

/*
 * Sign-in messages a client address may send per second, cluster-wide
 * (serve --signin-rate-limit), and its burst in seconds' worth: every
 * anonymous sign-in step writes (a request kept, an audit event, an
 * attempt), and the limit keeps one client from filling the store.
 */
#define TS_LOGIN_RATE_DEFAULT 20
#define TS_LOGIN_BURST_S 10

/* One sign-in request's context (ts_login_begin). */
struct ts_login_ctx {
	struct ts_http_req *req;
	struct ts_http_res *res;
	struct ts_http_base_url base;
	ts_store_conn_t *conn;
	const char *account_id; /* NULL until the protocol knows it (an OIDC callback's state) */
	const char *protocol;   /* TS_SESSION_ORIGIN_SAML or _OIDC: audit, attempt, session */
	int64_t now_ms;
};

/*
 * Fills ctx for req: base_url parsed (a browser flow needs serve --base-url,
 * never the Host header: docs/http.md), the worker's store connection.
 * usable false (no base URL, no master key: the caller says) answers the
 * failure page. On failure the answer is written and false returned.
 */
bool ts_login_begin(struct ts_http_req *req, struct ts_http_res *res, const char *protocol,
                    const char *base_url, bool usable, struct ts_login_ctx *ctx);

/*
 * Whether the request's client may go on: takes a token of t, keyed by the
 * client address (req->peer, which believes only trusted proxies; an IPv6
 * client by its /64, the unit a site gets: RFC 6177). When not, answers 429
 * with Retry-After and a page, and returns false. A NULL t admits everyone.
 */
bool ts_login_admit(struct ts_login_ctx *ctx, ts_throttle_t *t);

/* The throttle key of a client address: an IPv6 address by its /64, an IPv4-mapped one as IPv4,
 * anything else as it is. */
const char *ts_login_client_key(ts_arena_t *a, const char *peer);

/* What one sign-in decision records (audit event and sign-in attempt). */
struct ts_login_outcome {
	const char *check;  /* NULL: allowed; else the check's name (docs/saml.md, docs/oidc.md) */
	const char *reason; /* for the audit event's errorMessage; never a token or assertion */
	const char *identity; /* the identity asserted or claimed (attempts are kept under it) */
	const char *user_id;  /* the user signed in or refused, when known */
	/*
	 * The protocol's request parameters for the audit event (an object, arena
	 * memory; may be NULL); Protocol and Check are added by ts_login_record.
	 * Claimed values should be capped with ts_login_utf8_prefix first.
	 */
	json_t *params;
	/* set by a step: nothing was decided or refused, so ts_login_transact records nothing */
	bool unrecorded;
};

/* Appends the outcome's audit event and sign-in attempt in ctx->conn's open write transaction. */
TS_MUST_USE ts_err ts_login_record(struct ts_login_ctx *ctx, const struct ts_login_outcome *o,
                                   struct ts_error *e);

/*
 * One step of a sign-in's write transaction: reads and writes what the
 * protocol keeps (a request taken, a replay entry), usually ending in
 * ts_login_decide. Sets o->check to refuse; returns an error only for a
 * failure of the store or ours.
 */
typedef ts_err (*ts_login_step_fn)(struct ts_login_ctx *ctx, void *arg, struct ts_login_outcome *o,
                                   struct ts_error *e);

/*
 * Runs step (may be NULL) and records *o (unless the step set o->unrecorded)
 * in one write transaction, retried
 * as a whole when the store refused it for another's sake (o is reset to
 * its value at the call before each run). false after answering the failure
 * page; true when committed (o->check then says whether it was a refusal).
 */
bool ts_login_transact(struct ts_login_ctx *ctx, ts_login_step_fn step, void *arg,
                       struct ts_login_outcome *o);

/* A refusal decided before any store change: records it (ts_login_transact), answers the refusal
 * page. */
void ts_login_refuse(struct ts_login_ctx *ctx, const struct ts_login_outcome *o);
/* ts_login_refuse with step (may be NULL) run in the same transaction, before the record. */
void ts_login_refuse_with(struct ts_login_ctx *ctx, ts_login_step_fn step, void *arg,
                          const struct ts_login_outcome *o);

/* A session that ts_login_decide opened. */
struct ts_login_session {
	const char *token; /* the cookie's value */
	const char *session_id;
	enum ts_license license;
};

/*
 * The directory's decision on in (docs/product.md §4) in the open write
 * transaction; when allowed, the user's registration at first sign-in and
 * a browser session with origin (its .origin is ctx->protocol) and client
 * (the User-Agent, capped). A refusal sets o->check and o->reason to the
 * failed rule; o->user_id names the user when one matched.
 */
TS_MUST_USE ts_err ts_login_decide(struct ts_login_ctx *ctx, const struct ts_signin_assertion *in,
                                   struct ts_session_origin *origin, struct ts_login_outcome *o,
                                   struct ts_login_session *out, struct ts_error *e);

/* The session cookie for token (http/cookie.h: __Host- and Secure over https). */
TS_MUST_USE ts_err ts_login_cookie_set(struct ts_login_ctx *ctx, const char *token,
                                       struct ts_error *e);

/*
 * Where a signed-in person goes: target when it is a same-origin path or an
 * origin of allowed (http/redirect.h) of at most max bytes, else
 * TS_LOGIN_LANDING. Never refuses: an unacceptable target lands on the portal.
 */
const char *ts_login_target(ts_arena_t *a, const char *target, size_t max,
                            const char *const *allowed, int n);

/*
 * The end of a successful sign-in: the session cookie, then a 303 to target
 * (ts_login_target's answer). Answers the failure page when the cookie
 * cannot be written.
 */
void ts_login_land(struct ts_login_ctx *ctx, const char *token, const char *target,
                   const char *const *allowed, int n);

/* The User-Agent as a session keeps it (capped), or NULL. */
const char *ts_login_client(struct ts_http_req *req);

/*
 * s (valid UTF-8) when it has at most max bytes, else its longest prefix of
 * whole characters within max, in arena a.
 */
const char *ts_login_utf8_prefix(ts_arena_t *a, const char *s, size_t max);

/*
 * The hex SHA-256 of the value of the browser's cookie name (the bare name:
 * `__Host-` is added over https), in the request's arena; NULL when the
 * browser sent none, an empty one, or two. A protocol binds its pending
 * request (SAML AuthnRequest, OIDC state) to the browser by storing this
 * hash (federation-security.md §1 and §3), never the cookie itself.
 */
const char *ts_login_cookie_hash(struct ts_login_ctx *ctx, const char *name);

/* The hex SHA-256 of s in arena a (what the store keeps of states, nonces and cookies). */
const char *ts_login_hash(ts_arena_t *a, const char *s);

/* Random characters of a browser-binding cookie's value (A-Za-z0-9: about 256 bits). */
#define TS_LOGIN_BINDING_RANDOM 43

/*
 * The value of the browser-binding cookie name: the browser's own when it
 * sent a well-formed one (so that sign-ins started in two tabs both
 * succeed), else a new random one for the caller to set.
 */
const char *ts_login_binding_value(struct ts_login_ctx *ctx, const char *name);

/*
 * The origins of an allow-list column (a JSON array of strings; store/saml.h,
 * store/oidc.h), normalized (http/url.h), those that are not origins
 * skipped, at most max; first (may be NULL) is put before them, copied.
 * *out in arena a; returns how many.
 */
int ts_login_origins(ts_arena_t *a, const char *json, const char *first, int max,
                     const char *const **out);

/* How a protocol reads the version of an account's identity source (0: none). */
typedef ts_err (*ts_login_version_fn)(ts_store_conn_t *c, const char *account_id, int64_t *version,
                                      struct ts_error *e);

/*
 * The version of ctx's account's identity source, read with fn in a
 * one-statement read transaction of its own: what a per-worker cache of the
 * account's parsed trust is keyed by (0 when the account has none).
 */
TS_MUST_USE ts_err ts_login_source_version(struct ts_login_ctx *ctx, ts_login_version_fn fn,
                                           int64_t *version, struct ts_error *e);

/* A hash of account_id (FNV-1a) that spreads account IDs over a cache's slots. */
uint32_t ts_login_account_hash(const char *account_id);

/*
 * The surface error of a sign-in protocol's paths (http/http.h): the HTTP
 * layer's own refusals (no route, 413, not UTF-8) as a page, not JSON.
 */
void ts_login_surface_error(struct ts_http_req *req, struct ts_http_res *res, ts_err code,
                            int status, const char *message);

/* Whether stored and sent are the same well-formed hex SHA-256; constant time. */
bool ts_login_same_hash(const char *stored, const char *sent);

/* A page with a title, a sentence and the request id to quote (the refusal and failure pages). */
void ts_login_page(struct ts_http_req *req, struct ts_http_res *res, int status, const char *title,
                   const char *text);
/* The one refusal page: 403, "Sign-in failed" and the request id, nothing else. */
void ts_login_page_refused(struct ts_http_req *req, struct ts_http_res *res);
/* A failure of ours (store down, internal): 503 with Retry-After or 500, request id. */
void ts_login_page_failed(struct ts_http_req *req, struct ts_http_res *res, ts_err rc,
                          const struct ts_error *e);

#endif
