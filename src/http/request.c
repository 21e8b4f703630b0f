/*
 * Request accessors, the request check every request passes before a handler
 * runs, error answers in each surface's shape, and response helpers.
 */
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/internal.h"

const char *ts_http_header(const struct ts_http_req *req, const char *name)
{
	for (int i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

const char *ts_http_bearer(const struct ts_http_req *req)
{
	static const char scheme[] = "Bearer ";
	const char *h = ts_http_header(req, "authorization");
	/* the scheme is case-insensitive (RFC 7235 §2.1) */
	if (h == NULL || strncasecmp(h, scheme, sizeof scheme - 1) != 0)
		return NULL;
	h += sizeof scheme - 1;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* Eight bytes at a time (the "has a zero byte" test of each byte's high and low bits). */
#define WORD_HIGH UINT64_C(0x8080808080808080)
#define WORD_LOW UINT64_C(0x0101010101010101)
#define WORD_HAS_ZERO(w) ((((w)-WORD_LOW) & ~(w)&WORD_HIGH) != 0)

/*
 * The length of s[0..n)'s leading run that decodes to itself: ASCII without
 * NUL, '%' or '+'. A form's 6 KiB SAMLResponse is mostly such runs, checked
 * a word at a time and copied whole.
 */
static size_t plain_run(const char *s, size_t n)
{
	size_t i = 0;
	for (; n - i >= sizeof(uint64_t); i += sizeof(uint64_t)) {
		uint64_t w;
		memcpy(&w, s + i, sizeof w);
		if ((w & WORD_HIGH) != 0 || WORD_HAS_ZERO(w) ||
		    WORD_HAS_ZERO(w ^ ('%' * WORD_LOW)) || WORD_HAS_ZERO(w ^ ('+' * WORD_LOW)))
			break;
	}
	while (i < n && (unsigned char)s[i] - 1u < TS_ASCII_DEL && s[i] != '%' && s[i] != '+')
		i++;
	return i;
}

char *ts_http_decode(ts_arena_t *a, const char *s, size_t n, bool plus_is_space)
{
	char *out = ts_arena_alloc_raw(a, n + 1);
	size_t o = 0;
	bool ascii = true; /* only ASCII without NUL written: valid UTF-8 without a check */
	for (size_t i = 0; i < n; i++) {
		size_t run = plain_run(s + i, n - i);
		memcpy(out + o, s + i, run);
		o += run;
		i += run;
		if (i == n)
			break;
		if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			int hi = ts_hex_digit(s[i + 1]);
			int lo = ts_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			char c = (char)(hi * 16 + lo);
			if (c == '\0')
				return NULL; /* an embedded NUL would truncate what later code sees
				              */
			ascii = ascii && (unsigned char)c < TS_ASCII_END;
			out[o++] = c;
			i += 2;
		} else if (plus_is_space && s[i] == '+') {
			out[o++] = ' ';
		} else {
			ascii = ascii && s[i] == '+';
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	/* RFC 3986 §2.5: percent-encoded text is UTF-8; anything else is refused here,
	 * once, rather than at every place that quotes the value into JSON */
	if (!ascii && !ts_utf8_valid(out, o))
		return NULL;
	return out;
}

const char *ts_http_query(const struct ts_http_req *req, const char *name)
{
	size_t nlen = strlen(name);
	const char *q = req->query;
	while (q != NULL && *q != '\0') {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		if (klen == nlen && memcmp(q, name, nlen) == 0) {
			if (eq == NULL)
				return "";
			return ts_http_decode(req->arena, eq + 1, len - klen - 1, true);
		}
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

/* Whether name[0..n) is printable ASCII, so that a message may name it. */
static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return n > 0;
}

#define TS_HTTP_NAME_QUOTE_MAX 64 /* longer names are not quoted in a message */

ts_err ts_http_request_check(const struct ts_http_req *req, struct ts_error *e)
{
	/* the raw path: h2o passes bytes above 0x7F as they came (RFC 3986 §2 allows none) */
	if (req->path != NULL && !ts_utf8_valid(req->path, strlen(req->path)))
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "the request path is not valid UTF-8");
	const char *q = req->query;
	while (q != NULL && *q != '\0') {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		bool name_ok = ts_http_decode(req->arena, q, klen, true) != NULL;
		bool value_ok = eq == NULL ||
		                ts_http_decode(req->arena, eq + 1, len - klen - 1, true) != NULL;
		if (!name_ok)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "a query parameter name is not percent-encoded UTF-8 "
			               "(RFC 3986 §2.1)");
		if (!value_ok && printable(q, klen) && klen <= TS_HTTP_NAME_QUOTE_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST,
			               "query parameter %.*s is not percent-encoded UTF-8 "
			               "(RFC 3986 §2.1)",
			               (int)klen, q);
		if (!value_ok)
			return TS_FAIL(
			        e, TS_ERR_BAD_REQUEST,
			        "a query parameter is not percent-encoded UTF-8 (RFC 3986 §2.1)");
		q = amp ? amp + 1 : NULL;
	}
	for (int i = 0; i < req->nheaders; i++) {
		const struct ts_http_header *h = &req->headers[i];
		if (ts_utf8_valid(h->value, strlen(h->value)))
			continue;
		/* RFC 9110 §5.5 allows obs-text; headers are quoted into JSON here: refused */
		size_t nlen = strlen(h->name);
		if (printable(h->name, nlen) && nlen <= TS_HTTP_NAME_QUOTE_MAX)
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "header %s is not valid UTF-8",
			               h->name);
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "a header is not valid UTF-8");
	}
	return TS_ERR_OK;
}

/* Whether path is prefix or under it ("/scim/v2", "/scim/v2/Users"; not "/scim/v2x"). */
static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void ts_http_error_plain(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                         const char *message)
{
	json_t *o = json_object();
	json_object_set_new(o, "Code", json_string(ts_err_name(code)));
	json_object_set_new(o, "Message", ts_json_text(message));
	ts_http_res_json(req, res, status, NULL, o);
	res->error_code = ts_err_name(code);
}

void ts_http_error(const struct ts_http_surface *surfaces, int nsurfaces, struct ts_http_req *req,
                   struct ts_http_res *res, ts_err code, int status, const char *message)
{
	ts_http_error_fn fn = ts_http_error_plain;
	for (int i = 0; i < nsurfaces && req->path != NULL; i++) {
		if (under(req->path, surfaces[i].prefix)) {
			fn = surfaces[i].error;
			break;
		}
	}
	fn(req, res, code, status, message);
}

void ts_http_res_settle(const struct ts_http_surface *surfaces, int nsurfaces,
                        struct ts_http_req *req, struct ts_http_res *res)
{
	if (res->fault == NULL)
		return;
	json_t *f = json_object();
	json_object_set_new(f, "request_id", ts_json_text(req->request_id));
	json_object_set_new(f, "path", ts_json_text(req->path));
	json_object_set_new(f, "fault", json_string(res->fault));
	if (res->overflow != NULL)
		json_object_set_new(f, "header", ts_json_text(res->overflow));
	ts_log(TS_LOG_ERROR, "the answer could not be built: 500 instead", f);
	/* whatever the handler set is not sent: a half-built answer may mislead */
	*res = (struct ts_http_res){0};
	ts_http_error(surfaces, nsurfaces, req, res, TS_ERR_INTERNAL,
	              ts_err_status(TS_ERR_INTERNAL), ts_err_message(TS_ERR_INTERNAL));
	if (res->fault != NULL) { /* the renderer itself failed: a fixed body */
		static const char body[] =
		        "{\"Code\":\"ServiceFailureException\",\"Message\":\"internal error\"}";
		*res = (struct ts_http_res){0};
		ts_http_res_set(res, ts_err_status(TS_ERR_INTERNAL), "application/json", body,
		                sizeof body - 1);
		res->error_code = ts_err_name(TS_ERR_INTERNAL);
	}
}

#define HTTP_STATUS_NO_CONTENT 204
#define HTTP_STATUS_NOT_MODIFIED 304
#define HTTP_STATUS_FIRST_FINAL 200

bool ts_http_status_has_body(int status)
{
	return status >= HTTP_STATUS_FIRST_FINAL && status != HTTP_STATUS_NO_CONTENT &&
	       status != HTTP_STATUS_NOT_MODIFIED;
}

void ts_http_res_set(struct ts_http_res *res, int status, const char *content_type,
                     const char *body, size_t len)
{
	res->status = status;
	res->content_type = content_type;
	res->body = body;
	res->body_len = len;
}

void ts_http_res_json(struct ts_http_req *req, struct ts_http_res *res, int status,
                      const char *content_type, json_t *j)
{
	if (j == NULL) { /* a json_pack that failed: never dumped, never a crash */
		if (res->fault == NULL)
			res->fault = "a JSON answer could not be built";
		ts_http_res_set(res, 500, content_type ? content_type : "application/json", NULL,
		                0);
		return;
	}
	size_t len = 0;
	char *text = ts_json_dump(req->arena, j, &len);
	json_decref(j);
	ts_http_res_set(res, status, content_type ? content_type : "application/json", text, len);
}

void ts_http_res_header(struct ts_http_res *res, const char *name, const char *value)
{
	if (res->headers == NULL) { /* a response zeroed ({0}) starts on its own array */
		res->headers = res->fixed;
		res->headers_cap = TS_HTTP_MAX_RES_HEADERS;
	}
	if (res->nheaders == res->headers_cap && res->arena != NULL) {
		size_t cap = (size_t)res->headers_cap;
		/* past the bound it fails and the header is refused below */
		if (TS_ARENA_GROW(res->arena, res->headers, (size_t)res->nheaders, &cap,
		                  TS_HTTP_RES_HEADERS_BOUND) == TS_ERR_OK)
			res->headers_cap = (int)cap;
	}
	if (res->nheaders < res->headers_cap) {
		res->headers[res->nheaders].name = name;
		res->headers[res->nheaders].value = value;
		res->nheaders++;
		return;
	}
	/* never a header dropped quietly: the whole answer becomes a 500 (see http.h) */
	if (res->overflow == NULL)
		res->overflow = name;
	if (res->fault == NULL)
		res->fault = "too many response headers (see TS_HTTP_RES_HEADERS_BOUND)";
}

json_t *ts__http_access_fields(const struct ts_http_req *req, const struct ts_http_res *res,
                               double ms)
{
	json_t *f = json_object();
	json_object_set_new(f, "method", ts_json_text(req->method));
	json_object_set_new(f, "path", ts_json_text(req->path));
	json_object_set_new(f, "status", json_integer(res->status));
	json_object_set_new(f, "ms", json_real(ms));
	json_object_set_new(f, "request_id", ts_json_text(req->request_id));
	if (req->client_request_id != NULL)
		json_object_set_new(f, "client_request_id", ts_json_text(req->client_request_id));
	json_object_set_new(f, "peer", ts_json_text(req->peer));
	if (req->via != NULL)
		json_object_set_new(f, "via", ts_json_text(req->via));
	if (res->error_code)
		json_object_set_new(f, "error", ts_json_text(res->error_code));
	return f;
}
