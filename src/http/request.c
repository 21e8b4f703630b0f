/* Request accessors and response helpers shared by every handler. */
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "http/http.h"

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

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *ts_http_decode(ts_arena_t *a, const char *s, size_t n, bool plus_is_space)
{
	char *out = ts_arena_alloc(a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			int hi = hexval(s[i + 1]);
			int lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			char c = (char)(hi * 16 + lo);
			if (c == '\0')
				return NULL; /* an embedded NUL would truncate what later code sees
				              */
			out[o++] = c;
			i += 2;
		} else if (plus_is_space && s[i] == '+') {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
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
	size_t len = 0;
	char *text = ts_json_dump(req->arena, j, &len);
	json_decref(j);
	ts_http_res_set(res, status, content_type ? content_type : "application/json", text, len);
}

void ts_http_res_header(struct ts_http_res *res, const char *name, const char *value)
{
	if (res->nheaders < TS_HTTP_MAX_RES_HEADERS) {
		res->headers[res->nheaders].name = name;
		res->headers[res->nheaders].value = value;
		res->nheaders++;
	}
}
