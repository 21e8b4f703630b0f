/*
 * The HTTP surface: h2o event loops (one per core, each with its own
 * SO_REUSEPORT listener), a router, and a worker pool on which handlers run
 * as plain synchronous functions. A handler may block on the store, an IdP
 * or DNS without stalling the wire; the worker posts the response back to
 * the loop that owns the connection. Handlers marked TS_HTTP_INLINE (pure
 * CPU, no I/O) run on the loop itself.
 *
 * Each request gets an arena that lives until the response has been sent.
 */
#ifndef TS_HTTP_HTTP_H
#define TS_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "http/proxy.h"

/* The store's handles (store/store.h); the server opens one connection per worker. */
typedef struct ts_store ts_store_t;
typedef struct ts_store_conn ts_store_conn_t;

#define TS_HTTP_MAX_PARAMS 4
#define TS_HTTP_MAX_HEADERS 64
/*
 * Response headers a handler may add. The sign-in pages send many (cookies,
 * CSP, cache control): the first TS_HTTP_MAX_RES_HEADERS live in the
 * response itself, the rest in res->arena (the request's arena, which the
 * server sets), up to TS_HTTP_RES_HEADERS_BOUND, a bound against a runaway
 * loop rather than a budget. A header that does not fit (past that bound,
 * or past the fixed ones when res->arena is NULL) is never dropped
 * silently: the answer becomes a 500 and the log names the header
 * (ts_http_res_header).
 */
#define TS_HTTP_MAX_RES_HEADERS 32
#define TS_HTTP_RES_HEADERS_BOUND 1024
#define TS_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define TS_HTTP_MAX_PATH 2048
#define TS_HTTP_REQUEST_ID_MAX 128

/*
 * Route flags. TS_HTTP_INLINE: runs on the loop (pure CPU, no I/O).
 * TS_HTTP_REFUSALS: the handler answers the HTTP layer's 400s for its route
 * itself, so that it can authenticate and audit them: it runs with
 * req->refused set and must answer that error without reading the request
 * further (params then hold the raw segments, escaped).
 */
enum { TS_HTTP_INLINE = 1, TS_HTTP_REFUSALS = 2 };

struct ts_http_header {
	const char *name; /* lowercase */
	const char *value;
};

struct ts_http_route;
/* A worker thread's own context (server.c): its store connection and module states. */
struct ts_http_worker;

struct ts_http_req {
	ts_arena_t *arena;
	const struct ts_http_route *route;
	const char *method;
	const char *path;                       /* without the query */
	const char *query;                      /* raw, without '?'; "" when none */
	const char *params[TS_HTTP_MAX_PARAMS]; /* path parameters, percent-decoded */
	int nparams;
	const struct ts_http_header *headers;
	int nheaders;
	const char *body; /* NUL-terminated copy; body_len excludes the NUL */
	size_t body_len;
	const char *request_id;        /* server-issued when the client's is not usable */
	const char *client_request_id; /* the client's X-Request-Id when well-formed, else NULL */
	/*
	 * The client's address, textual: the TCP peer, or what a trusted proxy
	 * forwarded (ts_http_client_addr); what the audit, the log and limits use.
	 */
	const char *peer;
	const char *via; /* the TCP peer when it is a trusted proxy that sent X-Forwarded-For */
	/*
	 * TS_ERR_OK, or the error the HTTP layer found (a value that is not
	 * UTF-8) for a TS_HTTP_REFUSALS route, with refusal its message.
	 */
	ts_err refused;
	const char *refusal;
	/*
	 * The request context: the worker the handler runs on (NULL inline) and
	 * the server. Handlers reach them only through ts_http_conn,
	 * ts_http_state and ts_http_config.
	 */
	struct ts_http_worker *worker;
	struct ts_http_server *server;
};

struct ts_http_res {
	int status;
	const char *content_type;
	const char *body;
	size_t body_len;
	struct ts_http_header *headers; /* nheaders of them: fixed[] or arena memory */
	int nheaders;
	int headers_cap;
	struct ts_http_header fixed[TS_HTTP_MAX_RES_HEADERS];
	ts_arena_t *arena;      /* where headers grow past fixed[]; NULL: they do not */
	const char *error_code; /* for the access log and metrics, optional */
	/*
	 * Why the answer could not be built (static text), or NULL: a JSON body
	 * that failed, a header past the cap. The server then logs it and answers
	 * 500 in the surface's shape instead (ts_http_res_settle).
	 */
	const char *fault;
	const char *overflow; /* the first header that did not fit, if any */
};

typedef void (*ts_http_handler_fn)(struct ts_http_req *req, struct ts_http_res *res);

struct ts_http_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/v1/accounts/{}"; {} matches one path segment */
	ts_http_handler_fn fn;
	unsigned flags;   /* TS_HTTP_INLINE */
	const void *data; /* for the handler: e.g. which operation */
	const char *name; /* for metrics; pattern when NULL */
};

/* Value of a request header (name lowercase), or NULL. */
const char *ts_http_header(const struct ts_http_req *req, const char *name);
/* The credentials of an "Authorization: Bearer ..." header (RFC 6750 §2.1), or NULL. */
const char *ts_http_bearer(const struct ts_http_req *req);
/*
 * Value of a query parameter, percent-decoded in the arena, or NULL when
 * absent or when it does not decode (ts_http_request_check refuses such a
 * request before any handler runs).
 */
const char *ts_http_query(const struct ts_http_req *req, const char *name);
/*
 * Percent-decodes s[0..n) into the arena (RFC 3986 §2.1); plus_is_space for
 * query strings. NULL when malformed: a broken escape, a NUL, or bytes that
 * are not UTF-8 (RFC 3629), since every decoded value may be quoted in a JSON
 * answer, an audit event or a log line, and JSON text is UTF-8 (RFC 8259 §8.1).
 */
char *ts_http_decode(ts_arena_t *a, const char *s, size_t n, bool plus_is_space);
/*
 * Checks what a handler may read of a request before one runs: the path and
 * every query name and value decode to UTF-8 (ts_http_decode), and every
 * header value is UTF-8. TS_ERR_BAD_REQUEST with a message that names what
 * was wrong without quoting it.
 */
TS_MUST_USE ts_err ts_http_request_check(const struct ts_http_req *req, struct ts_error *e);

/*
 * Errors the HTTP layer itself answers (no route, wrong method, body or URI
 * too long, a value that is not UTF-8, server busy) are written in the shape
 * of the surface the path belongs to: a surface registers a prefix and a
 * renderer. code gives the wire name; status may differ from the code's
 * (414 and 431 are TS_ERR_TOO_LARGE). message is ASCII or valid UTF-8.
 */
typedef void (*ts_http_error_fn)(struct ts_http_req *req, struct ts_http_res *res, ts_err code,
                                 int status, const char *message);
struct ts_http_surface {
	const char *prefix; /* "/scim/v2": that path and every path under it */
	ts_http_error_fn error;
	/* NULL, or the module's next surface (a module serving several prefixes) */
	const struct ts_http_surface *next;
};
/*
 * Answers an error with the renderer of the first surface whose prefix
 * holds req->path, or {"Code","Message"} (the error table's names) when none
 * does. req->path may be anything, even bytes that are not UTF-8.
 */
void ts_http_error(const struct ts_http_surface *surfaces, int nsurfaces, struct ts_http_req *req,
                   struct ts_http_res *res, ts_err code, int status, const char *message);
/*
 * When res->fault is set, logs it (with the request id and the header that
 * did not fit) and replaces the answer with a 500 in the surface's shape.
 * The server calls it before sending each answer.
 */
void ts_http_res_settle(const struct ts_http_surface *surfaces, int nsurfaces,
                        struct ts_http_req *req, struct ts_http_res *res);
/* The default renderer: {"Code","Message"} in application/json. */
void ts_http_error_plain(struct ts_http_req *req, struct ts_http_res *res, ts_err code, int status,
                         const char *message);

/* Response helpers: body copied by reference (must live in the request arena or be static). */
void ts_http_res_set(struct ts_http_res *res, int status, const char *content_type,
                     const char *body, size_t len);
/*
 * Serializes j (reference stolen) as the body with the given content type.
 * j NULL (a failed json_pack) sets res->fault: a 500 and a log line, not a crash.
 */
void ts_http_res_json(struct ts_http_req *req, struct ts_http_res *res, int status,
                      const char *content_type, json_t *j);
/*
 * Whether an answer with this status carries content: not 1xx, 204 or 304
 * (RFC 9110 §15.2, §15.3.5, §15.4.5). A dispatcher whose operation left no
 * JSON answer for any other status knows a json_pack failed.
 */
bool ts_http_status_has_body(int status);

/*
 * Adds a response header (name and value must live as long as the response).
 * A header that does not fit (see TS_HTTP_RES_HEADERS_BOUND) is not dropped
 * quietly: it is recorded in res->overflow and res->fault: the server
 * answers 500 and logs it.
 */
void ts_http_res_header(struct ts_http_res *res, const char *name, const char *value);

/*
 * Answering later. A handler on the worker pool that hands its request to
 * another thread (the audit writer, say) calls ts_http_defer before it does
 * so, and returns; the worker is then free for the next request. Whoever
 * finishes the answer calls ts_http_resume once, from any thread; until then
 * req, its arena and res stay valid and belong to that party. Returns NULL
 * (answer as usual) for a request that cannot wait: inline handlers, or a
 * call outside the handler's own thread.
 */
struct ts_http_deferred;
struct ts_http_deferred *ts_http_defer(struct ts_http_req *req);
void ts_http_resume(struct ts_http_deferred *d);

/* ---- modules and the request context ---------------------------------- */

/*
 * A module's part of each worker thread. init runs on every worker at its
 * start with the module's config and returns the module's state for that
 * thread (a cache, say; NULL when it keeps none); free runs on the same
 * thread at its end. One thread uses a state: no locking. The slot's address
 * is also the key by which handlers find their state and config, so a
 * module declares it static in its own file.
 */
struct ts_http_slot {
	void *(*init)(void *config); /* may be NULL */
	void (*free)(void *state);   /* may be NULL; state may be NULL */
};

/*
 * What a module brings to the server: its routes, the error shape of its
 * prefix, its per-worker slot and its configuration. app/ registers one per
 * module and nothing else; a new module touches no other module.
 */
struct ts_http_module {
	const char *name;
	const struct ts_http_route *routes; /* static; outlives the server */
	int nroutes;
	const struct ts_http_surface *surface; /* NULL: {"Code","Message"} */
	const struct ts_http_slot *slot;       /* NULL: no per-worker state or config */
	void *config;                          /* the module's own; outlives the server */
};

/*
 * The worker's store connection, reconnected when the store was down.
 * TS_ERR_INTERNAL from an inline handler (no worker) or a server without a
 * store; the store's error when it does not answer.
 */
TS_MUST_USE ts_err ts_http_conn(struct ts_http_req *req, ts_store_conn_t **conn,
                                struct ts_error *e);
/* The state slot's init made on this request's worker; NULL inline or when none. */
void *ts_http_state(const struct ts_http_req *req, const struct ts_http_slot *slot);
/* The config of the module registered with slot; NULL when none (or no server). */
void *ts_http_config(const struct ts_http_req *req, const struct ts_http_slot *slot);

/*
 * The routes of modules[0..n) in one table (ts_calloc; the caller frees it
 * with ts_free), and their surfaces likewise, in module order. For the
 * server, and for tests and fuzzers that route without one.
 */
struct ts_http_route *ts_http_modules_routes(const struct ts_http_module *modules, int n,
                                             int *nroutes);
struct ts_http_surface *ts_http_modules_surfaces(const struct ts_http_module *modules, int n,
                                                 int *nsurfaces);

/* ---- the server -------------------------------------------------------- */

typedef struct ts_http_server ts_http_server_t;

struct ts_http_server_config {
	const char *listen; /* "127.0.0.1:8080", "[::1]:8080", ":8080" */
	int loops;          /* event loops; 0 = one per core */
	int workers;        /* worker threads; 0 = 4 per core */
	size_t max_body;    /* bytes; 0 = TS_HTTP_DEFAULT_MAX_BODY */
	bool access_log;
	int drain_timeout_ms; /* graceful shutdown: wait this long for in-flight requests */
	/* each worker opens a connection at its start (ts_http_conn); may be NULL */
	ts_store_t *store;
	/* what the server serves: routes, error shapes, worker slots (outlive the server) */
	const struct ts_http_module *modules;
	int nmodules;
	/* peers whose X-Forwarded-For is believed (http/proxy.h); NULL: none; outlives the server
	 */
	const struct ts_http_trusted *trusted_proxies;
	/* Prometheus text appended to /metrics by the application (may be NULL). */
	const char *(*metrics_extra)(void *arg, ts_arena_t *arena);
	void *metrics_arg;
};

/*
 * Binds the listeners (TS_ERR_IO with a clear message when the address is
 * busy or invalid) and starts the worker threads, each with its store
 * connection and its modules' states.
 */
TS_MUST_USE ts_err ts_http_server_new(const struct ts_http_server_config *cfg,
                                      ts_http_server_t **out, struct ts_error *e);
/* The bound port (useful with port 0). */
int ts_http_server_port(const ts_http_server_t *s);
/* Runs the loops until ts_http_server_stop; then drains in-flight requests and returns. */
TS_MUST_USE ts_err ts_http_server_run(ts_http_server_t *s, struct ts_error *e);
/* Asks the server to stop: closes the listeners, lets in-flight requests finish. Thread-safe. */
void ts_http_server_stop(ts_http_server_t *s);
void ts_http_server_free(ts_http_server_t **s);

/* The Prometheus text of the server's counters, in arena memory. */
char *ts_http_server_metrics(ts_http_server_t *s, ts_arena_t *arena, size_t *len);

/* ---- routing (exposed for unit tests) ---------------------------------- */

enum ts_http_match {
	TS_HTTP_MATCH_NONE,
	TS_HTTP_MATCH_METHOD_ONLY,
	TS_HTTP_MATCH_OK,
	TS_HTTP_MATCH_BAD_PARAM,
};

/*
 * Finds the route for method and path. On TS_HTTP_MATCH_OK *route is set and
 * params (percent-decoded into arena) are filled; TS_HTTP_MATCH_METHOD_ONLY
 * means the path exists with another method (405); TS_HTTP_MATCH_BAD_PARAM
 * means a route and its method match but a parameter does not decode to
 * UTF-8 (ts_http_decode): a 400, not a 404, as the path names a resource;
 * *route is then set too and params hold the raw segments (escaped with
 * ts_text_escape), for a handler that audits the refusal.
 */
enum ts_http_match ts_http_route_find(const struct ts_http_route *routes, int nroutes,
                                      const char *method, const char *path, ts_arena_t *arena,
                                      const struct ts_http_route **route, const char **params,
                                      int *nparams);

#endif
