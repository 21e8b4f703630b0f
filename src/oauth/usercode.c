/* User codes (RFC 8628 §6.1): drawn from 20 consonants, typed in any case with any dashes. */
#include "oauth/internal.h"

#include <string.h>

void ts__oauth_user_code_new(char out[TS__OAUTH_USER_CODE_LEN + 1])
{
	static const char alphabet[] = TS__OAUTH_USER_CODE_ALPHABET;
	const unsigned n = sizeof alphabet - 1;
	/* a byte below the largest multiple of 20 under 256 is uniform modulo 20 */
	const unsigned limit = 256 - 256 % n;
	size_t got = 0;
	while (got < TS__OAUTH_USER_CODE_LEN) {
		unsigned char b[16];
		ts_random_bytes(b, sizeof b);
		for (size_t i = 0; i < sizeof b && got < TS__OAUTH_USER_CODE_LEN; i++)
			if (b[i] < limit)
				out[got++] = alphabet[b[i] % n];
	}
	out[TS__OAUTH_USER_CODE_LEN] = '\0';
}

bool ts__oauth_user_code_normalise(const char *in, char out[TS__OAUTH_USER_CODE_LEN + 1])
{
	size_t n = 0;
	out[0] = '\0';
	if (in == NULL || strlen(in) > TS__OAUTH_USER_CODE_INPUT_MAX)
		return false;
	for (const char *p = in; *p != '\0'; p++) {
		char ch = *p;
		if (ch == '-' || ch == ' ')
			continue;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (strchr(TS__OAUTH_USER_CODE_ALPHABET, ch) == NULL ||
		    n == TS__OAUTH_USER_CODE_LEN) {
			out[0] = '\0';
			return false;
		}
		out[n++] = ch;
	}
	out[n] = '\0';
	if (n != TS__OAUTH_USER_CODE_LEN) {
		out[0] = '\0';
		return false;
	}
	return true;
}

const char *ts__oauth_user_code_display(ts_arena_t *a, const char *code)
{
	return ts_arena_printf(a, "%.4s-%.4s", code, code + 4);
}
