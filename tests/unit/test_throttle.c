/*
 * Unit tests of SCIM throttling (src/scim/throttle.c, scim-clients.md item
 * 67): the burst, refill over time on a clock the test moves, Retry-After,
 * keys that do not share a budget, the fixed table and which buckets it
 * forgets, and several threads on one key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/throttle.h"

#define S 1000000000LL /* one second in ns */
#define T0 (1000 * S)  /* any start: the clock is monotonic, not zero-based */

/* How many of n requests at now_ns go through. */
static int allowed(ts_throttle_t *t, const char *key, int n, int64_t now_ns)
{
	int ok = 0;
	for (int i = 0; i < n; i++) {
		int64_t retry = -1;
		if (ts_throttle_take(t, key, now_ns, &retry)) {
			assert_int_equal(retry, 0);
			ok++;
		} else {
			assert_true(retry >= 1);
		}
	}
	return ok;
}

static void test_burst_then_refill(void **state)
{
	(void)state;
	ts_throttle_t *t = ts_throttle_new(5, 5, 64);
	/* a fresh key has a full bucket: burst requests at one instant, then none */
	assert_int_equal(allowed(t, "TSSKA", 30, T0), 5);
	int64_t retry = 0;
	assert_false(ts_throttle_take(t, "TSSKA", T0, &retry));
	assert_int_equal(retry, 1); /* 200 ms to the next token, rounded up to whole seconds */

	/* one token every 1/5 s */
	assert_int_equal(allowed(t, "TSSKA", 3, T0 + S / 5 - 1), 0);
	assert_int_equal(allowed(t, "TSSKA", 3, T0 + S / 5), 1);
	assert_int_equal(allowed(t, "TSSKA", 3, T0 + 3 * S / 5), 2);
	/* a long pause refills to the burst, not beyond */
	assert_int_equal(allowed(t, "TSSKA", 30, T0 + 60 * S), 5);
	/* a steady 5 per second goes through indefinitely */
	int64_t now = T0 + 61 * S;
	for (int i = 0; i < 50; i++, now += S / 5)
		assert_int_equal(allowed(t, "TSSKA", 1, now), 1);
	ts_throttle_free(&t);
	assert_null(t);
	ts_throttle_free(&t); /* NULL is fine */
	ts_throttle_free(NULL);
}

/*
 * A key's budget is the cluster's. Two nodes sharing it each let
 * half through; what both let through in a second is the rate, and the
 * burst is split too. Alone again (share 1), the whole rate comes back.
 */
static void test_share_between_nodes(void **state)
{
	(void)state;
	ts_throttle_t *a = ts_throttle_new(100, 100, 64);
	ts_throttle_t *b = ts_throttle_new(100, 100, 64);
	assert_int_equal(ts_throttle_nodes(a), 1);
	ts_throttle_share(a, 2);
	ts_throttle_share(b, 2);
	assert_int_equal(ts_throttle_nodes(a), 2);
	/* the burst: 50 on each */
	assert_int_equal(allowed(a, "K", 1000, T0) + allowed(b, "K", 1000, T0), 100);
	/* one steady second, both nodes asked 1000 times every 10 ms: 50 + 50 more */
	int got = 0;
	for (int64_t now = T0 + S / 100; now <= T0 + S; now += S / 100)
		got += allowed(a, "K", 10, now) + allowed(b, "K", 10, now);
	assert_int_equal(got, 100);
	/* a share never goes below one request per second per node */
	ts_throttle_t *c = ts_throttle_new(2, 2, 64);
	ts_throttle_share(c, 5);
	assert_int_equal(ts_throttle_nodes(c), 2);
	ts_throttle_share(c, 0); /* nonsense means alone */
	assert_int_equal(ts_throttle_nodes(c), 1);
	/* back to one node: the whole rate */
	ts_throttle_share(a, 1);
	assert_int_equal(allowed(a, "K", 1000, T0 + 10 * S), 100);
	ts_throttle_share(NULL, 3);
	assert_int_equal(ts_throttle_nodes(NULL), 1);
	ts_throttle_free(&a);
	ts_throttle_free(&b);
	ts_throttle_free(&c);
}

static void test_retry_after(void **state)
{
	(void)state;
	/* 1 per second with a burst of 3: the wait is one interval, and rounds up */
	ts_throttle_t *t = ts_throttle_new(1, 3, 64);
	assert_int_equal(allowed(t, "k", 3, T0), 3);
	int64_t retry = 0;
	assert_false(ts_throttle_take(t, "k", T0, &retry));
	assert_int_equal(retry, 1);
	assert_false(ts_throttle_take(t, "k", T0 + S / 2, &retry));
	assert_int_equal(retry, 1);
	/* waiting what it said is enough */
	assert_true(ts_throttle_take(t, "k", T0 + S, &retry));
	ts_throttle_free(&t);

	/* a slow rate: Retry-After counts whole seconds, never 0 */
	ts_throttle_t *slow = ts_throttle_new(1, 1, 64);
	assert_true(ts_throttle_take(slow, "k", T0, &retry));
	assert_false(ts_throttle_take(slow, "k", T0 + S - 1, &retry));
	assert_int_equal(retry, 1);
	assert_true(ts_throttle_take(slow, "k", T0 + S, &retry));
	ts_throttle_free(&slow);

	/* no limiter: everything goes through */
	assert_true(ts_throttle_take(NULL, "k", T0, &retry));
	assert_int_equal(retry, 0);
	assert_int_equal(ts_throttle_tracked(NULL), 0);
}

static void test_keys_are_independent(void **state)
{
	(void)state;
	ts_throttle_t *t = ts_throttle_new(5, 5, 64);
	assert_int_equal(allowed(t, "TSSKAAAAAAAAAAAAAAAA", 30, T0), 5);
	/* another key, even one that differs in one byte, has its own full bucket */
	assert_int_equal(allowed(t, "TSSKAAAAAAAAAAAAAAAB", 30, T0), 5);
	assert_int_equal(allowed(t, "TSSKAAAAAAAAAAAAAAA", 30, T0), 5);
	assert_int_equal(allowed(t, "TSSKAAAAAAAAAAAAAAAAA", 30, T0), 5);
	/* and spending them did not give the first key anything back */
	assert_int_equal(allowed(t, "TSSKAAAAAAAAAAAAAAAA", 1, T0), 0);

	/* keys longer than the slot: the hash of the whole key still tells them apart */
	char a[200], b[200];
	memset(a, 'x', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	b[sizeof b - 2] = 'y';
	assert_int_equal(allowed(t, a, 10, T0), 5);
	assert_int_equal(allowed(t, b, 10, T0), 5);
	assert_int_equal(allowed(t, a, 1, T0), 0);
	ts_throttle_free(&t);
}

static void test_table_is_bounded(void **state)
{
	(void)state;
	ts_throttle_t *t = ts_throttle_new(5, 5, 100);
	size_t cap = ts_throttle_capacity(t);
	assert_true(cap >= 100);
	assert_true(cap <= 2 * 100 + TS_THROTTLE_WAYS);
	assert_int_equal(cap % TS_THROTTLE_WAYS, 0);

	/* many more keys than slots: the table never grows */
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "TSSK%016d", i);
		assert_int_equal(allowed(t, key, 1, T0 + i), 1);
		assert_true(ts_throttle_tracked(t) <= cap);
	}
	assert_int_equal(ts_throttle_tracked(t), cap);
	ts_throttle_free(&t);
}

static void test_eviction_keeps_busy_buckets(void **state)
{
	(void)state;
	/* one set: every key competes for the same TS_THROTTLE_WAYS slots */
	ts_throttle_t *t = ts_throttle_new(1, 2, 1);
	assert_int_equal(ts_throttle_capacity(t), TS_THROTTLE_WAYS);
	char key[32];
	/* WAYS - 1 idle keys (one request each, refilled a second later), one exhausted key */
	for (int i = 0; i < TS_THROTTLE_WAYS - 1; i++) {
		snprintf(key, sizeof key, "idle-%d", i);
		assert_int_equal(allowed(t, key, 1, T0), 1);
	}
	assert_int_equal(allowed(t, "busy", 5, T0 + S), 2);
	assert_int_equal(ts_throttle_tracked(t), TS_THROTTLE_WAYS);

	/* newcomers take the idle slots, and the busy key stays refused */
	for (int i = 0; i < 3 * TS_THROTTLE_WAYS; i++) {
		snprintf(key, sizeof key, "new-%d", i);
		assert_int_equal(allowed(t, key, 1, T0 + S), 1);
		assert_int_equal(allowed(t, "busy", 1, T0 + S), 0);
	}
	assert_int_equal(ts_throttle_tracked(t), TS_THROTTLE_WAYS);
	/* once it has refilled it is one more full bucket */
	assert_int_equal(allowed(t, "busy", 5, T0 + 10 * S), 2);
	ts_throttle_free(&t);
}

struct hammer {
	ts_throttle_t *t;
	int ok;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	for (int i = 0; i < 10000; i++) {
		int64_t retry = 0;
		h->ok += ts_throttle_take(h->t, "shared", T0, &retry);
	}
	return NULL;
}

static void test_threads_share_one_budget(void **state)
{
	(void)state;
	ts_throttle_t *t = ts_throttle_new(100, 100, 64);
	struct hammer h[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){.t = t};
		assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += h[i].ok;
	}
	/* at one instant exactly the burst goes through, however the threads interleave */
	assert_int_equal(total, 100);
	ts_throttle_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_burst_then_refill),
	        cmocka_unit_test(test_retry_after),
	        cmocka_unit_test(test_share_between_nodes),
	        cmocka_unit_test(test_keys_are_independent),
	        cmocka_unit_test(test_table_is_bounded),
	        cmocka_unit_test(test_eviction_keeps_busy_buckets),
	        cmocka_unit_test(test_threads_share_one_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
