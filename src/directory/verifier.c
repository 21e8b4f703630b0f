/*
 * The domain verifier's thread. See verifier.h. Each check runs in three
 * steps so that no transaction is open during the DNS lookup (on SQLite a
 * write transaction holds the one writer lock): claim the due check, look
 * the record up, store the verdict with its audit event (the on_verdict
 * hook: the event's shape is the admin API's, so the admin API writes it).
 * The only JSON here is the fields of log lines, which core/log takes as a
 * jansson object.
 */
#include "directory/verifier.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "directory/domain.h"

struct ts_directory_verifier {
	ts_store_t *store;
	ts_directory_verdict_fn on_verdict;
	struct ts_dns_server servers[TS_NET_DNS_MAX_SERVERS];
	size_t n_servers;
	int dns_timeout_ms, poll_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kicked;
};

static bool stopping(ts_directory_verifier_t *v)
{
	pthread_mutex_lock(&v->mu);
	bool s = v->stop;
	pthread_mutex_unlock(&v->mu);
	return s;
}

/* Stores the verdict of one lookup; the domain may have changed or gone meanwhile. */
static ts_err verdict_once(ts_directory_verifier_t *v, ts_store_conn_t *c, ts_arena_t *a,
                           const struct ts_domain *seen, int64_t claimed_until,
                           enum ts_domain_lookup lookup, char **records, size_t n,
                           struct ts_error *e)
{
	struct ts_domain d;
	ts_err rc = ts_store_begin(c, true, e);
	if (rc != TS_ERR_OK)
		return rc;
	/* locked: a ?operation=verify or a delete meanwhile waits for this verdict */
	rc = ts_store_domain_get_for_update(c, a, seen->account_id, seen->domain_name, &d, e);
	if (rc == TS_ERR_NOT_FOUND ||
	    (rc == TS_ERR_OK &&
	     (strcmp(d.status, TS_DOMAIN_PENDING) != 0 || strcmp(d.token, seen->token) != 0))) {
		ts_store_rollback(c); /* deleted, re-added or decided meanwhile */
		return TS_ERR_OK;
	}
	/* a ?operation=verify during the lookup moved the check before our lease: keep it */
	int64_t requested = d.next_check_ms;
	ts_directory_domain_judge(&d, a, lookup, (const char *const *)records, n, ts_now_ms());
	if (strcmp(d.status, TS_DOMAIN_PENDING) == 0 && requested < claimed_until &&
	    requested < d.next_check_ms)
		d.next_check_ms = requested;
	if (rc == TS_ERR_OK && strcmp(d.status, TS_DOMAIN_VERIFIED) == 0) {
		const char *owner = NULL;
		rc = ts_store_domain_verified_owner(c, a, d.domain_name, &owner, e);
		if (rc == TS_ERR_OK && owner != NULL && strcmp(owner, d.account_id) != 0) {
			/* docs/product.md §1: another account verified it first */
			d.status = TS_DOMAIN_FAILED;
			d.verified_ms = 0;
			d.last_error = "the domain is verified by another account";
		}
	}
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_update(c, &d, e);
	if (rc == TS_ERR_OK && strcmp(d.status, TS_DOMAIN_VERIFIED) == 0)
		rc = ts_directory_domain_on_verified(c, a, d.account_id, e);
	if (rc == TS_ERR_OK && strcmp(d.status, TS_DOMAIN_PENDING) != 0 && v->on_verdict != NULL)
		rc = v->on_verdict(c, a, &d, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, e);
	else
		ts_store_rollback(c);
	if (rc == TS_ERR_OK && strcmp(d.status, TS_DOMAIN_PENDING) != 0)
		ts_log(TS_LOG_INFO, "domain verification decided",
		       json_pack("{s:s, s:s, s:s}", "account_id", d.account_id, "domain",
		                 d.domain_name, "status", d.status));
	return rc;
}

/* verdict_once, run again when the store refused it for another's sake (ts_store_tx_retry). */
static ts_err store_verdict(ts_directory_verifier_t *v, ts_store_conn_t *c, ts_arena_t *a,
                            const struct ts_domain *seen, int64_t claimed_until,
                            enum ts_domain_lookup lookup, char **records, size_t n,
                            struct ts_error *e)
{
	int attempt = 0;
	ts_err rc;
	do
		rc = verdict_once(v, c, a, seen, claimed_until, lookup, records, n, e);
	while (rc != TS_ERR_OK && ts_store_tx_retry(c, rc, &attempt));
	return rc;
}

static void check_one(ts_directory_verifier_t *v, ts_store_conn_t *c, ts_arena_t *a,
                      const struct ts_domain *d)
{
	struct ts_error e = {0};
	bool won = false;
	int64_t lease = ts_now_ms() + TS_VERIFIER_LEASE_MS;
	ts_err rc = ts_store_begin(c, true, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_domain_claim(c, d->account_id, d->domain_name, d->next_check_ms,
		                           lease, &won, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_commit(c, &e);
	else
		ts_store_rollback(c);
	if (rc != TS_ERR_OK || !won)
		goto out;

	char name[TS_DOMAIN_RECORD_NAME_MAX];
	ts_directory_domain_record_name(d->domain_name, name);
	char **records = NULL;
	size_t n = 0;
	struct ts_error dns = {0};
	ts_err found = ts_net_dns_txt(v->servers, v->n_servers, name, v->dns_timeout_ms,
	                              TS_VERIFIER_DNS_TRIES, a, &records, &n, &dns);
	enum ts_domain_lookup lookup = found == TS_ERR_OK          ? TS_DOMAIN_LOOKUP_FOUND
	                               : found == TS_ERR_NOT_FOUND ? TS_DOMAIN_LOOKUP_ABSENT
	                                                           : TS_DOMAIN_LOOKUP_DNS_DOWN;
	if (lookup == TS_DOMAIN_LOOKUP_DNS_DOWN)
		ts_log(TS_LOG_WARN, "domain verification lookup failed",
		       json_pack("{s:o, s:o}", "name", ts_json_text(name), "error",
		                 ts_json_text(dns.message)));
	rc = store_verdict(v, c, a, d, lease, lookup, records, n, &e);
out:
	if (rc != TS_ERR_OK)
		ts_log(TS_LOG_WARN, "domain verifier store error",
		       json_pack("{s:o, s:o}", "domain", ts_json_text(d->domain_name), "error",
		                 ts_json_text(e.message)));
}

/* Sleeps until ms from now, a kick or the stop; returns false when stopping. */
static bool nap(ts_directory_verifier_t *v, int64_t ms, bool *kicked)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&v->mu);
	while (!v->stop && !v->kicked) {
		if (pthread_cond_timedwait(&v->cv, &v->mu, &until) != 0)
			break;
	}
	*kicked = v->kicked;
	v->kicked = false;
	bool go_on = !v->stop;
	pthread_mutex_unlock(&v->mu);
	return go_on;
}

static void *run(void *arg)
{
	ts_directory_verifier_t *v = arg;
	ts_store_conn_t *c = NULL;
	int rescans = 0;
	bool kicked = false;
	while (!stopping(v)) {
		struct ts_error e = {0};
		int64_t sleep_ms = v->poll_ms;
		if (c == NULL && ts_store_connect(v->store, &c, &e) != TS_ERR_OK) {
			ts_log(TS_LOG_WARN, "domain verifier cannot reach the store",
			       json_pack("{s:o}", "error", ts_json_text(e.message)));
			if (!nap(v, sleep_ms, &kicked))
				break;
			continue;
		}
		ts_arena_t *a = ts_arena_new();
		struct ts_domain *due = NULL;
		int n = 0;
		ts_err rc = ts_store_domain_due(c, a, ts_now_ms(), TS_VERIFIER_BATCH, &due, &n, &e);
		for (int i = 0; rc == TS_ERR_OK && i < n && !stopping(v); i++)
			check_one(v, c, a, &due[i]);
		int64_t next = 0;
		bool found = false;
		if (rc == TS_ERR_OK)
			rc = ts_store_domain_next_due(c, &next, &found, &e);
		if (rc != TS_ERR_OK) {
			ts_log(TS_LOG_WARN, "domain verifier store error",
			       json_pack("{s:o}", "error", ts_json_text(e.message)));
			ts_store_disconnect(&c); /* reconnect at the next round */
		} else if (n == TS_VERIFIER_BATCH) {
			sleep_ms = 0; /* more are due */
		} else if (found) {
			int64_t until = next - ts_now_ms();
			sleep_ms = until < 0 ? 0 : (until < sleep_ms ? until : sleep_ms);
		}
		if (rescans > 0 && sleep_ms > TS_VERIFIER_KICK_RESCAN_MS) {
			sleep_ms = TS_VERIFIER_KICK_RESCAN_MS;
			rescans--;
		}
		ts_arena_free(&a);
		if (sleep_ms > 0 && !nap(v, sleep_ms, &kicked))
			break;
		if (kicked)
			rescans = 2; /* the kick may precede the commit that made the check due */
	}
	ts_store_disconnect(&c);
	return NULL;
}

ts_err ts_directory_verifier_start(const struct ts_directory_verifier_config *cfg,
                                   ts_directory_verifier_t **out, struct ts_error *e)
{
	*out = NULL;
	if (cfg->n_servers == 0 || cfg->n_servers > TS_NET_DNS_MAX_SERVERS)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST,
		               "the domain verifier needs 1 to %d DNS servers",
		               TS_NET_DNS_MAX_SERVERS);
	ts_directory_verifier_t *v = ts_calloc(1, sizeof *v);
	v->store = cfg->store;
	v->on_verdict = cfg->on_verdict;
	memcpy(v->servers, cfg->servers, sizeof v->servers[0] * cfg->n_servers);
	v->n_servers = cfg->n_servers;
	v->dns_timeout_ms =
	        cfg->dns_timeout_ms > 0 ? cfg->dns_timeout_ms : TS_VERIFIER_DNS_TIMEOUT_MS;
	v->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : TS_VERIFIER_POLL_MS;
	pthread_mutex_init(&v->mu, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&v->cv, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&v->thread, NULL, run, v) != 0) {
		pthread_cond_destroy(&v->cv);
		pthread_mutex_destroy(&v->mu);
		ts_free(v);
		return TS_FAIL(e, TS_ERR_INTERNAL, "cannot start the domain verifier thread");
	}
	*out = v;
	return TS_ERR_OK;
}

void ts_directory_verifier_kick(ts_directory_verifier_t *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	v->kicked = true;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
}

void ts_directory_verifier_stop(ts_directory_verifier_t **vp)
{
	if (vp == NULL || *vp == NULL)
		return;
	ts_directory_verifier_t *v = *vp;
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
	pthread_join(v->thread, NULL);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	ts_free(v);
	*vp = NULL;
}

void ts_directory_verifier_resolv_conf(const char *path, struct ts_dns_server *servers, size_t max,
                                       size_t *n)
{
	*n = 0;
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	char line[256];
	while (*n < max && fgets(line, sizeof line, f) != NULL) {
		char addr[128];
		if (!ts_net_dns_nameserver_line(line, addr, sizeof addr))
			continue;
		struct ts_error ignored = {0};
		if (ts_net_dns_server_parse(addr, &servers[*n], &ignored) == TS_ERR_OK)
			(*n)++;
	}
	fclose(f);
}
