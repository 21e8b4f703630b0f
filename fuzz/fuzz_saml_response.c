/*
 * libFuzzer target for the SAML Response verifier (src/saml/response.h):
 * the input is the decoded XML, base64-encoded here as the ACS form would
 * carry it. The seeds (fuzz/corpus/saml_response/) are responses signed and
 * encrypted with xmlsec for the throwaway keys below, so mutations start
 * from documents that pass every check and reach the signature, decryption
 * and assertion code, not only the parser. Whatever the input, the verdict
 * must keep the header's promises: OK with a signed assertion and its
 * fields, or UNAUTHORIZED naming a check with nothing filled in; anything
 * else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "saml/response.h"

/* Fuzz-only key material, generated for this target and used nowhere else. */
static const char idp_cert[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIDIzCCAgugAwIBAgIUF3Q928KBNvlKR2jG7Ze9cHkWnUkwDQYJKoZIhvcNAQEL\n"
                               "BQAwIDEeMBwGA1UEAwwVZnV6ei1pZHAuZXhhbXBsZS50ZXN0MCAXDTI2MTIwNzEz\n"
                               "MjMzM1oYDzIxMjYxMTEzMTMyMzMzWjAgMR4wHAYDVQQDDBVmdXp6LWlkcC5leGFt\n"
                               "cGxlLnRlc3QwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDZnF9/xY7C\n"
                               "sz7/ySNfv++m9cTxOHLXvNfxiuvsyVSIRx+HHYgj8WKyk+EdUYMyWGLkWrBFOoDs\n"
                               "V31cuWPN9i+zfEYqZF8IICnr6m2b5eofqBDbRLyEEmQK6qx6NKoOGmcZMzgGt5B8\n"
                               "vZu2Z9/Y1HTE9zyUFGgJNVGSDak7BNg2EWum8acFd27aLY9X+Yg1aK7GOUvZYANu\n"
                               "Gs0ar/IQPq5NRY+ZJgLEEW7XA257cXFSWXNGj60o3zsNDTu94huNkQLfy9hDoexu\n"
                               "aymJt/i0bGtVWxh7pHkMF6bcFsooLgGfwAGoFw8dVrjjEHa54CiAQyf1b2AP//gp\n"
                               "rGsbE2HjxRVZAgMBAAGjUzBRMB0GA1UdDgQWBBQSIibIO+B2XvdeQYiKoqeDQXcj\n"
                               "OjAfBgNVHSMEGDAWgBQSIibIO+B2XvdeQYiKoqeDQXcjOjAPBgNVHRMBAf8EBTAD\n"
                               "AQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAeNXfl2cerOfqA5+4outNL46OEtmpz6fGT\n"
                               "Vnl9DhaHZ78igBxdRDMFemWAUk1ef6Y1ANeOHFq9+awvbvn5fIUkShsqtRcW0LpE\n"
                               "3FYWM/3bdDJJAyEJPAelBTVdfWJx8E5RjYHl9TG1QLqucWiWXUnhx1/iwUguai8d\n"
                               "5GBAf7n/BCqWnmKiz79zMftdH7p2g2w94ZyzV8OolAPIahJBAtVRzigbuajMQZhE\n"
                               "BDDVJz5tcilczAGFawoallNh4FEFbY0BJpQ6XpHa446iexEQDUbxIOQ4q/iJ9TwU\n"
                               "Mv+yGQKnLwSnE9uXI8oOeR5GPPitiEJmfsBfoMvRYjnoPM4THY3n\n"
                               "-----END CERTIFICATE-----\n";
static const char sp_key[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCZT46QWMdHaJcc\n"
                             "pyr35N0CY8JnjxfNg3Pl+ZahZ8wCV8VBilEYrMambyCCIhwTZxoqG3MR3z7eC1dF\n"
                             "Ju4yojnXL9rYTSfehUfqo5NMWVgPBUtIpBIHb11bOPwuHq63o8/mNchv2PUOZV0C\n"
                             "cyIpJXWLOgnEeApp4PNFpBwoDREgqpiMVBFaPMFwfo1p8dQgKqeevo3Toen90w9U\n"
                             "xVaXzILFjIIDKkSOb+finkkm+nZZEviDpi1hgA0q0BjxH7drG2eLKsd9nt76pUud\n"
                             "k9gQjUh42th5HWwb+eBfqGJoWwKkxstUctz44bB3fHYPM4YwSRYtBXIHdS7eKvK9\n"
                             "en8Yf+GnAgMBAAECggEAMasElN8uMIRB8JZ35TfQIiYPpV1GaN5dffQOSNxHy7qD\n"
                             "vWgCPew7r0/xSDekwOR2JY4fCXs58tXZwB2MrfrAomZukATvFbg4RFwaLHIFhVhB\n"
                             "u5bsAFyj8hnUGVz3XadEg2CJPzMasT9FkrWaK5pnKmPzJiN9vC+UoMs6E/+nvN0H\n"
                             "hxj+Q0amDqboyIXSIvdflz8V/LsBoNvTME0BppcgSuxKNt0Kf6TkjtVsdkkKfzjP\n"
                             "K3OYqDiDeDIvJy/ksWDqpAKe6LG8sZMQnaSE3S1O2DqRJBzLKePZqAeJY8by/PhY\n"
                             "NdS9z3dWmGgOfqsuci2JfRhnB8eyFEDByIMjk1kBgQKBgQDLJNj4IUbasOcJ+5nq\n"
                             "lXypOQpVgmgDTuhCA6tL8yjJ8Epz4dND3Z9pdD+ZdrwNgJUJ2L9TJ/Aut6d2GTd8\n"
                             "Wb4WaNI7UbKqkmNzMWH8h+0+bHZksrBzZkWHiOFvMtUv6CEwl4gY9/nj7NB17Uwr\n"
                             "VSkxKYlYDUMmiqDFtn6H2083xQKBgQDBM2McvW9TfUPkFsa17VaSYXnMuGyoa9Ah\n"
                             "eZyfVphzKmAWlJ3JXRiYC0iOwGHlkBvB3A/k4rxKqtfokOzpECOu1QT6xOXGBOh/\n"
                             "rC5a1omEGQLqoKOTWR3UWukUQRf44xfw/lo6NeU3zmbabsK8T4BnrsWNiDJ+Ddzd\n"
                             "PbaQJLseewKBgETU4WeB7v4evsoVJFvl9u1n1GaQ3ylvzSbBE4OSipmR/8gwFmOC\n"
                             "bodOylX3c1Sn4tgJRxqoB6vssqNDfBd4WP5C2ikbT4yYOXZIn0jvzaU/HwaTvVH8\n"
                             "r0ZzTN9eu/mVj9llHspHC7b9AM1UcGCmZGSyDEV3iO9APaWAZnMmDjt5AoGATNs7\n"
                             "Z1h4q/beBiOFYyQKV2sNgAIxv4I8JsTxKHXTaaUG2pS+fDdbrEh40cj4aNE+KY14\n"
                             "iS4lh3KVN4BHrqNr/oXhWDzxxyd2sit1uU81H2avwVSsHdbKxgpwRE1s0ubMRGN6\n"
                             "00NTbzLdubFsKGtcAmMFVbtDkt/C6AQ/1vG1uncCgYA5pcZgRFM7IytG2r944pcD\n"
                             "tP9+8XGa9VPcj/w5BSHwg3nY6K+ezry6E9xkxA7gx2KfrNwVfdcMVo1KZrsv6RkY\n"
                             "4MNngkmlMnsgfHwJR41m4sIY77YlhYWosidPuEPN8ItaSVuAK12yW6/QnFOM/eZ5\n"
                             "rU7OQv0saZ0lLTCDs4Fpmw==\n"
                             "-----END PRIVATE KEY-----\n";

#define IDP "https://idp.example.test/exk1"
#define SP "https://sp.example.test/saml/123/metadata"
#define ACS "https://sp.example.test/saml/123/acs"
#define NOW INT64_C(1796000000000) /* the seeds' issue instant */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct ts_error e = {0};
	if (ts_saml_init(&e) != TS_ERR_OK)
		abort();
	return 0;
}

static char *b64(ts_arena_t *a, const uint8_t *in, size_t n)
{
	static const char tab[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = ts_arena_alloc(a, (n + 2) / 3 * 4 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = 0;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > TS_SAML_RESPONSE_MAX + 1)
		return 0;
	static const char *const certs[] = {idp_cert};
	static const char *const keys[] = {sp_key};
	const struct ts_saml_verify_config cfg = {.sp_entity_id = SP,
	                                          .acs_url = ACS,
	                                          .idp_entity_id = IDP,
	                                          .idp_certs_pem = certs,
	                                          .n_idp_certs = 1,
	                                          .sp_keys_pem = keys,
	                                          .n_sp_keys = 1,
	                                          .now_ms = NOW};
	ts_arena_t *a = ts_arena_new();
	const char *v = b64(a, data, size);
	struct ts_saml_assertion out;
	enum ts_saml_check failed = TS_SAML__CHECKS;
	struct ts_error e = {0};
	ts_err rc = ts_saml_response_verify(a, v, strlen(v), &cfg, &out, &failed, &e);
	if (rc == TS_ERR_OK) {
		if (failed != TS_SAML_CHECK_NONE || !out.name_id || !*out.name_id ||
		    !out.assertion_id || !out.response_id || strcmp(out.issuer, IDP) != 0 ||
		    !(out.assertion_signed || out.response_signed) ||
		    out.n_attributes > TS_SAML_ATTRIBUTES_MAX ||
		    out.not_on_or_after_ms <= NOW - TS_SAML_SKEW_DEFAULT_MS)
			abort();
		for (size_t i = 0; i < out.n_roles; i++)
			if (!strstr(out.roles[i].role_arn, ":role/") ||
			    !strstr(out.roles[i].provider_arn, ":saml-provider/"))
				abort();
		for (size_t i = 0; i < out.n_attributes; i++)
			if (out.attributes[i].n_values > TS_SAML_VALUES_MAX ||
			    ts_saml_attribute(&out, out.attributes[i].name) == NULL)
				abort();
	} else if (rc == TS_ERR_UNAUTHORIZED) {
		if (failed == TS_SAML_CHECK_NONE || failed >= TS_SAML__CHECKS || out.name_id ||
		    !e.message[0] || strcmp(ts_saml_check_name(failed), "Unknown") == 0)
			abort();
	} else if (rc != TS_ERR_INTERNAL) {
		abort();
	}
	ts_arena_free(&a);
	return 0;
}
