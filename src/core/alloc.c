/* The allocator: thin wrappers over the C library that abort on failure. */
#include "core/alloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "tessera: out of memory allocating %zu bytes\n", n);
	abort();
}

void *ts_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *ts_calloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (p == NULL)
		oom(count * n);
	return p;
}

void *ts_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

void ts_free(void *p)
{
	free(p);
}

char *ts_strndup(const char *s, size_t n)
{
	char *d = ts_malloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *ts_strdup(const char *s)
{
	return ts_strndup(s, strlen(s));
}

void ts_free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	sodium_memzero(p, n);
	free(p);
}
