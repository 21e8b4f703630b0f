/*
 * Unit tests of src/core: the error table, the arena, capped JSON parsing,
 * the crypto helpers and the time helpers. Leaks (arena-owned JSON, deferred
 * destructors) are caught by running this file under -DTS_SANITIZE=ON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/utf8.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/json.h"
#include "core/timeutil.h"

#define N_ITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ------------------------------------------------------------------------------- */

static void test_error_table_complete(void **state)
{
	(void)state;
	for (int c = 0; c < TS_ERR__COUNT; c++) {
		const char *name = ts_err_name((ts_err)c);
		const char *msg = ts_err_message((ts_err)c);
		int status = ts_err_status((ts_err)c);
		assert_non_null(name);
		assert_true(name[0] != '\0');
		assert_non_null(msg);
		assert_true(msg[0] != '\0');
		assert_in_range(status, 200, 599);
	}
	assert_int_equal(ts_err_status(TS_ERR_OK), 200);
	assert_int_equal(TS_ERR_OK, 0);
}

static void test_error_admin_codes(void **state)
{
	(void)state;
	static const struct {
		ts_err code;
		const char *name;
		int status;
	} cases[] = {
	        {TS_ERR_BAD_REQUEST, "BadRequestException", 400},
	        {TS_ERR_UNAUTHORIZED, "UnauthorizedClientException", 401},
	        {TS_ERR_FORBIDDEN, "ForbiddenException", 403},
	        {TS_ERR_NOT_FOUND, "NotFoundException", 404},
	        {TS_ERR_CONFLICT, "ConflictException", 409},
	        {TS_ERR_THROTTLED, "ThrottledClientException", 429},
	        {TS_ERR_INTERNAL, "ServiceFailureException", 500},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		assert_string_equal(ts_err_name(cases[i].code), cases[i].name);
		assert_int_equal(ts_err_status(cases[i].code), cases[i].status);
	}
}

static void test_error_clamp(void **state)
{
	(void)state;
	const ts_err bad[] = {(ts_err)TS_ERR__COUNT, (ts_err)(TS_ERR__COUNT + 1), (ts_err)-1,
	                      (ts_err)100000};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		assert_string_equal(ts_err_name(bad[i]), ts_err_name(TS_ERR_INTERNAL));
		assert_int_equal(ts_err_status(bad[i]), 500);
		assert_string_equal(ts_err_message(bad[i]), ts_err_message(TS_ERR_INTERNAL));
	}
}

static ts_err fail_here(struct ts_error *e)
{
	return TS_FAIL(e, TS_ERR_CONFLICT, "thing %d exists", 7);
}

static void test_error_set(void **state)
{
	(void)state;
	/* NULL detail: only the code comes back */
	assert_int_equal(ts_error_set(NULL, TS_ERR_NOT_FOUND, "w", "x %s", "y"), TS_ERR_NOT_FOUND);
	assert_int_equal(fail_here(NULL), TS_ERR_CONFLICT);

	struct ts_error e = {0};
	assert_int_equal(ts_error_set(&e, TS_ERR_BAD_REQUEST, "here", "bad %s %d", "field", 3),
	                 TS_ERR_BAD_REQUEST);
	assert_int_equal(e.code, TS_ERR_BAD_REQUEST);
	assert_string_equal(e.where, "here");
	assert_string_equal(e.message, "bad field 3");

	struct ts_error f = {0};
	assert_int_equal(fail_here(&f), TS_ERR_CONFLICT);
	assert_string_equal(f.where, "fail_here");
	assert_string_equal(f.message, "thing 7 exists");

	/* a long message is truncated, never overflows */
	char big[3 * TS_ERROR_MSG_MAX];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct ts_error g = {0};
	(void)ts_error_set(&g, TS_ERR_INTERNAL, "w", "%s", big);
	assert_int_equal(strlen(g.message), TS_ERROR_MSG_MAX - 1);
}

static void test_error_text(void **state)
{
	(void)state;
	assert_string_equal(ts_error_text(NULL, TS_ERR_NOT_FOUND),
	                    ts_err_message(TS_ERR_NOT_FOUND));
	struct ts_error e = {0};
	/* nothing recorded: the default message */
	assert_string_equal(ts_error_text(&e, TS_ERR_FORBIDDEN), ts_err_message(TS_ERR_FORBIDDEN));
	(void)ts_error_set(&e, TS_ERR_CONFLICT, "w", "name taken");
	assert_string_equal(ts_error_text(&e, TS_ERR_CONFLICT), "name taken");
	/* detail of another code is not shown for this one */
	assert_string_equal(ts_error_text(&e, TS_ERR_NOT_FOUND), ts_err_message(TS_ERR_NOT_FOUND));
	/* an empty message falls back to the default */
	(void)ts_error_set(&e, TS_ERR_CONFLICT, "w", "%s", "");
	assert_string_equal(ts_error_text(&e, TS_ERR_CONFLICT), ts_err_message(TS_ERR_CONFLICT));
}

/* ---- arena -------------------------------------------------------------------------------- */

static bool all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

struct chunk {
	unsigned char *p;
	size_t n;
};

static void test_arena_small_and_large(void **state)
{
	(void)state;
	/* sizes cross the block size and the "own block" threshold in both directions */
	static const size_t sizes[] = {1,    2,    7,     15,    16,   17,   31,   33,    100,
	                               1000, 2047, 2048,  2049,  4000, 8191, 8192, 8193,  20000,
	                               0,    3,    65536, 70000, 5,    1,    1500, 12345, 9};
	enum { ROUNDS = 60 };
	ts_arena_t *a = ts_arena_new();
	assert_non_null(a);
	struct chunk *chunks = calloc(N_ITEMS(sizes) * ROUNDS, sizeof *chunks);
	size_t k = 0, requested = 0;
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < N_ITEMS(sizes); i++, k++) {
			size_t before = ts_arena_used(a);
			unsigned char *p = ts_arena_alloc(a, sizes[i]);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
			assert_true(all_bytes(p, sizes[i], 0));
			assert_true(ts_arena_used(a) >= before + sizes[i]);
			/* a distinct tag per chunk: overlapping chunks would overwrite it */
			memset(p, (int)(k % 251) + 1, sizes[i]);
			chunks[k] = (struct chunk){p, sizes[i]};
			requested += sizes[i];
		}
	}
	for (size_t j = 0; j < k; j++)
		assert_true(all_bytes(chunks[j].p, chunks[j].n, (unsigned char)(j % 251) + 1));
	assert_true(ts_arena_used(a) >= requested);
	/* zero-size requests still get distinct, aligned pointers */
	void *z1 = ts_arena_alloc(a, 0), *z2 = ts_arena_alloc(a, 0);
	assert_non_null(z1);
	assert_non_null(z2);
	assert_ptr_not_equal(z1, z2);
	free(chunks);
	ts_arena_free(&a);
	assert_null(a);
}

static void test_arena_zeroed_after_reuse(void **state)
{
	(void)state;
	/* dirty the heap, free it, and check the next arena's memory is zero anyway */
	for (int round = 0; round < 3; round++) {
		ts_arena_t *a = ts_arena_new();
		for (int i = 0; i < 50; i++) {
			size_t n = (size_t)(i * 97 % 3000) + 1;
			unsigned char *p = ts_arena_alloc(a, n);
			assert_true(all_bytes(p, n, 0));
			memset(p, 0xa5, n);
		}
		unsigned char *big = ts_arena_alloc(a, 50000);
		assert_true(all_bytes(big, 50000, 0));
		memset(big, 0x5a, 50000);
		ts_arena_free(&a);
	}
}

static void test_arena_used(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	assert_int_equal(ts_arena_used(a), 0);
	(void)ts_arena_alloc(a, 1);
	size_t u1 = ts_arena_used(a);
	assert_in_range(u1, 1, 16);
	(void)ts_arena_alloc(a, 100);
	size_t u2 = ts_arena_used(a);
	assert_in_range(u2 - u1, 100, 115);
	(void)ts_arena_alloc(a, 100000);
	assert_in_range(ts_arena_used(a) - u2, 100000, 100015);
	ts_arena_free(&a);
}

static void test_arena_grow(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* from nothing, doubling, the elements in use kept */
	uint64_t *v = NULL;
	size_t cap = 0, count = 0;
	for (uint64_t i = 0; i < 100; i++) {
		assert_int_equal(TS_ARENA_GROW(a, v, count, &cap, 100), TS_ERR_OK);
		assert_true(cap > count && cap <= 100);
		v[count++] = i * 7;
	}
	assert_int_equal(cap, 100); /* the last doubling stopped at the cap */
	for (size_t i = 0; i < count; i++)
		assert_int_equal(v[i], i * 7);
	/* at the cap: an error and nothing changed */
	uint64_t *before = v;
	assert_int_equal(TS_ARENA_GROW(a, v, count, &cap, 100), TS_ERR_TOO_LARGE);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 100);
	/* room already there: nothing allocated */
	size_t used = ts_arena_used(a);
	assert_int_equal(TS_ARENA_GROW(a, v, 10, &cap, 100), TS_ERR_OK);
	assert_int_equal(ts_arena_used(a), used);
	/* a cap below the minimum step is honoured */
	char **s = NULL;
	size_t scap = 0;
	assert_int_equal(TS_ARENA_GROW(a, s, 0, &scap, 3), TS_ERR_OK);
	assert_int_equal(scap, 3);
	/* need beyond max, and count * size overflowing a size_t */
	size_t big = 0;
	assert_int_equal(ts_arena_grow(a, &s, sizeof *s, 0, 11, &big, 10), TS_ERR_TOO_LARGE);
	assert_int_equal(ts_arena_grow(a, &s, SIZE_MAX / 4, 0, 8, &big, SIZE_MAX),
	                 TS_ERR_TOO_LARGE);
	assert_int_equal(big, 0);
	/* more than one doubling at once */
	unsigned char *b = NULL;
	size_t bcap = 0;
	assert_int_equal(ts_arena_grow(a, &b, 1, 0, 1000, &bcap, 4096), TS_ERR_OK);
	assert_true(bcap >= 1000);
	ts_arena_free(&a);
}

/* ---- UTF-8 and hex ---------------------------------------------------------------------- */

static void test_utf8_next(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t n, len;
		uint32_t cp;
	} cases[] = {
	        {"A", 1, 1, 'A'},
	        {"", 1, 1, 0}, /* NUL is a sequence of one */
	        {"\xc3\xa9", 2, 2, 0xe9},
	        {"\xe2\x82\xac", 3, 3, 0x20ac},
	        {"\xf0\x9f\x98\x80", 4, 4, 0x1f600},
	        {"\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff},
	        {"\xf4\x90\x80\x80", 4, 0, 0}, /* beyond U+10FFFF */
	        {"\xc0\xaf", 2, 0, 0},         /* overlong */
	        {"\xe0\x80\xaf", 3, 0, 0},     /* overlong */
	        {"\xf0\x80\x80\xaf", 4, 0, 0}, /* overlong */
	        {"\xed\xa0\x80", 3, 0, 0},     /* a surrogate */
	        {"\xe2\x82\xac", 2, 0, 0},     /* cut by n */
	        {"\xe2\x82", 4, 0, 0},         /* cut by the NUL */
	        {"\x80", 1, 0, 0},             /* a lone continuation */
	        {"\xff", 1, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t cp = 0xffffffff;
		size_t len = ts_utf8_next((const unsigned char *)cases[i].s, cases[i].n, &cp);
		assert_int_equal(len, cases[i].len);
		if (len > 0) {
			assert_int_equal(cp, cases[i].cp);
			char out[4];
			assert_int_equal(ts_utf8_encode(out, cp), len);
			assert_memory_equal(out, cases[i].s, len);
		}
	}
	/* the printable run, a word at a time and byte by byte, stops at the first other byte */
	char run[40];
	static const char stops[] = {'\0', '\x01', '\x1f', '\x7f', '\x80', '\xff'};
	for (size_t at = 0; at < sizeof run; at++)
		for (size_t k = 0; k < sizeof stops; k++) {
			memset(run, '~', sizeof run);
			run[0] = ' ';
			run[at] = stops[k];
			assert_int_equal(ts_utf8_printable_span(run, sizeof run), at);
			assert_int_equal(ts_utf8_printable_span(run, at), at);
		}
	assert_true(ts_utf8_valid("h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
	assert_false(ts_utf8_valid("a\0b", 3));
	assert_false(ts_utf8_valid("\xc3\xa9", 1));
	assert_true(ts_utf8_valid("", 0));
	uint32_t cp = 0;
	assert_int_equal(ts_utf8_decode((const unsigned char *)"", &cp), 0);
	assert_int_equal(ts_utf8_decode((const unsigned char *)"\xe2\x82\xac!", &cp), 3);
	assert_int_equal(cp, 0x20ac);
}

static void test_hex_decode(void **state)
{
	(void)state;
	assert_int_equal(ts_hex_digit('0'), 0);
	assert_int_equal(ts_hex_digit('9'), 9);
	assert_int_equal(ts_hex_digit('a'), 10);
	assert_int_equal(ts_hex_digit('F'), 15);
	assert_int_equal(ts_hex_digit('g'), -1);
	assert_int_equal(ts_hex_digit('/'), -1);
	assert_int_equal(ts_hex_digit(':'), -1);
	assert_int_equal(ts_hex_digit('@'), -1);
	assert_int_equal(ts_hex_value("00e9", 4), 0xe9);
	assert_int_equal(ts_hex_value("D83d", 4), 0xd83d);
	assert_int_equal(ts_hex_value("ffffffff", 8), 0xffffffffLL);
	assert_int_equal(ts_hex_value("12x4", 4), -1);
	assert_int_equal(ts_hex_value("12", 0), 0);
}

static void test_arena_strings(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	const char *src = "hello, arena";
	char *d = ts_arena_strdup(a, src);
	assert_string_equal(d, src);
	assert_ptr_not_equal(d, src);
	assert_null(ts_arena_strdup(a, NULL));
	assert_string_equal(ts_arena_strdup(a, ""), "");
	assert_string_equal(ts_arena_strndup(a, src, 5), "hello");
	assert_string_equal(ts_arena_strndup(a, src, 0), "");
	/* strndup copies exactly n bytes, even from a buffer without a NUL */
	char raw[4] = {'a', 'b', 'c', 'd'};
	assert_string_equal(ts_arena_strndup(a, raw, 4), "abcd");
	assert_string_equal(ts_arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1");
	assert_string_equal(ts_arena_printf(a, "%s", ""), "");
	assert_string_equal(ts_arena_concat(a, "ab", "", "c%d", "de", NULL), "abc%dde");
	assert_string_equal(ts_arena_concat(a, NULL), "");
	/* longer than a block */
	char *longs = calloc(30001, 1);
	memset(longs, 'q', 30000);
	char *p = ts_arena_printf(a, "<%s>", longs);
	assert_int_equal(strlen(p), 30002);
	assert_int_equal(p[0], '<');
	assert_int_equal(p[30001], '>');
	assert_int_equal(p[15000], 'q');
	free(longs);
	ts_arena_free(&a);

	/* texts formatted at a block's end: one that fits with its NUL, one a byte too long, and
	 * what is allocated after them, none overwriting another */
	static const char *const fill =
	        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";
	for (int len = 44; len <= 50; len++) {
		a = ts_arena_new();
		char *big = ts_arena_alloc(a, 8192 - 48); /* a block of its own, 48 bytes left */
		memset(big, 'b', 8192 - 48);
		char *t1 = ts_arena_printf(a, "%.*s", len, fill);
		char *t2 = ts_arena_printf(a, "%.*s", len, fill + 1);
		char *after = ts_arena_alloc(a, 16);
		memset(after, 'z', 16);
		assert_int_equal(strlen(t1), (size_t)len);
		assert_memory_equal(t1, fill, (size_t)len);
		assert_int_equal(strlen(t2), (size_t)len);
		assert_memory_equal(t2, fill + 1, (size_t)len);
		for (size_t i = 0; i < 8192 - 48; i++)
			if (big[i] != 'b')
				fail_msg("len %d: the block before was overwritten at %zu", len, i);
		ts_arena_free(&a);
	}
}

struct defer_log {
	int order[16];
	int n;
	int calls[16];
};

struct defer_item {
	struct defer_log *log;
	int id;
};

static void defer_fn(void *p)
{
	struct defer_item *it = p;
	it->log->calls[it->id]++;
	if (it->log->n < 16)
		it->log->order[it->log->n++] = it->id;
}

static void test_arena_defer(void **state)
{
	(void)state;
	struct defer_log log = {0};
	struct defer_item items[6];
	ts_arena_t *a = ts_arena_new();
	for (int i = 0; i < 6; i++) {
		items[i] = (struct defer_item){&log, i};
		ts_arena_defer(a, defer_fn, &items[i]);
		/* allocations in between must not disturb the destructor list */
		(void)ts_arena_alloc(a, (size_t)(i * 3000));
	}
	assert_int_equal(log.n, 0);
	ts_arena_free(&a);
	assert_null(a);
	assert_int_equal(log.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(log.order[i], 5 - i);
		assert_int_equal(log.calls[i], 1);
	}
	/* the pointer was reset: a second free is a no-op and runs nothing again */
	ts_arena_free(&a);
	assert_int_equal(log.n, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(log.calls[i], 1);
	ts_arena_free(NULL);
}

static void test_arena_defer_frees(void **state)
{
	(void)state;
	/* ASan's leak check proves these are released by the arena */
	ts_arena_t *a = ts_arena_new();
	for (int i = 0; i < 10; i++)
		ts_arena_defer(a, free, malloc(100));
	ts_arena_free(&a);
}

/* ---- JSON --------------------------------------------------------------------------------- */

/* depth nested arrays: "[[[...]]]" */
static char *nested(const char *open, const char *close, const char *inner, int depth)
{
	size_t lo = strlen(open), lc = strlen(close), li = strlen(inner);
	char *s = malloc((lo + lc) * (size_t)depth + li + 1);
	size_t o = 0;
	for (int i = 0; i < depth; i++, o += lo)
		memcpy(s + o, open, lo);
	memcpy(s + o, inner, li);
	o += li;
	for (int i = 0; i < depth; i++, o += lc)
		memcpy(s + o, close, lc);
	s[o] = '\0';
	return s;
}

static ts_err parse(const char *text, const struct ts_json_limits *lim, ts_arena_t *a, json_t **out,
                    struct ts_error *e)
{
	return ts_json_parse(text, strlen(text), lim, a, out, e);
}

static void test_json_depth(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *j = NULL;
	struct ts_error e = {0};

	char *ok = nested("[", "]", "1", TS_JSON_MAX_DEPTH);
	assert_int_equal(parse(ok, NULL, a, &j, &e), TS_ERR_OK);
	assert_non_null(j);
	free(ok);

	char *deep = nested("[", "]", "1", TS_JSON_MAX_DEPTH + 1);
	assert_int_equal(parse(deep, NULL, a, &j, &e), TS_ERR_TOO_LARGE);
	assert_null(j);
	free(deep);

	char *obj_ok = nested("{\"k\":", "}", "1", TS_JSON_MAX_DEPTH);
	assert_int_equal(parse(obj_ok, NULL, a, &j, &e), TS_ERR_OK);
	free(obj_ok);
	char *obj_deep = nested("{\"k\":", "}", "1", TS_JSON_MAX_DEPTH + 1);
	assert_int_equal(parse(obj_deep, NULL, a, &j, &e), TS_ERR_TOO_LARGE);
	free(obj_deep);

	/* mixed: depth counts both kinds */
	char *mixed = nested("[{\"k\":", "}]", "0", TS_JSON_MAX_DEPTH / 2);
	assert_int_equal(parse(mixed, NULL, a, &j, &e), TS_ERR_OK);
	free(mixed);
	char *mixed_deep = nested("[{\"k\":", "}]", "[0]", TS_JSON_MAX_DEPTH / 2);
	assert_int_equal(parse(mixed_deep, NULL, a, &j, &e), TS_ERR_TOO_LARGE);
	free(mixed_deep);

	/* siblings do not add up: many arrays side by side at depth 2 */
	assert_int_equal(parse("[[1],[2],[3],[4],[5],[6],[7],[8],[9],[10],[11],[12],[13],[14],"
	                       "[15],[16],[17],[18],[19],[20],[21],[22],[23],[24],[25],[26],[27],"
	                       "[28],[29],[30],[31],[32],[33],[34]]",
	                       NULL, a, &j, &e),
	                 TS_ERR_OK);

	/* a smaller cap from the caller */
	struct ts_json_limits lim = {.max_depth = 3};
	assert_int_equal(parse("[[[1]]]", &lim, a, &j, &e), TS_ERR_OK);
	assert_int_equal(parse("[[[[1]]]]", &lim, a, &j, &e), TS_ERR_TOO_LARGE);
	ts_arena_free(&a);
}

static void test_json_string_cap(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *j = NULL;
	struct ts_error e = {0};
	size_t n = TS_JSON_MAX_STRING;
	char *doc = malloc(n + 16);

	/* ["aaa...a"] with exactly the cap */
	doc[0] = '[';
	doc[1] = '"';
	memset(doc + 2, 'a', n);
	memcpy(doc + 2 + n, "\"]", 3);
	assert_int_equal(parse(doc, NULL, a, &j, &e), TS_ERR_OK);
	assert_int_equal(json_string_length(json_array_get(j, 0)), n);

	/* one more byte */
	doc[1] = '"';
	memset(doc + 2, 'a', n + 1);
	memcpy(doc + 3 + n, "\"]", 3);
	assert_int_equal(parse(doc, NULL, a, &j, &e), TS_ERR_TOO_LARGE);
	assert_null(j);

	/* an over-long key is a string too */
	doc[0] = '{';
	doc[1] = '"';
	memset(doc + 2, 'k', n + 1);
	memcpy(doc + 3 + n, "\":1}", 5);
	assert_int_equal(parse(doc, NULL, a, &j, &e), TS_ERR_TOO_LARGE);

	struct ts_json_limits lim = {.max_string = 4};
	assert_int_equal(parse("[\"abcd\"]", &lim, a, &j, &e), TS_ERR_OK);
	assert_int_equal(parse("[\"abcde\"]", &lim, a, &j, &e), TS_ERR_TOO_LARGE);
	free(doc);
	ts_arena_free(&a);
}

static void test_json_max_bytes(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *j = NULL;
	struct ts_error e = {0};
	const char *doc = "{\"a\":[1,2,3]}"; /* 13 bytes */
	struct ts_json_limits lim = {.max_bytes = strlen(doc)};
	assert_int_equal(parse(doc, &lim, a, &j, &e), TS_ERR_OK);
	lim.max_bytes = strlen(doc) - 1;
	assert_int_equal(parse(doc, &lim, a, &j, &e), TS_ERR_TOO_LARGE);
	assert_null(j);
	/* only len bytes are read: the buffer need not be NUL-terminated there */
	const char buf[] = "[1]garbage";
	assert_int_equal(ts_json_parse(buf, 3, NULL, a, &j, &e), TS_ERR_OK);
	assert_int_equal(json_array_size(j), 1);
	ts_arena_free(&a);
}

static void test_json_malformed(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	static const char *const bad[] = {
	        "",          "{",     "}",     "[1,]",          "{\"a\":1,}",
	        "{\"a\" 1}", "{a:1}", "[1 2]", "\"abc",         "\"abc\\",
	        "[\"\\x\"]", "nul",   "[1]]",  "{\"a\":01}",    "[\"\t\"]",
	        "{\"a\":}",  "[-]",   "\xff",  "[\"\\ud800\"]",
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		json_t *j = (json_t *)1;
		struct ts_error e = {0};
		ts_err rc = parse(bad[i], NULL, a, &j, &e);
		if (rc != TS_ERR_BAD_REQUEST)
			fail_msg("case %zu (%s): rc %d", i, bad[i], rc);
		assert_null(j);
		assert_non_null(strstr(e.message, "line"));
		assert_non_null(strstr(e.message, "column"));
	}
	/* the position names where the problem is */
	struct ts_error e = {0};
	json_t *j = NULL;
	assert_int_equal(parse("{\n  \"a\": 1,\n  \"b\": }\n", NULL, a, &j, &e),
	                 TS_ERR_BAD_REQUEST);
	assert_non_null(strstr(e.message, "line 3"));
	assert_int_equal(e.code, TS_ERR_BAD_REQUEST);
	ts_arena_free(&a);
}

/* The hand-written parser's values and refusals, where jansson's parser was the reference. */
static void test_json_values(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *j = NULL;
	struct ts_error e = {0};
	assert_int_equal(parse(" [1, -0, 0.5, -1.5E-7, 9223372036854775807, -9223372036854775808,"
	                       " true, false, null, {}, [], {\"k\": [\"v\"]}] \n",
	                       NULL, a, &j, &e),
	                 TS_ERR_OK);
	assert_int_equal(json_array_size(j), 12);
	assert_true(json_is_integer(json_array_get(j, 1)));
	assert_int_equal(json_integer_value(json_array_get(j, 1)), 0);
	assert_true(json_is_real(json_array_get(j, 2)));
	assert_true(json_real_value(json_array_get(j, 3)) == -1.5e-7);
	assert_true(json_integer_value(json_array_get(j, 4)) == INT64_MAX);
	assert_true(json_integer_value(json_array_get(j, 5)) == INT64_MIN);
	assert_true(json_is_true(json_array_get(j, 6)));
	assert_true(json_is_null(json_array_get(j, 8)));
	assert_string_equal(
	        json_string_value(json_array_get(json_object_get(json_array_get(j, 11), "k"), 0)),
	        "v");
	/* escapes, surrogate pairs, raw UTF-8, keys in their order */
	assert_int_equal(
	        parse("{\"z\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\u0041\":\"\\u00e9\\ud83d\\ude00"
	              "\xc3\xa9\xf0\x9f\x98\x80\",\"m\":1}",
	              NULL, a, &j, &e),
	        TS_ERR_OK);
	assert_string_equal(ts_json_str(j, "z"), "\"\\/\b\f\n\r\t");
	assert_string_equal(ts_json_str(j, "A"),
	                    "\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9\xf0\x9f\x98\x80");
	const char *first = json_object_iter_key(json_object_iter(j));
	assert_string_equal(first, "z");
	static const char *const bad[] = {
	        "[9223372036854775808]",
	        "[-9223372036854775809]",
	        "[1e999]",
	        "[-1e999]",
	        "[\"\\u0000\"]",
	        "[\"\\udc00\"]",
	        "[\"\\ud800\\u0041\"]",
	        "[\"\xc0\x80\"]",
	        "[\"\xed\xa0\x80\"]",
	        "[\"\xf4\x90\x80\x80\"]",
	        "[\"\xe2\x82\"]",
	        "[\"a\x01\"]",
	        "[.5]",
	        "[1.]",
	        "[1e]",
	        "[-01]",
	        "[tru]",
	        "[True]",
	        "42",
	        "\"s\"",
	        "[\"\\u12\"]",
	        "{\"a\":1 \"b\":2}",
	        "{1:2}",
	        "[1] x",
	};
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		j = (json_t *)1;
		if (parse(bad[i], NULL, a, &j, &e) != TS_ERR_BAD_REQUEST || j != NULL)
			fail_msg("case %zu (%s) accepted", i, bad[i]);
	}
	/* a raw NUL byte is refused wherever it is (jansson skipped one after a number) */
	static const char nul[] = "[1\0,2]";
	j = (json_t *)1;
	assert_int_equal(ts_json_parse(nul, sizeof nul - 1, NULL, a, &j, &e), TS_ERR_BAD_REQUEST);
	assert_null(j);
	ts_arena_free(&a);
}

static void test_json_duplicates(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *j = NULL;
	struct ts_error e = {0};
	assert_int_equal(parse("{\"a\":1,\"a\":2}", NULL, a, &j, &e), TS_ERR_BAD_REQUEST);
	assert_null(j);
	assert_int_equal(parse("{\"x\":{\"a\":1,\"b\":2,\"a\":3}}", NULL, a, &j, &e),
	                 TS_ERR_BAD_REQUEST);
	/* the same key in different objects is fine */
	assert_int_equal(parse("[{\"a\":1},{\"a\":2}]", NULL, a, &j, &e), TS_ERR_OK);
	ts_arena_free(&a);
}

static void test_json_prescan_strings(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *j = NULL;
	struct ts_error e = {0};
	/* brackets inside strings, after escaped quotes, are not nesting */
	char *opens = nested("{", "", "", 40);
	char *doc = malloc(strlen(opens) + 64);
	snprintf(doc, strlen(opens) + 64, "[\"a\\\"%s\"]", opens);
	assert_int_equal(parse(doc, NULL, a, &j, &e), TS_ERR_OK);
	assert_int_equal(strlen(json_string_value(json_array_get(j, 0))), 42);
	/* an escaped backslash ends before the quote: the next string is a string */
	snprintf(doc, strlen(opens) + 64, "[\"\\\\\", \"%s\"]", opens);
	assert_int_equal(parse(doc, NULL, a, &j, &e), TS_ERR_OK);
	assert_string_equal(json_string_value(json_array_get(j, 0)), "\\");
	free(doc);
	free(opens);

	/* closers inside strings must not buy extra depth */
	char *closers = nested("", "}", "", 40);
	char *deep = nested("[", "]", "1", TS_JSON_MAX_DEPTH);
	size_t len = strlen(closers) + strlen(deep) + 16;
	char *trick = malloc(len);
	snprintf(trick, len, "[\"%s\",%s]", closers, deep);
	assert_int_equal(parse(trick, NULL, a, &j, &e), TS_ERR_TOO_LARGE);
	snprintf(trick, len, "[\"\\\"%s\",%s]", closers, deep);
	assert_int_equal(parse(trick, NULL, a, &j, &e), TS_ERR_TOO_LARGE);
	free(trick);
	free(deep);
	free(closers);

	/* an escaped quote does not end the string for the length cap either */
	struct ts_json_limits lim = {.max_string = 8};
	assert_int_equal(parse("[\"ab\\\"cdefghij\"]", &lim, a, &j, &e), TS_ERR_TOO_LARGE);
	ts_arena_free(&a);
}

static void test_json_arena_ownership(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	json_t *j = NULL;
	struct ts_error e = {0};
	assert_int_equal(parse("{\"k\":[1,2,{\"x\":\"y\"}],\"s\":\"v\"}", NULL, a, &j, &e),
	                 TS_ERR_OK);
	assert_int_equal(j->refcount, 1);
	assert_string_equal(ts_json_str(j, "s"), "v");
	assert_null(ts_json_str(j, "k"));
	assert_null(ts_json_str(j, "missing"));
	size_t n = 0;
	assert_string_equal(ts_json_dump(a, j, &n), "{\"k\":[1,2,{\"x\":\"y\"}],\"s\":\"v\"}");
	assert_int_equal(n, strlen("{\"k\":[1,2,{\"x\":\"y\"}],\"s\":\"v\"}"));
	ts_json_set_str(j, "s", NULL);
	assert_true(json_is_null(json_object_get(j, "s")));
	ts_json_set_str(j, "t", "w");
	assert_string_equal(ts_json_str(j, "t"), "w");
	/* more documents owned by the arena: released by ts_arena_free (ASan checks) */
	for (int i = 0; i < 20; i++)
		assert_int_equal(parse("[{\"a\":\"b\"},[1,2,3]]", NULL, a, &j, &e), TS_ERR_OK);
	(void)ts_json_own(a, json_pack("{s:[i,i]}", "x", 1, 2));
	assert_null(ts_json_own(a, NULL));
	ts_arena_free(&a);

	/* without an arena the caller owns the reference */
	assert_int_equal(parse("[1]", NULL, NULL, &j, &e), TS_ERR_OK);
	json_decref(j);
}

/* ---- crypto ------------------------------------------------------------------------------- */

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_crypto_uuid(void **state)
{
	(void)state;
	enum { N = 200 };
	static char seen[N][TS_UUID_LEN + 1];
	for (int i = 0; i < N; i++) {
		char u[TS_UUID_LEN + 1];
		memset(u, 'Z', sizeof u);
		ts_uuid_v4(u);
		assert_int_equal(strlen(u), TS_UUID_LEN);
		for (int k = 0; k < TS_UUID_LEN; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23)
				assert_int_equal(u[k], '-');
			else
				assert_true(is_lower_hex(u[k]));
		}
		/* RFC 4122 §4.4: version 4, variant 10xx */
		assert_int_equal(u[14], '4');
		assert_non_null(strchr("89ab", u[19]));
		for (int k = 0; k < i; k++)
			assert_string_not_equal(seen[k], u);
		memcpy(seen[i], u, sizeof u);
	}
}

/* A deadline is the clock's time plus the interval, normalised (tv_nsec below one second). */
static void test_time_deadline(void **state)
{
	(void)state;
	const int64_t steps[] = {0, 1, 999999999, 1000000000, 1500000000, 2000000000};
	for (size_t i = 0; i < N_ITEMS(steps); i++) {
		int64_t before = ts_mono_ns();
		struct timespec t = ts_deadline(CLOCK_MONOTONIC, steps[i]);
		int64_t after = ts_mono_ns();
		assert_in_range(t.tv_nsec, 0, 999999999);
		int64_t at = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
		assert_true(at >= before + steps[i] && at <= after + steps[i]);
	}
}

static void test_crypto_uuid_v7(void **state)
{
	(void)state;
	char prev[TS_UUID_LEN + 1] = "";
	for (int i = 0; i < 50; i++) {
		int64_t before = ts_now_ms();
		char u[TS_UUID_LEN + 1];
		ts_uuid_v7(u);
		int64_t after = ts_now_ms();
		assert_int_equal(strlen(u), TS_UUID_LEN);
		/* RFC 9562 §5.7: unix_ts_ms in the first 48 bits, version 7, variant 10xx */
		char hex[13];
		memcpy(hex, u, 8);
		memcpy(hex + 8, u + 9, 4);
		hex[12] = '\0';
		int64_t ms = (int64_t)strtoll(hex, NULL, 16);
		assert_in_range(ms, before, after);
		assert_int_equal(u[14], '7');
		assert_non_null(strchr("89ab", u[19]));
		/* one process's ids sort in the order they were made, within a millisecond too */
		if (prev[0] != '\0')
			assert_true(strcmp(prev, u) < 0);
		memcpy(prev, u, sizeof u);
		if (i % 10 == 9) {
			struct timespec pause = {0, 2000000};
			nanosleep(&pause, NULL);
		}
	}
	/* a burst: many ids per millisecond, past the 4096 rand_a holds */
	for (int i = 0; i < 20000; i++) {
		char u[TS_UUID_LEN + 1];
		ts_uuid_v7(u);
		if (strcmp(prev, u) >= 0)
			fail_msg("id %d: %s after %s", i, u, prev);
		assert_int_equal(u[14], '7');
		memcpy(prev, u, sizeof u);
	}
}

static void *uuid_v7_burst(void *arg)
{
	char(*ids)[TS_UUID_LEN + 1] = arg;
	for (int i = 0; i < 5000; i++)
		ts_uuid_v7(ids[i]);
	return NULL;
}

/* Threads making ids at once: each thread's ids in order, none made twice. */
static void test_crypto_uuid_v7_threads(void **state)
{
	(void)state;
	enum { THREADS = 4, EACH = 5000 };
	static char ids[THREADS][EACH][TS_UUID_LEN + 1];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, uuid_v7_burst, ids[i]), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	static char all[THREADS * EACH][TS_UUID_LEN + 1];
	for (int i = 0; i < THREADS; i++) {
		for (int k = 1; k < EACH; k++)
			assert_true(strcmp(ids[i][k - 1], ids[i][k]) < 0);
		memcpy(all[i * EACH], ids[i], sizeof ids[i]);
	}
	qsort(all, THREADS * EACH, sizeof all[0], (int (*)(const void *, const void *))strcmp);
	for (int k = 1; k < THREADS * EACH; k++)
		assert_string_not_equal(all[k - 1], all[k]);
}

static void test_crypto_token(void **state)
{
	(void)state;
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const size_t lens[] = {0, 1, 2, 16, 32, 64, 200};
	for (size_t i = 0; i < N_ITEMS(lens); i++) {
		char buf[256];
		memset(buf, '#', sizeof buf);
		ts_random_token(buf, lens[i]);
		assert_int_equal(strlen(buf), lens[i]);
		for (size_t k = 0; k < lens[i]; k++)
			assert_non_null(strchr(alphabet, buf[k]));
		assert_int_equal(buf[lens[i] + 1], '#'); /* nothing written past the NUL */
	}
	/* every character of the alphabet turns up, and two tokens differ */
	bool used[256] = {false};
	for (int r = 0; r < 100; r++) {
		char t[101];
		ts_random_token(t, 100);
		for (int k = 0; k < 100; k++)
			used[(unsigned char)t[k]] = true;
	}
	for (const char *p = alphabet; *p; p++)
		assert_true(used[(unsigned char)*p]);
	char t1[33], t2[33];
	ts_random_token(t1, 32);
	ts_random_token(t2, 32);
	assert_string_not_equal(t1, t2);
}

static void test_crypto_hex_sha256(void **state)
{
	(void)state;
	const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof in + 1];
	ts_hex_encode(in, sizeof in, out);
	assert_string_equal(out, "00017f80abff");
	char empty[1] = {'x'};
	ts_hex_encode(in, 0, empty);
	assert_string_equal(empty, "");

	char h[TS_SHA256_HEX_LEN + 1];
	/* FIPS 180-2 appendix B.1 */
	ts_sha256_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ts_sha256_hex("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* FIPS 180-2 appendix B.2 */
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	ts_sha256_hex(two, strlen(two), h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_crypto_secret_equal(void **state)
{
	(void)state;
	assert_true(ts_secret_equal("", ""));
	assert_true(ts_secret_equal("secret", "secret"));
	assert_false(ts_secret_equal("secret", "secreT"));
	assert_false(ts_secret_equal("secret", "secret2"));
	assert_false(ts_secret_equal("secret2", "secret"));
	assert_false(ts_secret_equal("", "x"));
	assert_false(ts_secret_equal("Xecret", "secret"));
}

static void test_crypto_b64url(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	/* RFC 4648 §10 vectors, without padding */
	static const struct {
		const char *in, *out;
	} vec[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
	           {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
	for (size_t i = 0; i < N_ITEMS(vec); i++) {
		const char *enc =
		        ts_b64url_encode(a, (const unsigned char *)vec[i].in, strlen(vec[i].in));
		assert_string_equal(enc, vec[i].out);
		size_t n = 99;
		unsigned char *dec = ts_b64url_decode(a, vec[i].out, &n);
		assert_non_null(dec);
		assert_int_equal(n, strlen(vec[i].in));
		assert_memory_equal(dec, vec[i].in, n);
	}
	/* the URL-safe alphabet: - and _ instead of + and / */
	const unsigned char hi[] = {0xfb, 0xff, 0xbf};
	assert_string_equal(ts_b64url_encode(a, hi, sizeof hi), "-_-_");
	/* padding is accepted on input */
	size_t n = 0;
	unsigned char *d = ts_b64url_decode(a, "Zg==", &n);
	assert_non_null(d);
	assert_int_equal(n, 1);
	assert_int_equal(d[0], 'f');

	/* round trip of every length 0..40 */
	for (size_t len = 0; len <= 40; len++) {
		unsigned char buf[40];
		ts_random_bytes(buf, len);
		char *enc = ts_b64url_encode(a, buf, len);
		assert_int_equal(strlen(enc), (len * 4 + 2) / 3);
		assert_null(strpbrk(enc, "+/="));
		size_t m = 999;
		unsigned char *back = ts_b64url_decode(a, enc, &m);
		assert_non_null(back);
		assert_int_equal(m, len);
		if (len > 0)
			assert_memory_equal(back, buf, len);
	}

	/* RFC 4648 §3.3: characters outside the alphabet are rejected; padding only at the end */
	static const char *const bad[] = {
	        "Zm9v!", "Zm+v",    "Zm/v",    "Z",        "Zm9vY", " Zm9v", "Zm9v ", "Zm\n9v",
	        "%41",   "Zm9\x80", "Zm9\xff", "\xc3\xa9", "Zm=9v", "Z=g",   "Zm9v=", "Zg==="};
	int accepted = 0;
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		size_t m = 0;
		if (ts_b64url_decode(a, bad[i], &m) != NULL) {
			print_error("bad base64url case %zu was accepted (%zu bytes)\n", i, m);
			accepted++;
		}
	}
	ts_arena_free(&a); /* before the verdict: a failure must not also leak */
	assert_int_equal(accepted, 0);
}

static void test_crypto_seal(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	unsigned char key[TS_MASTER_KEY_LEN], other[TS_MASTER_KEY_LEN];
	ts_random_bytes(key, sizeof key);
	memcpy(other, key, sizeof key);
	other[0] ^= 1;

	char *longtext = ts_arena_alloc(a, 5001);
	memset(longtext, 'L', 5000);
	const char *texts[] = {"", "x", "client-secret-123", "ünïcødé ✓", longtext};
	for (size_t i = 0; i < N_ITEMS(texts); i++) {
		char *s1 = ts_secret_seal(a, key, texts[i]);
		char *s2 = ts_secret_seal(a, key, texts[i]);
		assert_non_null(s1);
		/* a fresh nonce every time */
		assert_string_not_equal(s1, s2);
		if (strlen(texts[i]) >= 16) /* the plaintext does not show through */
			assert_null(strstr(s1, texts[i]));
		char *plain = NULL;
		struct ts_error e = {0};
		assert_int_equal(ts_secret_open(a, key, s1, &plain, &e), TS_ERR_OK);
		assert_string_equal(plain, texts[i]);
		plain = NULL;
		assert_int_equal(ts_secret_open(a, other, s1, &plain, &e), TS_ERR_INTERNAL);
		assert_null(plain);
	}

	char *sealed = ts_secret_seal(a, key, "tamper-me");
	size_t len = strlen(sealed);
	/* change one character at a time, at several places */
	for (size_t pos = 0; pos < len; pos += 3) {
		char *t = ts_arena_strdup(a, sealed);
		t[pos] = t[pos] == 'A' ? 'B' : 'A';
		char *plain = NULL;
		struct ts_error e = {0};
		if (ts_secret_open(a, key, t, &plain, &e) == TS_ERR_OK)
			fail_msg("tampered at %zu, still opened", pos);
	}
	static const char *const garbage[] = {"", "AAAA", "!!!!", "not sealed at all"};
	for (size_t i = 0; i < N_ITEMS(garbage); i++) {
		char *plain = NULL;
		struct ts_error e = {0};
		assert_int_equal(ts_secret_open(a, key, garbage[i], &plain, &e), TS_ERR_INTERNAL);
	}
	/* truncated */
	char *cut = ts_arena_strndup(a, sealed, len - 4);
	char *plain = NULL;
	assert_int_equal(ts_secret_open(a, key, cut, &plain, NULL), TS_ERR_INTERNAL);
	ts_arena_free(&a);
}

/* Paging tokens are sealed bound to their listing, under a key of their own. */
static void test_crypto_seal_bound(void **state)
{
	(void)state;
	ts_arena_t *a = ts_arena_new();
	unsigned char master[TS_MASTER_KEY_LEN], k1[TS_MASTER_KEY_LEN], k2[TS_MASTER_KEY_LEN],
	        k3[TS_MASTER_KEY_LEN];
	ts_random_bytes(master, sizeof master);
	ts_secret_subkey(master, "adminpg1", k1);
	ts_secret_subkey(master, "adminpg1", k2);
	ts_secret_subkey(master, "otherpur", k3);
	/* the same purpose gives the same key; another purpose, or the master, not */
	assert_memory_equal(k1, k2, sizeof k1);
	assert_memory_not_equal(k1, k3, sizeof k1);
	assert_memory_not_equal(k1, master, sizeof k1);

	const char *pos = "227c118a-1e7f-4be6-a795-84b2917e324d";
	char *t = ts_secret_seal_bound(a, k1, pos, "ListAccounts\n\nTSAK1\nname=x&");
	assert_null(strstr(t, pos));
	char *plain = NULL;
	assert_int_equal(
	        ts_secret_open_bound(a, k1, t, "ListAccounts\n\nTSAK1\nname=x&", &plain, NULL),
	        TS_ERR_OK);
	assert_string_equal(plain, pos);
	/* another binding, none, another key: refused */
	static const char *const others[] = {"ListAccounts\n\nTSAK2\nname=x&",
	                                     "ListAccounts\n\nTSAK1\n", "ListAdminKeys\n\nTSAK1\n",
	                                     ""};
	for (size_t i = 0; i < N_ITEMS(others); i++)
		assert_int_equal(ts_secret_open_bound(a, k1, t, others[i], &plain, NULL),
		                 TS_ERR_INTERNAL);
	assert_int_equal(ts_secret_open(a, k1, t, &plain, NULL), TS_ERR_INTERNAL);
	assert_int_equal(
	        ts_secret_open_bound(a, k3, t, "ListAccounts\n\nTSAK1\nname=x&", &plain, NULL),
	        TS_ERR_INTERNAL);
	/* unbound sealing is the NULL binding: old sealed secrets still open */
	char *u = ts_secret_seal(a, master, "s");
	assert_int_equal(ts_secret_open_bound(a, master, u, NULL, &plain, NULL), TS_ERR_OK);
	assert_string_equal(plain, "s");
	ts_arena_free(&a);
}

/* ---- time --------------------------------------------------------------------------------- */

static void test_time_format(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *iso, *iso_ms;
	} cases[] = {
	        {0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"},
	        {1, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.001Z"},
	        {999, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.999Z"},
	        {1700000000123, "2023-11-14T22:13:20Z", "2023-11-14T22:13:20.123Z"},
	        {951782400000, "2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"},
	        {4102444799999, "2099-12-31T23:59:59Z", "2099-12-31T23:59:59.999Z"},
	        {-1, "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.999Z"},
	        {-14182940000, "1969-07-20T20:17:40Z", "1969-07-20T20:17:40.000Z"},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		char a[32], b[32];
		ts_time_iso(cases[i].ms, a);
		ts_time_iso_ms(cases[i].ms, b);
		assert_string_equal(a, cases[i].iso);
		assert_string_equal(b, cases[i].iso_ms);
		assert_int_equal(strlen(b), TS_ISO8601_LEN);
	}
	/* the digit-by-digit writer agrees with strftime over years 1000-9999 */
	for (int64_t ms = -30610224000000; ms < 253402300799999; ms += 7777777777777 / 1000 + 997) {
		char got[32], want[48], base[40];
		ts_time_iso_ms(ms, got);
		time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		struct tm tm;
		gmtime_r(&s, &tm);
		strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want, sizeof want, "%s.%03dZ", base, (int)(ms - (int64_t)s * 1000));
		assert_string_equal(got, want);
		ts_time_iso(ms, got);
		snprintf(want, sizeof want, "%sZ", base);
		assert_string_equal(got, want);
	}
}

static void test_time_parse_ok(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t ms;
	} cases[] = {
	        {"1970-01-01T00:00:00Z", 0},
	        {"2023-11-14T22:13:20Z", 1700000000000},
	        {"2023-11-14t22:13:20z", 1700000000000},
	        {"2023-11-14T22:13:20.123Z", 1700000000123},
	        {"2023-11-14T22:13:20.1Z", 1700000000100},
	        {"2023-11-14T22:13:20.12Z", 1700000000120},
	        {"2023-11-14T22:13:20.123456789Z", 1700000000123},
	        {"2023-11-14T22:13:20.999Z", 1700000000999},
	        {"2023-11-15T00:13:20+02:00", 1700000000000},
	        {"2023-11-14T16:43:20-05:30", 1700000000000},
	        {"2023-11-14T16:43:20.5-05:30", 1700000000500},
	        {"2023-11-14T22:13:20+00:00", 1700000000000},
	        {"2023-11-14T22:13:20-00:00", 1700000000000},
	        {"2000-02-29T00:00:00Z", 951782400000},
	        {"1969-12-31T23:59:59Z", -1000},
	        {"2099-12-31T23:59:59.999Z", 4102444799999},
	};
	for (size_t i = 0; i < N_ITEMS(cases); i++) {
		int64_t ms = 42;
		if (!ts_time_parse(cases[i].in, &ms))
			fail_msg("refused %s", cases[i].in);
		if (ms != cases[i].ms)
			fail_msg("%s: got %lld, want %lld", cases[i].in, (long long)ms,
			         (long long)cases[i].ms);
	}
}

static void test_time_parse_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	        "",
	        "2023",
	        "2023-11-14",
	        "2023-11-14T22:13:20",    /* no zone */
	        "2023-11-14T22:13Z",      /* no seconds */
	        "2023-11-14T22:13:20.Z",  /* empty fraction */
	        "2023-11-14T22:13:20,5Z", /* comma fraction */
	        "2023-11-14T22:13:20ZZ",  /* trailing junk */
	        "2023-11-14T22:13:20Z ",  /* trailing space */
	        " 2023-11-14T22:13:20Z",  /* leading space */
	        "2023-11-14T22:13:20+02", /* short offset */
	        "2023-11-14T22:13:20+0200",
	        "2023-11-14T22:13:20+02:0",
	        "2023-11-14T22:13:20+02:00x",
	        "2023-11-14T22:13:20 +02:00",
	        "2023-11-14X22:13:20Z",
	        "2023/11/14T22:13:20Z",
	        "2023-11-14T22-13-20Z",
	        "20231114T221320Z",
	        "2023-1a-14T22:13:20Z",
	        "2023-11-14T2a:13:20Z",
	        "+2023-11-14T22:13:20Z",
	        "-023-11-14T22:13:20Z",
	        "2023-00-14T22:13:20Z", /* month 0 */
	        "2023-13-14T22:13:20Z", /* month 13 */
	        "2023-11-00T22:13:20Z", /* day 0 */
	        "2023-11-32T22:13:20Z", /* day 32 */
	        "2023-11-14T24:00:00Z", /* hour 24 */
	        "2023-11-14T22:60:00Z", /* minute 60 */
	        "2023-11-14T22:13:61Z", /* second 61 */
	        /* RFC 3339 §5.7: the day must exist in that month and year */
	        "2023-02-29T00:00:00Z",
	        "2023-04-31T00:00:00Z",
	        "2100-02-29T00:00:00Z",
	        /* RFC 3339 §5.6: time-numoffset uses time-hour (00-23) and time-minute (00-59) */
	        "2023-11-14T22:13:20+24:00",
	        "2023-11-14T22:13:20+99:00",
	        "2023-11-14T22:13:20+02:60",
	};
	int accepted = 0;
	for (size_t i = 0; i < N_ITEMS(bad); i++) {
		int64_t ms = 0;
		if (ts_time_parse(bad[i], &ms)) {
			print_error("accepted malformed time \"%s\" as %lld\n", bad[i],
			            (long long)ms);
			accepted++;
		}
	}
	assert_int_equal(accepted, 0);
}

static void test_time_round_trip(void **state)
{
	(void)state;
	int64_t ms = -86400000LL * 365;
	for (int i = 0; i < 5000; i++) {
		char buf[32];
		int64_t back = 0;
		ts_time_iso_ms(ms, buf);
		assert_true(ts_time_parse(buf, &back));
		assert_int_equal(back, ms);
		ts_time_iso(ms, buf);
		assert_true(ts_time_parse(buf, &back));
		int64_t secs = ms - (((ms % 1000) + 1000) % 1000);
		assert_int_equal(back, secs);
		ms += 1234567891LL + i; /* about 14 days, with varying milliseconds */
	}
	/* now round-trips too */
	int64_t now = ts_now_ms(), back = 0;
	char buf[32];
	ts_time_iso_ms(now, buf);
	assert_true(ts_time_parse(buf, &back));
	assert_int_equal(back, now);
	assert_true(ts_mono_ns() > 0);
}

static int setup_crypto(void **state)
{
	(void)state;
	return ts_crypto_init() == TS_ERR_OK ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_error_table_complete),
	        cmocka_unit_test(test_error_admin_codes),
	        cmocka_unit_test(test_error_clamp),
	        cmocka_unit_test(test_error_set),
	        cmocka_unit_test(test_error_text),
	        cmocka_unit_test(test_arena_small_and_large),
	        cmocka_unit_test(test_arena_zeroed_after_reuse),
	        cmocka_unit_test(test_arena_used),
	        cmocka_unit_test(test_arena_strings),
	        cmocka_unit_test(test_arena_grow),
	        cmocka_unit_test(test_utf8_next),
	        cmocka_unit_test(test_hex_decode),
	        cmocka_unit_test(test_arena_defer),
	        cmocka_unit_test(test_arena_defer_frees),
	        cmocka_unit_test(test_json_depth),
	        cmocka_unit_test(test_json_string_cap),
	        cmocka_unit_test(test_json_max_bytes),
	        cmocka_unit_test(test_json_malformed),
	        cmocka_unit_test(test_json_values),
	        cmocka_unit_test(test_json_duplicates),
	        cmocka_unit_test(test_json_prescan_strings),
	        cmocka_unit_test(test_json_arena_ownership),
	        cmocka_unit_test(test_crypto_uuid),
	        cmocka_unit_test(test_time_deadline),
	        cmocka_unit_test(test_crypto_uuid_v7),
	        cmocka_unit_test(test_crypto_uuid_v7_threads),
	        cmocka_unit_test(test_crypto_token),
	        cmocka_unit_test(test_crypto_hex_sha256),
	        cmocka_unit_test(test_crypto_secret_equal),
	        cmocka_unit_test(test_crypto_b64url),
	        cmocka_unit_test(test_crypto_seal),
	        cmocka_unit_test(test_crypto_seal_bound),
	        cmocka_unit_test(test_time_format),
	        cmocka_unit_test(test_time_parse_ok),
	        cmocka_unit_test(test_time_parse_refused),
	        cmocka_unit_test(test_time_round_trip),
	};
	return cmocka_run_group_tests(tests, setup_crypto, NULL);
}
