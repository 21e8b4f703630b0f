/*
 * libFuzzer target for an issuer's JWK Set (ts_oidc_jwks_parse), fetched
 * from its jwks_uri and so outside input. The seeds fuzz/corpus/oidc_jwks/
 * hold RSA and EC keys of every curve, keys to skip (use "enc", "oct",
 * "OKP") and key_ops. Besides crashes, leaks and sanitizer reports, it
 * aborts when a refusal is anything but BAD_REQUEST or TOO_LARGE or leaves
 * *out set, when an accepted set holds more than TS_OIDC_JWKS_KEYS_MAX
 * keys, or when a set verifies a token signed by a key no seed holds (an
 * RS256 and an ES256 token, with and without a kid, the keys' private halves
 * long gone), or answers anything but UNAUTHORIZED for them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "oidc/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tokens[] = {
        "eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0."
        "BUCbmicZqYdzUAwzdxBywn8PR0Isx_"
        "HKdfq9tL7YN3G96oMEunVwf6MYVNdDUT141bfn5k8hX5lwVR5X8yJBKAVfr9oJ-"
        "xzq9h7sjIBJEo9HLroA2fPJruHONrwSrJOvkLiOh3YDM-detnZTRO481m5Mfg_CtZW5VuN2fSjzNlb_"
        "ej9FN2rqKVxTIIkFMVMYsc_kyra1YHffhdvarSTlG8FIG0WsGBBSB6b_-O8_pbY_3vGkKgKUbKjGSN_ccm3o3Hpnn-"
        "igGjaq00-OF6Vy3CUhEGLGQnah6FTBo12hlTC-7bo_IRIgy_80N_ztyGP-AYaEto4ZRTDICnRRX0RNXg",
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0."
        "EaZsD6FiXmS0NzO9UDqKWtmPIitgY9s68SqoJzIZxUsNkgmby29XFk8k-"
        "spNeyXk7Xlb8592eKdqYMN7LqoO9VHPW5TUyxz99XhNdVqEZqbe7NsuDsXyhanrHR0HEI5vEEJYEHZ02uS72zRrXZM"
        "258q5yQr77wi_Ea5Rt4P5Bt8UlVIMES0VuHNTSmfoT4u_"
        "bWYKuw9vwV0XfRAy0582XXbaQkDZz8jPzxmrDQaTlnHI6iKjRSqLvfn9RmjetasrMnwzvyduf3q0DO4-"
        "a85ajf5tthxbrBx4YLXp4XiMbpuyXRUKYeR8mWjMyV3vOxKNhE_7cYept257iJa_nCnliA",
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImUxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0."
        "0BRG6Ib4wIlfRTsOZEE1TxRjrN9e3S-4WHC7hDvQ2YfpCA_NldpGPpAOgvzZfrbJq8GSvcdO0gSHv7BVGIVBOA",
        "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0."
        "oruyJ7BqH4OXFchAQDsFkehMFwaNgPI7dn0Yh5bwEhVzoKLrI3Iwkm_DkCCaj7Wk4uYxPF3u5Mj1wU-offYotA",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool inited;
	if (!inited) {
		if (ts_crypto_init() != TS_ERR_OK)
			abort();
		inited = true;
	}
	struct ts_oidc_jwks *k = (struct ts_oidc_jwks *)1;
	struct ts_error e = {0};
	ts_err rc = ts_oidc_jwks_parse((const char *)data, size, &k, &e);
	if (rc != TS_ERR_OK) {
		if ((rc != TS_ERR_BAD_REQUEST && rc != TS_ERR_TOO_LARGE) || k != NULL)
			abort();
		return 0;
	}
	if (k == NULL || ts_oidc_jwks_count(k) > TS_OIDC_JWKS_KEYS_MAX)
		abort();
	ts_arena_t *a = ts_arena_new();
	static const enum ts_oidc_alg allowed[] = {TS_OIDC_RS256, TS_OIDC_ES256};
	for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		struct ts_oidc_jws j;
		if (ts_oidc_jws_parse(a, tokens[i], strlen(tokens[i]), &j, &e) != TS_ERR_OK ||
		    ts_oidc_jws_verify(&j, k, allowed, 2, NULL, 0, NULL, &e) != TS_ERR_UNAUTHORIZED)
			abort();
	}
	ts_arena_free(&a);
	ts_oidc_jwks_free(k);
	return 0;
}
