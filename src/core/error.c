/* The error table's accessors and the detail recorder. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

#define HTTP_CLIENT_ERROR_MIN 400
#define HTTP_SERVER_ERROR_MIN 500

static const struct {
	const char *name;
	const char *oauth;
	int status;
	const char *message;
} table[TS_ERR__COUNT] = {
#define TS_ERR_ROW(e, n, o, s, m) [TS_ERR_##e] = {n, o, s, m},
        TS_ERR_TABLE(TS_ERR_ROW)
#undef TS_ERR_ROW
};

static ts_err clamp(ts_err code)
{
	return ((unsigned)code < TS_ERR__COUNT) ? code : TS_ERR_INTERNAL;
}

const char *ts_err_name(ts_err code)
{
	return table[clamp(code)].name;
}

const char *ts_err_oauth_name(ts_err code)
{
	return table[clamp(code)].oauth;
}

int ts_err_status(ts_err code)
{
	return table[clamp(code)].status;
}

const char *ts_err_message(ts_err code)
{
	return table[clamp(code)].message;
}

ts_err ts_err_for_status(int status)
{
	for (int c = TS_ERR_OK + 1; c < TS_ERR__COUNT; c++)
		if (table[c].status == status)
			return (ts_err)c;
	/* RFC 9110 §15: 4xx is the client's fault, anything else the server's */
	return status >= HTTP_CLIENT_ERROR_MIN && status < HTTP_SERVER_ERROR_MIN
	               ? TS_ERR_BAD_REQUEST
	               : TS_ERR_INTERNAL;
}

ts_err ts_error_set(struct ts_error *e, ts_err code, const char *where, const char *fmt, ...)
{
	if (e == NULL)
		return code;
	e->code = code;
	e->where = where;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return code;
}

const char *ts_error_text(const struct ts_error *e, ts_err code)
{
	if (e != NULL && e->code == code && e->message[0] != '\0')
		return e->message;
	return ts_err_message(code);
}
