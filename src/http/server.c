/*
 * The server: h2o event loops, one thread each, each with its own listening
 * socket (SO_REUSEPORT, so the kernel spreads connections), and one worker
 * pool shared by the loops.
 *
 * A request's life: the loop parses it (h2o), copies what the handler needs
 * into a job with its own arena, routes it, and either runs the handler
 * inline or queues the job for a worker. The worker runs the handler and
 * posts the job back to the loop's queue (h2o_multithread), where the
 * response is written. If the client goes away meanwhile, h2o disposes the
 * request's pool; a guard registered on that pool detaches the job, and the
 * late response is dropped.
 *
 * Each loop creates its h2o objects (event loop, context, the multithread
 * queue's socket, the listener) in its own thread and disposes of them there:
 * h2o 2.2 gives every socket buffer the allocating thread's thread-local
 * recycle list (h2o_socket_buffer_prototype), so a queue created by the main
 * thread had both loops sharing the main thread's list without a lock, which
 * corrupted memory under load (a use-after-free found by ASan with wrk -c32).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "core/alloc.h"
#include "core/blocking.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "http/client.h"
#include "http/internal.h"
#include "store/store.h"

#define LISTEN_BACKLOG 4096
#define QUEUE_LIMIT 8192 /* queued jobs beyond this get 503 rather than unbounded memory */
#define LOOP_TICK_MS 100
#define FLUSH_MS 2000
#define RECYCLE_DRAIN_MAX 64 /* h2o keeps at most 16 buffers per thread */
/* a queued job this old gets a sleeping worker woken for it, however busy the cores */
#define WAKE_AGE_NS (2 * 1000000L)
#define STATUS_URI_TOO_LONG 414
#define H2O_ERROR_TEXT_MAX 256 /* h2o's own error bodies are one short line */
#define STATUS_HEADERS_TOO_LARGE 431

struct loop;

struct job {
	h2o_multithread_message_t msg; /* must stay first: the queue hands back this */
	struct loop *loop;
	h2o_req_t *h2o;     /* NULL once the client went away */
	struct job **guard; /* slot in the h2o request's pool */
	struct job *next;   /* worker queue */
	int route_index;
	int64_t start_ns;
	struct ts_http_req req;
	struct ts_http_res res;
};

struct loop {
	ts_http_server_t *srv;
	pthread_t tid;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	int fd;
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t done_rx;
	h2o_multithread_receiver_t ctl_rx;
	h2o_multithread_message_t ctl_msg;
	int inflight;
	h2o_linklist_t conns; /* every accepted connection still open */
	bool stopping;
	bool ready; /* h2o objects exist (under srv->mu): ctl_rx may be sent to */
	bool clean; /* every connection closed: the context can be disposed */
};

struct route_handler {
	h2o_handler_t super;
	ts_http_server_t *srv;
};

/* Rewrites h2o's own text/plain error answers into the surface's JSON shape. */
struct error_filter {
	h2o_filter_t super;
	ts_http_server_t *srv;
};

struct ts_http_server {
	struct ts_http_server_config cfg;
	struct ts_http_route *routes; /* the modules' routes in one table */
	int nroutes;
	struct ts_http_surface *surfaces; /* the modules' error shapes */
	int nsurfaces;
	h2o_globalconf_t h2o_config;
	struct loop *loops;
	int nloops;
	int port;
	ts__http_metrics_t *metrics;
	/* the worker pool */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	int queued;
	bool pool_stop;
	pthread_t *workers;
	int nworkers;
	/*
	 * Workers are woken for a job only while fewer than ncpu of them run
	 * (blocked ones do not count, see ts_blocking_begin): on a busy machine
	 * more runnable threads than cores only add context switches. One idle
	 * worker watches, waking every WAKE_AGE_NS, for jobs that still wait.
	 */
	int idle, running, ncpu;
	bool watching;
	atomic_bool stop;
	/* shutdown phases, under mu: loops drained, then workers gone */
	pthread_cond_t phase_cv;
	int drained;
	bool workers_gone;
};

/* ---- responses --------------------------------------------------------- */

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* An error the server itself answers, in the shape of the path's surface. */
static void error_body(struct job *j, ts_err code, int status, const char *message)
{
	const ts_http_server_t *s = j->loop->srv;
	ts_http_error(s->surfaces, s->nsurfaces, &j->req, &j->res, code, status, message);
}

/*
 * One line per request with every field, whatever the client sent: a method
 * or path that is not UTF-8 is written with those bytes as \xHH (ts_json_text)
 * rather than losing the line's fields, as json_pack did.
 */
static void access_log(struct job *j)
{
	if (!j->loop->srv->cfg.access_log || !ts_log_enabled(TS_LOG_INFO))
		return;
	double ms = (double)(ts_mono_ns() - j->start_ns) / 1e6;
	json_t *f = ts__http_access_fields(&j->req, &j->res, ms);
	ts_log(TS_LOG_INFO, "request", f);
}

static void finish(struct job *j)
{
	struct loop *l = j->loop;
	h2o_req_t *r = j->h2o;
	if (r != NULL) {
		*j->guard = NULL;
		ts_http_res_settle(l->srv->surfaces, l->srv->nsurfaces, &j->req, &j->res);
		r->res.status = j->res.status ? j->res.status : 500;
		r->res.reason = reason(r->res.status);
		if (j->res.content_type) {
			h2o_iovec_t v = h2o_strdup(&r->pool, j->res.content_type, SIZE_MAX);
			h2o_add_header(&r->pool, &r->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
			               v.base, v.len);
		}
		/* the client's own id when it sent a usable one; the audit keeps both */
		const char *echo =
		        j->req.client_request_id ? j->req.client_request_id : j->req.request_id;
		h2o_iovec_t rid = h2o_strdup(&r->pool, echo, SIZE_MAX);
		h2o_add_header_by_str(&r->pool, &r->res.headers, H2O_STRLIT("x-request-id"), 0,
		                      NULL, rid.base, rid.len);
		for (int i = 0; i < j->res.nheaders; i++) {
			h2o_iovec_t n = h2o_strdup(&r->pool, j->res.headers[i].name, SIZE_MAX);
			h2o_iovec_t v = h2o_strdup(&r->pool, j->res.headers[i].value, SIZE_MAX);
			h2o_strtolower(n.base, n.len);
			h2o_add_header_by_str(&r->pool, &r->res.headers, n.base, n.len, 1, NULL,
			                      v.base, v.len);
		}
		r->res.content_length = j->res.body_len;
		h2o_send_inline(r, j->res.body ? j->res.body : "", j->res.body_len);
		ts__http_metrics_count(l->srv->metrics, j->route_index, j->res.status,
		                       ts_mono_ns() - j->start_ns);
		access_log(j);
	}
	ts_arena_free(&j->req.arena);
	ts_free(j);
	l->inflight--;
}

/* ---- the worker pool --------------------------------------------------- */

/*
 * The job this worker thread is running a handler for, and whether the
 * handler deferred it. Thread-local, because once deferred the job may be
 * answered and freed by another thread before the handler returns.
 */
static _Thread_local struct job *tl_job;
static _Thread_local bool tl_deferred;

struct ts_http_deferred *ts_http_defer(struct ts_http_req *req)
{
	struct job *j = tl_job;
	if (j == NULL || &j->req != req || tl_deferred)
		return NULL;
	tl_deferred = true;
	return (struct ts_http_deferred *)j;
}

void ts_http_resume(struct ts_http_deferred *d)
{
	struct job *j = (struct job *)d;
	h2o_multithread_send_message(&j->loop->done_rx, &j->msg);
}

/* The pool's side of ts_blocking_begin/end, on a worker thread. */
static void worker_blocking(void *arg, bool blocked)
{
	ts_http_server_t *s = arg;
	pthread_mutex_lock(&s->mu);
	if (blocked) {
		s->running--;
		if (s->head != NULL && s->idle > 0 && s->running < s->ncpu)
			pthread_cond_signal(&s->cv);
	} else {
		s->running++;
	}
	pthread_mutex_unlock(&s->mu);
}

/* Waits for a job (under s->mu); NULL when the pool stops. */
static struct job *next_job(ts_http_server_t *s)
{
	while (s->head == NULL && !s->pool_stop) {
		s->idle++;
		if (!s->watching) {
			s->watching = true;
			struct timespec until = ts_deadline(CLOCK_MONOTONIC, WAKE_AGE_NS);
			pthread_cond_timedwait(&s->cv, &s->mu, &until);
			s->watching = false;
		} else {
			pthread_cond_wait(&s->cv, &s->mu);
		}
		s->idle--;
	}
	struct job *j = s->head;
	if (j == NULL)
		return NULL;
	s->head = j->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->queued--;
	return j;
}

/* ---- the request context ---------------------------------------------- */

struct ts_http_worker {
	ts_http_server_t *srv;
	ts_store_conn_t *conn; /* NULL until the store answers */
	void **states;         /* one per module, in cfg.modules order */
};

static struct ts_http_worker *worker_new(ts_http_server_t *s)
{
	struct ts_http_worker *w = ts_calloc(1, sizeof *w);
	w->srv = s;
	w->states = ts_calloc((size_t)s->cfg.nmodules + 1, sizeof *w->states);
	for (int i = 0; i < s->cfg.nmodules; i++) {
		const struct ts_http_slot *slot = s->cfg.modules[i].slot;
		if (slot != NULL && slot->init != NULL)
			w->states[i] = slot->init(s->cfg.modules[i].config);
	}
	if (s->cfg.store != NULL) {
		/* a store that is down now may be up later: ts_http_conn retries */
		struct ts_error e = {0};
		if (ts_store_connect(s->cfg.store, &w->conn, &e) != TS_ERR_OK)
			ts_log(TS_LOG_ERROR, "worker start failed",
			       json_pack("{s:o}", "error", ts_json_text(e.message)));
	}
	return w;
}

static void worker_free(struct ts_http_worker **wp)
{
	struct ts_http_worker *w = *wp;
	ts_store_disconnect(&w->conn);
	for (int i = 0; i < w->srv->cfg.nmodules; i++) {
		const struct ts_http_slot *slot = w->srv->cfg.modules[i].slot;
		if (slot != NULL && slot->free != NULL)
			slot->free(w->states[i]);
	}
	ts_free(w->states);
	TS_FREE(wp);
}

/* The index of the module registered with slot, or -1. A few modules: a scan. */
static int module_of(const ts_http_server_t *s, const struct ts_http_slot *slot)
{
	for (int i = 0; s != NULL && i < s->cfg.nmodules; i++)
		if (s->cfg.modules[i].slot == slot)
			return i;
	return -1;
}

ts_err ts_http_conn(struct ts_http_req *req, ts_store_conn_t **conn, struct ts_error *e)
{
	struct ts_http_worker *w = req->worker;
	*conn = NULL;
	if (w == NULL)
		return TS_FAIL(e, TS_ERR_INTERNAL, "store used from an inline handler");
	if (w->conn == NULL) {
		if (w->srv->cfg.store == NULL)
			return TS_FAIL(e, TS_ERR_INTERNAL, "the server has no store");
		ts_err rc = ts_store_connect(w->srv->cfg.store, &w->conn, e);
		if (rc != TS_ERR_OK)
			return rc;
	}
	*conn = w->conn;
	return TS_ERR_OK;
}

void *ts_http_state(const struct ts_http_req *req, const struct ts_http_slot *slot)
{
	if (req->worker == NULL)
		return NULL;
	int i = module_of(req->worker->srv, slot);
	return i >= 0 ? req->worker->states[i] : NULL;
}

void *ts_http_config(const struct ts_http_req *req, const struct ts_http_slot *slot)
{
	int i = module_of(req->server, slot);
	return i >= 0 ? req->server->cfg.modules[i].config : NULL;
}

static void *worker_main(void *arg)
{
	ts_http_server_t *s = arg;
	struct ts_http_worker *worker = worker_new(s);
	ts_blocking_hook(worker_blocking, s);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct job *j = next_job(s);
		if (j == NULL)
			break;
		s->running++;
		pthread_mutex_unlock(&s->mu);
		j->req.worker = worker;
		tl_job = j;
		tl_deferred = false;
		j->route_index >= 0 ? j->req.route->fn(&j->req, &j->res) : (void)0;
		tl_job = NULL;
		if (!tl_deferred) /* else j may be gone already */
			h2o_multithread_send_message(&j->loop->done_rx, &j->msg);
		pthread_mutex_lock(&s->mu);
		s->running--;
	}
	pthread_mutex_unlock(&s->mu);
	ts_blocking_hook(NULL, NULL);
	worker_free(&worker);
	return NULL;
}

static bool pool_push(ts_http_server_t *s, struct job *j)
{
	pthread_mutex_lock(&s->mu);
	if (s->queued >= QUEUE_LIMIT || s->pool_stop) {
		pthread_mutex_unlock(&s->mu);
		return false;
	}
	j->next = NULL;
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->queued++;
	if (s->idle > 0 && (s->running < s->ncpu || ts_mono_ns() - s->head->start_ns > WAKE_AGE_NS))
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return true;
}

static void on_done(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	(void)rx;
	while (!h2o_linklist_is_empty(messages)) {
		struct job *j = H2O_STRUCT_FROM_MEMBER(struct job, msg.link, messages->next);
		h2o_linklist_unlink(&j->msg.link);
		finish(j);
	}
}

/* ---- requests ---------------------------------------------------------- */

static void guard_dispose(void *p)
{
	struct job **slot = p;
	if (*slot != NULL)
		(*slot)->h2o = NULL; /* the worker's answer will find nobody to send to */
}

static bool request_id_ok(const char *s, size_t n)
{
	if (n == 0 || n > TS_HTTP_REQUEST_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

/*
 * The request's client address (http/proxy.h): the one place that reads the
 * TCP peer. X-Forwarded-For values are handed over only when the peer is a
 * trusted proxy; the last TS_HTTP_FORWARDED_HOPS_MAX of them are enough.
 */
static void client_text(const ts_http_server_t *s, h2o_req_t *r, ts_arena_t *a, char *buf,
                        size_t size, const char **via)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t len = r->conn->callbacks->get_peername(r->conn, (struct sockaddr *)&ss);
	const struct sockaddr *peer = len > 0 ? (const struct sockaddr *)&ss : NULL;
	const char *xff[TS_HTTP_FORWARDED_HOPS_MAX];
	int nxff = 0;
	*via = NULL;
	if (ts_http_trusted_has(s->cfg.trusted_proxies, peer)) {
		for (size_t i = 0; i < r->headers.size; i++) {
			h2o_header_t *h = &r->headers.entries[i];
			if (!h2o_memis(h->name->base, h->name->len, H2O_STRLIT("x-forwarded-for")))
				continue;
			if (nxff == TS_HTTP_FORWARDED_HOPS_MAX) { /* keep the right-most values */
				memmove(xff, xff + 1,
				        sizeof xff[0] * (TS_HTTP_FORWARDED_HOPS_MAX - 1));
				nxff--;
			}
			xff[nxff++] = ts_arena_strndup(a, h->value.base, h->value.len);
		}
	}
	ts_http_client_addr(s->cfg.trusted_proxies, peer, xff, nxff, buf, size);
	if (nxff > 0) { /* the log names the proxy whose header was read */
		char tcp[TS_HTTP_ADDR_TEXT_MAX];
		ts_http_client_addr(NULL, peer, NULL, 0, tcp, sizeof tcp);
		*via = ts_arena_strdup(a, tcp);
	}
}

static void fill_peer(ts_http_server_t *s, h2o_req_t *r, struct job *j)
{
	char buf[TS_HTTP_ADDR_TEXT_MAX];
	client_text(s, r, j->req.arena, buf, sizeof buf, &j->req.via);
	j->req.peer = ts_arena_strdup(j->req.arena, buf);
}

/* Copies what a handler may read out of h2o's request; false sends the error set in j->res. */
static bool copy_request(ts_http_server_t *s, h2o_req_t *r, struct job *j)
{
	ts_arena_t *a = j->req.arena;
	j->req.method = ts_arena_strndup(a, r->method.base, r->method.len);
	size_t plen = r->query_at != SIZE_MAX ? r->query_at : r->path.len;
	j->req.path = ts_arena_strndup(a, r->path.base, plen);
	j->req.query = r->query_at != SIZE_MAX ? ts_arena_strndup(a, r->path.base + plen + 1,
	                                                          r->path.len - plen - 1)
	                                       : "";
	/* the id this server gives every request: the audit's requestID, never the client's */
	char *id = ts_arena_alloc(a, TS_UUID_LEN + 1);
	ts_uuid_v4(id);
	j->req.request_id = id;
	j->req.client_request_id = NULL;
	fill_peer(s, r, j);
	if ((int)r->headers.size > TS_HTTP_MAX_HEADERS) {
		/* RFC 6585 §5 */
		error_body(j, TS_ERR_BAD_REQUEST, STATUS_HEADERS_TOO_LARGE,
		           "too many request headers");
		return false;
	}
	struct ts_http_header *h = ts_arena_alloc(a, sizeof *h * (r->headers.size + 1));
	for (size_t i = 0; i < r->headers.size; i++) {
		h2o_header_t *src = &r->headers.entries[i];
		h[i].name = ts_arena_strndup(a, src->name->base, src->name->len);
		h[i].value = ts_arena_strndup(a, src->value.base, src->value.len);
		if (strcmp(h[i].name, "x-request-id") == 0 && j->req.client_request_id == NULL &&
		    request_id_ok(src->value.base, src->value.len))
			j->req.client_request_id = h[i].value;
	}
	j->req.headers = h;
	j->req.nheaders = (int)r->headers.size;
	if (plen > TS_HTTP_MAX_PATH) {
		/* RFC 9110 §15.5.15 */
		error_body(j, TS_ERR_BAD_REQUEST, STATUS_URI_TOO_LONG, "request path too long");
		return false;
	}
	if (r->entity.base != NULL) {
		if (r->entity.len > s->cfg.max_body) {
			error_body(j, TS_ERR_TOO_LARGE, ts_err_status(TS_ERR_TOO_LARGE),
			           "request body too large");
			return false;
		}
		j->req.body = ts_arena_strndup(a, r->entity.base, r->entity.len);
		j->req.body_len = r->entity.len;
	} else {
		j->req.body = "";
	}
	return true;
}

static int on_req(h2o_handler_t *self, h2o_req_t *r)
{
	ts_http_server_t *s = ((struct route_handler *)self)->srv;
	struct loop *l = H2O_STRUCT_FROM_MEMBER(struct loop, ctx, r->conn->ctx);
	struct job *j = ts_calloc(1, sizeof *j);
	j->start_ns = ts_mono_ns();
	j->loop = l;
	j->h2o = r;
	j->route_index = -1;
	j->req.arena = ts_arena_new();
	j->req.server = s;
	j->guard = h2o_mem_alloc_shared(&r->pool, sizeof *j->guard, guard_dispose);
	*j->guard = j;
	l->inflight++;
	j->res.arena = j->req.arena; /* response headers grow there (ts_http_res_header) */
	if (!copy_request(s, r, j)) {
		finish(j);
		return 0;
	}
	struct ts_error e = {0};
	ts_err checked = ts_http_request_check(&j->req, &e);
	const struct ts_http_route *route = NULL;
	enum ts_http_match m =
	        ts_http_route_find(s->routes, s->nroutes, j->req.method, j->req.path, j->req.arena,
	                           &route, j->req.params, &j->req.nparams);
	bool routed = m == TS_HTTP_MATCH_OK || m == TS_HTTP_MATCH_BAD_PARAM;
	if (checked == TS_ERR_OK && m == TS_HTTP_MATCH_BAD_PARAM)
		checked = TS_FAIL(&e, TS_ERR_BAD_REQUEST,
		                  "a path parameter is not percent-encoded UTF-8 (RFC 3986 §2.1)");
	if (checked != TS_ERR_OK && routed && (route->flags & TS_HTTP_REFUSALS)) {
		/* the handler authenticates, audits and answers the refusal itself */
		j->req.refused = checked;
		j->req.refusal = ts_arena_strdup(j->req.arena, e.message);
	} else if (checked != TS_ERR_OK) {
		error_body(j, checked, ts_err_status(checked), e.message);
		finish(j);
		return 0;
	} else if (m != TS_HTTP_MATCH_OK) {
		ts_err code = m == TS_HTTP_MATCH_METHOD_ONLY ? TS_ERR_METHOD : TS_ERR_NOT_FOUND;
		const char *why = m == TS_HTTP_MATCH_METHOD_ONLY ? "method not allowed on this path"
		                                                 : "no such path";
		error_body(j, code, ts_err_status(code), why);
		finish(j);
		return 0;
	}
	j->req.route = route;
	j->route_index = (int)(route - s->routes);
	if (route->flags & TS_HTTP_INLINE) {
		route->fn(&j->req, &j->res);
		finish(j);
		return 0;
	}
	if (!pool_push(s, j)) {
		error_body(j, TS_ERR_UNAVAILABLE, ts_err_status(TS_ERR_UNAVAILABLE),
		           "server busy, try again");
		ts_http_res_header(&j->res, "retry-after", "1");
		finish(j);
	}
	return 0;
}

/* ---- h2o's own error answers --------------------------------------------- */

/*
 * h2o answers some requests itself, before any handler runs: a Content-Length
 * or a chunked body past --max-body (413), broken chunked encoding or an
 * unknown transfer-encoding (400), an unknown Expect (417). Its bodies are
 * text/plain; a SCIM client expects the SCIM error schema (RFC 7644 §3.12)
 * and an admin client {"Code","Message"}. This output filter sees those
 * answers (h2o_send_error_generic runs the path's filters, on the host's
 * fallback path when no path matched yet), keeps h2o's text as the message
 * and writes the surface's JSON instead. Tessera's own answers are never
 * text/plain with an error status, so they pass untouched. A request line
 * or headers h2o cannot parse at all (more than 100 headers, say) get a raw
 * "400 Bad Request" written on the socket, with no request and no filter:
 * that one cannot be reshaped.
 */
struct error_rewrite {
	h2o_ostream_t super;
	ts_http_server_t *srv;
	char text[H2O_ERROR_TEXT_MAX];
	size_t len;
};

static bool is_h2o_error(h2o_req_t *r)
{
	static const char plain[] = "text/plain";
	if (r->res.status < 400)
		return false;
	ssize_t i = h2o_find_header(&r->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
	if (i < 0)
		return false;
	h2o_iovec_t v = r->res.headers.entries[i].value;
	return v.len >= sizeof plain - 1 && memcmp(v.base, plain, sizeof plain - 1) == 0;
}

static void client_text(const ts_http_server_t *s, h2o_req_t *r, ts_arena_t *a, char *buf,
                        size_t size, const char **via);

static void rewrite_send(h2o_ostream_t *self, h2o_req_t *r, h2o_iovec_t *bufs, size_t bufcnt,
                         h2o_send_state_t state)
{
	struct error_rewrite *w = (struct error_rewrite *)self;
	for (size_t i = 0; i < bufcnt; i++) {
		size_t room = sizeof w->text - 1 - w->len;
		size_t n = bufs[i].len < room ? bufs[i].len : room;
		memcpy(w->text + w->len, bufs[i].base, n);
		w->len += n;
	}
	if (h2o_send_state_is_in_progress(state)) {
		h2o_ostream_send_next(&w->super, r, NULL, 0, state);
		return;
	}
	w->text[w->len] = '\0';
	/* the request as far as h2o read it: path without the query */
	ts_arena_t *a = ts_arena_new();
	struct ts_http_req req = {.arena = a, .query = ""};
	size_t plen =
	        r->query_at != SIZE_MAX && r->query_at <= r->path.len ? r->query_at : r->path.len;
	req.path = ts_arena_strndup(a, r->path.base ? r->path.base : "", r->path.base ? plen : 0);
	req.method = ts_arena_strndup(a, r->method.base ? r->method.base : "",
	                              r->method.base ? r->method.len : 0);
	char id[TS_UUID_LEN + 1];
	ts_uuid_v4(id);
	req.request_id = id;
	struct ts_http_res res = {0};
	const char *message =
	        ts_arena_printf(a, "the request could not be read: %s", ts_text_escape(a, w->text));
	ts_err code = ts_err_for_status(r->res.status);
	ts_http_error(w->srv->surfaces, w->srv->nsurfaces, &req, &res, code, r->res.status,
	              message);
	ts_http_res_settle(w->srv->surfaces, w->srv->nsurfaces, &req, &res);
	h2o_iovec_t body = h2o_strdup(&r->pool, res.body ? res.body : "", res.body_len);
	const char *ct = res.content_type ? res.content_type : "application/json";
	h2o_set_header(&r->pool, &r->res.headers, H2O_TOKEN_CONTENT_TYPE, ct, strlen(ct), 1);
	/* the surface's own headers too (OAuth errors: Cache-Control: no-store, RFC 6749 §5.2) */
	for (int i = 0; i < res.nheaders; i++) {
		const struct ts_http_header *h = &res.headers[i];
		h2o_iovec_t n = h2o_strdup(&r->pool, h->name, SIZE_MAX);
		h2o_iovec_t v = h2o_strdup(&r->pool, h->value, SIZE_MAX);
		h2o_add_header_by_str(&r->pool, &r->res.headers, n.base, n.len, 0, NULL, v.base,
		                      v.len);
	}
	h2o_iovec_t rid = h2o_strdup(&r->pool, id, SIZE_MAX);
	h2o_add_header_by_str(&r->pool, &r->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
	                      rid.base, rid.len);
	r->res.content_length = body.len;
	if (w->srv->cfg.access_log && ts_log_enabled(TS_LOG_INFO)) {
		char peer[TS_HTTP_ADDR_TEXT_MAX];
		client_text(w->srv, r, a, peer, sizeof peer, &req.via);
		req.peer = peer;
		json_t *f = ts__http_access_fields(&req, &res, 0);
		json_object_set_new(f, "h2o", ts_json_text(w->text));
		ts_log(TS_LOG_INFO, "request", f);
	}
	ts_arena_free(&a);
	h2o_ostream_send_next(&w->super, r, &body, 1, state);
}

static void on_setup_error_ostream(h2o_filter_t *self, h2o_req_t *r, h2o_ostream_t **slot)
{
	struct error_filter *f = (struct error_filter *)self;
	if (is_h2o_error(r)) {
		struct error_rewrite *w = (void *)h2o_add_ostream(r, sizeof *w, slot);
		w->super.do_send = rewrite_send;
		w->srv = f->srv;
		w->len = 0;
		slot = &w->super.next;
	}
	h2o_setup_next_ostream(r, slot);
}

static void register_error_filter(h2o_pathconf_t *pc, ts_http_server_t *s)
{
	struct error_filter *f = (void *)h2o_create_filter(pc, sizeof *f);
	f->super.on_setup_ostream = on_setup_error_ostream;
	f->srv = s;
}

/* ---- loops ------------------------------------------------------------- */

struct conn {
	h2o_linklist_t link;
	h2o_socket_t *sock;
};

static void on_sock_close(void *data)
{
	struct conn *c = data;
	h2o_linklist_unlink(&c->link);
	ts_free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
	if (err != NULL)
		return;
	struct loop *l = listener->data;
	h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
	if (sock == NULL)
		return;
	/* tracked so that shutdown can end idle keep-alive connections */
	struct conn *c = ts_calloc(1, sizeof *c);
	c->sock = sock;
	h2o_linklist_insert(&l->conns, &c->link);
	sock->on_close.cb = on_sock_close;
	sock->on_close.data = c;
	h2o_accept(&l->accept_ctx, sock);
}

static void close_listener(struct loop *l)
{
	if (l->listener != NULL) {
		h2o_socket_read_stop(l->listener);
		h2o_socket_close(l->listener);
		l->listener = NULL;
	}
}

static void begin_stop(struct loop *l)
{
	if (l->stopping)
		return;
	l->stopping = true;
	close_listener(l);
	h2o_context_request_shutdown(&l->ctx);
}

static void on_ctl(h2o_multithread_receiver_t *rx, h2o_linklist_t *messages)
{
	struct loop *l = H2O_STRUCT_FROM_MEMBER(struct loop, ctl_rx, rx);
	while (!h2o_linklist_is_empty(messages))
		h2o_linklist_unlink(messages->next);
	begin_stop(l);
}

/* Nothing left on the context: h2o_context_dispose asserts every timeout list is empty. */
static bool idle(h2o_context_t *c)
{
	h2o_timeout_t *t[] = {&c->zero_timeout,
	                      &c->one_sec_timeout,
	                      &c->hundred_ms_timeout,
	                      &c->handshake_timeout,
	                      &c->http1.req_timeout,
	                      &c->http2.idle_timeout,
	                      &c->http2.graceful_shutdown_timeout,
	                      &c->proxy.io_timeout};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!h2o_linklist_is_empty(&t[i]->_entries))
			return false;
	return h2o_linklist_is_empty(&c->http1._conns) && h2o_linklist_is_empty(&c->http2._conns);
}

/* The loop's h2o objects, made in the loop's own thread (see the top of the file). */
static void loop_setup(struct loop *l)
{
	ts_http_server_t *s = l->srv;
	h2o_context_init(&l->ctx, h2o_evloop_create(), &s->h2o_config);
	l->accept_ctx.ctx = &l->ctx;
	l->accept_ctx.hosts = s->h2o_config.hosts;
	h2o_linklist_init_anchor(&l->conns);
	l->queue = h2o_multithread_create_queue(l->ctx.loop);
	h2o_multithread_register_receiver(l->queue, &l->done_rx, on_done);
	h2o_multithread_register_receiver(l->queue, &l->ctl_rx, on_ctl);
	l->listener = h2o_evloop_socket_create(l->ctx.loop, l->fd, H2O_SOCKET_FLAG_DONT_READ);
	l->fd = -1; /* owned by h2o now */
	l->listener->data = l;
	h2o_socket_read_start(l->listener, on_accept);
	pthread_mutex_lock(&s->mu);
	l->ready = true;
	pthread_mutex_unlock(&s->mu);
}

/*
 * Frees the socket buffers this thread's recycle list still holds: the list
 * lives in thread-local storage and would be lost when the loop thread ends.
 */
static void drain_buffer_recycle(void)
{
	h2o_mem_recycle_t *r = &h2o_socket_buffer_prototype.allocator;
	void *chunk[RECYCLE_DRAIN_MAX];
	size_t n = 0;
	while (r->cnt > 0 && n < RECYCLE_DRAIN_MAX)
		chunk[n++] = h2o_mem_alloc_recycle(r, 1);
	size_t max = r->max;
	r->max = r->cnt; /* full: h2o_mem_free_recycle frees instead of keeping */
	for (size_t i = 0; i < n; i++)
		h2o_mem_free_recycle(r, chunk[i]);
	r->max = max;
}

static void loop_teardown(struct loop *l)
{
	ts_http_server_t *s = l->srv;
	pthread_mutex_lock(&s->mu);
	l->ready = false; /* ts_http_server_stop no longer posts to ctl_rx */
	pthread_mutex_unlock(&s->mu);
	close_listener(l);
	h2o_multithread_unregister_receiver(l->queue, &l->done_rx);
	h2o_multithread_unregister_receiver(l->queue, &l->ctl_rx);
	h2o_multithread_destroy_queue(l->queue);
	l->queue = NULL;
	if (!l->clean)
		return; /* a connection still holds the context: leave it to exit */
	h2o_loop_t *loop = l->ctx.loop;
	h2o_context_dispose(&l->ctx);
	h2o_evloop_destroy(loop);
	drain_buffer_recycle();
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	ts_http_server_t *s = l->srv;
	int64_t deadline = 0;
	loop_setup(l);
	for (;;) {
		if (atomic_load(&s->stop))
			begin_stop(l); /* a stop that came before the loop was ready */
		h2o_evloop_run(l->ctx.loop, LOOP_TICK_MS);
		if (!l->stopping)
			continue;
		if (deadline == 0)
			deadline = ts_mono_ns() + (int64_t)l->srv->cfg.drain_timeout_ms * 1000000;
		if (l->inflight == 0)
			break;
		if (ts_mono_ns() > deadline) {
			ts_log(TS_LOG_WARN, "drain timeout: requests still running",
			       json_pack("{s:i}", "inflight", l->inflight));
			break;
		}
	}
	/*
	 * In-flight work is done. Idle keep-alive connections would wait out
	 * h2o's request timeout: shut their sockets down, so that h2o reads EOF
	 * and closes each connection itself, after the last responses are out.
	 */
	for (h2o_linklist_t *n = l->conns.next; n != &l->conns; n = n->next) {
		struct conn *c = H2O_STRUCT_FROM_MEMBER(struct conn, link, n);
		shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
	}
	int64_t flush_until = ts_mono_ns() + (int64_t)FLUSH_MS * 1000000;
	while (!h2o_linklist_is_empty(&l->conns) && ts_mono_ns() < flush_until)
		h2o_evloop_run(l->ctx.loop, 10);
	/* h2o's own timers (its one-second timeout among them) expire on their own */
	while (!idle(&l->ctx) && ts_mono_ns() < flush_until)
		h2o_evloop_run(l->ctx.loop, 10);
	/* drained: wait until the workers are gone, then deliver what they still posted */
	pthread_mutex_lock(&s->mu);
	s->drained++;
	pthread_cond_broadcast(&s->phase_cv);
	while (!s->workers_gone)
		pthread_cond_wait(&s->phase_cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	while (l->inflight > 0)
		h2o_evloop_run(l->ctx.loop, 10);
	l->clean = idle(&l->ctx);
	loop_teardown(l);
	return NULL;
}

static ts_err parse_listen(const char *listen, char *host, size_t hostlen, char *port,
                           size_t portlen, struct ts_error *e)
{
	const char *colon = strrchr(listen, ':');
	if (colon == NULL || colon[1] == '\0')
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "--listen %s: expected HOST:PORT", listen);
	size_t hl = (size_t)(colon - listen);
	const char *h = listen;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= hostlen || strlen(colon + 1) >= portlen)
		return TS_FAIL(e, TS_ERR_BAD_REQUEST, "--listen %s: too long", listen);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return TS_FAIL(e, TS_ERR_BAD_REQUEST, "--listen %s: bad port", listen);
	return TS_ERR_OK;
}

static ts_err bind_socket(const char *host, const char *port, bool reuseport, int *fd_out,
                          int *bound_port, struct ts_error *e)
{
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (gai != 0)
		return TS_FAIL(e, TS_ERR_IO, "cannot resolve listen address %s: %s", host,
		               gai_strerror(gai));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int on = 1;
	ts_err rc = TS_ERR_OK;
	if (fd < 0) {
		rc = TS_FAIL(e, TS_ERR_IO, "socket: %s", strerror(errno));
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
		rc = TS_FAIL(e, TS_ERR_IO, "cannot listen on %s:%s: %s", host, port,
		             strerror(errno));
		goto out;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                             : ((struct sockaddr_in *)&ss)->sin_port);
	if (reuseport && listen(fd, LISTEN_BACKLOG) != 0) {
		rc = TS_FAIL(e, TS_ERR_IO, "listen: %s", strerror(errno));
		goto out;
	}
	*fd_out = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return rc;
}

ts_err ts_http_server_new(const struct ts_http_server_config *cfg, ts_http_server_t **out,
                          struct ts_error *e)
{
	*out = NULL;
	ts_http_server_t *s = ts_calloc(1, sizeof *s);
	s->cfg = *cfg;
	s->routes = ts_http_modules_routes(cfg->modules, cfg->nmodules, &s->nroutes);
	s->surfaces = ts_http_modules_surfaces(cfg->modules, cfg->nmodules, &s->nsurfaces);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		cores = 1;
	s->nloops = cfg->loops > 0 ? cfg->loops : (int)cores;
	s->nworkers = cfg->workers > 0 ? cfg->workers : (int)cores * 4;
	/* a slow IdP holds at most half the workers (http/client.h) */
	ts_http_client_set_concurrency(s->nworkers / 2 > 1 ? s->nworkers / 2 : 1);
	s->ncpu = (int)cores;
	if (s->cfg.max_body == 0)
		s->cfg.max_body = TS_HTTP_DEFAULT_MAX_BODY;
	if (s->cfg.drain_timeout_ms <= 0)
		s->cfg.drain_timeout_ms = 10000;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t mono; /* the watcher's timed wait counts on the monotonic clock */
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &mono);
	pthread_condattr_destroy(&mono);
	pthread_cond_init(&s->phase_cv, NULL);
	s->metrics = ts__http_metrics_new(s->routes, s->nroutes);
	s->loops = ts_calloc((size_t)s->nloops, sizeof *s->loops);
	for (int i = 0; i < s->nloops; i++)
		s->loops[i].fd = -1;

	char host[256], port[16];
	ts_err rc = parse_listen(cfg->listen, host, sizeof host, port, sizeof port, e);
	if (rc != TS_ERR_OK)
		goto fail;
	/*
	 * A probe without SO_REUSEPORT: the kernel lets it bind only if no other
	 * socket holds the port, so a second server on a busy port fails loudly
	 * instead of silently sharing it.
	 */
	int probe = -1;
	rc = bind_socket(host, port, false, &probe, &s->port, e);
	if (rc != TS_ERR_OK)
		goto fail;
	close(probe);
	snprintf(port, sizeof port, "%d", s->port);
	for (int i = 0; i < s->nloops; i++) {
		int p = 0;
		rc = bind_socket(host, port, true, &s->loops[i].fd, &p, e);
		if (rc != TS_ERR_OK)
			goto fail;
	}

	h2o_config_init(&s->h2o_config);
	s->h2o_config.max_request_entity_size = s->cfg.max_body;
	h2o_hostconf_t *hc = h2o_config_register_host(&s->h2o_config,
	                                              h2o_iovec_init(H2O_STRLIT("default")), 65535);
	h2o_pathconf_t *pc = h2o_config_register_path(hc, "/", 0);
	struct route_handler *rh = (void *)h2o_create_handler(pc, sizeof *rh);
	rh->super.on_req = on_req;
	rh->srv = s;
	/* h2o's own error answers: on the path, and on the fallback used before routing */
	register_error_filter(pc, s);
	register_error_filter(&hc->fallback_path, s);

	for (int i = 0; i < s->nloops; i++)
		s->loops[i].srv = s;
	s->workers = ts_calloc((size_t)s->nworkers, sizeof *s->workers);
	for (int i = 0; i < s->nworkers; i++)
		pthread_create(&s->workers[i], NULL, worker_main, s);
	*out = s;
	return TS_ERR_OK;
fail:
	for (int i = 0; i < s->nloops; i++)
		if (s->loops[i].fd >= 0)
			close(s->loops[i].fd);
	ts__http_metrics_free(&s->metrics);
	ts_free(s->loops);
	ts_free(s->routes);
	ts_free(s->surfaces);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->phase_cv);
	ts_free(s);
	return rc;
}

int ts_http_server_port(const ts_http_server_t *s)
{
	return s->port;
}

ts_err ts_http_server_run(ts_http_server_t *s, struct ts_error *e)
{
	(void)e;
	for (int i = 0; i < s->nloops; i++)
		pthread_create(&s->loops[i].tid, NULL, loop_main, &s->loops[i]);
	/* the loops are drained: stop the workers; the loops deliver what they still post */
	pthread_mutex_lock(&s->mu);
	while (s->drained < s->nloops)
		pthread_cond_wait(&s->phase_cv, &s->mu);
	s->pool_stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	pthread_mutex_lock(&s->mu);
	s->workers_gone = true;
	pthread_cond_broadcast(&s->phase_cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nloops; i++)
		pthread_join(s->loops[i].tid, NULL);
	return TS_ERR_OK;
}

void ts_http_server_stop(ts_http_server_t *s)
{
	bool expected = false;
	if (!atomic_compare_exchange_strong(&s->stop, &expected, true))
		return;
	/* loops not ready yet, or already gone, see the flag on their next tick */
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->nloops; i++)
		if (s->loops[i].ready)
			h2o_multithread_send_message(&s->loops[i].ctl_rx, &s->loops[i].ctl_msg);
	pthread_mutex_unlock(&s->mu);
}

void ts_http_server_free(ts_http_server_t **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	ts_http_server_t *s = *sp;
	/* each loop disposed of its h2o objects in its own thread; a server never run has fds */
	for (int i = 0; i < s->nloops; i++)
		if (s->loops[i].fd >= 0)
			close(s->loops[i].fd);
	h2o_config_dispose(&s->h2o_config);
	ts__http_metrics_free(&s->metrics);
	ts_free(s->workers);
	ts_free(s->loops);
	ts_free(s->routes);
	ts_free(s->surfaces);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->phase_cv);
	ts_free(s);
	*sp = NULL;
}

char *ts_http_server_metrics(ts_http_server_t *s, ts_arena_t *arena, size_t *len)
{
	char *text = ts__http_metrics_render(s->metrics, arena, len);
	if (s->cfg.metrics_extra != NULL) {
		text = ts_arena_printf(arena, "%s%s", text,
		                       s->cfg.metrics_extra(s->cfg.metrics_arg, arena));
		*len = strlen(text);
	}
	return text;
}
