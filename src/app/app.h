/*
 * The running application: what the process holds (the store, the master
 * key, the public base URL, background threads), and the list of modules
 * the server runs, each registered with its routes, worker slot and
 * configuration (http/http.h). Adding a module is adding it to that list.
 */
#ifndef TS_APP_APP_H
#define TS_APP_APP_H

#include "admin/api.h"
#include "core/crypto.h"
#include "http/http.h"
#include "oauth/oauth.h"
#include "oidc/oidc.h"
#include "portal/portal.h"
#include "saml/saml.h"
#include "scim/scim.h"
#include "store/store.h"

struct ts_app {
	ts_store_t *store;
	unsigned char master_key[TS_MASTER_KEY_LEN];
	const char *base_url;
	bool base_url_given; /* serve --base-url was given (browser flows need it: docs/http.md) */
	/* the background domain verifier, kicked by AddDomain and ?operation=verify; may be NULL */
	struct ts_directory_verifier *verifier;
	/* SCIM requests per second per API key (serve --scim-rate-limit); NULL: no limit */
	struct ts_throttle *scim_throttle;
	/* sign-in steps per second per client address (serve --signin-rate-limit); NULL: none */
	struct ts_throttle *signin_throttle;
	/* this node's heartbeat (app/nodes.h), which splits both throttles; may be NULL */
	struct ts_app_nodes *nodes;
	/* SAML upkeep: metadata refresh, purges, the certificate gauge (app/saml.h); may be NULL */
	struct ts_app_saml *saml;
	/* the device flow's code life and polling interval (serve flags; 0: RFC 8628 defaults) */
	int64_t device_ttl_s, device_interval_s;
	/* a CLI sign-in's absolute life (serve --refresh-token-ttl; 0: the default) */
	int64_t refresh_ttl_s;
	/* the modules' configurations, filled from the above by ts_app_modules */
	struct ts_admin_config admin;
	struct ts_scim_config scim;
	struct ts_saml_config saml_web;
	struct ts_oidc_config oidc_web;
	struct ts_portal_config portal;
	struct ts_oauth_config oauth;
};

/* The maximum number of modules ts_app_modules registers. */
#define TS_APP_MODULES_MAX 8

/*
 * The modules the server runs, into out[TS_APP_MODULES_MAX]; their number.
 * app may be NULL (routing without a server: tests, fuzzers): the modules
 * then have no configuration. app, when given, must outlive the server.
 */
int ts_app_modules(struct ts_app *app, struct ts_http_module out[TS_APP_MODULES_MAX]);

/* Application metrics appended to /metrics (http metrics_extra hook). */
const char *ts_app_metrics(void *app, ts_arena_t *arena);

/* Reads the 32-byte master key file, creating it (0600) when create is true and it is missing. */
TS_MUST_USE ts_err ts_app_master_key_load(const char *path, bool create,
                                          unsigned char key[TS_MASTER_KEY_LEN], bool *created,
                                          struct ts_error *e);

#endif
