/*
 * SQLite's allocator: ts_malloc (glibc's), with a small cache per thread of the
 * blocks SQLite frees, by size class. A write transaction allocates and
 * frees some eighty blocks (its savepoint's journal in 1 KiB chunks, record
 * buffers, cursors), more of one size than glibc's per-thread cache keeps,
 * so the rest went through its locked bins and consolidation every time.
 * Each thread keeps at most CACHE_BYTES per class; a block freed on another
 * thread than it came from simply joins that thread's cache. Blocks above
 * the classes (page buffers) are not cached nor rounded: the page caches'
 * memory stays what SQLite asked for.
 *
 * Under AddressSanitizer the caches work as everywhere else, so that the
 * sanitizer builds run this recycling too: a cached block, header included,
 * is poisoned until it is handed out again, so a use after free while it
 * waits in a cache is reported as ASan reports one on its own heap (a use
 * through a stale pointer after the block was handed out again is not,
 * as with any allocator that reuses memory).
 *
 * Off with the rest of SQLite's tuning (store/conn.h, docs/store.md).
 */
#include "store/sqlite/mem.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

#if !TS_ALLOC_RECYCLE /* built with AddressSanitizer (core/alloc.h) */
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CLASSES 6 /* 64, 128, ... 2048 bytes: pages (4 KiB and up) go to malloc as they are */
#define CLASS_MIN_SHIFT 6 /* the first class: 64 bytes */
#define CACHE_BYTES 65536 /* kept per class and thread, at most */
#define HEADER 16         /* the block's size, keeping 16-byte alignment */

/*
 * The cached blocks (their headers) of each class, in an array of
 * CACHE_BYTES / class size slots rather than linked through the blocks
 * themselves: a poisoned block holds no pointer that LeakSanitizer could
 * follow, so a list through them would look like leaks.
 */
struct thread_cache {
	void **slot[CLASSES];
	int count[CLASSES];
};

static pthread_key_t cache_key;
static _Thread_local struct thread_cache *tcache;

static size_t class_size(unsigned cls)
{
	return (size_t)1 << (cls + CLASS_MIN_SHIFT);
}

static unsigned class_of(size_t n)
{
	unsigned cls = 0;
	while (cls < CLASSES && class_size(cls) < n)
		cls++;
	return cls; /* CLASSES when n is above every class */
}

/* Before each block: its usable size and its class (CLASSES: none). */
struct header {
	size_t size;
	size_t cls;
};

static void cache_release(void *arg)
{
	struct thread_cache *c = arg;
	for (unsigned i = 0; i < CLASSES; i++) {
		while (c->count[i] > 0) {
			void *h = c->slot[i][--c->count[i]];
			UNPOISON(h, HEADER + class_size(i));
			ts_free(h);
		}
		ts_free(c->slot[i]);
	}
	ts_free(c);
}

static struct thread_cache *cache(void)
{
	if (tcache == NULL) {
		tcache = ts_calloc(1, sizeof *tcache);
		for (unsigned i = 0; i < CLASSES; i++)
			tcache->slot[i] = ts_calloc(CACHE_BYTES / class_size(i), sizeof(void *));
		(void)pthread_setspecific(cache_key, tcache); /* freed at thread exit */
	}
	return tcache;
}

static void *mem_malloc(int n)
{
	if (n <= 0)
		return NULL;
	unsigned cls = class_of((size_t)n);
	struct thread_cache *c = cls < CLASSES ? cache() : NULL;
	struct header *h = NULL;
	if (c != NULL && c->count[cls] > 0) {
		h = c->slot[cls][--c->count[cls]];
		UNPOISON(h, HEADER + class_size(cls));
	} else {
		size_t size = cls < CLASSES ? class_size(cls) : (size_t)n;
		h = ts_malloc(HEADER + size); /* aborts when memory runs out, as everywhere */
		h->size = size;
		h->cls = cls;
	}
	return (char *)h + HEADER;
}

static void mem_free(void *p)
{
	if (p == NULL)
		return;
	struct header *h = (struct header *)((char *)p - HEADER);
	unsigned cls = (unsigned)h->cls;
	struct thread_cache *c = cls < CLASSES ? cache() : NULL;
	if (c != NULL && (size_t)c->count[cls] * class_size(cls) < CACHE_BYTES) {
		c->slot[cls][c->count[cls]++] = h;
		POISON(h, HEADER + class_size(cls));
		return;
	}
	ts_free(h);
}

static int mem_size(void *p)
{
	if (p == NULL)
		return 0;
	const struct header *h = (const struct header *)((const char *)p - HEADER);
	return (int)h->size;
}

static void *mem_realloc(void *p, int n)
{
	if (p == NULL)
		return mem_malloc(n);
	if (n <= mem_size(p))
		return p;
	void *q = mem_malloc(n);
	if (q != NULL) {
		memcpy(q, p, (size_t)mem_size(p));
		mem_free(p);
	}
	return q;
}

static int mem_roundup(int n)
{
	unsigned cls = class_of((size_t)n);
	return cls < CLASSES ? (int)class_size(cls) : (n + 7) & ~7;
}

static int mem_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

static void mem_shutdown(void *arg)
{
	(void)arg;
}

static void make_key(void)
{
	(void)pthread_key_create(&cache_key, cache_release);
}

void ts__sqlite_mem_install(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, make_key);
	static const sqlite3_mem_methods methods = {
	        mem_malloc,  mem_free, mem_realloc,  mem_size,
	        mem_roundup, mem_init, mem_shutdown, NULL,
	};
	(void)sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
}
