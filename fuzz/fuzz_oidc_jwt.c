/*
 * libFuzzer target for what an OpenID provider's token endpoint hands back:
 * an ID token in compact JWS form, through ts_oidc_jws_parse,
 * ts_oidc_jws_verify (against the JWKS of tests/unit/fixtures/oidc/: one
 * RSA-2048 key and EC keys on P-256, P-384 and P-521; and that directory's
 * client secret for HS*) and ts_oidc_idtoken_check. The seeds
 * fuzz/corpus/oidc_jwt/ are that directory's tokens (made with PyJWT by its
 * make.py), so the verifier's accepting path is reached. Besides crashes,
 * leaks and sanitizer reports, it aborts when:
 *   - a refusal of the parser is anything but BAD_REQUEST or TOO_LARGE, or
 *     leaves *out filled; an accepted token lacks a header or payload
 *     object or an "alg", or its alg disagrees with its name;
 *   - the verifier answers anything but OK, FORBIDDEN or UNAUTHORIZED; it
 *     accepts "none" or an algorithm off the list; or a token it accepts
 *     still verifies with one byte of its signed text changed;
 *   - the claim checks accept a token whose iss, aud or nonce is not the
 *     expected one, or refuse without naming a check (or name one on success).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "oidc/idtoken.h"
#include "oidc/jose.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "6GbgXkQFJZ1vR3c0kq5oA8wY2mT9sLpE4dUhNiCj6GbgXkQFJZ1vR3c0kq5oA8wY"
#define NOW_MS INT64_C(1800000000000)

/* the public halves of the keys that signed the seeds */
static const char jwks_text[] =
        "{\"keys\":["
        "{\"kty\":\"RSA\",\"kid\":\"r1\",\"n\":"
        "\"qOdE35njigmjhLp4pHfbb1ocOwiR8e1Tg5QsdMzHJLYXvlvBbcvZxjLVORZB5yNpeW2oC9DEgxh_"
        "a6pIHGtQpkz9OP0qIFbDlBoKji578VzOXemXSytoV7NYahm4iJEmvUPFIqI7oChpVDtseSEUsbWq_"
        "Twrf9uaRrmT19wPp0Gu6MH-eEiIc43yvn-oOwY8UNCa5Iz-oZ5bQ7_q2FjRw2MsscA8ER7j0Odq-"
        "XJlMZdaN6vnqJPQjjf-6mzsRfEWfI9-BdEW8G_4bDmyCR5EgPHKf94DtnQRqCex9aSC2pdhQq6OvCUXdoGt-"
        "b3SbRqCvP6SrqFEBivMDL9ziCEvuw\",\"e\":\"AQAB\"},"
        "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":\"wsa1_"
        "PozSwkXz71ePol3iGXROZ7Abs1dQ5pPSpY9lp8\",\"y\":\"HCEJlVm-_"
        "9Gryq08rjtUG5kCUCRemxvoAmVba9iUij4\"},"
        "{\"kty\":\"EC\",\"kid\":\"e384\",\"crv\":\"P-384\",\"x\":\"RfrdqiNibeouCApoMYP0JGl-fpqa_"
        "2q6ppCvmZSE3Amkx_gD4qjbfptEsRDbhMEZ\",\"y\":"
        "\"7tO1QwQwEoRjFZvbEUiUysCuYGe46xShqkfsSDX7DwX6hJ4Gk-4feIH6ewTlBrkE\"},"
        "{\"kty\":\"EC\",\"kid\":\"e521\",\"crv\":\"P-521\",\"x\":\"AN2pkvZpplOcN6ki6XdE_"
        "R86hDAKFcqiHyKs6cDf8hBcQpeCt6t56CGbgv0aiRicTreLn6EvgwiBCAbzaeuT_FjW\",\"y\":"
        "\"AVnMbvhJ3NLO-LgKB29_bDl9FGC1FruA4T62knHXca-k38m-2g9WypKIxmCEY1v8cU9IFx-"
        "R6U3EAg6wFgLz7l82\"}]}";

static struct ts_oidc_jwks *jwks;

/* every algorithm, and "none" (which must be refused all the same) */
static const enum ts_oidc_alg allowed[] = {
        TS_OIDC_RS256, TS_OIDC_RS384, TS_OIDC_RS512,     TS_OIDC_PS256, TS_OIDC_PS384,
        TS_OIDC_PS512, TS_OIDC_ES256, TS_OIDC_ES384,     TS_OIDC_ES512, TS_OIDC_HS256,
        TS_OIDC_HS384, TS_OIDC_HS512, TS_OIDC_ALG_NONE_,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (ts_crypto_init() != TS_ERR_OK ||
	    ts_oidc_jwks_parse(jwks_text, strlen(jwks_text), &jwks, NULL) != TS_ERR_OK ||
	    ts_oidc_jwks_count(jwks) != 4)
		abort();
	return 0;
}

static bool listed(enum ts_oidc_alg alg)
{
	for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (allowed[i] == alg)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_arena_t *a = ts_arena_new();
	struct ts_oidc_jws j;
	struct ts_error e = {0};
	ts_err rc = ts_oidc_jws_parse(a, (const char *)data, size, &j, &e);
	if (rc != TS_ERR_OK) {
		if ((rc != TS_ERR_BAD_REQUEST && rc != TS_ERR_TOO_LARGE) || j.header || j.payload)
			abort();
		goto out;
	}
	if (!json_is_object(j.header) || !json_is_object(j.payload) || j.alg_name == NULL ||
	    ts_oidc_alg_from_name(j.alg_name) != j.alg || j.signing_input != (const char *)data ||
	    j.signing_input_len >= size)
		abort();
	bool unknown = false;
	rc = ts_oidc_jws_verify(&j, jwks, allowed, sizeof allowed / sizeof allowed[0], SECRET,
	                        strlen(SECRET), &unknown, &e);
	if (rc != TS_ERR_OK && rc != TS_ERR_FORBIDDEN && rc != TS_ERR_UNAUTHORIZED)
		abort();
	if (rc == TS_ERR_OK) {
		if (j.alg == TS_OIDC_ALG_NONE_ || !listed(j.alg) || unknown)
			abort();
		/* the signature covers every byte of the signed text */
		char *copy = ts_arena_strndup(a, j.signing_input, j.signing_input_len);
		struct ts_oidc_jws changed = j;
		changed.signing_input = copy;
		for (size_t i = 0; i < j.signing_input_len; i += j.signing_input_len / 4 + 1) {
			copy[i] ^= 1;
			if (ts_oidc_jws_verify(&changed, jwks, allowed,
			                       sizeof allowed / sizeof allowed[0], SECRET,
			                       strlen(SECRET), NULL, NULL) == TS_ERR_OK)
				abort();
			copy[i] ^= 1;
		}
	}
	const struct ts_oidc_idtoken_expect x = {.issuer = "https://op.example.com",
	                                         .client_id = "0oa1client",
	                                         .nonce = "n-0S6_WzA2Mj",
	                                         .now_ms = NOW_MS};
	struct ts_oidc_claims c;
	enum ts_oidc_check failed = TS_OIDC_CHECK__COUNT;
	rc = ts_oidc_idtoken_check(a, &j, &x, &c, &failed, &e);
	if (rc == TS_ERR_OK) {
		if (failed != TS_OIDC_CHECK_NONE || !c.iss || strcmp(c.iss, x.issuer) != 0 ||
		    !c.nonce || strcmp(c.nonce, x.nonce) != 0 || !c.sub || !*c.sub ||
		    strlen(c.sub) > TS_OIDC_SUB_MAX || !c.aud_first || c.exp_ms + 60000 <= NOW_MS ||
		    c.all != j.payload)
			abort();
	} else if (rc != TS_ERR_UNAUTHORIZED || failed == TS_OIDC_CHECK_NONE ||
	           failed >= TS_OIDC_CHECK__COUNT || c.sub != NULL) {
		abort();
	}
out:
	ts_arena_free(&a);
	return 0;
}
