/*
 * tessera serve: opens and migrates the store, loads the master key (and
 * refuses one that is not the store's), starts the audit sealer and the HTTP
 * server, and stops it gracefully on SIGTERM or SIGINT (stop
 * accepting, finish in-flight requests, close the store).
 */
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/render.h"
#include "admin/saml.h"
#include "audit/redact.h"
#include "app/app.h"
#include "audit/sealer.h"
#include "app/nodes.h"
#include "app/saml.h"
#include "cli/cli.h"
#include "core/log.h"
#include "directory/verifier.h"
#include "http/url.h"
#include "login/login.h"
#include "store/oidc.h"
#include "core/throttle.h"

enum {
	O_LISTEN,
	O_DB,
	O_BASE_URL,
	O_KEY,
	O_LOOPS,
	O_WORKERS,
	O_MAX_BODY,
	O_DURABILITY,
	O_LOG_LEVEL,
	O_ACCESS_LOG,
	O_DNS_SERVER,
	O_SCIM_RATE_LIMIT,
	O_SIGNIN_RATE_LIMIT,
	O_TRUSTED_PROXY,
	O_STORE_CONNECT_TIMEOUT,
	O_STORE_STATEMENT_TIMEOUT,
	O_STORE_LOCK_TIMEOUT,
	O_SQLITE_TUNING,
	O_SAML_REFRESH,
	O_DEVICE_TTL,
	O_DEVICE_INTERVAL,
	O_REFRESH_TTL,
	O__COUNT
};

#define TS_STR_(x) #x
#define TS_STR(x) TS_STR_(x)
#define SERVE_TIMEOUT_MAX_MS (24L * 3600 * 1000) /* a day */
/* sanity bounds of --threads, --workers and --max-body (0: chosen from the cores) */
#define SERVE_LOOPS_MAX 256
#define SERVE_WORKERS_MAX 1024
#define SERVE_MAX_BODY_MIN 1024L
#define SERVE_MAX_BODY_MAX (64L * 1024 * 1024)
/*
 * On PostgreSQL a worker waits out each round trip and its COMMIT, and the
 * transactions in flight are what a group commit gathers: twice the
 * default's workers, each its own connection, at most SERVE_PG_WORKERS_MAX
 * of them (PostgreSQL's max_connections is 100 by default; docs/store.md).
 */
#define SERVE_PG_WORKERS_PER_CORE 8
#define SERVE_PG_WORKERS_MAX 64

static const struct ts_config_option opts[O__COUNT] = {
        [O_LISTEN] = {"listen", "127.0.0.1:8080", false, "HOST:PORT to listen on"},
        [O_DB] = {"db", TS_CLI_DEFAULT_DB, false, "SQLite file or postgresql:// URI"},
        /* http/url.h: required once browser flows (SAML, OIDC) are configured */
        [O_BASE_URL] = {"base-url", NULL, false,
                        "public origin, http(s)://host[:port] (default: http://LISTEN)"},
        [O_KEY] = {"master-key-file", TS_CLI_DEFAULT_KEY, false, "master key (made by init)"},
        [O_LOOPS] = {"threads", "0", false, "event loops (0: one per core)"},
        [O_WORKERS] = {"workers", "0", false,
                       "handler threads (0: four per core; on PostgreSQL eight, at most 64)"},
        [O_MAX_BODY] = {"max-body", "1048576", false, "largest request body in bytes"},
        [O_DURABILITY] = {"durability", "normal", false, "normal (survives kill -9) or full"},
        [O_LOG_LEVEL] = {"log-level", "info", false, "debug, info, warn or error"},
        [O_ACCESS_LOG] = {"access-log", "on", false, "log each request: on or off"},
        [O_DNS_SERVER] = {"dns-server", NULL, false,
                          "HOST:PORT of a DNS server for domain verification; several "
                          "comma-separated or repeated (default: /etc/resolv.conf)"},
        [O_SCIM_RATE_LIMIT] = {"scim-rate-limit", "0", false,
                               "SCIM requests per second per API key, also the burst; more get "
                               "429 (0: no limit; shared by the nodes on one store)"},
        [O_SIGNIN_RATE_LIMIT] = {"signin-rate-limit", TS_STR(TS_LOGIN_RATE_DEFAULT), false,
                                 "anonymous sign-in steps per second per client address, with "
                                 "bursts of ten seconds' worth; more get 429 (0: no limit; "
                                 "shared by the nodes on one store)"},
        [O_TRUSTED_PROXY] = {"trusted-proxy", NULL, false,
                             "CIDR of a load balancer whose X-Forwarded-For is believed; "
                             "several comma-separated or repeated (default: none)"},
        /* docs/store.md: what each bounds on each backend */
        [O_STORE_CONNECT_TIMEOUT] = {"store-connect-timeout", TS_STR(TS_STORE_CONNECT_TIMEOUT_MS),
                                     false, "ms to connect to PostgreSQL"},
        [O_STORE_STATEMENT_TIMEOUT] = {"store-statement-timeout",
                                       TS_STR(TS_STORE_STATEMENT_TIMEOUT_MS), false,
                                       "ms a PostgreSQL statement may run"},
        [O_STORE_LOCK_TIMEOUT] = {"store-lock-timeout", TS_STR(TS_STORE_LOCK_TIMEOUT_MS), false,
                                  "ms to wait for a row lock (PostgreSQL) or the writer lock "
                                  "(SQLite); then 503 with Retry-After"},
        [O_SAML_REFRESH] = {"saml-metadata-refresh", TS_STR(TS_SAML_METADATA_REFRESH_S), false,
                            "seconds after which an IdP's MetadataUrl is fetched again"},
        [O_SQLITE_TUNING] = {"sqlite-tuning", "on", false,
                             "SQLite's WAL-batching VFS, page cache and allocator caches: on or "
                             "off (docs/store.md)"},
        /* docs/oauth.md: RFC 8628 §3.2 expires_in and interval of new device sign-ins */
        [O_DEVICE_TTL] = {"device-code-ttl", TS_STR(TS_OAUTH_DEVICE_TTL_S), false,
                          "seconds a device sign-in's user code stays valid"},
        [O_DEVICE_INTERVAL] = {"device-poll-interval", TS_STR(TS_OAUTH_INTERVAL_S), false,
                               "seconds a device waits between polls (slow_down adds 5)"},
        [O_REFRESH_TTL] = {"refresh-token-ttl", TS_STR(TS_OAUTH_REFRESH_TTL_S), false,
                           "seconds a CLI sign-in can be refreshed, from the device approval "
                           "(at most 90 days)"},
};

/*
 * Every value of a flag that may repeat (--name V or --name=V), joined with
 * commas, else the configured value (environment, config file), else "".
 */
static char *repeated(int argc, char **argv, const char *flag, const char *configured,
                      ts_arena_t *arena)
{
	char *all = ts_arena_strdup(arena, "");
	for (int k = 0; k < argc; k++) {
		if (strncmp(argv[k], flag, strlen(flag)) != 0)
			continue;
		const char *rest = argv[k] + strlen(flag);
		if (*rest == '=')
			all = ts_arena_printf(arena, "%s,%s", all, rest + 1);
		else if (*rest == '\0' && k + 1 < argc)
			all = ts_arena_printf(arena, "%s,%s", all, argv[++k]);
	}
	if (all[0] == '\0' && configured != NULL)
		all = ts_arena_strdup(arena, configured);
	return all;
}

/*
 * The DNS servers of the domain verifier: every --dns-server given (the flag
 * may repeat; each may list several, comma-separated), else the configured
 * value (environment, config file), else /etc/resolv.conf.
 */
static bool dns_servers(int argc, char **argv, const char *configured, ts_arena_t *arena,
                        struct ts_dns_server *out, size_t *n)
{
	char *all = repeated(argc, argv, "--dns-server", configured, arena);
	*n = 0;
	if (all[0] == '\0') {
		ts_directory_verifier_resolv_conf("/etc/resolv.conf", out, TS_NET_DNS_MAX_SERVERS,
		                                  n);
		return true;
	}
	for (char *save = NULL, *tok = strtok_r(all, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		struct ts_error e = {0};
		if (*n == TS_NET_DNS_MAX_SERVERS) {
			ts_cli_fail("serve: at most %d --dns-server", TS_NET_DNS_MAX_SERVERS);
			return false;
		}
		if (ts_net_dns_server_parse(tok, &out[*n], &e) != TS_ERR_OK) {
			ts_cli_fail("serve: --dns-server %s: %s", tok, e.message);
			return false;
		}
		(*n)++;
	}
	return true;
}

static bool number(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

struct signal_waiter {
	sigset_t set;
	ts_http_server_t *srv;
};

static void *wait_signal(void *arg)
{
	struct signal_waiter *w = arg;
	int sig = 0;
	sigwait(&w->set, &sig);
	ts_log(TS_LOG_INFO, "stopping", json_pack("{s:s}", "signal", strsignal(sig)));
	ts_http_server_stop(w->srv);
	return NULL;
}

int ts_cli_serve(int argc, char **argv)
{
	ts_arena_t *arena = ts_arena_new();
	const char *v[O__COUNT];
	struct ts_error e = {0};
	struct ts_app app = {0};
	ts_http_server_t *srv = NULL;
	ts_audit_sealer_t *sealer = NULL;
	struct ts_http_trusted trusted = {0}; /* outlives srv */
	int status = 1;
	long loops = 0, workers = 0, max_body = 0, scim_rate = 0, signin_rate = 0;
	long connect_ms = 0, statement_ms = 0, lock_ms = 0, saml_refresh_s = 0;
	long device_ttl_s = 0, device_interval_s = 0, refresh_ttl_s = 0;
	enum ts_store_sqlite_tuning tuning = TS_SQLITE_TUNING_ON;
	if (!ts_cli_flags("serve", opts, O__COUNT, argc, argv, arena, v)) {
		status = 2;
		goto out;
	}
	int level = ts_log_level_parse(v[O_LOG_LEVEL]);
	if (level < 0 || !number(v[O_LOOPS], 0, SERVE_LOOPS_MAX, &loops) ||
	    !number(v[O_WORKERS], 0, SERVE_WORKERS_MAX, &workers) ||
	    !number(v[O_MAX_BODY], SERVE_MAX_BODY_MIN, SERVE_MAX_BODY_MAX, &max_body) ||
	    !number(v[O_SCIM_RATE_LIMIT], 0, TS_THROTTLE_RATE_MAX, &scim_rate) ||
	    !number(v[O_SIGNIN_RATE_LIMIT], 0, TS_THROTTLE_RATE_MAX / TS_LOGIN_BURST_S,
	            &signin_rate) ||
	    !number(v[O_STORE_CONNECT_TIMEOUT], 1, SERVE_TIMEOUT_MAX_MS, &connect_ms) ||
	    !number(v[O_STORE_STATEMENT_TIMEOUT], 1, SERVE_TIMEOUT_MAX_MS, &statement_ms) ||
	    !number(v[O_STORE_LOCK_TIMEOUT], 1, SERVE_TIMEOUT_MAX_MS, &lock_ms) ||
	    !number(v[O_SAML_REFRESH], 1, SERVE_TIMEOUT_MAX_MS / 1000 * 30, &saml_refresh_s) ||
	    !number(v[O_DEVICE_TTL], 1, TS_OAUTH_DEVICE_TTL_MAX_S, &device_ttl_s) ||
	    !number(v[O_DEVICE_INTERVAL], 1, TS_OAUTH_INTERVAL_MAX_S, &device_interval_s) ||
	    !number(v[O_REFRESH_TTL], 1, TS_OAUTH_REFRESH_TTL_MAX_S, &refresh_ttl_s) ||
	    (strcmp(v[O_DURABILITY], "normal") != 0 && strcmp(v[O_DURABILITY], "full") != 0) ||
	    (strcmp(v[O_ACCESS_LOG], "on") != 0 && strcmp(v[O_ACCESS_LOG], "off") != 0) ||
	    !ts_store_sqlite_tuning_parse(v[O_SQLITE_TUNING], &tuning)) {
		status = ts_cli_fail(
		        "serve: bad value for --log-level, --threads, --workers, "
		        "--max-body, --scim-rate-limit, --signin-rate-limit, --durability, "
		        "--access-log, "
		        "--store-*-timeout, --saml-metadata-refresh, --sqlite-tuning, "
		        "--device-code-ttl, --device-poll-interval or --refresh-token-ttl");
		status = 2;
		goto out;
	}
	app.device_ttl_s = device_ttl_s;
	app.device_interval_s = device_interval_s;
	app.refresh_ttl_s = refresh_ttl_s;
	ts_log_set_level((enum ts_log_level)level);
	ts_log_set_redactor(
	        ts_audit_redact); /* what the audit trail may not hold, the log neither */
	struct ts_dns_server dns[TS_NET_DNS_MAX_SERVERS];
	size_t ndns = 0;
	if (!dns_servers(argc, argv, v[O_DNS_SERVER], arena, dns, &ndns)) {
		status = 2;
		goto out;
	}

	/*
	 * Signals go to the waiter thread only: block them before any thread
	 * starts (the store starts threads of its own at its first write, which
	 * the master key check may be).
	 */
	struct signal_waiter waiter = {0};
	sigemptyset(&waiter.set);
	sigaddset(&waiter.set, SIGTERM);
	sigaddset(&waiter.set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &waiter.set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ts_http_trusted_add(&trusted,
	                        repeated(argc, argv, "--trusted-proxy", v[O_TRUSTED_PROXY], arena),
	                        &e) != TS_ERR_OK) {
		status = ts_cli_fail("serve: --trusted-proxy %s", e.message);
		status = 2;
		goto out;
	}

	if (v[O_BASE_URL] != NULL) {
		/*
		 * Cookies (Secure, __Host-) and redirects trust this, never the Host
		 * header: checked here, kept in its normalized form (docs/http.md).
		 */
		struct ts_http_base_url base;
		if (ts_http_base_url_parse(arena, v[O_BASE_URL], &base, &e) != TS_ERR_OK) {
			status = ts_cli_fail("serve: --base-url: %s", e.message);
			status = 2;
			goto out;
		}
		app.base_url = base.origin;
		app.base_url_given = true;
	} else {
		app.base_url = ts_arena_printf(arena, "http://%s", v[O_LISTEN]);
	}

	struct ts_store_options so = {.durability = strcmp(v[O_DURABILITY], "full") == 0
	                                                    ? TS_DURABILITY_FULL
	                                                    : TS_DURABILITY_NORMAL,
	                              .connect_timeout_ms = (int)connect_ms,
	                              .statement_timeout_ms = (int)statement_ms,
	                              .lock_timeout_ms = (int)lock_ms,
	                              .sqlite_tuning = tuning};
	ts_store_conn_t *conn = NULL;
	if (ts_store_open(v[O_DB], false, &so, &app.store, &e) != TS_ERR_OK ||
	    ts_store_connect(app.store, &conn, &e) != TS_ERR_OK ||
	    ts_store_migrate(conn, &e) != TS_ERR_OK) {
		ts_store_disconnect(&conn);
		status = ts_cli_fail("serve: store %s: %s", ts_cli_db_shown(arena, v[O_DB]),
		                     e.message);
		goto out;
	}
	/*
	 * Browser flows answer with absolute URLs and cookies that trust the base URL,
	 * never the Host header (docs/http.md): with an identity source configured,
	 * --base-url is required.
	 */
	const char *saml_account = NULL, *oidc_account = NULL;
	if (!app.base_url_given &&
	    (ts_store_saml_config_any(conn, arena, &saml_account, &e) != TS_ERR_OK ||
	     saml_account != NULL ||
	     ts_store_oidc_config_any(conn, arena, &oidc_account, &e) != TS_ERR_OK ||
	     oidc_account != NULL)) {
		ts_store_disconnect(&conn);
		status = saml_account != NULL || oidc_account != NULL
		                 ? ts_cli_fail("serve: account %s signs in over %s: --base-url "
		                               "(the public https origin) is required",
		                               saml_account != NULL ? saml_account : oidc_account,
		                               saml_account != NULL ? "SAML" : "OpenID Connect")
		                 : ts_cli_fail("serve: store: %s", e.message);
		goto out;
	}
	bool created = false;
	if (ts_app_master_key_load(v[O_KEY], false, app.master_key, &created, &e) != TS_ERR_OK) {
		ts_store_disconnect(&conn);
		status = ts_cli_fail("serve: %s (run tessera init)", e.message);
		goto out;
	}
	/* docs/product.md §2a, §9: every node has the store's master key, or refuses to start */
	struct ts_audit_keys keys;
	ts_audit_keys_derive(app.master_key, &keys);
	ts_store_audit_keys_set(app.store, &keys);
	ts_audit_keys_wipe(&keys);
	ts_err krc = ts_store_audit_keys_check(conn, &e);
	ts_store_disconnect(&conn);
	if (krc != TS_ERR_OK) {
		status = ts_cli_fail("serve: %s (--master-key-file %s)", e.message, v[O_KEY]);
		goto out;
	}
	if (scim_rate > 0)
		app.scim_throttle = ts_throttle_new((unsigned)scim_rate, (unsigned)scim_rate,
		                                    TS_THROTTLE_SLOTS);
	if (signin_rate > 0)
		app.signin_throttle = ts_throttle_new((unsigned)signin_rate,
		                                      (unsigned)(signin_rate * TS_LOGIN_BURST_S),
		                                      TS_THROTTLE_SLOTS);

	if (ts_audit_sealer_start(app.store, &sealer, &e) != TS_ERR_OK) {
		status = ts_cli_fail("serve: %s", e.message);
		goto out;
	}
	/* the limits are the cluster's: split between live nodes */
	if (app.scim_throttle != NULL || app.signin_throttle != NULL)
		app.nodes = ts_app_nodes_start(&app);

	if (ndns > 0) {
		struct ts_directory_verifier_config vc = {.store = app.store,
		                                          .on_verdict =
		                                                  ts_admin_domain_verdict_audit,
		                                          .servers = dns,
		                                          .n_servers = ndns};
		if (ts_directory_verifier_start(&vc, &app.verifier, &e) != TS_ERR_OK) {
			status = ts_cli_fail("serve: %s", e.message);
			goto out;
		}
	} else {
		ts_log(TS_LOG_WARN, "no DNS server: domains will not be verified (--dns-server)",
		       NULL);
	}
	app.saml = ts_app_saml_start(&app, (int64_t)saml_refresh_s * 1000);
	/* the modules take the verifier and the SAML upkeep from app: they start first */
	struct ts_http_module modules[TS_APP_MODULES_MAX];
	int nmodules = ts_app_modules(&app, modules);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (workers == 0 && strcmp(ts_store_backend(app.store), "postgres") == 0) {
		workers = (cores > 0 ? cores : 1) * SERVE_PG_WORKERS_PER_CORE;
		if (workers > SERVE_PG_WORKERS_MAX)
			workers = SERVE_PG_WORKERS_MAX;
	}
	struct ts_http_server_config cfg = {
	        .listen = v[O_LISTEN],
	        .loops = (int)loops,
	        .workers = (int)workers,
	        .max_body = (size_t)max_body,
	        .access_log = strcmp(v[O_ACCESS_LOG], "on") == 0,
	        .store = app.store,
	        .modules = modules,
	        .nmodules = nmodules,
	        .metrics_extra = ts_app_metrics,
	        .metrics_arg = &app,
	        .trusted_proxies = trusted.n > 0 ? &trusted : NULL,
	};
	if (ts_http_server_new(&cfg, &srv, &e) != TS_ERR_OK) {
		status = ts_cli_fail("serve: %s", e.message);
		goto out;
	}
	waiter.srv = srv;
	pthread_t sig_thread;
	pthread_create(&sig_thread, NULL, wait_signal, &waiter);
	ts_log(TS_LOG_INFO, "listening",
	       json_pack("{s:s, s:i, s:s, s:s}", "listen", v[O_LISTEN], "port",
	                 ts_http_server_port(srv), "store", ts_store_backend(app.store), "base_url",
	                 app.base_url));
	printf("tessera listening on http://%s (port %d, %s store)\n", v[O_LISTEN],
	       ts_http_server_port(srv), ts_store_backend(app.store));
	fflush(stdout);
	if (ts_http_server_run(srv, &e) != TS_ERR_OK)
		ts_cli_fail("serve: %s", e.message);
	pthread_join(sig_thread, NULL);
	/* the verifier uses the store: it stops before the store closes */
	ts_directory_verifier_stop(&app.verifier);
	ts_log(TS_LOG_INFO, "stopped", NULL);
	status = 0;
out:
	ts_directory_verifier_stop(&app.verifier);
	ts_http_server_free(&srv);
	/* every request has ended, its audit event committed: the sealer's last round takes all */
	ts_audit_sealer_stop(&sealer);
	ts_app_nodes_stop(&app.nodes);
	ts_app_saml_stop(&app.saml);
	ts_store_free(&app.store);
	ts_throttle_free(&app.scim_throttle);
	ts_throttle_free(&app.signin_throttle);
	sodium_memzero(app.master_key, sizeof app.master_key);
	ts_arena_free(&arena);
	return status;
}
