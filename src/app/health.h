/* Liveness, readiness and metrics endpoints. */
#ifndef TS_APP_HEALTH_H
#define TS_APP_HEALTH_H

#include "http/http.h"

const struct ts_http_route *ts_app_health_routes(int *n);

#endif
