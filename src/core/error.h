/*
 * Tessera's one error vocabulary. Every fallible function returns a ts_err
 * (0 is success) and may fill an optional struct ts_error with detail for the
 * log. The table below is the single source of each code's wire name, HTTP
 * status and default message; the admin API, SCIM and OAuth layers translate
 * from it into their own formats.
 */
#ifndef TS_CORE_ERROR_H
#define TS_CORE_ERROR_H

#include <stddef.h>

#define TS_MUST_USE __attribute__((warn_unused_result))
#define TS_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * X(ENUM, wire name, OAuth error, HTTP status, default message)
 *
 * The wire name is the admin API's and SCIM's Code; the OAuth error is what
 * an OAuth or OpenID surface answers in its `error` member for the same code
 * (RFC 6749 §5.2 at the token endpoint, RFC 8628 §3.5 when polling). The
 * OAUTH_ rows exist for those surfaces; their wire name is the admin code of
 * the same status, so that one never leaks a name foreign to its surface.
 * SIGNIN_REFUSED is the one answer a browser gets whichever sign-in check
 * failed (the audit event names the check, the page does not).
 * New rows go at the end: ts_err_for_status answers the first row of a status.
 */
#define TS_ERR_TABLE(X)                                                                           \
	X(OK, "OK", "server_error", 200, "success")                                               \
	X(BAD_REQUEST, "BadRequestException", "invalid_request", 400, "the request is not valid") \
	X(UNAUTHORIZED, "UnauthorizedClientException", "invalid_client", 401,                     \
	  "missing or unknown credentials")                                                       \
	X(FORBIDDEN, "ForbiddenException", "access_denied", 403,                                  \
	  "the credentials do not allow this action")                                             \
	X(NOT_FOUND, "NotFoundException", "invalid_request", 404, "the resource does not exist")  \
	X(METHOD, "MethodNotAllowedException", "invalid_request", 405,                            \
	  "method not allowed on this path")                                                      \
	X(CONFLICT, "ConflictException", "invalid_request", 409,                                  \
	  "the resource conflicts with an existing one")                                          \
	X(PRECONDITION, "PreconditionFailedException", "invalid_request", 412,                    \
	  "the resource has changed")                                                             \
	X(TOO_LARGE, "RequestTooLargeException", "invalid_request", 413,                          \
	  "the request is too large")                                                             \
	X(UNSUPPORTED_MEDIA, "UnsupportedMediaTypeException", "invalid_request", 415,             \
	  "unsupported content type")                                                             \
	X(THROTTLED, "ThrottledClientException", "temporarily_unavailable", 429,                  \
	  "too many requests")                                                                    \
	X(INTERNAL, "ServiceFailureException", "server_error", 500, "internal error")             \
	X(STORE, "ServiceFailureException", "server_error", 500, "the store failed")              \
	X(UNAVAILABLE, "ServiceUnavailableException", "temporarily_unavailable", 503,             \
	  "the service is unavailable")                                                           \
	X(RETRY, "ServiceUnavailableException", "temporarily_unavailable", 503,                   \
	  "lost to another transaction")                                                          \
	X(IO, "ServiceFailureException", "server_error", 500, "input/output error")               \
	/* RFC 6749 §5.2: the token endpoint's errors (400, or 401 for client authentication) */ \
	X(OAUTH_INVALID_REQUEST, "BadRequestException", "invalid_request", 400,                   \
	  "the request is missing a parameter, repeats one or is malformed")                      \
	X(OAUTH_INVALID_CLIENT, "UnauthorizedClientException", "invalid_client", 401,             \
	  "client authentication failed")                                                         \
	X(OAUTH_INVALID_GRANT, "BadRequestException", "invalid_grant", 400,                       \
	  "the grant is invalid, expired, revoked or was issued to another client")               \
	X(OAUTH_UNAUTHORIZED_CLIENT, "BadRequestException", "unauthorized_client", 400,           \
	  "the client may not use this grant type")                                               \
	X(OAUTH_UNSUPPORTED_GRANT_TYPE, "BadRequestException", "unsupported_grant_type", 400,     \
	  "the grant type is not supported")                                                      \
	X(OAUTH_INVALID_SCOPE, "BadRequestException", "invalid_scope", 400,                       \
	  "the requested scope is invalid, unknown or too broad")                                 \
	/* RFC 8628 §3.5: the device access token response's errors (400, as §5.2) */           \
	X(OAUTH_AUTHORIZATION_PENDING, "BadRequestException", "authorization_pending", 400,       \
	  "the user has not yet completed the authorization")                                     \
	X(OAUTH_SLOW_DOWN, "BadRequestException", "slow_down", 400,                               \
	  "polling too fast: add 5 seconds to the interval")                                      \
	X(OAUTH_EXPIRED_TOKEN, "BadRequestException", "expired_token", 400,                       \
	  "the device code has expired")                                                          \
	X(OAUTH_ACCESS_DENIED, "BadRequestException", "access_denied", 400,                       \
	  "the authorization request was denied")                                                 \
	/* SPEC section 9: a refused sign-in; the browser is never told which check failed */     \
	X(SIGNIN_REFUSED, "ForbiddenException", "access_denied", 403,                             \
	  "sign-in refused: ask your administrator for access")

typedef enum {
#define TS_ERR_ENUM(e, name, oauth, status, msg) TS_ERR_##e,
	TS_ERR_TABLE(TS_ERR_ENUM)
#undef TS_ERR_ENUM
	        TS_ERR__COUNT
} ts_err;

#define TS_ERROR_MSG_MAX 256

/* Detail of a failure, for the log and for the message a peer may see. */
struct ts_error {
	ts_err code;
	const char *where; /* static string: function or subsystem */
	char message[TS_ERROR_MSG_MAX];
};

/* Wire name ("NotFoundException"), HTTP status and default message of a code. */
const char *ts_err_name(ts_err code);
/*
 * The OAuth `error` value of a code (RFC 6749 §5.2, RFC 8628 §3.5):
 * "invalid_grant" for TS_ERR_OAUTH_INVALID_GRANT, "invalid_request" for
 * TS_ERR_BAD_REQUEST, "server_error" for the 5xx codes. Never NULL.
 */
const char *ts_err_oauth_name(ts_err code);
int ts_err_status(ts_err code);
const char *ts_err_message(ts_err code);

/*
 * The first code of the table with this HTTP status; for a status the table
 * does not have, TS_ERR_BAD_REQUEST for 4xx and TS_ERR_INTERNAL otherwise.
 * For answers the HTTP library wrote itself (only their status is known).
 */
ts_err ts_err_for_status(int status);

/*
 * Records code and a printf-style message in e (which may be NULL) and
 * returns code, so that callers can write `return ts_error_set(e, ...)`.
 */
ts_err ts_error_set(struct ts_error *e, ts_err code, const char *where, const char *fmt, ...)
        TS_PRINTF(4, 5);

/* The message of e if one was set, else the code's default message. */
const char *ts_error_text(const struct ts_error *e, ts_err code);

#define TS_FAIL(e, code, ...) ts_error_set((e), (code), __func__, __VA_ARGS__)

#endif
