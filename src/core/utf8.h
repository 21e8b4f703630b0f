/*
 * UTF-8 for text that outside parties give us (names, addresses, JSON
 * strings): the one place where a sequence is judged valid (RFC 3629 §3, §4)
 * and where a code point is encoded. Every parser and writer uses it.
 */
#ifndef TS_CORE_UTF8_H
#define TS_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ASCII (RFC 20): C0 controls are below the space, DEL ends it; C1 controls are U+0080-U+009F. */
#define TS_ASCII_SPACE 0x20
#define TS_ASCII_DEL 0x7f
#define TS_ASCII_END 0x80
#define TS_C1_LAST 0x9f

/* The longest sequence (RFC 3629 §3). */
#define TS_UTF8_SEQ_MAX 4

/* Code points (RFC 3629 §3): the last one, and the UTF-16 surrogates no sequence may encode. */
#define TS_UNICODE_MAX 0x10ffff
#define TS_UTF16_HIGH_FIRST 0xd800 /* RFC 2781 §2.2: high (leading) surrogates */
#define TS_UTF16_HIGH_LAST 0xdbff
#define TS_UTF16_LOW_FIRST 0xdc00 /* low (trailing) surrogates */
#define TS_UTF16_LOW_LAST 0xdfff
/* The code point of a high and a low surrogate (RFC 2781 §2.2). */
#define TS_UTF16_PAIR(hi, lo)                                     \
	(0x10000 + (((uint32_t)(hi)-TS_UTF16_HIGH_FIRST) << 10) + \
	 ((uint32_t)(lo)-TS_UTF16_LOW_FIRST))

/*
 * Length (1 to 4) of the valid UTF-8 sequence at s, of which at most n >= 1
 * bytes may be read, or 0 when s does not start one: truncated (by n or by a
 * byte that is not a continuation, so a NUL-terminated string may be passed
 * with n = 4), overlong, a UTF-16 surrogate or beyond U+10FFFF (RFC 3629 §3).
 * A byte below 0x80, NUL included, is a sequence of one. When cp is not NULL
 * the code point goes there. Inline: the JSON parser and writer call it on
 * every byte above 0x7F.
 */
static inline size_t ts_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		if (cp != NULL)
			*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if (i >= n || (s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > TS_UNICODE_MAX || (v >= TS_UTF16_HIGH_FIRST && v <= TS_UTF16_LOW_LAST))
		return 0;
	if (cp != NULL)
		*cp = v;
	return len;
}

/*
 * Writes code point cp (at most U+10FFFF, no surrogate) as UTF-8 into out,
 * which has room for 4 bytes; returns the number of bytes written (RFC 3629 §3).
 */
static inline size_t ts_utf8_encode(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decodes one code point at s (NUL-terminated). Returns its length in bytes
 * (1..4), or 0 for an invalid sequence: truncated, overlong, a surrogate or
 * beyond U+10FFFF (RFC 3629 §3). Inline, like ts_utf8_next: form and HTML
 * parsers call it on every character (a SAML form is 6 KiB of them).
 */
static inline size_t ts_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	/* a NUL ends the string; ts_utf8_next stops at it inside a sequence too */
	return s[0] == '\0' ? 0 : ts_utf8_next(s, TS_UTF8_SEQ_MAX, cp);
}
/*
 * True when s[0..n) is valid UTF-8 (RFC 3629 §3) with no NUL byte: the text
 * jansson's json_string() accepts, so a value that passed this check can be
 * quoted in any answer or log line.
 */
bool ts_utf8_valid(const char *s, size_t n);
/* The length of s[0..n)'s leading run of printable ASCII (U+0020-U+007E), eight bytes at a time. */
size_t ts_utf8_printable_span(const char *s, size_t n);
/* True for C0 and C1 controls and DEL. */
static inline int ts_utf8_is_control(uint32_t cp)
{
	return cp < TS_ASCII_SPACE || (cp >= TS_ASCII_DEL && cp <= TS_C1_LAST);
}

#endif
