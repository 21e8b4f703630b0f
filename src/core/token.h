/*
 * Bearer tokens of the form "<prefix><random id>.<secret>", shared by admin
 * keys and SCIM API keys. The id is public (it names the key in lists and in
 * the audit trail); the secret is random and high-entropy, so only its
 * SHA-256 is stored, and a presented secret is compared in constant time.
 */
#ifndef TS_CORE_TOKEN_H
#define TS_CORE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/crypto.h"

struct ts_token_shape {
	const char *prefix; /* "TSAK" */
	size_t id_random;   /* characters after the prefix, from A-Z2-7 */
	size_t secret_len;  /* characters of A-Za-z0-9 */
};

struct ts_token {
	const char *id;          /* prefix + random characters */
	const char *token;       /* id "." secret: shown once */
	const char *secret_hash; /* hex SHA-256 of the secret: what is stored */
};

/* A new token of the given shape, in arena memory; the secret is wiped from the stack. */
void ts_token_new(ts_arena_t *a, const struct ts_token_shape *shape, struct ts_token *out);
/*
 * Splits a presented token of the given shape: *id gets its id (arena
 * memory) and hash the SHA-256 of its secret. False when it is malformed.
 */
bool ts_token_parse(ts_arena_t *a, const struct ts_token_shape *shape, const char *token,
                    const char **id, char hash[TS_SHA256_HEX_LEN + 1]);

/*
 * A spread of a token id (or any key text) for in-memory tables: FNV-1a,
 * 64 bits. Not a digest: ids are random already, and secrets never pass here.
 */
uint64_t ts_token_id_hash(const char *id);

#endif
