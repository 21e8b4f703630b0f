/* Shared between the HTTP module's own files. */
#ifndef TS_HTTP_INTERNAL_H
#define TS_HTTP_INTERNAL_H

#include "http/http.h"

typedef struct ts__http_metrics ts__http_metrics_t;

/* Counters for nroutes routes plus one slot for requests that matched none. */
ts__http_metrics_t *ts__http_metrics_new(const struct ts_http_route *routes, int nroutes);
void ts__http_metrics_free(ts__http_metrics_t **m);
/* route_index -1: unmatched. */
void ts__http_metrics_count(ts__http_metrics_t *m, int route_index, int status, int64_t ns);
/* Prometheus text exposition in arena memory. */
char *ts__http_metrics_render(ts__http_metrics_t *m, ts_arena_t *arena, size_t *len);

/*
 * The fields of a request's access-log line: method, path, status, ms,
 * request_id, client_request_id (when sent), peer, error. Every field is
 * there whatever the client sent: text that is not UTF-8 is escaped
 * (ts_json_text), never a NULL object or a member left out.
 */
json_t *ts__http_access_fields(const struct ts_http_req *req, const struct ts_http_res *res,
                               double ms);

#endif
