/*
 * Request throttling: a token bucket per key, in process memory. SCIM
 * limits each API key (scim-clients.md item 67: too many requests -> 429);
 * the browser sign-in limits each client address (login/login.h).
 * Several `tessera serve` nodes on one store share a key's budget:
 * each node learns how many nodes are live (the heartbeat of store/nodes.h)
 * and enforces rate / nodes with a burst of burst / nodes
 * (ts_throttle_share), so that a load balancer spreading a key's
 * requests over the nodes lets about rate per second through in all, with no
 * store round trip per request. A key whose requests all reach one node gets
 * only that node's share: the balancer is expected to spread them.
 *
 * Memory is bounded: a fixed table of TS_THROTTLE_WAYS-way sets, one
 * mutex per set. A key's bucket takes the slot of an idle bucket (one that
 * has refilled, so forgetting it changes nothing) or, when every slot of its
 * set is busy, of the bucket nearest to full: under pressure the limiter
 * errs towards letting requests through, never towards refusing a key that
 * has not spent its budget.
 */
#ifndef TS_THROTTLE_H
#define TS_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_THROTTLE_SLOTS 4096       /* buckets a server keeps (default table) */
#define TS_THROTTLE_WAYS 8           /* slots a key may use: one set */
#define TS_THROTTLE_KEY_MAX 40       /* bytes of a key kept, with the NUL */
#define TS_THROTTLE_RATE_MAX 1000000 /* requests per second */

typedef struct ts_throttle ts_throttle_t;

/*
 * A limiter of rate requests per second per key, with bursts of up to burst
 * requests (both >= 1, rate <= TS_THROTTLE_RATE_MAX), in a table of at
 * least slots buckets (rounded up to whole sets of a power-of-two count).
 * Free with ts_throttle_free.
 */
ts_throttle_t *ts_throttle_new(unsigned rate, unsigned burst, size_t slots);
/* Frees *t and sets it to NULL; NULL and *t == NULL are fine. */
void ts_throttle_free(ts_throttle_t **t);

/*
 * Takes one token from key's bucket at now_ns (a monotonic clock: the
 * caller passes it, so that tests can move time). True when the request may
 * go on; false when the bucket is empty, and then *retry_after_s is the
 * whole number of seconds (>= 1) until a token is back. A NULL limiter lets
 * everything through. Thread-safe. Keys longer than
 * TS_THROTTLE_KEY_MAX - 1 bytes are told apart by their first bytes and
 * a 64-bit hash of the whole key.
 */
bool ts_throttle_take(ts_throttle_t *t, const char *key, int64_t now_ns, int64_t *retry_after_s);

/*
 * Splits the limiter's rate and burst between nodes live nodes (>= 1; 1
 * undoes it), from now on: buckets keep their state and are measured with
 * the new interval. Thread-safe.
 */
void ts_throttle_share(ts_throttle_t *t, unsigned nodes);
/* The nodes the limiter currently shares with (1 when alone or t is NULL). */
unsigned ts_throttle_nodes(const ts_throttle_t *t);

/* Buckets in use, and the table's capacity in buckets (for tests and metrics). */
size_t ts_throttle_tracked(ts_throttle_t *t);
size_t ts_throttle_capacity(const ts_throttle_t *t);

#endif
