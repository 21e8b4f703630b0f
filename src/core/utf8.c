/* UTF-8 decoding, strict as RFC 3629 requires. */
#include "core/utf8.h"

#include <string.h>

/* Eight bytes at a time: each byte's high bit, and each byte's low bit. */
#define WORD_HIGH UINT64_C(0x8080808080808080)
#define WORD_LOW UINT64_C(0x0101010101010101)

bool ts_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		/* eight ASCII bytes, none of them NUL (the "has a zero byte" test of the
		 * word's bytes), pass without decoding: most of what is checked */
		uint64_t w = 0;
		if ((size_t)(end - p) >= sizeof w) {
			memcpy(&w, p, sizeof w);
			if ((w & WORD_HIGH) == 0 && ((w - WORD_LOW) & ~w & WORD_HIGH) == 0) {
				p += sizeof w;
				continue;
			}
		}
		if (*p - 1u < TS_ASCII_DEL) { /* 0x01-0x7f, most of what is checked: no decoding */
			p++;
			continue;
		}
		if (*p == '\0')
			return false;
		size_t len = ts_utf8_next(p, (size_t)(end - p), NULL);
		if (len == 0)
			return false;
		p += len;
	}
	return true;
}

size_t ts_utf8_printable_span(const char *s, size_t n)
{
	size_t i = 0;
	for (; n - i >= sizeof(uint64_t); i += sizeof(uint64_t)) {
		uint64_t w;
		memcpy(&w, s + i, sizeof w);
		/* all below 0x80; then none below the space (the zero-byte test of w - 0x20 in
		 * each byte) and none DEL (the zero-byte test of w ^ 0x7f) */
		uint64_t below = (w - TS_ASCII_SPACE * WORD_LOW) & ~w & WORD_HIGH;
		uint64_t del = w ^ (TS_ASCII_DEL * WORD_LOW);
		if ((w & WORD_HIGH) != 0 || below != 0 ||
		    ((del - WORD_LOW) & ~del & WORD_HIGH) != 0)
			break;
	}
	while (i < n && (unsigned char)s[i] >= TS_ASCII_SPACE && (unsigned char)s[i] < TS_ASCII_DEL)
		i++;
	return i;
}
