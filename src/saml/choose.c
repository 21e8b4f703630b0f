/*
 * The SAML module's pure choices, kept apart so that the unit tests hold
 * them (tests/unit/test_saml_choose.c): where a signed-in person is sent,
 * and which role a chooser form named.
 */
#include <string.h>

#include "http/redirect.h"
#include "saml/authn.h"
#include "saml/web.h"

const char *ts__saml_relay_target(ts_arena_t *a, const char *relay, const char *const *allowed,
                                  int n)
{
	/* docs/product.md §6: RelayState deep links only to a same-origin path or an allow-listed
	 * origin; anything else is not refused, it lands on the portal (saml-contract) */
	struct ts_error e = {0};
	if (relay == NULL || relay[0] == '\0' || strlen(relay) > TS_SAML_RELAY_STATE_MAX ||
	    ts_http_redirect_check(a, relay, allowed, n, &e) != TS_ERR_OK)
		return TS_SAML_LANDING;
	return relay;
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
