/*
 * The form-body parser (see form.h for what it accepts and refuses, and
 * why it is stricter than the WHATWG URL standard §5.1 it follows).
 */
#include "http/form.h"

#include <string.h>
#include <strings.h>

#include "core/utf8.h"

#define NAME_QUOTE_MAX 64 /* longer names are not quoted in a message */

enum piece_fault { PIECE_OK, PIECE_ENCODING, PIECE_CONTROL };

/* Whether a decoded control code point is allowed: TAB, LF, CR in multiline values. */
static bool control_ok(uint32_t cp, bool multiline)
{
	return multiline && (cp == '\t' || cp == '\n' || cp == '\r');
}

/*
 * Decodes s[0..n) ('+' is a space, %XX a byte) into arena memory with the
 * request path's own decoder (ts_http_decode: a broken escape, a NUL or
 * bytes that are not UTF-8 refused), then refuses controls.
 */
static enum piece_fault decode(ts_arena_t *a, const char *s, size_t n, bool multiline, char **out,
                               size_t *out_len)
{
	char *d = ts_http_decode(a, s, n, true);
	if (d == NULL)
		return PIECE_ENCODING;
	const unsigned char *p = (const unsigned char *)d;
	size_t len = strlen(d);
	while (*p) {
		/* printable ASCII, most of a form: no control */
		p += ts_utf8_printable_span((const char *)p, len - (size_t)((const char *)p - d));
		if (*p == '\0')
			break;
		uint32_t cp = 0;
		size_t k = ts_utf8_decode(p, &cp);
		if (ts_utf8_is_control(cp) && !control_ok(cp, multiline))
			return PIECE_CONTROL;
		p += k;
	}
	*out = d;
	*out_len = (size_t)((const char *)p - d);
	return PIECE_OK;
}

static bool printable(const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return n > 0 && n <= NAME_QUOTE_MAX;
}

static const char *fault_text(enum piece_fault f)
{
	switch (f) {
	case PIECE_ENCODING:
		return "is not percent-encoded UTF-8 (a broken escape, a NUL or not UTF-8)";
	case PIECE_CONTROL:
		return "holds a control character";
	default:
		return "is not valid";
	}
}

ts_err ts_http_form_parse(ts_arena_t *a, const char *body, size_t len,
                          const struct ts_http_form_limits *limits, struct ts_http_form *out,
                          struct ts_error *e)
{
	struct ts_http_form_limits lim = limits ? *limits : TS_HTTP_FORM_LIMITS_DEFAULT;
	*out = (struct ts_http_form){0};
	if (len > lim.max_body)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "form body larger than %zu bytes",
		               lim.max_body);
	/* count the non-empty pieces first: the array is sized once, and the cap checked */
	int count = 0;
	for (size_t i = 0; i < len;) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		if (end > i && ++count > lim.max_fields)
			return TS_FAIL(e, TS_ERR_TOO_LARGE, "more than %d form fields",
			               lim.max_fields);
		i = end + 1;
	}
	struct ts_http_form_field *fields =
	        ts_arena_alloc(a, sizeof *fields * (size_t)(count > 0 ? count : 1));
	int n = 0;
	for (size_t i = 0; i < len;) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *piece = body + i;
		size_t plen = end - i;
		i = end + 1;
		if (plen == 0)
			continue; /* WHATWG URL §5.1 step 3.1: "a&&b" has two fields */
		const char *eq = memchr(piece, '=', plen);
		size_t nlen = eq ? (size_t)(eq - piece) : plen;
		char *name = NULL, *value = NULL;
		size_t name_len = 0, value_len = 0;
		enum piece_fault f = decode(a, piece, nlen, false, &name, &name_len);
		if (f != PIECE_OK)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a form field name %s",
			               fault_text(f));
		if (name_len == 0)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a form field has an empty name");
		if (name_len > lim.max_name)
			return TS_FAIL(e, TS_ERR_TOO_LARGE,
			               "a form field name is longer than %zu bytes", lim.max_name);
		if (eq != NULL) {
			f = decode(a, eq + 1, plen - nlen - 1, lim.multiline, &value, &value_len);
		} else {
			value = "";
		}
		if (f != PIECE_OK && printable(name))
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "form field %s %s", name,
			               fault_text(f));
		if (f != PIECE_OK)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a form field value %s",
			               fault_text(f));
		if (value_len > lim.max_value && printable(name))
			return TS_FAIL(e, TS_ERR_TOO_LARGE,
			               "form field %s is longer than %zu bytes", name,
			               lim.max_value);
		if (value_len > lim.max_value)
			return TS_FAIL(e, TS_ERR_TOO_LARGE,
			               "a form field value is longer than %zu bytes",
			               lim.max_value);
		fields[n].name = name;
		fields[n].value = value;
		fields[n].value_len = value_len;
		n++;
	}
	out->fields = fields;
	out->n = n;
	return TS_ERR_OK;
}

/* Whether a Content-Type names the form media type with a UTF-8 charset or none. */
static bool form_type(const char *ct)
{
	size_t mlen = sizeof TS_HTTP_FORM_MIME - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	/* RFC 9110 §8.3.1: type and subtype are case-insensitive */
	if (strncasecmp(ct, TS_HTTP_FORM_MIME, mlen) != 0)
		return false;
	const char *p = ct + mlen;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	if (*p != ';')
		return false;
	/* parameters: only charset matters, and it must be UTF-8 (the standard's only one) */
	const char *c = strcasestr(p, "charset=");
	if (c == NULL)
		return true;
	c += sizeof "charset=" - 1;
	if (*c == '"')
		c++;
	size_t ulen = sizeof "utf-8" - 1;
	return strncasecmp(c, "utf-8", ulen) == 0 &&
	       (c[ulen] == '\0' || c[ulen] == '"' || c[ulen] == ';' || c[ulen] == ' ');
}

ts_err ts_http_form_from_req(const struct ts_http_req *req,
                             const struct ts_http_form_limits *limits, struct ts_http_form *out,
                             struct ts_error *e)
{
	*out = (struct ts_http_form){0};
	const char *ct = ts_http_header(req, "content-type");
	if (ct == NULL || !form_type(ct))
		return TS_FAIL(e, TS_ERR_UNSUPPORTED_MEDIA,
		               "expected Content-Type " TS_HTTP_FORM_MIME " (UTF-8)");
	return ts_http_form_parse(req->arena, req->body ? req->body : "", req->body_len, limits,
	                          out, e);
}

int ts_http_form_all(const struct ts_http_form *f, const char *name, const char **out, int max)
{
	int n = 0;
	for (int i = 0; i < f->n; i++) {
		if (strcmp(f->fields[i].name, name) != 0)
			continue;
		if (out != NULL && n < max)
			out[n] = f->fields[i].value;
		n++;
	}
	return n;
}

ts_err ts_http_form_opt(const struct ts_http_form *f, const char *name, const char **value,
                        struct ts_error *e)
{
	const char *v = NULL;
	int n = ts_http_form_all(f, name, &v, 1);
	*value = NULL;
	if (n > 1)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "form field %s appears %d times", name, n);
	*value = v;
	return TS_ERR_OK;
}

ts_err ts_http_form_one(const struct ts_http_form *f, const char *name, const char **value,
                        struct ts_error *e)
{
	ts_err rc = ts_http_form_opt(f, name, value, e);
	if (rc == TS_ERR_OK && *value == NULL)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "form field %s is missing", name);
	return rc;
}
