/*
 * Shared by the SAML module's own files (module.c and one file per
 * endpoint): the request context, the account's trust as each worker caches
 * it, the record of a decision (audit event and sign-in attempt), the pages,
 * and the pure choices (RelayState target, role index) the unit tests hold.
 */
#ifndef TS_SAML_WEB_H
#define TS_SAML_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/url.h"
#include "login/login.h"
#include "saml/response.h"
#include "saml/saml.h"
#include "store/store.h"

/* Accounts whose trust a worker keeps parsed (a direct-mapped table). */
#define TS__SAML_CACHE_SLOTS 64
/*
 * An entry is used while the account's config version is unchanged (a PUT,
 * a metadata refresh and an SP key rotation each move it), and for at most
 * this long: an SP key whose rotation overlap ended leaves without any
 * version change, and is dropped within a minute.
 */
#define TS__SAML_TRUST_TTL_MS 60000
/* SP key pairs kept per account (a rotation publishes two; the store gives at most 8). */
#define TS__SAML_SP_KEYS_MAX 8
/* The RelayState origins of an account's allow-list read. */
#define TS__SAML_RELAY_ALLOW_MAX 32

/* One account's SAML trust, parsed once per worker (memory of the cache entry). */
struct ts__saml_trust {
	const char *account_id;
	int64_t version; /* ts_store_saml_config_version when loaded */
	int64_t loaded_ms;
	const char *idp_entity_id;
	const char *sso_url;          /* the IdP's HTTP-Redirect SingleSignOnService; may be NULL */
	const char *const *idp_certs; /* PEM, from the metadata only */
	size_t n_idp_certs;
	const char *const *sp_certs; /* PEM, newest first: published in the SP metadata */
	size_t n_sp_certs;
	const char *const *sp_keys; /* PEM private keys, newest first: [0] signs */
	size_t n_sp_keys;
	int64_t valid_until_ms; /* the metadata's validUntil; 0: none (SAML Metadata §2.3.2) */
	bool allow_idp_initiated;
	bool allow_sha1;
	const char *const *relay_allow; /* origins */
	int n_relay_allow;
	/* the URLs the IdP knows the SP by (from the base URL) */
	const char *sp_entity_id;
	const char *acs_url;
};

/* A SAML request's context (ts__saml_begin). */
struct ts__saml_ctx {
	struct ts_login_ctx login; /* request, base URL, store connection, account, time */
	const struct ts_saml_config *cfg;
};

/*
 * Fills ctx for req: the module's config (a base URL is required), the
 * worker's store connection, the account from the path. On failure the
 * answer is written (generic page) and false returned.
 */
bool ts__saml_begin(struct ts_http_req *req, struct ts_http_res *res, struct ts__saml_ctx *ctx);

/*
 * The account's trust, from the worker's cache or loaded (config, parsed
 * metadata, SP keys), outside any transaction. *t NULL when the account has
 * no SAML config. Valid until the handler returns.
 */
TS_MUST_USE ts_err ts__saml_trust(struct ts__saml_ctx *ctx, const struct ts__saml_trust **t,
                                  struct ts_error *e);

/* What one sign-in decision records of SAML (the audit event's parameters). */
struct ts__saml_outcome {
	const char *check;  /* NULL: allowed; else the check's name (docs/saml.md) */
	const char *reason; /* for the audit event's errorMessage; never the assertion */
	const char *idp_entity_id;
	const char *name_id;
	const char *assertion_id;
	const char *in_response_to;
	const char *user_id; /* the user signed in or refused, when known */
};

/* The outcome as login.h records it: the SAML parameters of the audit event, capped. */
struct ts_login_outcome ts__saml_login_outcome(struct ts__saml_ctx *ctx,
                                               const struct ts__saml_outcome *o);

/*
 * A refusal decided before any store change: records it in a write
 * transaction of its own (retried), then answers the generic 403 page.
 */
void ts__saml_refuse(struct ts__saml_ctx *ctx, const struct ts__saml_outcome *o);

/*
 * Where a signed-in person goes: relay when it is a same-origin path or an
 * allow-listed origin, else TS_LOGIN_LANDING (ts_login_target).
 */
const char *ts__saml_relay_target(ts_arena_t *a, const char *relay, const char *const *allowed,
                                  int n);
/* The role index a chooser form sent: decimal, no sign or leading zero, < n. */
TS_MUST_USE bool ts__saml_role_index(const char *s, size_t n, size_t *out);

/*
 * The role chooser page (200): one button per role, posting `role` and a
 * CSRF token bound to session_id to /saml/{AccountId}/role, with target
 * (ts__saml_relay_target's answer). When target is on an allow-listed
 * origin, the page's CSP form-action names it: browsers apply form-action
 * to the redirect that answers the form (CSP3 §6.3.1), and /role's 303
 * goes there.
 */
void ts__saml_chooser(struct ts__saml_ctx *ctx, const char *session_id,
                      const struct ts_signin_aws_role *roles, size_t n, const char *target);

/* The endpoints. */
void ts__saml_metadata_handle(struct ts_http_req *req, struct ts_http_res *res);
void ts__saml_login_handle(struct ts_http_req *req, struct ts_http_res *res);
void ts__saml_acs_handle(struct ts_http_req *req, struct ts_http_res *res);
void ts__saml_role_handle(struct ts_http_req *req, struct ts_http_res *res);
void ts__saml_resubmit_js_handle(struct ts_http_req *req, struct ts_http_res *res);

#endif
