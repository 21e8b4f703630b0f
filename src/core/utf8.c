/* UTF-8 decoding, strict as RFC 3629 requires. */
#include "core/utf8.h"

size_t ts_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	/* a NUL ends the string; ts_utf8_next stops at it inside a sequence too */
	return s[0] == '\0' ? 0 : ts_utf8_next(s, TS_UTF8_SEQ_MAX, cp);
}

int ts_utf8_is_control(uint32_t cp)
{
	return cp < TS_ASCII_SPACE || (cp >= TS_ASCII_DEL && cp <= TS_C1_LAST);
}

bool ts_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		if (*p == '\0')
			return false;
		size_t len = ts_utf8_next(p, (size_t)(end - p), NULL);
		if (len == 0)
			return false;
		p += len;
	}
	return true;
}
