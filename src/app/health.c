/*
 * /healthz answers from the loop (the process is alive and serving);
 * /readyz asks the store from a worker (ready only if it answers);
 * /metrics renders the server's counters.
 */
#include "app/health.h"

#include "core/json.h"
#include "core/log.h"
#include "store/store.h"

static void healthz(struct ts_http_req *req, struct ts_http_res *res)
{
	(void)req;
	static const char ok[] = "{\"Status\":\"ok\"}";
	ts_http_res_set(res, 200, "application/json", ok, sizeof ok - 1);
}

static void readyz(struct ts_http_req *req, struct ts_http_res *res)
{
	struct ts_error e = {0};
	ts_store_conn_t *c = NULL;
	ts_err rc = ts_http_conn(req, &c, &e);
	if (rc == TS_ERR_OK)
		rc = ts_store_ping(c, &e);
	if (rc != TS_ERR_OK) {
		ts_log(TS_LOG_WARN, "not ready",
		       json_pack("{s:o}", "error", ts_json_text(e.message)));
		json_t *o = json_pack("{s:s, s:s}", "Status", "unavailable", "Message",
		                      "the store does not answer");
		ts_http_res_json(req, res, 503, NULL, o);
		return;
	}
	static const char ok[] = "{\"Status\":\"ready\"}";
	ts_http_res_set(res, 200, "application/json", ok, sizeof ok - 1);
}

static void metrics(struct ts_http_req *req, struct ts_http_res *res)
{
	size_t len = 0;
	char *text = ts_http_server_metrics(req->server, req->arena, &len);
	ts_http_res_set(res, 200, "text/plain; version=0.0.4", text, len);
}

static const struct ts_http_route routes[] = {
        {"GET", "/healthz", healthz, TS_HTTP_INLINE, NULL, "healthz"},
        {"GET", "/readyz", readyz, 0, NULL, "readyz"},
        {"GET", "/metrics", metrics, TS_HTTP_INLINE, NULL, "metrics"},
};

struct ts_http_module ts_app_health_module(void)
{
	return (struct ts_http_module){.name = "health",
	                               .routes = routes,
	                               .nroutes = (int)(sizeof routes / sizeof routes[0])};
}
