/* UTF-8 decoding, strict as RFC 3629 requires. */
#include "core/utf8.h"

bool ts_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
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
