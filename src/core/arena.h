/*
 * A region allocator: one per request (or per job), freed in one call when
 * the response has been sent. Objects owned by other libraries (jansson,
 * libpq, libxml2) are tied to an arena with ts_arena_defer, so that freeing
 * the arena releases them too, in reverse order of registration.
 */
#ifndef TS_CORE_ARENA_H
#define TS_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "core/error.h"

typedef struct ts_arena ts_arena_t;

ts_arena_t *ts_arena_new(void);
/* Runs the deferred destructors, frees every block, sets *a to NULL. */
void ts_arena_free(ts_arena_t **a);
/* Zeroed, 16-byte aligned memory that lives as long as the arena. */
void *ts_arena_alloc(ts_arena_t *a, size_t n);
/* The same memory not zeroed, for a buffer its caller fills whole (a copy, a decoded text). */
void *ts_arena_alloc_raw(ts_arena_t *a, size_t n);
char *ts_arena_strdup(ts_arena_t *a, const char *s);
char *ts_arena_strndup(ts_arena_t *a, const char *s, size_t n);
char *ts_arena_printf(ts_arena_t *a, const char *fmt, ...) TS_PRINTF(2, 3);
char *ts_arena_vprintf(ts_arena_t *a, const char *fmt, va_list ap);
/* The strings given, one after another, up to the NULL that ends the list (no formatting). */
char *ts_arena_concat(ts_arena_t *a, ...) __attribute__((sentinel));
/* Calls fn(p) when the arena is freed. */
void ts_arena_defer(ts_arena_t *a, void (*fn)(void *), void *p);
/*
 * Makes room for element number need - 1 of an array that lives in arena a:
 * *items (a pointer to the array's first element, NULL when there is none
 * yet) holds *cap elements of size bytes, the first count of them in use.
 * When need > *cap, a new array of twice the capacity (at least
 * TS_ARENA_GROW_MIN and need, at most max) is allocated, the count elements
 * in use are copied and *items and *cap are updated; the old array stays in
 * the arena until it is freed. Returns TS_ERR_TOO_LARGE, changing nothing,
 * when need > max or the new size in bytes would overflow a size_t. Use it
 * through TS_ARENA_GROW, which passes the element size.
 */
#define TS_ARENA_GROW_MIN 8
TS_MUST_USE ts_err ts_arena_grow(ts_arena_t *a, void *items, size_t size, size_t count, size_t need,
                                 size_t *cap, size_t max);
/* ts_arena_grow for an array pointer `items` (any element type), for one more element. */
#define TS_ARENA_GROW(a, items, count, cap, max)                                                   \
	ts_arena_grow((a), (void *)&(items), sizeof *(items), (count), (size_t)(count) + 1, (cap), \
	              (max))
/* Bytes handed out so far (for tests and metrics). */
size_t ts_arena_used(const ts_arena_t *a);

#endif
