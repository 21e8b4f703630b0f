/* UTF-8 validation for text that outside parties give us (names, addresses). */
#ifndef TS_CORE_UTF8_H
#define TS_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decodes one code point at s (NUL-terminated). Returns its length in bytes
 * (1..4), or 0 for an invalid sequence: truncated, overlong, a surrogate or
 * beyond U+10FFFF (RFC 3629 §3).
 */
size_t ts_utf8_decode(const unsigned char *s, uint32_t *cp);
/*
 * True when s[0..n) is valid UTF-8 (RFC 3629 §3) with no NUL byte: the text
 * jansson's json_string() accepts, so a value that passed this check can be
 * quoted in any answer or log line.
 */
bool ts_utf8_valid(const char *s, size_t n);
/* True for C0 and C1 controls and DEL. */
int ts_utf8_is_control(uint32_t cp);

#endif
