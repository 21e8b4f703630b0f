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
