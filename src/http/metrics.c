/*
 * Request counters by route and status, a latency histogram by route, and
 * the store error counter, rendered as Prometheus text. Counters are
 * relaxed atomics: loops on several threads bump them without locks.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "http/client.h"
#include "http/internal.h"

static const int statuses[] = {200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404,
                               405, 409, 412, 413, 415, 429, 431, 500, 503, 0};
#define NSTATUS ((int)(sizeof statuses / sizeof statuses[0]))
static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                 0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define NBUCKET ((int)(sizeof buckets / sizeof buckets[0]))

struct route_counters {
	atomic_uint_fast64_t by_status[NSTATUS];
	atomic_uint_fast64_t bucket[NBUCKET + 1];
	atomic_uint_fast64_t sum_ns;
};

struct ts__http_metrics {
	const struct ts_http_route *routes;
	int nroutes;
	struct route_counters *c; /* nroutes + 1 */
};

ts__http_metrics_t *ts__http_metrics_new(const struct ts_http_route *routes, int nroutes)
{
	ts__http_metrics_t *m = ts_calloc(1, sizeof *m);
	m->routes = routes;
	m->nroutes = nroutes;
	m->c = ts_calloc((size_t)nroutes + 1, sizeof *m->c);
	return m;
}

void ts__http_metrics_free(ts__http_metrics_t **mp)
{
	if (mp == NULL || *mp == NULL)
		return;
	ts_free((*mp)->c);
	TS_FREE(mp);
}

void ts__http_metrics_count(ts__http_metrics_t *m, int route_index, int status, int64_t ns)
{
	struct route_counters *c = &m->c[route_index < 0 ? m->nroutes : route_index];
	int si = NSTATUS - 1;
	for (int i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status) {
			si = i;
			break;
		}
	atomic_fetch_add_explicit(&c->by_status[si], 1, memory_order_relaxed);
	double s = (double)ns / 1e9;
	int b = 0;
	while (b < NBUCKET && s > buckets[b])
		b++;
	atomic_fetch_add_explicit(&c->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->sum_ns, (uint_fast64_t)ns, memory_order_relaxed);
}

/* The metrics page's size bound (a few KiB in practice; one line per route and status). */
#define METRICS_TEXT_MAX ((size_t)16 << 20)

struct out {
	ts_arena_t *arena;
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...) TS_PRINTF(2, 3);
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = ts_arena_vprintf(o->arena, fmt, ap);
	va_end(ap);
	size_t n = strlen(s);
	if (ts_arena_grow(o->arena, &o->buf, 1, o->len, o->len + n + 1, &o->cap,
	                  METRICS_TEXT_MAX) != TS_ERR_OK)
		return; /* past the cap: the rest of the page is left out */
	memcpy(o->buf + o->len, s, n + 1);
	o->len += n;
}

static const char *route_label(const ts__http_metrics_t *m, int i)
{
	if (i == m->nroutes)
		return "unmatched";
	return m->routes[i].name ? m->routes[i].name : m->routes[i].pattern;
}

char *ts__http_metrics_render(ts__http_metrics_t *m, ts_arena_t *arena, size_t *len)
{
	struct out o = {.arena = arena};
	put(&o, "# HELP tessera_http_requests_total HTTP requests by route, method and status.\n"
	        "# TYPE tessera_http_requests_total counter\n");
	for (int i = 0; i <= m->nroutes; i++) {
		const char *method = i == m->nroutes ? "any" : m->routes[i].method;
		for (int s = 0; s < NSTATUS; s++) {
			uint_fast64_t v =
			        atomic_load_explicit(&m->c[i].by_status[s], memory_order_relaxed);
			if (v == 0)
				continue;
			char status[8];
			if (statuses[s])
				snprintf(status, sizeof status, "%d", statuses[s]);
			else
				snprintf(status, sizeof status, "other");
			put(&o,
			    "tessera_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} "
			    "%llu\n",
			    route_label(m, i), method, status, (unsigned long long)v);
		}
	}
	put(&o, "# HELP tessera_http_request_duration_seconds Time from request to response.\n"
	        "# TYPE tessera_http_request_duration_seconds histogram\n");
	for (int i = 0; i <= m->nroutes; i++) {
		uint_fast64_t cum = 0;
		uint_fast64_t counts[NBUCKET + 1];
		for (int b = 0; b <= NBUCKET; b++)
			counts[b] = atomic_load_explicit(&m->c[i].bucket[b], memory_order_relaxed);
		for (int b = 0; b <= NBUCKET; b++)
			cum += counts[b];
		if (cum == 0)
			continue;
		const char *r = route_label(m, i);
		uint_fast64_t run = 0;
		for (int b = 0; b < NBUCKET; b++) {
			run += counts[b];
			put(&o,
			    "tessera_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
			    "%llu\n",
			    r, buckets[b], (unsigned long long)run);
		}
		put(&o,
		    "tessera_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		    "tessera_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "tessera_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
		    r, (unsigned long long)cum, r,
		    (double)atomic_load_explicit(&m->c[i].sum_ns, memory_order_relaxed) / 1e9, r,
		    (unsigned long long)cum);
	}
	struct ts_http_client_stats cs;
	ts_http_client_stats(&cs);
	put(&o,
	    "# HELP tessera_http_client_in_flight Outbound calls (metadata, discovery, JWKS, "
	    "token, userinfo) in flight.\n"
	    "# TYPE tessera_http_client_in_flight gauge\n"
	    "tessera_http_client_in_flight %lld\n"
	    "# HELP tessera_http_client_limit Most outbound calls in flight at once (0: none).\n"
	    "# TYPE tessera_http_client_limit gauge\n"
	    "tessera_http_client_limit %lld\n"
	    "# HELP tessera_http_client_calls_total Outbound calls that got a slot.\n"
	    "# TYPE tessera_http_client_calls_total counter\n"
	    "tessera_http_client_calls_total %llu\n"
	    "# HELP tessera_http_client_busy_total Outbound calls refused: every slot was taken.\n"
	    "# TYPE tessera_http_client_busy_total counter\n"
	    "tessera_http_client_busy_total %llu\n"
	    "# HELP tessera_http_client_refused_total Outbound connections refused: the address "
	    "was not public.\n"
	    "# TYPE tessera_http_client_refused_total counter\n"
	    "tessera_http_client_refused_total %llu\n"
	    "# HELP tessera_http_client_connections_total Outbound connections opened (the other "
	    "calls reused one).\n"
	    "# TYPE tessera_http_client_connections_total counter\n"
	    "tessera_http_client_connections_total %llu\n",
	    (long long)cs.in_flight, (long long)cs.limit, (unsigned long long)cs.calls,
	    (unsigned long long)cs.busy, (unsigned long long)cs.refused,
	    (unsigned long long)cs.connects);
	*len = o.len;
	return o.buf;
}
