/*
 * ID token claim checks (idtoken.h), OpenID Connect Core 1.0 §3.1.3.7. Like
 * ts_directory_signin_evaluate: no I/O, each check in the order the header
 * gives, the first failure named. Each claim is read with its JSON type
 * (a "sub" that is a number, an "exp" that is a string, an "aud" array
 * holding an object are refusals, not coercions), so that no two readers
 * of one token can disagree about what it says.
 */
#include "oidc/idtoken.h"

#include <math.h>
#include <string.h>

#include "core/crypto.h"
#include "core/timeutil.h"

static const char *const check_names[] = {
#define TS_OIDC_CHECK_NAME(e, name) name,
        TS_OIDC_CHECK_TABLE(TS_OIDC_CHECK_NAME)
#undef TS_OIDC_CHECK_NAME
};

const char *ts_oidc_check_name(enum ts_oidc_check c)
{
	return (size_t)c < TS_OIDC_CHECK__COUNT ? check_names[c] : check_names[TS_OIDC_CHECK_NONE];
}

enum ts_oidc_check ts_oidc_jose_check(ts_err rc, bool parsing, bool unknown_kid)
{
	if (rc == TS_ERR_OK)
		return TS_OIDC_CHECK_NONE;
	if (parsing)
		return TS_OIDC_CHECK_MALFORMED;
	if (rc == TS_ERR_FORBIDDEN)
		return TS_OIDC_CHECK_ALGORITHM;
	if (rc == TS_ERR_UNAUTHORIZED)
		return unknown_kid ? TS_OIDC_CHECK_KEY_UNKNOWN : TS_OIDC_CHECK_SIGNATURE;
	return TS_OIDC_CHECK_SIGNATURE;
}

/* A refusal: the check, and a message for the log. */
struct refusal {
	enum ts_oidc_check check;
	const char *why;
};

/* RFC 7519 §2 NumericDate: seconds since the epoch, integer or real, as ms; false if not one. */
static bool numeric_date(const json_t *v, int64_t *ms)
{
	if (json_is_integer(v)) {
		json_int_t s = json_integer_value(v);
		if (s < 0 || s > TS_OIDC_TIME_MAX_S)
			return false;
		*ms = (int64_t)s * TS_MS_PER_S;
		return true;
	}
	if (json_is_real(v)) {
		double s = json_real_value(v);
		if (!(s >= 0 && s <= (double)TS_OIDC_TIME_MAX_S))
			return false;
		*ms = (int64_t)floor(s * (double)TS_MS_PER_S);
		return true;
	}
	return false;
}

/* Core §3.1.3.7 steps 3 and 4: aud holds the client; several audiences need azp. */
static bool audience(const json_t *aud, const char *client_id, struct ts_oidc_claims *c,
                     size_t *n_aud)
{
	if (json_is_string(aud)) {
		c->aud_first = json_string_value(aud);
		*n_aud = 1;
		return strcmp(c->aud_first, client_id) == 0;
	}
	if (!json_is_array(aud) || json_array_size(aud) == 0)
		return false;
	bool found = false;
	size_t i;
	const json_t *v;
	json_array_foreach(aud, i, v)
	{
		if (!json_is_string(v))
			return false;
		if (strcmp(json_string_value(v), client_id) == 0)
			found = true;
	}
	c->aud_first = json_string_value(json_array_get(aud, 0));
	*n_aud = json_array_size(aud);
	return found;
}

/* The checks of idtoken.h, in order; NONE when every one holds. */
static struct refusal evaluate(const json_t *p, const struct ts_oidc_idtoken_expect *x,
                               struct ts_oidc_claims *c)
{
	int64_t skew = x->skew_ms > 0 ? x->skew_ms : TS_OIDC_SKEW_DEFAULT_MS;
	int64_t max_age = x->max_age_ms > 0 ? x->max_age_ms : TS_OIDC_MAX_AGE_DEFAULT_MS;
	int64_t now = x->now_ms;

	/* step 2: the issuer identifier MUST exactly match */
	const json_t *v = json_object_get(p, "iss");
	if (!json_is_string(v) || x->issuer == NULL || strcmp(json_string_value(v), x->issuer) != 0)
		return (struct refusal){TS_OIDC_CHECK_ISSUER, "iss is not the configured issuer"};
	c->iss = json_string_value(v);

	/* step 3: the client MUST be an audience */
	size_t n_aud = 0;
	if (x->client_id == NULL || !audience(json_object_get(p, "aud"), x->client_id, c, &n_aud))
		return (struct refusal){TS_OIDC_CHECK_AUDIENCE, "aud does not name the client"};

	/* step 4 (as mod_auth_openidc: required with several audiences), and azp when present */
	v = json_object_get(p, "azp");
	if (v == NULL && n_aud > 1)
		return (struct refusal){TS_OIDC_CHECK_AUTHORIZED_PARTY,
		                        "several audiences and no azp"};
	if (v != NULL) {
		if (!json_is_string(v) || strcmp(json_string_value(v), x->client_id) != 0)
			return (struct refusal){TS_OIDC_CHECK_AUTHORIZED_PARTY,
			                        "azp is not the client"};
		c->azp = json_string_value(v);
	}

	/* step 9: the current time MUST be before exp (with the skew) */
	if (!numeric_date(json_object_get(p, "exp"), &c->exp_ms))
		return (struct refusal){TS_OIDC_CHECK_EXPIRED,
		                        "exp is missing or not a NumericDate"};
	if (now >= c->exp_ms + skew)
		return (struct refusal){TS_OIDC_CHECK_EXPIRED, "the token has expired"};

	/* RFC 7519 §4.1.5: not before nbf */
	v = json_object_get(p, "nbf");
	int64_t nbf_ms = 0;
	if (v != NULL && !numeric_date(v, &nbf_ms))
		return (struct refusal){TS_OIDC_CHECK_NOT_BEFORE, "nbf is not a NumericDate"};
	if (v != NULL && nbf_ms > now + skew)
		return (struct refusal){TS_OIDC_CHECK_NOT_BEFORE, "the token is not valid yet"};

	/* step 10: iat limits how long ago the token may have been issued */
	if (!numeric_date(json_object_get(p, "iat"), &c->iat_ms))
		return (struct refusal){TS_OIDC_CHECK_ISSUED_AT,
		                        "iat is missing or not a NumericDate"};
	if (c->iat_ms > now + skew)
		return (struct refusal){TS_OIDC_CHECK_ISSUED_AT, "iat is in the future"};
	if (c->iat_ms < now - max_age - skew)
		return (struct refusal){TS_OIDC_CHECK_ISSUED_AT, "iat is too old"};

	/* step 11: the nonce sent MUST come back, and a nonce claim is always a string */
	v = json_object_get(p, "nonce");
	if (v != NULL && !json_is_string(v))
		return (struct refusal){TS_OIDC_CHECK_NONCE, "nonce is not a string"};
	c->nonce = json_string_value(v);
	if (x->nonce != NULL && (c->nonce == NULL || !ts_secret_equal(c->nonce, x->nonce)))
		return (struct refusal){TS_OIDC_CHECK_NONCE,
		                        "nonce is missing or not the one sent"};

	/* Core §2: sub is REQUIRED, at most 255 ASCII characters */
	v = json_object_get(p, "sub");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > TS_OIDC_SUB_MAX)
		return (struct refusal){TS_OIDC_CHECK_SUBJECT,
		                        "sub is missing, empty, not a string or too long"};
	c->sub = json_string_value(v);

	/* Core §5.1: email is a string, email_verified a boolean; some providers (Amazon
	 * Cognito) send the boolean as the string "true" or "false", which is read as such */
	v = json_object_get(p, "email");
	if (v != NULL && !json_is_string(v))
		return (struct refusal){TS_OIDC_CHECK_MALFORMED, "email is not a string"};
	c->email = json_string_value(v);
	v = json_object_get(p, "email_verified");
	const char *vs = json_string_value(v);
	if (vs != NULL && (strcmp(vs, "true") == 0 || strcmp(vs, "false") == 0))
		c->email_verified = strcmp(vs, "true") == 0;
	else if (v != NULL && !json_is_boolean(v))
		return (struct refusal){TS_OIDC_CHECK_MALFORMED, "email_verified is not a boolean"};
	else
		c->email_verified = json_is_true(v);
	return (struct refusal){TS_OIDC_CHECK_NONE, NULL};
}

ts_err ts_oidc_idtoken_check(ts_arena_t *a, const struct ts_oidc_jws *j,
                             const struct ts_oidc_idtoken_expect *x, struct ts_oidc_claims *out,
                             enum ts_oidc_check *failed, struct ts_error *e)
{
	memset(out, 0, sizeof *out);
	struct ts_oidc_claims c = {0};
	struct refusal r = json_is_object(j->payload)
	                           ? evaluate(j->payload, x, &c)
	                           : (struct refusal){TS_OIDC_CHECK_MALFORMED,
	                                              "the payload is not a JSON object"};
	*failed = r.check;
	if (r.check != TS_OIDC_CHECK_NONE)
		return TS_FAIL(e, TS_ERR_UNAUTHORIZED, "ID token refused (%s): %s",
		               ts_oidc_check_name(r.check), r.why);
	c.all = j->payload;
	*out = c;
	return TS_ERR_OK;
}
