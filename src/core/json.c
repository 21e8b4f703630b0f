/* JSON helpers: capped parsing, arena ownership, compact dumping. */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/jsonw.h"
#include "core/utf8.h"

/* RFC 8259 §7: "\\u" and four hex digits */
#define U_DIGITS 4
#define U_ESCAPE_LEN (2 + U_DIGITS)
/* escape_invalid writes a bad byte as the four characters \xHH */
#define HEX_ESCAPE_LEN 4
/* a number's text fits here without an allocation (any double or int64 in JSON does) */
#define NUMBER_TEXT_SMALL 64
/* the first block of a document's text; the writer doubles it as needed */
#define DUMP_INITIAL_CAP 512

static void decref(void *p)
{
	json_decref(p);
}

json_t *ts_json_own(ts_arena_t *arena, json_t *j)
{
	if (arena != NULL && j != NULL)
		ts_arena_defer(arena, decref, j);
	return j;
}

/* Walks the raw text once: depth and string-length caps are checked before
 * jansson builds anything, so a hostile document costs O(len) and no memory. */
static ts_err prescan(const char *s, size_t len, int max_depth, size_t max_string,
                      struct ts_error *e)
{
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '"') {
			size_t start = ++i;
			while (i < len && s[i] != '"') {
				if (s[i] == '\\')
					i++;
				i++;
			}
			if (i - start > max_string)
				return TS_FAIL(e, TS_ERR_TOO_LARGE,
				               "JSON string longer than %zu bytes", max_string);
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth)
				return TS_FAIL(e, TS_ERR_TOO_LARGE, "JSON nested deeper than %d",
				               max_depth);
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return TS_ERR_OK;
}

/*
 * The parser: RFC 8259 into jansson values, as json_loadb(JSON_REJECT_DUPLICATES)
 * would build them, at a fraction of its cost (jansson reads its input one
 * byte at a time through a callback; here a string without escapes is one
 * copy). It accepts and refuses exactly what jansson does: an object or array
 * at the top, no \u0000, no lone surrogate, valid UTF-8 (no overlong forms,
 * no encoded surrogates, nothing past U+10FFFF), integers within int64 (else
 * refused), reals that do not overflow, no key twice in one object. The
 * libFuzzer target fuzz_json compares the two on every input.
 */
struct parser {
	const unsigned char *p, *end, *start;
	const char *why; /* the first error */
	const unsigned char *at;
	int depth, max_depth;
};

static json_t *fail(struct parser *ps, const char *why)
{
	if (ps->why == NULL) {
		ps->why = why;
		ps->at = ps->p;
	}
	return NULL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/*
 * The string at ps->p (its opening quote): *text and *len are its value, in
 * the input itself when it has no escapes, else in *owned (ts_malloc'd).
 */
static bool parse_string(struct parser *ps, const char **text, size_t *len, char **owned)
{
	const unsigned char *s = ++ps->p, *end = ps->end;
	*owned = NULL;
	/* the fast path: no escapes */
	while (s < end && *s != '"' && *s != '\\') {
		if (*s < TS_ASCII_SPACE) {
			ps->p = s;
			return fail(ps, "control character in a string"), false;
		}
		size_t n = *s < TS_ASCII_END ? 1 : ts_utf8_next(s, (size_t)(end - s), NULL);
		if (n == 0) {
			ps->p = s;
			return fail(ps, "invalid UTF-8 in a string"), false;
		}
		s += n;
	}
	if (s >= end) {
		ps->p = s;
		return fail(ps, "unterminated string"), false;
	}
	if (*s == '"') {
		*text = (const char *)ps->p;
		*len = (size_t)(s - ps->p);
		ps->p = s + 1;
		return true;
	}
	/* escapes: the value is never longer than the text */
	const char *why = NULL;
	char *buf = ts_malloc((size_t)(end - ps->p) + 1), *o = buf;
	memcpy(o, ps->p, (size_t)(s - ps->p));
	o += s - ps->p;
	while (s < end && *s != '"') {
		if (*s < TS_ASCII_SPACE) {
			ps->p = s;
			why = "control character in a string";
			goto bad;
		}
		if (*s != '\\') {
			size_t n = *s < TS_ASCII_END ? 1 : ts_utf8_next(s, (size_t)(end - s), NULL);
			if (n == 0) {
				ps->p = s;
				why = "invalid UTF-8 in a string";
				goto bad;
			}
			memcpy(o, s, n);
			o += n;
			s += n;
			continue;
		}
		ps->p = s;
		if (end - s < 2) {
			why = "unterminated string";
			goto bad;
		}
		unsigned char c = s[1];
		s += 2;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*o++ = (char)c;
			continue;
		case 'b':
			*o++ = '\b';
			continue;
		case 'f':
			*o++ = '\f';
			continue;
		case 'n':
			*o++ = '\n';
			continue;
		case 'r':
			*o++ = '\r';
			continue;
		case 't':
			*o++ = '\t';
			continue;
		case 'u':
			break;
		default:
			why = "invalid escape in a string";
			goto bad;
		}
		int u = end - s >= U_DIGITS ? (int)ts_hex_value((const char *)s, U_DIGITS) : -1;
		if (u < 0) {
			why = "invalid escape in a string";
			goto bad;
		}
		s += U_DIGITS;
		uint32_t cp = (uint32_t)u;
		if (cp >= TS_UTF16_LOW_FIRST && cp <= TS_UTF16_LOW_LAST) {
			why = "invalid \\u escape (a lone surrogate)";
			goto bad;
		}
		if (cp >= TS_UTF16_HIGH_FIRST && cp <= TS_UTF16_HIGH_LAST) {
			int lo = end - s >= U_ESCAPE_LEN && s[0] == '\\' && s[1] == 'u'
			                 ? (int)ts_hex_value((const char *)s + 2, U_DIGITS)
			                 : -1;
			if (lo < TS_UTF16_LOW_FIRST || lo > TS_UTF16_LOW_LAST) {
				why = "invalid \\u escape (a lone surrogate)";
				goto bad;
			}
			cp = TS_UTF16_PAIR(cp, lo);
			s += U_ESCAPE_LEN;
		}
		if (cp == 0) {
			why = "\\u0000 in a string";
			goto bad;
		}
		o += ts_utf8_encode(o, cp);
	}
	if (s >= end) {
		ps->p = s;
		why = "unterminated string";
		goto bad;
	}
	*o = '\0';
	*owned = buf;
	*text = buf;
	*len = (size_t)(o - buf);
	ps->p = s + 1;
	return true;
bad:
	fail(ps, why);
	ts_free(buf);
	return false;
}

static json_t *parse_number(struct parser *ps)
{
	const unsigned char *s = ps->p, *end = ps->end;
	bool real = false;
	if (s < end && *s == '-')
		s++;
	if (s < end && *s == '0') {
		s++;
	} else if (s < end && *s >= '1' && *s <= '9') {
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	} else {
		return fail(ps, "invalid number");
	}
	if (s < end && *s == '.') {
		real = true;
		if (++s >= end || *s < '0' || *s > '9')
			return fail(ps, "invalid number");
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		real = true;
		if (++s < end && (*s == '+' || *s == '-'))
			s++;
		if (s >= end || *s < '0' || *s > '9')
			return fail(ps, "invalid number");
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < end && *s >= '0' && *s <= '9')
		return fail(ps, "invalid number"); /* a leading zero */
	/* strtoll and strtod need a terminated copy */
	size_t n = (size_t)(s - ps->p);
	char small[NUMBER_TEXT_SMALL], *text = n < sizeof small ? small : ts_malloc(n + 1);
	memcpy(text, ps->p, n);
	text[n] = '\0';
	json_t *v = NULL;
	errno = 0;
	if (!real) {
		long long i = strtoll(text, NULL, 10);
		if (errno == ERANGE)
			fail(ps, "integer out of range");
		else
			v = json_integer(i);
	} else {
		double d = strtod(text, NULL);
		if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
			fail(ps, "real number overflow");
		else
			v = json_real(d);
	}
	if (text != small)
		ts_free(text);
	if (v != NULL)
		ps->p = s;
	return v;
}

static json_t *parse_word(struct parser *ps, const char *word, json_t *v)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "invalid token");
	ps->p += n;
	return v;
}

static json_t *parse_value(struct parser *ps);

/* Steps over c (and the blanks after it) when it comes next. */
static bool take(struct parser *ps, char c)
{
	if (ps->p >= ps->end || *ps->p != (unsigned char)c)
		return false;
	ps->p++;
	skip_ws(ps);
	return true;
}

/* After a member or an element: 1 when another follows (a ','), 0 at the closer, -1 on error. */
static int next_item(struct parser *ps, char close, const char *why)
{
	skip_ws(ps);
	if (take(ps, ','))
		return 1;
	if (ps->p < ps->end && *ps->p == (unsigned char)close) {
		ps->p++;
		return 0;
	}
	fail(ps, why);
	return -1;
}

static json_t *parse_object(struct parser *ps)
{
	json_t *o = json_object();
	take(ps, '{');
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return o;
	}
	int more = 1;
	while (more > 0) {
		if (ps->p >= ps->end || *ps->p != '"') {
			fail(ps, "string or '}' expected");
			break;
		}
		const char *key;
		size_t klen;
		char *owned;
		const unsigned char *at = ps->p;
		if (!parse_string(ps, &key, &klen, &owned))
			break;
		json_t *v = NULL;
		if (json_object_getn(o, key, klen) != NULL) {
			ps->p = at;
			fail(ps, "duplicate object key");
		} else {
			skip_ws(ps);
			if (!take(ps, ':'))
				fail(ps, "':' expected");
			else
				v = parse_value(ps);
		}
		if (v != NULL)
			json_object_setn_new_nocheck(o, key, klen, v);
		ts_free(owned);
		if (v == NULL)
			break;
		more = next_item(ps, '}', "',' or '}' expected");
	}
	if (more == 0)
		return o;
	json_decref(o);
	return NULL;
}

static json_t *parse_array(struct parser *ps)
{
	json_t *a = json_array();
	take(ps, '[');
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return a;
	}
	int more = 1;
	while (more > 0) {
		json_t *v = parse_value(ps);
		if (v == NULL)
			break;
		json_array_append_new(a, v);
		more = next_item(ps, ']', "',' or ']' expected");
	}
	if (more == 0)
		return a;
	json_decref(a);
	return NULL;
}

static json_t *parse_value(struct parser *ps)
{
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of the document");
	json_t *v = NULL;
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > ps->max_depth)
			return fail(ps, "nested too deep");
		v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
		ps->depth--;
		return v;
	case '"': {
		const char *text;
		size_t len;
		char *owned;
		if (!parse_string(ps, &text, &len, &owned))
			return NULL;
		v = json_stringn_nocheck(text, len);
		ts_free(owned);
		return v;
	}
	case 't':
		return parse_word(ps, "true", json_true());
	case 'f':
		return parse_word(ps, "false", json_false());
	case 'n':
		return parse_word(ps, "null", json_null());
	default:
		return parse_number(ps);
	}
}

/* The document: an object or an array, and nothing after it but blanks. */
static json_t *parse_document(struct parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end || (*ps->p != '{' && *ps->p != '['))
		return fail(ps, "'[' or '{' expected");
	json_t *v = parse_value(ps);
	if (v == NULL)
		return NULL;
	skip_ws(ps);
	if (ps->p != ps->end) {
		json_decref(v);
		return fail(ps, "end of the document expected");
	}
	return v;
}

ts_err ts_json_parse(const char *text, size_t len, const struct ts_json_limits *lim,
                     ts_arena_t *arena, json_t **out, struct ts_error *e)
{
	*out = NULL;
	int max_depth = (lim && lim->max_depth) ? lim->max_depth : TS_JSON_MAX_DEPTH;
	size_t max_string = (lim && lim->max_string) ? lim->max_string : TS_JSON_MAX_STRING;
	if (lim && lim->max_bytes && len > lim->max_bytes)
		return TS_FAIL(e, TS_ERR_TOO_LARGE, "JSON body larger than %zu bytes",
		               lim->max_bytes);
	ts_err rc = prescan(text, len, max_depth, max_string, e);
	if (rc != TS_ERR_OK)
		return rc;
	struct parser ps = {.p = (const unsigned char *)text,
	                    .end = (const unsigned char *)text + len,
	                    .start = (const unsigned char *)text,
	                    .max_depth = max_depth};
	json_t *j = parse_document(&ps);
	if (j == NULL) {
		int line = 1, column = 1;
		for (const unsigned char *c = ps.start; c < ps.at; c++) {
			column++;
			if (*c == '\n') {
				line++;
				column = 1;
			}
		}
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "malformed JSON at line %d column %d: %s",
		               line, column, ps.why ? ps.why : "invalid document");
	}
	*out = ts_json_own(arena, j);
	return TS_ERR_OK;
}

char *ts_json_dump(ts_arena_t *arena, const json_t *j, size_t *len)
{
	/* the hand-written writer gives jansson's compact form at a fraction of its cost */
	struct ts_jsonw w;
	ts_jsonw_init(&w, arena, DUMP_INITIAL_CAP);
	ts_jsonw_value(&w, j);
	return ts_jsonw_finish(&w, len);
}

const char *ts_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Writes s with its invalid bytes as \xHH into out (room for 4 * n + 1), NUL-terminated. */
static void escape_invalid(const char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	char *o = out;
	while (p < end) {
		size_t len = *p != '\0' && *p < TS_ASCII_END ? 1
		             : *p >= TS_ASCII_END ? ts_utf8_next(p, (size_t)(end - p), NULL)
		                                  : 0;
		if (len > 0) {
			memcpy(o, p, len);
			o += len;
			p += len;
			continue;
		}
		*o++ = '\\';
		*o++ = 'x';
		*o++ = hex[*p >> 4];
		*o++ = hex[*p & 0xF];
		p++;
	}
	*o = '\0';
}

json_t *ts_json_text(const char *s)
{
	if (s == NULL)
		return json_null();
	size_t n = strlen(s);
	json_t *j = json_stringn(s, n);
	if (j != NULL)
		return j;
	char *esc = ts_malloc(n * HEX_ESCAPE_LEN + 1);
	escape_invalid(s, n, esc);
	j = json_string(esc);
	ts_free(esc);
	return j != NULL ? j : json_string(""); /* cannot happen: esc is ASCII or valid */
}

const char *ts_text_escape(ts_arena_t *arena, const char *s)
{
	if (s == NULL)
		return NULL;
	size_t n = strlen(s);
	if (ts_utf8_valid(s, n))
		return s;
	char *esc = ts_arena_alloc(arena, n * HEX_ESCAPE_LEN + 1);
	escape_invalid(s, n, esc);
	return esc;
}

void ts_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, ts_json_text(s)); /* never a member left out for NULL */
}
