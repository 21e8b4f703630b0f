/* UTF-8 decoding, strict as RFC 3629 requires. */
#include "core/utf8.h"

#include <string.h>

size_t ts_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return c ? 1 : 0;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL of a truncated sequence */
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

int ts_utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool ts_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		if (*p < 0x80) {
			if (*p == '\0')
				return false;
			p++;
			continue;
		}
		/* ts_utf8_decode stops at a NUL, so a sequence cut by n is checked on a copy */
		unsigned char seq[5] = {0};
		size_t avail = (size_t)(end - p) < 4 ? (size_t)(end - p) : 4;
		memcpy(seq, p, avail);
		uint32_t cp = 0;
		size_t len = ts_utf8_decode(seq, &cp);
		if (len == 0 || len > avail)
			return false;
		p += len;
	}
	return true;
}
