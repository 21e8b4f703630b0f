/*
 * Sign-in sessions: browser cookies and CLI tokens (docs/product.md §1 "session", §8).
 * A token is shown once, at creation; the store keeps only its SHA-256.
 * Every node validates against the store, so a revocation (LogoutUser,
 * suspension, SCIM deactivation, deletion, domain removal) is in force on
 * all nodes at the next request. A session carries the licence it was
 * granted; validation re-computes it once it is older than
 * TS_SESSION_LICENSE_RECHECK_MS, so a change of groups or mappings lowers
 * the licence of live sessions within a minute.
 */
#ifndef TS_DIRECTORY_SESSION_H
#define TS_DIRECTORY_SESSION_H

#include "directory/signin.h"
#include "store/store.h"

#define TS_SESSION_LICENSE_RECHECK_MS 60000 /* "lowers it for live sessions within a minute" */
#define TS_SESSION_TOKEN_PREFIX "tss_"
#define TS_SESSION_TOKEN_RANDOM 43 /* characters of A-Za-z0-9: about 256 bits */
#define TS_SESSION_TOKEN_LEN (4 + TS_SESSION_TOKEN_RANDOM)
#define TS_SESSION_TTL_MAX_MS (30LL * 24 * 3600 * 1000)

enum ts_session_kind { TS_SESSION_BROWSER, TS_SESSION_CLI };

/*
 * Creates a session for a user in the caller's write transaction. *token
 * (arena memory) is the bearer secret, to be handed to the person once;
 * out (may be NULL) receives the stored record. ttl_ms: 1 ms to
 * TS_SESSION_TTL_MAX_MS. client: free text (user agent, CLI name), may be NULL.
 */
TS_MUST_USE ts_err ts_directory_session_create(ts_store_conn_t *c, ts_arena_t *a,
                                               const char *account_id, const char *user_id,
                                               enum ts_session_kind kind, int64_t ttl_ms,
                                               enum ts_license license, const char *client,
                                               const char **token, struct ts_session *out,
                                               struct ts_error *e);

/*
 * Where a session came from and the AWS role it carries (docs/product.md §2,
 * §6: the https://aws.amazon.com/SAML/Attributes/Role values and
 * RoleSessionName). Every member may be NULL.
 */
struct ts_session_origin {
	const char *origin;     /* TS_SESSION_ORIGIN_* */
	const char *roles_json; /* JSON array of {"RoleArn","ProviderArn"} objects offered */
	const char *role_arn,
	        *provider_arn; /* chosen already: one of roles_json, both or neither */
	const char *role_session_name;
};
#define TS_SESSION_ORIGIN_SAML "saml"
#define TS_SESSION_ORIGIN_OIDC "oidc"
#define TS_SESSION_ORIGIN_DEVICE "device"
#define TS_SESSION_ROLES_MAX 64               /* role pairs offered to one session */
#define TS_SESSION_ROLES_JSON_MAX (64 * 1024) /* bytes of roles_json */
#define TS_SESSION_ARN_MAX 2048               /* an IAM ARN's length limit */
#define TS_SESSION_ROLE_SESSION_NAME_MAX 64   /* STS AssumeRoleWithSAML RoleSessionName */

/*
 * ts_directory_session_create with where the session came from: origin (may
 * be NULL: none) is checked (a known origin; roles_json an array of at most
 * TS_SESSION_ROLES_MAX objects whose RoleArn and ProviderArn are strings of at
 * most TS_SESSION_ARN_MAX bytes; a chosen pair one of them) and stored with
 * the session. TS_ERR_BAD_REQUEST when a check fails.
 */
TS_MUST_USE ts_err ts_directory_session_create_from(ts_store_conn_t *c, ts_arena_t *a,
                                                    const char *account_id, const char *user_id,
                                                    enum ts_session_kind kind, int64_t ttl_ms,
                                                    enum ts_license license, const char *client,
                                                    const struct ts_session_origin *origin,
                                                    const char **token, struct ts_session *out,
                                                    struct ts_error *e);

/*
 * Sets the AWS role a live session's user chose (the role chooser), in the
 * caller's write transaction: the pair must be one the session was offered
 * (roles_json, compared exactly), else TS_ERR_FORBIDDEN and nothing changes.
 * TS_ERR_NOT_FOUND when the session is unknown, revoked or expired at now_ms.
 */
TS_MUST_USE ts_err ts_directory_session_set_role(ts_store_conn_t *c, ts_arena_t *a,
                                                 const char *session_id, const char *role_arn,
                                                 const char *provider_arn, int64_t now_ms,
                                                 struct ts_error *e);

struct ts_session_info {
	struct ts_session session;
	struct ts_user_row user;
	struct ts_account account;
	enum ts_license license; /* the licence in force (Pro or Basic) */
};

/*
 * Validates a bearer token at now_ms. Refuses with TS_ERR_UNAUTHORIZED (and
 * the reason in e, for the log only) a token that is unknown, revoked or
 * expired, of a user who is suspended, deactivated, released or deleted, of
 * an account that is not Active, or whose licence is gone. When the
 * session's licence was checked more than TS_SESSION_LICENSE_RECHECK_MS ago
 * it is computed again and stored. Call outside a transaction: it reads in
 * a read transaction and writes the re-check in a short write transaction.
 */
TS_MUST_USE ts_err ts_directory_session_validate(ts_store_conn_t *c, ts_arena_t *a,
                                                 const char *token, int64_t now_ms,
                                                 struct ts_session_info *out, struct ts_error *e);

/*
 * ts_directory_session_validate's verdict on the session session_id, in the
 * caller's write transaction, with the licence always computed again from
 * the directory as it is now (and stored), however recently it was checked:
 * for an answer that must follow a change of groups at once (credentials,
 * docs/portal.md). The session's row is locked for the transaction. The
 * same refusals, TS_ERR_UNAUTHORIZED with the reason in e (UNKNOWN session
 * included); a refusal for the licence has stored TS_LICENSE_NONE, which the
 * caller may commit (the next validate refuses the session too).
 */
TS_MUST_USE ts_err ts_directory_session_recheck(ts_store_conn_t *c, ts_arena_t *a,
                                                const char *session_id, int64_t now_ms,
                                                struct ts_session_info *out, struct ts_error *e);

/* Revokes one session by ID, in the caller's write transaction (NOT_FOUND when not live). */
TS_MUST_USE ts_err ts_directory_session_revoke(ts_store_conn_t *c, const char *session_id,
                                               struct ts_error *e);

/*
 * Signs a user out everywhere: revokes every live session, in the caller's
 * write transaction. *n (may be NULL) counts them. This is what SCIM
 * deactivation, suspension, LogoutUser and domain removal call.
 */
TS_MUST_USE ts_err ts_directory_session_revoke_all(ts_store_conn_t *c, const char *user_id,
                                                   int64_t *n, struct ts_error *e);

#endif
