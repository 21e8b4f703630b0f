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
char *ts_arena_strdup(ts_arena_t *a, const char *s);
char *ts_arena_strndup(ts_arena_t *a, const char *s, size_t n);
char *ts_arena_printf(ts_arena_t *a, const char *fmt, ...) TS_PRINTF(2, 3);
char *ts_arena_vprintf(ts_arena_t *a, const char *fmt, va_list ap);
/* The strings given, one after another, up to the NULL that ends the list (no formatting). */
char *ts_arena_concat(ts_arena_t *a, ...) __attribute__((sentinel));
/* Calls fn(p) when the arena is freed. */
void ts_arena_defer(ts_arena_t *a, void (*fn)(void *), void *p);
/* Bytes handed out so far (for tests and metrics). */
size_t ts_arena_used(const ts_arena_t *a);

#endif
