/*
 * The SAML module's pure choices, kept apart so that the unit tests hold
 * them (tests/unit/test_saml_choose.c): where a signed-in person is sent,
 * and which role a chooser form named.
 */
#include <string.h>

#include "saml/authn.h"
#include "saml/web.h"

const char *ts__saml_relay_target(ts_arena_t *a, const char *relay, const char *const *allowed,
                                  int n)
{
	/* docs/saml.md: a RelayState of SAML Bindings §3.4.3's size at most */
	return ts_login_target(a, relay, TS_SAML_RELAY_STATE_MAX, allowed, n);
}

bool ts__saml_role_index(const char *s, size_t n, size_t *out)
{
	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	size_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (size_t)(*p - '0');
		if (v >= n)
			return false;
	}
	*out = v;
	return true;
}
