/*
 * SAML upkeep on a thread of its own (saml-contract "Admin API"): it fetches
 * again each MetadataUrl older than the refresh interval (a failed fetch or a
 * document that no longer parses keeps the old metadata and is logged, then
 * tried again after TS_APP_SAML_RETRY_MS), purges expired AuthnRequests,
 * replay entries and retired SP keys, and computes the /metrics gauge
 * tessera_saml_idp_cert_expiry_seconds per account (seconds until its
 * soonest IdP signing certificate expires). It wakes every tick, and at once
 * when the admin API changes an identity source (ts_app_saml_kick).
 */
#ifndef TS_APP_SAML_H
#define TS_APP_SAML_H

#include "app/app.h"

#define TS_APP_SAML_TICK_MS 60000               /* at most this between two rounds */
#define TS_APP_SAML_RETRY_MS (15LL * 60 * 1000) /* a failed refresh tried again after */
#define TS_APP_SAML_BATCH 16                    /* configs refreshed per round */
#define TS_APP_SAML_GAUGE_MAX 1000              /* accounts in the gauge */
#define TS_APP_SAML_PURGE_LIMIT 1000            /* expired rows deleted per round */
#define TS_APP_SAML_KICK_DELAY_MS 250           /* a kicked round waits for the change's commit */

typedef struct ts_app_saml ts_app_saml_t;

/*
 * Starts the thread on app's store with app's master key; refresh_ms is the
 * age at which a MetadataUrl is fetched again (TS_SAML_METADATA_REFRESH_MS
 * by default). Free with ts_app_saml_stop.
 */
ts_app_saml_t *ts_app_saml_start(struct ts_app *app, int64_t refresh_ms);
/* Stops the thread and frees *s; NULL is fine. */
void ts_app_saml_stop(ts_app_saml_t **s);
/* Wakes the thread for a round now (an identity source changed); s may be NULL. */
void ts_app_saml_kick(void *s);
/* The gauge's Prometheus text as of the last round ("" when none), in arena memory. */
const char *ts_app_saml_metrics(ts_app_saml_t *s, ts_arena_t *arena);

#endif
