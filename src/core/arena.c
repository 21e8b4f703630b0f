/*
 * The arena: a chain of blocks, bump allocation inside each, large requests
 * in blocks of their own, and a stack of deferred destructors.
 */
#include "core/arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN 16
#define ARENA_MAX_OBJECT ((size_t)1 << 40)
/* past this, an object gets a block of its own rather than wasting most of a standard one */
#define ARENA_LARGE_OBJECT (ARENA_BLOCK_SIZE / 4)

struct block {
	struct block *next;
	size_t size, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct defer {
	struct defer *next;
	void (*fn)(void *);
	void *p;
};

struct ts_arena {
	struct block *head;
	struct defer *defers;
	size_t total;
};

/*
 * Standard blocks are recycled through a small process-wide cache: a request's
 * arena is made on an event loop, grows on a worker and is freed on the loop
 * again, and glibc's malloc pays for such cross-thread frees of 8 KiB blocks
 * with locks and consolidation on every request (not under ASan: TS_ALLOC_RECYCLE).
 */
#define ARENA_CACHE (TS_ALLOC_RECYCLE ? 512 : 0) /* blocks kept at most: 4 MiB */

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct block *cache;
static int cached;

static struct block *block_new(size_t size);

static struct block *block_take(void)
{
	struct block *b = NULL;
	if (ARENA_CACHE > 0) {
		pthread_mutex_lock(&cache_mu);
		b = cache;
		if (b != NULL) {
			cache = b->next;
			cached--;
		}
		pthread_mutex_unlock(&cache_mu);
	}
	if (b == NULL)
		return block_new(ARENA_BLOCK_SIZE);
	b->next = NULL;
	b->used = 0;
	return b;
}

/* Frees a chain of blocks, keeping standard ones for block_take. */
static void blocks_release(struct block *b)
{
	struct block *keep = NULL, *last = NULL;
	int n = 0;
	while (b != NULL) {
		struct block *next = b->next;
		if (ARENA_CACHE > 0 && b->size == ARENA_BLOCK_SIZE) {
			b->next = keep;
			keep = b;
			if (last == NULL)
				last = b;
			n++;
		} else {
			ts_free(b);
		}
		b = next;
	}
	if (keep == NULL)
		return;
	pthread_mutex_lock(&cache_mu);
	if (cached + n <= ARENA_CACHE) {
		last->next = cache;
		cache = keep;
		cached += n;
		keep = NULL;
	}
	pthread_mutex_unlock(&cache_mu);
	while (keep != NULL) { /* the cache is full */
		struct block *next = keep->next;
		ts_free(keep);
		keep = next;
	}
}

ts_arena_t *ts_arena_new(void)
{
	return ts_calloc(1, sizeof(ts_arena_t));
}

void ts_arena_free(ts_arena_t **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	ts_arena_t *a = *ap;
	for (struct defer *d = a->defers; d != NULL; d = d->next)
		d->fn(d->p);
	blocks_release(a->head);
	ts_free(a);
	*ap = NULL;
}

static struct block *block_new(size_t size)
{
	struct block *b = ts_malloc(sizeof(struct block) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

/* What an object of n bytes takes of a block: whole alignment units, at least one. */
static size_t aligned(size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	return need == 0 ? ARENA_ALIGN : need;
}

void *ts_arena_alloc_raw(ts_arena_t *a, size_t n)
{
	if (n > ARENA_MAX_OBJECT) {
		/* inputs are capped far below this: a request this large is a bug */
		fprintf(stderr, "tessera: arena allocation of %zu bytes refused\n", n);
		abort();
	}
	size_t need = aligned(n);
	struct block *b = a->head;
	if (b == NULL || b->size - b->used < need) {
		if (need > ARENA_LARGE_OBJECT) {
			/* a large object gets its own block, behind the current one; up to a
			 * standard block's size that is a recycled standard block (a 6 KiB
			 * form or decoded SAML response would otherwise cost a malloc and a
			 * cross-thread free per request) */
			struct block *big =
			        need <= ARENA_BLOCK_SIZE ? block_take() : block_new(need);
			big->used = need;
			if (b == NULL) {
				a->head = big;
			} else {
				big->next = b->next;
				b->next = big;
			}
			a->total += need;
			return big->data;
		}
		b = block_take();
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total += need;
	return p;
}

void *ts_arena_alloc(ts_arena_t *a, size_t n)
{
	void *p = ts_arena_alloc_raw(a, n);
	memset(p, 0, aligned(n));
	return p;
}

char *ts_arena_strndup(ts_arena_t *a, const char *s, size_t n)
{
	char *d = ts_arena_alloc_raw(a, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *ts_arena_strdup(ts_arena_t *a, const char *s)
{
	return s == NULL ? NULL : ts_arena_strndup(a, s, strlen(s));
}

char *ts_arena_vprintf(ts_arena_t *a, const char *fmt, va_list ap)
{
	/* one formatting pass when the text fits in the current block's free space, where it is
	 * written; a second one, into memory of its size, only when it did not fit */
	struct block *b = a->head;
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = b != NULL ? b->size - b->used : 0;
	int n = vsnprintf(room > 0 ? (char *)b->data + b->used : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	if ((size_t)n <
	    room) /* written whole with its NUL: claimed where it is (room is aligned) */
		return ts_arena_alloc_raw(a, (size_t)n + 1);
	char *d = ts_arena_alloc_raw(a, (size_t)n + 1);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	return d;
}

char *ts_arena_concat(ts_arena_t *a, ...)
{
	va_list ap;
	va_start(ap, a);
	size_t n = 0;
	for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
		n += strlen(s);
	va_end(ap);
	char *d = ts_arena_alloc(a, n + 1), *p = d;
	va_start(ap, a);
	for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *)) {
		size_t k = strlen(s);
		memcpy(p, s, k);
		p += k;
	}
	va_end(ap);
	return d;
}

char *ts_arena_printf(ts_arena_t *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *d = ts_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return d;
}

void ts_arena_defer(ts_arena_t *a, void (*fn)(void *), void *p)
{
	struct defer *d = ts_arena_alloc(a, sizeof *d);
	d->fn = fn;
	d->p = p;
	d->next = a->defers;
	a->defers = d;
}

size_t ts_arena_used(const ts_arena_t *a)
{
	return a->total;
}

ts_err ts_arena_grow(ts_arena_t *a, void *items, size_t size, size_t count, size_t need,
                     size_t *cap, size_t max)
{
	if (need <= *cap)
		return TS_ERR_OK;
	if (need > max || size == 0 || count > *cap)
		return TS_ERR_TOO_LARGE;
	size_t ncap = *cap > max / 2 ? max : *cap * 2;
	if (ncap < TS_ARENA_GROW_MIN)
		ncap = TS_ARENA_GROW_MIN < max ? TS_ARENA_GROW_MIN : max;
	if (ncap < need)
		ncap = need;
	if (ncap > SIZE_MAX / size || ncap * size > ARENA_MAX_OBJECT)
		return TS_ERR_TOO_LARGE;
	/* items points at a pointer of any object type: read and write it as bytes */
	void *old = NULL;
	memcpy(&old, items, sizeof old);
	void *grown = ts_arena_alloc(a, ncap * size);
	if (count > 0)
		memcpy(grown, old, count * size);
	memcpy(items, &grown, sizeof grown);
	*cap = ncap;
	return TS_ERR_OK;
}
