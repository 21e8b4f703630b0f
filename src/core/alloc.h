/*
 * The only allocator. Allocation failure aborts the process, as redis and
 * h2o do: that is safe only because every outside input has a hard size cap,
 * so a failed allocation means the machine itself is out of memory.
 * Raw malloc/free are banned everywhere else (scripts/lint.sh).
 */
#ifndef TS_CORE_ALLOC_H
#define TS_CORE_ALLOC_H

#include <stddef.h>

/*
 * Whether freed memory may be kept for reuse (the arena's block cache,
 * SQLite's allocator): not under AddressSanitizer, whose job is to see each
 * use after free.
 */
#if defined(__SANITIZE_ADDRESS__)
#define TS_ALLOC_RECYCLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TS_ALLOC_RECYCLE 0
#endif
#endif
#ifndef TS_ALLOC_RECYCLE
#define TS_ALLOC_RECYCLE 1
#endif

void *ts_malloc(size_t n);
void *ts_calloc(size_t count, size_t n);
void *ts_realloc(void *p, size_t n);
/* Frees p; NULL is fine. */
void ts_free(void *p);
/* Frees *pp and sets it to NULL. */
#define TS_FREE(pp) (ts_free(*(pp)), *(pp) = NULL)
char *ts_strdup(const char *s);
char *ts_strndup(const char *s, size_t n);
/* Wipes n bytes at p (secrets) and frees p. */
void ts_free_secret(void *p, size_t n);

#endif
