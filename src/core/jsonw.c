/*
 * The JSON writer (see jsonw.h). Strings are copied in runs between the
 * bytes that need escaping; UTF-8 is checked as it is copied, with the
 * rules of RFC 3629 §3 (no overlongs, no surrogates, nothing past U+10FFFF).
 */
#include "core/jsonw.h"

#include "core/json.h"
#include "core/utf8.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define JSONW_MIN_CAP 256
#define JSONW_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */
#define JSONW_REPLACEMENT_LEN (sizeof JSONW_REPLACEMENT - 1)
/* RFC 8259 §7: a control is written as \u00XX, six bytes for one */
#define JSONW_ESCAPE_MAX 6
/* the longest "%.17g" of a double or "%lld" of an int64, with the NUL */
#define JSONW_NUMBER_MAX 32

void ts_jsonw_init(struct ts_jsonw *w, ts_arena_t *arena, size_t cap)
{
	if (cap < JSONW_MIN_CAP)
		cap = JSONW_MIN_CAP;
	*w = (struct ts_jsonw){.arena = arena, .cap = cap};
	w->data = ts_arena_alloc(arena, cap);
}

static void reserve(struct ts_jsonw *w, size_t n)
{
	if (w->len + n + 1 <= w->cap)
		return;
	/* no cap of its own: what is written is capped where it comes in (body, JSON limits) */
	if (ts_arena_grow(w->arena, &w->data, 1, w->len, w->len + n + 1, &w->cap, SIZE_MAX) !=
	    TS_ERR_OK)
		abort(); /* beyond what an arena can hold: as any failed allocation */
}

void ts_jsonw_raw(struct ts_jsonw *w, const char *s, size_t n)
{
	reserve(w, n);
	memcpy(w->data + w->len, s, n);
	w->len += n;
}

/* 1 for the bytes copied as they are: printable ASCII but '"' and '\\' */
#define P8 1, 1, 1, 1, 1, 1, 1, 1
#define Z8 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char plain[256] = {
        Z8, Z8, Z8, Z8,               /* 0x00-0x1F: controls */
        1,  1,  0,  1,  1,  1,  1, 1, /* 0x20-0x27: '"' */
        P8, P8, P8, P8, P8, P8,       /* 0x28-0x57 */
        1,  1,  1,  1,  0,  1,  1, 1, /* 0x58-0x5F: '\\' */
        P8, P8, P8, P8,               /* 0x60-0x7F */
};

static bool put_string(struct ts_jsonw *w, const char *str, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str, *end = s + n, *run = s;
	bool valid = true;
	/* worst case JSONW_ESCAPE_MAX bytes out per byte in, plus the quotes */
	reserve(w, n * JSONW_ESCAPE_MAX + 2);
	char *o = w->data + w->len;
	*o++ = '"';
	while (s < end) {
		while (s < end && plain[*s])
			s++;
		if (s == end)
			break;
		unsigned char c = *s;
		size_t u = c >= TS_ASCII_END ? ts_utf8_next(s, (size_t)(end - s), NULL) : 0;
		if (u > 0) {
			s += u;
			continue;
		}
		memcpy(o, run, (size_t)(s - run));
		o += s - run;
		if (c >= TS_ASCII_END) {
			memcpy(o, JSONW_REPLACEMENT, JSONW_REPLACEMENT_LEN);
			o += JSONW_REPLACEMENT_LEN;
			valid = false;
		} else {
			*o++ = '\\';
			switch (c) {
			case '"':
			case '\\':
				*o++ = (char)c;
				break;
			case '\b':
				*o++ = 'b';
				break;
			case '\f':
				*o++ = 'f';
				break;
			case '\n':
				*o++ = 'n';
				break;
			case '\r':
				*o++ = 'r';
				break;
			case '\t':
				*o++ = 't';
				break;
			default: /* RFC 8259 §7: other controls as \u00XX */
				memcpy(o, "u00", sizeof "u00" - 1);
				o[3] = hex[c >> 4];
				o[4] = hex[c & 0xF];
				o += JSONW_ESCAPE_MAX - 1; /* the backslash is already out */
			}
		}
		run = ++s;
	}
	memcpy(o, run, (size_t)(s - run));
	o += s - run;
	*o++ = '"';
	w->len = (size_t)(o - w->data);
	return valid;
}

bool ts_jsonw_str(struct ts_jsonw *w, const char *s)
{
	if (s == NULL) {
		ts_jsonw_lit(w, "null");
		return true;
	}
	return put_string(w, s, strlen(s));
}

void ts_jsonw_key(struct ts_jsonw *w, const char *key)
{
	if (w->len > 0 && w->data[w->len - 1] != '{')
		ts_jsonw_lit(w, ",");
	(void)put_string(w, key, strlen(key));
	ts_jsonw_lit(w, ":");
}

bool ts_jsonw_member_str(struct ts_jsonw *w, const char *key, const char *s)
{
	size_t mark = w->len;
	ts_jsonw_key(w, key);
	if (ts_jsonw_str(w, s))
		return true;
	/* never a member left out; the bytes as ts_json_text writes them */
	w->len = mark;
	ts_jsonw_key(w, key);
	(void)ts_jsonw_str(w, ts_text_escape(w->arena, s));
	return false;
}

static int put_cb(const char *buffer, size_t size, void *data)
{
	ts_jsonw_raw(data, buffer, size);
	return 0;
}

void ts_jsonw_value(struct ts_jsonw *w, const json_t *j)
{
	char num[JSONW_NUMBER_MAX];
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k = NULL;
		json_t *v = NULL;
		bool first = true;
		ts_jsonw_lit(w, "{");
		json_object_foreach((json_t *)j, k, v)
		{
			if (!first)
				ts_jsonw_lit(w, ",");
			first = false;
			(void)put_string(w, k, strlen(k));
			ts_jsonw_lit(w, ":");
			ts_jsonw_value(w, v);
		}
		ts_jsonw_lit(w, "}");
		break;
	}
	case JSON_ARRAY:
		ts_jsonw_lit(w, "[");
		for (size_t i = 0; i < json_array_size(j); i++) {
			if (i > 0)
				ts_jsonw_lit(w, ",");
			ts_jsonw_value(w, json_array_get(j, i));
		}
		ts_jsonw_lit(w, "]");
		break;
	case JSON_STRING:
		(void)put_string(w, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER: {
		int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		ts_jsonw_raw(w, num, (size_t)n);
		break;
	}
	case JSON_REAL: /* jansson's own formatting (precision, ".0"), kept as is */
		json_dump_callback(j, put_cb, w, JSON_COMPACT | JSON_ENCODE_ANY);
		break;
	case JSON_TRUE:
		ts_jsonw_lit(w, "true");
		break;
	case JSON_FALSE:
		ts_jsonw_lit(w, "false");
		break;
	case JSON_NULL:
		ts_jsonw_lit(w, "null");
		break;
	}
}

char *ts_jsonw_finish(struct ts_jsonw *w, size_t *len)
{
	reserve(w, 0);
	w->data[w->len] = '\0';
	if (len != NULL)
		*len = w->len;
	return w->data;
}
