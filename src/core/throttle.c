/*
 * The token buckets of request throttling (throttle.h). A bucket is kept as one number, its
 * theoretical arrival time (the generic cell rate algorithm, ITU-T I.371),
 * which is a token bucket in another form: the bucket is full when tat <= now,
 * each request moves tat one interval (1/rate s) later, and a request is
 * refused when that would put tat more than burst - 1 intervals ahead of
 * now. Integer nanoseconds throughout: no drift from adding fractions.
 */
#include "core/throttle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/token.h"

#define NS_PER_S 1000000000LL

struct slot {
	uint64_t hash;
	int64_t tat_ns;                /* theoretical arrival time; <= now: the bucket is full */
	char key[TS_THROTTLE_KEY_MAX]; /* "" : free */
};

struct set {
	pthread_mutex_t mu;
	struct slot slot[TS_THROTTLE_WAYS];
};

struct ts_throttle {
	unsigned rate, burst; /* for the whole cluster */
	/* this node's share (ts_throttle_share), replaced together */
	_Atomic int64_t interval_ns;  /* between two tokens */
	_Atomic int64_t tolerance_ns; /* (burst - 1) intervals: how far ahead tat may run */
	atomic_uint nodes;
	size_t nsets; /* a power of two */
	struct set *sets;
};

ts_throttle_t *ts_throttle_new(unsigned rate, unsigned burst, size_t slots)
{
	if (rate < 1)
		rate = 1;
	if (rate > TS_THROTTLE_RATE_MAX)
		rate = TS_THROTTLE_RATE_MAX;
	if (burst < 1)
		burst = 1;
	ts_throttle_t *t = ts_calloc(1, sizeof *t);
	t->rate = rate;
	t->burst = burst;
	ts_throttle_share(t, 1);
	size_t want = (slots + TS_THROTTLE_WAYS - 1) / TS_THROTTLE_WAYS;
	t->nsets = 1;
	while (t->nsets < want)
		t->nsets <<= 1;
	t->sets = ts_calloc(t->nsets, sizeof *t->sets);
	for (size_t i = 0; i < t->nsets; i++)
		pthread_mutex_init(&t->sets[i].mu, NULL);
	return t;
}

void ts_throttle_share(ts_throttle_t *t, unsigned nodes)
{
	if (t == NULL)
		return;
	if (nodes < 1)
		nodes = 1;
	if (nodes > t->rate)
		nodes = t->rate; /* at least one request per second per node */
	unsigned burst = t->burst / nodes;
	if (burst < 1)
		burst = 1;
	int64_t interval = NS_PER_S * (int64_t)nodes / (int64_t)t->rate;
	/* the two are read apart: a request between the stores sees one old, one new; harmless */
	atomic_store(&t->interval_ns, interval);
	atomic_store(&t->tolerance_ns, (int64_t)(burst - 1) * interval);
	atomic_store(&t->nodes, nodes);
}

unsigned ts_throttle_nodes(const ts_throttle_t *t)
{
	return t != NULL ? atomic_load(&((ts_throttle_t *)t)->nodes) : 1;
}

void ts_throttle_free(ts_throttle_t **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	ts_throttle_t *t = *tp;
	for (size_t i = 0; i < t->nsets; i++)
		pthread_mutex_destroy(&t->sets[i].mu);
	ts_free(t->sets);
	TS_FREE(tp);
}

/* The slot of key in s: its own, else a free one, else the one nearest to full. */
static struct slot *slot_for(struct set *s, const char *key, uint64_t h, int64_t now_ns)
{
	struct slot *victim = &s->slot[0];
	for (int i = 0; i < TS_THROTTLE_WAYS; i++) {
		struct slot *x = &s->slot[i];
		if (x->key[0] == '\0') {
			if (victim->key[0] != '\0')
				victim = x;
			continue;
		}
		if (x->hash == h && strncmp(x->key, key, sizeof x->key - 1) == 0)
			return x;
		if (victim->key[0] != '\0' && x->tat_ns < victim->tat_ns)
			victim = x;
	}
	/* a fresh bucket is a full one */
	victim->hash = h;
	victim->tat_ns = now_ns;
	size_t n = strnlen(key, sizeof victim->key - 1);
	memcpy(victim->key, key, n);
	victim->key[n] = '\0';
	return victim;
}

bool ts_throttle_take(ts_throttle_t *t, const char *key, int64_t now_ns, int64_t *retry_after_s)
{
	*retry_after_s = 0;
	if (t == NULL)
		return true;
	if (key == NULL || key[0] == '\0')
		key = "-"; /* every caller authenticated, but never an unkeyed bucket */
	uint64_t h = ts_token_id_hash(key);
	struct set *s = &t->sets[((h >> 32) ^ h) & (t->nsets - 1)];
	int64_t interval = atomic_load(&t->interval_ns);
	int64_t tolerance = atomic_load(&t->tolerance_ns);
	pthread_mutex_lock(&s->mu);
	struct slot *b = slot_for(s, key, h, now_ns);
	int64_t tat = b->tat_ns > now_ns ? b->tat_ns : now_ns;
	bool ok = tat - now_ns <= tolerance;
	if (ok)
		b->tat_ns = tat + interval;
	pthread_mutex_unlock(&s->mu);
	if (!ok) {
		/* the next token is due when tat is back within the tolerance */
		int64_t wait = tat - tolerance - now_ns;
		int64_t secs = (wait + NS_PER_S - 1) / NS_PER_S;
		*retry_after_s = secs < 1 ? 1 : secs;
	}
	return ok;
}

size_t ts_throttle_tracked(ts_throttle_t *t)
{
	size_t n = 0;
	for (size_t i = 0; t != NULL && i < t->nsets; i++) {
		pthread_mutex_lock(&t->sets[i].mu);
		for (int k = 0; k < TS_THROTTLE_WAYS; k++)
			n += t->sets[i].slot[k].key[0] != '\0';
		pthread_mutex_unlock(&t->sets[i].mu);
	}
	return n;
}

size_t ts_throttle_capacity(const ts_throttle_t *t)
{
	return t != NULL ? t->nsets * TS_THROTTLE_WAYS : 0;
}
