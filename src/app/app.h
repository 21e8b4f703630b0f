/*
 * The running application: what every handler shares (the store, the
 * master key, the public base URL) and what each worker thread owns (its
 * store connection). It also assembles the one route table from the
 * modules' tables.
 */
#ifndef TS_APP_APP_H
#define TS_APP_APP_H

#include "core/crypto.h"
#include "http/http.h"
#include "store/store.h"

struct ts_app {
	ts_store_t *store;
	unsigned char master_key[TS_MASTER_KEY_LEN];
	const char *base_url;
	/* the background domain verifier, kicked by AddDomain and ?operation=verify; may be NULL */
	struct ts_directory_verifier *verifier;
	/* SCIM requests per second per API key (serve --scim-rate-limit); NULL: no limit */
	struct ts_scim_throttle *scim_throttle;
	/* this node's heartbeat (app/nodes.h), which splits scim_throttle; may be NULL */
	struct ts_app_nodes *nodes;
};

struct ts_admin_key_cache;
struct ts_scim_key_cache;

struct ts_app_worker {
	ts_store_conn_t *conn;               /* NULL until the store answers */
	struct ts_admin_key_cache *keys;     /* parsed policies of recent admin keys */
	struct ts_scim_key_cache *scim_keys; /* SCIM API keys checked recently */
};

/* http worker hooks: open / close the worker's store connection. */
TS_MUST_USE ts_err ts_app_worker_init(void *app, void **worker, struct ts_error *e);
void ts_app_worker_fini(void *app, void *worker);

/* The worker's store connection, reconnecting when it is missing. */
TS_MUST_USE ts_err ts_app_conn(struct ts_http_req *req, ts_store_conn_t **conn, struct ts_error *e);

/* Application metrics appended to /metrics (http metrics_extra hook). */
const char *ts_app_metrics(void *app, ts_arena_t *arena);

/*
 * The error shapes by path prefix for the HTTP layer's own errors: SCIM's
 * under /scim/v2; everything else (the admin API, health) {"Code","Message"}.
 */
const struct ts_http_surface *ts_app_surfaces(int *n);
/* Every route of the server (built once; the table lives until exit). */
const struct ts_http_route *ts_app_routes(int *n);

/* Reads the 32-byte master key file, creating it (0600) when create is true and it is missing. */
TS_MUST_USE ts_err ts_app_master_key_load(const char *path, bool create,
                                          unsigned char key[TS_MASTER_KEY_LEN], bool *created,
                                          struct ts_error *e);

#endif
