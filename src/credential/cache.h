/*
 * The one design of a cache of checked credentials, used by every key kind
 * (admin keys' parsed policies, account API keys): per worker thread (no
 * locking), a fixed table of slots a key id hashes to (a newer key in a slot
 * replaces the older), each entry valid only for the stamp it was put with.
 *
 * An entry never authenticates by itself: its user still checks what may
 * have changed since (the stored policy text, the credentials generation
 * ts_store_auth_generation) in its own transaction, and only the work that
 * follows from an unchanged stamp (parsing, a row read) is saved.
 */
#ifndef TS_CREDENTIAL_CACHE_H
#define TS_CREDENTIAL_CACHE_H

#include <stdint.h>

/* Slots of a cache: a worker sees the keys of a few clients at a time. */
#define TS_CREDENTIAL_CACHE_SLOTS 64

typedef struct ts_credential_cache ts_credential_cache_t;

/* An empty cache whose values free_value frees (may be NULL: values are not owned). */
ts_credential_cache_t *ts_credential_cache_new(void (*free_value)(void *value));
/* Frees the cache and every value in it; accepts NULL. */
void ts_credential_cache_free(ts_credential_cache_t **c);

/*
 * The value put for id with this very stamp (compared in constant time: a
 * stamp may be a secret's hash), and *gen the generation it was put with
 * (gen may be NULL); NULL when there is none. The value stays the cache's,
 * valid until the next put on c.
 */
void *ts_credential_cache_get(ts_credential_cache_t *c, const char *id, const char *stamp,
                              int64_t *gen);
/* Puts value (the cache's from now) for id, stamp and gen, replacing the slot's entry. */
void ts_credential_cache_put(ts_credential_cache_t *c, const char *id, const char *stamp,
                             int64_t gen, void *value);

#endif
