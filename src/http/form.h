/*
 * application/x-www-form-urlencoded bodies: what a browser sends when a
 * <form method="post"> is submitted (sign-in pages, the SAML POST binding,
 * OAuth token requests, the console).
 *
 * Decoding follows the WHATWG URL standard's form parser (§5.1): the body
 * splits on '&', empty pieces are skipped, each piece splits at its first
 * '=' (none: the value is ""), '+' becomes a space, then percent-decoding,
 * then UTF-8. Where that standard is lenient this parser refuses instead,
 * since every value may end in a header, a log line or the store:
 *   - a '%' not followed by two hex digits (the standard keeps it as text);
 *   - bytes that are not UTF-8 (RFC 3629), before or after decoding (the
 *     standard substitutes U+FFFD);
 *   - NUL and every other control character (C0, DEL, C1), raw or encoded;
 *     values may hold TAB, CR and LF only when limits->multiline is set
 *     (a <textarea>), names never;
 *   - an empty name ("=x");
 *   - anything past a cap: body size, field count, name or value length
 *     (decoded), each a named constant below.
 * Duplicate names are kept in order; a single-valued lookup
 * (ts_http_form_one, ts_http_form_opt) refuses a name that appears twice,
 * so that a value smuggled in front of the real one is never picked.
 */
#ifndef TS_HTTP_FORM_H
#define TS_HTTP_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "http/http.h"

#define TS_HTTP_FORM_MIME "application/x-www-form-urlencoded"
/* A SAML POST-binding response (base64 of a signed, maybe encrypted document) fits. */
#define TS_HTTP_FORM_MAX_BODY (256 * 1024)
#define TS_HTTP_FORM_MAX_FIELDS 64
#define TS_HTTP_FORM_MAX_NAME 128
#define TS_HTTP_FORM_MAX_VALUE (192 * 1024)

struct ts_http_form_limits {
	size_t max_body;  /* bytes, encoded */
	int max_fields;   /* non-empty '&'-separated pieces */
	size_t max_name;  /* bytes, decoded */
	size_t max_value; /* bytes, decoded */
	bool multiline;   /* values may hold TAB, CR, LF */
};

/* The limits above, single-line values. */
#define TS_HTTP_FORM_LIMITS_DEFAULT                                          \
	((struct ts_http_form_limits){.max_body = TS_HTTP_FORM_MAX_BODY,     \
	                              .max_fields = TS_HTTP_FORM_MAX_FIELDS, \
	                              .max_name = TS_HTTP_FORM_MAX_NAME,     \
	                              .max_value = TS_HTTP_FORM_MAX_VALUE,   \
	                              .multiline = false})

struct ts_http_form_field {
	const char *name;  /* decoded, UTF-8, no controls */
	const char *value; /* decoded, UTF-8, no controls (but TAB/CR/LF when multiline) */
	size_t value_len;
};

struct ts_http_form {
	const struct ts_http_form_field *fields; /* in body order, duplicates kept */
	int n;
};

/*
 * Parses body[0..len) (need not be NUL-terminated) into out, every string in
 * arena a. limits NULL: TS_HTTP_FORM_LIMITS_DEFAULT. TS_ERR_TOO_LARGE past a
 * cap, TS_ERR_BAD_REQUEST for text this parser refuses (see above); the
 * message names the field when its name is printable, never quotes a value.
 */
TS_MUST_USE ts_err ts_http_form_parse(ts_arena_t *a, const char *body, size_t len,
                                      const struct ts_http_form_limits *limits,
                                      struct ts_http_form *out, struct ts_error *e);

/*
 * The request's body as a form: TS_ERR_UNSUPPORTED_MEDIA unless the
 * Content-Type is application/x-www-form-urlencoded (parameters allowed;
 * a charset parameter must be utf-8), then ts_http_form_parse.
 */
TS_MUST_USE ts_err ts_http_form_from_req(const struct ts_http_req *req,
                                         const struct ts_http_form_limits *limits,
                                         struct ts_http_form *out, struct ts_error *e);

/*
 * The one value of a field that must be present exactly once: TS_ERR_BAD_REQUEST
 * when it is missing or appears more than once.
 */
TS_MUST_USE ts_err ts_http_form_one(const struct ts_http_form *f, const char *name,
                                    const char **value, struct ts_error *e);
/* As ts_http_form_one, but an absent field is fine: *value NULL. */
TS_MUST_USE ts_err ts_http_form_opt(const struct ts_http_form *f, const char *name,
                                    const char **value, struct ts_error *e);
/* How many times name appears; the first max of its values into out (may be NULL). */
int ts_http_form_all(const struct ts_http_form *f, const char *name, const char **out, int max);

#endif
