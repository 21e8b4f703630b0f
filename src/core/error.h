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

/* X(ENUM, wire name, HTTP status, default message) */
#define TS_ERR_TABLE(X)                                                                        \
	X(OK, "OK", 200, "success")                                                            \
	X(BAD_REQUEST, "BadRequestException", 400, "the request is not valid")                 \
	X(UNAUTHORIZED, "UnauthorizedClientException", 401, "missing or unknown credentials")  \
	X(FORBIDDEN, "ForbiddenException", 403, "the credentials do not allow this action")    \
	X(NOT_FOUND, "NotFoundException", 404, "the resource does not exist")                  \
	X(METHOD, "MethodNotAllowedException", 405, "method not allowed on this path")         \
	X(CONFLICT, "ConflictException", 409, "the resource conflicts with an existing one")   \
	X(PRECONDITION, "PreconditionFailedException", 412, "the resource has changed")        \
	X(TOO_LARGE, "RequestTooLargeException", 413, "the request is too large")              \
	X(UNSUPPORTED_MEDIA, "UnsupportedMediaTypeException", 415, "unsupported content type") \
	X(THROTTLED, "ThrottledClientException", 429, "too many requests")                     \
	X(INTERNAL, "ServiceFailureException", 500, "internal error")                          \
	X(STORE, "ServiceFailureException", 500, "the store failed")                           \
	X(UNAVAILABLE, "ServiceUnavailableException", 503, "the service is unavailable")       \
	X(RETRY, "ServiceUnavailableException", 503, "lost to another transaction")            \
	X(IO, "ServiceFailureException", 500, "input/output error")

typedef enum {
#define TS_ERR_ENUM(e, name, status, msg) TS_ERR_##e,
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
