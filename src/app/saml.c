/*
 * The SAML upkeep thread (app/saml.h). Fetches run outside any transaction,
 * on this thread's own store connection; the change of a refresh is written
 * only if the identity source is still the one that was due (same URL, same
 * fetch time), so that an administrator's PUT meanwhile, or another node's
 * refresh, is never overwritten with an older document.
 */
#include "app/saml.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin/saml.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "saml/response.h"
#include "store/oidc.h"
#include "store/saml.h"

#define FAILED_MAX 64 /* accounts whose last refresh failed, remembered for the retry delay */

struct gauge {
	char account_id[TS_UUID_LEN + 1];
	int64_t not_after_ms;
};

struct ts_app_saml {
	struct ts_app *app;
	int64_t refresh_ms;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kicked;
	/* under mu: the gauge of the last round */
	struct gauge *gauge;
	int ngauge;
	/* this thread's only: refreshes that failed, not tried again before retry_ms */
	struct {
		char account_id[TS_UUID_LEN + 1];
		int64_t retry_ms;
	} failed[FAILED_MAX];
};

static bool failed_recently(ts_app_saml_t *s, const char *account_id, int64_t now)
{
	for (int i = 0; i < FAILED_MAX; i++)
		if (strcmp(s->failed[i].account_id, account_id) == 0)
			return s->failed[i].retry_ms > now;
	return false;
}

static void failed_mark(ts_app_saml_t *s, const char *account_id, int64_t retry_ms)
{
	int slot = 0;
	for (int i = 0; i < FAILED_MAX; i++) {
		if (strcmp(s->failed[i].account_id, account_id) == 0) {
			slot = i;
			break;
		}
		if (s->failed[i].retry_ms < s->failed[slot].retry_ms)
			slot = i; /* the oldest mark makes room */
	}
	snprintf(s->failed[slot].account_id, sizeof s->failed[slot].account_id, "%s", account_id);
	s->failed[slot].retry_ms = retry_ms;
}

/* Writes the fetched document if cfg is still the identity source that was due. */
static ts_err refresh_write(ts_app_saml_t *s, ts_store_conn_t *c, ts_arena_t *a,
                            const struct ts_store_saml_config *due, const char *xml, size_t len,
                            int64_t now, bool *written, struct ts_error *e)
{
	int attempt = 0;
	ts_err rc;
again:
	*written = false;
	struct ts_store_saml_config cur;
	bool found = false;
	rc = ts_store_begin(c, true, e);
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_config_get(c, a, due->account_id, &cur, &found, e);
	if (rc == TS_ERR_OK && found && cur.metadata_url != NULL &&
	    strcmp(cur.metadata_url, due->metadata_url) == 0 &&
	    cur.metadata_fetched_ms == due->metadata_fetched_ms) {
		struct ts_admin_saml_input in = {.metadata_xml = xml,
		                                 .metadata_len = len,
		                                 .metadata_url = cur.metadata_url,
		                                 .fetched_ms = now,
		                                 .allow_idp_initiated = -1,
		                                 .allow_sha1 = -1};
		rc = ts_admin_saml_configure(c, a, s->app->master_key, due->account_id, &in, now,
		                             NULL, e);
		*written = rc == TS_ERR_OK;
	}
	if (rc == TS_ERR_OK)
		rc = *written ? ts_store_commit(c, e) : (ts_store_rollback(c), TS_ERR_OK);
	if (rc != TS_ERR_OK && ts_store_tx_retry(c, rc, &attempt))
		goto again;
	if (rc != TS_ERR_OK)
		ts_store_rollback(c);
	return rc;
}

static void refresh_round(ts_app_saml_t *s, ts_store_conn_t *c)
{
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	struct ts_store_saml_config *due = NULL;
	int n = 0;
	int64_t now = ts_now_ms();
	ts_err rc = ts_store_begin(c, false, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_saml_config_due(c, a, now - s->refresh_ms, TS_APP_SAML_BATCH, &due,
		                              &n, &e);
	ts_store_rollback(c);
	if (rc != TS_ERR_OK) {
		ts_log(TS_LOG_WARN, "SAML metadata refresh: cannot list what is due",
		       json_pack("{s:s}", "error", e.message));
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		if (failed_recently(s, due[i].account_id, now))
			continue;
		const char *xml = NULL;
		size_t len = 0;
		bool written = false;
		e = (struct ts_error){0};
		rc = ts_admin_saml_fetch(a, due[i].metadata_url, &xml, &len, &e);
		if (rc == TS_ERR_OK)
			rc = refresh_write(s, c, a, &due[i], xml, len, ts_now_ms(), &written, &e);
		if (rc != TS_ERR_OK) {
			/* the old metadata stays in force */
			failed_mark(s, due[i].account_id, now + TS_APP_SAML_RETRY_MS);
			ts_log(TS_LOG_WARN,
			       "SAML metadata refresh failed; the old metadata is kept",
			       json_pack("{s:s, s:s, s:s}", "account_id", due[i].account_id, "url",
			                 due[i].metadata_url, "error", e.message));
		} else if (written) {
			ts_log(TS_LOG_INFO, "SAML metadata refreshed",
			       json_pack("{s:s, s:s}", "account_id", due[i].account_id, "url",
			                 due[i].metadata_url));
		}
	}
	ts_arena_free(&a);
}

/* Expired AuthnRequests, replay entries and OIDC states, and SP keys past their overlap. */
static void purge_round(ts_store_conn_t *c)
{
	struct ts_error e = {0};
	int64_t n = 0, keys = 0, now = ts_now_ms();
	/*
	 * Entries are removed a skew late: a node whose clock runs ahead (up to the
	 * skew every time check allows) must not forget an assertion that a node
	 * with a slower clock would still accept.
	 */
	if (ts_store_saml_purge(c, now - TS_SAML_SKEW_DEFAULT_MS, TS_APP_SAML_PURGE_LIMIT, &n,
	                        &e) != TS_ERR_OK ||
	    ts_store_saml_keys_purge(c, now, &keys, &e) != TS_ERR_OK)
		ts_log(TS_LOG_WARN, "SAML purge failed", json_pack("{s:s}", "error", e.message));
	/* the OIDC sign-ins started and never finished (their take checks the time already) */
	if (ts_store_oidc_purge(c, now, TS_APP_SAML_PURGE_LIMIT, &n, &e) != TS_ERR_OK)
		ts_log(TS_LOG_WARN, "OIDC state purge failed",
		       json_pack("{s:s}", "error", e.message));
}

/* The gauge of every account (up to TS_APP_SAML_GAUGE_MAX); a store failure is returned. */
static ts_err gauge_round(ts_app_saml_t *s, ts_store_conn_t *c)
{
	ts_arena_t *a = ts_arena_new();
	struct ts_error e = {0};
	struct gauge *g = ts_calloc(TS_APP_SAML_GAUGE_MAX, sizeof *g);
	int ng = 0;
	const char *after = NULL;
	ts_err rc = ts_store_begin(c, false, &e);
	while (rc == TS_ERR_OK && ng < TS_APP_SAML_GAUGE_MAX) {
		struct ts_account *page = NULL;
		int n = 0;
		rc = ts_store_account_list(c, a, after, NULL, TS_STORE_PAGE_MAX, &page, &n, &e);
		for (int i = 0; rc == TS_ERR_OK && i < n && ng < TS_APP_SAML_GAUGE_MAX; i++) {
			int64_t not_after = 0;
			rc = ts_admin_saml_idp_expiry(c, a, page[i].account_id, &not_after, &e);
			if (rc == TS_ERR_OK && not_after != 0) {
				snprintf(g[ng].account_id, sizeof g[ng].account_id, "%s",
				         page[i].account_id);
				g[ng++].not_after_ms = not_after;
			}
		}
		if (rc != TS_ERR_OK || n < TS_STORE_PAGE_MAX)
			break;
		after = page[n - 1].account_id;
	}
	ts_store_rollback(c);
	if (rc != TS_ERR_OK) { /* the last gauge stands */
		ts_log(TS_LOG_WARN, "SAML certificate gauge failed",
		       json_pack("{s:s}", "error", e.message));
		ts_free(g);
	} else {
		pthread_mutex_lock(&s->mu);
		ts_free(s->gauge);
		s->gauge = g;
		s->ngauge = ng;
		pthread_mutex_unlock(&s->mu);
	}
	ts_arena_free(&a);
	return rc;
}

static int64_t tick_ms(const ts_app_saml_t *s)
{
	/* a short refresh interval (tests) needs rounds at least twice as often */
	int64_t t = s->refresh_ms / 2;
	return t < TS_APP_SAML_TICK_MS ? (t < 100 ? 100 : t) : TS_APP_SAML_TICK_MS;
}

static void *loop(void *arg)
{
	ts_app_saml_t *s = arg;
	ts_store_conn_t *conn = NULL;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		s->kicked = false;
		pthread_mutex_unlock(&s->mu);
		struct ts_error e = {0};
		if (conn != NULL || ts_store_connect(s->app->store, &conn, &e) == TS_ERR_OK) {
			refresh_round(s, conn);
			purge_round(conn);
			/* a failed round may have lost the connection: a new one next time */
			if (gauge_round(s, conn) != TS_ERR_OK)
				ts_store_disconnect(&conn);
		}
		pthread_mutex_lock(&s->mu);
		struct timespec until = ts_deadline(CLOCK_MONOTONIC, tick_ms(s) * TS_NS_PER_MS);
		while (!s->stop && !s->kicked &&
		       pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			;
		/* a kick comes from inside the changing call's transaction: give it time to commit
		 */
		if (s->kicked && !s->stop) {
			until = ts_deadline(CLOCK_MONOTONIC,
			                    TS_APP_SAML_KICK_DELAY_MS * TS_NS_PER_MS);
			while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
				;
		}
	}
	pthread_mutex_unlock(&s->mu);
	ts_store_disconnect(&conn);
	return NULL;
}

ts_app_saml_t *ts_app_saml_start(struct ts_app *app, int64_t refresh_ms)
{
	ts_app_saml_t *s = ts_calloc(1, sizeof *s);
	s->app = app;
	s->refresh_ms = refresh_ms > 0 ? refresh_ms : TS_SAML_METADATA_REFRESH_MS;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_create(&s->tid, NULL, loop, s);
	return s;
}

void ts_app_saml_stop(ts_app_saml_t **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	ts_app_saml_t *s = *sp;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->tid, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	ts_free(s->gauge);
	TS_FREE(sp);
}

void ts_app_saml_kick(void *arg)
{
	ts_app_saml_t *s = arg;
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->kicked = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

const char *ts_app_saml_metrics(ts_app_saml_t *s, ts_arena_t *arena)
{
	static const char head[] =
	        "# HELP tessera_saml_idp_cert_expiry_seconds Seconds until the soonest IdP "
	        "signing certificate of an account expires (negative: expired).\n"
	        "# TYPE tessera_saml_idp_cert_expiry_seconds gauge\n";
	static const char line[] = "tessera_saml_idp_cert_expiry_seconds{account=\"%s\"} %lld\n";
	if (s == NULL)
		return "";
	int64_t now = ts_now_ms();
	pthread_mutex_lock(&s->mu);
	/* one line: the fixed text, an account ID and a 64-bit number */
	size_t per = sizeof line + TS_UUID_LEN + 24, cap = sizeof head + (size_t)s->ngauge * per;
	char *out = ts_arena_alloc(arena, cap);
	size_t len = (size_t)snprintf(out, cap, "%s", head);
	for (int i = 0; i < s->ngauge; i++)
		len += (size_t)snprintf(out + len, cap - len, line, s->gauge[i].account_id,
		                        (long long)((s->gauge[i].not_after_ms - now) / 1000));
	pthread_mutex_unlock(&s->mu);
	return out;
}
