/* Bearer token making and parsing. */
#include "core/token.h"

#include <sodium.h>
#include <string.h>

#include "core/alloc.h"

void ts_token_new(ts_arena_t *a, const struct ts_token_shape *shape, struct ts_token *out)
{
	static const char id_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t plen = strlen(shape->prefix);
	char *id = ts_arena_alloc(a, plen + shape->id_random + 1);
	memcpy(id, shape->prefix, plen);
	unsigned char *raw = ts_arena_alloc(a, shape->id_random);
	ts_random_bytes(raw, shape->id_random);
	for (size_t i = 0; i < shape->id_random; i++)
		/* 32 letters (RFC 4648 §6 base32): the low five bits of a byte pick one */
		id[plen + i] = id_alphabet[raw[i] % (sizeof id_alphabet - 1)];
	char *secret = ts_malloc(shape->secret_len + 1);
	ts_random_token(secret, shape->secret_len);
	char *hash = ts_arena_alloc(a, TS_SHA256_HEX_LEN + 1);
	ts_sha256_hex(secret, shape->secret_len, hash);
	out->id = id;
	out->token = ts_arena_printf(a, "%s.%s", id, secret);
	out->secret_hash = hash;
	ts_free_secret(secret, shape->secret_len + 1);
}

bool ts_token_parse(ts_arena_t *a, const struct ts_token_shape *shape, const char *token,
                    const char **id, char hash[TS_SHA256_HEX_LEN + 1])
{
	*id = NULL;
	if (token == NULL)
		return false;
	size_t plen = strlen(shape->prefix);
	const char *dot = strchr(token, '.');
	size_t idlen = dot ? (size_t)(dot - token) : 0;
	if (dot == NULL || idlen != plen + shape->id_random ||
	    strncmp(token, shape->prefix, plen) != 0 || strlen(dot + 1) != shape->secret_len)
		return false;
	*id = ts_arena_strndup(a, token, idlen);
	ts_sha256_hex(dot + 1, shape->secret_len, hash);
	return true;
}

uint64_t ts_token_id_hash(const char *id)
{
	/* 64-bit FNV-1a (draft-eastlake-fnv: offset basis and prime) */
	const uint64_t fnv_offset_basis = 14695981039346656037ull, fnv_prime = 1099511628211ull;
	uint64_t h = fnv_offset_basis;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * fnv_prime;
	return h;
}
