/* The cache of checked credentials (credential/cache.h). */
#include "credential/cache.h"

#include <string.h>

#include "core/alloc.h"
#include "core/crypto.h"
#include "core/token.h"

struct slot {
	char *id; /* NULL: free */
	char *stamp;
	int64_t gen;
	void *value;
};

struct ts_credential_cache {
	void (*free_value)(void *value);
	struct slot slot[TS_CREDENTIAL_CACHE_SLOTS];
};

ts_credential_cache_t *ts_credential_cache_new(void (*free_value)(void *value))
{
	ts_credential_cache_t *c = ts_calloc(1, sizeof *c);
	c->free_value = free_value;
	return c;
}

static void slot_clear(ts_credential_cache_t *c, struct slot *s)
{
	TS_FREE(&s->id);
	TS_FREE(&s->stamp);
	if (c->free_value != NULL && s->value != NULL)
		c->free_value(s->value);
	s->value = NULL;
	s->gen = 0;
}

void ts_credential_cache_free(ts_credential_cache_t **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	for (int i = 0; i < TS_CREDENTIAL_CACHE_SLOTS; i++)
		slot_clear(*cp, &(*cp)->slot[i]);
	TS_FREE(cp);
}

static struct slot *slot_of(ts_credential_cache_t *c, const char *id)
{
	return &c->slot[ts_token_id_hash(id) % TS_CREDENTIAL_CACHE_SLOTS];
}

void *ts_credential_cache_get(ts_credential_cache_t *c, const char *id, const char *stamp,
                              int64_t *gen)
{
	if (c == NULL || id == NULL || stamp == NULL)
		return NULL;
	struct slot *s = slot_of(c, id);
	if (s->id == NULL || strcmp(s->id, id) != 0 || !ts_secret_equal(stamp, s->stamp))
		return NULL;
	if (gen != NULL)
		*gen = s->gen;
	return s->value;
}

void ts_credential_cache_put(ts_credential_cache_t *c, const char *id, const char *stamp,
                             int64_t gen, void *value)
{
	struct slot *s = slot_of(c, id);
	slot_clear(c, s);
	s->id = ts_strdup(id);
	s->stamp = ts_strdup(stamp);
	s->gen = gen;
	s->value = value;
}
